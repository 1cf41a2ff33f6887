"""The Pelco-D and Pelco-P dissectors against the command table and the spec.

AVer spec (``aver-visca-pelco-spec.txt``) §3.2.2 PELCO P and §3.2.3 PELCO D.
Every row of the extended command set and the pan/tilt bit combinations must
build, dissect with Scapy, round-trip and decode under their own name, in both
variants; the known dialects must be named; anything else must decode as
invalid, and no input may make a decoder or a Scapy layer raise.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import xor
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scapy.packet import Packet, Raw

from dissectors import pelco, pelco_d, pelco_p
from dissectors.pelco import COMMANDS, PT_NAMES
from dissectors.pelco_d import PelcoD
from dissectors.pelco_p import PelcoP

# ---------------------------------------------------------------- the spec, written out


@dataclass(frozen=True)
class Spec:
    """Facts of §3.2.2 / §3.2.3 the tests check against, independent of the dissector."""

    module: ModuleType
    layer: type[Packet]
    section: str
    frame_len: int
    body_fields: tuple[str, str, str, str]  # Scapy names of spec bytes 3..6
    camera_on: int  # byte3 mask of "power on" (D: SENSE ON + CAM ON/OFF, P: CAM ON + CAM ON/OFF)
    camera_off: int  # byte3 mask of "power off" (CAM ON/OFF alone)
    pt_addresses: range
    ext_addresses: range

    @property
    def protocol(self) -> str:
        return str(self.module.PROTOCOL)

    def frame(self, address: int, body: bytes, checksum: int | None = None) -> bytes:
        """A frame with the spec's framing and checksum around bytes 3..6."""
        if self.module is pelco_d:
            head = bytes([0xFF, address]) + body
            return head + bytes([sum(head[1:6]) % 256 if checksum is None else checksum])
        head = bytes([0xA0, address]) + body + b"\xaf"
        return head + bytes([reduce(xor, head, 0) if checksum is None else checksum])

    def checksum_ok(self, frame: bytes) -> bool:
        if self.module is pelco_d:
            return frame[6] == sum(frame[1:6]) % 256
        return frame[7] == reduce(xor, frame[:7], 0)

    def framing_ok(self, frame: bytes) -> bool:
        if self.module is pelco_d:
            return frame[0] == 0xFF
        return frame[0] == 0xA0 and frame[6] == 0xAF


D = Spec(
    pelco_d,
    PelcoD,
    "§3.2.3",
    7,
    ("cmd1", "cmd2", "data1", "data2"),
    camera_on=0x88,
    camera_off=0x08,
    pt_addresses=range(0x01, 0x81),
    ext_addresses=range(0x01, 0x09),
)
P = Spec(
    pelco_p,
    PelcoP,
    "§3.2.2",
    8,
    ("data1", "data2", "data3", "data4"),
    camera_on=0x50,
    camera_off=0x10,
    pt_addresses=range(0x00, 0x80),
    ext_addresses=range(0x00, 0x08),
)
SPECS = (D, P)

PRESETS = range(0x01, 0x80)
PROFILES = range(0x01, 0x06)
NONE = range(0x00, 0x01)
#: The extended command set: name -> (byte4 opcode, allowed byte6), both variants.
EXTENDED: dict[str, tuple[int, range]] = {
    "Set Preset": (0x03, PRESETS),
    "Go To Preset": (0x07, PRESETS),
    "Track ON": (0x65, NONE),
    "Track OFF": (0x67, NONE),
    "WOL ON": (0x69, NONE),
    "WOL OFF": (0x6B, NONE),
    "Read Profile": (0x6D, PROFILES),
    "Save To Profile": (0x6F, PROFILES),
    "Track Trigger": (0x63, NONE),
}
BY_OPCODE = {opcode: allowed for opcode, allowed in EXTENDED.values()}

#: byte4 bits of the pan/tilt table, the same in both variants.
PAN_RIGHT, PAN_LEFT, TILT_UP, TILT_DOWN, ZOOM_TELE, ZOOM_WIDE = (1 << b for b in range(1, 7))
SPEED_MAX = 0x30

