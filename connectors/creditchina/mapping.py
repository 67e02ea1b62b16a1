"""Mapping at the edge of the national exchange: hub penalties out as 双公示 rows, national
list entries (名单) in as hub blacklist records. Plain data in, plain data out."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from schemas.sgs_out import record_cells
from schemas.sgs_table import SUBJECT_TYPES

PUSH_OPS = frozenset({"upsert", "revoke", "repair", "expire"})
PULL_OPS = frozenset({"upsert", "revoke"})
HUB_SUBJECT_TYPES = ("organization", "individual_business", "person")

_ID_LIKE = re.compile(r"\d{14,17}[\dXx]")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def mask(text: str, limit: int = 300) -> str:
    """Cut a message from the other side and mask anything shaped like an ID number."""
    return _ID_LIKE.sub("<masked>", text[:limit])


# ---------------------------------------------------------------------------------------------
# Push: hub penalty record -> 双公示 row


def penalty_row(op: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """The 双公示 row of one penalty change; ValueError naming the field when it cannot be built."""
    if op not in PUSH_OPS:
        raise ValueError(f"op {op!r} is not one of {', '.join(sorted(PUSH_OPS))}")
    if not isinstance(record.get("subject"), Mapping):
        raise ValueError("subject: missing")
    origin = record.get("origin")
    if not isinstance(origin, Mapping) or not origin.get("hub") or not origin.get("id"):
        raise ValueError("origin: missing hub or id")
    version = origin.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError("origin.version: not a positive integer")
    row: dict[str, Any] = dict(record_cells(record))
    row["ORIGIN_HUB"] = str(origin["hub"])
    row["ORIGIN_ID"] = str(origin["id"])
    row["ORIGIN_VERSION"] = version
    row["OP"] = op
    return row


# ---------------------------------------------------------------------------------------------
# Pull: national list entry -> hub feed item


def _text(item: Mapping[str, Any], key: str, where: str = "") -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}{key}: missing")
    return value.strip()


def _optional_text(item: Mapping[str, Any], key: str, where: str = "") -> str | None:
    value = item.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{where}{key}: not a string")
    return value.strip() or None


def _date(item: Mapping[str, Any], key: str) -> date | None:
    """An optional ISO date field."""
    value = item.get(key)
    if value is None or value == "":
        return None
    shown = mask(repr(value), 40)
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError(f"{key}: not a date YYYY-MM-DD: {shown}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{key}: not a date YYYY-MM-DD: {shown}") from None


def _required_date(item: Mapping[str, Any], key: str) -> date:
    day = _date(item, key)
    if day is None:
        raise ValueError(f"{key}: missing")
    return day


def _subject(raw: object) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise ValueError("subject: missing")
    kind = raw.get("type")
    kind = SUBJECT_TYPES.get(kind, kind) if isinstance(kind, str) else kind
    if kind not in HUB_SUBJECT_TYPES:
        raise ValueError(f"subject.type: unknown {mask(repr(raw.get('type')), 40)}")
    subject: dict[str, Any] = {"type": kind, "name": _text(raw, "name", "subject.")}
    uscc = _optional_text(raw, "uscc", "subject.")
    id_type = _optional_text(raw, "id_type", "subject.")
    id_number = _optional_text(raw, "id_number", "subject.")
    if uscc:
        subject["uscc"] = uscc.upper()
    if id_number:
        if not id_type:
            raise ValueError("subject.id_type: missing (an id_number needs its type)")
        subject["id_type"] = id_type
        subject["id_number"] = id_number.upper()
    if kind == "person" and not id_number:
        raise ValueError("subject.id_number: missing (a person needs id_type and id_number)")
    if kind != "person" and not uscc and not id_number:
        raise ValueError("subject.uscc: missing")
    return subject


def list_change(item: object, hub_id: str) -> dict[str, Any]:
    """The hub feed item of one national list entry; ValueError naming the field if malformed."""
    if not isinstance(item, Mapping):
        raise ValueError("not an object")
    entry_id = item.get("id")
    if isinstance(entry_id, bool) or not isinstance(entry_id, str | int) or str(entry_id) == "":
        raise ValueError("id: missing")
    version = item.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError("version: not a positive integer")
    op = item.get("op")
    if op not in PULL_OPS:
        raise ValueError(f"op: not one of {', '.join(sorted(PULL_OPS))}")
    code = _text(item, "list")
    subject = _subject(item.get("subject"))
    raw_authority = item.get("authority")
    if not isinstance(raw_authority, Mapping):
        raise ValueError("authority: missing")
    authority = {"name": _text(raw_authority, "name", "authority.")}
    authority_uscc = _optional_text(raw_authority, "uscc", "authority.")
    if authority_uscc:
        authority["uscc"] = authority_uscc.upper()
    decided = _required_date(item, "decided_on")
    listed = _required_date(item, "listed_on")
    expires = _date(item, "expires_on")
    if listed < decided:
        raise ValueError("listed_on: before decided_on")
    if expires is not None and expires < listed:
        raise ValueError("expires_on: before listed_on")

    record: dict[str, Any] = {
        "kind": "blacklist",
        "ref": f"{code}:{entry_id}",
        "list": code,
        "subject": subject,
        "authority": authority,
        "decided_on": decided.isoformat(),
        "listed_on": listed.isoformat(),
    }
    if expires is not None:
        record["expires_on"] = expires.isoformat()
    for key in ("basis", "reason"):
        value = _optional_text(item, key)
        if value:
            record[key] = value
    record["status"] = "revoked" if op == "revoke" else "active"
    record["origin"] = {"hub": hub_id, "id": str(entry_id), "version": version}
    return {"op": op, "record": record}
