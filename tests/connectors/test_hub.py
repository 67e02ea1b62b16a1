"""The hub connector's pull reads ahead: the next page is fetched while the caller applies
one, handed out only for its own cursor, and a failure reading ahead surfaces when that page
is asked for. Its push marks every batch of a run but the last `more`."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import pytest

from connectors import create
from connectors.base import Connector
from connectors.errors import FatalError, RetriableError


class Feed(BaseHTTPRequestHandler):
    """A feed of 10 items, pages of `limit`; `broken` cursors answer 500."""

    asked: ClassVar[list[str]] = []
    pushed: ClassVar[list[dict[str, Any]]] = []  # bodies of POST /api/v1/records
    broken: ClassVar[set[str]] = set()
    junk: ClassVar[set[str]] = set()  # cursors answered with 200 and a body that is not JSON
    hub: ClassVar[bytes] = b'{"id": "province", "name": "province"}'  # GET /api/v1/hub

    def do_GET(self) -> None:
        if self.path == "/api/v1/hub":
            self.send_response(200)
            self.send_header("Content-Length", str(len(Feed.hub)))
            self.end_headers()
            self.wfile.write(Feed.hub)
            return
        query = parse_qs(urlparse(self.path).query)
        after, limit = int(query["after"][0]), int(query["limit"][0])
        Feed.asked.append(str(after))
        if str(after) in Feed.broken:
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if str(after) in Feed.junk:
            self.send_response(200)
            self.send_header("Content-Length", "7")
            self.end_headers()
            self.wfile.write(b"<html/>")
            return
        items = [{"cursor": str(i), "op": "upsert", "record": {}} for i in range(after + 1, 11)]
        page = items[:limit]
        body = json.dumps(
            {
                "items": page,
                "next": page[-1]["cursor"] if page else str(after),
                "has_more": len(items) > limit,
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Feed.pushed.append(body)
        answer = json.dumps({"results": [{"status": "created"} for _ in body["records"]]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hub() -> Iterator[Connector]:
    Feed.asked, Feed.broken, Feed.junk, Feed.pushed = [], set(), set(), []
    Feed.hub = b'{"id": "province", "name": "province"}'
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    connector = create(
        {
            "name": "province",
            "type": "hub",
            "url": f"http://127.0.0.1:{httpd.server_address[1]}",
            "token": "t",
            "page_size": 4,
            "backoff_seconds": 0.01,
        }
    )
    try:
        yield connector
    finally:
        connector.close()
        httpd.shutdown()
        httpd.server_close()


def cursors(page: Any) -> list[str]:
    return [c["cursor"] for c in page.changes]


def test_pages_in_order_each_fetched_once(hub: Connector) -> None:
    first = hub.pull(None)
    assert cursors(first) == ["1", "2", "3", "4"]
    assert first.has_more
    second = hub.pull(first.next_cursor)
    assert cursors(second) == ["5", "6", "7", "8"]
    last = hub.pull(second.next_cursor)
    assert cursors(last) == ["9", "10"]
    assert not last.has_more
    assert Feed.asked == ["0", "4", "8"]  # nothing read past the last page


def test_a_page_read_ahead_is_used_only_for_its_cursor(hub: Connector) -> None:
    first = hub.pull(None)
    # The caller asks again from the start (its commit failed): it gets that page, not the next.
    again = hub.pull(None)
    assert cursors(again) == cursors(first)
    assert cursors(hub.pull("2")) == ["3", "4", "5", "6"]


def test_a_failure_reading_ahead_is_raised_when_that_page_is_asked_for(hub: Connector) -> None:
    Feed.broken = {"4"}
    first = hub.pull(None)  # reading ahead from 4 fails in the background: not raised here
    assert cursors(first) == ["1", "2", "3", "4"]
    with pytest.raises(RetriableError):
        hub.pull(first.next_cursor)
    Feed.broken = set()
    assert cursors(hub.pull(first.next_cursor)) == ["5", "6", "7", "8"]


def test_without_prefetch_only_asked_pages_are_fetched(hub: Connector) -> None:
    hub.config["prefetch"] = False
    hub.pull(None)
    assert Feed.asked == ["0"]


def test_an_answer_that_is_not_a_feed_is_fatal(hub: Connector) -> None:
    Feed.junk = {"0"}
    with pytest.raises(FatalError, match="not JSON"):
        hub.pull(None)


@pytest.mark.parametrize("answer", [b"<html/>", b"[]", b'{"name": "x"}', b'{"id": ""}'])
def test_a_hub_answer_without_an_id_is_fatal(hub: Connector, answer: bytes) -> None:
    Feed.hub = answer
    with pytest.raises(FatalError, match="names no hub id"):
        hub.remote_hub_id()


def test_the_other_hubs_id_is_asked_once(hub: Connector) -> None:
    assert hub.remote_hub_id() == "province"
    Feed.hub = b'{"id": "elsewhere"}'
    assert hub.remote_hub_id() == "province"


@pytest.mark.parametrize("more", [True, False])
def test_a_push_marks_every_batch_of_a_run_but_its_last_more(hub: Connector, more: bool) -> None:
    """The receiving hub settles the standings a run changes once, after its last batch
    (credithub.standing.deferred): the connector's batches of one call carry `more`, and the
    last carries it only when the caller says more changes follow."""
    hub.push_batch = 2
    changes = [{"cursor": str(i), "op": "upsert", "record": {"ref": str(i)}} for i in range(5)]
    assert all(result.ok for result in hub.push(changes, more=more))
    assert [len(body["records"]) for body in Feed.pushed] == [2, 2, 1]
    assert [body.get("more", False) for body in Feed.pushed] == [True, True, more]
