"""Pelco-P tracking, Wake on LAN and profiles (``aver-visca-pelco-spec.txt`` §3.2.2, EXTENDED
COMMAND SET, Profile # 0x01~0x05): every row is accepted and the camera stays
alive.  No VISCA inquiry reads these settings back."""

from __future__ import annotations

import pytest

from conformance.devices.pelco import PelcoDevice
from suites.pelco_common import Case
from suites.pelco_p.common import SUITE as S

pytestmark = S.marks()  # the feature is each row's group


@pytest.mark.parametrize("case", S.rows("Tracking", "Wake on LAN", "Profiles"))
def test_row_is_accepted_and_the_camera_stays_alive(device: PelcoDevice, case: Case) -> None:
    S.row_accepted(device, case)
