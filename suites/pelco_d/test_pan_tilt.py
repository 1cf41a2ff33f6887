"""Pelco-D PAN AND TILT COMMANDS (``aver-visca-pelco-spec.txt`` §3.2.3, P/T bit byte4.0 = 0):
each direction of byte4 moves the camera its way and Stop (no bit set) stops
it; ZOOM Tele and ZOOM Wide zoom; CAM ON/OFF with SENSE ON (byte3.3, byte3.7) switches
the camera off and on."""

from __future__ import annotations

import pytest

from conformance.devices.pelco import PelcoDevice
from dissectors import pelco
from suites.pelco_common import Case
from suites.pelco_d.common import SUITE as S

pytestmark = S.marks("Pan and Tilt Commands")


@pytest.mark.requirement(S.ref(pelco.STOP))
@pytest.mark.parametrize("case", S.directions)
def test_direction_moves_the_camera_and_stop_stops_it(device: PelcoDevice, case: Case) -> None:
    S.direction_moves_and_stop_stops(device, case)


@pytest.mark.story("Zoom Tele")
@pytest.mark.requirement(S.ref("Zoom Tele"), S.ref(pelco.STOP))
def test_zoom_tele_zooms_in(device: PelcoDevice) -> None:
    S.zoom_tele(device)


@pytest.mark.story("Zoom Wide")
@pytest.mark.requirement(S.ref("Zoom Wide"), S.ref(pelco.STOP))
def test_zoom_wide_zooms_out(device: PelcoDevice) -> None:
    S.zoom_wide(device)


@pytest.mark.story("Camera Off")
@pytest.mark.requirement(S.ref(pelco.CAMERA_OFF), S.ref(pelco.CAMERA_ON))
def test_camera_off_and_on_show_in_power_status(device: PelcoDevice) -> None:
    S.camera_off_and_on(device)
