"""Fuzzing an AT-command module: ``pytest fuzz/test_at.py --device=emu:bc26`` or
``--device=at+serial:///dev/ttyUSB0?module=bc26``.

Random programs from the module's command table (:class:`~fuzz.at.AtTarget`)
and the BC26 LwM2M life cycle (:mod:`fuzz.bc26_machine`), judged by the
manual's rules (``quectel-bc26-lwm2m-at-commands.txt``).  The first
observation fails the test with its rendering and its reproducer filed.
"""

from __future__ import annotations

import allure
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.stateful import run_state_machine_as_test

from fuzz.at import AtTarget
from fuzz.bc26_machine import machine_for
from fuzz.case import Case
from fuzz.conftest import FuzzCheck
from fuzz.strategies import programs
from fuzz.target import FindingFailure

pytestmark = [pytest.mark.protocol("at")]

SETTINGS = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}


@allure.feature("Fuzzing")
@allure.story("AT command programs")
def test_at_programs(fuzz_check: FuzzCheck, fuzz_examples: int) -> None:
    """Every form with boundary, out-of-range and mistyped parameters, broken
    quotes, framing and over-long lines, platform actions; then liveness (AT)
    and the read forms' state (BC26 §1.2, §3.1-§3.12, §4)."""
    allure.dynamic.label("requirement", "BC26 §1.2")
    allure.dynamic.label("requirement", "BC26 §3.1-§3.12")

    @settings(max_examples=fuzz_examples, **SETTINGS)
    @given(programs(fuzz_check.target))
    def check(cases: list[Case]) -> None:
        fuzz_check(cases)

    check()


@allure.feature("Fuzzing")
@allure.story("BC26 LwM2M life cycle")
def test_bc26_life_cycle(fuzz_check: FuzzCheck, fuzz_examples: int) -> None:
    """Configure, register, send, receive, update, deregister and delete in the
    orders the manual allows, invalid lines in between (BC26 §3, §4, §5)."""
    allure.dynamic.label("requirement", "BC26 §5")
    target = fuzz_check.target
    assert isinstance(target, AtTarget)
    if target.module != "bc26":
        pytest.skip(f"the life-cycle machine is written for bc26, not {target.module}")
    failure: FindingFailure | None = None
    try:
        run_state_machine_as_test(
            machine_for(target),
            settings=settings(max_examples=max(1, fuzz_examples // 5), stateful_step_count=30,
                              report_multiple_bugs=False, **SETTINGS),  # type: ignore[arg-type]
        )  # fmt: skip
    except FindingFailure as exc:
        failure = exc
    if failure is not None:
        fuzz_check(failure.cases)  # replayed from begin(): files the reproducer and fails
        raise AssertionError(failure.observation.render())
