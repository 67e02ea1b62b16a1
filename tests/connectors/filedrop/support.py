"""Builders shared by the file-drop tests: connectors on real folders, feed items, 双公示 rows."""

from __future__ import annotations

import copy
import csv
import io
from pathlib import Path
from typing import Any

from connectors.filedrop import FileDropConnector
from schemas.sgs_table import CURRENT_NAMES

AUTHORITY = {"name": "呼伦贝尔市住房和城乡建设局", "uscc": "11230500001755309F"}
ORG_USCC = "91230500MA1B3N1N2M"
ID_NUMBER = "11010519491231002X"
MASKED = "110105********002X"

# The current field codes, in the order of the national template.
CODES = list(CURRENT_NAMES)
EXTRA = ["OP", "ORIGIN_HUB", "ORIGIN_ID", "ORIGIN_VERSION", "CURSOR"]


def connector(tmp_path: Path, name: str = "dept", **options: Any) -> FileDropConnector:
    """A connector on <tmp>/<name>/out and <tmp>/<name>/in, both created."""
    out, inbox = tmp_path / name / "out", tmp_path / name / "in"
    out.mkdir(parents=True, exist_ok=True)
    inbox.mkdir(parents=True, exist_ok=True)
    config = {"name": name, "type": "filedrop", "outbound": str(out), "inbound": str(inbox)}
    return FileDropConnector({**config, **options})


def org_record(ref: str = "呼住建罚〔2024〕12号", **changes: Any) -> dict[str, Any]:
    """A penalty record as the hub's feed shows it (None where the hub has no value)."""
    record: dict[str, Any] = {
        "id": "rec-1",
        "kind": "penalty",
        "ref": ref,
        "subject": {
            "type": "organization",
            "name": "呼伦贝尔某某建设有限公司",
            "uscc": ORG_USCC,
            "id_type": None,
            "id_number": None,
            "legal_rep": {"name": "张三", "id_type": "身份证", "id_number": MASKED},
        },
        "authority": dict(AUTHORITY),
        "source": {"name": "呼伦贝尔市公共资源交易中心", "uscc": "11230500001755309F"},
        "decided_on": "2024-03-01",
        "categories": ["警告", "罚款"],
        "violation": "违法分包",
        "facts": "将承包的工程违法分包给不具备资质的单位",
        "basis": "《建设工程质量管理条例》第六十二条",
        "content": "警告,罚款2000元",
        "fine_yuan": "2000.00",
        "confiscated_yuan": None,
        "license_action": None,
        "valid_until": "2025-03-01",
        "publish_until": None,
        "note": None,
        "status": "active",
        "domains": ["construction"],
        "origin": {"hub": "hlbe", "id": "rec-1", "version": 3},
    }
    record.update(changes)
    return record


def person_record(ref: str = "呼住建罚〔2024〕13号", **changes: Any) -> dict[str, Any]:
    record = org_record(ref)
    record["subject"] = {
        "type": "person",
        "name": "李四",
        "uscc": None,
        "id_type": "身份证",
        "id_number": ID_NUMBER,
    }
    record.update(
        categories=["罚款"],
        content="罚款500元",
        fine_yuan="500.00",
        origin={"hub": "hlbe", "id": "rec-2", "version": 1},
    )
    record.update(changes)
    return record


def business_record(ref: str = "呼住建罚〔2024〕14号") -> dict[str, Any]:
    """An individual business known by legacy codes only, with a confiscation."""
    record = org_record(ref)
    record["subject"] = {
        "type": "individual_business",
        "name": "海拉尔区某某建材店",
        "uscc": None,
        "legacy_codes": {"business_reg": "150702600012345", "tax_reg": "150702123456789"},
    }
    record.update(
        categories=["没收违法所得", "暂扣许可证件"],
        content="没收违法所得,暂扣许可证",
        fine_yuan=None,
        confiscated_yuan="12345.67",
        license_action="建筑业企业资质证书 D315012345",
        valid_until=None,
        publish_until="2027-03-01",
        note="备注",
        origin={"hub": "hlbe", "id": "rec-3", "version": 2},
    )
    return record


def item(cursor: str, record: dict[str, Any], op: str = "upsert") -> dict[str, Any]:
    return {"cursor": cursor, "op": op, "record": copy.deepcopy(record)}


def csv_rows(path: Path, encoding: str = "utf-8-sig") -> tuple[list[str], list[dict[str, str]]]:
    """(header, rows) of a written CSV file, read with the standard csv module."""
    reader = csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline=""))
    header = next(reader)
    return header, [dict(zip(header, cells, strict=True)) for cells in reader]


def sgs_row(**cells: str) -> dict[str, str]:
    """A valid 双公示 row of an organization, by field code."""
    row = {
        "CF_XDR_MC": "呼伦贝尔某某建设有限公司",
        "CF_XDR_LB": "法人及非法人组织",
        "CF_XDR_SHXYM": ORG_USCC,
        "CF_WSH": "呼住建罚〔2024〕20号",
        "CF_WFXW": "违法分包",
        "CF_SY": "违法事实",
        "CF_YJ": "处罚依据",
        "CF_CFLB": "罚款",
        "CF_NR": "罚款2000元",
        "CF_NR_FK": "0.2",
        "CF_JDRQ": "2024-03-01",
        "CF_YXQ": "2025-03-01",
        "CF_CFJG": AUTHORITY["name"],
        "CF_CFJGDM": AUTHORITY["uscc"],
        "CF_SJLY": AUTHORITY["name"],
        "CF_SJLYDM": AUTHORITY["uscc"],
    }
    row.update(cells)
    return row


def csv_bytes(rows: list[dict[str, str]], encoding: str = "utf-8") -> bytes:
    header: list[str] = []
    for row in rows:
        header.extend(k for k in row if k not in header)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(k, "") for k in header])
    return out.getvalue().encode(encoding)


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())
