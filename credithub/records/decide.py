"""What happens to one arriving record: every rule of the write path in one pure function.

`decide(stored, arrived, hub, today)` answers Insert, Update, Unchanged or Rejected from what
the hub holds under the record's key, the record as checked (with its subjects resolved), this
hub's id and the day in China. `refusal(prepared, actor)` answers who may send what; it is
asked when a batch is checked, before anything is looked up, so a refused record creates no
subject and its refusal is audited. `unbound(prepared, hub, bound)` answers whether the record
may name its authority, given the origin hub that authority is bound to; the writer asks it
with the bindings it read for the whole batch. Nothing here reads a database or the app: the
writer (`records.writer`) looks up, applies and logs. A `Refused` answer is a rejection its
sender was not allowed to make: it is audited as a refusal.

The rules, each a row of tests/records/test_decide.py:
- scoping: a department writes only records it decided; only peer hubs (and the joint office)
  send a record's origin; a peer client sends only records whose origin is its own hub or a hub
  it is configured to relay for (records pulled through a connector are not limited by this);
- binding: an authority belongs to the first origin hub seen for it; a record naming it with
  another origin is refused;
- versions move forward by a bounded step: a peer's version more than `max_step` above the one
  held (or above 0 for a record not held) is refused, so no version can pin a record;
- the record's key: its natural key (authority, kind, ref, subject), else its origin;
- a new record is inserted with its origin (ours: this hub, its id, version 1); our own
  record coming back from a peer that we no longer hold under its key is never recreated;
- a peer's change applies only if it is newer at its origin; our own records coming back
  are never applied; it brings its state at the origin (status, revocation);
- a revoked record is not changed by its department: it sends a new ref;
- the same content (digest) is unchanged;
- a correction keeps the record's state (disputed, repaired), except that one extending an
  expired record's term past today makes it run again;
- the op a change is logged with is the state it moves the record into (`revoke`, `repair`,
  `expire`), else `upsert`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cached_property
from typing import Any, TypeVar

from credithub.records.normal_form import Prepared
from credithub.records.prepare import Actor

# The op (the feed's `op`) of a change that moves a record into one of these states. A change
# applied from a peer is logged the same way, from the state it brings: a hub between two
# others passes an expiry on as an `expire`, a revocation as a `revoke`.
_STATUS_OPS = {"revoked": "revoke", "repaired": "repair", "expired": "expire"}

T = TypeVar("T")

# How far above the version held (or above 0) a peer's version may jump; the hub's setting is
# `federation.max_version_step`.
MAX_VERSION_STEP = 1000


@dataclass(frozen=True)
class Origin:
    """Where a record was created, and its version there."""

    hub: str
    id: str
    version: int

    @classmethod
    def of(cls, origin: Mapping[str, Any]) -> Origin:
        return cls(str(origin["hub"]), str(origin["id"]), int(origin["version"]))


@dataclass(frozen=True)
class State:
    """A record's lifecycle columns."""

    status: str  # active | disputed | expired | revoked | repaired
    revoked_at: datetime | None = None
    revoke_reason: str | None = None
    revoked_by: str | None = None

    @classmethod
    def arrived(cls, p: Prepared) -> State:
        """A peer's record carries its state at its origin; ours start active."""
        revoked = p.revoked or {}
        return cls(p.status, revoked.get("at"), revoked.get("reason"), revoked.get("by"))


@dataclass(frozen=True)
class Stored:
    """What the decision reads of the record the hub holds under an arriving record's key."""

    id: str
    version: int
    content_hash: str
    origin: Origin
    state: State


@dataclass(frozen=True)
class Arrived:
    """A checked record with its subjects resolved: what its row would hold."""

    prepared: Prepared
    subject_id: str
    legal_rep_id: str | None

    @cached_property
    def digest(self) -> str:
        """The content digest that tells a changed record from one sent again unchanged."""
        return self.prepared.content_hash(self.subject_id, self.legal_rep_id)

    @property
    def key(self) -> tuple[str, str, str, str]:
        """The natural key: authority, kind, ref, subject."""
        p = self.prepared
        return (p.authority_uscc, p.kind, p.ref, self.subject_id)

    @property
    def origin(self) -> Origin | None:
        origin = self.prepared.origin
        return None if origin is None else Origin.of(origin)


@dataclass(frozen=True)
class Insert:
    origin: Origin
    state: State
    op: str


@dataclass(frozen=True)
class Update:
    version: int
    origin_version: int
    state: State  # after the change
    op: str


@dataclass(frozen=True)
class Unchanged:
    pass


@dataclass(frozen=True)
class Rejected:
    reason: str
    errors: dict[str, list[str]]


