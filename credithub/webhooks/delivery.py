"""Delivery of the outbox: each due event POSTed to its webhook, signed as Standard Webhooks
say, every attempt recorded, failures retried on `webhooks.retry_seconds` and then given up.

A run claims the due events in a short transaction (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so
two deliverers at once take different rows; SQLite: its one writer) by moving their next try
past the time a send may take (a lease), sends them with no transaction open, and records
each outcome in a transaction of its own. A deliverer that dies after claiming leaves its
events to be sent again once the lease runs out: an event may arrive twice, never with another
id (receivers drop what they have seen by `webhook-id`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from flask import current_app
from sqlalchemy import func, select, update
from standardwebhooks.webhooks import Webhook as Signer

from credithub.db import db, utcnow
from credithub.webhooks import watches
from credithub.webhooks.models import Webhook, WebhookAttempt, WebhookEvent
from credithub.webhooks.service import secret_of

CLAIM = 100  # events claimed at a time
LEASE_MARGIN = timedelta(seconds=60)  # beyond the send timeout, before a claim lapses
ERROR_CHARS = 500


@dataclass(frozen=True)
class Claimed:
    id: str
    url: str
    secret: str
    body: str


@dataclass
class Outcome:
    delivered: int = 0
    failed: int = 0  # attempts that failed (to be retried, or given up)
    given_up: int = 0
    pending: int = 0  # left waiting for their next try after the run
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "delivered": self.delivered,
            "failed": self.failed,
            "given_up": self.given_up,
            "pending": self.pending,
        }


def _settings() -> Any:
    return current_app.extensions["credithub.settings"].webhooks


def claim(due_by: datetime, limit: int = CLAIM) -> list[Claimed]:
    """Take up to `limit` events due by `due_by` for this deliverer (see the module's doc)."""
    lease = timedelta(seconds=_settings().timeout_seconds) + LEASE_MARGIN
    with db.transaction() as session:
        query = (
            select(WebhookEvent.id, WebhookEvent.webhook_id, WebhookEvent.body)
            .where(WebhookEvent.status == "pending", WebhookEvent.next_at <= due_by)
            .order_by(WebhookEvent.next_at, WebhookEvent.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = session.execute(query).all()
        if not rows:
            return []
        session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.id.in_([r.id for r in rows]))
            .values(next_at=utcnow() + lease)
        )
        hooks = {
            hook.id: hook
            for hook in session.scalars(
                select(Webhook).where(Webhook.id.in_({r.webhook_id for r in rows}))
            )
        }
        return [Claimed(r.id, hooks[r.webhook_id].url, secret_of(hooks[r.webhook_id]), r.body)
                for r in rows]  # fmt: skip


def signed_headers(event_id: str, secret: str, body: str, sent: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "credithub-webhooks",
        "webhook-id": event_id,
        "webhook-timestamp": str(int(sent.timestamp())),
        "webhook-signature": Signer(secret).sign(event_id, sent, body),
    }


def send(http: requests.Session, event: Claimed) -> tuple[int | None, str | None, int]:
    """POST one event: (status, error, milliseconds); any 2xx is delivered, nothing else is.

    `webhook-timestamp` is the real time of sending, not the hub's clock: receivers compare it
    with their own clocks to refuse replays, and a hub whose clock was moved for a drill must
    still be believed."""
    sent = datetime.now(UTC)
    headers = signed_headers(event.id, event.secret, event.body, sent)
    started = time.perf_counter()
    status: int | None = None
    error: str | None = None
    try:
        response = http.post(
            event.url,
            data=event.body.encode(),
            headers=headers,
            timeout=_settings().timeout_seconds,
            allow_redirects=False,  # a redirect is an answer other than 2xx: not delivered
        )
        status = response.status_code
        response.close()
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]
    return status, error, int((time.perf_counter() - started) * 1000)


def record(event_id: str, status: int | None, error: str | None, ms: int, outcome: Outcome) -> None:
    """Record one attempt and what follows: delivered, due again after the next backoff, or
    given up after the last one."""
    schedule: Sequence[int] = _settings().retry_seconds
    with db.transaction() as session:
        event = session.get(WebhookEvent, event_id)
        if event is None or event.status != "pending":
            return  # its webhook was deleted meanwhile
        now = utcnow()
        session.add(
            WebhookAttempt(event_id=event_id, at=now, status=status, error=error, duration_ms=ms)
        )
        event.attempts += 1
        event.last_status, event.last_error = status, error
        if error is None:
            event.status, event.delivered_at, event.next_at = "delivered", now, None
            outcome.delivered += 1
            return
        outcome.failed += 1
        outcome.errors.append(f"{event_id}: {error}")
        if event.attempts > len(schedule):
            event.status, event.next_at = "failed", None
            outcome.given_up += 1
        else:
            event.next_at = now + timedelta(seconds=schedule[event.attempts - 1])


def deliver_due() -> Outcome:
    """Send every event due now, once each (a failed one is due again only after its
    backoff, in a later run); forget watches older than `webhooks.watch_days`."""
    outcome = Outcome()
    started = utcnow()
    with requests.Session() as http:
        while True:
            batch = claim(started)
            for event in batch:
                record(event.id, *send(http, event), outcome)
            if len(batch) < CLAIM:
                break
    with db.transaction() as session:
        watches.prune(session, started - timedelta(days=_settings().watch_days))
        waiting = select(func.count()).where(WebhookEvent.status == "pending")
        outcome.pending = session.scalar(waiting) or 0
    return outcome


def deliver_job() -> dict[str, Any]:
    """The scheduler's job: a receiver that fails is its own failure, retried, not the job's."""
    return deliver_due().to_dict()
