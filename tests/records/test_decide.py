"""The decision table of the write path: one row per rule of `records.decide`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from credithub.entities.service import SubjectRef
from credithub.records.decide import (
    MAX_VERSION_STEP,
    Arrived,
    Decision,
    Insert,
    Origin,
    Refused,
    Rejected,
    State,
    Stored,
    Unchanged,
    Update,
    decide,
    lookup,
    refusal,
    unbound,
)
from credithub.records.normal_form import Prepared
from credithub.records.prepare import Actor

HUB, PEER = "city", "province"
TODAY = date(2026, 6, 1)
ZHUJIAN, CAIZHENG = "11230500001755309F", "11150700012345670A"
REVOKED_AT = datetime(2026, 5, 20, 8, 0, tzinfo=UTC)


def prepared(**changes: Any) -> Prepared:
    """A checked penalty of 住建局 against one organization."""
    fields: dict[str, Any] = {
        "index": 0,
        "kind": "penalty",
        "ref": "呼住建罚〔2026〕12号",
        "authority_uscc": ZHUJIAN,
        "authority_name": "呼伦贝尔市住房和城乡建设局",
        "decided_on": date(2026, 5, 1),
        "subject": SubjectRef("organization", "北疆", uscc="91230500MA1B3N1N2M"),
        "legal_rep": None,
        "content_json": '{"categories":["罚款"]}',
        "domains": ["construction"],
        "severity": "general",
        "publish_until": None,
        "code": None,
        "starts_on": date(2026, 5, 1),
        "ends_on": date(2026, 11, 1),
        "origin": None,
        "raw_json": None,
        "record_id": "r-new",
        "subject_id": "s-1",
        **changes,
    }
    return Prepared(**fields)


def arrived(**changes: Any) -> Arrived:
    return Arrived(prepared(**changes), "s-1", None)


def from_peer(version: int, status: str = "active", **changes: Any) -> Arrived:
    origin = {"hub": PEER, "id": "p-1", "version": version}
    revoked = {"at": REVOKED_AT, "reason": "复议撤销", "by": "省住建厅"}
    gone = status in ("revoked", "repaired")
    return arrived(origin=origin, status=status, revoked=revoked if gone else None, **changes)


def stored(status: str = "active", origin: Origin | None = None, **changes: Any) -> Stored:
    """What the hub holds: version 3 of one of its own records, with the digest of `arrived()`."""
    held = Stored(
        id="r-1",
        version=3,
        content_hash=arrived().digest,
        origin=origin or Origin(HUB, "r-1", 3),
        state=State(status, REVOKED_AT if status == "revoked" else None),
    )
    return replace(held, **changes)


def peers(version: int) -> Stored:
    """What the hub holds of a peer's record: version 2 at its origin."""
    return stored(origin=Origin(PEER, "p-1", version), version=2)


PEER_REVOKED = State("revoked", REVOKED_AT, "复议撤销", "省住建厅")
PEER_REPAIRED = State("repaired", REVOKED_AT, "复议撤销", "省住建厅")
REVOKED_MESSAGE = (
    "this record was revoked on 2026-05-20; a revoked record is not changed, send a new ref"
)
CHANGED = {"content_json": '{"categories":["警告"]}'}
STEP = MAX_VERSION_STEP


def too_far(version: int, held: int) -> Refused:
    message = (
        f"version {version} is more than {STEP} above the version held ({held}): "
        "versions move forward by a bounded step"
    )
    return Refused("the version jumps too far", {"origin.version": [message]})


