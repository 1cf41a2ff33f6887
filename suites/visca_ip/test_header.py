"""VISCA-over-IP header of replies (AVer VISCA spec rev 3.4, §3.2.4)."""

from __future__ import annotations

import pytest

from conformance.devices.visca import ViscaIpDevice
from conformance.expect import expect
from dissectors import visca_ip

pytestmark = [pytest.mark.protocol("visca-ip"), pytest.mark.feature("Header")]

REF = "VISCA-over-IP §3.2.4"


@pytest.mark.story("VISCA reply header")
@pytest.mark.requirement(f"{REF} payload type", f"{REF} payload length", f"{REF} sequence number")
@pytest.mark.parametrize("command", ["IF_Clear", "Version_Inq"])
def test_reply_header_matches_request(device: ViscaIpDevice, command: str) -> None:
    """A reply is type 0111, declares its true length, and carries the request's
    sequence number (0 and then 1, after the RESET each test starts with)."""
    for _ in range(2):
        frame = device.send(device.build(command))
        sequence = device.last_sequence
        raw, _ = device.receive_frame(request=frame, requirement=REF)
        ptype, length, seq, payload = (
            visca_ip.unwrap(raw) if len(raw) >= 8 else (None, None, None, b"")
        )
        expect(
            ptype == visca_ip.REPLY,
            f"payload type {ptype!r:>6}",
            requirement=f"{REF} payload type",
            sent=frame,
            received=raw,
            expected="0111 (VISCA reply)",
        )
        expect(
            length == len(payload) and 1 <= len(payload) <= visca_ip.MAX_PAYLOAD,
            f"payload length field {length} but {len(payload)} bytes follow",
            requirement=f"{REF} payload length",
            sent=frame,
            received=raw,
            expected="length field = payload bytes, 1..16",
        )
        expect(
            seq == sequence,
            f"sequence number {seq}",
            requirement=f"{REF} sequence number",
            sent=frame,
            received=raw,
            expected=f"{sequence} (the request's)",
        )
