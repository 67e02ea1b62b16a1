"""The change feed and sync status (api.md: Federation, Operations)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.common import MAX_BIGINT, PageArgs, StrictSchema, page_of


class FeedArgs(StrictSchema):
    after = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=MAX_BIGINT),
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
    key = fields.Nested(lambda: HubKeySchema(), metadata={"description": "its signing key"})


class SyncStatusSchema(Schema):
    connectors = fields.List(fields.Dict())


class RunResultSchema(Schema):
    connector = fields.String()
    ok = fields.Boolean()
    pushed = fields.Integer()
    skipped = fields.Integer(
        metadata={"description": "changes the platform cannot take, not sent (each logged)"}
    )
    dead = fields.Integer()
    pulled = fields.Integer()
    applied = fields.Integer()
    rejected = fields.Integer()
    quarantined = fields.Integer()
    released = fields.Integer()
    errors = fields.List(fields.String())


# Reconciliation (api.md: Federation): what a hub holds per origin hub and month of decision.

MONTH = r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])$"
HUB_ID = r"^[A-Za-z0-9_-]{1,64}$"
MAX_CELL_LIMIT = 5000
MAX_FETCH = 1000


class SummaryArgs(StrictSchema):
    origin = fields.String(
        validate=validate.Regexp(HUB_ID, error="a hub id: letters, digits, '-' and '_'"),
        metadata={"description": "only this origin hub's cells"},
    )


class CellSummarySchema(Schema):
    origin = fields.String(metadata={"description": "the origin hub"})
    month = fields.String(metadata={"description": "YYYY-MM of the records' decision date"})
    count = fields.Integer()
    digest = fields.String(
        metadata={
            "description": 'sha256 (hex) of the lines "origin|id|version" of the cell\'s '
            "records (origin id and origin version), sorted by code point, each ending in "
            '"\\n", UTF-8'
        }
    )


class SummarySchema(Schema):
    hub = fields.String(metadata={"description": "the answering hub's id"})
    cells = fields.List(fields.Nested(CellSummarySchema))


class CellArgs(StrictSchema):
    origin = fields.String(
        required=True,
        validate=validate.Regexp(HUB_ID, error="a hub id: letters, digits, '-' and '_'"),
    )
    month = fields.String(required=True, validate=validate.Regexp(MONTH, error="a month: YYYY-MM"))
    after = fields.String(
        load_default="",
        validate=validate.Length(max=64),
        metadata={"description": "the last id read (the previous answer's `next`)"},
    )
    limit = fields.Integer(load_default=1000, validate=validate.Range(min=1, max=MAX_CELL_LIMIT))


class CellItemSchema(Schema):
    id = fields.String(metadata={"description": "the record's id at its origin"})
    version = fields.Integer(metadata={"description": "its version at its origin"})


class CellSchema(Schema):
    origin = fields.String()
    month = fields.String()
    items = fields.List(fields.Nested(CellItemSchema))
    next = fields.String()
    has_more = fields.Boolean()


class OriginKeySchema(StrictSchema):
    origin = fields.String(
        required=True,
        validate=validate.Regexp(HUB_ID, error="a hub id: letters, digits, '-' and '_'"),
    )
    id = fields.String(required=True, validate=validate.Length(min=1, max=64))


class FetchSchema(StrictSchema):
    records = fields.List(
        fields.Nested(OriginKeySchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_FETCH),
    )


class FetchAnswerSchema(Schema):
    items = fields.List(
        fields.Nested(FeedItemSchema),
        metadata={"description": "each record held, at its current version, as the feed has it"},
    )
    missing = fields.List(
        fields.Nested(OriginKeySchema),
        metadata={"description": "the keys this hub holds no record of"},
    )


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


# Trust between hubs (api.md: Federation): keys, registers, quarantine.


class HubKeySchema(Schema):
    algorithm = fields.String(metadata={"enum": ["ed25519"]})
    id = fields.String(metadata={"description": "key id: the first 16 hex digits of its SHA-256"})
    public_key = fields.String(metadata={"description": "base64 of the 32-byte public key"})
    chain = fields.List(
        fields.Dict(),
        metadata={
            "description": "every key of the hub in order, each later one with `endorsed_by` and "
            "`endorsement` (the previous key's signature over it: a rotation)"
        },
    )


class RegisterSchema(Schema):
    hub = fields.String()
    issued_at = fields.String()
    keys = fields.List(
        fields.Dict(), metadata={"description": "{hub, id, public_key[, endorsed_by, endorsement]}"}
    )
    signature = fields.Dict(metadata={"description": "{key, value}: the hub's signature"})


class ContactSchema(StrictSchema):
    key = fields.Dict(required=True, metadata={"description": "the pushing hub's `key`"})
    register = fields.Dict(metadata={"description": "the pushing hub's signed register"})


class ContactAnswerSchema(Schema):
    hub = fields.String()
    pinned = fields.List(fields.String(), metadata={"description": "key ids pinned now"})
    released = fields.Integer(metadata={"description": "quarantined versions released"})


class KnownKeySchema(Schema):
    hub = fields.String()
    id = fields.String()
    public_key = fields.String()
    state = fields.String(metadata={"enum": ["own", "pinned", "pending"]})
    source = fields.String()
    seen_at = fields.String(allow_none=True)


class KnownKeysSchema(Schema):
    keys = fields.List(fields.Nested(KnownKeySchema))


class QuarantineArgs(PageArgs):
    actor = fields.String(validate=validate.Length(min=1, max=120))
    released = fields.Boolean(load_default=False)


class QuarantinedSchema(Schema):
    id = fields.Integer()
    at = fields.String()
    actor = fields.String()
    origin = fields.Dict()
    reason = fields.String()
    record = fields.Dict(metadata={"description": "the record version as it arrived"})
    released_at = fields.String(allow_none=True)


QuarantinePageSchema = page_of(QuarantinedSchema, "QuarantinePage")


class ReleaseSchema(StrictSchema):
    ids = fields.List(
        # a held version's id: `quarantined.id` is a 32-bit integer column on every database
        fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1)),
        validate=validate.Length(max=1000),
        metadata={"description": "all: none"},
    )


class ReleaseAnswerSchema(Schema):
    released = fields.Integer()
    held = fields.Integer()
    rejected = fields.Integer()
