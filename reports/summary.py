"""The conformance summary: what a run shows about a device, as plain data.

Built from a :class:`reports.results.ResultSet` by :func:`build_summary`;
:func:`to_json` gives the ``conformance-summary.json`` form and
:mod:`reports.summary_page` the HTML page.  This module holds the run totals by
Allure status and by our categories (:mod:`reports.categories`), the counts per
protocol (epic), model, command group / functional block (feature) and command /
use case (story), and puts them together with the views of their own modules:
OCPP requirement traceability (:mod:`reports.traceability`, OCPP 2.1 Part 2), the
OCA certification profiles (:mod:`reports.certification`, OCPP 2.0.1 Part 5), the
camera model support matrix and Pelco rows (:mod:`reports.camera_matrix`,
``aver-visca-pelco-spec.txt`` §3.2) and the failed and broken tests
(:mod:`reports.failures`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from conformance.allure_support import CATEGORIES
from reports.camera_matrix import CameraMatrix, PelcoTable, build_camera_matrix, build_pelco_table
from reports.categories import category_of, category_slug
from reports.certification import ProfileView, build_profiles
from reports.failures import MAX_TRANSCRIPT_LINES, Failure, build_failure
from reports.results import ANY_MODEL, NO_EPIC, ResultSet, TestResult
from reports.traceability import UseCaseTrace, build_traceability
from reports.verdicts import Counts, TestRef

MAX_FAILURES = 300  # failed/broken tests shown in detail; the rest are counted


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
    profiles, unlisted = build_profiles(tests)
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
        traceability=build_traceability(tests),
        profiles=profiles,
        unlisted_octt=unlisted,
        camera=build_camera_matrix(tests),
        pelco=build_pelco_table(tests),
        failures=[
            build_failure(results, r, max_transcript_lines=max_transcript_lines)
            for r in failed[:max_failures]
        ],
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
