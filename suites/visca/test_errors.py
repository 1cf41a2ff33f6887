"""Messages a camera must refuse, and the error it must refuse them with
(AVer VISCA spec rev 3.4 §3.1, §3.2.1; error replies of the Sony VISCA core:
``y0 60 01 FF`` message length, ``y0 60 02 FF`` syntax, ``y0 60 03 FF`` buffer
full, ``y0 6z 04 FF`` canceled, ``y0 6z 05 FF`` no socket)."""

from __future__ import annotations

import contextlib

import pytest

from conformance.devices.visca import ViscaDevice, ViscaIpDevice
from conformance.errors import Finding
from conformance.expect import expect
from dissectors import visca
from dissectors.visca_table import BY_NAME, COMMANDS, TERMINATOR, Row
from suites.visca.common import claims, outside, require, row_id, typical

pytestmark = [pytest.mark.protocol("visca"), pytest.mark.feature("Errors")]

FORMAT = "VISCA §3.1 message format"


def stream_only(device: ViscaDevice) -> None:
    if isinstance(device, ViscaIpDevice):
        pytest.skip("over IP each datagram is one message: suites/visca_ip checks its framing")


@pytest.mark.story("Missing terminator")
@pytest.mark.requirement(FORMAT)
def test_message_without_terminator_is_not_executed(device: ViscaDevice) -> None:
    """The bytes run on into the next message, which is then a syntax error."""
    stream_only(device)
    device.transport.send(device.build("Zoom_Stop")[:-1])
    device.expect_error(device.build("IF_Clear"), "Syntax_Error", ref=FORMAT)


@pytest.mark.story("Over-long message")
@pytest.mark.requirement(FORMAT)
@pytest.mark.parametrize("terminated", [True, False], ids=["17-bytes-with-FF", "17-bytes-no-FF"])
def test_over_long_message_is_refused(device: ViscaDevice, terminated: bool) -> None:
    stream_only(device)
    body = bytes([visca.address_of(device.address), 0x01, 0x04, 0x47]) + bytes(12)
    message = body + (b"\xff" if terminated else b"\x00")
    device.send(message)
    reply = device.receive(request=message, requirement=FORMAT)
    name = visca.match_row(reply.data)
    expect(name is not None and name.name in ("Message_Length_Error", "Syntax_Error")
           and reply.data[0] == visca.reply_address(device.address),
           f"{len(message)} bytes answered {reply.decoded.describe()}", requirement=FORMAT,
           sent=message, received=reply.frame,
           expected="Message_Length_Error y0 60 01 FF (or Syntax_Error y0 60 02 FF)")  # fmt: skip


@pytest.mark.story("Unknown command")
@pytest.mark.requirement("VISCA §3.2.1 command table")
def test_unknown_command_is_a_syntax_error(device: ViscaDevice) -> None:
    message = bytes([visca.address_of(device.address), 0x01, 0x7F, 0x7F, 0x7F, TERMINATOR])
    assert visca.match_row(message) is None
    device.expect_error(message, "Syntax_Error", ref="VISCA §3.2.1 command table")


OUT_OF_RANGE = [
    pytest.param(row, letter, id=f"{row.name}-{row.params.get(letter, letter)}")
    for row in COMMANDS if row.kind == "command"
    for letter in row.packet.letters if row.allowed.get(letter) is not None
]  # fmt: skip


@pytest.mark.story("Out-of-range parameter")
@pytest.mark.parametrize(("row", "letter"), OUT_OF_RANGE)
def test_out_of_range_parameter_is_a_syntax_error(
    device: ViscaDevice, row: Row, letter: str
) -> None:
    require(device, row.name)
    value = outside(row, letter)
    if value is None:
        pytest.skip(f"every value of {row.params[letter]} is allowed")
    params = {**typical(row), row.params.get(letter, letter.lower()): value}
    message = device.build(row.name, **params)
    device.expect_error(
        message,
        "Syntax_Error",
        ref=f"{row.ref}: {row.params[letter]} {row.describe_allowed(letter)}",
    )


