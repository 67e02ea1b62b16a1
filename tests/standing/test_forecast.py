"""Forecasts made for a batch: a standing computed once per record shape and filled in with each
record's identity is the standing computed for that record on its own."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from credithub.rules.pack import RulePack, load_pack
from credithub.standing.compute import IDENTITY, RecordFacts, compute_standing, shape
from credithub.standing.service import Forecast, Forecaster, forecast

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return load_pack("default")


def record(n: int, **kw: Any) -> RecordFacts:
    values: dict[str, Any] = {
        "id": f"01a2{n:028x}",
        "kind": "penalty",
        "ref": f"呼住建罚〔2026〕{n}号",
        "authority_uscc": "11230500001755309F",
        "authority_name": "呼伦贝尔市住房和城乡建设局",
        "decided_on": date(2026, 3, 2),
        "starts_on": date(2026, 3, 2),
        "ends_on": date(2027, 12, 31),
        "code": None,
        "categories": ("罚款",),
        "fine_yuan": Decimal("1000.00"),
        "domains": (),
        "severity": "minor",
        "status": "active",
        "revoked_at": None,
        "basis": "《建筑法》第六十四条",
    }
    values.update(kw)
    return RecordFacts(**values)


def decoded(f: Forecast) -> dict[str, Any]:
    return {
        "record_ids": f.record_ids,
        "computed_at": f.computed_at,
        "valid_until": f.valid_until,
        "pack": f.pack_digest,
        "data": json.loads(f.data),
        "text": str(f.data),
    }


def identity(rng: random.Random, n: int) -> dict[str, Any]:
    """An identity with texts that JSON escapes (quotes, backslashes, controls, separators)."""
    return {
        "id": f"01a3{n:028x}",
        "ref": rng.choice([f"ref-{n}", f'引号"{n}"', f"反斜杠\\{n}", f"\u2028{n}", f"\x01{n}"]),
        "authority_name": rng.choice(["呼伦贝尔市财政局", 'a "quoted" \\ name', "tab\there"]),
        "basis": rng.choice(["", "《政府采购法》第七十七条", 'x"y']),
    }


def varied(rng: random.Random, n: int) -> RecordFacts:
    """A record of any kind with any dates, fines, codes and state."""
    day = date(2025, rng.randint(1, 12), rng.randint(1, 28))
    common: dict[str, Any] = {
        **identity(rng, n),
        "decided_on": day,
        "starts_on": day,
        "ends_on": rng.choice([None, date(2027, 12, 31)]),
        "status": rng.choice(["active", "active", "disputed", "expired"]),
    }
    kind = rng.choice(["penalty", "penalty", "blacklist", "misconduct", "commendation"])
    if kind == "penalty":
        return record(
            n,
            **common,
            kind="penalty",
            categories=rng.choice([("罚款",), ("警告", "罚款"), ("责令停产停业",), ()]),
            fine_yuan=rng.choice(
                [None, Decimal("500"), Decimal("1999999.99"), Decimal("2000000"), Decimal("3e6")]
            ),
            severity=rng.choice(["minor", "general", "serious", None]),
        )
    code = {
        "blacklist": ["ggzy-serious", "gp-serious", "bidding-ban", "no-such-list"],
        "misconduct": ["C-BID-COLLUSION", "C-BID-FRAUD", "C-WIN-ABANDON", "C-UNKNOWN"],
        "commendation": ["tax-a", "no-such-award"],
    }[kind]
    return record(
        n,
        **common,
        kind=kind,
        code=rng.choice(code),
        categories=(),
        fine_yuan=None,
        severity=None,
        domains=rng.choice([(), ("construction",), ("procurement", "construction")]),
    )


def test_a_shared_shape_gives_each_record_its_own_standing(pack: RulePack) -> None:
    rng = random.Random(20261124)
    forecaster = Forecaster(NOW, pack)
    records = []
    for n in range(500):
        first = varied(rng, n)
        # Three more of the same shape, each with an identity of its own.
        records += [first, *(replace(first, **identity(rng, n * 10 + k)) for k in range(1, 4))]
    rng.shuffle(records)
    for r in records:
        assert decoded(forecaster.forecast([r])) == decoded(forecast([r], NOW, pack)), r


def test_fines_within_one_trigger_step_share_a_shape_and_across_it_do_not(
    pack: RulePack,
) -> None:
    below, also_below = record(1, fine_yuan=Decimal("500")), record(2, fine_yuan=Decimal("900"))
    above = record(3, fine_yuan=Decimal("2000000"))
    assert shape(below, pack) == shape(also_below, pack) != shape(above, pack)
    forecaster = Forecaster(NOW, pack)
    for r in (below, also_below, above):
        assert decoded(forecaster.forecast([r])) == decoded(forecast([r], NOW, pack))
    restricted = json.loads(forecaster.forecast([above]).data)["restrictions"]
    assert [x["measure"] for x in restricted] == ["gp-major-bar"]
    assert restricted[0]["record_id"] == above.id
    # Without a severity the fine classifies the penalty: it is read as it is.
    assert shape(replace(below, severity=None), pack) != shape(
        replace(also_below, severity=None), pack
    )


def test_every_fact_but_the_identity_is_part_of_the_shape(pack: RulePack) -> None:
    base = record(1, kind="blacklist", code="ggzy-serious", categories=(), fine_yuan=None)
    other: dict[str, Any] = {
        "id": "x",
        "kind": "misconduct",
        "ref": "y",
        "authority_uscc": "12100000000000000X",
        "authority_name": "z",
        "decided_on": date(2026, 1, 1),
        "starts_on": date(2026, 1, 2),
        "ends_on": date(2026, 1, 3),
        "code": "gp-serious",
        "categories": ("警告",),
        "fine_yuan": Decimal("1"),
        "domains": ("land",),
        "severity": "serious",
        "status": "revoked",
        "revoked_at": NOW,
        "basis": "b",
        "legal_rep_id": "p",
    }
    assert set(other) == {f for f in RecordFacts.__dataclass_fields__}
    for name, value in other.items():
        changed = shape(replace(base, **{name: value}), pack) != shape(base, pack)
        assert changed == (name not in IDENTITY), name


def test_a_stand_in_inside_a_longer_text_is_not_filled_in(pack: RulePack) -> None:
    """Were the computation to write an identity into a longer text (here: a pack whose measure
    title holds the stand-in of the ref), filling in could not be exact: the record is computed
    on its own."""
    bar = pack.measures["gp-major-bar"]
    odd = replace(pack, measures={**pack.measures, bar.code: replace(bar, title="x\x00ref\x00y")})
    r = record(1, fine_yuan=Decimal("2000000"))
    assert compute_standing([r], odd, NOW).restrictions[0].title == "x\x00ref\x00y"
    got = Forecaster(NOW, odd).forecast([r])
    assert decoded(got) == decoded(forecast([r], NOW, odd))
    assert json.loads(got.data)["restrictions"][0]["title"] == "x\x00ref\x00y"


def test_several_records_of_one_subject_are_computed_together(pack: RulePack) -> None:
    records = [record(1), record(2, kind="blacklist", code="ggzy-serious", fine_yuan=None)]
    got = Forecaster(NOW, pack).forecast(records)
    assert decoded(got) == decoded(forecast(records, NOW, pack))
    assert got.record_ids == {r.id for r in records}
