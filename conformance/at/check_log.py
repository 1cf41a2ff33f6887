"""``conformance check-transcript``: a recorded AT log held against a module's manual."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.at.checker import DialogueChecker, Violation
from conformance.at.lines import read_log

MODULES = ("bc26",)


@dataclass
class LogReport:
    path: str
    lines: int
    violations: list[Violation]
    notes: list[str]
    timed: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "log": self.path,
            "lines": self.lines,
            "timing_checked": self.timed,
            "violations": [v.to_json() for v in self.violations],
            "notes": self.notes,
        }

    def render(self) -> str:
        out = [f"{self.path}:{v.line}: {str(v).split(': ', 1)[1]}" for v in self.violations]
        out += [f"{self.path}: note: {n}" for n in self.notes]
        timing = "checked" if self.timed else "not checked (no timestamps)"
        out.append(f"{self.path}: {len(self.violations)} violation(s) in {self.lines} lines; "
                   f"timing {timing}")  # fmt: skip
        return "\n".join(out)


def check_log(path: Path, *, module: str = "bc26", async_timeout: float | None = None) -> LogReport:
    if module not in MODULES:
        raise ValueError(f"unknown module {module!r} (known: {', '.join(MODULES)})")
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    checker = DialogueChecker() if async_timeout is None else DialogueChecker(async_timeout)
    timed = False
    for line in read_log(text):
        timed = timed or line.time is not None
        checker.feed(line)
    checker.finish()
    return LogReport(str(path), len(text), checker.violations, checker.notes, timed)


def dumps(report: LogReport) -> str:
    return json.dumps(report.to_json(), indent=2)
