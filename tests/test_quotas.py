"""Rate limits and daily quotas: per client by kind or name, per address without a token."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from flask import Flask

from credithub import quotas
from credithub.config import ConfigError
from tests.records.samples import ZHUJIAN

Headers = dict[str, str]
CHECK = "/api/v1/check/91230500MA1B3N1N2M?domain=construction"
SEARCH = "/api/v1/public/entities?q=北疆"


def test_a_client_past_its_limit_gets_429_in_the_json_shape_with_the_headers(
    app_factory: Callable[..., Flask], make_token: Callable[..., Headers]
) -> None:
    app = app_factory(limits={"consumer": ["2/minute", "1000/day"]})
    client = app.test_client()
    bidding = make_token("consumer")
    # The usual single check counts too (the check lane leaves a limited client to Flask).
    answers = [client.get(CHECK, headers=bidding) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "2"
    assert answers[0].headers["X-RateLimit-Remaining"] == "1"
    refused = answers[2]
    assert refused.status_code == 429
    assert refused.get_json() == {
        "code": 429,
        "status": "Too Many Requests",
        "message": quotas.MESSAGE,
    }
    assert refused.headers["Content-Type"] == "application/json"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert int(refused.headers["X-RateLimit-Reset"]) > time.time()


def test_each_client_has_its_own_count_and_a_named_client_its_own_limits(
    app_factory: Callable[..., Flask], make_token: Callable[..., Headers]
) -> None:
    app = app_factory(limits={"consumer": ["1/minute"], "clients": {"统计": ["3/minute"]}})
    client = app.test_client()
    first, second = make_token("consumer"), make_token("consumer")
    named = make_token("consumer", name="统计")
    assert client.get(CHECK, headers=first).status_code != 429
    assert client.get(CHECK, headers=first).status_code == 429
    assert client.get(CHECK, headers=second).status_code != 429  # not the first one's count
    assert [client.get(CHECK, headers=named).status_code == 429 for _ in range(4)] == [
        False, False, False, True,
    ]  # fmt: skip
    # A kind without limits is not counted at all.
    admin = make_token("admin")
    assert all(client.get(CHECK, headers=admin).status_code != 429 for _ in range(5))
    assert "X-RateLimit-Limit" not in client.get(CHECK, headers=admin).headers


def test_requests_without_a_token_are_counted_by_remote_address(
    app_factory: Callable[..., Flask],
) -> None:
    app = app_factory(limits={"public": ["2/minute"]})
    client = app.test_client()
    one = {"REMOTE_ADDR": "203.0.113.7"}
    assert [client.get(SEARCH, environ_base=one).status_code for _ in range(3)] == [200, 200, 429]
    refused = client.get(SEARCH, environ_base=one)
    assert refused.get_json()["code"] == 429
    assert "Retry-After" in refused.headers
    # A page from the same address is refused as a page; another address is not refused.
    page = client.get("/", environ_base=one)
    assert page.status_code == 429
    assert page.mimetype == "text/html"
    other = {"REMOTE_ADDR": "203.0.113.8"}
    assert client.get(SEARCH, environ_base=other).status_code == 200
    # A wrong token counts as no token: guessing tokens is limited by address too.
    wrong = client.get(CHECK, headers={"Authorization": "Bearer nope"}, environ_base=one)
    assert wrong.status_code == 429
    # Health endpoints are never counted.
    assert client.get("/healthz", environ_base=one).status_code == 200


def test_a_daily_quota_is_whole_again_the_next_day(
    app_factory: Callable[..., Flask],
    make_token: Callable[..., Headers],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = app_factory(limits={"department": ["2/day"]})
    client = app.test_client()
    department = make_token("department", uscc=ZHUJIAN)
    url = "/api/v1/records?kind=penalty"
    assert [client.get(url, headers=department).status_code for _ in range(3)] == [200, 200, 429]
    tomorrow = time.time() + 86_400 + 1
    monkeypatch.setattr(time, "time", lambda: tomorrow)
    assert client.get(url, headers=department).status_code == 200


def test_empty_limits_install_no_limiter(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(limits={"public": []})
    assert app.extensions["credithub.quotas"] is None
    assert "limiter" not in app.extensions


def test_a_limit_that_cannot_be_read_stops_start_up(app_factory: Callable[..., Flask]) -> None:
    with pytest.raises(ConfigError, match=r"limits\.clients\.统计: 'lots' is no limit"):
        app_factory(limits={"clients": {"统计": ["lots"]}})