@pytest.mark.story("Wrong address")
@pytest.mark.requirement("VISCA §3.1 address byte")
def test_camera_not_on_the_chain_gets_no_answer(device: ViscaDevice) -> None:
    chain = int(device.spec.params.get("chain", 1))
    absent = device.address + chain
    if absent > 7:
        pytest.skip("every address 1..7 is taken on this chain")
    message = visca.build("IF_Clear", absent)
    device.expect_silence(message, ref="VISCA §3.1 address byte")


@pytest.mark.story("Cancel")
@pytest.mark.requirement("VISCA §3.1 Cancel")
def test_cancel_on_an_idle_socket_is_no_socket(device: ViscaDevice) -> None:
    message = visca.build("Cancel", device.address, socket=1)
    device.expect_error(message, "No_Socket", ref="VISCA §3.1 Cancel")


@pytest.mark.story("Cancel")
@pytest.mark.requirement("VISCA §3.1 Cancel", BY_NAME["PT_Direct"].ref)
def test_cancel_of_a_move_is_command_canceled(device: ViscaDevice) -> None:
    require(device, "PT_Direct")
    far = device.build("PT_Direct", pan_position=0x0900, tilt_position=0x0000)
    device.send(far)
    ack = device.receive(request=far, requirement="VISCA §3.1 Cancel")
    socket = ack.decoded.fields.get("socket")
    expect(
        ack.decoded.name == "ACK",
        "no ACK for a long PT_Direct",
        requirement="VISCA §3.1",
        sent=far,
        received=ack.frame,
        expected="ACK y0 4z FF",
    )
    cancel = visca.build("Cancel", device.address, socket=socket)
    reply = device.expect_error(cancel, "Command_Canceled", ref="VISCA §3.1 Cancel")
    expect(reply.decoded.fields["socket"] == socket, "Command_Canceled names another socket",
           requirement="VISCA §3.1 Cancel", sent=cancel, received=reply.frame,
           expected=f"socket {socket}")  # fmt: skip


@pytest.mark.story("Buffer full")
@pytest.mark.requirement("VISCA §3.1 Command_Buffer_Full")
def test_third_command_with_both_sockets_busy_is_buffer_full(device: ViscaDevice) -> None:
    require(device, "PT_Direct", "Zoom_Direct")
    busy = [device.build("PT_Direct", pan_position=0x0900, tilt_position=0x0400),
            device.build("Zoom_Direct", zoom_position=0x4000)]  # fmt: skip
    try:
        for message in busy:
            device.send(message)
            ack = device.receive(request=message, requirement="VISCA §3.1")
            expect(ack.decoded.name == "ACK", "a long move was not ACKed",
                   requirement="VISCA §3.1", sent=message, received=ack.frame,
                   expected="ACK y0 4z FF")  # fmt: skip
        third = device.build("PT_Direct", pan_position=0x0000, tilt_position=0x0000)
        device.expect_error(third, "Command_Buffer_Full", ref="VISCA §3.1 Command_Buffer_Full")
    finally:
        with contextlib.suppress(Finding):
            device.request(device.build("IF_Clear"))
        device.settle()


@pytest.mark.story("Model support")
@pytest.mark.parametrize("row", [r for r in COMMANDS if r.kind in ("command", "inquiry")],
                         ids=row_id)  # fmt: skip
def test_command_the_model_does_not_claim_is_refused(device: ViscaDevice, row: Row) -> None:
    if device.spec.model is None:
        pytest.skip("no model= named, so every row is claimed")
    if claims(device, row):
        pytest.skip(f"{device.spec.model} claims {row.name}")
    message = device.build(row.name, **typical(row))
    device.expect_error(message, "Syntax_Error", ref=f"{row.ref} (model note)")
