"""check.changed: a bidder a consumer checked is barred (or cleared) later, and the consumer's
receiver hears it once, signed, from a real HTTP server on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from credithub import clock
from credithub.db import db
from credithub.webhooks.models import Watch
from tests.records.samples import BEIJIANG, PERSON_ID, SHUDAO, ZHUJIAN, person_subject
from tests.webhooks.receiver import Receiver, receiving

Headers = dict[str, str]
ORG = {"type": "organization", "name": "四川蜀道路桥建设有限公司", "uscc": SHUDAO}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as found:
        yield found


@pytest.fixture
def zhujian(make_token: Callable[..., Headers]) -> Headers:
    return make_token("department", uscc=ZHUJIAN, name="呼伦贝尔市住房和城乡建设局")


@pytest.fixture
def bidding(make_token: Callable[..., Headers]) -> Headers:
    return make_token("consumer", name="电子招投标交易平台")


def listing(subject: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "blacklist", "ref": "呼住建黑〔2026〕9号", "decided_on": "2026-06-02",
        "list": "ggzy-serious", "listed_on": "2026-06-02", "expires_on": "2029-06-02",
        "basis": "发改法规〔2018〕457号", "reason": "串通投标", "subject": subject or ORG,
        **extra,
    }  # fmt: skip


def subscribe(client: FlaskClient, headers: Headers, url: str) -> dict[str, Any]:
    resp = client.post(
        "/api/v1/webhooks", json={"url": url, "events": ["check.changed"]}, headers=headers
    )
    assert resp.status_code == 201, resp.get_json()
    created: dict[str, Any] = resp.get_json()
    return created


def check(client: FlaskClient, headers: Headers, uscc: str, domain: str = "construction") -> Any:
    resp = client.get(f"/api/v1/check/{uscc}?domain={domain}", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def log_written(app: Flask) -> None:
    """What a worker's check-log writer does within `check.log_flush_ms`."""
    app.extensions["credithub.check_log"].flush()


