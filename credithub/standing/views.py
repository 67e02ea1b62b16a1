"""The bidder check (/api/v1/check)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView
from marshmallow import ValidationError

from credithub.clients.auth import current_client, require_scope
from credithub.clients.models import ANY_SCOPE
from credithub.db import utcnow
from credithub.entities.identifiers import IdentifierError, Uscc, mask_id_number, parse_uscc
from credithub.entities.service import parse_subject, ref_for_uscc, uscc_allow_list
from credithub.errors import Invalid
from credithub.extensions import Blueprint, collector_paused
from credithub.rules import active_pack
from credithub.standing import check as service
from credithub.standing import receipts
from schemas.check import (
    SUBJECT_KEYS,
    CheckArgs,
    CheckBatchResultSchema,
    CheckBatchSchema,
    CheckResultSchema,
)
from schemas.receipts import CheckListArgs, CheckPageSchema, VerifiedSchema, VerifySchema

blp = Blueprint(
    "check",
    __name__,
    url_prefix="/api/v1/check",
    description="The bidder check: barred, caution or clear in a trading domain",
)


_CHECK_ARGS = CheckArgs()
_AT = _CHECK_ARGS.fields["at"]


def _single_check(view: Callable[..., Any]) -> Callable[..., Any]:
    """The single check's query (CheckArgs) and answer (CheckResultSchema), documented in the
    OpenAPI document by flask-smorest as its own decorators document them.

    The usual query, `domain` and perhaps `at` once each, is read here and the view's answer
    (JSON already) is returned as it is; anything else (a missing, repeated, unknown or
    unreadable parameter) goes through flask-smorest's parser and response wrapper as every
    other endpoint does, which gives the same answer and the same errors. On a single check
    those layers cost more than the database.
    """
    parsed = blp.arguments(_CHECK_ARGS, location="query")(
        blp.response(200, CheckResultSchema)(view)
    )

    @wraps(parsed)  # the documentation the decorators gave `parsed` goes with it
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        query = dict(request.args.lists())
        usual = "domain" in query and query.keys() <= {"domain", "at"}
        if usual and all(len(values) == 1 for values in query.values()):
            found: dict[str, Any] = {"domain": query["domain"][0]}
            try:
                if "at" in query:
                    found["at"] = _AT.deserialize(query["at"][0])
            except ValidationError:
                pass  # the parser says what is wrong, as it always has
            else:
                return view(*args, found, **kwargs)  # where webargs puts them
        return parsed(*args, **kwargs)

    return wrapper


def _domain(value: str) -> str:
    if value not in active_pack().domains:
        known = ", ".join(active_pack().domains)
        raise Invalid(f"unknown domain {value!r}", {"domain": [f"one of {known}"]})
    return value


def _uscc(value: str, where: str) -> Uscc:
    try:
        return parse_uscc(value, uscc_allow_list())[0]
    except IdentifierError as exc:
        raise Invalid(str(exc), {f"{where}.uscc": [exc.reason]}) from None


def _asked(item: dict[str, Any], where: str) -> service.Asked:
    extra = set(item) - SUBJECT_KEYS
    if extra:
        raise Invalid("unknown fields", {f"{where}.{k}": ["Unknown field."] for k in sorted(extra)})
    if ("uscc" in item) == ("id_number" in item) or ("id_type" in item and "uscc" in item):
        raise Invalid(
            "send either uscc or id_number (with id_type)",
            {where: ["send either uscc or id_number (with id_type)"]},
        )
    if not all(isinstance(v, str) for v in item.values()):
        raise Invalid("identifiers are strings", {where: ["identifiers are strings"]})
    if "uscc" in item:
        parsed = _uscc(item["uscc"], where)
        return service.Asked(ref_for_uscc(parsed), parsed.code)
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
    init_every_request = False  # no state of its own: one instance serves every request

    @require_scope("check")
    @_single_check
    def get(self, args: dict[str, Any], uscc: str) -> Response:
        """May this organization take part in this domain now (or at `at`)?"""
        domain = _domain(args["domain"])
        code = _uscc(uscc, "path")
        at = args.get("at") or utcnow()
        body = service.check_one(code, domain, at, current_client().name)
        return current_app.response_class(body, mimetype="application/json")


@blp.route("")
class CheckMany(MethodView):
    init_every_request = False

    @collector_paused
    @require_scope("check")
    @blp.arguments(CheckBatchSchema())
    @blp.response(200, CheckBatchResultSchema)
    def post(self, body: dict[str, Any]) -> Response:
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
        answers = service.check(asked, domain, at, current_client().name)
        # Plain JSON already, which the response schema documents: re-serialising 10,000
        # answers through marshmallow would double a batch's time.
        encoded = service.answers_json({"results": answers}, answers)
        return current_app.response_class(encoded, mimetype="application/json")


receipts_blp = Blueprint(
    "receipts",
    __name__,
    url_prefix="/api/v1/checks",
    description="Screening receipts: the checks a client made, and proof of an answer",
)


@receipts_blp.route("")
class Checks(MethodView):
    @require_scope("check")
    @receipts_blp.arguments(CheckListArgs, location="query")
    @receipts_blp.response(200, CheckPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The caller's checks, newest first (admin: everyone's, or one `client`'s)."""
        return receipts.listing(
            current_client(),
            args["page"],
            args["page_size"],
            subject=args.get("subject"),
            start=args.get("from_"),
            end=args.get("to"),
            client=args.get("client"),
        )


@receipts_blp.route("/verify")
class Verify(MethodView):
    @require_scope(*ANY_SCOPE)
    @receipts_blp.arguments(VerifySchema)
    @receipts_blp.response(200, VerifiedSchema)
    def post(self, answer: dict[str, Any]) -> dict[str, Any]:
        """Did this hub give this answer? Send one result exactly as received."""
        return receipts.verify(answer)
