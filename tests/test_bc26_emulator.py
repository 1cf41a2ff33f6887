"""The BC26 LwM2M emulator, driven through a real EmulatorHost on a pty and TCP.

Manual: ``quectel-bc26-lwm2m-at-commands.txt`` (BC26 LwM2M AT Commands Manual
V1.0) §1.2, §3.1-§3.12, §4 and the §5 example flows; the choices the manual
leaves open are documented in :mod:`conformance.emulators.bc26`.  Every
dialogue recorded here is held against :class:`DialogueChecker`: clean runs
have no violation, each fault switch shows as the violation it names.  Every
wait has a deadline; nothing sleeps.  Time runs ``SPEED`` times faster so the
emulated registration and ACK delays cost milliseconds.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.at.checker import DialogueChecker
from conformance.at.lines import HOST, MODULE, Line, LineSplitter
from conformance.emulators import EMULATED_DEVICES, EMULATORS, EmulatedDevice, emulator_class
from conformance.emulators import bc26 as bc26_module
from conformance.emulators.base import Link
from conformance.emulators.bc26 import Bc26Emulator
from conformance.emulators.hosting import EmulatorHost
from conformance.errors import NoReply
from conformance.transports import Deadline, SerialTransport, TcpTransport, Transport
from dissectors import bc26

SPEED = 1000.0  # emulated seconds per real second
DEADLINE = 3.0  # how long an expected line may take at most
WINDOW = 0.15  # how long "nothing more comes" is waited for
FINALS = ("OK", "ERROR")

SERVER = 'AT+QLWSERV="180.101.147.115",5683'  # §3.1 example
ENDPOINT = 'AT+QLWCONF="867724030023557"'  # §5.1
OBJECTS = ('AT+QLWADDOBJ=19,0,1,"0"', 'AT+QLWADDOBJ=19,1,1,"0"')  # §5.1: /19/0/0, /19/1/0
SETUP = (SERVER, ENDPOINT, *OBJECTS)
HEX = 'AT+QLWCFG="dataformat",1,1'
#: The §5.2/§5.3 payload as printed is not a whole number of bytes for its
#: <length> 57 (the layout lost digits), so 57 bytes of our own stand in.
PAYLOAD = bytes(range(0xC0, 0xC0 + 57)).hex().upper()
NON_57 = f"AT+QLWDATASEND=19,0,0,57,{PAYLOAD},0x0000"
CON_57 = f"AT+QLWDATASEND=19,0,0,57,{PAYLOAD},0x0100"
DOWN = bytes.fromhex("AAAA0000")  # §5.2/§5.3 downlink


# ---------------------------------------------------------------- the host side


class AtPeer:
    """The host's end of the AT link: lines with direction and monotonic time,
    ready for :class:`DialogueChecker`."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.splitter = LineSplitter()
        self.backlog: deque[tuple[float, str]] = deque()
        self.dialogue: list[Line] = []

    def _record(self, text: str, direction: str, when: float) -> None:
        self.dialogue.append(Line(len(self.dialogue) + 1, text, when, direction))

    def send(self, text: str, end: str = "\r") -> None:
        """A command line (recorded for the checker)."""
        self.transport.send((text + end).encode("latin-1"))
        self._record(text, HOST, time.monotonic())

    def write(self, data: bytes) -> None:
        """Raw bytes (not recorded)."""
        self.transport.send(data)

    def read(self, timeout: float = DEADLINE) -> str | None:
        """The next line from the module, or None within *timeout*."""
        deadline = Deadline(timeout)
        while not self.backlog:
            try:
                chunk = self.transport.recv(deadline.remaining())
            except NoReply:
                return None
            now = time.monotonic()
            data = chunk.encode("latin-1") if isinstance(chunk, str) else chunk
            self.backlog.extend((now, line) for line in self.splitter.feed(data))
        when, line = self.backlog.popleft()
        self._record(line, MODULE, when)
        return line

    def command(self, text: str, timeout: float = DEADLINE, *, final: bool = True) -> list[str]:
        """Send *text*, read up to its final result (and any URC before it)."""
        self.send(text)
        return self.until(lambda line: line in FINALS, timeout, required=final)

    def until(self, wanted: str | Callable[[str], bool], timeout: float = DEADLINE, *,
              required: bool = True) -> list[str]:  # fmt: skip
        """Lines up to the first that is (or satisfies) *wanted*."""
        match = wanted if callable(wanted) else (lambda line: line == wanted)
        deadline = Deadline(timeout)
        lines: list[str] = []
        while True:
            line = self.read(deadline.remaining())
            if line is None:
                assert not required, f"no {wanted!r} within {timeout} s after {lines}"
                return lines
            lines.append(line)
            if match(line):
                return lines

    def collect(self, window: float = WINDOW) -> list[str]:
        """Whatever comes within *window*."""
        return self.until(lambda _: False, window, required=False)

    def checked(self) -> DialogueChecker:
        checker = DialogueChecker()
        for line in self.dialogue:
            checker.feed(line)
        checker.finish()
        return checker

    def violations(self) -> list[str]:
        return [str(v) for v in self.checked().violations]


Connect = Callable[..., AtPeer]


