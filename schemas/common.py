"""Building blocks shared by every API schema: strict input, pagination, the error shape."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from schemas.sgs_fields import mask_id_numbers

CHINA = timezone(timedelta(hours=8))  # China keeps no daylight saving time
MAX_PAGE_SIZE = 500
# Bounds of what a client may send, so that no number or instant overflows where it is stored
# or computed with (a 64-bit column, a date plus a term of years, a change of time zone).
MAX_PAGE = 2**31 - 1
MAX_BIGINT = 2**63 - 1  # a 64-bit integer column: feed positions, quarantine ids
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)
MAX_YUAN = 10**15  # an amount of yuan: 1,000万亿, far above any fine ever decided
DAYS = validate.Range(min=FIRST_DAY, max=LAST_DAY, error="must be between {min} and {max}")


def china_today() -> date:
    """The date in China: a decision taken this morning there is not 'in the future' here
    (the hub itself reads its clock, `credithub.clock.today`, and passes it on)."""
    return datetime.now(CHINA).date()


class WithinYears(validate.Validator):
    """An instant whose date, where it was given (its own offset), is in FIRST_DAY..LAST_DAY:
    a change of zone, or a term added, then stays within the calendar."""

    error = f"must be between {FIRST_DAY} and {LAST_DAY}"

    def __call__(self, value: datetime) -> datetime:
        if not FIRST_DAY <= value.date() <= LAST_DAY:
            raise ValidationError(self.error)
        return value


class FreeText(fields.String):
    """Text a person writes (facts, reasons, names): a resident ID number in it is masked as it
    is loaded (`110105********002X`), so no free text stored holds one in clear."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = kwargs.pop("metadata", {})
        said = metadata.get("description")
        note = "resident ID numbers in it are stored masked"
        metadata = {**metadata, "description": f"{said}; {note}" if said else note}
        super().__init__(metadata=metadata, **kwargs)

    @staticmethod
    def clean(value: str) -> str:
        """What loading does to a valid string (schemas.fastload applies it too)."""
        return mask_id_numbers(value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return self.clean(super()._deserialize(value, attr, data, **kwargs))


class StrictSchema(Schema):
    """Input schema: an unknown field is an error naming the field, never silently dropped."""

    class Meta:
        unknown = RAISE


class PageArgs(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


class ErrorSchema(Schema):
    code = fields.Integer(required=True)
    status = fields.String(required=True)
    message = fields.String(required=True)
    errors = fields.Dict()


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """A paginated answer `{"items", "page", "page_size", "total"}` of `item`."""
    attrs: dict[str, Any] = {
        "items": fields.List(fields.Nested(item), required=True),
        "page": fields.Integer(required=True),
        "page_size": fields.Integer(required=True),
        "total": fields.Integer(required=True),
    }
    return Schema.from_dict(attrs, name=name)
