"""The page foundation against a real server: an HTML page carries the security headers and
the stylesheet it links loads, and the headless browser drives the hub."""

from __future__ import annotations

import requests

from credithub.web import PAGE_POLICY, SECURITY_HEADERS
from tests.sync.hubs import Hub
from tests.web.browser import Page


def test_pages_carry_the_security_headers_and_the_stylesheet_loads(site: Hub) -> None:
    page = requests.get(f"{site.url}/", timeout=10)  # through the real server (gunicorn)
    assert page.status_code == 200
    assert page.headers["Content-Security-Policy"] == PAGE_POLICY
    for name, value in SECURITY_HEADERS.items():
        assert page.headers[name] == value
    css = requests.get(f"{site.url}/static/site.css", timeout=10)
    assert css.status_code == 200
    assert "text/css" in css.headers["Content-Type"]


def test_the_browser_runs_against_the_hub(browser: Page) -> None:
    browser.open("/static/site.css")
    assert ":root" in browser.text()
