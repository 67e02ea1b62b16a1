"""The change feed (GET /api/v1/feed): every committed record change once, in commit order.

Positions are assigned under a lock at commit (records.changes), so a reader that has seen
position N can never later find a smaller one appear. Items carry the subject's identity as
hubs exchange it: codes and legacy codes, and a person (subject or legal representative) as the
masked ID number and the federation hash (`PersonalData.federation_hash`), never the number: a
peer with the same matching key finds the same person by the hash. An exchange whose format
needs the number in clear gets it put back for its own push only (`reveal_id_numbers`).
A record's `status` is the one stored at that version, not the one read today: a peer stores
what the origin stores, and learns of an expiry from the origin's `expire` change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from credithub.db import one_of, table_of
from credithub.entities.models import Subject, SubjectIdentifier
from credithub.privacy import personal_data
from credithub.records.changes import last_position
from credithub.records.models import Record, RecordChange
from credithub.records.read import OUTPUT_COLUMNS, TIME_COLUMNS, to_output
from credithub.trust.keys import signer

MAX_LIMIT = 1000
_CHUNK = 500  # subjects per IN-list
_CHANGES = table_of(RecordChange)
_RECORDS = table_of(Record)
# A version's place in this hub (its id, version and times here, its history) is not carried.
_LEFT_OUT = frozenset(("id", "version", "created_at", "updated_at", "history"))
# What a feed item is made of: the record as output (never the 双公示 row as received, `raw`,
# which stays at this hub), without the times here it leaves out (`to_output(times=False)`).
_RECORD_COLUMNS = [_RECORDS.c[key] for key in OUTPUT_COLUMNS if key not in TIME_COLUMNS]
_SUBJECTS = table_of(Subject)
_IDENTIFIERS = table_of(SubjectIdentifier)


def identity(subject: Mapping[str, Any], name: str | None = None) -> dict[str, Any]:
    """What a peer needs to find the same subject: codes, aliases, a person's federation hash
    with the masked number (`PERSON_KEYS`)."""
    out: dict[str, Any] = {"type": subject["type"], "name": name or subject["name"]}
    if subject["uscc"]:
        out["uscc"] = subject["uscc"]
    if subject["legacy"]:
        out["legacy_codes"] = dict(subject["legacy"])
    if subject["fed_hash"] is not None:
        out["id_type"] = subject["id_type"]
        out["id_masked"] = subject["id_masked"]
        out["id_hash"] = subject["fed_hash"]
    return out


# How a person is named between hubs, as a subject or a legal representative (besides "name").
PERSON_KEYS = ("id_type", "id_masked", "id_hash")


def _subjects(session: Session, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Subjects by id as plain rows, each with its legacy codes (`legacy`, scheme → value)."""
    s, i = _SUBJECTS.c, _IDENTIFIERS.c
    wanted = sorted(set(ids))
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        query = select(s.id, s.type, s.name, s.uscc, s.id_type, s.id_masked, s.fed_hash)
        for sid, kind, name, uscc, id_type, id_masked, fed_hash in session.execute(
            query.where(one_of(session, s.id, chunk))
        ):  # plain tuples: a mapping per row cost more than the row
            out[sid] = {
                "id": sid, "type": kind, "name": name, "uscc": uscc, "id_type": id_type,
                "id_masked": id_masked, "fed_hash": fed_hash, "legacy": {},
            }  # fmt: skip
        codes = select(i.subject_id, i.scheme, i.value).where(one_of(session, i.subject_id, chunk))
        for subject_id, scheme, value in session.execute(codes.order_by(i.id)):
            out[subject_id]["legacy"][scheme] = value
    return out


def _summary(subject: Mapping[str, Any]) -> dict[str, Any]:
    """The subject as the API shows it in a record (records.read.subject_summaries)."""
    return {
        "id": subject["id"],
        "type": subject["type"],
        "name": subject["name"],
        "uscc": subject["uscc"],
        "id_type": subject["id_type"],
        "id_number": subject["id_masked"],
    }


def read(
    session: Session,
    after: int,
    limit: int,
    exclude_hub: str | None,
    exclude_actor: str | None = None,
) -> dict[str, Any]:
    """Changes after position `after`, without those that came from `exclude_hub` (their
    origin) or arrived through `exclude_actor` (the connector now pushing: no echo)."""
    c = _CHANGES.c
    query = select(*feed_columns()).where(c.position > after)
    if exclude_hub:
        query = query.where(c.origin_hub != exclude_hub)
    if exclude_actor:
        query = query.where(c.actor != exclude_actor)
    changes = session.execute(query.order_by(c.position).limit(limit + 1)).all()
    has_more = len(changes) > limit
    changes = changes[:limit]
    items = build_items(session, changes)
    if has_more:
        next_cursor = changes[-1].position
    else:
        # Past everything committed, excluded changes included: they need not be read again.
        next_cursor = max(after, last_position(session), changes[-1].position if changes else 0)
    return {"items": items, "next": str(next_cursor), "has_more": has_more}


