"""The camera emulator, driven through a real EmulatorHost over TCP, a pty and UDP.

AVer VISCA spec rev 3.4 (``aver-visca-pelco-spec.txt``) §3.1, §3.2.1 and §3.2.4;
the choices the spec leaves open are documented in
:mod:`conformance.emulators.camera`.  Every wait has a deadline (``select``
or an Event); nothing sleeps.
"""

from __future__ import annotations

import asyncio
import os
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.emulators import camera as camera_module
from conformance.emulators.base import Clock, Link
from conformance.emulators.camera import CameraEmulator
from conformance.emulators.hosting import EmulatorHost, Listening
from conformance.errors import FrameworkError
from dissectors import visca, visca_ip
from dissectors import visca_table as table

WINDOW = 0.15  # how long "no reply" is waited for
DEADLINE = 3.0  # how long an expected reply may take at most
SLOW = 0.5  # SLOW_REPLY_S during the tests

IF_CLEAR = visca.build("IF_Clear", 1)
BROADCAST = visca.build("IF_Clear(broadcast)")
VERSION_INQ = visca.build("Version_Inq", 1)
UNKNOWN = bytes.fromhex("81 01 7F 7F FF")  # well-formed, but no row of the table
TOO_LONG = bytes.fromhex("81") + bytes([0x01] * 16)  # 17 bytes and no FF

COMPLETION = bytes.fromhex("90 50 FF")
SYNTAX_ERROR = bytes.fromhex("90 60 02 FF")
LENGTH_ERROR = bytes.fromhex("90 60 01 FF")
#: Version_Inq answer with the emulator's identity (vendor C0F0, model 0001, version 0100,
#: 2 sockets)
VERSION = bytes.fromhex("90 50 C0 F0 00 01 01 00 02 FF")
GARBAGE = bytes(range(0x10, 0x24))  # what the babble fault answers


# ---------------------------------------------------------------- peers


class Peer:
    """A client of one served endpoint; reads wait on ``select`` until a deadline."""

    def fileno(self) -> int:
        raise NotImplementedError

    def send(self, data: bytes) -> None:
        raise NotImplementedError

    def _read(self) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def _readable(self, deadline: float) -> bool:
        remaining = max(0.0, deadline - time.monotonic())
        readable, _, _ = select.select([self.fileno()], [], [], remaining)
        return bool(readable)

    def receive(self, timeout: float, size: int | None = None) -> bytes | None:
        raise NotImplementedError

    def exchange(self, data: bytes, timeout: float = DEADLINE) -> bytes | None:
        self.send(data)
        return self.receive(timeout)


