"""The public pages through the Flask test client, on a real database: what the public sees
(api.md "Visibility"), escaped; the objection and repair forms posting to the same services as
the public API; the credit report and its verification."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from credithub import clock
from credithub.db import db
from credithub.entities.identifiers import mask_id_number
from credithub.entities.service import get_by_uscc
from credithub.reports.models import IssuedReport
from credithub.standing.service import standings_at
from credithub.workflows.models import Objection, Repair
from tests.records.samples import BEIJIANG, PERSON_ID, SHUDAO
from tests.workflows.helpers import Headers, MakeToken, listing, penalty, post, push, tokens

NOW = "2026-05-06T10:00:00+08:00"
REP = {"name": "张建国", "id_type": "身份证", "id_number": PERSON_ID}


@pytest.fixture
def t(make_token: MakeToken) -> dict[str, Headers]:
    return tokens(make_token)


def page(client: FlaskClient, url: str, status: int = 200) -> str:
    resp = client.get(url)
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == "text/html"
    return resp.get_data(as_text=True)


def token_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the form carries a CSRF token"
    return found.group(1)


def listed(client: FlaskClient, t: dict[str, Headers], **extra: Any) -> str:
    subject = {"type": "organization", "name": "四川蜀道路桥建设有限公司", "uscc": SHUDAO}
    return push(client, t["zhujian"], listing(subject=subject | {"legal_rep": REP}, **extra))


def test_search_finds_a_subject_by_current_or_former_name_with_its_level_and_bar(
    client: FlaskClient, t: dict[str, Headers]
) -> None:
    with clock.travel(NOW):
        listed(client, t)
        renamed = {"type": "organization", "name": "蜀道路桥集团有限公司", "uscc": SHUDAO}
        push(client, t["caizheng"], penalty("财罚〔2026〕1号", "2026-02-01", ["警告", "罚款"],
                                            subject=renamed, fine_yuan="60000"))  # fmt: skip
        for q in ("蜀道路桥集团", "四川蜀道路桥建设"):  # the current name, and the former one
            html = page(client, f"/?q={q}")
            assert "找到 1 个主体" in html
            assert f'href="/entities/{SHUDAO}"' in html
            assert "蜀道路桥集团有限公司" in html
            assert "限制中" in html
            assert re.search(r'class="level level-[A-D]"', html)
        assert "没有找到" in page(client, "/?q=不存在的公司")
        first = page(client, "/")
        assert "企业名称(含曾用名)或统一社会信用代码" in first
        assert "找到" not in first


def test_a_uscc_query_opens_the_profile_and_a_bad_or_unknown_uscc_is_a_404_page(
    client: FlaskClient, t: dict[str, Headers]
) -> None:
    with clock.travel(NOW):
        listed(client, t)
        resp = client.get(f"/?q={SHUDAO.lower()}")
        assert (resp.status_code, resp.headers["Location"]) == (302, f"/entities/{SHUDAO}")
        for url in ("/entities/not-a-code", "/entities/91512081MA62K0260X",
                    "/entities/914403001922038216"):  # fmt: skip
            html = page(client, url, 404)
            assert 'data-status="404"' in html
        resp = client.get("/entities/not-a-code")
        assert "default-src 'none'" in resp.headers["Content-Security-Policy"]


def test_the_profile_shows_public_records_in_words_with_persons_masked(
    app: Flask, client: FlaskClient, t: dict[str, Headers]
) -> None:
    with clock.travel(NOW):
        listed(client, t)
        # A minor 令36 penalty is never public; a revoked record is not either.
        push(client, t["zhujian"], penalty("呼住建罚〔2026〕7号", "2026-05-06", ["警告"]))
        gone = push(
            client, t["zhujian"], penalty("呼住建罚〔2026〕8号", "2026-02-21", ["吊销许可证件"])
        )
        body = {"reason": "决定有误"}
        assert post(client, f"/api/v1/records/{gone}/revoke", t["zhujian"], body)[0] == 200
        html = page(client, f"/entities/{SHUDAO}")
        with app.app_context():
            subject = get_by_uscc(db.session, SHUDAO)
            assert subject is not None
            score = standings_at(db.session, [subject.id], clock.now())[subject.id].score
    assert "四川蜀道路桥建设有限公司" in html
    assert "呼住建黑〔2026〕9号" in html
    assert "公共资源交易领域严重失信主体名单" in html
    assert "被列入公共资源交易领域严重失信主体名单" in html  # what it means
    assert "限制参与公共资源交易活动" in html
    assert "发改法规〔2018〕457号" in html
    assert "呼住建罚〔2026〕7号" not in html
    assert "呼住建罚〔2026〕8号" not in html
    assert mask_id_number(PERSON_ID) in html
    assert PERSON_ID not in html
    assert html.count("<circle") == 13  # twelve months and now
    assert re.findall(r"class=\"score\">([^<]*)<", html) == [str(score)]  # the checks' standing
    # The chart's last point ("now") is the one standing computation, from the same records.
    assert re.findall(r"<title>[^<]*:([\d.]+) 分", html)[-1] == f"{score:g}"


def test_a_disputed_record_and_its_restriction_are_marked(
    client: FlaskClient, t: dict[str, Headers]
) -> None:
    with clock.travel(NOW):
        record_id = listed(client, t)
        body = {"record_id": record_id, "applicant": "蜀道", "reason": "未参与投标"}
        assert post(client, "/api/v1/objections", t["admin"], body)[0] == 201
        html = page(client, f"/entities/{SHUDAO}")
    assert 'class="card record kind-blacklist is-disputed"' in html
    assert html.count('class="badge warn disputed">异议处理中') == 2  # the record, its restriction
    assert "每条公示记录都已有异议在处理中" in html  # no second objection offered


def test_outside_values_are_escaped(client: FlaskClient, t: dict[str, Headers]) -> None:
    script = "<script>alert(1)</script>"
    subject = {"type": "organization", "name": f"蜀道{script}公司", "uscc": SHUDAO}
    with clock.travel(NOW):
        push(client, t["zhujian"], listing(subject=subject, reason=f"串通投标{script}"))
        for url in ("/?q=蜀道", f"/entities/{SHUDAO}", f"/entities/{SHUDAO}/report"):
            html = page(client, url)
            assert "<script>" not in html
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_form_without_its_csrf_token_is_refused_with_a_400_page(
    client: FlaskClient, t: dict[str, Headers]
) -> None:
    with clock.travel(NOW):
        record_id = listed(client, t)
        form = {"record_id": record_id, "applicant": "蜀道", "reason": "有误", "phone": "028-1"}
        resp = client.post(f"/entities/{SHUDAO}/objections", data=form)
    assert resp.status_code == 400
    assert 'data-status="400"' in resp.get_data(as_text=True)
    with client.application.app_context():
        assert db.session.scalar(select(Objection.id)) is None


def test_an_objection_from_the_profile_is_received_and_its_number_shown(
    app: Flask, client: FlaskClient, t: dict[str, Headers]
) -> None:
    with clock.travel(NOW):
        record_id = listed(client, t)
        token = token_of(page(client, f"/entities/{SHUDAO}"))
        form = {"csrf_token": token, "record_id": record_id, "applicant": "蜀道<b>路桥</b>",
                "reason": "我公司未参与该项目投标"}  # fmt: skip
        resp = client.post(f"/entities/{SHUDAO}/objections", data=form)  # no phone nor email
        assert resp.status_code == 422
        html = resp.get_data(as_text=True)
        assert "联系" in html
        assert "请填写联系电话或电子邮箱" in html
        assert "我公司未参与该项目投标" in html
        assert "蜀道&lt;b&gt;路桥&lt;/b&gt;" in html
        elsewhere = client.post(f"/entities/{BEIJIANG}/objections", data=form)
        assert elsewhere.status_code == 404  # that subject has no public record here
        beijiang = {"type": "organization", "name": "北疆建筑", "uscc": BEIJIANG}
        push(client, t["zhujian"], penalty("呼住建罚〔2026〕9号", "2026-05-01", ["吊销许可证件"],
                                           subject=beijiang))  # fmt: skip
        elsewhere = client.post(
            f"/entities/{BEIJIANG}/objections", data=form | {"phone": "0471-8888"}
        )
        assert elsewhere.status_code == 422  # a record of another subject
        assert "该记录不是本主体的公示记录" in elsewhere.get_data(as_text=True)
        resp = client.post(f"/entities/{SHUDAO}/objections", data=form | {"phone": "028-8888"})
        assert resp.status_code == 302
        html = page(client, resp.headers["Location"])
    with app.app_context():
        filed = db.session.scalars(select(Objection)).one()
        assert (filed.source, filed.status, filed.contact) == (
            "public",
            "received",
            {"phone": "028-8888"},
        )
    assert f"异议已提交,编号 {filed.id}" in html
    assert filed.due_on is not None
    assert filed.due_on.isoformat() in html
    assert "异议已提交,待受理" in html


def test_a_repair_from_the_profile_names_the_earliest_date_then_is_filed(
    app: Flask, client: FlaskClient, t: dict[str, Headers]
) -> None:
    with clock.travel(NOW):
        record_id = listed(client, t, on="2026-02-10")
        token = token_of(page(client, f"/entities/{SHUDAO}"))
        form = {"csrf_token": token, "record_id": record_id, "applicant": "蜀道",
                "email": "legal@shudao.example", "evidence": "已整改",
                "commitment": "yes"}  # fmt: skip
        resp = client.post(f"/entities/{SHUDAO}/repairs", data=form)
        assert resp.status_code == 422
        html = resp.get_data(as_text=True)
        assert "该记录自 2027-02-10 起方可申请信用修复" in html
        assert 'value="legal@shudao.example"' in html
        assert "checked" in html
        resp = client.post(f"/entities/{SHUDAO}/repairs", data=form | {"commitment": ""})
        assert "信用承诺:须勾选信用承诺" in resp.get_data(as_text=True)
    with clock.travel("2027-02-10T10:00:00+08:00"):
        resp = client.post(f"/entities/{SHUDAO}/repairs", data=form)
        assert resp.status_code == 302
        html = page(client, resp.headers["Location"])
    with app.app_context():
        repair = db.session.scalars(select(Repair)).one()
        assert (repair.source, repair.applicant, repair.status) == ("public", "蜀道", "pending")
    assert f"信用修复申请已提交,编号 {repair.id}" in html


def test_the_public_repair_api_names_the_earliest_date_and_files_a_pending_application(
    client: FlaskClient, t: dict[str, Headers]
) -> None:
    with clock.travel(NOW):
        record_id = listed(client, t, on="2026-02-10")
        body = {"record_id": record_id, "applicant": "蜀道", "commitment": True,
                "contact": {"phone": "028-8888"}}  # fmt: skip
        code, err = post(client, "/api/v1/public/repairs", None, body)
        assert code == 422, err
        assert "2027-02-10" in err["message"]
        assert err["errors"]["eligible_on"] == ["2027-02-10"]
        assert post(client, "/api/v1/public/repairs", None, body | {"contact": {}})[0] == 422
        minor = push(client, t["zhujian"], penalty("呼住建罚〔2026〕7号", "2026-05-06", ["警告"]))
        code, err = post(client, "/api/v1/public/repairs", None, body | {"record_id": minor})
        assert code == 422
        assert "not public" in err["message"]
    with clock.travel("2027-02-10T10:00:00+08:00"):
        code, filed = post(client, "/api/v1/public/repairs", None, body)
        assert code == 201, filed
        assert filed["status"] == "pending"
        [item] = client.get("/api/v1/repairs", headers=t["admin"]).get_json()["items"]
        assert (item["source"], item["applicant"], item["contact"]) == (
            "public", "蜀道", {"phone": "028-8888"},
        )  # fmt: skip
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["paths"]["/api/v1/public/repairs"]["post"]["security"] == []


def test_the_credit_report_has_the_standards_sections_and_verifies(
    app: Flask, client: FlaskClient, t: dict[str, Headers]
) -> None:
    with clock.travel(NOW):
        listed(client, t)
        html = page(client, f"/entities/{SHUDAO}/report")
    for section in ("基本信息", "行政处罚信息", "严重失信主体名单信息", "守信激励信息",
                    "异议与信用修复信息"):  # fmt: skip
        assert section in html
    assert mask_id_number(PERSON_ID) in html
    assert PERSON_ID not in html
    number = re.search(r'class="report-number">(XYBG\w+)<', html)
    link = re.search(
        r'class="verify-link" href="http://localhost(/reports/[^"?]+\?digest=(\w+))"', html
    )
    assert number
    assert link
    with app.app_context():
        issued = db.session.get(IssuedReport, number.group(1))
        assert issued is not None
        assert (issued.subject_uscc, issued.digest) == (
            SHUDAO,
            link.group(2),
        )
    good = page(client, link.group(1))
    assert "摘要一致" in good
    assert SHUDAO in good
    bad = page(client, f"/reports/{number.group(1)}?digest={'0' * 64}")
    assert "摘要不一致" in bad
    assert "未提供摘要" in page(client, f"/reports/{number.group(1)}")
    assert "没有出具过" in page(client, "/reports/XYBG20260302FFFFFFFFFF", 404)
