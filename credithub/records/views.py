"""Records API (/api/v1/records): push, 双公示 intake, read, list, revoke."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView

from credithub.clients.auth import current_client, require_scope
from credithub.db import db
from credithub.extensions import Blueprint, collector_paused, json_response
from credithub.records import audience, intake, service
from credithub.records.prepare import Actor
from credithub.records.visibility import Audience
from schemas.records import (
    AtomicArgs,
    IngestResultSchema,
    RecordBatchSchema,
    RecordDetailSchema,
    RecordListArgs,
    RecordOutSchema,
    RecordPageSchema,
    RevokeSchema,
)

blp = Blueprint(
    "records",
    __name__,
    url_prefix="/api/v1/records",
    description="Records (信用记录): penalties, misconduct, list entries, commendations",
)


def actor() -> Actor:
    return Actor.of_caller(current_client())


def reader() -> Audience:
    client = current_client()
    return Audience.of(client.kind, client.uscc)


# A 422 is either an atomic batch refused for a rejected item (its IngestResult, every item's
# result in it) or a request whose fields are invalid (the error shape).
ATOMIC_REFUSAL: dict[str, Any] = {
    "schema": {
        "anyOf": [
            {"$ref": "#/components/schemas/IngestResult"},
            {"$ref": "#/components/schemas/Error"},
        ]
    },
    "description": "with atomic=true, a batch with a rejected item (an IngestResult); or "
    "invalid fields (an Error)",
}


def _answer(result: service.IngestResult, atomic: bool) -> Response:
    # Built as plain JSON already (IngestResultSchema documents it).
    return json_response(result.to_dict(), 422 if atomic and result.rejected else 200)


@blp.route("")
class Records(MethodView):
    @collector_paused
    @require_scope("records:write")
    @blp.arguments(AtomicArgs, location="query")
    @blp.arguments(RecordBatchSchema)
    @blp.response(200, IngestResultSchema)
    @blp.alt_response(422, **ATOMIC_REFUSAL)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")  # a race lost: send it again
    def post(self, args: dict[str, Any], body: dict[str, Any]) -> Response:
        """Push up to 5,000 records; each item gets its own result."""
        result = service.ingest(
            db.session,
            body["records"],
            actor(),
            atomic=args["atomic"],
            in_parts=True,
            more=body["more"],
        )
        return _answer(result, args["atomic"])

    @require_scope("records:read")
    @blp.arguments(RecordListArgs, location="query")
    @blp.response(200, RecordPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List records, filtered by subject (USCC or subject id), kind and status: what the
        reader sees (api.md "Visibility")."""
        return audience.list_records_for(
            db.session,
            reader(),
            subject=args.get("subject"),
            kind=args.get("kind"),
            status=args.get("status"),
            page=args["page"],
            page_size=args["page_size"],
        )


@blp.route("/sgs")
class SgsRecords(MethodView):
    @require_scope("records:write")
    @blp.arguments(AtomicArgs, location="query")
    @blp.response(200, IngestResultSchema)
    @blp.alt_response(422, **ATOMIC_REFUSAL)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")  # a race lost: send it again
    @blp.doc(
        requestBody={
            "required": True,
            "description": (
                '双公示 penalty rows: JSON {"rows": [...]}, text/csv (UTF-8, UTF-8 with BOM, '
                "GB18030/GBK), or an xlsx file (as the body, or as the `file` field of "
                "multipart/form-data)"
            ),
            "content": {
                "application/json": {},
                "text/csv": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
                "multipart/form-data": {},
            },
        }
    )
    def post(self, args: dict[str, Any]) -> Response:
        """Push 双公示 penalty rows (current or 2016 field set), as JSON, CSV or Excel."""
        data, content_type = intake.read_upload(request)
        result = intake.ingest_sgs(db.session, data, content_type, actor(), atomic=args["atomic"])
        return _answer(result, args["atomic"])


@blp.route("/<record_id>")
class RecordItem(MethodView):
    @require_scope("records:read")
    @blp.response(200, RecordDetailSchema)
    def get(self, record_id: str) -> dict[str, Any]:
        """A record with its status, version, origin and history (history: the joint office
        and the deciding department; others see a record only while it counts)."""
        return audience.get_record_for(db.session, record_id, reader())


@blp.route("/<record_id>/revoke")
class RevokeRecord(MethodView):
    @require_scope("records:write")
    @blp.arguments(RevokeSchema)
    @blp.response(200, RecordOutSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any], record_id: str) -> dict[str, Any]:
        """Revoke a record (the deciding department or the joint office)."""
        return service.revoke(db.session, record_id, body["reason"], actor())
