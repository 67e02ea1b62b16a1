"""Write a checked batch: resolve its subjects, decide each record, apply the decisions in bulk.

In the caller's transaction: subjects found or created, records inserted and updated, each
change logged with its version (`changes.log_change`), the version it supersedes preserved for
the history, one audit entry naming every change with its content and version digests
(`records.digest`), and the standings of the subjects touched recomputed
(`standing.service.refresh`), so a check right after the commit already sees the change. What
happens to each record is `decide`'s answer; this module only looks up and applies. It also
binds each authority to the origin hub of the first record written naming it
(`records.bindings`): the batch's bindings are read in one query, and a record naming an
authority bound to another hub is refused (`decide.unbound`) before its subjects are looked up.
A refusal is audited as one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm import Session

from credithub import audit
from credithub.db import (
    bulk_insert,
    keep_statistics_fresh,
    new_id,
    one_of,
    table_of,
    utcnow,
)
from credithub.entities.service import ensure_subjects_collect
from credithub.errors import ServiceError
from credithub.records import bindings, refusals, rows
from credithub.records.changes import log_change, preserve
from credithub.records.decide import (
    MAX_VERSION_STEP,
    Arrived,
    Insert,
    Refused,
    Rejected,
    Unchanged,
    Update,
    decide,
    lookup,
    refused_item,
    unbound,
)
from credithub.records.digest import version_digest
from credithub.records.models import Record
from credithub.records.normal_form import Prepared
from credithub.records.prepare import Actor
from credithub.records.read import snapshots
from credithub.records.rows import Row
from credithub.standing import deferred
from credithub.standing import service as standing
from credithub.standing.values import RecordFacts

_CHUNK = 400  # bound on IN-lists, well under every database's parameter limit


@dataclass
class ItemResult:
    index: int
    status: str  # created | updated | unchanged | rejected
    id: str | None = None
    version: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    held: bool = False  # rejected and quarantined: its signature failed (credithub.trust)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "status": self.status}
        if self.id:
            out["id"], out["version"] = self.id, self.version
        if self.errors:
            out["errors"] = self.errors
        if self.held:
            out["quarantined"] = True
        if self.warnings:
            out["warnings"] = self.warnings
        return out


@dataclass
class IngestResult:
    results: list[ItemResult]
    warnings: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return sum(r.status != "rejected" for r in self.results)

    @property
    def rejected(self) -> int:
        return sum(r.status == "rejected" for r in self.results)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "accepted": self.accepted,
            "rejected": self.rejected,
            "results": [r.to_dict() for r in self.results],
        }
        if self.warnings:
            out["warnings"] = self.warnings
        return out


@dataclass(frozen=True)
class _Change:
    """A record version the batch writes; the batch's audit entry names each."""

    record_id: str
    version: int
    status: str  # created | updated
    digest: str  # of the content
    subject_id: str
    version_digest: str  # of the version as stored (`records.digest`)


class _Held:
    """The records a batch may touch, as rows by id, found by natural key or origin. A record
    written earlier in the batch is held as written: a key sent twice finds it."""

    def __init__(self, rows: Sequence[Row]) -> None:
        self.rows: dict[str, Row] = {}
        self.by_key: dict[tuple[str, ...], str] = {}
        self.by_origin: dict[tuple[str, str], str] = {}
        for row in rows:
            self.put(row)

    def put(self, row: Row) -> None:
        self.rows[row["id"]] = row
        self.by_key[(row["authority_uscc"], row["kind"], row["ref"], row["subject_id"])] = row["id"]
        self.by_origin[(row["origin_hub"], row["origin_id"])] = row["id"]

    def find(self, arrived: Arrived) -> Row | None:
        found = lookup(arrived, self.by_key, self.by_origin)
        return None if found is None else self.rows[found]


