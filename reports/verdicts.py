"""What a group of tests shows: counts per Allure status, the worst status as the
group's verdict, and the test references the summary views list and link.

Shared by every view of :mod:`reports.summary`; the statuses are Allure's
(:data:`reports.results.STATUSES`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from reports.results import STATUSES, TestResult

#: which status a group of tests shows, worst first
VERDICT_ORDER = ("failed", "broken", "unknown", "passed", "skipped")
UNTESTED = "untested"
UNCOVERED = "uncovered"


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
