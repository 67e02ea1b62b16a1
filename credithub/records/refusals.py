"""Refused items: audited as refusals, and listed to the joint office.

A refusal is an item its sender was not allowed to send (`records.decide.Refused`: another
department's record, an origin the peer may not send, an authority bound to another hub, a
version that jumps too far) or a revocation by someone other than the deciding department. The
audit trail is its one store: each is an entry of action `record.refused`, kept even when the
request that made it is rolled back, and `GET /api/v1/sync/refusals` lists them newest first.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.orm import Session

from credithub import audit
from credithub.audit.models import AuditEntry

REFUSED = "record.refused"  # the audit action of a refusal


def record(session: Session, actor: str, detail: dict[str, Any], object_id: str = "-") -> None:
    """Audit a refusal by `actor` (a client's or a connector's name), whatever the outcome of
    the transaction. `detail` names no personal identifier (`decide.refused_item`)."""
    audit.record_refusal(session, actor, REFUSED, "record", object_id, detail)


def listing(session: Session, page: int, page_size: int, actor: str | None) -> dict[str, Any]:
    """A page of refusals, newest first (all, or those of one client or connector)."""
    found, total = audit.entries(session, REFUSED, page, page_size, actor)
    return {
        "items": [_item(entry) for entry in found],
        "page": page,
        "page_size": page_size,
        "total": total,
    }


def _item(entry: AuditEntry) -> dict[str, Any]:
    detail: dict[str, Any] = orjson.loads(entry.detail)
    revoking = detail.get("action") == "revoke"
    return {
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": "revoke" if revoking else "write",
        "record_id": None if entry.object_id == "-" else entry.object_id,
        "origin": detail.get("origin"),
        "authority": detail.get("authority"),
        "kind": detail.get("kind"),
        "ref": detail.get("ref"),
        "reason": detail.get("reason"),
        "errors": detail.get("errors") or {},
    }
