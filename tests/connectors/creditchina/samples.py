"""Shared test data: the stand-in's credentials and a complete penalty record."""

from __future__ import annotations

from typing import Any

APP_KEY = "hlbe-hub"
APP_SECRET = "s3cret-Exchange-Key-0001"

PENALTY: dict[str, Any] = {
    "kind": "penalty",
    "ref": "呼市监罚〔2025〕12号",
    "subject": {
        "type": "organization",
        "name": "呼伦贝尔市北疆建筑工程有限公司",
        "uscc": "91230500MA1B3N1N2M",
        "legacy_codes": {"business_reg": "150700000012345"},
        "legal_rep": {"name": "张三", "id_type": "身份证", "id_number": "11010519491231002X"},
    },
    "authority": {"name": "呼伦贝尔市市场监督管理局", "uscc": "11230500001755309F"},
    "decided_on": "2025-03-01",
    "categories": ["警告", "罚款"],
    "violation": "虚假宣传",
    "facts": "在投标文件中虚报业绩",
    "basis": "《反不正当竞争法》第二十条",
    "content": "警告，并处罚款人民币贰仟元",
    "fine_yuan": "2000.00",
    "valid_until": "2026-03-01",
    "status": "active",
    "origin": {"hub": "hlbe", "id": "rec-1", "version": 3},
}
