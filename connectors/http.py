"""The one HTTP helper connectors use: a session, timeouts, and retry with backoff.

429 (honouring Retry-After), 5xx, timeouts and dropped connections are retried with exponential
backoff and jitter, then raised as RetriableError; any other 4xx is FatalError at once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from connectors.errors import FatalError, RetriableError


def retry_after_seconds(value: str | None) -> float | None:
    """Parse a Retry-After header: seconds, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class HttpClient:
    def __init__(
        self,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
        attempts: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update(headers or {})
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send a request; return a 2xx/3xx response or raise RetriableError / FatalError."""
        url = self.base_url + path
        kwargs.setdefault("timeout", self.timeout)
        last: RetriableError | None = None
        for attempt in range(self.attempts):
            if attempt:
                wait = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                jitter = random.uniform(0.5, 1.5)  # noqa: S311  (jitter, not cryptography)
                wait = max(wait * jitter, (last.retry_after or 0.0) if last else 0.0)
                self._sleep(wait)
            try:
                response = self.session.request(method, url, **kwargs)
            except (
                requests.Timeout,
                requests.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                # ChunkedEncodingError: the line went dead in the middle of the answer.
                last = RetriableError(f"{method} {url}: {type(exc).__name__}")
                continue
            if response.status_code == 429 or response.status_code >= 500:
                last = RetriableError(
                    f"{method} {url}: HTTP {response.status_code}",
                    retry_after_seconds(response.headers.get("Retry-After")),
                )
                continue
            if response.status_code >= 400:
                raise FatalError(
                    f"{method} {url}: HTTP {response.status_code}: {response.text[:300]}"
                )
            return response
        assert last is not None
        raise last

    def close(self) -> None:
        self.session.close()
