"""Debian's Chromium driven by Selenium through Debian's chromedriver: offline, headless, every request logged.

Tests that need it call :func:`chromium`; where the browser or its driver is missing they are skipped with a
message, except in CI (``HOURGLASS_REQUIRE_BROWSER=1``, set by ``.ci/run``, which installs both), where they fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
# Offline and quiet: nothing under test needs the network, and this machine's network is closed.
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1300,1000",
]


def require_browser() -> None:
    if CHROMIUM and CHROMEDRIVER:
        return
    message = "Chromium and chromedriver are needed (apt-get install chromium chromium-driver); .ci/run installs them"
    if os.environ.get("HOURGLASS_REQUIRE_BROWSER"):
        pytest.fail(message)
    pytest.skip(message)


@contextlib.contextmanager
def chromium(user_data_dir):
    """A Selenium Chrome driver on Debian's Chromium, with the performance (network) log switched on."""
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={user_data_dir}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def requested_urls(driver) -> list[str]:
    """Every URL the page asked for since the last call (from Chrome's DevTools network events)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


LOCAL = ("file:", "data:", "blob:", "about:", "chrome:", "chrome-untrusted:", "devtools:")  # the browser's own


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