def feed_columns() -> list[Any]:
    """What `build_items` reads of a change row."""
    c = _CHANGES.c
    return [c.position, c.record_id, c.op, c.snapshot, c.signed_by, c.signature]


def build_items(session: Session, changes: Sequence[Any]) -> list[dict[str, Any]]:
    """Feed items of change rows (`feed_columns`), in their order: what the feed serves, and
    what a partner fetches by key when reconciling. Each record carries its signature: the
    origin's, kept with a version received from another hub, else this hub's own, made now
    (`credithub.trust`; Ed25519 signs alike each time)."""
    me = signer()
    stored: dict[str, dict[str, Any]] = {}
    wanted = sorted({change.record_id for change in changes})
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows = session.execute(
            select(*_RECORD_COLUMNS).where(one_of(session, _RECORDS.c.id, chunk))
        )
        keys = list(rows.keys())
        for values in rows:
            found = dict(zip(keys, values, strict=True))
            stored[found["id"]] = found
    people = _subjects(
        session,
        {r["subject_id"] for r in stored.values()}
        | {r["legal_rep_id"] for r in stored.values() if r["legal_rep_id"]},
    )
    summaries = {sid: _summary(subject) for sid, subject in people.items()}
    items = []
    for change in changes:
        row: dict[str, Any] = stored[change.record_id]
        # No snapshot: this is the record's current version, which is the record row itself.
        snapshot = change.snapshot
        record = (
            snapshot
            if snapshot is not None
            else to_output(row, summaries, as_stored=True, times=False)
        )
        subject = identity(people[row["subject_id"]], record["subject"].get("name"))
        rep = record["subject"].get("legal_rep")
        if rep is not None:
            subject["legal_rep"] = {"name": rep.get("name")}
            if row["legal_rep_id"] in people:
                person = identity(people[row["legal_rep_id"]])
                subject["legal_rep"] |= {k: person[k] for k in PERSON_KEYS if k in person}
        # What this hub keeps of its own (`_LEFT_OUT`) stays here; and absent is absent: a null
        # `severity` on a listing would be a field of another kind.
        record = {k: v for k, v in record.items() if v is not None and k not in _LEFT_OUT}
        record["subject"] = subject
        if change.signature is not None:
            record["signature"] = {"key": change.signed_by, "value": change.signature}
        else:
            record["signature"] = me.sign(record)
        items.append({"cursor": str(change.position), "op": change.op, "record": record})
    return items


def reveal_id_numbers(session: Session, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items with each person's ID number in clear where this hub holds it, for an exchange
    whose format requires the number (`Connector.sends_id_numbers`: the national 双公示
    exchange, the 前置机 file drop) and for nothing else. Found by the federation hash the item
    carries. A person received from a peer has no number here and stays as it travelled: such
    a record is reported by its origin hub."""
    out: list[dict[str, Any]] = []
    people: list[dict[str, Any]] = []
    for item in items:
        record = item.get("record")
        subject = record.get("subject") if isinstance(record, dict) else None
        if not isinstance(record, dict) or not isinstance(subject, dict):
            out.append(item)
            continue
        subject = dict(subject)
        rep = subject.get("legal_rep")
        if isinstance(rep, dict):
            subject["legal_rep"] = rep = dict(rep)
            people.append(rep)
        people.append(subject)
        out.append({**item, "record": {**record, "subject": subject}})
    people = [p for p in people if isinstance(p.get("id_hash"), str)]
    wanted = sorted({p["id_hash"] for p in people})
    s = _SUBJECTS.c
    held: dict[str, tuple[str, bytes]] = {}
    for start in range(0, len(wanted), _CHUNK):
        query = select(s.fed_hash, s.id_type, s.id_cipher).where(
            one_of(session, s.fed_hash, wanted[start : start + _CHUNK]), s.id_cipher.is_not(None)
        )
        for fed_hash, id_type, cipher in session.execute(query):
            held[fed_hash] = (id_type or "", cipher)
    pd = personal_data()
    for person in people:
        found = held.get(person["id_hash"])
        if found is not None:
            person["id_type"] = found[0]
            person["id_number"] = pd.decrypt(found[1], found[0])
    return out
