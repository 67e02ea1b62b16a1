"""The connector base class: declared configuration with secrets marked, push and pull."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from connectors.errors import ConnectorConfigError, NotSupportedError


@dataclass(frozen=True)
class Option:
    """One configuration key a connector accepts."""

    name: str
    type: type = str
    required: bool = False
    default: Any = None
    secret: bool = False  # masked in every output (sync status, logs, API)
    help: str = ""


# Keys every connector has, whatever its type.
COMMON_OPTIONS: tuple[Option, ...] = (
    Option("name", required=True, help="unique per hub"),
    Option("type", required=True, help="the connector type"),
    Option("push", bool, default=True, help="send this hub's changes"),
    Option("pull", bool, default=True, help="read the platform's changes"),
    Option("interval_seconds", int, default=60, help="how often the scheduler runs it"),
)

MASK = "********"


@dataclass
class PushResult:
    """What the platform said about one pushed change. `skipped`: done with, but not sent,
    because the platform cannot take this record (the reason is in `error`); the sync run
    counts it as skipped, not as pushed nor dead-lettered."""

    change_id: str
    ok: bool
    error: str | None = None
    retriable: bool = False
    skipped: bool = False


@dataclass
class PullPage:
    """Changes read from a platform and the cursor to read from next time."""

    changes: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: str | None = None
    has_more: bool = False


class Connector(ABC):
    """Base of every connector. Subclasses declare OPTIONS and implement push and pull; the
    hooks below (`remote_hub_id`, `acknowledge`, `close`) have defaults that fit a platform
    with nothing to say. The contract every connector meets: tests/connectors/test_contract.py.
    """

    type_name: ClassVar[str] = ""
    OPTIONS: ClassVar[tuple[Option, ...]] = ()
    # How many changes the hub hands to one `push` call; a connector that sends bigger
    # requests says so, and each of its requests then carries as many as it allows.
    push_batch: int = 1000

    # Whether what this connector sends needs persons' ID numbers in clear (an exchange format
    # that requires them: the 双公示 row). False: it gets the feed as peer hubs read it, each
    # person as the masked number and the federation hash only.
    sends_id_numbers: ClassVar[bool] = False

    # The origin hub of the records this connector pulls, when configuration names it (a
    # platform that is not a credithub); None: the records pulled name no fixed origin.
    hub_id: str | None = None

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = self.validate_config(config)
        self.name: str = self.config["name"]
        # What the last `pull` skipped (errors) or took with a remark (warnings), one line
        # each, personal numbers masked: the sync service logs them after every page.
        self.last_pull_errors: list[str] = []
        self.last_pull_warnings: list[str] = []

    @classmethod
    def options(cls) -> tuple[Option, ...]:
        return COMMON_OPTIONS + cls.OPTIONS

    @classmethod
    def validate_config(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        """Check keys and types; an unknown key or a missing required one is an error naming it."""
        declared = {o.name: o for o in cls.options()}
        where = f"connector {config.get('name', '?')!r}"
        unknown = sorted(set(config) - set(declared))
        if unknown:
            raise ConnectorConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
        result: dict[str, Any] = {}
        for opt in declared.values():
            if opt.name not in config:
                if opt.required:
                    raise ConnectorConfigError(f"{where}: missing required key {opt.name!r}")
                result[opt.name] = opt.default
                continue
            value = config[opt.name]
            if opt.type is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)  # TOML writes 1 for 1.0
            if (opt.type is int and isinstance(value, bool)) or not isinstance(value, opt.type):
                raise ConnectorConfigError(
                    f"{where}: {opt.name} must be {opt.type.__name__}, got {type(value).__name__}"
                )
            result[opt.name] = value
        return result

    def public_config(self) -> dict[str, Any]:
        """The configuration with every secret masked, for status pages and logs."""
        secrets = {o.name for o in self.options() if o.secret}
        return {k: (MASK if k in secrets and v else v) for k, v in self.config.items()}

    @abstractmethod
    def push(self, changes: Sequence[dict[str, Any]], more: bool = False) -> list[PushResult]:
        """Send changes (feed items) to the platform; one result per change, in order. `more`:
        further changes of this run follow (a platform may settle what it derives from them
        once, at the end)."""

    @abstractmethod
    def pull(self, cursor: str | None) -> PullPage:
        """Read the platform's changes after `cursor`."""

    def remote_hub_id(self) -> str | None:
        """The hub id of the other side: the origin of what this connector pulls. The sync
        service never pushes a change back to it, and refuses a side whose id is this hub's
        own. Default: `hub_id`; another credithub asks the hub itself."""
        return self.hub_id

    # Whether what this connector pulls carries hubs' signatures (another credithub): every
    # record of another origin is then checked against the keys pinned for that origin. False:
    # a channel that signs nothing, which brings records of its own origin (`hub_id`) only.
    signs: ClassVar[bool] = False

    def presented_keys(self) -> dict[str, Any]:
        """The other side's keys as it presents them (`key` of its GET /api/v1/hub)."""
        raise NotSupportedError(f"{self.type_name}: the platform presents no key")

    def register(self) -> dict[str, Any]:
        """The other side's signed register of the keys it trusts (GET /api/v1/hub/register)."""
        raise NotSupportedError(f"{self.type_name}: the platform keeps no register")

    def introduce(self, hub: dict[str, Any], register: dict[str, Any]) -> dict[str, Any]:
        """Present this hub's keys and register to the other side before pushing to it."""
        raise NotSupportedError(f"{self.type_name}: the platform takes no keys")

    def acknowledge(self, cursor: str) -> list[str]:
        """Called once the hub has committed `cursor` (everything pulled up to it is stored):
        the platform may now let go of it, e.g. move files it delivered. Returns one line per
        item let go, for the log. Default: nothing to let go."""
        return []

    # Reconciliation (`credithub sync reconcile`): comparing what the platform holds with what
    # the hub holds, per origin hub and month of decision. A connector whose platform can tell
    # sets `reconciles` and implements the three calls; by default each says it cannot.
    reconciles: ClassVar[bool] = False

    def reconcile_seconds(self) -> float | None:
        """How often the scheduler reconciles with the platform; None: never."""
        return None

    def summary(self) -> list[dict[str, Any]]:
        """What the platform holds: one cell per (origin hub, month of decision),
        `{"origin", "month", "count", "digest"}` (digest: credithub.sync.summary)."""
        raise NotSupportedError(f"{self.type_name}: the platform offers no summary")

    def cell(self, origin: str, month: str) -> dict[str, int]:
        """Every record of one cell at the platform: id at origin -> version at origin."""
        raise NotSupportedError(f"{self.type_name}: the platform offers no summary")

    def fetch(self, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
        """The platform's records under these (origin hub, id at origin) keys, each at its
        current version as a feed item; keys it does not hold are left out."""
        raise NotSupportedError(f"{self.type_name}: the platform offers no fetch by key")

    def close(self) -> None:  # noqa: B027  (optional hook; most connectors hold nothing)
        """Release connections. Called once after every run, also a failed one."""
