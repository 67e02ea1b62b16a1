"""Ingest and revoke records.

Every way a record arrives (a department's push, a 双公示 file, a peer's push, a pull) calls
`ingest`. One call is one batch: each item is prepared on its own (a bad item is rejected with
its reasons and changes nothing; one its sender may not write is refused and audited), then
the batch is written (`records.writer`: subjects resolved, each record decided by
`records.decide`, the decisions applied in bulk). In the same transaction every accepted
change writes its version to the change log and an audit entry; the caller commits once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from credithub import audit
from credithub.db import utcnow
from credithub.errors import Conflict, Forbidden, Invalid, NotFound
from credithub.records import pipeline, refusals
from credithub.records.changes import log_change, preserve
from credithub.records.decide import refusal, refused_item, state_op
from credithub.records.digest import stored_version_digest
from credithub.records.models import Record
from credithub.records.normal_form import Prepared
from credithub.records.pipeline import Context
from credithub.records.prepare import (
    Actor,
    Loader,
    Subjects,
    load_api_record,
    prepare,
)
from credithub.records.read import get_record, list_records, record_row, snapshots, to_output
from credithub.records.writer import IngestResult, ItemResult, write
from credithub.standing import deferred
from credithub.standing import service as standing
from credithub.trust import quarantine
from credithub.trust.forms import check

__all__ = [  # what other modules import from here (reading lives in records.read)
    "Batch",
    "Context",
    "IngestResult",
    "ItemResult",
    "change_state",
    "get_record",
    "hub_id",
    "ingest",
    "list_records",
    "prepare_batch",
    "revoke",
    "snapshots",
    "to_output",
    "write_batch",
]


def hub_id() -> str:
    return str(current_app.extensions["credithub.settings"].hub.id)


@dataclass
class Batch:
    """A batch checked and normalised item by item and not yet written.

    Preparing reads no database, so it may run apart from the writer (an import prepares the
    next batch in a worker process while the previous one is written): a batch carries all
    that writing needs, and pickles.
    """

    results: list[ItemResult | None]  # rejected items already have theirs
    prepared: list[Prepared]
    today: date  # the day in China the items were checked on
    atomic: bool = False
    # Items this actor may not write (`decide.refused_item`): audited when the batch is written.
    refusals: list[dict[str, Any]] = field(default_factory=list)
    # Records of another origin whose signature failed, as they arrived, each with the reason:
    # quarantined when the batch is written (credithub.trust.quarantine), never applied.
    quarantined: list[tuple[dict[str, Any], str]] = field(default_factory=list)


def prepare_batch(
    items: Sequence[Any],
    actor: Actor,
    context: Context,
    *,
    atomic: bool = False,
    raws: Sequence[dict[str, Any] | None] | None = None,
    early: Sequence[ItemResult | None] | None = None,
    loader: Loader = load_api_record,
) -> Batch:
    """Check and normalise each item; `early` carries items already rejected at the edge. A
    pure function of its inputs (no app, no database): it may run in the pipeline's helper."""
    pack, today = context.pack, context.today
    # Hubs name persons to each other by hash (parse_subject): only a peer's records may.
    subjects = Subjects(context.allow, from_peer=actor.kind == "peer")
    batch = Batch(list(early) if early else [None] * len(items), [], today, atomic)
    results = batch.results
    for i, item in enumerate(items):
        if results[i] is not None:
            continue
        try:
            p = prepare(i, item, actor, pack, today, subjects, raws[i] if raws else None, loader)
        except Invalid as exc:
            results[i] = ItemResult(i, "rejected", errors=exc.errors)
            continue
        refused = refusal(p, actor)
        if refused is not None:
            results[i] = ItemResult(i, "rejected", errors=refused.errors)
            batch.refusals.append(refused_item(p, refused))
            continue
        unsigned = _unsigned(item, p, actor, context)
        if unsigned is None:
            batch.prepared.append(p)
        else:
            results[i] = ItemResult(i, "rejected", errors={"signature": [unsigned]}, held=True)
            batch.quarantined.append((item, unsigned))
    return batch


