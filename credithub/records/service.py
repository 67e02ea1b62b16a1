"""Ingest, correct, revoke and read records.

Every way a record arrives (a department's push, a 双公示 file, a peer's push, a pull) calls
`ingest`. One call is one batch: each item is prepared on its own (a bad item is rejected with
its reasons and changes nothing), then subjects are resolved and records written in bulk. In
the same transaction every accepted change writes its version to the change log and an audit
entry; the caller commits once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from credithub import audit
from credithub.db import (
    JsonText,
    bulk_insert,
    keep_statistics_fresh,
    new_id,
    one_of,
    table_of,
    utcnow,
)
from credithub.entities.models import Subject
from credithub.entities.service import ensure_subjects_collect, uscc_allow_list
from credithub.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError
from credithub.records import apart
from credithub.records.changes import log_change, preserve
from credithub.records.models import Record, RecordChange, content_of
from credithub.records.prepare import (
    Actor,
    Loader,
    Prepared,
    Refused,
    load_api_record,
    prepare,
    today_in_china,
)
from credithub.rules import active_pack
from credithub.rules.pack import RulePack
from credithub.standing import service as standing
from credithub.standing.compute import RecordFacts

_CHUNK = 400  # bound on IN-lists, well under every database's parameter limit


@dataclass
class ItemResult:
    index: int
    status: str  # created | updated | unchanged | rejected
    id: str | None = None
    version: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "status": self.status}
        if self.id:
            out["id"], out["version"] = self.id, self.version
        if self.errors:
            out["errors"] = self.errors
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
    refusals: list[dict[str, Any]]  # items this actor may not write: audited when written
    today: date  # the day in China the items were checked on
    atomic: bool = False
    # By a subject's first identifier: its standing if it is new to the hub (see forecast).
    forecasts: dict[tuple[str, str], standing.Forecast] = field(default_factory=dict)


def prepare_batch(
    items: Sequence[Any],
    actor: Actor,
    *,
    atomic: bool = False,
    raws: Sequence[dict[str, Any] | None] | None = None,
    early: Sequence[ItemResult | None] | None = None,
    loader: Loader = load_api_record,
    forecast: bool = False,
) -> Batch:
    """Check and normalise each item; `early` carries items already rejected at the edge.

    With `forecast`, also compute the standing each subject would have if it is new to the hub
    (see `_forecast`): worth it where preparing runs beside the writer (an import's worker).
    """
    pack, today, allow = active_pack(), today_in_china(), uscc_allow_list()
    batch = Batch(list(early) if early else [None] * len(items), [], [], today, atomic)
    results = batch.results
    for i, item in enumerate(items):
        if results[i] is not None:
            continue
        try:
            batch.prepared.append(
                prepare(i, item, actor, pack, today, raws[i] if raws else None, loader, allow)
            )
        except Refused as exc:
            results[i] = ItemResult(i, "rejected", errors=exc.errors)
            batch.refusals.append({"index": i, "reason": exc.message, "errors": exc.errors})
        except Invalid as exc:
            results[i] = ItemResult(i, "rejected", errors=exc.errors)
    if forecast:
        batch.forecasts = _forecast(batch.prepared, pack)
    return batch


def _forecast(
    prepared: Sequence[Prepared], pack: RulePack
) -> dict[tuple[str, str], standing.Forecast]:
    """The standing of each subject from the batch's records alone, which is its standing if
    the hub does not know it yet (a first import: most subjects). The writer uses a forecast
    only for a subject it creates and only if it writes exactly the forecast's records for it.
    Records naming a legal representative (related parties) are left out. A peer's record
    carries its state at its origin (status, revocation): its facts are those of the row."""
    groups: dict[tuple[str, str], list[Prepared]] = {}
    for p in prepared:
        groups.setdefault(p.subject.lookup_keys()[0], []).append(p)
    forecaster, out = standing.Forecaster(utcnow(), pack), {}
    for key, items in groups.items():
        if any(p.legal_rep is not None for p in items):
            continue
        out[key] = forecaster.forecast([_facts(p) for p in items])
    return out


def _facts(p: Prepared) -> RecordFacts:
    """The facts of the row `p` becomes (as `standing.record_facts` reads them off the row)."""
    return RecordFacts(
        id=p.record_id, kind=p.kind, ref=p.ref, authority_uscc=p.authority_uscc,
        authority_name=p.authority_name, decided_on=p.decided_on, starts_on=p.starts_on,
        ends_on=p.ends_on, code=p.code, categories=p.categories, fine_yuan=p.fine_yuan,
        domains=tuple(p.domains), severity=p.severity, status=p.status,
        revoked_at=_state(p)["revoked_at"], basis=p.basis, legal_rep_id=None,
    )  # fmt: skip


def write_batch(session: Session, batch: Batch, actor: Actor) -> IngestResult:
    """Resolve subjects and write a prepared batch in the caller's transaction."""
    _audit_refusals(session, batch, actor)
    results = list(batch.results)
    if batch.atomic and any(r is not None and r.status == "rejected" for r in results):
        return _reject_all(results)
    _write(session, batch.prepared, actor, results, batch.today, batch.forecasts)
    final = [r for r in results if r is not None]
    if batch.atomic and any(r.status == "rejected" for r in final):
        return _reject_all(results)
    return IngestResult(final)


def _audit_refusals(session: Session, batch: Batch, actor: Actor) -> None:
    for refusal in batch.refusals:
        audit.record_refusal(session, actor.name, "record.refused", "record", "-", refusal)


PART = 500  # records per part of a large push checked in the helper process


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
) -> IngestResult:
    """Accept a batch of records; `early` carries items already rejected at the edge (bad rows).

    `in_parts` (the push endpoints): a batch of `server.prepare_apart_from` items or more is
    checked part by part in the helper process (`records.apart`) while this process writes
    the parts before it, all in the caller's one transaction. Parts are written in order, so a
    key sent twice ends as it would in one batch; an atomic batch that has a rejected item
    writes nothing more and answers as one batch would (the caller rolls back).
    """
    whole = _Part(items, raws, early, loader)
    if not in_parts or not _worth_parts(len(items)):
        batch = whole.prepare(actor)
        batch.atomic = atomic
        return write_batch(session, batch, actor)
    parts = [whole.slice(i, i + PART) for i in range(0, len(items), PART)]
    # The helper works from the second part on; the standings it forecasts spare the writer.
    ahead = [None, *(apart.submit(part.prepare, actor, forecast=True) for part in parts[1:])]
    try:
        return _write_parts(session, parts, ahead, actor, atomic)
    finally:
        for future in ahead:  # after an error: the helper drops what is left of this push
            if future is not None:
                future.cancel()


