"""Scapy layer for VISCA over IP (AVer VISCA spec rev 3.4, §3.2.4; Sony VISCA
over IP for the control payload types).  Bound to UDP port 52381.

Header: payload type (2 bytes), payload length (2 bytes, 1..16, computed in
``post_build`` and checked on dissect), sequence number (4 bytes), all
big-endian, followed by the VISCA packet or a control payload.
"""

from __future__ import annotations

import struct
from typing import Any

from scapy.fields import IntField, ShortEnumField, ShortField
from scapy.layers.inet import UDP
from scapy.packet import Packet, Raw, bind_layers

from dissectors import visca
from dissectors.decoded import Decoded

PORT = 52381
HEADER_LEN = 8
MAX_PAYLOAD = 16

COMMAND = 0x0100
INQUIRY = 0x0110
REPLY = 0x0111
DEVICE_SETTING = 0x0120
CONTROL = 0x0200
CONTROL_REPLY = 0x0201

PAYLOAD_TYPES = {
    COMMAND: "VISCA command",
    INQUIRY: "VISCA inquiry",
    REPLY: "VISCA reply",
    DEVICE_SETTING: "VISCA device setting",
    CONTROL: "Control command",
    CONTROL_REPLY: "Control reply",
}

RESET = b"\x01"
CONTROL_ACK = b"\x01"
SEQUENCE_ERROR = b"\x0f\x01"  # abnormality in sequence number
MESSAGE_TYPE_ERROR = b"\x0f\x02"  # abnormality in message type
CONTROL_PAYLOADS = {
    RESET: "RESET",
    SEQUENCE_ERROR: "Sequence_Error",
    MESSAGE_TYPE_ERROR: "Message_Type_Error",
}


class VISCA_IP(Packet):
    name = "VISCA over IP"
    fields_desc = [
        ShortEnumField("payload_type", COMMAND, PAYLOAD_TYPES),
        ShortField("payload_length", None),
        IntField("sequence", 0),
    ]

    def post_build(self, pkt: bytes, pay: bytes) -> bytes:
        if self.payload_length is None:
            pkt = pkt[:2] + struct.pack(">H", len(pay)) + pkt[4:]
        return pkt + pay

    def do_dissect(self, s: bytes) -> bytes:
        """A datagram shorter than the header dissects without raising; it keeps
        its own bytes and :func:`decode` reports it."""
        if len(s) >= HEADER_LEN:
            return super().do_dissect(s)
        super().do_dissect(s + bytes(HEADER_LEN - len(s)))
        self.raw_packet_cache = s
        return b""

    def guess_payload_class(self, payload: bytes) -> type[Packet]:
        if self.payload_type in (COMMAND, INQUIRY, REPLY, DEVICE_SETTING):
            return visca.VISCA
        return Raw

    def hashret(self) -> bytes:
        return struct.pack(">I", self.sequence)

    def answers(self, other: Packet) -> int:
        if not isinstance(other, VISCA_IP) or other.payload_type not in (COMMAND, INQUIRY, CONTROL):
            return 0
        if self.sequence != other.sequence:
            return 0
        if other.payload_type == CONTROL:
            return int(self.payload_type in (CONTROL, CONTROL_REPLY))
        return int(self.payload_type in (REPLY, CONTROL, CONTROL_REPLY))


bind_layers(UDP, VISCA_IP, dport=PORT)
bind_layers(UDP, VISCA_IP, sport=PORT)


def wrap(payload: bytes, sequence: int, payload_type: int | None = None) -> bytes:
    """Header plus *payload*; the type defaults to command or inquiry by its bytes."""
    if payload_type is None:
        payload_type = INQUIRY if len(payload) > 1 and payload[1] == 0x09 else COMMAND
    return struct.pack(">HHI", payload_type, len(payload), sequence & 0xFFFFFFFF) + payload


def unwrap(data: bytes) -> tuple[int, int, int, bytes]:
    """(type, declared length, sequence, payload); raises ValueError if short."""
    if len(data) < HEADER_LEN:
        raise ValueError(f"{len(data)} bytes: shorter than the 8-byte header")
    ptype, length, seq = struct.unpack(">HHI", data[:HEADER_LEN])
    return ptype, length, seq, data[HEADER_LEN:]


def decode(data: bytes, request: bytes | None = None) -> Decoded:
    """Header fields plus the inner VISCA (or control) message; never raises."""
    try:
        ptype, length, seq, payload = unwrap(data)
    except ValueError as exc:
        return Decoded("visca-ip", "unknown", {}, [f"{exc} (§3.2.4)"], bytes(data))
    fields: dict[str, Any] = {
        "payload_type": ptype,
        "payload_type_name": PAYLOAD_TYPES.get(ptype, "unknown"),
        "payload_length": length,
        "sequence": seq,
    }
    problems = []
    if ptype not in PAYLOAD_TYPES:
        problems.append(f"unknown payload type {ptype:04X} (§3.2.4)")
    if not 1 <= length <= MAX_PAYLOAD:
        problems.append(f"payload length {length} outside 1..{MAX_PAYLOAD} (§3.2.4)")
    if length != len(payload):
        problems.append(f"payload length field {length} but {len(payload)} bytes follow (§3.2.4)")
    inner: Decoded | None = None
    name = PAYLOAD_TYPES.get(ptype, "unknown")
    if ptype in (CONTROL, CONTROL_REPLY):
        known = (RESET,) if ptype == CONTROL else (CONTROL_ACK, SEQUENCE_ERROR, MESSAGE_TYPE_ERROR)
        if payload not in known:
            problems.append(f"unknown {name.lower()} payload {payload.hex(' ').upper()} (§3.2.4)")
        elif ptype == CONTROL_REPLY and payload == CONTROL_ACK:
            name = "Control ACK"
        else:
            name = CONTROL_PAYLOADS[payload]
    elif ptype in (COMMAND, INQUIRY, REPLY, DEVICE_SETTING):
        inner_request = None
        if request is not None and len(request) > HEADER_LEN:
            inner_request = request[HEADER_LEN:]
        inner = visca.decode(payload, inner_request)
    return Decoded("visca-ip", name, fields, problems, bytes(data), inner)


def describe(data: bytes | str) -> str:
    if isinstance(data, str):
        return repr(data)
    return decode(data).describe()
