"""Building blocks shared by every API schema: strict input, pagination, the error shape."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, validate

MAX_PAGE_SIZE = 500


class StrictSchema(Schema):
    """Input schema: an unknown field is an error naming the field, never silently dropped."""

    class Meta:
        unknown = RAISE


class PageArgs(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
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
