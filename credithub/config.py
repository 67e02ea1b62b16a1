"""Settings: defaults, then the TOML file named by CREDITHUB_CONFIG, then CREDITHUB_* variables.

Every key has a default, so a file that names only a few keys works. An unknown key in the
file or in the environment stops start-up with a message that names it: a typo must not be
silently ignored in a system that decides who may bid.
"""

from __future__ import annotations

import base64
import dataclasses
import ipaddress
import os
import secrets
import tomllib
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from credithub import clock

# Variables with a meaning of their own, never taken as settings.
RESERVED_ENV = {"CREDITHUB_CONFIG", "CREDITHUB_INSTANCE", "CREDITHUB_TEST_DATABASE_URL"}


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key."""


@dataclass
class DatabaseSettings:
    url: str = ""  # empty: SQLite file in the instance folder
    # A PostgreSQL read replica (or a read-only role): screening, public and feed reads go
    # there; every write and everything else to `url`. Empty: all to `url`.
    replica_url: str = ""
    echo: bool = False
    pool_size: int = 5
    # Speed mechanisms of the database layer (docs/performance.md); false: the plain path.
    bulk_binds: bool = True
    array_lookups: bool = True
    prepared_reads: bool = True
    analyze_after_growth: bool = True
    checkpoints_apart: bool = True


@dataclass
class HubSettings:
    id: str = "local"
    name: str = "公共信用信息共享平台"


@dataclass
class SecuritySettings:
    # Generated into the instance folder when empty; set them explicitly in production so
    # every worker and host shares them.
    data_key: str = ""  # base64 of 32 bytes: AES-GCM key for personal ID numbers
    lookup_key: str = ""  # base64 of 32 bytes: HMAC key for looking ID numbers up
    secret_key: str = ""  # Flask session signing (admin console)
    # Seconds a worker trusts a token it has checked without reading the clients table again;
    # a revocation made elsewhere takes effect in this worker within that time. 0: no cache.
    token_cache_seconds: int = 5


@dataclass
class FederationSettings:
    # Secret shared by every hub of a federation: base64 or hex of 32 bytes. A person travels
    # between hubs as the masked ID number and HMAC-SHA256("<id_type>:<number>") under this key,
    # so hubs with the same key find one person by the same hash. Empty: generated into the
    # instance folder, and persons then match only at this hub.
    matching_key: str = ""
    # How far a peer's record version may jump: more than this above the version held (or
    # above 0 for a record not held) is refused, so no version can pin a record for good.
    max_version_step: int = 1000
    # This hub's Ed25519 private key, base64 of its 32-byte seed: it signs every record version
    # this hub serves without an origin's signature (credithub.trust). Empty: generated into
    # the instance folder. `credithub hub rotate-key` replaces it, endorsed by the old one.
    signing_key: str = ""
    # Keys pinned up front, like known hosts: hub id -> base64 public keys. Other keys are
    # pinned at first contact or from a partner's signed register (`credithub sync keys`).
    keys: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 2
    max_body_mb: int = 64  # bodies over this are refused before they are read
    # JSON bodies nested deeper than this (arrays and objects) are refused (400) as they are read.
    json_max_depth: int = 64
    # Threads of each worker process (gunicorn's gthread workers): requests a worker serves
    # at once. A connection that sends nothing moves to the worker's poller after 5 s.
    threads: int = 8
    # Seconds a request has to arrive whole (request line and headers) once it has begun,
    # or once a thread waits for it; a slower client is disconnected (docs/design.md).
    read_timeout_seconds: int = 10
    # The cycle collector's first threshold (new containers between collections); 0: Python's
    # default (700), and bulk views no longer pause it. See docs/performance.md.
    collector_threshold: int = 50_000
    # A push, a pull or a file import of at least this many records is checked batch by batch
    # in a helper process while this process writes the batch before (records/pipeline.py; a
    # pull counts its first page). 0: always checked in the writing process itself. Unset: 1000
    # on SQLite, 0 on PostgreSQL (whose server works on the other core: the helper did not pay).
    prepare_apart_from: int | None = None


@dataclass
class LoggingSettings:
    level: str = "INFO"
    format: str = "json"  # json | text


@dataclass
class IdentifierSettings:
    # Known legal USCCs that fail the checksum; accepted with a warning.
    uscc_exceptions_file: str = ""  # empty: the list shipped with the hub
    uscc_exceptions: list[str] = field(default_factory=list)  # added to the file's list


@dataclass
class RulesSettings:
    pack: str = "default"  # a pack shipped in credithub/rules, or a path to a TOML file


@dataclass
class SchedulerSettings:
    rescore_interval_seconds: int = 300
    expiry_interval_seconds: int = 3600


@dataclass
class CheckSettings:
    # A worker gathers the check-log rows of single checks for this many milliseconds and writes
    # them in one transaction; a worker killed outright loses at most that window of rows.
    # 0: each single check writes its row in its own request. Batches always write in theirs.
    log_flush_ms: int = 1000
    # The usual single check answered in front of Flask's dispatch (standing/lane.py).
    # false: every check takes Flask's path (same answers; docs/performance.md).
    lane: bool = True


@dataclass
class IngestSettings:
    # Speed mechanism (docs/performance.md): JSON records load on a compiled path of the record
    # schema (schemas/fastload.py). false: every record goes through the schema itself.
    compiled_loader: bool = True
    # Speed mechanism (docs/performance.md): `credithub import` writes the rows that name the
    # same subject or decision together (records/batches.py). false: batches in file order.
    group_by_subject: bool = True
    # Speed mechanism (docs/performance.md): the standing of a subject a batch creates is
    # computed from the records the batch writes for it. false: read back like any other's.
    new_subject_facts: bool = True
    # Speed mechanism (docs/performance.md): the batches of a series (a pull's pages, a push
    # sent with `"more": true`) mark the standings they change due, and the series' end
    # refreshes each once (standing/deferred.py). false: every batch refreshes its own.
    defer_standings: bool = True


@dataclass
class ClockSettings:
    # For tests and drills only: an ISO instant (or a date: its midnight in China) the hub's
    # clock reads when the process starts, running on from there (credithub.clock). Empty: the
    # real time. Publication windows, terms, deadlines and the 5-year limit all follow it.
    start: str = ""


@dataclass
class CalendarSettings:
    # Working days (objection and repair deadlines) follow China's official calendar with its
    # 调休 make-up days (the chinese-calendar package); these add the province's own: extra
    # holidays, and extra make-up working days. ISO dates ("2026-05-06") or TOML dates.
    holidays: list[str] = field(default_factory=list)
    workdays: list[str] = field(default_factory=list)


@dataclass
class WebhookSettings:
    # check.changed: a client hears of a subject it checked within this many days.
    watch_days: int = 90
    # How often the scheduler delivers what is due (`credithub webhooks run` does it once).
    interval_seconds: int = 10
    # One POST to a receiver: seconds before it counts as a failed attempt.
    timeout_seconds: int = 10
    # After the first failed attempt, wait each of these in turn before the next; after the
    # last, the event is given up (and still listed with its attempts).
    retry_seconds: list[int] = field(
        default_factory=lambda: [5, 300, 1800, 7200, 18000, 36000, 36000]
    )


@dataclass
class ConsoleSettings:
    """The joint office's console (/admin/): lock-out after failed logins, session length."""

    max_failures: int = 5  # failed logins in a row that lock an account
    lockout_minutes: int = 15  # how long a locked account is refused, even the right password
    session_hours: int = 8  # a login lasts this long, then the console asks again


