"""Issue and verify credit reports (信用报告).

A report is issued with a number and the SHA-256 of its canonical content (number, issue
time, subject and every section, as `credithub.db.canonical` writes it); the hub keeps those,
not the report. Whoever holds a printed report checks it at `/reports/<number>`: whether this
hub issued that number, for which subject and when, and whether the digest printed on it (or
computed again from its content) is the one issued. Services flush; the caller commits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from credithub import clock
from credithub.db.canonical import canonical_json
from credithub.reports.models import IssuedReport

HEX = frozenset("0123456789abcdef")


def new_number(at: datetime) -> str:
    """A report number: XYBG, the issue date (China) and 10 random hex digits."""
    return f"XYBG{clock.china_day(at):%Y%m%d}{secrets.token_hex(5).upper()}"


def digest_of(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()


def issue(session: Session, uscc: str, sections: dict[str, Any]) -> dict[str, Any]:
    """Number, time and digest a report of `sections` on the subject `uscc`; keep what
    verifies it. Returns the content the digest covers, with `digest`."""
    at = clock.now()
    content = {
        "number": new_number(at),
        "issued_at": at.isoformat(),
        "subject": uscc,
        "sections": sections,
    }
    digest = digest_of(content)
    session.add(
        IssuedReport(number=content["number"], digest=digest, subject_uscc=uscc, issued_at=at)
    )
    session.flush()
    return {**content, "digest": digest}


def verify(session: Session, number: str, digest: str | None) -> dict[str, Any]:
    """Whether this hub issued report `number` (subject and time if so), and whether `digest`
    (when given) is the digest it was issued with."""
    found = session.get(IssuedReport, number.strip().upper()) if len(number) <= 32 else None
    if found is None:
        return {"issued": False, "number": number}
    given = (digest or "").strip().lower()
    matches = None
    if given:
        matches = (
            len(given) == 64 and set(given) <= HEX and hmac.compare_digest(given, found.digest)
        )
    return {
        "issued": True,
        "number": found.number,
        "subject": found.subject_uscc,
        "issued_at": found.issued_at,
        "matches": matches,
    }
