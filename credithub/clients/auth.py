"""Bearer-token authentication and scope checks for API views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, request

from credithub.clients.cache import Caller, TokenCache
from credithub.clients.service import authenticate, hash_token
from credithub.db import db
from credithub.errors import Forbidden, Unauthorized
from credithub.middleware import WRITE_METHODS

F = TypeVar("F", bound=Callable[..., Any])


def current_client() -> Caller:
    client: Caller | None = g.get("client")
    if client is None:
        raise Unauthorized("authentication required")
    return client


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def peek_caller() -> Caller | None:
    """The client of the request's bearer token, or None (no token, an unknown or revoked
    one); authenticates at most once a request."""
    if "client" in g:
        client: Caller | None = g.client
        return client
    token = _bearer_token()
    if not token:
        return None
    cache: TokenCache = current_app.extensions["credithub.token_cache"]
    found = cache.get(hash_token(token), lambda: authenticate(db.session, token))
    if found is not None:
        g.client = found
    return found


def _authenticate_request() -> Caller:
    if not _bearer_token():
        raise Unauthorized("send 'Authorization: Bearer <token>'")
    client = peek_caller()
    if client is None:
        raise Unauthorized("unknown or revoked token")
    return client


def authorize(*scopes: str) -> Caller:
    """The request's client, if granted one of `scopes` (401 without token, else 403)."""
    client = _authenticate_request()
    if client.scopes.isdisjoint(scopes):
        needed = " or ".join(repr(s) for s in scopes)
        raise Forbidden(f"this client ({client.kind}) lacks the scope {needed}")
    return client


def require_scope(*scopes: str) -> Callable[[F], F]:
    """Run the view only for a client granted one of `scopes` (401 without token, else 403).

    The OpenAPI document asks every operation for a bearer token (credithub.extensions.Api).
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            authorize(*scopes)
            if request.method in WRITE_METHODS:
                db.begin_writing()
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator
