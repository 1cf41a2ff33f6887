"""WebSocket (RFC 6455) with permessage-deflate (RFC 7692): Scapy layer and stream parser.

WebSocket runs on a TCP connection after an HTTP/1.1 upgrade, so nothing is bound
to a port; dissection is driven by the byte stream:

* :class:`WebSocket` -- the Scapy layer of one frame (§5.2): ``WebSocket(data)``
  dissects one frame, back-to-back frames become a chain of layers.  The payload
  length (7, 7+16 or 7+64 bits) is computed in ``post_build``; the payload is
  masked on build and unmasked on dissect (§5.3).
* :class:`FrameParser` -- feed bytes of one direction, get complete :class:`Frame`
  objects, each with the :class:`Problem` list of the protocol errors it shows.
* :class:`MessageAssembler` -- frames to messages: fragmentation (§5.4) with
  interleaved control frames, close payloads (§5.5.1, §7.4) and UTF-8 of text
  messages (§8.1), decompression by :class:`Inflater` (RFC 7692 §7.2.2).
* the opening handshake (§4): :func:`read_head`, :func:`parse_request`,
  :func:`parse_response`, :func:`accept_key`, :func:`parse_extensions`,
  :func:`check_handshake` and :func:`negotiated_deflate`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scapy.fields import (
    BitEnumField,
    BitField,
    ConditionalField,
    LongField,
    ShortField,
    StrFixedLenField,
    StrLenField,
)
from scapy.packet import Packet, Raw

RFC = "RFC 6455"
DEFLATE_RFC = "RFC 7692"

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
#: §5.2 opcodes; 0x3-0x7 and 0xB-0xF are reserved
OPCODES = {
    CONTINUATION: "continuation",
    TEXT: "text",
    BINARY: "binary",
    CLOSE: "close",
    PING: "ping",
    PONG: "pong",
}
CONTROL = frozenset({CLOSE, PING, PONG})
#: §5.5: every control frame carries at most 125 bytes
MAX_CONTROL_PAYLOAD = 125
RSV1, RSV2, RSV3 = 0x4, 0x2, 0x1

#: §7.4.1 status codes plus the ones IANA registered later (1012-1014)
CLOSE_CODES = {
    1000: "Normal Closure",
    1001: "Going Away",
    1002: "Protocol Error",
    1003: "Unsupported Data",
    1007: "Invalid Payload Data",
    1008: "Policy Violation",
    1009: "Message Too Big",
    1010: "Mandatory Extension",
    1011: "Internal Error",
    1012: "Service Restart",
    1013: "Try Again Later",
    1014: "Bad Gateway",
}
#: §7.4.1: reserved, or only for reporting locally (never in a Close frame)
NOT_ON_WIRE = {1004: "reserved", 1005: "No Status Received", 1006: "Abnormal Closure", 1015: "TLS"}

#: §1.3: appended to Sec-WebSocket-Key before hashing into Sec-WebSocket-Accept
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#: RFC 7692 §7.2.1: removed from every compressed message, appended before inflating
DEFLATE_TAIL = b"\x00\x00\xff\xff"
EXTENSION = "permessage-deflate"

#: a frame or message larger than this is skipped, not buffered (memory stays flat)
MAX_PAYLOAD = 16 << 20
#: frames after a resynchronisation that must show no problem, else it was a chance match
PROBATION = 3
#: after lost bytes, how far back an incomplete candidate frame is kept open
RESYNC_WINDOW = 64 << 10
#: an HTTP head larger than this is not a WebSocket handshake
MAX_HEAD = 16 << 10


# ---------------------------------------------------------------- basics


@dataclass(frozen=True)
class Problem:
    """One protocol error: a stable check id, the spec section and one line."""

    check: str
    section: str
    summary: str


def unmask(data: bytes, key: bytes) -> bytes:
    """XOR *data* with the 4-byte masking *key* (§5.3); masking is the same operation."""
    if not data:
        return b""
    n = len(data)
    stream = (bytes(key) * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


def length_code(length: int) -> int:
    """The 7-bit length field for a payload of *length* bytes (§5.2)."""
    return length if length < 126 else 126 if length < 0x10000 else 127


def encode_frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv: int = 0,
    key: bytes | None = None,
    length_bytes: int | None = None,
) -> bytes:
    """One frame's bytes (§5.2); *key* masks it.  *length_bytes* (0, 2 or 8) forces a
    length encoding, also an over-long one (for building faulty input)."""
    first = (0x80 if fin else 0) | (rsv & 7) << 4 | (opcode & 0xF)
    mask_bit = 0x80 if key is not None else 0
    n = len(payload)
    if length_bytes is None:
        length_bytes = {126: 2, 127: 8}.get(length_code(n), 0)
    if length_bytes == 0:
        head = bytes([first, mask_bit | n])
    elif length_bytes == 2:
        head = bytes([first, mask_bit | 126]) + struct.pack(">H", n)
    else:
        head = bytes([first, mask_bit | 127]) + struct.pack(">Q", n)
    if key is None:
        return head + payload
    return head + key + unmask(payload, key)


def close_payload(code: int | None = None, reason: str = "") -> bytes:
    """A Close frame's body (§5.5.1): the status code and a UTF-8 reason."""
    return b"" if code is None else struct.pack(">H", code) + reason.encode()


def parse_close(payload: bytes) -> tuple[int | None, str]:
    """(status code or None, reason) of a Close payload; bad UTF-8 is replaced."""
    if len(payload) < 2:
        return None, ""
    return struct.unpack(">H", payload[:2])[0], payload[2:].decode("utf-8", "replace")


def close_code_ok(code: int) -> bool:
    """May *code* appear in a Close frame (§7.4.1, §7.4.2)?  3000-4999 are for
    libraries and applications."""
    return code in CLOSE_CODES or 3000 <= code <= 4999


# ---------------------------------------------------------------- Scapy layer


def _code(pkt: Packet) -> int:
    if pkt.length is not None:
        return int(pkt.length)
    return length_code(len(pkt.data or b""))


def _declared(pkt: Packet) -> int:
    code = _code(pkt)
    if code == 126:
        return int(pkt.length16 or 0)
    if code == 127:
        return int(pkt.length64 or 0)
    return code


class _PayloadField(StrLenField):
    """The application data: unmasked on dissect (§5.3); masked in ``post_build``."""

    def getfield(self, pkt: Packet, s: bytes) -> tuple[bytes, bytes]:
        n = _declared(pkt)
        data, rest = s[:n], s[n:]
        if pkt.mask and pkt.masking_key:
            data = unmask(data, pkt.masking_key)
        return rest, data


class WebSocket(Packet):
    """One WebSocket frame (RFC 6455 §5.2).

    ``length``/``length16``/``length64`` left None are computed from the data;
    ``masking_key`` left None with ``mask=1`` is random.  :meth:`problems` lists
    what a dissected frame gets wrong on its own.
    """

    name = "WebSocket"
    fields_desc = [
        BitField("fin", 1, 1),
        BitField("rsv1", 0, 1),
        BitField("rsv2", 0, 1),
        BitField("rsv3", 0, 1),
        BitEnumField("opcode", TEXT, 4, OPCODES),
        BitField("mask", 0, 1),
        BitField("length", None, 7),
        ConditionalField(ShortField("length16", None), lambda p: _code(p) == 126),
        ConditionalField(LongField("length64", None), lambda p: _code(p) == 127),
        ConditionalField(StrFixedLenField("masking_key", None, 4), lambda p: p.mask == 1),
        _PayloadField("data", b"", length_from=_declared),
    ]

    def post_build(self, pkt: bytes, pay: bytes) -> bytes:
        data = bytes(self.data or b"")
        head = bytearray(pkt[: len(pkt) - len(data)])
        if self.length is None:
            head[1] = (head[1] & 0x80) | length_code(len(data))
        code = head[1] & 0x7F
        if code == 126 and self.length16 is None:
            head[2:4] = struct.pack(">H", len(data))
        elif code == 127 and self.length64 is None:
            head[2:10] = struct.pack(">Q", len(data))
        if self.mask:
            key = bytes(self.masking_key) if self.masking_key is not None else os.urandom(4)
            head[-4:] = key
            data = unmask(data, key)
        return bytes(head) + data + pay

    def guess_payload_class(self, payload: bytes) -> type[Packet]:
        """Bytes after the frame are the next frame (back-to-back frames in a segment)."""
        return WebSocket if len(payload) >= 2 else Raw

    def mysummary(self) -> str:
        opcode = OPCODES.get(self.opcode, f"reserved {self.opcode:#x}")
        fin = "" if self.fin else " (fragment)"
        return f"WebSocket {opcode}{fin} {len(self.data or b'')} bytes"

    def problems(
        self, *, from_client: bool | None = None, rsv1_allowed: bool = False
    ) -> list[Problem]:
        """Protocol errors of this frame alone (§5.1, §5.2, §5.5); the declared
        length is verified against the bytes that were there."""
        found = header_problems(
            fin=bool(self.fin),
            rsv=(self.rsv1 << 2) | (self.rsv2 << 1) | self.rsv3,
            opcode=int(self.opcode),
            masked=bool(self.mask),
            code=_code(self),
            length=_declared(self),
            from_client=from_client,
            rsv1_allowed=rsv1_allowed,
        )
        if len(self.data or b"") < _declared(self):
            found.append(
                Problem(
                    "websocket.truncated",
                    f"{RFC} §5.2",
                    f"payload length {_declared(self)} but {len(self.data or b'')} bytes follow",
                )
            )
        return found


