"""Tests for schemas.sgs, the edge parser of the 双公示 penalty format (domain.md §3)."""

from __future__ import annotations

import csv
import decimal
import io
import json
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import Workbook

from schemas.sgs import SgsFormatError, SgsRow, detect_and_read, map_header, map_row, parse_rows
from schemas.sgs_table import CURRENT_NAMES

TODAY = date(2026, 1, 1)
ID_NUMBER = "11010519491231002X"
AUTHORITY = "11230500001755309F"

# The current field codes, in the order of the national template.
CODES = list(CURRENT_NAMES)
# Column names as the national template writes them.
CHINESE = {
    "CF_XDR_MC": "行政相对人名称",
    "CF_XDR_LB": "行政相对人类别",
    "CF_XDR_SHXYM": "行政相对人代码_1(统一社会信用代码)",
    "CF_XDR_GSZC": "行政相对人代码_2(工商注册号)",
    "CF_XDR_ZZJG": "行政相对人代码_3(组织机构代码)",
    "CF_XDR_SWDJ": "行政相对人代码_4(税务登记号)",
    "CF_XDR_SYDW": "行政相对人代码_5(事业单位证书号)",
    "CF_XDR_SHZZ": "行政相对人代码_6(社会组织登记证号)",
    "CF_FRDB": "法定代表人",
    "CF_FR_ZJLX": "法定代表人证件类型",
    "CF_FR_ZJHM": "法定代表人证件号码",
    "CF_XDR_ZJLX": "证件类型",
    "CF_XDR_ZJHM": "证件号码",
    "CF_WSH": "行政处罚决定书文号",
    "CF_WFXW": "违法行为类型",
    "CF_SY": "违法事实",
    "CF_YJ": "处罚依据",
    "CF_CFLB": "处罚类别",
    "CF_NR": "处罚内容",
    "CF_NR_FK": "罚款金额（万元）",
    "CF_NR_WFFF": "没收违法所得、没收非法财物的金额（万元）",
    "CF_NR_ZKDX": "暂扣或吊销证照名称及编号",
    "CF_JDRQ": "处罚日期",
    "CF_YXQ": "处罚有效期",
    "CF_GSJZQ": "公示截止期",
    "CF_CFJG": "处罚机关",
    "CF_CFJGDM": "处罚机关统一社会信用代码",
    "CF_SJLY": "数据来源单位",
    "CF_SJLYDM": "数据来源单位统一社会信用代码",
    "BZ": "备注",
}


def org_row(**changes: str) -> dict[str, str]:
    """A fined construction company, as a city 住建局 reports it."""
    row = dict.fromkeys(CODES, "")
    row.update(
        CF_XDR_MC="伊春市恒达建筑工程有限公司",
        CF_XDR_LB="法人及非法人组织",
        CF_XDR_SHXYM="91230500MA1B3N1N2M",
        CF_FRDB="张建国",
        CF_FR_ZJLX="身份证",
        CF_FR_ZJHM=ID_NUMBER,
        CF_WSH="伊住建罚决〔2024〕15号",
        CF_WFXW="未按照工程建设强制性标准施工",
        CF_SY="该公司承建的伊春市第二中学教学楼项目，未按照施工技术标准施工, 擅自使用不合格钢筋。",
        CF_YJ="《建设工程质量管理条例》第六十四条",
        CF_CFLB="罚款",
        CF_NR="罚款人民币贰仟元整",
        CF_NR_FK="0.2",
        CF_JDRQ="2024-03-15",
        CF_YXQ="2025-03-14",
        CF_GSJZQ="2024-12-15",
        CF_CFJG="伊春市住房和城乡建设局",
        CF_CFJGDM=AUTHORITY,
        CF_SJLY="伊春市住房和城乡建设局",
        CF_SJLYDM=AUTHORITY,
    )
    row.update(changes)
    return row


def person_row(**changes: str) -> dict[str, str]:
    """A natural person fined by a 市场监管局."""
    row = org_row(
        CF_XDR_MC="王建华",
        CF_XDR_LB="自然人",
        CF_XDR_SHXYM="",
        CF_FRDB="",
        CF_FR_ZJLX="",
        CF_FR_ZJHM="",
        CF_XDR_ZJLX="身份证",
        CF_XDR_ZJHM=ID_NUMBER,
        CF_WSH="内市监罚〔2024〕102号",
        CF_WFXW="无证经营",
        CF_SY="当事人未取得食品经营许可证，在内江市东兴区从事食品经营活动。",
        CF_YJ="《中华人民共和国食品安全法》第一百二十二条",
        CF_CFLB="没收违法所得;罚款",
        CF_NR="没收违法所得1200元，并处罚款50000元",
        CF_NR_FK="5",
        CF_NR_WFFF="0.12",
        CF_CFJG="内江市市场监督管理局",
        CF_SJLY="内江市市场监督管理局",
    )
    row.update(changes)
    return row


