"""Pull: national list entries page in by cursor and become blacklist feed items."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from connectors.creditchina import CreditChinaConnector
from connectors.creditchina.standin import StandIn
from connectors.errors import FatalError, RetriableError

Make = Callable[..., CreditChinaConnector]


def test_pages_by_cursor_until_has_more_is_false(standin: StandIn, make_connector: Make) -> None:
    for n in range(5):
        standin.add_listing(f"企业{n}", uscc="91512081MA62K0260E")
    connector = make_connector(batch_size=2)
    cursor, pages = None, []
    while True:
        page = connector.pull(cursor)
        pages.append([c["record"]["origin"]["id"] for c in page.changes])
        assert page.next_cursor
        cursor = page.next_cursor
        if not page.has_more:
            break
    assert pages == [["CN00000001", "CN00000002"], ["CN00000003", "CN00000004"], ["CN00000005"]]
    assert [e["query"].split("limit=")[1][:1] for e in standin.log] == ["2", "2", "2"]

    empty = connector.pull(cursor)  # nothing new: same place, nothing more
    assert (empty.changes, empty.has_more) == ([], False)
    standin.add_listing("后来的企业", uscc="914403001922038216")
    later = connector.pull(empty.next_cursor)
    assert [c["record"]["subject"]["name"] for c in later.changes] == ["后来的企业"]
    assert later.has_more is False


def test_entries_become_blacklist_feed_items_with_origin(
    standin: StandIn, make_connector: Make
) -> None:
    standin.add_listing(
        "深圳市南山工程咨询有限公司",
        uscc="914403001922038216",
        list_code="gp-serious",
        decided_on="2025-09-15",
        listed_on="2025-09-20",
        expires_on="2028-09-14",
        basis="《政府采购法》第七十七条",
        reason="提供虚假材料谋取中标",
        version=4,
    )
    standin.add_listing(
        "王某",
        subject_type="自然人",
        id_type="身份证",
        id_number="11010519491231002x",
        list_code="expert-disqualified",
    )
    page = make_connector(hub_id="nation").pull(None)
    assert page.changes[0] == {
        "op": "upsert",
        "record": {
            "kind": "blacklist",
            "ref": "gp-serious:CN00000001",
            "list": "gp-serious",
            "subject": {
                "type": "organization",
                "name": "深圳市南山工程咨询有限公司",
                "uscc": "914403001922038216",
            },
            "authority": {"name": "国家发展和改革委员会", "uscc": "11100000000019713D"},
            "decided_on": "2025-09-15",
            "listed_on": "2025-09-20",
            "expires_on": "2028-09-14",
            "basis": "《政府采购法》第七十七条",
            "reason": "提供虚假材料谋取中标",
            "status": "active",
            "origin": {"hub": "nation", "id": "CN00000001", "version": 4},
        },
    }
    person = page.changes[1]["record"]
    assert person["subject"] == {
        "type": "person",
        "name": "王某",
        "id_type": "身份证",
        "id_number": "11010519491231002X",
    }
    assert "expires_on" not in person  # listed until removed
    assert person["ref"] == "expert-disqualified:CN00000002"


def test_a_revoke_entry_becomes_op_revoke(standin: StandIn, make_connector: Make) -> None:
    entry = standin.add_listing("四川蜀道建设工程有限公司", uscc="91512081MA62K0260E")
    standin.revoke_listing(entry["id"], reason="信用修复")
    changes = make_connector().pull(None).changes
    assert [(c["op"], c["record"]["status"]) for c in changes] == [
        ("upsert", "active"),
        ("revoke", "revoked"),
    ]
    revoked = changes[1]["record"]
    assert revoked["origin"] == {"hub": "creditchina", "id": entry["id"], "version": 2}
    assert revoked["ref"] == changes[0]["record"]["ref"]
    assert revoked["reason"] == "信用修复"


def test_malformed_entries_are_skipped_and_reported(standin: StandIn, make_connector: Make) -> None:
    standin.add_listing("好企业甲", uscc="91512081MA62K0260E")
    bad_date = standin.add_listing("坏日期", uscc="914403001922038216", decided_on="2025-02-30")
    no_subject = dict(standin.add_listing("无主体", uscc="914403001922038216"), subject=None)
    standin.lists[-1] = no_subject
    standin.add_listing("无证件类型", subject_type="person", id_number="11010519491231002X")
    standin.lists[-1]["subject"].pop("id_type")
    standin.lists.append({"id": "CN-X", "version": 1, "op": "delete", "list": "ggzy-serious"})
    standin.lists.append("not an object")  # type: ignore[arg-type]  # a malformed entry
    standin.add_listing("好企业乙", uscc="914403001922038216")

    connector = make_connector()
    page = connector.pull(None)
    assert [c["record"]["subject"]["name"] for c in page.changes] == ["好企业甲", "好企业乙"]
    errors = connector.last_pull_errors
    assert len(errors) == 5
    assert f"'{bad_date['id']}'" in errors[0]
    assert "decided_on" in errors[0]
    assert "subject: missing" in errors[1]
    assert "subject.id_type" in errors[2]
    assert "op:" in errors[3]
    assert "not an object" in errors[4]
    assert not any("11010519491231002X" in e for e in errors)
    assert page.has_more is False

    assert connector.pull(page.next_cursor).changes == []
    assert connector.last_pull_errors == []  # each pull reports its own page


def test_pull_failures_raise(standin: StandIn, make_connector: Make) -> None:
    standin.fail_next(403)
    with pytest.raises(FatalError, match="403"):
        make_connector().pull(None)
    standin.fail_next(502, times=2)
    with pytest.raises(RetriableError, match="502"):
        make_connector(attempts=2).pull(None)
    with pytest.raises(FatalError, match="400"):
        make_connector().pull("not-a-cursor")
