"""The report of a real run, opened in headless Chromium: no console errors, no network, sorting works,
and a `<script>` inside the data is shown as text and never runs.

Needs Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver) and the
Python package selenium; skipped, with the reason, where they are absent.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
PAYLOAD = "<script>window.pwned = 1; document.title = 'pwned';</script>"

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="needs chromium and chromedriver: apt-get install -y chromium chromium-driver",
)


@pytest.fixture
def browser(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium: pip install selenium")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--window-size=1366,900",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    # An explicit driver path: selenium must not go looking for (or downloading) one.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver, path: Path) -> None:
    driver.get_log("performance")  # drop anything logged before this page
    driver.get(path.resolve().as_uri())


def network_requests(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if not url.startswith("data:"):  # inline data is not a network request (the report has none anyway)
                urls.append(url)
    return urls


def console_problems(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def click(driver, element) -> None:
    """Scroll to the middle of the screen first: at the very top, the sticky navigation bar covers it."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


def row_order(driver, table_id: str) -> list[str]:
    return driver.execute_script(
        f"return Array.from(document.querySelectorAll('#{table_id} tbody tr')).map(r => r.dataset.variant);"
    )


def test_report_in_headless_chromium(tiny_suite, tmp_path, browser):
    from selenium.webdriver.common.by import By

    from harness.report import write_comparison, write_report
    from harness.run.recipe import run_suite

    test_file = tiny_suite.parent / "data" / "test.jsonl"
    rows = [json.loads(line) for line in test_file.read_text().splitlines()]
    rows[0]["messages"][0]["content"] = f"{PAYLOAD} a note about apples"
    test_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = run_suite(tiny_suite, tmp_path / "runs" / "a")
    report = write_report(run.run_dir)

    open_page(browser, report)
    assert browser.title.endswith("bench report")
    assert network_requests(browser) in ([], [report.resolve().as_uri()])  # the page itself, nothing else
    assert console_problems(browser) == []
    browser.save_screenshot(str(tmp_path / "report-first-screen.png"))

    # The payload never ran, and reads as text once its example is opened.
    assert browser.execute_script("return window.pwned === undefined")
    for summary in browser.find_elements(By.CSS_SELECTOR, "#failures details > summary"):
        click(browser, summary)
    assert PAYLOAD in browser.find_element(By.ID, "failures").text

    # Sorting: headers became buttons; the first click on "variant" sorts by name, the second reverses it.
    names = sorted(run.results["variants"])
    header = browser.find_element(By.CSS_SELECTOR, "#variant-table thead th:first-child button")
    click(browser, header)
    assert row_order(browser, "variant-table") == names
    assert (
        browser.find_element(By.CSS_SELECTOR, "#variant-table thead th:first-child").get_attribute("aria-sort")
        == "ascending"
    )
    click(browser, header)
    assert row_order(browser, "variant-table") == names[::-1]
    click(
        browser,
        browser.find_element(By.XPATH, "//table[@id='variant-table']//th[contains(., 'inference time')]/button"),
    )
    times = [run.results["variants"][n]["cost"]["infer_seconds"] for n in row_order(browser, "variant-table")]
    assert times == sorted(times)  # cost columns sort cheapest first

    # Print layout: the sticky navigation goes, details open before printing.
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert not browser.find_element(By.CSS_SELECTOR, "nav.toc").is_displayed()
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    full_height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1366, min(full_height + 100, 16000))
    browser.save_screenshot(str(tmp_path / "report-full.png"))
    assert console_problems(browser) == []

    # The comparison page of two runs (the second reuses every variant of the first) loads just as cleanly.
    second = run_suite(tiny_suite, tmp_path / "runs" / "b")
    comparison = write_comparison(run.run_dir, second.run_dir)
    open_page(browser, comparison)
    assert network_requests(browser) in ([], [comparison.resolve().as_uri()])
    assert console_problems(browser) == []
    assert row_order(browser, "compare-table") == list(run.results["variants"])
    browser.save_screenshot(str(tmp_path / "compare.png"))


