"""The Pelco command table, written once for Pelco-D and Pelco-P.

Source: AVer spec (``aver-visca-pelco-spec.txt``) §3.2.2 PELCO P and §3.2.3
PELCO D.  Both variants carry the same four command bytes (spec bytes 3..6)
inside a different frame:

* Pelco-D: ``FF addr cmd1 cmd2 data1 data2 sum`` (7 bytes, checksum "2~6 SUM").
* Pelco-P: ``A0 addr data1 data2 data3 data4 AF xor`` (8 bytes, checksum "1~7 XOR").

Byte 4 bit 0 (the "P/T bit") selects the standard pan/tilt command (0), whose
bits are described by :class:`Variant`, or an extended command (1), one
:class:`Row` of :data:`COMMANDS`; AVer names the extended commands the same in
both variants.  Adding a command is one row.

Bits AVer marks NA are named after the common (non-AVer) Pelco-D/P bit tables
so that a frame from a generic controller decodes into something readable; any
such bit is still a problem against AVer's table.  Known real-world dialects
(checksum ``sum % 100``, address off by one, focus bits in the other variant's
positions) are reported as problems that name the dialect.

Focus bits (NA in AVer's tables) follow the common definitions: Pelco-D
byte3.0 focus near and byte4.7 focus far; Pelco-P byte3.0 focus far and byte3.1
focus near.  Controllers that put focus at the other variant's positions (e.g.
Pelco-P frames using the Pelco-D ``00 80`` / ``01 00`` focus bytes, as some
camera manuals list them) are the "focus bits swapped" dialect.  A bit that both
layouts use (byte3.0) cannot reveal the dialect and decodes by this variant's
layout.

Spec bytes are numbered from 1 as in the spec ("byte3.7" is bit 7 of the third
byte); Python indexes are that number minus one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import reduce
from operator import xor
from typing import Any

from scapy.fields import FlagsField
from scapy.packet import Packet, Raw

from dissectors.decoded import Decoded

SPEC = "aver-visca-pelco-spec.txt"
P_SECTION = "§3.2.2"
D_SECTION = "§3.2.3"

PELCO_D = "pelco-d"
PELCO_P = "pelco-p"

#: Both tables' notes: "speed = 0x00~0x30", "Preset # : 0x01 ~ 0x7F", "Profile # : 0x01 ~ 0x05".
SPEED_RANGE = (0x00, 0x30)
PRESET_RANGE = (0x01, 0x7F)
PROFILE_RANGE = (0x01, 0x05)

#: Spec byte that carries the extended commands' parameter (D "data2", P "data4").
PARAM_BYTE = 6


# ---------------------------------------------------------------- extended commands


@dataclass(frozen=True)
class Row:
    """One extended command (P/T bit = 1) of §3.2.2 and §3.2.3.

    Its bytes 3..6 are ``00 opcode 00 parameter`` (``00`` if ``param`` is None).
    """

    name: str
    opcode: int
    group: str
    param: str | None = None
    param_range: tuple[int, int] | None = None
    param_byte: int = PARAM_BYTE
    sections: tuple[tuple[str, str], ...] = ((PELCO_P, P_SECTION), (PELCO_D, D_SECTION))

    def section(self, protocol: str) -> str:
        """Where *protocol* (``"pelco-d"`` or ``"pelco-p"``) defines this row."""
        return dict(self.sections)[protocol]

    def ref(self, protocol: str) -> str:
        """Requirement reference used in findings and Allure labels."""
        return f"{VARIANTS[protocol].label} {self.section(protocol)} {self.name}"

    def body(self, value: int | None = None) -> bytes:
        """Bytes 3..6; *value* defaults to the low end of the parameter's range."""
        if self.param is None:
            if value is not None:
                raise ValueError(f"{self.name} takes no parameter")
            return bytes([0x00, self.opcode, 0x00, 0x00])
        assert self.param_range is not None
        return bytes([0x00, self.opcode, 0x00, _byte(self.param, value, self.param_range[0])])


def row(
    name: str,
    opcode: int,
    group: str,
    param: str | None = None,
    param_range: tuple[int, int] | None = None,
) -> Row:
    return Row(name, opcode, group, param, param_range)


