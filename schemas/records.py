"""Records as departments send them and as the hub answers (api.md: Records)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schemas.common import (
    DAYS,
    MAX_YUAN,
    FreeText,
    PageArgs,
    StrictSchema,
    WithinYears,
    page_of,
)
from schemas.entities import EntitySummarySchema, LegacyCodesSchema

KINDS = ("penalty", "misconduct", "blacklist", "commendation")
SEVERITIES = ("minor", "general", "serious")
STATUSES = ("active", "disputed", "repaired", "revoked", "expired")
MAX_BATCH = 5000

# Which optional fields belong to which kind: a field of another kind is an error, not noise.
KIND_FIELDS: dict[str, set[str]] = {
    "penalty": {
        "categories",
        "violation",
        "facts",
        "basis",
        "content",
        "fine_yuan",
        "confiscated_yuan",
        "license_action",
        "valid_until",
        "publish_until",
        "severity",
        "sector",
    },
    "misconduct": {"code", "occurred_on", "project", "description"},
    "blacklist": {"list", "listed_on", "expires_on", "basis", "reason"},
    "commendation": {"code", "awarded_on", "expires_on"},
}
REQUIRED_BY_KIND: dict[str, tuple[str, ...]] = {
    "penalty": ("categories",),
    "misconduct": ("code",),
    "blacklist": ("list",),
    "commendation": ("code",),
}
ALL_KIND_FIELDS = set().union(*KIND_FIELDS.values())


# How hubs name a person to each other instead of the number: only peer hubs send these.
_ID_HASH = {"description": "from peer hubs only: HMAC-SHA256 of '<id_type>:<number>' under the "
            "federation matching key, hex; a department sends id_number"}  # fmt: skip
_ID_MASKED = {"description": "from peer hubs only, with id_hash: the masked ID number"}


class LegalRepSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    id_type = fields.String()
    id_number = fields.String(metadata={"description": "personal data: stored encrypted"})
    id_hash = fields.String(validate=validate.Length(max=64), metadata=_ID_HASH)
    id_masked = fields.String(validate=validate.Length(max=40), metadata=_ID_MASKED)


class LegalRepField(fields.Nested):
    """`legal_rep`: a name, or `{"name", "id_type", "id_number"}`; a name loads as `{"name"}`."""

    shorthand = "name"  # a plain string stands for this field alone (schemas.fastload reads it)

    def __init__(self, **kwargs: Any) -> None:
        kind = "a name, or an object with name, id_type and id_number"
        super().__init__(LegalRepSchema, error_messages={"type": kind}, **kwargs)

    def _deserialize(
        self,
        value: Any,
        attr: str | None,
        data: Mapping[str, Any] | None,
        partial: bool | Sequence[str] | AbstractSet[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        if isinstance(value, str):
            value = {self.shorthand: value}
        elif not isinstance(value, Mapping):
            raise self.make_error("type")
        return super()._deserialize(value, attr, data, partial, **kwargs)


class SubjectInSchema(StrictSchema):
    type = fields.String(
        required=True, validate=validate.OneOf(["organization", "individual_business", "person"])
    )
    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    uscc = fields.String()
    id_type = fields.String()
    id_number = fields.String(metadata={"description": "personal data: POST bodies only"})
    id_hash = fields.String(validate=validate.Length(max=64), metadata=_ID_HASH)
    id_masked = fields.String(validate=validate.Length(max=40), metadata=_ID_MASKED)
    legal_rep = LegalRepField(
        metadata={"description": "a name, or an object with its identifier (links the person)"}
    )
    legacy_codes = fields.Nested(LegacyCodesSchema)


class PartySchema(StrictSchema):
    name = fields.String(validate=validate.Length(max=200))
    uscc = fields.String()


MAX_VERSION = 2**31 - 1  # what every database stores in its integer column


class OriginSchema(StrictSchema):
    hub = fields.String(required=True, validate=validate.Length(min=1, max=64))
    id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    version = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=MAX_VERSION),
        metadata={"description": "the record's version at its origin hub, 1 to 2^31 - 1"},
    )


class IsoDate(fields.Date):
    """A date; on output it also takes the ISO text that stored snapshots (JSON) hold."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value if isinstance(value, str) else super()._serialize(value, attr, obj, **kwargs)


