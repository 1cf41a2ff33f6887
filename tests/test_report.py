"""Rendering Allure results with the Allure 3 CLI (reports.allure_cli)."""

from __future__ import annotations

import json
import os
import re
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.errors import FrameworkError
from reports.allure_cli import find_allure, generate, history_file, strip_analytics
from reports.summary_page import DATA, LINK_ID, PAGE
from tests.test_report_summary import planted

TESTS = {
    "test_pan_tilt_returns_home": "passed",
    "test_zoom_stop_is_acknowledged": "failed",
}
TRACKERS = re.compile(r"googletagmanager|google-analytics|gtag|analytics|dataLayer", re.I)


def write_results(directory: Path, tests: dict[str, str] = TESTS) -> Path:
    """Hand-made allure-pytest style ``*-result.json`` files, one per test."""
    directory.mkdir(parents=True, exist_ok=True)
    start = 1_700_000_000_000
    for i, (name, status) in enumerate(tests.items()):
        result_id = str(uuid.uuid4())
        result = {
            "uuid": result_id,
            "historyId": f"visca-{name}",
            "name": name,
            "fullName": f"suites.visca.test_basic#{name}",
            "status": status,
            "start": start + 10 * i,
            "stop": start + 10 * i + 7,
            "labels": [
                {"name": "parentSuite", "value": "suites.visca"},
                {"name": "suite", "value": "test_basic"},
                {"name": "framework", "value": "pytest"},
                {"name": "language", "value": "cpython3"},
            ],
        }
        if status == "failed":
            result["statusDetails"] = {"message": "no reply within 200 ms", "trace": "Finding"}
        (directory / f"{result_id}-result.json").write_text(json.dumps(result), encoding="utf-8")
    return directory


@pytest.fixture
def allure_cli() -> list[str]:
    try:
        return find_allure()
    except FrameworkError as exc:
        pytest.skip(str(exc))


def files_mentioning(directory: Path, text: str) -> list[Path]:
    return [
        path
        for path in directory.rglob("*")
        if path.is_file() and text in path.read_text(encoding="utf-8", errors="replace")
    ]


@pytest.mark.usefixtures("allure_cli")
def test_generate_writes_offline_awesome_report(tmp_path: Path) -> None:
    results = write_results(tmp_path / "allure-results")
    out = tmp_path / "allure-report"

    index = generate(results, out)

    assert index == out.resolve() / "index.html"
    html = index.read_text(encoding="utf-8")
    assert '<div id="app">' in html  # the awesome single-page app shell
    assert not TRACKERS.search(html)
    assert strip_analytics(out) == 0  # nothing left to strip
    for name in TESTS:
        assert files_mentioning(out, name), f"{name} is not in the report data"


@pytest.mark.usefixtures("allure_cli")
def test_generate_keeps_history_and_replaces_previous_report(tmp_path: Path) -> None:
    results = write_results(tmp_path / "allure-results")
    out = tmp_path / "allure-report"

    generate(results, out)
    generate(results, out)

    runs = history_file(out).read_text(encoding="utf-8").splitlines()
    assert len(runs) == 2
    assert "test_pan_tilt_returns_home" in runs[0]
    # The second report replaced the first in place (no nested plugin directory)
    # and carries the first run as per-test history.
    assert not (out / "awesome").exists()
    data = [json.loads(p.read_text(encoding="utf-8")) for p in out.glob("data/test-results/*")]
    assert data and all(len(result.get("history", [])) == 1 for result in data)
    assert not list(tmp_path.glob(".allure-report-*")), "scratch directory left behind"


@pytest.mark.usefixtures("allure_cli")
def test_generate_single_file(tmp_path: Path) -> None:
    results = write_results(tmp_path / "allure-results")
    out = tmp_path / "single"

    index = generate(results, out, single_file=True, history=False)

    html = index.read_text(encoding="utf-8")
    # Single-file pages embed the app and data base64-encoded, so only look for
    # markers that cannot turn up in base64 by chance.
    assert "googletagmanager" not in html
    assert "gtag(" not in html
    assert "data:text/javascript;base64," in html
    assert not list(out.glob("*.js"))
    assert not history_file(out).exists()
    # the summary page sits beside the single page, which links to it
    assert (out / PAGE).is_file() and (out / "junit.xml").is_file()
    assert html.count(f'<a id="{LINK_ID}" href="{PAGE}"') == 1


