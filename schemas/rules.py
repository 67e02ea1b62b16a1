"""The active rule pack as GET /api/v1/rules publishes it (未经公布的惩戒措施不得实施).

Mirrors `RulePack.to_public()` key for key: a key missing here would be silently dropped from
the public answer, so the API test compares the answer with the pack itself. Every schema is
named Rule… so its OpenAPI component cannot clash with another package's (a Score, a Measure).
"""

from __future__ import annotations

from marshmallow import Schema, fields

_DATE = {"format": "date"}


def _codes(description: str) -> fields.List[str]:
    return fields.List(fields.String(), required=True, metadata={"description": description})


class RuleMarkedSchema(Schema):
    check = fields.Boolean(
        required=True,
        metadata={"description": "true: from secondary sources, to verify before go-live"},
    )
    note = fields.String(required=True, metadata={"description": "what to verify, or why"})


class RulePackInfoSchema(Schema):
    id = fields.String(required=True)
    version = fields.String(required=True)
    title = fields.String(required=True)
    effective = fields.String(allow_none=True, metadata=_DATE)
    notes = fields.String(required=True)
    digest = fields.String(
        required=True, metadata={"description": "sha256 of the pack's content; changes rescore"}
    )


class RuleCodeTitleSchema(Schema):
    code = fields.String(required=True)
    title = fields.String(required=True)


class RuleFinesSchema(RuleMarkedSchema):
    general_min_yuan = fields.Float(
        allow_none=True, metadata={"description": "a fine at or above this is at least general"}
    )
    serious_min_yuan = fields.Float(
        allow_none=True, metadata={"description": "a fine at or above this is serious"}
    )


class RuleSeveritySchema(RuleMarkedSchema):
    classes = _codes("severity classes, least severe first")
    rule = fields.String(required=True)
    basis = fields.String(required=True)
    categories = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "处罚类别 -> severity class"},
    )
    aliases = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        metadata={"description": "older (2016) wording -> 处罚类别"},
    )
    fines = fields.Nested(RuleFinesSchema, required=True)


class RuleClassPeriodSchema(Schema):
    published = fields.Boolean(required=True)
    min_months = fields.Integer(required=True)
    max_months = fields.Integer(allow_none=True, metadata={"description": "null: no maximum"})


def _periods() -> fields.Dict:
    return fields.Dict(
        keys=fields.String(), values=fields.Nested(RuleClassPeriodSchema), required=True
    )


class RuleSectorPeriodsSchema(RuleMarkedSchema):
    sector = fields.String(required=True)
    classes = _periods()


class RuleRegimeSchema(RuleMarkedSchema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    valid_from = fields.String(
        data_key="from",
        attribute="from",
        allow_none=True,
        metadata={**_DATE, "description": "first decision date; null: every earlier one"},
    )
    valid_until = fields.String(
        data_key="until",
        attribute="until",
        allow_none=True,
        metadata={**_DATE, "description": "last decision date; null: every later one"},
    )
    classes = _periods()
    sectors = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(RuleSectorPeriodsSchema),
        required=True,
        metadata={"description": "periods for records of these sectors"},
    )


class RuleMeasureSchema(RuleMarkedSchema):
    code = fields.String(required=True)
    title = fields.String(required=True)
    effect = fields.String(required=True, metadata={"enum": ["bar", "caution"]})
    scope = fields.String(required=True, metadata={"enum": ["all", "listed", "records"]})
    domains = _codes("the domains it reaches; for scope 'records', those of its records")
    runs = fields.String(
        required=True, metadata={"enum": ["while_listed", "months", "while_points_above"]}
    )
    months = fields.Integer(allow_none=True, metadata={"description": "the term for 'months'"})
    basis = fields.String(required=True)


class RuleListSchema(RuleMarkedSchema):
    code = fields.String(required=True)
    title = fields.String(required=True)
    basis = fields.String(required=True)
    subjects = _codes("subject types the list applies to")
    measures = _codes("measures a listing starts")
    severity = fields.String(required=True)
    default_months = fields.Integer(
        allow_none=True, metadata={"description": "term without expires_on; null: until removed"}
    )
    min_months = fields.Integer(allow_none=True)
    max_months = fields.Integer(allow_none=True)
    reaches = _codes("related persons the measures reach (legal_rep: 法定代表人)")