# ---------------------------------------------------------------- frames


@dataclass(frozen=True)
class Frame:
    """One frame of a stream; *payload* is unmasked.  *start* is the stream offset
    of its first byte; *skipped* is set when the payload was too large to keep."""

    fin: bool
    rsv: int
    opcode: int
    masked: bool
    key: bytes | None
    payload: bytes
    length: int
    header_length: int
    start: int = 0
    problems: tuple[Problem, ...] = ()
    skipped: bool = False
    header: bytes = b""  # the header bytes as sent

    @property
    def end(self) -> int:
        return self.start + self.header_length + self.length

    @property
    def rsv1(self) -> bool:
        return bool(self.rsv & RSV1)

    @property
    def control(self) -> bool:
        return self.opcode in CONTROL

    def encode(self) -> bytes:
        """The frame's bytes again (its key, minimal length encoding)."""
        return encode_frame(self.opcode, self.payload, fin=self.fin, rsv=self.rsv, key=self.key)


def header_problems(
    *,
    fin: bool,
    rsv: int,
    opcode: int,
    masked: bool,
    code: int,
    length: int,
    from_client: bool | None,
    rsv1_allowed: bool = False,
) -> list[Problem]:
    """What a frame header gets wrong (§5.1, §5.2, §5.5; RFC 7692 §6.1 for RSV1)."""
    found = []
    if opcode not in OPCODES:
        found.append(
            Problem("websocket.reserved-opcode", f"{RFC} §5.2", f"reserved opcode {opcode:#x}")
        )
    allowed = RSV1 if rsv1_allowed and opcode in (TEXT, BINARY) else 0
    if rsv & ~allowed:
        bits = "/".join(n for n, b in (("RSV1", RSV1), ("RSV2", RSV2), ("RSV3", RSV3)) if rsv & b)
        if rsv1_allowed and rsv & RSV1 and opcode not in (TEXT, BINARY):
            section, why = f"{DEFLATE_RFC} §6.1", "only the first frame of a data message"
            found.append(
                Problem(
                    "websocket.rsv-bits", section, f"RSV1 set on a {_name(opcode)} frame ({why})"
                )
            )
        else:
            found.append(
                Problem(
                    "websocket.rsv-bits",
                    f"{RFC} §5.2",
                    f"{bits} set without a negotiated extension that defines it",
                )
            )
    if opcode in CONTROL:
        if length > MAX_CONTROL_PAYLOAD:
            found.append(
                Problem(
                    "websocket.control-too-long",
                    f"{RFC} §5.5",
                    f"{_name(opcode)} frame carries {length} bytes (at most 125)",
                )
            )
        if not fin:
            found.append(
                Problem(
                    "websocket.control-fragmented",
                    f"{RFC} §5.5",
                    f"{_name(opcode)} frame without FIN (control frames are never fragmented)",
                )
            )
    if from_client is True and not masked:
        found.append(
            Problem(
                "websocket.unmasked-client-frame",
                f"{RFC} §5.1",
                f"client sent an unmasked {_name(opcode)} frame",
            )
        )
    if from_client is False and masked:
        found.append(
            Problem(
                "websocket.masked-server-frame",
                f"{RFC} §5.1",
                f"server sent a masked {_name(opcode)} frame",
            )
        )
    if code == 127 and length >> 63:
        found.append(
            Problem(
                "websocket.length-encoding",
                f"{RFC} §5.2",
                "64-bit payload length with the most significant bit set",
            )
        )
    elif code != length_code(length):
        width = {126: "16", 127: "64"}[code]
        found.append(
            Problem(
                "websocket.length-encoding",
                f"{RFC} §5.2",
                f"payload length {length} sent in the {width}-bit form (not the minimal encoding)",
            )
        )
    return found


def _name(opcode: int) -> str:
    return OPCODES.get(opcode, f"reserved {opcode:#x}")


def _header(buf: bytes | bytearray, pos: int) -> tuple[int, int, int, bytes | None] | None:
    """(code, payload length, header length, key) of the header at *pos*; None if incomplete."""
    if len(buf) - pos < 2:
        return None
    b1 = buf[pos + 1]
    code, masked = b1 & 0x7F, b1 & 0x80
    size = 2 + (2 if code == 126 else 8 if code == 127 else 0) + (4 if masked else 0)
    if len(buf) - pos < size:
        return None
    if code == 126:
        length = struct.unpack_from(">H", buf, pos + 2)[0]
    elif code == 127:
        length = struct.unpack_from(">Q", buf, pos + 2)[0]
    else:
        length = code
    key = bytes(buf[pos + size - 4 : pos + size]) if masked else None
    return code, length, size, key


