"""The public read API's answers (api.md "Visibility": the public)."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.common import PageArgs, page_of
from schemas.entities import EntitySummarySchema, NameSchema


class PublicSearchArgs(PageArgs):
    q = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "a name (current or former) or a code"},
    )


class PublicEntitySchema(EntitySummarySchema):
    """A subject as the public search lists it: the summary without the hub's own id."""

    class Meta:
        exclude = ("id",)


PublicEntityPageSchema = page_of(PublicEntitySchema, "PublicEntityPage")


class PublicProfileSchema(PublicEntitySchema):
    """A subject as the public sees it."""

    names = fields.List(
        fields.Nested(NameSchema), metadata={"description": "current and former names"}
    )
    records = fields.List(
        fields.Dict(),
        metadata={"description": "its records inside their publication window (at most 500)"},
    )
    records_total = fields.Integer()
    restrictions = fields.List(
        fields.Dict(), metadata={"description": "active now, from public records"}
    )
    at = fields.String()
