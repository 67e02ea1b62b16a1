"""The sync service calls a connector's hooks as the base class declares them: nothing goes back
to the side named by `remote_hub_id`, `acknowledge` follows each committed page, and what a
pull skipped or remarked on is logged."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from flask import Flask

from connectors.base import Connector, PullPage, PushResult
from credithub.db import db
from credithub.sync import service
from credithub.sync.models import SyncState
from tests.records.samples import ZHUJIAN, make_uscc, penalty


class Recorder(Connector):
    """A platform with one record to give, noting every call the service makes."""

    type_name = "recorder"
    hub_id = "elsewhere"

    def __init__(self) -> None:
        super().__init__({"name": "other", "type": "recorder"})
        self.calls: list[tuple[str, Any]] = []

    def push(self, changes: Sequence[dict[str, Any]], more: bool = False) -> list[PushResult]:
        self.calls.append(("push", [c["record"]["origin"]["hub"] for c in changes]))
        return [PushResult(str(c["cursor"]), ok=True) for c in changes]

    def pull(self, cursor: str | None) -> PullPage:
        self.calls.append(("pull", cursor))
        self.last_pull_errors = ["row 3 skipped: 11010519491231002X has no name"]
        self.last_pull_warnings = ["row 2: the fine came as text"]
        if cursor is not None:
            return PullPage([], cursor)
        record = penalty("E-1", uscc=make_uscc("91150700", "00000001"))
        record["authority"] = {"name": "住建局", "uscc": ZHUJIAN}
        record["origin"] = {"hub": "elsewhere", "id": "e-1", "version": 1}
        return PullPage([{"cursor": "1", "op": "upsert", "record": record}], "1")

    def acknowledge(self, cursor: str) -> list[str]:
        with db.transaction() as session:  # what it lets go of is stored already
            state = session.get(SyncState, self.name)
            self.calls.append(("acknowledge", cursor, state.pull_cursor if state else None))
        return [f"up to {cursor}"]


def test_the_service_calls_the_hooks_in_their_place(
    app_factory: Callable[..., Flask],
    make_token: Callable[..., dict[str, str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = app_factory(hub={"id": "local"}, logging={"level": "INFO"})
    dept = make_token("department", uscc=ZHUJIAN)
    mine = penalty("L-1", uscc=make_uscc("91150700", "00000002"))
    resp = app.test_client().post("/api/v1/records", json={"records": [mine]}, headers=dept)
    assert resp.status_code == 200
    connector = Recorder()
    with app.app_context():
        assert service.run_one(connector).ok
        assert service.run_one(connector).ok
    assert connector.calls == [
        ("push", ["local"]),
        ("pull", None),
        ("acknowledge", "1", "1"),
        # The record pulled from "elsewhere" is in the change log now, but never sent back.
        ("pull", "1"),
        ("acknowledge", "1", "1"),
    ]
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    said = [(e["level"], e["msg"]) for e in logged if e.get("connector") == "other"]
    skipped = "pull skipped: row 3 skipped: 110105********002X has no name"  # masked
    assert said.count(("WARNING", skipped)) == 2
    assert said.count(("INFO", "pull remark: row 2: the fine came as text")) == 2
    assert said.count(("INFO", "let go: up to 1")) == 2
