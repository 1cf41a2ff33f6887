"""Transports against real peers: a pty playing a serial device, loopback TCP and
UDP sockets, a WebSocket server for the client and a WebSocket client for the
listener.

Every wait in here has a deadline: a peer that stays silent, babbles or goes
away must end in a :class:`NoReply`, :class:`MalformedReply` or
:class:`DeviceUnreachable`, never in a hang.
"""

from __future__ import annotations

import os
import queue
import re
import select
import socket
import threading
import time
import tty
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.sync.server import ServerConnection, serve

from conformance.errors import DeviceUnreachable, MalformedReply, NoReply
from conformance.framing import FixedLengthFramer, TerminatorFramer
from conformance.transcript import Transcript
from conformance.transports import (
    Deadline,
    SerialTransport,
    TcpTransport,
    Transport,
    UdpTransport,
    WebSocketClient,
    WebSocketListener,
)

LOCALHOST = "127.0.0.1"
SHORT = 0.2  # the deadline a silent peer is given
BOUND = 5.0  # far above any deadline used here: exceeding it means a hang
TIMEOUT = 2.0  # transports' default timeout (writes, WebSocket close handshake)

FRAMER = TerminatorFramer(b"\xff", max_frame=16)
REQUEST = bytes.fromhex("81 01 00 01 FF")  # VISCA IF_Clear
ANSWER = bytes.fromhex("90 50 FF")  # VISCA Completion
DECODES: dict[bytes | str, str] = {REQUEST: "IF_Clear", ANSWER: "Completion"}

#: one rendered transcript line: time, offset, direction, hex and the optional extras
RENDERED = re.compile(
    r"^\d\d:\d\d:\d\d\.\d{6} \+\s*\d+\.\d{3}s ([<>])  ((?:[0-9A-F]{2} ?)+|'.*')(?:    (.*))?$"
)


# -- peers: the device end of each link, driven by the test ------------------


class Peer(ABC):
    """The device side of a link.  ``recv`` raises :class:`TimeoutError`."""

    stream = False

    @abstractmethod
    def send(self, data: bytes | str) -> None: ...

    @abstractmethod
    def recv(self, timeout: float) -> bytes | str: ...

    @abstractmethod
    def hang_up(self) -> None: ...

    def expect(self, data: bytes | str, timeout: float = BOUND) -> None:
        """Assert that *data* arrives next (a stream may deliver it in pieces)."""
        deadline = Deadline(timeout)
        got = self.recv(deadline.remaining())
        while self.stream and isinstance(got, bytes) and len(got) < len(data):
            got += self.recv(deadline.remaining())
        assert got == data


