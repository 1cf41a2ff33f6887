"""Transport interface: every read has a deadline, every message is transcribed."""

from __future__ import annotations

import socket
import time
from abc import ABC, abstractmethod
from typing import ClassVar

from conformance.errors import DeviceUnreachable, MalformedReply, NoReply, hexs
from conformance.framing import Framer
from conformance.transcript import Transcript

DEFAULT_TIMEOUT = 2.0


class Deadline:
    """An absolute point in monotonic time."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.at


class Transport(ABC):
    """A link to one device.

    ``stream`` transports (serial, TCP) deliver arbitrary chunks of a byte
    stream and need a :class:`~conformance.framing.Framer`; ``message``
    transports (UDP, WebSocket) deliver whole messages.
    """

    kind: ClassVar[str] = "stream"

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, transcript: Transcript | None = None):
        self.timeout = timeout
        self.transcript = transcript if transcript is not None else Transcript()
        self._buffer = bytearray()

    # -- to implement -------------------------------------------------------
    @property
    @abstractmethod
    def address(self) -> str:
        """Where this transport talks to, for messages (no secrets)."""

    @abstractmethod
    def open(self) -> None:
        """Connect; raise :class:`DeviceUnreachable` if the device is not there."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def _write(self, data: bytes | str) -> None: ...

    @abstractmethod
    def _read(self, timeout: float) -> bytes | str | None:
        """One chunk or message, or ``None`` if nothing came within *timeout*."""

    # -- shared behaviour ---------------------------------------------------
    def __enter__(self) -> Transport:
        self.open()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def send(self, data: bytes | str, note: str = "") -> None:
        try:
            self._write(data)
        except OSError as exc:
            raise DeviceUnreachable(f"{self.address}: send failed: {exc}") from exc
        self.transcript.sent(data, note)

    def recv(self, timeout: float | None = None) -> bytes | str:
        """The next chunk or message.  Raises :class:`NoReply` at the deadline."""
        deadline = Deadline(self.timeout if timeout is None else timeout)
        if self._buffer:
            data = bytes(self._buffer)
            self._buffer.clear()
            self.transcript.received(data)
            return data
        data = self._read_until(deadline)
        if data is None:
            raise NoReply(f"no data from {self.address} within {deadline.seconds:.2f} s")
        self.transcript.received(data)
        return data

    def recv_frame(self, framer: Framer | None = None, timeout: float | None = None) -> bytes | str:
        """The next complete message.

        On a message transport (or with no framer) this is the next message.
        On a stream it reads until *framer* yields a frame, and raises
        :class:`NoReply` with whatever partial bytes arrived when the deadline
        passes, or :class:`MalformedReply` when the peer sends more than
        ``framer.max_frame`` bytes without completing a frame.
        """
        deadline = Deadline(self.timeout if timeout is None else timeout)
        if framer is None or self.kind == "message":
            data = self._read_until(deadline)
            if data is None:
                raise NoReply(f"no message from {self.address} within {deadline.seconds:.2f} s")
            self.transcript.received(data)
            return data
        while True:
            frame = framer.split(self._buffer)
            if frame is not None and len(frame) <= framer.max_frame:
                self.transcript.received(frame)
                return frame
            if frame is not None or len(self._buffer) > framer.max_frame:
                # Too long, whether the terminator came in the same chunk or never.
                junk = frame if frame is not None else bytes(self._buffer)
                if frame is None:
                    self._buffer.clear()
                self.transcript.received(junk, "unframed")
                raise MalformedReply(
                    f"{self.address} sent {len(junk)} bytes where a message is at most "
                    f"{framer.max_frame}",
                    received=junk,
                )
            chunk = self._read_until(deadline)
            if chunk is None:
                partial = bytes(self._buffer)
                self._buffer.clear()
                if partial:
                    self.transcript.received(partial, "incomplete")
                    raise NoReply(
                        f"incomplete message from {self.address} after "
                        f"{deadline.seconds:.2f} s: {hexs(partial)}",
                        received=partial,
                    )
                raise NoReply(f"no data from {self.address} within {deadline.seconds:.2f} s")
            assert isinstance(chunk, bytes)
            self._buffer += chunk

    def drain(self, quiet: float = 0.05, limit: float = 1.0) -> list[bytes | str]:
        """Read and transcribe whatever is pending until the line is quiet.

        Waits at most *quiet* seconds for each further chunk and *limit*
        seconds in all, so a babbling device cannot hold it.
        """
        deadline = Deadline(limit)
        got: list[bytes | str] = []
        if self._buffer:
            got.append(bytes(self._buffer))
            self._buffer.clear()
        while not deadline.expired():
            try:
                data = self._read(min(quiet, deadline.remaining()))
            except OSError as exc:
                raise DeviceUnreachable(f"{self.address}: receive failed: {exc}") from exc
            if data is None:
                break
            got.append(data)
        for data in got:
            self.transcript.received(data, "drained")
        return got

    def _read_until(self, deadline: Deadline) -> bytes | str | None:
        try:
            return self._read(deadline.remaining())
        except OSError as exc:
            raise DeviceUnreachable(f"{self.address}: receive failed: {exc}") from exc


class SocketTransport(Transport):
    """Shared plumbing of the transports that own one socket."""

    _sock: socket.socket | None = None

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _socket(self) -> socket.socket:
        if self._sock is None:
            raise DeviceUnreachable(f"{self.address} is not open")
        return self._sock

    def _recv(self, timeout: float, size: int) -> bytes | None:
        sock = self._socket()
        sock.settimeout(max(timeout, 1e-6))
        try:
            return sock.recv(size)
        except TimeoutError:
            return None
