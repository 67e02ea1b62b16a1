"""Connectors between runs: what each one's stored state tells (`status`, as the API, the CLI
and the console show it; `freshness`, the sources a check's answer names) and its dead letters
queued again (`replay`). The runs themselves are `sync.service`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credithub.db import utcnow
from credithub.records.changes import last_position
from credithub.sync import partners
from credithub.sync.models import DeadLetter, SyncState
from credithub.sync.service import build, configured, state_of
from credithub.trust import quarantine


def replay(session: Session, connector: str, ids: list[int] | None = None) -> int:
    """Re-queue dead letters: the next run reads again from the earliest of them (applying a
    change twice changes nothing, so rewinding is safe)."""
    query = select(DeadLetter).where(
        DeadLetter.connector == connector, DeadLetter.replayed_at.is_(None)
    )
    if ids:
        query = query.where(DeadLetter.id.in_(ids))
    letters = list(session.scalars(query))
    state = state_of(session, connector)
    pushed = [d.position for d in letters if d.direction == "push"]
    if pushed:
        state.push_position = min(state.push_position, min(pushed) - 1)
    pulled = [d.position for d in letters if d.direction == "pull" and d.position > 0]
    if pulled and (state.pull_cursor or "").isdigit():
        state.pull_cursor = str(min(int(state.pull_cursor or 0), min(pulled) - 1))
    for letter in letters:
        letter.replayed_at = utcnow()
    return len(letters)


def status(session: Session) -> list[dict[str, Any]]:
    """Per connector: last run, success, pending changes, dead letters, cursor, lag, error."""
    head = last_position(session)
    now = utcnow()
    out = []
    for config in configured():
        name = config["name"]
        state = session.get(SyncState, name)
        dead = (
            session.scalar(
                select(func.count())
                .select_from(DeadLetter)
                .where(DeadLetter.connector == name, DeadLetter.replayed_at.is_(None))
            )
            or 0
        )
        position = state.push_position if state else 0
        out.append({
            "name": name, "type": config.get("type"),
            "config": build(config).public_config(),
            "last_run": _iso(state.last_run_at if state else None),
            "last_success": _iso(state.last_success_at if state else None),
            "last_pull": _iso(state.last_pull_at if state else None),
            "pending": max(0, head - position) if config.get("push", True) else 0,
            "dead_letters": dead,
            "push_position": position,
            "pull_cursor": state.pull_cursor if state else None,
            "lag_seconds": (now - state.last_success_at).total_seconds()
            if state and state.last_success_at else None,
            "failures": state.failures if state else 0,
            "retry_at": _iso(state.retry_at if state else None),
            "last_error": state.last_error if state else None,
            "quarantined": quarantine.count(session, partners.actor_of(name)),
            "reconcile": state.last_reconcile if state else None,
        })  # fmt: skip
    return out


def freshness(session: Session) -> list[dict[str, Any]]:
    """How fresh each pulled source is: its last successful pull (None: never)."""
    names = [c["name"] for c in configured() if c.get("pull", True)]
    if not names:
        return []
    pulled = dict(
        session.execute(
            select(SyncState.connector, SyncState.last_pull_at).where(
                SyncState.connector.in_(names)
            )
        ).all()
    )
    types = {c["name"]: c.get("type") for c in configured()}
    return [{"source": n, "type": types[n], "last_pull": _iso(pulled.get(n))} for n in names]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
