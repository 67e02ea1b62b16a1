"""Rate limits and daily quotas (Flask-Limiter), from `[limits]`.

A client (bearer token) is counted by client, with the limits of its kind or, if
`limits.clients` names it, its own. Any other request (the public pages and endpoints,
console logins, a wrong token) is counted by remote address, with `limits.public`. Every
limit of a list applies across the whole API and the pages together (Flask-Limiter's
application limits). Past one the request is refused with 429 before it is served: the JSON
error shape for the API, an HTML page for the pages, with `Retry-After` (seconds) and
Flask-Limiter's `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (epoch
seconds) of the limit nearest to running out; answers within the limits carry them too.
Health endpoints (/healthz, /readyz) and static files are never counted. With no limit
configured at all, Flask-Limiter is not installed.
"""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import ApplicationLimit, Limiter

from credithub.clients.auth import peek_caller
from credithub.clients.cache import Caller
from credithub.settings import CLIENT_KINDS, LimitsSettings

_EXEMPT_BLUEPRINTS = frozenset({"ops"})
MESSAGE = (
    "rate limit or daily quota used up; send again after the seconds in Retry-After "
    "(X-RateLimit-Limit and X-RateLimit-Reset tell which limit and when it is whole again)"
)


class Quotas:
    """The limits that apply to each caller, and the Flask-Limiter that counts them."""

    def __init__(self, settings: LimitsSettings) -> None:
        self.public = ";".join(settings.public)
        self.by_kind = {kind: ";".join(getattr(settings, kind)) for kind in CLIENT_KINDS}
        self.by_name = {name: ";".join(value) for name, value in settings.clients.items()}
        self.storage_uri = settings.storage_uri

    @property
    def any(self) -> bool:
        return bool(self.public or any(self.by_kind.values()) or any(self.by_name.values()))

    def for_client(self, caller: Caller) -> str:
        """The limits of `caller` in Flask-Limiter's notation ("" for none)."""
        own = self.by_name.get(caller.name)
        return own if own is not None else self.by_kind.get(caller.kind, "")

    def _limits(self) -> str:
        caller = peek_caller()
        return self.public if caller is None else self.for_client(caller)

    def _exempt(self) -> bool:
        if request.blueprint in _EXEMPT_BLUEPRINTS or request.endpoint in (None, "static"):
            return True
        return not self._limits()

    def _key(self) -> str:
        caller = peek_caller()
        if caller is None:
            return f"address:{request.remote_addr or '-'}"
        return f"client:{caller.id}"

    def install(self, app: Flask) -> Limiter:
        return Limiter(
            key_func=self._key,
            app=app,
            application_limits=[
                ApplicationLimit(self._limits, error_message=MESSAGE, exempt_when=self._exempt)
            ],
            headers_enabled=True,
            storage_uri=self.storage_uri,
            strategy="fixed-window",
        )


def init_app(app: Flask, settings: LimitsSettings) -> None:
    quotas = Quotas(settings)
    app.extensions["credithub.quotas"] = quotas if quotas.any else None
    if quotas.any:
        quotas.install(app)


def limited(app: Flask, caller: Caller) -> bool:
    """Whether requests of `caller` are counted (the check lane leaves those to Flask)."""
    quotas: Quotas | None = app.extensions["credithub.quotas"]
    return quotas is not None and bool(quotas.for_client(caller))