#: (byte3, byte4) of each named pan/tilt command; byte3 only for the power commands.
PT_BYTES: dict[str, tuple[str | int, int]] = {
    "Stop": (0, 0),
    "Pan Left": (0, PAN_LEFT),
    "Pan Right": (0, PAN_RIGHT),
    "Tilt Up": (0, TILT_UP),
    "Tilt Down": (0, TILT_DOWN),
    "Pan Left + Tilt Up": (0, PAN_LEFT | TILT_UP),
    "Pan Right + Tilt Up": (0, PAN_RIGHT | TILT_UP),
    "Pan Left + Tilt Down": (0, PAN_LEFT | TILT_DOWN),
    "Pan Right + Tilt Down": (0, PAN_RIGHT | TILT_DOWN),
    "Zoom Tele": (0, ZOOM_TELE),
    "Zoom Wide": (0, ZOOM_WIDE),
    "Camera On": ("on", 0),
    "Camera Off": ("off", 0),
}


def spec_valid(spec: Spec, frame: bytes) -> bool:
    """The oracle, written from the spec tables, not from decode()."""
    if len(frame) != spec.frame_len or not spec.framing_ok(frame):
        return False
    if not spec.checksum_ok(frame):
        return False
    address, byte3, byte4, byte5, byte6 = frame[1:6]
    if byte4 & 1:  # P/T bit: extended
        return (
            address in spec.ext_addresses
            and byte3 == 0
            and byte5 == 0
            and byte4 in BY_OPCODE
            and byte6 in BY_OPCODE[byte4]
        )
    return (
        address in spec.pt_addresses
        and byte3 & ~spec.camera_on == 0
        and byte4 & 0x80 == 0  # bit 7 NA
        and byte5 <= SPEED_MAX
        and byte6 <= SPEED_MAX
        and byte4 & (PAN_LEFT | PAN_RIGHT) != PAN_LEFT | PAN_RIGHT
        and byte4 & (TILT_UP | TILT_DOWN) != TILT_UP | TILT_DOWN
        and byte4 & (ZOOM_TELE | ZOOM_WIDE) != ZOOM_TELE | ZOOM_WIDE
    )


def body_of(spec: Spec, pkt: Packet) -> bytes:
    return bytes(int(pkt.getfieldval(name)) for name in spec.body_fields)


def _spec_id(spec: Spec) -> str:
    return spec.protocol


def _row_id(row: pelco.Row) -> str:
    return row.name


# ---------------------------------------------------------------- the table


def test_table_is_the_spec_table() -> None:
    assert {r.name: r.opcode for r in COMMANDS} == {n: op for n, (op, _) in EXTENDED.items()}
    for r in COMMANDS:
        allowed = EXTENDED[r.name][1]
        if allowed is NONE:
            assert r.param is None and r.param_range is None
        else:
            assert r.param in ("preset", "profile")
            assert r.param_range == (allowed[0], allowed[-1])
        assert r.param_byte == 6
        assert r.group
        assert (r.section("pelco-p"), r.section("pelco-d")) == ("§3.2.2", "§3.2.3")
    assert pelco.BY_NAME["Go To Preset"].ref("pelco-d") == "Pelco-D §3.2.3 Go To Preset"
    assert pelco.BY_NAME["Track ON"].ref("pelco-p") == "Pelco-P §3.2.2 Track ON"
    assert set(PT_NAMES) == set(PT_BYTES)


def test_framing_constants() -> None:
    assert (pelco_d.FRAME_LEN, pelco_d.SYNC) == (7, 0xFF)
    assert (pelco_p.FRAME_LEN, pelco_p.STX, pelco_p.ETX) == (8, 0xA0, 0xAF)
    assert [pelco_d.camera_address(c) for c in (1, 8)] == [0x01, 0x08]
    assert [pelco_p.camera_address(c) for c in (1, 8)] == [0x00, 0x07]


# ---------------------------------------------------------------- every row


