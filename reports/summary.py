"""The conformance summary: what a run shows about a device, as plain data.

Built from a :class:`reports.results.ResultSet` by :func:`build_summary`;
:func:`to_json` gives the ``conformance-summary.json`` form and
:mod:`reports.summary_page` the HTML page.  The views:

* run totals by Allure status, and by our categories (``CATEGORIES`` in
  :mod:`conformance.allure_support`), which keep product defects, framework
  errors and unreachable devices apart;
* counts per protocol (epic), model, command group / functional block (feature)
  and command / use case (story);
* OCPP traceability: requirement ID -> tests -> verdict per use case, with the
  requirements of each exercised use case that no test covers (OCPP 2.1 Part 2);
* the OCA certification profiles (OCPP 2.0.1 Part 5 §2 Table 1, §4.2-4.9) with
  the run's tests per OCTT test case (``octt`` labels);
* the camera model support matrix (``aver-visca-pelco-spec.txt`` §3.2.1 notes,
  :data:`dissectors.visca_table.COMMANDS`) against what was observed, and the
  Pelco rows (§3.2.2, §3.2.3), which name no models;
* every failed and broken test with its finding and transcript.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from conformance.allure_support import CATEGORIES, FINDING_ATTACHMENT, PROTOCOL_TITLES
from dissectors import pelco, visca_table
from reports.results import (
    STATUSES,
    TRANSCRIPT_PREFIX,
    ResultSet,
    TestResult,
    read_head,
)

DATA = Path(__file__).parent / "data"
REQUIREMENTS_FILE = DATA / "ocpp21_requirements.json"
PROFILES_FILE = DATA / "ocpp201_certification_profiles.json"

#: which status a group of tests shows, worst first
VERDICT_ORDER = ("failed", "broken", "unknown", "passed", "skipped")
UNTESTED = "untested"
UNCOVERED = "uncovered"
NO_EPIC = "Other"
ANY_MODEL = "any"
OCPP = PROTOCOL_TITLES["ocpp"]
CAMERA_EPICS = (PROTOCOL_TITLES["visca"], PROTOCOL_TITLES["visca-ip"])
PELCO_EPICS = (PROTOCOL_TITLES["pelco-d"], PROTOCOL_TITLES["pelco-p"])
FR_ID = re.compile(r"\b([A-Z]\d{2})\.FR\.(\d+)\b")
MAX_FAILURES = 300  # failed/broken tests shown in detail; the rest are counted
MAX_TRANSCRIPT_LINES = 80  # lines of each transcript shown
MAX_FINDING_BYTES = 1 << 20  # a larger "finding" attachment is not read

# ----------------------------------------------------------------- spec data


@cache
def load_requirements() -> dict[str, dict[str, Any]]:
    """Use-case id -> ``{"title", "requirements"}``: the requirement IDs of every
    use case of OCPP 2.1 Part 2 (Specification), from its requirement tables
    (IDs and titles only), shipped as ``data/ocpp21_requirements.json``."""
    return json.loads(REQUIREMENTS_FILE.read_text(encoding="utf-8"))


@cache
def load_profiles() -> dict[str, dict[str, Any]]:
    """Certification profile -> ``{"section", "test_cases"}``, each test case
    ``{"id", "title", "group", "cs", "csms", "features"}``: OCPP 2.0.1 Part 5
    (Certification profiles) §2 Table 1 and the §4.2-4.9 test-case tables (the
    "Conf. Test" columns M / C / blank and the condition's feature ids), shipped
    as ``data/ocpp201_certification_profiles.json``."""
    return json.loads(PROFILES_FILE.read_text(encoding="utf-8"))


# ----------------------------------------------------------------- building blocks


def verdict(statuses: Iterable[str]) -> str:
    """The status a group of tests shows: the worst one present, else "untested"."""
    present = set(statuses)
    return next((s for s in VERDICT_ORDER if s in present), UNTESTED)


@dataclass
class Counts:
    """Tests per Allure status."""

    by_status: Counter[str] = field(default_factory=Counter)

    def add(self, status: str) -> None:
        self.by_status[status] += 1

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def verdict(self) -> str:
        return verdict(s for s, n in self.by_status.items() if n)

    def to_json(self) -> dict[str, int]:
        return {**{s: self.by_status[s] for s in STATUSES}, "total": self.total}


def category_slug(name: str) -> str:
    """``"Product defect (device violated the spec)"`` -> ``"product-defect"``."""
    return re.sub(r"[^a-z0-9]+", "-", name.split(" (")[0].lower()).strip("-")


@cache
def _category_rules() -> tuple[tuple[str, frozenset[str], re.Pattern[str] | None], ...]:
    return tuple(
        (
            str(c["name"]),
            frozenset(c.get("matchedStatuses", ())),
            re.compile(str(c["messageRegex"])) if c.get("messageRegex") else None,
        )
        for c in CATEGORIES
    )


def category_of(result: TestResult) -> str | None:
    """The first of our Allure categories that *result* falls in, as Allure files it."""
    for name, statuses, regex in _category_rules():
        if result.status in statuses and (regex is None or regex.search(result.message)):
            return name
    return None


@dataclass(frozen=True)
class TestRef:
    """A test as the summary names and links it."""

    name: str
    full_name: str
    status: str
    report_id: str

    @classmethod
    def of(cls, result: TestResult) -> TestRef:
        return cls(result.name, result.full_name, result.status, result.report_id)

    def to_json(self) -> dict[str, str]:
        return {
            "name": self.name,
            "full_name": self.full_name,
            "status": self.status,
            "report_id": self.report_id,
        }


# ----------------------------------------------------------------- views


@dataclass
class Breakdown:
    """Counts per key, e.g. per (protocol, model)."""

    columns: tuple[str, ...]
    rows: dict[tuple[str, ...], Counts] = field(default_factory=dict)

    def add(self, key: tuple[str, ...], status: str) -> None:
        self.rows.setdefault(key, Counts()).add(status)

    def to_json(self) -> list[dict[str, Any]]:
        return [
            {**dict(zip(self.columns, key, strict=True)), **counts.to_json()}
            for key, counts in sorted(self.rows.items())
        ]


@dataclass
class RequirementTrace:
    id: str
    tests: list[TestRef] = field(default_factory=list)
    #: False for IDs the tests name that OCPP 2.1 Part 2 does not list
    listed: bool = True

    @property
    def verdict(self) -> str:
        return verdict(t.status for t in self.tests) if self.tests else UNCOVERED

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "verdict": self.verdict,
            "listed": self.listed,
            "tests": [t.to_json() for t in self.tests],
        }


@dataclass
class UseCaseTrace:
    """The requirements of one use case (or one group of other requirements)."""

    id: str
    title: str
    requirements: list[RequirementTrace]

    @property
    def covered(self) -> int:
        return sum(1 for r in self.requirements if r.tests)

    @property
    def uncovered(self) -> list[str]:
        return [r.id for r in self.requirements if not r.tests]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "covered": self.covered,
            "total": len(self.requirements),
            "uncovered": self.uncovered,
            "requirements": [r.to_json() for r in self.requirements],
        }


@dataclass
class ProfileRow:
    id: str
    title: str
    group: str
    cs: str
    csms: str
    features: list[str]
    tests: list[TestRef]

    @property
    def verdict(self) -> str:
        return verdict(t.status for t in self.tests)

    @property
    def covered(self) -> bool:
        """A test that carries this id ran (was not skipped)."""
        return any(t.status != "skipped" for t in self.tests)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "group": self.group,
            "cs": self.cs,
            "csms": self.csms,
            "features": self.features,
            "verdict": self.verdict,
            "covered": self.covered,
            "tests": [t.to_json() for t in self.tests],
        }


@dataclass
class ProfileView:
    name: str
    section: str
    rows: list[ProfileRow]

    @property
    def mandatory(self) -> list[ProfileRow]:
        """The test cases mandatory for a Charging Station (column "M")."""
        return [r for r in self.rows if r.cs == "M"]

    def to_json(self) -> dict[str, Any]:
        mandatory = self.mandatory
        return {
            "name": self.name,
            "section": self.section,
            "mandatory_total": len(mandatory),
            "mandatory_covered": sum(r.covered for r in mandatory),
            "mandatory_passed": sum(r.verdict == "passed" for r in mandatory),
            "test_cases": [r.to_json() for r in self.rows],
        }


@dataclass
class CameraCell:
    """One model's claim for one row, and what its tests showed."""

    model: str
    claim: str  # "claimed", "not claimed" or "claimed, not over IP"
    counts: Counts
    state: str  # "agree", "disagree", "inconclusive" or "untested"
    note: str

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "claim": self.claim,
            "state": self.state,
            "note": self.note,
            **self.counts.to_json(),
        }


