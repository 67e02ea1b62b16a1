"""One 双公示 field table drives every mapping: the parser, the intake's error names, the 前置机
file drop and the national connector. A record goes out as a row and comes back the same."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from connectors.creditchina.mapping import penalty_row
from connectors.filedrop.rows import HEADER, record_row
from credithub.records.intake import FIELD_TO_CODE
from schemas.sgs import map_row
from schemas.sgs_fields import amount_yuan, yuan_wan
from schemas.sgs_out import record_cells
from schemas.sgs_table import CODE_OF_PATH, FIELDS, NO_END

TODAY = date(2026, 1, 1)
ORIGIN = {"hub": "hlbe", "id": "rec-1", "version": 3}


def full_record() -> dict[str, Any]:
    """A penalty with a value at every path of the field table."""
    return {
        "kind": "penalty",
        "ref": "呼住建罚〔2025〕12号",
        "subject": {
            "type": "organization",
            "name": "呼伦贝尔市北疆建筑工程有限公司",
            "uscc": "91230500MA1B3N1N2M",
            "id_type": "护照",
            "id_number": "E12345678",
            "legacy_codes": {
                "business_reg": "150700000012345",
                "org_code": "MA1B3N1N2",
                "tax_reg": "150700MA1B3N1N2",
                "institution_cert": "事证第150700000001号",
                "social_org_cert": "51150700MJ0000001X",
            },
            "legal_rep": {"name": "张三", "id_type": "身份证", "id_number": "11010519491231002X"},
        },
        "authority": {"name": "呼伦贝尔市住房和城乡建设局", "uscc": "11230500001755309F"},
        "source": {"name": "呼伦贝尔市公共资源交易中心", "uscc": "12150700MB1234567X"},
        "decided_on": "2025-03-01",
        "categories": ["警告", "罚款", "没收违法所得"],
        "violation": "虚假宣传",
        "facts": "在投标文件中虚报业绩",
        "basis": "《反不正当竞争法》第二十条",
        "content": "警告，并处罚款人民币贰仟元",
        "fine_yuan": "2000.00",
        "confiscated_yuan": "12345.67",
        "license_action": "安全生产许可证（蒙）JZ安许证字〔2020〕000123",
        "valid_until": "2026-03-01",
        "publish_until": "2025-12-01",
        "note": "复核后维持",
    }


def at(record: dict[str, Any], path: str) -> Any:
    for name in path.split("."):
        record = record[name]
    return record


def test_the_full_record_has_a_value_at_every_path_of_the_table() -> None:
    record = full_record()
    for f in FIELDS:
        assert at(record, f.path) not in (None, "", []), f.path
    assert set(record_cells(record)) == {f.code for f in FIELDS}


def read_back(row: dict[str, Any]) -> dict[str, Any] | None:
    cells = {k: v for k, v in row.items() if k in CODE_OF_PATH.values()}
    parsed = map_row(0, cells, {code: code for code in cells}, TODAY)
    assert parsed.errors == {}
    return parsed.record


def test_cells_read_back_by_the_parser_are_the_record() -> None:
    record = full_record()
    assert read_back(record_cells(record)) == record


def test_the_file_drop_and_the_national_rows_are_the_tables_cells() -> None:
    record = {**full_record(), "origin": ORIGIN}
    cells = record_cells(record)
    dropped = record_row({"cursor": "7", "op": "upsert", "record": record}, TODAY)
    assert list(dropped) == list(HEADER)
    assert {k: v for k, v in dropped.items() if v and k in cells} == cells
    national = penalty_row("upsert", record)
    assert {k: v for k, v in national.items() if k in cells} == cells
    for row in (dropped, national):
        assert read_back(row) == full_record()


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.code)
def test_each_field_goes_through_every_mapping_by_its_code(field: Any) -> None:
    """Change one value: it arrives at the field's path, leaves in the field's column, and an
    error on it is named by the column."""
    record = full_record()
    cells = record_cells(record)
    changed = {
        "text": "另一个值",
        "type": "个体工商户",
        "date": "2025-06-30",
        "amount": "0.5",
        "categories": "罚款",
    }[field.kind]
    if field.code == "CF_XDR_SHXYM":
        changed = "92150783MA0000001X"
    elif field.code == "CF_JDRQ":
        changed = "2025-02-01"
    cells[field.code] = changed
    parsed = read_back(cells)
    assert parsed is not None
    assert record_cells(parsed)[field.code] == changed
    assert FIELD_TO_CODE[field.path] == field.code


def test_no_end_date_and_no_source_have_their_cells() -> None:
    record = full_record()
    del record["valid_until"], record["source"]
    cells = record_cells(record)
    assert cells["CF_YXQ"] == NO_END
    assert (cells["CF_SJLY"], cells["CF_SJLYDM"]) == (
        record["authority"]["name"],
        record["authority"]["uscc"],
    )
    back = read_back(cells)
    assert back is not None
    assert "valid_until" not in back
    assert back["source"] == record["authority"]


def test_a_masked_id_number_is_not_a_cell() -> None:
    record = full_record()
    record["subject"]["legal_rep"]["id_number"] = "110105********002X"
    assert "CF_FR_ZJHM" not in record_cells(record)


@pytest.mark.parametrize(
    ("record", "says"),
    [
        ({"subject": {"type": "robot"}}, "subject.type"),
        ({"subject": "北疆"}, "subject: must be an object"),
        ({"subject": {"type": "person", "legal_rep": 5}}, "subject.legal_rep: must be an object"),
        ({"subject": {"type": "person"}, "fine_yuan": "two thousand"}, "fine_yuan: not a decimal"),
        ({"subject": {"type": "person"}, "fine_yuan": "-1"}, "fine_yuan: negative"),
    ],
)
def test_what_cannot_be_a_cell_names_its_field(record: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        record_cells(record)


# ---------------------------------------------------------------------------------------------
# yuan <-> 万元: one function each way


@pytest.mark.parametrize(
    ("yuan", "wan"),
    [
        ("2000.00", "0.2"),
        ("2000", "0.2"),
        (2000, "0.2"),
        (3000, "0.3"),
        (0.1, "0.00001"),
        ("12345.67", "1.234567"),
        ("1234.56", "0.123456"),
        ("0.01", "0.000001"),
        ("50000.00", "5"),
        ("20000000.00", "2000"),
        ("2500000", "250"),
        ("0.00", "0"),
        (Decimal("99999999999999.99"), "9999999999.999999"),
        ("123456789012345678901234567890.12", "12345678901234567890123456.789012"),
    ],
)
def test_yuan_to_wan_is_exact_and_reads_back(yuan: object, wan: str) -> None:
    assert yuan_wan(yuan) == wan
    assert amount_yuan(wan) == (
        f"{Decimal(repr(yuan) if isinstance(yuan, float) else str(yuan)):.2f}",
        None,
    )


@pytest.mark.parametrize("bad", ["abc", "-1", "NaN", "Infinity", "1e3x", None, True, [1]])
def test_non_amounts_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="amount"):
        yuan_wan(bad)