# Costs over 1.6 decades: matplotlib's own log-axis labels here were mathtext ("$\mathdefault{10^{2}}$"),
# shown as raw markup because the report turns mathtext off (a "$" from the data must stay a dollar sign).
WIDE_COSTS = {"zero-shot": (None, 50.0), "few-shot": (None, 180.0), "lora": (1900.0, 60.0)}

TICK_LABELS_JS = """
return Array.from(document.querySelectorAll('svg.plot')).map(svg => ({
  label: svg.getAttribute('aria-label'),
  texts: Array.from(svg.querySelectorAll('text')).map(t => t.textContent),
  axes: Array.from(svg.querySelectorAll('g[id^="matplotlib.axis"]')).map(axis =>
    Array.from(axis.querySelectorAll('g[id^="xtick"] text, g[id^="ytick"] text'))
      .filter(t => t.textContent.trim() !== '')
      .map(t => {
        // The glyph box in the text's own coordinates, carried to the screen through its rotation and the scaling.
        const b = t.getBBox(), m = t.getScreenCTM();
        return {
          text: t.textContent,
          corners: [[b.x, b.y], [b.x + b.width, b.y], [b.x + b.width, b.y + b.height], [b.x, b.y + b.height]]
            .map(([x, y]) => { const p = new DOMPoint(x, y).matrixTransform(m); return [p.x, p.y]; }),
        };
      })),
}));
"""


def quads_overlap(first: list[list[float]], second: list[list[float]], tolerance: float = 1.0) -> bool:
    """Separating-axis test for two convex quadrilaterals (rotated label boxes); a touch within ``tolerance`` px is none."""
    for quad in (first, second):
        for i in range(4):
            (x1, y1), (x2, y2) = quad[i], quad[(i + 1) % 4]
            normal = (y1 - y2, x2 - x1)
            length = (normal[0] ** 2 + normal[1] ** 2) ** 0.5 or 1.0
            a = [(x * normal[0] + y * normal[1]) / length for x, y in first]
            b = [(x * normal[0] + y * normal[1]) / length for x, y in second]
            if min(max(a), max(b)) - max(min(a), min(b)) <= tolerance:
                return False  # a gap (or a bare touch) along this axis separates them
    return True


def test_report_plots_have_plain_text_labels_that_do_not_overlap(tiny_suite, tmp_path, browser):
    from harness.report import write_report
    from harness.run.recipe import run_suite

    run = run_suite(tiny_suite, tmp_path / "run")
    results_path = run.run_dir / "results.json"
    results = json.loads(results_path.read_text())
    for name, (train, infer) in WIDE_COSTS.items():
        results["variants"][name]["cost"].update(train_seconds=train, infer_seconds=infer)
    results_path.write_text(json.dumps(results))
    report = write_report(run.run_dir)

    open_page(browser, report)
    assert console_problems(browser) == []
    figures = browser.execute_script(TICK_LABELS_JS)
    assert any(f["label"].startswith("Quality against cost") for f in figures)  # the log-scaled figure is there
    browser.save_screenshot(str(tmp_path / "report-plots.png"))
    for figure in figures:
        markup = [t for t in figure["texts"] if "$" in t or "\\" in t]
        assert markup == [], f"{figure['label']}: mathtext shown as raw text: {markup}"
        for labels in figure["axes"]:
            assert labels, f"{figure['label']}: an axis without tick labels"
            clashes = [
                (a["text"], b["text"])
                for i, a in enumerate(labels)
                for b in labels[i + 1 :]
                if quads_overlap(a["corners"], b["corners"])
            ]
            assert clashes == [], f"{figure['label']}: overlapping tick labels {clashes}"
    pareto = next(f for f in figures if f["label"].startswith("Quality against cost"))
    assert {"100", "1,000"} <= {label["text"] for label in pareto["axes"][0]}  # plain numbers on the cost axis