@dataclass
class MatrixRow:
    name: str
    group: str
    cells: list[CameraCell]


@dataclass
class CameraMatrix:
    models: list[str]
    rows: list[MatrixRow]

    def to_json(self) -> dict[str, Any]:
        return {
            "models": self.models,
            "rows": [
                {"name": r.name, "group": r.group, "cells": [c.to_json() for c in r.cells]}
                for r in self.rows
            ],
        }


@dataclass
class PelcoRow:
    name: str
    group: str
    counts: dict[str, Counts]  # protocol title -> counts


def _cell(counts: Counts) -> dict[str, Any]:
    return {**counts.to_json(), "verdict": counts.verdict}


@dataclass
class PelcoTable:
    protocols: list[str]
    rows: list[PelcoRow]

    def to_json(self) -> dict[str, Any]:
        return {
            "protocols": self.protocols,
            "rows": [
                {
                    "name": r.name,
                    "group": r.group,
                    "cells": {p: _cell(r.counts.get(p, Counts())) for p in self.protocols},
                }
                for r in self.rows
            ],
        }


@dataclass
class Transcript:
    name: str
    lines: list[str]
    more: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "lines": self.lines, "more_lines": self.more}


@dataclass
class Failure:
    test: TestRef
    category: str | None
    protocol: str
    requirements: list[str]
    message: str
    finding: dict[str, Any] | None
    transcripts: list[Transcript]

    def to_json(self) -> dict[str, Any]:
        return {
            **self.test.to_json(),
            "category": self.category,
            "protocol": self.protocol,
            "requirements": self.requirements,
            "message": self.message,
            "finding": self.finding,
            "transcripts": [t.to_json() for t in self.transcripts],
        }


