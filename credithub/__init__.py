"""credithub: the joint-credit and blacklist sharing hub for public-resource trading."""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping
from inspect import iscoroutinefunction
from types import FunctionType, MethodType
from typing import Any

from flask import Flask

from credithub import clock
from credithub.config import (
    ensure_instance_secrets,
    key_bytes,
    load_settings,
    matching_key_bytes,
)
from credithub.settings import Settings

DEFAULT_COLLECTOR_THRESHOLDS = gc.get_threshold()  # the interpreter's own, as it started

__version__ = "0.1.0"


class App(Flask):
    """Flask, remembering which of its functions are plain (synchronous) ones.

    Flask asks `inspect` whether each hook, view and handler is a coroutine function every
    time it calls one, about ten times a request; the answer for a function never changes.
    """

    _plain: dict[FunctionType, bool]

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        key = func.__func__ if isinstance(func, MethodType) else func
        if isinstance(key, FunctionType):
            plain = self.__dict__.setdefault("_plain", {}).get(key)
            if plain is None:
                plain = self._plain[key] = not iscoroutinefunction(key)
            if plain:
                return func
        return super().ensure_sync(func)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: a flat list of steps, none of which queries the database."""
    settings = load_settings(config)
    app = App(__name__, instance_path=str(settings.instance_path.resolve()))
    configure_runtime(settings)
    configure_clock(settings)
    configure_settings(app, settings)
    configure_logging(app, settings)
    configure_database(app, settings)
    configure_check_log(app, settings)
    configure_personal_data(app, settings)
    configure_identifiers(app, settings)
    configure_rules(app, settings)
    configure_ingest(settings)
    configure_connectors(settings)
    configure_authentication(app, settings)
    configure_errors(app)
    configure_api(app)
    configure_pages(app)
    configure_requests(app, settings)
    configure_metrics(app)
    configure_quotas(app, settings)
    configure_check_lane(app, settings)
    return app


def configure_clock(settings: Settings) -> None:
    """`[clock] start` (tests and drills): the clock starts at that instant, then runs on."""
    if settings.clock.start:
        clock.start_at(clock.parse_instant(settings.clock.start))


def configure_runtime(settings: Settings) -> None:
    """Collect reference cycles less often than Python's default (every 700 new containers).

    A batch of 5,000 records builds about a million short-lived objects that reference counting
    frees; at the default the cycle collector scanned the whole heap so often that it took a
    quarter of an import's time (bench/ingest.py). Cycles are still collected.
    `server.collector_threshold = 0` keeps Python's defaults.
    """
    threshold = settings.server.collector_threshold
    gc.set_threshold(*((threshold, 20, 10) if threshold else DEFAULT_COLLECTOR_THRESHOLDS))


def configure_settings(app: Flask, settings: Settings) -> None:
    ensure_instance_secrets(settings)
    app.extensions["credithub.settings"] = settings
    app.config.update(
        SECRET_KEY=settings.security.secret_key,
        TESTING=settings.testing,
        MAX_CONTENT_LENGTH=settings.server.max_body_mb * 1024 * 1024,
        JSON_SORT_KEYS=False,
        API_TITLE="credithub",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]


def configure_logging(app: Flask, settings: Settings) -> None:
    from credithub import logs

    logs.configure(settings.logging.level, settings.logging.format)
    logs.init_app(app)


def configure_database(app: Flask, settings: Settings) -> None:
    from credithub.db import Speed, db

    if settings.database_url.startswith("sqlite:///"):
        settings.instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    d = settings.database
    speed = Speed(
        d.bulk_binds, d.array_lookups, d.prepared_reads, d.analyze_after_growth, d.checkpoints_apart
    )
    db.init_app(app, settings.database_url, d.echo, d.pool_size, speed, d.replica_url)


def configure_check_log(app: Flask, settings: Settings) -> None:
    from credithub.standing.checklog import CheckLogBuffer

    # No connection is made here: the writer starts with a worker's first single check.
    engine = app.extensions["credithub.db"][0]
    flush_ms = settings.check.log_flush_ms
    refresh = settings.webhooks.watch_refresh_seconds
    app.extensions["credithub.check_log"] = (
        CheckLogBuffer(engine, flush_ms, watch_refresh_seconds=refresh) if flush_ms else None
    )


def configure_ingest(settings: Settings) -> None:
    from credithub.records.loaders import use_compiled_loader

    use_compiled_loader(settings.ingest.compiled_loader)


def configure_personal_data(app: Flask, settings: Settings) -> None:
    from credithub.privacy import PersonalData

    app.extensions["credithub.personal_data"] = PersonalData(
        key_bytes(settings.security.data_key),
        key_bytes(settings.security.lookup_key),
        matching_key_bytes(settings.federation.matching_key),
    )


def configure_identifiers(app: Flask, settings: Settings) -> None:
    from credithub.entities.service import load_allow_list

    app.extensions["credithub.uscc_allow"] = load_allow_list(
        settings.identifiers.uscc_exceptions_file, settings.identifiers.uscc_exceptions
    )


def configure_rules(app: Flask, settings: Settings) -> None:
    from credithub.rules.pack import load_pack

    app.extensions["credithub.rule_pack"] = load_pack(settings.rules.pack)


def configure_connectors(settings: Settings) -> None:
    """Check every [[connectors]] table now: a typo must stop start-up, not a night's sync."""
    import connectors
    from credithub.config import ConfigError

    for config in settings.connectors:
        try:
            connectors.create(dict(config)).close()
        except connectors.ConnectorConfigError as exc:
            raise ConfigError(str(exc)) from None


