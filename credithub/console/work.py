"""The console's work: objections, repairs, dead letters and clients, each done through the same
service the API uses, acting as the joint office named after the person logged in.

Form values arrive as text: they are checked here (a clear 4xx, never a 500) and handed to the
services in the shape the API's schemas give them.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from credithub import audit, clock, jsonbody
from credithub.clients import service as clients
from credithub.clients.models import KINDS, Client
from credithub.errors import Invalid, NotFound
from credithub.records.models import Record
from credithub.records.prepare import Actor
from credithub.sync import states
from credithub.sync.models import DeadLetter
from credithub.workflows import objections, repairs, steps
from credithub.workflows.models import Objection, Repair
from schemas.common import FreeText

T = TypeVar("T", Objection, Repair)

OBJECTION_STATUSES = ("received", "refused", "accepted", "forwarded", "decided")
REPAIR_STATUSES = ("pending", "approved", "rejected")
OBJECTION_ACTIONS = ("accept", "refuse", "forward", "decide")
# What each status of an objection allows the office to do next.
ALLOWED = {"received": ("accept", "refuse"), "accepted": ("forward",), "forwarded": ("decide",)}
MAX_TEXT = 2000
PAGE_SIZE = 50


def free_text(form: Any, name: str, required: bool = True) -> str | None:
    """A field a person writes (a reason, a note), as `text`, with any resident ID number in it
    masked as the API's free text is (`schemas.common.FreeText`)."""
    value = text(form, name, required)
    return None if value is None else FreeText.clean(value)


def text(form: Any, name: str, required: bool = True, limit: int = MAX_TEXT) -> str | None:
    """A text field of a form, trimmed: 1 to `limit` characters, or None when optional and
    left empty."""
    value = (form.get(name) or "").strip()
    if not value:
        if required:
            raise Invalid(f"{name} is required", {name: ["required"]})
        return None
    if len(value) > limit:
        raise Invalid(f"{name}: at most {limit} characters", {name: [f"at most {limit}"]})
    return value


def choice(value: str | None, allowed: tuple[str, ...], name: str) -> str | None:
    """An optional filter of a list page: one of `allowed`, or None."""
    if not value:
        return None
    if value not in allowed:
        raise Invalid(f"unknown {name} {value!r}", {name: [f"one of {', '.join(allowed)}"]})
    return value


def page_number(value: str | None) -> int:
    if not value:
        return 1
    # isascii: "²" is a digit to str.isdigit, but not to int()
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 100_000:
        raise Invalid("page: a whole number from 1", {"page": ["a whole number from 1"]})
    return int(value)


def _summary(record: Record) -> dict[str, Any]:
    """A record an objection or a repair concerns, as the office reads it."""
    return {
        "id": record.id, "kind": record.kind, "ref": record.ref, "status": record.status,
        "version": record.version, "authority": record.authority_name,
        "decided_on": record.decided_on, "subject": record.subject.name,
        "uscc": record.subject.uscc, "content": record.content,
    }  # fmt: skip


