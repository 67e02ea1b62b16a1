"""Who sees which record (records.visibility), as a table: each row a record, a day and what
each audience sees; then the SQL form of each rule against the predicate on stored records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from credithub import clock
from credithub.db import db
from credithub.records import visibility as vis
from credithub.records.models import Record
from credithub.records.read import record_row
from credithub.rules.pack_load import read_pack
from tests.records.samples import ZHUJIAN
from tests.signing import signed_all

PACK = read_pack("default")
D = date.fromisoformat
OTHER = "11150700MB0000000X"


def rec(kind: str = "penalty", **given: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": "r1", "kind": kind, "status": "active", "authority_uscc": ZHUJIAN,
        "decided_on": D("2026-05-01"), "starts_on": D("2026-05-01"), "ends_on": None,
        "severity": "general" if kind == "penalty" else None, "publish_until": None,
        "content": {},
    }  # fmt: skip
    row.update(given)
    return row


MINOR_36 = rec(severity="minor")  # 令36: never published
SERIOUS = rec(severity="serious", publish_until=D("2027-05-01"), ends_on=D("2029-05-01"))
MINOR_58 = rec(decided_on=D("2025-01-10"), starts_on=D("2025-01-10"), severity="minor",
               publish_until=D("2028-01-10"))  # fmt: skip
REVOKED = rec(severity="serious", publish_until=D("2027-05-01"), status="revoked")
EXPIRED = rec(severity="serious", publish_until=D("2027-05-01"), status="expired")
OLD = rec(decided_on=D("2020-01-01"), starts_on=D("2020-01-01"), publish_until=D("2021-01-01"))
FOREVER = rec("blacklist", decided_on=D("2020-03-01"), starts_on=D("2020-03-01"),
              code="expert-disqualified")  # fmt: skip
MISCONDUCT = rec("misconduct", decided_on=D("2026-03-01"), starts_on=D("2026-02-01"))
PRAISED = rec("commendation", decided_on=D("2019-01-01"), starts_on=D("2019-01-01"))

# record, day, restricting?, public, consumer
TABLE = [
    (MINOR_36, "2026-05-01", False, False, True),  # never public, a consumer sees it
    (MINOR_36, "2031-04-30", False, False, True),
    (MINOR_36, "2031-05-01", False, False, False),  # past the 5-year limit
    (SERIOUS, "2026-04-30", False, False, False),  # not yet decided
    (SERIOUS, "2026-05-01", False, True, True),  # first day of its window
    (SERIOUS, "2027-04-30", False, True, True),  # last day
    (SERIOUS, "2027-05-01", False, False, True),  # publication over, it still counts
    (SERIOUS, "2031-05-01", False, False, False),
    (SERIOUS, "2031-05-01", True, False, True),  # a measure it carries still runs
    (MINOR_58, "2027-06-01", False, True, True),  # 令58 published minor records
    (REVOKED, "2026-06-01", True, False, False),
    (EXPIRED, "2026-06-01", False, True, True),  # expired: the window decides
    (OLD, "2024-12-31", False, False, True),
    (OLD, "2025-01-01", False, False, False),
    (FOREVER, "2025-02-28", False, True, True),
    (FOREVER, "2025-03-01", False, False, False),
    (FOREVER, "2025-03-01", True, False, True),  # still bars: consumers see it
    (MISCONDUCT, "2026-02-01", False, True, False),  # occurred, not yet decided
    (MISCONDUCT, "2027-01-31", False, True, True),  # points window: 12 months from the act
    (MISCONDUCT, "2027-02-01", False, False, True),
    (MISCONDUCT, "2031-02-01", False, False, False),  # the limit runs from the act
    (PRAISED, "2030-01-01", False, True, True),  # commendations have no limit
]


@pytest.mark.parametrize(("row", "day", "restricts", "public", "consumer"), TABLE)
def test_each_audience_sees_what_the_rule_says(
    row: dict[str, Any], day: str, restricts: bool, public: bool, consumer: bool
) -> None:
    on = D(day)
    restricting = {row["id"]} if restricts else set()
    assert vis.public_sees(row, PACK, on) is public
    assert vis.consumer_sees(row, PACK, on, restricting) is consumer
    assert vis.sees(vis.Audience.of(None), row, PACK, on, restricting) is public
    assert vis.sees(vis.Audience.of("consumer"), row, PACK, on, restricting) is consumer
    # The joint office, and the deciding department for its own records, see everything.
    assert vis.sees(vis.Audience.of("admin"), row, PACK, on, restricting)
    assert vis.sees(vis.Audience.of("department", ZHUJIAN), row, PACK, on, restricting)
    # Another department reads it as a consumer does.
    assert vis.sees(vis.Audience.of("department", OTHER), row, PACK, on, restricting) is consumer


def test_the_query_cutoff_is_the_first_act_date_still_within_the_limit() -> None:
    for day in ("2031-02-28", "2031-03-01", "2032-02-29", "2031-12-31"):
        cut = vis.query_cutoff(PACK, D(day))
        assert PACK.limits.query_ends(cut) > D(day)
        assert PACK.limits.query_ends(cut - timedelta(days=1)) <= D(day)


def _records() -> list[dict[str, Any]]:
    org = {"type": "organization", "name": "四川蜀道路桥建设有限公司", "uscc": "91512081MA62K0260E"}
    base = {"subject": org, "authority": {"uscc": ZHUJIAN}}
    fine = {"kind": "penalty", "categories": ["罚款"], "fine_yuan": "1000"}
    return [
        {**base, **fine, "ref": "P-minor", "decided_on": "2026-05-01"},
        {**base, **fine, "ref": "P-58", "decided_on": "2025-01-10"},
        {**base, **fine, "ref": "P-527", "decided_on": "2020-01-01"},
        {**base, **fine, "ref": "P-safety", "decided_on": "2024-06-01", "sector": "safety"},
        {**base, "kind": "penalty", "ref": "P-serious", "decided_on": "2026-05-01",
         "categories": ["吊销许可证件"], "publish_until": "2027-05-01"},
        {**base, "kind": "blacklist", "ref": "L-1", "decided_on": "2020-03-01",
         "list": "serious-untrustworthy", "expires_on": "2023-03-01"},
        {**base, "kind": "blacklist", "ref": "L-2", "decided_on": "2021-03-31",
         "list": "gp-serious"},
        {**base, "kind": "misconduct", "ref": "M-1", "decided_on": "2026-03-01",
         "occurred_on": "2026-02-01", "code": "C-BID-FRAUD"},
        {**base, "kind": "commendation", "ref": "C-1", "decided_on": "2019-01-01",
         "code": "red-list"},
    ]  # fmt: skip


def test_the_sql_form_of_each_rule_agrees_with_the_rule(
    app: Flask, client: FlaskClient, make_token: Callable[..., dict[str, str]]
) -> None:
    admin = make_token("admin")
    with clock.travel("2026-05-02T10:00:00+08:00"):
        resp = client.post("/api/v1/records", json={"records": signed_all(_records())},
                           headers=admin)  # fmt: skip
        assert resp.status_code == 200
        assert all(r["status"] == "created" for r in resp.get_json()["results"]), resp.get_json()
        resp = client.post("/api/v1/records/" + resp.get_json()["results"][6]["id"] + "/revoke",
                           json={"reason": "撤销"}, headers=admin)  # fmt: skip
        assert resp.status_code == 200
    days = [D("2019-01-01") + timedelta(days=n) for n in range(0, 365 * 13, 29)]
    days += [D(d) for d in ("2026-05-01", "2027-04-30", "2027-05-01", "2027-01-31", "2027-02-01",
                            "2025-02-28", "2025-03-01", "2031-01-31", "2031-02-01")]  # fmt: skip
    with app.app_context():
        rows = {r.id: record_row(r) for r in db.session.scalars(select(Record))}
        some = sorted(rows)[::2]
        for day in days:
            public = set(db.session.scalars(select(Record.id).where(vis.public_clause(PACK, day))))
            assert public == {i for i, r in rows.items() if vis.public_sees(r, PACK, day)}, day
            sql = set(
                db.session.scalars(
                    select(Record.id).where(vis.consumer_clause(PACK, day, set(some)))
                )
            )
            assert sql == {i for i, r in rows.items() if vis.consumer_sees(r, PACK, day, some)}
        assert any(vis.public_sees(r, PACK, D("2026-06-01")) for r in rows.values())