#: The extended command set, §3.2.2 and §3.2.3 (the same rows in both).
COMMANDS: tuple[Row, ...] = (
    row("Set Preset", 0x03, "Presets", "preset", PRESET_RANGE),
    row("Go To Preset", 0x07, "Presets", "preset", PRESET_RANGE),
    row("Track ON", 0x65, "Tracking"),
    row("Track OFF", 0x67, "Tracking"),
    row("WOL ON", 0x69, "Wake on LAN"),
    row("WOL OFF", 0x6B, "Wake on LAN"),
    row("Read Profile", 0x6D, "Profiles", "profile", PROFILE_RANGE),
    row("Save To Profile", 0x6F, "Profiles", "profile", PROFILE_RANGE),
    row("Track Trigger", 0x63, "Tracking"),
)

BY_NAME: dict[str, Row] = {r.name: r for r in COMMANDS}
BY_OPCODE: dict[int, Row] = {r.opcode: r for r in COMMANDS}


# ---------------------------------------------------------------- standard commands

#: Byte 4 ("cmd 2" / "data2"), least significant bit first; the same in both
#: variants except bit 7, which AVer marks NA (focus far in common Pelco-D).
_BYTE4 = ("pt_bit", "pan_right", "pan_left", "tilt_up", "tilt_down", "zoom_tele", "zoom_wide")

#: Byte-4 bits AVer defines for pan/tilt commands, in name order.
MOTION_BITS = ("pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_tele", "zoom_wide")
PT_BIT = 0  # byte4.0: 0 = pan/tilt command, 1 = extended command

#: Parts of a standard command's name, in the order they are joined with " + ".
_PARTS: tuple[tuple[str, str], ...] = (
    ("pan_left", "Pan Left"),
    ("pan_right", "Pan Right"),
    ("tilt_up", "Tilt Up"),
    ("tilt_down", "Tilt Down"),
    ("zoom_tele", "Zoom Tele"),
    ("zoom_wide", "Zoom Wide"),
    ("focus_near", "Focus Near"),
    ("focus_far", "Focus Far"),
)
STOP = "Stop"
CAMERA_ON = "Camera On"
CAMERA_OFF = "Camera Off"

#: Standard commands worth naming on their own, for emulators and suite parametrization.
PT_NAMES: tuple[str, ...] = (
    STOP,
    "Pan Left",
    "Pan Right",
    "Tilt Up",
    "Tilt Down",
    "Pan Left + Tilt Up",
    "Pan Right + Tilt Up",
    "Pan Left + Tilt Down",
    "Pan Right + Tilt Down",
    "Zoom Tele",
    "Zoom Wide",
    CAMERA_ON,
    CAMERA_OFF,
)


@dataclass(frozen=True)
class Variant:
    """What differs between Pelco-D (§3.2.3) and Pelco-P (§3.2.2)."""

    protocol: str
    label: str
    section: str
    frame_len: int
    #: (spec byte, value, spec name) of the constant framing bytes.
    framing: tuple[tuple[int, int, str], ...]
    checksum_rule: str
    checksum: Callable[[bytes], int]
    #: Byte 3 and byte 4 bit names, least significant bit first.
    byte3: tuple[str, ...]
    byte4: tuple[str, ...]
    #: Byte-3 bit that turns "CAM ON/OFF" into power on (D "SENSE ON", P "CAM ON").
    power_on: str
    #: Addresses as the spec's ADDR column writes them, and as integers.
    pt_address_text: str
    pt_addresses: tuple[int, int]
    ext_address_text: str
    ext_addresses: tuple[int, int]
    #: Wire address of the first camera (D counts from 1, P from 0).
    first_address: int
    #: (dialect name, wrong checksum it computes) pairs to recognise.
    checksum_dialects: tuple[tuple[str, Callable[[bytes], int]], ...] = ()

    @property
    def other(self) -> Variant:
        return VARIANTS[PELCO_P if self.protocol == PELCO_D else PELCO_D]

    @property
    def aver_bits(self) -> frozenset[tuple[int, str]]:
        """(spec byte, name) of the bits AVer's table defines for pan/tilt commands."""
        return frozenset(
            {(3, self.power_on), (3, "camera_on_off"), (4, "pt_bit")}
            | {(4, name) for name in MOTION_BITS}
        )

    @property
    def focus(self) -> dict[tuple[int, int], str]:
        """(spec byte, bit) -> focus_near/focus_far in the common layout of this variant."""
        return {
            (byte, bit): name
            for byte, names in ((3, self.byte3), (4, self.byte4))
            for bit, name in enumerate(names)
            if name.startswith("focus_")
        }

    def camera_address(self, camera: int) -> int:
        """Wire address of camera 1, 2, ... (§3.2.3 ADDR "1~8", §3.2.2 "0~7")."""
        return camera - 1 + self.first_address

    def bit_names(self) -> frozenset[str]:
        return frozenset(self.byte3) | frozenset(self.byte4)


