"""VISCA and VISCA-over-IP fuzz targets (AVer VISCA spec rev 3.4,
``aver-visca-pelco-spec.txt``: §3.1 message format, §3.2.1 command table,
§3.2.4 VISCA over IP; replies and errors of the Sony VISCA core the table
assumes, as the suites in ``suites/visca`` and ``suites/visca_ip`` demand them).

Cases come from :data:`dissectors.visca_table.COMMANDS`, never from a list of
commands written here.  The families (the first byte of a case picks one):

* ``valid``: a row the model claims, parameters from the row's allowed values;
* ``boundary``: the same with every parameter at an end of its allowed values
  (or of its width, for free positions);
* ``unsupported``: a row the model does not claim (its "*Support" note);
* ``out-of-range``: one restricted parameter outside the row's allowed values;
* ``unknown``: a claimed row's message mutated (a byte changed, inserted or
  dropped, or a random body), judged by what the table makes of it;
* ``address``: a claimed row sent to a camera not on the chain, to camera 0,
  to 89..8F, as a broadcast or with a reply address;
* ``socket``: Cancel ``8x 2z FF`` for every z;
* ``broken:terminator`` / ``broken:ff-inside`` / ``broken:truncated`` /
  ``broken:over-long``: §3.1 framing broken on purpose;
* ``random``: random bytes, the floor;
* over IP also ``ip:payload-type``, ``ip:length``, ``ip:short``,
  ``ip:sequence`` (retry of the last number, jumps, the wrap below 0) and
  ``ip:reset``.

The oracle demands only what the suites treat as spec demands: a claimed
command is ACKed ``y0 4z FF`` then completed ``y0 5z FF`` on the same socket, an
inquiry is answered in its row's layout with values its row allows, IF_Clear
``y0 50 FF``, the broadcast IF_Clear comes back unchanged, Address_Set names the
next free address, Cancel answers Command_Canceled or No_Socket for its socket,
an unknown message, an unclaimed row or an out-of-range parameter is refused
with an error ``y0 6z ee FF``, a message over 16 bytes is refused, a camera not
on the chain stays silent; over IP a reply is type 0111 and carries its
request's sequence number, a RESET is acknowledged ``0201 .. 01``, an
out-of-order number gets ``0F 01`` and an unknown payload type or a bad payload
length ``0F 02``.  Buffer full, Command_Canceled and Command_Not_Executable are
state-dependent refusals and never a finding.  Whatever the spec leaves open
(what a camera answers to broken framing) is ``any``: only malformed answers
and liveness count there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from conformance.devices.visca import FRAMER
from conformance.errors import MalformedReply, NoReply
from dissectors import visca, visca_ip
from dissectors import visca_table as table
from dissectors.notation import HEX, Notation
from dissectors.visca_table import Row
from fuzz.case import Case, Expect, Observation
from fuzz.source import ByteSource
from fuzz.target import Target

FORMAT = "VISCA §3.1 message format"
ADDRESS = "VISCA §3.1 address byte"
TABLE = "VISCA §3.2.1 command table"
IP = "VISCA-over-IP §3.2.4"
IP_TYPE = f"{IP} payload type"
IP_LENGTH = f"{IP} payload length"
IP_SEQ = f"{IP} sequence number"
IP_RESET = f"{IP} RESET"
MASK = 0xFFFFFFFF
FAR = 0x80000000

ERRORS = {
    0x01: "Message_Length_Error",
    0x02: "Syntax_Error",
    0x03: "Command_Buffer_Full",
    0x04: "Command_Canceled",
    0x05: "No_Socket",
    0x41: "Command_Not_Executable",
}
#: refusals that depend on the camera's state (§3.1, Sony core), never a finding
STATE_ERRORS = frozenset({0x03, 0x04, 0x41})
#: answers the spec demands (anything but "any" and "silence")
DEMANDED = frozenset(
    {"completion", "reply", "echo", "address-set", "cancel", "error"}
    | {"seq-error", "type-error", "reset-ack"}
)
ACK_COMPLETION = "ACK y0 4z FF, then Completion y0 5z FF"
CANCEL_ANSWERS = "Command_Canceled y0 6z 04 FF or No_Socket y0 6z 05 FF"
#: answers a case may be waiting for, by the kind of datagram that brings them
CONTROL_ANSWERS = frozenset({"reset-ack", "seq-error", "type-error", "any"})
VISCA_ANSWERS = frozenset(DEMANDED - CONTROL_ANSWERS | {"any", "silence"})
#: rows after which an earlier command may legitimately never complete
CLEARING = frozenset({"IF_Clear", "IF_Clear(broadcast)", "Cancel", "Power_Reset"})
#: rows a real device reboots on (the campaign would take the reboot for a hang)
REBOOTS = frozenset({"Power_Reset"})
#: rows whose answers a later position check depends on
POSITIONS = frozenset({"PT_Direct", "Zoom_Direct", "PT_Pos_Inq", "Zoom_Pos_Inq", "CAM_recall"})
#: commands that park the camera in standby (begin() brings it back)
STANDBY = frozenset({"Power_Off"})

# ---------------------------------------------------------------- the table, prepared

#: every request of the table (§3.2.1; Cancel from §3.1), IF_Clear first: the plainest
REQUESTS: tuple[Row, ...] = tuple(sorted(table.COMMANDS, key=lambda r: r.name != "IF_Clear"))
ALIASES: dict[str, tuple[str, ...]] = {
    r.name: tuple(
        {table.SAME_BYTES.get(r.name, "")} - {""}
        | {other for other, same in table.SAME_BYTES.items() if same == r.name}
    )
    for r in REQUESTS
}


@dataclass(frozen=True)
class Param:
    """One parameter letter of a row: its allowed values, ends and values outside."""

    letter: str
    name: str
    top: int
    allowed: tuple[int, ...] | None  # None: every value of its width
    ends: tuple[int, ...]
    outside: tuple[int, ...]


def _params(row: Row) -> tuple[Param, ...]:
    widths = row.packet.widths()
    out = []
    for letter in row.packet.letters:
        top = (1 << widths[letter]) - 1
        name = row.params.get(letter, letter.lower())
        if letter in row.allowed:
            allowed = tuple(row.values(letter))
            have = set(allowed)
            ends = tuple(v for v in allowed if v - 1 not in have or v + 1 not in have)
            near = [allowed[-1] + 1, allowed[0] - 1]
            fits = [v for v in range(top + 1) if v not in have and v != table.TERMINATOR]
            outside = tuple([v for v in near if v in fits] + [v for v in fits if v not in near])
            out.append(Param(letter, name, top, allowed, ends, outside))
        else:
            ends = tuple(sorted({0, 1, top >> 1, (top >> 1) + 1, top - 1, top}))
            out.append(Param(letter, name, top, None, ends, ()))
    return tuple(out)


Plan = tuple[tuple[int, tuple[tuple[str, int, int], ...]], ...]


def _plan(notation: Notation) -> Plan:
    """Per body byte: its fixed nibbles, and (letter, shift, position) of each parameter nibble."""
    remaining = notation.widths()
    plan = []
    for token in notation.body:
        fixed, parts = 0, []
        for i, ch in enumerate(token):
            pos = 4 if i == 0 else 0
            if ch in HEX:
                fixed |= int(ch, 16) << pos
            else:
                remaining[ch] -= 4
                parts.append((ch, remaining[ch], pos))
        plan.append((fixed, tuple(parts)))
    return tuple(plan)


PARAMS: dict[str, tuple[Param, ...]] = {r.name: _params(r) for r in REQUESTS}
PLANS: dict[str, Plan] = {r.name: _plan(r.packet) for r in REQUESTS}


def build(row: Row, camera: int, values: dict[str, int]) -> bytes:
    """Wire bytes of request *row* for *camera*, parameter values by letter."""
    token = row.packet.address
    address = visca.address_of(camera) if token == "8x" else int(token, 16)
    out = bytearray([address])
    for fixed, parts in PLANS[row.name]:
        byte = fixed
        for letter, shift, pos in parts:
            byte |= ((values.get(letter, 0) >> shift) & 0xF) << pos
        out.append(byte)
    return bytes(out)


_INDEX: dict[tuple[str, int, bytes], list[Row]] = {}
_PREFIXES: dict[tuple[str, int], tuple[int, ...]] = {}
for _row in REQUESTS:
    _key = (_row.packet.address, len(_row.packet.body))
    _INDEX.setdefault((*_key, _row.packet.prefix), []).append(_row)
    _PREFIXES[_key] = tuple(sorted({*_PREFIXES.get(_key, ()), len(_row.packet.prefix)}))


def match(message: bytes, prefer: Callable[[Row], bool] = lambda row: True) -> Row | None:
    """The request row *message* is an instance of (what ``visca.match_row`` says for
    requests, indexed for speed); of rows sharing bytes, the first *prefer* takes."""
    if len(message) < 2:
        return None
    first = message[0]
    token = "88" if first == table.BROADCAST else "8x" if 0x81 <= first <= 0x87 else None
    if token is None:
        return None
    body = message[1:]
    found = [
        row
        for size in _PREFIXES.get((token, len(body)), ())
        for row in _INDEX.get((token, len(body), body[:size]), ())
        if row.packet.match(body) is not None
    ]
    return next((row for row in found if prefer(row)), found[0] if found else None)


def parse_reply(data: bytes) -> tuple[str, int, int] | str:
    """(category, socket, error code) of a camera's answer, or what is wrong with it
    (§3.1 framing; reply categories of the Sony core)."""
    n = len(data)
    if n < table.MIN_LEN:
        return f"{n} bytes: shorter than the minimum of 3 (§3.1)"
    if n > table.MAX_LEN:
        return f"{n} bytes: longer than the maximum of 16 (§3.1)"
    if data[-1] != table.TERMINATOR:
        return "not terminated with FF (§3.1)"
    if data.find(table.TERMINATOR) != n - 1:
        return "FF inside the message before the terminator (§3.1)"
    first = data[0]
    if first == table.BROADCAST:
        return ("broadcast", 0, 0)
    if first < 0x90 or first & 0x0F:
        return f"address byte {first:02X} is neither y0 nor 88 (§3.1)"
    kind, socket = data[1] >> 4, data[1] & 0x0F
    if kind == 4 and n == 3:
        return ("ack", socket, 0)
    if kind == 5 and n == 3:
        return ("completion", socket, 0)
    if data[1] == 0x50:
        return ("answer", 0, 0)
    if kind == 6 and n == 4:
        return ("error", socket, data[2])
    return "matches no VISCA answer (y0 4z FF, y0 5z FF, y0 50 .. FF, y0 6z ee FF)"


# ---------------------------------------------------------------- the oracle's bookkeeping


@dataclass
class Track:
    """One case in flight: what the spec demands of its answer and what came."""

    index: int | None
    case: Case | None
    answer: str
    sent: bytes
    meta: dict[str, Any]
    seq: int | None = None
    lenient: bool = False  # over IP: a sequence error is legitimate here
    state: int = 0  # 0 awaiting the first answer, 1 ACKed (awaiting Completion), 2 done
    socket: int = 0
    completed: bool = False
    canceled: bool = False
    acted: bool = False  # an "any" message was ACKed or completed: the camera did something

    @property
    def row(self) -> str:
        return str(self.meta.get("row") or "")


@dataclass
class SeqModel:
    """What a device's VISCA-over-IP sequence numbering is, as far as the spec says.

    After RESET the device expects 0 (the suites' RESET test); an in-order number
    advances it, the previous number is a retry (answered again, no advance), any
    other number is a sequence error (§3.2.4).  ``fuzzy``: a datagram the device
    had to refuse may or may not have used the number (it expects E or E+1).
    ``lost``: after a jump or a datagram it may treat any way, the numbering is
    unknown until the next RESET.
    """

    expected: int = 0
    prev: tuple[bytes, dict[str, Any]] | None = None
    fuzzy: bool = False
    lost: bool = False
    odd: int = 0  # datagrams numbered away from the sequence (see ViscaIpTarget.number)

    def reset(self) -> None:
        self.expected, self.prev, self.fuzzy, self.lost, self.odd = 0, None, False, False, 0

    def take(self) -> int:
        """A number for a datagram of our own (not a case): the device moves on."""
        seq = self.expected
        self.expected = (seq + 1) & MASK
        self.prev, self.fuzzy = None, False
        return seq


def _is_reset(datagram: bytes) -> bool:
    return datagram[:2] == b"\x02\x00" and datagram[visca_ip.HEADER_LEN :] == visca_ip.RESET


def _is_reset_ack(datagram: bytes) -> bool:
    return (
        len(datagram) == 9
        and datagram[:2] in (b"\x02\x00", b"\x02\x01")
        and datagram[4:] == b"\x00\x00\x00\x00\x01"
    )


def patch_seq(datagram: bytes, seq: int) -> bytes:
    if len(datagram) < visca_ip.HEADER_LEN:
        return datagram
    return datagram[:4] + (seq & MASK).to_bytes(4, "big") + datagram[8:]


# ---------------------------------------------------------------- targets


class ViscaTarget(Target):
    """Raw VISCA on a serial line or TCP (§3.1): one case at a time, answers framed on FF.

    Every case is followed by a *barrier*, a parameterless inquiry the model
    claims (Version_Inq first), sent at once: the camera answers in order, so
    everything before the barrier's answer belongs to the case and nothing of
    it can leak into the next.  A command ACKed but not completed by then is
    chased with Cancel on its socket: Command_Canceled means it was still
    running (fine), No_Socket that its Completion never came.
    """

    protocol = "visca"
    over_ip: ClassVar[bool] = False
    max_program = 16
    case_bytes = 6
    families: ClassVar[tuple[str, ...]] = (
        "valid",
        "boundary",
        "unsupported",
        "out-of-range",
        "unknown",
        "address",
        "socket",
        "broken:terminator",
        "broken:ff-inside",
        "broken:truncated",
        "broken:over-long",
        "random",
    )

    def __init__(self, device: Any) -> None:
        super().__init__(device)
        self._verdicts: dict[bytes, tuple[Expect, dict[str, Any], str]] = {}
        self.address: int = device.address
        self.chain = int(device.spec.params.get("chain", 1))
        self.cameras = range(self.address, self.address + self.chain)
        self.y0 = visca.reply_address(self.address)
        #: a reboot is harmless (instant) only on an emulator
        self.excluded = frozenset() if device.control is not None else REBOOTS
        usable = [r for r in REQUESTS if r.name not in self.excluded]
        self.claimed = tuple(r for r in usable if self.claims(r))
        self.unclaimed = tuple(r for r in usable if not self.claims(r))
        self.restricted = tuple(
            (r, p) for r in self.claimed + self.unclaimed for p in PARAMS[r.name] if p.outside
        )
        inquiries = [r for r in self.claimed if r.kind == "inquiry" and not r.packet.letters]
        self.barrier_row = inquiries[0] if inquiries else table.BY_NAME["IF_Clear"]
        self.barrier = visca.build(self.barrier_row.name, self.address)
        self.probe_name = f"{self.barrier_row.name} {self.barrier.hex(' ').upper()}"
        self.identity: dict[str, int] | None = None
        self.max_socket = 2
        self._draws: dict[str, Callable[[ByteSource], Case]] = {
            "valid": lambda s: self._f_valid(s, "valid"),
            "boundary": lambda s: self._f_valid(s, "boundary"),
            "unsupported": self._f_unsupported,
            "out-of-range": self._f_out_of_range,
            "unknown": self._f_unknown,
            "address": self._f_address,
            "socket": self._f_socket,
            "broken:terminator": self._f_terminator,
            "broken:ff-inside": self._f_ff_inside,
            "broken:truncated": self._f_truncated,
            "broken:over-long": self._f_over_long,
            "random": self._f_random,
        }
        self._observations: list[Observation] = []
        self._signatures: set[str] = set()
        self._tracks: list[Track] = []
        self._alive = False  # the last thing run() did was to see a barrier answered
        self._barrier_answer: bytes | None = None
        self._standby_possible = False
        self._model: dict[str, Any] = {}
        self._touched_positions = False
        self._rtt = 0.001
        self._last_identity: dict[str, int] | None = None
        self._fresh_identity = False

    # ------------------------------------------------------------ claims
    def claims(self, row: Row) -> bool:
        """The model claims *row*, or a row with the same bytes (Backlight / WDR)."""
        over_ip = self.over_ip
        if row.supported(self.model, over_ip=over_ip):
            return True
        return any(
            table.BY_NAME[a].supported(self.model, over_ip=over_ip) for a in ALIASES[row.name]
        )

    # ------------------------------------------------------------ cases
    def draw(self, src: ByteSource) -> Case:
        family = self.families[src.integer(0, len(self.families) - 1)]
        return self._draws[family](src)

    def _values(self, src: ByteSource, row: Row, how: str) -> dict[str, int]:
        values = {}
        for p in PARAMS[row.name]:
            if how == "boundary":
                values[p.letter] = src.choice(p.ends)
            elif p.allowed is not None:
                values[p.letter] = src.choice(p.allowed)
            else:
                values[p.letter] = src.integer(0, p.top)
        return values

    @staticmethod
    def _label(row: Row, values: dict[str, int]) -> str:
        shown = " ".join(f"{row.params.get(k, k.lower())}=0x{v:X}" for k, v in values.items())
        return f"{row.name} {shown}".strip()

    def _f_valid(self, src: ByteSource, family: str) -> Case:
        row = src.choice(self.claimed)
        values = self._values(src, row, family)
        return self._emit(family, self._label(row, values), build(row, self.address, values))

    def _f_unsupported(self, src: ByteSource) -> Case:
        if not self.unclaimed:
            return self._f_valid(src, "valid")
        row = src.choice(self.unclaimed)
        values = self._values(src, row, "valid")
        label = f"{self._label(row, values)} (not claimed by {self.model})"
        return self._emit("unsupported", label, build(row, self.address, values))

    def _f_out_of_range(self, src: ByteSource) -> Case:
        row, param = src.choice(self.restricted)
        values = self._values(src, row, "valid")
        values[param.letter] = src.choice(param.outside)
        label = f"{row.name} {param.name}=0x{values[param.letter]:X} outside " + (
            row.describe_allowed(param.letter)
        )
        return self._emit("out-of-range", label, build(row, self.address, values))

    def _base(self, src: ByteSource) -> bytes:
        row = src.choice(self.claimed)
        return build(row, self.address, self._values(src, row, "valid"))

    def _f_unknown(self, src: ByteSource) -> Case:
        base = self._base(src)
        how = src.integer(0, 3)
        body = bytearray(base[1:-1])
        if how == 0 and body:
            body[src.integer(0, len(body) - 1)] = src.integer(0, 0xFE)
        elif how == 1:
            body = bytearray(src.integer(0, 0xFE) for _ in range(src.integer(1, 14)))
        elif how == 2:
            body.insert(src.integer(0, len(body)), src.integer(0, 0xFE))
        elif body:
            del body[src.integer(0, len(body) - 1)]
        message = bytes([base[0], *body, table.TERMINATOR])
        row = match(message, self.claims)
        if row is not None and row.name in self.excluded:
            message = base
        label = ("byte changed", "random body", "byte inserted", "byte dropped")[how]
        return self._emit("unknown", f"{label}: {visca.describe(message)}", message)

    def _f_address(self, src: ByteSource) -> Case:
        base = self._base(src)
        absent = [visca.address_of(c) for c in range(1, 8) if c not in self.cameras]
        choices = [*absent, 0x80, table.BROADCAST, 0x89, 0x8F, 0x90, self.y0, 0x00, 0x7F]
        first = src.choice(choices)
        message = bytes([first]) + base[1:]
        row = match(message, self.claims)
        if row is not None and row.name in self.excluded:
            message = bytes([0x80]) + base[1:]
        return self._emit("address", f"address {message[0]:02X}: {visca.describe(base)}", message)

    def _f_socket(self, src: ByteSource) -> Case:
        socket = src.integer(0, 15)
        message = visca.build("Cancel", self.address, socket=socket)
        return self._emit("socket", f"Cancel socket {socket}", message)

    def _f_terminator(self, src: ByteSource) -> Case:
        base = self._base(src)
        if self.over_ip:
            return self._emit("broken:terminator", "no FF", base[:-1])
        after = self._base(src)
        return self._emit("broken:terminator", "no FF, then another message", base[:-1] + after)

    def _f_ff_inside(self, src: ByteSource) -> Case:
        base = bytearray(self._base(src))
        base[src.integer(1, len(base) - 2)] = table.TERMINATOR
        return self._emit("broken:ff-inside", "FF inside", bytes(base))

    def _f_truncated(self, src: ByteSource) -> Case:
        base = self._base(src)
        keep = src.integer(1, len(base) - 2)
        if self.over_ip:
            return self._emit("broken:truncated", f"first {keep} bytes", base[:keep])
        return self._emit("broken:truncated", f"first {keep} bytes, then FF", base[:keep] + b"\xff")

    def _f_over_long(self, src: ByteSource) -> Case:
        size = src.integer(16, 22)
        body = bytes(src.integer(0, 0xFE) for _ in range(size))
        message = bytes([visca.address_of(self.address)]) + body + b"\xff"
        return self._emit("broken:over-long", f"{len(message)} bytes", message)

    def _f_random(self, src: ByteSource) -> Case:
        return self._emit("random", "random bytes", src.blob(24) + b"\xff")

    def _emit(self, family: str, label: str, message: bytes) -> Case:
        """A stream case: it always ends with FF, so the camera's framing is
        back in step after it; a part over 16 bytes never hides a message."""
        if not message.endswith(b"\xff"):
            message += b"\xff"
        parts = message[:-1].split(b"\xff")
        safe = []
        for part in parts:
            if len(part) > table.MAX_LEN + 1:
                part = part[: table.MAX_LEN + 1] + b"\x00" + part[table.MAX_LEN + 2 :]
            safe.append(part)
        message = b"\xff".join(safe) + b"\xff"
        expect, meta, ref = self.verdict(message)
        return Case(self.protocol, family, label, message, expect, ref, meta=meta)

    # ------------------------------------------------------------ what the spec demands
    def verdict(self, message: bytes) -> tuple[Expect, dict[str, Any], str]:
        """What the spec demands of the answer to one VISCA message (see the module
        doc); remembered per message, as programs repeat the plain ones."""
        known = self._verdicts.get(message)
        if known is None:
            if len(self._verdicts) > 4096:
                self._verdicts.clear()
            known = self._verdicts[message] = self._verdict(message)
        return known[0], dict(known[1]), known[2]

    def _verdict(self, message: bytes) -> tuple[Expect, dict[str, Any], str]:
        n = len(message)
        end = message.find(table.TERMINATOR)
        if n > table.MAX_LEN and end == n - 1 and not self.over_ip:
            if message[0] == visca.address_of(self.address):
                return "error", {"answer": "error", "key": "over-long message"}, FORMAT
            return "any", {"answer": "any"}, FORMAT
        if n < table.MIN_LEN or n > table.MAX_LEN or end != n - 1:
            return "any", {"answer": "any"}, FORMAT
        first = message[0]
        if first == table.BROADCAST:
            row = match(message)
            if row is not None and row.name == "IF_Clear(broadcast)":
                return "success", {"answer": "echo", "row": row.name}, row.ref
            if row is not None and row.name == "Address_Set":
                meta = {"answer": "address-set", "row": row.name, "w": self.address + self.chain}
                return "success", meta, row.ref
            return "any", {"answer": "any"}, ADDRESS
        if not 0x81 <= first <= 0x87:
            return "any", {"answer": "any"}, ADDRESS
        if first & 0x07 not in self.cameras:
            return "silence", {"answer": "silence"}, ADDRESS
        if first & 0x07 != self.address:
            return "any", {"answer": "any"}, ADDRESS  # another camera of the chain
        row = match(message, self.claims)
        if row is None:
            return "error", {"answer": "error", "key": "unknown message"}, TABLE
        if not self.claims(row):
            meta = {"answer": "error", "row": row.name, "key": f"unsupported {row.name}"}
            return "error", meta, f"{row.ref} (model note)"
        values = row.packet.match(message[1:]) or {}
        for letter, value in values.items():
            if not row.in_range(letter, value):
                name = row.params.get(letter, letter.lower())
                key = f"out of range {row.name}.{name}"
                meta = {"answer": "error", "row": row.name, "key": key}
                return "error", meta, f"{row.ref}: {name} {row.describe_allowed(letter)}"
        if row.name == "Cancel":
            socket = values.get("z", 0)
            if 1 <= socket <= self.max_socket:
                return "success", {"answer": "cancel", "row": row.name, "socket": socket}, row.ref
            return "any", {"answer": "any", "row": row.name}, row.ref
        meta = {"answer": "reply" if row.reply is not None else "completion", "row": row.name}
        if row.name in REBOOTS:
            meta["reboot"] = True
        return "success", meta, row.ref

    # ------------------------------------------------------------ observations
    def _note(
        self,
        kind: str,
        summary: str,
        key: str,
        track: Track | None,
        *,
        ref: str = "",
        expected: str = "",
        received: bytes | None = None,
    ) -> None:
        obs = Observation(
            kind,
            summary,
            key,
            ref=ref or (track.case.ref if track and track.case else ""),
            expected=expected,
            sent=track.sent if track else None,
            received=received,
            case=track.index if track else None,
        )
        if obs.signature not in self._signatures:
            self._signatures.add(obs.signature)
            self._observations.append(obs)

    def _start_run(self) -> None:
        self._observations, self._signatures = [], set()

    # ------------------------------------------------------------ feeding answers
    def feed(self, t: Track, data: bytes, *, framed: bool = True) -> None:
        """One VISCA answer *data* that belongs to *t* (*framed*: nothing was found
        wrong with what carried it, so a framing problem is reported here)."""
        parsed = parse_reply(data)
        if isinstance(parsed, str) and not framed:
            t.state = 2
            return
        if isinstance(parsed, str):
            key = "unknown answer" if parsed.startswith("matches") else "answer framing"
            self._note(
                "malformed-reply",
                f"answer {parsed}",
                key,
                t,
                ref=FORMAT,
                received=data,
                expected="a VISCA answer (§3.1)",
            )
            t.state = 2
            return
        cat, socket, code = parsed
        a = t.answer
        if a == "any":
            t.acted = t.acted or cat in ("ack", "completion")
            if cat == "ack" and t.state == 0:
                t.state, t.socket = 1, socket
                self._supersede(t)
            elif t.state == 0 or cat == "completion" or (cat == "error" and socket == t.socket):
                t.state = 2
            return
        if cat != "broadcast" and data[0] != self.y0:
            self._note(
                "protocol-violation",
                f"answer from address {data[0]:02X}",
                "reply address",
                t,
                ref=ADDRESS,
                received=data,
                expected=f"answers from {self.y0:02X} (camera {self.address})",
            )
        if a == "silence":
            self._note(
                "protocol-violation",
                "answered a message to a camera not on the chain",
                "answer to an absent camera",
                t,
                ref=ADDRESS,
                received=data,
                expected="no answer",
            )
            t.answer = "any"
            self.feed(t, data)
            return
        if t.state == 1:
            self._after_ack(t, data, cat, socket, code)
            return
        if t.state == 2:
            return
        if a == "completion":
            self._first_of_command(t, data, cat, socket, code)
        elif a in ("reply", "echo", "address-set"):
            self._first_of_reply(t, data, cat, code)
        elif a == "cancel":
            if cat == "error" and code in (0x04, 0x05):
                if socket != t.meta.get("socket"):
                    self._note(
                        "protocol-violation",
                        f"Cancel of socket {t.meta.get('socket')} answered for socket {socket}",
                        "Cancel socket",
                        t,
                        received=data,
                        expected="the socket of the Cancel",
                    )
            elif cat == "error" and code not in STATE_ERRORS:
                self._note(
                    "error-reply",
                    f"Cancel answered {ERRORS.get(code, hex(code))}",
                    f"Cancel: {ERRORS.get(code, hex(code))}",
                    t,
                    received=data,
                    expected=CANCEL_ANSWERS,
                )
            elif cat != "error":
                self._note(
                    "protocol-violation",
                    "Cancel not answered with an error reply",
                    "Cancel answer",
                    t,
                    received=data,
                    expected=CANCEL_ANSWERS,
                )
            t.state = 2
        else:  # an error (or an IP control reply) is due and a VISCA answer came
            if a == "error" and cat == "error":
                t.state = 2
                return
            key = (
                str(t.meta.get("key", ""))
                if a == "error"
                else {
                    "seq-error": "out-of-order sequence number answered",
                    "type-error": str(t.meta.get("ip_key", "bad header answered")),
                    "reset-ack": "RESET answered with a VISCA reply",
                }[a]
            )
            what = {
                "error": "an error reply",
                "seq-error": "0F 01 (sequence number)",
                "type-error": "0F 02 (message type)",
                "reset-ack": "a control reply 01",
            }[a]
            kind = "protocol-violation" if a == "reset-ack" else "accepted-invalid"
            self._note(
                kind,
                f"answered {visca.describe(data)} where {what} is due",
                key,
                t,
                received=data,
                expected=what,
            )
            t.answer = "any"
            t.state, t.socket = (1, socket) if cat == "ack" else (2, 0)
            if cat == "ack":
                self._supersede(t)

    def _first_of_command(self, t: Track, data: bytes, cat: str, socket: int, code: int) -> None:
        row = t.row
        if cat == "ack":
            if not 1 <= socket <= self.max_socket:
                self._note(
                    "protocol-violation",
                    f"ACK names socket {socket}",
                    "ACK socket",
                    t,
                    ref=f"{FORMAT} ACK",
                    received=data,
                    expected=f"socket 1..{self.max_socket}",
                )
            t.state, t.socket = 1, socket
            self._supersede(t)
        elif cat == "completion":
            self._note(
                "no-response",
                f"{row} completed without an ACK first",
                "ACK",
                t,
                ref=f"{FORMAT} ACK",
                received=data,
                expected=ACK_COMPLETION,
            )
            t.state, t.completed = 2, True
        elif cat == "error":
            if code not in STATE_ERRORS:
                name = ERRORS.get(code, f"error {code:02X}")
                self._note(
                    "error-reply",
                    f"{row} refused with {name}",
                    f"{row}: {name}",
                    t,
                    received=data,
                    expected=ACK_COMPLETION,
                )
            t.state = 2
        else:
            self._note(
                "protocol-violation",
                f"{row} answered {visca.describe(data)}",
                f"{row}: not ACKed",
                t,
                received=data,
                expected=ACK_COMPLETION,
            )
            t.state = 2

    def _supersede(self, t: Track) -> None:
        """*t* got an ACK on its socket: an earlier command that held that socket was
        cancelled or cleared meanwhile (its Completion cannot come any more)."""
        for other in self._tracks:
            earlier = (other.index or 0) < (t.index or 0)
            if earlier and other.state == 1 and other.socket == t.socket:
                other.state, other.canceled = 2, True

    def _after_ack(self, t: Track, data: bytes, cat: str, socket: int, code: int) -> None:
        if cat == "completion":
            if socket != t.socket:
                self._note(
                    "protocol-violation",
                    f"ACK on socket {t.socket}, Completion on socket {socket}",
                    "Completion socket",
                    t,
                    ref=f"{FORMAT} Completion",
                    received=data,
                    expected=f"Completion y0 5{t.socket:X} FF",
                )
            t.state, t.completed = 2, True
        elif cat == "error":
            if code not in STATE_ERRORS and t.answer == "completion":
                name = ERRORS.get(code, f"error {code:02X}")
                self._note(
                    "error-reply",
                    f"{t.row} ACKed, then {name}",
                    f"{t.row}: {name}",
                    t,
                    received=data,
                    expected="Completion y0 5z FF",
                )
            t.state, t.canceled = 2, code == 0x04
        elif cat == "ack":
            if t.answer == "completion":
                self._note(
                    "protocol-violation",
                    "a second ACK for one command",
                    "second ACK",
                    t,
                    ref=f"{FORMAT} ACK",
                    received=data,
                    expected="Completion y0 5z FF",
                )
        else:
            if t.answer == "completion":
                self._note(
                    "protocol-violation",
                    f"ACKed, then {visca.describe(data)}",
                    f"{t.row}: not completed",
                    t,
                    received=data,
                    expected="Completion y0 5z FF",
                )
            t.state = 2

    def _first_of_reply(self, t: Track, data: bytes, cat: str, code: int) -> None:
        row = table.BY_NAME[t.row]
        a = t.answer
        if a == "echo":
            good = data == (t.sent[visca_ip.HEADER_LEN :] if self.over_ip else t.sent)
            want = "the same bytes back"
        elif a == "address-set":
            want = f"88 30 0{t.meta.get('w', 0):X} FF (the next free address)"
            good = data == bytes([0x88, 0x30, int(t.meta.get("w", 0)), 0xFF])
        else:
            assert row.reply is not None
            values = row.reply.match(data[1:])  # a wrong address is noted on its own
            good = values is not None and all(row.in_range(k, v) for k, v in values.items())
            want = row.reply.text.replace("y0", f"{self.y0:02X}")
            if good and row.name == "Version_Inq":
                self._identity_seen(data)
        if good:
            t.state, t.completed = 2, True
            return
        if cat == "error" and code in STATE_ERRORS:
            t.state = 2
            return
        if cat == "error":
            name = ERRORS.get(code, f"error {code:02X}")
            self._note(
                "error-reply",
                f"{t.row} refused with {name}",
                f"{t.row}: {name}",
                t,
                received=data,
                expected=want,
            )
        else:
            self._note(
                "protocol-violation",
                f"{t.row} answered {visca.describe(data)}",
                f"{t.row} answer",
                t,
                received=data,
                expected=want,
            )
        t.state = 2

    def _identity_seen(self, data: bytes) -> None:
        row = table.BY_NAME["Version_Inq"]
        assert row.reply is not None
        values = row.reply.match(data[1:])
        if values is not None:
            self._last_identity = {row.params[k]: v for k, v in values.items()}
            self._fresh_identity = True

    def finish(self, tracks: Sequence[Track]) -> list[Track]:
        """Findings for answers that never came; the ACKed commands still awaiting
        their Completion (to chase with Cancel)."""
        canceled = any(t.canceled for t in tracks)
        for t in tracks:
            if t.state != 0 or t.answer not in DEMANDED:
                continue
            if t.answer == "cancel" and canceled:
                continue  # a camera may answer the cancelled command's socket instead
            key = {
                "error": str(t.meta.get("key", "refusal")),
                "cancel": "Cancel",
                "seq-error": "Sequence_Error",
                "type-error": "Message_Type_Error",
                "reset-ack": "RESET",
            }.get(t.answer, t.row)
            what = {
                "error": "an error reply y0 6z ee FF",
                "seq-error": "control reply 0F 01 (sequence number)",
                "type-error": "control reply 0F 02 (message type)",
                "reset-ack": "control reply 01 (RESET acknowledged)",
                "completion": "ACK y0 4z FF, then Completion y0 5z FF",
                "cancel": "Command_Canceled or No_Socket",
            }.get(t.answer, "the row's answer")
            self._note(
                "no-response",
                f"no answer within {self.device.reply_timeout:g} s",
                key,
                t,
                expected=what,
            )
        return [t for t in tracks if t.state == 1]

    def judge_pending(
        self, tracks: Sequence[Track], pending: Sequence[Track], answers: dict[int, int | None]
    ) -> None:
        """After Cancel chased each pending command's socket: *answers* socket -> code."""
        for t in pending:
            if t.completed or t.answer != "completion":
                continue
            later = [u for u in tracks if (u.index or 0) > (t.index or 0)]
            excused = (not self.over_ip and self.barrier_row.name == "IF_Clear") or any(
                u.row in CLEARING or u.answer == "any" or u.canceled for u in later
            )
            code = answers.get(t.socket)
            if code == 0x04 or excused:
                continue
            if code == 0x05:
                self._note(
                    "no-response",
                    f"{t.row} ACKed on socket {t.socket} but never "
                    f"completed (Cancel then found the socket idle)",
                    "Completion",
                    t,
                    ref=f"{FORMAT} Completion",
                    expected=f"Completion y0 5{t.socket:X} FF",
                )
            elif code is None:
                self._note(
                    "no-response",
                    f"{t.row} ACKed on socket {t.socket}, not completed, "
                    f"and Cancel {t.socket} was not answered",
                    "Cancel",
                    t,
                    ref="VISCA §3.1 Cancel",
                    expected="Command_Canceled or No_Socket for the socket",
                )

    def learn(self, tracks: Sequence[Track]) -> None:
        """What the program left the camera in, as far as the spec's inquiries show it
        (Power_Status_Inq 2/3, Ado_Mute_Inq 1/2), for :meth:`check_state`."""
        power: int | None = None
        mute: int | None = None
        standby = False
        touched = False
        for t in tracks:
            row = t.row
            touched = touched or row in POSITIONS
            if t.answer == "any":
                if t.acted:  # it executed something the spec does not name
                    power = mute = None
                    standby = True
                continue
            if row in STANDBY:
                standby = True
            if not t.completed or t.answer != "completion":
                continue
            if row == "Power_On":
                power = 2
            elif row == "Power_Off":
                power = 3
            elif row in REBOOTS or row == "CAM_Profile_Read":
                power = None if row in REBOOTS else power
                mute = None
            elif row == "ADO_Mute_On":
                mute = 1
            elif row == "ADO_Mute_Off":
                mute = 2
            elif row == "ADO_Mute_Tigger":
                mute = None if mute is None else 3 - mute
        self._model = {"power": power, "mute": mute, "clean": not self._observations}
        self._standby_possible = self._standby_possible or standby
        self._touched_positions = touched

    # ------------------------------------------------------------ stream I/O
    def _read(self, timeout: float) -> bytes | tuple[str, bytes] | None:
        """The next framed answer, ("bad", bytes) for unframed bytes, None at the deadline."""
        try:
            frame = self.device.transport.recv_frame(FRAMER, max(0.0, timeout))
        except NoReply as exc:
            return ("bad", exc.received) if exc.received else None
        except MalformedReply as exc:
            return ("bad", exc.received or b"")
        return frame if isinstance(frame, bytes) else frame.encode()

    def _is_barrier_answer(self, data: bytes) -> bool:
        reply = self.barrier_row.reply
        return reply is not None and reply.match(data[1:]) is not None

    def _until_barrier(self, count: int, deadline: float) -> tuple[list[Any], bool]:
        """Answers up to the *count*-th barrier answer (excluded); True if it came."""
        got: list[Any] = []
        seen = 0
        while True:
            item = self._read(deadline - time.monotonic())
            if item is None:
                return got, False
            if isinstance(item, bytes) and self._is_barrier_answer(item):
                seen += 1
                if seen == count:
                    self._barrier_answer = item
                    if self.barrier_row.name == "Version_Inq":
                        self._identity_seen(item)
                    return got, True
            got.append(item)

    def _feed_all(self, t: Track, items: list[Any]) -> None:
        for item in items:
            if isinstance(item, tuple):
                self._note(
                    "malformed-reply",
                    f"{len(item[1])} bytes without a terminator",
                    "unframed answer",
                    t,
                    ref=FORMAT,
                    received=item[1],
                    expected="answers of at most 16 bytes ending in FF",
                )
                t.state = 2
            else:
                self.feed(t, item)

    def start(self) -> None:
        self.identity = None
        self._alive = False
        self._last_identity = None
        if self.probe() is None and self.barrier_row.name == "Version_Inq":
            self.identity = self._last_identity
            if self.identity:
                self.max_socket = max(2, int(self.identity.get("max_socket", 2)))

    def begin(self) -> None:
        self._alive = False
        self._fresh_identity = False
        self.device.transport.drain(quiet=0.0, limit=0.05)
        if self._standby_possible and self.claims(table.BY_NAME["Power_On"]):
            self._wake()
        self._standby_possible = False

    def _wake(self) -> None:
        """Power_On, waited out to its Completion (the camera may have been left in standby)."""
        message = visca.build("Power_On", self.address)
        self.device.transport.send(message, "leave standby")
        deadline = time.monotonic() + float(getattr(self.device, "motion_timeout", 30.0))
        while True:
            item = self._read(deadline - time.monotonic())
            if item is None:
                return
            parsed = parse_reply(item) if isinstance(item, bytes) else ""
            if isinstance(parsed, tuple) and parsed[0] in ("completion", "error"):
                return

    def run(self, cases: Sequence[Case]) -> list[Observation]:
        self._start_run()
        self._fresh_identity = False
        tracks = []
        for i, case in enumerate(cases):
            t = Track(i, case, str(case.meta.get("answer", "any")), case.data, dict(case.meta))
            tracks.append(t)
            self._tracks = [t]
            self._one(t)
        self.learn(tracks)
        return list(self._observations)

    def _one(self, t: Track) -> None:
        data = t.sent
        if isinstance(data, str):
            data = data.encode()
        count = data.split(b"\xff").count(self.barrier[:-1]) if self.barrier in data else 0
        self.device.transport.send(data + self.barrier)
        started = time.monotonic()
        items, self._alive = self._until_barrier(count + 1, started + self.device.reply_timeout)
        self._rtt = 0.8 * self._rtt + 0.2 * (time.monotonic() - started)
        self._feed_all(t, items)
        pending = self.finish([t])
        if pending:
            self._chase(t, pending)

    def _chase(self, t: Track, pending: Sequence[Track]) -> None:
        """Cancel the socket of an ACKed command whose Completion did not come."""
        socket = pending[0].socket
        self.device.transport.send(
            visca.build("Cancel", self.address, socket=socket & 0x0F),
            "chase the missing Completion",
        )
        deadline = time.monotonic() + self.device.reply_timeout
        code: int | None = None
        while code is None:
            item = self._read(deadline - time.monotonic())
            if item is None:
                break
            if isinstance(item, tuple):
                continue
            parsed = parse_reply(item)
            if isinstance(parsed, tuple) and parsed[0] == "error" and parsed[2] in (4, 5):
                code = parsed[2]
            else:
                self.feed(t, item)
        self._alive = code is not None
        self.judge_pending([t], pending, {socket: code})

    def probe(self) -> str | None:
        if self._alive:
            return None
        self.device.transport.send(self.barrier, "liveness probe")
        got, ok = self._until_barrier(1, time.monotonic() + self.device.reply_timeout)
        # an answer that is not the barrier's in shape (garbage, a short inquiry answer)
        # still shows the camera alive; the run reports what is wrong with it
        shaped = [g for g in got if isinstance(g, tuple) or (g[1:2] == b"\x50" and len(g) > 3)]
        if ok or shaped:
            if ok and self.barrier_row.name == "Version_Inq":
                assert self._barrier_answer is not None
                self._identity_seen(self._barrier_answer)
            return None
        return f"no answer to {self.probe_name} within {self.device.reply_timeout:g} s"

    # ------------------------------------------------------------ state
    def ask(self, name: str, **params: int) -> list[bytes]:
        """Send row *name* on its own; its answers (ACK and Completion for a command,
        waited to the motion bound), [] if none came."""
        row = table.BY_NAME[name]
        message = visca.build(name, self.address, **params)
        return self._ask(message, row.reply is None)

    def _ask(self, message: bytes, command: bool) -> list[bytes]:
        self.device.transport.send(message)
        out: list[bytes] = []
        deadline = time.monotonic() + self.device.reply_timeout
        while True:
            item = self._read(deadline - time.monotonic())
            if not isinstance(item, bytes):
                return out
            out.append(item)
            kind = item[1] >> 4 if len(item) > 2 else 0
            if not command or kind in (5, 6):
                return out
            deadline = time.monotonic() + float(getattr(self.device, "motion_timeout", 30.0))

    def _inquire(self, name: str) -> dict[str, int] | None:
        row = table.BY_NAME[name]
        if not self.claims(row):
            return None
        answers = self.ask(name)
        assert row.reply is not None
        values = row.reply.match(answers[0][1:]) if answers else None
        if values is None:
            return None
        return {row.params.get(k, k.lower()): v for k, v in values.items()}

    def check_state(self, cases: Sequence[Case]) -> list[Observation]:
        """Version_Inq's identity is what it was (no command may change it, §3.2.1);
        a completed Power_On/Power_Off and ADO_Mute_On/Off show in Power_Status_Inq
        and Ado_Mute_Inq (§3.2.1 "2 = On, 3 = Off", "01: Mute on, 02: Mute off");
        a position PT_Pos_Inq / Zoom_Pos_Inq reported is one PT_Direct /
        Zoom_Direct goes to and reports back (§3.2.1: the same 0Y0Y0Y0Y positions)."""
        self._start_run()
        self._prepare_state_check()
        if self.identity is not None:
            current = self._current_identity()
            if current is not None and current != self.identity:
                self._note(
                    "state-corruption",
                    f"Version_Inq identity changed from {self.identity} to {current}",
                    "Version_Inq identity",
                    None,
                    ref=table.BY_NAME["Version_Inq"].ref,
                    expected="the identity Version_Inq gave before",
                )
        if self._model.get("clean"):
            self._check_set_state()
        if self._touched_positions and self._model.get("power") != 3 and self._model.get("clean"):
            self._round_trip("PT_Pos_Inq", "PT_Direct", ("pan_position", "tilt_position"))
            self._round_trip("Zoom_Pos_Inq", "Zoom_Direct", ("zoom_position",))
        self._alive = False
        return list(self._observations)

    def _prepare_state_check(self) -> None:
        """Hook: the IP target makes sure its sequence numbers are known first."""

    def _current_identity(self) -> dict[str, int] | None:
        if self._fresh_identity and self._last_identity is not None:
            return self._last_identity
        return self._inquire("Version_Inq")

    def _check_set_state(self) -> None:
        checks = (
            ("power", "Power_Status_Inq", "power", "Power_On/Power_Off"),
            ("mute", "Ado_Mute_Inq", "mute", "ADO_Mute_On/Off/Tigger"),
        )
        for slot, inquiry, field_name, commands in checks:
            want = self._model.get(slot)
            if want is None:
                continue
            got = self._inquire(inquiry)
            if got is not None and got.get(field_name) != want:
                self._note(
                    "state-corruption",
                    f"{inquiry} answers {got.get(field_name)} after "
                    f"the program's last completed {commands}",
                    f"{inquiry} after {commands}",
                    None,
                    ref=table.BY_NAME[inquiry].ref,
                    expected=f"{field_name} {want}",
                )

    def _round_trip(self, inquiry: str, command: str, fields: tuple[str, ...]) -> None:
        if not (self.claims(table.BY_NAME[inquiry]) and self.claims(table.BY_NAME[command])):
            return
        before = self._inquire(inquiry)
        if before is None:
            return
        answers = self.ask(command, **{f: before[f] for f in fields})
        done = [a for a in answers if len(a) == 3 and a[1] >> 4 == 5]
        if not done:
            return  # refused or not completed: the run's own cases judge that
        after = self._inquire(inquiry)
        if after is not None and after != before:
            self._note(
                "protocol-violation",
                f"{inquiry} answered {before}; {command} there "
                f"completed, and {inquiry} then answered {after}",
                f"{inquiry} after {command}",
                None,
                ref=table.BY_NAME[inquiry].ref,
                expected=f"{inquiry} reports the position {command} went to",
            )


class ViscaIpTarget(ViscaTarget):
    """VISCA over IP (§3.2.4): a whole program is sent at once and the answers
    are paired with their cases by sequence number.

    A case's bytes are the datagram as sent right after RESET; its
    ``meta["seq"]`` is the numbering policy (``next``, ``retry``, ``jump:D``,
    ``reset``, ``none``), and :meth:`run` renumbers it from the device's numbering
    as :class:`SeqModel` knows it, so a program replays the same way from
    :meth:`begin` (which sends RESET first) and a stateful machine can call
    :meth:`run` case by case.  :meth:`run` returns once every demanded answer has
    come (or the reply bound passed) and, if the program holds cases whose
    answer the spec leaves open, once the link has been quiet for a few round
    trips: they never cost a reply timeout each.
    """

    protocol = "visca-ip"
    over_ip = True
    max_program = 32
    families: ClassVar[tuple[str, ...]] = (
        *ViscaTarget.families,
        "ip:payload-type",
        "ip:length",
        "ip:short",
        "ip:sequence",
        "ip:reset",
    )

    def __init__(self, device: Any) -> None:
        super().__init__(device)
        self._draws.update(
            {
                "ip:payload-type": self._f_payload_type,
                "ip:length": self._f_length,
                "ip:short": self._f_short,
                "ip:sequence": self._f_sequence,
                "ip:reset": self._f_reset,
                "random": self._f_ip_random,
            }
        )
        self.seq = SeqModel()
        self._reset_pending = False
        self._cursor = 0
        self._fences: list[int] = []

    # ------------------------------------------------------------ cases
    def program(self, data: bytes) -> list[Case]:
        cases = super().program(data)
        model = SeqModel()
        return [self._numbered(c, model) for c in cases]

    def draw(self, src: ByteSource) -> Case:
        return self._numbered(super().draw(src), SeqModel())

    def _numbered(self, case: Case, model: SeqModel) -> Case:
        datagram, _, _, _ = self.number(case, model)
        return case if datagram == case.data else replace(case, data=datagram)

    def _emit(self, family: str, label: str, message: bytes) -> Case:
        return self._ip_case(family, label, message)

    def _ip_case(
        self,
        family: str,
        label: str,
        payload: bytes,
        *,
        ptype: int | None = None,
        length: int | None = None,
        policy: str = "next",
        short: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Case:
        if ptype is None:
            ptype = visca_ip.INQUIRY if payload[1:2] == b"\x09" else visca_ip.COMMAND
        declared = len(payload) if length is None else length
        datagram = (
            ptype.to_bytes(2, "big") + (declared & 0xFFFF).to_bytes(2, "big") + bytes(4) + payload
        )
        meta: dict[str, Any] = {"seq": policy, **(extra or {})}
        if short is not None:
            datagram = datagram[:short]
            meta.update(seq="none", ip="short", answer="any")
            return Case(self.protocol, family, label, datagram, "any", IP, meta=meta)
        header, key, ref = self.header_class(ptype, declared, payload)
        meta["ip"] = header
        if header == "ok":
            expect, inner, ref = self.verdict(payload)
            meta.update(inner)
        elif header == "reset":
            expect = "success"
            meta.update(answer="reset-ack", row="RESET")
        elif header == "type-error":
            expect = "error"
            meta.update(answer="type-error", ip_key=key)
        else:
            expect = "any"
            meta.update(answer="any")
        if policy.startswith("jump"):
            expect, ref = "error", IP_SEQ
        return Case(self.protocol, family, label, datagram, expect, ref, meta=meta)

    @staticmethod
    def header_class(ptype: int, declared: int, payload: bytes) -> tuple[str, str, str]:
        """How the spec judges a datagram's header (§3.2.4 payload type and length):
        ``ok``, ``reset``, ``type-error`` (0F 02 due) or ``any``; with key and ref."""
        if ptype == visca_ip.CONTROL and payload == visca_ip.RESET and declared == 1:
            return "reset", "", IP_RESET
        if ptype not in visca_ip.PAYLOAD_TYPES or ptype == visca_ip.REPLY:
            return "type-error", f"payload type {ptype:04X} answered", IP_TYPE
        if ptype in (visca_ip.COMMAND, visca_ip.INQUIRY):
            if declared != len(payload) or not 1 <= declared <= visca_ip.MAX_PAYLOAD:
                return "type-error", "bad payload length answered", IP_LENGTH
            inquiry = payload[1:2] == b"\x09"
            return ("ok" if inquiry == (ptype == visca_ip.INQUIRY) else "any"), "", IP_TYPE
        return "any", "", IP_TYPE

    def _f_payload_type(self, src: ByteSource) -> Case:
        payload = self._base(src)
        natural = visca_ip.INQUIRY if payload[1:2] == b"\x09" else visca_ip.COMMAND
        options = [
            0x0000,
            visca_ip.REPLY,
            0x0112,
            0x0300,
            visca_ip.DEVICE_SETTING,
            visca_ip.CONTROL_REPLY,
            visca_ip.CONTROL,
            natural ^ 0x0010,
            -1,
        ]
        ptype = src.choice(options)
        if ptype < 0:
            ptype = src.integer(0, 0xFFFF)
        return self._ip_case("ip:payload-type", f"type {ptype:04X}", payload, ptype=ptype)

    def _f_length(self, src: ByteSource) -> Case:
        payload = self._base(src)
        how = src.integer(0, 7)
        n = len(payload)
        if how == 6:
            return self._ip_case("ip:length", "no payload, length 0", b"", length=0)
        if how == 7:
            long = payload[:-1] + bytes(src.integer(1, 8)) + b"\xff"
            return self._ip_case("ip:length", f"{len(long)}-byte payload", long)
        declared = (0, n - 1, n + 1, 17, 0xFFFF, src.integer(0, 0xFFFF))[how]
        if declared == n:
            declared = n + 1
        return self._ip_case(
            "ip:length", f"length {declared} for {n} bytes", payload, length=declared
        )

    def _f_short(self, src: ByteSource) -> Case:
        payload = self._base(src)
        size = src.integer(0, visca_ip.HEADER_LEN - 1)
        return self._ip_case("ip:short", f"{size}-byte datagram", payload, short=size)

    JUMPS: ClassVar[tuple[int, ...]] = (2, 3, 16, 0x100, 0x7FFFFFFF, 0x80000000, -2, -16)

    def _f_sequence(self, src: ByteSource) -> Case:
        how = src.integer(0, 1)
        payload = self._base(src)
        if how == 0:
            return self._ip_case("ip:sequence", "retry of the last number", payload, policy="retry")
        jump = src.choice(self.JUMPS)
        return self._ip_case(
            "ip:sequence", f"number {jump:+d} from the expected one", payload, policy=f"jump:{jump}"
        )

    def _f_reset(self, src: ByteSource) -> Case:
        how = src.integer(0, 2)
        number = ("zero", "expected", str(src.integer(0, MASK)))[how]
        return self._ip_case(
            "ip:reset",
            f"RESET numbered {number}",
            visca_ip.RESET,
            ptype=visca_ip.CONTROL,
            policy="reset",
            extra={"reset_seq": number},
        )

    def _f_ip_random(self, src: ByteSource) -> Case:
        raw = src.blob(32)
        if len(raw) < visca_ip.HEADER_LEN:
            case = self._ip_case("random", "random bytes", raw + bytes(8), short=len(raw))
            return replace(case, data=raw)
        ptype, declared = int.from_bytes(raw[:2], "big"), int.from_bytes(raw[2:4], "big")
        payload = raw[visca_ip.HEADER_LEN :]
        case = self._ip_case("random", "random datagram", payload, ptype=ptype, length=declared)
        if case.meta.get("ip") == "ok" and case.meta.get("answer") != "any":
            return case  # random bytes that make a well-formed message: judged as one
        return replace(
            case,
            meta={
                **case.meta,
                "answer": "any",
                "ip": "reset" if case.meta.get("ip") == "reset" else "any",
            },
            expect="any",
        )

    # ------------------------------------------------------------ numbering
    def number(self, case: Case, m: SeqModel) -> tuple[bytes, str, bool, dict[str, Any]]:
        """The datagram to send for *case* with the device's numbering *m* (updated),
        the answer then due, whether a sequence error is legitimate for it, and the
        meta it is judged by (a retry's is the retried case's)."""
        data = case.data if isinstance(case.data, bytes) else case.data.encode()
        meta = case.meta
        policy = str(meta.get("seq", "next"))
        header = meta.get("ip", "ok")
        answer = str(meta.get("answer", "any"))
        lenient = m.fuzzy or m.lost
        if policy == "none" or header == "short" or len(data) < visca_ip.HEADER_LEN:
            return data, "any", True, meta
        if header == "reset":
            spec = str(meta.get("reset_seq", "zero"))
            seq = 0 if spec == "zero" else m.expected if spec == "expected" else int(spec)
            datagram = patch_seq(data, seq)
            m.reset()
            m.prev = (datagram, meta)
            return datagram, answer, lenient, meta
        if policy == "retry":
            if m.prev is not None:
                datagram, prev = m.prev
                if prev.get("ip") == "reset":
                    m.reset()
                    m.prev = (datagram, prev)
                return datagram, str(prev.get("answer", "any")), lenient, prev
            # the wrap: right after RESET the previous number is FFFFFFFF
            return patch_seq(data, m.expected - 1), "any", True, meta
        if policy.startswith("jump:"):
            datagram = patch_seq(data, m.expected + int(policy.split(":", 1)[1]))
            due = "any" if m.lost or header != "ok" else "seq-error"
            m.lost = True
            return datagram, due, True, meta
        datagram = patch_seq(data, m.expected)
        if header == "type-error":
            m.fuzzy = True
            return datagram, answer, lenient, meta
        if header != "ok":
            # a datagram the device may take any way: a number far from the expected
            # one, so that whatever it answers cannot be taken for another case's answer
            m.odd += 1
            m.lost = True
            return patch_seq(data, m.expected + FAR + m.odd), "any", True, meta
        m.expected = (m.expected + 1) & MASK
        m.prev = (datagram, dict(meta))
        m.fuzzy = False
        return datagram, answer, lenient, meta

    # ------------------------------------------------------------ running
    def start(self) -> None:
        self.seq = SeqModel(lost=True)
        self._reset_pending = False
        self.identity = None
        self._alive = False
        self._last_identity = None
        self._sync()
        started = time.monotonic()
        if self.probe() is None:
            self._rtt = time.monotonic() - started
            if self.barrier_row.name == "Version_Inq":
                self.identity = self._last_identity
                if self.identity:
                    self.max_socket = max(2, int(self.identity.get("max_socket", 2)))

    def begin(self) -> None:
        if self._standby_possible and self.claims(table.BY_NAME["Power_On"]):
            self._sync()
            seq = self.seq.take()
            self._exchange(
                [visca_ip.wrap(visca.build("Power_On", self.address), seq)], {seq: "completion"}
            )
        self._standby_possible = False
        self._reset_pending = True

    def _sync(self) -> bool:
        """RESET on its own; True once acknowledged (the numbering is then 0)."""
        frame = visca_ip.wrap(visca_ip.RESET, 0, visca_ip.CONTROL)
        got = self._exchange([frame], {0: "reset"})
        ok = any(
            len(g) > 8 and g[:2] in (b"\x02\x00", b"\x02\x01") and g[8:] == b"\x01" for g in got
        )
        if ok:
            self.seq.reset()
        return ok

    def _exchange(self, frames: list[bytes], due: dict[int, str]) -> list[bytes]:
        """Send *frames*; collect datagrams until each sequence number in *due* has its
        final answer (a Completion or an error for ``completion``) or the bound passes."""
        transport = self.device.transport
        for frame in frames:
            transport.send(frame)
        waiting = dict(due)
        got: list[bytes] = []
        bound = self.device.reply_timeout
        deadline = time.monotonic() + bound
        while waiting:
            try:
                datagram = transport.recv_frame(None, max(0.0, deadline - time.monotonic()))
            except NoReply:
                break
            if not isinstance(datagram, bytes) or len(datagram) < visca_ip.HEADER_LEN:
                continue
            got.append(datagram)
            seq = int.from_bytes(datagram[4:8], "big")
            what = waiting.get(seq)
            payload = datagram[visca_ip.HEADER_LEN :]
            if what is None:
                continue
            if what == "completion" and len(payload) > 1 and payload[1] >> 4 == 4:
                deadline = time.monotonic() + float(getattr(self.device, "motion_timeout", 30))
                continue
            del waiting[seq]
        return got

    def run(self, cases: Sequence[Case]) -> list[Observation]:
        self._start_run()
        self._fresh_identity = False
        m = self.seq
        frames: list[bytes] = []
        prelude = self._reset_pending
        if prelude:
            # RESET, the barrier inquiry under number 0 (whose answer must carry 0:
            # the one check of reply numbers no misrouting can blur), RESET again
            reset = visca_ip.wrap(visca_ip.RESET, 0, visca_ip.CONTROL)
            frames += [reset, visca_ip.wrap(self.barrier, 0), reset]
            m.reset()
            self._reset_pending = False
        tracks: list[Track] = []
        by_seq: dict[int, list[Track]] = {}
        seqless = False
        for i, case in enumerate(cases):
            datagram, answer, lenient, meta = self.number(case, m)
            seq = int.from_bytes(datagram[4:8], "big") if len(datagram) >= 8 else None
            t = Track(i, case, answer, datagram, dict(meta), seq, lenient)
            if seq is None:
                seqless = True
            else:
                by_seq.setdefault(seq, []).append(t)
            tracks.append(t)
            frames.append(datagram)
        self._tracks = tracks
        self._desync: bytes | None = None
        strays = self._collect(frames, tracks, by_seq, prelude)
        pending = self.finish(tracks)
        if pending and self._desync is None:
            self._chase_ip(tracks, pending, by_seq)
        if self._desync is not None:
            strays, seqless = [self._desync], False
        if strays and not seqless:
            data = strays[0]
            seq = int.from_bytes(data[4:8], "big")
            self._observations = [o for o in self._observations if o.kind in ("malformed-reply",)]
            self._signatures = {o.signature for o in self._observations}
            self._note(
                "protocol-violation",
                f"an answer carries sequence number {seq}, not that of the request it answers",
                "reply sequence number",
                None,
                ref=IP_SEQ,
                received=data,
                expected="the sequence number of the request",
            )
        self.learn(tracks)
        return list(self._observations)

    def _collect(
        self,
        frames: list[bytes],
        tracks: list[Track],
        by_seq: dict[int, list[Track]],
        prelude: bool,
    ) -> list[bytes]:
        """Send *frames* and route the answers to *tracks*; returns stray answers."""
        transport = self.device.transport
        # The fence: a datagram of payload type 0111 (a reply, which a camera must
        # refuse with 0F 02) under a number far from the sequence, so it uses none.
        # The camera answers in order, so once the fence is answered every case
        # before it has had its immediate answers: no quiet window to wait out.
        fence = (self.seq.expected + 0x40000000) & MASK
        while fence in by_seq or fence in self._fences:
            fence = (fence + 1) & MASK
        self._fences = [*self._fences[-63:], fence]  # a late answer to one is no stray
        frames = [*frames, visca_ip.wrap(self.barrier, fence, visca_ip.REPLY)]
        for frame in frames:
            transport.send(frame, "fence" if frame is frames[-1] else "")
        fenced = False
        sent_at = time.monotonic()
        deadline = sent_at + self.device.reply_timeout
        quiet = min(self.device.reply_timeout, max(0.002, 4 * self._rtt))
        has_open = any(t.answer in ("any", "silence") for t in tracks)
        waiting = [t for t in tracks if t.answer in DEMANDED and t.seq is not None]
        stash: list[bytes] = []
        strays: list[bytes] = []
        answered: set[int] = set()
        self._cursor = 0
        phase = "reset" if prelude else "run"
        barrier = Track(None, None, "reply", visca_ip.wrap(self.barrier, 0),
                        {"row": self.barrier_row.name}, 0)  # fmt: skip
        last = sent_at
        while True:
            now = time.monotonic()
            pending = any(t.state == 1 for t in tracks)
            if waiting or phase != "run":
                until = deadline
            elif not fenced and (has_open or pending):
                until = min(deadline, last + quiet)
            else:
                break
            try:
                datagram = transport.recv_frame(None, max(0.0, until - now))
            except NoReply:
                break
            if not isinstance(datagram, bytes):
                continue
            last = time.monotonic()
            if phase == "reset":
                if _is_reset_ack(datagram):
                    phase = "barrier"
                    stash.clear()  # sent before the camera took our RESET: stale
                else:
                    stash.append(datagram)
                continue
            if datagram[4:8] == fence.to_bytes(4, "big"):
                fenced = True
                continue
            if int.from_bytes(datagram[4:8], "big") in self._fences:
                continue
            if phase == "barrier":
                phase = "reset2"
                self._barrier_answer_ip(barrier, datagram)
                continue
            if phase == "reset2" and _is_reset_ack(datagram):
                phase = "run"
                continue
            seq = self._route(datagram, by_seq, strays)
            if seq is not None:
                answered.add(seq)
                waiting = [t for t in waiting if t.state == 0]
        if phase == "reset":
            self._note("no-response", "RESET not acknowledged", "RESET", None, ref=IP_RESET,
                       expected="control reply 02 01 00 01 .. 01")  # fmt: skip
            for t in tracks:  # the numbering is unknown: sequence errors are no findings
                t.lenient = True
                t.answer = "any" if t.answer == "seq-error" else t.answer
            for datagram in stash:
                self._route(datagram, by_seq, strays)
            # the numbering is unknown, so no pairing can be trusted: that one finding
            self._observations = [o for o in self._observations
                                  if o.kind == "malformed-reply" or o.key == "RESET"]  # fmt: skip
            self._signatures = {o.signature for o in self._observations}
            strays.clear()
        elif phase == "barrier":
            self.finish([barrier])
        last_seq = next((t.seq for t in reversed(tracks) if t.seq is not None), None)
        answered_last = fenced or (last_seq is not None and last_seq in answered)
        self._alive = not waiting and phase == "run" and answered_last
        return strays

    def _barrier_answer_ip(self, barrier: Track, datagram: bytes) -> None:
        """The prelude's inquiry (number 0) was answered with *datagram*."""
        if datagram[4:8] != bytes(4):
            self._desync = datagram
            return
        payload = datagram[visca_ip.HEADER_LEN :]
        framed = int.from_bytes(datagram[2:4], "big") == len(payload) <= visca_ip.MAX_PAYLOAD
        if datagram[:2] == b"\x01\x11" and payload:
            self.feed(barrier, payload, framed=framed)

    def _route(
        self, datagram: bytes, by_seq: dict[int, list[Track]], strays: list[bytes]
    ) -> int | None:
        """Give one received datagram to the case whose sequence number it carries."""
        if len(datagram) < visca_ip.HEADER_LEN:
            self._note(
                "malformed-reply",
                f"{len(datagram)}-byte datagram, shorter than the header",
                "reply header",
                None,
                ref=IP,
                received=datagram,
                expected="an 8-byte header and a payload",
            )
            return None
        ptype = int.from_bytes(datagram[:2], "big")
        declared = int.from_bytes(datagram[2:4], "big")
        seq = int.from_bytes(datagram[4:8], "big")
        payload = datagram[visca_ip.HEADER_LEN :]
        candidates = by_seq.get(seq)
        if candidates is None:
            strays.append(datagram)
            return None
        framed = declared == len(payload) and 1 <= declared <= visca_ip.MAX_PAYLOAD
        if not framed:
            self._note(
                "malformed-reply",
                f"payload length field {declared} but {len(payload)} bytes follow",
                "reply payload length",
                candidates[0],
                ref=IP_LENGTH,
                received=datagram,
                expected="the length of the payload, 1..16",
            )
        if ptype in (visca_ip.CONTROL, visca_ip.CONTROL_REPLY):
            t = self._pick(candidates, payload, control=True)
            self._feed_control(t, ptype, payload, datagram)
            return seq
        if ptype != visca_ip.REPLY:
            self._note(
                "protocol-violation",
                f"answer has payload type {ptype:04X}",
                "reply payload type",
                candidates[0],
                ref=IP_TYPE,
                received=datagram,
                expected="0111 (VISCA reply)",
            )
        t = self._pick(candidates, payload)
        self.feed(t, payload, framed=framed)
        return seq

    def _pick(self, candidates: list[Track], payload: bytes, control: bool = False) -> Track:
        """The case an answer with this sequence number belongs to.

        The camera takes datagrams in the order sent and answers each at once (a
        Completion may come later, on the socket its ACK named); numbers repeat
        after a RESET and after a datagram the camera had to refuse.  So an answer
        goes to the first case, from the last one answered on, that waits for an
        answer of its kind (a control ACK only answers a RESET, a VISCA reply never
        does), else to the first case still waiting at all."""
        if control:
            reset = payload == visca_ip.CONTROL_ACK
            able = [t for t in candidates if _is_reset(t.sent) == reset]
            wanted = CONTROL_ANSWERS
        else:
            parsed = parse_reply(payload)
            if isinstance(parsed, tuple) and (
                parsed[0] == "completion" or (parsed[0] == "error" and parsed[2] in (0x04, 0x41))
            ):
                holders = [t for t in candidates if t.state == 1]
                for t in reversed(holders):  # the latest ACK on a socket holds it
                    if t.socket == parsed[1]:
                        return t
                # on another socket: Completion names the wrong one (y0 50 FF, "socket 0",
                # is IF_Clear's answer, not a Completion)
                if parsed[0] == "completion" and parsed[1] and holders:
                    return holders[-1]
            able = [t for t in candidates if not _is_reset(t.sent)]
            wanted = VISCA_ANSWERS
        able = able or candidates
        after = [t for t in able if t.state == 0 and (t.index or 0) >= self._cursor]
        chosen = next((t for t in after if t.answer in wanted), after[0] if after else None)
        chosen = chosen or next((t for t in able if t.state == 0), None)
        if chosen is None:
            return next((t for t in able if t.state == 1), able[-1])
        self._cursor = max(self._cursor, chosen.index or 0)
        return chosen

    def _feed_control(self, t: Track, ptype: int, payload: bytes, datagram: bytes) -> None:
        code = {b"\x01": "ack", b"\x0f\x01": "seq", b"\x0f\x02": "type"}.get(payload)
        if code is None:
            self._note(
                "malformed-reply",
                f"control payload {payload.hex(' ').upper()}",
                "control payload",
                t,
                ref=IP,
                received=datagram,
                expected="01, 0F 01 or 0F 02",
            )
            t.state = 2
            return
        a = t.answer
        names = {"ack": "ACK 01", "seq": "Sequence_Error 0F 01", "type": "Message_Type_Error 0F 02"}
        bad: tuple[str, str] | None = None
        if a == "reset-ack":
            if code != "ack" or ptype != visca_ip.CONTROL_REPLY:
                bad = ("RESET answer", "control reply 0201 carrying 01")
        elif a == "seq-error":
            if not (code == "seq" or (code == "type" and t.lenient)):
                bad = ("answer to an out-of-order number", "0F 01 (sequence number)")
        elif a == "type-error":
            if not (code == "type" or (code == "seq" and t.lenient)):
                bad = (str(t.meta.get("ip_key", "bad header")), "0F 02 (message type)")
        elif a == "any" or (code == "seq" and t.lenient):
            pass
        elif code == "seq":
            bad = (
                "Sequence_Error for the expected number",
                "a VISCA reply (the number is the one the device expects)",
            )
        elif code == "type":
            bad = ("Message_Type_Error for a well-formed datagram", "a VISCA reply")
        else:
            bad = ("control ACK for a VISCA message", "a VISCA reply")
        if bad is not None:
            ref = IP_RESET if a == "reset-ack" else IP_SEQ if code == "seq" else IP_TYPE
            self._note(
                "protocol-violation",
                f"answered control {names[code]} (type {ptype:04X})",
                bad[0],
                t,
                ref=ref,
                received=datagram,
                expected=bad[1],
            )
        t.state = 2

    def _chase_ip(
        self, tracks: list[Track], pending: list[Track], by_seq: dict[int, list[Track]]
    ) -> None:
        """Cancel each socket an ACKed command still holds (numbers from the model)."""
        sockets = sorted({t.socket for t in pending})
        frames, cancels = [], {}
        for socket in sockets:
            seq = self.seq.take()
            cancels[seq] = socket
            frames.append(
                visca_ip.wrap(visca.build("Cancel", self.address, socket=socket & 0xF), seq)
            )
        transport = self.device.transport
        for frame in frames:
            transport.send(frame)
        answers: dict[int, int | None] = dict.fromkeys(sockets)
        deadline = time.monotonic() + self.device.reply_timeout
        left = set(cancels)
        strays: list[bytes] = []
        while left:
            try:
                datagram = transport.recv_frame(None, max(0.0, deadline - time.monotonic()))
            except NoReply:
                break
            if not isinstance(datagram, bytes) or len(datagram) < 8:
                continue
            seq = int.from_bytes(datagram[4:8], "big")
            if seq in cancels:
                parsed = parse_reply(datagram[8:])
                if isinstance(parsed, tuple) and parsed[0] == "error":
                    answers[cancels[seq]] = parsed[2]
                left.discard(seq)
            else:
                self._route(datagram, by_seq, strays)
        self.judge_pending(tracks, pending, answers)
        self._alive = self._alive and not left

    def probe(self) -> str | None:
        if self._alive:
            return None
        seq = self.seq.take()
        frame = visca_ip.wrap(self.barrier, seq)
        transport = self.device.transport
        transport.send(frame, "liveness probe")
        deadline = time.monotonic() + self.device.reply_timeout
        while True:
            try:
                datagram = transport.recv_frame(None, max(0.0, deadline - time.monotonic()))
            except NoReply:
                return f"no answer to {self.probe_name} within {self.device.reply_timeout:g} s"
            if not isinstance(datagram, bytes) or len(datagram) < 8:
                continue
            payload = datagram[8:]
            mine = int.from_bytes(datagram[4:8], "big") == seq
            if mine or self._is_barrier_answer(payload):
                if datagram[:2] == b"\x01\x11" and self.barrier_row.name == "Version_Inq":
                    self._identity_seen(payload)
                return None

    def _prepare_state_check(self) -> None:
        if self.seq.lost or self.seq.fuzzy:
            self._sync()

    def _ask(self, message: bytes, command: bool) -> list[bytes]:
        seq = self.seq.take()
        got = self._exchange(
            [visca_ip.wrap(message, seq)], {seq: "completion" if command else "reply"}
        )
        return [g[8:] for g in got if int.from_bytes(g[4:8], "big") == seq]
