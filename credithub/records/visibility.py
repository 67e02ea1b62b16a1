"""Who sees which record (api.md "Visibility", domain.md §4–§5): the one rule every read follows.

Three audiences:
- **the public** (no token): a record inside its publication window, not repaired or revoked,
  within the query limit; never a record its regime does not publish (a 令36 minor penalty);
- **consumers** (a client reading another's records: consumer, or a department reading a
  record it did not decide): a record that counts, i.e. not repaired or revoked and within the
  query limit, or past it while a measure it carries still restricts its subject; publication
  does not matter (a restriction that outlives publication still shows);
- **the office** (the joint office, i.e. admin, and the deciding department for its own
  records): everything, with history.

Each rule exists twice, as a predicate on one record (`public_sees`, `consumer_sees`) and as
a SQL condition for lists and searches (`public_clause`, `consumer_clause`); the table test
(tests/records/test_visibility.py) holds the two to the same answers.

Publication windows are half-open, like every interval of the hub: a penalty is public from
its decision date until the day before `publish_until` (the hub computes `publish_until` at
write time from the regime and severity, as the first day it is no longer published); a
listing while it runs (`starts_on` … `ends_on`); a commendation while it runs; a misconduct
record while its points count (the pack's points window from the act, or its own `ends_on`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, case, false, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement

from credithub.records.models import Record
from credithub.rules.pack import RulePack
from credithub.rules.pack_entries import add_months

PUBLIC, CONSUMER, OFFICE = "public", "consumer", "office"
GONE = ("revoked", "repaired")

Row = Mapping[str, Any]  # a record's columns by name (records.read.record_row)


@dataclass(frozen=True)
class Audience:
    """Who reads: `kind` is public, consumer or office; a department (`department`: its USCC)
    reads its own records as the office and every other record as a consumer."""

    kind: str
    department: str | None = None

    @classmethod
    def of(cls, client_kind: str | None, uscc: str | None = None) -> Audience:
        """The audience of a client of this kind (None: no token, the public)."""
        if client_kind is None:
            return cls(PUBLIC)
        if client_kind == "admin":
            return cls(OFFICE)
        if client_kind == "department":
            return cls(CONSUMER, department=uscc)
        return cls(CONSUMER)

    def for_record(self, row: Row) -> str:
        """The audience this reader is for one record."""
        if self.department is not None and row["authority_uscc"] == self.department:
            return OFFICE
        return self.kind


# --- the query limit ------------------------------------------------------------------------


def act_on(row: Row) -> date:
    """The date of the act the query limit runs from: the decision date; for misconduct the
    date it occurred (`starts_on`, which is the decision date when none was given)."""
    day: date = row["starts_on"] if row["kind"] == "misconduct" else row["decided_on"]
    return day


def limited(row: Row) -> bool:
    """Whether the query limit applies to the record (失信 information: not commendations)."""
    return bool(row["kind"] != "commendation")


def within_limit(row: Row, pack: RulePack, day: date) -> bool:
    return not limited(row) or day < pack.limits.query_ends(act_on(row))


def earliest_start(months: int, day: date) -> date:
    """The earliest start whose term of `months` still runs on `day` (`add_months` clamps
    month ends, so it is found by stepping from the calendar's answer)."""
    cut = add_months(day, -months)
    while add_months(cut, months) <= day:
        cut += timedelta(days=1)
    while add_months(cut - timedelta(days=1), months) > day:
        cut -= timedelta(days=1)
    return cut


def query_cutoff(pack: RulePack, day: date) -> date:
    """The earliest act date still within the query limit on `day`."""
    return earliest_start(12 * pack.limits.query_years, day)


# --- the public -----------------------------------------------------------------------------


def published(row: Row, pack: RulePack) -> bool:
    """Whether the record's regime publishes it at all (a 令36 minor penalty: never)."""
    if row["kind"] != "penalty":
        return True
    if row["severity"] is None or row["publish_until"] is None:
        return False
    sector = (row.get("content") or {}).get("sector")
    try:
        return pack.publication(row["decided_on"], row["severity"], sector).published
    except ValueError:  # a peer's class or sector this pack does not know
        return True


def public_window(row: Row, pack: RulePack) -> tuple[date, date | None] | None:
    """The days the record is public: [from, until) (until None: open-ended); None: never."""
    if not published(row, pack):
        return None
    kind = row["kind"]
    if kind == "penalty":
        return row["decided_on"], row["publish_until"]
    if kind == "misconduct" and row["ends_on"] is None:
        return row["starts_on"], add_months(row["starts_on"], pack.points.window_months)
    return row["starts_on"], row["ends_on"]


def public_sees(row: Row, pack: RulePack, day: date) -> bool:
    """Whether the public sees the record on `day`."""
    if row["status"] in GONE or not within_limit(row, pack, day):
        return False
    window = public_window(row, pack)
    if window is None:
        return False
    start, until = window
    return start <= day and (until is None or day < until)


# --- consumers ------------------------------------------------------------------------------


def consumer_sees(row: Row, pack: RulePack, day: date, restricting: Collection[str]) -> bool:
    """Whether a consumer sees the record on `day`; `restricting`: the ids of the records
    behind the subject's restrictions then (a record past the limit shows while one runs)."""
    if row["status"] in GONE or row["decided_on"] > day:
        return False
    return within_limit(row, pack, day) or row["id"] in restricting


def sees(
    audience: Audience, row: Row, pack: RulePack, day: date, restricting: Collection[str]
) -> bool:
    """Whether this reader sees the record on `day`."""
    kind = audience.for_record(row)
    if kind == OFFICE:
        return True
    if kind == PUBLIC:
        return public_sees(row, pack, day)
    return consumer_sees(row, pack, day, restricting)


# --- the same rules in SQL ------------------------------------------------------------------


def _act_column() -> ColumnElement[Any]:
    return case((Record.kind == "misconduct", Record.starts_on), else_=Record.decided_on)


def _within_limit_clause(pack: RulePack, day: date) -> ColumnElement[bool]:
    return or_(Record.kind == "commendation", _act_column() >= query_cutoff(pack, day))


def _unpublished_clause(pack: RulePack) -> ColumnElement[bool]:
    """Penalties whose regime (and sector) does not publish them."""
    sector = Record.content["sector"].as_string()
    hidden: list[ColumnElement[bool]] = []
    for regime in pack.regimes:
        decided = and_(
            true() if regime.starts is None else Record.decided_on >= regime.starts,
            true() if regime.ends is None else Record.decided_on <= regime.ends,
        )
        overridden = list(regime.sectors)
        for severity, period in regime.classes.items():
            if not period.published:
                plain = (
                    sector.is_(None)
                    if not overridden
                    else or_(sector.is_(None), sector.not_in(overridden))
                )
                hidden.append(and_(decided, Record.severity == severity, plain))
        for name, periods in regime.sectors.items():
            for severity, period in periods.classes.items():
                if not period.published:
                    hidden.append(and_(decided, Record.severity == severity, sector == name))
    return or_(false(), *hidden)


def public_clause(pack: RulePack, day: date) -> ColumnElement[bool]:
    """`public_sees` as a condition on `records`."""
    counting_since = earliest_start(pack.points.window_months, day)
    running = and_(
        Record.starts_on <= day,
        or_(Record.ends_on.is_(None), Record.ends_on > day),
    )
    penalty = and_(
        Record.kind == "penalty",
        Record.severity.is_not(None),
        Record.publish_until.is_not(None),
        Record.decided_on <= day,
        Record.publish_until > day,
        not_(_unpublished_clause(pack)),
    )
    misconduct = and_(
        Record.kind == "misconduct",
        Record.starts_on <= day,
        or_(
            and_(Record.ends_on.is_(None), Record.starts_on >= counting_since),
            Record.ends_on > day,
        ),
    )
    others = and_(Record.kind.in_(("blacklist", "commendation")), running)
    return and_(
        Record.status.not_in(GONE),
        _within_limit_clause(pack, day),
        or_(penalty, misconduct, others),
    )


def consumer_clause(pack: RulePack, day: date, restricting: Collection[str]) -> ColumnElement[bool]:
    """`consumer_sees` as a condition on `records`."""
    counts = _within_limit_clause(pack, day)
    if restricting:
        counts = or_(counts, Record.id.in_(sorted(restricting)))
    return and_(Record.status.not_in(GONE), Record.decided_on <= day, counts)


def past_limit_clause(pack: RulePack, day: date) -> ColumnElement[bool]:
    """Records past the query limit that are not gone: those whose subjects' restrictions
    decide whether a consumer still sees them."""
    return and_(Record.status.not_in(GONE), not_(_within_limit_clause(pack, day)))
