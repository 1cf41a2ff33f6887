"""Checking rendered reports in a real headless Chromium (reports.browser, reports.dom,
reports.page_checks, reports.report_server)."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import struct
import time
from pathlib import Path

import pytest

from conformance.errors import FrameworkError
from reports.allure_cli import find_allure, generate
from reports.browser import (
    ENV_VAR,
    MIN_PNG_BYTES,
    PNG_SIGNATURE,
    ChromiumMissing,
    check_report,
    find_chromium,
    foreign_page_requests,
    netlog_requests,
    png_problems,
    require_chromium,
)
from reports.dom import Node, parse_dom
from reports.page_checks import (
    SUMMARY_PAGE,
    BrowserCheck,
    check_report_dom,
    check_summary_dom,
    links_to,
    tracker_problems,
)
from reports.report_server import serve_report
from tests.test_report import write_results

TESTS = {
    "test_pan_home": "passed",
    "test_tilt_home": "passed",
    "test_zoom_wide": "passed",
    "test_zoom_stop_ack": "failed",
    "test_focus_stop_ack": "failed",
    "test_preset_recall": "broken",
    "test_osd_menu": "skipped",
}
EXPECT = {"passed": 3, "failed": 2, "broken": 1, "skipped": 1}
SHOWN = {**EXPECT, "total": 7}  # what the awesome app prints (statuses without tests left out)
TRACKER = "https://www.googletagmanager.com/gtag/js?id=G-TEST123"
URL = "http://127.0.0.1:8000/index.html"


# --- fixtures ---------------------------------------------------------------


@pytest.fixture
def chromium() -> str:
    try:
        return require_chromium()
    except ChromiumMissing as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One report rendered by the Allure CLI from results with known counts."""
    try:
        find_allure()
    except FrameworkError as exc:
        pytest.skip(str(exc))
    base = tmp_path_factory.mktemp("browser")
    results = write_results(base / "allure-results", TESTS)
    return generate(results, base / "allure-report", history=False).parent


def summary_page(counts: dict[str, int]) -> str:
    """A minimal conformance summary page of the agreed shape."""
    rows = "".join(
        f'<tr><th>{key}</th><td data-status="{key}">{n}</td></tr>' for key, n in counts.items()
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Summary</title></head>'
        f'<body><h1>Conformance summary</h1><table id="totals">{rows}</table></body></html>'
    )


