"""A batch's subjects are parsed once each (records.prepare.Subjects): the records naming one
subject share its ref; a subject told apart by any field it is parsed from is another."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from credithub.entities import parse
from credithub.records import prepare
from credithub.records.prepare import Actor
from credithub.records.service import Context, prepare_batch
from tests.records.samples import BEIJIANG, ZHUJIAN, penalty, represented

ACTOR = Actor("zhujian", "department", ZHUJIAN)


def _batch(app: Flask, items: list[dict[str, Any]]) -> Any:
    with app.app_context():
        return prepare_batch(items, ACTOR, Context.of_app())


def test_records_naming_one_subject_share_its_ref(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []

    def counted(data: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(data)
        return parse.parse_subject(data, *args, **kwargs)

    monkeypatch.setattr(prepare, "parse_subject", counted)
    items = [
        penalty(f"呼住建罚〔2026〕{n}号", subject=represented(BEIJIANG, "北疆")) for n in range(4)
    ]
    items.append(penalty("呼住建罚〔2026〕9号", subject=represented(BEIJIANG, "北疆公司")))
    batch = _batch(app, items)
    refs = [p.subject for p in batch.prepared]
    reps = [p.legal_rep for p in batch.prepared]
    assert all(ref is refs[0] for ref in refs[:4])
    assert all(rep is reps[0] for rep in reps)
    assert refs[4] is not refs[0]  # another name: parsed again
    assert refs[4].name == "北疆公司"
    assert len(calls) == 3  # 北疆, 北疆公司 and their legal representative
    # If new, a subject gets one id, whichever of its records creates it.
    assert len({p.subject_id for p in batch.prepared[:4]}) == 1
    assert len({p.legal_rep_made_id for p in batch.prepared}) == 1
    assert batch.prepared[4].subject_id != batch.prepared[0].subject_id


def test_warnings_are_each_records_own(app: Flask) -> None:
    """A code on the allow-list is accepted with a warning, given to every record naming it."""
    app.extensions["credithub.uscc_allow"] = frozenset({"91230500MA1B3N1N2X"})
    subject = {"type": "organization", "name": "北疆", "uscc": "91230500MA1B3N1N2X"}
    batch = _batch(app, [penalty(f"{n}号", subject=subject) for n in range(2)])
    first, second = (p.warnings for p in batch.prepared)
    assert first == second
    assert first
    assert first is not second


def test_subjects_differing_only_in_a_legacy_code_are_two(app: Flask) -> None:
    def subject(tax_reg: str) -> dict[str, Any]:
        return {"type": "organization", "name": "北疆", "legacy_codes": {"tax_reg": tax_reg}}

    items = [
        penalty("1号", subject=subject("150702MA0N1A1B2C")),
        penalty("2号", subject=subject("150702MA0N1A1B2D")),
    ]
    first, second = (p.subject for p in _batch(app, items).prepared)
    assert first is not second
    assert (first.legacy, second.legacy) == (
        {"tax_reg": "150702MA0N1A1B2C"},
        {"tax_reg": "150702MA0N1A1B2D"},
    )