def write(
    session: Session,
    prepared: Sequence[Prepared],
    actor: Actor,
    results: list[ItemResult | None],
    today: date,
    hub: str,
    max_step: int = MAX_VERSION_STEP,
    defer: bool = False,
) -> None:
    """Write the checked records `prepared` into `results` (by item index) in the caller's
    transaction; `today` is the day in China they were checked on, `hub` this hub's id,
    `max_step` how far a peer's version may jump (`federation.max_version_step`), `defer`
    whether the batch is one of a series, whose end refreshes the standings it changes."""
    bound = bindings.read(session, {p.authority_uscc for p in prepared}) if prepared else {}
    prepared = [p for p in prepared if not _refused(session, actor, results, p, hub, bound)]
    if not prepared:
        return
    renamed: set[str] = set()
    created: set[str] = set()
    arrived = _resolve(session, prepared, results, renamed, created)
    held = _Held(_load_held(session, arrived))
    now = utcnow()
    inserts: dict[str, Row] = {}  # by id: a record changed twice in a batch is written once
    updates: dict[str, Row] = {}
    superseded: dict[tuple[str, int], Row] = {}
    changes: list[_Change] = []
    binding: dict[str, str] = {}  # authorities this batch binds, to their origin hub
    for a in arrived:
        p, row = a.prepared, held.find(a)
        if _refused(session, actor, results, p, hub, bound):  # bound earlier in this batch
            continue
        decision = decide(None if row is None else rows.stored(row), a, hub, today, max_step)
        match decision:
            case Refused():
                _refuse(session, actor, results, p, decision)
                continue
            case Rejected(errors=errors):
                results[p.index] = ItemResult(p.index, "rejected", errors=errors)
                continue
            case Unchanged():
                same = ItemResult(p.index, "unchanged", warnings=p.warnings)
                if row is not None:  # else our own record coming back: nothing is held
                    same.id, same.version = row["id"], row["version"]
                results[p.index] = same
                continue
            case Insert():
                new, status = rows.inserted(a, decision, actor, now), "created"
                inserts[new["id"]] = new
            case Update():
                assert row is not None
                new, status = rows.updated(row, a, decision, actor, now), "updated"
                superseded[(row["id"], row["version"])] = row
                (inserts if row["id"] in inserts else updates)[row["id"]] = new
        held.put(new)
        if p.authority_uscc not in bound:  # the first record written naming it binds it
            bound[p.authority_uscc] = binding[p.authority_uscc] = new["origin_hub"]
        results[p.index] = ItemResult(
            p.index, status, new["id"], new["version"], warnings=p.warnings
        )
        log_change(
            session,
            record_id=new["id"],
            version=new["version"],
            op=decision.op,
            at=now,
            actor=actor.name,
            origin_hub=new["origin_hub"],
            signature=p.signature,
        )
        changes.append(
            _Change(
                new["id"],
                new["version"],
                status,
                a.digest,
                new["subject_id"],
                version_digest(new, a.digest),
            )
        )
    bindings.bind(session, binding, now)
    _apply(session, actor, inserts, updates, superseded, changes, renamed, created, defer)


def _refused(
    session: Session,
    actor: Actor,
    results: list[ItemResult | None],
    p: Prepared,
    hub: str,
    bound: dict[str, str],
) -> bool:
    """Whether `p` names an authority bound to another hub (then refused and audited)."""
    refused = unbound(p, hub, bound.get(p.authority_uscc))
    if refused is not None:
        _refuse(session, actor, results, p, refused)
    return refused is not None


def _refuse(
    session: Session,
    actor: Actor,
    results: list[ItemResult | None],
    p: Prepared,
    refused: Refused,
) -> None:
    results[p.index] = ItemResult(p.index, "rejected", errors=refused.errors)
    refusals.record(session, actor.name, refused_item(p, refused))


def _apply(
    session: Session,
    actor: Actor,
    inserts: dict[str, Row],
    updates: dict[str, Row],
    superseded: dict[tuple[str, int], Row],
    changes: Sequence[_Change],
    renamed: set[str],
    created: set[str],
    defer: bool,
) -> None:
    """Store the batch's rows, history, audit entry and standings (`defer`: marked due)."""
    if superseded:
        preserve(session, snapshots(session, list(superseded.values())))
    if changes:
        # One entry per batch: it names every record changed, with the version, content digest
        # and version digest, so the chain also vouches for what the change log and the
        # records hold (`credithub audit verify` checks each stored record against it).
        named = [[c.record_id, c.version, c.status, c.digest, c.version_digest] for c in changes]
        audit.record(session, actor.name, "records.ingest", "batch", new_id(), {"changes": named})
    if inserts:
        bulk_insert(session, Record, list(inserts.values()))
    if updates:
        session.execute(update(Record), list(updates.values()))
    # In the same transaction: a check right after this commit already sees the change. Also
    # the subjects the batch renamed: an organization's standing names its legal
    # representative, and `refresh` takes in the organizations a person represents.
    touched = {c.subject_id for c in changes} | {r["subject_id"] for r in superseded.values()}
    # A listing that named another legal representative before: that person's standing too.
    touched |= {
        r["legal_rep_id"]
        for r in superseded.values()
        if r["kind"] == "blacklist" and r.get("legal_rep_id")
    }
    if defer:  # a batch of a series: the series' end refreshes them (standing.deferred)
        deferred.defer(session, touched | renamed)
    else:
        standing.refresh(session, touched | renamed, _new_subjects_facts(created, inserts, updates))
    keep_statistics_fresh(
        session,
        {
            "records": len(inserts),
            "subjects": len(inserts),
            "record_changes": len(changes),
            "standings": len(inserts),
        },
    )


