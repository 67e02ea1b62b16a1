"""Records load as the record schema loads them: the plain ones (as departments' systems and
peers send them) on the compiled path, anything else through the schema, with its errors."""

from __future__ import annotations

from typing import Any

import pytest

from credithub.errors import Invalid
from credithub.records.prepare import load_api_record, load_by_schema
from schemas.records import RecordInSchema
from tests.records.samples import ZHUJIAN, penalty, represented


def peer_record(**extra: Any) -> dict[str, Any]:
    return {
        **penalty(**extra),
        "authority": {"name": "住建局", "uscc": ZHUJIAN},
        "origin": {"hub": "province", "id": "p-1", "version": 2},
    }


def by_name(legal_rep: Any) -> dict[str, Any]:
    """A record whose subject names its legal representative as `legal_rep`."""
    return penalty(subject={**represented(), "legal_rep": legal_rep})


@pytest.mark.parametrize(
    "record",
    [penalty(), peer_record(), by_name("王建军"), by_name({"name": "王建军"})],
    ids=["department", "peer", "legal_rep a name", "legal_rep an object"],
)
def test_a_plain_record_does_not_go_through_the_schema(
    monkeypatch: pytest.MonkeyPatch, record: dict[str, Any]
) -> None:
    expected = load_by_schema(record)

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("the schema was asked")

    monkeypatch.setattr(RecordInSchema, "load", refuse)
    assert load_api_record(record) == expected


@pytest.mark.parametrize(
    "extra",
    [
        {"decided_on": "2026-02-30"},
        {"fine_yuan": "-5"},
        {"kind": "fine"},
        {"colour": "red"},
        {"subject": {**represented(), "legal_rep": ""}},
        {"subject": {**represented(), "legal_rep": ["王建军"]}},
        {"subject": {**represented(), "legal_rep": {"name": "王建军", "age": 50}}},
    ],
)
def test_a_bad_record_is_refused_with_the_schemas_errors(extra: dict[str, Any]) -> None:
    with pytest.raises(Invalid) as expected:
        load_by_schema(peer_record(**extra))
    with pytest.raises(Invalid) as got:
        load_api_record(peer_record(**extra))
    assert got.value.errors == expected.value.errors


def test_a_named_legal_representative_loads_as_the_object_of_its_name() -> None:
    assert load_api_record(by_name("王建军")) == load_api_record(by_name({"name": "王建军"}))
    assert load_api_record(by_name("王建军"))["subject"]["legal_rep"] == {"name": "王建军"}


def test_a_spelling_only_the_schema_reads_is_still_read() -> None:
    record = peer_record(decided_on="20260501")  # ISO basic format: the schema takes it
    assert load_api_record(record) == load_by_schema(record)
