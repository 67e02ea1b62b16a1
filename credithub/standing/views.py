"""The bidder check (/api/v1/check)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from credithub.clients.auth import current_client, require_scope
from credithub.db import db, utcnow
from credithub.entities.identifiers import IdentifierError, mask_id_number, parse_uscc
from credithub.entities.service import parse_subject, uscc_allow_list
from credithub.errors import Invalid
from credithub.extensions import Blueprint
from credithub.standing import check as service
from credithub.standing.service import rule_pack
from schemas.check import CheckArgs, CheckBatchResultSchema, CheckBatchSchema, CheckResultSchema

blp = Blueprint(
    "check",
    __name__,
    url_prefix="/api/v1/check",
    description="The bidder check: barred, caution or clear in a trading domain",
)


def _domain(value: str) -> str:
    if value not in rule_pack().domains:
        known = ", ".join(rule_pack().domains)
        raise Invalid(f"unknown domain {value!r}", {"domain": [f"one of {known}"]})
    return value


def _asked(item: dict[str, Any], where: str) -> service.Asked:
    if "uscc" in item:
        try:
            parsed = parse_uscc(item["uscc"], uscc_allow_list())[0]
        except IdentifierError as exc:
            raise Invalid(str(exc), {f"{where}.uscc": [exc.reason]}) from None
        ref, _ = parse_subject({"type": parsed.subject_type, "name": "-", "uscc": parsed.code})
        return service.Asked(ref, parsed.code)
    try:
        ref, _ = parse_subject(
            {
                "type": "person",
                "name": "-",
                "id_type": item.get("id_type"),
                "id_number": item["id_number"],
            }
        )
    except Invalid as exc:
        raise Invalid(
            "a subject is not valid",
            {f"{where}.{k.split('.', 1)[1]}": v for k, v in exc.errors.items()},
        ) from None
    return service.Asked(ref, mask_id_number(ref.id_number or ""))


@blp.route("/<uscc>")
class CheckOne(MethodView):
    @require_scope("check")
    @blp.arguments(CheckArgs, location="query")
    @blp.response(200, CheckResultSchema)
    def get(self, args: dict[str, Any], uscc: str) -> dict[str, Any]:
        """May this organization take part in this domain now (or at `at`)?"""
        domain = _domain(args["domain"])
        asked = _asked({"uscc": uscc}, "path")
        at = args.get("at") or utcnow()
        return service.check(db.session, [asked], domain, at, current_client().name)[0]


@blp.route("")
class CheckMany(MethodView):
    @require_scope("check")
    @blp.arguments(CheckBatchSchema)
    @blp.response(200, CheckBatchResultSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Check up to 10,000 subjects (persons by ID number) at once; answers in order."""
        domain = _domain(body["domain"])
        asked = [_asked(item, f"subjects.{i}") for i, item in enumerate(body["subjects"])]
        seen: dict[tuple[str, str], int] = {}
        for i, a in enumerate(asked):
            key = a.ref.lookup_keys()[0]  # the USCC or the ID number's keyed hash
            if key in seen:
                raise Invalid(
                    "a subject appears twice in the batch",
                    {f"subjects.{i}": [f"same subject as subjects.{seen[key]}"]},
                )
            seen[key] = i
        at = body.get("at") or utcnow()
        return {"results": service.check(db.session, asked, domain, at, current_client().name)}