@pytest.fixture
def connect(host: EmulatorHost) -> Iterator[Connect]:
    """Serve the AT face of an emulator and open the host's end (closed at teardown)."""
    peers: list[AtPeer] = []

    def connect(emulator: Bc26Emulator, transport: str = "pty") -> AtPeer:
        where = host.serve(emulator, "at", transport)
        link: Transport
        if transport == "pty":
            link = SerialTransport(where.address, timeout=DEADLINE)
        else:
            address, _, port = where.address.rpartition(":")
            link = TcpTransport(address, int(port), timeout=DEADLINE)
        link.open()
        peer = AtPeer(link)
        peers.append(peer)
        return peer

    try:
        yield connect
    finally:
        for peer in peers:
            peer.transport.close()


def emulator(*faults: str, **kwargs: Any) -> Bc26Emulator:
    return Bc26Emulator(faults=faults, speed=SPEED, **kwargs)


def configure(peer: AtPeer) -> None:
    for line in SETUP:
        assert peer.command(line) == ["OK"], line


def register(peer: AtPeer, mode: int = 0, *, result: str = "CONNECT OK") -> list[str]:
    """§5.1 set-up, then AT+QLWOPEN=<mode> up to *result*."""
    configure(peer)
    assert peer.command(f"AT+QLWOPEN={mode}") == ["OK"]
    return peer.until(result)


def idle(emu: Bc26Emulator) -> Bc26Emulator:
    """An emulator whose platform observes nothing by itself (exact §5 dialogues)."""
    emu.auto_observe = False
    return emu


# ---------------------------------------------------------------- §5: the manual's flows


@dataclass(frozen=True)
class Platform:
    """A step the IoT platform takes (the manual shows only its URC)."""

    action: str
    args: tuple[Any, ...]


Step = tuple[str | Platform, list[str]]

FLOW_5_1: list[Step] = [
    ("AT+CGPADDR=1", ["+CGPADDR: 1,10.52.241.198", "OK"]),
    (SERVER, ["OK"]),
    (ENDPOINT, ["OK"]),
    (OBJECTS[0], ["OK"]),
    (OBJECTS[1], ["OK"]),
    ("AT+QLWOPEN=0", ["OK", "CONNECT OK"]),
    (Platform("observe", (19, 0, 0)), ["+QLWOBSERVE: 0,19,0,0"]),
    ("AT+QLWUPDATE", ["OK", "UPDATE OK"]),
    ("AT+QLWCLOSE", ["OK", "CLOSE OK"]),
    ("AT+QLWDEL", ["OK"]),
]
FLOW_5_2: list[Step] = [
    *FLOW_5_1[:7],
    (HEX, ["OK"]),
    (NON_57, ["OK"]),
    (Platform("downlink", (19, 1, 0, DOWN)), ["+QLWDATARECV: 19,1,0,4,AAAA0000"]),
    (CON_57, ["OK", "SEND OK"]),
    (Platform("downlink", (19, 1, 0, DOWN)), ["+QLWDATARECV: 19,1,0,4,AAAA0000"]),
    ("AT+QLWDATASTATUS?", ["+QLWDATASTATUS: 4", "OK"]),
]
FLOW_5_3: list[Step] = [
    *FLOW_5_1[:5],
    ("AT+QLWOPEN=1", ["OK", "CONNECT OK"]),
    FLOW_5_1[6],
    (HEX, ["OK"]),
    (NON_57, ["OK"]),
    (Platform("downlink", (19, 1, 0, DOWN)), ["+QLWDATARECV: 19,1,0,4"]),
    ("AT+QLWRD=4", ["+QLWRD: 4,0", "AAAA0000", "OK"]),
    (CON_57, ["OK", "SEND OK"]),
    (Platform("downlink", (19, 1, 0, DOWN)), ["+QLWDATARECV: 19,1,0,4"]),
    ("AT+QLWRD=2", ["+QLWRD: 2,2", "AAAA", "OK"]),
    ("AT+QLWRD=2", ["+QLWRD: 2,0", "0000", "OK"]),
    ("AT+QLWDATASTATUS?", ["+QLWDATASTATUS: 4", "OK"]),
]


def replay(host: EmulatorHost, emu: Bc26Emulator, peer: AtPeer, flow: list[Step]) -> None:
    for step, expected in flow:
        if isinstance(step, Platform):
            assert host.call(getattr(emu, step.action), *step.args) is True
        else:
            peer.send(step)
        got = [peer.read() for _ in expected]
        assert got == expected, f"{step}: {got}"
    assert peer.collect() == []


@pytest.mark.parametrize("transport", ["pty", "tcp"])
def test_5_1_register_update_deregister(
    host: EmulatorHost, connect: Connect, transport: str
) -> None:
    emu = idle(emulator())
    peer = connect(emu, transport)
    replay(host, emu, peer, FLOW_5_1)
    assert peer.violations() == []
    assert host.call(lambda: (emu.registered, emu.server, emu.objects)) == (False, None, [])


def test_5_2_direct_push(host: EmulatorHost, connect: Connect) -> None:
    emu = idle(emulator())
    peer = connect(emu)
    replay(host, emu, peer, FLOW_5_2)
    assert peer.violations() == []
    sent = host.call(lambda: emu.uplinks)
    assert [(u.data.hex().upper(), u.confirmable) for u in sent] == [
        (PAYLOAD, False),
        (PAYLOAD, True),
    ]


def test_5_3_buffer_access(host: EmulatorHost, connect: Connect) -> None:
    emu = idle(emulator())
    peer = connect(emu, "tcp")
    replay(host, emu, peer, FLOW_5_3)
    assert peer.violations() == []
    assert host.call(lambda: emu.buffered) == []


