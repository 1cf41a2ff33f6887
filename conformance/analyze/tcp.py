"""TCP reassembly for capture analysis: each direction of a connection as in-order bytes.

Sequence-number arithmetic follows RFC 9293 §3.4 (modulo 2**32).  A handler
sees only ``data`` (new bytes, in order, each byte once), ``gap`` (bytes the
capture lost) and ``close``.  The reassembler itself records the CAPTURE
finding for a gap ("tcp.gap") and for a snaplen-cut segment ("capture.snaplen",
once per conversation), so handlers only resynchronise and must not report the
gap again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from conformance.analyze.model import CAPTURE, Analysis, Conversation, Finding

FIN = 0x01
SYN = 0x02
RST = 0x04
ACK = 0x10

#: out-of-order bytes buffered per direction before the hole is declared a gap
MAX_BUFFERED_BYTES = 1 << 20
MAX_BUFFERED_SEGMENTS = 256
#: a connection silent this long (capture time) is closed
IDLE_TIMEOUT = 600.0
#: open connections kept; beyond this the least recently active is closed
MAX_CONNECTIONS = 10_000
_SWEEP_EVERY = 4096

TCP_REQUIREMENT = "RFC 9293 §3.4"


class StreamHandler(Protocol):
    def data(self, from_client: bool, payload: bytes, frame: int, time: float) -> None:
        """In-order bytes of one direction."""

    def gap(self, from_client: bool, missing: int, frame: int, time: float) -> None:
        """*missing* bytes lost in the capture; the handler resynchronises."""

    def close(self, time: float | None) -> None:
        """FIN/RST seen on the connection, or end of capture."""


StreamFactory = Callable[[Analysis, Conversation], StreamHandler]


def endpoint(address: str, port: int) -> str:
    """``10.0.0.2:50000`` or ``[fe80::1]:50000``."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _delta(a: int, b: int) -> int:
    """a - b as a signed 32-bit sequence-space distance."""
    d = (a - b) & 0xFFFFFFFF
    return d - (1 << 32) if d & 0x80000000 else d


@dataclass
class _Segment:
    seq: int
    payload: bytes
    truncated: int  # bytes cut off the end by the snaplen
    frame: int
    time: float

    def end_delta(self, start: int) -> int:
        return _delta(self.seq, start) + len(self.payload) + self.truncated


@dataclass
class _Direction:
    next: int | None = None  # next expected sequence number
    fin: int | None = None  # sequence number of the FIN, once seen
    closed: bool = False
    pending: dict[int, _Segment] = field(default_factory=dict)  # out-of-order, by seq
    pending_bytes: int = 0


@dataclass
class _Connection:
    client: tuple[str, int]
    conversation: Conversation
    handler: StreamHandler
    last: float
    last_frame: int = 0
    up: _Direction = field(default_factory=_Direction)  # client -> server
    down: _Direction = field(default_factory=_Direction)  # server -> client


