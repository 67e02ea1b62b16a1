"""The national exchange (信用中国 / 全国信用信息共享平台): this hub's penalties go out as 双公示
rows, the national lists (名单) come in as blacklist records. Protocol: docs/creditchina.md.

Every request is signed (app key, timestamp, nonce, HMAC-SHA256) by a requests auth hook, which
runs on each attempt HttpClient makes: a retry never re-sends a used nonce.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase

from connectors.base import Connector, Option, PullPage, PushResult
from connectors.creditchina.mapping import list_change, mask, penalty_row
from connectors.creditchina.signing import sign_headers
from connectors.errors import ConnectorConfigError, FatalError, RetriableError
from connectors.http import HttpClient
from schemas.sgs_out import (
    WITHOUT_ID_NUMBER,
    missing_for_exchange,
    not_exchangeable,
    without_id_number,
)

__all__ = ["LISTS_PATH", "MAX_PULL_LIMIT", "MAX_PUSH_ROWS", "PUSH_PATH", "CreditChinaConnector"]

PUSH_PATH = "/exchange/v1/penalties"
LISTS_PATH = "/exchange/v1/lists"
MAX_PUSH_ROWS = 1000
MAX_PULL_LIMIT = 500


class ExchangeAuth(AuthBase):
    """Sign a prepared request with a fresh timestamp and nonce."""

    def __init__(self, app_key: str, app_secret: str) -> None:
        self._key = app_key
        self._secret = app_secret

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body
        if body is not None and not isinstance(body, bytes | str):
            raise TypeError("a streamed body cannot be signed")
        parts = urlsplit(r.url or "")
        method = r.method or "GET"
        r.headers.update(
            sign_headers(self._key, self._secret, method, parts.path or "/", parts.query, body)
        )
        return r

    def __repr__(self) -> str:
        return f"ExchangeAuth(app_key={self._key!r}, app_secret=<masked>)"


class CreditChinaConnector(Connector):
    """Push penalties to the national exchange and pull its list entries."""

    type_name = "creditchina"
    sends_id_numbers = True  # a 双公示 row carries the subject's ID number (docs/creditchina.md)
    OPTIONS: ClassVar[tuple[Option, ...]] = (
        Option("url", required=True, help="base URL of the national exchange gateway"),
        Option("app_key", required=True, help="the app key the national platform issued"),
        Option("app_secret", required=True, secret=True, help="signs every request"),
        Option("timeout_seconds", int, default=10, help="per request attempt"),
        Option("batch_size", int, default=500, help="rows per push (≤ 1000), entries per pull"),
        Option("hub_id", default="creditchina", help="origin hub of the records pulled"),
        Option("attempts", int, default=4, help="tries per request before giving up"),
        Option("backoff_seconds", float, default=0.5, help="first retry delay; doubles"),
    )

    @classmethod
    def validate_config(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        """Check keys and types, then ranges; a whole number of seconds is a valid backoff."""
        given = dict(config)
        backoff = given.get("backoff_seconds")
        if isinstance(backoff, int) and not isinstance(backoff, bool):
            given["backoff_seconds"] = float(backoff)
        result = super().validate_config(given)
        where = f"connector {result['name']!r}"
        if not str(result["url"]).startswith(("http://", "https://")):
            raise ConnectorConfigError(f"{where}: url must start with http:// or https://")
        for key in ("app_key", "app_secret", "hub_id"):
            if not str(result[key]).strip():
                raise ConnectorConfigError(f"{where}: {key} must not be empty")
        limits = {
            "timeout_seconds": (1, 600),
            "batch_size": (1, MAX_PUSH_ROWS),
            "attempts": (1, 10),
        }
        for key, (low, high) in limits.items():
            if not low <= result[key] <= high:
                raise ConnectorConfigError(f"{where}: {key} must be between {low} and {high}")
        if not 0 <= result["backoff_seconds"] <= 60:
            raise ConnectorConfigError(f"{where}: backoff_seconds must be between 0 and 60")
        return result

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        cfg = self.config
        self.hub_id: str = cfg["hub_id"]
        self.batch_size: int = cfg["batch_size"]
        self.client = HttpClient(
            cfg["url"],
            headers={"Accept": "application/json", "User-Agent": "credithub-creditchina/1"},
            timeout=float(cfg["timeout_seconds"]),
            attempts=cfg["attempts"],
            backoff=cfg["backoff_seconds"],
        )
        self._auth = ExchangeAuth(cfg["app_key"], cfg["app_secret"])

    # -----------------------------------------------------------------------------------------
    # Push

    def push(self, changes: Sequence[dict[str, Any]], more: bool = False) -> list[PushResult]:
        """Send the penalty changes as 双公示 rows in batches; one result per change, in order."""
        results: list[PushResult | None] = [None] * len(changes)
        pending: list[tuple[int, dict[str, Any]]] = []
        for i, item in enumerate(changes):
            change_id = str(item.get("cursor", ""))
            record = item.get("record")
            if not isinstance(record, Mapping):
                results[i] = PushResult(change_id, False, "not sent: the change has no record")
                continue
            kind = record.get("kind")
            if kind != "penalty":
                results[i] = PushResult(change_id, True, f"not exchanged: kind {kind}")
                continue
            if without_id_number(record):
                results[i] = PushResult(change_id, True, WITHOUT_ID_NUMBER, skipped=True)
                continue
            if missing := missing_for_exchange(record):
                results[i] = PushResult(change_id, True, not_exchangeable(missing), skipped=True)
                continue
            try:
                pending.append((i, penalty_row(str(item.get("op")), record)))
            except ValueError as exc:
                results[i] = PushResult(change_id, False, f"not sent: {mask(str(exc))}")

        failed: str | None = None
        for start in range(0, len(pending), self.batch_size):
            batch = pending[start : start + self.batch_size]
            ids = [str(changes[i].get("cursor", "")) for i, _ in batch]
            if failed is not None:
                # Keep the feed's order: nothing after a failed batch goes out before it does.
                note = f"not sent: an earlier batch failed ({failed})"
                for (i, _), cid in zip(batch, ids, strict=True):
                    results[i] = PushResult(cid, False, note, retriable=True)
                continue
            try:
                outcomes = self._send([row for _, row in batch])
            except (RetriableError, FatalError) as exc:
                retriable = isinstance(exc, RetriableError)
                failed = mask(str(exc))
                for (i, _), cid in zip(batch, ids, strict=True):
                    results[i] = PushResult(cid, False, failed, retriable=retriable)
                continue
            for (i, _), cid, (ok, error) in zip(batch, ids, outcomes, strict=True):
                results[i] = PushResult(cid, ok, error)
        return [r for r in results if r is not None]

    def _send(self, rows: list[dict[str, Any]]) -> list[tuple[bool, str | None]]:
        """POST one batch; (accepted, error) per row. Raises RetriableError / FatalError."""
        body = json.dumps({"rows": rows}, ensure_ascii=False).encode("utf-8")
        response = self.client.request(
            "POST",
            PUSH_PATH,
            data=body,
            headers={"Content-Type": "application/json; charset=utf-8"},
            auth=self._auth,
            allow_redirects=False,
        )
        answer = self._json(response, "POST")
        results = answer.get("results")
        if not isinstance(results, list) or len(results) != len(rows):
            raise FatalError(f"POST {PUSH_PATH}: bad answer: expected {len(rows)} results")
        outcomes: dict[int, tuple[bool, str | None]] = {}
        for result in results:
            index = result.get("index") if isinstance(result, dict) else None
            status = result.get("status") if isinstance(result, dict) else None
            if not isinstance(index, int) or not 0 <= index < len(rows) or index in outcomes:
                raise FatalError(f"POST {PUSH_PATH}: bad answer: result index {index!r}")
            if status == "accepted":
                outcomes[index] = (True, None)
            elif status == "rejected":
                outcomes[index] = (False, "rejected: " + _describe(result.get("errors")))
            else:
                raise FatalError(f"POST {PUSH_PATH}: bad answer: status {mask(repr(status))}")
        return [outcomes[i] for i in range(len(rows))]

    # -----------------------------------------------------------------------------------------
    # Pull

    def pull(self, cursor: str | None) -> PullPage:
        """Read one page of national list entries after `cursor` as blacklist feed items."""
        self.last_pull_errors = []
        params = {"limit": str(min(self.batch_size, MAX_PULL_LIMIT))}
        if cursor:
            params["cursor"] = cursor
        response = self.client.request(
            "GET", LISTS_PATH, params=params, auth=self._auth, allow_redirects=False
        )
        answer = self._json(response, "GET")
        items, next_cursor, has_more = (
            answer.get("items"),
            answer.get("next"),
            answer.get("has_more"),
        )
        if not isinstance(items, list) or not isinstance(has_more, bool):
            raise FatalError(f"GET {LISTS_PATH}: bad answer: items or has_more missing")
        if next_cursor is not None and not isinstance(next_cursor, str):
            raise FatalError(f"GET {LISTS_PATH}: bad answer: next is not a string")
        if has_more and not next_cursor:
            raise FatalError(f"GET {LISTS_PATH}: bad answer: has_more without a next cursor")
        changes: list[dict[str, Any]] = []
        errors: list[str] = []
        for position, item in enumerate(items):
            try:
                changes.append(list_change(item, self.hub_id))
            except ValueError as exc:
                entry = item.get("id") if isinstance(item, dict) else None
                errors.append(f"entry {position} (id {mask(repr(entry), 60)}) skipped: {exc}")
        self.last_pull_errors = errors
        return PullPage(changes=changes, next_cursor=next_cursor or cursor, has_more=has_more)

    # -----------------------------------------------------------------------------------------

    @staticmethod
    def _json(response: requests.Response, method: str) -> dict[str, Any]:
        """The JSON object of a 200 answer; anything else is a FatalError (a bad answer)."""
        path = urlsplit(response.url).path
        if response.status_code != 200:
            raise FatalError(f"{method} {path}: unexpected HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise FatalError(f"{method} {path}: bad answer: not JSON") from None
        if not isinstance(answer, dict):
            raise FatalError(f"{method} {path}: bad answer: not a JSON object")
        return answer

    def close(self) -> None:
        """Close the HTTP session."""
        self.client.close()


def _describe(errors: object) -> str:
    """Per-row errors as one line naming the fields: "CF_JDRQ: not a date; CF_CFJGDM: …"."""
    if not isinstance(errors, dict) or not errors:
        return "no reason given"
    parts = []
    for field, messages in errors.items():
        text = ", ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
        parts.append(f"{field}: {text}")
    return mask("; ".join(parts), 1000)