class StreamPeer(Peer):
    """Raw VISCA on a byte stream: messages end with FF."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def receive(self, timeout: float, size: int | None = None) -> bytes | None:
        """The next FF-terminated message; else whatever came within *timeout*
        (or as soon as *size* bytes without FF came); None if nothing came."""
        deadline = time.monotonic() + timeout
        while True:
            end = self.buffer.find(b"\xff")
            if end >= 0:
                message = bytes(self.buffer[: end + 1])
                del self.buffer[: end + 1]
                return message
            if size is not None and len(self.buffer) >= size:
                break
            if not self._readable(deadline):
                break
            chunk = self._read()
            if not chunk:
                break
            self.buffer += chunk
        out = bytes(self.buffer[:size])
        del self.buffer[: len(out)]
        return out or None


class TcpPeer(StreamPeer):
    def __init__(self, address: str) -> None:
        super().__init__()
        host, _, port = address.rpartition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=DEADLINE)

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _read(self) -> bytes:
        return self.sock.recv(4096)

    def close(self) -> None:
        self.sock.close()


class PtyPeer(StreamPeer):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)

    def fileno(self) -> int:
        return self.fd

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]

    def _read(self) -> bytes:
        return os.read(self.fd, 4096)

    def close(self) -> None:
        os.close(self.fd)


class UdpPeer(Peer):
    """VISCA over IP: one datagram is one frame."""

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect((host, int(port)))

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, data: bytes) -> None:
        self.sock.send(data)

    def _read(self) -> bytes:
        return self.sock.recv(65535)

    def receive(self, timeout: float, size: int | None = None) -> bytes | None:
        return self._read() if self._readable(time.monotonic() + timeout) else None

    def close(self) -> None:
        self.sock.close()


PEERS: dict[str, Callable[[str], Peer]] = {"tcp": TcpPeer, "pty": PtyPeer, "udp": UdpPeer}
Connect = Callable[[CameraEmulator, str, str], Peer]


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def connect(host: EmulatorHost) -> Iterator[Connect]:
    """Serve a face of a camera and connect a client to it (closed at teardown)."""
    peers: list[Peer] = []

    def connect(camera: CameraEmulator, face: str, transport: str) -> Peer:
        where: Listening = host.serve(camera, face, transport)
        peer = PEERS[transport](where.address)
        peers.append(peer)
        return peer

    try:
        yield connect
    finally:
        for peer in peers:
            peer.close()


@pytest.fixture
def camera() -> CameraEmulator:
    return CameraEmulator()


@pytest.fixture(params=["tcp", "pty"])
def serial(request: pytest.FixtureRequest, camera: CameraEmulator, connect: Connect) -> Peer:
    """Raw VISCA of the clean camera, on TCP and on a pty."""
    return connect(camera, "visca", request.param)


@pytest.fixture
def over_ip(camera: CameraEmulator, connect: Connect) -> Peer:
    """VISCA over IP of the clean camera."""
    return connect(camera, "visca-ip", "udp")


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(camera_module, "SLOW_REPLY_S", SLOW)
    return SLOW


def wait_until(host: EmulatorHost, predicate: Callable[[], bool]) -> None:
    """Poll *predicate* on the emulator's loop thread until it holds or DEADLINE passes."""
    deadline = time.monotonic() + DEADLINE
    while not host.call(predicate):
        assert time.monotonic() < deadline, "the emulator never got there"


def ip_reply(payload: bytes, sequence: int) -> bytes:
    return visca_ip.wrap(payload, sequence, visca_ip.REPLY)


def control_reply(payload: bytes, sequence: int) -> bytes:
    return visca_ip.wrap(payload, sequence, visca_ip.CONTROL_REPLY)


# ---------------------------------------------------------------- clean camera, raw VISCA

CLEAN_EXCHANGES = {
    "IF_Clear": (IF_CLEAR, COMPLETION),
    "broadcast-echoed": (BROADCAST, BROADCAST),
    "unknown-command": (UNKNOWN, SYNTAX_ERROR),
    "17-bytes-without-FF": (TOO_LONG, LENGTH_ERROR),
    "IF_Clear-in-one-chunk-with-broadcast": (IF_CLEAR + BROADCAST, COMPLETION + BROADCAST),
}


@pytest.mark.parametrize(
    "request_bytes, reply", CLEAN_EXCHANGES.values(), ids=CLEAN_EXCHANGES.keys()
)
def test_clean_camera_answers(serial: Peer, request_bytes: bytes, reply: bytes) -> None:
    assert visca.match_row(UNKNOWN) is None, "pick another unknown command"
    serial.send(request_bytes)
    got = b""
    while len(got) < len(reply) and (message := serial.receive(DEADLINE)):
        got += message
    assert got.hex(" ") == reply.hex(" ")
    assert serial.receive(WINDOW) is None, "nothing more"
    assert serial.exchange(IF_CLEAR) == COMPLETION, "still in step afterwards"


def test_version_inq_answer_fits_the_rows_reply(serial: Peer, camera: CameraEmulator) -> None:
    row = table.BY_NAME["Version_Inq"]
    assert row.reply is not None
    reply = serial.exchange(VERSION_INQ)
    assert reply is not None
    assert reply[0] == visca.reply_address(camera.address)
    assert row.reply.match(reply[1:]) is not None, reply.hex(" ")
    decoded = visca.decode(reply, VERSION_INQ)
    assert decoded.name == "Version_Inq reply" and decoded.valid
    identity = camera.identity
    assert {k: decoded.fields[k] for k in ("vendor_id", "model_id", "version", "max_socket")} == {
        "vendor_id": identity.vendor_id,
        "model_id": identity.model_id,
        "version": identity.version,
        "max_socket": identity.max_socket,
    }
    assert reply == VERSION