EXPECTED_ORG: dict[str, Any] = {
    "kind": "penalty",
    "ref": "伊住建罚决〔2024〕15号",
    "subject": {
        "type": "organization",
        "name": "伊春市恒达建筑工程有限公司",
        "uscc": "91230500MA1B3N1N2M",
        "legal_rep": {"name": "张建国", "id_type": "身份证", "id_number": ID_NUMBER},
    },
    "authority": {"name": "伊春市住房和城乡建设局", "uscc": AUTHORITY},
    "source": {"name": "伊春市住房和城乡建设局", "uscc": AUTHORITY},
    "decided_on": "2024-03-15",
    "categories": ["罚款"],
    "violation": "未按照工程建设强制性标准施工",
    "facts": "该公司承建的伊春市第二中学教学楼项目，未按照施工技术标准施工, 擅自使用不合格钢筋。",
    "basis": "《建设工程质量管理条例》第六十四条",
    "content": "罚款人民币贰仟元整",
    "fine_yuan": "2000.00",
    "valid_until": "2025-03-14",
    "publish_until": "2024-12-15",
}


def to_csv(
    rows: list[dict[str, str]],
    header: list[str] | None = None,
    delimiter: str = ",",
    keys: list[str] | None = None,
) -> str:
    """CSV text with a header line and CRLF line ends, as Excel writes; keys pick row values."""
    header = header or CODES
    keys = keys or header
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(key, "") for key in keys])
    return out.getvalue()


def parse(data: bytes, today: date = TODAY) -> tuple[list[str], list[SgsRow]]:
    """parse_rows with the rows materialised."""
    warnings, rows = parse_rows(data, today=today)
    return warnings, list(rows)


