"""The AT fuzz target and the BC26 life-cycle machine against the BC26 emulator.

The clean emulator gives no observation over random programs, through the
emulator's documented framing and through the path a real module takes (framing
learnt, no control API); the machine stays green.  Each observation kind the
target reports is turned up by a fault switch, with the reproducer program
spelled out (manual: ``quectel-bc26-lwm2m-at-commands.txt``).  Time runs 1000x
faster than real time, so registrations and acknowledgements cost milliseconds.
"""

from __future__ import annotations

import json
import random
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

from conformance.devices import client_for
from conformance.devices.base import Device
from conformance.devices.pool import Control, DevicePool, concrete_spec
from conformance.devices.uri import parse_device
from conformance.emulators.base import Link
from conformance.emulators.bc26 import Bc26Emulator, Outcome
from conformance.emulators.hosting import EmulatorHost
from conformance.errors import FrameworkError
from dissectors import bc26
from fuzz.at import FAMILIES, AtTarget, Framing
from fuzz.bc26_machine import machine_for
from fuzz.case import Case, Observation
from fuzz.source import ByteSource
from fuzz.strategies import programs
from fuzz.target import FindingFailure

EMU = "emu:bc26?speed=1000"
FAST = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))


@pytest.fixture
def open_target() -> Iterator[Callable[[str], AtTarget]]:
    """Targets on emulators named by device URI, closed at teardown."""
    pool = DevicePool()

    def make(uri: str) -> AtTarget:
        target = AtTarget(pool.get(parse_device(uri)).device)
        target.start()
        return target

    try:
        yield make
    finally:
        pool.close()


def offline() -> AtTarget:
    """A target for drawing cases only (no I/O)."""
    spec = parse_device("at+tcp://127.0.0.1:1?module=bc26")
    return AtTarget(types.SimpleNamespace(spec=spec, control=None))  # type: ignore[arg-type]


def cycle(target: AtTarget, cases: list[Case]) -> tuple[list[Observation], str | None]:
    """One program as the campaign runs it."""
    target.begin()
    observations = target.run(cases)
    dead = target.probe()
    return observations + target.check_state(cases), dead


# ---------------------------------------------------------------- draw()


def test_zero_bytes_give_the_plainest_valid_case() -> None:
    target = offline()
    plain = target.program(b"")
    assert [c.data for c in plain] == ["AT+QLWSERV=?\r"]  # §3.1: the first row's first form
    assert plain[0].family == "valid" and plain[0].expect == "success"
    assert target.program(bytes(40)) == plain * len(target.program(bytes(40)))


@FAST
@given(st.binary(max_size=600))
def test_draw_never_raises_and_always_consumes(data: bytes) -> None:
    target = offline()
    src = ByteSource(data)
    while not src.exhausted:
        before = src.remaining
        case = target.draw(src)
        assert src.remaining < before
        assert case.family in FAMILIES and case.protocol == "at"
        assert Case.from_json(json.loads(json.dumps(case.to_json()))) == case
        if isinstance(case.data, str):
            case.data.encode("latin-1")


def test_every_family_every_command_and_form_is_reachable() -> None:
    target = offline()
    rnd = random.Random(7)
    families, forms, unlisted, platform = set(), set(), set(), set()
    for first in range(256):
        for _ in range(12):
            case = target.draw(ByteSource(bytes([first]) + rnd.randbytes(40)))
            families.add(case.family)
            if case.family == "valid":
                forms.add((case.meta["command"], case.meta["form"]))
            if case.family == "form":
                unlisted.add((case.meta["command"], case.meta["form"]))
            if case.family == "control":
                platform.add(case.meta["platform"])
    assert families == set(FAMILIES)
    assert forms == {(n, k) for n, c in bc26.COMMANDS.items() for k in c.forms}
    assert unlisted == {(n, k) for n, c in bc26.COMMANDS.items()
                        for k in ("test", "read", "write", "exec") if k not in c.forms}  # fmt: skip
    assert platform == set(bc26.URCS)


def test_framing_joins_an_open_line_with_the_next_and_cuts_an_overlong_one() -> None:
    framing = Framing(max_line=16)
    assert framing.feed(b"AT+QL") == [] and framing.partial
    assert framing.feed(b"WRD=?\r\n") == [("AT+QLWRD=?", False)]  # CR LF: one end, one blank
    assert framing.feed(b"AT" + b"A" * 30) == [("AT" + "A" * 15, True)]
    assert framing.feed(b"AAA\rAT\r") == [("AT", False)] and not framing.partial
    assert Framing(lf_ends_line=False).feed(b"AT\nAT\r") == [("AT\nAT", False)]


