"""What a standing is made of: the facts of a record the computation reads, a restriction, the
standing itself (with its JSON form, as stored), and the China dates they are reckoned in. The
computation is `standing.compute`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from credithub import clock
from credithub.standing.score import ScoreLine

CHINA = clock.CHINA
GONE = frozenset({"revoked", "repaired"})


@dataclass(slots=True)
class RecordFacts:
    """What the computation needs of one stored record; not to be changed once made. (Not
    frozen: a batch's standings make tens of thousands, and a frozen dataclass took three
    times as long to make.)"""

    id: str
    kind: str  # penalty | misconduct | blacklist | commendation
    ref: str
    authority_uscc: str
    authority_name: str
    decided_on: date
    starts_on: date
    ends_on: date | None
    code: str | None
    categories: tuple[str, ...]
    fine_yuan: Decimal | None
    domains: tuple[str, ...]
    severity: str | None
    status: str  # active | disputed | expired | revoked | repaired
    revoked_at: datetime | None
    basis: str = ""
    legal_rep_id: str | None = None  # the person the record names as legal representative
    # Set on an organization's listing read for the person it names as legal representative:
    # the organization's (name, uscc). Such a record restricts the person only (457号).
    via: tuple[str, str] | None = None

    @property
    def act_on(self) -> date:
        """The date of the act the query limit runs from."""
        return self.starts_on if self.kind == "misconduct" else self.decided_on


@dataclass(frozen=True)
class Restriction:
    measure: str
    title: str
    effect: str  # bar | caution
    domains: tuple[str, ...]
    start: date
    until: date | None  # exclusive; None: open-ended
    basis: str
    record_id: str | None
    authority: str
    reason: str
    disputed: bool = False  # its record is disputed (an objection is open): it still counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "title": self.title,
            "effect": self.effect,
            "domains": list(self.domains),
            "from": self.start.isoformat(),
            "until": None if self.until is None else self.until.isoformat(),
            "basis": self.basis,
            "record_id": self.record_id,
            "authority": self.authority,
            "reason": self.reason,
            "disputed": self.disputed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Restriction:
        until = data["until"]
        return cls(
            measure=data["measure"],
            title=data["title"],
            effect=data["effect"],
            domains=tuple(data["domains"]),
            start=date.fromisoformat(data["from"]),
            until=None if until is None else date.fromisoformat(until),
            basis=data["basis"],
            record_id=data["record_id"],
            authority=data["authority"],
            reason=data["reason"],
            disputed=data.get("disputed", False),
        )


def verdict_of(effects: set[str]) -> str:
    """barred if a restriction bars, caution if one only cautions, else clear."""
    if "bar" in effects:
        return "barred"
    return "caution" if "caution" in effects else "clear"


@dataclass(frozen=True)
class Standing:
    at: datetime
    restrictions: tuple[Restriction, ...]
    points: int
    score: float
    level: str
    explanation: tuple[ScoreLine, ...]
    valid_until: datetime | None

    def restrictions_in(self, domain: str) -> list[Restriction]:
        """The active restrictions that cover `domain`."""
        return [r for r in self.restrictions if domain in r.domains]

    def verdict(self, domain: str) -> str:
        """barred, caution or clear in `domain`."""
        return verdict_of({r.effect for r in self.restrictions_in(domain)})

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "restrictions": [r.to_dict() for r in self.restrictions],
            "points": self.points,
            "score": self.score,
            "level": self.level,
            "explanation": [
                {
                    "record_id": x.record_id,
                    "kind": x.kind,
                    "ref": x.ref,
                    "amount": x.amount,
                    "reason": x.reason,
                }
                for x in self.explanation
            ],
            "valid_until": None if self.valid_until is None else self.valid_until.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], explained: bool = True) -> Standing:
        """The inverse of to_dict; checks, which never show the explanation, skip it."""
        until = data["valid_until"]
        return cls(
            at=datetime.fromisoformat(data["at"]),
            restrictions=tuple(Restriction.from_dict(r) for r in data["restrictions"]),
            points=int(data["points"]),
            score=float(data["score"]),
            level=data["level"],
            explanation=tuple(
                ScoreLine(x["record_id"], x["kind"], x["ref"], float(x["amount"]), x["reason"])
                for x in data["explanation"]
            )
            if explained
            else (),
            valid_until=None if until is None else datetime.fromisoformat(until),
        )


def china_date(at: datetime) -> date:
    """The China date of an aware instant."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"the instant {at.isoformat()} has no time zone")
    return at.astimezone(CHINA).date()


def china_midnight(day: date) -> datetime:
    """00:00 China time on `day`, aware."""
    return datetime(day.year, day.month, day.day, tzinfo=CHINA)


def revoked_by(record: RecordFacts, at: datetime) -> bool:
    """Whether the record is revoked or repaired at `at`."""
    if record.status not in GONE:
        return False
    when = record.revoked_at
    if when is None:
        return True
    if when.tzinfo is None:  # stored times are UTC
        when = when.replace(tzinfo=UTC)
    return when <= at


def counts_at(record: RecordFacts, at: datetime) -> bool:
    """Whether the record counts at `at`: decided by then and not revoked or repaired by then."""
    return record.decided_on <= china_date(at) and not revoked_by(record, at)
