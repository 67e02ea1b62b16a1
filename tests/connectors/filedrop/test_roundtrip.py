"""A file pushed by one hub's connector, dropped into another's inbound, reads back the same."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.connectors.filedrop.support import (
    ID_NUMBER,
    business_record,
    connector,
    item,
    listing,
    org_record,
    person_record,
)

NOT_EXCHANGED = {"id", "status", "domains", "origin"}  # the hub's state, not 双公示 content


def exchanged(record: dict[str, Any]) -> dict[str, Any]:
    """What a 双公示 row carries of a record: no None values, no masked numbers, no hub state."""
    out = {k: v for k, v in record.items() if v is not None and k not in NOT_EXCHANGED}
    subject = {k: v for k, v in record["subject"].items() if v is not None}
    if "legal_rep" in subject:
        rep = {k: v for k, v in subject["legal_rep"].items() if v and "*" not in v}
        subject["legal_rep"] = rep
    out["subject"] = subject
    return out


@pytest.mark.parametrize(("encoding", "batch_size"), [("utf-8-sig", 1000), ("gb18030", 2)])
def test_push_then_pull_round_trips(tmp_path: Path, encoding: str, batch_size: int) -> None:
    city = connector(tmp_path, "city", encoding=encoding, batch_size=batch_size)
    province = connector(tmp_path, "province", hub_id="nmg")
    sent = [
        item("101", org_record()),
        item("102", person_record()),
        item("103", business_record(), op="revoke"),
        item("104", {**org_record("其他"), "kind": "commendation"}),
        item("105", org_record(fine_yuan="1234.56", confiscated_yuan="0.01", note="第二次")),
        item("106", org_record("呼住建罚〔2024〕15号"), op="repair"),  # a credit repair
    ]
    assert all(r.ok for r in city.push(sent))
    for name in listing(city.outbound):  # the 前置机 carries the file across
        shutil.copy(city.outbound / name, province.inbound / name)

    received: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = province.pull(cursor)
        received += page.changes
        assert province.last_pull_errors == []
        assert province.last_pull_warnings == []
        cursor = page.next_cursor
        province.acknowledge(cursor)
        if not page.has_more:
            break

    penalties = [c for c in sent if c["record"]["kind"] == "penalty"]
    assert [c["op"] for c in received] == [c["op"] for c in penalties]
    for got, want in zip(received, penalties, strict=True):
        record = dict(got["record"])
        origin = record.pop("origin")
        # The op travels as the state the record is in at its origin.
        states = {"revoke": "revoked", "repair": "repaired"}
        assert record.pop("status") == states.get(want["op"], "active")
        assert record == exchanged(want["record"])
        assert origin["hub"] == "nmg"
        assert origin["version"] == want["record"]["origin"]["version"]
    assert received[1]["record"]["subject"]["id_number"] == ID_NUMBER
    assert received[3]["record"]["fine_yuan"] == "1234.56"
    assert received[3]["record"]["confiscated_yuan"] == "0.01"
    # the same natural key (authority, 文号, subject) pushed twice is one record there too
    assert received[0]["record"]["origin"]["id"] == received[3]["record"]["origin"]["id"]
    assert listing(province.inbound) == ["done"]
    assert len(listing(province.inbound / "done")) == len(listing(city.outbound))


def test_a_corrected_record_keeps_its_id_and_raises_its_version(tmp_path: Path) -> None:
    city = connector(tmp_path, "city")
    province = connector(tmp_path, "province")
    first = org_record()
    second = org_record(fine_yuan="3000.00", origin={"hub": "hlbe", "id": "rec-1", "version": 4})
    assert city.push([item("1", first)])[0].ok
    assert city.push([item("2", second)])[0].ok
    for name in listing(city.outbound):
        shutil.copy(city.outbound / name, province.inbound / name)
    a = province.pull(None)
    b = province.pull(a.next_cursor)
    one, two = a.changes[0]["record"], b.changes[0]["record"]
    assert one["origin"]["id"] == two["origin"]["id"]
    assert (one["origin"]["version"], two["origin"]["version"]) == (3, 4)
    assert (one["fine_yuan"], two["fine_yuan"]) == ("2000.00", "3000.00")