def _worth_parts(count: int) -> bool:
    threshold = current_app.extensions["credithub.settings"].server.prepare_apart_from
    return bool(threshold) and count >= threshold and apart.available()


@dataclass
class _Part:
    """Items of a push checked as one batch (in the helper process: it pickles)."""

    items: Sequence[Any]
    raws: Sequence[dict[str, Any] | None] | None
    early: Sequence[ItemResult | None] | None
    loader: Loader

    def slice(self, start: int, stop: int) -> _Part:
        return _Part(
            self.items[start:stop],
            self.raws[start:stop] if self.raws else None,
            self.early[start:stop] if self.early else None,
            self.loader,
        )

    def prepare(self, actor: Actor, forecast: bool = False) -> Batch:
        return prepare_batch(
            self.items,
            actor,
            raws=self.raws,
            early=self.early,
            loader=self.loader,
            forecast=forecast,
        )


def _write_parts(
    session: Session,
    parts: Sequence[_Part],
    ahead: Sequence[Future[Batch] | None],
    actor: Actor,
    atomic: bool,
) -> IngestResult:
    results: list[ItemResult] = []
    failed = False
    for part, future in zip(parts, ahead, strict=True):
        batch = apart.outcome(future, partial(part.prepare, actor))
        # Atomic and an item rejected: nothing more is written; each item still gets checked,
        # so the answer gives every reason (and the others are rejected with the batch).
        failed = failed or (atomic and any(r is not None for r in batch.results))
        if failed:
            _audit_refusals(session, batch, actor)
            written = [r or ItemResult(i, "unchanged") for i, r in enumerate(batch.results)]
        else:
            written = write_batch(session, batch, actor).results
        offset = len(results)
        for item in written:
            item.index += offset
        results.extend(written)
        failed = failed or (atomic and any(r.status == "rejected" for r in written))
    return _reject_all(results) if atomic and failed else IngestResult(results)


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


