"""Reconcile with a partner: find drift rather than assume it away.

With each connector whose platform can tell what it holds (`Connector.reconciles`: another
credithub), compare per origin hub and month of decision the count and digest of the records'
(origin, id at origin, version at origin) on both sides (`credithub.sync.summary`). Only the
cells that differ are read key by key, on both sides, and the keys of all of them are compared
together (a correction may move a record to another month). Then:
- what the partner holds and this hub lacks, or holds at an older version, is fetched by key
  and applied through the one write path, exactly as a pulled page is (`service._prepare_page`
  then `write_batch`, as the connector's peer actor): records keep their origin and version,
  nothing is applied twice, and a version not newer than the one held changes nothing. Not
  fetched: records whose origin is this hub (only their origin creates them; the write path
  never recreates its own record from a peer), and anything when the connector does not pull;
- a newer version here is left alone and reported;
- what the partner lacks, or holds at an older version, is reported; when the connector pushes,
  such records whose origin is this hub are sent to it again at once (their current version,
  as the feed has it): the partner applies only what is newer.

The result is stored per connector (`sync_state.last_reconcile`) and shown by
`GET /api/v1/sync` and `credithub sync status`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from connectors.base import Connector, PullPage
from connectors.errors import ConnectorError, NotSupportedError
from credithub.db import db, utcnow
from credithub.records.service import Context, write_batch
from credithub.sync import partners, summary
from credithub.sync.service import (
    _prepare_page,
    _remote_hub,
    build,
    pull_actor,
    selected,
    state_of,
)

log = logging.getLogger("credithub.sync")
FETCH = 500  # records fetched and applied per transaction
SHOWN = 50  # keys named per kind of difference in the stored result; counts are whole

Key = tuple[str, str]  # (origin hub, id at origin)


@dataclass
class Result:
    connector: str
    at: str = field(default_factory=lambda: utcnow().isoformat())
    cells: int = 0  # (origin, month) cells compared: those either side holds
    differing: list[dict[str, Any]] = field(default_factory=list)  # {origin, month, here, there}
    missing_here: list[Key] = field(default_factory=list)
    older_here: list[Key] = field(default_factory=list)
    newer_here: list[Key] = field(default_factory=list)  # left alone
    missing_there: list[Key] = field(default_factory=list)
    not_fetched: list[Key] = field(default_factory=list)  # this hub's own, or pull is off
    fetched: int = 0  # applied: created or updated here
    unchanged: int = 0  # fetched, but nothing newer than held (pulled meanwhile)
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {origin, id, errors}
    resent: int = 0  # this hub's own records sent to the partner again
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        def keys(found: list[Key]) -> dict[str, Any]:
            return {"count": len(found), "keys": [f"{o}|{i}" for o, i in found[:SHOWN]]}

        return {
            "at": self.at,
            "ok": self.ok,
            "cells": self.cells,
            "differing": len(self.differing),
            "differing_cells": self.differing[:SHOWN],
            "missing_here": keys(self.missing_here),
            "older_here": keys(self.older_here),
            "newer_here": keys(self.newer_here),
            "missing_there": keys(self.missing_there),
            "not_fetched": keys(self.not_fetched),
            "fetched": self.fetched,
            "unchanged": self.unchanged,
            "rejected": {"count": len(self.rejected), "items": self.rejected[:SHOWN]},
            "resent": self.resent,
            "errors": self.errors,
        }


def run(names: list[str] | None = None) -> list[Result]:
    """Reconcile with the named connectors (all that can reconcile if none)."""
    results = []
    for config in selected(names):
        try:
            connector = build(config)
        except ConnectorError as exc:  # its configuration is wrong: say so, go on
            results.append(Result(config["name"], errors=[str(exc)]))
            continue
        if not connector.reconciles:
            connector.close()
            if names:  # asked for by name: say why nothing happened
                result = Result(connector.name)
                result.errors.append(str(NotSupportedError(f"{config['type']}: cannot reconcile")))
                results.append(result)
            continue
        results.append(reconcile_one(connector))
    return results


def reconcile_one(connector: Connector) -> Result:
    result = Result(connector.name)
    try:
        _remote_hub(connector)  # a side with this hub's own id is refused
        if connector.signs:  # keys pinned and the register read before anything is fetched
            partners.meet(connector)
        _compare(connector, result)
    except ConnectorError as exc:
        result.errors.append(str(exc))
    finally:
        connector.close()
    with db.transaction() as session:
        state_of(session, connector.name).last_reconcile = result.to_dict()
    log.info(
        "reconciled",
        extra={
            "connector": connector.name,
            "cells": result.cells,
            "differing": len(result.differing),
            "fetched": result.fetched,
            "missing_there": len(result.missing_there),
            "errors": len(result.errors),
        },
    )
    return result


def _compare(connector: Connector, result: Result) -> None:
    own = current_app.extensions["credithub.settings"].hub.id
    theirs = {(c["origin"], c["month"]): c for c in connector.summary()}
    with db.transaction() as session:
        ours = {(c["origin"], c["month"]): c for c in summary.cells(session)}
    here: dict[Key, int] = {}
    there: dict[Key, int] = {}
    for origin, month in sorted(set(theirs) | set(ours)):
        result.cells += 1
        mine, yours = ours.get((origin, month)), theirs.get((origin, month))
        if mine is not None and yours is not None and mine["digest"] == yours["digest"]:
            continue
        result.differing.append({
            "origin": origin, "month": month,
            "here": mine["count"] if mine else 0, "there": yours["count"] if yours else 0,
        })  # fmt: skip
        if yours is not None:
            for record_id, version in connector.cell(origin, month).items():
                there[(origin, record_id)] = version
        if mine is not None:
            with db.transaction() as session:
                for item in summary.cell(session, origin, month)["items"]:
                    here[(origin, item["id"])] = item["version"]
    for key, version in sorted(there.items()):
        held = here.get(key)
        if held is None:
            result.missing_here.append(key)
        elif held < version:
            result.older_here.append(key)
        elif held > version:
            result.newer_here.append(key)
    result.missing_there = sorted(key for key in here if key not in there)
    wanted = []
    for key in result.missing_here + result.older_here:
        if key[0] == own or not connector.config["pull"]:
            result.not_fetched.append(key)
        else:
            wanted.append(key)
    _fetch(connector, wanted, result)
    if connector.config["push"]:
        own_lacking = [k for k in result.missing_there + result.newer_here if k[0] == own]
        _resend(connector, own_lacking, result)


def _fetch(connector: Connector, keys: list[Key], result: Result) -> None:
    """Fetch these records from the partner and apply them as a pulled page is applied."""
    actor = pull_actor(connector)
    context = Context.of_app()
    for start in range(0, len(keys), FETCH):
        asked = set(keys[start : start + FETCH])
        items = [i for i in connector.fetch(sorted(asked)) if _key_of(i) in asked]
        batch = _prepare_page(PullPage(changes=items), context, actor)
        with db.transaction() as session:
            outcome = write_batch(session, batch, actor)
        for item, done in zip(items, outcome.results, strict=True):
            if done.status in ("created", "updated"):
                result.fetched += 1
            elif done.status == "unchanged":
                result.unchanged += 1
            else:
                origin, record_id = _key_of(item) or ("?", "?")
                result.rejected.append({"origin": origin, "id": record_id, "errors": done.errors})


def _resend(connector: Connector, keys: Iterable[Key], result: Result) -> None:
    """Send this hub's own records the partner lacks (or holds older) again, now."""
    wanted = list(keys)
    if not wanted:
        return
    with db.transaction() as session:
        items = summary.current(session, wanted)["items"]
    for start in range(0, len(items), connector.push_batch):
        for outcome in connector.push(items[start : start + connector.push_batch]):
            if outcome.ok:
                result.resent += 1
            else:
                result.errors.append(f"sending change {outcome.change_id} again: {outcome.error}")


def _key_of(item: dict[str, Any]) -> Key | None:
    record = item.get("record")
    origin = record.get("origin") if isinstance(record, dict) else None
    if not isinstance(origin, dict):
        return None
    return (str(origin.get("hub")), str(origin.get("id")))