class FrameParser:
    """Frames of one direction of a stream, fed in arbitrary chunks.

    *from_client* decides the masking rule (§5.1: client frames masked, server
    frames not; None checks neither).  *rsv1_allowed* when permessage-deflate was
    negotiated.  A payload above *max_payload* is skipped (a frame with
    ``skipped`` set and a ``websocket.too-large`` problem).  After bytes were lost
    (:meth:`resync`) the parser looks for the next plausible message start.
    """

    def __init__(
        self,
        *,
        from_client: bool | None = None,
        rsv1_allowed: bool = False,
        max_payload: int = MAX_PAYLOAD,
        offset: int = 0,
    ) -> None:
        self.from_client = from_client
        self.rsv1_allowed = rsv1_allowed
        self.max_payload = max_payload
        self.offset = offset  # stream offset of the first buffered byte
        self._buf = bytearray()
        self._skip = 0
        self._lost = False
        self._scan = 0  # while lost: bytes before it cannot start a frame
        self._checked = 0  # while lost: offsets before it are decided
        self._open: list[int] = []  # while lost: offsets not decidable yet
        self._probation = 0  # frames after a resync that must be faultless

    @property
    def buffered(self) -> int:
        """Bytes held back as an incomplete frame."""
        return len(self._buf)

    @property
    def synchronised(self) -> bool:
        return not self._lost

    def resync(self, missing: int = 0) -> None:
        """*missing* bytes were lost: drop the partial frame, look for the next one."""
        self.offset += len(self._buf) + missing
        self._buf.clear()
        self._skip = 0
        self._lost = True
        self._open, self._checked = [], 0

    def feed(self, data: bytes) -> list[Frame]:
        """Complete frames in *data* (with what was buffered before)."""
        self._buf += data
        frames: list[Frame] = []
        pos = 0
        buf = self._buf
        while True:
            if self._skip:
                n = min(self._skip, len(buf) - pos)
                self._skip -= n
                pos += n
                if self._skip:
                    break
            if self._lost:
                found = self._find_start(pos)
                if found is None:
                    pos = self._scan  # nothing before it can start a frame
                    break
                pos, self._lost, self._probation = found, False, PROBATION
            frame = self._frame_at(pos)
            if frame is None:
                break
            if self._probation:
                self._probation -= 1
                if frame.problems:  # a chance match in the lost bytes: search on
                    self._lost, pos = True, pos + 1
                    continue
            frames.append(frame)
            pos += frame.header_length + (0 if frame.skipped else frame.length)
            if frame.skipped:
                self._skip = frame.length
        del buf[:pos]
        self.offset += pos
        if self._lost:
            self._checked = max(0, self._checked - pos)
            self._open = [o - pos for o in self._open if o >= pos]
        return frames

    def _frame_at(self, pos: int) -> Frame | None:
        head = _header(self._buf, pos)
        if head is None:
            return None
        code, length, size, key = head
        b0 = self._buf[pos]
        fin, rsv, opcode = bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0xF
        problems = header_problems(
            fin=fin,
            rsv=rsv,
            opcode=opcode,
            masked=key is not None,
            code=code,
            length=length,
            from_client=self.from_client,
            rsv1_allowed=self.rsv1_allowed,
        )
        start = self.offset + pos
        if length > self.max_payload:
            problems.append(
                Problem(
                    "websocket.too-large",
                    "analyser limit",
                    f"{length}-byte frame skipped (more than {self.max_payload} bytes)",
                )
            )
            return Frame(
                fin,
                rsv,
                opcode,
                key is not None,
                key,
                b"",
                length,
                size,
                start,
                tuple(problems),
                skipped=True,
                header=bytes(self._buf[pos : pos + size]),
            )
        if len(self._buf) - pos < size + length:
            return None
        payload = bytes(self._buf[pos + size : pos + size + length])
        if key is not None:
            payload = unmask(payload, key)
        return Frame(
            fin,
            rsv,
            opcode,
            key is not None,
            key,
            payload,
            length,
            size,
            start,
            tuple(problems),
            header=bytes(self._buf[pos : pos + size]),
        )

    def _find_start(self, pos: int) -> int | None:
        """The first offset from *pos* where a plausible message-starting frame begins.

        Offsets whose frame is not complete yet stay open (up to RESYNC_WINDOW bytes
        back) without holding up a later, complete and plausible one.  While nothing
        is found, :attr:`_scan` is the first offset still worth keeping.
        """
        buf = self._buf
        still_open = []
        for i in [
            *(o for o in self._open if o >= pos),
            *range(max(pos, self._checked), len(buf) - 1),
        ]:
            verdict = self._candidate(i)
            if verdict:
                self._open, self._checked = [], 0
                return i
            if verdict is None and len(buf) - i <= RESYNC_WINDOW:
                still_open.append(i)
        self._checked = max(pos, len(buf) - 1)
        self._open = still_open
        self._scan = min([*still_open, self._checked])
        return None

    def _candidate(self, i: int) -> bool | None:
        """Is a message-starting frame at *i* plausible (None: not decidable yet)?"""
        buf = self._buf
        b0 = buf[i]
        opcode, rsv = b0 & 0xF, (b0 >> 4) & 7
        if opcode not in (TEXT, BINARY, CLOSE, PING, PONG):
            return False
        if not self._header_ok(i):
            return False
        head = _header(buf, i)
        if head is None:
            return None
        _, length, size, key = head
        end = i + size + length
        if end > len(buf):
            return None
        payload = unmask(bytes(buf[i + size : end]), key) if key else bytes(buf[i + size : end])
        strong = False
        if opcode == TEXT and not rsv:
            try:
                text = payload.decode("utf-8")
            except UnicodeDecodeError:
                return False
            if text.lstrip()[:1] not in ("[", "{"):
                return False
            strong = True  # JSON text is good evidence on its own
        if opcode == CLOSE and payload:
            code, _ = parse_close(payload)
            if code is None or not close_code_ok(code):
                return False
        # the frames after it must look like frames too; without JSON to go by, they
        # must end exactly where the bytes so far end
        while end < len(buf):
            if len(buf) - end < 2:
                return strong or None
            if not self._header_ok(end):
                return False
            head = _header(buf, end)
            if head is None:
                return strong or None
            end += head[2] + head[1]
        return True if end == len(buf) else (strong or None)

    def _header_ok(self, i: int) -> bool:
        """A header at *i* (at least its first two bytes) that a sender may send."""
        buf = self._buf
        b0, b1 = buf[i], buf[i + 1]
        opcode, rsv = b0 & 0xF, (b0 >> 4) & 7
        if opcode not in OPCODES or rsv & ~RSV1:
            return False
        if rsv and (not self.rsv1_allowed or opcode not in (TEXT, BINARY)):
            return False
        if self.from_client is not None and bool(b1 & 0x80) != self.from_client:
            return False
        code = b1 & 0x7F
        if opcode in CONTROL and (code > MAX_CONTROL_PAYLOAD or not b0 & 0x80):
            return False
        head = _header(buf, i)
        if head is None:
            return True
        _, length, _, _ = head
        return code == length_code(length) and length <= self.max_payload


