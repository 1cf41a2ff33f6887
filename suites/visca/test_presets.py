"""Presets (AVer VISCA spec rev 3.4, §3.2.1): CAM_set stores the position,
CAM_recall returns to it, as PT_Pos_Inq and Zoom_Pos_Inq report."""

from __future__ import annotations

import pytest

from conformance.devices.visca import ViscaDevice
from conformance.expect import expect
from dissectors.visca_table import BY_NAME
from suites.visca.common import require

pytestmark = [pytest.mark.protocol("visca"), pytest.mark.feature("Presets")]


@pytest.mark.story("CAM_recall")
@pytest.mark.requirement(BY_NAME["CAM_set"].ref, BY_NAME["CAM_recall"].ref)
@pytest.mark.parametrize("preset", [0x00, 0x05, 0x7F])
def test_recall_returns_to_the_stored_position(device: ViscaDevice, preset: int) -> None:
    require(device, "CAM_set", "CAM_recall", "PT_Direct", "PT_Pos_Inq", "Zoom_Direct",
            "Zoom_Pos_Inq")  # fmt: skip
    device.command("PT_Direct", pan_position=0x0150, tilt_position=0x0030)
    device.command("Zoom_Direct", zoom_position=0x0600)
    stored = device.inquire("PT_Pos_Inq"), device.inquire("Zoom_Pos_Inq")
    device.command("CAM_set", preset=preset)
    device.command("PT_Direct", pan_position=0xFF00, tilt_position=0x0000)
    device.command("Zoom_Direct", zoom_position=0x0000)
    away = device.inquire("PT_Pos_Inq"), device.inquire("Zoom_Pos_Inq")
    expect(away != stored, "the camera did not leave the stored position, so the recall "
           "cannot be seen", requirement=BY_NAME["PT_Direct"].ref, received=str(away),
           expected=f"a position other than {stored}")  # fmt: skip
    device.command("CAM_recall", preset=preset)
    now = device.inquire("PT_Pos_Inq"), device.inquire("Zoom_Pos_Inq")
    expect(
        now == stored,
        f"position after CAM_recall {preset} is {now}",
        requirement=BY_NAME["CAM_recall"].ref,
        expected=f"{stored}, stored by CAM_set",
    )