@dataclass(frozen=True)
class Refused(Rejected):
    """A record its sender may not send: answered per item, and audited as a refusal."""


Decision = Insert | Update | Unchanged | Rejected


def lookup(
    arrived: Arrived, by_key: Mapping[tuple[str, ...], T], by_origin: Mapping[tuple[str, str], T]
) -> T | None:
    """What the hub holds under the arriving record's key: its natural key, else its origin."""
    found = by_key.get(arrived.key)
    origin = arrived.prepared.origin
    if found is None and origin is not None:
        found = by_origin.get((origin["hub"], origin["id"]))
    return found


def refusal(p: Prepared, actor: Actor) -> Refused | None:
    """Why this actor may not send this record (audited), or None."""
    if actor.kind == "department" and p.authority_uscc != actor.uscc:
        return Refused(
            "a department writes only records it decided",
            {"authority.uscc": [f"{p.authority_uscc} is not this department ({actor.uscc})"]},
        )
    if p.origin is not None and actor.kind not in ("peer", "admin"):
        return Refused("only peer hubs send origin", {"origin": ["only peer hubs send origin"]})
    origins = actor.origins
    if p.origin is not None and actor.kind == "peer" and origins is not None:
        hub = str(p.origin["hub"])
        if hub not in origins:
            mine = ", ".join(sorted(origins)) or "none"
            return Refused(
                "a peer sends only records of its own hub or of hubs it relays for",
                {"origin.hub": [f"{hub} is not a hub this peer may send records of ({mine})"]},
            )
    return None


def refused_item(p: Prepared, refused: Refused) -> dict[str, Any]:
    """What the audit trail keeps of a refused item (no personal identifier): the index, the
    reason and errors, and the record's authority, kind, ref and origin."""
    return {
        "index": p.index,
        "reason": refused.reason,
        "errors": refused.errors,
        "authority": p.authority_uscc,
        "kind": p.kind,
        "ref": p.ref,
        "origin": p.origin,
    }


def unbound(p: Prepared, hub: str, bound: str | None) -> Refused | None:
    """Why this record may not name its authority, bound to origin hub `bound` (None: not bound
    yet, the record binds it), or None. A record without origin is created at this hub."""
    claimed = hub if p.origin is None else str(p.origin["hub"])
    if bound is None or bound == claimed:
        return None
    message = (
        f"authority {p.authority_uscc} belongs to hub {bound}: a record of hub {claimed} "
        "may not name it"
    )
    return Refused("the authority belongs to another hub", {"authority.uscc": [message]})


def decide(
    stored: Stored | None,
    arrived: Arrived,
    hub: str,
    today: date,
    max_step: int = MAX_VERSION_STEP,
) -> Decision:
    """What to do with `arrived`, given what the hub holds under its key (`stored`); a peer's
    version may be at most `max_step` above the one held."""
    p, origin = arrived.prepared, arrived.origin
    if stored is None:
        if origin is not None and origin.hub == hub:
            return Unchanged()  # our own record, no longer held under this key: never recreated
        if origin is not None and origin.version > max_step:
            return _too_far(origin.version, 0, max_step)
        state = State.arrived(p)
        return Insert(origin or Origin(hub, p.record_id, 1), state, _op("active", state.status))
    held = stored.state.status
    if origin is not None:
        if origin.hub == hub or origin.version <= stored.origin.version:
            return Unchanged()
        if origin.version - stored.origin.version > max_step:
            return _too_far(origin.version, stored.origin.version, max_step)
        state = State.arrived(p)
        return Update(stored.version + 1, origin.version, state, _op(held, state.status))
    if held == "revoked":
        on = f" on {stored.state.revoked_at:%Y-%m-%d}" if stored.state.revoked_at else ""
        message = f"this record was revoked{on}; a revoked record is not changed, send a new ref"
        return Rejected(message, {"ref": [message]})
    if stored.content_hash == arrived.digest:
        return Unchanged()
    state = stored.state
    if held == "expired" and (p.ends_on is None or p.ends_on > today):
        state = replace(state, status="active")  # a correction extending its term: it runs again
    return Update(stored.version + 1, stored.origin.version + 1, state, _op(held, state.status))


def _too_far(version: int, held: int, max_step: int) -> Refused:
    message = (
        f"version {version} is more than {max_step} above the version held ({held}): "
        "versions move forward by a bounded step"
    )
    return Refused("the version jumps too far", {"origin.version": [message]})


def _op(held: str, status: str) -> str:
    """upsert, or the lifecycle op when the change moves the record into another state."""
    return _STATUS_OPS.get(status, "upsert") if status != held else "upsert"


state_op = _op  # the op a change of state is logged with, for services that change a state
