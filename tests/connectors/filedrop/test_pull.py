"""pull and acknowledge: files dropped in inbound, one file a call, in name order, moved after."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from openpyxl import Workbook

from connectors.errors import RetriableError
from tests.connectors.filedrop import support
from tests.connectors.filedrop.support import (
    AUTHORITY,
    ID_NUMBER,
    ORG_USCC,
    connector,
    csv_bytes,
    listing,
    sgs_row,
)

CHINESE_HEADER = {
    "CF_XDR_MC": "行政相对人名称",
    "CF_XDR_LB": "行政相对人类别",
    "CF_XDR_SHXYM": "统一社会信用代码",
    "CF_WSH": "行政处罚决定书文号",
    "CF_WFXW": "违法行为类型",
    "CF_SY": "违法事实",
    "CF_YJ": "处罚依据",
    "CF_CFLB": "处罚类别",
    "CF_NR": "处罚内容",
    "CF_NR_FK": "罚款金额(万元)",
    "CF_JDRQ": "处罚决定日期",
    "CF_YXQ": "处罚有效期",
    "CF_CFJG": "处罚机关",
    "CF_CFJGDM": "处罚机关统一社会信用代码",
    "CF_SJLY": "数据来源单位",
    "CF_SJLYDM": "数据来源单位统一社会信用代码",
}


def chinese(row: dict[str, str]) -> dict[str, str]:
    return {CHINESE_HEADER.get(k, k): v for k, v in row.items()}


def xlsx_bytes(rows: list[dict[str, str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    header = list(rows[0])
    sheet.append(header)
    for row in rows:
        sheet.append([row[k] for k in header])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_pull_reads_utf8_csv_with_chinese_header(tmp_path: Path) -> None:
    c = connector(tmp_path)
    data = b"\xef\xbb\xbf" + csv_bytes([chinese(sgs_row()), chinese(sgs_row(CF_WSH="罚2号"))])
    (c.inbound / "20240301.csv").write_bytes(data)
    page = c.pull(None)
    assert (page.next_cursor, page.has_more) == ("20240301.csv", False)
    assert [ch["op"] for ch in page.changes] == ["upsert", "upsert"]
    record = page.changes[0]["record"]
    assert record["subject"] == {
        "type": "organization",
        "name": "呼伦贝尔某某建设有限公司",
        "uscc": ORG_USCC,
    }
    assert (record["ref"], record["fine_yuan"], record["authority"]) == (
        "呼住建罚〔2024〕20号",
        "2000.00",
        AUTHORITY,
    )
    origin = record["origin"]
    assert (origin["hub"], origin["version"]) == ("filedrop:dept", 1)
    assert re.fullmatch(r"[0-9a-f]{32}", origin["id"])
    assert page.changes[1]["record"]["origin"]["id"] != origin["id"]
    assert c.last_pull_errors == []


def test_pull_reads_gb18030_csv(tmp_path: Path) -> None:
    c = connector(tmp_path)
    row = sgs_row(CF_XDR_MC="呼伦贝尔𠀀建设有限公司")  # a character GBK lacks
    (c.inbound / "a.csv").write_bytes(csv_bytes([chinese(row)], "gb18030"))
    page = c.pull(None)
    assert [ch["record"]["subject"]["name"] for ch in page.changes] == ["呼伦贝尔𠀀建设有限公司"]


def test_pull_reads_xlsx_and_json(tmp_path: Path) -> None:
    c = connector(tmp_path)
    (c.inbound / "1.xlsx").write_bytes(xlsx_bytes([sgs_row(CF_WSH="罚1号")]))
    rows = [sgs_row(CF_WSH="罚2号"), sgs_row(CF_WSH="罚3号")]
    (c.inbound / "2.json").write_text(json.dumps({"rows": rows}, ensure_ascii=False), "utf-8")
    first = c.pull(None)
    assert ([ch["record"]["ref"] for ch in first.changes], first.has_more) == (["罚1号"], True)
    assert first.changes[0]["record"]["fine_yuan"] == "2000.00"
    second = c.pull(first.next_cursor)
    assert [ch["record"]["ref"] for ch in second.changes] == ["罚2号", "罚3号"]
    assert (second.next_cursor, second.has_more) == ("2.json", False)


def test_same_key_same_id_across_files(tmp_path: Path) -> None:
    c = connector(tmp_path, hub_id="dept-a")
    (c.inbound / "1.csv").write_bytes(csv_bytes([sgs_row()]))
    (c.inbound / "2.csv").write_bytes(csv_bytes([sgs_row(CF_NR_FK="0.3", CF_XDR_MC="改名")]))
    first = c.pull(None).changes[0]["record"]["origin"]
    second = c.pull("1.csv").changes[0]["record"]["origin"]
    assert first == second == {"hub": "dept-a", "id": first["id"], "version": 1}
    # another authority, another 文号 or another subject is another record
    (c.inbound / "3.csv").write_bytes(
        csv_bytes([sgs_row(CF_CFJGDM="11230500MB1234567X"), sgs_row(CF_XDR_SHXYM="")])
    )
    ids = {ch["record"]["origin"]["id"] for ch in c.pull("2.csv").changes}
    assert first["id"] not in ids


def test_cursor_never_reads_a_file_twice_even_before_acknowledge(tmp_path: Path) -> None:
    c = connector(tmp_path)
    for name in ("b.csv", "a.csv", "c.json"):
        rows = [sgs_row(CF_WSH=name)]
        if name.endswith(".json"):
            (c.inbound / name).write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
        else:
            (c.inbound / name).write_bytes(csv_bytes(rows))
    refs, cursor, pages = [], None, 0
    while True:
        page = c.pull(cursor)
        pages += 1
        refs += [ch["record"]["ref"] for ch in page.changes]
        cursor = page.next_cursor
        if not page.has_more:
            break
    assert (refs, cursor, pages) == (["a.csv", "b.csv", "c.json"], "c.json", 3)
    assert listing(c.inbound) == ["a.csv", "b.csv", "c.json"]  # nothing moved yet
    again = c.pull(cursor)
    assert (again.changes, again.next_cursor, again.has_more) == ([], "c.json", False)
    # a new process with the committed cursor does not read them either
    fresh = connector(tmp_path)
    assert fresh.pull("b.csv").changes[0]["record"]["ref"] == "c.json"
    assert fresh.pull("c.json").changes == []


def test_acknowledge_moves_files_up_to_the_cursor_into_done(tmp_path: Path) -> None:
    c = connector(tmp_path)
    for name in ("a.csv", "b.csv", "c.csv"):
        (c.inbound / name).write_bytes(csv_bytes([sgs_row(CF_WSH=name)]))
    page = c.pull(c.pull(None).next_cursor)
    assert c.acknowledge(page.next_cursor) == ["a.csv", "b.csv"]
    assert listing(c.inbound) == ["c.csv", "done"]
    assert listing(c.inbound / "done") == ["a.csv", "b.csv"]
    assert c.last_pull_warnings == []
    # files in done/ are never read again, even from the start
    assert [ch["record"]["ref"] for ch in c.pull(None).changes] == ["c.csv"]
    # a later file of an earlier name was never read: set aside, not filed as done
    (c.inbound / "a.csv").write_bytes(csv_bytes([sgs_row(CF_WSH="again")]))
    assert c.acknowledge("c.csv") == ["c.csv"]
    assert listing(c.inbound / "done") == ["a.csv", "b.csv", "c.csv"]
    assert (c.inbound / "failed" / "a.csv").exists()
    assert c.acknowledge(None) == []


def test_a_late_file_below_the_cursor_is_reported(tmp_path: Path) -> None:
    c = connector(tmp_path)
    (c.inbound / "b.csv").write_bytes(csv_bytes([sgs_row()]))
    assert c.pull("c.csv").changes == []
    assert any("b.csv" in w and "later name" in w for w in c.last_pull_warnings)


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        (
            "1.csv",
            "行政相对人名称,处罚机关\n".encode() + "某公司,某局\n".encode("gbk"),
            "neither UTF-8",
        ),
        ("1.xlsx", xlsx_bytes([sgs_row()])[:600], "xlsx file cannot be opened"),
        ("1.csv", b"name,amount\nx,1\n", "no known"),
        ("1.json", b'{"rows": [', "invalid JSON"),
        ("1.csv", b"", "empty file"),
    ],
    ids=["bad-encoding", "truncated-xlsx", "no-header", "bad-json", "empty"],
)
def test_unreadable_file_goes_to_failed_and_pull_goes_on(
    tmp_path: Path, name: str, data: bytes, why: str
) -> None:
    c = connector(tmp_path)
    (c.inbound / name).write_bytes(data)
    (c.inbound / "2.csv").write_bytes(csv_bytes([sgs_row()]))
    page = c.pull(None)
    assert (page.next_cursor, len(page.changes), page.has_more) == ("2.csv", 1, False)
    assert listing(c.inbound / "failed") == [name, name + ".error.txt"]
    note = (c.inbound / "failed" / (name + ".error.txt")).read_text("utf-8")
    assert why in note
    assert any(name in e and why in e for e in c.last_pull_errors)
    c.acknowledge(page.next_cursor)
    assert listing(c.inbound) == ["done", "failed"]
    assert c.pull(None).changes == []  # failed/ is never read again


def test_only_an_unreadable_file_leaves_the_cursor(tmp_path: Path) -> None:
    c = connector(tmp_path)
    (c.inbound / "9.csv").write_bytes(b"\xff\xfe\xfa garbage \x81")
    page = c.pull("1.csv")
    assert (page.changes, page.next_cursor, page.has_more) == ([], "1.csv", False)
    assert listing(c.inbound / "failed") == ["9.csv", "9.csv.error.txt"]


def test_temp_and_hidden_files_are_ignored(tmp_path: Path) -> None:
    c = connector(tmp_path)
    good = csv_bytes([sgs_row()])
    for name in (".a.csv", "b.csv.tmp", "c.csv.part", ".d.csv.123.tmp", "~$e.xlsx", "f.txt"):
        (c.inbound / name).write_bytes(good[:40])  # half written
    (c.inbound / "dir.csv").mkdir()
    (c.inbound / "z.csv").write_bytes(good)
    page = c.pull(None)
    assert (page.next_cursor, len(page.changes), page.has_more) == ("z.csv", 1, False)
    assert c.last_pull_errors == []
    assert c.acknowledge("z.csv") == ["z.csv"]
    assert "b.csv.tmp" in listing(c.inbound)
    assert "failed" not in listing(c.inbound)


def test_origin_version_column_is_honoured(tmp_path: Path) -> None:
    c = connector(tmp_path)
    (c.inbound / "1.csv").write_bytes(csv_bytes([sgs_row()]))
    (c.inbound / "2.csv").write_bytes(csv_bytes([sgs_row(CF_NR_FK="0.3", ORIGIN_VERSION="2")]))
    (c.inbound / "3.csv").write_bytes(
        csv_bytes([sgs_row(ORIGIN_VERSION="x2"), sgs_row(CF_WSH="ok", ORIGIN_VERSION="")])
    )
    v1 = c.pull(None).changes[0]["record"]
    v2 = c.pull("1.csv").changes[0]["record"]
    assert (v1["origin"]["version"], v2["origin"]["version"]) == (1, 2)
    assert v1["origin"]["id"] == v2["origin"]["id"]
    assert v2["fine_yuan"] == "3000.00"
    assert c.last_pull_warnings == []  # our exchange columns are not "unknown"
    page = c.pull("2.csv")
    assert [ch["record"]["ref"] for ch in page.changes] == ["ok"]
    assert page.changes[0]["record"]["origin"]["version"] == 1
    assert c.last_pull_errors == [
        "file 3.csv index 0: ORIGIN_VERSION: not a positive whole number: 'x2'"
    ]


def test_row_errors_are_reported_without_the_id_number(tmp_path: Path) -> None:
    c = connector(tmp_path)
    passport = "E12345678"
    person = sgs_row(
        CF_XDR_MC="李四",
        CF_XDR_LB="自然人",
        CF_XDR_SHXYM="",
        CF_XDR_ZJLX="护照",
        CF_XDR_ZJHM=passport,
        CF_JDRQ=passport,  # echoed by the parser's message: must come out masked
    )
    resident = sgs_row(CF_XDR_LB=ID_NUMBER, CF_XDR_ZJHM=ID_NUMBER, CF_NR_FK="")
    good = sgs_row(CF_WSH="好")
    (c.inbound / "1.csv").write_bytes(csv_bytes([person, resident, good]))
    page = c.pull(None)
    assert [ch["record"]["ref"] for ch in page.changes] == ["好"]
    errors = c.last_pull_errors
    assert errors[0].startswith("file 1.csv index 0: CF_JDRQ: not a date")
    assert errors[1].startswith("file 1.csv index 1: CF_XDR_LB: unknown")
    assert len(errors) == 2
    assert passport not in repr(errors)
    assert ID_NUMBER not in repr(errors)
    assert ID_NUMBER not in repr(c.last_pull_warnings)


def test_person_and_op_columns(tmp_path: Path) -> None:
    c = connector(tmp_path)
    person = sgs_row(
        CF_XDR_MC="李四",
        CF_XDR_LB="自然人",
        CF_XDR_SHXYM="",
        CF_XDR_ZJLX="身份证",
        CF_XDR_ZJHM=ID_NUMBER,
        OP="revoke",
    )
    (c.inbound / "1.csv").write_bytes(csv_bytes([person, sgs_row(OP="delete")]))
    page = c.pull(None)
    assert [ch["op"] for ch in page.changes] == ["revoke"]
    assert page.changes[0]["record"]["subject"]["id_number"] == ID_NUMBER
    assert c.last_pull_errors == [
        "file 1.csv index 1: OP: unknown operation 'delete': "
        "expected upsert, revoke, repair, expire"
    ]


def test_missing_inbound_is_retriable(tmp_path: Path) -> None:
    c = connector(tmp_path)
    c.inbound.rmdir()
    with pytest.raises(RetriableError, match="inbound folder"):
        c.pull(None)
    with pytest.raises(RetriableError, match="inbound folder"):
        c.acknowledge("x.csv")


def test_json_rows_may_each_name_their_own_columns(tmp_path: Path) -> None:
    c = connector(tmp_path)
    rows = [sgs_row(CF_WSH="罚1号"), sgs_row(CF_WSH="罚2号", ORIGIN_VERSION="3", OP="expire")]
    (c.inbound / "1.json").write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
    page = c.pull(None)
    got = [(ch["op"], ch["record"]["origin"]["version"]) for ch in page.changes]
    assert got == [("upsert", 1), ("expire", 3)]


def test_a_late_file_sorting_before_the_cursor_is_set_aside_not_lost(tmp_path: Path) -> None:
    conn = support.connector(tmp_path)
    inbound = Path(conn.config["inbound"])
    (inbound / "b.csv").write_bytes(support.csv_bytes([support.sgs_row()]))
    page = conn.pull(None)
    assert page.next_cursor == "b.csv"
    # Dropped while b.csv was being read, under a name that sorts before it.
    (inbound / "a.csv").write_bytes(support.csv_bytes([support.sgs_row()]))
    conn.acknowledge(page.next_cursor)
    assert (inbound / "done" / "b.csv").exists()
    assert (inbound / "failed" / "a.csv").exists()
    assert "drop it again" in (inbound / "failed" / "a.csv.error.txt").read_text(encoding="utf-8")
