"""The contract every connector meets, run over every type registered under the entry-point
group "credithub.connectors", each against its real counterpart on this machine: another
credithub served on 127.0.0.1, the national exchange's stand-in, a pair of drop folders.

A new connector type is picked up by itself and fails here until COUNTERPARTS says how to
start its counterpart."""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

import connectors
from connectors.base import COMMON_OPTIONS, MASK, Connector
from connectors.creditchina.standin import StandIn
from connectors.errors import (
    ConnectorConfigError,
    FatalError,
    NotSupportedError,
    RetriableError,
)
from tests.connectors.creditchina.samples import APP_KEY, APP_SECRET, PENALTY
from tests.connectors.filedrop import support as filedrop
from tests.records.samples import PEER_ZHUJIAN, ZHUJIAN, make_uscc, penalty
from tests.signing import pinned_peers, signed
from tests.sync.hubs import FaultProxy, Hub

SECRET_WORDS = ("token", "secret", "password")
_serial = itertools.count(1)


@dataclass
class Counterpart:
    """A connector type's real counterpart, running, and what a test can do with it."""

    config: dict[str, Any]  # a whole configuration aimed at it
    offer: Callable[[int], None]  # make this many new changes wait to be pulled
    # Feed items it accepts when pushed; `without`: record fields left out (a penalty short of
    # what its 双公示 row requires), before any signature is made.
    changes: Callable[..., list[dict[str, Any]]]
    outage: Callable[[], contextlib.AbstractContextManager[None]]  # it cannot be reached
    refused: dict[str, Any] | None = None  # config changes it refuses for good (credentials)
    # HTTP counterparts: spoil the next requests, count the requests received.
    fail_next: Callable[[int, int], None] | None = None  # (status, times)
    delay_next: Callable[[float], None] | None = None
    requests: Callable[[], int] | None = None
    # Whether it takes 双公示 rows only: a penalty short of a row's fields is skipped, not sent.
    takes_rows: bool = False


# ---------------------------------------------------------------------------------------------
# Counterparts, by connector type