@dataclass
class Summary:
    results_dir: str
    start: int | None
    stop: int | None
    totals: Counts
    categories: list[tuple[str, int]]
    superseded: int
    invalid_count: int
    invalid: list[tuple[str, str]]
    by_protocol: Breakdown
    by_model: Breakdown
    by_feature: Breakdown
    by_story: Breakdown
    traceability: list[UseCaseTrace]
    profiles: list[ProfileView]
    #: OCTT ids the tests carry that no certification profile lists
    unlisted_octt: dict[str, list[TestRef]]
    camera: CameraMatrix | None
    pelco: PelcoTable | None
    failures: list[Failure]
    failures_omitted: int


# ----------------------------------------------------------------- OCPP views


def _traceability(results: list[TestResult]) -> list[UseCaseTrace]:
    known = load_requirements()
    fr_tests: dict[str, list[TestRef]] = defaultdict(list)
    other: dict[str, dict[str, list[TestRef]]] = defaultdict(lambda: defaultdict(list))
    for result in results:
        ref = TestRef.of(result)
        for requirement in dict.fromkeys(result.values("requirement")):
            ids = [f"{m[1]}.FR.{m[2]}" for m in FR_ID.finditer(requirement)]
            for rid in dict.fromkeys(ids):
                fr_tests[rid].append(ref)
            if not ids and result.first("epic") == OCPP:
                group = result.first("story") or result.first("feature") or NO_EPIC
                other[group][requirement].append(ref)
    by_use_case: dict[str, list[str]] = defaultdict(list)
    for rid in fr_tests:
        by_use_case[rid.split(".")[0]].append(rid)
    traces = []
    for uc in sorted(by_use_case):
        spec = known.get(uc, {"title": "", "requirements": []})
        listed = list(spec["requirements"])
        extra = sorted(set(by_use_case[uc]) - set(listed), key=_fr_key)
        rows = [RequirementTrace(rid, fr_tests.get(rid, [])) for rid in listed]
        rows += [RequirementTrace(rid, fr_tests[rid], listed=False) for rid in extra]
        traces.append(UseCaseTrace(uc, spec["title"], rows))
    for group in sorted(other):
        rows = [RequirementTrace(req, tests) for req, tests in sorted(other[group].items())]
        traces.append(UseCaseTrace("", group, rows))
    return traces


