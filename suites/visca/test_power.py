"""Power (AVer VISCA spec rev 3.4, §3.2.1): Power_Off enters standby and
Power_On leaves it, as Power_Status_Inq reports (2 = on, 3 = standby)."""

from __future__ import annotations

import time

import pytest

from conformance.devices.visca import ViscaDevice
from conformance.errors import NoReply
from conformance.expect import expect
from dissectors.visca_table import BY_NAME
from suites.visca.common import require, undone

pytestmark = [pytest.mark.protocol("visca"), pytest.mark.feature("Power")]


@pytest.mark.story("Power_Off")
@pytest.mark.requirement(BY_NAME["Power_Off"].ref, BY_NAME["Power_On"].ref,
                         BY_NAME["Power_Status_Inq"].ref)  # fmt: skip
def test_power_off_and_on_show_in_power_status(device: ViscaDevice) -> None:
    require(device, "Power_Off", "Power_On", "Power_Status_Inq")
    with undone(device, "Power_Off"):
        device.command("Power_Off")
        status = device.inquire("Power_Status_Inq")["power"]
        expect(
            status == 3,
            f"Power_Status_Inq answers {status} in standby",
            requirement=BY_NAME["Power_Off"].ref,
            expected="3 (Off, standby)",
        )
    status = device.inquire("Power_Status_Inq")["power"]
    expect(
        status == 2,
        f"Power_Status_Inq answers {status} after Power_On",
        requirement=BY_NAME["Power_On"].ref,
        expected="2 (On)",
    )


@pytest.mark.story("Power_Reset")
@pytest.mark.requirement(BY_NAME["Power_Reset"].ref)
def test_power_reset_reboots_and_answers_again(device: ViscaDevice) -> None:
    """Power_Reset ("device reboot") is ACKed and completed, and the camera
    answers IF_Clear again within the motion bound."""
    require(device, "Power_Reset")
    device.command("Power_Reset")
    deadline = time.monotonic() + device.motion_timeout
    while True:
        try:
            device.request(device.build("IF_Clear"), requirement=BY_NAME["Power_Reset"].ref)
            return
        except NoReply:
            if time.monotonic() >= deadline:
                raise
