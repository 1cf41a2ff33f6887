"""Scapy layer for VISCA (AVer VISCA spec rev 3.4, §3.1 and §3.2.1).

``VISCA`` is the address byte; the message after it is dissected into the
table row it matches (one generated Packet class per row of
:mod:`dissectors.visca_table`), with parameters reassembled from the spec's
nibble notation.  Replies pair with requests through ``answers()`` and
``hashret()``, so ``sr1()`` works.  Malformed input never raises: it dissects
as ``VISCA_Unknown`` and :func:`decode` reports ``valid=False`` with problems.
"""

from __future__ import annotations

from typing import Any

from scapy.fields import BitField, Field, XByteField, XStrFixedLenField, XStrLenField
from scapy.packet import Packet, Raw

from dissectors import visca_table as table
from dissectors.decoded import Decoded
from dissectors.notation import HEX, Notation

# ---------------------------------------------------------------- fields


class NibblesField(Field[int, bytes]):
    """A parameter written in spec notation over one or more bytes (``0Y 0Y 0Y 0Y``)."""

    __slots__ = ("letter", "notation", "size")

    def __init__(self, name: str, letter: str, tokens: tuple[str, ...]) -> None:
        self.letter = letter
        self.notation = Notation("00 " + " ".join(tokens))
        self.size = len(tokens)
        Field.__init__(self, name, 0, fmt=f"{self.size}s")

    def addfield(self, pkt: Packet, s: bytes, val: int | None) -> bytes:
        return s + self.notation.build({self.letter: val or 0})

    def getfield(self, pkt: Packet, s: bytes) -> tuple[bytes, int]:
        values = self.notation.match(s[: self.size]) or {}
        return s[self.size :], values.get(self.letter, 0)

    def i2repr(self, pkt: Packet | None, x: int) -> str:
        return f"0x{x:X}" if x is not None else "None"


def _fields_for(row: table.Row) -> list[Field[Any, Any]]:
    """Scapy fields for a row's message bytes after the address."""
    fields: list[Field[Any, Any]] = []
    body = row.packet.body[:-1]  # terminator is its own field
    i = 0
    run = 0
    while i < len(body):
        token = body[i]
        letters = [ch for ch in token if ch not in HEX]
        if not letters:
            j = i
            while j < len(body) and all(ch in HEX for ch in body[j]):
                j += 1
            default = bytes(int(t, 16) for t in body[i:j])
            fields.append(
                XStrFixedLenField("code" if run == 0 else f"code{run + 1}", default, length=j - i)
            )
            run += 1
            i = j
            continue
        letter = letters[0]
        j = i
        while j < len(body) and [ch for ch in body[j] if ch not in HEX] == [letter] * len(letters):
            j += 1
        name = row.params.get(letter, letter.lower())
        fields.append(NibblesField(name, letter, body[i:j]))
        i = j
    fields.append(XByteField("terminator", table.TERMINATOR))
    return fields


# ---------------------------------------------------------------- layers


class VISCA(Packet):
    """§3.1 address byte: ``8x`` to camera x, ``88`` broadcast, ``y0`` reply from y-8."""

    name = "VISCA"
    fields_desc = [
        BitField("header", 1, 1),
        BitField("sender", 0, 3),
        BitField("broadcast", 0, 1),
        BitField("receiver", 1, 3),
    ]

    @property
    def is_reply(self) -> bool:
        return self.sender != 0

    def guess_payload_class(self, payload: bytes) -> type[Packet]:
        row = match_row(bytes([self.build_address()]) + payload)
        if row is not None:
            return MESSAGE_CLASSES[row.name]
        if self.is_reply and _is_inquiry_answer(bytes([self.build_address()]) + payload):
            return VISCA_InquiryReply
        return VISCA_Unknown

    def build_address(self) -> int:
        return (self.header << 7) | (self.sender << 4) | (self.broadcast << 3) | self.receiver

    def hashret(self) -> bytes:
        camera = self.sender if self.is_reply else self.receiver
        return bytes([0 if self.broadcast else camera])

    def answers(self, other: Packet) -> int:
        if not isinstance(other, VISCA) or other.is_reply:
            return 0
        if self.broadcast and other.broadcast:
            return 1
        return int(self.is_reply and self.sender == other.receiver)