def sum_checksum(frame: bytes) -> int:
    """§3.2.3 "2~6 SUM": bytes 2..6, modulo 256."""
    return sum(frame[1:6]) & 0xFF


def sum_100_checksum(frame: bytes) -> int:
    """Bytes 2..6 modulo 100: a controller bug seen in the field, not the spec."""
    return sum(frame[1:6]) % 100


def xor_checksum(frame: bytes) -> int:
    """§3.2.2 "1~7 XOR": bytes 1..7, STX and ETX included."""
    return reduce(xor, frame[:7], 0)


VARIANTS: dict[str, Variant] = {
    PELCO_D: Variant(
        protocol=PELCO_D,
        label="Pelco-D",
        section=D_SECTION,
        frame_len=7,
        framing=((1, 0xFF, "SYNC"),),
        checksum_rule="2~6 SUM",
        checksum=sum_checksum,
        byte3=(
            "focus_near",
            "iris_open",
            "iris_close",
            "camera_on_off",
            "auto_scan",
            "byte3_bit5",
            "byte3_bit6",
            "sense_on",
        ),
        byte4=(*_BYTE4, "focus_far"),
        power_on="sense_on",
        # "1~80" is read as hex like the rest of the ADDR column ("0~7F" in
        # §3.2.2): 0x01..0x80 is the same 128 cameras as Pelco-P's 0x00..0x7F.
        pt_address_text="1~80",
        pt_addresses=(0x01, 0x80),
        ext_address_text="1~8",
        ext_addresses=(0x01, 0x08),
        first_address=1,
        checksum_dialects=(("sum % 100", sum_100_checksum),),
    ),
    PELCO_P: Variant(
        protocol=PELCO_P,
        label="Pelco-P",
        section=P_SECTION,
        frame_len=8,
        framing=((1, 0xA0, "STX"), (7, 0xAF, "ETX")),
        checksum_rule="1~7 XOR",
        checksum=xor_checksum,
        byte3=(
            "focus_far",
            "focus_near",
            "iris_open",
            "iris_close",
            "camera_on_off",
            "auto_scan",
            "camera_on",
            "byte3_bit7",
        ),
        byte4=(*_BYTE4, "byte4_bit7"),
        power_on="camera_on",
        pt_address_text="0~7F",
        pt_addresses=(0x00, 0x7F),
        ext_address_text="0~7",
        ext_addresses=(0x00, 0x07),
        first_address=0,
    ),
}


def pt_name(variant: Variant, bits: Mapping[str, bool]) -> str:
    """A standard command's name as a user reads it, e.g. ``"Pan Right + Tilt Down"``.

    ``"Camera Off"`` is CAM ON/OFF without the power-on bit (both tables' "power
    off" note), ``"Camera On"`` is both; nothing set is ``"Stop"``.
    """
    parts = []
    if bits.get("camera_on_off"):
        parts.append(CAMERA_ON if bits.get(variant.power_on) else CAMERA_OFF)
    parts += [label for name, label in _PARTS if bits.get(name)]
    return " + ".join(parts) or STOP


def pt_bits(variant: Variant, name: str) -> set[str]:
    """Bit names that :func:`pt_name` turns into *name*; KeyError if it is not one."""
    if name == STOP:
        return set()
    by_label = {label: {bit} for bit, label in _PARTS}
    by_label[CAMERA_ON] = {variant.power_on, "camera_on_off"}
    by_label[CAMERA_OFF] = {"camera_on_off"}
    bits: set[str] = set()
    for part in name.split(" + "):
        if part not in by_label:
            raise KeyError(f"{name!r} is neither a Pelco table row nor a pan/tilt name")
        bits |= by_label[part]
    return bits


def _byte(name: str, value: int | None, default: int) -> int:
    value = default if value is None else value
    if not isinstance(value, int) or not 0 <= value <= 0xFF:
        raise ValueError(f"{name}={value!r} does not fit in a byte")
    return value


