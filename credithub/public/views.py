"""The public read API (/api/v1/public/entities): no token, what api.md "Visibility" allows the
public to see. It serves the hub's public pages, and anyone else."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from credithub.db import db
from credithub.entities.identifiers import IdentifierError, parse_uscc
from credithub.entities.service import uscc_allow_list
from credithub.errors import Invalid
from credithub.extensions import Blueprint
from credithub.public import service
from schemas.public import PublicEntityPageSchema, PublicProfileSchema, PublicSearchArgs

blp = Blueprint(
    "public",
    __name__,
    url_prefix="/api/v1/public",
    description="Public read API (no token): subjects with published records, persons masked",
)


@blp.route("/entities")
class PublicEntities(MethodView):
    @blp.doc(security=[])
    @blp.arguments(PublicSearchArgs, location="query")
    @blp.response(200, PublicEntityPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Search subjects with a public record by name (current or former) or code."""
        return service.search(db.read_session, args["q"], args["page"], args["page_size"])


@blp.route("/entities/<uscc>")
class PublicEntity(MethodView):
    @blp.doc(security=[])
    @blp.response(200, PublicProfileSchema)
    def get(self, uscc: str) -> dict[str, Any]:
        """A subject's public profile: name, identifiers (masked), its public records and the
        restrictions they carry."""
        try:
            code = parse_uscc(uscc, uscc_allow_list())[0].code
        except IdentifierError as exc:
            raise Invalid(str(exc), {"uscc": [exc.reason]}) from None
        return service.public_profile(db.read_session, code)
