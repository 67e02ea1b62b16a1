"""Objections and credit repairs (/api/v1/objections, /api/v1/repairs), and the public filing
of an objection or a repair (/api/v1/public/objections, /api/v1/public/repairs, no token)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from credithub import clock
from credithub.clients.auth import current_client, require_scope
from credithub.db import db
from credithub.extensions import Blueprint
from credithub.records.prepare import Actor
from credithub.workflows import objections, repairs, steps
from credithub.workflows.models import Objection, Repair
from schemas.workflows import (
    ObjectionDecisionSchema,
    ObjectionOutSchema,
    ObjectionPageSchema,
    ObjectionQueueArgs,
    ObjectionRefuseSchema,
    ObjectionSchema,
    PublicObjectionSchema,
    PublicRepairSchema,
    RepairDecisionSchema,
    RepairOutSchema,
    RepairPageSchema,
    RepairQueueArgs,
    RepairSchema,
    WorkflowFiledSchema,
)

blp = Blueprint(
    "workflows",
    __name__,
    url_prefix="/api/v1",
    description="Objections (异议) and credit repair (信用修复), with working-day deadlines",
)


def actor() -> Actor:
    return Actor.of_caller(current_client())


def _item(item: Objection | Repair) -> dict[str, Any]:
    return steps.item_out(db.session, item, clock.today())


@blp.route("/objections")
class Objections(MethodView):
    @require_scope("records:write")
    @blp.arguments(ObjectionSchema)
    @blp.response(201, WorkflowFiledSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """File an objection (the office or the deciding department): the record is disputed."""
        return objections.answer(objections.file(db.session, body, actor()))

    @require_scope("records:read")
    @blp.arguments(ObjectionQueueArgs, location="query")
    @blp.response(200, ObjectionPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The objections queue (admin: all; a department: its own records'), due first."""
        return steps.queue(db.session, Objection, actor(), **args)


@blp.route("/objections/<objection_id>")
class ObjectionItem(MethodView):
    @require_scope("records:read")
    @blp.response(200, ObjectionOutSchema)
    def get(self, objection_id: str) -> dict[str, Any]:
        """An objection with its steps: who took each, when, and when it was due."""
        return _item(steps.get_item(db.session, Objection, objection_id, actor()))


@blp.route("/objections/<objection_id>/accept")
class AcceptObjection(MethodView):
    @require_scope("records:write")
    @blp.response(200, ObjectionOutSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, objection_id: str) -> dict[str, Any]:
        """Accept a public filing (the joint office): the record becomes disputed."""
        return _item(objections.accept(db.session, objection_id, actor()))


@blp.route("/objections/<objection_id>/refuse")
class RefuseObjection(MethodView):
    @require_scope("records:write")
    @blp.arguments(ObjectionRefuseSchema)
    @blp.response(200, ObjectionOutSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any], objection_id: str) -> dict[str, Any]:
        """Refuse a public filing, with the reason (the joint office)."""
        return _item(objections.refuse(db.session, objection_id, body["reason"], actor()))


@blp.route("/objections/<objection_id>/forward")
class ForwardObjection(MethodView):
    @require_scope("records:write")
    @blp.response(200, ObjectionOutSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, objection_id: str) -> dict[str, Any]:
        """Forward an accepted objection to the deciding department (the joint office)."""
        return _item(objections.forward(db.session, objection_id, actor()))


@blp.route("/objections/<objection_id>/decision")
class DecideObjection(MethodView):
    @require_scope("records:write")
    @blp.arguments(ObjectionDecisionSchema)
    @blp.response(200, ObjectionOutSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any], objection_id: str) -> dict[str, Any]:
        """Decide: upheld (the record back), corrected (its new version), revoked."""
        return _item(objections.decide(db.session, objection_id, body, actor()))


@blp.route("/public/objections")
class PublicObjections(MethodView):
    @blp.doc(security=[])  # the public profile page: no token
    @blp.arguments(PublicObjectionSchema)
    @blp.response(201, WorkflowFiledSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """An objection from the public: received, for the office to accept or refuse."""
        db.begin_writing()
        return objections.answer(objections.file_public(db.session, body))


@blp.route("/public/repairs")
class PublicRepairs(MethodView):
    @blp.doc(security=[])  # the public profile page: no token
    @blp.arguments(PublicRepairSchema)
    @blp.response(201, WorkflowFiledSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Apply for credit repair from the public: pending, for the deciding department;
        422 names the earliest day the record becomes eligible."""
        db.begin_writing()
        return repairs.answer(repairs.apply_public(db.session, body))


@blp.route("/repairs")
class Repairs(MethodView):
    @require_scope("records:write")
    @blp.arguments(RepairSchema)
    @blp.response(201, WorkflowFiledSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Apply for credit repair; 422 names the earliest day the record becomes eligible."""
        return repairs.answer(repairs.apply(db.session, body, actor()))

    @require_scope("records:read")
    @blp.arguments(RepairQueueArgs, location="query")
    @blp.response(200, RepairPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The repairs queue (admin: all; a department: its own records'), due first."""
        return steps.queue(db.session, Repair, actor(), **args)


@blp.route("/repairs/<repair_id>")
class RepairItem(MethodView):
    @require_scope("records:read")
    @blp.response(200, RepairOutSchema)
    def get(self, repair_id: str) -> dict[str, Any]:
        """A repair with its steps."""
        item = steps.get_item(db.session, Repair, repair_id, actor())
        return steps.item_out(db.session, item, clock.today())


@blp.route("/repairs/<repair_id>/decision")
class DecideRepair(MethodView):
    @require_scope("records:write")
    @blp.arguments(RepairDecisionSchema)
    @blp.response(200, RepairOutSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any], repair_id: str) -> dict[str, Any]:
        """Approve (the record repaired, its measures lifted) or reject (the deciding
        department or the joint office)."""
        item = repairs.decide(db.session, repair_id, body, actor())
        return steps.item_out(db.session, item, clock.today())
