"""Credit repair (信用修复): "谁认定、谁修复".

An application is taken only when every condition holds: the record is this hub's and running
(not revoked, repaired or disputed), the subject makes a public credit commitment, and the
minimum period has run (`eligible_from`, from the
rule pack). An early one is refused with the earliest date it becomes eligible. The deciding
department (or the joint office) weighs the evidence that the obligation is performed
(optional when filing: it may follow by other channels) and approves or rejects it within the
`decide` deadline; approval makes the record `repaired` (a new version, feed op `repair`:
publication, sharing and use end and every hub and platform that holds it is told), lifts its
measures and refreshes the standings, and records the removal step. Services flush; the
caller commits.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from credithub import clock
from credithub.errors import Conflict, Invalid, NotFound
from credithub.records import service as records
from credithub.records.models import Record
from credithub.records.prepare import Actor
from credithub.records.read import effective_status
from credithub.rules.pack import RulePack
from credithub.rules.pack_entries import add_months
from credithub.workflows import steps
from credithub.workflows.models import Repair

OUTCOMES = ("approved", "rejected")


def answer(item: Repair) -> dict[str, Any]:
    return {"id": item.id, "status": item.status, "due_on": item.due_on}


def eligible_from(record: Record, pack: RulePack) -> tuple[date, str]:
    """The first day `record` may be repaired, and why: a penalty after its regime's minimum
    publication period (a minor one at once, where the pack says so), a listing after its
    list's months from the day it was listed, a misconduct record after the pack's months."""
    rules = pack.workflows
    if record.kind == "penalty":
        severity = record.severity or "general"
        if severity == "minor" and rules.repair_minor_at_once:
            return record.decided_on, "a minor record is repairable once the obligation is done"
        sector = record.content.get("sector")
        period = pack.publication(record.decided_on, severity, sector)
        return period.min_until, f"the minimum period of a {severity} record ({period.regime_id})"
    if record.kind == "blacklist":
        code = record.code or ""
        months = rules.repair_list_months.get(code, rules.repair_other_list_months)
        return add_months(record.starts_on, months), f"{months} months on list {code}"
    if record.kind == "misconduct":
        months = rules.repair_misconduct_months
        return add_months(record.decided_on, months), f"{months} months after the decision"
    raise Invalid("a commendation is not repaired", {"record_id": ["a commendation"]})


def apply(session: Session, body: dict[str, Any], actor: Actor) -> Repair:
    """An application for repair, filed by the deciding department or the joint office."""
    record = steps.locked_record(session, body["record_id"])
    steps.authorize(session, actor, record, "apply for repair of")
    return _file(session, record, body, actor.name)


def apply_public(session: Session, body: dict[str, Any]) -> Repair:
    """An application from the public profile page, on a record the public sees: the same
    conditions, with who applies and how to reach them; the deciding department decides."""
    record = steps.locked_record(session, body["record_id"])
    if not steps.is_public(record, clock.today()):
        message = "a repair from the public concerns a public record; this one is not public"
        raise Invalid(message, {"record_id": [message]})
    extra = {"applicant": body["applicant"], "contact": body["contact"], "source": "public"}
    return _file(session, record, body, "public", extra)


def _file(
    session: Session,
    record: Record,
    body: dict[str, Any],
    by: str,
    extra: dict[str, Any] | None = None,
) -> Repair:
    """File an application on `record` if every condition holds (else 409 or 422)."""
    steps.at_origin(record)
    today = clock.today()
    status = effective_status(record, today)
    if status in ("revoked", "repaired", "disputed"):
        raise Conflict(
            f"the record is {status}: it cannot be repaired", {"record_id": [f"{status}"]}
        )
    pending = select(Repair.id).where(Repair.record_id == record.id, Repair.status == "pending")
    if session.scalar(pending) is not None:
        raise Conflict("a repair of this record is pending already")
    errors: dict[str, list[str]] = {}
    if body["commitment"] is not True:
        errors["commitment"] = ["a public credit commitment (信用承诺) is required: true"]
    earliest, why = eligible_from(record, steps.pack())
    if today < earliest:
        errors["record_id"] = [f"eligible for repair from {earliest.isoformat()} ({why})"]
        errors["eligible_on"] = [earliest.isoformat()]
    if errors:
        message = "the record is not eligible for repair"
        if "eligible_on" in errors:
            message += f" before {earliest.isoformat()}"
        raise Invalid(message, errors)
    item = Repair(
        record_id=record.id, authority_uscc=record.authority_uscc, commitment=True,
        evidence=(body.get("evidence") or "").strip() or None, status="pending",
        due_on=steps.due("decide"), filed_at=clock.now(), **(extra or {}),
    )  # fmt: skip
    session.add(item)
    session.flush()
    steps.add_step(session, item, "filed", by)
    return item


def decide(session: Session, repair_id: str, body: dict[str, Any], actor: Actor) -> Repair:
    """Approve (the record repaired, measures lifted, the removal recorded) or reject."""
    item = session.get(Repair, repair_id, with_for_update=True)
    if item is None:
        raise NotFound(f"no repair {repair_id}")
    record = steps.locked_record(session, item.record_id)
    steps.authorize(session, actor, record, "decide a repair of")
    steps.at_origin(record)
    if item.status != "pending":
        raise Conflict(f"this repair was decided already ({item.status})")
    outcome, note = body["outcome"], body.get("note")
    was_due = item.due_on
    if outcome == "approved":
        status = effective_status(record, clock.today())
        if status in ("revoked", "repaired", "disputed"):
            raise Conflict(f"the record is {status} now: it cannot be repaired")
        records.change_state(session, record, "repaired", actor.name, note or "credit repaired")
    item.status, item.note, item.due_on = outcome, note, None
    steps.add_step(session, item, outcome, actor.name, was_due, note)
    if outcome == "approved":
        steps.add_step(session, item, "removed", actor.name, steps.due("remove"))
    return item
