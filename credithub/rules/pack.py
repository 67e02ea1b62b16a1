"""Rule packs: the numbers behind severity, publication, lists, measures, points and scores.

A pack is a TOML file (`default.toml` next to this module is the shipped one); the code here
holds only the mechanisms that read it. `pack_entries.py` holds what a pack is made of (its
entries, each a dataclass), `pack_load.py` reads and validates the file. No Flask, no database:
every answer is a pure function of the pack and its arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from credithub.rules.pack_entries import (
    Commendation,
    Domain,
    DomainDefault,
    Limits,
    ListRule,
    Measure,
    MisconductCode,
    Period,
    PointsRules,
    Regime,
    ScoreRules,
    Sector,
    SeverityRules,
    Trigger,
    Workflows,
    add_months,
)

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
