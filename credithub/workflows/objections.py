"""Objections (异议), Shanghai 社会信用条例 arts. 36–38 as the model.

Steps and their deadlines (rule pack `[workflows.deadlines]`, working days after the step
before): a public filing is `received`, and the joint office accepts it (`accept`: the record
becomes disputed) or refuses it with a reason; the office forwards an accepted objection to the
deciding department (`forward`); the department decides (`decide`): `upheld` puts the record
back in its prior state, `corrected` writes the corrected record through the normal write path
(`records.service.ingest`) and then ends the dispute, `revoked` revokes it
(`records.service.revoke`) and records the removal (`remove`). A filing by the office is
accepted at once; one by the deciding department is also forwarded at once.

A change of the record's state is a new version of it in the change log, so the dispute and the
decision reach every other hub in the next sync round. Only the record's origin hub takes
objections on it. Services flush; the caller commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from credithub import clock
from credithub.errors import Conflict, Invalid, NotFound
from credithub.records import service as records
from credithub.records.models import Record
from credithub.records.prepare import Actor
from credithub.workflows import steps
from credithub.workflows.models import Objection

OUTCOMES = ("upheld", "corrected", "revoked")
_OPEN = ("received", "accepted", "forwarded")


def answer(item: Objection) -> dict[str, Any]:
    return {"id": item.id, "status": item.status, "due_on": item.due_on}


def _fileable(record: Record) -> None:
    """A record an objection may be filed on: this hub's, public, not disputed already."""
    steps.at_origin(record)
    if record.status == "disputed":
        raise Conflict(
            "the record is already disputed", {"record_id": ["an objection is already open"]}
        )
    if not steps.is_public(record, clock.today()):
        message = "an objection concerns a public record; this one is not public"
        raise Invalid(message, {"record_id": [message]})


def file(session: Session, body: dict[str, Any], actor: Actor) -> Objection:
    """An objection filed by the joint office (accepted at once) or by the deciding department
    (accepted and forwarded at once): the record becomes disputed now."""
    record = steps.locked_record(session, body["record_id"])
    steps.authorize(session, actor, record, "file an objection on")
    _fileable(record)
    department = not actor.is_admin
    item = Objection(
        record_id=record.id, authority_uscc=record.authority_uscc,
        applicant=body["applicant"], reason=body["reason"],
        source="department" if department else "office", status="accepted",
        prior_status=record.status, filed_at=clock.now(),
    )  # fmt: skip
    session.add(item)
    session.flush()
    steps.add_step(session, item, "filed", actor.name)
    _dispute(session, item, record, actor.name, None)
    if department:  # the deciding department has it already
        _forward(session, item, actor.name)
    return item


def file_public(session: Session, body: dict[str, Any]) -> Objection:
    """A filing from the public profile page: `received`, for the office to accept or refuse."""
    record = steps.locked_record(session, body["record_id"])
    _fileable(record)
    item = Objection(
        record_id=record.id, authority_uscc=record.authority_uscc,
        applicant=body["applicant"], reason=body["reason"], contact=body["contact"],
        source="public", status="received", due_on=steps.due("accept"), filed_at=clock.now(),
    )  # fmt: skip
    session.add(item)
    session.flush()
    steps.add_step(session, item, "filed", "public")
    return item


def accept(session: Session, objection_id: str, actor: Actor) -> Objection:
    """The office accepts a public filing: the record becomes disputed."""
    steps.office_only(actor, "accept an objection")
    item = _in(session, objection_id, "received", "accept")
    record = steps.locked_record(session, item.record_id)
    _fileable(record)
    item.prior_status = record.status
    _dispute(session, item, record, actor.name, item.due_on)
    return item


def refuse(session: Session, objection_id: str, reason: str, actor: Actor) -> Objection:
    """The office refuses a public filing, with its reason."""
    steps.office_only(actor, "refuse an objection")
    item = _in(session, objection_id, "received", "refuse")
    was_due = item.due_on
    item.status, item.note, item.due_on = "refused", reason, None
    steps.add_step(session, item, "refused", actor.name, was_due, reason)
    return item


def forward(session: Session, objection_id: str, actor: Actor) -> Objection:
    """The office forwards an accepted objection to the deciding department."""
    steps.office_only(actor, "forward an objection")
    item = _in(session, objection_id, "accepted", "forward")
    _forward(session, item, actor.name)
    return item


def decide(session: Session, objection_id: str, body: dict[str, Any], actor: Actor) -> Objection:
    """The deciding department's (or the office's) decision on a forwarded objection."""
    item = _get(session, objection_id)
    record = steps.locked_record(session, item.record_id)
    steps.authorize(session, actor, record, "decide an objection on")
    steps.at_origin(record)
    if item.status == "decided":
        raise Conflict(f"this objection was decided already ({item.outcome})")
    if item.status != "forwarded":
        raise Conflict(f"the objection is {item.status}: only a forwarded one is decided")
    outcome, note = body["outcome"], body.get("note")
    was_due = item.due_on
    if outcome == "corrected":
        _correct(session, record, body.get("record"), actor)
    if outcome in ("upheld", "corrected"):
        records.change_state(session, record, item.prior_status or "active", actor.name, note)
    item.status, item.outcome, item.note, item.due_on = "decided", outcome, note, None
    steps.add_step(session, item, "decided", actor.name, was_due, f"{outcome}: {note or ''}")
    if outcome == "revoked":
        records.revoke(session, record.id, note or "objection upheld: record revoked", actor)
        steps.add_step(session, item, "removed", actor.name, steps.due("remove"))
    return item


def _correct(session: Session, record: Record, corrected: Any, actor: Actor) -> None:
    """Write the corrected record through the normal write path; it must be this record (the
    same natural key), and a rejected one changes nothing (the request rolls back)."""
    if not isinstance(corrected, dict):
        message = "a corrected outcome takes the corrected record (same shape as a push)"
        raise Invalid(message, {"record": [message]})
    [result] = records.ingest(session, [corrected], actor).results
    if result.status == "rejected":
        errors = {f"record.{key}": reasons for key, reasons in result.errors.items()}
        raise Invalid("the corrected record was rejected", errors)
    session.refresh(record)  # written in bulk by the writer: read its new version
    if result.id != record.id:
        message = "the corrected record must keep the record's natural key (authority, kind, ref)"
        raise Invalid(message, {"record": [message]})


def _dispute(session: Session, item: Objection, record: Record, actor: str, was_due: Any) -> None:
    records.change_state(session, record, "disputed", actor, item.reason)
    item.status, item.due_on = "accepted", steps.due("forward")
    steps.add_step(session, item, "accepted", actor, was_due)


def _forward(session: Session, item: Objection, actor: str) -> None:
    was_due = item.due_on
    item.status, item.due_on = "forwarded", steps.due("decide")
    steps.add_step(session, item, "forwarded", actor, was_due)


def _get(session: Session, objection_id: str) -> Objection:
    item = session.get(Objection, objection_id, with_for_update=True)
    if item is None:
        raise NotFound(f"no objection {objection_id}")
    return item


def _in(session: Session, objection_id: str, status: str, what: str) -> Objection:
    item = _get(session, objection_id)
    if item.status != status:
        raise Conflict(f"the objection is {item.status}: only a {status} one can {what}")
    return item