class Reassembler:
    """Per-connection, per-direction TCP reassembly.

    SYN sets the ISN (mid-stream captures start at the first segment seen);
    retransmissions and overlaps are dropped; out-of-order segments are buffered
    (bounded: beyond MAX_BUFFERED_* the hole is declared a gap); sequence
    wrap-around is handled; FIN/RST close.  The client is the SYN sender, else
    the side whose port is not the service port.  Idle connections are closed
    after IDLE_TIMEOUT of capture time, so memory stays bounded.
    """

    def __init__(
        self, analysis: Analysis, factories: Mapping[int, tuple[str, StreamFactory]]
    ) -> None:
        self.analysis = analysis
        self.factories = dict(factories)
        self._connections: dict[tuple[str, int, str, int], _Connection] = {}
        self._segments = 0

    def segment(
        self,
        frame: int,
        time: float,
        src: str,
        sport: int,
        dst: str,
        dport: int,
        seq: int,
        flags: int,
        payload: bytes,
        truncated: int = 0,
        ack: int | None = None,
    ) -> None:
        """One TCP segment.  *truncated* is how many payload bytes the capture's
        snaplen cut off the end of *payload* (delivered to the handler as a gap).
        *ack* (with the ACK flag) lets a loss show as soon as the peer acknowledges
        bytes the capture never had, before the peer's own data is handed over."""
        key = (src, sport, dst, dport) if (src, sport) <= (dst, dport) else (dst, dport, src, sport)
        conn = self._connections.get(key)
        if conn is None:
            if not flags & SYN and not payload and not truncated:
                return  # a bare ACK/FIN/RST of a connection not (or no longer) followed
            conn = self._open(key, time, src, sport, dst, dport, flags)
            if conn is None:
                return
        conn.last, conn.last_frame = time, frame
        from_client = (src, sport) == conn.client
        side = conn.up if from_client else conn.down
        self._segments += 1
        if self._segments % _SWEEP_EVERY == 0:
            self._sweep(time)
        if ack is not None and flags & ACK:
            self._acknowledged(conn, not from_client, ack, frame, time)
        if flags & SYN:
            side.next = (seq + 1) & 0xFFFFFFFF
            seq = side.next
        elif side.next is None:
            side.next = seq
        if payload or truncated:
            self._receive(conn, from_client, side, _Segment(seq, payload, truncated, frame, time))
        if flags & FIN and side.fin is None:
            side.fin = (seq + len(payload) + truncated) & 0xFFFFFFFF
        if flags & RST:
            self._close(key, conn, time)
            return
        if side.fin is not None and side.next is not None and _delta(side.fin, side.next) <= 0:
            side.closed = True
        if conn.up.closed and conn.down.closed:
            self._close(key, conn, time)

    def finish(self) -> None:
        """End of capture: flush what is buffered (declaring gaps) and close everything."""
        for key, conn in list(self._connections.items()):
            self._close(key, conn, None)

    # ------------------------------------------------------------ internals

    def _open(
        self,
        key: tuple[str, int, str, int],
        time: float,
        src: str,
        sport: int,
        dst: str,
        dport: int,
        flags: int,
    ) -> _Connection | None:
        if flags & SYN and not flags & ACK:
            client, server = (src, sport), (dst, dport)
        elif flags & SYN:
            client, server = (dst, dport), (src, sport)
        elif dport in self.factories:
            client, server = (src, sport), (dst, dport)
        else:
            client, server = (dst, dport), (src, sport)
        if server[1] not in self.factories:
            return None
        protocol, factory = self.factories[server[1]]
        conversation = self.analysis.conversation(protocol, endpoint(*client), endpoint(*server))
        conversation.seen(time)
        handler = factory(self.analysis, conversation)
        if len(self._connections) >= MAX_CONNECTIONS:
            oldest = min(self._connections, key=lambda k: self._connections[k].last)
            self._close(oldest, self._connections[oldest], None)
        conn = _Connection(client, conversation, handler, time)
        self._connections[key] = conn
        return conn

    def _receive(
        self, conn: _Connection, from_client: bool, side: _Direction, seg: _Segment
    ) -> None:
        if seg.truncated:
            self.analysis.add(
                Finding(
                    CAPTURE,
                    "capture.snaplen",
                    "pcap/pcapng: captured length < original length",
                    f"packet cut by the capture's snapshot length ({seg.truncated} bytes "
                    "missing); later cut packets of this conversation are not reported again",
                    conn.conversation.key,
                    seg.frame,
                    seg.time,
                    party="",
                ),
                once=True,
            )
        assert side.next is not None
        if _delta(seg.seq, side.next) > 0:
            old = side.pending.get(seg.seq)
            if old is None or old.end_delta(seg.seq) < seg.end_delta(seg.seq):
                side.pending_bytes += len(seg.payload) - (len(old.payload) if old else 0)
                side.pending[seg.seq] = seg
            if side.pending_bytes > MAX_BUFFERED_BYTES or len(side.pending) > MAX_BUFFERED_SEGMENTS:
                self._skip_to_pending(conn, from_client, side)
            return
        self._deliver(conn, from_client, side, seg)
        self._flush(conn, from_client, side)

    def _deliver(
        self, conn: _Connection, from_client: bool, side: _Direction, seg: _Segment
    ) -> None:
        """Hand over the part of *seg* (which starts at or before ``side.next``) not yet seen."""
        assert side.next is not None
        offset = -_delta(seg.seq, side.next)  # bytes of seg already delivered
        if offset < len(seg.payload):
            fresh = seg.payload[offset:]
            side.next = (side.next + len(fresh)) & 0xFFFFFFFF
            conn.handler.data(from_client, fresh, seg.frame, seg.time)
            offset = len(seg.payload)
        if seg.truncated and offset < len(seg.payload) + seg.truncated:
            missing = len(seg.payload) + seg.truncated - offset
            side.next = (side.next + missing) & 0xFFFFFFFF
            conn.handler.gap(from_client, missing, seg.frame, seg.time)

    def _flush(self, conn: _Connection, from_client: bool, side: _Direction) -> None:
        """Deliver buffered segments that have become in-order."""
        while side.pending:
            assert side.next is not None
            ready = sorted(
                (s for s in side.pending if _delta(s, side.next) <= 0),
                key=lambda s: _delta(s, side.next or 0),
            )
            if not ready:
                return
            for s in ready:
                seg = side.pending.pop(s)
                side.pending_bytes -= len(seg.payload)
                self._deliver(conn, from_client, side, seg)

    def _acknowledged(
        self, conn: _Connection, from_client: bool, ack: int, frame: int, time: float
    ) -> None:
        """The other side acknowledged direction *from_client* up to *ack*: any of
        those bytes not seen yet were lost from the capture."""
        side = conn.up if from_client else conn.down
        if side.next is None or side.closed:
            return
        limit = ack
        if side.fin is not None and _delta(ack, side.fin) > 0:
            limit = side.fin  # the FIN itself takes one sequence number
        while _delta(limit, side.next) > 0:
            if any(_delta(s, limit) < 0 for s in side.pending):
                self._skip_to_pending(conn, from_client, side)
                continue
            self._gap(conn, from_client, _delta(limit, side.next), frame, time)
            side.next = limit
            break

    def _skip_to_pending(self, conn: _Connection, from_client: bool, side: _Direction) -> None:
        """Declare the hole before the earliest buffered segment a gap and go on from there."""
        assert side.next is not None
        start = min(side.pending, key=lambda s: _delta(s, side.next or 0))
        seg = side.pending[start]
        self._gap(conn, from_client, _delta(start, side.next), seg.frame, seg.time)
        side.next = start
        self._flush(conn, from_client, side)

    def _gap(
        self, conn: _Connection, from_client: bool, missing: int, frame: int, time: float
    ) -> None:
        if missing <= 0:
            return
        direction = "client -> server" if from_client else "server -> client"
        self.analysis.add(
            Finding(
                CAPTURE,
                "tcp.gap",
                TCP_REQUIREMENT,
                f"{missing} bytes {direction} missing from the capture before this segment; "
                "the stream is resynchronised after the hole",
                conn.conversation.key,
                frame,
                time,
                party="",
            )
        )
        conn.handler.gap(from_client, missing, frame, time)

    def _close(self, key: tuple[str, int, str, int], conn: _Connection, time: float | None) -> None:
        self._connections.pop(key, None)
        for from_client, side in ((True, conn.up), (False, conn.down)):
            while side.pending:
                self._skip_to_pending(conn, from_client, side)
            if side.fin is not None and side.next is not None and not side.closed:
                frame, at = conn.last_frame, conn.last
                self._gap(conn, from_client, _delta(side.fin, side.next), frame, at)
        conn.handler.close(time)

    def _sweep(self, now: float) -> None:
        for key, conn in list(self._connections.items()):
            if now - conn.last > IDLE_TIMEOUT:
                self._close(key, conn, conn.last)
