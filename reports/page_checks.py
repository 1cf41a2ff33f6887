"""What the rendered report pages must show, read from the DOM Chromium holds.

``index.html`` (the awesome app) is read for its ``data-testid`` markers: the
``metadata-item-*`` header, the ``tab-*`` counters above the test tree and its
``tree-leaf`` rows; ``conformance-summary.html`` for the cells of its
``<table id="totals">`` (``data-status`` = status or ``total``, the count as text,
the contract of :mod:`reports.summary_page`).  Both pages must be free of scripts
from other hosts and of inline analytics snippets.  :class:`BrowserCheck` is the
record a check fills.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from conformance.errors import FrameworkError
from reports.allure_cli import is_inline_tracker
from reports.dom import Node, parse_dom
from reports.results import STATUSES
from reports.summary_page import PAGE as SUMMARY_PAGE

KEYS = (*STATUSES, "total")


@dataclass
class BrowserCheck:
    """What headless Chromium showed; ``problems == []`` means the report passed."""

    report_counts: dict[str, int] = field(default_factory=dict)  # header: total and statuses
    tab_counts: dict[str, int] = field(default_factory=dict)  # counters above the tree
    tree_leaves: int = 0  # test rows rendered in the tree
    summary_counts: dict[str, int] | None = None  # conformance-summary.html #totals
    screenshots: list[Path] = field(default_factory=list)
    fetched: list[tuple[str, int]] = field(default_factory=list)  # (served path, HTTP status)
    external: list[str] = field(default_factory=list)  # URLs on other hosts the pages asked for
    blocked: list[str] = field(default_factory=list)  # all refused proxy requests, Chromium's too
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _count(text: str) -> int | None:
    text = text.strip().replace(",", "").replace("\u00a0", "")
    return int(text) if text.isdigit() else None


def expected_counts(expect: Mapping[str, int] | None) -> dict[str, int] | None:
    """``expect`` completed: statuses left out are 0, ``total`` defaults to their sum;
    :class:`FrameworkError` for unknown keys or counts that are no whole numbers >= 0."""
    if expect is None:
        return None
    unknown = sorted(set(expect) - set(KEYS))
    if unknown:
        raise FrameworkError(f"unknown keys in expect: {', '.join(unknown)} (use {KEYS})")
    if any(not isinstance(v, int) or v < 0 for v in expect.values()):
        raise FrameworkError(f"expect needs counts >= 0, not {dict(expect)}")
    full = {status: expect.get(status, 0) for status in STATUSES}
    full["total"] = expect.get("total", sum(full.values()))
    return full


def _consistency(counts: Mapping[str, int], where: str) -> list[str]:
    shown = [counts[s] for s in STATUSES if s in counts]
    if "total" in counts and shown and sum(shown) != counts["total"]:
        return [f"{where}: the statuses add up to {sum(shown)}, not the total {counts['total']}"]
    return []


def tracker_problems(root: Node, page_url: str, page: str) -> list[str]:
    """Scripts from another host and inline analytics snippets left in a page."""
    problems = []
    own_host = urlsplit(page_url).hostname
    for node in root.iter():
        if node.tag != "script":
            continue
        src = node.attrs.get("src")
        if src:
            url = urljoin(page_url, src)
            host = urlsplit(url).hostname
            if urlsplit(url).scheme != "data" and host != own_host:
                problems.append(f"{page}: script from another host remains: {url}")
            continue
        body = node.text()
        if is_inline_tracker(body):
            problems.append(f"{page}: inline analytics script remains: {body.strip()[:80]!r}")
    return problems


def _app_numbers(root: Node, check: BrowserCheck) -> None:
    for item in root.find_all("data-testid", re.compile(r"metadata-item-[\w-]+")):
        key = item.attrs["data-testid"].removeprefix("metadata-item-")
        value = item.find("data-testid", "metadata-value")
        count = _count(value.text()) if value is not None else None
        if key in KEYS and count is not None:
            check.report_counts[key] = count
    for tab in root.find_all("data-testid", re.compile(r"tab-[\w-]+")):
        key = tab.attrs["data-testid"].removeprefix("tab-")
        key = "total" if key == "all" else key
        counter = tab.find("data-testid", "counter")
        count = _count(counter.text()) if counter is not None else None
        if key in KEYS and count is not None:
            check.tab_counts[key] = count
    check.tree_leaves = len(root.find_all("data-testid", "tree-leaf"))


def check_report_dom(
    html: str, page_url: str, expect: Mapping[str, int] | None, check: BrowserCheck
) -> None:
    """Read the rendered awesome app into ``check`` and add what is wrong to its problems."""
    root = parse_dom(html)
    check.problems += tracker_problems(root, page_url, "index.html")
    app = root.find("id", "app")
    if app is None or not any(isinstance(c, Node) for c in app.children):
        check.problems.append("index.html: the Allure app did not render (#app is empty)")
        return
    missing = [
        marker
        for marker in ("report-header", "tree-content")
        if root.find("data-testid", marker) is None
    ]
    if root.find("id", "allure-app-loader") is not None:
        missing.append("(the loading screen is still up)")
    if missing:
        check.problems.append(f"index.html: the report did not finish rendering: {missing}")
        return
    _app_numbers(root, check)
    shown = check.report_counts
    if "total" not in shown:
        check.problems.append("index.html: the report shows no total test count")
    check.problems += _consistency(shown, "index.html")
    for key, count in check.tab_counts.items():
        if key in shown and shown[key] != count:
            check.problems.append(
                f"index.html: the {key} tab counts {count} but the header shows {shown[key]}"
            )
    expected = expected_counts(expect)
    for key, want in (expected or {}).items():
        got = shown.get(key, 0)  # the app leaves statuses without tests out
        if got != want:
            check.problems.append(f"index.html: the report shows {key} = {got}, expected {want}")


def check_summary_dom(
    html: str, page_url: str, expect: Mapping[str, int] | None, check: BrowserCheck
) -> None:
    """Read ``#totals`` of the summary page into ``check`` and add what is wrong."""
    root = parse_dom(html)
    check.problems += tracker_problems(root, page_url, SUMMARY_PAGE)
    table = root.find("id", "totals")
    if table is None:
        check.problems.append(f'{SUMMARY_PAGE}: no <table id="totals">')
        return
    counts: dict[str, int] = {}
    for cell in table.find_all("data-status"):
        key, count = cell.attrs["data-status"], _count(cell.text())
        if key not in KEYS:
            check.problems.append(f"{SUMMARY_PAGE}: unknown data-status {key!r}")
        elif count is None:
            check.problems.append(f"{SUMMARY_PAGE}: the {key} cell is not a count: {cell.text()!r}")
        else:
            counts[key] = count
    check.summary_counts = counts
    if "total" not in counts:
        check.problems.append(f"{SUMMARY_PAGE}: #totals has no total cell")
    check.problems += _consistency(counts, SUMMARY_PAGE)
    expected = expected_counts(expect)
    if expected is None:  # no numbers given: the summary must agree with the report
        expected = {k: check.report_counts.get(k, 0) for k in counts}
        source = "the report shows"
    else:
        source = "expected"
    for key, want in expected.items():
        got = counts.get(key)
        if got is None and want:
            check.problems.append(f"{SUMMARY_PAGE}: no {key} cell, {source} {want}")
        elif got is not None and got != want:
            check.problems.append(f"{SUMMARY_PAGE}: {key} = {got}, {source} {want}")


def links_to(html: str, page_url: str, target: str) -> bool:
    """Whether the page has an ``<a href>`` to ``target`` (a path on the same server)."""
    wanted = urlsplit(urljoin(page_url, target)).path
    return any(
        urlsplit(urljoin(page_url, a.attrs["href"])).path == wanted
        for a in parse_dom(html).find_all("href")
        if a.tag == "a"
    )
