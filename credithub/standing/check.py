"""The bidder check: barred, caution or clear in a domain at an instant, each restriction
citing its measure, legal basis and record; every answer recorded with its digest so a
procuring entity can later prove what it was told.

This is the hub's hottest path. A subject and its stored standing come back from one indexed
query (a batch: one per few hundred subjects); only what that misses (legacy aliases, stale or
past standings) takes the slower general paths.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from flask import current_app
from sqlalchemy import and_, bindparam, case, or_, select

from credithub.db import Read, UtcDateTime, bulk_insert, canonical, db, new_id, table_of, utcnow
from credithub.entities.identifiers import Uscc
from credithub.entities.models import Subject
from credithub.entities.service import SubjectRef, find_subjects, ref_for_uscc
from credithub.ops import metrics
from credithub.rules import active_pack
from credithub.standing.checklog import CheckLogBuffer
from credithub.standing.models import CheckLog, StandingRow
from credithub.standing.service import CHUNK, compute_all
from credithub.standing.values import verdict_of
from credithub.sync.states import freshness
from credithub.webhooks import watches
from schemas.check import RESTRICTION_KEYS

# How long a worker reuses the freshness of its sources (`sources` in answers): a hub fed by
# other platforms would otherwise read its sync state on every check.
SOURCES_SECONDS = 1.0


@dataclass
class Asked:
    """One subject of a check as the client named it."""

    ref: SubjectRef
    code: str  # the USCC, or the masked ID number: what the log and the answer may show


@dataclass
class _Found:
    id: str
    name: str
    type: str
    standing: dict[str, Any] | None = None  # as stored (Standing.to_dict), for the instant asked
    related: list[dict[str, Any]] | None = None


class _Row(NamedTuple):
    id: str
    name: str
    type: str
    uscc: str | None
    id_hash: str | None
    data: dict[str, Any] | None  # the stored standing, when it answers for the instant asked
    fed_hash: str | None = None  # persons only (_BY_PERSON)


_SUBJECTS, _STANDINGS = table_of(Subject), table_of(StandingRow)
_AT = bindparam("at", type_=UtcDateTime())
# standing.service.is_current, in SQL: stored under the active pack (`digest`), computed at or
# before the instant asked (`at`), still valid then. A standing that does not answer is computed
# on the spot.
IS_CURRENT = and_(
    _STANDINGS.c.pack_digest == bindparam("digest"),
    _STANDINGS.c.computed_at <= _AT,
    or_(_STANDINGS.c.valid_until.is_(None), _STANDINGS.c.valid_until > _AT),
)
_JOINED = select(
    _SUBJECTS.c.id, _SUBJECTS.c.name, _SUBJECTS.c.type, _SUBJECTS.c.uscc, _SUBJECTS.c.id_hash,
    case((IS_CURRENT, _STANDINGS.c.data)).label("data"),
).select_from(
    _SUBJECTS.outerjoin(_STANDINGS, _STANDINGS.c.subject_id == _SUBJECTS.c.id)
)  # fmt: skip
# A single check by USCC, the hot path: one prebuilt statement, no session.
_ONE_BY_USCC = Read(_JOINED.where(_SUBJECTS.c.uscc == bindparam("code")))
# Batches: a few hundred subjects per statement, in the request's session. A person is found
# by this hub's own hash or by the federation hash, so one recorded at another hub (known here
# only by the hash it travelled with) is found too.
_BY_USCC = _JOINED.where(_SUBJECTS.c.uscc.in_(bindparam("codes", expanding=True)))
_BY_PERSON = _JOINED.add_columns(_SUBJECTS.c.fed_hash).where(
    or_(
        _SUBJECTS.c.id_hash.in_(bindparam("codes", expanding=True)),
        _SUBJECTS.c.fed_hash.in_(bindparam("feds", expanding=True)),
    )
)


def _rows(asked: Sequence[Asked], at: datetime) -> list[_Row]:
    params: dict[str, Any] = {"at": at, "digest": active_pack().digest}
    if len(asked) == 1 and asked[0].ref.lookup_keys()[0][0] == "uscc":
        code = asked[0].ref.lookup_keys()[0][1]
        return [_Row(*row) for row in _ONE_BY_USCC.all(db.read_engine, code=code, **params)]
    conn = db.read_session.connection()
    rows: list[_Row] = []
    usccs = sorted({a.ref.uscc for a in asked if a.ref.uscc})
    for i in range(0, len(usccs), CHUNK):
        chunk = conn.execute(_BY_USCC, {"codes": usccs[i : i + CHUNK], **params})
        rows.extend(_Row(*row) for row in chunk)
    persons = sorted({(a.ref.id_hash, a.ref.fed_hash) for a in asked if a.ref.id_hash})
    for i in range(0, len(persons), CHUNK):
        part = persons[i : i + CHUNK]
        codes, feds = [p[0] for p in part], [p[1] for p in part]
        chunk = conn.execute(_BY_PERSON, {"codes": codes, "feds": feds, **params})
        rows.extend(_Row(*row) for row in chunk)
    return rows


def _lookup(asked: Sequence[Asked], at: datetime) -> list[_Found | None]:
    by_key: dict[tuple[str, str], _Found] = {}
    for row in _rows(asked, at):
        found = _Found(row.id, row.name, row.type)
        if row.data is not None:
            found.standing = row.data
            found.related = row.data.get("related", [])
        if row.uscc is not None:
            by_key[("uscc", row.uscc)] = found
        if row.id_hash is not None:
            by_key[("id", row.id_hash)] = found
        if row.fed_hash is not None:
            by_key[("fed", row.fed_hash)] = found
    result: list[_Found | None] = []
    for a in asked:
        # The USCC, or a person's own hash, then the federation hash (recorded at another hub).
        hit = by_key.get(a.ref.lookup_keys()[0])
        if hit is None and a.ref.fed_hash:
            hit = by_key.get(("fed", a.ref.fed_hash))
        result.append(hit)
    _resolve_aliases(asked, result)
    _compute_stale([f for f in result if f is not None and f.standing is None], at)
    return result


def _resolve_aliases(asked: Sequence[Asked], result: list[_Found | None]) -> None:
    """Subjects known only by a legacy code (e.g. the 组织机构代码 inside the USCC asked for)."""
    missing = [i for i, f in enumerate(result) if f is None]
    if not missing:
        return
    subjects = find_subjects(db.read_session, [asked[i].ref for i in missing])
    for i, subject in zip(missing, subjects, strict=True):
        if subject is not None:
            result[i] = _Found(subject.id, subject.name, subject.type)


def _compute_stale(found: list[_Found], at: datetime) -> None:
    # On the primary: the records are read where they are written (`at` past a stored
    # standing's validity computes it from them).
    if not found:
        return
    computed = compute_all(db.session, sorted({f.id for f in found}), at)
    for f in found:
        standing, f.related, _ = computed[f.id]
        f.standing = None if standing is None else standing.to_dict()


def _in_domain(restrictions: Sequence[dict[str, Any]], domain: str) -> list[dict[str, Any]]:
    return [r for r in restrictions if domain in r["domains"]]


def answer(found: _Found | None, asked: Asked, domain: str, at: str) -> dict[str, Any]:
    """One answer; `at` is the instant asked, as ISO 8601 text."""
    subject: dict[str, Any] = {"name": found.name if found else None}
    if found is not None:
        subject["type"] = found.type
    subject["id_number" if asked.ref.type == "person" else "uscc"] = asked.code
    if found is None or found.standing is None:
        return {
            "subject": subject,
            "known": False,
            "verdict": "clear",
            "restrictions": [],
            "score": None,
            "related": [],
            "at": at,
        }
    # Straight from the standing as stored (Standing.to_dict), without building the objects for
    # every check: a restriction's fields are the answer's (schemas.check.RESTRICTION_KEYS).
    standing = found.standing
    restrictions = _in_domain(standing["restrictions"], domain)
    related = []
    for party in found.related or []:
        party_restrictions = _in_domain(party["restrictions"], domain)
        if party_restrictions:
            related.append({**party, "restrictions": party_restrictions})
    return {
        "subject": subject,
        "known": True,
        "verdict": verdict_of({r["effect"] for r in restrictions}),
        "restrictions": [{k: r[k] for k in RESTRICTION_KEYS} for r in restrictions],
        "score": {
            "value": float(standing["score"]),
            "level": standing["level"],
            "points": int(standing["points"]),
        },
        "related": related,
        "at": at,
    }


def check_one(code: Uscc, domain: str, at: datetime, client: str) -> bytes:
    """The single check, as the lane and the view answer it: the organization of a checked USCC
    in `domain` at `at`, recorded, as the answer's JSON body."""
    asked = Asked(ref_for_uscc(code), code.code)
    [answer] = check([asked], domain, at, client)
    return answers_json(answer, [answer])


