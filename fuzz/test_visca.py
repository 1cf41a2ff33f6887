"""``pytest fuzz/test_visca.py --device=URI``: fuzz programs against a VISCA camera
on a serial line or TCP (AVer VISCA spec rev 3.4 §3.1, §3.2.1)."""

from __future__ import annotations

import allure
import pytest

from conformance.devices.base import Device
from fuzz.conftest import FuzzCheck


@pytest.mark.protocol("visca")
@allure.feature("Fuzzing")
@allure.story("VISCA programs")
def test_visca_programs(device: Device, fuzz_check: FuzzCheck, fuzz_examples: int) -> None:
    """Programs drawn from the §3.2.1 table: the oracle, liveness and state check hold."""
    allure.dynamic.label("requirement", "VISCA §3.1 message format", "VISCA §3.2.1 command table")

    fuzz_check.run_programs(fuzz_examples)