class ViscaMessage(Packet):
    """Base of the per-row message classes."""

    row: table.Row

    def extract_padding(self, s: bytes) -> tuple[bytes, bytes]:
        return b"", s


class VISCA_InquiryReply(Packet):
    """``y0 50 ... FF``: an inquiry answer seen without its request (§3.2.1)."""

    name = "Inquiry reply"
    fields_desc = [
        XByteField("code", 0x50),
        XStrLenField("data", b"", length_from=lambda pkt: max(0, len(pkt.original or b"") - 2)),
        XByteField("terminator", table.TERMINATOR),
    ]


class VISCA_Unknown(Packet):
    """Bytes after the address that match no row of the table."""

    name = "VISCA unknown message"
    fields_desc: list[Field[Any, Any]] = []

    def guess_payload_class(self, payload: bytes) -> type[Packet]:
        return Raw


def _class_name(row: table.Row) -> str:
    safe = "".join(ch if ch.isalnum() else "_" for ch in row.name).strip("_")
    return f"VISCA_{safe}"


MESSAGE_CLASSES: dict[str, type[ViscaMessage]] = {
    row.name: type(
        _class_name(row),
        (ViscaMessage,),
        {"name": row.name, "row": row, "fields_desc": _fields_for(row), "__doc__": row.ref},
    )
    for row in table.COMMANDS + table.REPLIES
}


# ---------------------------------------------------------------- matching


def _address_kind(address: int) -> str:
    if address == table.BROADCAST:
        return "broadcast"
    if address & 0x80 == 0:
        return "invalid"
    if address & 0xF0 == 0x80:  # §3.1: receiver addresses 1..7
        return "command" if 1 <= address & 0x0F <= 7 else "invalid"
    return "reply" if address & 0x0F == 0 else "invalid"


def _address_fits(token: str, address: int) -> bool:
    if token == "8x":
        return _address_kind(address) == "command"
    if token == "y0":
        return _address_kind(address) == "reply"
    return address == int(token, 16)


def _is_inquiry_answer(data: bytes) -> bool:
    return (
        len(data) > 3
        and _address_kind(data[0]) == "reply"
        and data[1] == 0x50
        and data[-1] == table.TERMINATOR
    )


def _index() -> dict[tuple[bool, int, int], list[table.Row]]:
    """Rows by (is a reply, body length, first body byte), so matching tries few."""
    index: dict[tuple[bool, int, int], list[table.Row]] = {}
    for row in table.COMMANDS + table.REPLIES:
        first = row.packet.body[0]
        firsts = [int(first, 16)] if all(ch in HEX for ch in first) else range(256)
        for byte in firsts:
            key = (row.kind == "reply", len(row.packet.body), byte)
            index.setdefault(key, []).append(row)
    return index


_CANDIDATES = _index()


def match_row(
    data: bytes, request: table.Row | None = None, model: str | None = None
) -> table.Row | None:
    """The table row *data* (a whole message) is an instance of.

    A ``y0 50 ...`` inquiry answer only has a name in the context of its
    request, so pass *request* to get it.  Rows that share bytes (Backlight
    and WDR) resolve to the one *model* supports.
    """
    if len(data) < 2:
        return None
    address, body = data[0], data[1:]
    if request is not None and request.reply is not None:
        reply = request.reply
        if _address_fits(reply.address, address) and reply.match(body) is not None:
            return request
    kind = _address_kind(address)
    found = [
        row
        for row in _CANDIDATES.get((kind == "reply", len(body), body[0]), ())
        if _address_fits(row.packet.address, address) and row.packet.match(body) is not None
    ]
    if not found and kind == "broadcast":  # a broadcast answer such as Address_Set's
        found = [r for r in table.COMMANDS if r.kind == "broadcast" and r.reply is not None
                 and r.reply.match(body) is not None]  # fmt: skip
    for row in found:
        if row.supported(model):
            return row
    return found[0] if found else None


def address_of(camera: int) -> int:
    """Request address byte for camera 1..7 (§3.1)."""
    return 0x80 | camera


def reply_address(camera: int) -> int:
    """Reply address byte of camera 1..7 (§3.1: address 1 -> 0x90)."""
    return (camera + 8) << 4


