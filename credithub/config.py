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
from datetime import date
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from credithub import clock
from credithub.settings import CLIENT_KINDS, LimitsSettings, Settings

# Variables with a meaning of their own, never taken as settings.
RESERVED_ENV = {"CREDITHUB_CONFIG", "CREDITHUB_INSTANCE", "CREDITHUB_TEST_DATABASE_URL"}


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key."""


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
    if hooks.watch_refresh_seconds < 0:
        raise ConfigError("webhooks.watch_refresh_seconds: expected 0 or more")
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
