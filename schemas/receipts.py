"""Screening receipts (api.md: Screening receipts)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from marshmallow import INCLUDE, Schema, fields

from schemas.check import Instant
from schemas.common import PageArgs, page_of


class Until(Instant):
    """An instant, or a date meaning the end of that day (China)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        instant = super()._deserialize(value, attr, data, **kwargs)
        return instant + timedelta(days=1) if len(value.strip()) == 10 else instant


class CheckListArgs(PageArgs):
    subject = fields.String(metadata={"description": "a USCC or an ID number"})
    from_ = Instant(
        data_key="from",
        metadata={"description": "asked at or after (date/instant, 1900-01-01 to 2999-12-31)"},
    )
    to = Until(
        metadata={
            "description": "asked before this instant, or up to the end of a date (1900 to 2999)"
        }
    )
    client = fields.String(metadata={"description": "admin: one client's checks"})


class CheckEntrySchema(Schema):
    digest = fields.String()
    asked_at = fields.String()
    client = fields.String()
    domain = fields.String()
    at = fields.String(metadata={"description": "the instant the answer was for"})
    subject = fields.String(metadata={"description": "the USCC, or the ID number masked"})
    verdict = fields.String(metadata={"enum": ["barred", "caution", "clear"]})


CheckPageSchema = page_of(CheckEntrySchema, "CheckPage")


class VerifySchema(Schema):
    """One check result exactly as received: every member is kept as sent."""

    class Meta:
        unknown = INCLUDE

    check = fields.Dict(
        required=True, metadata={"description": "{digest, asked_at} as the answer carried it"}
    )


class VerifiedSchema(Schema):
    recorded = fields.Boolean(required=True)
    asked_at = fields.String(metadata={"description": "when the hub gave it (if recorded)"})
    client = fields.String(metadata={"description": "to whom (if recorded)"})