@pytest.mark.parametrize(
    ("held", "record", "expected"),
    [
        pytest.param(
            None,
            arrived(),
            Insert(Origin(HUB, "r-new", 1), State("active"), "upsert"),
            id="a new record of ours is inserted with this hub as its origin, version 1",
        ),
        pytest.param(
            None,
            from_peer(4),
            Insert(Origin(PEER, "p-1", 4), State("active"), "upsert"),
            id="a new record from a peer keeps its origin",
        ),
        pytest.param(
            None,
            from_peer(4, "revoked"),
            Insert(Origin(PEER, "p-1", 4), PEER_REVOKED, "revoke"),
            id="a new record from a peer carries its state at the origin, logged as its op",
        ),
        pytest.param(
            None,
            arrived(origin={"hub": HUB, "id": "r-9", "version": 7}),
            Unchanged(),
            id="our own record coming back that we no longer hold is never recreated",
        ),
        pytest.param(
            peers(2),
            from_peer(3, **CHANGED),
            Update(3, 3, State("active"), "upsert"),
            id="a peer's change newer at its origin applies",
        ),
        pytest.param(
            peers(3),
            from_peer(3, **CHANGED),
            Unchanged(),
            id="a peer's change no newer at its origin does not apply",
        ),
        pytest.param(
            peers(3),
            from_peer(2, **CHANGED),
            Unchanged(),
            id="a peer's change older at its origin does not apply",
        ),
        pytest.param(
            stored(),
            arrived(origin={"hub": HUB, "id": "r-1", "version": 9}, **CHANGED),
            Unchanged(),
            id="our own record coming back from a peer is never applied",
        ),
        pytest.param(
            peers(2),
            from_peer(3, "revoked"),
            Update(3, 3, PEER_REVOKED, "revoke"),
            id="a peer's revocation is applied and logged as a revoke",
        ),
        pytest.param(
            peers(2),
            from_peer(3, "repaired"),
            Update(3, 3, PEER_REPAIRED, "repair"),
            id="a peer's repair is applied and logged as a repair",
        ),
        pytest.param(
            peers(2),
            from_peer(3, "expired"),
            Update(3, 3, State("expired"), "expire"),
            id="a peer's expiry is applied and logged as an expire",
        ),
        pytest.param(
            replace(peers(2), state=State("revoked", REVOKED_AT)),
            from_peer(3),
            Update(3, 3, State("active"), "upsert"),
            id="a peer's newer version applies to a record revoked here from that peer",
        ),
        pytest.param(
            None,
            from_peer(STEP),
            Insert(Origin(PEER, "p-1", STEP), State("active"), "upsert"),
            id="a new record from a peer may start at most the step above 0",
        ),
        pytest.param(
            None,
            from_peer(STEP + 1),
            too_far(STEP + 1, 0),
            id="a new record from a peer starting further above 0 is refused",
        ),
        pytest.param(
            peers(2),
            from_peer(2 + STEP, **CHANGED),
            Update(3, 2 + STEP, State("active"), "upsert"),
            id="a peer's version at most the step above the one held applies",
        ),
        pytest.param(
            peers(2),
            from_peer(3 + STEP, "revoked"),
            too_far(3 + STEP, 2),
            id="a peer's version further above the one held is refused: no version pins a record",
        ),
        pytest.param(
            stored(),
            arrived(origin={"hub": HUB, "id": "r-1", "version": 2**31 - 1}, **CHANGED),
            Unchanged(),
            id="our own record coming back far ahead is never applied, nor refused",
        ),
        pytest.param(
            stored("revoked"),
            arrived(**CHANGED),
            Rejected(REVOKED_MESSAGE, {"ref": [REVOKED_MESSAGE]}),
            id="a revoked record is not changed by its department: it sends a new ref",
        ),
        pytest.param(
            stored(),
            arrived(),
            Unchanged(),
            id="the same content is unchanged",
        ),
        pytest.param(
            stored(),
            arrived(**CHANGED),
            Update(4, 4, State("active"), "upsert"),
            id="changed content is a new version, here and at its origin",
        ),
        pytest.param(
            stored(),
            Arrived(prepared(), "s-1", "person-1"),
            Update(4, 4, State("active"), "upsert"),
            id="a legal representative named now is changed content",
        ),
        pytest.param(
            stored("disputed"),
            arrived(**CHANGED),
            Update(4, 4, State("disputed"), "upsert"),
            id="a correction keeps a disputed record disputed",
        ),
        pytest.param(
            stored("repaired"),
            arrived(**CHANGED),
            Update(4, 4, State("repaired"), "upsert"),
            id="a correction keeps a repaired record repaired",
        ),
        pytest.param(
            stored("expired"),
            arrived(ends_on=date(2026, 12, 1), **CHANGED),
            Update(4, 4, State("active"), "upsert"),
            id="a correction extending an expired record's term past today makes it run again",
        ),
        pytest.param(
            stored("expired"),
            arrived(ends_on=None, **CHANGED),
            Update(4, 4, State("active"), "upsert"),
            id="a correction making an expired record's term open-ended makes it run again",
        ),
        pytest.param(
            stored("expired"),
            arrived(ends_on=TODAY, **CHANGED),
            Update(4, 4, State("expired"), "upsert"),
            id="a correction whose term ends by today leaves an expired record expired",
        ),
    ],
)
def test_decide(held: Stored | None, record: Arrived, expected: Decision) -> None:
    assert decide(held, record, HUB, TODAY) == expected


def test_the_step_is_the_one_given() -> None:
    assert decide(peers(2), from_peer(5, **CHANGED), HUB, TODAY, max_step=2) == Refused(
        "the version jumps too far",
        {
            "origin.version": [
                "version 5 is more than 2 above the version held (2): "
                "versions move forward by a bounded step"
            ]
        },
    )
    assert decide(peers(2), from_peer(4, **CHANGED), HUB, TODAY, max_step=2) == Update(
        3, 4, State("active"), "upsert"
    )


