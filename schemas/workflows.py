"""Objections (异议) and credit repairs (信用修复): filings, decisions, queues."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schemas.common import FreeText, PageArgs, StrictSchema, page_of
from schemas.records import IsoDateTime

_TEXT = validate.Length(min=1, max=2000)
_ID = validate.Length(min=1, max=32)
OBJECTION_STATUSES = ("received", "refused", "accepted", "forwarded", "decided")
REPAIR_STATUSES = ("pending", "approved", "rejected")


class ObjectionSchema(StrictSchema):
    record_id = fields.String(required=True, validate=_ID)
    applicant = FreeText(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "who objects: the subject, or the office on its behalf"},
    )
    reason = FreeText(required=True, validate=_TEXT)


class ObjectionContactSchema(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    phone = fields.String(validate=validate.Length(min=3, max=40))
    email = fields.Email(validate=validate.Length(max=200))
    address = fields.String(validate=validate.Length(min=1, max=300))

    @validates_schema
    def _reachable(self, data: dict[str, str], **_: object) -> None:
        if not data.get("phone") and not data.get("email"):
            raise ValidationError("give a phone number or an email address", "phone")


class PublicObjectionSchema(ObjectionSchema):
    contact = fields.Nested(
        ObjectionContactSchema,
        required=True,
        metadata={"description": "how the office reaches the applicant (phone or email)"},
    )


class ObjectionRefuseSchema(StrictSchema):
    reason = FreeText(required=True, validate=_TEXT)


class ObjectionDecisionSchema(StrictSchema):
    outcome = fields.String(
        required=True, validate=validate.OneOf(("upheld", "corrected", "revoked"))
    )
    note = FreeText(validate=_TEXT)
    record = fields.Dict(
        metadata={"description": "corrected: the corrected record, same shape as a push"}
    )


class RepairSchema(StrictSchema):
    record_id = fields.String(required=True, validate=_ID)
    commitment = fields.Boolean(
        required=True, metadata={"description": "the public credit commitment (信用承诺): true"}
    )
    evidence = FreeText(
        validate=_TEXT, metadata={"description": "evidence that the obligation is performed"}
    )


class PublicRepairSchema(RepairSchema):
    applicant = FreeText(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "who applies: the subject, or someone on its behalf"},
    )
    contact = fields.Nested(
        ObjectionContactSchema,
        required=True,
        metadata={"description": "how the deciding department reaches the applicant"},
    )


class RepairDecisionSchema(StrictSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(("approved", "rejected")))
    note = FreeText(validate=_TEXT)


class WorkflowFiledSchema(Schema):
    id = fields.String(required=True)
    status = fields.String(required=True)
    due_on = fields.Date(allow_none=True, metadata={"description": "the pending step's due day"})


class WorkflowStepSchema(Schema):
    step = fields.String(required=True)
    by = fields.String(required=True)
    at = IsoDateTime(required=True)
    due_on = fields.Date(allow_none=True, metadata={"description": "the day it was due"})
    note = fields.String(allow_none=True)


class _ItemSchema(Schema):
    id = fields.String(required=True)
    record_id = fields.String(required=True)
    authority_uscc = fields.String(required=True)
    status = fields.String(required=True)
    due_on = fields.Date(allow_none=True)
    overdue = fields.Boolean(required=True)
    note = fields.String(allow_none=True)
    filed_at = IsoDateTime(required=True)
    steps = fields.List(fields.Nested(WorkflowStepSchema), required=True)


class ObjectionOutSchema(_ItemSchema):
    applicant = fields.String(required=True)
    reason = fields.String(required=True)
    source = fields.String(metadata={"enum": ["office", "department", "public"]})
    outcome = fields.String(allow_none=True)
    contact = fields.Dict(allow_none=True)


class RepairOutSchema(_ItemSchema):
    commitment = fields.Boolean(required=True)
    evidence = fields.String(allow_none=True)
    applicant = fields.String(allow_none=True)
    source = fields.String(metadata={"enum": ["client", "public"]})
    contact = fields.Dict(allow_none=True)


class ObjectionQueueArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(OBJECTION_STATUSES))
    overdue = fields.Boolean(load_default=False)


class RepairQueueArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(REPAIR_STATUSES))
    overdue = fields.Boolean(load_default=False)


ObjectionPageSchema = page_of(ObjectionOutSchema, "ObjectionPage")
RepairPageSchema = page_of(RepairOutSchema, "RepairPage")
