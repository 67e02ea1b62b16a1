"""A real hub serving the demo data on loopback, and a headless browser pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sync.hubs import Hub
from tests.web.browser import Page, start_browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """One hub per test module, serving `credithub demo`'s data; tests in a module build on
    each other's steps, in order (file an objection, then decide it)."""
    hub = Hub("web", tmp_path_factory.mktemp("site"))
    hub.cli("demo")
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()


@pytest.fixture(scope="module")
def browser(site: Hub) -> Iterator[Page]:
    driver = start_browser()
    try:
        yield Page(driver, site.url)
    finally:
        driver.quit()
