"""The hub's settings: one dataclass per section of the configuration file, with its defaults.

`credithub.config` loads them (defaults, then the TOML file, then CREDITHUB_* variables) and
checks them; config.example.toml names and explains every key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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
    # A watch (who checked whom) is written again once it is this old, not at every check's
    # flush: its instant serves a window of watch_days (0: at every flush).
    watch_refresh_seconds: int = 3600
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


# The kinds of client, each with its own limits in [limits].
CLIENT_KINDS = ("department", "consumer", "peer", "admin")


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