def build(name: str, camera: int = 1, **params: int) -> bytes:
    """Wire bytes of table row *name* for *camera*, parameters by field name."""
    row = table.BY_NAME[name]
    letters = {v: k for k, v in row.params.items()}
    values = {letters.get(key, key): value for key, value in params.items()}
    if row.packet.address == "8x":
        address = address_of(camera)
    elif row.packet.address == "y0":
        address = reply_address(camera)
    else:
        address = int(row.packet.address, 16)
    return bytes([address]) + row.packet.build(values)


def build_reply(request: table.Row, camera: int = 1, **params: int) -> bytes:
    """Wire bytes of *request*'s specific reply (e.g. the Version_Inq answer)."""
    assert request.reply is not None, request.name
    letters = {v: k for k, v in request.params.items()}
    values = {letters.get(key, key): value for key, value in params.items()}
    address = (
        reply_address(camera) if request.reply.address == "y0" else int(request.reply.address, 16)
    )
    return bytes([address]) + request.reply.build(values)


# ---------------------------------------------------------------- decoding


def structural_problems(data: bytes) -> list[str]:
    """§3.1 framing problems, independent of the table."""
    problems = []
    if len(data) < table.MIN_LEN:
        problems.append(f"{len(data)} bytes: shorter than the minimum of {table.MIN_LEN} (§3.1)")
    if len(data) > table.MAX_LEN:
        problems.append(f"{len(data)} bytes: longer than the maximum of {table.MAX_LEN} (§3.1)")
    if not data or data[-1] != table.TERMINATOR:
        problems.append("not terminated with FF (§3.1)")
    elif table.TERMINATOR in data[:-1]:
        problems.append("FF inside the message before the terminator (§3.1)")
    if data and _address_kind(data[0]) == "invalid":
        problems.append(f"address byte {data[0]:02X} is neither 8x, 88 nor y0 (§3.1)")
    return problems


def decode(data: bytes, request: bytes | None = None, model: str | None = None) -> Decoded:
    """Name, fields and problems of one VISCA message; never raises.

    *request* names inquiry answers; *model* picks between rows that share bytes.
    """
    problems = structural_problems(data)
    request_row = match_row(request, model=model) if request else None
    if request_row is not None and request_row.packet.match(request[1:]) is None:
        request_row = None  # context only from a request, not from another answer
    row = match_row(data, request_row, model)
    fields: dict[str, Any] = {}
    if data:
        kind = _address_kind(data[0])
        if kind == "command":
            fields["camera"] = data[0] & 0x07
        elif kind == "reply":
            fields["camera"] = (data[0] >> 4) - 8
    if row is None and _is_inquiry_answer(data) and not problems:
        fields["data"] = bytes(data[2:-1])
        return Decoded("visca", "Inquiry reply", fields, problems, bytes(data))
    if row is None:
        if not problems:
            problems.append("matches no row of the VISCA table (§3.2.1)")
        return Decoded("visca", "unknown", fields, problems, bytes(data))
    as_reply = row.reply.match(data[1:]) if row.reply is not None else None
    as_request = row.packet.match(data[1:])
    # Bytes that read both ways (a broadcast echo) are the answer in the context
    # of their request, unless that reading breaks the row's allowed values.
    is_reply = as_reply is not None and (
        as_request is None
        or (row is request_row and all(row.in_range(k, v) for k, v in as_reply.items()))
    )
    notation = row.reply if is_reply and row.reply is not None else row.packet
    name = f"{row.name} reply" if is_reply else row.name
    values = notation.match(data[1:]) or {}
    for letter, value in values.items():
        field_name = row.params.get(letter, letter.lower())
        fields[field_name] = value
        if not row.in_range(letter, value):
            problems.append(
                f"{field_name}=0x{value:02X} outside {row.describe_allowed(letter)} ({row.ref})"
            )
    aliases = [other for other, same in table.SAME_BYTES.items() if same == row.name]
    aliases += [same for other, same in table.SAME_BYTES.items() if other == row.name]
    return Decoded("visca", name, fields, problems, bytes(data), aliases=aliases)


def describe(data: bytes | str) -> str:
    """One-line decode for transcripts."""
    if isinstance(data, str):
        return repr(data)
    return decode(data).describe()