def one(row: dict[str, str]) -> SgsRow:
    """Parse a single row sent as UTF-8 CSV."""
    _, rows = parse(to_csv([row]).encode())
    assert len(rows) == 1
    return rows[0]


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    """An xlsx workbook whose first sheet holds these rows."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# Field sets and headers


def test_current_field_set_by_code() -> None:
    warnings, rows = parse(to_csv([org_row()]).encode())
    assert warnings == []
    assert rows[0].index == 0
    assert rows[0].errors == {}
    assert rows[0].record == EXPECTED_ORG


def test_person_record() -> None:
    row = one(person_row())
    assert row.errors == {}
    assert row.record is not None
    assert row.record["subject"] == {
        "type": "person",
        "name": "王建华",
        "id_type": "身份证",
        "id_number": ID_NUMBER,
    }
    assert row.record["categories"] == ["没收违法所得", "罚款"]
    assert row.record["fine_yuan"] == "50000.00"
    assert row.record["confiscated_yuan"] == "1200.00"


def test_header_by_chinese_names() -> None:
    header = [CHINESE[c] for c in CODES]
    warnings, rows = parse(to_csv([org_row()], header=header, keys=CODES).encode())
    assert warnings == []
    assert rows[0].record == EXPECTED_ORG
    assert rows[0].raw["行政相对人代码_1(统一社会信用代码)"] == "91230500MA1B3N1N2M"


def test_map_header_codes_case_spaces_bom_and_variants() -> None:
    mapping, warnings = map_header(
        [
            "\ufeffcf_xdr_mc",
            " CF_WSH ",
            "处罚决定日期",
            "处罚日期 ",
            "罚款金额(万元)",
            "RESOURCE_ID",
        ]
    )
    assert mapping == {
        "\ufeffcf_xdr_mc": "CF_XDR_MC",
        " CF_WSH ": "CF_WSH",
        "处罚决定日期": "CF_JDRQ",
        "处罚日期 ": "CF_JDRQ",
        "罚款金额(万元)": "CF_NR_FK",
    }
    assert any("RESOURCE_ID" in w for w in warnings)
    assert any("CF_JDRQ" in w and "must agree" in w for w in warnings)


def test_map_header_legacy_codes() -> None:
    legacy = [
        "CF_XZJG",
        "CF_XDR_ZDM",
        "CF_XDR_GSDJ",
        "CF_XDR_SFZ",
        "CF_FR",
        "CF_CFLB1",
        "CF_CFLB2",
        "CF_JG",
        "CF_CFMC",
        "CF_ZT",
        "DFBM",
        "SJC",
    ]
    mapping, warnings = map_header(legacy)
    assert mapping == {
        "CF_XZJG": "CF_CFJG",
        "CF_XDR_ZDM": "CF_XDR_ZZJG",
        "CF_XDR_GSDJ": "CF_XDR_GSZC",
        "CF_XDR_SFZ": "CF_XDR_ZJHM",
        "CF_FR": "CF_FRDB",
        "CF_CFLB1": "CF_CFLB",
        "CF_CFLB2": "CF_CFLB",
        "CF_JG": "CF_NR",
        "CF_CFMC": "CF_CFMC",
        "CF_ZT": "CF_ZT",
        "DFBM": "DFBM",
        "SJC": "SJC",
    }
    assert not any("unknown" in w for w in warnings)  # known-but-unused columns are not warned


def test_map_header_with_no_known_column() -> None:
    with pytest.raises(SgsFormatError, match="header has no known 双公示 column"):
        map_header(["RESOURCE_ID", "COMP_NAME", "名称"])


LEGACY_HEADER = [
    "CF_WSH",
    "CF_CFMC",
    "CF_CFLB1",
    "CF_CFLB2",
    "CF_SY",
    "CF_YJ",
    "CF_XDR_MC",
    "CF_XDR_LB",
    "CF_XDR_SHXYM",
    "CF_XDR_ZDM",
    "CF_XDR_GSDJ",
    "CF_XDR_SFZ",
    "CF_FR",
    "CF_JG",
    "CF_WFXW",
    "CF_JDRQ",
    "CF_YXQ",
    "CF_XZJG",
    "CF_CFJGDM",
    "CF_SJLY",
    "CF_SJLYDM",
    "CF_ZT",
    "DFBM",
    "SJC",
]


def test_2016_field_set() -> None:
    org = {
        "CF_WSH": "深市监罚〔2016〕88号",
        "CF_CFMC": "深圳市华强电子有限公司销售不合格产品案",
        "CF_CFLB1": "罚款",
        "CF_CFLB2": "没收违法所得、没收非法财物",
        "CF_SY": "当事人销售不符合国家标准的电源适配器。",
        "CF_YJ": "《产品质量法》第四十九条",
        "CF_XDR_MC": "深圳市华强电子有限公司",
        "CF_XDR_LB": "法人",
        "CF_XDR_SHXYM": "",
        "CF_XDR_ZDM": "19220382-1",
        "CF_XDR_GSDJ": "440301103456789",
        "CF_XDR_SFZ": "",
        "CF_FR": "李明",
        "CF_JG": "没收违法所得并处罚款",
        "CF_WFXW": "销售不合格产品",
        "CF_JDRQ": "2016/11/03",
        "CF_YXQ": "2019/11/03",
        "CF_XZJG": "深圳市市场监督管理局",
        "CF_CFJGDM": "11440300007542512X",
        "CF_SJLY": "深圳市市场监督管理局",
        "CF_SJLYDM": "11440300007542512X",
        "CF_ZT": "0",
        "DFBM": "440300",
        "SJC": "2016-11-05 10:22:31",
    }
    person = dict(
        org,
        CF_XDR_MC="李明",
        CF_XDR_LB="自然人",
        CF_XDR_ZDM="",
        CF_XDR_GSDJ="",
        CF_XDR_SFZ=ID_NUMBER,
        CF_FR="",
        CF_WSH="深市监罚〔2016〕89号",
    )
    warnings, rows = parse(to_csv([org, person], header=LEGACY_HEADER).encode())
    assert not any("unknown" in w for w in warnings)
    assert [r.errors for r in rows] == [{}, {}]
    first, second = (r.record for r in rows)
    assert first is not None
    assert second is not None
    assert first["subject"] == {
        "type": "organization",
        "name": "深圳市华强电子有限公司",
        "legacy_codes": {"business_reg": "440301103456789", "org_code": "19220382-1"},
        "legal_rep": {"name": "李明"},
    }
    assert first["authority"] == {"name": "深圳市市场监督管理局", "uscc": "11440300007542512X"}
    assert first["categories"] == ["罚款", "没收违法所得", "没收非法财物"]
    assert first["content"] == "没收违法所得并处罚款"
    assert first["decided_on"] == "2016-11-03"
    assert second["subject"] == {
        "type": "person",
        "name": "李明",
        "id_type": "身份证",
        "id_number": ID_NUMBER,
    }


# ---------------------------------------------------------------------------------------------
# Formats and encodings


def test_same_text_in_every_encoding_gives_the_same_records() -> None:
    text = to_csv([org_row(), person_row()], header=[CHINESE[c] for c in CODES], keys=CODES)
    results = {}
    for encoding in ("utf-8", "utf-8-sig", "gbk", "gb18030"):
        data = text.encode(encoding)
        warnings, rows = parse(data)
        assert warnings == [], encoding
        results[encoding] = [(r.record, r.errors, r.raw) for r in rows]
    assert text.encode("gbk") != text.encode("utf-8")
    assert results["utf-8"][0][0] == EXPECTED_ORG
    for encoding in ("utf-8-sig", "gbk", "gb18030"):
        assert results[encoding] == results["utf-8"], encoding


def test_gb18030_character_outside_gbk() -> None:
    name = "刘䶮"  # U+4DAE: four bytes in GB18030, absent from GBK
    data = to_csv([person_row(CF_XDR_MC=name)]).encode("gb18030")
    with pytest.raises(UnicodeEncodeError):
        name.encode("gbk")
    _, rows = parse(data)
    assert rows[0].record is not None
    assert rows[0].record["subject"]["name"] == name


def test_tab_separated() -> None:
    data = to_csv([org_row()], delimiter="\t").encode("gbk")
    assert b"\t" in data
    _, rows = parse(data)
    assert rows[0].record == EXPECTED_ORG


def test_utf16_with_bom_as_excel_unicode_text() -> None:
    data = to_csv([org_row()], delimiter="\t").encode("utf-16")
    _, rows = parse(data)
    assert rows[0].record == EXPECTED_ORG


def test_cells_are_trimmed_and_empty_lines_skipped() -> None:
    text = to_csv([org_row()])
    header, body = text.split("\r\n", 1)
    name = "伊春市恒达建筑工程有限公司"
    padded = header + "\r\n\r\n , ,\r\n" + body.replace(name, f"  {name}\u3000", 1)
    header_out, rows_iter = detect_and_read(padded.encode("gbk"))
    raws = list(rows_iter)
    assert header_out == CODES
    assert len(raws) == 1
    assert raws[0]["CF_XDR_MC"] == "伊春市恒达建筑工程有限公司"
    _, rows = parse(padded.encode("gbk"))
    assert [r.index for r in rows] == [0]
    assert rows[0].record == EXPECTED_ORG


def test_xlsx_with_date_and_number_cells() -> None:
    values: dict[str, Any] = dict(org_row())
    values["CF_JDRQ"] = datetime(2024, 3, 15, 0, 0)
    values["CF_YXQ"] = date(2025, 3, 14)
    values["CF_NR_FK"] = 0.2
    values["CF_NR_WFFF"] = 250
    values["CF_CFLB"] = "罚款;没收违法所得"
    data = xlsx_bytes([[CHINESE[c] for c in CODES], [values[c] or None for c in CODES]])
    assert data[:4] == b"PK\x03\x04"
    warnings, rows = parse(data)
    assert warnings == []
    assert len(rows) == 1
    record = rows[0].record
    assert record is not None, rows[0].errors
    assert record["decided_on"] == "2024-03-15"
    assert record["valid_until"] == "2025-03-14"
    assert record["fine_yuan"] == "2000.00"
    assert record["confiscated_yuan"] == "2500000.00"
    assert rows[0].raw["处罚日期"] == "2024-03-15"


def test_xlsx_title_row_and_code_row_are_skipped() -> None:
    data = xlsx_bytes(
        [
            ["伊春市住房和城乡建设局行政处罚信息（双公示）"],
            [CHINESE[c] for c in CODES],
            CODES,
            [org_row()[c] or None for c in CODES],
        ]
    )
    header, _ = detect_and_read(data)
    assert header[0] == "行政相对人名称"
    _, rows = parse(data)
    assert [r.record for r in rows] == [EXPECTED_ORG]


def test_json_rows_object() -> None:
    row: dict[str, Any] = dict(org_row())
    row["CF_NR_FK"] = 0.2
    row["RESOURCE_ID"] = 981
    data = json.dumps({"rows": [row]}, ensure_ascii=False).encode()
    warnings, rows = parse(data)
    assert rows[0].record == EXPECTED_ORG
    assert rows[0].raw["RESOURCE_ID"] == "981"
    assert any("RESOURCE_ID" in w for w in warnings)


def test_json_bare_list_keeps_indexes_of_every_item() -> None:
    data = json.dumps([org_row(), {}, person_row()], ensure_ascii=False).encode("utf-8-sig")
    _, rows = parse(data)
    assert [r.index for r in rows] == [0, 1, 2]
    assert rows[0].record == EXPECTED_ORG
    assert rows[1].record is None
    assert "CF_XDR_MC" in rows[1].errors
    assert rows[2].record is not None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"data": []}', "rows"),
        (b'{"rows": "x"}', "rows"),
        (b'{"rows": []}', "no rows"),
        (b'[{"CF_WSH": "a"}, 3]', "rows\\[1\\]"),
        (b'{"rows": [', "invalid JSON"),
    ],
)
def test_json_that_is_not_rows(data: bytes, message: str) -> None:
    with pytest.raises(SgsFormatError, match=message):
        parse(data)


# ---------------------------------------------------------------------------------------------
# Amounts, dates, categories


@pytest.mark.parametrize(
    ("wan", "yuan"),
    [
        ("0.2", "2000.00"),
        ("250", "2500000.00"),
        ("1.23456", "12345.60"),
        ("0.3", "3000.00"),
        ("0.30000000000000004", "3000.00"),  # what 0.1 + 0.2 prints as a float
        ("0.0000005", "0.01"),  # half a fen rounds up
        ("0.0000004", "0.00"),
        ("1,000", "10000000.00"),
        ("１２．５", "125000.00"),
        ("0.5万元", "5000.00"),
        ("0", "0.00"),
    ],
)
def test_wan_yuan_to_yuan_is_exact(wan: str, yuan: str) -> None:
    row = one(org_row(CF_NR_FK=wan))
    assert row.record is not None, row.errors
    assert row.record["fine_yuan"] == yuan


def test_amounts_ignore_a_narrowed_decimal_context() -> None:
    with decimal.localcontext() as ctx:
        ctx.prec = 3
        row = one(org_row(CF_NR_FK="7.654321"))  # a value no other test caches
    assert row.record is not None
    assert row.record["fine_yuan"] == "76543.21"


def test_float_sum_from_json_is_exact() -> None:
    row: dict[str, Any] = dict(org_row())
    row["CF_NR_FK"] = 0.1 + 0.2
    _, rows = parse(json.dumps([row], ensure_ascii=False).encode())
    assert rows[0].record is not None
    assert rows[0].record["fine_yuan"] == "3000.00"


@pytest.mark.parametrize("bad", ["-0.2", "abc", "NaN", "Infinity", "1,00", "0.2.1", "2千"])
def test_bad_amounts(bad: str) -> None:
    row = one(org_row(CF_NR_FK=bad))
    assert row.record is None
    assert list(row.errors) == ["CF_NR_FK"]
    if bad.startswith("-"):
        assert "negative" in row.errors["CF_NR_FK"][0]


@pytest.mark.parametrize(
    "text", ["2024/03/15", "20240315", "2024-03-15 14:30:00", "2024-3-15", "2024年3月15日"]
)
def test_date_formats(text: str) -> None:
    row = one(org_row(CF_JDRQ=text))
    assert row.record is not None, row.errors
    assert row.record["decided_on"] == "2024-03-15"


@pytest.mark.parametrize("bad", ["2024-02-30", "15/03/2024", "2024-03", "昨天"])
def test_bad_decision_dates(bad: str) -> None:
    row = one(org_row(CF_JDRQ=bad))
    assert row.record is None
    assert list(row.errors) == ["CF_JDRQ"]


def test_decision_date_in_the_future() -> None:
    row = one(org_row(CF_JDRQ="2026-01-02", CF_YXQ="2027-01-01", CF_GSJZQ=""))
    assert row.record is None
    assert "future" in row.errors["CF_JDRQ"][0]
    ok = one(org_row(CF_JDRQ="2026-01-01", CF_YXQ="2027-01-01", CF_GSJZQ=""))
    assert ok.record is not None


def test_long_term_validity_has_no_end_date() -> None:
    row = one(org_row(CF_YXQ="长期"))
    assert row.errors == {}
    assert row.record is not None
    assert "valid_until" not in row.record


@pytest.mark.parametrize(("code", "value"), [("CF_YXQ", "2024-03-14"), ("CF_GSJZQ", "2024/01/01")])
def test_end_dates_before_the_decision(code: str, value: str) -> None:
    row = one(org_row(**{code: value}))
    assert row.record is None
    assert list(row.errors) == [code]
    assert "before the decision date" in row.errors[code][0]


def test_several_categories_in_one_cell() -> None:
    row = one(org_row(CF_CFLB="警告;罚款；没收违法所得，通报批评、罚款, 责令停产停业"))
    assert row.record is not None
    assert row.record["categories"] == ["警告", "罚款", "没收违法所得", "通报批评", "责令停产停业"]


@pytest.mark.parametrize(
    ("cell", "content", "expected"),
    [
        ("没收违法所得、没收非法财物", "没收违法所得", ["没收违法所得", "没收非法财物"]),
        ("暂扣或者吊销许可证、暂扣或者吊销执照", "吊销《食品经营许可证》", ["吊销许可证件"]),
        ("暂扣或者吊销许可证", "暂扣《安全生产许可证》三个月", ["暂扣许可证件"]),
        ("暂扣或者吊销执照", "依照暂扣或者吊销执照的规定，暂扣营业执照三个月", ["暂扣许可证件"]),
        ("罚款;暂扣或者吊销许可证、暂扣或者吊销执照", "暂扣许可证并罚款", ["罚款", "暂扣许可证件"]),
        ("法律、行政法规规定的其他行政处罚", "责令改正", ["其他"]),
        ("责令停产停业、行政拘留", "责令停产停业", ["责令停产停业", "行政拘留"]),
    ],
)
def test_2016_category_wording(cell: str, content: str, expected: list[str]) -> None:
    row = one(org_row(CF_CFLB=cell, CF_NR=content))
    assert row.record is not None, row.errors
    assert row.record["categories"] == expected
    assert not any("其他" in w for w in row.warnings)


def test_2016_license_wording_without_a_hint_is_other_with_a_warning() -> None:
    row = one(org_row(CF_CFLB="暂扣或者吊销许可证、暂扣或者吊销执照", CF_NR="依法处理"))
    assert row.record is not None
    assert row.record["categories"] == ["其他"]
    assert any("其他" in w for w in row.warnings)


def test_license_number_column_decides_the_2016_wording() -> None:
    row = one(
        org_row(
            CF_CFLB="暂扣或者吊销许可证",
            CF_NR="见决定书",
            CF_NR_ZKDX="吊销建筑业企业资质证书 D223045678",
        )
    )
    assert row.record is not None
    assert row.record["categories"] == ["吊销许可证件"]
    assert row.record["license_action"] == "吊销建筑业企业资质证书 D223045678"


def test_unknown_category_is_named() -> None:
    row = one(org_row(CF_CFLB="罚款;责令改正"))
    assert row.record is None
    assert "责令改正" in row.errors["CF_CFLB"][0]


# ---------------------------------------------------------------------------------------------
# Row errors


@pytest.mark.parametrize(
    "code",
    [
        "CF_XDR_MC",
        "CF_XDR_LB",
        "CF_WSH",
        "CF_WFXW",
        "CF_SY",
        "CF_YJ",
        "CF_CFLB",
        "CF_NR",
        "CF_JDRQ",
        "CF_YXQ",
        "CF_CFJG",
        "CF_CFJGDM",
        "CF_SJLY",
        "CF_SJLYDM",
    ],
)
@pytest.mark.parametrize("blank", ["", "-", "无", "  "])
def test_missing_required_field(code: str, blank: str) -> None:
    row = one(org_row(**{code: blank}))
    assert row.record is None
    assert code in row.errors
    assert "required" in row.errors[code][0]


def test_required_column_missing_from_header() -> None:
    header = [c for c in CODES if c != "CF_YJ"]
    warnings, rows = parse(to_csv([org_row()], header=header).encode())
    assert any("CF_YJ" in w for w in warnings)
    assert rows[0].errors == {"CF_YJ": ["required column is missing from the header"]}


def test_optional_placeholders_are_absent() -> None:
    row = one(org_row(CF_GSJZQ="-", BZ="无", CF_NR_ZKDX="/", CF_NR_WFFF="-"))
    expected = dict(EXPECTED_ORG)
    del expected["publish_until"]
    assert row.record == expected


def test_organization_needs_a_code() -> None:
    row = one(org_row(CF_XDR_SHXYM=""))
    assert row.record is None
    assert list(row.errors) == ["CF_XDR_SHXYM"]
    legacy = one(org_row(CF_XDR_SHXYM="", CF_XDR_ZZJG="MA1B3N1N-2"))
    assert legacy.record is not None
    assert legacy.record["subject"]["legacy_codes"] == {"org_code": "MA1B3N1N-2"}


def test_individual_business() -> None:
    row = one(
        org_row(
            CF_XDR_LB="个体工商户",
            CF_XDR_MC="内江市东兴区老王五金店",
            CF_XDR_SHXYM="",
            CF_XDR_GSZC="511011600123456",
        )
    )
    assert row.record is not None
    assert row.record["subject"]["type"] == "individual_business"
    bad = one(org_row(CF_XDR_LB="个体工商户", CF_XDR_SHXYM=""))
    assert "CF_XDR_SHXYM" in bad.errors


def test_person_needs_an_id_number() -> None:
    row = one(person_row(CF_XDR_ZJHM=""))
    assert row.record is None
    assert list(row.errors) == ["CF_XDR_ZJHM"]


@pytest.mark.parametrize(
    ("kind", "subject_type"), [("法人", "organization"), ("非法人组织", "organization")]
)
def test_older_subject_kinds(kind: str, subject_type: str) -> None:
    row = one(org_row(CF_XDR_LB=kind))
    assert row.record is not None
    assert row.record["subject"]["type"] == subject_type


def test_unknown_subject_kind() -> None:
    row = one(org_row(CF_XDR_LB="企业"))
    assert row.record is None
    assert "企业" in row.errors["CF_XDR_LB"][0]


def test_truncated_csv_row() -> None:
    text = to_csv([org_row(), org_row(CF_WSH="伊住建罚决〔2024〕16号")])
    truncated = text[: text.rindex("伊春市住房和城乡建设局")]
    _, rows = parse(truncated.encode("gbk"))
    assert rows[0].record == EXPECTED_ORG
    assert rows[1].record is None
    assert list(rows[1].errors) == ["_row"]
    assert rows[1].raw["CF_WSH"] == "伊住建罚决〔2024〕16号"


def test_row_with_extra_cells() -> None:
    text = to_csv([org_row()]).rstrip("\r\n") + ",多出来的一列\r\n"
    _, rows = parse(text.encode())
    assert list(rows[0].errors) == ["_row"]
    assert "多出来的一列" in rows[0].raw.values()


def test_trailing_empty_cells_are_tolerated() -> None:
    text = to_csv([org_row()]).replace("\r\n", ",\r\n")
    _, rows = parse(text.encode())
    assert rows[0].record == EXPECTED_ORG


def test_extra_columns_kept_in_raw_and_warned_once() -> None:
    header = [*CODES, "RESOURCE_ID", "CHECK_FLAG", "ID", "COMP_NAME"]
    rows_in = [
        dict(
            org_row(),
            RESOURCE_ID=f"r{i}",
            CHECK_FLAG="1",
            ID=str(i),
            COMP_NAME="伊春市恒达建筑工程有限公司",
        )
        for i in range(3)
    ]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([[r[h] for h in header] for r in rows_in])
    warnings, rows = parse(out.getvalue().encode("gbk"))
    assert len(warnings) == 1
    assert all(name in warnings[0] for name in ("RESOURCE_ID", "CHECK_FLAG", "ID", "COMP_NAME"))
    assert [r.raw["RESOURCE_ID"] for r in rows] == ["r0", "r1", "r2"]
    assert all(r.record == EXPECTED_ORG for r in rows)
    assert all(r.warnings == [] for r in rows)


def test_map_row_directly_trims_and_keeps_raw() -> None:
    raw = {k: f" {v} " if v else v for k, v in org_row(RESOURCE_ID="x").items()}
    mapping, _ = map_header(list(raw))
    row = map_row(7, raw, mapping, TODAY)
    assert row.index == 7
    assert row.record == EXPECTED_ORG
    # As received, but for the ID number: kept only masked.
    assert row.raw == {**raw, "CF_FR_ZJHM": "110105********002X"}


# ---------------------------------------------------------------------------------------------
# Whole-file errors


def test_header_with_no_known_column() -> None:
    data = "RESOURCE_ID,名称\r\n1,伊春市恒达建筑工程有限公司\r\n".encode("gbk")
    with pytest.raises(SgsFormatError, match="no known 双公示 column"):
        parse(data)


@pytest.mark.parametrize("gbk_first", [True, False])
def test_mixed_encodings(gbk_first: bool) -> None:
    header, first, second = to_csv([org_row(), person_row()]).split("\r\n")[:3]
    gbk, utf8 = first.encode("gbk"), second.encode("utf-8")
    body = gbk + b"\r\n" + utf8 if gbk_first else utf8 + b"\r\n" + gbk
    with pytest.raises(SgsFormatError, match="byte offset"):
        parse(header.encode() + b"\r\n" + body + b"\r\n")


def test_utf8_line_that_gb18030_would_silently_misread() -> None:
    utf8_row = org_row(
        CF_XDR_MC="内江恒达商贸公司",
        CF_XDR_LB="法人",
        CF_XDR_SHXYM="91512081MA62K0260E",
        CF_FRDB="",
        CF_FR_ZJLX="",
        CF_FR_ZJHM="",
        CF_WSH="内市监罚2024-102",
        CF_WFXW="无证经营",
        CF_SY="无证经营食品",
        CF_YJ="食品安全法条",
        CF_NR="罚款五万",
        CF_NR_FK="5",
        CF_CFJG="内江市市场监督管理局",
        CF_SJLY="内江市市场监督管理局",
    )
    header, gbk_line = to_csv([org_row()]).split("\r\n")[:2]
    utf8_line = to_csv([utf8_row]).split("\r\n")[1].encode()
    utf8_line.decode("gb18030")  # precondition: as GB18030 this line is mojibake, not an error
    data = header.encode() + b"\r\n" + gbk_line.encode("gbk") + b"\r\n" + utf8_line + b"\r\n"
    with pytest.raises(SgsFormatError, match="mixed encodings: line 3"):
        parse(data)


def test_utf8_bom_with_gbk_inside() -> None:
    data = b"\xef\xbb\xbf" + to_csv([org_row()]).encode("gbk")
    with pytest.raises(SgsFormatError, match="byte-order mark"):
        parse(data)


def test_bytes_that_no_encoding_reads() -> None:
    data = to_csv([org_row()]).encode() + b"\xff\xfe\xff\r\n"
    with pytest.raises(SgsFormatError, match=r"neither UTF-8 .* nor GB18030"):
        parse(data)


def test_truncated_xlsx() -> None:
    data = xlsx_bytes([CODES, [org_row()[c] for c in CODES]])
    with pytest.raises(SgsFormatError, match="xlsx"):
        parse(data[: len(data) // 2])


@pytest.mark.parametrize("data", [b"", b"  \r\n\r\n", b"\xef\xbb\xbf", b",,,\r\n,,\r\n"])
def test_empty_file(data: bytes) -> None:
    with pytest.raises(SgsFormatError, match="empty"):
        parse(data)


def test_header_only_file_has_no_rows() -> None:
    warnings, rows = parse(",".join(CODES).encode())
    assert warnings == []
    assert rows == []


# ---------------------------------------------------------------------------------------------
# Personal data


def test_id_numbers_never_appear_in_messages() -> None:
    rows_in = [
        person_row(CF_JDRQ="2027-01-01"),
        person_row(CF_XDR_LB="居民"),
        person_row(CF_JDRQ=ID_NUMBER),  # a shifted column puts the ID where a date belongs
        person_row(CF_CFLB=ID_NUMBER),
        person_row(CF_NR_FK=ID_NUMBER),
        person_row(CF_XDR_LB=ID_NUMBER),
        person_row(CF_YXQ=ID_NUMBER),
        org_row(CF_FR_ZJHM=ID_NUMBER, CF_SY=""),
    ]
    header = [*CODES, "CF_XDR_SFZ"]  # two columns for the ID that disagree
    text = to_csv([dict(r, CF_XDR_SFZ="11010519491231003X") for r in rows_in], header=header)
    text += ID_NUMBER + ",自然人\r\n"  # a short row holding an ID number
    warnings, rows = parse(text.encode("gbk"))
    messages = [*warnings]
    for row in rows:
        assert row.record is None
        messages += [m for ms in row.errors.values() for m in ms] + row.warnings
    assert len(messages) >= len(rows_in) + 1
    assert any(ID_NUMBER in r.raw.values() for r in rows)
    assert not [m for m in messages if "1231002" in m or "1231003" in m]
    # A file without a header puts its first data line into the error message: masked too.
    with pytest.raises(SgsFormatError) as caught:
        parse(f"王建华,{ID_NUMBER},自然人\r\n".encode())
    assert "1231002" not in str(caught.value)


def _unquoted_and_quoted(lines: list[list[str]], delimiter: str, end: str) -> tuple[str, str]:
    texts = []
    for quoting in (csv.QUOTE_NONE, csv.QUOTE_ALL):
        out = io.StringIO()
        writer = csv.writer(out, delimiter=delimiter, lineterminator=end, quoting=quoting)
        writer.writerows(lines)
        texts.append(out.getvalue())
    return texts[0], texts[1]


@pytest.mark.parametrize(("delimiter", "end"), [(",", "\r\n"), (",", "\n"), ("\t", "\r\n")])
def test_a_file_reads_the_same_rows_with_and_without_quotes(delimiter: str, end: str) -> None:
    """A file with no quote has one row a line, and its rows are read as they are taken; what
    is read is what the full CSV reader reads: title rows, the row of codes under the names,
    blank lines, trimmed cells, rows too short or too long, trailing empty cells."""
    names = [CHINESE[c] for c in CODES]

    def cells(**changes: str) -> list[str]:  # no delimiter inside a cell: no need to quote
        return [org_row(**changes).get(c, "").replace(",", "，") for c in CODES]

    row = cells()
    short = row[:5]
    long = [*row, "多出的一格"]
    trailing = [*row, "", ""]
    spaced = [f"  {cell} " if cell else cell for cell in row]
    lines = [
        ["某市行政处罚信息公示"], [], names, CODES, row, [""] * 3, short, [" "], long,
        trailing, spaced, cells(CF_WSH="伊住建罚〔2025〕13号"), [],
    ]  # fmt: skip
    plain, quoted = _unquoted_and_quoted(lines, delimiter, end)
    assert '"' not in plain
    assert '"' in quoted
    read = [detect_and_read(text.encode("gbk")) for text in (plain, quoted)]
    assert read[0][0] == read[1][0] == names
    rows = [list(raws) for _, raws in read]
    assert rows[0] == rows[1]
    assert [type(r).__name__ for r in rows[0]] == [
        "dict",
        "Misaligned",
        "Misaligned",
        *["dict"] * 3,
    ]
    taken = [parse_rows(text.encode("gbk"), today=TODAY)[1] for text in (plain, quoted)]
    assert len(taken[0]) == len(taken[1]) == 6
    assert taken[0].take(1, 5) == taken[1].take(1, 5)
    assert [r.record is not None for r in taken[0]] == [True, False, False, True, True, True]


def test_an_id_number_is_masked_to_its_first_six_and_last_four_characters() -> None:
    from credithub.entities.identifiers import mask_id_number
    from schemas.sgs_fields import mask_id

    assert mask_id("11010519491231002X") == "110105********002X"
    assert mask_id_number("11010519491231002x") == "110105********002X"  # the app's, normalised