def test_request_to_another_camera_is_not_answered(serial: Peer) -> None:
    serial.send(visca.build("IF_Clear", 2))
    assert serial.receive(WINDOW) is None
    assert serial.exchange(IF_CLEAR) == COMPLETION


def test_camera_at_another_address_answers_from_it(connect: Connect) -> None:
    peer = connect(CameraEmulator(address=3), "visca", "tcp")
    assert peer.exchange(visca.build("IF_Clear", 3)) == bytes.fromhex("B0 50 FF")
    peer.send(IF_CLEAR)
    assert peer.receive(WINDOW) is None


# ---------------------------------------------------------------- clean camera, VISCA over IP


@pytest.mark.parametrize(
    "request_bytes, reply",
    [(IF_CLEAR, COMPLETION), (VERSION_INQ, VERSION)],
    ids=["IF_Clear", "Version_Inq"],
)
def test_ip_reply_is_type_0111_with_the_request_sequence(
    over_ip: Peer, request_bytes: bytes, reply: bytes
) -> None:
    assert over_ip.exchange(visca_ip.wrap(request_bytes, 0x01020304)) == ip_reply(reply, 0x01020304)


def test_ip_reset_restarts_the_sequence_at_0(over_ip: Peer) -> None:
    assert over_ip.exchange(visca_ip.wrap(IF_CLEAR, 10)) == ip_reply(COMPLETION, 10)
    reset = visca_ip.wrap(visca_ip.RESET, 0, visca_ip.CONTROL)
    assert over_ip.exchange(reset) == control_reply(visca_ip.CONTROL_ACK, 0)
    assert over_ip.exchange(visca_ip.wrap(IF_CLEAR, 0)) == ip_reply(COMPLETION, 0)
    assert over_ip.exchange(visca_ip.wrap(IF_CLEAR, 1)) == ip_reply(COMPLETION, 1)


def test_ip_out_of_order_sequence_is_a_sequence_error(over_ip: Peer) -> None:
    assert over_ip.exchange(visca_ip.wrap(IF_CLEAR, 10)) == ip_reply(COMPLETION, 10)
    assert over_ip.exchange(visca_ip.wrap(IF_CLEAR, 20)) == control_reply(
        visca_ip.SEQUENCE_ERROR, 20
    )
    assert over_ip.exchange(visca_ip.wrap(IF_CLEAR, 10)) == ip_reply(COMPLETION, 10), (
        "a repeated request (retry) is accepted"
    )
    assert over_ip.exchange(visca_ip.wrap(IF_CLEAR, 11)) == ip_reply(COMPLETION, 11)


MESSAGE_TYPE_ERRORS = {
    "unknown-payload-type": visca_ip.wrap(IF_CLEAR, 4, 0x0300),
    "reply-type-sent-to-camera": visca_ip.wrap(COMPLETION, 4, visca_ip.REPLY),
    "unknown-control-payload": visca_ip.wrap(b"\x55", 4, visca_ip.CONTROL),
    "length-field-wrong": visca_ip.wrap(IF_CLEAR, 4)[:3] + b"\x09" + visca_ip.wrap(IF_CLEAR, 4)[4:],
}


@pytest.mark.parametrize("frame", MESSAGE_TYPE_ERRORS.values(), ids=MESSAGE_TYPE_ERRORS.keys())
def test_ip_bad_frame_is_a_message_type_error(over_ip: Peer, frame: bytes) -> None:
    assert over_ip.exchange(frame) == control_reply(visca_ip.MESSAGE_TYPE_ERROR, 4)


def test_ip_frame_shorter_than_the_header_is_ignored(over_ip: Peer) -> None:
    over_ip.send(b"\x01\x00\x00")
    assert over_ip.receive(WINDOW) is None
    assert over_ip.exchange(visca_ip.wrap(IF_CLEAR, 0)) == ip_reply(COMPLETION, 0)


# ---------------------------------------------------------------- fault switches


def _same(probe: str, reply: bytes) -> bytes | None:
    return reply


def _same_header(ptype: int, length: int, sequence: int) -> tuple[int, int, int]:
    return ptype, length, sequence