def _unsigned(item: Any, p: Prepared, actor: Actor, context: Context) -> str | None:
    """Why a record of another origin may not be applied: its signature (credithub.trust)."""
    if p.origin is None or p.origin["hub"] == context.hub_id or not actor.checks_signatures:
        return None
    return check(item, context.keys)


def write_batch(
    session: Session, batch: Batch, actor: Actor, *, defer: bool = False
) -> IngestResult:
    """Resolve subjects and write a prepared batch in the caller's transaction; `defer`: a
    batch of a series, which leaves its standings to the series' end (`standing.deferred`)."""
    _audit_refusals(session, batch, actor)
    results = list(batch.results)
    if batch.atomic and any(r is not None and r.status == "rejected" for r in results):
        return _reject_all(results)
    max_step = current_app.extensions["credithub.settings"].federation.max_version_step
    write(session, batch.prepared, actor, results, batch.today, hub_id(), max_step, defer)
    final = [r for r in results if r is not None]
    if batch.atomic and any(r.status == "rejected" for r in final):
        return _reject_all(results)
    return IngestResult(final)


def _audit_refusals(session: Session, batch: Batch, actor: Actor) -> None:
    for detail in batch.refusals:
        refusals.record(session, actor.name, detail)
    quarantine.hold(session, actor.name, batch.quarantined)


PART = 500  # records per part of a push checked apart (records.pipeline)


def ingest(
    session: Session,
    items: Sequence[Any],
    actor: Actor,
    *,
    atomic: bool = False,
    raws: Sequence[dict[str, Any] | None] | None = None,
    early: Sequence[ItemResult | None] | None = None,
    loader: Loader = load_api_record,
    in_parts: bool = False,
    more: bool = False,
) -> IngestResult:
    """Accept a batch of records; `early` carries items already rejected at the edge (bad rows).

    `in_parts` (the push endpoints): a batch of `server.prepare_apart_from` items or more is
    checked part by part apart (`records.pipeline`) while this process writes the parts before
    it, all in the caller's one transaction. Parts are written in order, so a key sent twice
    ends as it would in one batch; an atomic batch that has a rejected item writes nothing more
    and answers as one batch would (the caller rolls back).

    `more`: further batches of the same series follow, so the standings this one changes are
    left to the series' end (`standing.deferred`); a batch without it settles every standing
    left due.
    """
    defer = more and deferred.enabled()
    result = _ingest(session, items, actor, atomic, raws, early, loader, in_parts, defer)
    if not defer and not (atomic and result.rejected) and deferred.enabled():
        deferred.settle_all(session)
    return result


def _ingest(
    session: Session,
    items: Sequence[Any],
    actor: Actor,
    atomic: bool,
    raws: Sequence[dict[str, Any] | None] | None,
    early: Sequence[ItemResult | None] | None,
    loader: Loader,
    in_parts: bool,
    defer: bool,
) -> IngestResult:
    whole = _Part(items, raws, early, loader, actor)
    context = Context.of_app()
    if not in_parts or not pipeline.goes_apart(len(items)):
        batch = whole.prepare(context)
        batch.atomic = atomic
        return write_batch(session, batch, actor, defer=defer)
    parts = [whole.slice(i, i + PART) for i in range(0, len(items), PART)]
    checked = pipeline.run(_Part.prepare, context, parts, apart=True)
    results: list[ItemResult] = []
    failed = False
    for _, batch in checked:
        # Atomic and an item rejected: nothing more is written; each item still gets checked,
        # so the answer gives every reason (and the others are rejected with the batch).
        failed = failed or (atomic and any(r is not None for r in batch.results))
        if failed:
            _audit_refusals(session, batch, actor)
            written = [r or ItemResult(i, "unchanged") for i, r in enumerate(batch.results)]
        else:
            written = write_batch(session, batch, actor, defer=defer).results
        offset = len(results)
        for item in written:
            item.index += offset
        results.extend(written)
        failed = failed or (atomic and any(r.status == "rejected" for r in written))
    return _reject_all(results) if atomic and failed else IngestResult(results)


