"""Screening through the real API: the stories a procuring entity relies on."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from credithub.db import db
from credithub.rules.pack import RulePack
from credithub.rules.pack_entries import add_months
from credithub.standing.models import CheckLog, StandingRow
from tests.conftest import PG_URL
from tests.records import samples
from tests.records.samples import BEIJIANG, CAIZHENG, PERSON_ID, SHUDAO, ZHUJIAN, penalty
from tests.signing import signed_all

Headers = dict[str, str]
DOMAINS = ["construction", "procurement", "land", "state_assets", "medical", "expert", "agency"]
ORG = {"type": "organization", "name": "四川蜀道路桥建设有限公司", "uscc": SHUDAO}


@pytest.fixture
def zhujian(make_token: Callable[..., Headers]) -> Headers:
    return make_token("department", uscc=ZHUJIAN, name="呼伦贝尔市住房和城乡建设局")


@pytest.fixture
def caizheng(make_token: Callable[..., Headers]) -> Headers:
    return make_token("department", uscc=CAIZHENG, name="呼伦贝尔市财政局")


@pytest.fixture
def bidding(make_token: Callable[..., Headers]) -> Headers:
    return make_token("consumer", name="电子招投标交易平台")


def pack(app: Flask) -> RulePack:
    return app.extensions["credithub.rule_pack"]  # type: ignore[no-any-return]


def push(client: FlaskClient, headers: Headers, *records: dict[str, Any]) -> list[dict[str, Any]]:
    resp = client.post("/api/v1/records", json={"records": signed_all(records)}, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    results: list[dict[str, Any]] = resp.get_json()["results"]
    assert all(r["status"] != "rejected" for r in results), results
    return results


def check(
    client: FlaskClient, headers: Headers, uscc: str, domain: str, at: str | None = None
) -> Any:
    url = f"/api/v1/check/{uscc}?domain={domain}" + (f"&at={at}" if at else "")
    resp = client.get(url, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def listing(
    ref: str = "HMD-2026-007",
    listed_on: str = "2026-06-02",
    expires_on: str = "2029-06-02",
    subject: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "kind": "blacklist",
        "ref": ref,
        "decided_on": listed_on,
        "list": "ggzy-serious",
        "listed_on": listed_on,
        "expires_on": expires_on,
        "basis": "发改法规〔2018〕457号",
        "reason": "串通投标",
        "subject": subject or ORG,
    }


def test_a_listing_bars_every_domain_at_once(
    client: FlaskClient, zhujian: Headers, bidding: Headers
) -> None:
    assert check(client, bidding, SHUDAO, "construction")["verdict"] == "clear"
    [created] = push(client, zhujian, listing())
    for domain in DOMAINS:
        answer = check(client, bidding, SHUDAO, domain)
        assert answer["verdict"] == "barred", domain
        assert answer["known"] is True
        [r] = [r for r in answer["restrictions"] if r["record_id"] == created["id"]]
        assert r["effect"] == "bar"
        assert domain in r["domains"]
        assert r["basis"]
        assert r["measure"]
        assert r["authority"] == "呼伦贝尔市住房和城乡建设局"
        assert (r["from"], r["until"]) == ("2026-06-02", "2029-06-02")
    # It ends with the listing.
    assert check(client, bidding, SHUDAO, "land", "2029-06-01")["verdict"] == "barred"
    assert check(client, bidding, SHUDAO, "land", "2029-06-02")["verdict"] == "clear"


def test_revocation_clears_now_but_not_as_of_before(
    client: FlaskClient, zhujian: Headers, bidding: Headers
) -> None:
    [created] = push(client, zhujian, listing(listed_on="2026-01-05"))
    before = check(client, bidding, SHUDAO, "construction")["at"]
    revoked = client.post(
        f"/api/v1/records/{created['id']}/revoke", json={"reason": "复议撤销"}, headers=zhujian
    )
    assert revoked.status_code == 200
    assert check(client, bidding, SHUDAO, "construction")["verdict"] == "clear"
    assert (
        check(client, bidding, SHUDAO, "construction", before.replace("+", "%2B"))["verdict"]
        == "barred"
    )
    # Before the decision the record did not count either.
    assert check(client, bidding, SHUDAO, "construction", "2026-01-04")["verdict"] == "clear"


def test_major_procurement_fine_bars_procurement_only_for_three_years(
    app: Flask, client: FlaskClient, caizheng: Headers, bidding: Headers
) -> None:
    fine = penalty(
        "呼财罚〔2026〕3号",
        uscc=BEIJIANG,
        decided_on="2026-03-10",
        fine_yuan="2500000",
        domains=["procurement"],
        authority={"uscc": CAIZHENG, "name": "呼伦贝尔市财政局"},
        basis="《政府采购法》第七十七条",
    )
    [created] = push(client, caizheng, fine)
    answer = check(client, bidding, BEIJIANG, "procurement")
    assert answer["verdict"] == "barred"
    [r] = answer["restrictions"]
    assert r["domains"] == ["procurement"]
    assert r["record_id"] == created["id"]
    assert r["until"] == add_months(date(2026, 3, 10), 36).isoformat()
    for other in DOMAINS:
        if other != "procurement":
            assert check(client, bidding, BEIJIANG, other)["verdict"] == "clear", other
    small = penalty(
        "呼财罚〔2026〕4号",
        uscc=SHUDAO,
        fine_yuan="10000",
        domains=["procurement"],
        authority={"uscc": CAIZHENG},
    )
    push(client, caizheng, small)
    assert check(client, bidding, SHUDAO, "procurement")["verdict"] == "clear"


def misconduct(ref: str, code: str, on: date) -> dict[str, Any]:
    return {
        "kind": "misconduct",
        "ref": ref,
        "code": code,
        "decided_on": on.isoformat(),
        "occurred_on": on.isoformat(),
        "domains": ["construction"],
        "subject": ORG,
    }


def test_points_move_caution_then_barred_then_clear(
    app: Flask, client: FlaskClient, zhujian: Headers, bidding: Headers
) -> None:
    rules = pack(app)
    caution, bar = (t.min_points for t in rules.points.thresholds[:2])
    heavy = max(
        (m for m in rules.misconduct.values() if "construction" in m.domains and not m.forgivable),
        key=lambda m: m.points,
    )
    start = date(2026, 1, 5)
    records, total, day = [], 0, start
    while total < caution:
        records.append(misconduct(f"M{len(records)}", heavy.code, day))
        total += heavy.points
        day += timedelta(days=1)
    push(client, zhujian, *records)
    first = check(client, bidding, SHUDAO, "construction", (day + timedelta(days=1)).isoformat())
    assert first["score"]["points"] == total
    assert first["verdict"] == ("caution" if total < bar else "barred")
    more = []
    while total < bar:
        more.append(misconduct(f"N{len(more)}", heavy.code, day))
        total += heavy.points
        day += timedelta(days=1)
    push(client, zhujian, *more)
    crossed = day + timedelta(days=1)
    assert (
        check(client, bidding, SHUDAO, "construction", crossed.isoformat())["verdict"] == "barred"
    )
    assert check(client, bidding, SHUDAO, "medical", crossed.isoformat())["verdict"] == "clear"
    # Walk forward: the points leave the window and the bar term runs out.
    later = add_months(crossed, rules.points.window_months + 24)
    assert check(client, bidding, SHUDAO, "construction", later.isoformat())["verdict"] == "clear"


def test_first_minor_offence_under_tolerance_adds_no_points(
    app: Flask, client: FlaskClient, zhujian: Headers, bidding: Headers
) -> None:
    forgivable = next(m for m in pack(app).misconduct.values() if m.forgivable)
    push(client, zhujian, misconduct("F1", forgivable.code, date(2026, 2, 1)))
    assert check(client, bidding, SHUDAO, "construction", "2026-02-02")["score"]["points"] == 0
    push(client, zhujian, misconduct("F2", forgivable.code, date(2026, 3, 1)))
    assert (
        check(client, bidding, SHUDAO, "construction", "2026-03-02")["score"]["points"]
        == forgivable.points
    )


def test_profile_explains_the_score_record_by_record(
    app: Flask, client: FlaskClient, zhujian: Headers, bidding: Headers
) -> None:
    push(client, zhujian, listing(), penalty("P-9", uscc=SHUDAO, categories=["吊销许可证件"]))
    profile = client.get(f"/api/v1/entities/{SHUDAO}", headers=bidding).get_json()
    score = profile["score"]
    lines = score["explanation"]
    assert round(sum(line["amount"] for line in lines), 2) == score["value"]
    assert {line["record_id"] for line in lines if line["record_id"]} == {
        r["id"] for r in profile["records"]
    }
    assert score["level"] in {lv.level for lv in pack(app).score.levels}
    assert {r["measure"] for r in profile["restrictions"]}


def test_batch_check_in_order_with_persons_and_unknowns(
    client: FlaskClient, zhujian: Headers, bidding: Headers
) -> None:
    person = samples.person_subject()
    push(client, zhujian, listing(), listing("HMD-P", subject=person))
    body = {
        "domain": "construction",
        "subjects": [
            {"uscc": SHUDAO},
            {"uscc": "91512081MA62K0260E".replace("91512081MA62K0260E", BEIJIANG)},
            {"id_type": "身份证", "id_number": PERSON_ID.lower()},
        ],
    }
    resp = client.post("/api/v1/check", json=body, headers=bidding)
    assert resp.status_code == 200, resp.get_json()
    results = resp.get_json()["results"]
    assert [r["verdict"] for r in results] == ["barred", "clear", "barred"]
    assert [r["known"] for r in results] == [True, False, True]
    assert results[2]["subject"]["id_number"] == "110105********002X"
    assert PERSON_ID not in resp.get_data(as_text=True)


def test_legal_representative_under_a_reaching_listing_is_reported(
    client: FlaskClient, zhujian: Headers, bidding: Headers
) -> None:
    person = samples.person_subject()
    push(
        client,
        zhujian,
        listing("HMD-REP", subject=person),
        penalty(
            "P-1",
            uscc=BEIJIANG,
            subject=samples.represented(),
        ),
    )
    answer = check(client, bidding, BEIJIANG, "construction")
    [related] = answer["related"]
    assert related["role"] == "legal_rep"
    assert related["id_number"] == "110105********002X"
    assert related["restrictions"][0]["effect"] == "bar"


def test_a_later_listing_of_the_legal_representative_reaches_the_organization(
    client: FlaskClient, zhujian: Headers, bidding: Headers
) -> None:
    push(client, zhujian, penalty("P-1", uscc=BEIJIANG, subject=samples.represented()))
    assert check(client, bidding, BEIJIANG, "construction")["related"] == []

    person = samples.person_subject()
    push(client, zhujian, listing("HMD-REP", subject=person))
    [related] = check(client, bidding, BEIJIANG, "construction")["related"]
    assert related["restrictions"][0]["measure"]


def test_a_legal_representative_renamed_is_named_so_for_every_organization_represented(
    client: FlaskClient, zhujian: Headers, bidding: Headers
) -> None:
    person = samples.person_subject()
    push(
        client,
        zhujian,
        listing("HMD-REP", subject=person),
        penalty("P-1", subject=samples.represented()),
    )
    other = samples.represented(SHUDAO, "四川蜀道路桥建设有限公司")
    other["legal_rep"]["name"] = "张建民"  # as a later decision names him
    push(client, zhujian, penalty("P-2", uscc=SHUDAO, subject=other, decided_on="2026-07-01"))
    for uscc in (BEIJIANG, SHUDAO):
        [related] = check(client, bidding, uscc, "construction")["related"]
        assert related["name"] == "张建民", uscc


def test_a_peer_moving_a_record_to_another_subject_lifts_it_from_the_first(
    client: FlaskClient, make_token: Callable[..., Headers], bidding: Headers
) -> None:
    peer = make_token("peer", hub="hlbe")
    origin = {"hub": "hlbe", "id": "rec-9", "version": 1}
    authority = {"uscc": ZHUJIAN, "name": "呼伦贝尔市住房和城乡建设局"}
    push(client, peer, {**listing("HMD-MOVE"), "authority": authority, "origin": origin})
    assert check(client, bidding, SHUDAO, "construction")["verdict"] == "barred"

    other = {"type": "organization", "name": "北疆", "uscc": BEIJIANG}
    corrected = {**listing("HMD-MOVE", subject=other), "authority": authority}
    push(client, peer, {**corrected, "origin": {**origin, "version": 2}})
    assert check(client, bidding, BEIJIANG, "construction")["verdict"] == "barred"
    assert check(client, bidding, SHUDAO, "construction")["verdict"] == "clear"


def check_log(app: Flask) -> list[CheckLog]:
    """The check log as stored, once what the worker has buffered is written."""
    buffer = app.extensions["credithub.check_log"]
    if buffer is not None:
        buffer.flush()
    with app.app_context():
        return list(db.session.scalars(select(CheckLog).order_by(CheckLog.asked_at, CheckLog.id)))


@pytest.mark.parametrize("flush_ms", [100, 0])
def test_every_check_is_recorded_with_the_digest_of_its_answer(
    app_factory: Callable[..., Flask],
    make_token: Callable[..., Headers],
    flush_ms: int,
) -> None:
    app = app_factory(check={"log_flush_ms": flush_ms})
    client = app.test_client()
    zhujian = make_token("department", uscc=ZHUJIAN, name="呼伦贝尔市住房和城乡建设局")
    bidding = make_token("consumer", name="电子招投标交易平台")
    push(client, zhujian, listing())
    answers = [
        check(client, bidding, SHUDAO, "construction"),
        check(client, bidding, SHUDAO, "land", "2026-06-01"),  # before the listing
        check(client, bidding, BEIJIANG, "construction"),  # unknown to the hub
    ]
    resp = client.post(
        "/api/v1/check",
        json={"domain": "procurement", "subjects": [{"uscc": SHUDAO}, {"uscc": BEIJIANG}]},
        headers=bidding,
    )
    answers += resp.get_json()["results"]
    logged = check_log(app)
    assert [row.digest for row in logged] == [a["check"]["digest"] for a in answers]
    assert [(row.subject_code, row.domain, row.verdict) for row in logged] == [
        (SHUDAO, "construction", "barred"),
        (SHUDAO, "land", "clear"),
        (BEIJIANG, "construction", "clear"),
        (SHUDAO, "procurement", "barred"),
        (BEIJIANG, "procurement", "clear"),
    ]
    assert {row.client for row in logged} == {"电子招投标交易平台"}
    assert [row.asked_at.isoformat() for row in logged] == [a["check"]["asked_at"] for a in answers]
    assert [row.as_of for row in logged] == [datetime.fromisoformat(a["at"]) for a in answers]
    assert logged[0].subject_id is not None
    assert logged[2].subject_id is None
    assert logged[3].batch is not None
    assert logged[3].batch == logged[4].batch
    assert logged[0].batch is None


def test_the_digest_lets_anyone_verify_what_was_answered(
    client: FlaskClient, zhujian: Headers, bidding: Headers
) -> None:
    push(client, zhujian, listing())
    for answer in (
        check(client, bidding, SHUDAO, "construction"),
        check(client, bidding, BEIJIANG, "land", "2026-06-01"),
    ):
        told = {k: v for k, v in answer.items() if k != "check"}
        canonical = json.dumps(told, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        assert answer["check"]["digest"] == hashlib.sha256(canonical.encode()).hexdigest()


def test_the_writer_thread_writes_checks_once_the_interval_is_over(
    app_factory: Callable[..., Flask], make_token: Callable[..., Headers]
) -> None:
    app = app_factory(check={"log_flush_ms": 20})
    bidding = make_token("consumer", name="电子招投标交易平台")
    answer = check(app.test_client(), bidding, SHUDAO, "construction")
    for _ in range(1000):  # the thread writes it some 20 ms later; waits at most 10 s
        with app.app_context():
            logged = db.session.scalars(select(CheckLog)).all()
        if logged:
            break
        time.sleep(0.01)
    assert [row.digest for row in logged] == [answer["check"]["digest"]]


@dataclass
class SlowWriter:
    """An app whose check-log writer thread sleeps a real minute, with the worker's clock in
    the test's hands (`now`): the checks' own decision to write is what is left to see."""

    app: Flask
    now: list[float]
    check: Callable[[str], object]

    def stored(self) -> int:
        with self.app.app_context():
            return len(db.session.scalars(select(CheckLog)).all())


@pytest.fixture
def slow_writer(
    app_factory: Callable[..., Flask], make_token: Callable[..., Headers]
) -> SlowWriter:
    app = app_factory(check={"log_flush_ms": 60_000})
    now = [1000.0]
    app.extensions["credithub.check_log"].clock = lambda: now[0]
    bidding = make_token("consumer", name="电子招投标交易平台")
    client = app.test_client()
    return SlowWriter(app, now, lambda domain: check(client, bidding, SHUDAO, domain))


def test_a_check_writes_the_buffer_itself_when_the_writer_is_an_interval_late(
    slow_writer: SlowWriter,
) -> None:
    w = slow_writer
    w.check("construction")
    w.now[0] += 60
    w.check("land")
    assert w.stored() == 0  # due, but that is the writer's to do
    w.now[0] += 59.999
    w.check("procurement")
    assert w.stored() == 0
    w.now[0] += 0.001
    w.check("medical")  # the writer is a minute late: all four written
    assert w.stored() == 4


def test_a_check_leaves_the_rows_to_the_writer_while_it_writes(slow_writer: SlowWriter) -> None:
    """A writer that is slow to write (a busy worker, its turns shared with the requests') is
    not late: a check that wrote the rows itself meanwhile was held up for as long."""
    w = slow_writer
    buffer = w.app.extensions["credithub.check_log"]
    w.check("construction")
    buffer.writing.set()  # the writer thread is in the middle of a write
    w.now[0] += 120
    w.check("land")
    assert w.stored() == 0  # a whole interval late, but writing: left to it
    buffer.writing.clear()
    w.check("medical")  # late and not writing: the check writes
    assert w.stored() == 3


def test_a_worker_writes_buffered_checks_when_it_ends(
    app_factory: Callable[..., Flask], make_token: Callable[..., Headers]
) -> None:
    app = app_factory(check={"log_flush_ms": 3_600_000})  # only the end can write them
    bidding = make_token("consumer", name="电子招投标交易平台")
    client = app.test_client()
    answer = check(client, bidding, SHUDAO, "construction")
    app.extensions["credithub.check_log"].close()
    with app.app_context():
        [logged] = db.session.scalars(select(CheckLog)).all()
    assert logged.digest == answer["check"]["digest"]


def test_buffered_checks_survive_a_failed_write(
    app_factory: Callable[..., Flask],
    make_token: Callable[..., Headers],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from credithub.standing import checklog

    app = app_factory(check={"log_flush_ms": 3_600_000})
    bidding = make_token("consumer", name="电子招投标交易平台")
    client = app.test_client()
    first = check(client, bidding, SHUDAO, "construction")

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patched:
        patched.setattr(checklog, "bulk_insert", refuse)
        with pytest.raises(OSError, match="disk full"):
            app.extensions["credithub.check_log"].flush()
    second = check(client, bidding, SHUDAO, "land")
    assert [row.digest for row in check_log(app)] == [
        first["check"]["digest"],
        second["check"]["digest"],
    ]


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (f"/api/v1/check/{SHUDAO}?domain=railways", 422),
        (f"/api/v1/check/{SHUDAO}", 422),
        (f"/api/v1/check/{SHUDAO}?domain=construction&at=yesterday", 422),
        ("/api/v1/check/91512081MA62K0260X?domain=construction", 422),
        (f"/api/v1/check/{PERSON_ID}?domain=construction", 400),
    ],
)
def test_bad_single_checks_are_refused_and_not_recorded(
    app: Flask, client: FlaskClient, bidding: Headers, url: str, status: int
) -> None:
    assert client.get(url, headers=bidding).status_code == status
    assert check_log(app) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"domain": "construction", "subjects": [{"uscc": SHUDAO}, {"uscc": SHUDAO.lower()}]},
            "subjects.1",
        ),
        ({"domain": "construction", "subjects": [{"uscc": SHUDAO}] * 10_001}, "subjects"),
        ({"domain": "construction", "subjects": []}, "subjects"),
        (
            {"domain": "construction", "subjects": [{"uscc": SHUDAO, "id_number": PERSON_ID}]},
            "subjects",
        ),
        (
            {"domain": "construction", "subjects": [{"id_number": "110105194912310021"}]},
            "subjects.0.id_number",
        ),
        ({"subjects": [{"uscc": SHUDAO}]}, "domain"),
    ],
)
def test_bad_batches_are_refused_and_not_recorded(
    app: Flask, client: FlaskClient, bidding: Headers, body: dict[str, Any], field: str
) -> None:
    resp = client.post("/api/v1/check", json=body, headers=bidding)
    assert resp.status_code == 422, resp.get_json()
    errors = resp.get_json()["errors"]
    assert any(k == field or k.startswith(field) for k in errors), errors
    assert check_log(app) == []


@pytest.mark.skipif(not PG_URL, reason="a database server that can drop connections")
def test_checks_go_on_after_the_database_server_drops_its_connections(
    app: Flask, client: FlaskClient, zhujian: Headers, bidding: Headers
) -> None:
    push(client, zhujian, listing())
    assert check(client, bidding, SHUDAO, "construction")["verdict"] == "barred"
    with app.app_context():  # as a database restart or failover would
        db.session.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        db.session.commit()
    assert check(client, bidding, SHUDAO, "construction")["verdict"] == "barred"


def test_standing_is_stored_with_the_change_and_rescore_is_repeatable(
    app: Flask, client: FlaskClient, zhujian: Headers, run_cli: Callable[..., Any]
) -> None:
    push(client, zhujian, listing())
    with app.app_context():
        [row] = db.session.scalars(select(StandingRow)).all()
        assert row.pack_digest == pack(app).digest
        assert row.data["restrictions"]
    result = run_cli("rescore", "--all")
    assert result.exit_code == 0, result.output
    assert "rescored 1 subject" in result.output
    assert "rescored 0 subject" in run_cli("rescore").output
