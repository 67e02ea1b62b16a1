"""The change feed and sync status (api.md: Federation, Operations)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.common import PageArgs, StrictSchema, page_of


class FeedArgs(StrictSchema):
    after = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0),
        metadata={"description": "the cursor of the last item read"},
    )
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=1000))


class FeedItemSchema(Schema):
    cursor = fields.String()
    op = fields.String(metadata={"enum": ["upsert", "revoke", "repair", "expire"]})
    record = fields.Dict(metadata={"description": "the record with its origin and full identity"})


class FeedSchema(Schema):
    items = fields.List(fields.Nested(FeedItemSchema))
    next = fields.String()
    has_more = fields.Boolean()


class HubSchema(Schema):
    id = fields.String()
    name = fields.String()


class SyncStatusSchema(Schema):
    connectors = fields.List(fields.Dict())


class RunResultSchema(Schema):
    connector = fields.String()
    ok = fields.Boolean()
    pushed = fields.Integer()
    dead = fields.Integer()
    pulled = fields.Integer()
    applied = fields.Integer()
    rejected = fields.Integer()
    errors = fields.List(fields.String())


class RefusalArgs(PageArgs):
    actor = fields.String(
        validate=validate.Length(min=1, max=120),
        metadata={"description": "only this client's or connector's (connector:NAME)"},
    )


class RefusalSchema(Schema):
    at = fields.String(metadata={"description": "when it was refused (ISO 8601)"})
    actor = fields.String(metadata={"description": "the client, or connector:NAME for a pull"})
    action = fields.String(metadata={"enum": ["write", "revoke"]})
    record_id = fields.String(allow_none=True, metadata={"description": "a revocation's record"})
    origin = fields.Dict(allow_none=True, metadata={"description": "the origin the item claimed"})
    authority = fields.String(allow_none=True, metadata={"description": "the authority's USCC"})
    kind = fields.String(allow_none=True)
    ref = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    errors = fields.Dict(metadata={"description": "the item's errors, as its sender was answered"})


RefusalPageSchema = page_of(RefusalSchema, "RefusalPage")
