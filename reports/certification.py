"""The OCA certification profiles with the run's tests per OCTT test case.

Profiles and their test cases come from OCPP 2.0.1 Part 5 (Certification
profiles) §2 Table 1 and the §4.2-4.9 test-case tables
(``data/ocpp201_certification_profiles.json``); the tests name their cases in
``octt`` labels (or their description).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from conformance.allure_support import PROTOCOL_TITLES
from reports.results import TestResult
from reports.verdicts import TestRef, verdict

PROFILES_FILE = Path(__file__).parent / "data" / "ocpp201_certification_profiles.json"
OCPP = PROTOCOL_TITLES["ocpp"]


@cache
def load_profiles() -> dict[str, dict[str, Any]]:
    """Certification profile -> ``{"section", "test_cases"}``, each test case
    ``{"id", "title", "group", "cs", "csms", "features"}``: OCPP 2.0.1 Part 5
    (Certification profiles) §2 Table 1 and the §4.2-4.9 test-case tables (the
    "Conf. Test" columns M / C / blank and the condition's feature ids), shipped
    as ``data/ocpp201_certification_profiles.json``."""
    return json.loads(PROFILES_FILE.read_text(encoding="utf-8"))


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


def build_profiles(
    results: list[TestResult],
) -> tuple[list[ProfileView], dict[str, list[TestRef]]]:
    """Every profile with the tests per test case, and the OCTT ids the tests carry
    that no profile lists; both empty when the run has no OCPP test."""
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