def configure_authentication(app: Flask, settings: Settings) -> None:
    from credithub.clients.cache import TokenCache

    app.extensions["credithub.token_cache"] = TokenCache(settings.security.token_cache_seconds)


def configure_errors(app: Flask) -> None:
    from credithub import errors

    errors.init_app(app)


def configure_api(app: Flask) -> None:
    from credithub.entities.views import blp as entities_blp
    from credithub.extensions import Api
    from credithub.middleware import NON_JSON_ENDPOINTS
    from credithub.ops.views import bp as ops_bp
    from credithub.public.views import blp as public_blp
    from credithub.records.views import blp as records_blp
    from credithub.rules.views import blp as rules_blp
    from credithub.standing.views import blp as check_blp
    from credithub.standing.views import receipts_blp
    from credithub.sync.views import blp as sync_blp
    from credithub.trust.views import blp as trust_blp
    from credithub.webhooks.views import blp as webhooks_blp
    from credithub.workflows.views import blp as workflows_blp

    api = Api(app)
    app.extensions["credithub.api"] = api
    for blp in (
        entities_blp, records_blp, rules_blp, check_blp, receipts_blp, sync_blp, trust_blp,
        webhooks_blp, workflows_blp, public_blp,
    ):  # fmt: skip
        api.register_blueprint(blp)
    app.register_blueprint(ops_bp)
    NON_JSON_ENDPOINTS.add("records.SgsRecords")


def configure_pages(app: Flask) -> None:
    """The HTML pages: CSRF on their forms, security headers, HTML errors (credithub/web)."""
    from credithub import web
    from credithub.apidocs.views import bp as docs_bp
    from credithub.console.views import bp as console_bp
    from credithub.web import views

    web.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(docs_bp)
    app.register_blueprint(console_bp)


def configure_requests(app: Flask, settings: Settings) -> None:
    from credithub import middleware

    middleware.init_app(app)


def configure_metrics(app: Flask) -> None:
    """Requests and their latencies counted for /metrics (credithub/ops/metrics.py)."""
    from credithub.ops import metrics

    metrics.install(app)


def configure_quotas(app: Flask, settings: Settings) -> None:
    """Rate limits and quotas per client and per remote address (credithub/quotas.py)."""
    from credithub import quotas

    quotas.init_app(app, settings.limits)


def configure_check_lane(app: Flask, settings: Settings) -> None:
    """The usual single check answered in front of Flask's dispatch (standing/lane.py)."""
    from credithub.standing import lane

    if settings.check.lane:
        lane.install(app)


def settings() -> Settings:
    """The settings of the current app."""
    from flask import current_app

    s: Settings = current_app.extensions["credithub.settings"]
    return s