class IsoDateTime(fields.DateTime):
    """An instant; on output it also takes ISO text."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value if isinstance(value, str) else super()._serialize(value, attr, obj, **kwargs)


# An amount in yuan: answered as exact decimal text ("20000.00"), so documented as a string of
# that form; its bounds are documented as numbers (serialized through the field they would be
# the strings "0.00" and "1000000000000000.00", which are no bounds in JSON Schema).
Money = fields.Decimal(
    places=2,
    as_string=True,
    allow_nan=False,
    validate=validate.Range(min=0, max=MAX_YUAN),
    metadata={
        "type": "string",
        "format": "decimal",
        "pattern": r"^[0-9]+\.[0-9]{2}$",
        "minimum": 0,
        "maximum": MAX_YUAN,
    },
)


class _RecordContent(Schema):
    """The fields of a record, as sent and as answered (so records round-trip between hubs)."""

    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    ref = fields.String(required=True, validate=validate.Length(min=1, max=128))
    authority = fields.Nested(PartySchema)
    source = fields.Nested(PartySchema)
    decided_on = IsoDate(required=True, validate=DAYS)
    domains = fields.List(fields.String(), validate=validate.Length(max=20))
    note = FreeText(validate=validate.Length(max=2000))
    origin = fields.Nested(OriginSchema)
    # penalty (行政处罚)
    categories = fields.List(fields.String(), validate=validate.Length(min=1, max=14))
    violation = FreeText(validate=validate.Length(max=500))
    facts = FreeText(validate=validate.Length(max=10000))
    basis = FreeText(validate=validate.Length(max=2000))
    content = FreeText(validate=validate.Length(max=5000))
    fine_yuan = Money
    confiscated_yuan = Money
    license_action = FreeText(validate=validate.Length(max=500))
    valid_until = IsoDate(validate=DAYS)
    publish_until = IsoDate(validate=DAYS)
    severity = fields.String(validate=validate.OneOf(SEVERITIES), allow_none=True)
    sector = fields.String(
        validate=validate.Length(max=40),
        metadata={"description": "e.g. safety, special_equipment, fire"},
    )
    # misconduct (不良行为) and commendation (守信激励)
    code = fields.String(validate=validate.Length(min=1, max=64))
    occurred_on = IsoDate(validate=DAYS)
    project = FreeText(validate=validate.Length(max=300))
    description = FreeText(validate=validate.Length(max=5000))
    # blacklist (名单)
    list = fields.String(validate=validate.Length(min=1, max=64))
    listed_on = IsoDate(validate=DAYS)
    expires_on = IsoDate(validate=DAYS)
    reason = FreeText(validate=validate.Length(max=5000))
    awarded_on = IsoDate(validate=DAYS)


class RevokedInSchema(StrictSchema):
    at = fields.AwareDateTime(required=True, validate=WithinYears())
    reason = FreeText(required=True, validate=validate.Length(max=2000))
    by = fields.String(validate=validate.Length(max=120))


class SignatureSchema(StrictSchema):
    """The origin hub's Ed25519 signature of a record version (credithub.trust)."""

    key = fields.String(
        required=True,
        validate=validate.Length(min=1, max=16),
        metadata={"description": "the id of the key it was made with (GET /api/v1/hub)"},
    )
    value = fields.String(
        required=True,
        validate=validate.Length(min=1, max=88),
        metadata={"description": "base64 of the 64-byte signature over the signed form"},
    )