def test_auto_observe_observes_every_added_instance(connect: Connect) -> None:
    peer = connect(emulator())
    register(peer)
    assert peer.read() == "+QLWOBSERVE: 0,19,0,0"
    assert peer.read() == "+QLWOBSERVE: 0,19,1,0"
    assert peer.violations() == []


# ---------------------------------------------------------------- fault switches

Scenario = Callable[[EmulatorHost, Bc26Emulator, AtPeer], None]


def one_test_form(host: EmulatorHost, emu: Bc26Emulator, peer: AtPeer) -> None:
    peer.command("AT+QLWCFG=?", timeout=1.0, final=False)
    peer.collect()


def observed(host: EmulatorHost, emu: Bc26Emulator, peer: AtPeer) -> None:
    register(peer)
    host.call(emu.observe, 19, 0, 0)
    peer.collect()


def buffered_read(host: EmulatorHost, emu: Bc26Emulator, peer: AtPeer) -> None:
    idle(emu)
    register(peer, 1)
    peer.command(HEX)
    host.call(emu.downlink, 19, 1, 0, DOWN)
    peer.until(lambda line: line.startswith("+QLWDATARECV"))
    peer.command("AT+QLWRD=2")
    peer.command("AT+QLWRD=2")


def two_downlinks(host: EmulatorHost, emu: Bc26Emulator, peer: AtPeer) -> None:
    idle(emu)
    register(peer, 1)
    peer.command(HEX)
    host.call(emu.downlink, 19, 1, 0, b"\x01\x02")
    peer.until(lambda line: line.startswith("+QLWDATARECV"))
    host.call(emu.downlink, 19, 1, 0, b"\x03\x04")
    peer.collect()
    peer.command("AT+QLWRD=2")
    peer.command("AT+QLWRD=2")
    peer.collect()


def opened(host: EmulatorHost, emu: Bc26Emulator, peer: AtPeer) -> None:
    idle(emu)
    configure(peer)
    peer.command("AT+QLWOPEN=0")
    peer.collect()


def out_of_range(host: EmulatorHost, emu: Bc26Emulator, peer: AtPeer) -> None:
    peer.command('AT+QLWCFG="dataformat",2,0')


def malformed(host: EmulatorHost, emu: Bc26Emulator, peer: AtPeer) -> None:
    peer.command("AT+QLWOPEN=zero")


#: fault, scenario, the section the violation names, what it says
FAULT_CASES = [
    pytest.param("missing_ok", one_test_form, "§3.11 AT+QLWCFG", "no final result",
                 id="missing_ok"),
    pytest.param("ok_and_error", one_test_form, "§1.2", "ERROR with no command pending",
                 id="ok_and_error"),
    pytest.param("late_reply", one_test_form, "§3.11 AT+QLWCFG Maximum Response Time",
                 "final result after", id="late_reply"),
    pytest.param("wrong_urc_format", observed, "§4.1 +QLWOBSERVE", "malformed URC",
                 id="wrong_urc_format"),
    pytest.param("qlwrd_mismatch", buffered_read, "§3.10 note 2", "remain_length",
                 id="qlwrd_mismatch"),
    pytest.param("urc_while_buffered", two_downlinks, "§3.10 note 1",
                 "a new +QLWDATARECV while 2 bytes are unread", id="urc_while_buffered"),
    pytest.param("wrong_async", opened, "§3.4-§3.8", "UPDATE OK with no command awaiting it",
                 id="wrong_async"),
    pytest.param("accepts_out_of_range", out_of_range, "§3.11 AT+QLWCFG",
                 "OK to an invalid command", id="accepts_out_of_range"),
    pytest.param("accepts_malformed", malformed, "§3.5 AT+QLWOPEN",
                 "OK to an invalid command", id="accepts_malformed"),
]  # fmt: skip


@pytest.mark.parametrize(("fault", "scenario", "ref", "message"), FAULT_CASES)
def test_fault_shows_as_the_violation_it_names(
    host: EmulatorHost, connect: Connect, fault: str, scenario: Scenario, ref: str, message: str
) -> None:
    emu = emulator(fault)
    peer = connect(emu)
    scenario(host, emu, peer)
    violations = peer.checked().violations
    assert violations, f"{fault} went unnoticed"
    for v in violations:
        assert ref in v.ref and message in v.message, f"{fault}: {v}"
    assert host.call(lambda: emu.internal_errors) == []


@pytest.mark.parametrize(("fault", "scenario", "ref", "message"), FAULT_CASES)
def test_the_same_scenario_is_clean_without_the_fault(
    host: EmulatorHost, connect: Connect, fault: str, scenario: Scenario, ref: str, message: str
) -> None:
    emu = emulator()
    peer = connect(emu)
    scenario(host, emu, peer)
    assert peer.violations() == []


def test_late_reply_is_late_by_half_a_second(connect: Connect) -> None:
    peer = connect(emulator("late_reply"))
    peer.command("AT")
    peer.command("AT+QLWCFG=?")
    times = peer.checked().response_times
    assert [name for name, _ in times] == ["QLWCFG"]  # plain AT is outside the table
    assert bc26_module.LATE_REPLY_S <= times[0][1] < bc26_module.LATE_REPLY_S + 0.5