def _write(
    session: Session,
    prepared: list[Prepared],
    actor: Actor,
    results: list[ItemResult | None],
    today: date,
    batch_forecasts: Mapping[tuple[str, str], standing.Forecast] | None = None,
) -> None:
    if not prepared:
        return
    new_subjects: set[str] = set()
    subject_ids = ensure_subjects_collect(
        session,
        [p.subject for p in prepared],
        [p.decided_on for p in prepared],
        new_subjects,
        [p.subject_id for p in prepared],
    )
    reps = [p for p in prepared if p.legal_rep is not None]
    rep_ids = dict(
        zip(
            (p.index for p in reps),
            ensure_subjects_collect(
                session,
                [p.legal_rep for p in reps if p.legal_rep],
                [p.decided_on for p in reps],
                new_subjects,
            ),
            strict=True,
        )
    )
    ready: list[tuple[Prepared, str, str | None]] = []
    for p, sid in zip(prepared, subject_ids, strict=True):
        rid = rep_ids.get(p.index)
        if isinstance(sid, ServiceError) or isinstance(rid, ServiceError):
            err = sid if isinstance(sid, ServiceError) else rid
            assert isinstance(err, ServiceError)
            results[p.index] = ItemResult(p.index, "rejected", errors=err.errors)
            continue
        ready.append((p, sid, rid))
    existing = _load_existing(session, ready)
    now, local = utcnow(), hub_id()
    inserts: list[dict[str, Any]] = []
    updates: dict[
        str, dict[str, Any]
    ] = {}  # by id: a record changed twice in a batch is written once
    inserted: set[str] = set()
    superseded: dict[tuple[str, int], dict[str, Any]] = {}
    changed: list[tuple[str, int, str, str, str]] = []
    for p, sid, rid in ready:
        key = (p.authority_uscc, p.kind, p.ref, sid)
        digest = p.content_hash(sid, rid)
        row = existing.get(key)
        if row is None and p.origin:
            row = existing.get(("origin", p.origin["hub"], p.origin["id"]))
        if row is None and p.origin and p.origin["hub"] == local:
            # Our own record coming back that we no longer hold under this key: never recreate.
            results[p.index] = ItemResult(p.index, "unchanged", warnings=p.warnings)
            continue
        if row is None:
            row = _new_row(p, sid, rid, digest, local, actor, now)
            inserts.append(row)
            inserted.add(row["id"])
            status, held = "created", "active"
        else:
            before, held = dict(row), row["status"]
            status = _apply_update(row, p, sid, rid, digest, actor, now, local, today)
            if status == "updated":
                superseded[(before["id"], before["version"])] = before
                if row["id"] not in inserted:
                    updates[row["id"]] = row
        if status == "rejected":
            results[p.index] = ItemResult(p.index, "rejected", errors=row.pop("_error"))
            continue
        existing[key] = row
        existing[("origin", row["origin_hub"], row["origin_id"])] = row
        results[p.index] = ItemResult(
            p.index, status, row["id"], row["version"], warnings=p.warnings
        )
        if status != "unchanged":
            log_change(
                session,
                record_id=row["id"],
                version=row["version"],
                op=_op(held, row["status"]),
                at=now,
                actor=actor.name,
                origin_hub=row["origin_hub"],
            )
            changed.append((row["id"], row["version"], status, digest, row["subject_id"]))
    if superseded:
        preserve(session, snapshots(session, list(superseded.values())))
    if changed:
        # One entry per batch: it names every record changed, with the version and content
        # digest, so the chain also vouches for what the change log holds.
        audit.record(
            session,
            actor.name,
            "records.ingest",
            "batch",
            new_id(),
            {"changes": [list(c[:4]) for c in changed]},
        )
    if inserts:
        bulk_insert(session, Record, inserts)
    if updates:
        session.execute(
            update(Record),
            [{k: v for k, v in u.items() if not k.startswith("_")} for u in updates.values()],
        )
    # In the same transaction: a check right after this commit already sees the change. A
    # subject created by this batch has no records but the batch's: they are not read back,
    # and its forecast standing holds if it was made from exactly the records written for it.
    affected = {c[4] for c in changed} | {b["subject_id"] for b in superseded.values()}
    written: dict[str, list[dict[str, Any]]] = {sid: [] for sid in new_subjects}
    for row in [*inserts, *updates.values()]:
        if row["subject_id"] in written:
            written[row["subject_id"]].append(row)
    forecasts: dict[str, standing.Forecast] = {}
    if batch_forecasts:
        keys: dict[str, set[tuple[str, str]]] = {}
        for p, sid, _ in ready:
            keys.setdefault(sid, set()).add(p.subject.lookup_keys()[0])
        for sid, rows in written.items():
            named = keys.get(sid, set())
            found = batch_forecasts.get(next(iter(named))) if len(named) == 1 else None
            if found is not None and found.record_ids == frozenset(r["id"] for r in rows):
                forecasts[sid] = found
    # Their records' facts, but where the forecast stands and no record names them as legal
    # representative (an organization's standing shows its representative's).
    representatives = set(rep_ids.values())
    known = {
        sid: []
        if sid in forecasts and sid not in representatives
        else [standing.record_facts(r) for r in rows]
        for sid, rows in written.items()
    }
    standing.refresh(session, affected, known=known, forecasts=forecasts)
    created = len(inserts)
    keep_statistics_fresh(
        session,
        {
            "records": created,
            "subjects": created,
            "record_changes": len(changed),
            "standings": created,
        },
    )


