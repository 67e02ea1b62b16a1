"""A record whose term has ended is expired by this hub as a change of its own: a new version,
an `expire` entry in the change log that peers read, history kept, standings refreshed. Only
this hub's running records are expired, once each; the dates still decide a past check."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from credithub.audit.models import AuditEntry
from credithub.db import db, utcnow
from credithub.entities.models import Subject
from credithub.jobs.models import JobRun
from credithub.records.expiry import due_records, expire
from credithub.records.jobs import expire_due
from credithub.records.models import Record, RecordChange
from credithub.records.prepare import CHINA, today_in_china
from credithub.standing.models import StandingRow
from tests.records.samples import BEIJIANG, PEER_ZHUJIAN, SHUDAO, ZHUJIAN
from tests.signing import signed_all

Headers = dict[str, str]
TODAY = today_in_china()
CITY_X = {"authority": {"name": "某市住房和城乡建设局", "uscc": PEER_ZHUJIAN}}  # a peer's


@pytest.fixture
def zhujian(make_token: Callable[..., Headers]) -> Headers:
    return make_token("department", uscc=ZHUJIAN, name="呼伦贝尔市住房和城乡建设局")


@pytest.fixture
def admin(make_token: Callable[..., Headers]) -> Headers:
    return make_token("admin")


def day(offset: int) -> date:
    """A China date `offset` days from today."""
    return TODAY + timedelta(days=offset)


def morning(d: date) -> datetime:
    """09:00 China time on `d`: the instant the job runs in these stories."""
    return datetime(d.year, d.month, d.day, 9, tzinfo=CHINA)


def listing(
    ref: str,
    ends: int | None,
    uscc: str = SHUDAO,
    listed: int = -200,
    **extra: Any,
) -> dict[str, Any]:
    """A 公共资源交易领域严重失信主体 listing that began `listed` days ago and ends `ends` days
    from today (None: no end of its own)."""
    record: dict[str, Any] = {
        "kind": "blacklist",
        "ref": ref,
        "decided_on": day(listed).isoformat(),
        "list": "ggzy-serious",
        "listed_on": day(listed).isoformat(),
        "basis": "发改法规〔2018〕457号",
        "reason": "串通投标",
        "subject": {"type": "organization", "name": f"主体{uscc[-4:]}", "uscc": uscc},
    }
    if ends is not None:
        record["expires_on"] = day(ends).isoformat()
    record.update(extra)
    return record


def push(client: FlaskClient, headers: Headers, *records: dict[str, Any]) -> list[Any]:
    resp = client.post("/api/v1/records", json={"records": signed_all(records)}, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    results: list[Any] = resp.get_json()["results"]
    assert all(r["status"] != "rejected" for r in results), results
    return results


def stored(app: Flask, record_id: str) -> tuple[str, int, int]:
    """(status, version, origin version) as stored."""
    with app.app_context():
        r = db.session.get(Record, record_id)
        assert r is not None
        return r.status, r.version, r.origin_version


def changes(app: Flask) -> list[tuple[str, int, str]]:
    """The change log: (record id, version, op) in position order."""
    with app.app_context():
        rows = db.session.execute(
            select(RecordChange.record_id, RecordChange.version, RecordChange.op).order_by(
                RecordChange.position
            )
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def expire_at(app: Flask, now: datetime | None = None) -> dict[str, Any]:
    with app.app_context():
        return expire_due(now)


def check(client: FlaskClient, headers: Headers, at: str | None = None) -> Any:
    url = f"/api/v1/check/{SHUDAO}?domain=construction" + (f"&at={quote(at)}" if at else "")
    resp = client.get(url, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_the_job_expires_this_hubs_running_records_whose_term_has_ended_and_only_those(
    app: Flask,
    client: FlaskClient,
    zhujian: Headers,
    admin: Headers,
    make_token: Callable[..., Headers],
) -> None:
    due, disputed, running, open_ended, revoked = push(
        client,
        zhujian,
        listing("HMD-1", ends=10),
        listing("HMD-2", ends=10, uscc=BEIJIANG),
        listing("HMD-3", ends=11),
        listing("HMD-4", ends=None),
        listing("HMD-5", ends=5),
    )
    url = f"/api/v1/records/{revoked['id']}/revoke"
    assert client.post(url, json={"reason": "复议撤销"}, headers=zhujian).status_code == 200
    with app.app_context(), db.transaction() as session:
        session.execute(update(Record).where(Record.id == disputed["id"]).values(status="disputed"))
    peer = make_token("peer", hub="city-x")
    [from_peer] = push(
        client,
        peer,
        listing("HMD-6", ends=5, origin={"hub": "city-x", "id": "x-6", "version": 1}, **CITY_X),
    )
    before = changes(app)

    # Ten days on, in the morning: three records' terms have ended (the revoked one's too); the
    # disputed one keeps its dispute until its objection is decided.
    assert expire_at(app, morning(day(10))) == {"due": 1, "expired": 1}

    assert stored(app, due["id"]) == ("expired", 2, 2)
    assert stored(app, disputed["id"]) == ("disputed", 1, 1)
    assert stored(app, running["id"]) == ("active", 1, 1)
    assert stored(app, open_ended["id"]) == ("active", 1, 1)
    assert stored(app, revoked["id"]) == ("revoked", 2, 2)
    assert stored(app, from_peer["id"]) == ("active", 1, 1)  # its origin sends the expiry
    added = changes(app)[len(before) :]
    assert sorted(added) == [(due["id"], 2, "expire")]
    with app.app_context():
        [entry] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "records.expire")
        ).all()
    assert [c[:3] for c in json.loads(entry.detail)["changes"]] == [[due["id"], 2, "expired"]]

    # A second run finds nothing: no new version, no new change.
    assert expire_at(app, morning(day(10))) == {"due": 0, "expired": 0}
    assert changes(app)[len(before) :] == added
    assert stored(app, due["id"]) == ("expired", 2, 2)


def test_a_listing_sent_without_its_end_ends_after_the_lists_default_term(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    rule = app.extensions["credithub.rule_pack"].lists["ggzy-serious"]
    listed = day(-40 * 31)  # longer ago than the list's default term (36 months)
    [old] = push(client, zhujian, listing("HMD-OLD", ends=None, listed=(listed - TODAY).days))
    end = rule.default_expiry(listed)
    assert end is not None
    assert end <= TODAY

    with app.app_context():
        record = db.session.get(Record, old["id"])
        assert record is not None
        assert record.ends_on == end
    assert expire_at(app, morning(TODAY)) == {"due": 1, "expired": 1}
    assert stored(app, old["id"]) == ("expired", 2, 2)
    assert changes(app)[-1] == (old["id"], 2, "expire")


def test_a_record_revoked_or_from_a_peer_since_it_was_found_due_is_left_alone(
    app: Flask, client: FlaskClient, zhujian: Headers, make_token: Callable[..., Headers]
) -> None:
    due, revoked = push(client, zhujian, listing("HMD-1", ends=-1), listing("HMD-2", ends=-1))
    peer = make_token("peer", hub="city-x")
    origin = {"hub": "city-x", "id": "x-3", "version": 1}
    [from_peer] = push(client, peer, listing("HMD-3", ends=-1, origin=origin, **CITY_X))
    with app.app_context():
        found = due_records(db.session, utcnow())
        db.session.rollback()
    assert set(found) == {due["id"], revoked["id"]}
    # Revoked between finding it due and expiring it.
    url = f"/api/v1/records/{revoked['id']}/revoke"
    assert client.post(url, json={"reason": "复议撤销"}, headers=zhujian).status_code == 200
    with app.app_context(), db.transaction() as session:
        done = expire(session, [*found, from_peer["id"]], utcnow())
    assert done == [(due["id"], 2)]
    assert stored(app, revoked["id"]) == ("revoked", 2, 2)
    assert stored(app, from_peer["id"]) == ("active", 1, 1)


def test_the_expiry_is_a_version_in_history_and_an_expire_item_in_the_feed(
    app: Flask, client: FlaskClient, zhujian: Headers, admin: Headers
) -> None:
    [created] = push(client, zhujian, listing("HMD-1", ends=3))
    expire_at(app, morning(day(3)))

    record = client.get(f"/api/v1/records/{created['id']}", headers=admin).get_json()
    assert (record["status"], record["version"], record["origin"]["version"]) == ("expired", 2, 2)
    history = [(h["version"], h["op"], h["record"]["status"]) for h in record["history"]]
    assert history == [(1, "upsert", "active"), (2, "expire", "expired")]
    assert record["history"][0]["record"]["expires_on"] == day(3).isoformat()

    items = client.get("/api/v1/feed?after=0", headers=admin).get_json()["items"]
    assert [(i["op"], i["record"]["origin"]["version"]) for i in items] == [
        ("upsert", 1),
        ("expire", 2),
    ]
    assert [i["record"]["status"] for i in items] == ["active", "expired"]


def test_the_expiry_lifts_the_bar_in_the_stored_standing_and_a_past_check_still_sees_it(
    app: Flask, client: FlaskClient, zhujian: Headers, make_token: Callable[..., Headers]
) -> None:
    bidding = make_token("consumer")
    [created] = push(client, zhujian, listing("HMD-1", ends=10))
    assert check(client, bidding)["verdict"] == "barred"

    now = morning(day(10))
    expire_at(app, now)

    with app.app_context():
        sid = db.session.scalar(select(Subject.id).where(Subject.uscc == SHUDAO))
        row = db.session.get(StandingRow, sid)
        assert row is not None
        assert row.computed_at == now
        assert row.data["restrictions"] == []
    assert check(client, bidding, now.isoformat())["verdict"] == "clear"
    # As of the day before it ended, the expired listing still bars, citing its record.
    past = check(client, bidding, day(9).isoformat())
    assert past["verdict"] == "barred"
    assert [r["record_id"] for r in past["restrictions"]] == [created["id"]]
    assert past["restrictions"][0]["until"] == day(10).isoformat()


def test_a_correction_that_extends_the_term_makes_an_expired_record_active_again(
    app: Flask, client: FlaskClient, zhujian: Headers, admin: Headers
) -> None:
    [created] = push(client, zhujian, listing("HMD-1", ends=-30, listed=-400))
    assert expire_at(app)["expired"] == 1
    assert stored(app, created["id"]) == ("expired", 2, 2)

    # Corrected without a new term: still expired, a plain upsert.
    [same_term] = push(client, zhujian, listing("HMD-1", ends=-30, listed=-400, reason="围标"))
    assert same_term["status"] == "updated"
    assert stored(app, created["id"]) == ("expired", 3, 3)

    # Corrected with a term that runs past today: it runs again, and bars again.
    [extended] = push(client, zhujian, listing("HMD-1", ends=300, listed=-400, reason="围标"))
    assert extended["status"] == "updated"
    assert stored(app, created["id"]) == ("active", 4, 4)
    record = client.get(f"/api/v1/records/{created['id']}", headers=admin).get_json()
    assert record["status"] == "active"
    assert [(h["version"], h["op"]) for h in record["history"]] == [
        (1, "upsert"),
        (2, "expire"),
        (3, "upsert"),
        (4, "upsert"),
    ]
    assert check(client, admin)["verdict"] == "barred"
    # Nothing is due now.
    assert expire_at(app) == {"due": 0, "expired": 0}


def test_an_expired_record_can_still_be_revoked(
    app: Flask, client: FlaskClient, zhujian: Headers, admin: Headers
) -> None:
    [created] = push(client, zhujian, listing("HMD-1", ends=-30, listed=-400))
    expire_at(app)
    resp = client.post(
        f"/api/v1/records/{created['id']}/revoke", json={"reason": "复议撤销"}, headers=zhujian
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"] == "revoked"
    assert stored(app, created["id"]) == ("revoked", 3, 3)
    assert [op for _, _, op in changes(app)] == ["upsert", "expire", "revoke"]


def test_status_filters_tell_expired_from_active(
    app: Flask, client: FlaskClient, zhujian: Headers, admin: Headers
) -> None:
    [stored_expired] = push(client, zhujian, listing("HMD-1", ends=-60, listed=-400))
    expire_at(app)
    # Ended after the job ran: expired by its dates, not yet by the job.
    [ended, running] = push(
        client,
        zhujian,
        listing("HMD-2", ends=-30, listed=-400),
        listing("HMD-3", ends=300),
    )
    assert stored(app, ended["id"]) == ("active", 1, 1)

    def listed(status: str) -> set[tuple[str, str]]:
        body = client.get(f"/api/v1/records?status={status}", headers=admin).get_json()
        return {(r["id"], r["status"]) for r in body["items"]}

    assert listed("expired") == {(stored_expired["id"], "expired"), (ended["id"], "expired")}
    assert listed("active") == {(running["id"], "active")}


def test_a_peers_expiry_is_stored_as_expired_only_when_newer(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers], admin: Headers
) -> None:
    peer = make_token("peer", hub="city-x")

    def sent(version: int, status: str) -> dict[str, Any]:
        origin = {"hub": "city-x", "id": "x-1", "version": version}
        return listing("HMD-1", ends=-30, listed=-400, origin=origin, status=status, **CITY_X)

    [created] = push(client, peer, sent(1, "active"))
    assert stored(app, created["id"]) == ("active", 1, 1)
    [applied] = push(client, peer, sent(2, "expired"))
    assert applied["status"] == "updated"
    assert stored(app, created["id"]) == ("expired", 2, 2)
    # An older version arriving late changes nothing.
    [late] = push(client, peer, sent(1, "active"))
    assert late["status"] == "unchanged"
    assert stored(app, created["id"]) == ("expired", 2, 2)
    # This hub passes the expiry on as an expiry.
    assert [op for _, _, op in changes(app)] == ["upsert", "expire"]
    items = client.get("/api/v1/feed?after=0", headers=admin).get_json()["items"]
    assert [(i["op"], i["record"]["status"]) for i in items] == [
        ("upsert", "active"),
        ("expire", "expired"),
    ]


def test_credithub_expire_expires_due_records_and_records_the_run(
    app: Flask, client: FlaskClient, zhujian: Headers, run_cli: Callable[..., Any]
) -> None:
    [created] = push(client, zhujian, listing("HMD-1", ends=-1, listed=-400))
    first = run_cli("expire")
    assert first.exit_code == 0, first.output
    assert "expired 1 record(s)" in first.output
    assert stored(app, created["id"]) == ("expired", 2, 2)
    second = run_cli("expire")
    assert second.exit_code == 0
    assert "expired 0 record(s)" in second.output
    with app.app_context():
        runs = db.session.scalars(select(JobRun).where(JobRun.job == "expire")).all()
        total = db.session.scalar(select(func.count()).select_from(RecordChange))
    assert [(r.status, r.counts) for r in runs] == [
        ("ok", {"due": 1, "expired": 1}),
        ("ok", {"due": 0, "expired": 0}),
    ]
    assert total == 2
