"""The digests of a record as stored: its content digest, and the digest of the version.

The content digest (`content_hash`) tells a changed record from one sent again unchanged: the
canonical JSON of [content, domains, severity, publish_until], then the subjects' ids.

The version digest is what the audit chain vouches for: every audited change that writes a
record version names it (`records.ingest`, `records.expire`, `record.revoke`, a state change),
and `credithub audit verify` recomputes it from the stored row (`records.audited`). It is the
SHA-256 of the canonical JSON of every column that says what the record is and decides a check
(identity, subjects, dates, state, version, origin, revocation), with the content digest
recomputed from the stored content standing for the content itself. Bookkeeping columns
(`raw`, `received_from`, `created_at`, `updated_at`) are left out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from credithub.db import canonical_json

# The columns a version digest covers, in this order, beside the content digest.
VERSION_COLUMNS = (
    "id",
    "version",
    "status",
    "kind",
    "ref",
    "authority_uscc",
    "authority_name",
    "subject_id",
    "legal_rep_id",
    "decided_on",
    "code",
    "starts_on",
    "ends_on",
    "origin_hub",
    "origin_id",
    "origin_version",
    "revoked_at",
    "revoke_reason",
    "revoked_by",
)


def content_digest(
    content_json: str,
    domains: list[str],
    severity: str | None,
    publish_until: date | None,
    subject_id: str,
    legal_rep_id: str | None,
) -> str:
    """The content digest of a record: `content_json` is its content as canonical JSON."""
    until = publish_until.isoformat() if publish_until else None
    rest = canonical_json([domains, severity, until], floats=())
    body = b"[" + content_json.encode() + b"," + rest[1:]
    who = f"\n{subject_id}\n{legal_rep_id or ''}".encode()
    return hashlib.sha256(body + who).hexdigest()


def stored_content_digest(row: Mapping[str, Any]) -> str:
    """The content digest of a record row as read from the database."""
    content = canonical_json(row["content"], floats=()).decode()
    return content_digest(
        content,
        list(row["domains"] or []),
        row["severity"],
        row["publish_until"],
        row["subject_id"],
        row["legal_rep_id"],
    )


def version_digest(row: Mapping[str, Any], content: str) -> str:
    """The digest of the record version `row` (its columns), whose content digest is
    `content`: for a row read back, `stored_content_digest(row)`, never the stored column."""
    values = [_plain(row[c]) for c in VERSION_COLUMNS]
    values.append(content)
    return hashlib.sha256(canonical_json(values, floats=())).hexdigest()


def _plain(value: Any) -> Any:
    """An instant in UTC (as each database reads it back); anything else as it is."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def stored_version_digest(row: Mapping[str, Any]) -> str:
    """The version digest of a record row as read from the database (or about to be stored)."""
    return version_digest(row, stored_content_digest(row))