def test_missing_ok_sends_everything_but_ok(connect: Connect) -> None:
    peer = connect(emulator("missing_ok"))
    peer.send("AT+QLWSERV?")
    peer.send("AT+QLWRD=?")
    assert peer.collect() == ["ERROR", "+QLWRD: (1-512)"]


def test_no_echo_control_leaves_echo_as_it_was(connect: Connect) -> None:
    clean, faulty = connect(emulator()), connect(emulator("no_echo_control"))
    for peer in (clean, faulty):
        assert peer.command("ATE1")[-1] == "OK"
    assert clean.command("AT") == ["AT", "OK"]
    assert faulty.command("AT") == ["OK"]  # the checker has no rule for it: seen here
    assert clean.violations() == faulty.violations() == []


def test_every_fault_is_documented_and_tested() -> None:
    tested = {p.values[0] for p in FAULT_CASES} | {"no_echo_control"}
    assert tested == set(Bc26Emulator.FAULTS)
    assert all(Bc26Emulator.FAULTS.values())


# ---------------------------------------------------------------- forms (§1.2, §3)

TEST_FORMS = [n for n, c in bc26.COMMANDS.items() if "test" in c.forms]
UNLISTED = [
    f"AT+{name}{suffix}"
    for name, command in bc26.COMMANDS.items()
    for kind, suffix in (("test", "=?"), ("read", "?"), ("exec", ""), ("write", "=1"))
    if kind not in command.forms
]


def test_every_test_form_answers_its_table_entry(connect: Connect) -> None:
    peer = connect(emulator())
    for name in TEST_FORMS:
        assert peer.command(f"AT+{name}=?") == [*bc26.COMMANDS[name].forms["test"].info, "OK"]
    assert peer.violations() == []


def test_every_unlisted_form_is_an_error(connect: Connect) -> None:
    peer = connect(emulator())
    register(peer)
    for text in UNLISTED:
        assert peer.command(text)[-1] == "ERROR", text
    assert peer.violations() == []


def test_read_forms_answer_what_was_written(connect: Connect) -> None:
    peer = connect(emulator())
    assert peer.command("AT+QLWSERV?") == ["ERROR"]  # nothing set yet
    assert peer.command("AT+QLWCONF?") == ["ERROR"]
    assert peer.command("AT+QLWDATASTATUS?") == ["+QLWDATASTATUS: 0", "OK"]
    assert peer.command('AT+QLWSERV="10.1.2.3",5684') == ["OK"]
    assert peer.command('AT+QLWCONF="ep-42"') == ["OK"]
    assert peer.command("AT+QLWSERV?") == ['+QLWSERV: "10.1.2.3",5684', "OK"]
    assert peer.command("AT+QLWCONF?") == ['+QLWCONF: "ep-42"', "OK"]
    assert peer.command("at+qlwserv?") == ['+QLWSERV: "10.1.2.3",5684', "OK"]
    assert peer.violations() == []


#: outside the manual's ranges or types, answered ERROR on a configured module
RANGE_ERRORS = [
    'AT+QLWSERV="180.101.147.115",65536',
    'AT+QLWSERV="180.101.147.115",-1',
    "AT+QLWSERV=180.101.147.115,5683",
    'AT+QLWSERV="no.such.address",5683',
    'AT+QLWSERV="180.101.147.115"',
    "AT+QLWCONF=866971030001361",
    'AT+QLWCONF=""',
    'AT+QLWADDOBJ=65536,0,1,"0"',
    'AT+QLWADDOBJ=19,-1,1,"0"',
    "AT+QLWADDOBJ=19,2,1",
    'AT+QLWADDOBJ=19,2,2,"0"',
    'AT+QLWADDOBJ=19,2,1,"x"',
    'AT+QLWADDOBJ=19,0,1,"0"',  # the same instance again
    "AT+QLWDELOBJ=65536",
    "AT+QLWDELOBJ=20",  # never added
    "AT+QLWOPEN=2",
    "AT+QLWOPEN=-1",
    "AT+QLWOPEN=",
    "AT+QLWRD=0",
    "AT+QLWRD=513",
    'AT+QLWCFG="dataformat",2,0',
    'AT+QLWCFG="dataformat",0,2',
    'AT+QLWCFG="format",1,1',
    'AT+QLWCFG="dataformat",1',
    "AT+QLWDATASEND=19,0,0,1,00,0x0200",
    "AT+QLWDATASEND=19,0,0,513,00,0x0000",
]
#: well-formed, but the module is not registered
NOT_REGISTERED = [
    "AT+QLWUPDATE",
    "AT+QLWCLOSE",
    "AT+QLWDATASEND=19,0,0,1,0,0x0000",
    "AT+QLWDATASEND=19,0,0,1,0,0x0100",
]


def test_range_and_state_violations_are_errors(connect: Connect) -> None:
    peer = connect(emulator())
    configure(peer)
    for text in RANGE_ERRORS + NOT_REGISTERED:
        assert peer.command(text) == ["ERROR"], text
    assert peer.violations() == []


@pytest.mark.parametrize(
    "text",
    ['AT+QLWCFG="dataformat",2,0', "AT+QLWOPEN=2", "AT+QLWRD=513", "AT+QLWADDOBJ=65536,0"],
)
def test_accepts_out_of_range_answers_ok_and_is_flagged(connect: Connect, text: str) -> None:
    peer = connect(emulator("accepts_out_of_range"))
    assert peer.command(text)[-1] == "OK"
    assert [v.message.split(":")[0] for v in peer.checked().violations][:1] == [
        "OK to an invalid command"
    ]