@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
@pytest.mark.parametrize("row", COMMANDS, ids=_row_id)
@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_row_builds_dissects_and_round_trips(spec: Spec, row: pelco.Row, data: Any) -> None:
    opcode, allowed = EXTENDED[row.name]
    address = data.draw(st.sampled_from(spec.ext_addresses), label="address")
    value = data.draw(st.sampled_from(allowed), label="value")
    params = {row.param: value} if row.param else {}
    wire = spec.module.build(row.name, address, **params)
    assert wire == spec.frame(address, bytes([0x00, opcode, 0x00, value]))

    pkt = spec.layer(wire)
    assert bytes(pkt) == wire
    assert pkt.address == address
    assert body_of(spec, pkt) == bytes([0x00, opcode, 0x00, value])
    assert pkt.checksum == wire[-1]
    assert type(pkt.payload).__name__ == "NoPayload"

    # Built from the Scapy fields, checksum left to post_build: the same bytes.
    rebuilt = spec.layer(address=address, **dict(zip(spec.body_fields, wire[2:6], strict=True)))
    assert bytes(rebuilt) == wire

    decoded = spec.module.decode(wire, expected_address=address)
    assert decoded.name == row.name, decoded.describe()
    assert decoded.valid, decoded.problems
    assert decoded.protocol == spec.protocol
    assert decoded.fields == {"address": address, **params, "checksum": wire[-1]}
    assert pkt.decoded().fields == decoded.fields
    assert row.name in pkt.summary()


@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
@pytest.mark.parametrize("name", PT_NAMES)
@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pan_speed=st.integers(0, SPEED_MAX),
    tilt_speed=st.integers(0, SPEED_MAX),
    data=st.data(),
)
def test_pan_tilt_command_builds_dissects_and_round_trips(
    spec: Spec, name: str, pan_speed: int, tilt_speed: int, data: Any
) -> None:
    address = data.draw(st.sampled_from(spec.pt_addresses), label="address")
    byte3, byte4 = PT_BYTES[name]
    byte3 = {"on": spec.camera_on, "off": spec.camera_off}.get(byte3, byte3)  # type: ignore[arg-type]
    wire = spec.module.build(name, address, pan_speed=pan_speed, tilt_speed=tilt_speed)
    assert wire == spec.frame(address, bytes([byte3, byte4, pan_speed, tilt_speed]))

    pkt = spec.layer(wire)
    assert bytes(pkt) == wire
    assert body_of(spec, pkt) == wire[2:6]
    cmd2 = pkt.getfieldval(spec.body_fields[1])
    for bit in pelco.MOTION_BITS:
        assert bool(getattr(cmd2, bit)) == (bit.replace("_", " ").title() in name), bit

    decoded = spec.module.decode(wire)
    assert decoded.name == name
    assert decoded.valid, decoded.problems
    assert decoded.fields["pan_speed"] == pan_speed
    assert decoded.fields["tilt_speed"] == tilt_speed
    assert decoded.fields["checksum"] == wire[-1]


AVER_BITS = st.sets(st.sampled_from(pelco.MOTION_BITS))


@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(motion=AVER_BITS, power=st.sampled_from(["", "on", "off"]), data=st.data())
def test_pan_tilt_bit_combinations(spec: Spec, motion: set[str], power: str, data: Any) -> None:
    bits = set(motion)
    if power:
        bits.add("camera_on_off")
    if power == "on":
        bits.add(spec.module.VARIANT.power_on)
    address = data.draw(st.sampled_from(spec.pt_addresses), label="address")
    wire = spec.module.build_pt(
        address, pan_speed=0x10, tilt_speed=0x20, **dict.fromkeys(bits, True)
    )
    byte4 = sum(
        mask
        for bit, mask in zip(
            ("pan_right", "pan_left", "tilt_up", "tilt_down", "zoom_tele", "zoom_wide"),
            (PAN_RIGHT, PAN_LEFT, TILT_UP, TILT_DOWN, ZOOM_TELE, ZOOM_WIDE),
            strict=True,
        )
        if bit in bits
    )
    byte3 = {"": 0, "on": spec.camera_on, "off": spec.camera_off}[power]
    assert wire == spec.frame(address, bytes([byte3, byte4, 0x10, 0x20]))
    assert bytes(spec.layer(wire)) == wire

    decoded = spec.module.decode(wire)
    assert decoded.valid == spec_valid(spec, wire), decoded.describe()
    assert {k for k, v in decoded.fields.items() if v is True} == bits
    parts = decoded.name.split(" + ")
    assert ("Camera On" in parts) == (power == "on")
    assert ("Camera Off" in parts) == (power == "off")
    for bit in motion:
        assert bit.replace("_", " ").title() in parts
    if not bits:
        assert decoded.name == "Stop"
    # The name builds the same command back.
    assert spec.module.build(decoded.name, address, pan_speed=0x10, tilt_speed=0x20) == wire