_COLUMNS = [c.key for c in Record.__table__.columns]


def _load_existing(
    session: Session, ready: Sequence[tuple[Prepared, str, str | None]]
) -> dict[tuple[str, ...], dict[str, Any]]:
    """Stored records the batch may touch, by natural key and by origin, as plain rows."""
    found: dict[tuple[str, ...], dict[str, Any]] = {}
    table = table_of(Record)
    # By the natural-key index: (authority, kind) equal, refs in a list.
    groups: dict[tuple[str, str], set[str]] = {}
    for p, _, _ in ready:
        groups.setdefault((p.authority_uscc, p.kind), set()).add(p.ref)
    queries = []
    for (authority, kind), ref_set in groups.items():
        refs = sorted(ref_set)
        queries += [
            table.select().where(
                table.c.authority_uscc == authority,
                table.c.kind == kind,
                one_of(session, table.c.ref, refs[i : i + _CHUNK]),
            )
            for i in range(0, len(refs), _CHUNK)
        ]
    # By the origin index: hub equal, ids in a list. (A row-value IN list would scan the table
    # on SQLite.)
    origins: dict[str, set[str]] = {}
    for p, _, _ in ready:
        if p.origin:
            origins.setdefault(p.origin["hub"], set()).add(p.origin["id"])
    for hub, id_set in origins.items():
        ids = sorted(id_set)
        queries += [
            table.select().where(
                table.c.origin_hub == hub,
                one_of(session, table.c.origin_id, ids[i : i + _CHUNK]),
            )
            for i in range(0, len(ids), _CHUNK)
        ]
    for query in queries:
        for row in session.execute(query).mappings():
            data = dict(row)
            found[(data["authority_uscc"], data["kind"], data["ref"], data["subject_id"])] = data
            found[("origin", data["origin_hub"], data["origin_id"])] = data
    return found


def _new_row(
    p: Prepared, sid: str, rid: str | None, digest: str, local: str, actor: Actor, now: Any
) -> dict[str, Any]:
    rid_ = p.record_id
    origin = p.origin or {"hub": local, "id": rid_, "version": 1}
    return {
        "id": rid_,
        "kind": p.kind,
        "ref": p.ref,
        "subject_id": sid,
        "legal_rep_id": rid,
        "authority_uscc": p.authority_uscc,
        "authority_name": p.authority_name,
        "decided_on": p.decided_on,
        "version": 1,
        "severity": p.severity,
        "publish_until": p.publish_until,
        "code": p.code,
        "starts_on": p.starts_on,
        "ends_on": p.ends_on,
        "domains": p.domains,
        "content": JsonText(p.content_json),
        "content_hash": digest,
        "raw": p.raw_json,
        "origin_hub": origin["hub"],
        "origin_id": origin["id"],
        "origin_version": origin["version"],
        "received_from": actor.name,
        "created_at": now,
        "updated_at": now,
        **_state(p),
    }