# ---------------------------------------------------------------- permessage-deflate


class DeflateError(ValueError):
    """A compressed message that does not inflate (RFC 7692 §7.2.2)."""


class Inflater:
    """Decompresses the messages of one direction (RFC 7692 §7.2.2).

    With context takeover the LZ77 window carries over between messages; after
    :meth:`lose` (bytes missing from the capture) it is gone and :attr:`lost` is
    set, after a message that did not inflate :attr:`broken` is: either way later
    messages cannot be read.
    """

    def __init__(
        self,
        window_bits: int = 15,
        *,
        no_context_takeover: bool = False,
        max_size: int = MAX_PAYLOAD,
    ) -> None:
        # zlib refuses an 8-bit window for raw deflate; 9 reads the same streams
        self.window_bits = max(9, window_bits)
        self.no_context_takeover = no_context_takeover
        self.max_size = max_size
        self.lost = False
        self.broken = False
        self._d: Any = None

    def lose(self) -> None:
        """Messages were lost: a carried-over window cannot be rebuilt."""
        self._d = None
        self.lost = not self.no_context_takeover

    def inflate(self, data: bytes) -> bytes:
        if self.lost or self.broken:
            why = "bytes missing from the stream" if self.lost else "an earlier message"
            raise DeflateError(f"the compression context went with {why}")
        if self._d is None or self.no_context_takeover or self._d.eof:
            self._d = zlib.decompressobj(-self.window_bits)
        try:
            out = self._d.decompress(data + DEFLATE_TAIL, self.max_size)
        except zlib.error as exc:
            self._d = None
            self.broken = not self.no_context_takeover
            raise DeflateError(str(exc)) from None
        if self._d.unconsumed_tail:
            self._d = None
            self.broken = not self.no_context_takeover
            raise DeflateError(f"inflates to more than {self.max_size} bytes")
        return out


class Deflater:
    """Compresses messages the way RFC 7692 §7.2.1 sends them (sync flush, tail removed)."""

    def __init__(
        self, window_bits: int = 15, *, no_context_takeover: bool = False, level: int = 6
    ) -> None:
        self.window_bits = max(9, window_bits)
        self.no_context_takeover = no_context_takeover
        self.level = level
        self._c: Any = None

    def deflate(self, data: bytes) -> bytes:
        if self._c is None or self.no_context_takeover:
            self._c = zlib.compressobj(self.level, zlib.DEFLATED, -self.window_bits)
        out = self._c.compress(data) + self._c.flush(zlib.Z_SYNC_FLUSH)
        return out[: -len(DEFLATE_TAIL)] if out.endswith(DEFLATE_TAIL) else out


