"""Another credithub, through this same API: push records to it, pull its change feed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.base import Connector, Option, PullPage, PushResult
from connectors.errors import FatalError, RetriableError
from connectors.http import HttpClient


class HubConnector(Connector):
    type_name = "hub"
    OPTIONS = (
        Option("url", required=True, help="the other hub's base URL"),
        Option("token", required=True, secret=True, help="a peer token issued by that hub"),
        Option("timeout_seconds", int, default=60),
        Option("batch_size", int, default=1000, help="records per push request (≤ 5,000)"),
        Option("page_size", int, default=1000, help="feed items per pull request (≤ 1,000)"),
        Option("backoff_seconds", float, default=0.5, help="first retry delay within a request"),
    )

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.http = HttpClient(
            self.config["url"],
            headers={"Authorization": f"Bearer {self.config['token']}"},
            timeout=float(self.config["timeout_seconds"]),
            backoff=float(self.config["backoff_seconds"]),
        )
        self._remote: str | None = None
        self.push_batch = max(1, min(5000, int(self.config["batch_size"])))

    def remote_hub_id(self) -> str:
        """The other hub's id (GET /api/v1/hub): changes that came from it are not sent back."""
        if self._remote is None:
            self._remote = str(self.http.request("GET", "/api/v1/hub").json()["id"])
        return self._remote

    def push(self, changes: Sequence[dict[str, Any]]) -> list[PushResult]:
        results: list[PushResult] = []
        size = self.push_batch
        for start in range(0, len(changes), size):
            batch = changes[start : start + size]
            results.extend(self._push_batch(batch))
        return results

    def _push_batch(self, batch: Sequence[dict[str, Any]]) -> list[PushResult]:
        ids = [str(c["cursor"]) for c in batch]
        try:
            answer = self.http.request(
                "POST", "/api/v1/records", json={"records": [c["record"] for c in batch]}
            ).json()
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
        params = {"after": cursor or "0", "limit": str(self.config["page_size"])}
        body = self.http.request("GET", "/api/v1/feed", params=params).json()
        items = body.get("items")
        if not isinstance(items, list) or "next" not in body:
            raise FatalError("the feed answer has no items/next")
        return PullPage(
            changes=items, next_cursor=str(body["next"]), has_more=bool(body.get("has_more"))
        )

    def close(self) -> None:
        self.http.close()