class RecordInSchema(StrictSchema, _RecordContent):
    """One record as a department, an import or a peer sends it."""

    subject = fields.Nested(SubjectInSchema, required=True)
    # Only with `origin` (from peer hubs): the record's state at its origin.
    status = fields.String(validate=validate.OneOf(STATUSES))
    revoked = fields.Nested(RevokedInSchema, allow_none=True)
    # Only with `origin`: the origin hub's signature of this version, passed on untouched.
    signature = fields.Nested(SignatureSchema)

    @validates_schema
    def _by_kind(self, data: dict[str, Any], **_kwargs: Any) -> None:
        kind = data.get("kind")
        if kind not in KIND_FIELDS:
            return
        errors: dict[str, list[str]] = {}
        for name in sorted((set(data) & ALL_KIND_FIELDS) - KIND_FIELDS[kind]):
            errors[name] = [f"not a field of a {kind} record"]
        for name in REQUIRED_BY_KIND[kind]:
            if name not in data:
                errors[name] = [f"required for a {kind} record"]
        start = data.get("decided_on")
        for name in ("valid_until", "publish_until", "expires_on"):
            end = data.get(name)
            if isinstance(start, date) and isinstance(end, date) and end < start:
                errors.setdefault(name, []).append("before decided_on")
        if errors:
            raise ValidationError(errors)


class RecordBatchSchema(StrictSchema):
    records = fields.List(
        fields.Raw(),
        required=True,
        validate=validate.Length(min=1, max=MAX_BATCH),
        metadata={"description": f"records (see RecordIn), at most {MAX_BATCH}"},
    )
    more = fields.Boolean(
        load_default=False,
        metadata={
            "description": (
                "further batches of this series follow: the standings this batch changes are "
                "settled by the series' last batch (sent without `more`), and computed on the "
                "spot by a check before then"
            )
        },
    )


class SgsRowsSchema(StrictSchema):
    rows = fields.List(fields.Dict(), required=True, validate=validate.Length(min=1, max=MAX_BATCH))


class AtomicArgs(StrictSchema):
    atomic = fields.Boolean(
        load_default=False, metadata={"description": "one rejected item rejects the batch (422)"}
    )


class ItemResultSchema(Schema):
    index = fields.Integer(required=True)
    status = fields.String(
        required=True, metadata={"enum": ["created", "updated", "unchanged", "rejected"]}
    )
    id = fields.String()
    version = fields.Integer()
    errors = fields.Dict()
    warnings = fields.List(fields.String())
    quarantined = fields.Boolean(
        metadata={"description": "true: rejected because its signature failed, and held back"}
    )


class IngestResultSchema(Schema):
    accepted = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    results = fields.List(fields.Nested(ItemResultSchema), required=True)
    warnings = fields.List(
        fields.String(),
        metadata={"description": "findings about the whole upload, e.g. unknown extra columns"},
    )


class RevokeSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class RecordListArgs(PageArgs):
    subject = fields.String(metadata={"description": "a USCC or a subject id"})
    kind = fields.String(validate=validate.OneOf(KINDS))
    status = fields.String(validate=validate.OneOf(STATUSES))


class HistorySchema(Schema):
    version = fields.Integer()
    op = fields.String()
    at = IsoDateTime()
    actor = fields.String()
    record = fields.Dict(metadata={"description": "the record as it was at this version"})


class LegalRepOutSchema(Schema):
    name = fields.String()
    id_type = fields.String(allow_none=True)
    id_number = fields.String(allow_none=True, metadata={"description": "masked"})


class SubjectOutSchema(EntitySummarySchema):
    legal_rep = fields.Nested(LegalRepOutSchema, allow_none=True)


class RevokedSchema(Schema):
    at = IsoDateTime()
    reason = fields.String()
    by = fields.String()


class RecordOutSchema(_RecordContent):
    """A record as the hub answers: its content plus the state the hub keeps."""

    id = fields.String()
    subject = fields.Nested(SubjectOutSchema)
    status = fields.String(metadata={"enum": list(STATUSES)})
    version = fields.Integer()
    created_at = IsoDateTime()
    updated_at = IsoDateTime()
    revoked = fields.Nested(RevokedSchema, allow_none=True)
    publish_until = IsoDate(
        allow_none=True,
        metadata={"description": "end of publication; null: a record its regime never publishes"},
    )


class RecordDetailSchema(RecordOutSchema):
    history = fields.List(fields.Nested(HistorySchema))


RecordPageSchema = page_of(RecordOutSchema, "RecordPage")