@dataclass(frozen=True)
class DeflateParams:
    """The negotiated permessage-deflate parameters (RFC 7692 §7.1)."""

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int = 15
    client_max_window_bits: int = 15

    @classmethod
    def from_params(cls, params: Mapping[str, str | None]) -> DeflateParams:
        """From a server's accepted extension; raises ValueError for what §7.1 forbids."""
        known = {
            "server_no_context_takeover",
            "client_no_context_takeover",
            "server_max_window_bits",
            "client_max_window_bits",
        }
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(f"unknown parameter {unknown[0]!r} (§7.1)")
        bits = {}
        for name in ("server_max_window_bits", "client_max_window_bits"):
            if name not in params:
                continue
            value = (params[name] or "").strip('"')
            if not value.isdigit() or not 8 <= int(value) <= 15:
                raise ValueError(f"{name}={params[name]!r} is not 8..15 (§7.1.2)")
            bits[name] = int(value)
        for name in ("server_no_context_takeover", "client_no_context_takeover"):
            if params.get(name) is not None:
                raise ValueError(f"{name} takes no value (§7.1.1)")
        return cls(
            server_no_context_takeover="server_no_context_takeover" in params,
            client_no_context_takeover="client_no_context_takeover" in params,
            server_max_window_bits=bits.get("server_max_window_bits", 15),
            client_max_window_bits=bits.get("client_max_window_bits", 15),
        )

    def inflater(self, *, from_client: bool) -> Inflater:
        if from_client:
            return Inflater(
                self.client_max_window_bits, no_context_takeover=self.client_no_context_takeover
            )
        return Inflater(
            self.server_max_window_bits, no_context_takeover=self.server_no_context_takeover
        )

    def deflater(self, *, from_client: bool) -> Deflater:
        if from_client:
            return Deflater(
                self.client_max_window_bits, no_context_takeover=self.client_no_context_takeover
            )
        return Deflater(
            self.server_max_window_bits, no_context_takeover=self.server_no_context_takeover
        )

    def describe(self) -> str:
        parts = [EXTENSION]
        for name in ("server_no_context_takeover", "client_no_context_takeover"):
            if getattr(self, name):
                parts.append(name)
        for name in ("server_max_window_bits", "client_max_window_bits"):
            if getattr(self, name) != 15:
                parts.append(f"{name}={getattr(self, name)}")
        return "; ".join(parts)


# ---------------------------------------------------------------- messages


@dataclass(frozen=True)
class Message:
    """A complete message (data, after decompression) or a control frame's payload."""

    opcode: int
    data: bytes
    compressed: bool = False
    frames: int = 1
    start: int = 0
    end: int = 0

    @property
    def text(self) -> str | None:
        """The UTF-8 text of a text message, None if it is not text or not UTF-8."""
        if self.opcode != TEXT:
            return None
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError:
            return None


@dataclass
class _Partial:
    opcode: int
    compressed: bool
    start: int
    parts: list[bytes] = field(default_factory=list)
    size: int = 0
    frames: int = 0
    dropped: bool = False


class MessageAssembler:
    """Frames of one direction to messages (§5.4), control frames passed through at once.

    *inflater* when permessage-deflate was negotiated for this direction.
    """

    def __init__(self, inflater: Inflater | None = None, *, max_size: int = MAX_PAYLOAD) -> None:
        self.inflater = inflater
        self.max_size = max_size
        self._partial: _Partial | None = None

    @property
    def pending(self) -> bool:
        """A fragmented message is open."""
        return self._partial is not None

    def reset(self) -> None:
        """Bytes were lost: drop the open message (and a carried-over window)."""
        self._partial = None
        if self.inflater is not None:
            self.inflater.lose()

    def add(self, frame: Frame) -> tuple[Message | None, list[Problem]]:
        """The message *frame* completes (or its control message), and the problems."""
        if frame.opcode in CONTROL:
            if frame.skipped:
                return None, []
            msg = Message(frame.opcode, frame.payload, start=frame.start, end=frame.end)
            return msg, close_problems(frame.payload) if frame.opcode == CLOSE else []
        if frame.opcode not in (CONTINUATION, TEXT, BINARY):
            return None, []
        problems: list[Problem] = []
        if frame.opcode == CONTINUATION:
            if self._partial is None:
                problems.append(
                    Problem(
                        "websocket.fragmentation",
                        f"{RFC} §5.4",
                        "continuation frame without a message to continue",
                    )
                )
                return None, problems
        else:
            if self._partial is not None:
                problems.append(
                    Problem(
                        "websocket.fragmentation",
                        f"{RFC} §5.4",
                        f"new {_name(frame.opcode)} message before the fragmented "
                        f"{_name(self._partial.opcode)} message was finished",
                    )
                )
            self._partial = _Partial(frame.opcode, frame.rsv1, frame.start)
        partial = self._partial
        partial.frames += 1
        if frame.skipped or partial.size + len(frame.payload) > self.max_size:
            partial.dropped = True
        if not partial.dropped:
            partial.parts.append(frame.payload)
            partial.size += len(frame.payload)
        if not frame.fin:
            return None, problems
        self._partial = None
        if partial.dropped:
            problems.append(
                Problem(
                    "websocket.too-large",
                    "analyser limit",
                    f"message of more than {self.max_size} bytes skipped",
                )
            )
            return None, problems
        data = b"".join(partial.parts)
        if partial.compressed:
            inflater = self.inflater or Inflater(no_context_takeover=True)
            try:
                data = inflater.inflate(data)
            except DeflateError as exc:
                problems.append(
                    Problem(
                        "websocket.deflate",
                        f"{DEFLATE_RFC} §7.2.2",
                        f"compressed message does not inflate: {exc}",
                    )
                )
                return None, problems
        msg = Message(
            partial.opcode, data, partial.compressed, partial.frames, partial.start, frame.end
        )
        if partial.opcode == TEXT and msg.text is None:
            problems.append(_utf8_problem(data, "text message"))
        return msg, problems


