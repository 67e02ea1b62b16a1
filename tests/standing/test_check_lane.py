"""The single check's lane (standing/lane.py) answers as Flask's path does, and only when it can.

Each request is sent twice, at the same frozen instant and with the same request id: once to
the app (the lane in front of Flask) and once to Flask's own path behind it. Status, headers
and body must be the same bytes, and so must the check log rows the two record.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.test import Client
from werkzeug.wrappers import Response

from credithub.clients.cache import forget_tokens
from credithub.db import db
from credithub.standing import check as service
from credithub.standing.lane import CheckLane
from credithub.standing.models import CheckLog
from tests.records.samples import BEIJIANG, PERSON_ID, SHUDAO, ZHUJIAN, penalty

Headers = dict[str, str]
NOW = datetime(2026, 11, 24, 8, 30, 15, 123456, tzinfo=UTC)
LISTING = {
    "kind": "blacklist",
    "ref": "HMD-2026-007",
    "decided_on": "2026-06-02",
    "list": "ggzy-serious",
    "listed_on": "2026-06-02",
    "basis": "发改法规〔2018〕457号",
    "reason": "串通投标",
    "subject": {"type": "organization", "name": "四川蜀道路桥建设有限公司", "uscc": SHUDAO},
}
KNOWN_CLEAR = "91230500MA1B3N1N2M"


class Paths:
    """The app with its lane, Flask's path behind it, and whether the last request got there."""

    def __init__(self, app: Flask) -> None:
        lane = app.wsgi_app
        assert isinstance(lane, CheckLane)
        self.flask_calls = 0
        inner = lane.wsgi_app

        def counted(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            self.flask_calls += 1
            return inner(environ, start_response)

        lane.wsgi_app = counted
        self.lane = Client(app, Response)
        self.flask = Client(inner, Response)

    def get(self, url: str, headers: Headers, **kwargs: Any) -> tuple[Response, bool]:
        """The app's answer, and whether the lane answered it (Flask's path was not called)."""
        before = self.flask_calls
        resp = self.lane.open(url, headers=headers, **kwargs)
        return resp, self.flask_calls == before


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (
        "credithub.standing.lane",
        "credithub.standing.views",
        "credithub.standing.check",
    ):
        monkeypatch.setattr(f"{module}.utcnow", lambda: NOW)


@pytest.fixture
def app(app_factory: Callable[..., Flask]) -> Flask:
    # No limit for requests without a token: the answers compared, one after the other,
    # would carry different counts left (X-RateLimit-Remaining).
    return app_factory(limits={"public": []})


@pytest.fixture
def paths(app: Flask, frozen: None) -> Paths:
    return Paths(app)


@pytest.fixture
def bidding(app: Flask, make_token: Callable[..., Headers], paths: Paths) -> Headers:
    zhujian = make_token("department", uscc=ZHUJIAN, name="呼伦贝尔市住房和城乡建设局")
    clear = {"type": "organization", "name": "哈尔滨某某", "uscc": KNOWN_CLEAR}
    for record in (LISTING, penalty("P-1", uscc=KNOWN_CLEAR, subject=clear)):
        resp = paths.lane.post("/api/v1/records", json={"records": [record]}, headers=zhujian)
        assert resp.status_code == 200, resp.get_json()
    headers = make_token("consumer", name="电子招投标交易平台")
    # The first check reads the token from the database (Flask's path) and caches it.
    resp, laned = paths.get(f"/api/v1/check/{SHUDAO}?domain=land", headers)
    assert resp.status_code == 200
    assert not laned
    return headers


def logged(app: Flask) -> list[dict[str, Any]]:
    app.extensions["credithub.check_log"].flush()
    with app.app_context():
        rows = db.session.scalars(select(CheckLog).order_by(CheckLog.id)).all()
        return [
            {c.key: getattr(r, c.key) for c in CheckLog.__table__.columns if c.key != "id"}
            for r in rows
        ]


def same_answers(lane: Response, flask: Response) -> None:
    assert lane.status == flask.status
    assert lane.headers.to_wsgi_list() == flask.headers.to_wsgi_list()
    assert lane.get_data() == flask.get_data()


@pytest.mark.parametrize("code", [SHUDAO, KNOWN_CLEAR, BEIJIANG, SHUDAO.lower()])
@pytest.mark.parametrize("domain", ["construction", "procurement", "expert"])
def test_the_lane_answers_byte_for_byte_as_flask_does(
    app: Flask, paths: Paths, bidding: Headers, code: str, domain: str
) -> None:
    headers = {**bidding, "X-Request-ID": "req-7"}
    url = f"/api/v1/check/{code}?domain={domain}"
    before = len(logged(app))
    resp, laned = paths.get(url, headers)
    assert laned
    flask = paths.flask.get(url, headers=headers)
    same_answers(resp, flask)
    assert resp.status_code == 200
    assert resp.headers["X-Request-ID"] == "req-7"
    lane_row, flask_row = logged(app)[before:]
    assert lane_row == flask_row
    assert lane_row["digest"] == resp.get_json()["check"]["digest"]


def test_a_new_request_id_when_none_or_an_unsafe_one_is_sent(
    paths: Paths, bidding: Headers
) -> None:
    ids = set()
    for sent in (None, "bad id", "x" * 65):
        headers = bidding if sent is None else {**bidding, "X-Request-ID": sent}
        resp, laned = paths.get(f"/api/v1/check/{SHUDAO}?domain=land", headers)
        assert laned
        ids.add(resp.headers["X-Request-ID"])
    assert len(ids) == 3
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def other_requests(make_token: Callable[..., Headers], bidding: Headers) -> Iterator[Any]:
    ok = f"/api/v1/check/{SHUDAO}"
    yield "at", f"{ok}?domain=land&at=2026-06-01", bidding, {}
    yield "two domains", f"{ok}?domain=land&domain=land", bidding, {}
    yield "unknown parameter", f"{ok}?domain=land&x=1", bidding, {}
    yield "encoded domain", f"{ok}?domain=%6cand", bidding, {}
    yield "unknown domain", f"{ok}?domain=moon", bidding, {}
    yield "no domain", ok, bidding, {}
    yield "trailing slash", f"{ok}/?domain=land", bidding, {}
    yield "ID number", f"/api/v1/check/{PERSON_ID}?domain=land", bidding, {}
    yield "bad USCC", "/api/v1/check/91230500MA1B3N1N2X?domain=land", bidding, {}
    yield "no token", f"{ok}?domain=land", {}, {}
    yield "not bearer", f"{ok}?domain=land", {"Authorization": "Basic abc"}, {}
    yield "unknown token", f"{ok}?domain=land", {"Authorization": "Bearer nope"}, {}
    yield "uncached token", f"{ok}?domain=land", make_token("consumer"), {}
    yield "no check scope", f"{ok}?domain=land", make_token("peer"), {}
    yield "HEAD", f"{ok}?domain=land", bidding, {"method": "HEAD"}
    yield "a body", f"{ok}?domain=land", bidding, {"data": b"{}"}


def test_any_other_request_goes_to_flask(
    app: Flask, paths: Paths, bidding: Headers, make_token: Callable[..., Headers]
) -> None:
    peer = make_token("peer")
    paths.get(f"/api/v1/check/{SHUDAO}?domain=land", peer)  # cached, but lacks the scope
    for name, url, headers, kwargs in other_requests(make_token, bidding):
        headers = {**headers, "X-Request-ID": "req-9"}
        resp, laned = paths.get(url, headers, **kwargs)
        assert not laned, name
        flask = paths.flask.open(url, headers=headers, **kwargs)
        same_answers(resp, flask)


def test_a_revoked_or_expired_token_is_not_taken_from_the_cache(
    app: Flask, paths: Paths, bidding: Headers
) -> None:
    url = f"/api/v1/check/{SHUDAO}?domain=land"
    assert paths.get(url, bidding)[1]
    forget_tokens()  # what a revocation or rotation in this process does
    resp, laned = paths.get(url, bidding)
    assert not laned  # read again from the database, on Flask's path
    assert resp.status_code == 200
    assert paths.get(url, bidding)[1]
    cache = app.extensions["credithub.token_cache"]
    clock = cache.clock
    cache.clock = lambda: clock() + cache.seconds + 1
    assert not paths.get(url, bidding)[1]


def test_unbuffered_checks_go_to_flask(
    app_factory: Callable[..., Flask], make_token: Callable[..., Headers], frozen: None
) -> None:
    app = app_factory(check={"log_flush_ms": 0})
    paths = Paths(app)
    bidding = make_token("consumer")
    for _ in range(2):
        resp, laned = paths.get(f"/api/v1/check/{SHUDAO}?domain=land", bidding)
        assert resp.status_code == 200
        assert not laned


def test_the_lane_stands_aside_while_the_app_checks_hosts(
    app: Flask, paths: Paths, bidding: Headers
) -> None:
    url = f"/api/v1/check/{SHUDAO}?domain=land"
    app.config["TRUSTED_HOSTS"] = ["localhost"]
    assert not paths.get(url, bidding)[1]
    assert paths.get(url, {**bidding, "Host": "evil.example"})[0].status_code == 400
    app.config["TRUSTED_HOSTS"] = None
    assert paths.get(url, bidding)[1]


def test_a_failure_in_the_lane_is_answered_as_flask_answers_it(
    app: Flask, paths: Paths, bidding: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(service, "_lookup", broken)
    headers = {**bidding, "X-Request-ID": "req-500"}
    url = f"/api/v1/check/{SHUDAO}?domain=land"
    logger = logging.getLogger("credithub")
    logger.propagate = True
    try:
        resp, laned = paths.get(url, headers)
    finally:
        logger.propagate = False
    assert laned
    assert resp.status_code == 500
    assert "req-500" in resp.get_json()["message"]
    assert "secret internals" not in resp.get_data(as_text=True)
    same_answers(resp, paths.flask.get(url, headers=headers))


def test_the_access_log_line_is_the_same(
    app: Flask, paths: Paths, bidding: Headers, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {**bidding, "X-Request-ID": "req-log"}
    url = f"/api/v1/check/{SHUDAO}?domain=land"
    lines = []
    logger = logging.getLogger("credithub")
    logger.propagate = True
    try:
        with caplog.at_level(logging.INFO, logger="credithub.access"):
            for send in (
                lambda: paths.get(url, headers)[0],
                lambda: paths.flask.get(url, headers=headers),
            ):
                caplog.clear()
                send()
                fields = ("request_id", "method", "path", "status", "client")
                records = [r for r in caplog.records if r.name == "credithub.access"]
                lines.append([{k: r.__dict__[k] for k in fields} for r in records])
    finally:
        logger.propagate = False
    assert lines[0] == lines[1]
    assert lines[0][0]["client"] == "电子招投标交易平台"
    assert lines[0][0]["request_id"] == "req-log"


def test_the_lane_stands_in_for_these_request_hooks(app_factory: Callable[..., Flask]) -> None:
    app = app_factory()  # with its default limits

    # The lane serves its requests without Flask's hooks and does what these do itself
    # (logs: request id and access log; middleware: guards, commit point, write intent reset;
    # db: the session's teardown, with the app context). A new hook must be added there too.
    # Flask-WTF's hook returns at once outside the page blueprints (WTF_CSRF_CHECK_DEFAULT is
    # off; credithub.web.page_blueprint checks the pages' forms), and the blueprints' own hooks
    # never run for the API: the lane need not stand in for either. The pages' headers are
    # added to HTML answers only; the lane answers JSON. Flask-Limiter's hooks count only
    # clients with limits (credithub.quotas), whose checks the lane leaves to Flask.
    def names(funcs: Iterable[Any]) -> list[str]:
        funcs = [getattr(f, "func", f) for f in funcs]  # a functools.partial: its function
        return [f"{f.__module__}.{f.__qualname__}" for f in funcs]

    assert {k: names(v) for k, v in app.before_request_funcs.items()} == {
        None: [
            "credithub.logs.init_app.<locals>._start",
            "flask_wtf.csrf.CSRFProtect.init_app.<locals>.csrf_protect",
            "credithub.middleware.init_app.<locals>._before",
            "flask_limiter._extension.Limiter._check_request_limit",
        ],
        "console": [
            "credithub.web.page_blueprint.<locals>._csrf",
            "credithub.console.views._login_required",
        ],
        "pages": ["credithub.web.page_blueprint.<locals>._csrf"],
    }
    assert app.config["WTF_CSRF_CHECK_DEFAULT"] is False
    assert {k: names(v) for k, v in app.after_request_funcs.items()} == {
        None: [
            "credithub.logs.init_app.<locals>._finish",
            "credithub.web.init_app.<locals>._headers",
            "credithub.middleware.init_app.<locals>._commit",
            "flask_limiter._extension.Limiter.__inject_headers",
        ],
        "console": ["credithub.console.views._no_store"],
    }
    assert {k: names(v) for k, v in app.teardown_request_funcs.items()} == {
        None: [
            "credithub.middleware.init_app.<locals>._reset",
            "flask_limiter._extension.Limiter.__release_context",
        ]
    }
    assert names(app.teardown_appcontext_funcs) == ["credithub.db.session.Database._teardown"]
    assert not any(app.url_value_preprocessors.values())
    from flask import signals

    for name in ("request_started", "request_finished", "got_request_exception"):
        assert not getattr(signals, name).receivers, name


def test_checks_through_the_lane_are_the_usual_answers(paths: Paths, bidding: Headers) -> None:
    resp, laned = paths.get(f"/api/v1/check/{SHUDAO}?domain=construction", bidding)
    assert laned
    answer = json.loads(resp.get_data())
    assert answer["verdict"] == "barred"
    assert answer["at"] == NOW.isoformat()
    assert answer["check"]["asked_at"] == NOW.isoformat()


def test_the_lane_and_the_view_answer_with_the_one_single_check(
    paths: Paths, bidding: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str]] = []
    one = service.check_one

    def counted(code: Any, domain: str, *args: Any) -> bytes:
        calls.append((code.code, domain))
        return one(code, domain, *args)

    monkeypatch.setattr(service, "check_one", counted)
    url = f"/api/v1/check/{SHUDAO}?domain=construction"
    _, laned = paths.get(url, bidding)
    assert laned
    assert paths.flask.get(url, headers=bidding).status_code == 200
    _, laned = paths.get(f"{url}&at=2026-07-01", bidding)  # the view's own query reader
    assert not laned
    assert calls == [(SHUDAO, "construction")] * 3


def test_with_the_lane_switched_off_flask_answers_every_check(
    app_factory: Callable[..., Flask], make_token: Callable[..., Headers], frozen: None
) -> None:
    app = app_factory(check={"lane": False})
    assert not isinstance(app.wsgi_app, CheckLane)
    resp = app.test_client().get(
        f"/api/v1/check/{KNOWN_CLEAR}?domain=construction", headers=make_token("consumer")
    )
    assert resp.status_code == 200
    assert resp.get_json()["verdict"] == "clear"
