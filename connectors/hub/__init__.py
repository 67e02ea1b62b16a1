"""Another credithub, through this same API: push records to it, pull its change feed.

Pulling reads ahead: once a page says more follows, the next page is fetched in a thread while
the caller applies this one (HTTP and JSON decoding overlap with the caller's database writes).
A page read ahead is handed out only when the caller asks for exactly its cursor, so what the
caller commits is still the cursor of what it applied; a failure reading ahead is raised when
that page is asked for, as if it had been fetched then.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import orjson

from connectors.base import Connector, Option, PullPage, PushResult
from connectors.errors import FatalError, RetriableError
from connectors.http import HttpClient

_JSON = {"Content-Type": "application/json"}


class HubConnector(Connector):
    type_name = "hub"
    OPTIONS = (
        Option("url", required=True, help="the other hub's base URL"),
        Option("token", required=True, secret=True, help="a peer token issued by that hub"),
        Option("timeout_seconds", int, default=60),
        Option("batch_size", int, default=1000, help="records per push request (≤ 5,000)"),
        Option("page_size", int, default=1000, help="feed items per pull request (≤ 1,000)"),
        Option("backoff_seconds", float, default=0.5, help="first retry delay within a request"),
        Option(
            "prefetch", bool, default=True, help="fetch the next feed page while one is applied"
        ),
        Option(
            "reconcile_hours",
            int,
            default=24,
            help="how often the scheduler reconciles with that hub (0: never)",
        ),
    )
    reconciles = True
    signs = True
    CELL_PAGE = 5000  # ids per request for one cell (the hub's maximum)
    FETCH_BATCH = 1000  # records per fetch request (the hub's maximum)

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.http = HttpClient(
            self.config["url"],
            headers={"Authorization": f"Bearer {self.config['token']}"},
            timeout=float(self.config["timeout_seconds"]),
            backoff=float(self.config["backoff_seconds"]),
        )
        self._remote: str | None = None
        self._hub: dict[str, Any] | None = None  # its GET /api/v1/hub
        self.push_batch = max(1, min(5000, int(self.config["batch_size"])))
        self._reader: ThreadPoolExecutor | None = None
        self._ahead: tuple[str, Future[PullPage]] | None = None  # (cursor, page after it)

    def _about(self) -> dict[str, Any]:
        """The other hub's GET /api/v1/hub, asked once."""
        if self._hub is None:
            try:
                body = orjson.loads(self.http.request("GET", "/api/v1/hub").content)
            except orjson.JSONDecodeError:
                body = None
            self._hub = body if isinstance(body, dict) else {}
        return self._hub

    def remote_hub_id(self) -> str:
        """The other hub's id, as it says itself (GET /api/v1/hub)."""
        hub = self._about().get("id")
        if not isinstance(hub, str) or not hub:
            raise FatalError("GET /api/v1/hub: the answer names no hub id")
        return hub

    def presented_keys(self) -> dict[str, Any]:
        key = self._about().get("key")
        if not isinstance(key, dict):
            raise FatalError("GET /api/v1/hub: the answer presents no key")
        return key

    def register(self) -> dict[str, Any]:
        body = self._json("GET", "/api/v1/hub/register")
        if not isinstance(body, dict):
            raise FatalError("GET /api/v1/hub/register: the answer is not a JSON object")
        return dict(body)

    def introduce(self, hub: dict[str, Any], register: dict[str, Any]) -> dict[str, Any]:
        body = orjson.dumps({"key": hub, "register": register})
        answer = self._json("POST", "/api/v1/hub/contact", data=body, headers=_JSON)
        return answer if isinstance(answer, dict) else {}

    def push(self, changes: Sequence[dict[str, Any]], more: bool = False) -> list[PushResult]:
        results: list[PushResult] = []
        size = self.push_batch
        for start in range(0, len(changes), size):
            batch = changes[start : start + size]
            results.extend(self._push_batch(batch, more or start + size < len(changes)))
        return results

    def _push_batch(self, batch: Sequence[dict[str, Any]], more: bool) -> list[PushResult]:
        ids = [str(c["cursor"]) for c in batch]
        try:
            # orjson: a batch of 5,000 is encoded in a tenth of the time `json=` takes, and the
            # hub reading it waits for every byte. `more`: the hub settles standings once, after
            # the run's last batch (credithub.standing.deferred).
            sent: dict[str, Any] = {"records": [c["record"] for c in batch]}
            if more:
                sent["more"] = True
            body = orjson.dumps(sent)
            answer = orjson.loads(
                self.http.request("POST", "/api/v1/records", data=body, headers=_JSON).content
            )
        except RetriableError as exc:
            return [PushResult(i, ok=False, error=str(exc), retriable=True) for i in ids]
        except FatalError as exc:
            return [PushResult(i, ok=False, error=str(exc), retriable=False) for i in ids]
        items = answer.get("results") or []
        if len(items) != len(batch):
            error = f"the hub answered {len(items)} results for {len(batch)} records"
            return [PushResult(i, ok=False, error=error, retriable=True) for i in ids]
        return [
            PushResult(
                i,
                ok=item["status"] != "rejected",
                error=None if item["status"] != "rejected" else str(item.get("errors")),
            )
            for i, item in zip(ids, items, strict=True)
        ]

    def pull(self, cursor: str | None) -> PullPage:
        after = cursor or "0"
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == after:
            page = ahead[1].result()
        else:
            _settle(ahead)  # one request at a time on the session
            page = self._fetch(after)
        if page.has_more and page.next_cursor is not None and self.config["prefetch"]:
            if self._reader is None:
                self._reader = ThreadPoolExecutor(1, thread_name_prefix=f"pull-{self.name}")
            self._ahead = (page.next_cursor, self._reader.submit(self._fetch, page.next_cursor))
        return page

    def _fetch(self, after: str) -> PullPage:
        params = {"after": after, "limit": str(self.config["page_size"])}
        response = self.http.request("GET", "/api/v1/feed", params=params)
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise FatalError("the feed answer is not JSON") from None
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or "next" not in body:
            raise FatalError("the feed answer has no items/next")
        return PullPage(
            changes=items, next_cursor=str(body["next"]), has_more=bool(body.get("has_more"))
        )

    def reconcile_seconds(self) -> float | None:
        hours = int(self.config["reconcile_hours"])
        return hours * 3600.0 if hours > 0 else None

    def summary(self) -> list[dict[str, Any]]:
        body = self._json("GET", "/api/v1/feed/summary")
        found = body.get("cells") if isinstance(body, dict) else None
        if not isinstance(found, list):
            raise FatalError("GET /api/v1/feed/summary: the answer has no cells")
        cells = []
        for item in found:
            if not (
                isinstance(item, dict)
                and all(isinstance(item.get(k), str) for k in ("origin", "month", "digest"))
                and _whole(item.get("count"))
            ):
                raise FatalError(f"GET /api/v1/feed/summary: a malformed cell {item!r:.200}")
            cells.append({k: item[k] for k in ("origin", "month", "count", "digest")})
        return cells

    def cell(self, origin: str, month: str) -> dict[str, int]:
        found: dict[str, int] = {}
        after = ""
        for _ in range(100_000):
            params = {"origin": origin, "month": month, "after": after, "limit": self.CELL_PAGE}
            body = self._json("GET", "/api/v1/feed/summary/cell", params=params)
            items = body.get("items") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise FatalError("GET /api/v1/feed/summary/cell: the answer has no items")
            for item in items:
                if not (
                    isinstance(item, dict)
                    and isinstance(item.get("id"), str)
                    and _whole(item.get("version"))
                ):
                    raise FatalError(
                        f"GET /api/v1/feed/summary/cell: a malformed item {item!r:.200}"
                    )
                found[item["id"]] = item["version"]
            if not body.get("has_more"):
                return found
            following = body.get("next")
            if not isinstance(following, str) or following == after:
                raise FatalError("GET /api/v1/feed/summary/cell: the answer does not move on")
            after = following
        raise FatalError("GET /api/v1/feed/summary/cell: too many pages")

    def fetch(self, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for start in range(0, len(keys), self.FETCH_BATCH):
            chunk = keys[start : start + self.FETCH_BATCH]
            body = orjson.dumps({"records": [{"origin": o, "id": i} for o, i in chunk]})
            answer = self._json("POST", "/api/v1/feed/records", data=body, headers=_JSON)
            found = answer.get("items") if isinstance(answer, dict) else None
            if not isinstance(found, list) or not all(
                isinstance(item, dict) and isinstance(item.get("record"), dict) for item in found
            ):
                raise FatalError("POST /api/v1/feed/records: the answer has no items")
            items.extend(found)
        return items

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return orjson.loads(self.http.request(method, path, **kwargs).content)
        except orjson.JSONDecodeError:
            raise FatalError(f"{method} {path}: the answer is not JSON") from None

    def close(self) -> None:
        _settle(self._ahead)
        self._ahead = None
        if self._reader is not None:
            self._reader.shutdown(wait=True)
            self._reader = None
        self.http.close()


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _settle(ahead: tuple[str, Future[PullPage]] | None) -> None:
    """Wait for a page read ahead that will not be used, and drop it (and any failure)."""
    if ahead is not None:
        ahead[1].exception()
