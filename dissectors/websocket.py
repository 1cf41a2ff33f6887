"""WebSocket framing (RFC 6455 §5, §7): Scapy layer, stream parser and message assembler.

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
  messages (§8.1), decompression (RFC 7692 §7.2.2).

permessage-deflate (RFC 7692) is in :mod:`dissectors.websocket_deflate`, the opening
handshake (§4) in :mod:`dissectors.http_upgrade`; both import from here.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from dissectors.websocket_deflate import Inflater

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

#: a frame or message larger than this is skipped, not buffered (memory stays flat)
MAX_PAYLOAD = 16 << 20
#: frames after a resynchronisation that must show no problem, else it was a chance match
PROBATION = 3
#: after lost bytes, how far back an incomplete candidate frame is kept open
RESYNC_WINDOW = 64 << 10


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
        fin = "" if self.fin else " (fragment)"
        return f"WebSocket {_name(self.opcode)}{fin} {len(self.data or b'')} bytes"

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
        skipped = length > self.max_payload
        if skipped:
            problems.append(
                Problem(
                    "websocket.too-large",
                    "analyser limit",
                    f"{length}-byte frame skipped (more than {self.max_payload} bytes)",
                )
            )
            payload = b""
        elif len(self._buf) - pos < size + length:
            return None
        else:
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
            self.offset + pos,
            tuple(problems),
            skipped=skipped,
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
            # imported here: websocket_deflate imports this module
            from dissectors import websocket_deflate as deflate

            inflater = self.inflater or deflate.Inflater(no_context_takeover=True)
            try:
                data = inflater.inflate(data)
            except deflate.DeflateError as exc:
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
        if partial.opcode == TEXT and (bad := _utf8_problem(data, "text message")):
            problems.append(bad)
        return msg, problems


def _utf8_problem(data: bytes, what: str) -> Problem | None:
    """The problem when *data* is not UTF-8 (§8.1), None when it is."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = f"{exc.reason} at byte {exc.start}"
        return Problem("websocket.invalid-utf8", f"{RFC} §8.1", f"{what} is not UTF-8 ({where})")
    return None


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
    if bad := _utf8_problem(payload[2:], "Close reason"):
        found.append(bad)
    return found


# ---------------------------------------------------------------- moved names

#: names that moved to the handshake and deflate modules, still readable from here