DEPARTMENT = Actor("zhujian", "department", ZHUJIAN)
ORIGIN = {"origin": {"hub": PEER, "id": "p-1", "version": 1}}
CITY_B = {"origin": {"hub": "city-b", "id": "b-1", "version": 1}}
PROVINCE = Actor.of_client("province-peer", "peer", hub=PEER)
RELAY = Actor.of_client("province-peer", "peer", hub=PEER, relays_for=("city-b",))
ANOTHER_HUB = "a peer sends only records of its own hub or of hubs it relays for"


@pytest.mark.parametrize(
    ("actor", "record", "refused"),
    [
        pytest.param(DEPARTMENT, prepared(), None, id="a department writes its own records"),
        pytest.param(
            DEPARTMENT,
            prepared(authority_uscc=CAIZHENG),
            "a department writes only records it decided",
            id="a department writes no other authority's records",
        ),
        pytest.param(
            DEPARTMENT,
            prepared(**ORIGIN),
            "only peer hubs send origin",
            id="a department sends no origin",
        ),
        pytest.param(PROVINCE, prepared(**ORIGIN), None, id="a peer hub sends its own records"),
        pytest.param(
            PROVINCE,
            prepared(**CITY_B),
            ANOTHER_HUB,
            id="a peer hub sends no record of another origin",
        ),
        pytest.param(
            RELAY, prepared(**CITY_B), None, id="a peer hub sends records of a hub it relays for"
        ),
        pytest.param(RELAY, prepared(**ORIGIN), None, id="a relaying peer still sends its own"),
        pytest.param(
            RELAY,
            prepared(origin={"hub": "city-c", "id": "c-1", "version": 1}),
            ANOTHER_HUB,
            id="a relaying peer sends no record of a hub it does not relay for",
        ),
        pytest.param(
            Actor("province", "peer"),
            prepared(**ORIGIN),
            ANOTHER_HUB,
            id="a peer with no hub named sends no origin at all",
        ),
        pytest.param(
            Actor("connector:province", "peer", origins=None),
            prepared(**CITY_B),
            None,
            id="records pulled through a connector are not limited by origin",
        ),
        pytest.param(
            Actor("office", "admin"),
            prepared(authority_uscc=CAIZHENG, **ORIGIN),
            None,
            id="the joint office writes any authority's records, with origin",
        ),
    ],
)
def test_refusal(actor: Actor, record: Prepared, refused: str | None) -> None:
    found = refusal(record, actor)
    assert (found and found.reason) == refused


BY_KEY = {(ZHUJIAN, "penalty", "呼住建罚〔2026〕12号", "s-1"): "by key"}
BY_ORIGIN = {(PEER, "p-1"): "by origin"}


@pytest.mark.parametrize(
    ("record", "by_key", "by_origin", "found"),
    [
        pytest.param(arrived(), BY_KEY, BY_ORIGIN, "by key", id="found by its natural key"),
        pytest.param(
            from_peer(1), BY_KEY, BY_ORIGIN, "by key", id="the natural key comes before origin"
        ),
        pytest.param(from_peer(1), {}, BY_ORIGIN, "by origin", id="else found by its origin"),
        pytest.param(arrived(), {}, BY_ORIGIN, None, id="a record without origin: by key only"),
        pytest.param(
            Arrived(prepared(), "s-2", None), BY_KEY, {}, None, id="another subject: another key"
        ),
    ],
)
def test_lookup(
    record: Arrived,
    by_key: dict[tuple[str, ...], str],
    by_origin: dict[tuple[str, str], str],
    found: str | None,
) -> None:
    assert lookup(record, by_key, by_origin) == found


BOUND_ELSEWHERE = "the authority belongs to another hub"


@pytest.mark.parametrize(
    ("record", "bound", "refused"),
    [
        pytest.param(prepared(**ORIGIN), None, None, id="an authority not bound yet: it binds"),
        pytest.param(prepared(**ORIGIN), PEER, None, id="an authority of the record's origin"),
        pytest.param(prepared(), HUB, None, id="a record made here names an authority of ours"),
        pytest.param(
            prepared(**CITY_B),
            PEER,
            BOUND_ELSEWHERE,
            id="a record of one origin names no authority of another",
        ),
        pytest.param(
            prepared(),
            PEER,
            BOUND_ELSEWHERE,
            id="a record made here names no authority of a peer",
        ),
        pytest.param(
            prepared(**ORIGIN),
            HUB,
            BOUND_ELSEWHERE,
            id="a peer's record names no authority of ours",
        ),
    ],
)
def test_unbound(record: Prepared, bound: str | None, refused: str | None) -> None:
    found = unbound(record, HUB, bound)
    assert (found and found.reason) == refused
    if found is not None:
        claimed = record.origin["hub"] if record.origin else HUB
        message = (
            f"authority {ZHUJIAN} belongs to hub {bound}: a record of hub {claimed} may not name it"
        )
        assert found.errors == {"authority.uscc": [message]}
