"""What the single check is made of: a restriction's fields come from one definition, and the
SQL that decides whether a stored standing answers an instant is `service.is_current`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from flask import Flask
from sqlalchemy import select

from credithub.db import db
from credithub.entities.models import Subject
from credithub.rules import active_pack
from credithub.standing.check import IS_CURRENT
from credithub.standing.models import StandingRow
from credithub.standing.service import is_current
from credithub.standing.values import Restriction
from schemas.check import RESTRICTION_KEYS, RestrictionSchema
from tests.records.samples import SHUDAO

RESTRICTION = Restriction(
    measure="ggzy-bar",
    title="限制参与公共资源交易活动",
    effect="bar",
    domains=("construction", "land"),
    start=date(2026, 6, 2),
    until=None,
    basis="发改法规〔2018〕457号",
    record_id="0" * 32,
    authority="住建局",
    reason="串通投标",
)


def test_a_restriction_is_written_with_the_answers_fields_in_their_order() -> None:
    answered = ("measure", "title", "effect", "domains", "from", "until", "basis", "record_id")
    assert (*answered, "authority", "reason", "disputed") == RESTRICTION_KEYS
    stored = RESTRICTION.to_dict()
    assert tuple(stored) == RESTRICTION_KEYS
    assert Restriction.from_dict(stored) == RESTRICTION
    assert RestrictionSchema().dump(stored) == stored  # the document says what is answered


COMPUTED = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
VALID_UNTIL = datetime(2026, 12, 1, 0, 0, 0, 500, tzinfo=UTC)  # microseconds count
TICK = timedelta(microseconds=1)
CHINA = timezone(timedelta(hours=8))
# Each instant, and whether a standing computed at COMPUTED and valid until VALID_UNTIL
# answers for it (valid_until is exclusive).
INSTANTS = {
    "before computed": (COMPUTED - TICK, False),
    "computed": (COMPUTED, True),
    "after computed": (COMPUTED + TICK, True),
    "just before valid_until": (VALID_UNTIL - TICK, True),
    "valid_until": (VALID_UNTIL, False),
    "valid_until, China time": (VALID_UNTIL.astimezone(CHINA), False),
    "just after valid_until": (VALID_UNTIL + TICK, False),
}


@pytest.mark.parametrize("valid_until", [VALID_UNTIL, None], ids=["until", "open"])
@pytest.mark.parametrize("same_pack", [True, False], ids=["pack", "other-pack"])
@pytest.mark.parametrize(("at", "answers_until"), INSTANTS.values(), ids=INSTANTS.keys())
def test_the_sql_rule_is_is_current_at_the_boundaries(
    app: Flask, at: datetime, answers_until: bool, valid_until: datetime | None, same_pack: bool
) -> None:
    expected = same_pack and (answers_until or (valid_until is None and at >= COMPUTED))
    with app.app_context():
        pack = active_pack()
        digest = pack.digest if same_pack else "0" * 64
        stored = SimpleNamespace(computed_at=COMPUTED, valid_until=valid_until, pack_digest=digest)
        with db.transaction() as session:
            session.add(Subject(id="s" * 32, type="organization", name="蜀道", uscc=SHUDAO))
            session.flush()
            session.add(StandingRow(subject_id="s" * 32, data={}, **vars(stored)))
        row = db.session.get(StandingRow, "s" * 32)
        assert row is not None
        assert (row.computed_at, row.valid_until) == (COMPUTED, valid_until)  # kept exactly
        answers = db.session.scalars(
            select(StandingRow.subject_id).where(IS_CURRENT), {"at": at, "digest": pack.digest}
        ).all()
        assert is_current(stored, at, pack) is expected
        assert is_current(row, at, pack) is expected
        assert bool(answers) is expected
