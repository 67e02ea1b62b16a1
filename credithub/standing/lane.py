"""The single check's own lane: the usual `GET /api/v1/check/{uscc}?domain=…`, answered
without Flask's request dispatch.

E-tendering systems make this request at every bid opening, and Flask's path for it (request
context, routing, the request hooks, the view's layers, the response object) cost more than
the check itself. The lane is WSGI middleware in front of the app (`app.wsgi_app`): it answers
a request only when every step of the usual path is known to succeed, which it finds out
before anything is recorded, and hands any other request to Flask untouched:

- `GET` with no body, the path `/api/v1/check/` and an ASCII code, the query exactly
  `domain=<a domain of the active pack>` (no `at`, nothing else, nothing encoded);
- the code is no ID number (the URL guard would refuse it) and is a valid USCC (or an
  allow-listed exception), as the view requires;
- the bearer token's client is in the token cache, live (`TokenCache.peek`, the same expiry
  and revocation rules as on Flask's path) and granted `check`; a token not cached is read
  from the database on Flask's path, which caches it;
- no rate limit or quota applies to the client (`limits`; counted on Flask's path);
- the check log is buffered (`check.log_flush_ms` above 0; unbuffered, a check is a write
  and takes Flask's path with its commit).

Its answer is the one Flask's path gives, byte for byte (the same `check.check_one`, the
headers `Content-Type`, `Content-Length` and `X-Request-ID` in that order), with the same
request id rule, the same access log line, the same commit of a read session if one was
opened, and the same teardown. An error once the lane has taken a request is answered by
Flask's own error handling in a request context of its own, as on Flask's path. The lane
stands aside while the app checks hosts (`SERVER_NAME`, `TRUSTED_HOSTS`), which it does not.
The tests compare both paths, and list the request hooks the lane stands in for: a new hook
has to be added here too.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import Flask, g

from credithub.clients.cache import TokenCache
from credithub.clients.service import hash_token
from credithub.db import db, utcnow, write_intent
from credithub.entities.identifiers import IdentifierError, looks_like_id_number, parse_uscc
from credithub.entities.service import uscc_allow_list
from credithub.logs import log_request, request_id
from credithub.ops import metrics
from credithub.quotas import limited
from credithub.rules import active_pack
from credithub.standing import check as service

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

PREFIX = "/api/v1/check/"
_QUERY = "domain="
_SCOPES = frozenset({"check"})


class CheckLane:
    """WSGI middleware answering the usual single check; everything else goes to `wsgi_app`."""

    def __init__(self, app: Flask, wsgi_app: WSGIApplication) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        query: str = environ.get("QUERY_STRING", "")
        if (
            path.startswith(PREFIX)
            and query.startswith(_QUERY)
            and environ.get("REQUEST_METHOD") == "GET"
            and environ.get("CONTENT_LENGTH") in (None, "", "0")
            and "HTTP_TRANSFER_ENCODING" not in environ
        ):
            config = self.app.config
            if config["SERVER_NAME"] is None and not config.get("TRUSTED_HOSTS"):
                with self.app.app_context():
                    answered = self._answer(environ, start_response, path, query)
                if answered is not None:
                    return answered
        return self.wsgi_app(environ, start_response)

    def _answer(
        self, environ: WSGIEnvironment, start_response: StartResponse, path: str, query: str
    ) -> list[bytes] | None:
        # Every condition first, with no side effect: None hands the request to Flask.
        code = path[len(PREFIX) :]
        domain = query[len(_QUERY) :]
        if not code.isascii() or "/" in code or domain not in active_pack().domains:
            return None
        if looks_like_id_number(code):
            return None
        try:
            parsed = parse_uscc(code, uscc_allow_list())[0]
        except IdentifierError:
            return None
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        cache: TokenCache = self.app.extensions["credithub.token_cache"]
        caller = cache.peek(hash_token(token))
        if caller is None or caller.scopes.isdisjoint(_SCOPES):
            return None
        if limited(self.app, caller):
            return None  # counted on Flask's path, by Flask-Limiter's hooks
        if self.app.extensions["credithub.check_log"] is None:
            return None

        # Taken: from here on this is the request, as Flask's path would serve it.
        g.request_id = request_id(environ)
        g.started = time.perf_counter()
        g.client = caller
        try:
            body = service.check_one(parsed, domain, utcnow(), caller.name)
            db.commit()  # a read session, if the check opened one (middleware's commit point)
        except Exception as exc:
            return self._failed(environ, start_response, exc)
        finally:
            write_intent.set(False)  # as the teardown of every request does
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("X-Request-ID", g.request_id),
            ],
        )
        log_request("GET", path, 200)
        metrics.count_request("GET", "200", g.started)
        return [body]

    def _failed(
        self, environ: WSGIEnvironment, start_response: StartResponse, exc: Exception
    ) -> list[bytes]:
        """Answer `exc` (being handled) as Flask's path would: its error handlers, then its
        after-request hooks (rollback, request id header, access log) and teardown."""
        app = self.app
        ctx = app.request_context(environ)  # within the lane's app context, and its `g`
        ctx.push()
        error: BaseException | None = None  # as in Flask: set only if the handlers fail too
        try:
            try:
                response = app.finalize_request(app.handle_user_exception(exc))
            except Exception as again:
                error = again
                response = app.handle_exception(again)
            metrics.count_request("GET", str(response.status_code), g.started)
            return list(response(environ, start_response))
        finally:
            if error is not None and app.should_ignore_error(error):
                error = None
            ctx.pop(error)


def install(app: Flask) -> None:
    """Put the lane in front of the app (Flask's way to add WSGI middleware)."""
    app.wsgi_app = CheckLane(app, app.wsgi_app)  # type: ignore[method-assign]
