"""Fixtures of the report tests: real pipeline runs (built once per session) and headless Chromium."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from report_helpers import CHROMEDRIVER, CHROMIUM, Runs  # noqa: E402


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> Runs:
    return Runs(tmp_path_factory.mktemp("runs"))


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Selenium, logging console messages and network requests."""
    if not CHROMIUM.is_file() or not CHROMEDRIVER.is_file():
        pytest.skip("/usr/bin/chromium or /usr/bin/chromedriver missing: apt-get install chromium chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver", reason="browser tests need the selenium package")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
                "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--disable-gpu-sandbox",
                "--disable-background-networking", "--no-first-run"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    yield driver
    driver.quit()


@pytest.fixture
def keep_screenshots():
    """Copy screenshots to $CUSTSEG_SCREENSHOTS when set, to look at them after the run."""
    import os

    target = os.environ.get("CUSTSEG_SCREENSHOTS")

    def keep(path: Path) -> None:
        if target:
            Path(target).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(target) / path.name)

    return keep
