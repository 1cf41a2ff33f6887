"""The camera fuzz targets (fuzz/visca.py, fuzz/pelco.py, fuzz/visca_ip_machine.py)
against the built-in camera emulator: silent on the clean emulator, every kind of
observation they report turned up by a fault switch, and the properties of
their case drawing.  AVer VISCA spec rev 3.4 (``aver-visca-pelco-spec.txt``)
§3.1, §3.2.1-§3.2.4."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

from conformance.devices.pool import DevicePool
from conformance.devices.uri import parse_device
from dissectors import pelco, visca
from dissectors import visca_table as table
from fuzz.case import Case, Observation
from fuzz.pelco import PelcoTarget
from fuzz.source import ByteSource
from fuzz.strategies import programs
from fuzz.target import FindingFailure, Target, target_for
from fuzz.visca import REQUESTS, ViscaIpTarget, ViscaTarget, match
from fuzz.visca_ip_machine import machine_for

BOUNDS = "timeout=0.3&speed=10&motion_timeout=2"
QUICK = settings(deadline=None, database=None)


@pytest.fixture(scope="module")
def pool() -> Iterator[DevicePool]:
    pool = DevicePool()
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def open_target(pool: DevicePool) -> Callable[[str], Target]:
    """A started target for ``emu:NAME?QUERY`` (one emulator per URI for the module)."""
    made: dict[str, Target] = {}

    def get(uri: str) -> Target:
        if uri not in made:
            device = pool.get(parse_device(f"{uri}{'&' if '?' in uri else '?'}{BOUNDS}")).device
            made[uri] = target_for(device)
            made[uri].start()
        target = made[uri]
        assert target.device.control is not None
        target.device.control.reset()
        return target

    return get


def observe(target: Target, cases: list[Case], *, state: bool = True) -> list[Observation]:
    """A program as the campaign runs it: begin, run, probe, state check."""
    target.begin()
    found = list(target.run(cases))
    problem = target.probe()
    assert problem is None, problem
    if state:
        found += target.check_state(cases)
    return found


# ---------------------------------------------------------------- the clean emulator


@pytest.mark.parametrize(
    ("uri", "examples"),
    [
        ("emu:visca-ip", 200),
        ("emu:visca-ip?model=CAM520", 60),
        ("emu:visca", 50),
        ("emu:visca?model=CAM520", 25),
        ("emu:pelco-d", 8),
        ("emu:pelco-p", 8),
    ],
)
def test_clean_emulator_gives_no_observations(
    open_target: Callable[[str], Target], uri: str, examples: int
) -> None:
    target = open_target(uri)

    @settings(QUICK, max_examples=examples)
    @given(programs(target))
    def check(cases: list[Case]) -> None:
        found = observe(target, cases)
        assert found == [], "\n".join(o.render() for o in found)

    check()


# ---------------------------------------------------------------- each kind, proven


def visca_case(target: Target, message: bytes) -> Case:
    assert isinstance(target, ViscaTarget)
    return target._emit("valid", visca.describe(message), message)


def ip_case(target: Target, payload: bytes, **how: Any) -> Case:
    assert isinstance(target, ViscaIpTarget)
    return target._ip_case("ip:test", "test", payload, **how)


ZOOM_STOP = visca.build("Zoom_Stop", 1)
IF_CLEAR = visca.build("IF_Clear", 1)
UNKNOWN = bytes.fromhex("81 01 7F 7F 7F FF")

#: (device, its fault, the cases, the signature that must show)
PROVEN: list[tuple[str, str, Callable[[Target], list[Case]], str]] = [
    ("emu:visca-ip", "no_ack", lambda t: [visca_case(t, ZOOM_STOP)], "no-response:ACK"),
    ("emu:visca", "no_ack", lambda t: [visca_case(t, ZOOM_STOP)], "no-response:ACK"),
    ("emu:visca-ip", "ack_without_completion", lambda t: [visca_case(t, ZOOM_STOP)],
     "no-response:Completion"),
    ("emu:visca", "ack_without_completion", lambda t: [visca_case(t, ZOOM_STOP)],
     "no-response:Completion"),
    ("emu:visca", "cancel_ignored",
     lambda t: [visca_case(t, visca.build("Cancel", 1, socket=1))], "no-response:Cancel"),
    ("emu:visca", "no_length_error",
     lambda t: [visca_case(t, b"\x81\x01\x04\x47" + bytes(13) + b"\xff")],
     "no-response:over-long message"),
    ("emu:visca", "babble", lambda t: [visca_case(t, IF_CLEAR)], "malformed-reply:unframed answer"),
    ("emu:visca-ip", "ip_bad_length", lambda t: [visca_case(t, IF_CLEAR)],
     "malformed-reply:reply payload length"),
    ("emu:visca-ip", "accepts_unknown", lambda t: [visca_case(t, UNKNOWN)],
     "accepted-invalid:unknown message"),
    ("emu:visca", "accepts_out_of_range",
     lambda t: [visca_case(t, visca.build("CAM_set", 1, preset=0x80))],
     "accepted-invalid:out of range CAM_set.preset"),
    ("emu:visca-ip?model=CAM520", "accepts_unsupported",
     lambda t: [visca_case(t, visca.build("PT_Menu", 1))], "accepted-invalid:unsupported PT_Menu"),
    ("emu:visca-ip", "ip_ignores_sequence", lambda t: [ip_case(t, IF_CLEAR, policy="jump:16")],
     "accepted-invalid:out-of-order sequence number answered"),
    ("emu:visca-ip", "ip_no_type_error", lambda t: [ip_case(t, IF_CLEAR, length=4)],
     "no-response:Message_Type_Error"),
    ("emu:visca-ip", "ip_reset_ignored", lambda t: [visca_case(t, IF_CLEAR)], "no-response:RESET"),
    ("emu:visca-ip", "ip_wrong_sequence", lambda t: [visca_case(t, IF_CLEAR)],
     "protocol-violation:reply sequence number"),
    ("emu:visca-ip", "ip_wrong_type", lambda t: [visca_case(t, IF_CLEAR)],
     "protocol-violation:reply payload type"),
    ("emu:visca-ip", "wrong_socket", lambda t: [visca_case(t, ZOOM_STOP)],
     "protocol-violation:Completion socket"),
    ("emu:visca", "wrong_reply_address", lambda t: [visca_case(t, IF_CLEAR)],
     "protocol-violation:reply address"),
    ("emu:visca-ip", "ignores_address", lambda t: [visca_case(t, visca.build("IF_Clear", 3))],
     "protocol-violation:answer to an absent camera"),
    ("emu:visca-ip", "version_short", lambda t: [visca_case(t, IF_CLEAR)],
     "protocol-violation:Version_Inq answer"),
    ("emu:visca-ip", "inquiry_off_by_one",
     lambda t: [visca_case(t, visca.build("PT_Direct", 1, pan_position=0x100, tilt_position=0x10))],
     "protocol-violation:PT_Pos_Inq after PT_Direct"),
    ("emu:visca", "state_not_applied", lambda t: [visca_case(t, visca.build("ADO_Mute_On", 1))],
     "state-corruption:Ado_Mute_Inq after ADO_Mute_On/Off/Tigger"),
    ("emu:pelco-d", "pelco_ignores_checksum",
     lambda t: [t._f_checksum(ByteSource(b"\x00\x00\x20\x20\x00\x01"))],  # type: ignore[attr-defined]
     "state-corruption:checksum frame acted on"),
    ("emu:pelco-p", "pelco_ignores_address",
     lambda t: [t._f_address(ByteSource(b"\x00\x20\x20"))],  # type: ignore[attr-defined]
     "state-corruption:address frame acted on"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("uri", "fault", "make", "signature"),
    PROVEN,
    ids=[f"{u.split('?')[0][4:]}-{f}" for u, f, _, _ in PROVEN],
)
def test_fault_shows_as_its_observation(
    open_target: Callable[[str], Target],
    uri: str,
    fault: str,
    make: Callable[[Target], list[Case]],
    signature: str,
) -> None:
    target = open_target(f"{uri}{'&' if '?' in uri else '?'}fault={fault}")
    cases = make(target)
    target.begin()
    found = list(target.run(cases))
    if target.probe() is None:
        found += target.check_state(cases)
    assert signature in {o.signature for o in found}, [o.render() for o in found]
    clean = open_target(uri)
    assert observe(clean, make(clean)) == []


def test_crash_fault_kills_the_probe_until_reset(open_target: Callable[[str], Target]) -> None:
    target = open_target("emu:visca-ip?fault=ip_crash_on_length_mismatch")
    assert target.probe() is None
    target.begin()
    target.run([ip_case(target, IF_CLEAR, length=9)])
    assert target.probe() is not None
    assert target.probe() is not None
    assert target.device.control is not None
    target.device.control.reset()
    assert target.probe() is None
    assert observe(target, [visca_case(target, IF_CLEAR)]) == []


# ---------------------------------------------------------------- the sequence machine


def test_sequence_machine_is_green_on_the_clean_emulator(
    open_target: Callable[[str], Target],
) -> None:
    target = open_target("emu:visca-ip")
    assert isinstance(target, ViscaIpTarget)
    run_state_machine_as_test(
        machine_for(target), settings=settings(QUICK, max_examples=15, stateful_step_count=15)
    )


@pytest.mark.parametrize("fault", ["ip_ignores_sequence", "ip_wrong_sequence"])
def test_sequence_machine_finds_a_numbering_fault(
    open_target: Callable[[str], Target], fault: str
) -> None:
    target = open_target(f"emu:visca-ip?fault={fault}")
    assert isinstance(target, ViscaIpTarget)
    with pytest.raises(FindingFailure) as raised:
        run_state_machine_as_test(
            machine_for(target),
            settings=settings(QUICK, max_examples=60, stateful_step_count=15, derandomize=True),
        )
    cases = raised.value.cases
    target.begin()  # the reproducer: the machine's cases replayed from begin()
    assert raised.value.observation.signature in {o.signature for o in target.run(cases)}


# ---------------------------------------------------------------- drawing

TARGETS = ["emu:visca", "emu:visca-ip?model=CAM520", "emu:pelco-d", "emu:pelco-p"]


@pytest.mark.parametrize("uri", TARGETS)
def test_draw_never_raises_and_always_consumes(
    open_target: Callable[[str], Target], uri: str
) -> None:
    target = open_target(uri)

    @settings(QUICK, max_examples=300)
    @given(st.binary(max_size=64))
    def check(data: bytes) -> None:
        src = ByteSource(data)
        before = src.remaining
        case = target.draw(src)
        assert case.family in target.families or case.family == "valid"
        assert src.remaining < before or before == 0
        assert 1 <= len(target.program(data)) <= target.max_program

    check()


@pytest.mark.parametrize("uri", TARGETS)
def test_zero_bytes_give_a_plain_valid_case(open_target: Callable[[str], Target], uri: str) -> None:
    target = open_target(uri)
    case = target.draw(ByteSource(b""))
    assert (case.family, case.expect) == ("valid", "success")
    if isinstance(target, PelcoTarget):
        assert case.data == target.stop
    else:
        assert case.data[-5:] == IF_CLEAR
    assert observe(target, [case]) == []


@pytest.mark.parametrize("uri", TARGETS)
def test_every_family_is_reachable(open_target: Callable[[str], Target], uri: str) -> None:
    target = open_target(uri)
    unclaimed = getattr(target, "unclaimed", True)
    for index, family in enumerate(target.families):
        want = family if family != "unsupported" or unclaimed else "valid"  # no model: none
        assert target.draw(ByteSource(bytes([index, 1, 1, 1]))).family == want


def test_every_table_row_is_reachable(open_target: Callable[[str], Target]) -> None:
    """Claimed rows from ``valid``, the others from ``unsupported`` (CAM520 has both)."""
    target = open_target("emu:visca-ip?model=CAM520")
    assert isinstance(target, ViscaIpTarget)
    families = target.families
    reached = set()
    for family, rows in (("valid", target.claimed), ("unsupported", target.unclaimed)):
        for index in range(len(rows)):
            case = target.draw(ByteSource(bytes([families.index(family), index])))
            reached.add(case.meta.get("row") or case.label.split()[0])
    assert reached >= {r.name for r in REQUESTS} - set(table.SAME_BYTES)
    assert target.unclaimed and target.claimed


def test_pelco_rows_are_reachable(open_target: Callable[[str], Target]) -> None:
    target = open_target("emu:pelco-d")
    names = {target.draw(ByteSource(bytes([0, i]))).meta["inner"]["name"] for i in range(40)}
    assert names >= {*pelco.BY_NAME, *pelco.PT_NAMES}


@settings(QUICK, max_examples=300)
@given(st.binary(min_size=1, max_size=16), st.sampled_from([0x81, 0x82, 0x88]))
def test_the_fast_matcher_agrees_with_the_dissector(body: bytes, address: int) -> None:
    message = bytes([address]) + body
    mine, theirs = match(message), visca.match_row(message)
    assert (mine.name if mine else None) == (theirs.name if theirs else None)
