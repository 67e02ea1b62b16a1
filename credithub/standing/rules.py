"""What the standing computation needs of a rule pack, looked up once per pack object."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from credithub.rules.pack import RulePack
from credithub.rules.pack_entries import Measure

if TYPE_CHECKING:
    from credithub.standing.values import RecordFacts


@dataclass(frozen=True)
class _Trigger:
    code: str
    title: str
    categories: frozenset[str]
    min_fine: Decimal | None
    domains: frozenset[str] | None  # None: penalties in any domain
    measures: tuple[Measure, ...]


_Hits = tuple[tuple[_Trigger, bool], ...]


class Rules:
    """What compute_standing needs of a pack, looked up once per pack."""

    def __init__(self, pack: RulePack) -> None:
        self.pack = pack
        self.domain_order = {d: i for i, d in enumerate(pack.domains)}
        self.lists = {
            code: (rule, tuple(pack.list_measures(code)), rule.default_months)
            for code, rule in pack.lists.items()
        }
        self.triggers = tuple(
            _Trigger(
                t.code,
                t.title,
                frozenset(t.categories),
                t.min_fine_yuan,
                None if t.penalty_domains is None else frozenset(t.penalty_domains),
                tuple(pack.measures[m] for m in t.measures),
            )
            for t in pack.triggers
        )
        self.penalty_domains = tuple(pack.default_domains("penalty"))
        self.codes = {c: (m.points, m.forgivable) for c, m in pack.misconduct.items()}
        self.window = pack.points.window_months
        measures = [pack.measures[t.measure] for t in pack.points.thresholds]
        self.threshold_measures = {
            t.min_points: m for t, m in zip(pack.points.thresholds, measures, strict=True)
        }
        self.thresholds = tuple(
            (t.min_points, m.runs, m.months)
            for t, m in zip(pack.points.thresholds, measures, strict=True)
        )
        self.score = pack.score
        self._defaults: dict[tuple[str, str | None], tuple[str, ...]] = {}
        self._triggers: dict[tuple[tuple[str, ...], tuple[str, ...]], _Hits] = {}

    def triggers_in(self, domains: tuple[str, ...], categories: tuple[str, ...]) -> _Hits:
        """The triggers a penalty in `domains` (none: the penalty defaults) may meet, each
        with whether one of `categories` meets it (the fine is the caller's to compare);
        looked up once per combination, which a batch's penalties share."""
        key = (domains, categories)
        hits = self._triggers.get(key)
        if hits is None:
            named, listed = frozenset(domains or self.penalty_domains), frozenset(categories)
            hits = tuple(
                (t, bool(t.categories & listed))
                for t in self.triggers
                if t.domains is None or t.domains & named
            )
            if len(self._triggers) >= 4096:
                self._triggers.clear()
            self._triggers[key] = hits
        return hits

    def domains_of(self, record: RecordFacts) -> tuple[str, ...]:
        """The record's domains, or its kind's default domains when it names none."""
        if record.domains:
            return record.domains
        key = (record.kind, record.code)
        if key not in self._defaults:
            try:
                self._defaults[key] = tuple(self.pack.default_domains(record.kind, record.code))
            except ValueError:
                self._defaults[key] = ()
        return self._defaults[key]

    def ordered(self, domains: set[str] | tuple[str, ...]) -> tuple[str, ...]:
        """Domains in the pack's order (unknown ones last, by name)."""
        last = len(self.domain_order)
        return tuple(sorted(set(domains), key=lambda d: (self.domain_order.get(d, last), d)))

    def severity_of(self, record: RecordFacts) -> str:
        if record.severity:
            return record.severity
        try:
            return self.pack.classify_penalty(record.categories, record.fine_yuan)
        except ValueError:
            return "general"


_PREPARED: dict[int, Rules] = {}


def rules_for(pack: RulePack) -> Rules:
    rules = _PREPARED.get(id(pack))
    if rules is None or rules.pack is not pack:
        if len(_PREPARED) >= 8:
            _PREPARED.clear()
        rules = _PREPARED[id(pack)] = Rules(pack)
    return rules
