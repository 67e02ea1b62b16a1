"""Request signatures of the national exchange: app key, timestamp, nonce and HMAC-SHA256.

Standard library only: the connector signs with it and the stand-in server checks with it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

WINDOW_SECONDS = 300  # a timestamp further than this from the server's clock is refused

KEY_HEADER = "X-App-Key"
TIMESTAMP_HEADER = "X-Timestamp"
NONCE_HEADER = "X-Nonce"
SIGNATURE_HEADER = "X-Signature"


def body_digest(body: bytes | str | None) -> str:
    """Hex SHA-256 of the request body; an absent body hashes as the empty one."""
    if body is None:
        body = b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return hashlib.sha256(body).hexdigest()


def canonical(
    method: str, path: str, query: str, timestamp: str, nonce: str, body: bytes | str | None
) -> str:
    """The text that is signed: method, path, raw query, timestamp, nonce and body digest."""
    return "\n".join((method.upper(), path or "/", query, timestamp, nonce, body_digest(body)))


def signature(
    secret: str,
    method: str,
    path: str,
    query: str,
    timestamp: str,
    nonce: str,
    body: bytes | str | None,
) -> str:
    """Hex HMAC-SHA256 of the canonical text under the app secret."""
    text = canonical(method, path, query, timestamp, nonce, body)
    return hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


def sign_headers(
    app_key: str,
    app_secret: str,
    method: str,
    path: str,
    query: str,
    body: bytes | str | None,
    *,
    timestamp: str | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four authentication headers of one request, with a fresh timestamp and nonce."""
    ts = timestamp if timestamp is not None else str(int(time.time()))
    once = nonce if nonce is not None else secrets.token_hex(16)
    return {
        KEY_HEADER: app_key,
        TIMESTAMP_HEADER: ts,
        NONCE_HEADER: once,
        SIGNATURE_HEADER: signature(app_secret, method, path, query, ts, once, body),
    }


def same_signature(expected: str, received: str) -> bool:
    """Compare signatures in constant time (case-insensitive hex)."""
    return hmac.compare_digest(expected.lower().encode(), received.strip().lower().encode())