# ---------------------------------------------------------------- checksums


@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(address=st.integers(0, 255), body=st.binary(min_size=4, max_size=4))
def test_post_build_checksum_is_the_spec_formula(spec: Spec, address: int, body: bytes) -> None:
    pkt = spec.layer(address=address, **dict(zip(spec.body_fields, body, strict=True)))
    wire = bytes(pkt)
    assert len(wire) == spec.frame_len
    assert spec.checksum_ok(wire)
    assert wire == spec.frame(address, body)


def test_checksum_examples_by_hand() -> None:
    # Pelco-D Pan Left, address 1, speed 0x20: 01+00+04+20+00 = 0x25.
    assert pelco_d.build("Pan Left", 1, pan_speed=0x20).hex(" ") == "ff 01 00 04 20 00 25"
    # Pelco-P Go To Preset 5, address 0: A0^00^00^07^00^05^AF = 0x0D.
    assert pelco_p.build("Go To Preset", 0, preset=5).hex(" ") == "a0 00 00 07 00 05 af 0d"


@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
def test_checksum_can_be_overridden_to_craft_bad_frames(spec: Spec) -> None:
    wire = spec.module.build("Stop", spec.ext_addresses[0], checksum=0x42)
    assert wire[-1] == 0x42
    assert bytes(spec.layer(wire)) == wire


# ---------------------------------------------------------------- problems


def _d(address: int, body: str, checksum: int | None = None) -> bytes:
    return D.frame(address, bytes.fromhex(body), checksum)


def _p(address: int, body: str, checksum: int | None = None) -> bytes:
    return P.frame(address, bytes.fromhex(body), checksum)