class PtyPeer(Peer):
    """The master end of a pty; the transport opens the slave as a serial port."""

    stream = True

    def __init__(self, master: int) -> None:
        self.fd = master
        self._lock = threading.Lock()
        self._closed = False
        os.set_blocking(master, False)

    def send(self, data: bytes | str) -> None:
        view = memoryview(data.encode() if isinstance(data, str) else data)
        deadline = Deadline(BOUND)
        with self._lock:
            while view:
                if self._closed:
                    raise OSError("pty master closed")
                _, writable, _ = select.select([], [self.fd], [], deadline.remaining())
                if not writable:
                    raise TimeoutError("the pty does not take more data")
                written = os.write(self.fd, view)
                view = view[written:]

    def recv(self, timeout: float) -> bytes:
        readable, _, _ = select.select([self.fd], [], [], timeout)
        if not readable:
            raise TimeoutError
        return os.read(self.fd, 4096)

    def hang_up(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                os.close(self.fd)


class TcpPeer(Peer):
    stream = True

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn

    def send(self, data: bytes | str) -> None:
        self.conn.settimeout(BOUND)
        self.conn.sendall(data.encode() if isinstance(data, str) else data)

    def recv(self, timeout: float) -> bytes:
        self.conn.settimeout(max(timeout, 1e-6))
        return self.conn.recv(4096)

    def hang_up(self) -> None:
        self.conn.close()


class UdpPeer(Peer):
    """Answers whoever sent it the last datagram."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.client: tuple[str, int] | None = None

    def send(self, data: bytes | str) -> None:
        assert self.client is not None, "the transport has not sent anything yet"
        self.sock.sendto(data.encode() if isinstance(data, str) else data, self.client)

    def recv(self, timeout: float) -> bytes:
        self.sock.settimeout(max(timeout, 1e-6))
        data, self.client = self.sock.recvfrom(65535)
        return data

    def hang_up(self) -> None:
        raise NotImplementedError("UDP has no connection to hang up")


class WebSocketPeer(Peer):
    def __init__(self, conn: ServerConnection | ClientConnection) -> None:
        self.conn = conn

    def send(self, data: bytes | str) -> None:
        self.conn.send(data)

    def recv(self, timeout: float) -> bytes | str:
        return self.conn.recv(timeout=timeout)

    def hang_up(self) -> None:
        self.conn.close()


# -- links: an opened transport and its peer ----------------------------------


@dataclass
class Link:
    kind: str
    transport: Transport
    peer: Peer

    @property
    def transcript(self) -> Transcript:
        return self.transport.transcript

    def request(self) -> None:
        """Send REQUEST and have the peer take it (a UDP peer learns where to answer)."""
        self.transport.send(REQUEST)
        self.peer.expect(REQUEST)


@contextmanager
def serial_link() -> Iterator[Link]:
    master, slave = os.openpty()
    with ExitStack() as stack:
        stack.callback(os.close, slave)
        peer = PtyPeer(master)
        stack.callback(peer.hang_up)
        tty.setraw(slave)
        transport = SerialTransport(os.ttyname(slave), timeout=TIMEOUT)
        transport.open()
        stack.callback(transport.close)
        yield Link("serial", transport, peer)


@contextmanager
def tcp_link() -> Iterator[Link]:
    with ExitStack() as stack:
        server = stack.enter_context(socket.create_server((LOCALHOST, 0)))
        server.settimeout(BOUND)
        transport = TcpTransport(LOCALHOST, server.getsockname()[1], timeout=TIMEOUT)
        transport.open()
        stack.callback(transport.close)
        conn, _ = server.accept()
        yield Link("tcp", transport, TcpPeer(stack.enter_context(conn)))


@contextmanager
def udp_link() -> Iterator[Link]:
    with ExitStack() as stack:
        sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        sock.bind((LOCALHOST, 0))
        transport = UdpTransport(LOCALHOST, sock.getsockname()[1], timeout=TIMEOUT)
        transport.open()
        stack.callback(transport.close)
        yield Link("udp", transport, UdpPeer(sock))


@contextmanager
def websocket_client_link() -> Iterator[Link]:
    """Our WebSocketClient dialling a websockets server that plays the device."""
    accepted: queue.Queue[ServerConnection] = queue.Queue()
    release = threading.Event()

    def handler(conn: ServerConnection) -> None:
        accepted.put(conn)
        release.wait(60)  # keep the connection until the test is over

    with ExitStack() as stack:
        server = serve(handler, LOCALHOST, 0, close_timeout=1)
        thread = threading.Thread(target=server.serve_forever, name="ws-peer-server")
        thread.start()
        stack.callback(thread.join, BOUND)
        stack.callback(server.shutdown)
        stack.callback(release.set)
        url = f"ws://{LOCALHOST}:{server.socket.getsockname()[1]}/"
        transport = WebSocketClient(url, timeout=TIMEOUT, connect_timeout=BOUND)
        transport.open()
        stack.callback(transport.close)
        yield Link("ws-client", transport, WebSocketPeer(accepted.get(timeout=BOUND)))
    assert not thread.is_alive()


@contextmanager
def websocket_listener_link() -> Iterator[Link]:
    """Our WebSocketListener with a websockets client dialling in as the device."""
    with ExitStack() as stack:
        transport = WebSocketListener(LOCALHOST, 0, timeout=TIMEOUT, accept_timeout=BOUND)
        stack.callback(transport.close)
        transport.listen()
        client = stack.enter_context(
            connect(f"ws://{LOCALHOST}:{transport.port}/", open_timeout=BOUND, close_timeout=1)
        )
        transport.accept()
        yield Link("ws-listener", transport, WebSocketPeer(client))


OPENERS = {
    "serial": serial_link,
    "tcp": tcp_link,
    "udp": udp_link,
    "ws-client": websocket_client_link,
    "ws-listener": websocket_listener_link,
}
STREAM_KINDS = ["serial", "tcp"]
MESSAGE_KINDS = ["udp", "ws-client", "ws-listener"]
CONNECTED_KINDS = ["serial", "tcp", "ws-client", "ws-listener"]
WEBSOCKET_KINDS = ["ws-client", "ws-listener"]

every_kind = pytest.mark.parametrize("link", list(OPENERS), indirect=True)
stream_kinds = pytest.mark.parametrize("link", STREAM_KINDS, indirect=True)
message_kinds = pytest.mark.parametrize("link", MESSAGE_KINDS, indirect=True)
connected_kinds = pytest.mark.parametrize("link", CONNECTED_KINDS, indirect=True)
websocket_kinds = pytest.mark.parametrize("link", WEBSOCKET_KINDS, indirect=True)


@pytest.fixture
def link(request: pytest.FixtureRequest) -> Iterator[Link]:
    with OPENERS[request.param]() as opened:
        yield opened


Babble = Callable[[Peer, bytes], None]


@pytest.fixture
def babble(link: Link) -> Iterator[Babble]:
    """Start a peer thread that sends *chunk* again and again until teardown.

    Depends on ``link`` so that it is stopped before the link is closed.
    """
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start(peer: Peer, chunk: bytes) -> None:
        def run() -> None:
            while not stop.is_set():
                try:
                    peer.send(chunk)
                except (OSError, ConnectionClosed):
                    return
                stop.wait(0.001)  # paced, so no buffer fills up while nobody reads

        thread = threading.Thread(target=run, name="babbler", daemon=True)
        threads.append(thread)
        thread.start()

    yield start
    stop.set()
    for thread in threads:
        thread.join(BOUND)
    assert not any(thread.is_alive() for thread in threads)


@contextmanager
def finishes_within(seconds: float) -> Iterator[None]:
    """Liveness check: the block returns (or raises) within *seconds*."""
    started = time.monotonic()
    yield
    elapsed = time.monotonic() - started
    assert elapsed < seconds, f"took {elapsed:.2f} s"


def rendered(transcript: Transcript) -> list[tuple[str, str, str | None]]:
    """(direction, hex, decode and note) of each rendered transcript line."""
    head, *lines = transcript.render().splitlines()
    assert head == "# transcript"
    parsed = [RENDERED.match(line) for line in lines]
    assert all(parsed), lines
    return [(m[1], m[2], m[3]) for m in parsed if m]


# -- every kind of link ---------------------------------------------------------


@every_kind
def test_exchange_is_delivered_and_transcribed(link: Link) -> None:
    before = time.monotonic()
    link.transport.send(REQUEST, note="request")
    link.peer.expect(REQUEST)
    link.peer.send(ANSWER)
    assert link.transport.recv_frame(FRAMER, timeout=BOUND) == ANSWER
    after = time.monotonic()

    records = link.transcript.records
    assert [(r.direction, r.data, r.note) for r in records] == [
        (">", REQUEST, "request"),
        ("<", ANSWER, ""),
    ]
    assert before <= records[0].monotonic <= records[1].monotonic <= after
    assert records[0].wallclock <= records[1].wallclock

    assert rendered(link.transcript) == [
        (">", "81 01 00 01 FF", "request"),
        ("<", "90 50 FF", None),
    ]
    link.transcript.decoder = lambda data: DECODES.get(data, "?")
    assert rendered(link.transcript) == [
        (">", "81 01 00 01 FF", "IF_Clear  request"),
        ("<", "90 50 FF", "Completion"),
    ]


@every_kind
def test_silent_peer_gives_no_reply(link: Link) -> None:
    with finishes_within(BOUND), pytest.raises(NoReply) as info:
        link.transport.recv_frame(FRAMER, timeout=SHORT)
    assert info.value.received is None
    with finishes_within(BOUND), pytest.raises(NoReply):
        link.transport.recv(timeout=SHORT)
    assert len(link.transcript) == 0


@every_kind
def test_drain_returns_pending_data(link: Link) -> None:
    link.request()
    first, second = bytes.fromhex("90 41 FF"), bytes.fromhex("90 51 FF")
    link.peer.send(first)
    link.peer.send(second)
    with finishes_within(BOUND):
        got = link.transport.drain(quiet=SHORT, limit=BOUND)
    assert b"".join(d for d in got if isinstance(d, bytes)) == first + second
    if link.transport.kind == "message":
        assert got == [first, second]
    drained = [r for r in link.transcript.records if r.direction == "<"]
    assert [r.data for r in drained] == got
    assert {r.note for r in drained} == {"drained"}


@every_kind
def test_drain_stops_within_its_limit_against_a_babbler(link: Link, babble: Babble) -> None:
    link.request()
    babble(link.peer, bytes.fromhex("90 41"))
    limit = 0.3
    with finishes_within(limit + 1.0):
        got = link.transport.drain(quiet=0.05, limit=limit)
    assert got
    assert all(set(chunk) <= {0x90, 0x41} for chunk in got if isinstance(chunk, bytes))


@connected_kinds
def test_peer_hang_up_is_device_unreachable(link: Link) -> None:
    link.peer.hang_up()
    with finishes_within(BOUND), pytest.raises(DeviceUnreachable) as info:
        link.transport.recv(timeout=BOUND)
    assert not isinstance(info.value, AssertionError)  # broken, not a spec violation


# -- byte streams: framing of what the peer sends -----------------------------------


@stream_kinds
def test_babbling_peer_gives_malformed_reply(link: Link, babble: Babble) -> None:
    babble(link.peer, b"\x41" * 4)
    with finishes_within(BOUND), pytest.raises(MalformedReply) as info:
        link.transport.recv_frame(FRAMER, timeout=2 * BOUND)
    junk = info.value.received
    assert isinstance(junk, bytes)
    assert len(junk) > FRAMER.max_frame
    assert set(junk) == {0x41}
    last = link.transcript.records[-1]
    assert (last.direction, last.data, last.note) == ("<", junk, "unframed")


@stream_kinds
def test_partial_frame_then_silence_gives_no_reply_with_the_partial_bytes(link: Link) -> None:
    link.peer.send(b"\x90\x50")
    with finishes_within(BOUND), pytest.raises(NoReply) as info:
        link.transport.recv_frame(FRAMER, timeout=SHORT)
    assert info.value.received == b"\x90\x50"
    assert "90 50" in str(info.value)
    last = link.transcript.records[-1]
    assert (last.direction, last.data, last.note) == ("<", b"\x90\x50", "incomplete")
    # the fragment does not stick to the next message
    link.peer.send(ANSWER)
    assert link.transport.recv_frame(FRAMER, timeout=BOUND) == ANSWER


@stream_kinds
def test_two_frames_in_one_chunk_come_out_as_two_frames(link: Link) -> None:
    link.peer.send(bytes.fromhex("90 41 FF 90 51 FF"))
    assert link.transport.recv_frame(FRAMER, timeout=BOUND) == bytes.fromhex("90 41 FF")
    assert link.transport.recv_frame(FRAMER, timeout=BOUND) == bytes.fromhex("90 51 FF")
    assert [r.data for r in link.transcript.records] == [
        bytes.fromhex("90 41 FF"),
        bytes.fromhex("90 51 FF"),
    ]


@stream_kinds
def test_fixed_length_framer_resynchronises_on_the_sync_byte(link: Link) -> None:
    pelco = FixedLengthFramer(b"\xff", 7)
    frame = bytes.fromhex("FF 01 00 00 00 00 01")
    link.peer.send(b"\x12\x34" + frame + b"\x56" + frame)
    got = [link.transport.recv_frame(pelco, timeout=BOUND) for _ in range(4)]
    assert got == [b"\x12\x34", frame, b"\x56", frame]


# -- message links: one message is one frame ----------------------------------------


@message_kinds
def test_messages_keep_their_boundaries(link: Link) -> None:
    link.request()
    both = bytes.fromhex("90 41 FF 90 51 FF")
    link.peer.send(both)
    link.peer.send(ANSWER)
    # a framer is ignored: the link already delivers whole messages
    assert link.transport.recv_frame(FRAMER, timeout=BOUND) == both
    assert link.transport.recv_frame(FRAMER, timeout=BOUND) == ANSWER


@websocket_kinds
def test_websocket_text_stays_text(link: Link) -> None:
    call, result = '[2,"1","Heartbeat",{}]', '[3,"1",{}]'
    link.transport.send(call)
    link.peer.expect(call)
    link.peer.send(result)
    assert link.transport.recv_frame(timeout=BOUND) == result
    assert [(d, h) for d, h, _ in rendered(link.transcript)] == [
        (">", repr(call)),
        ("<", repr(result)),
    ]


# -- nobody there ------------------------------------------------------------------

UNREACHABLE: dict[str, Callable[[int, Path], Transport]] = {
    "tcp-closed-port": lambda port, _: TcpTransport(LOCALHOST, port, connect_timeout=BOUND),
    "serial-missing-path": lambda _, tmp: SerialTransport(str(tmp / "no-such-tty")),
    "ws-nothing-listening": lambda port, _: WebSocketClient(
        f"ws://{LOCALHOST}:{port}/", connect_timeout=BOUND
    ),
    "ws-listener-nobody-connects": lambda _, __: WebSocketListener(
        LOCALHOST, 0, accept_timeout=SHORT
    ),
}


@pytest.mark.parametrize("how", list(UNREACHABLE))
def test_unreachable_device_fails_to_open(how: str, closed_port: int, tmp_path: Path) -> None:
    transport = UNREACHABLE[how](closed_port, tmp_path)
    try:
        with finishes_within(BOUND), pytest.raises(DeviceUnreachable) as info:
            transport.open()
    finally:
        transport.close()
    assert not isinstance(info.value, AssertionError)


def test_udp_to_a_closed_port_does_not_hang(closed_port: int) -> None:
    transport = UdpTransport(LOCALHOST, closed_port, timeout=TIMEOUT)
    transport.open()
    try:
        transport.send(REQUEST)
        # loopback answers with ICMP port unreachable; either outcome is fine
        with finishes_within(BOUND), pytest.raises((DeviceUnreachable, NoReply)):
            transport.recv(timeout=SHORT)
    finally:
        transport.close()


def test_listener_that_times_out_releases_its_port() -> None:
    listener = WebSocketListener(LOCALHOST, 0, accept_timeout=SHORT)
    try:
        with pytest.raises(DeviceUnreachable):
            listener.open()
        # a device dialling in late must be refused, not parked on a dead listener
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((LOCALHOST, listener.port), timeout=BOUND).close()
    finally:
        listener.close()


def test_listener_can_listen_again_after_close() -> None:
    listener = WebSocketListener(LOCALHOST, 0, timeout=TIMEOUT, accept_timeout=BOUND)
    try:
        for _ in range(2):
            listener.listen()
            url = f"ws://{LOCALHOST}:{listener.port}/"
            with connect(url, open_timeout=BOUND, close_timeout=1) as device:
                listener.accept()
                device.send(REQUEST)
                assert listener.recv(timeout=BOUND) == REQUEST
                listener.send(ANSWER)
                assert device.recv(timeout=BOUND) == ANSWER
            listener.close()
    finally:
        listener.close()
