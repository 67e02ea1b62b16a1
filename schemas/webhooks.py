"""Notifications (api.md: Notifications (webhooks))."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.common import StrictSchema, page_of

EVENTS = ["check.changed", "objection.updated", "repair.updated"]


class WebhookCreateSchema(StrictSchema):
    url = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "http(s) URL of the receiver; not this hub itself"},
    )
    events = fields.List(
        fields.String(metadata={"enum": EVENTS}),
        required=True,
        metadata={"description": "one or more of " + ", ".join(EVENTS)},
    )


class WebhookSchema(Schema):
    id = fields.String(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    client = fields.String(metadata={"description": "the client whose webhook it is"})
    created_at = fields.DateTime()


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(
        required=True,
        metadata={"description": "whsec_ + base64 key of the signatures; shown this once"},
    )


class AttemptSchema(Schema):
    at = fields.DateTime()
    status = fields.Integer(allow_none=True, metadata={"description": "the receiver's status"})
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer()


class DeliverySchema(Schema):
    id = fields.String(metadata={"description": "the event's webhook-id, the same every try"})
    type = fields.String()
    status = fields.String(metadata={"enum": ["pending", "delivered", "failed"]})
    attempts = fields.Integer()
    created_at = fields.DateTime()
    next_at = fields.DateTime(allow_none=True, metadata={"description": "next try, if pending"})
    delivered_at = fields.DateTime(allow_none=True)
    last_status = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    tries = fields.List(fields.Nested(AttemptSchema))


class WebhookDetailSchema(WebhookSchema):
    deliveries = fields.List(
        fields.Nested(DeliverySchema), metadata={"description": "the latest, newest first"}
    )


WebhookPageSchema = page_of(WebhookSchema, "WebhookPage")
