"""Rule packs: the numbers behind severity, publication, lists, measures, points and scores.

A pack is a TOML file (`default.toml` next to this module is the shipped one); the code here
holds only the mechanisms that read it. `pack_load.py` reads and validates the file. No Flask,
no database: every answer is a pure function of the pack and its arguments.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

SEVERITIES = ("minor", "general", "serious")  # least severe first: the index is the rank
SUBJECT_TYPES = ("organization", "individual_business", "person")
RECORD_KINDS = ("penalty", "misconduct", "blacklist", "commendation")
RELATIONS = ("legal_rep",)  # related persons a listing can reach
EFFECTS = ("bar", "caution")
RUNS = ("while_listed", "months", "while_points_above")
# Objection steps with a deadline: accept a public filing (the record disputed), forward it to
# the deciding department, the department decides, remove after a revocation or a repair.
WORKFLOW_STEPS = ("accept", "forward", "decide", "remove")


class RulePackError(Exception):
    """The rule pack cannot be used; the message names the file and the entry."""


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
    deadlines: dict[str, int]  # step (WORKFLOW_STEPS) -> working days
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


@dataclass(frozen=True)
class RulePack:
    id: str
    version: str
    title: str
    effective: date | None
    notes: str
    domains: dict[str, Domain]
    sectors: dict[str, Sector]
    categories: dict[str, str]  # 处罚类别 -> severity class
    severity: SeverityRules
    regimes: tuple[Regime, ...]  # in date order, no gap, no overlap
    measures: dict[str, Measure]
    lists: dict[str, ListRule]
    triggers: list[Trigger]
    misconduct: dict[str, MisconductCode]
    points: PointsRules
    commendations: dict[str, Commendation]
    score: ScoreRules
    limits: Limits
    defaults: dict[str, DomainDefault]  # record kind -> domains when a record names none
    workflows: Workflows
    digest: str  # sha256 of the canonical content: a change means rescoring
    source: str = ""  # the file it came from

    def normalize_categories(self, categories: Sequence[str]) -> list[str]:
        """2021 categories for `categories` (older wording mapped); ValueError names an unknown."""
        out: list[str] = []
        for raw in categories:
            name = raw.strip()
            if name in self.categories:
                found: tuple[str, ...] = (name,)
            elif name in self.severity.aliases:
                found = self.severity.aliases[name]
            else:
                raise ValueError(f"unknown 处罚类别 {raw!r}")
            out.extend(c for c in found if c not in out)
        return out

    def classify_penalty(self, categories: Sequence[str], fine_yuan: Decimal | None) -> str:
        """The severity class of a penalty: the most severe of its categories and its fine."""
        names = self.normalize_categories(categories)
        if not names and fine_yuan is None:
            raise ValueError("a penalty needs at least one 处罚类别")
        ranks = [SEVERITIES.index(self.categories[c]) for c in names]
        if fine_yuan is not None:
            if fine_yuan < 0:
                raise ValueError(f"a fine cannot be negative ({fine_yuan})")
            fines = self.severity.fines
            ranks.append(0)
            if fines.general_min_yuan is not None and fine_yuan >= fines.general_min_yuan:
                ranks.append(1)
            if fines.serious_min_yuan is not None and fine_yuan >= fines.serious_min_yuan:
                ranks.append(2)
        return SEVERITIES[max(ranks)]

    def regime_for(self, decided_on: date) -> Regime:
        """The publication regime that governs a decision taken on `decided_on`."""
        # Validation guarantees exactly one regime covers every date.
        return next(r for r in self.regimes if r.covers(decided_on))

    def publication(self, decided_on: date, severity: str, sector: str | None = None) -> Period:
        """The publication period of a record decided on `decided_on`."""
        if severity not in SEVERITIES:
            raise ValueError(f"unknown severity class {severity!r}")
        if sector is not None and sector not in self.sectors:
            raise ValueError(f"unknown sector {sector!r}")
        regime = self.regime_for(decided_on)
        rule = regime.classes[severity]
        if sector is not None and sector in regime.sectors:
            rule = regime.sectors[sector].classes[severity]
        return Period(
            regime_id=regime.id,
            regime_title=regime.title,
            published=rule.published,
            min_until=add_months(decided_on, rule.min_months),
            max_until=None if rule.max_months is None else add_months(decided_on, rule.max_months),
        )

    def default_domains(self, kind: str, code: str | None = None) -> list[str]:
        """Domains of a record of `kind` (and misconduct or list `code`) that names none."""
        if kind not in self.defaults:
            raise ValueError(f"unknown record kind {kind!r}")
        default = self.defaults[kind]
        if default.rule != "by_code":
            return list(default.domains)
        if kind == "misconduct":
            if code not in self.misconduct:
                raise ValueError(f"unknown misconduct code {code!r}")
            wanted = set(self.misconduct[code].domains)
        else:
            if code not in self.lists:
                raise ValueError(f"unknown list {code!r}")
            wanted = {d for m in self.list_measures(code) for d in m.domains}
        return [d for d in self.domains if d in wanted]

    def list_measures(self, code: str) -> list[Measure]:
        """The measures a listing on list `code` triggers."""
        return [self.measures[m] for m in self.lists[code].measures]

    def triggers_for(
        self, categories: Sequence[str], fine_yuan: Decimal | None, domains: Sequence[str] = ()
    ) -> list[Trigger]:
        """Triggers a penalty starts; no `domains` means the penalty's default domains."""
        names = self.normalize_categories(categories)
        scope = list(domains) or self.default_domains("penalty")
        return [t for t in self.triggers if t.matches(names, fine_yuan, scope)]

    def to_public(self) -> dict[str, Any]:
        """The whole pack as JSON-able data, as GET /api/v1/rules publishes it."""
        # A regime's dates keep the pack's own words: from / until.
        regimes = [
            {k: v for k, v in asdict(r).items() if k not in ("starts", "ends")}
            | {"from": r.starts, "until": r.ends}
            for r in self.regimes
        ]
        meta = ("id", "version", "title", "effective", "notes", "digest")
        view = {
            "pack": {k: getattr(self, k) for k in meta},
            "domains": [asdict(d) for d in self.domains.values()],
            "sectors": [asdict(s) for s in self.sectors.values()],
            "severity": asdict(self.severity)
            | {
                "classes": SEVERITIES,
                "rule": "the most severe category wins; a fine at or above a threshold raises it",
                "categories": self.categories,
            },
            "publication": regimes,
            "measures": [asdict(m) for m in self.measures.values()],
            "lists": [asdict(x) for x in self.lists.values()],
            "triggers": [asdict(t) for t in self.triggers],
            "misconduct": [asdict(m) for m in self.misconduct.values()],
            "points": asdict(self.points),
            "commendations": [asdict(c) for c in self.commendations.values()],
            "score": asdict(self.score),
            "limits": asdict(self.limits),
            "default_domains": {k: asdict(d) for k, d in self.defaults.items()},
            "workflows": asdict(self.workflows),
        }
        plain: dict[str, Any] = _plain(view)
        return plain


def _plain(value: Any) -> Any:
    """JSON-able data: tuples as lists, dates as ISO text, yuan as numbers."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def load_pack(name_or_path: str) -> RulePack:
    """Load and validate a pack: "default" (or another shipped name) or a path to a TOML file."""
    # Imported here: the loader builds the classes above, so it imports this module.
    from credithub.rules.pack_load import read_pack

    return read_pack(name_or_path)
