"""The wire protocol, driven with raw requests at the stand-in: signatures, limits."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import requests

from connectors.creditchina.signing import canonical, sign_headers
from connectors.creditchina.standin import StandIn
from tests.connectors.creditchina.samples import APP_KEY, APP_SECRET

LISTS = "/exchange/v1/lists"
PUSH = "/exchange/v1/penalties"


def send(
    standin: StandIn,
    method: str,
    path: str,
    query: str = "",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    **sign: Any,
) -> requests.Response:
    """Send one raw request, signed with `sign` arguments unless `headers` are given."""
    if headers is None:
        key = sign.pop("key", APP_KEY)
        secret = sign.pop("secret", APP_SECRET)
        headers = sign_headers(key, secret, method, path, query, body, **sign)
    url = standin.url + path + (f"?{query}" if query else "")
    with requests.Session() as session:
        return session.request(method, url, data=body or None, headers=headers, timeout=5)


def reason(response: requests.Response) -> str:
    assert response.status_code == 401, response.text
    return str(response.json()["reason"])


def test_canonical_text_is_the_documented_one() -> None:
    body = b'{"rows": []}'
    text = canonical("post", PUSH, "", "1700000000", "n0nce-123", body)
    digest = hashlib.sha256(body).hexdigest()
    assert text == f"POST\n{PUSH}\n\n1700000000\nn0nce-123\n{digest}"
    headers = sign_headers(
        "k", "s", "POST", PUSH, "", body, timestamp="1700000000", nonce="n0nce-123"
    )
    expected = hmac.new(b"s", text.encode(), hashlib.sha256).hexdigest()
    assert headers == {
        "X-App-Key": "k",
        "X-Timestamp": "1700000000",
        "X-Nonce": "n0nce-123",
        "X-Signature": expected,
    }


def test_signed_requests_are_accepted(standin: StandIn) -> None:
    assert send(standin, "GET", LISTS, "limit=10").status_code == 200
    body = json.dumps({"rows": [{"CF_XDR_MC": "x"}]}).encode()
    answer = send(standin, "POST", PUSH, body=body)
    assert answer.status_code == 200
    assert answer.json()["results"][0]["status"] == "rejected"  # signed fine, row incomplete
    # Within the window is fine, too.
    old = str(int(time.time()) - 200)
    assert send(standin, "GET", LISTS, "limit=1", timestamp=old).status_code == 200


def test_bad_secret_and_unknown_key_are_refused(standin: StandIn) -> None:
    assert reason(send(standin, "GET", LISTS, "limit=10", secret="wrong")) == "bad_signature"
    assert reason(send(standin, "GET", LISTS, "limit=10", key="someone")) == "unknown_key"
    assert reason(send(standin, "GET", LISTS, headers={})) == "missing_headers"


def test_signature_covers_query_and_body(standin: StandIn) -> None:
    headers = sign_headers(APP_KEY, APP_SECRET, "GET", LISTS, "limit=1", b"")
    assert reason(send(standin, "GET", LISTS, "limit=2", headers=headers)) == "bad_signature"
    headers = sign_headers(APP_KEY, APP_SECRET, "POST", PUSH, "", b'{"rows": []}')
    tampered = b'{"rows": [{}]}'
    assert reason(send(standin, "POST", PUSH, body=tampered, headers=headers)) == "bad_signature"


def test_stale_and_future_timestamps_are_refused(standin: StandIn) -> None:
    stale = str(int(time.time()) - 301)
    assert reason(send(standin, "GET", LISTS, "limit=1", timestamp=stale)) == "stale_timestamp"
    future = str(int(time.time()) + 400)
    assert reason(send(standin, "GET", LISTS, "limit=1", timestamp=future)) == "stale_timestamp"


def test_replayed_nonce_is_refused(standin: StandIn) -> None:
    headers = sign_headers(APP_KEY, APP_SECRET, "GET", LISTS, "limit=1", b"")
    assert send(standin, "GET", LISTS, "limit=1", headers=headers).status_code == 200
    assert reason(send(standin, "GET", LISTS, "limit=1", headers=headers)) == "replayed_nonce"
    # The same nonce with a new timestamp and signature is still a replay.
    again = sign_headers(APP_KEY, APP_SECRET, "GET", LISTS, "", b"", nonce=headers["X-Nonce"])
    assert reason(send(standin, "GET", LISTS, headers=again)) == "replayed_nonce"


def test_oversized_pushes_and_bad_paging_are_refused(standin: StandIn) -> None:
    body = json.dumps({"rows": [{}] * 1001}).encode()
    assert send(standin, "POST", PUSH, body=body).status_code == 413
    assert send(standin, "POST", PUSH, body=b"not json").status_code == 400
    assert send(standin, "GET", LISTS, "limit=501").status_code == 400
    assert send(standin, "GET", LISTS, "limit=5&cursor=zzz").status_code == 400
    assert send(standin, "GET", "/exchange/v1/other").status_code == 404
