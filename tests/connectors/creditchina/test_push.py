"""Push: penalties reach the national side as exact 双公示 rows, with retries done right."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from connectors.base import PushResult
from connectors.creditchina import CreditChinaConnector
from connectors.creditchina.standin import StandIn
from schemas.sgs import map_row
from tests.connectors.creditchina.samples import PENALTY

Make = Callable[..., CreditChinaConnector]
Item = Callable[..., dict[str, Any]]

EXPECTED_ROW = {
    "CF_XDR_MC": "呼伦贝尔市北疆建筑工程有限公司",
    "CF_XDR_LB": "法人及非法人组织",
    "CF_XDR_SHXYM": "91230500MA1B3N1N2M",
    "CF_XDR_GSZC": "150700000012345",
    "CF_FRDB": "张三",
    "CF_FR_ZJLX": "身份证",
    "CF_FR_ZJHM": "11010519491231002X",
    "CF_WSH": "呼市监罚〔2025〕12号",
    "CF_WFXW": "虚假宣传",
    "CF_SY": "在投标文件中虚报业绩",
    "CF_YJ": "《反不正当竞争法》第二十条",
    "CF_CFLB": "警告;罚款",
    "CF_NR": "警告，并处罚款人民币贰仟元",
    "CF_NR_FK": "0.2",
    "CF_JDRQ": "2025-03-01",
    "CF_YXQ": "2026-03-01",
    "CF_CFJG": "呼伦贝尔市市场监督管理局",
    "CF_CFJGDM": "11230500001755309F",
    "CF_SJLY": "呼伦贝尔市市场监督管理局",
    "CF_SJLYDM": "11230500001755309F",
    "ORIGIN_HUB": "hlbe",
    "ORIGIN_ID": "rec-1",
    "ORIGIN_VERSION": 3,
    "OP": "upsert",
}


def posts(standin: StandIn) -> list[dict[str, Any]]:
    return [e for e in standin.log if e["method"] == "POST"]


def test_penalty_arrives_as_an_exact_sgs_row(standin: StandIn, make_connector: Make) -> None:
    results = make_connector().push([{"cursor": "41", "op": "upsert", "record": PENALTY}])
    assert results == [PushResult(change_id="41", ok=True, error=None, retriable=False)]
    assert standin.received == [EXPECTED_ROW]


def test_rows_read_back_by_the_sgs_parser_give_the_record(
    standin: StandIn, make_connector: Make
) -> None:
    make_connector().push([{"cursor": "1", "op": "upsert", "record": PENALTY}])
    row = {k: v for k, v in standin.received[0].items() if k.startswith(("CF_", "BZ"))}
    parsed = map_row(0, row, {code: code for code in row}, date(2026, 1, 1))
    assert parsed.errors == {}
    assert parsed.record is not None
    for key, value in parsed.record.items():
        assert PENALTY.get(key, PENALTY["authority"] if key == "source" else None) == value, key


def test_person_amounts_source_and_open_end(
    standin: StandIn, make_connector: Make, penalty_item: Item
) -> None:
    person = {
        "type": "person",
        "name": "李四",
        "id_type": "身份证",
        "id_number": "11010519491231002X",
    }
    item = penalty_item(
        op="revoke",
        subject=person,
        fine_yuan="12345.67",
        confiscated_yuan="0.01",
        valid_until=None,
        publish_until="2026-09-01",
        note="复核后撤销",
        source={"name": "呼伦贝尔市公共资源交易中心", "uscc": "12150700MB1234567X"},
        categories=["罚款", "没收违法所得"],
    )
    assert make_connector().push([item])[0].ok
    row = standin.received[0]
    assert row["CF_XDR_LB"] == "自然人"
    assert row["CF_XDR_ZJLX"] == "身份证"
    assert row["CF_XDR_ZJHM"] == "11010519491231002X"
    assert "CF_XDR_SHXYM" not in row
    assert (row["CF_NR_FK"], row["CF_NR_WFFF"]) == ("1.234567", "0.000001")
    assert row["CF_CFLB"] == "罚款;没收违法所得"
    assert row["CF_YXQ"] == "长期"  # no end date; schemas.sgs reads it back as none
    assert (row["CF_GSJZQ"], row["BZ"], row["OP"]) == ("2026-09-01", "复核后撤销", "revoke")
    assert (row["CF_SJLY"], row["CF_SJLYDM"]) == (
        "呼伦贝尔市公共资源交易中心",
        "12150700MB1234567X",
    )


def test_other_kinds_are_answered_without_a_request(
    standin: StandIn, make_connector: Make, penalty_item: Item
) -> None:
    misconduct = {"cursor": "7", "op": "upsert", "record": {"kind": "misconduct", "ref": "x"}}
    blacklist = {"cursor": "8", "op": "upsert", "record": {"kind": "blacklist", "ref": "y"}}
    connector = make_connector()
    assert connector.push([misconduct, blacklist]) == [
        PushResult("7", True, "not exchanged: kind misconduct"),
        PushResult("8", True, "not exchanged: kind blacklist"),
    ]
    assert standin.log == []
    penalty = penalty_item(cursor="9")
    results = connector.push([misconduct, penalty])
    assert [(r.change_id, r.ok) for r in results] == [("7", True), ("9", True)]
    assert [row["CF_WSH"] for row in standin.received] == [penalty["record"]["ref"]]


def test_a_rejected_row_fails_alone(
    standin: StandIn, make_connector: Make, penalty_item: Item
) -> None:
    bad = penalty_item(authority={"name": "某局", "uscc": "123"}, decided_on="2025-02-30")
    items = [penalty_item(), bad, penalty_item()]
    results = make_connector().push(items)
    assert [(r.ok, r.retriable) for r in results] == [(True, False), (False, False), (True, False)]
    error = results[1].error or ""
    assert error.startswith("rejected: ")
    assert "CF_CFJGDM" in error
    assert "CF_JDRQ" in error
    assert [row["CF_WSH"] for row in standin.received] == [
        items[0]["record"]["ref"],
        items[2]["record"]["ref"],
    ]


def test_a_row_that_cannot_be_built_is_not_sent(
    standin: StandIn, make_connector: Make, penalty_item: Item
) -> None:
    items = [penalty_item(fine_yuan="two thousand"), penalty_item(), penalty_item(origin=None)]
    results = make_connector().push(items)
    assert [(r.ok, r.retriable) for r in results] == [(False, False), (True, False), (False, False)]
    assert results[0].error == "not sent: fine_yuan: not a decimal amount of yuan"
    assert "origin" in (results[2].error or "")
    assert len(standin.received) == 1


def test_changes_go_in_batches_in_order(
    standin: StandIn, make_connector: Make, penalty_item: Item
) -> None:
    items = [penalty_item() for _ in range(5)]
    results = make_connector(batch_size=2).push(items)
    assert [r.change_id for r in results] == [i["cursor"] for i in items]
    assert all(r.ok for r in results)
    assert len(posts(standin)) == 3
    assert [row["CF_WSH"] for row in standin.received] == [i["record"]["ref"] for i in items]


def test_500_is_retried_and_each_attempt_has_a_fresh_nonce(
    standin: StandIn, make_connector: Make, penalty_item: Item
) -> None:
    standin.fail_next(500, times=2)
    assert make_connector().push([penalty_item()])[0].ok
    attempts = posts(standin)
    assert [a["status"] for a in attempts] == [500, 500, 200]
    assert len({a["nonce"] for a in attempts}) == 3
    assert len(standin.received) == 1


def test_429_retry_after_is_honoured(
    standin: StandIn, make_connector: Make, penalty_item: Item
) -> None:
    standin.fail_next(429, retry_after=0.4)
    assert make_connector().push([penalty_item()])[0].ok
    first, second = posts(standin)
    assert (first["status"], second["status"]) == (429, 200)
    assert second["at"] - first["at"] >= 0.4


def test_403_is_fatal_without_retry(
    standin: StandIn, make_connector: Make, penalty_item: Item
) -> None:
    standin.fail_next(403)
    (result,) = make_connector().push([penalty_item()])
    assert (result.ok, result.retriable) == (False, False)
    assert "403" in (result.error or "")
    assert len(posts(standin)) == 1


def test_a_dropped_connection_is_retriable(
    standin: StandIn, make_connector: Make, penalty_item: Item
) -> None:
    standin.drop_next()
    assert make_connector().push([penalty_item()])[0].ok  # retried at once
    assert [a["status"] for a in posts(standin)] == ["dropped", 200]

    standin.drop_next(times=2)
    (result,) = make_connector(attempts=2).push([penalty_item()])
    assert (result.ok, result.retriable) == (False, True)
    assert "ConnectionError" in (result.error or "")
    assert len(standin.received) == 1


def test_a_slow_answer_is_retried(
    standin: StandIn, make_connector: Make, penalty_item: Item
) -> None:
    standin.delay_next(1.5)
    assert make_connector(timeout_seconds=1).push([penalty_item()])[0].ok
    assert len(posts(standin)) == 2


def test_a_failed_batch_holds_back_the_later_ones(
    standin: StandIn, make_connector: Make, penalty_item: Item
) -> None:
    standin.fail_next(503, times=2)
    results = make_connector(batch_size=1, attempts=2).push([penalty_item() for _ in range(3)])
    assert [(r.ok, r.retriable) for r in results] == [(False, True)] * 3
    assert "503" in (results[0].error or "")
    assert (results[2].error or "").startswith("not sent: an earlier batch failed")
    assert len(posts(standin)) == 2
    assert standin.received == []


def test_a_repair_is_sent_as_a_repair_row(
    standin: StandIn, make_connector: Make, penalty_item: Item
) -> None:
    """A credit repair reaches the national exchange as its own operation (信用修复 ends
    publication there too)."""
    assert make_connector().push([penalty_item(op="repair")])[0].ok
    assert standin.received[0]["OP"] == "repair"