@pytest.mark.usefixtures("allure_cli")
def test_generate_adds_linked_summary_and_junit(tmp_path: Path) -> None:
    results = planted(tmp_path / "allure-results")
    out = tmp_path / "allure-report"
    ci = tmp_path / "ci" / "junit.xml"

    index = generate(results, out, history=False, junit=ci)

    assert index.read_text(encoding="utf-8").count(f'<a id="{LINK_ID}" href="{PAGE}"') == 1
    assert strip_analytics(out) == 0
    assert f'id="{LINK_ID}"' in index.read_text(encoding="utf-8")
    # the summary counts what the report counts (the retried test once)
    stats = json.loads((out / "summary.json").read_text(encoding="utf-8"))["stats"]
    totals = json.loads((out / DATA).read_text(encoding="utf-8"))["totals"]
    assert totals["total"] == stats["total"]
    assert {s: n for s, n in totals.items() if n} == {s: stats[s] for s in totals if s in stats}
    # every test the page names links to a test result of this report
    page = (out / PAGE).read_text(encoding="utf-8")
    ids = set(re.findall(r'href="index\.html#/([0-9a-f]{32})"', page))
    assert len(ids) >= 10
    assert all((out / "data" / "test-results" / f"{i}.json").is_file() for i in ids)
    assert not re.search(r"(?i)\b(?:src|href)=\"(?:https?:)?//", page)
    ET.parse(out / "junit.xml")
    assert ci.read_bytes() == (out / "junit.xml").read_bytes()


@pytest.mark.skipif(os.name == "nt", reason="uses a POSIX shell script as a fake CLI")
@pytest.mark.parametrize("summary", [True, False])
def test_summary_can_be_left_out_but_junit_is_always_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, summary: bool
) -> None:
    fake = tmp_path / "allure"
    fake.write_text(
        '#!/bin/sh\nwhile [ $# -gt 0 ]; do [ "$1" = --output ] && out="$2"; shift; done\n'
        'mkdir -p "$out" && echo \'<html><body><div id="app"></div></body></html>\''
        ' > "$out/index.html"\n',
        encoding="utf-8",
    )
    fake.chmod(0o755)
    monkeypatch.setenv("CONFORMANCE_ALLURE", str(fake))
    out = tmp_path / "report"

    index = generate(write_results(tmp_path / "allure-results"), out, summary=summary)

    assert (out / "junit.xml").is_file()
    assert (out / PAGE).is_file() is summary
    assert (LINK_ID in index.read_text(encoding="utf-8")) is summary


def test_strip_analytics_removes_gtag_snippet(tmp_path: Path) -> None:
    page = tmp_path / "index.html"
    page.write_text(
        """<!DOCTYPE html>
<html><head><title>Report</title>
    <script>
      window.allureReportOptions = {"reportName": "gtag-free report"}
    </script>
</head>
<body>
    <div id="app"></div>
    <script src="app-1234.js"></script>
    <script async src="https://www.googletagmanager.com/gtag/js?id=G-TEST123"></script>
    <script>
        window.dataLayer = window.dataLayer || [];
        function gtag(){dataLayer.push(arguments);}
        gtag('js', new Date());
        gtag('config', 'G-TEST123', {"report": "awesome"});
    </script>
    <noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-X"></iframe></noscript>
    <script async>window.allureReportDataReady = true;</script>
</body></html>
""",
        encoding="utf-8",
    )
    (tmp_path / "app-1234.js").write_text("console.log('gtag(') // not a page", encoding="utf-8")

    assert strip_analytics(tmp_path) == 3

    html = page.read_text(encoding="utf-8")
    assert "googletagmanager" not in html
    assert "dataLayer" not in html
    assert "G-TEST123" not in html
    for kept in (
        "<title>Report</title>",
        '"reportName": "gtag-free report"',
        '<div id="app"></div>',
        '<script src="app-1234.js"></script>',
        "window.allureReportDataReady = true;",
        "</body></html>",
    ):
        assert kept in html
    assert "gtag(" in (tmp_path / "app-1234.js").read_text(encoding="utf-8")
    assert strip_analytics(tmp_path) == 0


def test_missing_results_dir_is_a_framework_error(tmp_path: Path) -> None:
    with pytest.raises(FrameworkError, match="no Allure results directory"):
        generate(tmp_path / "nowhere", tmp_path / "report")


def test_empty_results_dir_is_a_framework_error(tmp_path: Path) -> None:
    (tmp_path / "allure-results").mkdir()
    with pytest.raises(FrameworkError, match="no Allure results"):
        generate(tmp_path / "allure-results", tmp_path / "report")


def test_refuses_to_replace_a_directory_that_is_not_a_report(tmp_path: Path) -> None:
    results = write_results(tmp_path / "allure-results")
    precious = tmp_path / "docs"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(FrameworkError, match="refusing to replace"):
        generate(results, precious)
    assert (precious / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_env_override_must_be_executable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFORMANCE_ALLURE", str(tmp_path / "no-such-allure"))
    with pytest.raises(FrameworkError, match="CONFORMANCE_ALLURE"):
        find_allure()


@pytest.mark.skipif(os.name == "nt", reason="uses a POSIX shell script as a fake CLI")
def test_cli_failure_reports_stderr_tail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "allure"
    fake.write_text("#!/bin/sh\necho 'boom: results unreadable' >&2\nexit 3\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("CONFORMANCE_ALLURE", str(fake))
    results = write_results(tmp_path / "allure-results")
    with pytest.raises(FrameworkError, match=r"exited with 3:\nboom: results unreadable"):
        generate(results, tmp_path / "report")
    assert not (tmp_path / "report").exists()
