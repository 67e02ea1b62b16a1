"""The API extension: flask-smorest, with the hub's own error shape and bearer security."""

from __future__ import annotations

import gc
from collections.abc import Callable
from functools import wraps
from http import HTTPStatus
from typing import Any

import orjson
from apispec import BasePlugin
from flask import Response, current_app
from flask_smorest import Api as _Api
from flask_smorest import Blueprint as _Blueprint
from webargs.core import missing
from webargs.flaskparser import FlaskParser, abort, is_json_request
from werkzeug.exceptions import HTTPException

from credithub import errors, jsonbody


class ErrorResponses(BasePlugin):
    """Documents on each operation the errors any operation of its kind can answer, each in the
    one error shape: 401 and 403 where a token is needed, 404 where the path names something,
    400 (an unreadable body) and 413 (a body past `server.max_body_mb`) where a body is sent,
    and 429 everywhere (a rate limit or quota of `[limits]`, credithub/quotas.py).
    Errors only some operations give (409, 503) their views document (`alt_response`)."""

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        for method, operation in (operations or {}).items():
            codes: list[HTTPStatus] = [HTTPStatus.TOO_MANY_REQUESTS]
            if operation.get("security") != []:
                codes += [HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN]
            if "{" in (path or ""):
                codes.append(HTTPStatus.NOT_FOUND)
            if method in ("post", "put", "patch"):
                codes += [HTTPStatus.BAD_REQUEST, HTTPStatus.REQUEST_ENTITY_TOO_LARGE]
            responses = operation.setdefault("responses", {})
            for code in codes:
                if code.value not in responses and str(code.value) not in responses:
                    responses[str(code.value)] = code.name  # the registered error response


class Api(_Api):
    """flask-smorest's Api. Every operation needs a bearer token unless its view says
    `@blp.doc(security=[])`; HTTP errors take the hub's one JSON error shape (credithub.errors),
    and the document names them on each operation that can answer them (ErrorResponses).
    """

    def init_app(self, app: Any, *, spec_kwargs: dict[str, Any] | None = None) -> None:
        spec_kwargs = {
            "security": [{"bearerAuth": []}],
            "extra_plugins": [ErrorResponses()],
            **(spec_kwargs or {}),
        }
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.spec.components.security_scheme(
            "bearerAuth", {"type": "http", "scheme": "bearer", "description": "a client token"}
        )

    def handle_http_exception(self, error: HTTPException) -> Any:
        return errors.handle_http_exception(error)


class _Parser(FlaskParser):
    # webargs drops unknown query parameters by default; let each schema's Meta.unknown decide
    # (RAISE on every input schema), so a misspelt filter is an error, not a silent no-op.
    DEFAULT_UNKNOWN_BY_LOCATION = dict.fromkeys(FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION)

    def load_json(self, req: Any, schema: Any) -> Any:
        """The JSON body read by orjson (the standard decoder took about 3 µs of a pushed
        record's time). No JSON body (another content type, or none) is missing, as webargs
        has it; anything unreadable is invalid JSON, NaN and bytes that are not UTF-8 included.
        A body nested deeper than `server.json_max_depth`, or with a NUL in any text, is
        refused (credithub.jsonbody)."""
        if not is_json_request(req):
            return missing
        data = req.get_data(cache=True)
        if not data:
            return missing
        max_depth = current_app.extensions["credithub.settings"].server.json_max_depth
        try:
            return jsonbody.read(data, max_depth)
        except orjson.JSONDecodeError as exc:
            abort(400, exc=exc, messages={"json": ["Invalid JSON body."]})
        except jsonbody.BodyRefused as exc:
            abort(exc.status, exc=exc, message=exc.message, messages={"json": exc.errors})


class Blueprint(_Blueprint):
    """flask-smorest's Blueprint, with the strict argument parser."""

    ARGUMENTS_PARSER = _Parser()


def json_response(body: Any, status: int = 200) -> Response:
    """A body already built as plain JSON, encoded once (UTF-8, compact). For the bulk
    endpoints: their response schemas document them, and passing thousands of items through
    marshmallow again would cost as much as a tenth of the request."""
    return current_app.response_class(
        orjson.dumps(body), status=status, mimetype="application/json"
    )


def collector_paused(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run a bulk view with Python's cyclic garbage collector paused.

    A batch of thousands holds some hundred thousand objects alive at once (its body, the
    stored rows, the answers); the collector would scan them again and again while they pile
    up, for reference cycles such a request makes few of. Whatever garbage the request leaves
    is freed as its references go, or at the next collection. With
    `server.collector_threshold = 0` (the collector left as Python sets it) it is not paused.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        tuned = current_app.extensions["credithub.settings"].server.collector_threshold
        if not gc.isenabled() or not tuned:
            return view(*args, **kwargs)
        gc.disable()
        try:
            return view(*args, **kwargs)
        finally:
            gc.enable()

    return wrapper