@dataclass
class MetricsSettings:
    """`/metrics`: who may scrape it without a token (networks, CIDR); an admin token may too."""

    allow: list[str] = field(default_factory=lambda: ["127.0.0.1/32", "::1/128"])


@dataclass
class LimitsSettings:
    """Rate limits and quotas (credithub/quotas.py), in Flask-Limiter's notation ("600/minute",
    "50000/day"): every limit of a list applies. An empty list: no limit."""

    # Where the counts are kept: memory:// counts in each worker process apart (a client may
    # then make up to the limit in each worker); redis://host:6379 and the like share them
    # between workers and hosts.
    storage_uri: str = "memory://"
    # Requests without a client's token (the public pages and endpoints, console logins, a
    # wrong token), counted by remote address.
    public: list[str] = field(default_factory=lambda: ["300/minute", "20000/day"])
    # Clients, counted by client, by kind; `clients` sets a client's own by its name.
    department: list[str] = field(default_factory=list)
    consumer: list[str] = field(default_factory=list)
    peer: list[str] = field(default_factory=list)
    admin: list[str] = field(default_factory=list)
    clients: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class AuditSettings:
    # Where the scheduler writes the signed head of the audit chain (an anchor, credithub.audit
    # .anchor); empty: the instance folder's audit-anchors. An anchor helps only where the
    # database role cannot rewrite it: point this at write-once or remote storage.
    anchor_dir: str = ""
    # How often the scheduler writes an anchor (one file per head); 0: never.
    anchor_interval_seconds: int = 3600


