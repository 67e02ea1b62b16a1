"""Check the stored records against the versions the audit chain vouches for.

Every audited change that writes a record version names it with its version digest
(`records.digest`): a batch (`records.ingest`, `records.expire`) in its `changes`, a revocation
or state change (`record.<state>`) in its `digest`. While `audit.verify` walks the chain,
`Audited` keeps the last version named of each record; `check` then reads every record and
names each one whose stored version is not that version: content, state, version or any other
column edited in the database, a record added there, or one deleted.

The versions are held in memory while the records are read: about 300 bytes a record (3 GB
for 10 million records).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy.orm import Session

from credithub.audit.models import AuditEntry
from credithub.db import table_of
from credithub.records.digest import stored_content_digest, version_digest
from credithub.records.models import Record
from credithub.records.refusals import REFUSED

BATCH_ACTIONS = ("records.ingest", "records.expire")
_READ = 2000  # records read at a time


@dataclass(frozen=True, slots=True)
class Named:
    """A record version as an audit entry names it: `digest` its version digest (raw bytes;
    None in entries written before they carried version digests, whose `content` digest is
    kept instead)."""

    version: int
    digest: bytes | None
    content: str | None
    seq: int


class Audited:
    """The last version of each record the chain names, collected entry by entry."""

    def __init__(self) -> None:
        self.versions: dict[str, Named] = {}

    def __call__(self, entry: AuditEntry) -> None:
        batch = entry.object_type == "batch" and entry.action in BATCH_ACTIONS
        one = entry.object_type == "record" and entry.action.startswith("record.")
        if not (batch or one) or entry.action == REFUSED:
            return
        try:
            detail = orjson.loads(entry.detail)
            if batch:
                for change in detail["changes"]:
                    digest = change[4] if len(change) > 4 else None
                    self.versions[change[0]] = _named(change[1], digest, change[3], entry.seq)
            elif "version" in detail:
                named = _named(detail["version"], detail.get("digest"), None, entry.seq)
                self.versions[entry.object_id] = named
        except (orjson.JSONDecodeError, KeyError, IndexError, TypeError, ValueError):
            return  # an altered entry: the chain's own check names it


def _named(version: int, digest: str | None, content: str | None, seq: int) -> Named:
    if digest is None:
        return Named(version, None, content, seq)
    return Named(version, bytes.fromhex(digest), None, seq)


@dataclass
class RecordsResult:
    checked: int = 0
    # Records whose last audited version predates version digests: only their content checked.
    content_only: int = 0
    problems: list[str] = field(default_factory=list)


def check(session: Session, audited: Audited, max_problems: int = 20) -> RecordsResult:
    """Every stored record against the last version the chain names of it (`audited` is
    consumed: each version is taken out as its record is read, none copied)."""
    out = RecordsResult()
    left = audited.versions
    table, last = table_of(Record), ""
    while len(out.problems) < max_problems:
        query = table.select().where(table.c.id > last).order_by(table.c.id).limit(_READ)
        rows = [dict(row) for row in session.execute(query).mappings()]
        if not rows:
            break
        for row in rows:
            out.checked += 1
            problem = _problem(row, left.pop(row["id"], None), out)
            if problem:
                out.problems.append(f"record {row['id']}: {problem}")
        last = rows[-1]["id"]
    else:
        return out
    for record_id, named in sorted(left.items())[: max_problems - len(out.problems)]:
        out.problems.append(
            f"record {record_id}: version {named.version} is audited (entry {named.seq}) "
            "but the record is missing from the database"
        )
    return out


def _problem(row: dict[str, Any], named: Named | None, out: RecordsResult) -> str | None:
    version = row["version"]
    if named is None:
        return f"version {version} is stored but no audit entry names the record"
    content = stored_content_digest(row)
    if version != named.version:
        return (
            f"version {version} is stored but the audit trail's last version is "
            f"{named.version} (entry {named.seq})"
        )
    if named.digest is None:
        out.content_only += 1
        if named.content is not None and named.content != content:
            return f"its content differs from version {version} as audited (entry {named.seq})"
        return None
    if version_digest(row, content) != named.digest.hex():
        return (
            f"the stored version {version} differs from the version audited "
            f"(entry {named.seq}): edited outside the hub"
        )
    if row["content_hash"] != content:
        return "its stored content digest does not match its content"
    return None
