"""The conformance summary as one static HTML page, and its link in the Allure report.

The page needs no script and no other file: inline CSS, collapsible parts as
``<details>``.  Tests link into the Allure report beside it
(``index.html#/<id>``).  Contract for page checks: ``<table id="totals">`` has one
cell per Allure status with ``data-status="passed|failed|broken|skipped|unknown"``
and one with ``data-status="total"``, each holding only the count.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from reports.categories import category_slug
from reports.failures import Failure
from reports.results import STATUSES, ResultSet, load_results
from reports.summary import Breakdown, Summary, build_summary, to_json
from reports.verdicts import UNCOVERED, Counts, TestRef

PAGE = "conformance-summary.html"
DATA = "conformance-summary.json"
REPORT_INDEX = "index.html"
LINK_ID = "conformance-summary-link"
LINK = (
    f'<a id="{LINK_ID}" href="{PAGE}" style="position:fixed;right:16px;bottom:56px;'
    "z-index:2147483646;padding:8px 14px;border-radius:6px;background:#1f4fbf;color:#fff;"
    "font:600 14px/20px Arial,Helvetica,sans-serif;text-decoration:none;"
    'box-shadow:0 2px 6px rgba(0,0,0,.3)">Conformance summary</a>'
)
OPEN_TRANSCRIPTS = 20  # with at most this many failures their transcripts start unfolded
_BODY = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
_OLD_LINK = re.compile(rf'<a id="{LINK_ID}"[^>]*>[^<]*</a>')

CSS = """
body{font:14px/1.45 system-ui,Arial,Helvetica,sans-serif;margin:0 auto;max-width:1200px;
padding:16px 24px;color:#1d2330;background:#fff}
h1{margin:0 0 4px}h2{margin-top:32px;border-bottom:2px solid #dde2ea;padding-bottom:4px}
h3{margin:20px 0 6px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #d3d8e0;padding:3px 8px;text-align:left;vertical-align:top;
overflow-wrap:anywhere}
th{background:#f1f3f7}td.n{text-align:right}
nav a{margin-right:12px}
.s-passed{color:#116329}.s-failed{color:#b3141b;font-weight:600}
.s-broken{color:#9a5b00;font-weight:600}.s-skipped{color:#6b7280}.s-unknown{color:#6d28d9}
.s-uncovered,.s-untested{color:#6b7280;font-style:italic}
td.disagree{background:#fde2e1}td.agree{background:#e7f6ea}
td.inconclusive{background:#fff3d6}td.untested{background:#f6f7f9;color:#6b7280}
pre{background:#f6f7f9;border:1px solid #e1e5eb;padding:6px 8px;overflow-x:auto;
font-size:12px;margin:4px 0}
.failure{border-left:4px solid #b3141b;padding:2px 12px;margin:14px 0}
.failure.broken{border-left-color:#9a5b00}
.muted{color:#6b7280}dl{margin:4px 0}dt{font-weight:600;float:left;width:7em;clear:left}
dd{margin-left:7.5em}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _status(status: str, text: str | None = None) -> str:
    return f'<span class="s-{_e(status)}">{_e(text or status)}</span>'


def _test_link(test: TestRef) -> str:
    title = f"{test.full_name} ({test.status})"
    return (
        f'<a href="{REPORT_INDEX}#/{_e(test.report_id)}" title="{_e(title)}">{_e(test.name)}</a>'
        f" {_status(test.status)}"
    )


def _counts_cells(counts: Counts) -> str:
    data = counts.to_json()
    return (
        "".join(
            f'<td class="n s-{s}">{data[s]}</td>' if data[s] else '<td class="n">0</td>'
            for s in STATUSES
        )
        + f'<td class="n">{data["total"]}</td>'
    )


def _counts_head(*columns: str) -> str:
    heads = "".join(f"<th>{_e(c)}</th>" for c in (*columns, *STATUSES, "total"))
    return f"<thead><tr>{heads}</tr></thead>"


def _breakdown(table_id: str, breakdown: Breakdown) -> str:
    rows = "".join(
        "<tr>" + "".join(f"<td>{_e(k)}</td>" for k in key) + _counts_cells(counts) + "</tr>"
        for key, counts in sorted(breakdown.rows.items())
    )
    return f'<table id="{table_id}">{_counts_head(*breakdown.columns)}<tbody>{rows}</tbody></table>'


def _totals(summary: Summary) -> str:
    data = summary.totals.to_json()
    heads = "".join(f"<th>{s}</th>" for s in (*STATUSES, "total"))
    cells = (
        "".join(
            f'<td data-status="{s}" class="n{f" s-{s}" if data[s] else ""}">{data[s]}</td>'
            for s in STATUSES
        )
        + f'<td data-status="total" class="n">{data["total"]}</td>'
    )
    categories = "".join(
        f'<tr><td>{_e(name)}</td><td data-category="{category_slug(name)}" class="n">{n}</td></tr>'
        for name, n in summary.categories
    )
    notes = []
    if summary.superseded:
        notes.append(
            f"{summary.superseded} earlier result(s) of retried tests are not counted "
            "(the latest result per test counts)."
        )
    if summary.invalid_count:
        listed = "".join(
            f"<li><code>{_e(name)}</code>: {_e(why)}</li>" for name, why in summary.invalid
        )
        more = summary.invalid_count - len(summary.invalid)
        extra = f"<li>… {more} more</li>" if more > 0 else ""
        notes.append(
            f'<span id="invalid-files" data-count="{summary.invalid_count}">'
            f"{summary.invalid_count} result file(s) could not be read and are not counted:"
            f"</span><ul>{listed}{extra}</ul>"
        )
    return (
        '<section id="run-totals"><h2>Run totals</h2>'
        f'<table id="totals"><thead><tr>{heads}</tr></thead><tbody><tr>{cells}</tr></tbody>'
        "</table>"
        "<p>Failed: the device violated the spec.  Broken: the framework or the set-up "
        "failed.  Device unreachable: the device could not be opened or the link was lost "
        "(filed under its own category, whatever its status).</p>"
        '<table id="categories"><thead><tr><th>category</th><th>tests</th></tr></thead>'
        f"<tbody>{categories}</tbody></table>"
        + "".join(f"<p>{n}</p>" for n in notes)
        + "</section>"
    )


def _breakdowns(summary: Summary) -> str:
    return (
        '<section id="breakdown"><h2>Results per protocol, model and use case</h2>'
        "<h3>Per protocol</h3>"
        + _breakdown("by-protocol", summary.by_protocol)
        + "<h3>Per model</h3>"
        + _breakdown("by-model", summary.by_model)
        + "<details><summary>Per command group / functional block</summary>"
        + _breakdown("by-feature", summary.by_feature)
        + "</details><details><summary>Per command / use case</summary>"
        + _breakdown("by-story", summary.by_story)
        + "</details></section>"
    )


def _tests(tests: Iterable[TestRef]) -> str:
    return "<br>".join(_test_link(t) for t in tests)


def _traceability(summary: Summary) -> str:
    if not summary.traceability:
        return ""
    parts = [
        '<section id="ocpp-traceability"><h2>OCPP requirement traceability</h2>'
        "<p>Requirement IDs of OCPP 2.1 Part 2 per use case, the tests that name them "
        "and their verdict.  Requirements of an exercised use case that no test names "
        "are listed as uncovered.</p>"
    ]
    for uc in summary.traceability:
        title = f"{uc.id} {uc.title}".strip()
        rows = []
        for req in uc.requirements:
            note = "" if req.listed else ' <span class="muted">(not in OCPP 2.1 Part 2)</span>'
            rows.append(
                f'<tr data-requirement="{_e(req.id)}"><td>{_e(req.id)}{note}</td>'
                f"<td>{_tests(req.tests) or '—'}</td>"
                f'<td class="verdict">{_status(req.verdict)}</td></tr>'
            )
        parts.append(
            f'<h3 data-use-case="{_e(uc.id or uc.title)}">{_e(title)} '
            f'<span class="muted">({uc.covered} of {len(uc.requirements)} requirements '
            f"covered)</span></h3>"
            "<table><thead><tr><th>requirement</th><th>tests</th><th>verdict</th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table>"
        )
        if uc.id and uc.uncovered:
            parts.append(
                f'<p class="uncovered-list">Not covered by any test: {_e(", ".join(uc.uncovered))}'
                "</p>"
            )
    parts.append("</section>")
    return "".join(parts)


def _profiles(summary: Summary) -> str:
    if not summary.profiles:
        return ""
    parts = [
        '<section id="certification"><h2>OCA certification profiles (OCPP 2.0.1)</h2>'
        "<p>OCTT test cases per certification profile (OCPP 2.0.1 Part 5 §4); CS and CSMS "
        "are the Part 5 columns (M = mandatory, C = conditional).  A case is covered when a "
        "test that names it ran.</p>"
    ]
    for view in summary.profiles:
        data = view.to_json()
        rows = []
        for row in view.rows:
            verdict = _status(row.verdict) if row.tests else _status(UNCOVERED, "—")
            features = ", ".join(row.features)
            rows.append(
                f'<tr data-octt="{_e(row.id)}"><td>{_e(row.id)}</td><td>{_e(row.group)}</td>'
                f"<td>{_e(row.title)}</td><td>{_e(row.cs)}</td><td>{_e(row.csms)}</td>"
                f"<td>{_e(features)}</td><td>{_tests(row.tests)}</td>"
                f'<td class="verdict">{verdict}</td></tr>'
            )
        figure = f"{data['mandatory_covered']} / {data['mandatory_total']}"
        parts.append(
            f'<h3 data-profile="{_e(view.name)}">{_e(view.name)} '
            f'<span class="muted">(Part 5 {_e(view.section)})</span></h3>'
            f'<p>Mandatory Charging Station cases covered: <b class="m-covered">{figure}</b> '
            f"(passed: {data['mandatory_passed']})</p>"
            "<details><summary>Test cases</summary><table><thead><tr><th>OCTT id</th>"
            "<th>group</th><th>scenario</th><th>CS</th><th>CSMS</th><th>features</th>"
            f"<th>tests</th><th>verdict</th></tr></thead><tbody>{''.join(rows)}</tbody>"
            "</table></details>"
        )
    if summary.unlisted_octt:
        rows = "".join(
            f"<tr><td>{_e(tc)}</td><td>{_tests(tests)}</td></tr>"
            for tc, tests in summary.unlisted_octt.items()
        )
        parts.append(
            "<h3>Test cases not in any profile</h3><table><thead><tr><th>OCTT id</th>"
            f"<th>tests</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    parts.append("</section>")
    return "".join(parts)


def _camera(summary: Summary) -> str:
    matrix = summary.camera
    if matrix is None:
        return ""
    heads = "".join(f"<th>{_e(m)}</th>" for m in matrix.models)
    rows = []
    for row in matrix.rows:
        cells = []
        for cell in row.cells:
            counts = cell.counts.to_json()
            seen = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s]) or "no test"
            cells.append(
                f'<td class="{cell.state}" data-model="{_e(cell.model)}" '
                f'data-state="{cell.state}" title="{_e(cell.note)}">{_e(cell.claim)}<br>'
                f'<span class="muted">{_e(seen)}</span>'
                + (f"<br><b>{_e(cell.note)}</b>" if cell.state == "disagree" else "")
                + "</td>"
            )
        rows.append(
            f'<tr data-row="{_e(row.name)}"><td>{_e(row.name)}</td><td>{_e(row.group)}</td>'
            f"{''.join(cells)}</tr>"
        )
    return (
        '<section id="camera-matrix"><h2>Camera model support: claimed vs observed</h2>'
        "<p>Rows: the VISCA command table (aver-visca-pelco-spec.txt §3.2.1) with its model "
        "notes; columns: the models this run used (“any” = no model named).  Red: the "
        "camera did not behave as the spec claims for its model.</p>"
        f'<table id="camera"><thead><tr><th>command</th><th>group</th>{heads}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _pelco(summary: Summary) -> str:
    table = summary.pelco
    if table is None:
        return ""
    heads = "".join(f"<th>{_e(p)}</th>" for p in table.protocols)
    rows = []
    for row in table.rows:
        cells = []
        for protocol in table.protocols:
            counts = row.counts.get(protocol, Counts())
            data = counts.to_json()
            seen = ", ".join(f"{data[s]} {s}" for s in STATUSES if data[s]) or "no test"
            cells.append(f'<td data-protocol="{_e(protocol)}">{_status(counts.verdict, seen)}</td>')
        rows.append(
            f'<tr data-row="{_e(row.name)}"><td>{_e(row.name)}</td><td>{_e(row.group)}</td>'
            f"{''.join(cells)}</tr>"
        )
    return (
        '<section id="pelco"><h2>Pelco commands</h2><p>The Pelco-D and Pelco-P tables '
        "(aver-visca-pelco-spec.txt §3.2.3, §3.2.2) name no models: verdicts per row.</p>"
        f'<table id="pelco-rows"><thead><tr><th>command</th><th>group</th>{heads}</tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _side(label: str, side: object) -> str:
    if not isinstance(side, dict):
        return ""
    value = side.get("hex") or side.get("text") or ""
    decoded = side.get("decoded") or ""
    extra = f'<br><span class="muted">{_e(decoded)}</span>' if decoded else ""
    return f"<dt>{label}</dt><dd><code>{_e(value)}</code>{extra}</dd>"


def _failure(failure: Failure, open_transcripts: bool) -> str:
    test, finding = failure.test, failure.finding
    status = test.status
    parts = [
        f'<div class="failure {status}" data-status="{status}" '
        f'data-category="{category_slug(failure.category) if failure.category else ""}">'
        f"<h3>{_test_link(test)}</h3>"
        f'<p class="muted">{_e(test.full_name)} · {_e(failure.protocol)}'
        + (f" · {_e(failure.category)}" if failure.category else "")
        + "</p><dl>"
    ]
    requirements = list(failure.requirements)
    if finding:
        requirements += [r for r in finding.get("requirement") or () if r not in requirements]
    if requirements:
        parts.append(f"<dt>requirement</dt><dd>{_e(', '.join(requirements))}</dd>")
    if finding:
        kind = finding.get("kind")
        parts.append(f"<dt>finding</dt><dd>{_e(finding.get('summary', ''))}"
                     + (f' <span class="muted">({_e(kind)})</span>' if kind else "")
                     + "</dd>")  # fmt: skip
        parts.append(_side("sent", finding.get("sent")))
        parts.append(_side("received", finding.get("received")))
        if finding.get("expected"):
            parts.append(f"<dt>expected</dt><dd>{_e(finding['expected'])}</dd>")
        parts.append("</dl>")
    else:
        parts.append(f"</dl><pre>{_e(failure.message or '(no message)')}</pre>")
    for transcript in failure.transcripts:
        text = "\n".join(transcript.lines)
        if transcript.more:
            text += f"\n… {transcript.more} more lines (see the Allure report)"
        parts.append(
            f'<details class="transcript"{" open" if open_transcripts else ""}>'
            f"<summary>{_e(transcript.name)}</summary>"
            f"<pre>{_e(text)}</pre></details>"
        )
    parts.append("</div>")
    return "".join(parts)


def _failures(summary: Summary) -> str:
    if not summary.failures:
        return '<section id="failures"><h2>Failed tests</h2><p>None.</p></section>'
    more = (
        f"<p>… {summary.failures_omitted} more failed or broken tests are in the Allure report.</p>"
        if summary.failures_omitted
        else ""
    )
    return (
        '<section id="failures"><h2>Failed and broken tests</h2>'
        + "".join(_failure(f, len(summary.failures) <= OPEN_TRANSCRIPTS) for f in summary.failures)
        + more
        + "</section>"
    )


def _when(millis: int | None) -> str:
    if millis is None:
        return "?"
    return datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def render(summary: Summary) -> str:
    """The summary page, complete and self-contained."""
    sections = [
        _totals(summary),
        _breakdowns(summary),
        _traceability(summary),
        _profiles(summary),
        _camera(summary),
        _pelco(summary),
        _failures(summary),
    ]
    nav = "".join(
        f'<a href="#{anchor}">{label}</a>'
        for anchor, label, present in (
            ("run-totals", "Totals", True),
            ("breakdown", "Per protocol", True),
            ("ocpp-traceability", "OCPP traceability", bool(summary.traceability)),
            ("certification", "Certification profiles", bool(summary.profiles)),
            ("camera-matrix", "Camera models", summary.camera is not None),
            ("pelco", "Pelco", summary.pelco is not None),
            ("failures", "Failed tests", True),
        )
        if present
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Conformance summary</title><style>{CSS}</style></head><body>"
        "<header><h1>Conformance summary</h1>"
        f'<p class="muted">Results <code>{_e(summary.results_dir)}</code>, run '
        f"{_when(summary.start)} to {_when(summary.stop)} · "
        f'<a href="{REPORT_INDEX}">full Allure report</a></p></header>'
        f"<nav>{nav}</nav>" + "".join(sections) + "</body></html>\n"
    )


def write_summary(results: ResultSet | Path, report_dir: Path) -> tuple[Path, Path]:
    """Write ``conformance-summary.html`` and ``.json`` into *report_dir*."""
    if not isinstance(results, ResultSet):
        results = load_results(Path(results))
    summary = build_summary(results)
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    page, data = report_dir / PAGE, report_dir / DATA
    # errors="replace": a result's text may hold lone surrogates (valid JSON escapes)
    page.write_text(render(summary), encoding="utf-8", errors="replace")
    data.write_text(json.dumps(to_json(summary), indent=1, ensure_ascii=False),
                    encoding="utf-8", errors="replace")  # fmt: skip
    return page, data


def inject_link(index: Path) -> bool:
    """Put a fixed "Conformance summary" link right after ``<body>`` of the report's
    *index* page (once; a second call replaces it).  False if the page has no body."""
    text = index.read_text(encoding="utf-8", errors="surrogateescape")
    text = _OLD_LINK.sub("", text)
    match = _BODY.search(text)
    if match is None:
        return False
    text = text[: match.end()] + LINK + text[match.end() :]
    index.write_text(text, encoding="utf-8", errors="surrogateescape")
    return True
