"""A TOML table of a rule pack being read: typed access, and every error names where it is
(`lists[1] (gp-serious): …`, entries counted from 0)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, NoReturn

from credithub.rules.pack import RulePackError

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")  # a code the pack gives an entry


class Table:
    """One TOML table being read: typed access, and every error names where it is."""

    def __init__(self, data: Any, where: str, keys: Iterable[str], what: str = "key") -> None:
        if not isinstance(data, dict):
            raise RulePackError(f"{where}: expected a table, got {data!r}")
        allowed = set(keys)
        unknown = [k for k in data if k not in allowed]
        if unknown:
            raise RulePackError(f"{where}: unknown {what} '{unknown[0]}'")
        self.data: dict[str, Any] = data
        self.where = where
        self.what = what

    def fail(self, message: str) -> NoReturn:
        raise RulePackError(f"{self.where}: {message}")

    def get(self, key: str, required: bool = True) -> Any:
        if required and key not in self.data:
            self.fail(f"missing required {self.what} '{key}'")
        return self.data.get(key)

    def text(self, key: str, required: bool = True) -> str:
        value = self.get(key, required)
        if value is None:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.fail(f"'{key}' must be a non-empty string")
        return value.strip()

    def code(self, key: str = "code") -> str:
        value = self.text(key)
        if not CODE.match(value):
            self.fail(f"'{key}' {value!r}: letters, digits, '-' and '_' only")
        return value

    def choice(self, key: str, choices: tuple[str, ...], what: str) -> str:
        value = self.text(key)
        if value not in choices:
            self.fail(f"'{key}': unknown {what} {value!r} (use {', '.join(choices)})")
        return value

    def opt_count(self, key: str, minimum: int = 0) -> int | None:
        value = self.get(key, required=False)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"'{key}' must be a whole number, got {value!r}")
        if value < minimum:
            self.fail(
                f"'{key}' must not be negative" if minimum == 0 else f"'{key}' must be ≥ {minimum}"
            )
        return value

    def count(self, key: str, minimum: int = 0) -> int:
        self.get(key)
        value = self.opt_count(key, minimum)
        assert value is not None  # get() raised when missing
        return value

    def number(self, key: str) -> float:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(f"'{key}' must be a number, got {value!r}")
        if value < 0:
            self.fail(f"'{key}' must not be negative")
        return float(value)

    def yuan(self, key: str) -> Decimal | None:
        return None if key not in self.data else Decimal(str(self.number(key)))

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"'{key}' must be true or false")
        return value

    def day(self, key: str) -> date | None:
        value = self.data.get(key)
        # A TOML datetime is a date subclass; only a plain date is meant here.
        if value is not None and type(value) is not date:
            self.fail(f"'{key}' must be a date like 2026-04-01, got {value!r}")
        return value

    def strings(self, key: str, required: bool = True) -> tuple[str, ...]:
        value = self.get(key, required)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.fail(f"'{key}' must be a list of strings")
        if len(set(value)) != len(value):
            self.fail(f"'{key}' names an entry twice")
        return tuple(value)

    def refs(self, key: str, known: Mapping[str, Any], what: str) -> tuple[str, ...]:
        refs = self.strings(key)
        if not refs:
            self.fail(f"'{key}' must name at least one {what}")
        for ref in refs:
            if ref not in known:
                self.fail(f"{what} '{ref}' is not defined")
        return refs

    def table(
        self, key: str, keys: Iterable[str], required: bool = True, what: str = "key"
    ) -> Table:
        value = self.get(key, required)
        return Table({} if value is None else value, self.sub(key), keys, what)

    def mapping(self, key: str, required: bool = True) -> Table:
        """A table whose keys are names the pack chooses (codes, categories)."""
        value = self.get(key, required)
        value = {} if value is None else value
        return Table(value, self.sub(key), value if isinstance(value, dict) else ())

    def tables(self, key: str, keys: Iterable[str], required: bool = True) -> list[Table]:
        value = self.get(key, required)
        if value is not None and not isinstance(value, list):
            self.fail(f"'{key}' must be an array of tables ([[{key}]])")
        return [
            Table(v, label(f"{self.sub(key)}[{i}]", v), keys) for i, v in enumerate(value or [])
        ]

    def sub(self, key: str) -> str:
        return key if self.where == "rule pack" else f"{self.where}.{key}"

    def marks(self) -> dict[str, Any]:
        return {"check": self.flag("check"), "note": self.text("note", required=False)}


def label(where: str, entry: Any) -> str:
    """`lists[1]`, and the entry's code when it has one: `lists[1] (gp-serious)`."""
    code = entry.get("code", entry.get("id")) if isinstance(entry, dict) else None
    return f"{where} ({code})" if isinstance(code, str) else where
