"""One JSON error shape for every error: {"code", "status", "message", "errors"}.

Services raise the domain errors below and know nothing of HTTP; this module turns them, and
every HTTP error, into the shape `api.md` names. Nothing internal reaches a client: an
unexpected exception is logged with the request id and answered with that id alone.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, jsonify
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

log = logging.getLogger("credithub.errors")


class ServiceError(Exception):
    """A request the service refuses; carries the HTTP status it maps to."""

    status = 400

    def __init__(self, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class Invalid(ServiceError):
    status = 422


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403


class Unauthorized(ServiceError):
    status = 401


class Conflict(ServiceError):
    status = 409


class Unavailable(ServiceError):
    """Cannot be done now, may succeed if sent again (a race lost to another writer)."""

    status = 503


def error_body(code: int, message: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one error shape as a dict; `errors` left out when None."""
    body: dict[str, Any] = {
        "code": code,
        "status": HTTP_STATUS_CODES.get(code, "Error"),
        "message": message,
    }
    if errors is not None:
        body["errors"] = errors
    return body


def error_response(
    code: int,
    message: str,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[Response, int]:
    response = jsonify(error_body(code, message, errors or None))
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response, code


def _http_message(error: HTTPException, data: dict[str, Any]) -> str:
    if "message" in data:
        return str(data["message"])
    if error.code == 422:
        return "The request has invalid fields; see errors."
    if error.code == 400 and "messages" in data:
        return "The request could not be read; see errors."
    return error.description or error.name


def handle_http_exception(error: HTTPException) -> tuple[Response, int]:
    data: dict[str, Any] = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    locations = {"json", "query", "form", "files", "view_args"}
    # webargs nests errors by location; a request reads one location, so flatten it, unless
    # what it holds is a bare list of messages (a body that cannot be read at all): `errors` is
    # always an object, so those stay under their location ({"json": ["Invalid JSON body."]}).
    if isinstance(errors, dict) and len(errors) == 1 and set(errors) <= locations:
        inner = next(iter(errors.values()))
        if isinstance(inner, dict):
            errors = inner
    headers = dict(data.get("headers") or {})
    valid_methods = getattr(error, "valid_methods", None)
    if error.code == 405 and valid_methods:
        headers["Allow"] = ", ".join(valid_methods)
    code = error.code or 500
    return error_response(code, _http_message(error, data), errors, headers)


def handle_service_error(error: ServiceError) -> tuple[Response, int]:
    headers = {"WWW-Authenticate": 'Bearer realm="credithub"'} if error.status == 401 else None
    return error_response(error.status, error.message, error.errors, headers)


def handle_unexpected(error: Exception) -> tuple[Response, int]:
    request_id = g.get("request_id", "-")
    log.error("unhandled error", exc_info=error, extra={"request_id": request_id})
    return error_response(500, f"Internal error; quote request id {request_id} when reporting it.")


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ServiceError, handle_service_error)
    app.register_error_handler(Exception, handle_unexpected)
