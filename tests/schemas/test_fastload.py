"""The compiled loader gives exactly what the record schema gives, or declines: it never
accepts what the schema refuses, and what it accepts loads to the same values, in the same
key order."""

from __future__ import annotations

import copy
import tracemalloc
from typing import Any

import pytest
from marshmallow import Schema, ValidationError, fields, post_load, validate

from schemas.fastload import Decline, compile_loader
from schemas.records import RecordInSchema
from tests.records.samples import BEIJIANG, PERSON_ID, ZHUJIAN, penalty

SCHEMA = RecordInSchema()
FAST = compile_loader(SCHEMA)


def peer(record: dict[str, Any], version: int = 1) -> dict[str, Any]:
    return {
        **record,
        "authority": {"name": "住建局", "uscc": ZHUJIAN},
        "origin": {"hub": "province", "id": "p-1", "version": version},
    }


VALID = [
    penalty(),
    peer(penalty()),
    peer(penalty(severity=None, publish_until="2029-05-01", valid_until="2027-01-01")),
    peer(penalty(sector="safety", domains=["construction"], note="备注", severity="serious")),
    peer(penalty(confiscated_yuan="12.5", license_action="暂扣", fine_yuan="0")),
    peer(penalty(fine_yuan=20000)),  # a number: the field itself loads it
    peer(penalty(status="revoked", revoked={"at": "2026-06-01T08:00:00+08:00", "reason": "错"})),
    peer(penalty(status="active", revoked=None)),
    # free text with ID numbers in it: loaded masked, on both paths
    peer(penalty(facts=f"当事人{PERSON_ID}，旧证150102800101123", basis="第六十二条")),
    peer(penalty(decided_on="1900-01-01", valid_until="2999-12-31")),
    peer(
        penalty(
            subject={
                "type": "organization",
                "name": "北疆",
                "uscc": BEIJIANG,
                "legal_rep": {"name": "王建军", "id_type": "居民身份证", "id_number": PERSON_ID},
                "legacy_codes": {"org_code": "MA1B3N1N2"},
            }
        )
    ),
    peer(
        {
            "kind": "blacklist",
            "ref": "B-1",
            "subject": {
                "type": "person",
                "name": "张三",
                "id_type": "居民身份证",
                "id_number": PERSON_ID,
            },
            "decided_on": "2026-03-01",
            "list": "serious_dishonest",
            "listed_on": "2026-03-02",
            "expires_on": "2029-03-02",
            "reason": "串通投标",
        }
    ),
    peer(
        {
            "kind": "misconduct",
            "ref": "M-1",
            "subject": {"type": "organization", "name": "北疆", "uscc": BEIJIANG},
            "decided_on": "2026-03-01",
            "code": "bid_rigging",
            "occurred_on": "2026-02-01",
            "project": "某工程",
            "description": "描述",
            "source": {"name": "交易中心"},
        }
    ),
    peer(
        {
            "kind": "commendation",
            "ref": "C-1",
            "subject": {"type": "organization", "name": "北疆", "uscc": BEIJIANG},
            "decided_on": "2026-03-01",
            "code": "aaa",
            "awarded_on": "2026-03-01",
        }
    ),
]

INVALID_CHANGES: list[tuple[str, Any]] = [
    ("kind", "fine"),
    ("kind", None),
    ("ref", ""),
    ("ref", "x" * 129),
    ("ref", 12),
    ("decided_on", "2026-13-01"),
    ("decided_on", "2026/05/01"),
    ("decided_on", None),
    ("decided_on", 20260501),
    ("categories", []),
    ("categories", "罚款"),
    ("categories", ["罚款", None]),
    ("categories", ["罚款", 3]),
    ("categories", ["罚款"] * 15),
    ("fine_yuan", "-1"),
    ("fine_yuan", "NaN"),
    ("fine_yuan", "lots"),
    ("fine_yuan", None),
    ("severity", "huge"),
    ("status", "gone"),
    ("status", None),
    ("list", "serious_dishonest"),  # not a field of a penalty
    ("valid_until", "2020-01-01"),  # before decided_on
    ("unheard_of", 1),
    ("origin", {"hub": "province", "id": "p-1", "version": 0}),
    ("origin", {"hub": "province", "id": "p-1", "version": True}),
    ("origin", {"hub": "province", "id": "p-1"}),
    ("origin", {"hub": "province", "id": "p-1", "version": 1, "extra": 1}),
    ("origin", ["province"]),
    ("origin", None),
    ("subject", {"type": "robot", "name": "x"}),
    ("subject", {"type": "organization"}),
    ("subject", {"type": "organization", "name": "x" * 301}),
    ("subject", {"type": "organization", "name": "x", "legal_rep": {"name": ""}}),
    ("subject", {"type": "organization", "name": "x", "legacy_codes": {"org_code": 5}}),
    ("subject", "北疆"),
    ("revoked", {"at": "2026-06-01T08:00:00", "reason": "no zone"}),
    ("revoked", {"reason": "no time"}),
    ("domains", ["a"] * 21),
    ("note", "x" * 2001),
    ("decided_on", "1899-12-31"),
    ("decided_on", "0001-01-01"),
    ("valid_until", "3000-01-01"),
    ("valid_until", "9999-12-31"),
    ("fine_yuan", "1" + "0" * 15 + ".01"),
    ("fine_yuan", "1" + "0" * 30),
    ("revoked", {"at": "0001-01-01T00:00:00+14:00", "reason": "at the calendar's start"}),
    ("revoked", {"at": "9999-12-31T23:59:59-12:00", "reason": "at the calendar's end"}),
    ("origin", {"hub": "province", "id": "p-1", "version": 10**30}),
]