def pt_body(
    variant: Variant, bits: set[str] | frozenset[str], pan_speed: int = 0, tilt_speed: int = 0
) -> bytes:
    """Bytes 3..6 of a standard command with the named bits set (P/T bit stays 0)."""
    unknown = set(bits) - variant.bit_names()
    if unknown:
        raise ValueError(f"no {variant.label} bits named {sorted(unknown)}")
    byte3 = sum(1 << i for i, n in enumerate(variant.byte3) if n in bits)
    byte4 = sum(1 << i for i, n in enumerate(variant.byte4) if n in bits)
    return bytes(
        [
            byte3,
            byte4,
            _byte("pan_speed", pan_speed, 0),
            _byte("tilt_speed", tilt_speed, 0),
        ]
    )


def body(variant: Variant, name: str, **params: Any) -> bytes:
    """Bytes 3..6 of table row or pan/tilt command *name*.

    A row takes its parameter by name (``preset=5``), defaulting to the low end
    of its range.  A pan/tilt name (see :func:`pt_name`) takes ``pan_speed``,
    ``tilt_speed`` and extra bits by name (``focus_near=True``).  Values only
    have to fit in a byte, so out-of-range frames can be built on purpose.
    """
    command = BY_NAME.get(name)
    if command is not None:
        unknown = set(params) - ({command.param} if command.param else set())
        if unknown:
            raise ValueError(f"{name} takes no {sorted(unknown)}")
        return command.body(params.get(command.param) if command.param else None)
    bits = pt_bits(variant, name)
    pan_speed = params.pop("pan_speed", 0)
    tilt_speed = params.pop("tilt_speed", 0)
    for bit, on in params.items():
        (bits.add if on else bits.discard)(bit)
    unknown = set(params) - variant.bit_names()
    if unknown:
        raise ValueError(f"{name} takes no {sorted(unknown)}")
    return pt_body(variant, bits, pan_speed, tilt_speed)


# ---------------------------------------------------------------- decoding


def aligned(variant: Variant, frame: bytes) -> bool:
    """Framing bytes in place and the checksum (or a known dialect's) right: *frame*
    is aligned on a real frame, as a stream reader resynchronising needs to know
    (the same rules as :func:`_frame_problems`, without building the messages)."""
    if any(frame[number - 1] != value for number, value, _ in variant.framing):
        return False
    sums = [variant.checksum, *(compute for _, compute in variant.checksum_dialects)]
    return any(frame[-1] == compute(frame) for compute in sums)


def _frame_problems(variant: Variant, frame: bytes) -> list[str]:
    """Length, framing bytes and checksum of one frame (§3.2.2 / §3.2.3)."""
    sec = variant.section
    problems = []
    if len(frame) != variant.frame_len:
        problems.append(
            f"{len(frame)} bytes: a {variant.label} frame is {variant.frame_len} ({sec})"
        )
    for number, value, name in variant.framing:
        if len(frame) >= number and frame[number - 1] != value:
            problems.append(
                f"byte{number} is 0x{frame[number - 1]:02X}, not {name} 0x{value:02X} ({sec})"
            )
    if len(frame) < variant.frame_len:
        return problems
    actual = frame[variant.frame_len - 1]
    expected = variant.checksum(frame)
    if actual == expected:
        return problems
    for dialect, compute in variant.checksum_dialects:
        if actual == compute(frame):
            problems.append(
                f"checksum 0x{actual:02X} uses {dialect} (known dialect bug), "
                f"expected 0x{expected:02X} ({variant.checksum_rule}, {sec})"
            )
            return problems
    problems.append(
        f"bad checksum 0x{actual:02X}, expected 0x{expected:02X} ({variant.checksum_rule}, {sec})"
    )
    return problems


def _address_problems(
    variant: Variant, address: int, extended: bool, expected: int | None
) -> list[str]:
    sec = variant.section
    problems = []
    low, high = variant.ext_addresses if extended else variant.pt_addresses
    text = variant.ext_address_text if extended else variant.pt_address_text
    kind = "extended" if extended else "pan/tilt"
    if not low <= address <= high:
        problems.append(
            f"address 0x{address:02X} outside {kind} ADDR {text} (0x{low:02X}..0x{high:02X}, {sec})"
        )
    if expected is not None and address != expected:
        if abs(address - expected) == 1:
            basis = "0-based" if variant.first_address == 0 else "1-based"
            problems.append(
                f"address 0x{address:02X} but expected 0x{expected:02X}: address off by one "
                f"(known dialect; {variant.label} addresses are {basis}, camera 1 = "
                f"0x{variant.first_address:02X}, {sec})"
            )
        else:
            problems.append(f"address 0x{address:02X} but expected 0x{expected:02X} ({sec})")
    return problems