@contextlib.contextmanager
def another_hub(tmp_path: Path) -> Iterator[Counterpart]:
    peer = Hub("contract-peer", tmp_path / "peer")
    peer.keys = {"contract-here": pinned_peers()["contract-here"]}
    peer.write_config()
    token = peer.token("peer", "contract", "--hub", "contract-here")
    dept = {"Authorization": "Bearer " + peer.token("department", "zhujian", "--uscc", ZHUJIAN)}
    peer.start()
    proxy = FaultProxy(peer.url).start()

    def offer(n: int) -> None:
        records = []
        for _ in range(n):
            k = next(_serial)
            records.append(penalty(f"C-{k}", uscc=make_uscc("91150700", f"{k:08d}")))
        resp = requests.post(
            f"{peer.url}/api/v1/records", json={"records": records}, headers=dept, timeout=60
        )
        assert resp.status_code == 200, resp.text

    def changes(n: int, without: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        items = []
        for _ in range(n):
            k = next(_serial)
            record = penalty(f"H-{k}", uscc=make_uscc("91150700", f"{k:08d}"))
            for name in without:
                record.pop(name)
            # A department of this side: the other's (ZHUJIAN) belongs to the other hub.
            record["authority"] = {"name": "住建局", "uscc": PEER_ZHUJIAN}
            record["origin"] = {"hub": "contract-here", "id": f"h-{k}", "version": 1}
            items.append({"cursor": str(k), "op": "upsert", "record": signed(record)})
        return items

    @contextlib.contextmanager
    def outage() -> Iterator[None]:
        proxy.inject("status", 503, times=1000)
        try:
            yield
        finally:
            FaultProxy.faults.clear()

    config = {
        "name": "peer", "type": "hub", "url": proxy.url, "token": token,
        "backoff_seconds": 0.01, "page_size": 2,
    }  # fmt: skip
    try:
        yield Counterpart(
            config, offer, changes, outage,
            refused={"token": "chub_not-a-token-this-hub-issued"},
            fail_next=lambda status, times: proxy.inject("status", status, times),
            delay_next=lambda seconds: proxy.inject("delay", seconds),
            requests=lambda: FaultProxy.seen,
        )  # fmt: skip
    finally:
        proxy.stop()
        peer.stop()


@contextlib.contextmanager
def national_standin(tmp_path: Path) -> Iterator[Counterpart]:
    stand = StandIn(APP_KEY, APP_SECRET).start()

    def offer(n: int) -> None:
        for _ in range(n):
            k = next(_serial)
            stand.add_listing(f"公司{k}", uscc=make_uscc("91150700", f"{k:08d}"))

    def changes(n: int, without: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        items = []
        for _ in range(n):
            k = next(_serial)
            record = PENALTY | {
                "ref": f"呼市监罚〔2025〕{k}号",
                "origin": {"hub": "hlbe", "id": f"rec-{k}", "version": 1},
            }
            for name in without:
                record.pop(name)
            items.append({"cursor": str(k), "op": "upsert", "record": record})
        return items

    @contextlib.contextmanager
    def outage() -> Iterator[None]:
        stand.fail_next(503, times=1000)
        try:
            yield
        finally:
            stand.clear_faults()

    config = {
        "name": "nation", "type": "creditchina", "url": stand.url, "app_key": APP_KEY,
        "app_secret": APP_SECRET, "backoff_seconds": 0.01, "batch_size": 2,
    }  # fmt: skip
    try:
        yield Counterpart(
            config, offer, changes, outage,
            refused={"app_secret": "not-the-secret-it-knows"},
            fail_next=stand.fail_next,
            delay_next=stand.delay_next,
            requests=lambda: len(stand.log),
            takes_rows=True,
        )  # fmt: skip
    finally:
        stand.stop()


@contextlib.contextmanager
def drop_folders(tmp_path: Path) -> Iterator[Counterpart]:
    out, inbox = tmp_path / "dept" / "out", tmp_path / "dept" / "in"
    out.mkdir(parents=True)
    inbox.mkdir(parents=True)

    def offer(n: int) -> None:
        rows = []
        for _ in range(n):
            k = next(_serial)
            rows.append(filedrop.sgs_row(CF_WSH=f"呼住建罚〔2024〕{k}号"))
        (inbox / f"{next(_serial):06d}.csv").write_bytes(filedrop.csv_bytes(rows))

    def changes(n: int, without: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        items = []
        for _ in range(n):
            k = next(_serial)
            record = filedrop.org_record(f"呼住建罚〔2024〕{k}号")
            for name in without:
                record.pop(name)
            items.append(filedrop.item(str(k), record))
        return items

    @contextlib.contextmanager
    def outage() -> Iterator[None]:  # the share is not mounted
        away = tmp_path / "unmounted"
        away.mkdir()
        os.rename(out, away / "out")
        os.rename(inbox, away / "in")
        try:
            yield
        finally:
            os.rename(away / "out", out)
            os.rename(away / "in", inbox)

    config = {"name": "dept", "type": "filedrop", "outbound": str(out), "inbound": str(inbox)}
    yield Counterpart(config, offer, changes, outage, takes_rows=True)


COUNTERPARTS: dict[str, Callable[[Path], contextlib.AbstractContextManager[Counterpart]]] = {
    "hub": another_hub,
    "creditchina": national_standin,
    "filedrop": drop_folders,
}


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module", params=connectors.available())
def kind(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def counterpart(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Counterpart]:
    """Started once per type (another hub takes seconds): each test reads from where the
    counterpart is, whatever earlier tests left there."""
    start = COUNTERPARTS.get(kind)
    assert start is not None, f"connector type {kind!r} has no counterpart in COUNTERPARTS"
    with start(tmp_path_factory.mktemp(kind)) as running:
        yield running


@pytest.fixture
def make(kind: str, counterpart: Counterpart) -> Iterator[Callable[..., Connector]]:
    """Build connectors of this type aimed at the counterpart; keyword arguments override."""
    made: list[Connector] = []

    def build(**overrides: Any) -> Connector:
        connector = connectors.create(counterpart.config | overrides)
        made.append(connector)
        return connector

    yield build
    for connector in made:
        connector.close()


def drain(connector: Connector, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Every change after `cursor`, page by page, and the cursor after the last."""
    found: list[dict[str, Any]] = []
    for _ in range(100):
        page = connector.pull(cursor)
        found.extend(page.changes)
        cursor = page.next_cursor
        if not page.has_more:
            return found, cursor
    raise AssertionError("more than 100 pages")


def identities(changes: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (c["op"], c["record"]["origin"]["id"], c["record"]["origin"]["version"]) for c in changes
    ]


# ---------------------------------------------------------------------------------------------
# Configuration


def test_its_type_is_registered_under_its_own_name(kind: str) -> None:
    cls = connectors.load(kind)
    assert cls.type_name == kind


def test_it_declares_its_configuration_and_masks_secrets(
    kind: str, counterpart: Counterpart, make: Callable[..., Connector]
) -> None:
    cls = connectors.load(kind)
    names = [o.name for o in cls.options()]
    assert len(names) == len(set(names))
    assert {o.name for o in COMMON_OPTIONS} <= set(names)
    for option in cls.options():
        if any(word in option.name for word in SECRET_WORDS):
            assert option.secret, f"{option.name} looks secret but is not marked so"
    connector = make()
    shown = connector.public_config()
    assert set(shown) == set(names)
    for option in cls.options():
        if option.secret:
            assert shown[option.name] == MASK
            assert str(counterpart.config[option.name]) not in repr(shown)
    for option in cls.options():
        if option.required and option.name not in ("name", "type"):
            config = {k: v for k, v in counterpart.config.items() if k != option.name}
            with pytest.raises(ConnectorConfigError, match=f"missing required key '{option.name}'"):
                connectors.create(config)


def test_it_refuses_unknown_keys(counterpart: Counterpart) -> None:
    with pytest.raises(ConnectorConfigError, match=r"unknown key.*colour"):
        connectors.create(counterpart.config | {"colour": "blue"})


# ---------------------------------------------------------------------------------------------
# Push and pull


def test_push_answers_once_per_change_in_order(
    counterpart: Counterpart, make: Callable[..., Connector]
) -> None:
    connector = make()
    assert connector.push([]) == []
    changes = counterpart.changes(5)
    results = connector.push(changes)
    assert [r.change_id for r in results] == [c["cursor"] for c in changes]
    assert all(r.ok for r in results), [r.error for r in results]


def test_a_penalty_short_of_its_sgs_rows_fields_is_sent_or_skipped_never_failed(
    make: Callable[..., Connector], counterpart: Counterpart
) -> None:
    """The API takes a penalty without, say, its facts; a platform that takes 双公示 rows only
    cannot, and its connector lets the change go with the reason instead of failing it (a
    failure would dead-letter it, and every later run would try again in vain)."""
    short = counterpart.changes(1, without=("facts", "basis"))
    items = [*counterpart.changes(1), *short, *counterpart.changes(1)]
    results = make().push(items)
    assert [(r.change_id, r.ok) for r in results] == [(i["cursor"], True) for i in items]
    assert [results[0].skipped, results[2].skipped] == [False, False]
    assert results[1].skipped is counterpart.takes_rows
    if counterpart.takes_rows:
        assert results[1].error == (
            "cannot be exchanged nationally: its 双公示 row needs facts (CF_SY), basis (CF_YJ)"
        )


def test_pull_returns_the_changes_and_the_cursor_after_them(
    counterpart: Counterpart, make: Callable[..., Connector]
) -> None:
    connector = make()
    _, start = drain(connector, None)
    counterpart.offer(3)
    found, end = drain(connector, start)
    assert len(found) == 3
    for change in found:
        assert change["op"] in ("upsert", "revoke")
        assert isinstance(change["record"], dict)
        assert change["record"]["origin"]["hub"] == connector.remote_hub_id()
    assert isinstance(end, str)
    page = connector.pull(end)
    assert (page.changes, page.has_more, page.next_cursor) == ([], False, end)


def test_pull_from_a_cursor_is_idempotent(
    counterpart: Counterpart, make: Callable[..., Connector]
) -> None:
    connector = make()
    _, start = drain(connector, None)
    counterpart.offer(2)
    counterpart.offer(2)
    first, end = drain(connector, start)
    assert len(first) == 4
    again, end_again = drain(connector, start)  # the hub's commit failed: it reads again
    assert identities(again) == identities(first)
    assert end_again == end
    assert isinstance(end, str)
    assert all(isinstance(line, str) for line in connector.acknowledge(end))
    counterpart.offer(1)
    newer, _ = drain(connector, end)
    assert len(newer) == 1
    assert identities(newer)[0] not in identities(first)
    # A connector made afresh (the next run) reads from the committed cursor the same way.
    assert identities(drain(make(), end)[0]) == identities(newer)


# ---------------------------------------------------------------------------------------------
# Failures: what may pass later is retriable, a refusal is fatal


def test_a_counterpart_out_of_reach_is_retriable(
    counterpart: Counterpart, make: Callable[..., Connector]
) -> None:
    connector = make()
    changes = counterpart.changes(2)
    with counterpart.outage():
        with pytest.raises(RetriableError):
            connector.pull(None)
        results = connector.push(changes)
    assert [r.change_id for r in results] == [c["cursor"] for c in changes]
    assert all(not r.ok and r.retriable for r in results)
    assert all(r.ok for r in connector.push(changes))  # once it is back, the same push passes


def test_a_refusal_is_fatal_at_once(
    counterpart: Counterpart, make: Callable[..., Connector]
) -> None:
    if counterpart.refused is None:
        pytest.skip("this counterpart has no credentials to refuse")
    assert counterpart.requests is not None
    connector = make(**counterpart.refused)
    before = counterpart.requests()
    with pytest.raises(FatalError):
        connector.pull(None)
    assert counterpart.requests() == before + 1  # not retried
    results = connector.push(counterpart.changes(2))
    assert len(results) == 2
    assert all(not r.ok and not r.retriable for r in results)


def test_http_429_5xx_and_timeouts_are_retried_other_4xx_fatal(
    counterpart: Counterpart, make: Callable[..., Connector]
) -> None:
    if counterpart.fail_next is None or counterpart.delay_next is None:
        pytest.skip("this counterpart does not speak HTTP")
    assert counterpart.requests is not None
    connector = make(timeout_seconds=2)
    _, start = drain(connector, None)
    counterpart.offer(2)
    expected, _ = drain(make(), start)
    counterpart.fail_next(503, 1)
    counterpart.fail_next(429, 1)
    counterpart.delay_next(3)  # past the timeout
    assert identities(drain(connector, start)[0]) == identities(expected)
    counterpart.fail_next(502, 1)
    assert all(r.ok for r in connector.push(counterpart.changes(1)))
    before = counterpart.requests()
    counterpart.fail_next(403, 1)
    with pytest.raises(FatalError, match="403"):
        connector.pull(None)
    assert counterpart.requests() == before + 1
    counterpart.fail_next(400, 1)
    [result] = connector.push(counterpart.changes(1))
    assert not result.ok
    assert not result.retriable


# ---------------------------------------------------------------------------------------------
# Hooks


def test_its_hooks_answer_as_declared(make: Callable[..., Connector]) -> None:
    connector = make()
    remote = connector.remote_hub_id()
    assert remote is None or (isinstance(remote, str) and remote)
    assert all(isinstance(line, str) for line in connector.acknowledge("0"))
    assert connector.last_pull_errors == []
    assert connector.last_pull_warnings == []
    connector.close()
    connector.close()  # closing twice is harmless


# ---------------------------------------------------------------------------------------------
# Reconciliation: what the platform holds per origin hub and month, and records by key


def test_a_platform_that_cannot_reconcile_says_so(
    counterpart: Counterpart, make: Callable[..., Connector]
) -> None:
    connector = make()
    if connector.reconciles:
        pytest.skip("this connector reconciles")
    assert connector.reconcile_seconds() is None
    with pytest.raises(NotSupportedError):
        connector.summary()
    with pytest.raises(NotSupportedError):
        connector.cell("somewhere", "2026-05")
    with pytest.raises(NotSupportedError):
        connector.fetch([("somewhere", "1")])


def test_summary_cells_and_fetch_agree_with_the_feed(
    counterpart: Counterpart, make: Callable[..., Connector]
) -> None:
    connector = make()
    if not connector.reconciles:
        pytest.skip("this connector does not reconcile")
    seconds = connector.reconcile_seconds()
    assert seconds is None or seconds > 0
    counterpart.offer(3)
    cells = connector.summary()
    assert cells == sorted(cells, key=lambda c: (c["origin"], c["month"]))
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for item in drain(connector, None)[0]:  # each record's current version: its last item
        origin = item["record"]["origin"]
        latest[(origin["hub"], origin["id"])] = item
    held: dict[tuple[str, str], int] = {}
    for c in cells:
        assert set(c) == {"origin", "month", "count", "digest"}
        keys = connector.cell(c["origin"], c["month"])
        assert len(keys) == c["count"]
        held |= {(c["origin"], record_id): version for record_id, version in keys.items()}
    # Everything the feed offers is in the cells at the version it offers (the cells also hold
    # what the feed leaves out for this reader: the records it sent itself).
    assert latest
    assert {key: held.get(key) for key in latest} == {
        key: item["record"]["origin"]["version"] for key, item in latest.items()
    }
    wanted = [*sorted(latest)[:2], (connector.remote_hub_id() or "x", "not-held")]
    fetched = connector.fetch(wanted)
    assert sorted(fetched, key=lambda i: int(i["cursor"])) == sorted(
        (latest[key] for key in wanted[:2]), key=lambda i: int(i["cursor"])
    )
    assert connector.fetch([]) == []


def test_reconciling_out_of_reach_is_retriable_and_refused_is_fatal(
    counterpart: Counterpart, make: Callable[..., Connector]
) -> None:
    connector = make()
    if not connector.reconciles:
        pytest.skip("this connector does not reconcile")
    with counterpart.outage():
        with pytest.raises(RetriableError):
            connector.summary()
        with pytest.raises(RetriableError):
            connector.cell("a", "2026-05")
        with pytest.raises(RetriableError):
            connector.fetch([("a", "1")])
    if counterpart.refused is not None:
        refused = make(**counterpart.refused)
        with pytest.raises(FatalError):
            refused.summary()
        with pytest.raises(FatalError):
            refused.fetch([("a", "1")])
