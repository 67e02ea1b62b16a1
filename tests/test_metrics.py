"""/metrics: Prometheus text format, parsed with prometheus-client's own parser. Requests and
checks by verdict are counted by every worker and added up at a scrape; sync, webhook and
workflow gauges are read from the database when scraped; only the configured networks or an
admin token may scrape."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from credithub import clock, create_app
from credithub.config import ConfigError
from credithub.db import db, utcnow
from credithub.sync.models import DeadLetter, SyncState
from tests.records.samples import BEIJIANG, SHUDAO
from tests.served import served
from tests.workflows.helpers import Headers, listing, post, push, tokens

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
FRIDAY = "2026-02-13T10:00:00+08:00"  # as in the objection tests: due Tuesday 24 February
PROVINCE = {"name": "province", "type": "hub", "url": "http://127.0.0.1:9", "token": "t"}


def parsed(text: str) -> Samples:
    """Every sample by name and labels (the parser fails on text that is not the format)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(client: FlaskClient, **kwargs: object) -> Samples:
    resp = client.get("/metrics", **kwargs)  # type: ignore[arg-type]
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.content_type.startswith("text/plain; version=")
    return parsed(resp.get_data(as_text=True))


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_checks_are_counted_by_verdict_and_requests_by_status(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    t = tokens(make_token)
    push(client, t["zhujian"], listing())  # 四川蜀道路桥: barred
    before = scrape(client)
    url = f"/api/v1/check/{SHUDAO}?domain=construction"
    for _ in range(3):  # the first on Flask's path (the token is read), then the check lane
        assert client.get(url, headers=t["bidding"]).status_code == 200
    code, batch = post(
        client,
        "/api/v1/check",
        t["bidding"],
        {"domain": "construction", "subjects": [{"uscc": SHUDAO}, {"uscc": BEIJIANG}]},
    )
    assert code == 200, batch
    assert client.get(f"/api/v1/check/{SHUDAO}?domain=nowhere", headers=t["bidding"]).status_code
    after = scrape(client)

    def more(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert more("credithub_checks_total", verdict="barred") == 4
    assert more("credithub_checks_total", verdict="clear") == 1
    assert (
        more("credithub_http_request_duration_seconds_count", method="GET", status="200") == 4
    )  # + a scrape
    assert more("credithub_http_request_duration_seconds_count", method="POST", status="200") == 1
    assert more("credithub_http_request_duration_seconds_count", method="GET", status="422") == 1
    # Each request's time, in buckets: the lane's three answered within the last bucket.
    assert (
        more(
            "credithub_http_request_duration_seconds_bucket", method="GET", status="200", le="+Inf"
        )
        == 4
    )


def test_database_gauges_are_read_when_scraped(
    app_factory: Callable[..., Flask], make_token: Callable[..., Headers]
) -> None:
    app = app_factory(connectors=[PROVINCE])
    client = app.test_client()
    t = tokens(make_token)
    hook = client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["objection.updated"]},
        headers=t["zhujian"],
    )
    assert hook.status_code == 201, hook.get_json()
    with clock.travel(FRIDAY):
        record_id = push(client, t["zhujian"], listing())
        code, filed = post(
            client,
            "/api/v1/objections",
            t["admin"],
            {"record_id": record_id, "applicant": "四川蜀道路桥建设有限公司", "reason": "并未串通"},
        )
        assert code == 201, filed
    with app.app_context(), db.transaction() as session:
        session.add(SyncState(connector="province", push_position=0, failures=2))
        session.add(
            DeadLetter(connector="province", direction="push", position=1, record_id=record_id,
                       version=1, error="refused", failed_at=utcnow())
        )  # fmt: skip
    with clock.travel("2026-02-25T09:00:00+08:00"):  # not forwarded in time: overdue
        samples = scrape(client)
    province = {"connector": "province"}
    assert value(samples, "credithub_sync_dead_letters", **province) == 1
    assert value(samples, "credithub_sync_late", **province) == 1  # failing
    assert value(samples, "credithub_sync_pending", **province) >= 1  # the listing, not pushed
    assert ("credithub_sync_lag_seconds", (("connector", "province"),)) not in samples  # never
    assert value(samples, "credithub_webhook_backlog") >= 1  # objection.updated, undelivered
    assert value(samples, "credithub_objections_overdue") == 1
    assert value(samples, "credithub_repairs_overdue") == 0


def test_only_the_allowed_networks_or_an_admin_token_may_scrape(
    app_factory: Callable[..., Flask], make_token: Callable[..., Headers]
) -> None:
    app = app_factory(metrics={"allow": ["10.8.0.0/16"]})
    client = app.test_client()
    t = tokens(make_token)
    inside, outside = {"REMOTE_ADDR": "10.8.3.4"}, {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=inside).status_code == 200
    refused = client.get("/metrics", environ_base=outside)
    assert refused.status_code == 401
    assert refused.get_json()["code"] == 401
    assert client.get("/metrics").status_code == 401  # loopback is not in this list
    # Relayed by a proxy on an allowed address: the client is elsewhere.
    relayed = {"X-Forwarded-For": "203.0.113.9"}
    assert client.get("/metrics", environ_base=inside, headers=relayed).status_code == 401
    assert client.get("/metrics", environ_base=outside, headers=t["bidding"]).status_code == 403
    assert client.get("/metrics", environ_base=outside, headers=t["zhujian"]).status_code == 403
    assert client.get("/metrics", environ_base=outside, headers=t["admin"]).status_code == 200


def _unauthorised(url: str) -> int:
    return requests.get(url, timeout=10).status_code


def test_a_scrape_adds_up_every_worker_of_a_served_hub(
    tmp_path: Path, database_url: str, instance_path: Path
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CREDITHUB_", "PROMETHEUS"))},
        "CREDITHUB_INSTANCE": str(instance_path),
        "CREDITHUB_DATABASE_URL": database_url,
        "CREDITHUB_LOGGING_LEVEL": "WARNING",
    }
    with served(env, tmp_path) as server:  # /readyz answered, perhaps more while starting
        # Many requests at once: both workers answer some of them.
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(_unauthorised, [f"{server.base}/api/v1/records"] * 200))
        assert set(codes) == {401}
        scrapes = [parsed(requests.get(f"{server.base}/metrics", timeout=5).text) for _ in range(4)]
    # Each worker keeps its counts in a file of its own, and both answered.
    files = list((instance_path / "metrics").glob("histogram_*.db"))
    assert len({f.name for f in files}) >= 2
    for n, samples in enumerate(scrapes):
        # Whichever worker answered the scrape, it counts the other's requests too.
        assert (
            value(
                samples, "credithub_http_request_duration_seconds_count", method="GET", status="401"
            )
            == 200
        )
        assert (
            value(
                samples, "credithub_http_request_duration_seconds_count", method="GET", status="200"
            )
            >= n
        )


def test_a_network_that_is_not_one_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"metrics\.allow: '10\.0\.0\.0/33'"):
        create_app({"instance_path": tmp_path, "metrics": {"allow": ["10.0.0.0/33"]}})