class RuleTriggerSchema(RuleMarkedSchema):
    code = fields.String(required=True)
    title = fields.String(required=True)
    basis = fields.String(required=True)
    categories = _codes("处罚类别 that start it")
    min_fine_yuan = fields.Float(allow_none=True)
    penalty_domains = fields.List(
        fields.String(), allow_none=True, metadata={"description": "null: penalties in any domain"}
    )
    measures = _codes("measures it starts")


class RuleMisconductSchema(RuleMarkedSchema):
    code = fields.String(required=True)
    title = fields.String(required=True)
    points = fields.Integer(required=True)
    domains = _codes("domains of the code")
    basis = fields.String(required=True)
    forgivable = fields.Boolean(
        required=True, metadata={"description": "容错/首违不罚: a first minor offence may score 0"}
    )


class RuleThresholdSchema(Schema):
    min_points = fields.Integer(required=True)
    measure = fields.String(required=True)


class RulePointsSchema(RuleMarkedSchema):
    window_months = fields.Integer(required=True)
    thresholds = fields.List(fields.Nested(RuleThresholdSchema), required=True)


class RuleCommendationSchema(RuleMarkedSchema):
    code = fields.String(required=True)
    title = fields.String(required=True)
    basis = fields.String(required=True)
    bonus = fields.Float(required=True)
    default_months = fields.Integer(allow_none=True)


class RuleLevelSchema(Schema):
    level = fields.String(required=True)
    min_score = fields.Float(required=True)
    title = fields.String(required=True)


class RuleScoreSchema(RuleMarkedSchema):
    base = fields.Float(required=True)
    minimum = fields.Float(required=True)
    maximum = fields.Float(required=True)
    decay = fields.String(
        required=True, metadata={"description": "linear: full at decision, 0 after decay_months"}
    )
    decay_months = fields.Integer(required=True)
    penalty = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    blacklist = fields.Float(required=True)
    misconduct_per_point = fields.Float(required=True)
    levels = fields.List(fields.Nested(RuleLevelSchema), required=True)


class RuleLimitsSchema(RuleMarkedSchema):
    query_years = fields.Integer(
        required=True,
        metadata={
            "description": "years after the act a record counts and shows (longer only while "
            "a measure it carries runs)"
        },
    )
    basis = fields.String(required=True)


class RuleDomainDefaultSchema(Schema):
    kind = fields.String(required=True)
    rule = fields.String(required=True, metadata={"enum": ["all", "by_code", "listed"]})
    domains = _codes("for 'all' and 'listed'; 'by_code' takes the code's or list's domains")


class RuleWorkflowsSchema(RuleMarkedSchema):
    title = fields.String(required=True)
    basis = fields.String(required=True)
    deadlines = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "objection step (accept, forward, decide, remove) -> days"},
    )
    repair_minor_at_once = fields.Boolean(
        required=True, metadata={"description": "a minor record: repairable once performed"}
    )
    repair_list_months = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "list code -> months from listing before a repair"},
    )
    repair_other_list_months = fields.Integer(required=True)
    repair_misconduct_months = fields.Integer(required=True)


class RulePackSchema(Schema):
    pack = fields.Nested(RulePackInfoSchema, required=True)
    domains = fields.List(fields.Nested(RuleCodeTitleSchema), required=True)
    sectors = fields.List(fields.Nested(RuleCodeTitleSchema), required=True)
    severity = fields.Nested(RuleSeveritySchema, required=True)
    publication = fields.List(
        fields.Nested(RuleRegimeSchema),
        required=True,
        metadata={"description": "publication periods by decision date"},
    )
    measures = fields.List(fields.Nested(RuleMeasureSchema), required=True)
    lists = fields.List(fields.Nested(RuleListSchema), required=True)
    triggers = fields.List(fields.Nested(RuleTriggerSchema), required=True)
    misconduct = fields.List(fields.Nested(RuleMisconductSchema), required=True)
    points = fields.Nested(RulePointsSchema, required=True)
    commendations = fields.List(fields.Nested(RuleCommendationSchema), required=True)
    score = fields.Nested(RuleScoreSchema, required=True)
    limits = fields.Nested(RuleLimitsSchema, required=True)
    default_domains = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(RuleDomainDefaultSchema),
        required=True,
        metadata={"description": "record kind -> domains when a record names none"},
    )
    workflows = fields.Nested(
        RuleWorkflowsSchema,
        required=True,
        metadata={"description": "objection deadlines and repair periods"},
    )
