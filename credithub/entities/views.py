"""Entity profiles and search (/api/v1/entities)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from credithub.clients.auth import current_client, require_scope
from credithub.db import db
from credithub.entities import service
from credithub.entities.identifiers import IdentifierError, parse_uscc
from credithub.entities.profile import profile
from credithub.errors import Invalid, NotFound
from credithub.extensions import Blueprint
from credithub.records.visibility import Audience
from schemas.entities import (
    EntityPageSchema,
    EntitySearchArgs,
    ProfileSchema,
    ResolveResultSchema,
    SubjectRefSchema,
)

blp = Blueprint(
    "entities",
    __name__,
    url_prefix="/api/v1/entities",
    description="Subjects (市场主体): profiles and search",
)


def uscc_from_path(value: str) -> str:
    try:
        return parse_uscc(value, service.uscc_allow_list())[0].code
    except IdentifierError as exc:
        raise Invalid(str(exc), {"uscc": [exc.reason]}) from None


@blp.route("")
class Entities(MethodView):
    @require_scope("records:read", "check")
    @blp.arguments(EntitySearchArgs, location="query")
    @blp.response(200, EntityPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Search subjects by name (current or former), USCC or legacy code."""
        page, size = args["page"], args["page_size"]
        items, total = service.search_subjects(db.session, args["q"], size, (page - 1) * size)
        return {"items": items, "page": page, "page_size": size, "total": total}


@blp.route("/<uscc>")
class Entity(MethodView):
    @require_scope("records:read", "check")
    @blp.response(200, ProfileSchema)
    def get(self, uscc: str) -> dict[str, Any]:
        """A subject's profile: identity, records, active restrictions, score explained."""
        subject = service.get_by_uscc(db.session, uscc_from_path(uscc))
        if subject is None:
            raise NotFound(f"no subject with USCC {uscc}")
        client = current_client()
        return profile(db.session, subject, Audience.of(client.kind, client.uscc))


@blp.route("/resolve")
class Resolve(MethodView):
    @require_scope("records:read", "check")
    @blp.arguments(SubjectRefSchema)
    @blp.response(200, ResolveResultSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Who is this? Find a subject by any identifier (persons by POST only)."""
        ref, warnings = service.parse_subject(data)
        subject = service.find_subjects(db.session, [ref])[0]
        return {"known": subject is not None, "entity": subject, "warnings": warnings}
