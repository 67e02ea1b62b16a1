"""Canonical JSON, what every digest is taken of: fixed bytes and digests for fixed inputs (the
digests the hub has stored so far stay what they were), and always the standard encoder's
bytes (sorted keys, compact, UTF-8)."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from credithub.audit.service import entry_hash
from credithub.db import canonical_json, db
from credithub.records.models import Record
from credithub.rules.pack_load import digest as pack_digest
from credithub.standing.check import canonical_json as answer_json
from tests.records.samples import BEIJIANG, ZHUJIAN, penalty, represented

CHINA = timezone(timedelta(hours=8))

CONTENT: dict[str, Any] = {
    "kind": "penalty",
    "ref": "P-1",
    "decided_on": date(2026, 6, 2),
    "fine_yuan": Decimal("5000.00"),
    "confiscated_yuan": Decimal("1E+3"),
    "authority": {"uscc": "11150700MB1234567X", "name": "呼伦贝尔市住房和城乡建设局"},
    "categories": ["警告", "罚款"],
    "legal_rep": {"name": "张建国"},
    "basis": "发改法规〔2018〕457号",
    "reason": '串通投标\n\t"引号"\\',
    "severity": None,
}
CONTENT_JSON = (
    '{"authority":{"name":"呼伦贝尔市住房和城乡建设局","uscc":"11150700MB1234567X"},'
    '"basis":"发改法规〔2018〕457号","categories":["警告","罚款"],"confiscated_yuan":"1000",'
    '"decided_on":"2026-06-02","fine_yuan":"5000.00","kind":"penalty",'
    '"legal_rep":{"name":"张建国"},"reason":"串通投标\\n\\t\\"引号\\"\\\\","ref":"P-1",'
    '"severity":null}'
)


def standard(value: Any) -> bytes:
    """The definition: the standard encoder's bytes, a Decimal as its plain digits."""
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_plain
    ).encode()


def _plain(value: Any) -> str:
    return format(value, "f") if isinstance(value, Decimal) else value.isoformat()


def test_a_records_content_and_its_digest() -> None:
    assert canonical_json(CONTENT).decode() == CONTENT_JSON
    assert canonical_json(CONTENT, floats=()).decode() == CONTENT_JSON
    assert (
        hashlib.sha256(CONTENT_JSON.encode()).hexdigest()
        == "f0185a1bbfe338ce620b042ae4714804a00c7e133a37ec2cda997e7115269cba"
    )
    # What a record's content digest covers: content, domains, severity, publication end, then
    # its subject and legal representative (here none).
    body = canonical_json([CONTENT, ["construction", "land"], "serious", "2029-06-02"])
    assert body.decode() == f'[{CONTENT_JSON},["construction","land"],"serious","2029-06-02"]'
    who = b"\n" + b"0" * 32 + b"\n"
    assert (
        hashlib.sha256(body + who).hexdigest()
        == "352db45e2e2d8eb584adf61f7edf820ff4aafb47984995ebeef37c713970d72f"
    )


def test_an_audit_entrys_hash() -> None:
    entry = [
        "0" * 64, 1, "2026-01-02T03:04:05.000006+00:00", "呼伦贝尔市住房和城乡建设局",
        "records.ingest", "batch", "0190a1b2c3d4e5f60718293a4b5c6d7e", "a" * 64,
    ]  # fmt: skip
    assert canonical_json(entry).decode() == (
        '["0000000000000000000000000000000000000000000000000000000000000000",1,'
        '"2026-01-02T03:04:05.000006+00:00","呼伦贝尔市住房和城乡建设局","records.ingest",'
        '"batch","0190a1b2c3d4e5f60718293a4b5c6d7e",'
        '"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]'
    )
    assert entry_hash(*entry) == (
        "ed3346c3e7c9de8ff4fc0b9ce066a631fe8dccc2e19b513a872f3943586b5a2e"
    )
    detail = {
        "reason": "撤销",
        "index": 0,
        "errors": {"subject": {"uscc": ["校验位不符"]}},
        "changes": [["0190a1b2c3d4e5f60718293a4b5c6d7e", 2, "updated", "b" * 64]],
    }
    assert canonical_json(detail).decode() == (
        '{"changes":[["0190a1b2c3d4e5f60718293a4b5c6d7e",2,"updated",'
        '"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"]],'
        '"errors":{"subject":{"uscc":["校验位不符"]}},"index":0,"reason":"撤销"}'
    )


