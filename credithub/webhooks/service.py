"""Webhooks: registration (own, admin any), the outbox every part writes events to (`emit`),
and what a client sees of its deliveries."""

from __future__ import annotations

import base64
import ipaddress
import os
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import orjson
from flask import current_app
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from credithub import audit
from credithub.clients.cache import Caller
from credithub.clients.models import Client
from credithub.db import new_id, utcnow
from credithub.errors import Invalid, NotFound
from credithub.privacy import personal_data
from credithub.webhooks.models import EVENT_TYPES, Webhook, WebhookAttempt, WebhookEvent

SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix Standard Webhooks secrets carry)
SECRET_BYTES = 32
RECENT = 20  # deliveries a webhook's GET shows
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _context(webhook_id: str) -> str:
    return f"webhook:{webhook_id}"  # bound into the ciphertext: a secret cannot be moved


def secret_of(hook: Webhook) -> str:
    """The signing secret (`whsec_…`), decrypted with the hub's data key."""
    return personal_data().decrypt(hook.secret, _context(hook.id))


def _endpoint(host: str, port: int) -> tuple[str, int]:
    """(host, port) with every name of this machine's loopback and "any address" as one."""
    host = host.lower().strip("[]")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return ("loopback" if host == "localhost" else host, port)
    return ("loopback" if address.is_loopback or address.is_unspecified else host, port)


def _hub_endpoints(own: Iterable[str]) -> set[tuple[str, int]]:
    """Where this hub answers: each `host[:port]` given (the request's own), and the configured
    server address."""
    found = set()
    for text in own:
        parts = urlsplit(f"//{text}")
        try:
            port = parts.port
        except ValueError:
            continue
        found.add(_endpoint(parts.hostname or "", port or 80))
    server = current_app.extensions["credithub.settings"].server
    found.add(_endpoint(server.host, server.port))
    return found


def url_problem(url: str, own: Iterable[str]) -> str | None:
    """Why `url` cannot receive webhooks (None: it can)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in _DEFAULT_PORTS:
        return "expected an http or https URL"
    if not parts.hostname:
        return "the URL names no host"
    if parts.username is not None or parts.password is not None:
        return "the URL carries credentials: authenticate the hub by the signature instead"
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        return "the URL's port is not valid"
    if _endpoint(parts.hostname, port) in _hub_endpoints(own):
        return "the URL points at this hub itself"
    return None


def _events_problem(events: Sequence[str]) -> str | None:
    if not events:
        return "name at least one event"
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        return f"unknown event(s) {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}"
    return None


def create(
    session: Session, caller: Caller, url: str, events: Sequence[str], own: Iterable[str]
) -> tuple[Webhook, str]:
    """Register a webhook for `caller`; with its secret, shown this once. `own`: the addresses
    the request reached this hub at (a webhook may not point there)."""
    errors = {}
    if problem := url_problem(url, own):
        errors["url"] = [problem]
    if problem := _events_problem(events):
        errors["events"] = [problem]
    if errors:
        raise Invalid("the webhook cannot be registered", errors)
    secret = SECRET_PREFIX + base64.b64encode(os.urandom(SECRET_BYTES)).decode()
    hook_id = new_id()
    hook = Webhook(
        id=hook_id,
        client_id=caller.id,
        url=url.strip(),
        events=sorted(set(events), key=EVENT_TYPES.index),
        secret=personal_data().encrypt(secret, _context(hook_id)),
        created_at=utcnow(),
    )
    session.add(hook)
    session.flush()
    detail = {"url": hook.url, "events": hook.events}
    audit.record(session, caller.name, "webhook.create", "webhook", hook.id, detail)
    return hook, secret


def _visible(caller: Caller) -> Any:
    query = select(Webhook, Client.name).join(Client, Client.id == Webhook.client_id)
    return query if caller.is_admin else query.where(Webhook.client_id == caller.id)


def listed(hook: Webhook, client: str) -> dict[str, Any]:
    return {
        "id": hook.id,
        "url": hook.url,
        "events": hook.events,
        "client": client,
        "created_at": hook.created_at,
    }


def listing(session: Session, caller: Caller, page: int, page_size: int) -> dict[str, Any]:
    """The caller's webhooks (admin: every client's), oldest first."""
    query = _visible(caller)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(Webhook.created_at, Webhook.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    items = [listed(hook, client) for hook, client in rows]
    return {"items": items, "page": page, "page_size": page_size, "total": total}


def _own(session: Session, caller: Caller, webhook_id: str) -> tuple[Webhook, str]:
    """The webhook if the caller may see it; another client's is as unknown as a missing one."""
    row = session.execute(_visible(caller).where(Webhook.id == webhook_id)).first()
    if row is None:
        raise NotFound(f"no webhook {webhook_id}")
    return row[0], row[1]