def push(client: FlaskClient, headers: Headers, record: dict[str, Any]) -> str:
    resp = client.post("/api/v1/records", json={"records": [record]}, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    [result] = resp.get_json()["results"]
    assert result["status"] != "rejected", result
    return str(result["id"])


def revoke(client: FlaskClient, headers: Headers, record_id: str) -> None:
    resp = client.post(
        f"/api/v1/records/{record_id}/revoke", json={"reason": "行政复议撤销"}, headers=headers
    )
    assert resp.status_code == 200, resp.get_json()


def deliver(run_cli: Callable[..., Any], failing: bool = False) -> str:
    result = run_cli("webhooks", "run")
    assert result.exit_code == (1 if failing else 0), result.output
    return str(result.output)


def test_a_checked_bidder_listed_then_cleared_sends_one_signed_event_each_time(
    app: Flask,
    client: FlaskClient,
    run_cli: Callable[..., Any],
    receiver: Receiver,
    zhujian: Headers,
    bidding: Headers,
    make_token: Callable[..., Headers],
) -> None:
    hook = subscribe(client, bidding, receiver.url)
    other = make_token("consumer", name="政府采购平台")  # has a webhook, never checked SHUDAO
    with receiving() as elsewhere:
        subscribe(client, other, elsewhere.url)
        assert check(client, bidding, SHUDAO)["verdict"] == "clear"
        assert check(client, other, BEIJIANG)["verdict"] == "clear"
        log_written(app)

        record_id = push(client, zhujian, listing())
        assert "delivered 1, failed 0" in deliver(run_cli)
        # The listing bars every domain; the consumer checked construction only: one event.
        [got] = receiver.received
        event = got.verified(hook["secret"])
        assert got.headers["webhook-id"].startswith("msg_")
        assert event["type"] == "check.changed"
        assert event["subject"] == {"uscc": SHUDAO, "name": "四川蜀道路桥建设有限公司"}
        assert (event["domain"], event["verdict"], event["previous"]) == (
            "construction", "barred", "clear"
        )  # fmt: skip
        [restriction] = event["restrictions"]
        assert restriction["record_id"] == record_id
        assert restriction["effect"] == "bar"
        assert restriction == check(client, bidding, SHUDAO)["restrictions"][0]
        assert clock.parse_instant(event["at"]) <= clock.now()

        revoke(client, zhujian, record_id)
        assert "delivered 1, failed 0" in deliver(run_cli)
        first, second = receiver.received
        cleared = second.verified(hook["secret"])
        assert (cleared["verdict"], cleared["previous"], cleared["restrictions"]) == (
            "clear", "barred", []
        )  # fmt: skip
        assert second.headers["webhook-id"] != first.headers["webhook-id"]
        # Nothing more is due, and the consumer that never checked SHUDAO heard nothing.
        assert "delivered 0, failed 0" in deliver(run_cli)
        assert len(receiver.received) == 2
        assert elsewhere.received == []


def test_a_subject_nobody_checked_sends_nothing(
    app: Flask,
    client: FlaskClient,
    run_cli: Callable[..., Any],
    receiver: Receiver,
    zhujian: Headers,
    bidding: Headers,
) -> None:
    subscribe(client, bidding, receiver.url)
    check(client, bidding, BEIJIANG)
    log_written(app)
    push(client, zhujian, listing())  # SHUDAO, which the consumer never checked
    assert "delivered 0, failed 0" in deliver(run_cli)
    assert receiver.received == []


def test_a_failing_receiver_gets_the_same_event_again_later_each_attempt_recorded(
    app: Flask,
    client: FlaskClient,
    run_cli: Callable[..., Any],
    receiver: Receiver,
    zhujian: Headers,
    bidding: Headers,
) -> None:
    hook = subscribe(client, bidding, receiver.url)
    check(client, bidding, SHUDAO)
    log_written(app)
    push(client, zhujian, listing())
    receiver.statuses = [500, 503]
    assert "delivered 0, failed 1 (given up 0), pending 1" in deliver(run_cli, failing=True)
    # Not due again until its backoff has passed.
    assert "delivered 0, failed 0" in deliver(run_cli)
    assert len(receiver.received) == 1
    now = clock.now()
    with clock.travel(now + timedelta(seconds=10)):  # past the first backoff (5 s)
        assert "failed 1" in deliver(run_cli, failing=True)
    with clock.travel(now + timedelta(minutes=10)):  # past the second (5 min)
        assert "delivered 1, failed 0" in deliver(run_cli)
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert len(receiver.received) == 3
    assert len(ids) == 1
    for got in receiver.received:
        assert got.verified(hook["secret"])["verdict"] == "barred"
    detail = client.get(f"/api/v1/webhooks/{hook['id']}", headers=bidding).get_json()
    [delivery] = detail["deliveries"]
    assert delivery["id"] in ids
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 3)
    assert [t["status"] for t in delivery["tries"]] == [500, 503, 204]
    assert delivery["tries"][0]["error"] == "HTTP 500"


def test_a_refused_connection_is_a_failed_attempt_and_is_given_up_after_the_last_retry(
    app_factory: Callable[..., Flask],
    run_cli: Callable[..., Any],
    make_token: Callable[..., Headers],
) -> None:
    app = app_factory()
    client = app.test_client()
    with receiving() as gone:
        url = gone.url  # a port nobody listens on once it is closed
    zhujian = make_token("department", uscc=ZHUJIAN)
    bidding = make_token("consumer")
    hook = subscribe(client, bidding, url)
    check(client, bidding, SHUDAO)
    log_written(app)
    push(client, zhujian, listing())
    env = {"CREDITHUB_WEBHOOKS_RETRY_SECONDS": "5,60"}
    start = clock.now()
    outputs = []
    for offset in (0, 10, 100):
        with clock.travel(start + timedelta(seconds=offset)):
            result = run_cli("webhooks", "run", env=env)
            assert result.exit_code == 1
            outputs.append(result.output)
    assert "given up 1" in outputs[-1]
    detail = client.get(f"/api/v1/webhooks/{hook['id']}", headers=bidding).get_json()
    [delivery] = detail["deliveries"]
    assert (delivery["status"], delivery["attempts"], delivery["next_at"]) == ("failed", 3, None)
    assert all(t["status"] is None and "Connection" in t["error"] for t in delivery["tries"])
    with clock.travel(start + timedelta(days=1)):
        assert "delivered 0, failed 0" in run_cli("webhooks", "run", env=env).output


