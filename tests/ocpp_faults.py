"""Harness of the OCPP fault tests: run the suites against ``emu:ocpp`` with
one fault switched on and check that exactly the named tests turn red, as
findings (spec violations), not errors."""

from __future__ import annotations

import pytest

from tests.test_faults import _matches

#: device parameters for fault runs: short deadlines, so a missing message
#: costs a fraction of a second
FAULT_PARAMS = "timeout=1.5"


def run(pytester: pytest.Pytester, uri: str, functions: list[str]) -> pytest.HookRecorder:
    args = [f"--device={uri}", "-p", "no:cacheprovider", "--pyargs", "suites.ocpp"]
    if functions:
        args += ["-k", " or ".join(sorted(set(functions)))]
    return pytester.inline_run(*args)


def check_red(pytester: pytest.Pytester, fault: str, patterns: list[str]) -> None:
    """With *fault* on, every test matching *patterns* fails with a finding."""
    functions = [p.partition("[*")[0] for p in patterns]
    rec = run(pytester, f"emu:ocpp?fault={fault}&{FAULT_PARAMS}", functions)
    passed, _, failed = rec.listoutcomes()
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