# (spec, frame, expected_address, problem substring)
PROBLEMS: list[tuple[Spec, bytes, int | None, str]] = [
    # length
    (D, _d(1, "00 04 20 00")[:6], None, "a Pelco-D frame is 7"),
    (D, _d(1, "00 04 20 00") + b"\x00", None, "a Pelco-D frame is 7"),
    (P, _p(0, "00 04 20 00")[:7], None, "a Pelco-P frame is 8"),
    (P, b"", None, "a Pelco-P frame is 8"),
    # framing bytes
    (D, b"\xfe" + _d(1, "00 04 20 00")[1:], None, "not SYNC 0xFF"),
    (P, bytes(PelcoP(stx=0xA1, data2=PAN_LEFT)), None, "not STX 0xA0"),
    (P, bytes(PelcoP(etx=0xAE, data2=PAN_LEFT)), None, "not ETX 0xAF"),
    # checksums
    (D, _d(1, "00 04 20 00", checksum=0x26), None, "bad checksum 0x26, expected 0x25"),
    (P, _p(0, "00 07 00 05", checksum=0x0C), None, "bad checksum 0x0C, expected 0x0D"),
    # 01+04+30+30 = 0x65 = 101: the sum % 100 dialect sends 0x01.
    (
        D,
        _d(1, "00 04 30 30", checksum=0x01),
        None,
        "uses sum % 100 (known dialect bug), expected 0x65",
    ),
    # P/T bit inconsistent: an extended opcode with standard bits in byte3
    (D, _d(1, "88 07 00 05"), None, "P/T bit"),
    (P, _p(0, "50 07 00 05"), None, "P/T bit"),
    (D, _d(1, "00 07 20 05"), None, "byte5 is 0x20"),
    (P, _p(0, "00 65 00 01"), None, "byte6 is 0x01, Track ON has 0x00"),
    # speeds
    (D, _d(1, "00 04 31 00"), None, "pan_speed 0x31 above 0x30"),
    (P, _p(0, "00 08 00 40"), None, "tilt_speed 0x40 above 0x30"),
    # parameters
    (D, _d(1, "00 07 00 00"), None, "preset 0x00 outside 0x01..0x7F"),
    (P, _p(0, "00 03 00 80"), None, "preset 0x80 outside 0x01..0x7F"),
    (D, _d(1, "00 6D 00 00"), None, "profile 0x00 outside 0x01..0x05"),
    (P, _p(0, "00 6F 00 06"), None, "profile 0x06 outside 0x01..0x05"),
    # addresses
    (D, _d(0x00, "00 04 20 00"), None, "outside pan/tilt ADDR 1~80"),
    (D, _d(0x81, "00 04 20 00"), None, "outside pan/tilt ADDR 1~80"),
    (D, _d(0x09, "00 07 00 01"), None, "outside extended ADDR 1~8"),
    (D, _d(0x00, "00 07 00 01"), None, "outside extended ADDR 1~8"),
    (P, _p(0x80, "00 04 20 00"), None, "outside pan/tilt ADDR 0~7F"),
    (P, _p(0x08, "00 07 00 01"), None, "outside extended ADDR 0~7"),
    (P, _p(0x01, "00 07 00 01"), 0x00, "address off by one (known dialect"),
    (P, _p(0x00, "00 04 20 00"), 0x01, "address off by one (known dialect"),
    (D, _d(0x02, "00 07 00 01"), 0x01, "address off by one (known dialect"),
    (D, _d(0x05, "00 07 00 01"), 0x01, "address 0x05 but expected 0x01"),
    # opcodes
    (D, _d(1, "00 05 00 01"), None, "unknown extended opcode 0x05"),
    (P, _p(0, "00 FF 00 00"), None, "unknown extended opcode 0xFF"),
    # contradictory motion bits
    (D, _d(1, "00 06 10 00"), None, "pan_left and pan_right both set"),
    (P, _p(0, "00 18 00 10"), None, "tilt_up and tilt_down both set"),
    (D, _d(1, "00 60 00 00"), None, "zoom_tele and zoom_wide both set"),
    # focus bits: the common layout of the variant, NA in AVer's table
    (D, _d(1, "01 00 00 00"), None, "byte3.0 set (focus near in common Pelco-D)"),
    (D, _d(1, "00 80 00 00"), None, "byte4.7 set (focus far in common Pelco-D)"),
    (P, _p(0, "01 00 00 00"), None, "byte3.0 set (focus far in common Pelco-P)"),
    (P, _p(0, "02 00 00 00"), None, "byte3.1 set (focus near in common Pelco-P)"),
    # focus bits in the other variant's positions
    (D, _d(1, "02 00 00 00"), None, "focus near in the Pelco-P layout, focus bits swapped"),
    (P, _p(0, "00 80 00 00"), None, "focus far in the Pelco-D layout, focus bits swapped"),
    # the other NA bits
    (D, _d(1, "04 00 00 00"), None, "byte3.2 set (iris close in common Pelco-D): bit marked NA"),
    (D, _d(1, "10 00 00 00"), None, "byte3.4 set (auto scan in common Pelco-D): bit marked NA"),
    (D, _d(1, "20 00 00 00"), None, "byte3.5 set (reserved in common Pelco-D): bit marked NA"),
    (D, _d(1, "40 00 00 00"), None, "byte3.6 set (reserved in common Pelco-D): bit marked NA"),
    (P, _p(0, "04 00 00 00"), None, "byte3.2 set (iris open in common Pelco-P): bit marked NA"),
    (P, _p(0, "08 00 00 00"), None, "byte3.3 set (iris close in common Pelco-P): bit marked NA"),
    (P, _p(0, "20 00 00 00"), None, "byte3.5 set (auto scan in common Pelco-P): bit marked NA"),
    (P, _p(0, "80 00 00 00"), None, "byte3.7 set (reserved in common Pelco-P): bit marked NA"),
]


@pytest.mark.parametrize(
    "spec, frame, expected_address, problem",
    PROBLEMS,
    ids=[f"{s.protocol}-{p}" for s, _, _, p in PROBLEMS],
)
def test_problem_is_detected_and_cites_the_section(
    spec: Spec, frame: bytes, expected_address: int | None, problem: str
) -> None:
    decoded = spec.module.decode(frame, expected_address=expected_address)
    assert not decoded.valid
    assert any(problem in p for p in decoded.problems), decoded.problems
    assert all(spec.section in p for p in decoded.problems), decoded.problems
    assert "INVALID" in spec.module.describe(frame, expected_address=expected_address)
    assert decoded.to_json()["valid"] is False


