"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import text

from credithub.db import db

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
