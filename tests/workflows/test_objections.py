"""Objections (异议) on working days: filed, accepted, forwarded and decided, each step with
its due day from the official calendar; the record disputed meanwhile and still counted."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from credithub import clock
from credithub.records.jobs import expire_due
from tests.workflows.helpers import (
    Headers,
    MakeToken,
    audited,
    check,
    get,
    listing,
    ops,
    peer_record,
    penalty,
    post,
    push,
    stored,
)

# Friday 13 February 2026, the last working day before the Spring Festival holiday (Sunday 15
# to Monday 23 February); Saturday 14 and Saturday 28 February are make-up working days.
FRIDAY = "2026-02-13T10:00:00+08:00"


def _file(client: FlaskClient, headers: Headers, record_id: str) -> tuple[int, Any]:
    body = {
        "record_id": record_id,
        "applicant": "四川蜀道路桥建设有限公司",
        "reason": "并未串通投标",
    }
    return post(client, "/api/v1/objections", headers, body)


def test_an_objection_filed_the_friday_before_the_spring_festival_is_decided_on_time(
    app: Flask, client: FlaskClient, t: dict[str, Headers]
) -> None:
    with clock.travel(FRIDAY):
        record_id = push(client, t["zhujian"], listing())
        code, filed = _file(client, t["admin"], record_id)
        assert code == 201, filed
        # Accepted at once by the office; forwarding is due 2 working days on: Saturday 14
        # (make-up day), then the holiday, then Tuesday 24.
        assert (filed["status"], filed["due_on"]) == ("accepted", "2026-02-24")
        record = get(client, f"/api/v1/records/{record_id}", t["admin"])
        assert (record["status"], record["version"]) == ("disputed", 2)
        # Screening still counts it, and says the restriction is disputed.
        answer = check(client, t["bidding"])
        assert answer["verdict"] == "barred"
        assert [r["disputed"] for r in answer["restrictions"]] == [True]
        queue = get(client, "/api/v1/objections?overdue=true", t["admin"])
        assert queue["total"] == 0
    with clock.travel("2026-02-25T09:00:00+08:00"):  # not forwarded in time: overdue
        [item] = get(client, "/api/v1/objections?overdue=true", t["admin"])["items"]
        assert (item["id"], item["overdue"], item["due_on"]) == (filed["id"], True, "2026-02-24")
        assert get(client, "/api/v1/objections?overdue=true", t["zhujian"])["total"] == 1
        assert get(client, "/api/v1/objections", t["caizheng"])["total"] == 0  # not its record
    with clock.travel("2026-02-24T15:00:00+08:00"):
        code, forwarded = post(client, f"/api/v1/objections/{filed['id']}/forward", t["admin"])
        assert code == 200, forwarded
        # 5 working days: 25, 26, 27, Saturday 28 (make-up day), Monday 2 March.
        assert (forwarded["status"], forwarded["due_on"]) == ("forwarded", "2026-03-02")
    with clock.travel("2026-03-02T16:00:00+08:00"):
        assert get(client, "/api/v1/objections?overdue=true", t["zhujian"])["total"] == 0
        corrected = listing(reason="串通投标（更正：涉及项目为另一标段）")
        body = {"outcome": "corrected", "note": "更正事实", "record": corrected}
        code, decided = post(
            client, f"/api/v1/objections/{filed['id']}/decision", t["zhujian"], body
        )
        assert code == 200, decided
        assert (decided["status"], decided["outcome"], decided["due_on"]) == (
            "decided", "corrected", None,
        )  # fmt: skip
        steps = [(s["step"], s["by"], s["due_on"]) for s in decided["steps"]]
        assert steps == [
            ("filed", "联合办公室", None),
            ("accepted", "联合办公室", None),
            ("forwarded", "联合办公室", "2026-02-24"),
            ("decided", "住建局", "2026-03-02"),
        ]
        assert all(s["at"] for s in decided["steps"])
        record = get(client, f"/api/v1/records/{record_id}", t["admin"])
        # The correction is a new version through the write path, then the dispute ends.
        assert (record["status"], record["version"], record["reason"]) == (
            "active", 4, corrected["reason"],
        )  # fmt: skip
        assert ops(app, record_id) == [(1, "upsert"), (2, "upsert"), (3, "upsert"), (4, "upsert")]
        assert [r["disputed"] for r in check(client, t["bidding"])["restrictions"]] == [False]
        # Decided twice: 409, nothing changes.
        code, _ = post(client, f"/api/v1/objections/{filed['id']}/decision", t["zhujian"], body)
        assert code == 409
        assert stored(app, record_id) == ("active", 4)
    actions = [e.action for e in audited(app, "objection.updated")]
    assert len(actions) == 4


def test_a_public_filing_is_received_then_accepted_or_refused_within_a_working_day(
    app: Flask, client: FlaskClient, t: dict[str, Headers]
) -> None:
    contact = {"name": "李四", "phone": "0471-1234567"}
    with clock.travel(FRIDAY):
        record_id = push(client, t["zhujian"], listing())
        body = {"record_id": record_id, "applicant": "蜀道路桥", "reason": "主体认定错误"}
        code, err = post(client, "/api/v1/public/objections", None, body)  # no contact: 422
        assert code == 422
        assert "contact" in err["errors"], err
        code, filed = post(client, "/api/v1/public/objections", None, body | {"contact": contact})
        assert code == 201, filed
        assert (filed["status"], filed["due_on"]) == ("received", "2026-02-14")
        assert stored(app, record_id) == ("active", 1)  # not disputed until accepted
        code, second = post(client, "/api/v1/public/objections", None, body | {"contact": contact})
        assert code == 201
        # Only the office accepts or refuses.
        code, _ = post(client, f"/api/v1/objections/{filed['id']}/accept", t["zhujian"])
        assert code == 403
    with clock.travel("2026-02-14T11:00:00+08:00"):
        code, accepted = post(client, f"/api/v1/objections/{filed['id']}/accept", t["admin"])
        assert code == 200, accepted
        assert (accepted["status"], accepted["due_on"]) == ("accepted", "2026-02-25")
        assert stored(app, record_id) == ("disputed", 2)
        # The second filing on the same record: the record is disputed already (409).
        code, _ = post(client, f"/api/v1/objections/{second['id']}/accept", t["admin"])
        assert code == 409
        url = f"/api/v1/objections/{second['id']}/refuse"
        code, refused = post(client, url, t["admin"], {"reason": "已有异议在处理"})
        assert code == 200
        assert (refused["status"], refused["note"], refused["due_on"]) == (
            "refused", "已有异议在处理", None,
        )  # fmt: skip
        code, _ = post(client, url, t["admin"], {"reason": "again"})
        assert code == 409
        assert get(client, "/api/v1/objections?status=received", t["admin"])["total"] == 0


def test_the_deciding_department_files_and_it_is_forwarded_at_once(
    app: Flask, client: FlaskClient, t: dict[str, Headers]
) -> None:
    with clock.travel(FRIDAY):
        record_id = push(client, t["zhujian"], listing())
        code, filed = _file(client, t["zhujian"], record_id)
        assert code == 201
        # Decision due 5 working days on: 14 (make-up), 24, 25, 26, 27.
        assert (filed["status"], filed["due_on"]) == ("forwarded", "2026-02-27")
        url = f"/api/v1/objections/{filed['id']}/decision"
        # Another department may not decide (403, audited as a refusal); nothing changes.
        code, err = post(client, url, t["caizheng"], {"outcome": "revoked"})
        assert code == 403, err
        assert stored(app, record_id) == ("disputed", 2)
        [refusal] = audited(app, "record.refused")
        assert (refusal.actor, refusal.object_id) == ("财政局", record_id)
        assert post(client, url, t["bidding"], {"outcome": "revoked"})[0] == 403
        assert post(client, url, None, {"outcome": "revoked"})[0] == 401
        assert (
            post(client, "/api/v1/objections/nope/decision", t["admin"], {"outcome": "upheld"})[0]
            == 404
        )
        # The department's own queue and item; another's sees nothing of it.
        assert (
            get(client, f"/api/v1/objections/{filed['id']}", t["zhujian"])["status"] == "forwarded"
        )
        assert (
            client.get(f"/api/v1/objections/{filed['id']}", headers=t["caizheng"]).status_code
            == 404
        )
        assert client.get("/api/v1/objections", headers=t["bidding"]).status_code == 403
        item_url = f"/api/v1/objections/{filed['id']}"
        assert client.get(item_url, headers=t["bidding"]).status_code == 403
        assert client.get(item_url).status_code == 401
        # Revoked: the record is revoked through the revoke path and the removal is recorded.
        code, decided = post(client, url, t["zhujian"], {"outcome": "revoked", "note": "认定有误"})
        assert code == 200, decided
        assert [s["step"] for s in decided["steps"]][-2:] == ["decided", "removed"]
        assert decided["steps"][-1]["due_on"] == "2026-02-25"  # 3 working days: 14, 24, 25
        assert stored(app, record_id) == ("revoked", 3)
        assert ops(app, record_id)[-1] == (3, "revoke")
        assert check(client, t["bidding"])["verdict"] == "clear"


def test_bad_objections_get_a_clear_4xx_and_change_nothing(
    app: Flask, client: FlaskClient, t: dict[str, Headers], make_token: MakeToken
) -> None:
    with clock.travel("2026-06-10T10:00:00+08:00"):
        # Only the origin hub takes objections on its records.
        elsewhere = peer_record(client, make_token)
        assert _file(client, t["admin"], elsewhere)[0] == 409
        public = {"record_id": elsewhere, "applicant": "蜀道", "reason": "有误"}
        public["contact"] = {"email": "a@example.com"}
        assert post(client, "/api/v1/public/objections", None, public)[0] == 409
        assert stored(app, elsewhere) == ("active", 1)
        # A minor penalty decided under 令36号 is never public: no objection on it.
        minor = push(client, t["zhujian"], penalty("呼住建罚〔2026〕30号", "2026-05-06", ["警告"]))
        code, err = _file(client, t["admin"], minor)
        assert code == 422
        assert "record_id" in err["errors"]
        revoked = push(client, t["zhujian"], listing("呼住建黑〔2026〕10号"))
        assert (
            post(client, f"/api/v1/records/{revoked}/revoke", t["zhujian"], {"reason": "复议"})[0]
            == 200
        )
        assert _file(client, t["admin"], revoked)[0] == 422
        assert _file(client, t["admin"], "no-such-record")[0] == 404
        assert _file(client, t["caizheng"], revoked)[0] == 403  # not its record
        record_id = push(client, t["zhujian"], listing())
        assert post(client, "/api/v1/objections", t["admin"], {"record_id": record_id})[0] == 422
        assert _file(client, t["admin"], record_id)[0] == 201
        assert _file(client, t["admin"], record_id)[0] == 409  # disputed already
        assert stored(app, minor) == ("active", 1)
        assert stored(app, revoked) == ("revoked", 2)
        assert stored(app, record_id) == ("disputed", 2)
        [item] = get(client, "/api/v1/objections", t["admin"])["items"]
        url = f"/api/v1/objections/{item['id']}/decision"
        assert post(client, url, t["admin"], {"outcome": "upheld"})[0] == 409  # not forwarded
        assert post(client, f"/api/v1/objections/{item['id']}/forward", t["admin"])[0] == 200
        # A correction that is another record (another ref): 422, nothing written.
        other = {"outcome": "corrected", "record": listing("呼住建黑〔2026〕99号")}
        code, err = post(client, url, t["zhujian"], other)
        assert code == 422, err
        assert get(client, "/api/v1/records?subject=91512081MA62K0260E", t["admin"])["total"] == 4
        assert post(client, url, t["zhujian"], {"outcome": "corrected"})[0] == 422  # no record
        assert post(client, url, t["zhujian"], {"outcome": "dropped"})[0] == 422
        assert stored(app, record_id) == ("disputed", 2)


def test_a_disputed_record_past_its_term_keeps_its_dispute_until_it_is_decided(
    app: Flask, client: FlaskClient, t: dict[str, Headers]
) -> None:
    with clock.travel("2026-06-10T10:00:00+08:00"):
        record_id = push(client, t["zhujian"], listing(expires_on="2026-06-20"))
        code, filed = _file(client, t["zhujian"], record_id)
        assert code == 201
    with clock.travel("2026-06-22T10:00:00+08:00"):
        with app.app_context():
            assert expire_due()["expired"] == 0
        assert get(client, f"/api/v1/records/{record_id}", t["admin"])["status"] == "disputed"
        url = f"/api/v1/objections/{filed['id']}/decision"
        code, decided = post(client, url, t["zhujian"], {"outcome": "upheld", "note": "维持"})
        assert code == 200, decided
        assert (decided["overdue"], decided["outcome"]) == (False, "upheld")
        assert stored(app, record_id) == ("active", 3)  # back to its prior state
        with app.app_context():
            assert expire_due()["expired"] == 1  # and now it expires as any other
        assert stored(app, record_id) == ("expired", 4)
        assert [op for _, op in ops(app, record_id)] == ["upsert", "upsert", "upsert", "expire"]


def test_no_objection_once_a_record_has_left_its_publication_window(
    app: Flask, client: FlaskClient, t: dict[str, Headers]
) -> None:
    """Objections concern what the public is shown (records.visibility): a record whose
    publication has ended takes none, the day before it ends still does."""
    with clock.travel("2026-06-10T10:00:00+08:00"):
        general = penalty("呼住建罚〔2026〕50号", "2026-06-01", ["没收违法所得"])
        record_id = push(client, t["zhujian"], general)
        shown = get(client, f"/api/v1/records/{record_id}", t["admin"])
        assert shown["severity"] == "general"
        until = date.fromisoformat(shown["publish_until"])
    with clock.travel(f"{until.isoformat()}T09:00:00+08:00"):  # the first day not published
        code, err = _file(client, t["admin"], record_id)
        assert code == 422, err
        assert stored(app, record_id) == ("active", 1)
    with clock.travel(f"{(until - timedelta(days=1)).isoformat()}T09:00:00+08:00"):
        assert _file(client, t["admin"], record_id)[0] == 201
