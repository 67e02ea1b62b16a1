"""Faults between hubs: a peer down, slow, answering 500 or 429, dropping the connection
mid-answer, sending the same page twice or a malformed item, and this hub dying between
receiving and committing. After the fault ends the hubs converge: the same records at the
same versions, none lost, none doubled."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from credithub.db import db
from credithub.sync import service, states
from tests.records.samples import PEER_ZHUJIAN, ZHUJIAN, make_uscc, penalty
from tests.sync.hubs import FaultProxy, Hub


@pytest.fixture
def peer(tmp_path: Path) -> Iterator[Hub]:
    hub = Hub("province", tmp_path / "province")
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()


@pytest.fixture
def proxy(peer: Hub) -> Iterator[FaultProxy]:
    p = FaultProxy(peer.url).start()
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture
def local(app_factory: Callable[..., Flask], peer: Hub, proxy: FaultProxy) -> Flask:
    token = peer.token("peer", "peer-local", "--hub", "local")
    # The real hub "province" has a key of its own: this hub pins it at first contact.
    return app_factory(hub={"id": "local"}, federation={"keys": {}}, connectors=[{
        "name": "province", "type": "hub", "url": proxy.url, "token": token,
        "timeout_seconds": 2, "backoff_seconds": 0.01, "batch_size": 7,
        "page_size": 7}])  # fmt: skip


def seed(local: Flask, peer: Hub, make_token: Callable[..., dict[str, str]]) -> None:
    """20 records at this hub, 25 at the peer (small pages, so a run spans several)."""
    dept = make_token("department", uscc=ZHUJIAN)
    mine = [penalty(f"L-{i}", uscc=make_uscc("91150700", f"{i:08d}")) for i in range(20)]
    assert (
        local.test_client()
        .post("/api/v1/records", json={"records": mine}, headers=dept)
        .status_code
        == 200
    )
    theirs = [penalty(f"P-{i}", uscc=make_uscc("91150700", f"{i + 500:08d}")) for i in range(25)]
    peer.post(
        "/api/v1/records",
        peer.token("department", "zhujian-p", "--uscc", PEER_ZHUJIAN),  # its own city's
        {"records": theirs},
    )


def origins_here(local: Flask) -> set[tuple[str, str, int]]:
    from sqlalchemy import select

    from credithub.records.models import Record

    with local.app_context():
        rows = db.session.execute(
            select(Record.origin_hub, Record.origin_id, Record.origin_version)
        )
        return {(h, i, v) for h, i, v in rows}


def origins_there(peer: Hub) -> set[tuple[str, str, int]]:
    token = peer.token("admin", f"office-{time.monotonic_ns()}")
    items = peer.get("/api/v1/records?page_size=500", token)["items"]
    return {(r["origin"]["hub"], r["origin"]["id"], r["origin"]["version"]) for r in items}


def run_until_ok(local: Flask, rounds: int = 5) -> None:
    for _ in range(rounds):
        with local.app_context():
            [result] = service.run(["province"])
        if result.ok:
            return
    raise AssertionError(f"still failing: {result.errors}")


def assert_converged(local: Flask, peer: Hub) -> None:
    here, there = origins_here(local), origins_there(peer)
    assert here == there
    assert len(here) == 45  # none lost, none doubled


@pytest.mark.parametrize(
    ("fault", "value", "times"),
    [
        ("status", 500, 2),
        ("status", 429, 2),
        ("status", 503, 12),
        ("delay", 3, 1),
        ("drop", None, 1),
    ],
)
def test_transport_faults_then_convergence(
    local: Flask,
    peer: Hub,
    proxy: FaultProxy,
    make_token: Callable[..., dict[str, str]],
    fault: str,
    value: Any,
    times: int,
) -> None:
    seed(local, peer, make_token)
    proxy.inject(fault, value, times)
    run_until_ok(local)
    assert_converged(local, peer)


def test_peer_down_then_back(
    local: Flask, peer: Hub, make_token: Callable[..., dict[str, str]]
) -> None:
    seed(local, peer, make_token)
    peer.stop()
    with local.app_context():
        [down] = service.run(["province"])
        state = states.status(db.session)[0]
    assert not down.ok
    assert state["pending"] > 0
    peer.start()
    run_until_ok(local)
    assert_converged(local, peer)


def test_same_page_twice_changes_nothing(
    local: Flask, peer: Hub, proxy: FaultProxy, make_token: Callable[..., dict[str, str]]
) -> None:
    seed(local, peer, make_token)
    proxy.inject("repeat", times=3, path="/api/v1/feed")
    run_until_ok(local)
    run_until_ok(local)
    assert_converged(local, peer)


def test_a_malformed_item_is_kept_and_replayed(
    local: Flask, peer: Hub, proxy: FaultProxy, make_token: Callable[..., dict[str, str]]
) -> None:
    seed(local, peer, make_token)
    proxy.inject("corrupt", path="/api/v1/feed")
    run_until_ok(local)
    with local.app_context():
        assert states.status(db.session)[0]["dead_letters"] == 1
        assert len(origins_here(local)) == 44
        with db.transaction() as session:
            assert states.replay(session, "province") == 1
    run_until_ok(local)
    assert_converged(local, peer)


def test_dying_between_receiving_and_committing(
    local: Flask,
    peer: Hub,
    make_token: Callable[..., dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(local, peer, make_token)
    real = service.write_batch
    calls = {"n": 0}

    def dies_on_second_page(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        result = real(*args, **kwargs)
        if calls["n"] == 2:
            raise SystemExit("killed")  # the page was applied in the session, never committed
        return result

    monkeypatch.setattr(service, "write_batch", dies_on_second_page)
    with local.app_context(), pytest.raises(SystemExit):
        service.run(["province"])
    monkeypatch.setattr(service, "write_batch", real)
    run_until_ok(local)
    assert_converged(local, peer)