def _utf8_problem(data: bytes, what: str) -> Problem:
    try:
        data.decode("utf-8")
        where = ""
    except UnicodeDecodeError as exc:
        where = f" ({exc.reason} at byte {exc.start})"
    return Problem("websocket.invalid-utf8", f"{RFC} §8.1", f"{what} is not UTF-8{where}")


def close_problems(payload: bytes) -> list[Problem]:
    """What a Close payload gets wrong (§5.5.1, §7.4)."""
    if not payload:
        return []
    if len(payload) == 1:
        return [
            Problem(
                "websocket.close-payload",
                f"{RFC} §5.5.1",
                "1-byte Close payload (a status code is 2 bytes)",
            )
        ]
    found = []
    code, _ = parse_close(payload)
    assert code is not None
    if not close_code_ok(code):
        why = NOT_ON_WIRE.get(code, "not a defined status code")
        found.append(
            Problem("websocket.close-code", f"{RFC} §7.4.1", f"Close status code {code} ({why})")
        )
    try:
        payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        found.append(_utf8_problem(payload[2:], "Close reason"))
    return found


# ---------------------------------------------------------------- opening handshake


@dataclass
class HttpHead:
    """An HTTP/1.1 request or response head: start line parts and headers in order."""

    start: tuple[str, str, str]
    headers: list[tuple[str, str]]

    def get(self, name: str) -> str | None:
        """The header's value; repeated headers joined with ", " (RFC 9110 §5.3)."""
        values = [v for n, v in self.headers if n.lower() == name.lower()]
        return ", ".join(values) if values else None

    def count(self, name: str) -> int:
        return sum(1 for n, _ in self.headers if n.lower() == name.lower())

    def tokens(self, name: str) -> list[str]:
        """The comma-separated items of a header, stripped, empty ones dropped."""
        value = self.get(name)
        return [t.strip() for t in value.split(",") if t.strip()] if value else []


@dataclass
class HttpRequest(HttpHead):
    @property
    def method(self) -> str:
        return self.start[0]

    @property
    def target(self) -> str:
        return self.start[1]

    @property
    def version(self) -> str:
        return self.start[2]


@dataclass
class HttpResponse(HttpHead):
    @property
    def version(self) -> str:
        return self.start[0]

    @property
    def status(self) -> int:
        return int(self.start[1])

    @property
    def reason(self) -> str:
        return self.start[2]


def read_head(buffer: bytes | bytearray, limit: int = MAX_HEAD) -> int | None:
    """Length of the HTTP head at the start of *buffer* (through the empty line), None
    while incomplete; ValueError when no head ends within *limit* bytes."""
    end = bytes(buffer[: limit + 4]).find(b"\r\n\r\n")
    if end >= 0:
        return end + 4
    if len(buffer) > limit:
        raise ValueError(f"no end of the HTTP head within {limit} bytes")
    return None


