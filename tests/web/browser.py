"""Headless Chromium for the page tests: Debian's `chromium` driven through its own
`chromedriver` by Selenium, with no browser download. `.ci/run` installs both when missing.

Screenshots of the pages a test visits go to `artifacts/screens/` (or `$CREDITHUB_ARTIFACTS`),
kept as CI artefacts.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("CREDITHUB_ARTIFACTS") or ROOT / "artifacts") / "screens"


def executable(name: str, *candidates: str) -> str:
    for candidate in (name, *candidates):
        found = shutil.which(candidate)
        if found:
            return found
    raise AssertionError(
        f"{name} is not installed: the page tests need Debian's chromium and chromium-driver "
        "(apt-get install chromium chromium-driver; .ci/run installs them)"
    )


def start_browser() -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = executable("chromium", "chromium-browser", "google-chrome")
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--window-size=1280,1600", "--lang=zh-CN", "--no-first-run",
        "--disable-background-networking", "--disable-component-update",
    ):  # fmt: skip
        options.add_argument(argument)
    service = Service(executable_path=executable("chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    return driver


def _replaced(element: WebElement) -> bool:
    try:
        element.is_enabled()
    except WebDriverException:
        # Stale, or chromedriver's other way of saying so: "Node with given id does not belong
        # to the document" (which Selenium's staleness_of does not expect, and lets through).
        return True
    return False


class Page:
    """A browser on one site: open paths, find things, take screenshots."""

    def __init__(self, driver: WebDriver, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    def open(self, path: str) -> Page:
        self.driver.get(self.base_url + path)
        return self

    def find(self, css: str) -> WebElement:
        return WebDriverWait(self.driver, 10).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
        )

    def all(self, css: str) -> list[WebElement]:
        return list(self.driver.find_elements(By.CSS_SELECTOR, css))

    def text(self, css: str = "body") -> str:
        return str(self.find(css).text)

    def fill(self, css: str, value: str) -> None:
        element = self.find(css)
        element.clear()
        element.send_keys(value)

    def submit(self, css: str) -> None:
        """Click a submit button of a page loaded whole, and wait for the next page to load
        whole."""
        self.loaded()
        old = self.find("html")
        self.find(css).click()
        WebDriverWait(self.driver, 15).until(lambda _driver: _replaced(old))
        self.loaded()

    def loaded(self) -> None:
        WebDriverWait(self.driver, 15).until(
            lambda driver: driver.execute_script("return document.readyState") == "complete"
        )

    @property
    def path(self) -> str:
        url = str(self.driver.current_url)
        return url[len(self.base_url) :] if url.startswith(self.base_url) else url

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1280, max(800, min(int(height) + 40, 6000)))
        target = ARTIFACTS / f"{name}.png"
        self.driver.save_screenshot(str(target))
        return target
