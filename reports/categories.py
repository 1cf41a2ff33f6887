"""Our Allure categories applied to results: which category a result falls in, as
Allure files it (the first of ``CATEGORIES`` in :mod:`conformance.allure_support`
whose statuses and message pattern match), and the category's id on the page.
"""

from __future__ import annotations

import re
from functools import cache

from conformance.allure_support import CATEGORIES
from reports.results import TestResult


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
