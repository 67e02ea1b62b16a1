"""What the console's dashboard shows: records received, subjects by level, barred subjects,
sync health, the webhook backlog, the objection and repair queues, and the latest audit
entries. Read only; each part asks the service that owns it where one exists."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from credithub import clock
from credithub.audit.models import AuditEntry
from credithub.console.charts import Chart, stacked_bars
from credithub.console.labels import label
from credithub.console.work import with_records
from credithub.entities.models import Subject
from credithub.records.models import Record
from credithub.records.prepare import Actor
from credithub.standing.models import StandingRow
from credithub.sync import service as sync
from credithub.sync import states
from credithub.webhooks.models import WebhookEvent
from credithub.workflows import steps
from credithub.workflows.models import Objection, Repair

T = TypeVar("T", Objection, Repair)
DAYS = 30
# A connector is late when its last success is older than this many of its intervals.
LATE_INTERVALS = 3
DEFAULT_INTERVAL = 60


def received(session: Session, today: date) -> tuple[Chart, Chart]:
    """Records received (created here) per China day of the last 30 days: by deciding
    department, and by kind. Counted by the database, a row per day, department and kind."""
    days = [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    since = datetime.combine(days[0], datetime.min.time(), clock.CHINA)
    day = _china_day(session)
    rows = session.execute(
        select(day, Record.authority_name, Record.kind, func.count())
        .where(Record.created_at >= since)
        .group_by(day, Record.authority_name, Record.kind)
    )
    by_department: Counter[tuple[date, str]] = Counter()
    by_kind: Counter[tuple[date, str]] = Counter()
    for on, authority, kind, count in rows:
        on = on if isinstance(on, date) else date.fromisoformat(on)
        by_department[(on, authority)] += count
        by_kind[(on, label(kind))] += count
    return stacked_bars(days, by_department), stacked_bars(days, by_kind)


def _china_day(session: Session) -> Any:
    """The China date of a record's arrival, as the database computes it."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("Asia/Shanghai", Record.created_at))
    return func.date(Record.created_at, "+8 hours")  # SQLite keeps UTC instants as text


def levels(session: Session) -> list[tuple[str, int]]:
    """Subjects by credit level (of their stored standing), A first."""
    level = StandingRow.data["level"].as_string()
    rows = session.execute(select(level, func.count()).group_by(level)).all()
    return sorted(((lv or "-", n) for lv, n in rows), key=lambda row: row[0])


def barred(session: Session, today: date, shown: int = 10) -> tuple[int, list[dict[str, Any]]]:
    """Subjects a measure bars from some trading domain today: how many, and the first few."""
    candidates = session.execute(
        select(Subject.uscc, Subject.name, Subject.type, StandingRow.data)
        .join(Subject, Subject.id == StandingRow.subject_id)
        .where(cast(StandingRow.data, String).like('%"bar"%'))
        .order_by(Subject.name)
    )
    found = []
    for uscc, name, kind, data in candidates:
        bars = [r for r in data.get("restrictions", []) if r.get("effect") == "bar"]
        now = [r for r in bars if r["from"] <= today.isoformat() <= (r["until"] or "9999")]
        if now:
            until = max((r["until"] or "长期") for r in now)
            found.append({"uscc": uscc, "name": name, "type": kind, "until": until,
                          "measures": sorted({r["title"] for r in now})})  # fmt: skip
    return len(found), found[:shown]


def sync_health(session: Session) -> list[dict[str, Any]]:
    """Per connector (`GET /api/v1/sync`): last run, lag, pending, dead letters, and whether it
    is late (never succeeded, failing, or its last success older than three intervals)."""
    intervals = {c["name"]: c.get("interval_seconds", DEFAULT_INTERVAL) for c in sync.configured()}
    out = []
    for state in states.status(session):
        lag = state["lag_seconds"]
        limit = LATE_INTERVALS * intervals.get(state["name"], DEFAULT_INTERVAL)
        late = lag is None or lag > limit or bool(state["failures"])
        out.append({**state, "late": late})
    return out


def webhook_backlog(session: Session) -> dict[str, Any]:
    """Events waiting to be delivered, the oldest of them, and those given up."""
    rows = dict(
        session.execute(
            select(WebhookEvent.status, func.count()).group_by(WebhookEvent.status)
        ).all()
    )
    oldest = session.scalar(
        select(func.min(WebhookEvent.created_at)).where(WebhookEvent.status == "pending")
    )
    return {"pending": rows.get("pending", 0), "failed": rows.get("failed", 0), "oldest": oldest}


def queues(session: Session, actor: Actor, shown: int = 10) -> dict[str, Any]:
    """The open objections and repairs, due first (`workflows.steps.queue`), with counts."""
    return {
        "objections": _queue(session, Objection, actor, shown),
        "repairs": _queue(session, Repair, actor, shown),
    }


def _queue(session: Session, model: type[T], actor: Actor, shown: int) -> dict[str, Any]:
    page = steps.queue(session, model, actor, page=1, page_size=shown)
    counts = dict(session.execute(select(model.status, func.count()).group_by(model.status)).all())
    open_items = with_records(session, [i for i in page["items"] if i["due_on"] is not None])
    return {
        "open": open_items,
        "counts": counts,
        "overdue": overdue(session, model, actor),
    }


def overdue(session: Session, model: type[T], actor: Actor) -> int:
    """How many objections or repairs `actor` sees are past their due day (/metrics too)."""
    total: int = steps.queue(session, model, actor, overdue=True, page=1, page_size=1)["total"]
    return total


def recent_audit(session: Session, shown: int = 15) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(shown)))


def dashboard(session: Session, actor: Actor) -> dict[str, Any]:
    today = clock.today()
    by_department, by_kind = received(session, today)
    barred_count, barred_shown = barred(session, today)
    return {
        "today": today,
        "by_department": by_department,
        "by_kind": by_kind,
        "levels": levels(session),
        "barred_count": barred_count,
        "barred": barred_shown,
        "connectors": sync_health(session),
        "webhooks": webhook_backlog(session),
        "queues": queues(session, actor),
        "audit": recent_audit(session),
    }
