"""Liveness and readiness for load balancers and orchestrators; metrics for Prometheus."""

from __future__ import annotations

import ipaddress
from typing import Any

from flask import Blueprint, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import text

from credithub.clients.auth import authorize
from credithub.db import db
from credithub.ops import metrics as counted
from credithub.ops.service import DatabaseGauges

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> dict[str, Any]:
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> tuple[dict[str, Any], int]:
    checks: dict[str, Any] = {}
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
        from credithub import migrate  # Alembic: loaded only where a revision is asked for

        current, head = migrate.current_revision(db.engine), migrate.head_revision()
        checks["schema"] = "ok" if current == head else f"at {current}, head is {head}; run init-db"
    except Exception as exc:
        checks.setdefault("database", f"unreachable: {type(exc).__name__}")
    ready = all(v == "ok" for v in checks.values()) and len(checks) == 2
    return {"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format: what the workers counted, and gauges read now from the database.

    For the networks of `metrics.allow` without a token, else for an admin token.
    """
    if not _from_allowed_network():
        authorize("admin")
    gauges = CollectorRegistry()
    gauges.register(DatabaseGauges(db.session))
    body = counted.in_process() + generate_latest(gauges)
    return current_app.response_class(body, content_type=CONTENT_TYPE_LATEST)


def _from_allowed_network() -> bool:
    # A request relayed by a proxy comes from the proxy's address, often this host's own: one
    # that says it was relayed (Forwarded, X-Forwarded-For) needs the token.
    if "Forwarded" in request.headers or "X-Forwarded-For" in request.headers:
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    allow = current_app.extensions["credithub.settings"].metrics.allow
    return any(address in ipaddress.ip_network(network) for network in allow)
