"""Suite runs in processes of their own (tests/suite_runs.py): each test's outcome
is read back from the JUnit XML; a run that wrote none, names two tests alike or
outlives its limit is reported, never taken for a clean one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.suite_runs import failing, start

PLANTED = """
import pytest


@pytest.fixture
def broken():
    raise RuntimeError("set-up fails")


def test_passes():
    pass


def test_fails():
    assert False


@pytest.mark.skip(reason="planted")
def test_skips():
    pass


def test_errors(broken):
    pass


@pytest.mark.parametrize("where", ["emu:x?limit=1"])
def test_named(where):
    pass
"""


def test_each_outcome_is_read_back(tmp_path: Path) -> None:
    (tmp_path / "test_planted.py").write_text(PLANTED)
    outcomes = start(tmp_path, "planted", [], "test_planted.py").outcomes(strip="?limit=1")
    assert outcomes == {
        "test_passes": "passed",
        "test_fails": "failed",
        "test_skips": "skipped",
        "test_errors": "error",
        "test_named[emu:x]": "passed",
    }
    assert failing(outcomes) == ["test_fails", "test_errors"]
    assert failing({k: v for k, v in outcomes.items() if v in ("passed", "skipped")}) == []


def test_a_broken_run_is_reported(tmp_path: Path) -> None:
    (tmp_path / "test_a.py").write_text("def test_same():\n    pass\n")
    (tmp_path / "test_b.py").write_text("def test_same():\n    pass\n")
    (tmp_path / "test_waits.py").write_text(
        "import threading\n\ndef test_waits():\n    threading.Event().wait(60)\n"
    )
    no_xml = start(tmp_path, "usage", [], "--no-such-option")
    twice = start(tmp_path, "twice", [], "test_a.py", "test_b.py")
    late = start(tmp_path, "late", [], "test_waits.py")
    with pytest.raises(AssertionError, match="no JUnit XML"):
        no_xml.outcomes()
    with pytest.raises(AssertionError, match="two tests named test_same"):
        twice.outcomes()
    with pytest.raises(AssertionError, match=r"still running after 0\.5 s"):
        late.outcomes(timeout=0.5)
    assert late.process.poll() is not None