@dataclass(frozen=True)
class Effect:
    """What a fault does to the answer of each probe; everything else stays clean."""

    visca: Callable[[str, bytes], bytes | None] = _same  # (probe, clean answer) -> answer
    header: Callable[[int, int, int], tuple[int, int, int]] = _same_header  # over IP only
    late: bool = False  # the answer is not there at first, but comes later


EFFECTS: dict[str, Effect] = {
    "no_reply": Effect(visca=lambda probe, reply: None),
    "slow_reply": Effect(late=True),
    "wrong_reply_address": Effect(
        visca=lambda probe, reply: reply if probe == "broadcast" else b"\xa0" + reply[1:]
    ),
    "babble": Effect(visca=lambda probe, reply: GARBAGE),
    "broadcast_not_echoed": Effect(
        visca=lambda probe, reply: None if probe == "broadcast" else reply
    ),
    "version_short": Effect(
        visca=lambda probe, reply: reply[:-2] + reply[-1:] if probe == "Version_Inq" else reply
    ),
    "ip_wrong_sequence": Effect(header=lambda ptype, n, seq: (ptype, n, seq + 1)),
    "ip_wrong_type": Effect(header=lambda ptype, n, seq: (visca_ip.COMMAND, n, seq)),
    "ip_bad_length": Effect(header=lambda ptype, n, seq: (ptype, n + 1, seq)),
}

#: probe -> (request, clean answer)
PROBES = {
    "IF_Clear": (IF_CLEAR, COMPLETION),
    "broadcast": (BROADCAST, BROADCAST),
    "Version_Inq": (VERSION_INQ, VERSION),
}


def test_probe_faults_exist() -> None:
    """The faults these probes can see; tests/test_faults.py proves every fault
    (these included) turns the matching suite tests red."""
    assert set(EFFECTS) <= set(CameraEmulator.FAULTS)


@pytest.mark.parametrize("fault", [None, *sorted(EFFECTS)], ids=lambda f: f or "clean")
def test_fault_changes_exactly_what_it_claims(
    fault: str | None, connect: Connect, slow: float
) -> None:
    """All probes go out at once on both faces; the answers must be the clean ones
    changed by the fault's effect, in order, and nothing else."""
    camera = CameraEmulator(faults=[fault] if fault else [])
    effect = EFFECTS[fault] if fault else Effect()
    serial = connect(camera, "visca", "tcp")
    over_ip = connect(camera, "visca-ip", "udp")
    want_serial: list[bytes] = []
    want_ip: list[bytes] = []
    for sequence, (probe, (request, clean)) in enumerate(PROBES.items()):
        serial.send(request)
        over_ip.send(visca_ip.wrap(request, sequence))
        answer = effect.visca(probe, clean)
        if answer is not None:
            want_serial.append(answer)
            want_ip.append(
                struct.pack(">HHI", *effect.header(visca_ip.REPLY, len(answer), sequence)) + answer
            )
    if effect.late:
        assert serial.receive(slow / 2) is None, "the late answer came early"
        assert over_ip.receive(0) is None, "the late answer came early over IP"
    got_serial = [serial.receive(DEADLINE, size=len(want)) for want in want_serial]
    got_ip = [over_ip.receive(DEADLINE) for _ in want_ip]
    assert [g.hex(" ") if g else g for g in got_serial] == [w.hex(" ") for w in want_serial]
    assert [g.hex(" ") if g else g for g in got_ip] == [w.hex(" ") for w in want_ip]
    assert serial.receive(WINDOW) is None, "nothing more on the stream"
    assert over_ip.receive(0) is None, "nothing more over IP"


def test_unknown_fault_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault no_such_fault"):
        CameraEmulator(faults=["no_such_fault"])


# ---------------------------------------------------------------- reset


SLOW_REQUESTS = {"visca": IF_CLEAR, "visca-ip": visca_ip.wrap(IF_CLEAR, 0)}


