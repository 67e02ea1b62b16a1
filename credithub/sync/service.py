"""Run connectors: push this hub's changes out, pull other platforms' changes in.

Push drains the change log (the transactional outbox) from the connector's committed position,
in order: a change the platform refuses for good goes to the dead-letter list and the drain goes
on; a change that may pass later stops the drain, and the connector backs off (exponential, with
jitter). Pull applies one page per transaction and commits the platform's cursor with it, so a
crash between receiving and committing re-reads the page, and applying it again changes nothing.

Both overlap the work of two sides: push reads the next batch while the platform takes one; pull
prepares the next page (checks and normalises its records) apart while one is written
(`records.pipeline`). Between runs, what a connector's stored state tells and its dead letters
queued again are `sync.states`.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

import connectors
from connectors.base import Connector, PullPage
from connectors.errors import ConnectorConfigError, ConnectorError
from credithub.db import db, utcnow
from credithub.errors import Unavailable
from credithub.records import pipeline
from credithub.records.prepare import Actor
from credithub.records.service import Batch, Context, prepare_batch, write_batch
from credithub.standing import deferred
from credithub.standing.jobs import settle_due
from credithub.sync import feed, partners
from credithub.sync.models import DeadLetter, SyncState

log = logging.getLogger("credithub.sync")
MAX_PAGES = 1000  # one run pulls at most this many pages; the next run goes on
BACKOFF_BASE = 5.0
BACKOFF_MAX = 3600.0


@dataclass
class RunResult:
    connector: str
    pushed: int = 0
    skipped: int = 0  # changes the platform cannot take, let go with the reason (logged)
    dead: int = 0
    pulled: int = 0
    applied: int = 0
    rejected: int = 0
    quarantined: int = 0  # versions whose signature failed (credithub.trust.quarantine)
    released: int = 0  # versions quarantined before that verify now, and were written
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def configured() -> list[dict[str, Any]]:
    configs: list[dict[str, Any]] = current_app.extensions["credithub.settings"].connectors
    return configs


def build(config: dict[str, Any]) -> Connector:
    return connectors.create(dict(config))


def state_of(session: Session, name: str) -> SyncState:
    """The stored state of connector `name` (created at its first run)."""
    state = session.get(SyncState, name)
    if state is None:
        state = SyncState(connector=name, push_position=0, failures=0)
        session.add(state)
        session.flush()
    return state


def backoff(failures: int) -> timedelta:
    seconds = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(0, failures - 1))
    return timedelta(seconds=seconds * random.uniform(0.5, 1.5))  # noqa: S311  (jitter)


def selected(names: list[str] | None = None) -> list[dict[str, Any]]:
    """The configurations of the named connectors (all if none); KeyError naming any unknown."""
    configs = configured()
    unknown = sorted(set(names or ()) - {c["name"] for c in configs})
    if unknown:
        raise KeyError(f"no connector named {', '.join(unknown)}")
    return [c for c in configs if not names or c["name"] in names]


def run(names: list[str] | None = None, honour_backoff: bool = False) -> list[RunResult]:
    """Push then pull once for the named connectors (all if none)."""
    return [run_one(build(config), honour_backoff) for config in selected(names)]


def run_one(connector: Connector, honour_backoff: bool = False) -> RunResult:
    result = RunResult(connector.name)
    with db.transaction() as session:
        state = state_of(session, connector.name)
        if honour_backoff and state.retry_at and state.retry_at > utcnow():
            return result
        state.last_run_at = utcnow()
    try:
        remote = _remote_hub(connector)
        if connector.signs:
            result.released += partners.meet(connector)
        if connector.config["push"]:
            _push(connector, result, remote)
        if connector.config["pull"] and not result.errors:
            _pull(connector, result)
    except (ConnectorError, Unavailable) as exc:  # Unavailable: a race lost; the next run
        result.errors.append(str(exc))  # tries again (records.bindings)
    finally:
        connector.close()
    with db.transaction() as session:
        state = state_of(session, connector.name)
        if result.ok:
            state.failures, state.last_error, state.retry_at = 0, None, None
            state.last_success_at = utcnow()
        else:
            state.failures += 1
            state.last_error = "; ".join(result.errors)[:2000]
            state.retry_at = utcnow() + backoff(state.failures)
    log.info(
        "sync run",
        extra={
            "connector": connector.name,
            "pushed": result.pushed,
            "skipped": result.skipped,
            "pulled": result.pulled,
            "errors": len(result.errors),
        },
    )
    return result


def pull_actor(connector: Connector) -> Actor:
    """Who what a connector brings in (a pull, a reconciliation's fetch) is written as. From
    another hub: not limited by origin, a hub takes what its partner relays, and each record of
    another origin must verify with the key pinned for it. From a channel that signs nothing
    (the national exchange, a file drop): records of that channel's own origin only."""
    name = _actor_name(connector)
    if connector.signs:
        return Actor(name=name, kind="peer", origins=None)
    own = connector.remote_hub_id()
    origins = frozenset({own}) if own else None
    return Actor(name=name, kind="peer", origins=origins, checks_signatures=False)


def _actor_name(connector: Connector) -> str:
    """Who changes pulled through this connector are recorded as (change log `actor`)."""
    return partners.actor_of(connector.name)


def _remote_hub(connector: Connector) -> str | None:
    """The other side's hub id (the origin of what it sends): never pushed back to it. A side
    with this hub's own id is refused: its records could not be told from this hub's."""
    remote = connector.remote_hub_id()
    own = current_app.extensions["credithub.settings"].hub.id
    if remote is not None and remote == own:
        where = " (or this connector's hub_id)" if "hub_id" in connector.config else ""
        raise ConnectorConfigError(
            f"connector {connector.name!r}: the other side's hub id is {remote!r}, this hub's "
            "own id; give every hub its own id: [hub] id in the configuration file "
            f"(CREDITHUB_HUB_ID){where}"
        )
    return remote


def _push(connector: Connector, result: RunResult, exclude: str | None) -> None:
    """Drain the change log in order, one batch per `push` call.

    While the platform takes one batch, the next is read (a read-only transaction): reading
    and sending overlap, but batches still go out one after the other, and the position moves
    only once a batch's answers are stored. A batch read ahead is used only if the position
    is where it starts once the previous batch is stored; otherwise it is dropped. Changes
    whose origin is `exclude` (the other side) are never sent back to it."""
    actor = _actor_name(connector)
    size = max(1, int(connector.push_batch))
    with db.transaction() as session:
        after = state_of(session, connector.name).push_position
        page = _outgoing(session, connector, after, size, exclude, actor)
    with ThreadPoolExecutor(1, thread_name_prefix=f"push-{connector.name}") as sender:
        while True:
            items = page["items"]
            more = bool(page["has_more"])
            sending = sender.submit(connector.push, items, more) if items else None
            ahead: dict[str, Any] | None = None
            if page["has_more"]:
                with db.transaction() as session:
                    ahead = _outgoing(session, connector, int(page["next"]), size, exclude, actor)
            outcomes = sending.result() if sending is not None else []
            with db.transaction() as session:
                state = state_of(session, connector.name)
                moved = state.push_position != after  # by someone else meanwhile (a replay)
                position = after
                for item, outcome in zip(items, outcomes, strict=True):
                    if outcome.skipped:
                        result.skipped += 1
                        _skipped(connector.name, item, outcome.error or "not exchanged")
                    elif outcome.ok:
                        result.pushed += 1
                    elif outcome.retriable:
                        result.errors.append(f"change {item['cursor']}: {outcome.error}")
                        break
                    else:
                        _dead_letter(
                            session, connector.name, "push", item, outcome.error or "refused"
                        )
                        result.dead += 1
                    position = int(item["cursor"])
                else:
                    position = int(page["next"])
                if moved:
                    # A replay rewound it: keep the rewind (sending again changes nothing).
                    position = min(position, state.push_position)
                state.push_position = after = position
            if result.errors or not page["has_more"]:
                return
            if ahead is None or after != int(page["next"]):
                with db.transaction() as session:
                    ahead = _outgoing(session, connector, after, size, exclude, actor)
            page = ahead


def _outgoing(
    session: Session, connector: Connector, after: int, size: int, exclude: str | None, actor: str
) -> dict[str, Any]:
    """The feed page pushed to `connector`: as peers read it, with persons' ID numbers put back
    only for an exchange whose format requires them (`Connector.sends_id_numbers`)."""
    page = feed.read(session, after, size, exclude, actor)
    if connector.sends_id_numbers:
        page["items"] = feed.reveal_id_numbers(session, page["items"])
    return page


def _dead_letter(
    session: Session, name: str, direction: str, item: dict[str, Any], error: str
) -> None:
    record = item.get("record")
    origin = record.get("origin") if isinstance(record, dict) else None
    origin = origin if isinstance(origin, dict) else {}
    cursor = str(item.get("cursor", ""))
    session.add(
        DeadLetter(
            connector=name,
            direction=direction,
            position=int(cursor) if cursor.isdigit() else 0,
            record_id=str(origin.get("id", "?"))[:32],
            version=int(origin.get("version") or 0),
            error=error[:4000],
            failed_at=utcnow(),
        )
    )
    log.warning(
        "change dead-lettered",
        extra={"connector": name, "direction": direction, "position": cursor},
    )


def _skipped(name: str, item: dict[str, Any], reason: str) -> None:
    record = item.get("record")
    origin = record.get("origin") if isinstance(record, dict) else None
    record_id = origin.get("id") if isinstance(origin, dict) else None
    log.info(
        "push skipped: %s",
        reason,
        extra={"connector": name, "position": item.get("cursor"), "record_id": record_id},
    )


def _pull(connector: Connector, result: RunResult) -> None:
    """Apply the platform's pages in order, each with its cursor in one transaction.

    While one page is written, the next is already read (the connector may have fetched it
    ahead) and prepared (checked and normalised, `records.service.prepare_batch`) apart, when
    the first page holds `server.prepare_apart_from` changes or more (`records.pipeline`): the
    writer does nothing but write. A page is applied only if the stored cursor is still the
    one it was read after. The pages of a run are a series: the standings they change are
    refreshed once, when the run ends (`standing.deferred`)."""
    try:
        _pull_pages(connector, result)
    finally:
        settle_due()


def _pull_pages(connector: Connector, result: RunResult) -> None:
    actor = pull_actor(connector)
    defer = deferred.enabled()
    with db.transaction() as session:
        after = state_of(session, connector.name).pull_cursor
    first = _read(connector, after)
    check = partial(_prepare_page, actor=actor)
    apart = pipeline.goes_apart(len(first.changes))
    pages = pipeline.run(check, Context.of_app(), _pages(connector, first), apart=apart)
    for page, batch in pages:
        with db.transaction() as session:
            state = state_of(session, connector.name)
            if state.pull_cursor != after:
                return  # moved meanwhile (a replay): the next run reads from there
            if page.changes:
                outcome = write_batch(session, batch, actor, defer=defer)
                result.pulled += len(page.changes)
                result.applied += outcome.count("created") + outcome.count("updated")
                result.rejected += outcome.rejected
                result.quarantined += sum(item.held for item in outcome.results)
                for change, item in zip(page.changes, outcome.results, strict=True):
                    if item.status == "rejected" and not item.held:
                        # Kept to replay once the platform is fixed; the feed goes on.
                        _dead_letter(session, connector.name, "pull", change, str(item.errors))
            state.pull_cursor = after = page.next_cursor
            state.last_pull_at = utcnow()
        if page.next_cursor is not None:
            for line in connector.acknowledge(page.next_cursor):
                log.info("let go: %s", line, extra={"connector": connector.name})


def _pages(connector: Connector, page: PullPage) -> Iterator[PullPage]:
    """The pages of one run, from `page` on (at most MAX_PAGES)."""
    yield page
    for _ in range(1, MAX_PAGES):
        if not page.has_more:
            return
        page = _read(connector, page.next_cursor)
        yield page


def _read(connector: Connector, cursor: str | None) -> PullPage:
    """The page after `cursor`; what the connector skipped or remarked on is logged."""
    page = connector.pull(cursor)
    for line in connector.last_pull_errors:
        log.warning("pull skipped: %s", line, extra={"connector": connector.name})
    for line in connector.last_pull_warnings:
        log.info("pull remark: %s", line, extra={"connector": connector.name})
    return page


def _prepare_page(page: PullPage, context: Context, actor: Actor) -> Batch:
    """A page's records checked and normalised; a malformed one is rejected in the batch."""
    records = [change.get("record") for change in page.changes]
    return prepare_batch(records, actor, context)
