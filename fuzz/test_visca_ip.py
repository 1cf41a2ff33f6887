"""``pytest fuzz/test_visca_ip.py --device=URI``: fuzz programs and the sequence-number
machine against a VISCA-over-IP camera (AVer VISCA spec rev 3.4 §3.2.4)."""

from __future__ import annotations

import allure
import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from conformance.devices.base import Device
from fuzz.conftest import FuzzCheck
from fuzz.visca import ViscaIpTarget
from fuzz.visca_ip_machine import machine_for

REF = "VISCA-over-IP §3.2.4"


@pytest.mark.protocol("visca-ip")
@allure.feature("Fuzzing")
@allure.story("VISCA-over-IP programs")
def test_visca_ip_programs(device: Device, fuzz_check: FuzzCheck, fuzz_examples: int) -> None:
    """Whole programs sent at once, answers paired by sequence number."""
    allure.dynamic.label("requirement", f"{REF} payload type", f"{REF} payload length",
                         f"{REF} sequence number", "VISCA §3.2.1 command table")  # fmt: skip

    fuzz_check.run_programs(fuzz_examples)


@pytest.mark.protocol("visca-ip")
@allure.feature("Fuzzing")
@allure.story("VISCA-over-IP sequence numbers")
def test_visca_ip_sequence_machine(
    device: Device, fuzz_check: FuzzCheck, fuzz_examples: int
) -> None:
    """In-order numbers, retries, jumps and RESET in any order keep §3.2.4's rules."""
    allure.dynamic.label("requirement", f"{REF} sequence number", f"{REF} RESET")
    target = fuzz_check.target
    assert isinstance(target, ViscaIpTarget)
    run_state_machine_as_test(
        machine_for(target),
        settings=settings(max_examples=max(5, fuzz_examples // 10), stateful_step_count=20,
                          deadline=None, database=None),
    )  # fmt: skip