# ---------------------------------------------------------------- clean: zero observations


def test_clean_emulator_gives_no_observation(open_target: Callable[[str], AtTarget]) -> None:
    target = open_target(EMU)
    seen: list[int] = []

    @settings(FAST, max_examples=300)
    @given(programs(target))
    def program(cases: list[Case]) -> None:
        seen.append(len(cases))
        observations, dead = cycle(target, cases)
        assert dead is None
        assert observations == [], observations[0].render()

    program()
    assert sum(seen) > 4 * len(seen)


def test_clean_emulator_as_a_real_module_gives_no_observation(host: EmulatorHost) -> None:
    """No control API, framing learnt: the path a module on a serial port takes."""
    listening = host.serve(Bc26Emulator(speed=1000), "at", "pty")
    device = client_for(parse_device(f"at+serial://{listening.address}?module=bc26"))
    device.open()
    try:
        target = AtTarget(device)
        target.start()
        assert target.framing.lf_ends_line and target.answers_non_at

        @settings(FAST, max_examples=12)
        @given(programs(target))
        def program(cases: list[Case]) -> None:
            observations, dead = cycle(target, cases)
            assert dead is None
            assert observations == [], observations[0].render()

        program()
    finally:
        device.close()


def test_machine_is_green_on_the_clean_emulator(open_target: Callable[[str], AtTarget]) -> None:
    run_state_machine_as_test(
        machine_for(open_target(EMU)),
        settings=settings(FAST, max_examples=60, stateful_step_count=30),
    )


# ---------------------------------------------------------------- faults: each kind proven


def line(text: str, expect: str = "any", command: str = "", form: str = "", **meta: Any) -> Case:
    return Case("at", "test", text, text + "\r", expect, "BC26", meta={  # type: ignore[arg-type]
        "command": command, "form": form, **meta})  # fmt: skip


def act(action: str, **args: Any) -> Case:
    spec = json.dumps({"action": action, "args": args})
    return Case("at", "test", action, spec, "any", "BC26 §4", "control")


TEST_FORM = line("AT+QLWSERV=?", "success", "QLWSERV", "test")
SERVER = line('AT+QLWSERV="180.101.147.115",5683', "success", "QLWSERV", "write")
ENDPOINT = line('AT+QLWCONF="866971030001361"', "success", "QLWCONF", "write")
CONNECT = {"await": ["CONNECT OK", "CONNECT FAIL"]}
OPEN_DIRECT = line("AT+QLWOPEN=0", "any", "QLWOPEN", "write", **CONNECT)
OPEN_BUFFER = line("AT+QLWOPEN=1", "any", "QLWOPEN", "write", **CONNECT)
DOWNLINK = act("downlink", obj=19, ins=0, res=0, data="ABCD")
PORT_OUT_OF_RANGE = line('AT+QLWSERV="180.101.147.115",65536', "error", "QLWSERV", "write",
                         invalid={"why": "range", "param": "port"})  # fmt: skip
UNQUOTED = line("AT+QLWSERV=180.101.147.115,5683", "error", "QLWSERV", "write",
                invalid={"why": "type", "param": "ip_address"})  # fmt: skip

#: (fault, reproducer, kind, a fragment of the signature it must give)
PROOFS = [
    ("missing_ok", [TEST_FORM], "no-response", "no-response:QLWSERV"),
    ("late_reply", [TEST_FORM], "protocol-violation", "QLWSERV: maximum response time"),
    ("ok_and_error", [TEST_FORM], "protocol-violation", "ERROR with no command pending"),
    ("wrong_async", [SERVER, ENDPOINT, OPEN_DIRECT], "protocol-violation",
     "no command awaiting it"),
    ("wrong_urc_format", [SERVER, ENDPOINT, OPEN_DIRECT, act("observe", obj=19, ins=0, res=0)],
     "malformed-reply", "§4.1 +QLWOBSERVE: malformed URC"),
    ("qlwrd_mismatch", [SERVER, ENDPOINT, OPEN_BUFFER, DOWNLINK, line("AT+QLWRD=1")],
     "protocol-violation", "§3.10 note 2"),
    ("urc_while_buffered", [SERVER, ENDPOINT, OPEN_BUFFER, DOWNLINK, DOWNLINK],
     "protocol-violation", "§3.10 note 1"),
    ("accepts_out_of_range", [PORT_OUT_OF_RANGE], "accepted-invalid", "QLWSERV/range:port"),
    ("accepts_malformed", [UNQUOTED], "accepted-invalid", "QLWSERV/type:ip_address"),
    ("accepts_out_of_range", [PORT_OUT_OF_RANGE], "state-corruption", "QLWSERV?"),
]  # fmt: skip