def _lines(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    text = head.decode("iso-8859-1")
    lines = text.split("\r\n")
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise ValueError("empty HTTP head")
    headers = []
    for number, line in enumerate(lines[1:], 2):
        if line[:1] in (" ", "\t") and headers:  # obsolete line folding
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            # the line itself is not quoted: it may be a credential
            raise ValueError(f"line {number} of the head is not a header field")
        headers.append((name, value.strip()))
    return lines[0], headers


def parse_request(head: bytes) -> HttpRequest:
    """An HTTP request head (RFC 9112 §3); ValueError if it is not one."""
    first, headers = _lines(head)
    parts = first.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise ValueError(f"not an HTTP request line: {first[:60]!r}")
    return HttpRequest((parts[0], parts[1], parts[2]), headers)


def parse_response(head: bytes) -> HttpResponse:
    """An HTTP response head (RFC 9112 §4); ValueError if it is not one."""
    first, headers = _lines(head)
    version, _, rest = first.partition(" ")
    status, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/") or len(status) != 3 or not status.isdigit():
        raise ValueError(f"not an HTTP status line: {first[:60]!r}")
    return HttpResponse((version, status, reason), headers)


def accept_key(key: str) -> str:
    """The Sec-WebSocket-Accept that answers Sec-WebSocket-Key *key* (§4.2.2 item 5.4)."""
    digest = hashlib.sha1((key.strip() + GUID).encode("ascii", "replace")).digest()
    return base64.b64encode(digest).decode("ascii")


def parse_extensions(value: str | None) -> list[tuple[str, dict[str, str | None]]]:
    """``Sec-WebSocket-Extensions`` (§9.1): [(name, {param: value or None})...]."""
    out: list[tuple[str, dict[str, str | None]]] = []
    for item in (value or "").split(","):
        parts = [p.strip() for p in item.split(";")]
        if not parts[0]:
            continue
        params: dict[str, str | None] = {}
        for part in parts[1:]:
            if not part:
                continue
            name, sep, val = part.partition("=")
            params[name.strip().lower()] = val.strip().strip('"') if sep else None
        out.append((parts[0].lower(), params))
    return out


def _has_token(head: HttpHead, name: str, token: str) -> bool:
    return token.lower() in (t.lower() for t in head.tokens(name))


def check_handshake(request: HttpRequest, response: HttpResponse) -> list[Problem]:
    """What the opening handshake gets wrong (§4.1, §4.2.1, §4.2.2, §9.1; RFC 7692 §7.1)."""
    found: list[Problem] = []

    def problem(check: str, section: str, summary: str) -> None:
        found.append(Problem(f"websocket.{check}", f"{RFC} {section}", summary))

    if request.method != "GET" or request.version != "HTTP/1.1":
        what = f"{request.method} {request.version}"
        problem("handshake", "§4.1", f"request is {what}, not GET HTTP/1.1")
    if not _has_token(request, "Upgrade", "websocket"):
        problem("handshake", "§4.1", "request has no 'Upgrade: websocket'")
    if not _has_token(request, "Connection", "Upgrade"):
        problem("handshake", "§4.1", "request has no 'Connection: Upgrade'")
    key = request.get("Sec-WebSocket-Key")
    try:
        key_ok = key is not None and len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):
        key_ok = False
    if not key_ok:
        problem("handshake", "§4.1", "Sec-WebSocket-Key missing or not 16 base64-encoded bytes")
    if request.get("Sec-WebSocket-Version") != "13":
        version = request.get("Sec-WebSocket-Version")
        problem("handshake", "§4.1", f"Sec-WebSocket-Version {version!r}, not 13")
    if response.status != 101:
        problem(
            "http-status",
            "§4.2.2",
            f"server answered HTTP {response.status} {response.reason}".rstrip()
            + " instead of 101 Switching Protocols",
        )
        return found
    if not _has_token(response, "Upgrade", "websocket"):
        problem("handshake", "§4.2.2", "101 response has no 'Upgrade: websocket'")
    if not _has_token(response, "Connection", "Upgrade"):
        problem("handshake", "§4.2.2", "101 response has no 'Connection: Upgrade'")
    accept = response.get("Sec-WebSocket-Accept")
    if key is not None and accept != accept_key(key):
        problem(
            "accept",
            "§4.2.2",
            f"Sec-WebSocket-Accept {accept!r} does not answer the request's key",
        )
    offered = request.tokens("Sec-WebSocket-Protocol")
    chosen = response.tokens("Sec-WebSocket-Protocol")
    if len(chosen) > 1:
        names = ", ".join(chosen)
        problem("subprotocol", "§4.2.2", f"server chose {len(chosen)} subprotocols: {names}")
    for name in chosen:
        if name not in offered:
            problem(
                "subprotocol",
                "§4.1",
                f"server chose subprotocol {name!r}, which the client did not offer",
            )
    offered_ext = {name for name, _ in parse_extensions(request.get("Sec-WebSocket-Extensions"))}
    for name, params in parse_extensions(response.get("Sec-WebSocket-Extensions")):
        if name not in offered_ext:
            problem("extension", "§9.1", f"server accepted extension {name!r}, not offered")
        elif name == EXTENSION:
            try:
                DeflateParams.from_params(params)
            except ValueError as exc:
                found.append(Problem("websocket.extension", f"{DEFLATE_RFC} §7.1", str(exc)))
    return found


def negotiated_deflate(response: HttpResponse) -> DeflateParams | None:
    """The permessage-deflate parameters the server accepted, None without (or invalid)."""
    for name, params in parse_extensions(response.get("Sec-WebSocket-Extensions")):
        if name == EXTENSION:
            try:
                return DeflateParams.from_params(params)
            except ValueError:
                return None
    return None