def _fr_key(rid: str) -> tuple[str, int]:
    head, _, number = rid.rpartition(".")
    return head, int(number) if number.isdigit() else 0


def _profiles(results: list[TestResult]) -> tuple[list[ProfileView], dict[str, list[TestRef]]]:
    by_id: dict[str, list[TestRef]] = defaultdict(list)
    ocpp = False
    for result in results:
        ocpp = ocpp or result.first("epic") == OCPP
        for tc in result.octt:
            by_id[tc].append(TestRef.of(result))
    if not (ocpp or by_id):
        return [], {}  # no charger in this run: the profiles would be all empty
    views, listed = [], set()
    for name, profile in load_profiles().items():
        rows = []
        for tc in profile["test_cases"]:
            listed.add(tc["id"])
            rows.append(ProfileRow(tc["id"], tc["title"], tc["group"], tc["cs"], tc["csms"],
                                   list(tc["features"]), by_id.get(tc["id"], [])))  # fmt: skip
        views.append(ProfileView(name, profile["section"], rows))
    unlisted = {tc: tests for tc, tests in sorted(by_id.items()) if tc not in listed}
    return views, unlisted


# ----------------------------------------------------------------- camera views


def _over_ip(result: TestResult) -> bool:
    """Whether the test talked to the camera over VISCA-over-IP (§3.2.4)."""
    scheme = result.first("device").split("?")[0]
    return (
        result.first("epic") == PROTOCOL_TITLES["visca-ip"]
        or scheme.startswith("visca-ip:")
        or scheme == "emu:visca-ip"
    )


def _claim(row: visca_table.Row, model: str) -> tuple[bool, bool, str]:
    """(claimed on a serial/TCP link, claimed over IP, the claim in words)."""
    named = None if model == ANY_MODEL else model
    serial, over_ip = row.supported(named), row.supported(named, over_ip=True)
    words = "not claimed" if not serial else "claimed" if over_ip else "claimed, not over IP"
    return serial, over_ip, words


def _camera_cell(row: visca_table.Row, model: str, tests: list[TestResult]) -> CameraCell:
    serial, over_ip, claim = _claim(row, model)
    counts = Counts()
    notes: list[str] = []
    for t in tests:
        counts.add(t.status)
        claimed = over_ip if _over_ip(t) else serial
        if t.status == "failed":
            notes.append("claimed but failed" if claimed else "not claimed, failed")
    if notes:
        state, note = "disagree", ", ".join(dict.fromkeys(notes))
    elif counts.by_status["broken"] or counts.by_status["unknown"]:
        state, note = "inconclusive", "framework error or unknown result"
    elif counts.by_status["passed"]:
        state, note = "agree", "as claimed" if serial else "refused, as not claimed"
    else:
        state, note = UNTESTED, "skipped" if tests else "no test"
    return CameraCell(model, claim, counts, state, note)


