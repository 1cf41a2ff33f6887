"""The batched fault runs (tests/fault_runs.py) keep each fault apart: a test's
report goes to the fault whose device it ran on, so a fault that leaves its tests
green is caught even next to one that turns the same tests red; a collection error
is every fault's; batches run from the fault asked for onwards."""

from __future__ import annotations

import pytest

from tests import fault_runs
from tests.fault_runs import FaultRun, FaultRuns, Outcome, run_batch
from tests.ocpp_faults import check_red, fault_run
from tests.test_ocpp_faults_boot import SEND

pytest_plugins = ["pytester"]

OCPP = ["--pyargs", "suites.ocpp"]


def test_each_fault_gets_the_reports_of_its_own_station(pytester: pytest.Pytester) -> None:
    # answers_send turns the SEND test red; no_heartbeat leaves it green
    runs = [fault_run("answers_send", [SEND]), fault_run("no_heartbeat", [SEND])]
    outcomes = run_batch(pytester, runs, OCPP)
    for fault, outcome in outcomes.items():
        reports = [*outcome.passed, *outcome.failed]
        assert reports
        assert all(f"fault={fault}&" in r.nodeid for r in reports)
    check_red("answers_send", [SEND], outcomes["answers_send"])
    with pytest.raises(AssertionError, match="no_heartbeat left these green"):
        check_red("no_heartbeat", [SEND], outcomes["no_heartbeat"])


def test_a_collection_error_is_every_faults(pytester: pytest.Pytester) -> None:
    broken = pytester.makepyfile(test_broken="import a_module_that_is_not_there")
    runs = [fault_run("answers_send", [SEND]), fault_run("no_heartbeat", [SEND])]
    outcomes = run_batch(pytester, runs, [str(broken)])
    for fault, outcome in outcomes.items():
        assert [r.when for r in outcome.failed] == ["collect"]
        with pytest.raises(AssertionError, match="errors in set-up or teardown"):
            check_red(fault, [SEND], outcome)


def test_batches_run_from_the_fault_asked_for(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[list[str]] = []

    def fake(_pytester: object, runs: list[FaultRun], _args: object) -> dict[str, Outcome]:
        batches.append([run.fault for run in runs])
        return {run.fault: Outcome() for run in runs}

    monkeypatch.setattr(fault_runs, "run_batch", fake)
    runs = [FaultRun(f, (f"emu:ocpp?fault={f}",), lambda _nodeid: True) for f in "edcba"]
    every = FaultRuns(runs, OCPP, size=2, selected="abce")
    for fault in "abcde":
        every.outcome(pytester, fault)
    assert batches == [["a", "b"], ["c", "e"], ["d"]]
    # a worker that took over the rest of a module starts where it was sent
    batches.clear()
    rest = FaultRuns(runs, OCPP, size=2, selected="abce")
    for fault in "ce":
        rest.outcome(pytester, fault)
    assert batches == [["c", "e"]]