def _new_subjects_facts(
    created: set[str], inserts: dict[str, Row], updates: dict[str, Row]
) -> dict[str, list[RecordFacts]] | None:
    """The standing facts of the subjects the batch created: the records it writes for them
    are all they have (`ingest.new_subject_facts`; None: read back like any other's)."""
    if not created or not current_app.extensions["credithub.settings"].ingest.new_subject_facts:
        return None
    facts: dict[str, list[RecordFacts]] = {sid: [] for sid in created}
    for row in (*inserts.values(), *updates.values()):
        held = facts.get(row["subject_id"])
        if held is not None:
            held.append(standing.written_facts(row))
    return facts


def _resolve(
    session: Session,
    prepared: Sequence[Prepared],
    results: list[ItemResult | None],
    renamed: set[str],
    created: set[str],
) -> list[Arrived]:
    """Each record with its subject and legal representative found or created; a record whose
    identifiers name two subjects is rejected. `renamed` and `created` gain the subjects the
    batch renamed and created."""
    subjects = ensure_subjects_collect(
        session,
        [p.subject for p in prepared],
        [p.decided_on for p in prepared],
        new_ids=[p.subject_id for p in prepared],
        renamed=renamed,
        created=created,
    )
    named = [(p, p.legal_rep) for p in prepared if p.legal_rep is not None]
    reps = ensure_subjects_collect(
        session,
        [rep for _, rep in named],
        [p.decided_on for p, _ in named],
        new_ids=[p.legal_rep_made_id for p, _ in named],
        renamed=renamed,
        created=created,
    )
    rep_of = {p.index: rep for (p, _), rep in zip(named, reps, strict=True)}
    arrived: list[Arrived] = []
    for p, subject in zip(prepared, subjects, strict=True):
        rep = rep_of.get(p.index)
        if isinstance(subject, ServiceError) or isinstance(rep, ServiceError):
            error = subject if isinstance(subject, ServiceError) else rep
            assert isinstance(error, ServiceError)
            results[p.index] = ItemResult(p.index, "rejected", errors=error.errors)
        else:
            arrived.append(Arrived(p, subject, rep))
    return arrived


def _load_held(session: Session, arrived: Sequence[Arrived]) -> list[Row]:
    """Stored records the batch may touch, by natural key and by origin, as rows."""
    table = table_of(Record)
    # By the natural-key index: (authority, kind) equal, refs in a list.
    refs: dict[tuple[str, str], set[str]] = {}
    origins: dict[str, set[str]] = {}
    for a in arrived:
        p = a.prepared
        refs.setdefault((p.authority_uscc, p.kind), set()).add(p.ref)
        if p.origin:
            origins.setdefault(p.origin["hub"], set()).add(p.origin["id"])
    queries = [
        table.select().where(
            table.c.authority_uscc == authority,
            table.c.kind == kind,
            one_of(session, table.c.ref, part),
        )
        for (authority, kind), values in refs.items()
        for part in _chunks(values)
    ]
    # By the origin index: hub equal, ids in a list. (A row-value IN list would scan the table
    # on SQLite.)
    queries += [
        table.select().where(table.c.origin_hub == hub, one_of(session, table.c.origin_id, part))
        for hub, values in origins.items()
        for part in _chunks(values)
    ]
    return [dict(row) for query in queries for row in session.execute(query).mappings()]


def _chunks(values: set[str]) -> list[list[str]]:
    ordered = sorted(values)
    return [ordered[i : i + _CHUNK] for i in range(0, len(ordered), _CHUNK)]
