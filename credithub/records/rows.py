"""The record rows the writer stores: a stored row read back as `decide`'s `Stored`, and the
row an arriving record becomes, new (`inserted`) or a change of one held (`updated`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from credithub.db import JsonText
from credithub.records.decide import Arrived, Insert, Origin, State, Stored, Update
from credithub.records.prepare import Actor

Row = dict[str, Any]  # a record row as stored (every column), the bulk statements' unit


def stored(row: Row) -> Stored:
    return Stored(
        row["id"],
        row["version"],
        row["content_hash"],
        Origin(row["origin_hub"], row["origin_id"], row["origin_version"]),
        State(row["status"], row["revoked_at"], row["revoke_reason"], row["revoked_by"]),
    )


def _columns(a: Arrived) -> Row:
    """What an arriving record sets of its row, whether it is new or a change."""
    p = a.prepared
    return {
        "subject_id": a.subject_id,
        "legal_rep_id": a.legal_rep_id,
        "authority_name": p.authority_name,
        "decided_on": p.decided_on,
        "severity": p.severity,
        "publish_until": p.publish_until,
        "code": p.code,
        "starts_on": p.starts_on,
        "ends_on": p.ends_on,
        "domains": p.domains,
        "content": JsonText(p.content_json),
        "content_hash": a.digest,
    }


def _state(state: State) -> Row:
    return {
        "status": state.status,
        "revoked_at": state.revoked_at,
        "revoke_reason": state.revoke_reason,
        "revoked_by": state.revoked_by,
    }


def inserted(a: Arrived, d: Insert, actor: Actor, now: datetime) -> Row:
    p = a.prepared
    return {
        "id": p.record_id,
        "kind": p.kind,
        "ref": p.ref,
        "authority_uscc": p.authority_uscc,
        **_columns(a),
        "version": 1,
        "raw": p.raw_json,
        "origin_hub": d.origin.hub,
        "origin_id": d.origin.id,
        "origin_version": d.origin.version,
        "received_from": actor.name,
        "created_at": now,
        "updated_at": now,
        **_state(d.state),
    }


def updated(row: Row, a: Arrived, d: Update, actor: Actor, now: datetime) -> Row:
    raw = a.prepared.raw_json
    return {
        **row,
        **_columns(a),
        "version": d.version,
        "raw": row["raw"] if raw is None else raw,
        "origin_version": d.origin_version,
        "received_from": actor.name,
        "updated_at": now,
        **_state(d.state),
    }
