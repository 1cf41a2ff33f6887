"""Pelco-D frames a camera must ignore (``aver-visca-pelco-spec.txt`` §3.2.3):
a checksum that is not "2~6 SUM" (also the ``sum % 100`` dialect), an address
that is not the camera's, a truncated frame, a SYNC byte that is not 0xFF.  Each
sends Pan Left, and the position must not change."""

from __future__ import annotations

import pytest

from conformance.devices.pelco import PelcoDevice
from suites.pelco_d.common import SUITE as S

pytestmark = S.marks("Frame errors")


@pytest.mark.story("Bad checksum")
@pytest.mark.requirement(S.checksum_ref())
def test_frame_with_a_bad_checksum_is_ignored(device: PelcoDevice) -> None:
    S.bad_checksum(device)


@pytest.mark.story("sum % 100 checksum")
@pytest.mark.requirement(S.checksum_ref())
def test_frame_with_a_sum_mod_100_checksum_is_ignored(device: PelcoDevice) -> None:
    S.dialect_checksum(device, "sum % 100")


@pytest.mark.story("Another address")
@pytest.mark.requirement(S.address_ref())
def test_frame_for_another_address_is_ignored(device: PelcoDevice) -> None:
    S.other_address(device)


@pytest.mark.story("Truncated frame")
@pytest.mark.requirement(S.frame_ref())
def test_truncated_frame_is_ignored(device: PelcoDevice) -> None:
    S.truncated(device)


@pytest.mark.story("Wrong SYNC")
@pytest.mark.requirement(S.framing_ref("SYNC"))
def test_frame_without_sync_is_ignored(device: PelcoDevice) -> None:
    S.wrong_framing_byte(device, "SYNC")
