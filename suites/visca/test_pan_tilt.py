"""Pan-tilt commands move the camera (AVer VISCA spec rev 3.4, §3.2.1), as
PT_Pos_Inq reports: PT_Direct arrives at its position, each direction command
moves the right way, and PT_Stop stops."""

from __future__ import annotations

import pytest

from conformance.devices.visca import ViscaDevice
from conformance.expect import expect
from dissectors.visca_table import BY_NAME
from suites.visca.common import require, signed, undone, wait_for

pytestmark = [pytest.mark.protocol("visca"), pytest.mark.feature("Pan-Tilt")]

DIRECTIONS = {  # row -> (pan sign, tilt sign)
    "PT_Up": (0, 1), "PT_Down": (0, -1), "PT_Left": (-1, 0), "PT_Right": (1, 0),
    "PT_UpLeft": (-1, 1), "PT_UpRight": (1, 1), "PT_DownLeft": (-1, -1),
    "PT_DownRight": (1, -1),
}  # fmt: skip


def position(device: ViscaDevice) -> tuple[int, int]:
    answer = device.inquire("PT_Pos_Inq")
    return signed(answer["pan_position"]), signed(answer["tilt_position"])


@pytest.mark.story("PT_Direct")
@pytest.mark.requirement(BY_NAME["PT_Direct"].ref, BY_NAME["PT_Pos_Inq"].ref)
@pytest.mark.parametrize(("pan", "tilt"), [(0x0120, 0x0040), (-0x0200, -0x0060)])
def test_pt_direct_arrives_at_its_position(device: ViscaDevice, pan: int, tilt: int) -> None:
    require(device, "PT_Direct", "PT_Pos_Inq")
    device.command("PT_Direct", pan_position=pan & 0xFFFF, tilt_position=tilt & 0xFFFF)
    expect(position(device) == (pan, tilt), "PT_Pos_Inq after the Completion of PT_Direct",
           requirement=BY_NAME["PT_Direct"].ref, received=str(position(device)),
           expected=f"pan {pan}, tilt {tilt}")  # fmt: skip


@pytest.mark.parametrize("name", list(DIRECTIONS))
def test_direction_moves_the_right_way_and_pt_stop_stops(device: ViscaDevice, name: str) -> None:
    require(device, name, "PT_Stop", "PT_Pos_Inq")
    ref = BY_NAME[name].ref
    start = position(device)
    pan_sign, tilt_sign = DIRECTIONS[name]
    with undone(device, name):
        device.command(name, pan_speed=0x08, tilt_speed=0x08)

        def moved(answer: dict[str, int]) -> bool:
            pan, tilt = signed(answer["pan_position"]), signed(answer["tilt_position"])
            return (pan - start[0]) * pan_sign > 0 or (tilt - start[1]) * tilt_sign > 0

        wait_for(
            device,
            "PT_Pos_Inq",
            moved,
            ref=ref,
            what=f"a move {'right' if pan_sign > 0 else 'left' if pan_sign else ''}"
            f"{' up' if tilt_sign > 0 else ' down' if tilt_sign else ''} from {start}",
        )
        device.command("PT_Stop")
    stopped = position(device)
    expect(
        position(device) == stopped,
        "the camera still moves after PT_Stop's Completion",
        requirement=BY_NAME["PT_Stop"].ref,
        expected=f"position stays {stopped}",
    )
    moved_pan, moved_tilt = stopped[0] - start[0], stopped[1] - start[1]
    expect(moved_pan * pan_sign >= 0 and moved_tilt * tilt_sign >= 0 and
           (pan_sign != 0 or moved_pan == 0) and (tilt_sign != 0 or moved_tilt == 0),
           f"{name} moved pan by {moved_pan} and tilt by {moved_tilt}", requirement=ref,
           expected=f"pan sign {pan_sign}, tilt sign {tilt_sign}")  # fmt: skip
