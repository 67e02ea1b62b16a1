"""The console's work pages act through the API's own services, as the office named after the
person logged in, and escape every value from outside."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from credithub import clock
from credithub.clients.service import create_client
from credithub.db import db, utcnow
from credithub.sync.models import DeadLetter, SyncState
from tests.console.helpers import audited, login, make_account, post_form, text
from tests.records.samples import ZHUJIAN
from tests.workflows.helpers import (
    Headers,
    get,
    listing,
    penalty,
    post,
    push,
    stored,
    tokens,
)

TODAY = "2026-05-06T10:00:00+08:00"


def _office(app: Flask, client: FlaskClient) -> None:
    make_account(app)
    assert login(client).status_code == 302


def _public_objection(client: FlaskClient, record_id: str) -> str:
    body = {
        "record_id": record_id, "applicant": "四川蜀道路桥建设有限公司",
        "reason": "主体认定错误", "contact": {"name": "李四", "phone": "0471-1234567"},
    }  # fmt: skip
    code, filed = post(client, "/api/v1/public/objections", None, body)
    assert code == 201, filed
    return str(filed["id"])


def test_the_office_accepts_forwards_and_decides_an_objection(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    t = tokens(make_token)
    _office(app, client)
    with clock.travel(TODAY):
        record_id = push(client, t["zhujian"], listing(on="2026-05-01"))
        filed = _public_objection(client, record_id)
        for bad in ("status=nope", "page=0", "page=x", "page=%C2%B2", f"page={10**30}"):
            assert client.get(f"/admin/objections?{bad}").status_code == 422, bad
            assert client.get(f"/admin/repairs?{bad}").status_code == 422, bad
        listed = client.get("/admin/objections?status=received")
        assert filed in text(listed)
        page = f"/admin/objections/{filed}"
        assert 'id="accept"' in text(client.get(page))
        answer = post_form(client, page, f"{page}/accept")
        assert answer.status_code == 302
        assert answer.headers["Location"] == page
        shown = text(client.get(page))
        assert "异议已受理" in shown  # the flash after the redirect
        assert stored(app, record_id)[0] == "disputed"
        assert post_form(client, page, f"{page}/forward").status_code == 302
        decided = post_form(client, page, f"{page}/decide", outcome="upheld", note="维持原认定")
        assert decided.status_code == 302
        assert stored(app, record_id)[0] == "active"
        item = get(client, f"/api/v1/objections/{filed}", t["admin"])
        assert (item["status"], item["outcome"]) == ("decided", "upheld")
        assert [s["by"] for s in item["steps"][1:]] == ["console:ana"] * 3
        # A step its state no longer allows: a clear 409 page, nothing changes.
        again = post_form(client, page, f"{page}/accept")
        assert again.status_code == 409
        assert "text/html" in again.headers["Content-Type"]
    actors = {e.actor for e in audited(app, "objection.updated")}
    assert "console:ana" in actors


def test_a_refusal_needs_its_reason_and_a_correction_its_record(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    t = tokens(make_token)
    _office(app, client)
    with clock.travel(TODAY):
        record_id = push(client, t["zhujian"], listing(on="2026-05-01"))
        filed = _public_objection(client, record_id)
        page = f"/admin/objections/{filed}"
        assert post_form(client, page, f"{page}/refuse", reason="  ").status_code == 422
        assert post_form(client, page, f"{page}/nonsense").status_code == 404
        post_form(client, page, f"{page}/accept")
        post_form(client, page, f"{page}/forward")
        bad = post_form(client, page, f"{page}/decide", outcome="corrected", record="{not json")
        assert bad.status_code == 422
        assert "not valid JSON" in text(bad)
        assert post_form(client, page, f"{page}/decide", outcome="maybe").status_code == 422
        corrected = listing(on="2026-05-01", reason="串通投标(已更正)")
        corrected["authority"] = {"name": "呼伦贝尔市住房和城乡建设局", "uscc": ZHUJIAN}
        answer = post_form(
            client, page, f"{page}/decide", outcome="corrected", record=json.dumps(corrected)
        )
        assert answer.status_code == 302, text(answer)
        assert stored(app, record_id) == ("active", 4)


def test_the_office_decides_repairs(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    t = tokens(make_token)
    _office(app, client)
    with clock.travel(TODAY):
        minor = push(client, t["zhujian"], penalty("呼住建罚〔2026〕31号", "2026-05-06", ["警告"]))
        body = {"record_id": minor, "commitment": True, "evidence": "已整改"}
        code, filed = post(client, "/api/v1/repairs", t["zhujian"], body)
        assert code == 201, filed
        assert "已整改" in text(client.get("/admin/repairs?status=pending"))
        action = f"/admin/repairs/{filed['id']}/decision"
        assert post_form(client, "/admin/repairs", action, outcome="approve").status_code == 422
        answer = post_form(client, "/admin/repairs", action, outcome="approved", note="材料齐全")
        assert answer.status_code == 302
        assert "修复申请已批准" in text(client.get("/admin/repairs"))
        assert stored(app, minor)[0] == "repaired"
    [entry, _removed] = [e for e in audited(app, "repair.updated") if e.actor == "console:ana"]
    assert '"step":"approved"' in entry.detail


def test_the_office_replays_dead_letters(app: Flask, client: FlaskClient) -> None:
    _office(app, client)
    with app.app_context(), db.transaction() as session:
        session.add(SyncState(connector="province", push_position=10, failures=0))
        for position in (4, 7):
            session.add(DeadLetter(connector="province", direction="push", position=position,
                                   record_id="r1", version=1, error="refused <b>for good</b>",
                                   failed_at=utcnow()))  # fmt: skip
    listed = text(client.get("/admin/dead-letters"))
    assert "refused &lt;b&gt;for good&lt;/b&gt;" in listed
    ids = re.findall(r'name="id" value="(\d+)"', listed)
    assert len(ids) == 2
    one = post_form(client, "/admin/dead-letters", "/admin/dead-letters/province/replay", id=ids[1])
    assert one.status_code == 302
    with app.app_context():
        assert db.session.get(SyncState, "province").push_position == 6  # type: ignore[union-attr]
    rest = post_form(client, "/admin/dead-letters", "/admin/dead-letters/province/replay")
    assert rest.status_code == 302
    with app.app_context():
        assert db.session.get(SyncState, "province").push_position == 3  # type: ignore[union-attr]
    assert "没有死信" in text(client.get("/admin/dead-letters"))
    none_left = post_form(client, "/admin/dead-letters", "/admin/dead-letters/province/replay")
    assert none_left.status_code == 404
    assert [e.actor for e in audited(app, "sync.replay")] == ["console:ana"] * 2


def test_the_office_creates_rotates_and_revokes_clients(app: Flask, client: FlaskClient) -> None:
    _office(app, client)
    made = post_form(client, "/admin/clients", "/admin/clients", name="招标平台", kind="consumer")
    assert made.status_code == 200
    assert made.headers["Cache-Control"] == "no-store"
    token = re.search(r'id="token" class="token">(chub_[^<]+)<', text(made))
    assert token
    headers = {"Authorization": f"Bearer {token.group(1)}"}
    assert client.get("/api/v1/check/91512081MA62K0260E?domain=construction",
                      headers=headers).status_code == 200  # fmt: skip
    listed = text(client.get("/admin/clients"))
    assert token.group(1) not in listed  # shown once
    found = re.search(r"/admin/clients/(\w+)/rotate", listed)
    assert found
    rotate, revoke = (
        f"/admin/clients/{found.group(1)}/{action}" for action in ("rotate", "revoke")
    )
    # Either stops the live token at once: the box must be ticked.
    assert post_form(client, "/admin/clients", rotate).status_code == 422
    rotated = post_form(client, "/admin/clients", rotate, confirm="yes")
    new = re.search(r'id="token" class="token">(chub_[^<]+)<', text(rotated))
    assert new
    assert new.group(1) != token.group(1)
    assert post_form(client, "/admin/clients", revoke).status_code == 422
    assert post_form(client, "/admin/clients", revoke, confirm="yes").status_code == 302
    assert "已吊销" in text(client.get("/admin/clients"))
    bad = post_form(client, "/admin/clients", "/admin/clients", name="局", kind="department")
    assert bad.status_code == 422
    assert "USCC" in text(bad)
    unknown = post_form(client, "/admin/clients", "/admin/clients", name="x", kind="root")
    assert unknown.status_code == 422
    for action in ("client.create", "client.rotate", "client.revoke"):
        assert [e.actor for e in audited(app, action)] == ["console:ana"]


def test_values_from_outside_are_escaped(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    t = tokens(make_token)
    _office(app, client)
    script = "<script>alert(1)</script>"
    with app.app_context(), db.transaction() as session:
        create_client(session, f"{script}平台", "consumer")
    page = text(client.get("/admin/clients"))
    assert script not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;平台" in page
    with clock.travel(TODAY):
        record = listing(on="2026-05-01")
        record["subject"]["name"] = f"{script}路桥建设有限公司"
        record_id = push(client, t["zhujian"], record)
        filed = _public_objection(client, record_id)
        for path in ("/admin/", "/admin/objections", f"/admin/objections/{filed}"):
            shown = text(client.get(path))
            assert script not in shown, path
            assert "&lt;script&gt;" in shown, path


def test_the_dashboard_shows_the_hub_as_it_is(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    t = tokens(make_token)
    _office(app, client)
    empty = text(client.get("/admin/"))
    assert "未配置任何连接器" in empty
    assert "近 30 天未收到记录" in empty
    record_id = push(client, t["zhujian"], listing(on=clock.today().isoformat()))
    page = text(client.get("/admin/"))
    assert re.search(r'<rect class="bar s0"', page)
    legends = re.findall(r'<ul class="legend">(.*?)</ul>', page)
    assert ["住建局(1)" in legends[0], "黑名单(1)" in legends[1]] == [True, True]
    barred = re.search(r'当前被禁止参与交易的主体:<span class="bad">(\d+)</span>', page)
    assert barred
    assert barred.group(1) == "1"
    assert "/entities/91512081MA62K0260E" in page
    assert re.search(r"<td>住建局</td><td>records.ingest</td>", page)  # the audit trail
    assert re.search(r"<td>console:ana</td><td>console.login</td>", page)
    assert record_id


def test_sync_health_shows_a_late_connector_in_red(app_factory: Callable[..., Flask]) -> None:
    connector = {"name": "province", "type": "hub", "url": "http://127.0.0.1:9", "token": "t",
                 "interval_seconds": 60}  # fmt: skip
    app = app_factory(connectors=[connector])
    client = app.test_client()
    _office(app, client)
    with app.app_context(), db.transaction() as session:
        session.add(SyncState(connector="province", push_position=0, failures=0,
                              last_run_at=utcnow(), last_success_at=utcnow()))  # fmt: skip
    fresh = text(client.get("/admin/"))
    assert re.search(r'<tr class="" data-connector="province">', fresh)
    with clock.travel(clock.now() + timedelta(minutes=10)):
        late = text(client.get("/admin/"))
    assert re.search(r'<tr class="late" data-connector="province">', late)
    assert "滞后" in late


def test_overdue_objections_are_marked_on_the_dashboard(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    t = tokens(make_token)
    _office(app, client)
    with clock.travel(TODAY):
        filed = _public_objection(client, push(client, t["zhujian"], listing(on="2026-05-01")))
        due = get(client, f"/api/v1/objections/{filed}", t["admin"])["due_on"]
        on_time = text(client.get("/admin/"))
        assert "逾期" not in on_time
    with clock.travel("2026-05-20T10:00:00+08:00"):
        late = text(client.get("/admin/"))
    assert re.search(r'<span class="overdue">逾期 1</span>', late)
    row = f'<tr class="overdue"><td><a href="/admin/objections/{filed}">待受理</a></td>'
    assert f"{row}<td>{due} 逾期" in late


def test_records_are_counted_on_their_china_day(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    t = tokens(make_token)
    _office(app, client)
    with clock.travel("2026-05-06T23:30:00+08:00"):  # 15:30 UTC: still the 6th in China
        push(client, t["zhujian"], penalty("呼住建罚〔2026〕41号", "2026-05-06", ["警告"]))
    with clock.travel("2026-05-07T00:30:00+08:00"):  # 16:30 UTC on the 6th: the 7th in China
        push(client, t["zhujian"], penalty("呼住建罚〔2026〕42号", "2026-05-06", ["警告"]))
        push(client, t["caizheng"], penalty("呼财罚〔2026〕43号", "2026-05-06", ["警告"]))
        page = text(client.get("/admin/"))
    titles = re.findall(r"<title>(2026-05-0\d [^<]+)</title>", page)
    assert sorted(titles) == [
        "2026-05-06 住建局: 1", "2026-05-06 行政处罚: 1",
        "2026-05-07 住建局: 1", "2026-05-07 行政处罚: 2", "2026-05-07 财政局: 1",
    ]  # fmt: skip


def test_the_office_s_reasons_are_stored_masked_and_a_deep_record_is_refused(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    from sqlalchemy import select

    from credithub.workflows.models import Objection
    from tests.records.samples import make_id_number

    number = make_id_number(3)
    t = tokens(make_token)
    _office(app, client)
    with clock.travel(TODAY):
        record_id = push(client, t["zhujian"], listing(on="2026-05-01"))
        filed = _public_objection(client, record_id)
        page = f"/admin/objections/{filed}"
        answer = post_form(client, page, f"{page}/refuse", reason=f"申请人身份证号{number}有误")
        assert answer.status_code == 302, text(answer)
        with app.app_context():
            objection = db.session.scalars(select(Objection)).one()
            assert objection.note == f"申请人身份证号{number[:6]}********{number[-4:]}有误"
        other = _public_objection(client, record_id)
        page = f"/admin/objections/{other}"
        post_form(client, page, f"{page}/accept")
        post_form(client, page, f"{page}/forward")
        deep = "[" * 1000 + "]" * 1000
        bad = post_form(client, page, f"{page}/decide", outcome="corrected", record=deep)
        assert bad.status_code == 422, text(bad)
        assert "too deep" in text(bad)
        nul = post_form(client, page, f"{page}/decide", outcome="upheld", note="a\u0000b")
        assert nul.status_code == 422, text(nul)
