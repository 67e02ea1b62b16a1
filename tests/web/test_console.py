"""The joint office's console in a real browser against a real hub serving the demo data: log
in, see the dashboard's charts, decide a public objection and see the profile change, be
refused without a CSRF token, and be locked out after repeated wrong passwords. The tests of
this module build on each other, in order."""

from __future__ import annotations

import requests

from tests.sync.hubs import Hub
from tests.web.browser import Page

SHUDAO = "91512081MA62K0260E"  # listed on ggzy-serious in the demo data
PASSWORD = "clerk-password-1"


def _login(browser: Page, username: str, password: str) -> None:
    browser.open("/admin/login")
    browser.fill("#username", username)
    browser.fill("#password", password)
    browser.submit("#login")


def _public_record(site: Hub) -> dict[str, object]:
    answer = requests.get(f"{site.url}/api/v1/public/entities/{SHUDAO}", timeout=10)
    assert answer.status_code == 200, answer.text
    [record] = answer.json()["records"]
    return dict(record)


def test_log_in_and_see_the_dashboard_charts(site: Hub, browser: Page) -> None:
    site.cli("admin", "create", "--username", "clerk", "--password", PASSWORD)
    browser.open("/admin/")
    assert browser.path.startswith("/admin/login")
    browser.screenshot("console-login")
    _login(browser, "clerk", PASSWORD)
    assert browser.path == "/admin/"
    assert "欢迎,clerk" in browser.text(".flash")
    charts = browser.all("svg.chart")
    assert len(charts) == 2
    bars = browser.all("svg.chart rect.bar")
    assert bars  # the demo's records were received today
    assert all(bar.size["height"] > 0 for bar in bars)
    assert "呼伦贝尔市住房和城乡建设局(4)" in browser.text("#received")
    assert SHUDAO in browser.text("#barred")
    assert "未配置任何连接器" in browser.text("#sync")
    browser.screenshot("console-dashboard")


def test_accept_and_decide_a_public_objection_and_see_the_profile_change(
    site: Hub, browser: Page
) -> None:
    record = _public_record(site)
    body = {
        "record_id": record["id"], "applicant": "四川蜀道路桥建设有限公司",
        "reason": "串通投标的认定有误", "contact": {"name": "李四", "phone": "0471-1234567"},
    }  # fmt: skip
    filed = requests.post(f"{site.url}/api/v1/public/objections", json=body, timeout=10)
    assert filed.status_code == 201, filed.text
    objection = filed.json()["id"]
    browser.open("/admin/objections?status=received")
    browser.find(f"a[href='/admin/objections/{objection}']").click()
    browser.find("#accept")
    assert browser.find("#objection-status").get_attribute("data-status") == "received"
    assert browser.text("#objection-status") == "待受理"
    browser.screenshot("console-objection")
    browser.submit("#accept")
    assert "异议已受理" in browser.text(".flash")
    assert _public_record(site)["status"] == "disputed"
    browser.open(f"/admin/objections/{objection}")
    browser.submit("#forward")
    assert browser.find("#objection-status").get_attribute("data-status") == "forwarded"
    browser.find("#outcome option[value='revoked']").click()
    browser.fill("#note", "认定主体有误,撤销")
    browser.submit("#decide")
    assert browser.find("#objection-status").get_attribute("data-status") == "decided"
    assert browser.find("#objection-outcome").get_attribute("data-outcome") == "revoked"
    steps = browser.text("#steps")
    assert "console:clerk" in steps
    # Revoked: the public sees the record no more, and the office's JSON says so.
    public = requests.get(f"{site.url}/api/v1/public/entities/{SHUDAO}", timeout=10)
    assert public.status_code == 404
    admin = site.token("admin", "browser-admin")
    assert site.get(f"/api/v1/records/{record['id']}", admin)["status"] == "revoked"


def test_a_form_without_its_csrf_token_is_refused(site: Hub, browser: Page) -> None:
    browser.open("/admin/clients")
    browser.screenshot("console-clients")
    browser.fill("#name", "无令牌的表单")
    browser.driver.execute_script(
        "document.querySelector('#new-client input[name=csrf_token]').remove()"
    )
    browser.submit("#create")
    assert browser.find(".error").get_attribute("data-status") == "400"
    assert "表单已过期" in browser.text(".error")
    browser.open("/admin/clients")
    assert "无令牌的表单" not in browser.text("table.clients")
    # With its token the same form works, and shows the new token once.
    browser.fill("#name", "招标平台")
    browser.find("#kind option[value='consumer']").click()
    browser.submit("#create")
    token = browser.text("#token")
    assert token.startswith("chub_")
    check = requests.get(
        f"{site.url}/api/v1/check/{SHUDAO}?domain=construction",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert check.status_code == 200


def test_wrong_passwords_lock_the_account(site: Hub, browser: Page) -> None:
    browser.submit("form.logout button")
    site.cli("admin", "create", "--username", "temp", "--password", PASSWORD)
    for _ in range(5):  # [console] max_failures
        _login(browser, "temp", "not-the-password")
    assert "已锁定至" in browser.text(".flash")
    _login(browser, "temp", PASSWORD)
    assert browser.path.startswith("/admin/login")
    assert "账户已锁定" in browser.text(".flash")
    listed = site.cli("admin", "list").stdout
    assert "temp\t" in listed
    assert "locked until -" not in listed.split("temp\t")[1].splitlines()[0]