def _apply_update(
    row: dict[str, Any],
    p: Prepared,
    sid: str,
    rid: str | None,
    digest: str,
    actor: Actor,
    now: Any,
    local: str,
    today: date,
) -> str:
    if p.origin:
        # Federation: a change applies only when it is newer at its origin; our own records
        # coming back from a peer are never applied.
        if p.origin["hub"] == local or p.origin["version"] <= row["origin_version"]:
            return "unchanged"
    elif row["status"] == "revoked":
        row["_error"] = {
            "ref": [
                f"this record was revoked on {row['revoked_at']:%Y-%m-%d}; "
                "a revoked record is not changed, send a new ref"
            ]
        }
        return "rejected"
    elif row["content_hash"] == digest:
        return "unchanged"
    row.update(
        subject_id=sid,
        legal_rep_id=rid,
        authority_name=p.authority_name,
        decided_on=p.decided_on,
        severity=p.severity,
        publish_until=p.publish_until,
        code=p.code,
        starts_on=p.starts_on,
        ends_on=p.ends_on,
        domains=p.domains,
        content=JsonText(p.content_json),
        content_hash=digest,
        raw=p.raw_json if p.raw_json is not None else row["raw"],
        version=row["version"] + 1,
        received_from=actor.name,
        updated_at=now,
        origin_version=p.origin["version"] if p.origin else row["origin_version"] + 1,
    )
    if p.origin:
        row.update(_state(p))
    elif row["status"] == "expired" and (p.ends_on is None or p.ends_on > today):
        # A correction that extends the term of an expired record makes it run again.
        row["status"] = "active"
    return "updated"


# The op (the feed's `op`) of a change that moves a record into one of these states. A change
# applied from a peer is logged the same way, from the state it brings: a hub between two
# others passes an expiry on as an `expire`, a revocation as a `revoke`.
_STATUS_OPS = {"revoked": "revoke", "repaired": "repair", "expired": "expire"}


def _op(held: str, status: str) -> str:
    """upsert, or the lifecycle op when the change moves the record into another state."""
    return _STATUS_OPS.get(status, "upsert") if status != held else "upsert"


def _state(p: Prepared) -> dict[str, Any]:
    """Lifecycle columns: a peer's record carries its state at its origin; ours start active."""
    revoked = p.revoked or {}
    return {
        "status": p.status,
        "revoked_at": revoked.get("at"),
        "revoke_reason": revoked.get("reason"),
        "revoked_by": revoked.get("by"),
    }


