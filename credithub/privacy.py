"""Personal data (个人信息保护法): ID numbers encrypted, found by keyed hash, shown masked."""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

_VERSION = b"\x01"  # first byte of every ciphertext, so the scheme or key can change later


class PersonalData:
    """Encrypt, decrypt and look up personal identifiers with keys from configuration."""

    def __init__(self, data_key: bytes, lookup_key: bytes, matching_key: bytes) -> None:
        if len(data_key) != 32 or len(lookup_key) != 32 or len(matching_key) != 32:
            raise ValueError("personal-data keys must be 32 bytes")
        self._aead = AESGCM(data_key)
        self._lookup_key = lookup_key
        self._matching_key = matching_key

    def encrypt(self, value: str, context: str) -> bytes:
        """Encrypt `value`; `context` is authenticated too, so blobs cannot be swapped."""
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aead.encrypt(nonce, value.encode(), context.encode())

    def decrypt(self, blob: bytes, context: str) -> str:
        if blob[:1] != _VERSION:
            raise ValueError("unknown personal-data ciphertext version")
        try:
            return self._aead.decrypt(blob[1:13], blob[13:], context.encode()).decode()
        except InvalidTag:
            raise ValueError("personal data failed authentication (wrong key or altered)") from None

    def lookup_hash(self, scheme: str, value: str) -> str:
        """A keyed hash to find a record by ID number without storing the number in clear."""
        return hmac.new(self._lookup_key, f"{scheme}:{value}".encode(), hashlib.sha256).hexdigest()

    def federation_hash(self, scheme: str, value: str) -> str:
        """The keyed hash a person travels with between hubs (`federation.matching_key`, the
        same at every hub of a federation): HMAC-SHA256 of "<id_type>:<number>", hex. Unlike
        `lookup_hash`, whose key never leaves this hub, it is shown to peers."""
        message = f"{scheme}:{value}".encode()
        return hmac.new(self._matching_key, message, hashlib.sha256).hexdigest()


def personal_data() -> PersonalData:
    pd: PersonalData = current_app.extensions["credithub.personal_data"]
    return pd
