"""Request hooks: the commit point, JSON-only bodies, no NUL in text, and no personal ID
numbers in URLs."""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, current_app, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from credithub.db import db, write_intent
from credithub.entities.identifiers import looks_like_id_number
from credithub.errors import Invalid, ServiceError, error_response, handle_unexpected
from credithub.jsonbody import NUL_MESSAGE

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Endpoints that read bodies other than JSON (files of 双公示 rows) list themselves here.
NON_JSON_ENDPOINTS: set[str] = set()


class UnsupportedMediaType(ServiceError):
    status = 415


class PersonalDataInUrl(ServiceError):
    status = 400


class BodyTooLarge(ServiceError):
    status = 413


def _guard_size() -> None:
    # Refuse on the declared length, before anything (authentication included) reads the body;
    # Flask's MAX_CONTENT_LENGTH still stops a body that lies about its length or is chunked.
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    length = request.content_length
    if length is not None and length > limit:
        raise BodyTooLarge(
            f"the body is over the limit of {limit // (1024 * 1024)} MB",
            {"Content-Length": [f"at most {limit} bytes"]},
        )


def _guard_text() -> None:
    # No text may hold NUL (PostgreSQL text cannot store it): refused in the path, a query
    # parameter or a form field before any view reads them. JSON bodies: credithub.jsonbody.
    found: dict[str, list[str]] = {}
    if "\x00" in request.path:
        found["path"] = [NUL_MESSAGE]
    sources = [request.args]
    if request.mimetype in _FORMS and not request.path.startswith("/api/"):
        sources.append(request.form)  # the web pages' forms (the API reads JSON)
    for where in sources:
        for key, value in where.items(multi=True):
            if "\x00" in key or "\x00" in value:
                found[key.replace("\x00", "\\u0000")] = [NUL_MESSAGE]
    if found:
        raise Invalid("text may not hold a NUL character", found)


_FORMS = {"application/x-www-form-urlencoded", "multipart/form-data"}


def _guard_url() -> None:
    # An ID number in a URL ends up in proxies' and servers' logs: refuse it outright.
    parts = list(request.args.items(multi=True)) + [("path", p) for p in request.path.split("/")]
    for key, value in parts:
        if looks_like_id_number(value):
            where = "the path" if key == "path" else f"query parameter {key!r}"
            raise PersonalDataInUrl(
                "personal ID numbers may not be sent in a URL; send them in a POST body",
                {key: [f"{where} carries a personal ID number"]},
            )


def _guard_body() -> None:
    if request.method not in WRITE_METHODS or request.endpoint in NON_JSON_ENDPOINTS:
        return
    if not request.path.startswith("/api/"):
        return
    if not request.content_length and not request.data:
        return  # no body (no Content-Length, or 0): nothing to be JSON
    if not request.is_json:
        raise UnsupportedMediaType(
            "send the body as application/json",
            {"Content-Type": [f"expected application/json, got {request.mimetype or 'nothing'}"]},
        )


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions for the web pages; the API (bearer tokens) has none.

    Opening and saving a cookie session costs about a twentieth of a single check, for
    requests that never use it: an API request gets Flask's null session (reading it finds
    it empty, writing to it is an error). Flask also builds the signing serializer afresh for
    every request (and it test-encodes a value as it is built): here it is built once per key.
    """

    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], Any] = {}

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith("/api/"):
            return None  # Flask then uses make_null_session, and never saves it
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        # Secure whenever the page came over TLS (SESSION_COOKIE_SECURE forces it always).
        return bool(super().get_cookie_secure(app) or request.is_secure)

    def get_signing_serializer(self, app: Flask) -> Any:
        key = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializer = self._serializers.get(key)
        if serializer is None:
            serializer = self._serializers[key] = super().get_signing_serializer(app)
        return serializer


def init_app(app: Flask) -> None:
    app.session_interface = SessionCookies()

    @app.before_request
    def _before() -> None:
        _guard_size()
        _guard_text()
        _guard_url()
        _guard_body()

    @app.after_request
    def _commit(response: Response) -> Response:
        # The one commit point of a request: only a successful answer keeps its changes.
        try:
            if response.status_code < 400:
                db.commit()
            else:
                db.rollback()
        except Exception as exc:  # a failed commit is answered, never half-applied
            db.rollback()
            failed, code = handle_unexpected(exc)
            failed.status_code = code
            return failed
        return response

    @app.teardown_request
    def _reset(_exc: BaseException | None) -> None:
        write_intent.set(False)


__all__ = ["NON_JSON_ENDPOINTS", "error_response", "init_app"]