def subject_summaries(session: Session, ids: set[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    sorted_ids = sorted(ids)
    cols = (
        Subject.id,
        Subject.type,
        Subject.name,
        Subject.uscc,
        Subject.id_type,
        Subject.id_masked,
    )
    for i in range(0, len(sorted_ids), _CHUNK):
        for row in session.execute(select(*cols).where(Subject.id.in_(sorted_ids[i : i + _CHUNK]))):
            out[row.id] = {
                "id": row.id,
                "type": row.type,
                "name": row.name,
                "uscc": row.uscc,
                "id_type": row.id_type,
                "id_number": row.id_masked,
            }
    return out


def effective_status(row: dict[str, Any] | Record, today: date | None = None) -> str:
    """The status as read on `today`: a running record whose term has ended reads `expired`
    even before the expiry job has stored it (a stored `expired` stays expired)."""
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    status = str(get("status"))
    ends_on = get("ends_on")
    if (
        status in ("active", "disputed")
        and ends_on is not None
        and ends_on <= (today or today_in_china())  # ends_on is the first day it no longer runs
    ):
        return "expired"
    return status


def to_output(
    row: dict[str, Any], subjects: dict[str, dict[str, Any]], *, as_stored: bool = False
) -> dict[str, Any]:
    """The record as the API and the feed show it: content plus the state the hub keeps.

    The API shows the status as read today (`effective_status`); the feed and the history
    (`as_stored`) carry the status the record has at its version, so a peer stores what its
    origin stores, and an expiry reaches it as its own change.
    """
    out: dict[str, Any] = {"id": row["id"], **content_of(row)}
    subject = dict(subjects[row["subject_id"]])
    # The name the record's decision states (a record stored before it was kept: the current).
    subject["name"] = (out.pop("subject", None) or subject)["name"]
    rep = out.pop("legal_rep", None)
    if rep is not None or row.get("legal_rep_id"):
        rep_summary = subjects.get(row.get("legal_rep_id") or "", {})
        subject["legal_rep"] = {
            "name": (rep or {}).get("name") or rep_summary.get("name"),
            "id_type": rep_summary.get("id_type"),
            "id_number": rep_summary.get("id_number"),
        }
    out.update(
        subject=subject,
        domains=row["domains"],
        severity=row["severity"],
        publish_until=row["publish_until"].isoformat() if row["publish_until"] else None,
        status=row["status"] if as_stored else effective_status(row),
        version=row["version"],
        origin={"hub": row["origin_hub"], "id": row["origin_id"], "version": row["origin_version"]},
        created_at=row["created_at"].isoformat(),
        updated_at=row["updated_at"].isoformat(),
        revoked=(
            {
                "at": row["revoked_at"].isoformat(),
                "reason": row["revoke_reason"],
                "by": row["revoked_by"],
            }
            if row["revoked_at"]
            else None
        ),
    )
    return out


def record_row(record: Record) -> dict[str, Any]:
    return {c: getattr(record, c) for c in _COLUMNS}


def snapshots(
    session: Session, rows: Sequence[dict[str, Any]]
) -> dict[tuple[str, int], dict[str, Any]]:
    """Each record row as its version is kept in history (for `changes.preserve`)."""
    ids = {r["subject_id"] for r in rows} | {r["legal_rep_id"] for r in rows if r["legal_rep_id"]}
    subjects = subject_summaries(session, ids)
    return {(r["id"], r["version"]): to_output(r, subjects, as_stored=True) for r in rows}


def get_record(session: Session, record_id: str, with_history: bool = True) -> dict[str, Any]:
    record = session.get(Record, record_id)
    if record is None:
        raise NotFound(f"no record {record_id}")
    row = record_row(record)
    out = to_output(
        row,
        subject_summaries(
            session, {record.subject_id} | ({record.legal_rep_id} if record.legal_rep_id else set())
        ),
    )
    if with_history:
        changes = session.execute(
            select(RecordChange)
            .where(RecordChange.record_id == record_id)
            .order_by(RecordChange.version)
        ).scalars()
        out["history"] = [
            {
                "version": c.version,
                "op": c.op,
                "at": c.at,
                "actor": c.actor,
                # No snapshot: the current version, which is the record itself.
                "record": c.snapshot if c.snapshot is not None else dict(out),
            }
            for c in changes
        ]
    return out


def list_records(
    session: Session,
    *,
    subject: str | None,
    kind: str | None,
    status: str | None,
    page: int,
    page_size: int,
) -> dict[str, Any]:
    query = select(Record)
    if subject:
        sid = session.scalar(
            select(Subject.id).where(or_(Subject.uscc == subject.upper(), Subject.id == subject))
        )
        query = query.where(Record.subject_id == (sid or "-"))
    if kind:
        query = query.where(Record.kind == kind)
    if status:
        today = today_in_china()
        live = or_(Record.ends_on.is_(None), Record.ends_on > today)
        if status == "expired":
            # Stored by the expiry job, or due and not yet reached by it.
            running = Record.status.in_(("active", "disputed"))
            query = query.where(
                or_(Record.status == "expired", running & (Record.ends_on <= today))
            )
        elif status in ("active", "disputed"):
            query = query.where(Record.status == status, live)
        else:
            query = query.where(Record.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    records = session.scalars(
        query.order_by(Record.decided_on.desc(), Record.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    ids = {r.subject_id for r in records} | {r.legal_rep_id for r in records if r.legal_rep_id}
    subjects = subject_summaries(session, ids)
    return {
        "items": [to_output(record_row(r), subjects) for r in records],
        "page": page,
        "page_size": page_size,
        "total": total,
    }


def revoke(session: Session, record_id: str, reason: str, actor: Actor) -> dict[str, Any]:
    """Revoke a record: it stays in history, stops counting, and the change travels to peers."""
    record = session.get(Record, record_id, with_for_update=True)
    if record is None:
        raise NotFound(f"no record {record_id}")
    if not actor.is_admin and (actor.kind != "department" or record.authority_uscc != actor.uscc):
        audit.record_refusal(
            session,
            actor.name,
            "record.refused",
            "record",
            record_id,
            {"action": "revoke", "authority": record.authority_uscc},
        )
        raise Forbidden("only the deciding department (or the joint office) may revoke this record")
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
        {"version": record.version, "reason": reason},
    )
    return out