UNKNOWN = ["AT+FOO", "ATI", "ATE2", "hello", "AT+QLWFOO", "AT+QLWSERV?x", "AT+", "A", "AT+=?"]


def test_unknown_commands_are_errors(connect: Connect) -> None:
    peer = connect(emulator())
    for text in UNKNOWN:
        assert peer.command(text) == ["ERROR"], text
    assert peer.command("AT") == ["OK"]
    assert peer.violations() == []


# ---------------------------------------------------------------- framing and echo


def test_framing_cr_lf_crlf_and_fragments(connect: Connect) -> None:
    peer = connect(emulator())
    for end in ("\r", "\n", "\r\n"):
        peer.write(f"AT+QLWRD=?{end}".encode())
        assert [peer.read(), peer.read()] == ["+QLWRD: (1-512)", "OK"]
    for byte in b"AT+QLWDATASTATUS?\r":
        peer.write(bytes([byte]))
    assert [peer.read(), peer.read()] == ["+QLWDATASTATUS: 0", "OK"]
    peer.write(b"\r\n\r\n  \r")  # empty lines are not commands
    assert peer.collect() == []
    data = b""
    peer.transport.send(b"AT\r")
    while not data.endswith(b"OK\r\n"):
        data += peer.transport.recv(DEADLINE)  # type: ignore[operator]
    assert data == b"\r\nOK\r\n"


def test_echo_is_off_at_power_on_and_switchable(connect: Connect) -> None:
    peer = connect(emulator())
    assert peer.command("AT") == ["OK"]
    assert peer.command("ATE1") == ["OK"]
    assert peer.command("AT+QLWCFG=?") == ["AT+QLWCFG=?", '+QLWCFG: "dataformat",(0,1),(0,1)',
                                          "OK"]  # fmt: skip
    assert peer.command("ATE0") == ["ATE0", "OK"]
    assert peer.command("AT") == ["OK"]
    assert peer.violations() == []


def test_an_over_long_line_is_one_error_and_then_forgotten(
    host: EmulatorHost, connect: Connect
) -> None:
    emu = emulator()
    peer = connect(emu)
    peer.write(b"AT+QLWCONF=" + b"x" * 3000)
    assert peer.read() == "ERROR"
    peer.write(b"yyy\rAT\r")
    assert peer.read() == "OK"
    assert peer.collect() == []
    longest = f"AT+QLWDATASEND=19,0,0,512,{'AB' * 512},0x0100"
    assert len(longest) < bc26_module.MAX_LINE
    register(peer)
    assert peer.command(HEX)[-1] == "OK"
    assert peer.command(longest)[-1] == "OK"
    assert host.call(lambda: len(emu.uplinks[-1].data)) == 512


# ---------------------------------------------------------------- the state machine


def test_connect_fail_when_unconfigured_or_rejected(host: EmulatorHost, connect: Connect) -> None:
    emu = emulator()
    peer = connect(emu)
    assert peer.command("AT+QLWOPEN=0") == ["OK"]
    assert peer.until(lambda line: line.startswith("CONNECT")) == ["CONNECT FAIL"]
    host.call(emu.reject_registration, True)
    assert register(peer, result="CONNECT FAIL")[-1] == "CONNECT FAIL"
    assert host.call(lambda: emu.registered) is False
    host.call(emu.reject_registration, False)
    assert peer.command("AT+QLWOPEN=0") == ["OK"]
    assert peer.until(lambda line: line.startswith("CONNECT")) == ["CONNECT OK"]
    # the platform's observe URC (§4.1) may arrive in the middle: final results only
    assert peer.command("AT+QLWOPEN=0")[-1] == "ERROR"  # already registered
    assert peer.command(SERVER)[-1] == "ERROR"  # §5: AT+QLWDEL first
    assert peer.violations() == []
    assert host.call(lambda: (emu.registered, emu.mode)) == (True, 0)


def test_one_operation_at_a_time(host: EmulatorHost, connect: Connect) -> None:
    emu = idle(Bc26Emulator(speed=10.0))  # the 2 s registration takes 200 ms
    peer = connect(emu)
    configure(peer)
    assert peer.command("AT+QLWOPEN=0") == ["OK"]
    assert peer.command("AT+QLWOPEN=1") == ["ERROR"]
    assert peer.command("AT+QLWUPDATE") == ["ERROR"]
    assert peer.command("AT+QLWDELOBJ=19") == ["ERROR"]
    assert peer.command("AT+QLWDEL") == ["OK"]  # cancels the registration, after 100 ms
    assert peer.collect() == []
    assert peer.violations() == []


def test_update_close_and_their_failures(host: EmulatorHost, connect: Connect) -> None:
    emu = idle(emulator())
    peer = connect(emu)
    register(peer)
    host.call(emu.reject_updates, True)
    assert peer.command("AT+QLWUPDATE") == ["OK"]
    assert peer.read() == "UPDATE FAIL"
    host.call(emu.reject_deregistration, True)
    assert peer.command("AT+QLWCLOSE") == ["OK"]
    assert peer.read() == "CLOSE FAIL"
    assert host.call(lambda: emu.registered) is True
    host.call(emu.reject_deregistration, False)
    assert peer.command("AT+QLWCLOSE") == ["OK"]
    assert peer.read() == "CLOSE OK"
    assert peer.command("AT+QLWUPDATE") == ["ERROR"]
    assert peer.violations() == []


