"""Harness of the OCPP fault tests: run the suites against ``emu:ocpp`` with
one fault switched on and check that exactly the named tests turn red, as
findings (spec violations), not errors.  Faults run in batches
(:mod:`tests.fault_runs`), each on its own station."""

from __future__ import annotations

import pytest

from tests.fault_runs import FaultRun, FaultRuns, Outcome, selected
from tests.test_faults import _matches

#: device parameters for fault runs: short deadlines, so a missing message
#: costs a fraction of a second
FAULT_PARAMS = "timeout=1.5"
#: faults per inner run: the stations of a batch boot side by side
BATCH = 8


def run(pytester: pytest.Pytester, uri: str, functions: list[str]) -> pytest.HookRecorder:
    args = [f"--device={uri}", "-p", "no:cacheprovider", "--pyargs", "suites.ocpp"]
    if functions:
        args += ["-k", " or ".join(sorted(set(functions)))]
    return pytester.inline_run(*args)


def _function(nodeid: str) -> str:
    return nodeid.split("::")[-1].partition("[")[0]


def fault_run(fault: str, patterns: list[str]) -> FaultRun:
    """*fault* on its own station, running every test of the functions *patterns* name."""
    functions = {p.partition("[*")[0] for p in patterns}
    return FaultRun(
        fault,
        (f"emu:ocpp?fault={fault}&{FAULT_PARAMS}",),
        lambda nodeid: _function(nodeid) in functions,
    )


def fault_runs(request: pytest.FixtureRequest, red: dict[str, list[str]]) -> FaultRuns:
    """The fault runs of one module's ``RED`` table."""
    return FaultRuns(
        [fault_run(f, patterns) for f, patterns in red.items()],
        ["--pyargs", "suites.ocpp"],
        size=BATCH,
        selected=selected(request),
    )


def check_red(fault: str, patterns: list[str], outcome: Outcome) -> None:
    """With *fault* on, every test matching *patterns* fails with a finding."""
    passed, failed = outcome.passed, outcome.failed
    errors = [r.nodeid for r in failed if r.when != "call"]
    assert errors == [], f"{fault}: errors in set-up or teardown, not findings"
    not_findings = [
        r.nodeid
        for r in failed
        if "AssertionError" not in str(r.longrepr) and "Finding" not in str(r.longrepr)
        and "NoReply" not in str(r.longrepr)
    ]  # fmt: skip
    assert not_findings == [], f"{fault}: failed for another reason than a finding"
    red = {r.nodeid for r in failed}
    for pattern in patterns:
        wanted = [r.nodeid for r in [*passed, *failed] if _matches(r.nodeid, pattern)]
        assert wanted, f"{fault}: no test ran for {pattern}"
        assert [n for n in wanted if n not in red] == [], f"{fault} left these green"


def collected(pytester: pytest.Pytester, uri: str = "emu:ocpp") -> list[str]:
    result = pytester.runpytest(f"--device={uri}", "--co", "-q", "--pyargs", "suites.ocpp")
    return [line for line in result.stdout.lines if "::" in line]
