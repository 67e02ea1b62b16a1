"""What a rule pack is made of: one frozen dataclass per kind of entry (domains, measures, lists,
triggers, misconduct codes, publication regimes, points, score, limits, workflows…), each
answering what needs that entry alone, and the calendar months their terms are counted in
(`add_months`). The pack and the questions that read across its entries are `rules.pack`;
`pack_load.py` builds both from the TOML file. Pure data: no Flask, no database.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@functools.lru_cache(maxsize=8192)  # pure; a batch asks for the same few dates again and again
def add_months(d: date, months: int) -> date:
    """`d` plus `months` calendar months, clamped to the target month's last day."""
    index = d.year * 12 + d.month - 1 + months
    year, month0 = divmod(index, 12)
    day = min(d.day, calendar.monthrange(year, month0 + 1)[1])
    return date(year, month0 + 1, day)


@dataclass(frozen=True, kw_only=True)
class _Marked:
    check: bool = False  # the value comes from secondary sources: verify before go-live
    note: str = ""


@dataclass(frozen=True)
class Domain:
    code: str
    title: str


@dataclass(frozen=True)
class Sector:
    code: str
    title: str


@dataclass(frozen=True)
class Measure(_Marked):
    code: str
    title: str
    effect: str  # bar | caution
    scope: str  # all | listed | records (the domains of the records behind the measure)
    domains: tuple[str, ...]  # every domain for "all", none for "records"
    runs: str  # while_listed | months | while_points_above
    months: int | None  # the term when runs == "months"
    basis: str

    def applies_in(self, domain: str, record_domains: Sequence[str] = ()) -> bool:
        """Whether the measure reaches `domain`; scope "records" takes the records' domains."""
        if self.scope == "records":
            return domain in record_domains
        return domain in self.domains


@dataclass(frozen=True)
class ListRule(_Marked):
    code: str
    title: str
    basis: str
    subjects: tuple[str, ...]
    measures: tuple[str, ...]
    severity: str
    default_months: int | None  # None: the listing runs until it is removed
    min_months: int | None
    max_months: int | None
    reaches: tuple[str, ...]  # related persons the measures also apply to

    def default_expiry(self, listed_on: date) -> date | None:
        """When a listing without its own expiry ends (None: until removed)."""
        if self.default_months is None:
            return None
        return add_months(listed_on, self.default_months)


@dataclass(frozen=True)
class Trigger(_Marked):
    code: str
    title: str
    basis: str
    categories: tuple[str, ...]
    min_fine_yuan: Decimal | None
    penalty_domains: tuple[str, ...] | None  # None: penalties in any domain
    measures: tuple[str, ...]

    def matches(
        self, categories: Sequence[str], fine_yuan: Decimal | None, domains: Sequence[str]
    ) -> bool:
        """Whether a penalty (normalised categories, fine, domains) starts this trigger."""
        if self.penalty_domains is not None and not set(self.penalty_domains) & set(domains):
            return False
        if set(self.categories) & set(categories):
            return True
        return (
            self.min_fine_yuan is not None
            and fine_yuan is not None
            and fine_yuan >= self.min_fine_yuan
        )


@dataclass(frozen=True)
class MisconductCode(_Marked):
    code: str
    title: str
    points: int
    domains: tuple[str, ...]
    basis: str
    forgivable: bool = False  # 容错 / 首违不罚: a first minor offence may carry no points


@dataclass(frozen=True)
class Commendation(_Marked):
    code: str
    title: str
    basis: str
    bonus: float
    default_months: int | None


@dataclass(frozen=True)
class ClassPeriod:
    published: bool
    min_months: int
    max_months: int | None  # None: no maximum


@dataclass(frozen=True)
class SectorPeriods(_Marked):
    sector: str
    classes: dict[str, ClassPeriod]  # the regime's periods with the sector's overrides merged


@dataclass(frozen=True)
class Regime(_Marked):
    id: str
    title: str
    starts: date | None  # None: every earlier decision
    ends: date | None  # None: every later decision
    classes: dict[str, ClassPeriod]
    sectors: dict[str, SectorPeriods]

    def covers(self, d: date) -> bool:
        """Whether a decision on `d` falls under this regime."""
        return (self.starts is None or self.starts <= d) and (self.ends is None or d <= self.ends)


@dataclass(frozen=True)
class Period:
    regime_id: str
    regime_title: str
    published: bool
    min_until: date
    max_until: date | None


@dataclass(frozen=True)
class FineThresholds(_Marked):
    general_min_yuan: Decimal | None
    serious_min_yuan: Decimal | None


@dataclass(frozen=True)
class SeverityRules(_Marked):
    basis: str
    aliases: dict[str, tuple[str, ...]]  # older wording -> 2021 categories
    fines: FineThresholds


@dataclass(frozen=True)
class PointsThreshold:
    min_points: int
    measure: str


@dataclass(frozen=True)
class PointsRules(_Marked):
    window_months: int
    thresholds: tuple[PointsThreshold, ...]  # increasing min_points

    def reached(self, points: int) -> list[PointsThreshold]:
        """The thresholds that `points` reaches, lowest first."""
        return [t for t in self.thresholds if points >= t.min_points]


@dataclass(frozen=True)
class Level:
    level: str
    min_score: float
    title: str


@dataclass(frozen=True)
class ScoreRules(_Marked):
    base: float
    minimum: float
    maximum: float
    decay: str  # linear
    decay_months: int
    penalty: dict[str, float]  # severity class -> deduction
    blacklist: float
    misconduct_per_point: float
    levels: tuple[Level, ...]  # descending min_score; the last starts at `minimum`

    def clamp(self, value: float) -> float:
        """The value within [minimum, maximum]."""
        return max(self.minimum, min(self.maximum, value))

    def level_for(self, value: float) -> str:
        """The level of a (clamped) score."""
        value = self.clamp(value)
        return next(lv.level for lv in self.levels if value >= lv.min_score)

    def decay_factor(self, decided_on: date, at: date) -> float:
        """Share of a deduction still counted at `at`: 1 on the decision date, 0 from the end."""
        end = add_months(decided_on, self.decay_months)
        if at <= decided_on:
            return 1.0
        if at >= end:
            return 0.0
        return (end - at).days / (end - decided_on).days


@dataclass(frozen=True)
class Workflows(_Marked):
    """Objections and credit repair: deadlines in working days, minimum periods before repair."""

    title: str
    basis: str
    deadlines: dict[str, int]  # step (pack.WORKFLOW_STEPS) -> working days
    repair_minor_at_once: bool  # a minor record: repairable once the obligation is performed
    repair_list_months: dict[str, int]  # list code -> months from listing before repair
    repair_other_list_months: int  # a list not named above
    repair_misconduct_months: int  # a misconduct record, from its decision date


@dataclass(frozen=True)
class Limits(_Marked):
    """失信信息查询期限: how long after the act a record counts and shows."""

    query_years: int
    basis: str

    def query_ends(self, act: date) -> date:
        """The first day a record whose act was on `act` no longer counts or shows by itself."""
        return add_months(act, 12 * self.query_years)


@dataclass(frozen=True)
class DomainDefault:
    kind: str
    rule: str  # all | by_code | listed
    domains: tuple[str, ...]  # for "listed"; every domain for "all"
