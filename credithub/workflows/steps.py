"""What objections and repairs share: the record they concern, who may act on it, the steps
they record with their deadlines, the event each step emits, and the queues.

Every step is a row of `workflow_steps` (what, who, when, the day it was due) and an audit
entry, in the caller's transaction. `_updated` is the one place a step's notification
(`objection.updated`, `repair.updated`) is emitted.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from credithub import audit, clock
from credithub.clients.models import Client
from credithub.db import utcnow
from credithub.errors import Conflict, Forbidden, NotFound
from credithub.records import refusals, visibility
from credithub.records.models import Record
from credithub.records.prepare import Actor
from credithub.records.read import record_row
from credithub.records.service import hub_id
from credithub.rules.pack import RulePack
from credithub.webhooks import service as webhooks
from credithub.workflows.models import Objection, Repair, WorkflowStep
from credithub.workflows.workdays import add_working_days

Item = Objection | Repair
T = TypeVar("T", Objection, Repair)


def pack() -> RulePack:
    found: RulePack = current_app.extensions["credithub.rule_pack"]
    return found


def is_public(record: Record, today: date) -> bool:
    """Whether the public sees `record` on `today` (`records.visibility`: inside its
    publication window, not revoked or repaired, within the query limit)."""
    return visibility.public_sees(record_row(record), pack(), today)


def due(step: str, start: date | None = None) -> date:
    """The day a step (accept, forward, decide, remove) taken after `start` (today) is due."""
    days = pack().workflows.deadlines[step]
    return add_working_days(start or clock.today(), days)


def locked_record(session: Session, record_id: str) -> Record:
    record = session.get(Record, record_id, with_for_update=True)
    if record is None:
        raise NotFound(f"no record {record_id}")
    return record


def authorize(session: Session, actor: Actor, record: Record, action: str) -> None:
    """Only the deciding department of the record or the joint office may act on it; anyone
    else is refused (403), and the refusal is audited even though the request rolls back."""
    if actor.is_admin or (actor.kind == "department" and actor.uscc == record.authority_uscc):
        return
    if actor.kind == "department":
        reason = f"only the deciding department (or the joint office) may {action} this record"
        detail = {"action": action, "authority": record.authority_uscc, "reason": reason}
        refusals.record(session, actor.name, detail, record.id)
        raise Forbidden(reason)
    raise Forbidden(f"a {actor.kind} client may not {action} records")


def office_only(actor: Actor, action: str) -> None:
    if not actor.is_admin:
        raise Forbidden(f"only the joint office may {action}")


def at_origin(record: Record) -> None:
    """Only the hub that created a record takes objections and repairs on it (409 elsewhere)."""
    if record.origin_hub != hub_id():
        raise Conflict(
            f"this record was created at hub {record.origin_hub!r}; file it there",
            {"record_id": [f"a record of hub {record.origin_hub}"]},
        )


def add_step(
    session: Session,
    item: Item,
    step: str,
    actor: str,
    due_on: date | None = None,
    note: str | None = None,
) -> None:
    """Record a step of `item` (its deadline `due_on`, if it had one), audit it, emit it."""
    kind = "objection" if isinstance(item, Objection) else "repair"
    session.add(
        WorkflowStep(
            item_type=kind, item_id=item.id, step=step, actor=actor, at=utcnow(),
            due_on=due_on, note=note,
        )
    )  # fmt: skip
    session.flush()
    _updated(session, item, step, actor)


def _updated(session: Session, item: Item, step: str, actor: str) -> None:
    """The one place a step of an objection or a repair is told: the audit entry, and the
    `objection.updated` / `repair.updated` event (api.md: Notifications) for the client that
    filed it and the deciding department's clients, written in the step's transaction."""
    kind = "objection" if isinstance(item, Objection) else "repair"
    detail: dict[str, Any] = {"step": step, "status": item.status, "record_id": item.record_id}
    if item.due_on is not None:
        detail["due_on"] = item.due_on.isoformat()
    audit.record(session, actor, f"{kind}.updated", kind, item.id, detail)
    if isinstance(item, Objection) and item.outcome is not None:
        detail["outcome"] = item.outcome
    data = {kind: {"id": item.id, **detail}, "by": actor, "at": utcnow().isoformat()}
    webhooks.emit(session, f"{kind}.updated", _told(session, item), data)


def _told(session: Session, item: Item) -> list[str]:
    """The ids of the clients a step is told to: the one that filed the item (none for a
    public filing) and every client of the deciding department."""
    department = and_(Client.kind == "department", Client.uscc == item.authority_uscc)
    if item.source == "public":
        told = select(Client.id).where(department)  # no client filed it, whatever is named so
    else:
        filer = select(WorkflowStep.actor).where(
            WorkflowStep.item_id == item.id, WorkflowStep.step == "filed"
        )
        told = select(Client.id).where(or_(Client.name.in_(filer), department))
    return list(session.scalars(told))


def item_out(session: Session, item: Item, today: date) -> dict[str, Any]:
    """An objection or a repair as the API shows it, with its steps."""
    steps = session.scalars(
        select(WorkflowStep)
        .where(WorkflowStep.item_id == item.id)
        .order_by(WorkflowStep.at, WorkflowStep.id)
    ).all()
    out: dict[str, Any] = {
        "id": item.id,
        "record_id": item.record_id,
        "authority_uscc": item.authority_uscc,
        "status": item.status,
        "due_on": item.due_on,
        "overdue": item.due_on is not None and item.due_on < today,
        "note": item.note,
        "filed_at": item.filed_at,
        "steps": [
            {"step": s.step, "by": s.actor, "at": s.at, "due_on": s.due_on, "note": s.note}
            for s in steps
        ],
    }
    if isinstance(item, Objection):
        out.update(
            applicant=item.applicant, reason=item.reason, source=item.source,
            outcome=item.outcome, contact=item.contact,
        )  # fmt: skip
    else:
        out.update(
            commitment=item.commitment, evidence=item.evidence, applicant=item.applicant,
            source=item.source or "client", contact=item.contact,
        )  # fmt: skip
    return out


def get_item(session: Session, model: type[T], item_id: str, actor: Actor) -> T:
    """An item the actor may see: admin all, a department its own records' (else 404)."""
    _queue_reader(actor)
    item = session.get(model, item_id)
    if item is None or not _sees(actor, item.authority_uscc):
        raise NotFound(f"no {model.__tablename__[:-1]} {item_id}")
    return item


def _queue_reader(actor: Actor) -> None:
    if not actor.is_admin and actor.kind != "department":
        raise Forbidden(f"a {actor.kind} client has no objections or repairs to read")


def _sees(actor: Actor, authority: str) -> bool:
    return actor.is_admin or (actor.kind == "department" and actor.uscc == authority)


def queue(
    session: Session,
    model: type[T],
    actor: Actor,
    *,
    status: str | None = None,
    overdue: bool = False,
    page: int,
    page_size: int,
) -> dict[str, Any]:
    """A page of items, oldest due first (closed ones last): admin all, a department its own."""
    _queue_reader(actor)
    today = clock.today()
    query = select(model)
    if not actor.is_admin:
        query = query.where(model.authority_uscc == actor.uscc)
    if status:
        query = query.where(model.status == status)
    if overdue:
        query = query.where(model.due_on < today)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    found = session.scalars(
        query.order_by(model.due_on.is_(None), model.due_on, model.filed_at, model.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return {
        "items": [item_out(session, item, today) for item in found],
        "page": page,
        "page_size": page_size,
        "total": total,
    }