def _camera(results: list[TestResult]) -> CameraMatrix | None:
    names = {r.name for r in visca_table.COMMANDS}
    cells: dict[tuple[str, str], list[TestResult]] = defaultdict(list)
    models: dict[str, None] = {}
    for result in results:
        if result.first("epic") not in CAMERA_EPICS:
            continue
        model = result.first("model") or ANY_MODEL
        models.setdefault(model)
        for story in dict.fromkeys(result.values("story")):
            if story in names:
                cells[story, model].append(result)
    if not cells:
        return None
    columns = sorted(models, key=lambda m: (m == ANY_MODEL, m))
    rows = []
    for row in visca_table.COMMANDS:
        row_cells = [_camera_cell(row, m, cells.get((row.name, m), [])) for m in columns]
        rows.append(MatrixRow(row.name, row.group, row_cells))
    return CameraMatrix(columns, rows)


def _pelco(results: list[TestResult]) -> PelcoTable | None:
    groups = {name: "Pan-Tilt" for name in pelco.PT_NAMES}
    groups.update({r.name: r.group for r in pelco.COMMANDS})
    counts: dict[str, dict[str, Counts]] = defaultdict(dict)
    seen: dict[str, None] = {}
    for result in results:
        epic = result.first("epic")
        if epic not in PELCO_EPICS:
            continue
        for story in dict.fromkeys(result.values("story")):
            if story in groups:
                seen.setdefault(epic)
                counts[story].setdefault(epic, Counts()).add(result.status)
    if not seen:
        return None
    protocols = [p for p in PELCO_EPICS if p in seen]
    rows = [PelcoRow(name, group, counts.get(name, {})) for name, group in groups.items()]
    return PelcoTable(protocols, rows)


# ----------------------------------------------------------------- failures


def _hex_or_text(value: str) -> dict[str, str]:
    value = value.strip()
    if re.fullmatch(r"(?:[0-9A-F]{2})(?: [0-9A-F]{2})*|\(0 bytes\)|nothing", value):
        return {"hex": value}
    return {"text": value}


_MESSAGE_HEAD = re.compile(r"^(?:(?P<exc>[\w.]+): )?(?:\[(?P<req>[^\]]*)\] )?(?P<summary>.*)$")
_MESSAGE_FIELD = re.compile(r"^\s*(sent|received|expected):\s?(.*)$")


def finding_from_message(message: str) -> dict[str, Any] | None:
    """The finding a :class:`conformance.errors.Finding` message carries
    (``[requirement] summary`` and the ``sent:``/``received:``/``expected:`` lines),
    or None if the message is not one."""
    lines = message.splitlines()
    if not lines:
        return None
    head = _MESSAGE_HEAD.match(lines[0])
    assert head is not None  # the pattern matches any line
    fields: dict[str, str] = {}
    for line in lines[1:]:
        match = _MESSAGE_FIELD.match(line)
        if match:
            fields[match[1]] = match[2]
    exc = head["exc"] or ""
    if not (fields or head["req"] or exc.endswith(("Finding", "NoReply", "MalformedReply"))):
        return None
    return {
        "kind": exc.rpartition(".")[2] or None,
        "requirement": [r.strip() for r in (head["req"] or "").split(",") if r.strip()],
        "summary": head["summary"],
        "sent": _hex_or_text(fields["sent"]) if "sent" in fields else None,
        "received": _hex_or_text(fields["received"]) if "received" in fields else None,
        "expected": fields.get("expected"),
        "source": "message",
    }


def _finding_attachment(results: ResultSet, result: TestResult) -> dict[str, Any] | None:
    for att in result.attachments:
        if att.name != FINDING_ATTACHMENT:
            continue
        path = results.attachment_path(att)
        try:
            if path is None or path.stat().st_size > MAX_FINDING_BYTES:
                continue
            data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("summary"), str):
            return {**data, "source": "attachment"}
    return None


def _transcripts(results: ResultSet, result: TestResult, max_lines: int) -> list[Transcript]:
    out = []
    for att in result.attachments:
        if not att.name.startswith(TRANSCRIPT_PREFIX):
            continue
        path = results.attachment_path(att)
        if path is None:
            out.append(Transcript(att.name, ["(attachment file missing)"], 0))
            continue
        try:
            lines, more = read_head(path, max_lines)
        except OSError as exc:
            lines, more = [f"(unreadable: {exc})"], 0
        out.append(Transcript(att.name, lines, more))
    return out


