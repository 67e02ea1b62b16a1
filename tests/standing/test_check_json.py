"""The check's JSON: the body and the digested canonical form are the standard encoder's bytes.

Answers are written by orjson; what an answer says, and what its digest is taken of, must be
byte for byte what `json.dumps(…, ensure_ascii=False, separators=(",", ":"))` (with
`sort_keys=True` for the digest) writes, as it always was.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from credithub.standing.check import answers_json, canonical_json
from tests.records.samples import BEIJIANG, PERSON_ID, SHUDAO, ZHUJIAN, penalty

Headers = dict[str, str]


def standard(value: Any, sort_keys: bool = False) -> bytes:
    text = json.dumps(value, sort_keys=sort_keys, ensure_ascii=False, separators=(",", ":"))
    return text.encode()


TEXT = "".join(chr(c) for c in range(0x80)) + '"\\/呼伦贝尔\u2028\u2029\x7f\ufeff😀\U0010ffff'


def an_answer(**changes: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "subject": {"name": TEXT, "type": "organization", "uscc": SHUDAO},
        "known": True,
        "verdict": "barred",
        "restrictions": [
            {
                "measure": "m",
                "title": TEXT,
                "effect": "bar",
                "domains": ["construction", "land"],
                "from": "2026-06-02",
                "until": None,
                "basis": "发改法规〔2018〕457号",
                "record_id": "0" * 32,
                "authority": "呼伦贝尔市住房和城乡建设局",
                "reason": TEXT,
            }
        ],
        "score": {"value": 58.5, "level": "D", "points": 12},
        "related": [{"role": "legal_rep", "name": "张", "id_number": "1101…", "restrictions": []}],
        "at": "2026-11-24T10:00:00+00:00",
        "sources": [{"source": "hlbe", "type": "hub", "last_pull": None}],
        "zz": {"b": [1, -2, 0, True, False, None, [], {}], "a": 2**63 - 1, "c": -(2**63)},
    }
    answer.update(changes)
    return answer


SCORES = [0.0, -0.0, 0.01, 0.1, 1.0, 58.5, 99.99, 100.0, 1e-4, 1e-5, 5e-324, 1e16, 1e22, 1e300]
ODD = [math.nan, math.inf, -math.inf]


@pytest.mark.parametrize("value", SCORES + ODD)
def test_canonical_json_is_the_standard_encoders(value: float) -> None:
    answer = an_answer(score={"value": value, "level": "A", "points": 0})
    assert canonical_json(answer) == standard(answer, sort_keys=True)
    assert answers_json(answer, [answer]) == standard(answer)
    batch = {"results": [an_answer(), answer]}
    assert answers_json(batch, batch["results"]) == standard(batch)


def test_integers_beyond_64_bits_are_written_as_the_standard_encoder_does() -> None:
    answer = an_answer(zz={"big": 2**64, "small": -(2**70)})
    assert canonical_json(answer) == standard(answer, sort_keys=True)
    assert answers_json(answer, [answer]) == standard(answer)


def test_keys_sort_by_code_point() -> None:
    answer = an_answer(zz={"é": 1, "e": 2, "ä": 3, "Z": 4, "呼": 5, "😀": 6, "\uffff": 7})
    assert canonical_json(answer) == standard(answer, sort_keys=True)


def test_answers_over_http_are_the_standard_encoding_and_digest(
    client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    zhujian = make_token("department", uscc=ZHUJIAN, name="呼伦贝尔市住房和城乡建设局")
    bidding = make_token("consumer", name="电子招投标交易平台")
    rep = {"name": "张建国", "id_number": PERSON_ID}
    org = {"type": "organization", "name": "北疆", "uscc": BEIJIANG, "legal_rep": rep}
    listing = {
        "kind": "blacklist",
        "ref": "HMD-REP",
        "decided_on": "2026-06-02",
        "list": "ggzy-serious",
        "listed_on": "2026-06-02",
        "basis": "发改法规〔2018〕457号",
        "reason": '串通投标\n\t"引号"\\',
        "subject": {
            "type": "person",
            "name": "张建国",
            "id_type": "身份证",
            "id_number": PERSON_ID,
        },
    }
    for records in ([penalty("P-1", uscc=BEIJIANG, subject=org)], [listing]):
        resp = client.post("/api/v1/records", json={"records": records}, headers=zhujian)
        assert resp.status_code == 200, resp.get_json()
    bodies = [
        client.get(f"/api/v1/check/{code}?domain={domain}", headers=bidding).data
        for code in (BEIJIANG, SHUDAO)
        for domain in ("construction", "procurement")
    ]
    resp = client.post(
        "/api/v1/check",
        json={"domain": "land", "subjects": [{"uscc": BEIJIANG}, {"uscc": SHUDAO}]},
        headers=bidding,
    )
    bodies.append(resp.data)
    answers = []
    for body in bodies:
        parsed = json.loads(body)  # keeps the order of the keys as written
        assert body == standard(parsed)
        answers += parsed.get("results", [parsed])
    assert answers[0]["related"]
    assert answers[0]["known"]
    assert not answers[2]["known"]
    for answer in answers:
        told = copy.deepcopy(answer)
        check = told.pop("check")
        assert canonical_json(told) == standard(told, sort_keys=True)
        assert check["digest"] == hashlib.sha256(standard(told, sort_keys=True)).hexdigest()
