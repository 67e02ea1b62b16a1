"""The issue's whole journey in one real browser, on a hub serving the demo data, with the
console login that `credithub demo` prints: the public finds a barred company and disputes
its penalty from the profile; the office logs in, accepts the objection (the profile marks the
record disputed), decides it revoked, and the profile and the search show the company clear."""

from __future__ import annotations

import re

from tests.sync.hubs import Hub
from tests.web.browser import Page

NANSHAN = "914403001922038216"  # the demo's 250万元 procurement fine: barred in procurement
FINE = "呼财罚〔2026〕3号"


def _printed_console_login(site: Hub) -> tuple[str, str]:
    printed = site.cli("demo").stdout  # a second run: the same login as the first
    found = re.search(r"console\s+\S+/admin/\s+user (\S+)\s+password (\S+)", printed)
    assert found, printed
    return found.group(1), found.group(2)


def test_a_public_objection_decided_in_the_console_changes_the_profile(
    site: Hub, browser: Page
) -> None:
    browser.open("/")
    browser.fill("#q", "南山工程")
    browser.submit("form.search button")
    [row] = browser.all("tr.result")
    assert "限制中" in row.text
    browser.submit("tr.result a")
    assert browser.path == f"/entities/{NANSHAN}"
    assert FINE in browser.text("article.record")
    assert "政府采购" in browser.text("section.restrictions")

    browser.fill("#objection-applicant", "深圳市南山工程咨询有限公司")
    browser.fill("#objection-reason", "业绩证明材料真实,请复核")
    browser.fill("#objection-email", "legal@nanshan.example.cn")
    browser.submit("#objection-submit")
    number = browser.text(".flash").split("编号 ")[1].split(";")[0]

    user, password = _printed_console_login(site)
    browser.open("/admin/login")
    browser.fill("#username", user)
    browser.fill("#password", password)
    browser.submit("#login")
    assert browser.path == "/admin/"
    browser.open(f"/admin/objections/{number}")
    assert FINE in browser.text("body")
    browser.submit("#accept")
    assert "异议已受理" in browser.text(".flash")

    browser.open(f"/entities/{NANSHAN}")
    assert "异议处理中" in browser.text("article.record")

    browser.open(f"/admin/objections/{number}")
    browser.submit("#forward")
    browser.find("#outcome option[value='revoked']").click()
    browser.fill("#note", "复核后认定材料真实,撤销处罚信息")
    browser.submit("#decide")
    assert browser.find("#objection-outcome").get_attribute("data-outcome") == "revoked"

    browser.open(f"/entities/{NANSHAN}")
    assert FINE not in browser.text("body")
    browser.open("/?q=南山工程")
    assert "限制中" not in browser.text("body")
