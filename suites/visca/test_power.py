"""Power (AVer VISCA spec rev 3.4, §3.2.1): Power_Off enters standby and
Power_On leaves it, as Power_Status_Inq reports (2 = on, 3 = standby)."""

from __future__ import annotations

import pytest

from conformance.devices.visca import ViscaDevice
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
