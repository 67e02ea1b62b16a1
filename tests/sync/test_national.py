"""The national exchange: our penalties reach the national side as 双公示 rows, and national
lists reach the hub and restrict there (through the real sync path and the stand-in)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from connectors.creditchina.standin import StandIn
from credithub.db import db
from credithub.sync import service, states
from credithub.trust import forms
from credithub.trust.keys import signer
from tests.records.samples import BEIJIANG, SHUDAO, ZHUJIAN, penalty


@pytest.fixture
def hub(app_factory: Callable[..., Flask], national: StandIn) -> Flask:
    return app_factory(connectors=[{
        "name": "national", "type": "creditchina", "url": national.url, "app_key": "hub-key",
        "app_secret": "hub-secret", "backoff_seconds": 0.01}])  # fmt: skip


def list_shudao(national: StandIn) -> None:
    """The national side lists 四川蜀道 as seriously untrustworthy (国家发展和改革委员会)."""
    national.add_listing(
        "四川蜀道路桥建设有限公司",
        uscc=SHUDAO,
        list_code="ggzy-serious",
        authority={"name": "国家发展和改革委员会", "uscc": "11100000000019713D"},
    )


def test_penalties_out_and_national_lists_in(
    hub: Flask, national: StandIn, make_token: Callable[..., dict[str, str]]
) -> None:
    http = hub.test_client()
    dept = make_token("department", uscc=ZHUJIAN)
    consumer = make_token("consumer")
    resp = http.post(
        "/api/v1/records", json={"records": [penalty("P-1", fine_yuan="2000")]}, headers=dept
    )
    assert resp.get_json()["accepted"] == 1
    list_shudao(national)
    with hub.app_context():
        [result] = service.run(["national"])
    assert result.ok, result.errors
    [row] = national.received
    assert row["CF_XDR_SHXYM"] == BEIJIANG
    assert row["CF_NR_FK"] == "0.2"  # 2,000 yuan in 万元
    assert (result.pushed, result.pulled, result.applied) == (1, 1, 1)
    answer = http.get(f"/api/v1/check/{SHUDAO}?domain=construction", headers=consumer).get_json()
    assert answer["verdict"] == "barred"
    assert answer["restrictions"][0]["authority"] == "国家发展和改革委员会"
    # A second run sends and applies nothing new.
    with hub.app_context():
        [again] = service.run(["national"])
        status = states.status(db.session)
    assert (again.pushed, again.applied) == (0, 0)
    assert status[0]["config"]["app_secret"] == "********"
    assert status[0]["pending"] == 0


def test_a_penalty_the_exchange_cannot_take_is_warned_at_intake_then_skipped(
    hub: Flask, national: StandIn, make_token: Callable[..., dict[str, str]]
) -> None:
    http = hub.test_client()
    dept = make_token("department", uscc=ZHUJIAN)
    short = penalty("P-2")
    del short["facts"], short["basis"]
    answer = http.post(
        "/api/v1/records", json={"records": [short, penalty("P-3")]}, headers=dept
    ).get_json()
    assert answer["accepted"] == 2
    said = "cannot be exchanged nationally: its 双公示 row needs facts (CF_SY), basis (CF_YJ)"
    assert answer["results"][0]["warnings"] == [said]
    assert "warnings" not in answer["results"][1]
    with hub.app_context():
        [result] = service.run(["national"])
        [status] = states.status(db.session)
    assert result.ok, result.errors
    assert (result.pushed, result.skipped, result.dead) == (1, 1, 0)
    assert [row["CF_WSH"] for row in national.received] == ["P-3"]
    assert (status["pending"], status["dead_letters"]) == (0, 0)


def test_national_side_down_is_reported_and_retried(
    hub: Flask, national: StandIn, make_token: Callable[..., dict[str, str]]
) -> None:
    dept = make_token("department", uscc=ZHUJIAN)
    hub.test_client().post("/api/v1/records", json={"records": [penalty("P-2")]}, headers=dept)
    national.fail_next(503, times=4)  # every attempt of one run (4 by default)
    with hub.app_context():
        [failed] = service.run(["national"])
        state: Any = states.status(db.session)[0]
    assert not failed.ok
    assert state["pending"] == 1
    assert state["failures"] == 1
    assert state["retry_at"] is not None
    with hub.app_context():
        [ok] = service.run(["national"])
    assert ok.ok
    assert len(national.received) == 1


def test_a_national_listing_goes_on_to_peers_vouched_for_by_this_hubs_key(
    hub: Flask, national: StandIn, make_token: Callable[..., dict[str, str]]
) -> None:
    """The national exchange signs nothing: the hub that took a listing in signs it as it
    serves it, and its signed register names its own key for the national origin, so a hub
    pulling from it verifies the listing like any other record."""
    list_shudao(national)
    with hub.app_context():
        [result] = service.run(["national"])
        me = signer()
    assert result.ok, result.errors
    http = hub.test_client()
    peer = make_token("peer", hub="city-b")
    [item] = http.get("/api/v1/feed", headers=peer).get_json()["items"]
    record = item["record"]
    assert record["origin"]["hub"] == "creditchina"
    assert record["signature"]["key"] == me.id
    register = http.get("/api/v1/hub/register").get_json()
    vouched = [k for k in register["keys"] if k["hub"] == "creditchina"]
    assert [k["id"] for k in vouched] == [me.id]
    pinned = {"creditchina": {k["id"]: base64.b64decode(k["public_key"]) for k in vouched}}
    assert forms.check(record, pinned) is None
