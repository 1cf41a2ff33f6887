"""``pytest fuzz/test_pelco.py --device=URI``: fuzz frames against a Pelco-D or
Pelco-P camera watched through its VISCA observer (``observe=``;
``aver-visca-pelco-spec.txt`` §3.2.3, §3.2.2)."""

from __future__ import annotations

import allure
import pytest

from conformance.devices.base import Device
from fuzz.conftest import FuzzCheck


@pytest.mark.protocol("pelco-d")
@allure.feature("Fuzzing")
@allure.story("Pelco-D frames")
def test_pelco_d_frames(device: Device, fuzz_check: FuzzCheck, fuzz_examples: int) -> None:
    """Frames a camera must ignore (checksum, address, framing) change nothing."""
    allure.dynamic.label("requirement", "Pelco-D §3.2.3 checksum 2~6 SUM", "Pelco-D §3.2.3 ADDR")
    fuzz_check.run_programs(fuzz_examples)


@pytest.mark.protocol("pelco-p")
@allure.feature("Fuzzing")
@allure.story("Pelco-P frames")
def test_pelco_p_frames(device: Device, fuzz_check: FuzzCheck, fuzz_examples: int) -> None:
    """Frames a camera must ignore (checksum, address, framing) change nothing."""
    allure.dynamic.label("requirement", "Pelco-P §3.2.2 checksum 1~7 XOR", "Pelco-P §3.2.2 ADDR")
    fuzz_check.run_programs(fuzz_examples)
