"""Suite runs in pytest processes of their own, started together so that their
waiting overlaps, and read back from their JUnit XML.  Each device still gets its
own emulator, as it would in one run with several ``--device`` options."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: real seconds a suite run may take before it is stopped and reported
LIMIT = 600.0


@dataclass
class SuiteRun:
    """One pytest process running suites against *devices* in the background."""

    name: str
    devices: tuple[str, ...]
    process: subprocess.Popen[bytes]
    xml: Path
    log: Path

    def outcomes(self, strip: str = "", timeout: float = LIMIT) -> dict[str, str]:
        """Test name (with *strip* removed) -> passed, failed, error or skipped,
        once the process has ended."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"{self.name}: still running after {timeout:g} s") from None
        assert self.xml.exists(), f"{self.name}: no JUnit XML\n{self.tail()}"
        out: dict[str, str] = {}
        for case in ET.parse(self.xml).iter("testcase"):
            kinds = {child.tag for child in case}
            outcome = next((k for k in ("error", "failure", "skipped") if k in kinds), "passed")
            name = case.get("name", "").replace(strip, "") if strip else case.get("name", "")
            assert name not in out, f"{self.name}: two tests named {name}"
            out[name] = {"failure": "failed"}.get(outcome, outcome)
        return out

    def tail(self) -> str:
        """The end of the run's output (its failures and short summary)."""
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        """End the process if it still runs (its result is no longer wanted)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def start(where: Path, name: str, devices: Sequence[str], *args: str) -> SuiteRun:
    """Start ``pytest --device=...`` for each of *devices* with *args* (what to
    collect, ``-k``...) in *where*; its log and JUnit XML go there too."""
    xml, log = where / f"{name}.xml", where / f"{name}.log"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
               *[f"--device={d}" for d in devices], f"--junitxml={xml}",
               f"--alluredir={where / name}-allure", *args]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=where, stdout=out, stderr=subprocess.STDOUT)
    return SuiteRun(name, tuple(devices), process, xml, log)


def failing(outcomes: dict[str, str]) -> list[str]:
    """The tests that did not pass or skip (failures and errors, collection included)."""
    return [name for name, outcome in outcomes.items() if outcome in ("failed", "error")]