@dataclass
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    hub: HubSettings = field(default_factory=HubSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    federation: FederationSettings = field(default_factory=FederationSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    identifiers: IdentifierSettings = field(default_factory=IdentifierSettings)
    rules: RulesSettings = field(default_factory=RulesSettings)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    check: CheckSettings = field(default_factory=CheckSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    clock: ClockSettings = field(default_factory=ClockSettings)
    calendar: CalendarSettings = field(default_factory=CalendarSettings)
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    limits: LimitsSettings = field(default_factory=LimitsSettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    # Each connector's keys depend on its type; the sync package validates them.
    connectors: list[dict[str, Any]] = field(default_factory=list)
    instance_path: Path = field(default_factory=lambda: Path("instance"))
    testing: bool = False

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.instance_path / 'credithub.db').resolve()}"


def _section_types() -> dict[str, type]:
    hints = get_type_hints(Settings)
    return {name: hints[name] for name in hints if dataclasses.is_dataclass(hints[name])}


# Longest first, so a variable's section is found before a section that is its prefix.
SECTIONS = sorted(_section_types(), key=len, reverse=True)


def _coerce(value: Any, target: Any, key: str, from_env: bool) -> Any:
    origin = get_origin(target)
    if origin in (types.UnionType,):
        target = next(a for a in get_args(target) if a is not type(None))
        origin = get_origin(target)
    if origin is dict:
        if not isinstance(value, Mapping) or not all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in value.values()
        ):
            raise ConfigError(f"{key}: expected a table of lists of strings")
        return {str(k): list(v) for k, v in value.items()}
    if origin is list:
        if from_env and isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list, got {type(value).__name__}")
        if get_args(target) == (int,):
            return [_coerce(v, int, key, from_env) for v in value]
        return value
    if target is bool:
        if isinstance(value, bool):
            return value
        if from_env and isinstance(value, str) and value.lower() in {"1", "true", "yes", "on"}:
            return True
        if from_env and isinstance(value, str) and value.lower() in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    if target is int:
        if isinstance(value, bool):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key}: expected an integer, got {value!r}") from None
    if target is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    return value


def _apply(settings: Settings, section: str, key: str, value: Any, source: str, env: bool) -> None:
    types_ = _section_types()
    if section not in types_:
        raise ConfigError(f"unknown configuration section '{section}' in {source}")
    obj = getattr(settings, section)
    hints = get_type_hints(types_[section])
    if key not in hints:
        raise ConfigError(f"unknown configuration key '{section}.{key}' in {source}")
    setattr(obj, key, _coerce(value, hints[key], f"{section}.{key} ({source})", env))


def _apply_mapping(settings: Settings, data: Mapping[str, Any], source: str) -> None:
    for section, body in data.items():
        if section == "connectors":
            if not isinstance(body, list) or not all(isinstance(c, dict) for c in body):
                raise ConfigError(f"connectors in {source}: expected [[connectors]] tables")
            settings.connectors = [dict(c) for c in body]
            continue
        if not isinstance(body, Mapping):
            raise ConfigError(f"unknown configuration key '{section}' in {source}")
        for key, value in body.items():
            _apply(settings, section, key, value, source, env=False)