def test_delobj_updates_only_when_registered(host: EmulatorHost, connect: Connect) -> None:
    emu = idle(emulator())
    peer = connect(emu)
    configure(peer)
    assert peer.command("AT+QLWDELOBJ=19") == ["OK"]
    assert peer.collect() == []  # §3.4: no UPDATE OK when not registered
    assert peer.command('AT+QLWADDOBJ=19,0,2,"0;1"') == ["OK"]
    assert peer.command("AT+QLWADDOBJ=3303") == ["OK"]
    assert host.call(lambda: emu.objects) == [
        bc26_module.LwObject(19, 0, (0, 1)),
        bc26_module.LwObject(3303, None, ()),
    ]
    assert peer.command("AT+QLWOPEN=0") == ["OK"]
    peer.until("CONNECT OK")
    assert peer.command("AT+QLWDELOBJ=19") == ["OK"]
    assert peer.read() == "UPDATE OK"
    host.call(emu.reject_updates)
    assert peer.command("AT+QLWDELOBJ=3303") == ["OK"]
    assert peer.read() == "UPDATE FAIL"
    assert peer.violations() == []


def test_con_and_non_sends(host: EmulatorHost, connect: Connect) -> None:
    emu = idle(emulator())
    peer = connect(emu)
    register(peer)
    assert peer.command("AT+QLWDATASEND=19,0,0,5,hello,0x0000") == ["OK"]  # text at power-on
    assert peer.command("AT+QLWDATASEND=19,0,0,1,01,0x0000") == ["ERROR"]  # 2 chars for 1
    host.call(emu.ack_delay, 300.0)  # 0.3 real seconds at SPEED
    assert peer.command("AT+QLWDATASEND=19,0,0,1,x,0x0100") == ["OK"]
    assert peer.command("AT+QLWDATASTATUS?") == ["+QLWDATASTATUS: 1", "OK"]
    assert peer.command("AT+QLWDATASEND=19,0,0,1,y,0x0100") == ["ERROR"]  # §3.8 note 1
    assert peer.command("AT+QLWDATASEND=19,0,0,1,y,0x0000") == ["ERROR"]
    assert peer.until("SEND OK") == ["SEND OK"]
    assert peer.command("AT+QLWDATASTATUS?") == ["+QLWDATASTATUS: 4", "OK"]
    assert peer.command(HEX) == ["OK"]
    assert peer.command("AT+QLWDATASEND=19,0,0,2,0A0b,0x0000") == ["OK"]
    assert peer.command("AT+QLWDATASEND=19,0,0,1,0G,0x0000") == ["ERROR"]
    assert peer.command("AT+QLWDATASEND=19,0,0,2,0A0,0x0000") == ["ERROR"]
    sent = host.call(lambda: [(u.data, u.confirmable) for u in emu.uplinks])
    assert sent == [(b"hello", False), (b"x", True), (b"\x0a\x0b", False)]
    # the only slip is the host's own: the CON sent before the last one's result
    assert [v.ref for v in peer.checked().violations] == ["BC26 §3.8 note 1"]


@pytest.mark.parametrize(
    ("platform", "status"),
    [("drop_ack", bc26_module.TIMEOUT), ("reset_ack", bc26_module.GOT_RESET)],
)
def test_con_failures_and_their_status(
    host: EmulatorHost, connect: Connect, platform: str, status: int
) -> None:
    emu = idle(emulator())
    peer = connect(emu)
    register(peer)
    host.call(getattr(emu, platform), True)
    assert peer.command("AT+QLWDATASEND=19,0,0,1,x,0x0100") == ["OK"]
    assert peer.until(lambda line: line.startswith("SEND")) == ["SEND FAIL"]
    assert peer.command("AT+QLWDATASTATUS?") == [f"+QLWDATASTATUS: {status}", "OK"]
    assert peer.violations() == []


def test_close_while_a_con_is_pending_fails_the_send(host: EmulatorHost, connect: Connect) -> None:
    emu = idle(emulator())
    peer = connect(emu)
    register(peer)
    host.call(emu.drop_ack)
    assert peer.command("AT+QLWDATASEND=19,0,0,1,x,0x0100") == ["OK"]
    assert peer.command("AT+QLWCLOSE") == ["OK"]
    assert peer.until("CLOSE OK") == ["SEND FAIL", "CLOSE OK"]
    assert peer.command("AT+QLWDATASTATUS?") == ["+QLWDATASTATUS: 2", "OK"]
    assert peer.violations() == []


def test_direct_push_in_text_and_hex(host: EmulatorHost, connect: Connect) -> None:
    emu = idle(emulator())
    peer = connect(emu)
    register(peer)
    assert host.call(emu.downlink, 19, 1, 0, b"hi") is True
    assert peer.read() == "+QLWDATARECV: 19,1,0,2,hi"
    assert peer.command('AT+QLWCFG="dataformat",0,1') == ["OK"]
    host.call(emu.downlink, 19, 1, 0, b"hi")
    assert peer.read() == "+QLWDATARECV: 19,1,0,2,6869"
    assert host.call(lambda: emu.data_format) == (0, 1)
    assert peer.violations() == []


