"""Subjects as the API shows them: identifiers (ID numbers masked), names, former names."""

from __future__ import annotations

from marshmallow import Schema, fields

from schemas.common import PageArgs, StrictSchema, page_of


class EntitySearchArgs(PageArgs):
    q = fields.String(
        required=True, metadata={"description": "a name (current or former) or a code"}
    )


class NameSchema(Schema):
    name = fields.String()
    first_seen = fields.Date()
    last_seen = fields.Date()


class IdentifierSchema(Schema):
    scheme = fields.String()
    value = fields.String()


class EntitySummarySchema(Schema):
    id = fields.String()
    type = fields.String()
    name = fields.String()
    uscc = fields.String(allow_none=True)
    id_type = fields.String(allow_none=True)
    id_number = fields.String(
        attribute="id_masked",
        allow_none=True,
        metadata={"description": "masked: 110105********002X"},
    )


class EntitySchema(EntitySummarySchema):
    uscc_exception = fields.Boolean(
        metadata={"description": "the USCC fails its checksum but is a known legal exception"}
    )
    identifiers = fields.List(fields.Nested(IdentifierSchema), attribute="all_identifiers")
    names = fields.List(
        fields.Nested(NameSchema), metadata={"description": "current and former names"}
    )


EntityPageSchema = page_of(EntitySummarySchema, "EntityPage")


class LegacyCodesSchema(StrictSchema):
    business_reg = fields.String()
    org_code = fields.String()
    tax_reg = fields.String()
    institution_cert = fields.String()
    social_org_cert = fields.String()


class SubjectRefSchema(StrictSchema):
    """A subject as a message names it; identifiers are checked by the service."""

    type = fields.String(
        required=True, metadata={"enum": ["organization", "individual_business", "person"]}
    )
    name = fields.String(required=True)
    uscc = fields.String()
    id_type = fields.String(metadata={"description": "身份证 (default), 护照 …"})
    id_number = fields.String(metadata={"description": "personal data: POST bodies only"})
    legacy_codes = fields.Nested(LegacyCodesSchema)


class ResolveResultSchema(Schema):
    known = fields.Boolean(required=True)
    entity = fields.Nested(EntitySummarySchema, allow_none=True)
    warnings = fields.List(fields.String())


class ScoreLineSchema(Schema):
    record_id = fields.String(allow_none=True)
    kind = fields.String()
    ref = fields.String()
    amount = fields.Float(
        metadata={"description": "signed contribution; the lines sum to the score"}
    )
    reason = fields.String()


class ProfileScoreSchema(Schema):
    value = fields.Float()
    level = fields.String()
    points = fields.Integer()
    explanation = fields.List(fields.Nested(ScoreLineSchema))


class ProfileSchema(EntitySchema):
    """A subject's profile (api.md: GET /api/v1/entities/{uscc})."""

    records = fields.List(fields.Dict(), metadata={"description": "its records (at most 500)"})
    records_total = fields.Integer()
    restrictions = fields.List(fields.Dict(), metadata={"description": "active now, any domain"})
    score = fields.Nested(ProfileScoreSchema)
    at = fields.String()
    valid_until = fields.String(allow_none=True)
