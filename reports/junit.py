"""Allure results as one JUnit XML file, for CI systems.

One ``<testsuite>`` per protocol (the ``epic`` label), one ``<testcase>`` per test
(``classname`` = the module of ``fullName``, ``name`` = the test name, ``time``
from start/stop), ``<failure>`` for failed (the device violated the spec),
``<error>`` for broken (framework error or unreachable device), ``<skipped>``
for skipped, each with the status message and the requirement IDs; the
requirement labels are also ``<property name="requirement">`` of the test case.
The file is written as it goes; text is made safe for XML 1.0 (control
characters become ``\\xNN``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO
from xml.sax.saxutils import escape, quoteattr

from reports.results import NO_EPIC, ResultSet, TestResult, load_results

SUITES_NAME = "Conformance"
#: characters XML 1.0 does not allow (tab, newline and carriage return are allowed)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ELEMENT = {"failed": "failure", "broken": "error", "skipped": "skipped"}


def xml_safe(text: str) -> str:
    """*text* with the characters XML 1.0 forbids written as ``\\xNN`` / ``\\uNNNN``."""

    def show(match: re.Match[str]) -> str:
        code = ord(match[0])
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _NOT_XML.sub(show, text)


def _attr(value: object) -> str:
    return quoteattr(xml_safe(str(value)))


def _text(value: str) -> str:
    return escape(xml_safe(value))


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else ""


def _testcase(out: TextIO, result: TestResult) -> None:
    requirements = list(dict.fromkeys(result.values("requirement")))
    out.write(
        f"    <testcase classname={_attr(result.module)} name={_attr(result.name)} "
        f'time="{result.duration:.3f}"'
    )
    element = _ELEMENT.get(result.status)
    if not requirements and element is None and result.status == "passed":
        out.write("/>\n")
        return
    out.write(">\n")
    if requirements:
        out.write("      <properties>\n")
        for requirement in requirements:
            out.write(f'        <property name="requirement" value={_attr(requirement)}/>\n')
        out.write("      </properties>\n")
    if element is not None:
        message = _first_line(result.message)
        body = result.message
        if requirements:
            body = f"requirements: {', '.join(requirements)}\n{body}"
        kind = result.message.partition(": ")[0] if ": " in _first_line(result.message) else ""
        type_attr = f" type={_attr(kind)}" if kind and " " not in kind else ""
        out.write(f"      <{element} message={_attr(message)}{type_attr}>")
        out.write(f"{_text(body)}</{element}>\n")
    elif result.status not in ("passed",):
        # unknown: no JUnit element fits; say so where CI systems show it
        out.write(f"      <system-out>{_text(f'status: {result.status}')}</system-out>\n")
    out.write("    </testcase>\n")


def _counts(results: list[TestResult]) -> dict[str, int]:
    counts = {"tests": len(results), "failures": 0, "errors": 0, "skipped": 0}
    for result in results:
        key = {"failed": "failures", "broken": "errors", "skipped": "skipped"}.get(result.status)
        if key:
            counts[key] += 1
    return counts


def _stamp(results: list[TestResult]) -> str:
    starts = [r.start for r in results if r.start is not None]
    if not starts:
        return ""
    when = datetime.fromtimestamp(min(starts) / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f" timestamp={_attr(when)}"


def write_junit(results: ResultSet | Path, path: Path) -> Path:
    """Write the JUnit XML of *results* (a :class:`ResultSet` or a results directory)
    to *path*."""
    if not isinstance(results, ResultSet):
        results = load_results(Path(results))
    suites: dict[str, list[TestResult]] = defaultdict(list)
    for result in results.results:
        suites[result.first("epic", NO_EPIC)].append(result)
    everything = _counts(results.results)
    total_time = sum(r.duration for r in results.results)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write(
            f"<testsuites name={_attr(SUITES_NAME)} "
            + " ".join(f'{k}="{v}"' for k, v in everything.items())
            + f' time="{total_time:.3f}">\n'
        )
        for n, (epic, members) in enumerate(sorted(suites.items())):
            counts = _counts(members)
            out.write(
                f'  <testsuite name={_attr(epic)} id="{n}" '
                + " ".join(f'{k}="{v}"' for k, v in counts.items())
                + f' time="{sum(r.duration for r in members):.3f}"{_stamp(members)}>\n'
            )
            for result in members:
                _testcase(out, result)
            out.write("  </testsuite>\n")
        out.write("</testsuites>\n")
    return path
