"""`/api/v1/docs`: the OpenAPI document as a page, served entirely by the hub, without a token."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests

from tests.sync.hubs import Hub
from tests.web.browser import Page


class _Links(HTMLParser):
    """The addresses a page makes a browser load (assets, and the document Swagger UI reads)
    and those it links to."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []
        self.linked: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if value and (key in ("src", "data-spec") or (key == "href" and tag == "link")):
                self.loaded.append(value)
            elif value and key == "href":
                self.linked.append(value)


def test_the_docs_page_and_everything_it_loads_come_from_the_hub_without_a_token(
    site: Hub,
) -> None:
    page = requests.get(f"{site.url}/api/v1/docs", timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "unsafe" not in policy
    links = _Links()
    links.feed(page.text)
    scripts = [u for u in links.loaded if u.endswith(".js")]
    assert len(scripts) == 2  # Swagger UI and its initializer, both files of the hub
    for url in links.loaded + links.linked:
        absolute = urljoin(page.url, url)
        assert urlsplit(absolute).netloc == urlsplit(site.url).netloc, url
    for url in links.loaded:
        assert requests.get(urljoin(page.url, url), timeout=10).status_code == 200, url
    assert requests.get(f"{site.url}/api/v1/docs/assets/index.html", timeout=10).status_code == 404


def test_swagger_ui_lists_the_operations(browser: Page) -> None:
    browser.open("/api/v1/docs")
    browser.find(".opblock")
    paths = {e.text for e in browser.all(".opblock-summary-path")}
    assert "/api/v1/check/{uscc}" in paths
    assert "/api/v1/public/entities" in paths
    # Nothing refused by the page's policy, nothing failed to load (the browser's own ask
    # for /favicon.ico aside).
    problems = [
        e["message"] for e in browser.driver.get_log("browser") if "favicon.ico" not in e["message"]
    ]
    assert problems == []
    browser.screenshot("api-docs")
