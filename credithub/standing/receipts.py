"""Screening receipts (api.md): the checks a client made, and whether this hub gave an answer.

The check log keeps each answer's digest, not the answer: a procuring entity that kept the
answer proves what it was told by sending it back, and the hub finds its digest in the log.
Single checks' log rows wait in a worker's buffer for up to `check.log_flush_ms`: both reads
write this worker's buffer first and read on a connection of their own, which sees it (another
worker's rows are there within that interval).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, func, select

from credithub.clients.cache import Caller
from credithub.db import db
from credithub.db.canonical import canonical_json
from credithub.entities.identifiers import looks_like_id_number, mask_id_number
from credithub.standing.checklog import CheckLogBuffer
from credithub.standing.models import CheckLog

# An answer's `asked_at` is the logged instant, to the microsecond; a little slack for a
# client's reformatting costs nothing (the log is searched by its `asked_at` index).
SLACK = timedelta(seconds=1)


def _write_buffer() -> None:
    buffer: CheckLogBuffer | None = current_app.extensions["credithub.check_log"]
    if buffer is not None:
        buffer.flush()


def _subject_code(subject: str) -> str:
    """As the log keeps it: a USCC, or an ID number masked."""
    text = subject.strip()
    return mask_id_number(text) if looks_like_id_number(text) else text.upper()


def listing(
    caller: Caller,
    page: int,
    page_size: int,
    subject: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    client: str | None = None,
) -> dict[str, Any]:
    """The caller's checks (admin: everyone's, or `client`'s), newest first, asked at or after
    `start` and before `end`."""
    query: Select[Any] = select(CheckLog)
    owner = client if caller.is_admin else caller.name
    if owner is not None:
        query = query.where(CheckLog.client == owner)
    if subject:
        query = query.where(CheckLog.subject_code == _subject_code(subject))
    if start is not None:
        query = query.where(CheckLog.asked_at >= start)
    if end is not None:
        query = query.where(CheckLog.asked_at < end)
    _write_buffer()
    with db.engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = conn.execute(
            query.order_by(CheckLog.asked_at.desc(), CheckLog.id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
    items = [
        {
            "digest": row.digest,
            "asked_at": row.asked_at.isoformat(),
            "client": row.client,
            "domain": row.domain,
            "at": row.as_of.isoformat(),
            "subject": row.subject_code,
            "verdict": row.verdict,
        }
        for row in rows
    ]
    return {"items": items, "page": page, "page_size": page_size, "total": total}


def _asked_at(answer: dict[str, Any]) -> datetime | None:
    check = answer.get("check")
    if not isinstance(check, dict) or not isinstance(check.get("asked_at"), str):
        return None
    try:
        instant = datetime.fromisoformat(check["asked_at"].replace("Z", "+00:00"))
    except ValueError:
        return None
    return instant if instant.tzinfo is not None else None


def verify(answer: dict[str, Any]) -> dict[str, Any]:
    """Whether this hub gave `answer` (one result, exactly as received): its digest, computed
    as the check computed it (over the answer without its `check` member), is in the log at
    the instant the answer says it was asked."""
    asked_at = _asked_at(answer)
    if asked_at is None:
        return {"recorded": False}
    given = {k: v for k, v in answer.items() if k != "check"}
    try:
        digest = hashlib.sha256(canonical_json(given)).hexdigest()
    except (TypeError, ValueError):
        return {"recorded": False}
    _write_buffer()
    query = (
        select(CheckLog.asked_at, CheckLog.client)
        .where(CheckLog.asked_at.between(asked_at - SLACK, asked_at + SLACK))
        .where(CheckLog.digest == digest)
        .order_by(CheckLog.asked_at)
        .limit(1)
    )
    with db.engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return {"recorded": False}
    return {"recorded": True, "asked_at": row.asked_at.isoformat(), "client": row.client}
