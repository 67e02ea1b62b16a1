"""The pure standing computation: restrictions, points, score and valid_until, story by story."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from credithub.rules.pack import RulePack, load_pack
from credithub.rules.pack_entries import add_months
from credithub.standing.compute import compute_standing
from credithub.standing.values import CHINA, RecordFacts, Standing, counts_at

ALL_DOMAINS = ("construction", "procurement", "land", "state_assets", "medical", "expert", "agency")


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return load_pack("default")


@pytest.fixture(scope="module")
def still(pack: RulePack) -> RulePack:
    """The default pack with zero score weights: nothing decays, so only the restrictions,
    windows and commendations move `valid_until`."""
    score = replace(
        pack.score,
        penalty=dict.fromkeys(pack.score.penalty, 0.0),
        blacklist=0.0,
        misconduct_per_point=0.0,
    )
    return replace(pack, score=score)


_SEQ = iter(range(1_000_000))


def rec(kind: str, decided_on: str, **kw: Any) -> RecordFacts:
    """A record with sensible defaults; dates as ISO text."""
    decided = date.fromisoformat(decided_on)
    starts = kw.pop("starts_on", None)
    ends = kw.pop("ends_on", None)
    n = next(_SEQ)
    values: dict[str, Any] = {
        "id": f"r{n:04d}",
        "kind": kind,
        "ref": f"{kind}-{n}",
        "authority_uscc": "11230500001755309F",
        "authority_name": "某市财政局",
        "decided_on": decided,
        "starts_on": date.fromisoformat(starts) if starts else decided,
        "ends_on": date.fromisoformat(ends) if ends else None,
        "code": None,
        "categories": (),
        "fine_yuan": None,
        "domains": (),
        "severity": None,
        "status": "active",
        "revoked_at": None,
    }
    values.update(kw)
    return RecordFacts(**values)


def listing(decided_on: str, code: str = "ggzy-serious", **kw: Any) -> RecordFacts:
    return rec("blacklist", decided_on, code=code, **kw)


def penalty(decided_on: str, **kw: Any) -> RecordFacts:
    kw.setdefault("categories", ("罚款",))
    kw.setdefault("severity", "minor")
    return rec("penalty", decided_on, **kw)


def misconduct(decided_on: str, code: str, **kw: Any) -> RecordFacts:
    return rec("misconduct", decided_on, code=code, **kw)


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=CHINA)


def midnight(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=CHINA)


def verdicts(standing: Standing) -> dict[str, str]:
    return {d: standing.verdict(d) for d in ALL_DOMAINS}


def exact_sum(standing: Standing) -> bool:
    """The explanation adds up to the score, to the cent and exactly."""
    total = sum(Decimal(str(line.amount)) for line in standing.explanation)
    return total == Decimal(str(standing.score))


# --- lists ---------------------------------------------------------------------------------


def test_ggzy_listing_bars_every_domain_until_its_expiry(pack: RulePack, still: RulePack) -> None:
    r = listing("2026-05-01", ends_on="2028-05-01", authority_name="某市发展和改革委员会")
    s = compute_standing([r], pack, at("2026-05-01"))
    assert verdicts(s) == dict.fromkeys(ALL_DOMAINS, "barred")
    [x] = s.restrictions
    assert (x.measure, x.effect, x.domains) == ("ggzy-bar", "bar", ALL_DOMAINS)
    assert (x.start, x.until) == (date(2026, 5, 1), date(2028, 5, 1))
    assert x.record_id == r.id
    assert x.authority == "某市发展和改革委员会"
    assert "457号" in x.basis
    assert "(ggzy-serious)" in x.reason
    assert s.restrictions_in("land") == [x]
    # until is exclusive: the day before the expiry is barred, the expiry day is clear
    assert compute_standing([r], pack, at("2028-04-30", 23)).verdict("construction") == "barred"
    after = compute_standing([r], pack, at("2028-05-01", 0))
    assert verdicts(after) == dict.fromkeys(ALL_DOMAINS, "clear")
    assert after.restrictions == ()
    # the restriction's end is the next change when nothing decays
    assert compute_standing([r], still, at("2026-06-01")).valid_until == midnight("2028-05-01")
    assert compute_standing([r], still, at("2028-05-01")).valid_until is None


def test_listing_without_expiry_takes_the_list_default(pack: RulePack, still: RulePack) -> None:
    r = listing("2026-01-31")
    [x] = compute_standing([r], pack, at("2026-02-01")).restrictions
    assert x.until == add_months(date(2026, 1, 31), pack.lists["ggzy-serious"].default_months or 0)
    assert x.until == date(2029, 1, 31)
    # a list without a default term runs until the record is removed
    expert = listing("2026-01-31", code="expert-disqualified")
    s = compute_standing([expert], still, at("2030-01-01"))
    [y] = s.restrictions
    assert (y.measure, y.domains, y.until) == ("expert-bar", ("expert",), None)
    assert s.verdict("expert") == "barred"
    assert s.verdict("construction") == "clear"
    assert s.valid_until is None


def test_listing_starting_later_is_not_active_yet(still: RulePack) -> None:
    r = listing("2026-03-01", starts_on="2026-04-01", ends_on="2027-04-01")
    s = compute_standing([r], still, at("2026-03-15"))
    assert s.verdict("procurement") == "clear"
    assert s.valid_until == midnight("2026-04-01")
    assert compute_standing([r], still, at("2026-04-01")).verdict("procurement") == "barred"


def test_revocation_before_and_after_at(pack: RulePack, still: RulePack) -> None:
    revoked_at = at("2026-08-01", 9)
    r = listing("2026-05-01", ends_on="2028-05-01", status="revoked", revoked_at=revoked_at)
    before = compute_standing([r], pack, at("2026-07-01"))
    assert before.verdict("construction") == "barred"
    assert before.explanation[1].record_id == r.id
    assert compute_standing([r], pack, at("2026-08-01", 8)).verdict("land") == "barred"
    later = compute_standing([r], pack, at("2026-08-01", 10))
    assert verdicts(later) == dict.fromkeys(ALL_DOMAINS, "clear")
    assert later.score == 100
    assert [line.kind for line in later.explanation] == ["base"]
    # as of before the revocation, the answer holds until the revocation instant
    assert compute_standing([r], still, at("2026-07-01")).valid_until == revoked_at
    # revoked_at stored in UTC compares as an instant
    utc = replace(r, status="repaired", revoked_at=revoked_at.astimezone(UTC).replace(tzinfo=None))
    assert compute_standing([utc], pack, at("2026-08-01", 8)).verdict("land") == "barred"
    assert compute_standing([utc], pack, at("2026-08-01", 10)).verdict("land") == "clear"


def test_an_expired_record_counts_exactly_as_a_running_one_the_dates_decide(
    pack: RulePack,
) -> None:
    records = [
        listing("2026-05-01", ends_on="2027-05-01"),
        penalty("2026-03-10", fine_yuan=Decimal(2_500_000), domains=("procurement",),
                severity="serious", ends_on="2027-03-10"),
        misconduct("2026-01-10", "C-BID-FRAUD", ends_on="2027-01-10"),
        rec("commendation", "2026-01-01", code="tax-a", ends_on="2026-09-01"),
    ]  # fmt: skip
    expired = [replace(r, status="expired") for r in records]
    for day in ("2026-06-01", "2026-09-01", "2027-04-30", "2027-05-01", "2029-03-10"):
        running = compute_standing(records, pack, at(day))
        assert compute_standing(expired, pack, at(day)) == running, day
    # Before its end the expired listing still bars, citing its record; on its end day it does not.
    before_end = compute_standing(expired, pack, at("2027-04-30"))
    assert before_end.verdict("land") == "barred"
    assert [x.record_id for x in before_end.restrictions_in("land")] == [expired[0].id]
    assert compute_standing(expired[:1], pack, at("2027-05-01")).verdict("land") == "clear"


def test_counts_at() -> None:
    r = listing("2026-05-01", status="revoked", revoked_at=at("2026-08-01"))
    assert not counts_at(r, at("2026-04-30", 23))
    assert counts_at(r, at("2026-05-01", 0))
    assert counts_at(r, at("2026-07-31"))
    assert not counts_at(r, at("2026-08-01"))
    assert counts_at(replace(r, status="disputed"), at("2027-01-01"))
    assert not counts_at(replace(r, revoked_at=None), at("2026-06-01"))
    # the China date decides: 2026-04-30T17:00Z is 2026-05-01 01:00 in China
    assert counts_at(r, datetime(2026, 4, 30, 17, tzinfo=UTC))
    assert not counts_at(r, datetime(2026, 4, 30, 15, tzinfo=UTC))
    with pytest.raises(ValueError, match="time zone"):
        counts_at(r, datetime(2026, 6, 1))


def test_record_decided_after_at_does_not_count(pack: RulePack, still: RulePack) -> None:
    r = listing("2026-05-01", ends_on="2028-05-01")
    s = compute_standing([r], pack, at("2026-04-30"))
    assert verdicts(s) == dict.fromkeys(ALL_DOMAINS, "clear")
    assert (s.score, s.points, len(s.explanation)) == (100, 0, 1)
    # ... until it is decided
    assert compute_standing([r], still, at("2026-04-30")).valid_until == midnight("2026-05-01")


# --- penalties -----------------------------------------------------------------------------


def test_large_procurement_fine_bars_procurement_only(pack: RulePack, still: RulePack) -> None:
    p = penalty("2026-03-10", fine_yuan=Decimal(2_500_000), domains=("procurement",))
    p = replace(p, severity="serious")
    s = compute_standing([p], pack, at("2026-04-01"))
    assert s.verdict("procurement") == "barred"
    assert s.verdict("construction") == "clear"
    assert {d: v for d, v in verdicts(s).items() if v != "clear"} == {"procurement": "barred"}
    [x] = s.restrictions
    assert (x.measure, x.domains, x.start) == ("gp-major-bar", ("procurement",), date(2026, 3, 10))
    assert x.until == date(2029, 3, 10)  # 36 months
    assert x.reason.startswith("penalty meets trigger gp-major-violation")
    assert compute_standing([p], pack, at("2029-03-09")).verdict("procurement") == "barred"
    assert compute_standing([p], pack, at("2029-03-10")).verdict("procurement") == "clear"
    assert compute_standing([p], still, at("2026-04-01")).valid_until == midnight("2029-03-10")


def test_revoking_a_licence_triggers_the_procurement_bar(pack: RulePack) -> None:
    p = penalty("2026-03-10", categories=("吊销许可证件",), severity="serious")
    s = compute_standing([p], pack, at("2026-03-10"))
    assert s.verdict("procurement") == "barred"
    assert s.verdict("land") == "clear"


def test_small_fine_triggers_nothing(pack: RulePack, still: RulePack) -> None:
    p = penalty("2026-03-10", fine_yuan=Decimal(10_000), domains=("procurement",))
    s = compute_standing([p], pack, at("2026-04-01"))
    assert s.restrictions == ()
    assert verdicts(s) == dict.fromkeys(ALL_DOMAINS, "clear")
    assert 98 < s.score < 100  # a minor penalty still deducts (−2, decayed a little)
    assert compute_standing([p], still, at("2026-04-01")).valid_until is None


# --- misconduct points ---------------------------------------------------------------------


def test_points_caution_then_bar_then_clear(pack: RulePack, still: RulePack) -> None:
    fraud = misconduct("2026-01-10", "C-BID-FRAUD")  # 12 points: construction, procurement
    sub = misconduct("2026-03-05", "C-SUBCONTRACT")  # 8 points: construction
    records = [sub, fraud]
    walk = [
        # day, points, construction, procurement, land, valid_until (nothing decaying)
        ("2026-01-09", 0, "clear", "clear", "clear", "2026-01-10"),
        ("2026-01-10", 12, "caution", "caution", "clear", "2026-03-05"),
        ("2026-03-04", 12, "caution", "caution", "clear", "2026-03-05"),
        ("2026-03-05", 20, "barred", "barred", "clear", "2026-09-05"),
        ("2026-09-04", 20, "barred", "barred", "clear", "2026-09-05"),
        ("2026-09-05", 20, "caution", "caution", "clear", "2027-01-10"),  # bar term over
        ("2027-01-09", 20, "caution", "caution", "clear", "2027-01-10"),
        ("2027-01-10", 8, "clear", "clear", "clear", "2027-03-05"),  # fraud left the window
        ("2027-03-05", 0, "clear", "clear", "clear", None),
    ]
    for day, points, construction, procurement, land, until in walk:
        s = compute_standing(records, still, at(day))
        got = (s.points, s.verdict("construction"), s.verdict("procurement"), s.verdict("land"))
        assert got == (points, construction, procurement, land), day
        assert s.valid_until == (midnight(until) if until else None), day
        assert compute_standing(records, pack, at(day)).restrictions == s.restrictions, day

    caution = compute_standing(records, pack, at("2026-01-10")).restrictions
    assert [(x.measure, x.effect, x.record_id) for x in caution] == [
        ("points-caution", "caution", fraud.id)
    ]
    assert caution[0].domains == ("construction", "procurement")
    assert caution[0].until == date(2027, 1, 10)  # the day points drop below 10
    barred = compute_standing(records, pack, at("2026-03-05")).restrictions
    bar = next(x for x in barred if x.measure == "points-bar")
    assert (bar.record_id, bar.start, bar.until) == (sub.id, date(2026, 3, 5), date(2026, 9, 5))
    assert bar.domains == ("construction", "procurement")
    assert bar.reason.startswith("misconduct points 20 in 12 months ≥ 20")


def test_a_new_offence_above_the_bar_threshold_restarts_the_term(pack: RulePack) -> None:
    records = [
        misconduct("2026-01-10", "C-BID-FRAUD"),
        misconduct("2026-03-05", "C-SUBCONTRACT"),
        misconduct("2026-06-01", "C-WIN-ABANDON"),  # 26 points
    ]
    s = compute_standing(records, pack, at("2026-10-01"))
    assert s.points == 26
    bar = next(x for x in s.restrictions if x.measure == "points-bar")
    assert (bar.start, bar.until, bar.record_id) == (
        date(2026, 6, 1),
        date(2026, 12, 1),
        records[2].id,
    )


def test_points_count_from_the_occurrence(pack: RulePack) -> None:
    """A record decided later counts from then, its points from when it occurred."""
    late = misconduct("2026-05-01", "C-BID-BRIBERY", starts_on="2025-06-01")  # 15 points
    assert compute_standing([late], pack, at("2026-04-30")).points == 0
    s = compute_standing([late], pack, at("2026-05-01"))
    assert (s.points, s.verdict("construction")) == (15, "caution")
    assert compute_standing([late], pack, at("2026-06-01")).points == 0  # left the window


def test_first_forgivable_offence_carries_no_points(pack: RulePack, still: RulePack) -> None:
    first = misconduct("2026-02-01", "C-PM-ABSENT")  # 3 points, forgivable
    s = compute_standing([first], pack, at("2026-02-01"))
    assert s.points == 0
    [_, line] = s.explanation
    assert (line.record_id, line.amount) == (first.id, 0)
    assert "容错: first minor offence" in line.reason
    assert s.score == 100

    second = misconduct("2026-04-01", "C-PM-ABSENT")
    s = compute_standing([second, first], pack, at("2026-04-01"))
    assert s.points == 3
    amounts = {line.record_id: line.amount for line in s.explanation}
    assert amounts[first.id] == 0
    assert amounts[second.id] == -3
    # another offence before it in the window takes the 容错 away
    fraud = misconduct("2026-01-15", "C-BID-FRAUD")
    assert compute_standing([first, fraud], pack, at("2026-02-01")).points == 15
    # once the earlier offence has left the window, a forgivable one is a first offence again
    again = misconduct("2027-03-01", "C-PM-ABSENT")
    assert compute_standing([first, again], pack, at("2027-03-01")).points == 0
    # of two on the same day, one is the first
    twin = misconduct("2026-02-01", "C-PM-ABSENT")
    assert compute_standing([first, twin], pack, at("2026-02-01")).points == 3
    # a forgiven record adds no domains to a points measure
    expert = misconduct("2026-02-01", "E-LATE-ABSENT")  # forgivable, expert
    bribes = [misconduct("2026-02-02", "C-BID-BRIBERY") for _ in range(2)]
    s = compute_standing([expert, *bribes], still, at("2026-02-02"))
    assert s.points == 30
    assert s.verdict("construction") == "barred"
    assert s.verdict("expert") == "clear"


# --- score ---------------------------------------------------------------------------------


def test_score_explanation_adds_up(pack: RulePack) -> None:
    day = "2026-06-01"
    serious = penalty(day, severity="serious")
    s = compute_standing([serious], pack, at(day))
    assert (s.score, s.level) == (80, "B")
    assert [(x.kind, x.amount) for x in s.explanation] == [("base", 100), ("penalty", -20)]
    assert s.explanation[1].reason == "serious penalty (−20) × decay 1.00"
    assert exact_sum(s)

    # many serious penalties: clamped at the minimum, the clamp line carries the difference
    many = [penalty(day, severity="serious") for _ in range(6)]
    s = compute_standing(many, pack, at(day))
    assert (s.score, s.level) == (0, "D")
    assert s.explanation[-1].kind == "clamp"
    assert s.explanation[-1].amount == 20
    assert exact_sum(s)

    # a commendation's bonus
    general = penalty(day, severity="general")
    red = rec("commendation", "2026-01-01", code="red-list")
    s = compute_standing([general, red], pack, at(day))
    assert s.score == 97
    bonus = next(x for x in s.explanation if x.kind == "commendation")
    assert (bonus.record_id, bonus.amount) == (red.id, 5)
    assert exact_sum(s)
    # alone, it is clamped at the maximum
    s = compute_standing([red], pack, at(day))
    assert s.score == 100
    assert [x.kind for x in s.explanation] == ["base", "commendation", "clamp"]
    assert exact_sum(s)

    # decayed fractions of several kinds
    mix = [
        penalty("2024-02-29", severity="serious"),
        penalty("2025-01-17", severity="general"),
        listing("2024-11-03", ends_on="2025-11-03"),
        misconduct("2025-09-13", "C-BID-COLLUSION"),
        misconduct("2026-01-07", "P-FALSE-COMPLAINT"),
        rec("commendation", "2025-12-01", code="tax-a"),
    ]
    s = compute_standing(mix, pack, at("2026-05-19"))
    assert len(s.explanation) == 7
    assert any(round(x.amount) != x.amount for x in s.explanation)
    assert exact_sum(s)
    assert s.level == pack.score.level_for(s.score)


def test_score_adds_up_for_random_mixes(pack: RulePack) -> None:
    rnd = random.Random(20260401)
    kinds = ["penalty", "blacklist", "misconduct", "commendation"]
    codes = {
        "blacklist": list(pack.lists),
        "misconduct": list(pack.misconduct),
        "commendation": list(pack.commendations),
    }
    for _ in range(300):
        records = []
        for _ in range(rnd.randint(0, 12)):
            kind = rnd.choice(kinds)
            decided = date(2022, 1, 1) + timedelta(days=rnd.randint(0, 1800))
            kw: dict[str, Any] = {"code": rnd.choice(codes[kind])} if kind in codes else {}
            if kind == "penalty":
                kw["severity"] = rnd.choice(["minor", "general", "serious"])
            records.append(rec(kind, decided.isoformat(), **kw))
        when = at((date(2023, 1, 1) + timedelta(days=rnd.randint(0, 1500))).isoformat())
        s = compute_standing(records, pack, when)
        assert exact_sum(s), s.explanation
        assert pack.score.minimum <= s.score <= pack.score.maximum
        assert s.level == pack.score.level_for(s.score)


def test_decay_reduces_a_deduction_over_time(pack: RulePack) -> None:
    p = penalty("2026-01-01", severity="serious")
    amounts = []
    for day in ("2026-01-01", "2026-07-01", "2027-07-02", "2028-10-01", "2028-12-31"):
        [_, line] = compute_standing([p], pack, at(day)).explanation
        factor = pack.score.decay_factor(date(2026, 1, 1), date.fromisoformat(day))
        assert line.amount == -round(20 * factor, 2)
        amounts.append(line.amount)
    assert amounts == sorted(amounts)  # less and less negative
    assert amounts[0] == -20
    assert -10.5 < amounts[2] < -9.5  # about half way
    gone = compute_standing([p], pack, at("2029-01-01"))
    assert (gone.score, [x.kind for x in gone.explanation]) == (100, ["base"])


# --- valid_until ---------------------------------------------------------------------------


def test_valid_until_is_the_next_midnight_while_a_deduction_decays(pack: RulePack) -> None:
    p = penalty("2026-01-01", severity="general")
    s = compute_standing([p], pack, at("2026-06-01"))
    assert s.valid_until == midnight("2026-06-02")
    # 20:00 UTC is already the next day in China
    s = compute_standing([p], pack, datetime(2026, 6, 1, 20, tzinfo=UTC))
    assert s.valid_until == midnight("2026-06-03")
    assert s.valid_until is not None
    assert s.valid_until.utcoffset() == timedelta(hours=8)
    # fully decayed: nothing left to change
    assert compute_standing([p], pack, at("2029-01-02")).valid_until is None
    assert compute_standing([], pack, at("2026-06-01")).valid_until is None


def test_commendation_runs_until_its_expiry(pack: RulePack) -> None:
    tax = rec("commendation", "2026-01-01", code="tax-a")  # 12 months by default
    general = penalty("2020-01-01", severity="general")  # long decayed
    s = compute_standing([tax, general], pack, at("2026-06-01"))
    assert s.valid_until == midnight("2027-01-01")
    assert s.score == 100  # +3 clamped
    dated = replace(tax, ends_on=date(2026, 9, 1))
    assert compute_standing([dated], pack, at("2026-06-01")).valid_until == midnight("2026-09-01")
    after = compute_standing([dated], pack, at("2026-09-01"))
    assert [x.kind for x in after.explanation] == ["base"]
    assert after.valid_until is None


# --- storage -------------------------------------------------------------------------------


def _round_trip(s: Standing) -> None:
    data = s.to_dict()
    text = json.dumps(data, ensure_ascii=False)
    assert Standing.from_dict(json.loads(text)) == s
    assert Standing.from_dict(data).to_dict() == data


def test_to_dict_from_dict_round_trip(pack: RulePack) -> None:
    records: Sequence[RecordFacts] = [
        listing("2026-05-01", ends_on="2028-05-01"),
        listing("2026-05-01", code="expert-disqualified"),
        penalty("2026-03-10", fine_yuan=Decimal("2500000.00"), severity="serious"),
        misconduct("2026-01-10", "C-BID-FRAUD"),
        misconduct("2026-03-05", "C-SUBCONTRACT"),
        misconduct("2026-02-01", "C-PM-ABSENT"),
        rec("commendation", "2026-01-01", code="red-list"),
    ]
    s = compute_standing(records, pack, at("2026-06-01"))
    assert len(s.restrictions) >= 4
    assert any(x.until is None for x in s.restrictions)
    _round_trip(s)
    data = s.to_dict()
    assert data["at"] == "2026-06-01T10:00:00+08:00"
    assert data["valid_until"] == "2026-06-02T00:00:00+08:00"
    assert data["restrictions"][0]["from"] == "2026-01-10"
    _round_trip(compute_standing([], pack, datetime(2026, 6, 1, tzinfo=UTC)))
