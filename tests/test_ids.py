"""Ids: 32 lower-case hex digits, the time in milliseconds then 80 random bits, never repeated,
also across forked processes (an import's processes and a push's helper make ids of their
own)."""

from __future__ import annotations

import os
import re
import time

import pytest

from credithub.db import ids, new_id


def test_an_id_is_the_milliseconds_then_the_randomness(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ids.time, "time_ns", lambda: 1_767_225_600_123_456_789)
    monkeypatch.setattr(ids.os, "urandom", lambda n: bytes(range(0xF6, 0xF6 + n)))
    # 2026-01-01T00:00:00.123Z is 1767225600123 ms: 0x019b76daa87b.
    assert new_id() == "019b76daa87b" + "f6f7f8f9fafbfcfdfeff"


def test_ids_are_unique_and_sort_by_the_time_they_were_made() -> None:
    earlier = [new_id() for _ in range(5000)]
    time.sleep(0.002)
    later = new_id()
    assert len(set(earlier)) == len(earlier)
    assert all(re.fullmatch("[0-9a-f]{32}", i) for i in earlier)
    assert max(earlier) < later
    now_ms = time.time_ns() // 1_000_000
    assert 0 <= now_ms - int(later[:12], 16) < 60_000  # the prefix is the time it was made


def test_a_forked_process_makes_ids_its_parent_does_not() -> None:
    new_id()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids
        os.write(write, "".join(new_id()[12:] for _ in range(10)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    theirs = os.read(read, 4096).decode()
    os.close(read)
    ours = "".join(new_id()[12:] for _ in range(10))
    assert len(theirs) == len(ours) == 200
    assert {theirs[i : i + 20] for i in range(0, 200, 20)}.isdisjoint(
        ours[i : i + 20] for i in range(0, 200, 20)
    )