@pytest.mark.parametrize("face, transport", [("visca", "tcp"), ("visca-ip", "udp")])
def test_reset_cancels_a_pending_slow_reply(
    host: EmulatorHost, connect: Connect, slow: float, face: str, transport: str
) -> None:
    camera = CameraEmulator(faults=["slow_reply"])
    peer = connect(camera, face, transport)
    peer.send(SLOW_REQUESTS[face])
    wait_until(host, lambda: len(camera.timers) == 1)
    host.call(camera.reset)
    assert host.call(lambda: len(camera.timers)) == 0
    assert peer.receive(slow + WINDOW) is None, "the cancelled reply arrived"
    assert camera.internal_errors == []


@pytest.mark.parametrize("reset", [False, True], ids=["without-reset", "with-reset"])
def test_reset_drops_a_half_received_frame(
    host: EmulatorHost, connect: Connect, camera: CameraEmulator, reset: bool
) -> None:
    peer = connect(camera, "visca", "tcp")
    peer.send(IF_CLEAR[:2])

    def buffered() -> bool:
        return any(bytes(link.state.get("buffer", b"")) == IF_CLEAR[:2] for link in camera.links)

    wait_until(host, buffered)
    if reset:
        host.call(camera.reset)
    peer.send(IF_CLEAR[2:])  # "00 01 FF": only a message together with what came before
    if reset:
        assert peer.receive(WINDOW) is None
    else:
        assert peer.receive(DEADLINE) == COMPLETION
    assert peer.exchange(IF_CLEAR) == COMPLETION


@pytest.mark.parametrize("reset", [False, True], ids=["without-reset", "with-reset"])
def test_reset_forgets_the_ip_sequence(
    host: EmulatorHost, over_ip: Peer, camera: CameraEmulator, reset: bool
) -> None:
    assert over_ip.exchange(visca_ip.wrap(IF_CLEAR, 10)) == ip_reply(COMPLETION, 10)
    if reset:
        host.call(camera.reset)
    expected = ip_reply(COMPLETION, 0) if reset else control_reply(visca_ip.SEQUENCE_ERROR, 0)
    assert over_ip.exchange(visca_ip.wrap(IF_CLEAR, 0)) == expected


# ---------------------------------------------------------------- robustness


@dataclass
class Bench:
    """Both endpoints of a camera, driven directly with bytes (no host, no sockets)."""

    camera: CameraEmulator
    loop: asyncio.AbstractEventLoop
    sent: dict[str, list[bytes]] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)

    def feed(self, face: str, data: bytes) -> list[bytes]:
        """Give *data* to *face*; the bytes it sent back."""
        if face not in self.links:
            self.sent[face] = []
            self.links[face] = Link(face, "bench", self.sent[face].append, self.loop, self.camera)
            self.camera.links.append(self.links[face])
        before = len(self.sent[face])
        self.camera.guard(self.camera.endpoint(face).on_data, self.links[face], data)
        return self.sent[face][before:]


@contextmanager
def bench(faults: list[str] | tuple[str, ...] = (), *, frozen: bool = False) -> Iterator[Bench]:
    """Timers (slow_reply) are scheduled on a loop that never runs, then dropped.
    *frozen*: the camera's clock stands still, so no move progresses between
    two messages however slowly they are fed."""
    loop = asyncio.new_event_loop()
    clock = patch.object(Clock, "now", lambda _self: 0.0) if frozen else nullcontext()
    try:
        with clock:
            yield Bench(CameraEmulator(faults=faults), loop)
    finally:
        loop.close()


MESSAGES = [
    visca.build(row.name, camera, **{name: 1 for name in row.params.values()})
    for row in table.COMMANDS
    for camera in (1, 2)
]
CHUNKS = st.lists(st.one_of(st.binary(max_size=24), st.sampled_from(MESSAGES)), max_size=12)
FRAMES = st.one_of(
    st.binary(max_size=64),
    st.builds(
        visca_ip.wrap,
        st.one_of(st.sampled_from(MESSAGES), st.binary(max_size=20)),
        st.integers(0, 0xFFFFFFFF),
        st.sampled_from([*visca_ip.PAYLOAD_TYPES, 0x0000, 0x0300]),
    ),
)
FAULT_SETS = st.sets(st.sampled_from(sorted(CameraEmulator.FAULTS)))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    faults=FAULT_SETS,
    chunks=CHUNKS,
    frames=st.lists(FRAMES, max_size=8),
    reset_at=st.integers(0, 12),
)
def test_random_bytes_never_break_the_emulator(
    faults: set[str], chunks: list[bytes], frames: list[bytes], reset_at: int
) -> None:
    with bench(sorted(faults)) as b:
        for i, chunk in enumerate(chunks):
            if i == reset_at:
                b.camera.reset()
            b.feed("visca", chunk)
        for frame in frames:
            b.feed("visca-ip", frame)
        assert b.camera.internal_errors == []


