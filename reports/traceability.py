"""OCPP requirement traceability: requirement ID -> tests -> verdict per use case,
with the requirements of each exercised use case that no test names.

The requirement IDs per use case come from the requirement tables of OCPP 2.1
Part 2 (IDs and titles only, ``data/ocpp21_requirements.json``); the tests name
theirs in ``requirement`` labels (``B01.FR.01``).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from conformance.allure_support import PROTOCOL_TITLES
from reports.results import NO_EPIC, TestResult
from reports.verdicts import UNCOVERED, TestRef, verdict

REQUIREMENTS_FILE = Path(__file__).parent / "data" / "ocpp21_requirements.json"
OCPP = PROTOCOL_TITLES["ocpp"]
FR_ID = re.compile(r"\b([A-Z]\d{2})\.FR\.(\d+)\b")


@cache
def load_requirements() -> dict[str, dict[str, Any]]:
    """Use-case id -> ``{"title", "requirements"}``: the requirement IDs of every
    use case of OCPP 2.1 Part 2 (Specification), from its requirement tables
    (IDs and titles only), shipped as ``data/ocpp21_requirements.json``."""
    return json.loads(REQUIREMENTS_FILE.read_text(encoding="utf-8"))


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


def build_traceability(results: list[TestResult]) -> list[UseCaseTrace]:
    """One trace per use case a test names a requirement of (every requirement of
    it listed), then one per story of OCPP tests whose requirements are no ``FR``
    IDs (e.g. Part 4 sections)."""
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