@pytest.mark.parametrize(
    "spec, body, byte, field",
    [
        (D, "01 00 00 00", 3, "focus_near"),
        (D, "00 80 00 00", 4, "focus_far"),
        (P, "01 00 00 00", 3, "focus_far"),
        (P, "02 00 00 00", 3, "focus_near"),
    ],
)
def test_focus_bits_decode_by_the_common_layout(
    spec: Spec, body: str, byte: int, field: str
) -> None:
    frame = spec.frame(spec.pt_addresses[1], bytes.fromhex(body))
    decoded = spec.module.decode(frame)
    assert decoded.fields[field] is True
    assert decoded.name == field.replace("_", " ").title()
    flags = spec.layer(frame).getfieldval(spec.body_fields[byte - 3])
    assert getattr(flags, field)


def test_sum_100_dialect_is_not_claimed_when_the_sums_agree() -> None:
    # 01+04+20 = 0x25 < 100: % 100 and % 256 agree, the frame is fine.
    frame = _d(1, "00 04 20 00")
    assert sum(frame[1:6]) % 100 == frame[6]
    assert pelco_d.decode(frame).valid


@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
def test_expected_address_that_matches_is_no_problem(spec: Spec) -> None:
    for camera in (1, 8):
        address = spec.module.camera_address(camera)
        frame = spec.module.build("Go To Preset", address, preset=1)
        assert spec.module.decode(frame, expected_address=address).valid


# ---------------------------------------------------------------- build errors


@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
def test_build_rejects_what_it_cannot_encode(spec: Spec) -> None:
    with pytest.raises(KeyError):
        spec.module.build("Clear Preset", 1, preset=1)
    with pytest.raises(ValueError):
        spec.module.build("Go To Preset", 1, profile=1)
    with pytest.raises(ValueError):
        spec.module.build("Track ON", 1, preset=1)
    with pytest.raises(ValueError):
        spec.module.build("Go To Preset", 1, preset=0x100)
    with pytest.raises(ValueError):
        spec.module.build("Pan Left", 1, pan_speed=-1)
    with pytest.raises(ValueError):
        spec.module.build_pt(1, no_such_bit=True)
    # Out of the spec's range but within a byte: built on purpose, flagged on decode.
    assert not spec.module.decode(spec.module.build("Go To Preset", 1, preset=0)).valid


@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
def test_row_parameter_defaults_to_the_low_end_of_its_range(spec: Spec) -> None:
    for row in COMMANDS:
        decoded = spec.module.decode(spec.module.build(row.name, spec.ext_addresses[0]))
        assert decoded.valid, decoded.problems
        if row.param:
            assert decoded.fields[row.param] == EXTENDED[row.name][1][0]


# ---------------------------------------------------------------- Scapy behaviour


@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
def test_no_replies_so_nothing_answers_and_hashret_is_the_address(spec: Spec) -> None:
    one = spec.layer(spec.module.build("Pan Left", 5))
    other = spec.layer(spec.module.build("Stop", 5))
    assert one.hashret() == other.hashret() == b"\x05"
    assert not one.answers(other)
    assert spec.layer(spec.module.build("Stop", 6)).hashret() != one.hashret()


@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
def test_a_stream_of_frames_dissects_frame_by_frame(spec: Spec) -> None:
    first = spec.module.build("Go To Preset", 1, preset=3)
    second = spec.module.build("Pan Right", 1, pan_speed=0x10)
    pkt = spec.layer(first + second + b"\x01\x02")
    assert bytes(pkt) == first + second + b"\x01\x02"
    assert type(pkt.payload) is spec.layer
    assert isinstance(pkt.payload.payload, Raw)
    assert pkt.decoded().name == "Go To Preset"
    assert pkt.payload.decoded().name == "Pan Right"


@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
def test_extended_opcode_shows_its_row_name(spec: Spec) -> None:
    pkt = spec.layer(spec.module.build("Track ON", 1))
    assert "Track ON" in pkt.show(dump=True)