def outcome(load: Any, item: Any) -> Any:
    try:
        return ("ok", list(load(item).items()))
    except ValidationError as exc:
        return ("invalid", exc.normalized_messages())


def test_the_record_schema_compiles() -> None:
    assert FAST is not None


def test_free_text_is_loaded_with_id_numbers_masked() -> None:
    assert FAST is not None
    item = peer(penalty(facts=f"当事人{PERSON_ID}"))
    assert FAST(item)["facts"] == SCHEMA.load(item)["facts"] == "当事人110105********002X"


@pytest.mark.parametrize("item", VALID)
def test_a_valid_record_loads_as_the_schema_loads_it(item: dict[str, Any]) -> None:
    assert FAST is not None
    given = copy.deepcopy(item)
    fast = FAST(item)
    assert item == given  # the input is left as it was
    assert list(fast.items()) == list(SCHEMA.load(item).items())
    assert repr(fast) == repr(SCHEMA.load(item))  # nested values, types and order included


@pytest.mark.parametrize(("key", "value"), INVALID_CHANGES)
def test_what_the_schema_refuses_is_declined(key: str, value: Any) -> None:
    assert FAST is not None
    item = peer(penalty())
    item[key] = value
    with pytest.raises(ValidationError):
        SCHEMA.load(item)
    with pytest.raises(Decline):
        FAST(item)


@pytest.mark.parametrize("missing", ["kind", "ref", "subject", "decided_on", "categories"])
def test_a_record_without_a_required_field_is_declined(missing: str) -> None:
    assert FAST is not None
    item = peer(penalty())
    del item[missing]
    with pytest.raises(ValidationError):
        SCHEMA.load(item)
    with pytest.raises(Decline):
        FAST(item)


@pytest.mark.parametrize("item", [None, [], "record", 5])
def test_what_is_not_an_object_is_declined(item: Any) -> None:
    assert FAST is not None
    with pytest.raises(Decline):
        FAST(item)


@pytest.mark.parametrize(
    ("key", "value"), [("decided_on", "20260501"), ("origin", {
        "hub": "province", "id": "p-1", "version": 1.0}), ("origin", {
        "hub": "province", "id": "p-1", "version": "2"})]
)  # fmt: skip
def test_an_unusual_spelling_the_schema_takes_is_declined_not_misread(key: str, value: Any) -> None:
    """The fast path vouches only for the plain form: the schema loads the rest."""
    assert FAST is not None
    item = peer(penalty())
    item[key] = value
    SCHEMA.load(item)
    with pytest.raises(Decline):
        FAST(item)


def test_a_schema_with_hooks_it_does_not_know_is_not_compiled() -> None:
    class WithPostLoad(Schema):
        name = fields.String()

        @post_load
        def _make(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
            return {"made": data}

    class Renamed(Schema):
        name = fields.String(data_key="Name")

    class Defaulted(Schema):
        name = fields.String(load_default="x")

    assert compile_loader(WithPostLoad()) is None
    assert compile_loader(Renamed()) is None
    assert compile_loader(Defaulted()) is None


def test_a_validator_it_does_not_know_is_called_as_the_schema_calls_it() -> None:
    class Odd(Schema):
        class Meta:
            unknown = "raise"

        code = fields.String(validate=validate.Regexp(r"[A-Z]+\Z"))

    load = compile_loader(Odd())
    assert load is not None
    assert load({"code": "ABC"}) == Odd().load({"code": "ABC"})
    with pytest.raises(Decline):
        load({"code": "abc"})


def _decline_many(count: int, items: list[dict[str, Any]]) -> None:
    assert FAST is not None
    declined = 0
    for i in range(count):
        try:
            FAST(items[i % len(items)])
        except Decline:  # as records.prepare does: the schema loads it instead
            declined += 1
    assert declined == count


def test_declining_keeps_nothing_alive() -> None:
    """A long-lived worker declines items all day: what a decline leaves behind (tracebacks,
    frames, the items they reference) must not pile up."""
    items = []
    for key, value in INVALID_CHANGES:
        item = peer(penalty())
        item[key] = value
        items.append(item)
    items.append({**peer(penalty()), "unknown": 1})
    _decline_many(1_000, items)  # warm up: caches, interned strings
    tracemalloc.start()
    try:
        _decline_many(1_000, items)
        after_few = tracemalloc.get_traced_memory()[0]
        _decline_many(20_000, items)
        after_many = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after_many - after_few < 64 * 1024, "declined items leave memory behind"