def with_records(session: Session, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Queue items, each given the record it concerns (`item["record"]`): one read for all."""
    ids = {item["record_id"] for item in items}
    found = session.scalars(
        select(Record).options(joinedload(Record.subject)).where(Record.id.in_(sorted(ids)))
    )
    records = {record.id: record for record in found}
    for item in items:
        record = records.get(item["record_id"])
        if record is None:
            raise NotFound(f"no record {item['record_id']}")
        item["record"] = _summary(record)
    return items


def objection(session: Session, objection_id: str, actor: Actor) -> dict[str, Any]:
    item = steps.get_item(session, Objection, objection_id, actor)
    out = with_records(session, [steps.item_out(session, item, clock.today())])[0]
    out["allowed"] = ALLOWED.get(item.status, ())
    return out


def act_on_objection(
    session: Session, objection_id: str, action: str, form: Any, actor: Actor
) -> str:
    """Take one step of an objection; the flash message saying what was done."""
    if action == "accept":
        objections.accept(session, objection_id, actor)
        return "异议已受理,记录标注为“异议中”。"
    if action == "refuse":
        reason = free_text(form, "reason")
        objections.refuse(session, objection_id, reason or "", actor)
        return "异议已不予受理。"
    if action == "forward":
        objections.forward(session, objection_id, actor)
        return "异议已转交认定部门。"
    if action == "decide":
        objections.decide(session, objection_id, decision(form), actor)
        return "异议已作出决定。"
    raise NotFound(f"no action {action!r} on an objection")


def decision(form: Any) -> dict[str, Any]:
    """The body of `POST /api/v1/objections/{id}/decision` from the decision form; a corrected
    record is pasted as JSON (the same shape as a push)."""
    outcome = choice(form.get("outcome"), objections.OUTCOMES, "outcome")
    if outcome is None:
        raise Invalid("outcome is required", {"outcome": ["upheld, corrected or revoked"]})
    body: dict[str, Any] = {"outcome": outcome}
    note = free_text(form, "note", required=False)
    if note:
        body["note"] = note
    if outcome == "corrected":
        pasted = text(form, "record", limit=200_000)
        try:
            record = jsonbody.read(
                pasted or "", current_app.extensions["credithub.settings"].server.json_max_depth
            )
        except jsonbody.BodyRefused as exc:
            raise Invalid(exc.message, {"record": [exc.message]}) from None
        except ValueError as exc:
            raise Invalid(
                "the corrected record is not valid JSON", {"record": [str(exc)]}
            ) from None
        if not isinstance(record, dict):
            raise Invalid("the corrected record is one JSON object", {"record": ["an object"]})
        body["record"] = record
    return body


def work_list(
    session: Session,
    model: type[T],
    actor: Actor,
    status: str | None,
    page: int,
) -> dict[str, Any]:
    """A page of the objection or the repair queue, each item with its record."""
    found = steps.queue(session, model, actor, status=status, page=page, page_size=PAGE_SIZE)
    with_records(session, found["items"])
    return found


def decide_repair(session: Session, repair_id: str, form: Any, actor: Actor) -> str:
    outcome = choice(form.get("outcome"), ("approved", "rejected"), "outcome")
    if outcome is None:
        raise Invalid("outcome is required", {"outcome": ["approved or rejected"]})
    body: dict[str, Any] = {"outcome": outcome}
    note = free_text(form, "note", required=False)
    if note:
        body["note"] = note
    repairs.decide(session, repair_id, body, actor)
    return "修复申请已批准,记录已修复。" if outcome == "approved" else "修复申请已驳回。"


def dead_letters(session: Session, shown: int = 200) -> dict[str, list[DeadLetter]]:
    """Dead letters not replayed yet, per connector, oldest first."""
    out: dict[str, list[DeadLetter]] = {}
    rows = session.scalars(
        select(DeadLetter)
        .where(DeadLetter.replayed_at.is_(None))
        .order_by(DeadLetter.connector, DeadLetter.id)
    )
    for letter in rows:
        listed = out.setdefault(letter.connector, [])
        if len(listed) < shown:
            listed.append(letter)
    return out


def replay(session: Session, connector: str, letter_id: str | None, actor: Actor) -> str:
    """Queue a connector's dead letters (one, or all) again (`sync.states.replay`, as
    `credithub sync replay` does), audited in the name of the person."""
    ids = None
    if letter_id:
        if not letter_id.isdigit():
            raise Invalid("id: a dead letter's number", {"id": ["a whole number"]})
        ids = [int(letter_id)]
    count = states.replay(session, connector, ids)
    if not count:
        raise NotFound(f"no dead letter of {connector!r} to replay")
    audit.record(session, actor.name, "sync.replay", "connector", connector,
                 {"ids": ids, "count": count})  # fmt: skip
    return f"{connector}:{count} 条死信已重新排队,下次同步时重发。"


def client_list(session: Session) -> list[Client]:
    return clients.list_clients(session)


def create_client(session: Session, form: Any, actor: Actor) -> tuple[Client, str]:
    kind = choice(form.get("kind"), KINDS, "kind")
    if kind is None:
        raise Invalid("kind is required", {"kind": [f"one of {', '.join(KINDS)}"]})
    name = text(form, "name", limit=100) or ""
    uscc = text(form, "uscc", required=False, limit=18)
    hub = text(form, "hub", required=False, limit=64)
    return clients.create_client(session, name, kind, uscc, actor=actor.name, hub=hub)


def client_by_id(session: Session, client_id: str) -> Client:
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound(f"no client {client_id}")
    return client


def confirmed(form: Any) -> None:
    """A rotation or a revocation stops a live token at once: the form's box must be ticked."""
    if form.get("confirm") != "yes":
        message = "tick the box to confirm: the client's current token stops working at once"
        raise Invalid(message, {"confirm": ["required"]})


def rotate_client(session: Session, client_id: str, form: Any, actor: Actor) -> tuple[Client, str]:
    confirmed(form)
    return clients.rotate_token(session, client_by_id(session, client_id).name, actor=actor.name)


def revoke_client(session: Session, client_id: str, form: Any, actor: Actor) -> Client:
    confirmed(form)
    return clients.revoke_client(session, client_by_id(session, client_id).name, actor=actor.name)