def plant(report: Path, old: str, new: str, page: str = "index.html") -> None:
    path = report / page
    html = path.read_text(encoding="utf-8")
    assert old in html, f"{old!r} not in {page}"
    path.write_text(html.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def report(pristine: Path, tmp_path: Path) -> Path:
    """A copy of the rendered report with a summary page linked from index.html."""
    copy = Path(shutil.copytree(pristine, tmp_path / "allure-report"))
    if not (copy / SUMMARY_PAGE).is_file():
        counts = {**EXPECT, "unknown": 0, "total": 7}
        (copy / SUMMARY_PAGE).write_text(summary_page(counts), encoding="utf-8")
    if not links_to((copy / "index.html").read_text(encoding="utf-8"), URL, SUMMARY_PAGE):
        link = f'<a href="{SUMMARY_PAGE}">Conformance summary</a>'
        plant(copy, '<div id="app">', f'{link}<div id="app">')
    return copy


# --- in a real Chromium -----------------------------------------------------


@pytest.mark.usefixtures("chromium")
def test_rendered_report_passes(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shots" / "report.png"

    check = check_report(report, expect=EXPECT, screenshot=shot)

    assert check.problems == []
    assert check.ok
    assert check.report_counts == SHOWN
    assert check.tab_counts == SHOWN
    assert check.tree_leaves == len(TESTS)
    assert check.summary_counts == {**EXPECT, "unknown": 0, "total": 7}
    assert check.screenshots == [shot, shot.with_name("report-summary.png")]
    for png in check.screenshots:
        assert png.read_bytes().startswith(PNG_SIGNATURE)
        assert png.stat().st_size >= MIN_PNG_BYTES
    assert check.external == []
    served = dict(check.fetched)
    assert served["/index.html"] == 200
    assert served["/widgets/statistic.json"] == 200
    assert served[f"/{SUMMARY_PAGE}"] == 200


@pytest.mark.usefixtures("chromium")
def test_tampered_numbers_are_named(report: Path) -> None:
    stats = report / "widgets" / "statistic.json"
    data = json.loads(stats.read_text(encoding="utf-8"))
    data.update(passed=2, failed=3)  # one passed test turned into a failure
    stats.write_text(json.dumps(data), encoding="utf-8")
    summary = (report / SUMMARY_PAGE).read_text(encoding="utf-8")
    summary = re.sub(r'(data-status="broken"[^>]*>)\s*\d+', r"\g<1>4", summary)
    (report / SUMMARY_PAGE).write_text(summary, encoding="utf-8")
    index = report / "index.html"
    link = re.compile(rf'<a\b[^>]*\bhref="(?:\./)?{re.escape(SUMMARY_PAGE)}"[^>]*>.*?</a>', re.S)
    unlinked, removed = link.subn("", index.read_text(encoding="utf-8"))
    assert removed == 1
    index.write_text(unlinked, encoding="utf-8")

    check = check_report(report, expect=EXPECT)

    assert check.report_counts["passed"] == 2
    assert "index.html: the report shows passed = 2, expected 3" in check.problems
    assert "index.html: the report shows failed = 3, expected 2" in check.problems
    assert f"{SUMMARY_PAGE}: broken = 4, expected 1" in check.problems
    assert f"{SUMMARY_PAGE}: the statuses add up to 10, not the total 7" in check.problems
    assert f"index.html: no link to {SUMMARY_PAGE}" in check.problems


@pytest.mark.usefixtures("chromium")
def test_planted_analytics_script_is_reported(report: Path) -> None:
    plant(report, "</body>", f'<script async src="{TRACKER}"></script></body>')

    check = check_report(report, expect=EXPECT)

    assert f"index.html: script from another host remains: {TRACKER}" in check.problems
    assert f"a page asked another host for {TRACKER}" in check.problems
    assert check.external == [TRACKER]
    assert "CONNECT www.googletagmanager.com:443" in check.blocked  # refused, never sent
    assert check.report_counts == SHOWN  # the report itself is still fine


@pytest.mark.usefixtures("chromium")
def test_missing_summary_page_is_a_problem(report: Path) -> None:
    (report / SUMMARY_PAGE).unlink()

    check = check_report(report, expect=EXPECT)

    assert check.problems == [f"{SUMMARY_PAGE} is missing from the report"]
    assert check.summary_counts is None


@pytest.mark.usefixtures("chromium")
def test_generated_report_with_its_own_summary(pristine: Path, tmp_path: Path) -> None:
    assert (pristine / SUMMARY_PAGE).is_file()

    check = check_report(pristine, expect=EXPECT)

    assert check.problems == []


# --- set-up errors (no Chromium needed) -------------------------------------


def test_directory_without_index_is_a_framework_error(tmp_path: Path) -> None:
    (tmp_path / "widgets").mkdir()
    with pytest.raises(FrameworkError, match=r"no index\.html"):
        check_report(tmp_path, expect=EXPECT)


def test_unknown_expectation_is_a_framework_error(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<html></html>", encoding="utf-8")
    with pytest.raises(FrameworkError, match="unknown keys in expect: passd"):
        check_report(tmp_path, expect={"passd": 3})


def test_missing_chromium_gives_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "index.html").write_text("<html></html>", encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "no-such-chromium"))
    assert find_chromium() is None
    with pytest.raises(ChromiumMissing, match=r"Chromium not found .*install Debian's `chromium`"):
        check_report(tmp_path)
    monkeypatch.delenv(ENV_VAR)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_chromium() is None


def fake_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> Path:
    exe = tmp_path / "fake-chromium"
    exe.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    exe.chmod(0o755)
    monkeypatch.setenv(ENV_VAR, str(exe))
    report = tmp_path / "report"
    report.mkdir()
    (report / "index.html").write_text('<div id="app"></div>', encoding="utf-8")
    return report


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its parent counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return state[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_hanging_chromium_is_killed_with_its_helpers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pids = tmp_path / "pids"
    report = fake_chromium(
        tmp_path, monkeypatch, f"sleep 60 & echo $! > {pids}.tmp; mv {pids}.tmp {pids}; wait"
    )
    assert find_chromium() == str(tmp_path / "fake-chromium")

    with pytest.raises(FrameworkError, match=r"Chromium took longer than .* to render index"):
        check_report(report, timeout=1.0)

    helper = int(pids.read_text(encoding="ascii"))
    deadline = time.monotonic() + 10
    while alive(helper) and time.monotonic() < deadline:
        time.sleep(0.02)  # polling the process table until a deadline
    assert not alive(helper), "the helper Chromium started was left running"


def test_failing_chromium_reports_stderr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = fake_chromium(tmp_path, monkeypatch, "echo 'boom: no display' >&2; exit 3")
    with pytest.raises(FrameworkError, match=r"exited with 3 trying to render index\.html:\nboom"):
        check_report(report)


def test_pages_never_requested_are_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A "browser" that prints a DOM without loading anything and writes no network log.
    dom = tmp_path / "dom.html"
    dom.write_text(rendered_dom(), encoding="utf-8")
    report = fake_chromium(tmp_path, monkeypatch, f"cat {dom}")

    check = check_report(report, expect=EXPECT)

    assert check.report_counts == SHOWN
    assert "index.html was not served (HTTP no request)" in check.problems
    assert any("no network log" in problem for problem in check.problems)


# --- reading the DOM --------------------------------------------------------


def metadata(key: str, count: int) -> str:
    return (
        f'<div data-testid="metadata-item-{key}"><div>{key.title()}</div>'
        f'<div data-testid="metadata-value"><span>{count}</span></div></div>'
    )


def tab(key: str, count: int) -> str:
    return f'<button data-testid="tab-{key}">{key} <small data-testid="counter">{count}</small>'


def rendered_dom(
    counts: dict[str, int] = SHOWN, tabs: dict[str, int] | None = None, extra: str = ""
) -> str:
    """The shape of the awesome app's rendered DOM, reduced to the markers read."""
    tabs = counts if tabs is None else tabs
    return (
        '<html><head><script>window.allureReportOptions = {"id": "awesome"}</script></head>'
        '<body><div id="app"><div data-testid="base-layout">'
        '<div data-testid="report-header"><h2>Conformance report</h2></div>'
        + "".join(metadata(k, n) for k, n in counts.items())
        + "".join(tab("all" if k == "total" else k, n) + "</button>" for k, n in tabs.items())
        + '<div data-testid="tree-content"><input type="text">'
        + '<button data-testid="tree-leaf">t</button>' * counts.get("total", 0)
        + f"</div></div></div>{extra}</body></html>"
    )


def read(html: str, expect: dict[str, int] | None = EXPECT) -> BrowserCheck:
    check = BrowserCheck()
    check_report_dom(html, URL, expect, check)
    return check


def test_dom_with_the_expected_numbers_is_quiet() -> None:
    check = read(rendered_dom())
    assert check.problems == []
    assert (check.report_counts, check.tab_counts, check.tree_leaves) == (SHOWN, SHOWN, 7)
    assert read(rendered_dom(), expect=None).problems == []


def test_empty_app_did_not_render() -> None:
    check = read('<html><body><div id="app"></div><script src="app.js"></script></body></html>')
    assert check.problems == ["index.html: the Allure app did not render (#app is empty)"]


def test_loading_screen_left_up_did_not_finish() -> None:
    html = rendered_dom(extra='<div id="allure-app-loader"></div>')
    assert read(html).problems == [
        "index.html: the report did not finish rendering: ['(the loading screen is still up)']"
    ]
    bare = '<div id="app"><div data-testid="base-layout"></div></div>'
    assert "['report-header', 'tree-content']" in read(bare).problems[0]


def test_numbers_that_disagree_are_named() -> None:
    counts = {**SHOWN, "failed": 3}
    problems = read(rendered_dom(counts, tabs=SHOWN)).problems
    assert problems == [
        "index.html: the statuses add up to 8, not the total 7",
        "index.html: the failed tab counts 2 but the header shows 3",
        "index.html: the report shows failed = 3, expected 2",
    ]
    no_total = {k: n for k, n in SHOWN.items() if k != "total"}
    assert (
        "index.html: the report shows no total test count" in read(rendered_dom(no_total)).problems
    )


def test_statuses_the_app_leaves_out_count_as_zero() -> None:
    assert read(rendered_dom(), expect={**EXPECT, "unknown": 0}).problems == []
    assert read(rendered_dom(), expect={**EXPECT, "unknown": 1}).problems == [
        "index.html: the report shows unknown = 0, expected 1",
        "index.html: the report shows total = 7, expected 8",
    ]


def test_tracker_scripts_are_found() -> None:
    local = (
        '<script src="app-1234.js"></script>'
        '<script src="data:text/javascript;base64,eA=="></script>'
    )
    big = "<script>window.report = " + '"dataLayer",' * 500 + "</script>"
    assert tracker_problems(parse(local + big), URL, "index.html") == []
    planted = (
        f'<script async src="{TRACKER}"></script>'
        "<script>window.dataLayer = window.dataLayer || []; gtag('js', new Date());</script>"
        '<script src="//cdn.example.com/lib.js"></script>'
    )
    problems = tracker_problems(parse(planted), URL, "index.html")
    assert problems[0] == f"index.html: script from another host remains: {TRACKER}"
    assert problems[1].startswith("index.html: inline analytics script remains: ")
    assert "window.dataLayer = window.dataLayer" in problems[1]
    assert problems[2].endswith("http://cdn.example.com/lib.js")
    assert len(problems) == 3


def parse(html: str) -> Node:
    return parse_dom(f"<html><body>{html}</body></html>")


# --- the summary page -------------------------------------------------------


def summary(html: str, expect: dict[str, int] | None = EXPECT) -> BrowserCheck:
    check = BrowserCheck(report_counts=dict(SHOWN))
    check_summary_dom(html, URL, expect, check)
    return check


def test_summary_with_the_expected_totals_is_quiet() -> None:
    full = {**EXPECT, "unknown": 0, "total": 7}
    assert summary(summary_page(full)).problems == []
    assert summary(summary_page(full), expect=None).problems == []
    assert summary(summary_page(full)).summary_counts == full


def test_summary_mismatches_are_named() -> None:
    counts = {**EXPECT, "failed": 5, "unknown": 0, "total": 10}
    assert summary(summary_page(counts)).problems == [
        f"{SUMMARY_PAGE}: failed = 5, expected 2",
        f"{SUMMARY_PAGE}: total = 10, expected 7",
    ]
    # Without expected numbers the summary must agree with the report.
    assert summary(summary_page(counts), expect=None).problems == [
        f"{SUMMARY_PAGE}: failed = 5, the report shows 2",
        f"{SUMMARY_PAGE}: total = 10, the report shows 7",
    ]


def test_malformed_summary_tables_are_problems() -> None:
    assert summary("<html><body><p>no table</p></body></html>").problems == [
        f'{SUMMARY_PAGE}: no <table id="totals">'
    ]
    odd = summary_page({"passed": 3, "failed": 2, "broken": 1, "skipped": 1})
    odd = odd.replace(
        "</table>",
        '<tr><td data-status="total">seven</td><td data-status="flaky">1</td></tr></table>',
    )
    assert summary(odd).problems == [
        f"{SUMMARY_PAGE}: the total cell is not a count: 'seven'",
        f"{SUMMARY_PAGE}: unknown data-status 'flaky'",
        f"{SUMMARY_PAGE}: #totals has no total cell",
        f"{SUMMARY_PAGE}: no total cell, expected 7",
    ]


def test_summary_link_is_found_however_written() -> None:
    for href in (SUMMARY_PAGE, f"./{SUMMARY_PAGE}", f"/{SUMMARY_PAGE}?v=1#totals"):
        assert links_to(f'<a href="{href}">Summary</a>', URL, SUMMARY_PAGE), href
    assert not links_to('<a href="index.html">Report</a>', URL, SUMMARY_PAGE)
    assert not links_to(f'<link href="{SUMMARY_PAGE}">', URL, SUMMARY_PAGE)


# --- screenshots ------------------------------------------------------------


def fake_png(path: Path, width: int = 1400, height: int = 1000, size: int = 20_000) -> Path:
    """A PNG signature and header padded to ``size`` bytes (only these are checked)."""
    ihdr = struct.pack(">II", width, height) + bytes([8, 6, 0, 0, 0])
    head = PNG_SIGNATURE + struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
    path.write_bytes(head + bytes(max(size - len(head), 0)))
    return path


def test_png_checks(tmp_path: Path) -> None:
    assert png_problems(fake_png(tmp_path / "good.png")) == []
    assert png_problems(tmp_path / "none.png") == ["no screenshot was written to none.png"]
    (tmp_path / "text.png").write_text("<html>" * 5000, encoding="utf-8")
    assert png_problems(tmp_path / "text.png") == ["text.png is not a PNG file"]
    assert png_problems(fake_png(tmp_path / "small.png", 800, 600)) == [
        "small.png is 800x600, not 1400x1000"
    ]
    assert png_problems(fake_png(tmp_path / "blank.png", size=6000)) == [
        "blank.png has only 6000 bytes: a blank page?"
    ]


# --- requests for other hosts -----------------------------------------------


def netlog(path: Path, requests: list[tuple[str, str]]) -> Path:
    events = [{"type": 7, "params": {"url": "x"}}]  # another event type is ignored
    events += [{"type": 136, "params": {"url": u, "initiator": i}} for u, i in requests]
    events.append({"type": 136, "params": {"net_error": -130}})  # the job's end: no url
    log = {"constants": {"logEventTypes": {"URL_REQUEST_START_JOB": 136}}, "events": events}
    path.write_text(json.dumps(log), encoding="utf-8")
    return path


def test_only_requests_a_page_made_count(tmp_path: Path) -> None:
    origin = "http://127.0.0.1:8000"
    log = netlog(
        tmp_path / "netlog.json",
        [
            ("http://127.0.0.1:8000/index.html", "not an origin"),  # the navigation
            ("http://127.0.0.1:8000/widgets/tree.json", origin),
            ("https://update.googleapis.com/service/update2/json", "not an origin"),
            (TRACKER, origin),
            ("http://203.0.113.9/beacon", origin),
        ],
    )
    requests = netlog_requests(log)
    assert len(requests) == 5
    assert foreign_page_requests(requests, f"{origin}/index.html") == [
        TRACKER,
        "http://203.0.113.9/beacon",
    ]
    assert foreign_page_requests(requests[:3], f"{origin}/index.html") == []


def test_unreadable_netlog_is_a_framework_error(tmp_path: Path) -> None:
    (tmp_path / "netlog.json").write_text('{"constants": {', encoding="utf-8")
    with pytest.raises(FrameworkError, match="cannot read Chromium's network log"):
        netlog_requests(tmp_path / "netlog.json")


def test_server_serves_the_report_and_refuses_proxy_requests(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<p>report</p>", encoding="utf-8")
    check = BrowserCheck()
    with serve_report(tmp_path, check) as port:
        for method, target, status in [
            ("GET", "/index.html?v=1", 200),
            ("GET", "/missing.json", 404),
            ("GET", TRACKER, 403),
            ("CONNECT", "www.google-analytics.com:443", 403),
            ("POST", "http://www.google-analytics.com/g/collect", 403),
        ]:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
                conn.putheader("Host", "127.0.0.1")
                conn.endheaders()
                assert conn.getresponse().status == status, target
            finally:
                conn.close()
    assert check.fetched == [("/index.html", 200), ("/missing.json", 404)]
    assert check.blocked == [
        f"GET {TRACKER}",
        "CONNECT www.google-analytics.com:443",
        "POST http://www.google-analytics.com/g/collect",
    ]


def test_find_chromium_prefers_the_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exe = tmp_path / "my-chromium"
    exe.write_text("#!/bin/sh\n", encoding="utf-8")
    exe.chmod(0o755)
    monkeypatch.setenv(ENV_VAR, str(exe))
    assert find_chromium() == str(exe)
    monkeypatch.delenv(ENV_VAR)
    (tmp_path / "google-chrome").write_bytes(exe.read_bytes())
    (tmp_path / "google-chrome").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_chromium() == str(tmp_path / "google-chrome")


@pytest.mark.usefixtures("chromium", "pristine")
def test_report_command_checks_in_the_browser(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``conformance report --check``: the rendered numbers are the run's (as the
    summary counted them); without Chromium the check says so and is skipped."""
    from conformance.cli import main

    results = write_results(tmp_path / "results", TESTS)
    out = tmp_path / "out"
    assert main(["report", str(results), "-o", str(out), "--check"]) == 0
    said = capsys.readouterr().out
    assert "browser check: ok (total 7," in said
    assert (out / "screenshot.png").is_file()

    monkeypatch.setenv("CONFORMANCE_CHROMIUM", str(tmp_path / "no-chromium"))
    assert main(["report", str(results), "-o", str(out), "--check"]) == 0
    assert "browser check skipped: Chromium not found" in capsys.readouterr().out
