"""Pelco-D presets (``aver-visca-pelco-spec.txt`` §3.2.3, EXTENDED COMMAND SET, Preset # 0x01~0x7F):
Set Preset stores the position, Go To Preset returns to it."""

from __future__ import annotations

import pytest

from conformance.devices.pelco import PelcoDevice
from suites.pelco_common import Case
from suites.pelco_d.common import SUITE as S

pytestmark = S.marks("Presets")


@pytest.mark.story("Go To Preset")
@pytest.mark.requirement(S.row_ref("Set Preset"), S.row_ref("Go To Preset"))
@pytest.mark.parametrize("preset", [0x01, 0x7F], ids=["0x01", "0x7F"])
def test_go_to_preset_returns_to_the_stored_position(device: PelcoDevice, preset: int) -> None:
    S.preset_round_trip(device, preset)


@pytest.mark.parametrize("case", S.rows("Presets"))
def test_preset_row_is_accepted(device: PelcoDevice, case: Case) -> None:
    S.row_accepted(device, case)