@settings(max_examples=150)
@given(chunks=CHUNKS, data=st.data())
def test_stream_answers_do_not_depend_on_chunking(chunks: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(chunks)
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(stream) - 1))), label="cuts"))
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    answers: list[list[bytes]] = []
    for split in ([stream], pieces, [bytes([byte]) for byte in stream]):
        with bench(frozen=True) as b:  # feeding byte by byte is slower, not different
            answers.append([out for piece in split for out in b.feed("visca", piece)])
            assert b.camera.internal_errors == []
    assert answers[0] == answers[1] == answers[2]
    for out in answers[0]:
        decoded = visca.decode(out)
        assert decoded.valid, f"the clean camera sent {decoded.describe()}"


@settings(max_examples=150)
@given(frames=st.lists(FRAMES, min_size=1, max_size=8))
def test_each_ip_frame_gets_at_most_one_well_formed_answer(frames: list[bytes]) -> None:
    with bench() as b:
        for frame in frames:
            answers = b.feed("visca-ip", frame)
            assert len(answers) <= 2  # an answer, or ACK then Completion
            if len(frame) < visca_ip.HEADER_LEN:
                assert answers == []
            for answer in answers:
                decoded = visca_ip.decode(answer)
                assert decoded.valid, decoded.describe()
                assert decoded.fields["sequence"] == visca_ip.unwrap(frame)[2]
        assert b.camera.internal_errors == []


def test_a_failing_handler_is_recorded_not_raised() -> None:
    with bench() as b:
        b.camera.guard(lambda: 1 // 0)
        assert len(b.camera.internal_errors) == 1
        assert "ZeroDivisionError" in b.camera.internal_errors[0]


# ---------------------------------------------------------------- clock


def test_clock_converts_emulated_to_real_seconds() -> None:
    assert Clock(60).real(60) == pytest.approx(1.0)
    assert CameraEmulator(speed=60).clock.real(6) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="positive"):
        Clock(0)


def _later(
    host: EmulatorHost, camera: CameraEmulator, seconds: float, **kwargs: Any
) -> tuple[threading.Event, float]:
    link = Link("test", "clock", lambda data: None, host.loop, camera)
    fired = threading.Event()
    started = time.monotonic()
    host.call(lambda: link.later(seconds, fired.set, **kwargs))
    return fired, started


def test_speed_compresses_link_later(host: EmulatorHost) -> None:
    """speed=60: 60 emulated seconds take 1 real second, so 6 take 0.1 s."""
    fired, started = _later(host, CameraEmulator(speed=60), 6)
    assert not fired.wait(0.03), "fired too early"
    assert fired.wait(DEADLINE), "never fired"
    assert 0.09 <= time.monotonic() - started < 1.0


def test_later_in_real_seconds_ignores_the_speed(host: EmulatorHost) -> None:
    fired, started = _later(host, CameraEmulator(speed=60), 0.2, emulated=False)
    assert not fired.wait(0.1), "real seconds were compressed"
    assert fired.wait(DEADLINE)
    assert time.monotonic() - started >= 0.19


def test_reset_cancels_link_later(host: EmulatorHost) -> None:
    camera = CameraEmulator(speed=60)
    fired, _ = _later(host, camera, 6)
    host.call(camera.reset)
    assert not fired.wait(0.3)


# ---------------------------------------------------------------- serving


def test_faces_and_transports_are_checked(host: EmulatorHost, camera: CameraEmulator) -> None:
    with pytest.raises(FrameworkError, match="cannot serve visca on udp"):
        host.serve(camera, "visca", "udp")
    with pytest.raises(ValueError, match="no face"):
        camera.endpoint("pelco")
