"""Ids: 32 hex digits, time-ordered, never repeated, also across forked processes (an import's
processes and a push's helper make ids of their own)."""

from __future__ import annotations

import os
import time

from credithub.db import new_id


def test_ids_are_unique_and_sort_by_the_time_they_were_made() -> None:
    earlier = [new_id() for _ in range(5000)]
    time.sleep(0.002)
    later = new_id()
    assert len(set(earlier)) == len(earlier)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in earlier)
    assert max(earlier) < later


def test_a_forked_process_makes_ids_its_parent_does_not() -> None:
    new_id()  # the parent holds randomness for ids still to come
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