@dataclass
class _Part:
    """Items of a push checked as one batch (sent to the pipeline's helper: it pickles)."""

    items: Sequence[Any]
    raws: Sequence[dict[str, Any] | None] | None
    early: Sequence[ItemResult | None] | None
    loader: Loader
    actor: Actor

    def slice(self, start: int, stop: int) -> _Part:
        return _Part(
            self.items[start:stop],
            self.raws[start:stop] if self.raws else None,
            self.early[start:stop] if self.early else None,
            self.loader,
            self.actor,
        )

    def prepare(self, context: Context) -> Batch:
        return prepare_batch(
            self.items, self.actor, context, raws=self.raws, early=self.early, loader=self.loader
        )


def _reject_all(results: Sequence[ItemResult | None]) -> IngestResult:
    bad = [r.index for r in results if r is not None and r.status == "rejected"]
    listed = ", ".join(map(str, bad[:20]))
    note = f"not applied: the batch is atomic and item(s) {listed} were rejected"
    out = []
    for i, r in enumerate(results):
        if r is not None and r.status == "rejected":
            out.append(r)
        else:
            out.append(ItemResult(i, "rejected", errors={"batch": [note]}))
    return IngestResult(out)


def revoke(session: Session, record_id: str, reason: str, actor: Actor) -> dict[str, Any]:
    """Revoke a record: it stays in history, stops counting, and the change travels to peers."""
    record = session.get(Record, record_id, with_for_update=True)
    if record is None:
        raise NotFound(f"no record {record_id}")
    if not actor.is_admin and (actor.kind != "department" or record.authority_uscc != actor.uscc):
        reason = "only the deciding department (or the joint office) may revoke this record"
        detail = {"action": "revoke", "authority": record.authority_uscc, "reason": reason}
        refusals.record(session, actor.name, detail, record_id)
        raise Forbidden(reason)
    if record.origin_hub != hub_id():
        raise Conflict(f"this record was created at hub {record.origin_hub!r}; revoke it there")
    if record.status == "revoked":
        raise Conflict("the record is already revoked")
    preserve(session, snapshots(session, [record_row(record)]))
    now = utcnow()
    record.status, record.revoked_at, record.revoke_reason, record.revoked_by = (
        "revoked",
        now,
        reason,
        actor.name,
    )
    record.version += 1
    record.origin_version += 1
    record.updated_at = now
    session.flush()
    out = get_record(session, record_id, with_history=False)
    log_change(
        session,
        record_id=record_id,
        version=record.version,
        op="revoke",
        at=now,
        actor=actor.name,
        origin_hub=record.origin_hub,
    )
    standing.refresh(session, [record.subject_id])
    audit.record(
        session,
        actor.name,
        "record.revoke",
        "record",
        record_id,
        {
            "version": record.version,
            "reason": reason,
            "digest": stored_version_digest(record_row(record)),
        },
    )
    return out


def change_state(
    session: Session, record: Record, status: str, actor: str, reason: str | None = None
) -> None:
    """A new version of `record` (read under a lock by the caller) in lifecycle state `status`:
    disputed, back to active after an objection, or repaired (`reason`: the decision's note).

    As a revocation: the previous version preserved, version and origin version + 1, a change
    logged with the op of the state it moves into (`repair`, else `upsert`), the subject's
    standing refreshed and the change audited, so the state reaches every hub in the next sync.
    A repair ends use at this instant (`revoked_at`), as a revocation does.
    """
    held = record.status
    preserve(session, snapshots(session, [record_row(record)]))
    now = utcnow()
    record.status = status
    if status == "repaired":
        record.revoked_at, record.revoke_reason, record.revoked_by = now, reason, actor
    record.version += 1
    record.origin_version += 1
    record.updated_at = now
    session.flush()
    log_change(
        session,
        record_id=record.id,
        version=record.version,
        op=state_op(held, status),
        at=now,
        actor=actor,
        origin_hub=record.origin_hub,
    )
    standing.refresh(session, [record.subject_id])
    audit.record(
        session,
        actor,
        f"record.{status}",
        "record",
        record.id,
        {
            "version": record.version,
            "from": held,
            "reason": reason,
            "digest": stored_version_digest(record_row(record)),
        },
    )