@pytest.mark.parametrize(("fault", "cases", "kind", "fragment"), PROOFS,
                         ids=[f"{p[0]}-{p[2]}" for p in PROOFS])  # fmt: skip
def test_fault_shows_as_its_kind(
    open_target: Callable[[str], AtTarget], fault: str, cases: list[Case], kind: str,
    fragment: str,
) -> None:  # fmt: skip
    clean = open_target(EMU)
    assert cycle(clean, cases) == ([], None)
    target = open_target(f"{EMU}&fault={fault}")
    target.margin = 0.2  # missing final results cost less waiting
    if fault == "late_reply":
        target.margin = 1.0  # late, not missing
    observations, _ = cycle(target, cases)
    assert [o for o in observations if o.kind == kind and fragment in o.signature], [
        o.signature for o in observations
    ]


class _RefusingBc26(Bc26Emulator):
    """The emulator with one more switch: ERROR to every test form (§1.2), which
    the manual answers with its ranges and OK."""

    FAULTS = {**Bc26Emulator.FAULTS, "refuses_test_forms": "test forms answered ERROR"}

    def _dispatch(self, link: Link, text: str) -> Outcome:
        if self.fault("refuses_test_forms") and text.endswith("=?"):
            return False
        return super()._dispatch(link, text)


def test_error_where_the_manual_demands_success_is_an_error_reply(host: EmulatorHost) -> None:
    emulator = _RefusingBc26(faults=["refuses_test_forms"], speed=1000)
    listening = host.serve(emulator, "at", "pty")
    device: Device = client_for(concrete_spec(parse_device(EMU), "at+serial", listening))
    device.control = Control(host, emulator)
    device.open()
    try:
        target = AtTarget(device)
        observations, _ = cycle(target, [TEST_FORM, SERVER])
        assert [o.signature for o in observations] == ["error-reply:QLWSERV/test"]
    finally:
        device.close()


def test_machine_turns_red_and_its_cases_replay(open_target: Callable[[str], AtTarget]) -> None:
    target = open_target(f"{EMU}&fault=wrong_async")
    with pytest.raises(FindingFailure) as caught:
        run_state_machine_as_test(
            machine_for(target),
            settings=settings(FAST, max_examples=50, stateful_step_count=20,
                              report_multiple_bugs=False, phases=[Phase.generate]),
        )  # fmt: skip
    target.begin()
    again = target.run(caught.value.cases)
    assert caught.value.signature in {o.signature for o in again}


def test_machine_rules_model_the_buffer(open_target: Callable[[str], AtTarget]) -> None:
    """§3.10: reads give back the downlinks in order, one node at a time; a fault
    announcing a second downlink early is caught by the next rule."""
    machine = machine_for(open_target(EMU))()
    machine.start(True)
    machine.open(1)
    machine.downlink("ABCD", 0)
    machine.downlink("EF", 1)
    for length, lines in ((3, ["+QLWRD: 3,1", "ABC"]), (3, ["+QLWRD: 1,0", "D"]),
                          (3, ["+QLWRD: 2,0", "EF"]), (3, ["+QLWRD: 0"])):  # fmt: skip
        machine.read(length)
        assert [a.info for a in machine.target.answers] == [lines]
    assert machine.model.nodes == []

    faulty = machine_for(open_target(f"{EMU}&fault=urc_while_buffered"))()
    faulty.start(True)
    faulty.open(1)
    faulty.downlink("ABCD", 0)
    with pytest.raises(FindingFailure, match=r"3\.10 note 1"):
        faulty.downlink("EF", 1)


def test_unknown_module_is_refused() -> None:
    spec = types.SimpleNamespace(params={"module": "bc95"}, emulator=None, model=None)
    with pytest.raises(FrameworkError, match="no AT command table"):
        AtTarget(types.SimpleNamespace(spec=spec, control=None))  # type: ignore[arg-type]