def test_a_listing_ending_by_time_is_found_by_the_rescore_job_and_sent(
    app: Flask,
    client: FlaskClient,
    run_cli: Callable[..., Any],
    receiver: Receiver,
    zhujian: Headers,
    bidding: Headers,
) -> None:
    hook = subscribe(client, bidding, receiver.url)
    push(client, zhujian, listing(expires_on="2027-01-10"))
    with clock.travel("2026-12-20T10:00:00+08:00"):
        assert check(client, bidding, SHUDAO, "land")["verdict"] == "barred"
        log_written(app)
    assert "delivered 0" in deliver(run_cli)  # barred already when checked: no change
    with clock.travel("2027-01-10T09:00:00+08:00"):
        assert "rescored 1 subject" in run_cli("rescore").output
        assert "delivered 1, failed 0" in deliver(run_cli)
    [got] = receiver.received
    event = got.verified(hook["secret"])
    assert (event["domain"], event["verdict"], event["previous"]) == ("land", "clear", "barred")
    assert event["at"].startswith("2027-01-10")


def test_a_person_checked_by_id_number_is_named_by_the_masked_number(
    app: Flask,
    client: FlaskClient,
    run_cli: Callable[..., Any],
    receiver: Receiver,
    zhujian: Headers,
    bidding: Headers,
) -> None:
    hook = subscribe(client, bidding, receiver.url)
    subjects = [{"id_type": "身份证", "id_number": PERSON_ID}]
    resp = client.post(
        "/api/v1/check", json={"domain": "expert", "subjects": subjects}, headers=bidding
    )
    assert resp.status_code == 200
    [answer] = resp.get_json()["results"]
    log_written(app)
    push(client, zhujian, listing(person_subject()))
    assert "delivered 1" in deliver(run_cli)
    [got] = receiver.received
    event = got.verified(hook["secret"])
    assert event["subject"] == {"id_number": answer["subject"]["id_number"], "name": "张建国"}
    assert PERSON_ID not in got.body.decode()
    assert (event["domain"], event["verdict"]) == ("expert", "barred")


@pytest.mark.parametrize("flush_ms", [1000, 0])
def test_a_batch_check_watches_every_subject_in_it(
    app_factory: Callable[..., Flask],
    run_cli: Callable[..., Any],
    make_token: Callable[..., Headers],
    receiver: Receiver,
    flush_ms: int,
) -> None:
    app = app_factory(check={"log_flush_ms": flush_ms})
    client = app.test_client()
    zhujian = make_token("department", uscc=ZHUJIAN)
    bidding = make_token("consumer")
    hook = subscribe(client, bidding, receiver.url)
    subjects = [{"uscc": BEIJIANG}, {"uscc": SHUDAO}]
    resp = client.post(
        "/api/v1/check", json={"domain": "procurement", "subjects": subjects}, headers=bidding
    )
    assert resp.status_code == 200
    if flush_ms:
        log_written(app)
    push(client, zhujian, listing())
    assert "delivered 1, failed 0" in deliver(run_cli)
    [got] = receiver.received
    event = got.verified(hook["secret"])
    assert (event["subject"]["uscc"], event["domain"], event["verdict"]) == (
        SHUDAO, "procurement", "barred"
    )  # fmt: skip


@pytest.mark.parametrize("refresh", [3600, 0])
def test_a_watch_moves_forward_once_it_is_as_old_as_the_refresh_interval(
    app_factory: Callable[..., Flask], make_token: Callable[..., Headers], refresh: int
) -> None:
    """A worker writes a watch again only once the one it wrote is `watch_refresh_seconds` old
    (0: at every flush): a subject checked all day is one write an hour, not one a second."""
    app = app_factory(check={"log_flush_ms": 1000}, webhooks={"watch_refresh_seconds": refresh})
    client = app.test_client()
    bidding = make_token("consumer")

    def watched_at() -> Any:
        with app.app_context():
            return db.session.scalars(select(Watch.checked_at)).one()

    start = clock.now()
    check(client, bidding, SHUDAO)
    log_written(app)
    first = watched_at()
    assert first >= start
    with clock.travel(start + timedelta(minutes=30)):
        check(client, bidding, SHUDAO)
        log_written(app)
        assert watched_at() == first if refresh else watched_at() > first + timedelta(minutes=29)
    with clock.travel(start + timedelta(minutes=61)):
        check(client, bidding, SHUDAO)
        log_written(app)
        assert watched_at() > first + timedelta(minutes=60)
