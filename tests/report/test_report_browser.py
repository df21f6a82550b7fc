"""The report in a real browser: Debian's Chromium, headless, driven by Selenium through Debian's chromedriver.

No network and no browser download: the page is opened from file://. Without Chromium the test skips and says
what to install; under CI (CI=true) a missing browser is a failure, since `.ci/run` installs it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

OUTPUT = Path(__file__).resolve().parents[1] / "output"
CHROME_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
    "--window-size=1400,1100",
)


def _binary(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
        if found:
            return found
    return None


def _missing(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must have it: .ci/run installs chromium and chromium-driver)")
    pytest.skip(f"{reason}: install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")


@pytest.fixture
def browser(tmp_path):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed (pip install -e '.[dev]')")
    chromium = _binary("chromium", "chromium-browser")
    driver_path = _binary("chromedriver")
    if not chromium or not driver_path:
        _missing("Chromium or chromedriver not found")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in (*CHROME_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path keeps Selenium Manager from looking for (and downloading) a driver.
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


def _severe(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def test_report_in_headless_chromium(browser, sample_report):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(sample_report.result.path.as_uri())
    assert "Piramide del valore pubblico" in browser.title
    assert _severe(browser) == []

    # The pyramid renders with scores.
    nodes = browser.find_elements(By.CSS_SELECTOR, "#pyramid-graph .node")
    assert len(nodes) == 22
    assert all(n.is_displayed() and n.size["width"] > 20 for n in nodes)
    vpi = browser.find_element(By.CSS_SELECTOR, '#pyramid-graph .node[data-node="VPI"]')
    assert vpi.get_attribute("data-score") and "," in vpi.find_element(By.CLASS_NAME, "node-score").text
    assert "selected" in vpi.get_attribute("class")

    # The regional chart renders with data: 23 rows, bars of non-zero width.
    chart = browser.find_element(By.ID, "regional-chart")
    assert chart.is_displayed() and chart.size["height"] > 300
    rows = chart.find_elements(By.CSS_SELECTOR, ".region-row")
    assert len(rows) == 23
    bars = chart.find_elements(By.CSS_SELECTOR, "rect.bar")
    assert len(bars) >= 20 and all(float(b.get_attribute("width")) > 0 for b in bars)

    # Clicking an objective shows its panel and exactly its leaves.
    browser.find_element(By.CSS_SELECTOR, '#pyramid-graph .node[data-node="OBJ_D"]').click()
    panel = browser.find_element(By.CSS_SELECTOR, '.node-detail[data-detail="OBJ_D"]')
    assert panel.is_displayed()
    assert not browser.find_element(By.CSS_SELECTOR, '.node-detail[data-detail="VPI"]').is_displayed()
    visible = [r for r in browser.find_elements(By.CSS_SELECTOR, "#leaf-table tbody tr.leaf") if r.is_displayed()]
    codes = {r.get_attribute("data-code") for r in visible}
    assert {"D.1", "D.2"} <= codes
    assert all("OBJ_D" in r.get_attribute("data-path").split() for r in visible)
    d1 = next(r for r in visible if r.get_attribute("data-code") == "D.1")
    assert "L" in d1.text and "%" in d1.text  # plan line and deviation are shown
    browser.execute_script("document.getElementById('node-details').scrollIntoView()")
    browser.save_screenshot(str(_out("report_click_OBJ_D.png")))

    # A perspective's panel lists its children; a child row drills further down.
    browser.find_element(By.CSS_SELECTOR, '#pyramid-graph .node[data-node="PG_FINANZA"]').click()
    browser.find_element(By.CSS_SELECTOR, '.node-detail[data-detail="PG_FINANZA"] tr[data-node="IEEP"]').click()
    visible = [r.get_attribute("data-code") for r in browser.find_elements(By.CSS_SELECTOR, "#leaf-table tbody tr")
               if r.is_displayed()]
    assert visible[:1] == ["IEEP"] and "IEEP.ENTRATE" in visible

    # The select box shows the chosen region's production structures.
    select = Select(browser.find_element(By.ID, "region-select"))
    select.select_by_value("piemonte")
    shown = [r for r in browser.find_elements(By.CSS_SELECTOR, "#structure-table tbody tr") if r.is_displayed()]
    assert len(shown) >= 5 and all(r.get_attribute("data-region") == "piemonte" for r in shown)

    # The regional table sorts on a click (PG, descending first).
    header = browser.find_elements(By.CSS_SELECTOR, "#region-table th[data-sort]")[-2]
    header.click()
    values = [float(td.get_attribute("data-v")) for td in
              browser.find_elements(By.CSS_SELECTOR, "#region-table tbody tr td:nth-last-child(2)")
              if td.get_attribute("data-v")]
    assert values == sorted(values, reverse=True) and len(values) >= 20
    header.click()
    values = [float(td.get_attribute("data-v")) for td in
              browser.find_elements(By.CSS_SELECTOR, "#region-table tbody tr td:nth-last-child(2)")
              if td.get_attribute("data-v")]
    assert values == sorted(values)

    # Year-so-far charts have drawn lines.
    assert len(browser.find_elements(By.CSS_SELECTOR, "#year svg path.series.actual")) >= 5

    assert _severe(browser) == []
    browser.execute_script("window.scrollTo(0, 0)")
    browser.find_element(By.CSS_SELECTOR, '#pyramid-graph .node[data-node="VPI"]').click()
    browser.save_screenshot(str(_out("report.png")))
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1400, min(int(height), 16000))
    browser.save_screenshot(str(_out("report_full_page.png")))


def _out(name: str) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT / name