def test_buffer_nodes_remain_per_node_and_announce_after_draining(
    host: EmulatorHost, connect: Connect
) -> None:
    emu = idle(emulator())
    peer = connect(emu)
    register(peer, 1)
    assert peer.command("AT+QLWRD=4") == ["+QLWRD: 0", "OK"]
    host.call(emu.downlink, 19, 1, 0, b"abc")
    assert peer.read() == "+QLWDATARECV: 19,1,0,3"
    host.call(emu.downlink, 19, 0, 0, b"defgh")
    host.call(emu.downlink, 19, 0, 0, b"ij")
    assert peer.collect() == []  # §3.10 note 1: not while data is unread
    assert host.call(lambda: emu.buffered) == [(19, 1, 0, 3), (19, 0, 0, 5), (19, 0, 0, 2)]
    assert peer.command("AT+QLWRD=512") == ["+QLWRD: 3,0", "abc", "OK"]  # one node only
    assert peer.read() == "+QLWDATARECV: 19,0,0,5"  # the next, once drained
    assert peer.command("AT+QLWRD=2") == ["+QLWRD: 2,3", "de", "OK"]  # §3.10 note 2
    assert peer.command("AT+QLWRD=3") == ["+QLWRD: 3,0", "fgh", "OK"]
    assert peer.read() == "+QLWDATARECV: 19,0,0,2"
    assert peer.command("AT+QLWRD=9") == ["+QLWRD: 2,0", "ij", "OK"]
    assert peer.command("AT+QLWRD=9") == ["+QLWRD: 0", "OK"]
    assert peer.collect() == []
    assert peer.violations() == []


def test_buffer_is_bounded(host: EmulatorHost, connect: Connect) -> None:
    emu = idle(emulator())
    peer = connect(emu)
    register(peer, 1)
    delivered = [host.call(emu.downlink, 19, 0, 0, b"x") for _ in range(bc26_module.MAX_NODES + 3)]
    assert delivered.count(True) == bc26_module.MAX_NODES
    assert delivered[-3:] == [False, False, False]


def test_qlwdel_clears_the_context_and_deregisters(host: EmulatorHost, connect: Connect) -> None:
    emu = idle(emulator())
    peer = connect(emu)
    register(peer, 1)
    assert peer.command(HEX) == ["OK"]
    host.call(emu.downlink, 19, 1, 0, b"\x01")
    peer.read()
    assert peer.command("AT+QLWDEL") == ["OK"]
    times = dict(peer.checked().response_times)
    assert times["QLWDEL"] < bc26.COMMANDS["QLWDEL"].max_time
    state = host.call(lambda: (emu.registered, emu.mode, emu.server, emu.objects, emu.buffered))
    assert state == (False, None, None, [], [])
    assert host.call(lambda: emu.data_format) == (1, 1)  # not LwM2M context
    assert peer.command("AT+QLWSERV?") == ["ERROR"]
    assert peer.command("AT+QLWDEL") == ["OK"]
    assert peer.violations() == []


def test_lines_during_qlwdel_wait_their_turn(connect: Connect) -> None:
    peer = connect(idle(emulator()))
    register(peer)
    peer.send("AT+QLWDEL")
    peer.send("AT+QLWRD=?")  # queued while the module deregisters
    assert peer.until("OK") == ["OK"]
    assert peer.until("OK") == ["+QLWRD: (1-512)", "OK"]
    assert peer.collect() == []


def test_control_needs_registration_and_sane_arguments(host: EmulatorHost) -> None:
    emu = emulator()
    assert host.call(emu.observe, 19, 0, 0) is False
    assert host.call(emu.downlink, 19, 0, 0, b"x") is False
    with pytest.raises(ValueError):
        host.call(emu.observe, 19, 0, 0, 2)
    with pytest.raises(ValueError):
        host.call(emu.downlink, 19, 0, 0, b"")
    with pytest.raises(ValueError):
        host.call(emu.downlink, 19, 0, 0, bytes(513))
    with pytest.raises(ValueError):
        host.call(emu.ack_delay, -1)


def test_reset_returns_to_power_on(host: EmulatorHost, connect: Connect) -> None:
    emu = emulator()
    peer = connect(emu)
    register(peer, 1)
    peer.command(HEX)
    peer.command("ATE1")
    host.call(emu.drop_ack)
    host.call(emu.reject_registration)
    host.call(emu.observe, 19, 0, 0)
    host.call(emu.reset)
    state = host.call(lambda: (emu.registered, emu.mode, emu.server, emu.endpoint_name,
                               emu.objects, emu.last_status, emu.buffered, emu.observed,
                               emu.data_format, emu.echo, emu.platform))  # fmt: skip
    assert state == (False, None, None, None, [], 0, [], set(), (0, 0), False,
                     bc26_module._Platform())  # fmt: skip
    peer.collect()
    assert peer.command("AT") == ["OK"]


def test_registry_and_construction() -> None:
    assert EMULATORS["bc26"] is Bc26Emulator
    assert emulator_class("bc26") is Bc26Emulator
    assert EMULATED_DEVICES["bc26"] == EmulatedDevice("bc26", "at", "pty", "at+serial")
    assert Bc26Emulator.FACES == {"at": ("pty", "tcp")}
    with pytest.raises(ValueError):
        Bc26Emulator(faults=["no_such_fault"])
    with pytest.raises(ValueError):
        Bc26Emulator(model="BC95")


# ---------------------------------------------------------------- robustness


