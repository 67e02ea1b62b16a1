"""The public pages in a real browser against a real hub serving the demo data: search, a
profile with a masked person, an objection filed from the profile, the printable report and
its verification link. Screenshots of each main page are kept as artefacts.

Tests in this module build on each other in order (the objection is filed on the demo).
"""

from __future__ import annotations

import base64

from tests.sync.hubs import Hub
from tests.web.browser import ARTIFACTS, Page

SHUDAO = "91512081MA62K0260E"
MINJIANG = "91350100M0001TGQXM"
PERSON_ID = "11010519491231002X"  # the demo's legal representative of 四川蜀道路桥
MASKED = "110105********002X"


def test_search_by_name_finds_the_company_with_its_level_and_bar(browser: Page) -> None:
    browser.open("/")
    assert "信用查询" in browser.text("h1")
    browser.screenshot("public-search")
    browser.fill("#q", "蜀道路桥")
    browser.submit("form.search button")
    [row] = browser.all("tr.result")
    assert "四川蜀道路桥建设有限公司" in row.text
    assert SHUDAO in row.text
    assert "限制中" in row.text


def test_the_profile_explains_the_listing_and_masks_the_person(browser: Page) -> None:
    browser.open("/?q=蜀道路桥")
    browser.submit("tr.result a")  # a link: the same click and wait
    assert browser.path == f"/entities/{SHUDAO}"
    assert "当前被限制参与公共资源交易" in browser.text("section.subject")
    assert "限制参与公共资源交易活动" in browser.text("section.restrictions")
    record = browser.text("article.record")
    assert "公共资源交易领域严重失信主体名单" in record
    assert MASKED in browser.text(".legal-rep")
    assert PERSON_ID not in browser.driver.page_source
    assert len(browser.all("svg.score-history circle")) == 13
    browser.screenshot("public-profile")


def test_a_disputed_record_is_marked_on_its_profile(browser: Page) -> None:
    browser.open(f"/entities/{MINJIANG}")
    assert "异议处理中" in browser.text("article.record")


def test_an_objection_filed_from_the_profile_shows_its_number(browser: Page, site: Hub) -> None:
    browser.open(f"/entities/{SHUDAO}")
    browser.fill("#objection-applicant", "四川蜀道路桥建设有限公司")
    browser.fill("#objection-reason", "我公司未参与该项目投标,请核实")
    browser.submit("#objection-submit")  # no phone nor email: the form again, as typed
    assert "请填写联系电话或电子邮箱" in browser.text(".form-errors")
    assert (
        browser.find("#objection-reason").get_attribute("value") == "我公司未参与该项目投标,请核实"
    )
    browser.fill("#objection-phone", "028-88886666")
    browser.submit("#objection-submit")
    assert browser.path == f"/entities/{SHUDAO}"
    message = browser.text(".flash")
    assert "异议已提交,编号 " in message
    number = message.split("编号 ")[1].split(";")[0]
    assert "异议已提交,待受理" in browser.text("article.record")
    office = site.token("admin", "pages-office")
    queue = site.get("/api/v1/objections?status=received", office)
    assert number in [item["id"] for item in queue["items"]]


def test_the_report_prints_its_sections_and_its_verification_link_works(browser: Page) -> None:
    browser.open(f"/entities/{SHUDAO}")
    browser.submit("section.subject a.button")
    headings = [h.text for h in browser.all(".credit-report h2")]
    assert headings[:5] == [
        "一、基本信息", "二、行政处罚信息", "三、严重失信主体名单信息", "四、守信激励信息",
        "五、异议与信用修复信息",
    ]  # fmt: skip
    assert "异议" in browser.text("#objections")  # the objection filed above
    assert MASKED in browser.text("#listings")
    number = browser.text(".report-number")
    browser.screenshot("public-report")
    # Printed as the browser prints it (the stylesheet's print rules): a PDF artefact.
    pdf = base64.b64decode(browser.driver.print_page())
    assert pdf.startswith(b"%PDF")
    (ARTIFACTS / "public-report.pdf").write_bytes(pdf)
    link = browser.find("a.verify-link").get_attribute("href")
    assert link is not None
    browser.driver.get(link)
    assert browser.path.startswith(f"/reports/{number}?digest=")
    assert number in browser.text(".verdict")
    assert "摘要一致" in browser.text(".verdict")
    browser.fill("#digest", "0" * 64)
    browser.submit("form.stack button")
    assert "摘要不一致" in browser.text(".verdict")