def test_describe_is_one_line() -> None:
    assert pelco_d.describe(pelco_d.build("Go To Preset", 1, preset=5)) == (
        "Go To Preset address=1 preset=5 checksum=0xD"
    )
    assert pelco_p.describe(pelco_p.build("Pan Left", 0, pan_speed=0x20)) == (
        "Pan Left address=0 pan_left=True pan_speed=0x20 tilt_speed=0 checksum=0x2B"
    )
    assert pelco_p.describe("text") == "'text'"


# ---------------------------------------------------------------- robustness


@st.composite
def valid_bodies(draw: st.DrawFn, spec: Spec) -> tuple[int, bytes]:
    """Address and bytes 3..6 of a frame the spec allows, written from its tables."""
    if draw(st.booleans()):
        opcode, allowed = draw(st.sampled_from(list(EXTENDED.values())))
        address = draw(st.sampled_from(spec.ext_addresses))
        return address, bytes([0x00, opcode, 0x00, draw(st.sampled_from(allowed))])
    address = draw(st.sampled_from(spec.pt_addresses))
    byte3 = draw(
        st.sampled_from([0, spec.camera_on, spec.camera_off, spec.camera_on ^ spec.camera_off])
    )
    pan = draw(st.sampled_from([0, PAN_LEFT, PAN_RIGHT]))
    tilt = draw(st.sampled_from([0, TILT_UP, TILT_DOWN]))
    zoom = draw(st.sampled_from([0, ZOOM_TELE, ZOOM_WIDE]))
    speeds = draw(st.lists(st.integers(0, SPEED_MAX), min_size=2, max_size=2))
    return address, bytes([byte3, pan | tilt | zoom, *speeds])


@st.composite
def near_frames(draw: st.DrawFn, spec: Spec) -> bytes:
    """A valid or oddly filled frame with a correct checksum, then maybe one edit."""
    interesting = st.one_of(
        st.integers(0, 255),
        st.sampled_from([0, 1, 5, 6, 0x30, 0x31, 0x7F, 0x80, spec.camera_on, spec.camera_off]),
        st.sampled_from([op for op, _ in EXTENDED.values()]),
    )
    odd = st.tuples(
        st.one_of(st.integers(0, 255), st.sampled_from([0, 1, 7, 8, 9, 0x7F, 0x80, 0x81])),
        st.lists(interesting, min_size=4, max_size=4).map(bytes),
    )
    address, body = draw(st.one_of(valid_bodies(spec), odd))
    frame = spec.frame(address, body)
    where = draw(st.integers(0, len(frame)))
    byte = bytes([draw(st.integers(0, 255))])
    replaced = frame[:where] + byte + frame[where + 1 :]
    edits = [
        frame,
        replaced,
        frame[:where] + byte + frame[where:],
        frame[:where] + frame[where + 1 :],
    ]
    if 2 <= where < 6:  # a changed command byte under a correct checksum
        edits.append(spec.frame(address, replaced[2:6]))
    return draw(st.sampled_from(edits))


def any_bytes(spec: Spec) -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=32), near_frames(spec))


@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
@settings(max_examples=250, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
@example(data=None)
def test_decode_never_raises_and_flags_what_is_not_a_valid_frame(spec: Spec, data: Any) -> None:
    frame = b"" if data is None else data.draw(any_bytes(spec), label="frame")
    for expected in (None, 1):
        decoded = spec.module.decode(frame, expected_address=expected)
        assert decoded.raw == frame
        if expected is None:
            assert decoded.valid == spec_valid(spec, frame), decoded.describe()
        if not decoded.valid:
            assert decoded.problems
        decoded.describe()
        decoded.to_json()


@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_scapy_layer_never_raises_and_round_trips(spec: Spec, data: Any) -> None:
    frame = data.draw(any_bytes(spec), label="frame")
    pkt = spec.layer(frame)
    if frame:
        assert bytes(pkt) == frame
    pkt.summary()
    pkt.show(dump=True)
    if len(frame) >= spec.frame_len:
        assert pkt.decoded().raw == frame[: spec.frame_len]
