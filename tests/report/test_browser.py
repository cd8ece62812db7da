"""Open the generated report in real headless Chromium (Debian's /usr/bin/chromium).

Never downloads a browser: skipped when the system Chromium is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium not installed"),
]


@pytest.fixture()
def page(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            pg = ctx.new_page()
            pg.set_viewport_size({"width": 1300, "height": 1000})
            yield pg
        finally:
            ctx.close()


def test_report_in_chromium(page, report_html, tmp_path):
    console_errors: list[str] = []
    page_errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page_errors.append(str(e)))

    # Route everything: the document itself is allowed, any other request is recorded and aborted.
    target = report_html.resolve().as_uri()

    def handle(route):
        url = route.request.url
        if url == target:
            route.continue_()
        else:
            requests.append(url)
            route.abort()

    page.route("**/*", handle)
    page.goto(target)
    page.wait_for_selector("html[data-ready='1']")

    # Leaderboard and segment matrix rendered with a row per configuration / segment.
    assert page.locator("#leaderboard-table tbody tr").count() == 3
    assert page.locator("#segment-matrix tbody tr").count() >= 7
    assert page.locator("#segment-matrix").inner_text().count("▼") >= 1
    assert page.locator("#calibration svg").count() >= 2

    # Sorting works: click "good" twice (descending) and the first row has the highest value.
    header = page.locator("#leaderboard-table thead button.sort", has_text="good").first
    header.click()
    header.click()
    vals = [float(v) for v in page.locator("#leaderboard-table tbody tr td:nth-child(3)").evaluate_all(
        "els => els.map(e => e.getAttribute('data-sort'))")]
    assert vals == sorted(vals, reverse=True)

    # A drill-down opens on click.
    drill = page.locator("details.case.regression").nth(1)
    assert not drill.evaluate("d => d.open")
    drill.locator("summary").first.click()
    assert drill.evaluate("d => d.open")
    assert drill.locator("pre.raw-output").first.is_visible()

    # The payload case: its output is on screen as text and no script from it ran.
    # Opened through the regression table's link: exercises the anchor handler as well.
    page.locator("#flips-table a", has_text="case-00000").first.click()
    payload = page.locator("details.case.regression", has_text="case-00000").first
    page.wait_for_function("() => document.querySelector('details.case.regression').open")
    assert payload.evaluate("d => d.open")
    text = payload.locator("pre.raw-output").first.inner_text()
    assert "<script>window.__evalkit_xss = 1</script>" in text and "onerror=" in text
    assert page.evaluate("typeof window.__evalkit_xss") == "undefined"
    assert page.locator("img").count() == 0

    ARTIFACTS.mkdir(exist_ok=True)
    payload.screenshot(path=str(ARTIFACTS / "report-drilldown.png"))
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=False)
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000

    assert console_errors == [], console_errors
    assert page_errors == [], page_errors
    assert requests == [], requests


def test_escaping_is_what_protects_not_only_csp(page, report_html, tmp_path):
    """Without the CSP meta tag the payload still must not run: escaping alone holds."""
    html = report_html.read_text(encoding="utf-8")
    start = html.index('<meta http-equiv="Content-Security-Policy"')
    stripped = html[:start] + html[html.index(">", start) + 1:]
    copy = tmp_path / "no-csp.html"
    copy.write_text(stripped, encoding="utf-8")
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
               else route.abort())
    page.goto(copy.as_uri())
    page.wait_for_selector("html[data-ready='1']")
    assert page.evaluate("typeof window.__evalkit_xss") == "undefined"
    text = page.locator("details.case", has_text="case-00000").first.locator("pre.raw-output").first.text_content()
    assert "<script>window.__evalkit_xss = 1</script>" in text
    assert page.locator("img").count() == 0