def _failure(results: ResultSet, result: TestResult, max_lines: int) -> Failure:
    return Failure(
        test=TestRef.of(result),
        category=category_of(result),
        protocol=result.first("epic", NO_EPIC),
        requirements=list(dict.fromkeys(result.values("requirement"))),
        message=result.message,
        finding=_finding_attachment(results, result) or finding_from_message(result.message),
        transcripts=_transcripts(results, result, max_lines),
    )


# ----------------------------------------------------------------- the summary


def build_summary(
    results: ResultSet,
    *,
    max_failures: int = MAX_FAILURES,
    max_transcript_lines: int = MAX_TRANSCRIPT_LINES,
) -> Summary:
    """Every view of the summary from one pass over *results* (plus the attachment
    files of at most *max_failures* failed or broken tests)."""
    tests = results.results
    totals = Counts()
    categories: Counter[str] = Counter()
    by_protocol = Breakdown(("protocol",))
    by_model = Breakdown(("protocol", "model"))
    by_feature = Breakdown(("protocol", "feature"))
    by_story = Breakdown(("protocol", "story"))
    failed: list[TestResult] = []
    for result in tests:
        status = result.status
        totals.add(status)
        category = category_of(result)
        if category:
            categories[category] += 1
        epic = result.first("epic", NO_EPIC)
        by_protocol.add((epic,), status)
        by_model.add((epic, result.first("model", ANY_MODEL)), status)
        for feature in dict.fromkeys(result.values("feature")):
            by_feature.add((epic, feature), status)
        for story in dict.fromkeys(result.values("story")):
            by_story.add((epic, story), status)
        if status in ("failed", "broken"):
            failed.append(result)
    profiles, unlisted = _profiles(tests)
    starts = [r.start for r in tests if r.start is not None]
    stops = [r.stop for r in tests if r.stop is not None]
    return Summary(
        results_dir=results.directory.name,
        start=min(starts) if starts else None,
        stop=max(stops) if stops else None,
        totals=totals,
        categories=[(str(c["name"]), categories[str(c["name"])]) for c in CATEGORIES],
        superseded=results.superseded,
        invalid_count=results.invalid_count,
        invalid=list(results.invalid),
        by_protocol=by_protocol,
        by_model=by_model,
        by_feature=by_feature,
        by_story=by_story,
        traceability=_traceability(tests),
        profiles=profiles,
        unlisted_octt=unlisted,
        camera=_camera(tests),
        pelco=_pelco(tests),
        failures=[_failure(results, r, max_transcript_lines) for r in failed[:max_failures]],
        failures_omitted=max(0, len(failed) - max_failures),
    )


def to_json(summary: Summary) -> dict[str, Any]:
    """``conformance-summary.json``: the same data as the page."""
    return {
        "results_dir": summary.results_dir,
        "start": summary.start,
        "stop": summary.stop,
        "totals": summary.totals.to_json(),
        "categories": [
            {"name": name, "id": category_slug(name), "count": n} for name, n in summary.categories
        ],
        "superseded_results": summary.superseded,
        "invalid_files": {
            "count": summary.invalid_count,
            "listed": [{"file": f, "reason": why} for f, why in summary.invalid],
        },
        "by_protocol": summary.by_protocol.to_json(),
        "by_model": summary.by_model.to_json(),
        "by_feature": summary.by_feature.to_json(),
        "by_story": summary.by_story.to_json(),
        "ocpp_traceability": [t.to_json() for t in summary.traceability],
        "certification_profiles": [p.to_json() for p in summary.profiles],
        "octt_not_in_profiles": {
            tc: [t.to_json() for t in tests] for tc, tests in summary.unlisted_octt.items()
        },
        "camera_matrix": summary.camera.to_json() if summary.camera else None,
        "pelco": summary.pelco.to_json() if summary.pelco else None,
        "failures": [f.to_json() for f in summary.failures],
        "failures_omitted": summary.failures_omitted,
    }
