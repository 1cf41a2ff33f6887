"""Zoom commands move the lens (AVer VISCA spec rev 3.4, §3.2.1), as
Zoom_Pos_Inq reports: Zoom_Direct arrives, Tele zooms in, Wide zooms out,
Zoom_Stop stops."""

from __future__ import annotations

import pytest

from conformance.devices.visca import ViscaDevice
from conformance.expect import expect
from dissectors.visca_table import BY_NAME
from suites.visca.common import require, undone, wait_for

pytestmark = [pytest.mark.protocol("visca"), pytest.mark.feature("Zoom")]


def zoom(device: ViscaDevice) -> int:
    return device.inquire("Zoom_Pos_Inq")["zoom_position"]


@pytest.mark.story("Zoom_Direct")
@pytest.mark.requirement(BY_NAME["Zoom_Direct"].ref, BY_NAME["Zoom_Pos_Inq"].ref)
@pytest.mark.parametrize("target", [0x0800, 0x2000, 0x0000])
def test_zoom_direct_arrives_at_its_position(device: ViscaDevice, target: int) -> None:
    require(device, "Zoom_Direct", "Zoom_Pos_Inq")
    device.command("Zoom_Direct", zoom_position=target)
    got = zoom(device)
    expect(got == target, f"Zoom_Pos_Inq answers 0x{got:04X} after Zoom_Direct completed",
           requirement=BY_NAME["Zoom_Direct"].ref, expected=f"0x{target:04X}")  # fmt: skip


@pytest.mark.parametrize(("name", "sign"), [("Zoom_Tele", 1), ("Zoom_Wide", -1)])
def test_zoom_moves_the_right_way_and_zoom_stop_stops(
    device: ViscaDevice, name: str, sign: int
) -> None:
    require(device, name, "Zoom_Stop", "Zoom_Direct", "Zoom_Pos_Inq")
    ref = BY_NAME[name].ref
    device.command("Zoom_Direct", zoom_position=0x1000)
    start = zoom(device)
    with undone(device, name):
        device.command(name, zoom_speed=4)
        wait_for(
            device,
            "Zoom_Pos_Inq",
            lambda a: (a["zoom_position"] - start) * sign > 0,
            ref=ref,
            what=f"zoom {'above' if sign > 0 else 'below'} 0x{start:04X}",
        )
        device.command("Zoom_Stop")
    stopped = zoom(device)
    expect(
        zoom(device) == stopped,
        "the lens still moves after Zoom_Stop's Completion",
        requirement=BY_NAME["Zoom_Stop"].ref,
        expected=f"zoom stays 0x{stopped:04X}",
    )