def check(asked: Sequence[Asked], domain: str, at: datetime, client: str) -> list[dict[str, Any]]:
    """Answer for each subject, in order, and record every answer."""
    found = _lookup(asked, at)
    at_text = at.isoformat()
    answers = [answer(f, a, domain, at_text) for f, a in zip(found, asked, strict=True)]
    sources = _sources()
    if sources:  # a hub fed by others says how fresh each source is
        for out in answers:
            out["sources"] = sources
    _record(found, asked, answers, domain, at, client)
    metrics.count_checks([out["verdict"] for out in answers])
    return answers


def _sources() -> list[dict[str, Any]]:
    cached: list[Any] = current_app.extensions.setdefault("credithub.check_sources", [0.0, []])
    now = time.monotonic()
    if now >= cached[0]:
        cached[:] = [now + SOURCES_SECONDS, freshness(db.session)]
    sources: list[dict[str, Any]] = cached[1]
    return sources


# The answers' body as the standard encoder writes it (one encoder: json.dumps with options
# builds a new one per call); the digest's JSON is db.canonical_json, with sorted keys.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _orjson_writes_alike(answers: Sequence[dict[str, Any]]) -> bool:
    """Whether orjson writes these answers byte for byte as the standard encoder does.

    For strings, lists, objects, booleans, null and 64-bit integers it does; an answer's one
    float is its score, and orjson writes a float below 0.0001 in another form (0.00001, not
    1e-05) and NaN or infinity as null. Scores are whole cents, so this only guards the rule.
    """
    for answer in answers:
        score = answer.get("score")
        if score is not None:
            value = score["value"]
            if not canonical.writes_alike(value):
                return False
    return True


