"""An objection's correction and a repair reach a second real hub in one sync round: two hubs
on loopback, each with its own clock, database and process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.records.samples import SHUDAO, ZHUJIAN
from tests.sync.hubs import Hub, running
from tests.workflows.helpers import listing


@pytest.fixture
def hubs(tmp_path: Path) -> Iterator[dict[str, Any]]:
    a, b = Hub("city-a", tmp_path / "a"), Hub("city-b", tmp_path / "b")
    a.connect("city-b", b)  # A pushes its changes to B (and pulls B's)
    with running(a, b):
        yield {
            "a": a, "b": b,
            "dept": a.token("department", "住建局", "--uscc", ZHUJIAN),
            "admin_a": a.token("admin", "office"), "admin_b": b.token("admin", "office"),
            "bidding_b": b.token("consumer", "bidding"),
        }  # fmt: skip


def post(hub: Hub, path: str, token: str, body: Any) -> tuple[int, Any]:
    resp = requests.post(
        f"{hub.url}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    return resp.status_code, resp.json()


def at_b(hubs: dict[str, Any]) -> dict[str, Any]:
    [record] = hubs["b"].records(hubs["admin_b"], SHUDAO)
    return record


def test_an_objection_decided_as_corrected_reaches_the_second_hub_in_one_round(
    hubs: dict[str, Any],
) -> None:
    a, b = hubs["a"], hubs["b"]
    for hub in (a, b):
        hub.set_clock("2026-02-13T10:00:00+08:00")  # the Friday before the Spring Festival
    [created] = a.post("/api/v1/records", hubs["dept"], {"records": [listing()]})["results"]
    body = {"record_id": created["id"], "applicant": "蜀道路桥", "reason": "并未串通投标"}
    code, filed = post(a, "/api/v1/objections", hubs["admin_a"], body)
    assert code == 201, filed
    assert filed["due_on"] == "2026-02-24"  # 14 (make-up Saturday), then Tuesday 24
    a.cli("sync", "run")
    assert at_b(hubs)["status"] == "disputed"
    answer = b.get(f"/api/v1/check/{SHUDAO}?domain=construction", hubs["bidding_b"])
    assert answer["verdict"] == "barred"
    assert [r["disputed"] for r in answer["restrictions"]] == [True]
    # Forwarded on its due day; decided on the last day of its 5 working days.
    a.set_clock("2026-02-24T10:00:00+08:00")
    code, forwarded = post(a, f"/api/v1/objections/{filed['id']}/forward", hubs["admin_a"], {})
    assert (code, forwarded["due_on"]) == (200, "2026-03-02")
    a.set_clock("2026-03-02T10:00:00+08:00")
    corrected = listing(reason="串通投标（更正：涉及项目为另一标段）")
    decision = {"outcome": "corrected", "note": "更正事实", "record": corrected}
    code, decided = post(a, f"/api/v1/objections/{filed['id']}/decision", hubs["dept"], decision)
    assert code == 200, decided
    assert decided["overdue"] is False
    a.cli("sync", "run")  # one round
    record = at_b(hubs)
    assert (record["status"], record["reason"]) == ("active", corrected["reason"])
    assert record["origin"] == {"hub": "city-a", "id": created["id"], "version": 4}
    answer = b.get(f"/api/v1/check/{SHUDAO}?domain=construction", hubs["bidding_b"])
    assert [r["disputed"] for r in answer["restrictions"]] == [False]


def test_a_repair_refused_early_then_approved_clears_the_bidder_at_the_second_hub(
    hubs: dict[str, Any],
) -> None:
    a, b = hubs["a"], hubs["b"]
    for hub in (a, b):
        hub.set_clock("2026-06-01T10:00:00+08:00")
    listed = listing(on="2026-02-10")
    [created] = a.post("/api/v1/records", hubs["dept"], {"records": [listed]})["results"]
    a.cli("sync", "run")
    assert b.verdict(hubs["bidding_b"], SHUDAO) == "barred"
    body = {"record_id": created["id"], "commitment": True, "evidence": "已履行全部义务"}
    code, refused = post(a, "/api/v1/repairs", hubs["dept"], body)
    assert code == 422
    assert refused["errors"]["eligible_on"] == ["2027-02-10"]  # 12 months on ggzy-serious
    a.set_clock("2027-02-10T10:00:00+08:00")
    # B's clock an hour on: a repair takes effect at its instant at A, and two clocks started
    # seconds apart would otherwise put B's check before it.
    b.set_clock("2027-02-10T11:00:00+08:00")
    code, filed = post(a, "/api/v1/repairs", hubs["dept"], body)
    assert code == 201, filed
    code, approved = post(
        a, f"/api/v1/repairs/{filed['id']}/decision", hubs["dept"], {"outcome": "approved"}
    )
    assert code == 200, approved
    assert b.verdict(hubs["bidding_b"], SHUDAO) == "barred"  # until the round
    a.cli("sync", "run")
    assert b.verdict(hubs["bidding_b"], SHUDAO) == "clear"
    assert at_b(hubs)["status"] == "repaired"
    feed = b.get("/api/v1/feed?limit=100", hubs["admin_b"])["items"]
    assert [i["op"] for i in feed] == ["upsert", "repair"]
