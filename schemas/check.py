"""The bidder check (api.md: Screening)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from marshmallow import Schema, fields, validate

from schemas.common import CHINA, StrictSchema, WithinYears

MAX_CHECK = 10_000


class Instant(fields.Field):
    """A date (its start in China) or an ISO 8601 instant (no offset: China time), its date
    between FIRST_DAY and LAST_DAY where it was given."""

    default_error_messages = {"invalid": "a date (YYYY-MM-DD) or an ISO 8601 instant"}  # noqa: RUF012

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        text = value.strip()
        try:
            if len(text) == 10:
                parsed = datetime.combine(date.fromisoformat(text), time(), CHINA)
            else:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise self.make_error("invalid") from None
        return WithinYears()(parsed if parsed.tzinfo else parsed.replace(tzinfo=CHINA))

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value


class CheckArgs(StrictSchema):
    domain = fields.String(
        required=True, metadata={"description": "a trading domain (see /api/v1/rules)"}
    )
    at = Instant(
        metadata={
            "description": "a date or an instant, dated 1900-01-01 to 2999-12-31; default now"
        }
    )


SUBJECT_KEYS = frozenset({"uscc", "id_type", "id_number"})


class CheckBatchSchema(CheckArgs):
    # Each item is {"uscc"} or {"id_type", "id_number"}; items are checked one by one where
    # their identifier is parsed (a nested schema per item would cost a third of a batch).
    subjects = fields.List(
        fields.Dict(keys=fields.String()),
        required=True,
        validate=validate.Length(min=1, max=MAX_CHECK),
        metadata={"description": 'each {"uscc": …} or {"id_type": "身份证", "id_number": …}'},
    )


class RestrictionSchema(Schema):
    """A restriction in an answer: the one definition of its fields and their order (the
    standing's Restriction.to_dict writes them, the check copies them from stored standings)."""

    measure = fields.String()
    title = fields.String()
    effect = fields.String(metadata={"enum": ["bar", "caution"]})
    domains = fields.List(fields.String())
    from_ = fields.String(data_key="from", attribute="from")
    until = fields.String(allow_none=True)
    basis = fields.String()
    record_id = fields.String(allow_none=True)
    authority = fields.String()
    reason = fields.String()
    disputed = fields.Boolean(
        metadata={"description": "its record is disputed (an objection is open); it still counts"}
    )


RESTRICTION_KEYS: tuple[str, ...] = tuple(
    field.data_key or name for name, field in RestrictionSchema().fields.items()
)


class RelatedSchema(Schema):
    role = fields.String()
    name = fields.String()
    id_number = fields.String(allow_none=True, metadata={"description": "masked"})
    restrictions = fields.List(fields.Nested(RestrictionSchema))


class CheckResultSchema(Schema):
    subject = fields.Dict()
    known = fields.Boolean()
    verdict = fields.String(metadata={"enum": ["barred", "caution", "clear"]})
    restrictions = fields.List(fields.Nested(RestrictionSchema))
    score = fields.Dict(allow_none=True)
    related = fields.List(fields.Nested(RelatedSchema))
    at = fields.String()
    check = fields.Dict(metadata={"description": "digest of this answer as recorded, and when"})
    sources = fields.List(
        fields.Dict(),
        metadata={
            "description": "on a hub fed by other platforms: each source's last successful pull"
        },
    )


class CheckBatchResultSchema(Schema):
    results = fields.List(fields.Nested(CheckResultSchema))