def test_a_rule_packs_digest_writes_floats_as_the_standard_encoder() -> None:
    pack = {
        "pack": {
            "id": "内蒙古",
            "effective": date(2026, 4, 1),
            "weights": [0.5, 1e-05, 100.0, 1e16],
        },
        "a": {"b": True, "c": None},
    }
    assert canonical_json(pack).decode() == (
        '{"a":{"b":true,"c":null},"pack":{"effective":"2026-04-01","id":"内蒙古",'
        '"weights":[0.5,1e-05,100.0,1e+16]}}'
    )
    assert pack_digest(pack) == "ffdd45e917297d1cc9c9fda6cd2afe94a9120a2a3c2e924e92bbbfaa34e67365"


def test_a_check_answers_digested_form() -> None:
    answer = {
        "score": {"value": 58.5, "level": "D", "points": 12},
        "verdict": "barred",
        "subject": {"name": "北疆", "uscc": None},
        "related": [],
    }
    assert answer_json(answer).decode() == (
        '{"related":[],"score":{"level":"D","points":12,"value":58.5},'
        '"subject":{"name":"北疆","uscc":null},"verdict":"barred"}'
    )
    assert (
        hashlib.sha256(answer_json(answer)).hexdigest()
        == "c6bc5b8027a177714d3e5820cf9837f162ee5cfe272cee4576b1ef9978d8c588"
    )
    odd = {"score": {"value": 1e-05}, "zz": 2**64}
    assert answer_json(odd) == b'{"score":{"value":1e-05},"zz":18446744073709551616}'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "null"),
        ({"b": {"z": 1, "a": [True, None]}, "a": "x"}, '{"a":"x","b":{"a":[true,null],"z":1}}'),
        ({"é": 1, "e": 2, "Z": 3, "呼": 4, "😀": 5}, '{"Z":3,"e":2,"é":1,"呼":4,"😀":5}'),
        ([Decimal("0.10"), Decimal("-1.5E+2"), Decimal("12")], '["0.10","-150","12"]'),
        (date(2026, 2, 28), '"2026-02-28"'),
        (datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=CHINA), '"2026-01-02T03:04:05.000006+08:00"'),
        (datetime(2026, 1, 2, tzinfo=UTC), '"2026-01-02T00:00:00+00:00"'),
        (time(8, 30), '"08:30:00"'),
        ([datetime(2026, 1, 2, tzinfo=UTC), 1e-05], '["2026-01-02T00:00:00+00:00",1e-05]'),
        ([0.0, -0.0, 0.1, 1e-4, 1e-05, 1e-7, 1e16], "[0.0,-0.0,0.1,0.0001,1e-05,1e-07,1e+16]"),
        ([math.nan, math.inf, -math.inf], "[NaN,Infinity,-Infinity]"),
        ({1: "a", 2: [2**64]}, '{"1":"a","2":[18446744073709551616]}'),
        ("\x00\x1f\x7f\u2028\ufeff\U0010ffff/", '"\\u0000\\u001f\x7f\u2028\ufeff\U0010ffff/"'),
    ],
)  # fmt: skip
def test_fixed_forms(value: Any, expected: str) -> None:
    assert canonical_json(value).decode() == expected
    assert canonical_json(value) == standard(value)


def test_floats_named_by_the_caller_are_the_ones_checked() -> None:
    # A caller that names the floats its value holds spares the search; nested ones are found.
    assert canonical_json({"a": [{"b": 1e-05}]}) == b'{"a":[{"b":1e-05}]}'
    assert canonical_json({"a": 1e-05}, floats=[1e-05]) == b'{"a":1e-05}'
    assert canonical_json({"a": 0.5}, floats=[0.5]) == orjson.dumps({"a": 0.5})


def test_a_stored_content_digest_still_matches_an_unchanged_resend(
    app: Flask, client: FlaskClient, make_token: Callable[..., dict[str, str]]
) -> None:
    """The content digest a hub stored before canonical JSON had one home (orjson, sorted keys,
    decimals as plain digits) is the one a record sent again unchanged gets now."""
    zhujian = make_token("department", uscc=ZHUJIAN, name="呼伦贝尔市住房和城乡建设局")
    record = penalty(subject=represented(BEIJIANG), publish_until="2026-07-01", domains=["land"])
    first = client.post("/api/v1/records", json={"records": [record]}, headers=zhujian)
    assert first.status_code == 200, first.get_json()
    rid = first.get_json()["results"][0]["id"]
    with app.app_context():
        row = db.session.get(Record, rid)
        assert row is not None
        publish_until = row.publish_until.isoformat() if row.publish_until else None
        body = orjson.dumps(
            [row.content, row.domains, row.severity, publish_until], option=orjson.OPT_SORT_KEYS
        )
        who = f"\n{row.subject_id}\n{row.legal_rep_id or ''}".encode()
        assert row.legal_rep_id is not None
        assert row.content_hash == hashlib.sha256(body + who).hexdigest()
    again = client.post("/api/v1/records", json={"records": [record]}, headers=zhujian)
    assert again.get_json()["results"][0]["status"] == "unchanged"
