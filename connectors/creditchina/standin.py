"""A stand-in of the national exchange (信用中国) for tests and demos: the protocol of
docs/creditchina.md on a standard-library HTTP server, with switches to inject faults.

    python -m connectors.creditchina.standin --port 8199 --app-key K --app-secret S
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from connectors.creditchina.national import (
    DEFAULT_LIMIT,
    LISTS_PATH,
    MAX_LIMIT,
    MAX_ROWS,
    PUSH_PATH,
    decode_cursor,
    encode_cursor,
    validate_row,
)
from connectors.creditchina.signing import (
    KEY_HEADER,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WINDOW_SECONDS,
    same_signature,
    signature,
)


class StandIn:
    """The national side: checks signatures, takes 双公示 rows, serves list entries."""

    def __init__(
        self,
        app_key: str,
        app_secret: str,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        verbose: bool = False,
    ) -> None:
        self.app_key = app_key
        self._secret = app_secret
        self.verbose = verbose
        self.received: list[dict[str, Any]] = []  # accepted rows, in arrival order
        self.lists: list[dict[str, Any]] = []  # list entries served, in feed order
        self.log: list[dict[str, Any]] = []  # every request: method, path, nonce, status, at
        self._nonces: dict[str, float] = {}
        self._faults: list[tuple[str, float, float | None]] = []
        self._next_id = 1
        self._lock = threading.Lock()
        self._server = _Server((host, port), _Handler)
        self._server.standin = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> StandIn:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Fault switches: each applies to one authenticated request, in the order they were set.

    def fail_next(self, status: int, times: int = 1, retry_after: float | None = None) -> None:
        """Answer the next `times` requests with `status` (and a Retry-After header if given)."""
        with self._lock:
            self._faults.extend([("fail", float(status), retry_after)] * times)

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """Wait `seconds` before answering the next `times` requests (then answer normally)."""
        with self._lock:
            self._faults.extend([("delay", seconds, None)] * times)

    def drop_next(self, times: int = 1) -> None:
        """Close the connection of the next `times` requests without any answer."""
        with self._lock:
            self._faults.extend([("drop", 0.0, None)] * times)

    def clear_faults(self) -> None:
        """Forget the faults not used yet: the next requests are answered normally."""
        with self._lock:
            self._faults.clear()

    def _take_fault(self) -> tuple[str, float, float | None] | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else None

    # National lists

    def add_listing(
        self,
        name: str,
        *,
        uscc: str | None = None,
        id_type: str | None = None,
        id_number: str | None = None,
        subject_type: str = "organization",
        list_code: str = "ggzy-serious",
        op: str = "upsert",
        entry_id: str | None = None,
        version: int = 1,
        authority: dict[str, str] | None = None,
        decided_on: str = "2025-01-10",
        listed_on: str | None = None,
        expires_on: str | None = None,
        basis: str = "发改法规〔2018〕457号",
        reason: str = "串通投标",
    ) -> dict[str, Any]:
        """Append a list entry (ids increase: CN00000001, CN00000002 …) and return it."""
        subject: dict[str, Any] = {"type": subject_type, "name": name}
        if uscc:
            subject["uscc"] = uscc
        if id_number:
            subject["id_type"] = id_type or "身份证"
            subject["id_number"] = id_number
        with self._lock:
            if entry_id is None:
                entry_id = f"CN{self._next_id:08d}"
            self._next_id += 1
            entry = {
                "id": entry_id,
                "version": version,
                "op": op,
                "list": list_code,
                "subject": subject,
                "authority": authority
                or {"name": "国家发展和改革委员会", "uscc": "11100000000019713D"},
                "decided_on": decided_on,
                "listed_on": listed_on or decided_on,
                "expires_on": expires_on,
                "basis": basis,
                "reason": reason,
            }
            self.lists.append(entry)
        return entry

    def revoke_listing(self, entry_id: str, reason: str | None = None) -> dict[str, Any]:
        """Append the revocation of an entry: same id, next version, op revoke."""
        with self._lock:
            last = next((e for e in reversed(self.lists) if e.get("id") == entry_id), None)
            if last is None:
                raise KeyError(entry_id)
            entry = copy.deepcopy(last) | {"op": "revoke", "version": last["version"] + 1}
            if reason:
                entry["reason"] = reason
            self.lists.append(entry)
        return entry

    # Request handling (called from the handler threads)

    def authenticate(
        self, method: str, path: str, query: str, headers: Any, body: bytes
    ) -> tuple[str, str] | None:
        """None if the request is signed right, else (reason code, message)."""
        key, ts = headers.get(KEY_HEADER), headers.get(TIMESTAMP_HEADER)
        nonce, sig = headers.get(NONCE_HEADER), headers.get(SIGNATURE_HEADER)
        if not (key and ts and nonce and sig):
            return "missing_headers", "X-App-Key, X-Timestamp, X-Nonce and X-Signature are required"
        if key != self.app_key:
            return "unknown_key", "unknown app key"
        if not ts.isdigit():
            return "bad_timestamp", "X-Timestamp must be unix seconds"
        now = time.time()
        if abs(now - int(ts)) > WINDOW_SECONDS:
            return "stale_timestamp", f"X-Timestamp is more than {WINDOW_SECONDS} s off"
        if not 8 <= len(nonce) <= 64:
            return "bad_nonce", "X-Nonce must have 8 to 64 characters"
        expected = signature(self._secret, method, path, query, ts, nonce, body)
        if not same_signature(expected, sig):
            return "bad_signature", "signature does not match"
        with self._lock:
            # A nonce is remembered as long as a request carrying it could still be on time.
            horizon = now - 2 * WINDOW_SECONDS
            self._nonces = {n: seen for n, seen in self._nonces.items() if seen >= horizon}
            if nonce in self._nonces:
                return "replayed_nonce", "nonce already used"
            self._nonces[nonce] = now
        return None

    def take_rows(self, payload: Any) -> tuple[int, dict[str, Any]]:
        """Check and keep pushed rows: (status, answer)."""
        rows = payload.get("rows") if isinstance(payload, dict) else None
        if not isinstance(rows, list) or not rows:
            return 400, _error(400, 'body must be {"rows": [...]} with at least one row')
        if len(rows) > MAX_ROWS:
            return 413, _error(413, f"at most {MAX_ROWS} rows per request")
        results = []
        for index, row in enumerate(rows):
            errors = validate_row(row)
            if not errors:
                with self._lock:
                    self.received.append(copy.deepcopy(row))
            status = "rejected" if errors else "accepted"
            results.append({"index": index, "status": status, "errors": errors})
        return 200, {"results": results}

    def page(self, query: str) -> tuple[int, dict[str, Any]]:
        """One page of list entries after the cursor: (status, answer)."""
        args = parse_qs(query, keep_blank_values=True)
        limit_text = args.get("limit", [str(DEFAULT_LIMIT)])[0]
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
            return 400, _error(400, f"limit must be 1 to {MAX_LIMIT}")
        cursor = args.get("cursor", [""])[0]
        position = decode_cursor(cursor) if cursor else 0
        if position is None:
            return 400, _error(400, "unknown cursor")
        with self._lock:
            items = copy.deepcopy(self.lists[position : position + int(limit_text)])
            end = position + len(items)
            has_more = end < len(self.lists)
        return 200, {"items": items, "next": encode_cursor(end), "has_more": has_more}


def _error(code: int, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "status": HTTPStatus(code).phrase, "message": message, **extra}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    standin: StandIn

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client gave up (a timeout in a test): nothing to report
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "CreditChinaStandIn/1"

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        stand = self.server.standin
        path, _, query = self.path.partition("?")
        length = self.headers.get("Content-Length") or "0"
        body = self.rfile.read(int(length)) if length.isdigit() else b""
        entry = {
            "method": method,
            "path": path,
            "query": query,
            "nonce": self.headers.get(NONCE_HEADER),
            "timestamp": self.headers.get(TIMESTAMP_HEADER),
            "at": time.monotonic(),
            "status": None,
        }
        with stand._lock:
            stand.log.append(entry)
        refused = stand.authenticate(method, path, query, self.headers, body)
        if refused is not None:
            self._reply(entry, 401, _error(401, refused[1], reason=refused[0]))
            return
        fault = stand._take_fault()
        if fault is not None:
            kind, value, retry_after = fault
            if kind == "drop":
                entry["status"] = "dropped"
                self.close_connection = True
                return
            if kind == "delay":
                time.sleep(value)
            else:
                extra = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
                self._reply(entry, int(value), _error(int(value), "injected fault"), extra)
                return
        if path == PUSH_PATH and method == "POST":
            try:
                payload = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                self._reply(entry, 400, _error(400, "body is not UTF-8 JSON"))
                return
            self._reply(entry, *stand.take_rows(payload))
        elif path == LISTS_PATH and method == "GET":
            self._reply(entry, *stand.page(query))
        elif path in (PUSH_PATH, LISTS_PATH):
            self._reply(entry, 405, _error(405, f"{method} is not allowed here"))
        else:
            self._reply(entry, 404, _error(404, "no such endpoint"))

    def _reply(
        self,
        entry: dict[str, Any],
        status: int,
        answer: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        entry["status"] = status
        data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.standin.verbose:
            super().log_message(format, *args)


def add_samples(stand: StandIn) -> None:
    """A few national list entries for a demo."""
    stand.add_listing(
        "四川蜀道建设工程有限公司", uscc="91512081MA62K0260E", decided_on="2025-11-03"
    )
    stand.add_listing(
        "深圳市南山工程咨询有限公司",
        uscc="914403001922038216",
        list_code="gp-serious",
        decided_on="2025-09-15",
        expires_on="2028-09-14",
        basis="《政府采购法》第七十七条",
        reason="提供虚假材料谋取中标",
    )
    stand.add_listing(
        "王某",
        subject_type="person",
        id_number="11010519491231002X",
        list_code="expert-disqualified",
        decided_on="2025-06-20",
        basis="《招标投标法实施条例》第七十二条",
        reason="评标专家收受投标人财物",
    )


def main(argv: list[str] | None = None) -> int:
    """Run the stand-in in the foreground until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m connectors.creditchina.standin",
        description="Stand-in of the national exchange (信用中国) for demos and tests.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8199)
    parser.add_argument("--app-key", required=True)
    parser.add_argument(
        "--app-secret",
        default=os.environ.get("CREDITCHINA_APP_SECRET"),
        help="or the environment variable CREDITCHINA_APP_SECRET",
    )
    parser.add_argument("--no-samples", action="store_true", help="start with no list entries")
    args = parser.parse_args(argv)
    if not args.app_secret:
        parser.error("--app-secret (or CREDITCHINA_APP_SECRET) is required")
    stand = StandIn(args.app_key, args.app_secret, args.host, args.port, verbose=True)
    if not args.no_samples:
        add_samples(stand)
    stand.start()
    print(f"national exchange stand-in on {stand.url} (Ctrl-C stops)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        stand.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
