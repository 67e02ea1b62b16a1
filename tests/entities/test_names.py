"""A subject's names: the name on its latest decision is current, the others are former names;
a record keeps the name its own decision states, in its history too."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from credithub.db import db
from credithub.entities.models import Subject
from credithub.entities.names import Names
from credithub.entities.service import ensure_subjects, parse_subject
from tests.records.samples import BEIJIANG, ZHUJIAN, penalty

Headers = dict[str, str]
D = date.fromisoformat
OLD, NEW, OLDER = "呼伦贝尔市北疆建筑工程有限公司", "北疆建设集团有限公司", "呼伦贝尔北疆建筑公司"


@pytest.mark.parametrize(
    ("stated", "current"),
    [
        ([("A", "2024-01-01")], "A"),
        ([("A", "2024-01-01"), ("B", "2025-01-01")], "B"),  # a newer decision renames
        ([("A", "2024-01-01"), ("B", "2023-01-01")], "A"),  # an older one arrives late
        ([("A", "2024-01-01"), ("B", "2024-01-01")], "B"),  # same date: the later arrival
        # The current name stated again later: an intermediate decision does not take over.
        ([("A", "2020-01-01"), ("A", "2024-01-01"), ("B", "2022-01-01")], "A"),
        ([("A", "2020-01-01"), ("B", "2022-01-01"), ("A", "2024-01-01")], "A"),
        ([("B", "2025-01-01"), ("A", "2024-01-01"), ("B", "2023-01-01")], "B"),
        ([("A", "2024-01-01"), ("B", "2025-01-01"), ("A", "2026-01-01")], "A"),  # renamed back
    ],
)
def test_the_name_on_the_latest_decision_is_current(
    stated: list[tuple[str, str]], current: str
) -> None:
    first, *rest = stated
    names = Names.first(first[0], D(first[1]))
    for name, when in rest:
        names.note(name, D(when))
    assert names.current == current
    dates: dict[str, list[date]] = {}
    for name, when in stated:
        dates.setdefault(name, []).append(D(when))
    assert names.seen == {name: [min(ds), max(ds)] for name, ds in dates.items()}


def org(name: str) -> dict[str, Any]:
    return {"type": "organization", "name": name, "uscc": BEIJIANG}


def ensure(app: Flask, *stated: tuple[str, str]) -> str:
    """One batch naming the subject under each (name, decision date), in that order."""
    with app.app_context(), db.transaction() as session:
        refs = [parse_subject(org(name))[0] for name, _ in stated]
        ids = ensure_subjects(session, refs, [D(when) for _, when in stated])
    assert len(set(ids)) == 1
    return ids[0]


def names_of(app: Flask, sid: str) -> tuple[str, dict[str, tuple[str, str]]]:
    with app.app_context():
        subject = db.session.get(Subject, sid)
        assert subject is not None
        spans = {n.name: (n.first_seen.isoformat(), n.last_seen.isoformat()) for n in subject.names}
        return subject.name, spans


@pytest.mark.parametrize("in_one_batch", [False, True], ids=["batch by batch", "one batch"])
def test_a_stored_subject_keeps_its_dates_and_current_name(app: Flask, in_one_batch: bool) -> None:
    stated = [("A", "2020-01-01"), ("A", "2024-01-01"), ("B", "2022-01-01"), ("A", "2019-06-01")]
    if in_one_batch:
        sid = ensure(app, *stated)
    else:
        sid = ensure(app, stated[0])
        for item in stated[1:]:
            assert ensure(app, item) == sid
    assert names_of(app, sid) == (
        "A",
        {"A": ("2019-06-01", "2024-01-01"), "B": ("2022-01-01", "2022-01-01")},
    )
    assert ensure(app, ("B", "2024-01-01")) == sid  # same date as A's latest: B now
    assert names_of(app, sid)[0] == "B"


@pytest.fixture
def zhujian(make_token: Callable[..., Headers]) -> Headers:
    return make_token("department", uscc=ZHUJIAN, name="呼伦贝尔市住房和城乡建设局")


def push(client: FlaskClient, headers: Headers, record: dict[str, Any]) -> dict[str, Any]:
    resp = client.post("/api/v1/records", json={"records": [record]}, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    result: dict[str, Any] = resp.get_json()["results"][0]
    assert result["status"] in ("created", "updated"), result
    return result


def named(ref: str, name: str, decided_on: str, **extra: Any) -> dict[str, Any]:
    return penalty(ref=ref, subject=org(name), decided_on=decided_on, **extra)


def test_a_rename_keeps_each_record_as_its_decision_states_it(
    client: FlaskClient, zhujian: Headers
) -> None:
    first = push(client, zhujian, named("呼住建罚〔2025〕3号", OLD, "2025-03-01"))
    # The first record is corrected before the rename: its history has two versions.
    push(client, zhujian, named("呼住建罚〔2025〕3号", OLD, "2025-03-01", fine_yuan="30000"))
    second = push(client, zhujian, named("呼住建罚〔2026〕9号", NEW, "2026-04-01"))
    # A file of older decisions arrives afterwards, under a still older name.
    third = push(client, zhujian, named("呼住建罚〔2024〕1号", OLDER, "2024-02-01"))

    def record(result: dict[str, Any]) -> dict[str, Any]:
        url = f"/api/v1/records/{result['id']}"
        got: dict[str, Any] = client.get(url, headers=zhujian).get_json()
        return got

    earlier = record(first)
    assert earlier["subject"]["name"] == OLD
    assert earlier["version"] == 2
    assert [h["record"]["subject"]["name"] for h in earlier["history"]] == [OLD, OLD]
    assert record(second)["subject"]["name"] == NEW
    assert record(third)["subject"]["name"] == OLDER

    profile = client.get(f"/api/v1/entities/{BEIJIANG}", headers=zhujian).get_json()
    assert profile["name"] == NEW
    assert {n["name"]: (n["first_seen"], n["last_seen"]) for n in profile["names"]} == {
        OLD: ("2025-03-01", "2025-03-01"),
        NEW: ("2026-04-01", "2026-04-01"),
        OLDER: ("2024-02-01", "2024-02-01"),
    }
    by_ref = {r["ref"]: r["subject"]["name"] for r in profile["records"]}
    refs = ("呼住建罚〔2025〕3号", "呼住建罚〔2026〕9号", "呼住建罚〔2024〕1号")
    assert by_ref == dict(zip(refs, (OLD, NEW, OLDER), strict=True))
    for former in (OLD, OLDER):
        found = client.get("/api/v1/entities", query_string={"q": former}, headers=zhujian)
        assert [i["uscc"] for i in found.get_json()["items"]] == [BEIJIANG]
        assert found.get_json()["items"][0]["name"] == NEW


def test_a_record_sent_again_under_another_name_is_a_correction(
    client: FlaskClient, zhujian: Headers
) -> None:
    first = push(client, zhujian, named("呼住建罚〔2026〕9号", OLD, "2026-04-01"))
    again = push(client, zhujian, named("呼住建罚〔2026〕9号", NEW, "2026-04-01"))
    assert (again["id"], again["status"], again["version"]) == (first["id"], "updated", 2)
    got = client.get(f"/api/v1/records/{first['id']}", headers=zhujian).get_json()
    assert got["subject"]["name"] == NEW
    assert [h["record"]["subject"]["name"] for h in got["history"]] == [OLD, NEW]
    profile = client.get(f"/api/v1/entities/{BEIJIANG}", headers=zhujian).get_json()
    assert profile["name"] == NEW  # same decision date: the later arrival