def _apply_env(settings: Settings, environ: Mapping[str, str]) -> None:
    for name, value in environ.items():
        if not name.startswith("CREDITHUB_") or name in RESERVED_ENV:
            continue
        rest = name[len("CREDITHUB_") :].lower()
        section = next((s for s in SECTIONS if rest.startswith(s + "_")), None)
        if section is None:
            raise ConfigError(f"unknown configuration variable {name}")
        _apply(settings, section, rest[len(section) + 1 :], value, f"variable {name}", env=True)


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Build settings from defaults, the TOML file, the environment, then `overrides`."""
    environ = os.environ if environ is None else environ
    settings = Settings()
    settings.instance_path = Path(environ.get("CREDITHUB_INSTANCE", "instance"))
    path = environ.get("CREDITHUB_CONFIG")
    if path:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"CREDITHUB_CONFIG names {path}, which does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
        _apply_mapping(settings, data, path)
    _apply_env(settings, environ)
    if overrides:
        for key in ("instance_path", "testing"):
            if key in overrides:
                setattr(settings, key, overrides[key])
        _apply_mapping(
            settings,
            {k: v for k, v in overrides.items() if k not in ("instance_path", "testing")},
            "overrides",
        )
    settings.instance_path = Path(settings.instance_path)
    _validate(settings)
    return settings


def _validate(settings: Settings) -> None:
    if settings.logging.format not in {"json", "text"}:
        raise ConfigError("logging.format: expected 'json' or 'text'")
    if not settings.hub.id or not settings.hub.id.replace("-", "").replace("_", "").isalnum():
        raise ConfigError("hub.id: letters, digits, '-' and '_' only, not empty")
    if settings.check.log_flush_ms < 0:
        raise ConfigError("check.log_flush_ms: expected 0 or more")
    if settings.server.threads < 1 or settings.server.read_timeout_seconds < 1:
        raise ConfigError("server: threads and read_timeout_seconds: 1 or more")
    if (settings.server.prepare_apart_from or 0) < 0:
        raise ConfigError("server.prepare_apart_from: expected 0 or more")
    if settings.federation.max_version_step < 1:
        raise ConfigError("federation.max_version_step: expected 1 or more")
    if settings.security.token_cache_seconds < 0:
        raise ConfigError("security.token_cache_seconds: expected 0 or more")
    hooks = settings.webhooks
    if hooks.watch_days < 1 or hooks.interval_seconds < 1 or hooks.timeout_seconds < 1:
        raise ConfigError("webhooks: watch_days, interval_seconds and timeout_seconds: 1 or more")
    console = settings.console
    if console.max_failures < 1 or console.lockout_minutes < 1 or console.session_hours < 1:
        raise ConfigError("console: max_failures, lockout_minutes and session_hours: 1 or more")
    if not all(type(s) is int and s >= 1 for s in hooks.retry_seconds):
        raise ConfigError("webhooks.retry_seconds: expected a list of whole seconds, 1 or more")
    if settings.clock.start:
        try:
            clock.parse_instant(settings.clock.start)
        except ValueError:
            raise ConfigError("clock.start: expected an ISO date or instant") from None
    for key in ("holidays", "workdays"):
        days = [_iso_date(day, key) for day in getattr(settings.calendar, key)]
        setattr(settings.calendar, key, days)
    for key in ("data_key", "lookup_key"):
        value = getattr(settings.security, key)
        if value and len(_b64(value, f"security.{key}")) != 32:
            raise ConfigError(f"security.{key}: expected base64 of 32 bytes")
    if settings.federation.matching_key:
        matching_key_bytes(settings.federation.matching_key)
    if (
        settings.federation.signing_key
        and len(_b64(settings.federation.signing_key, "federation.signing_key")) != 32
    ):
        raise ConfigError("federation.signing_key: expected base64 of 32 bytes")
    for hub, keys in settings.federation.keys.items():
        for value in keys:
            if len(_b64(value, f"federation.keys.{hub}")) != 32:
                raise ConfigError(f"federation.keys.{hub}: expected base64 of 32 bytes each")
    replica = settings.database.replica_url
    if replica and not (
        replica.startswith("postgresql") and settings.database_url.startswith("postgresql")
    ):
        raise ConfigError(
            "database.replica_url: a postgresql:// URL, for a hub whose database.url is one"
        )
    for network in settings.metrics.allow:
        try:
            ipaddress.ip_network(network)
        except ValueError:
            raise ConfigError(f"metrics.allow: {network!r} is not a network (CIDR)") from None
    _validate_limits(settings.limits)
    names = [c.get("name") for c in settings.connectors]
    if len(names) != len(set(names)):
        raise ConfigError("connectors: every connector needs a unique name")


def _validate_limits(limits: LimitsSettings) -> None:
    from limits import parse_many

    lists = {kind: getattr(limits, kind) for kind in ("public", *CLIENT_KINDS)}
    lists.update({f"clients.{name}": value for name, value in limits.clients.items()})
    for key, value in lists.items():
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f'limits.{key}: expected a list of limits like "600/minute"')
        for item in value:
            try:
                parse_many(item)
            except ValueError:
                message = f'limits.{key}: {item!r} is no limit like "600/minute"'
                raise ConfigError(message) from None


CLIENT_KINDS = ("department", "consumer", "peer", "admin")


def _iso_date(value: Any, key: str) -> str:
    """A configured calendar date as ISO text (a TOML date or an ISO string)."""
    if type(value) is date:
        return value.isoformat()
    try:
        return date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise ConfigError(f"calendar.{key}: expected ISO dates, got {value!r}") from None


def _b64(value: str, key: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise ConfigError(f"{key}: not valid base64") from None


def key_bytes(value: str) -> bytes:
    """Decode a configured base64 key."""
    return _b64(value, "key")


def matching_key_bytes(value: str) -> bytes:
    """The federation matching key: hex (64 digits) or base64 of 32 bytes."""
    text = value.strip()
    if len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text):
        return bytes.fromhex(text)
    key = _b64(text, "federation.matching_key")
    if len(key) != 32:
        raise ConfigError("federation.matching_key: expected base64 or hex of 32 bytes")
    return key


# Secrets generated into the instance folder when unset: (section, key), stored by key.
_GENERATED = (
    ("security", "data_key"),
    ("security", "lookup_key"),
    ("security", "secret_key"),
    ("federation", "matching_key"),
    ("federation", "signing_key"),
)


def ensure_instance_secrets(settings: Settings) -> None:
    """Fill unset secrets from the instance folder, generating them there on first use."""
    missing = [
        (section, key)
        for section, key in _GENERATED
        if not getattr(getattr(settings, section), key)
    ]
    if not missing:
        return
    settings.instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = settings.instance_path / "secrets.toml"
    stored: dict[str, str] = {}
    if path.exists():
        with open(path, "rb") as fh:
            stored = {k: str(v) for k, v in tomllib.load(fh).items()}
    changed = False
    for section, key in missing:
        if key not in stored:
            stored[key] = base64.b64encode(secrets.token_bytes(32)).decode()
            changed = True
        setattr(getattr(settings, section), key, stored[key])
    if changed:
        _write_secrets(path, stored)


def replace_instance_secret(settings: Settings, key: str, old: str, new: str) -> bool:
    """Replace a secret the instance folder holds (`old` there) by `new`; False if the
    folder does not hold it (it is configured elsewhere)."""
    path = settings.instance_path / "secrets.toml"
    if not path.exists():
        return False
    with open(path, "rb") as fh:
        stored = {k: str(v) for k, v in tomllib.load(fh).items()}
    if stored.get(key) != old:
        return False
    stored[key] = new
    _write_secrets(path, stored)
    return True


def _write_secrets(path: Path, stored: Mapping[str, str]) -> None:
    # Written atomically and private: these keys decrypt personal data and sign records.
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("# generated by credithub; keep private and back it up\n")
        for key, value in sorted(stored.items()):
            fh.write(f'{key} = "{value}"\n')
    os.replace(tmp, path)
