"""The standing computation's part of the 5-year limit and of 457号 (pure, no database)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

from credithub.rules.pack_load import read_pack
from credithub.standing.compute import compute_standing
from credithub.standing.values import CHINA, RecordFacts

PACK = read_pack("default")
# Deductions that decay over 7 years: the limit, not the decay, ends them at 5.
LONG = dataclasses.replace(PACK, score=dataclasses.replace(PACK.score, decay_months=84))


def counted(explanation: tuple[Any, ...]) -> list[str]:
    """The records the score lines name (the base line names none)."""
    return [x.record_id for x in explanation if x.record_id]


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=10, tzinfo=CHINA)


def fact(kind: str = "penalty", **given: Any) -> RecordFacts:
    values: dict[str, Any] = {
        "id": "r1", "kind": kind, "ref": "ref-1", "authority_uscc": "11230500001755309F",
        "authority_name": "住建局", "decided_on": date(2026, 5, 1), "starts_on": date(2026, 5, 1),
        "ends_on": None, "code": None, "categories": ("罚款",), "fine_yuan": None, "domains": (),
        "severity": "general", "status": "active", "revoked_at": None,
    }  # fmt: skip
    values.update(given)
    return RecordFacts(**values)


def test_a_record_stops_counting_at_the_limit() -> None:
    fined = fact()
    before = compute_standing([fined], LONG, at("2031-04-30"))
    assert counted(before.explanation) == ["r1"]
    after = compute_standing([fined], LONG, at("2031-05-01"))
    assert counted(after.explanation) == []
    assert after.score == LONG.score.base


def test_misconduct_counts_from_the_day_it_occurred() -> None:
    late = fact("misconduct", code="C-BID-FRAUD", starts_on=date(2026, 2, 1), severity=None,
                decided_on=date(2026, 5, 1), categories=())  # fmt: skip
    points_forever = dataclasses.replace(
        LONG, points=dataclasses.replace(LONG.points, window_months=120)
    )
    assert compute_standing([late], points_forever, at("2031-01-31")).points == 12
    assert compute_standing([late], points_forever, at("2031-02-01")).points == 0


def test_a_measure_still_running_keeps_the_record_counting_until_it_ends() -> None:
    expert = fact("blacklist", code="expert-disqualified", categories=(), severity=None,
                  ends_on=date(2032, 1, 1))  # fmt: skip
    s = compute_standing([expert], LONG, at("2031-06-01"))
    assert [r.record_id for r in s.restrictions] == ["r1"]
    assert counted(s.explanation) == ["r1"]  # it still counts, deduction too
    ended = compute_standing([expert], LONG, at("2032-01-01"))
    assert ended.restrictions == ()
    assert counted(ended.explanation) == []


def test_an_organizations_reaching_listing_restricts_the_person_without_deducting() -> None:
    org_listing = fact("blacklist", id="org-1", code="ggzy-serious", categories=(),
                       severity=None, ends_on=date(2027, 5, 1), legal_rep_id="p1",
                       via=("北疆建筑工程有限公司", "91230500MA1B3N1N2M"))  # fmt: skip
    s = compute_standing([org_listing], PACK, at("2026-06-01"))
    [r] = s.restrictions
    assert (r.measure, r.record_id, r.until) == ("ggzy-bar", "org-1", date(2027, 5, 1))
    assert "北疆建筑工程有限公司 (91230500MA1B3N1N2M)" in r.reason
    assert counted(s.explanation) == []
    assert s.score == PACK.score.base
    not_reaching = dataclasses.replace(org_listing, code="gp-serious")
    assert compute_standing([not_reaching], PACK, at("2026-06-01")).restrictions == ()
