"""VISCA-over-IP control (AVer VISCA spec rev 3.4 §3.2.4; control payloads of
the Sony VISCA-over-IP protocol): RESET, sequence checking, and the errors
``0F 01`` (sequence number) and ``0F 02`` (message type), which a camera may
send as payload type 0200 or 0201."""

from __future__ import annotations

import pytest

from conformance.devices.visca import ViscaIpDevice
from conformance.expect import expect
from dissectors import visca, visca_ip
from dissectors.visca_table import BY_NAME

pytestmark = [pytest.mark.protocol("visca-ip"), pytest.mark.feature("Sequence")]

REF = "VISCA-over-IP §3.2.4"
CONTROL_TYPES = (visca_ip.CONTROL, visca_ip.CONTROL_REPLY)


def control_answer(device: ViscaIpDevice, frame: bytes, *, ref: str, payload: bytes,
                   what: str) -> None:  # fmt: skip
    """*frame* must be answered by a control message carrying *payload*."""
    device.send_frame(frame)
    raw, _ = device.receive_frame(request=frame, requirement=ref)
    ptype, _, _, body = visca_ip.unwrap(raw) if len(raw) >= 8 else (None, None, None, b"")
    expect(ptype in CONTROL_TYPES and body == payload, f"answered {visca_ip.describe(raw)}",
           requirement=ref, sent=frame, received=raw,
           expected=f"{what}: type 0200/0201 carrying {payload.hex(' ').upper()}")  # fmt: skip


def reset(device: ViscaIpDevice) -> None:
    frame = visca_ip.wrap(visca_ip.RESET, 0, visca_ip.CONTROL)
    device.send_frame(frame)
    raw, _ = device.receive_frame(request=frame, requirement=f"{REF} RESET")
    ptype, _, seq, body = visca_ip.unwrap(raw) if len(raw) >= 8 else (None, None, None, b"")
    expect(ptype == visca_ip.CONTROL_REPLY and body == visca_ip.CONTROL_ACK and seq == 0,
           "RESET not acknowledged", requirement=f"{REF} RESET", sent=frame, received=raw,
           expected="02 01 00 01 00 00 00 00 01 (control reply ACK, sequence 0)")  # fmt: skip
    device.sequence = 0


@pytest.mark.story("RESET")
@pytest.mark.requirement(f"{REF} RESET")
def test_reset_is_acknowledged_and_restarts_the_sequence(device: ViscaIpDevice) -> None:
    device.sequence = 1000
    device.request(device.build("IF_Clear"))
    reset(device)
    (reply,) = device.request(device.build("IF_Clear"), requirement=f"{REF} RESET")
    want = visca.build_reply(BY_NAME["IF_Clear"], device.address)
    expect(
        reply.data == want,
        "IF_Clear with sequence 0 after RESET is not answered",
        requirement=f"{REF} RESET",
        received=reply.frame,
        expected=want.hex(" ").upper(),
    )


@pytest.mark.story("Sequence number")
@pytest.mark.requirement(f"{REF} sequence number")
def test_out_of_order_sequence_is_a_sequence_error(device: ViscaIpDevice) -> None:
    reset(device)
    device.request(device.build("IF_Clear"))  # sequence 0
    frame = visca_ip.wrap(device.build("IF_Clear"), 0x0000_1000)
    control_answer(
        device,
        frame,
        ref=f"{REF} sequence number",
        payload=visca_ip.SEQUENCE_ERROR,
        what="abnormality in sequence number",
    )


@pytest.mark.story("Sequence number")
@pytest.mark.requirement(f"{REF} sequence number")
def test_resend_with_the_same_sequence_is_answered(device: ViscaIpDevice) -> None:
    """A controller that timed out re-sends with the same sequence number."""
    reset(device)
    message = device.build("IF_Clear")
    device.request(message)
    device.sequence -= 1
    (reply,) = device.request(message, requirement=f"{REF} sequence number")
    expect(
        reply.data[1:] == b"\x50\xff",
        "a re-sent request was not answered like the first",
        requirement=f"{REF} sequence number",
        received=reply.frame,
        expected="y0 50 FF",
    )


@pytest.mark.story("Message type")
@pytest.mark.requirement(f"{REF} payload type")
@pytest.mark.parametrize("ptype", [0x0000, 0x0112, 0x0300, visca_ip.REPLY])
def test_unknown_payload_type_is_a_message_type_error(device: ViscaIpDevice, ptype: int) -> None:
    frame = visca_ip.wrap(device.build("IF_Clear"), device.sequence, ptype)
    control_answer(
        device,
        frame,
        ref=f"{REF} payload type",
        payload=visca_ip.MESSAGE_TYPE_ERROR,
        what="abnormality in message type",
    )


@pytest.mark.story("Payload length")
@pytest.mark.requirement(f"{REF} payload length")
@pytest.mark.parametrize("declared", [0, 4, 17], ids=["zero", "short", "over-16"])
def test_bad_payload_length_is_a_message_type_error(device: ViscaIpDevice, declared: int) -> None:
    message = device.build("IF_Clear")
    frame = visca_ip.wrap(message, device.sequence)
    frame = frame[:2] + declared.to_bytes(2, "big") + frame[4:]
    control_answer(
        device,
        frame,
        ref=f"{REF} payload length",
        payload=visca_ip.MESSAGE_TYPE_ERROR,
        what="abnormality in message type",
    )