def detail(session: Session, caller: Caller, webhook_id: str) -> dict[str, Any]:
    """One webhook with its recent deliveries, newest first, each with its attempts."""
    hook, client = _own(session, caller, webhook_id)
    events = list(
        session.scalars(
            select(WebhookEvent)
            .where(WebhookEvent.webhook_id == hook.id)
            .order_by(WebhookEvent.created_at.desc(), WebhookEvent.id.desc())
            .limit(RECENT)
        )
    )
    tries: dict[str, list[dict[str, Any]]] = {e.id: [] for e in events}
    if events:
        for attempt in session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.event_id.in_(list(tries)))
            .order_by(WebhookAttempt.id)
        ):
            tries[attempt.event_id].append(
                {
                    "at": attempt.at,
                    "status": attempt.status,
                    "error": attempt.error,
                    "duration_ms": attempt.duration_ms,
                }
            )
    deliveries = [
        {
            "id": e.id,
            "type": e.type,
            "status": e.status,
            "attempts": e.attempts,
            "created_at": e.created_at,
            "next_at": e.next_at if e.status == "pending" else None,
            "delivered_at": e.delivered_at,
            "last_status": e.last_status,
            "last_error": e.last_error,
            "tries": tries[e.id],
        }
        for e in events
    ]
    return {**listed(hook, client), "deliveries": deliveries}


def remove(session: Session, caller: Caller, webhook_id: str) -> None:
    """Delete a webhook (own; admin any) and the events still waiting for it."""
    hook, client = _own(session, caller, webhook_id)
    session.delete(hook)  # its events and their attempts go with it (ON DELETE CASCADE)
    session.flush()
    audit.record(session, caller.name, "webhook.delete", "webhook", webhook_id, {"client": client})


def subscribers(session: Session, event_type: str) -> dict[str, str]:
    """Clients (not revoked) with a webhook for `event_type`: name -> id."""
    rows = session.execute(
        select(Client.name, Client.id, Webhook.events)
        .join(Webhook, Webhook.client_id == Client.id)
        .where(Client.revoked_at.is_(None))
    )
    return {name: client_id for name, client_id, events in rows if event_type in events}


def emit(session: Session, event_type: str, client_ids: Iterable[str], data: dict[str, Any]) -> int:
    """Write the event `{"type": event_type, **data}` for each webhook of these clients that
    subscribes to it, in the caller's transaction (the one making the change it tells of):
    delivered once that commits, never if it rolls back. A revoked client hears nothing. How
    many were written."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    ids = sorted(set(client_ids))
    if not ids:
        return 0
    query = (
        select(Webhook.id, Webhook.events)
        .join(Client, Client.id == Webhook.client_id)
        .where(Webhook.client_id.in_(ids), Client.revoked_at.is_(None))
    )
    hooks = [hook_id for hook_id, events in session.execute(query) if event_type in events]
    if not hooks:
        return 0
    now = utcnow()
    body = orjson.dumps({"type": event_type, **data}).decode()
    rows = [
        {
            "id": f"msg_{new_id()}",
            "webhook_id": hook_id,
            "type": event_type,
            "body": body,
            "created_at": now,
            "status": "pending",
            "next_at": now,
            "attempts": 0,
        }
        for hook_id in sorted(hooks)
    ]
    session.execute(insert(WebhookEvent), rows)
    return len(rows)
