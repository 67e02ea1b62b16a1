"""The answer to a push is what IngestResultSchema documents, whoever encodes it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from schemas.records import IngestResultSchema
from tests.records.samples import ZHUJIAN, penalty


@pytest.mark.parametrize("atomic", [False, True])
def test_the_answer_is_the_documented_one(
    client: FlaskClient, make_token: Callable[..., dict[str, str]], atomic: bool
) -> None:
    headers = make_token("department", uscc=ZHUJIAN, name="住建局")
    records = [penalty(), penalty(ref="x", decided_on="2099-01-01"), penalty(ref="y")]
    url = "/api/v1/records" + ("?atomic=true" if atomic else "")
    resp = client.post(url, json={"records": records}, headers=headers)
    assert resp.status_code == (422 if atomic else 200)
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert body == IngestResultSchema().dump(body)  # nothing the schema would leave out
    assert [r["status"] for r in body["results"]] == (
        ["rejected"] * 3 if atomic else ["created", "rejected", "created"]
    )
    assert (body["accepted"], body["rejected"]) == ((0, 3) if atomic else (2, 1))
    assert "decided_on" in body["results"][1]["errors"]