def _pt_fields(variant: Variant, body: bytes) -> tuple[dict[str, Any], list[str]]:
    """Bits, speeds and problems of a standard command's bytes 3..6."""
    sec = variant.section
    fields: dict[str, Any] = {}
    problems: list[str] = []
    other_focus = variant.other.focus
    own_focus = variant.focus
    for number, names in ((3, variant.byte3), (4, variant.byte4)):
        for bit, name in enumerate(names):
            if not body[number - 3] >> bit & 1 or name == "pt_bit":
                continue
            if (number, name) in variant.aver_bits:
                fields[name] = True
                continue
            common = "reserved" if name.startswith("byte") else name.replace("_", " ")
            if (number, bit) in own_focus:
                fields[name] = True
            if (number, bit) in other_focus and (number, bit) not in own_focus:
                problems.append(
                    f"byte{number}.{bit} set: {other_focus[(number, bit)].replace('_', ' ')} in "
                    f"the {variant.other.label} layout, focus bits swapped (known dialect); "
                    f"{common} in common {variant.label}, NA in AVer's table ({sec})"
                )
            else:
                problems.append(
                    f"byte{number}.{bit} set ({common} in common {variant.label}): "
                    f"bit marked NA in AVer's table ({sec})"
                )
    for first, second in (("pan_left", "pan_right"), ("tilt_up", "tilt_down")):
        if fields.get(first) and fields.get(second):
            problems.append(f"{first} and {second} both set ({sec})")
    if fields.get("zoom_tele") and fields.get("zoom_wide"):
        problems.append(f"zoom_tele and zoom_wide both set ({sec})")
    for name, value in (("pan_speed", body[2]), ("tilt_speed", body[3])):
        fields[name] = value
        if value > SPEED_RANGE[1]:
            problems.append(
                f"{name} 0x{value:02X} above 0x{SPEED_RANGE[1]:02X} (speed = 0x00~0x30, {sec})"
            )
    return fields, problems


def _extended_fields(variant: Variant, body: bytes) -> tuple[str, dict[str, Any], list[str]]:
    """Name, parameter and problems of an extended command's bytes 3..6."""
    sec = variant.section
    opcode = body[1]
    command = BY_OPCODE.get(opcode)
    problems: list[str] = []
    if body[0]:
        problems.append(
            f"P/T bit byte4.0 = 1 (extended) but byte3 is 0x{body[0]:02X}, not 0x00: "
            f"standard command bits in an extended command ({sec})"
        )
    if body[2]:
        problems.append(f"byte5 is 0x{body[2]:02X}, the extended command set has 0x00 ({sec})")
    if command is None:
        problems.append(f"unknown extended opcode 0x{opcode:02X} in byte4 ({sec})")
        return "unknown", {"opcode": opcode}, problems
    fields: dict[str, Any] = {}
    value = body[3]
    if command.param is None:
        if value:
            problems.append(f"byte6 is 0x{value:02X}, {command.name} has 0x00 ({sec})")
    else:
        assert command.param_range is not None
        low, high = command.param_range
        fields[command.param] = value
        if not low <= value <= high:
            problems.append(
                f"{command.param} 0x{value:02X} outside 0x{low:02X}..0x{high:02X} ({sec})"
            )
    return command.name, fields, problems


def decode_frame(variant: Variant, data: bytes, expected_address: int | None = None) -> Decoded:
    """Name, fields and problems of one frame of *variant*; never raises."""
    raw = bytes(data)
    problems = _frame_problems(variant, raw)
    fields: dict[str, Any] = {}
    if len(raw) >= 2:
        fields["address"] = raw[1]
    if len(raw) < variant.frame_len:
        return Decoded(variant.protocol, "unknown", fields, problems, raw)
    frame_body = raw[2:6]
    extended = bool(frame_body[1] >> PT_BIT & 1)
    problems += _address_problems(variant, raw[1], extended, expected_address)
    if extended:
        name, more, body_problems = _extended_fields(variant, frame_body)
    else:
        more, body_problems = _pt_fields(variant, frame_body)
        name = pt_name(variant, more)
    fields.update(more)
    fields["checksum"] = raw[variant.frame_len - 1]
    return Decoded(variant.protocol, name, fields, problems + body_problems, raw)