class Direct:
    """The AT endpoint driven on the host loop without a pty (fast enough for
    hypothesis); output is collected as the module writes it."""

    def __init__(self, host: EmulatorHost, emu: Bc26Emulator) -> None:
        self.host, self.emu = host, emu
        self.out = bytearray()
        self.endpoint = emu.endpoint("at")

        def attach() -> Link:
            link = Link("pty", "direct", self.out.extend, host.loop, emu)
            emu.links.append(link)
            return link

        self.link = host.call(attach)

    def feed(self, data: bytes) -> None:
        self.host.call(self.emu.guard, self.endpoint.on_data, self.link, data)

    def take(self) -> bytes:
        def take() -> bytes:
            data = bytes(self.out)
            self.out.clear()
            return data

        return self.host.call(take)


@pytest.fixture(scope="module")
def shared_host() -> Iterator[EmulatorHost]:
    host = EmulatorHost().start()
    try:
        yield host
    finally:
        host.close()


COMMAND_BYTES = [f"{line}\r".encode() for line in (*SETUP, "AT+QLWOPEN=1", HEX, "AT+QLWRD=3")]


@settings(max_examples=150, deadline=None)
@given(chunks=st.lists(st.one_of(st.binary(max_size=700), st.sampled_from(COMMAND_BYTES)),
                       max_size=12))  # fmt: skip
def test_any_bytes_never_break_the_emulator(shared_host: EmulatorHost, chunks: list[bytes]) -> None:
    emu = Bc26Emulator(speed=1e6)
    direct = Direct(shared_host, emu)
    for chunk in chunks:
        direct.feed(chunk)
        if shared_host.call(lambda: emu.registered):
            shared_host.call(emu.downlink, 19, 0, 0, chunk[:512] or b"x")
    direct.take()
    assert shared_host.call(lambda: emu.internal_errors) == []
    pending = shared_host.call(lambda: len(direct.link.state.get("buffer", b"")))
    assert pending <= bc26_module.MAX_LINE


VALID_LINES = [
    *SETUP,
    'AT+QLWCONF="ep"',
    "AT+QLWOPEN=0",
    "AT+QLWOPEN=1",
    "AT+QLWUPDATE",
    "AT+QLWCLOSE",
    "AT+QLWDATASEND=19,0,0,2,ab,0x0100",
    "AT+QLWDATASEND=19,0,0,1,01,0x0000",
    HEX,
    'AT+QLWCFG="dataformat",0,0',
    "AT+QLWRD=4",
    "AT+QLWDEL",
    "AT+QLWDELOBJ=19",
    "AT+QLWDATASTATUS?",
    "AT",
    "ATE1",
    "ATE0",
    "AT+CGPADDR",
]
WORDS = ['"180.101.147.115"', '"ep"', '"0"', '"dataformat"', "0x0000", "0x0100", "0x0200",
         "AAAA", "01", "", '"', "abc"]  # fmt: skip
ARGUMENT = st.one_of(st.integers(-2, 70000).map(str), st.sampled_from(WORDS))
LINES = st.one_of(
    st.sampled_from(VALID_LINES),
    st.builds(
        lambda name, suffix, args: f"AT+{name}{suffix}{','.join(args) if suffix == '=' else ''}",
        st.sampled_from([*bc26.COMMANDS, "CGPADDR", "QLWFOO"]),
        st.sampled_from(["", "=?", "?", "="]),
        st.lists(ARGUMENT, max_size=7),
    ),
    st.text(st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=40),
)


#: most dialogues start registered, so that what needs registration is reached
PREFIXES = [[], [*SETUP, "AT+QLWOPEN=0"], [*SETUP, "AT+QLWOPEN=1", HEX]]


@settings(max_examples=150, deadline=None)
@given(prefix=st.sampled_from(PREFIXES), lines=st.lists(LINES, max_size=25),
       observe=st.booleans())  # fmt: skip
def test_random_dialogues_hold_against_the_checker(
    shared_host: EmulatorHost, prefix: list[str], lines: list[str], observe: bool
) -> None:
    """Whatever the host sends, the clean emulator's answers hold against the manual
    (only the host's own §3.8 note 1 slips, a CON before the last one's result,
    may be reported)."""
    lines = prefix + lines
    emu = Bc26Emulator(speed=1e6, auto_observe=observe)
    direct = Direct(shared_host, emu)
    splitter = LineSplitter()
    dialogue: list[Line] = []

    def record(text: str, direction: str) -> None:
        dialogue.append(Line(len(dialogue) + 1, text, None, direction))

    for text in lines:
        echo = shared_host.call(lambda: emu.echo)
        record(text, HOST)
        direct.feed(text.encode("latin-1") + b"\r")
        deadline = Deadline(DEADLINE)
        answered = not text.strip()
        while True:
            got = splitter.feed(direct.take())
            for line in got:
                record(line, MODULE)
            answers = got[1:] if echo and got and got[0].strip() == text.strip() else got
            answered = answered or any(line in FINALS for line in answers)
            if answered or deadline.expired():
                break
        assert answered, text
    checker = DialogueChecker()
    for line in dialogue:
        checker.feed(line)
    violations = [str(v) for v in checker.finish() if "§3.8 note 1" not in v.ref]
    assert violations == [], "\n".join(line.text for line in dialogue)
    assert shared_host.call(lambda: emu.internal_errors) == []
