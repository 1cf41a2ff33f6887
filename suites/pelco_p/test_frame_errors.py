"""Pelco-P frames a camera must ignore (``aver-visca-pelco-spec.txt`` §3.2.2):
a checksum that is not "1~7 XOR", an address that is not the camera's (also the
camera number where the 0-based address belongs), a truncated frame, an STX that
is not 0xA0 or an ETX that is not 0xAF.  Each sends Pan Left, and the position
must not change."""

from __future__ import annotations

import pytest

from conformance.devices.pelco import PelcoDevice
from suites.pelco_p.common import SUITE as S

pytestmark = S.marks("Frame errors")


@pytest.mark.story("Bad checksum")
@pytest.mark.requirement(S.checksum_ref())
def test_frame_with_a_bad_checksum_is_ignored(device: PelcoDevice) -> None:
    S.bad_checksum(device)


@pytest.mark.story("Another address")
@pytest.mark.requirement(S.address_ref())
def test_frame_for_another_address_is_ignored(device: PelcoDevice) -> None:
    S.other_address(device)


@pytest.mark.story("Address off by one")
@pytest.mark.requirement(S.address_ref())
def test_frame_for_the_camera_number_is_ignored(device: PelcoDevice) -> None:
    S.address_off_by_one(device)


@pytest.mark.story("Truncated frame")
@pytest.mark.requirement(S.frame_ref())
def test_truncated_frame_is_ignored(device: PelcoDevice) -> None:
    S.truncated(device)


@pytest.mark.story("Wrong STX")
@pytest.mark.requirement(S.framing_ref("STX"))
def test_frame_without_stx_is_ignored(device: PelcoDevice) -> None:
    S.wrong_framing_byte(device, "STX")


@pytest.mark.story("Wrong ETX")
@pytest.mark.requirement(S.framing_ref("ETX"))
def test_frame_without_etx_is_ignored(device: PelcoDevice) -> None:
    S.wrong_framing_byte(device, "ETX")
