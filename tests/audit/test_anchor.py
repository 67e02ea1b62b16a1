"""Anchors: the chain's head signed with the hub's key and kept outside the database. Whoever
holds the hub's database role can delete entries and rebuild the chain with the hub's own
hashing so that it verifies; `audit verify --anchors` still finds it and names the entry."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from flask import Flask
from sqlalchemy import update

from credithub.audit import anchor
from credithub.audit.models import AuditEntry, AuditHead
from credithub.audit.service import GENESIS, entry_hash
from credithub.db import db, table_of
from credithub.scheduler import jobs
from credithub.trust import forms
from credithub.trust.keys import Signer, signer
from tests.audit.test_audit import add_entries
from tests.conftest import PG_URL


def delete_and_rebuild(app: Flask, seq: int) -> None:
    """Delete entry `seq` and rebuild the chain after it as an attacker with the database role
    would: renumbered, every hash recomputed with the hub's own hashing, the head moved."""
    table = table_of(AuditEntry)
    with app.app_context(), db.engine.begin() as conn:
        if PG_URL:
            conn.exec_driver_sql(
                "ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"
            )
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_entries_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_entries_no_delete")
        conn.execute(table.delete().where(table.c.seq == seq))
        prev = GENESIS
        rows = conn.execute(table.select().order_by(table.c.seq)).mappings().all()
        for n, row in enumerate(rows, start=1):
            new_hash = entry_hash(
                prev, n, row["at"].isoformat(), row["actor"], row["action"],
                row["object_type"], row["object_id"], row["change_digest"],
            )  # fmt: skip
            conn.execute(
                table.update()
                .where(table.c.seq == row["seq"])
                .values(seq=n, prev_hash=prev, hash=new_hash)
            )
            prev = new_hash
        conn.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=len(rows), hash=prev))
        if PG_URL:
            conn.exec_driver_sql(
                "ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only"
            )


def test_deleting_entries_and_rebuilding_the_chain_is_found_by_the_anchors(
    app: Flask, run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    anchors = tmp_path / "anchors"
    anchors.mkdir()
    add_entries(app, 2)
    first = run_cli("audit", "anchor", "--out", str(anchors))
    assert first.exit_code == 0, first.output
    add_entries(app, 2)
    assert run_cli("audit", "anchor", "--out", str(anchors)).exit_code == 0
    assert sorted(p.name for p in anchors.iterdir()) == [
        "audit-head-000000000002.json",
        "audit-head-000000000004.json",
    ]
    ok = run_cli("audit", "verify", "--anchors", str(anchors))
    assert ok.exit_code == 0, ok.output
    assert "anchors hold: 2 checked" in ok.output

    delete_and_rebuild(app, 2)

    rebuilt = run_cli("audit", "verify")
    assert rebuilt.exit_code == 0, rebuilt.output  # the chain alone cannot tell
    assert "3 entries" in rebuilt.output
    broken = run_cli("audit", "verify", "--anchors", str(anchors))
    assert broken.exit_code == 1
    assert "anchor audit-head-000000000002.json: entry 2 is anchored with hash" in broken.output
    assert "anchor audit-head-000000000004.json: entry 4 is anchored but missing" in broken.output


def test_an_anchor_not_signed_by_this_hub_is_refused(
    app: Flask, run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    """An anchor forged to match a rebuilt chain needs the hub's private key."""
    add_entries(app, 3)
    with app.app_context():
        real = anchor.head(db.session)
        db.session.rollback()
    forged = {k: v for k, v in real.items() if k != "signature"}
    other = Signer.of_seed(b"\x01" * 32)
    forged["signature"] = {"key": signer_id(app), "value": other.sign_bytes(anchor.message(forged))}
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    (tmp_path / "other-hub.json").write_text(json.dumps({**real, "hub": "elsewhere"}))
    (tmp_path / "garbage.json").write_text("not json")
    broken = run_cli("audit", "verify", "--anchors", str(tmp_path))
    assert broken.exit_code == 1
    assert "anchor forged.json: its signature is not this hub's" in broken.output
    assert "anchor other-hub.json: the head of hub 'elsewhere'" in broken.output
    assert "anchor garbage.json: not an anchor" in broken.output


def signer_id(app: Flask) -> str:
    with app.app_context():
        return signer().id


def test_the_printed_anchor_is_signed_with_the_key_that_signs_record_versions(
    app: Flask, run_cli: Callable[..., Any]
) -> None:
    add_entries(app, 1)
    printed = run_cli("audit", "anchor")
    assert printed.exit_code == 0, printed.output
    body = orjson.loads(printed.output)
    with app.app_context():
        me, head = signer(), db.session.get(AuditHead, 1)
        assert head is not None
        assert (body["seq"], body["hash"]) == (1, head.hash)
        assert body["hub"] == app.extensions["credithub.settings"].hub.id
        assert body["signature"]["key"] == me.id
    signature = forms.unb64(body["signature"]["value"], 64)
    assert signature is not None
    assert forms.verifies(me.public, signature, anchor.message(body))


def test_the_scheduler_writes_an_anchor_into_the_configured_directory_once_per_head(
    app_factory: Callable[..., Flask], run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    kept = tmp_path / "worm"
    app = app_factory(audit={"anchor_dir": str(kept), "anchor_interval_seconds": 600})
    fn, every = jobs(app)["audit-anchor"]
    assert every == 600
    add_entries(app, 2)
    with app.app_context():
        assert fn() == {"seq": 2, "written": str(kept / "audit-head-000000000002.json")}
        assert fn() == {"seq": 2, "written": False}  # the same head: nothing new to keep
    assert run_cli("audit", "verify", "--anchors", str(kept)).exit_code == 0
    off = app_factory(audit={"anchor_interval_seconds": 0})
    assert "audit-anchor" not in jobs(off)
