"""The national side's rules as the stand-in applies them: which rows it accepts and how its
list cursors look. Standard library only."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date

from schemas.common import china_today

PUSH_PATH = "/exchange/v1/penalties"
LISTS_PATH = "/exchange/v1/lists"
MAX_ROWS = 1000
MAX_LIMIT = 500
DEFAULT_LIMIT = 100

# What the national side insists on in a pushed row (domain.md §3, plus the exchange's own keys).
REQUIRED = (
    "CF_XDR_MC", "CF_XDR_LB", "CF_WSH", "CF_WFXW", "CF_SY", "CF_YJ", "CF_CFLB", "CF_NR",
    "CF_JDRQ", "CF_YXQ", "CF_CFJG", "CF_CFJGDM", "CF_SJLY", "CF_SJLYDM",
    "ORIGIN_HUB", "ORIGIN_ID", "ORIGIN_VERSION", "OP",
)  # fmt: skip
LEGACY = ("CF_XDR_GSZC", "CF_XDR_ZZJG", "CF_XDR_SWDJ", "CF_XDR_SYDW", "CF_XDR_SHZZ")
SUBJECT_LABELS = ("法人及非法人组织", "个体工商户", "自然人")
OPS = ("upsert", "revoke", "repair", "expire")
_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")  # 18 characters of the USCC alphabet
_DATE = re.compile(r"(\d{4})([-/])(\d{2})\2(\d{2})")
_AMOUNT = re.compile(r"\d+(?:\.\d+)?")


def validate_row(row: object, today: date | None = None) -> dict[str, list[str]]:
    """The national side's per-row checks: {field code: [problems]}, empty when accepted."""
    if not isinstance(row, dict):
        return {"_row": ["not an object"]}
    errors: dict[str, list[str]] = {}
    for code in REQUIRED:
        value = row.get(code)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors[code] = ["required"]
    for code, value in row.items():
        if code != "ORIGIN_VERSION" and value is not None and not isinstance(value, str):
            errors.setdefault(code, []).append("must be text")
    if errors:
        return errors
    label = row["CF_XDR_LB"]
    if label not in SUBJECT_LABELS:
        errors["CF_XDR_LB"] = ["must be one of " + ", ".join(SUBJECT_LABELS)]
    elif label == "自然人" and not row.get("CF_XDR_ZJHM"):
        errors["CF_XDR_ZJHM"] = ["required for 自然人"]
    elif label != "自然人" and not any(row.get(c) for c in ("CF_XDR_SHXYM", *LEGACY)):
        errors["CF_XDR_SHXYM"] = ["required (or a legacy code) for organizations"]
    for code in ("CF_XDR_SHXYM", "CF_CFJGDM", "CF_SJLYDM"):
        if row.get(code) and not _CODE.fullmatch(row[code]):
            errors[code] = ["not an 18-character unified social credit code"]
    m = _DATE.fullmatch(row["CF_JDRQ"])
    try:
        decided = date(int(m[1]), int(m[3]), int(m[4])) if m else None
    except ValueError:
        decided = None
    if decided is None:
        errors["CF_JDRQ"] = ["not a date YYYY-MM-DD"]
    elif decided > (today or china_today()):
        errors["CF_JDRQ"] = ["in the future"]
    for code in ("CF_NR_FK", "CF_NR_WFFF"):
        if row.get(code) and not _AMOUNT.fullmatch(row[code]):
            errors[code] = ["not a decimal amount of 万元"]
    if row["OP"] not in OPS:
        errors["OP"] = ["must be one of " + ", ".join(OPS)]
    version = row["ORIGIN_VERSION"]
    if isinstance(version, str) and version.isdigit():
        version = int(version)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        errors["ORIGIN_VERSION"] = ["not a positive integer"]
    return errors


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"lists:{position}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    prefix, _, number = text.partition(":")
    return int(number) if prefix == "lists" and number.isdigit() else None