def canonical_json(answer: dict[str, Any]) -> bytes:
    """The answer as canonical JSON (sorted keys, no spaces, UTF-8): what its digest is of."""
    score = answer.get("score")
    return canonical.canonical_json(answer, floats=() if score is None else (score["value"],))


def answers_json(body: dict[str, Any], answers: Sequence[dict[str, Any]]) -> bytes:
    """The body carrying `answers`, as compact JSON in the answers' own key order (UTF-8)."""
    if _orjson_writes_alike(answers):
        try:
            return orjson.dumps(body)
        except orjson.JSONEncodeError:
            pass
    return _COMPACT.encode(body).encode()


def _digest(answer: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(answer)).hexdigest()


def _record(
    found: Sequence[_Found | None],
    asked: Sequence[Asked],
    answers: list[dict[str, Any]],
    domain: str,
    at: datetime,
    client: str,
) -> None:
    batch = new_id() if len(asked) > 1 else None
    now = utcnow()
    now_text = now.isoformat()
    rows = []
    seen: dict[tuple[str, str, str], datetime] = {}  # who watches whom (check.changed)
    for subject, a, out in zip(found, asked, answers, strict=True):
        key = a.ref.uscc or a.ref.fed_hash or a.ref.id_hash  # as a watch keys it
        if key is not None:
            seen[(key, client, domain)] = now
        digest = _digest(out)
        out["check"] = {"digest": digest, "asked_at": now_text}
        rows.append(
            {
                "asked_at": now,
                "client": client,
                "batch": batch,
                "domain": domain,
                "as_of": at,
                "subject_id": subject.id if subject else None,
                "subject_code": a.code,
                "verdict": out["verdict"],
                "digest": digest,
            }
        )
    buffer: CheckLogBuffer | None = current_app.extensions["credithub.check_log"]
    if buffer is not None:
        if batch is None:
            buffer.add(rows, seen)  # written within check.log_flush_ms by the worker's writer
            return
        # A batch writes its log rows itself, and leaves who watches whom to the writer: an
        # upsert of 10,000 watches took a third of a batch's time on PostgreSQL.
        buffer.add((), seen)
        seen = {}
    # The log is the only write of a check: take the write lock only now (see begin_writing).
    db.begin_writing()
    bulk_insert(db.session, CheckLog, rows)
    watches.record(db.session.connection(), seen)