# ---------------------------------------------------------------- Scapy helpers


class OpcodeFlagsField(FlagsField):
    """Byte 4: the pan/tilt bits, or the extended command's opcode when the P/T bit is 1."""

    def i2repr(self, pkt: Packet | None, x: Any) -> str:
        value = int(x or 0)
        if value & 1:
            command = BY_OPCODE.get(value)
            return f"0x{value:02X} ({command.name if command else 'unknown extended'})"
        return str(super().i2repr(pkt, x))


class PelcoFrame(Packet):
    """Common behaviour of the fixed-length Pelco layers (§3.2.2, §3.2.3).

    The checksum is computed in ``post_build`` when left None.  A truncated
    frame dissects without raising and rebuilds to the same bytes; bytes past
    the frame dissect as the next frame if they start with the frame's first
    byte, else as ``Raw``.  The AVer tables define no replies, so ``answers()``
    is always 0 and ``hashret()`` is the address.
    """

    variant: Variant

    def post_build(self, pkt: bytes, pay: bytes) -> bytes:
        if self.checksum is None and len(pkt) == self.variant.frame_len:
            pkt = pkt[:-1] + bytes([self.variant.checksum(pkt)])
        return pkt + pay

    def do_dissect(self, s: bytes) -> bytes:
        size = self.variant.frame_len
        if len(s) >= size:
            return super().do_dissect(s)
        super().do_dissect(s + bytes(size - len(s)))
        for fld in self.fields_desc[len(s) :]:
            self.fields.pop(fld.name, None)
        self.raw_packet_cache = s
        return b""

    def guess_payload_class(self, payload: bytes) -> type[Packet]:
        next_frame = {self.variant.framing[0][1]: type(self)}
        return next_frame.get(payload[0], Raw) if payload else Raw

    def hashret(self) -> bytes:
        return bytes([self.address or 0])

    def answers(self, other: Packet) -> int:
        return 0

    def frame_bytes(self) -> bytes:
        """This layer's own bytes, without what follows it."""
        return bytes(self)[: self.variant.frame_len]

    def decoded(self) -> Decoded:
        return decode_frame(self.variant, self.frame_bytes())

    def mysummary(self) -> str:
        decoded = self.decoded()
        address = decoded.fields.get("address")
        at = f" address=0x{address:02X}" if address is not None else ""
        return f"{self.variant.label} {decoded.name}{at}"


class Codec:
    """Build and decode one variant's frames with its Scapy layer; each variant
    module exposes these bound methods as its ``build``, ``decode``... ."""

    def __init__(self, variant: Variant, layer: type[PelcoFrame]) -> None:
        self.variant, self.layer = variant, layer
        # the four command/data bytes after the address, in wire order
        self.body_fields = [f.name for f in layer.fields_desc][2:6]

    def camera_address(self, camera: int) -> int:
        """Wire address of camera 1, 2, ..."""
        return self.variant.camera_address(camera)

    def build(self, name: str, address: int | None = None, *, checksum: int | None = None,
              **params: Any) -> bytes:  # fmt: skip
        """Wire bytes of table row or pan/tilt command *name* (see :func:`body`);
        *checksum* overrides the computed one to craft bad frames."""
        return self.frame(address, body(self.variant, name, **params), checksum)

    def build_pt(self, address: int | None = None, *, pan_speed: int = 0, tilt_speed: int = 0,
                 checksum: int | None = None, **bits: bool) -> bytes:  # fmt: skip
        """A standard (pan/tilt) frame with the named bits set, e.g. ``pan_left=True``."""
        chosen = {b for b, on in bits.items() if on}
        return self.frame(address, pt_body(self.variant, chosen, pan_speed, tilt_speed), checksum)

    def frame(self, address: int | None, data: bytes, checksum: int | None) -> bytes:
        wire = self.variant.first_address if address is None else address
        fields = dict(zip(self.body_fields, data, strict=True))
        return bytes(self.layer(address=wire, checksum=checksum, **fields))

    def decode(self, data: bytes, *, expected_address: int | None = None) -> Decoded:
        """Name, fields and problems of one frame; never raises."""
        return decode_frame(self.variant, data, expected_address)

    def describe(self, data: bytes | str, *, expected_address: int | None = None) -> str:
        """One-line decode for transcripts."""
        if isinstance(data, str):
            return repr(data)
        return self.decode(data, expected_address=expected_address).describe()
