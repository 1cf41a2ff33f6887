"""Audio commands (AVer VISCA spec rev 3.4, §3.2.1 "Audio Command"), as
Ado_Mute_Inq and Ado_Volume_Inq report (mute 1 = on, 2 = off; volume 0..A)."""

from __future__ import annotations

import pytest

from conformance.devices.visca import ViscaDevice
from conformance.expect import expect
from dissectors.visca_table import BY_NAME
from suites.visca.common import require

pytestmark = [pytest.mark.protocol("visca"), pytest.mark.feature("Audio")]


def mute(device: ViscaDevice) -> int:
    return device.inquire("Ado_Mute_Inq")["mute"]


@pytest.mark.parametrize(("name", "before", "after"), [
    ("ADO_Mute_On", 2, 1), ("ADO_Mute_Off", 1, 2), ("ADO_Mute_Tigger", 1, 2),
    ("ADO_Mute_Tigger", 2, 1),
])  # fmt: skip
def test_mute_commands_show_in_ado_mute_inq(
    device: ViscaDevice, name: str, before: int, after: int
) -> None:
    require(device, name, "ADO_Mute_On", "ADO_Mute_Off", "Ado_Mute_Inq")
    setup = "ADO_Mute_On" if before == 1 else "ADO_Mute_Off"
    device.command(setup)
    got = mute(device)
    expect(got == before, f"Ado_Mute_Inq answers {got} after {setup}",
           requirement=BY_NAME[setup].ref, expected=str(before))  # fmt: skip
    device.command(name)
    got = mute(device)
    expect(
        got == after,
        f"Ado_Mute_Inq answers {got} after {name} from {before}",
        requirement=BY_NAME[name].ref,
        expected=f"{after} ({'on' if after == 1 else 'off'})",
    )


@pytest.mark.parametrize(("name", "step"), [("ADO_Volume_Up", 1), ("ADO_Volume_Down", -1)])
def test_volume_commands_step_ado_volume_inq(device: ViscaDevice, name: str, step: int) -> None:
    require(device, name, "ADO_Volume_Up", "ADO_Volume_Down", "Ado_Volume_Inq")
    # Move away from the end the step goes to, so the step is visible.
    away = "ADO_Volume_Down" if step > 0 else "ADO_Volume_Up"
    if device.inquire("Ado_Volume_Inq")["volume"] in ((0x0A,) if step > 0 else (0,)):
        device.command(away)
    before = device.inquire("Ado_Volume_Inq")["volume"]
    device.command(name)
    got = device.inquire("Ado_Volume_Inq")["volume"]
    expect(
        got == before + step,
        f"Ado_Volume_Inq answers {got} after {name} from {before}",
        requirement=BY_NAME[name].ref,
        expected=str(before + step),
    )
