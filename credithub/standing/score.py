"""The integrity score: base, one signed line per contributing record, clamp, level.

Amounts are kept in whole cents so that the explanation adds up exactly to the score: each
line is rounded to cents on its own, the score is their sum, and a clamp line carries whatever
clamping removed. `sum(Decimal(str(line.amount)))` equals `Decimal(str(score))`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from credithub.rules.pack_entries import ScoreRules


@dataclass(frozen=True)
class ScoreLine:
    record_id: str | None
    kind: str  # base | penalty | misconduct | blacklist | commendation | clamp
    ref: str
    amount: float  # signed contribution, 2 decimals
    reason: str


def cents(value: float) -> int:
    """`value` in whole cents."""
    return round(value * 100)


def num(value: float) -> str:
    """A weight as the pack writes it: 20, not 20.0."""
    return f"{value:g}"


def explain(rules: ScoreRules, lines: Iterable[ScoreLine]) -> tuple[float, str, list[ScoreLine]]:
    """(score, level, explanation) from the record lines, in the order given."""
    base = cents(rules.base)
    explanation = [ScoreLine(None, "base", "", base / 100, "base score")]
    explanation += lines
    total = sum(cents(line.amount) for line in explanation)
    clamped = max(cents(rules.minimum), min(cents(rules.maximum), total))
    if clamped != total:
        reason = f"clamped to [{num(rules.minimum)}, {num(rules.maximum)}]"
        explanation.append(ScoreLine(None, "clamp", "", (clamped - total) / 100, reason))
    score = clamped / 100
    return score, rules.level_for(score), explanation
