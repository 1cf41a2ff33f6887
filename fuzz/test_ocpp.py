"""Fuzz tests of a charging station (``pytest fuzz/test_ocpp.py --device=emu:ocpp`` or
``--device=ocpp+listen://0.0.0.0:9000?id=CS001``): random CSMS-to-station frames
against OCPP 2.1 / 2.0.1 Part 4, and the boot -> authorize -> transaction life.
The first observation fails the test with its reproducer filed."""

from __future__ import annotations

import allure
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from fuzz.conftest import FuzzCheck
from fuzz.ocpp import OcppTarget
from fuzz.ocpp_machine import machine_for

pytestmark = [pytest.mark.protocol("ocpp")]

SETTINGS = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}


@allure.feature("Fuzzing")
@allure.story("OCPP-J RPC framework")
def test_ocpp_frames(fuzz_check: FuzzCheck, fuzz_examples: int) -> None:
    """Programs of CSMS-to-station frames: valid, one constraint broken, broken
    framing, SEND / CALLRESULTERROR, random text; answers judged by Part 4 §4.1-§4.3,
    the station alive afterwards and its watched variables as the program left them."""
    allure.dynamic.label("requirement", "OCPP 2.1 Part 4 §4.1.7")
    allure.dynamic.label("requirement", "OCPP 2.1 Part 4 §4.2.3")
    allure.dynamic.label("requirement", "OCPP 2.1 Part 4 §4.3")

    fuzz_check.run_programs(fuzz_examples)


@allure.feature("Fuzzing")
@allure.story("Transaction life cycle")
def test_ocpp_transaction_machine(fuzz_check: FuzzCheck, fuzz_examples: int) -> None:
    """Cables, idTokens and buttons through the control API, interleaved with fuzz
    frames; TransactionEventRequests checked against E01.FR.07, E01.FR.08, C01.FR.01."""
    for requirement in ("E01.FR.07", "E01.FR.08", "C01.FR.01"):
        allure.dynamic.label("requirement", requirement)
    target = fuzz_check.target
    assert isinstance(target, OcppTarget)
    if target.device.control is None:
        pytest.skip("the transaction machine needs the station's control API (control=...)")
    run_state_machine_as_test(
        machine_for(target),
        settings=settings(
            max_examples=max(1, fuzz_examples // 10), stateful_step_count=15, **SETTINGS
        ),
    )
