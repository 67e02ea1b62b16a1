"""Materialise standings: recompute them with every record change, and when time makes them due.

A stored standing answers checks for instants from when it was computed until `valid_until`
(the next instant time alone changes it) under the rule pack it was computed with. Anything
else (a past instant, a later one, another pack) is computed from the records on the spot.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import orjson
from sqlalchemy import Text, cast, delete, or_, select
from sqlalchemy.orm import Session

from credithub.db import as_date, bulk_insert, date_as_read, one_of, table_of, utcnow
from credithub.entities.models import Subject
from credithub.records.models import Record
from credithub.rules import active_pack
from credithub.rules.pack import RulePack
from credithub.standing.compute import compute_standing
from credithub.standing.models import StandingRow
from credithub.standing.values import RecordFacts, Standing
from credithub.webhooks import changed

CHUNK = 500
# Read as plain rows (Core): the ORM's loading cost about half of reading a batch's facts. JSON
# is read as text and parsed here (orjson), dates as the driver gives them (SQLite: ISO text,
# parsed here): the types' own result processors cost as much again on SQLite.
_RECORDS = table_of(Record)
_DATES = frozenset({"decided_on", "starts_on", "ends_on"})
_JSON = frozenset({"domains", "content"})
_FACT_COLUMNS = tuple(
    date_as_read(_RECORDS.c[name]) if name in _DATES
    else cast(_RECORDS.c[name], Text).label(name) if name in _JSON
    else _RECORDS.c[name]
    for name in (
        "id", "kind", "ref", "subject_id", "authority_uscc", "authority_name", "decided_on",
        "starts_on", "ends_on", "code", "domains", "severity", "status", "revoked_at", "content",
        "legal_rep_id",
    )
)  # fmt: skip


def _chunks(values: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def record_facts(row: Sequence[Any]) -> RecordFacts:
    """The facts of one stored record, from a row of `_FACT_COLUMNS`."""
    (id_, kind, ref, _, authority_uscc, authority_name, decided_on, starts_on, ends_on, code,
     domains, severity, status, revoked_at, content, legal_rep_id) = row  # fmt: skip
    content = orjson.loads(content)
    fine = content.get("fine_yuan")
    return RecordFacts(
        id=id_, kind=kind, ref=ref, authority_uscc=authority_uscc, authority_name=authority_name,
        decided_on=as_date(decided_on), starts_on=as_date(starts_on),
        ends_on=None if ends_on is None else as_date(ends_on), code=code,
        categories=tuple(content.get("categories") or ()),
        fine_yuan=Decimal(fine) if fine is not None else None,
        domains=tuple(orjson.loads(domains)), severity=severity, status=status,
        revoked_at=revoked_at, basis=content.get("basis") or "", legal_rep_id=legal_rep_id,
    )  # fmt: skip


def written_facts(row: Mapping[str, Any]) -> RecordFacts:
    """The facts of a record row as a batch writes it (`records.writer`), before it is read
    back: what `record_facts` reads from it once stored."""
    content = orjson.loads(str(row["content"]))  # the encoded text (db.JsonText)
    fine = content.get("fine_yuan")
    return RecordFacts(
        id=row["id"], kind=row["kind"], ref=row["ref"], authority_uscc=row["authority_uscc"],
        authority_name=row["authority_name"], decided_on=row["decided_on"],
        starts_on=row["starts_on"], ends_on=row["ends_on"], code=row["code"],
        categories=tuple(content.get("categories") or ()),
        fine_yuan=Decimal(fine) if fine is not None else None,
        domains=tuple(row["domains"]), severity=row["severity"], status=row["status"],
        revoked_at=row["revoked_at"], basis=content.get("basis") or "",
        legal_rep_id=row["legal_rep_id"],
    )  # fmt: skip


_SUBJECTS = table_of(Subject)


def facts_for(session: Session, subject_ids: Iterable[str]) -> dict[str, list[RecordFacts]]:
    """Every record of each subject, as the standing computation needs it, and the listings of
    organizations that name the subject as legal representative (`RecordFacts.via`: whether
    the list reaches the person is the pack's to say, `compute`)."""
    ids = sorted(set(subject_ids))
    found: dict[str, list[RecordFacts]] = {sid: [] for sid in ids}
    for part in _chunks(ids):
        query = select(*_FACT_COLUMNS).where(one_of(session, _RECORDS.c.subject_id, part))
        for row in session.execute(query):
            found[row[3]].append(record_facts(row))
        for row in session.execute(_reaching(session, part)):
            fact = record_facts(row[:-2])
            fact.via = (row[-2], row[-1] or "")
            found[fact.legal_rep_id or ""].append(fact)
    return found


def _reaching(session: Session, person_ids: Sequence[str]) -> Any:
    """Listings of other subjects naming one of these persons as legal representative, with
    the listed subject's name and USCC."""
    return (
        select(*_FACT_COLUMNS, _SUBJECTS.c.name, _SUBJECTS.c.uscc)
        .join(_SUBJECTS, _SUBJECTS.c.id == _RECORDS.c.subject_id)
        .where(
            one_of(session, _RECORDS.c.legal_rep_id, person_ids),
            _RECORDS.c.kind == "blacklist",
            _RECORDS.c.subject_id != _RECORDS.c.legal_rep_id,
        )
    )


def reached_persons(session: Session, subject_ids: Sequence[str]) -> set[str]:
    """The legal representatives these subjects' listings name: whose standing a change to
    those listings may change (457号)."""
    found: set[str] = set()
    for part in _chunks(sorted(set(subject_ids))):
        query = select(_RECORDS.c.legal_rep_id).where(
            one_of(session, _RECORDS.c.subject_id, part),
            _RECORDS.c.kind == "blacklist",
            _RECORDS.c.legal_rep_id.is_not(None),
        )
        found.update(str(p) for p in session.scalars(query.distinct()))
    return found


def legal_reps(facts: Mapping[str, Sequence[RecordFacts]]) -> dict[str, str]:
    """The legal representative each organization's latest record names (if any)."""
    reps: dict[str, str] = {}
    for sid, records in facts.items():
        named = [f for f in records if f.legal_rep_id is not None and f.via is None]
        if named:
            reps[sid] = max(named, key=lambda f: (f.decided_on, f.id)).legal_rep_id or ""
    return reps


def represented_by(session: Session, person_ids: Sequence[str]) -> set[str]:
    """Organizations whose records name one of these persons as legal representative."""
    found: set[str] = set()
    for part in _chunks(sorted(set(person_ids))):
        named = one_of(session, _RECORDS.c.legal_rep_id, part)
        found.update(session.scalars(select(_RECORDS.c.subject_id).where(named).distinct()))
    return found


def related_parties(
    session: Session,
    subject_ids: Sequence[str],
    at: datetime,
    facts: Mapping[str, list[RecordFacts]] | None = None,
) -> dict[str, tuple[list[dict[str, Any]], datetime | None]]:
    """Per organization: its legal representative's listings that reach representatives
    (发改法规〔2018〕457号), as restrictions in every domain, and when they next change."""
    pack = active_pack()
    known = facts if facts is not None else facts_for(session, subject_ids)
    reps = legal_reps({sid: known[sid] for sid in subject_ids})
    if not reps:
        return {}
    missing = set(reps.values()) - set(known)
    rep_facts = {**known, **facts_for(session, missing)} if missing else known
    reaching: dict[str, list[RecordFacts]] = {}
    for rep in set(reps.values()):
        listed = [
            f
            for f in rep_facts.get(rep, [])
            if f.kind == "blacklist"
            and f.via is None
            and (rule := pack.lists.get(f.code or "")) is not None
            and "legal_rep" in rule.reaches
        ]
        if listed:
            reaching[rep] = listed
    if not reaching:
        return {}
    people = {
        row.id: row
        for row in session.execute(
            select(Subject.id, Subject.name, Subject.id_masked).where(Subject.id.in_(reaching))
        )
    }
    out: dict[str, tuple[list[dict[str, Any]], datetime | None]] = {}
    for sid, rep in reps.items():
        if rep not in reaching:
            continue
        standing = compute_standing(reaching[rep], pack, at)
        if standing.restrictions:
            person = people[rep]
            entry = {
                "role": "legal_rep",
                "name": person.name,
                "id_number": person.id_masked,
                "restrictions": [r.to_dict() for r in standing.restrictions],
            }
            out[sid] = ([entry], standing.valid_until)
        elif standing.valid_until is not None:
            out[sid] = ([], standing.valid_until)
    return out


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def compute_all(
    session: Session,
    subject_ids: Sequence[str],
    at: datetime,
    known: Mapping[str, list[RecordFacts]] | None = None,
) -> dict[str, tuple[Standing, list[dict[str, Any]], datetime | None]]:
    """Standing, related parties and validity of each subject at `at`, from its records;
    `known`: the facts of some of them, given (the others' are read)."""
    pack = active_pack()
    if known:
        facts = {**facts_for(session, [s for s in subject_ids if s not in known]), **known}
    else:
        facts = facts_for(session, subject_ids)
    related = related_parties(session, subject_ids, at, facts)
    out = {}
    for sid in subject_ids:
        standing = compute_standing(facts[sid], pack, at)
        parties, rel_until = related.get(sid, ([], None))
        out[sid] = (standing, parties, _earliest(standing.valid_until, rel_until))
    return out


def _stored_form(standing: Standing, related: list[dict[str, Any]]) -> dict[str, Any]:
    data = standing.to_dict()
    data["related"] = related
    return data


def refresh(
    session: Session,
    subject_ids: Iterable[str],
    known: Mapping[str, list[RecordFacts]] | None = None,
    now: datetime | None = None,
) -> int:
    """Recompute and store the standings of these subjects, of the organizations they
    represent and of the legal representatives their listings name (457号), in the caller's
    transaction: every write, `credithub rescore` and the jobs. A verdict that changes in a
    domain someone watches writes its `check.changed` events. `known`: the whole facts of
    subjects the caller just created, not read back (a person a listing of the batch reaches
    is read back all the same: the listing is part of its facts)."""
    ids = set(subject_ids)
    if not ids:
        return 0
    represent = sorted(ids - known.keys()) if known else sorted(ids)
    reached = reached_persons(session, sorted(ids))
    if known and reached & known.keys():  # a person the batch created and a listing reaches
        known = {sid: facts for sid, facts in known.items() if sid not in reached}
    ordered = sorted(ids | represented_by(session, represent) | reached)
    pack, now = active_pack(), now or utcnow()
    watching = changed.watched(session, ordered, now)  # verdicts before, for check.changed
    computed = {
        sid: (_stored_form(standing, related), valid_until)
        for sid, (standing, related, valid_until) in compute_all(
            session, ordered, now, known
        ).items()
    }
    rows = [
        {
            "subject_id": sid,
            "computed_at": now,
            "valid_until": valid_until,
            "pack_digest": pack.digest,
            "data": data,
        }
        for sid, (data, valid_until) in computed.items()
    ]
    for part in _chunks(ordered):
        session.execute(delete(StandingRow).where(one_of(session, StandingRow.subject_id, part)))
    bulk_insert(session, StandingRow, rows)
    if watching is not None:
        watching.changed(session, {sid: data for sid, (data, _) in computed.items()}, now)
    return len(rows)


def stored_standings(session: Session, subject_ids: Iterable[str]) -> dict[str, StandingRow]:
    ids = sorted(set(subject_ids))
    found: dict[str, StandingRow] = {}
    for part in _chunks(ids):
        query = select(StandingRow).where(one_of(session, StandingRow.subject_id, part))
        for row in session.scalars(query):
            found[row.subject_id] = row
    return found


class StoredStanding(Protocol):
    """What tells whether a stored standing still answers (a StandingRow, or a joined row)."""

    computed_at: datetime
    valid_until: datetime | None
    pack_digest: str


def is_current(row: StoredStanding | None, at: datetime, pack: RulePack) -> bool:
    return (
        row is not None
        and row.pack_digest == pack.digest
        and row.computed_at <= at
        and (row.valid_until is None or at < row.valid_until)
    )


def standings_at(session: Session, subject_ids: Sequence[str], at: datetime) -> dict[str, Standing]:
    """Each subject's standing at `at`: stored when current for `at`, computed otherwise."""
    pack = active_pack()
    stored = stored_standings(session, subject_ids)
    result: dict[str, Standing] = {}
    stale: list[str] = []
    for sid in subject_ids:
        row = stored.get(sid)
        if row is not None and is_current(row, at, pack):
            result[sid] = Standing.from_dict(row.data)
        else:
            stale.append(sid)
    if stale:
        facts = facts_for(session, stale)
        for sid in stale:
            result[sid] = compute_standing(facts[sid], pack, at)
    return result


def due_subjects(session: Session, now: datetime, everything: bool = False) -> list[str]:
    """Subjects whose stored standing time or a rule-pack change has made stale, or that have
    records but no standing yet; with `everything`, every subject with records."""
    with_records = select(Record.subject_id).distinct()
    if everything:
        return [str(sid) for sid in session.scalars(with_records)]
    stale = select(StandingRow.subject_id).where(
        or_(StandingRow.valid_until <= now, StandingRow.pack_digest != active_pack().digest)
    )
    missing = with_records.where(~Record.subject_id.in_(select(StandingRow.subject_id)))
    return [str(sid) for sid in session.scalars(stale.union(missing))]
