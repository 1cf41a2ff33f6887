"""Raw TCP byte stream (serial servers, PTZOptics-style VISCA on 5678)."""

from __future__ import annotations

import socket

from conformance.errors import DeviceUnreachable
from conformance.transcript import Transcript
from conformance.transports.base import DEFAULT_TIMEOUT, Transport


class TcpTransport(Transport):
    kind = "stream"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = 5.0,
        transcript: Transcript | None = None,
    ) -> None:
        super().__init__(timeout=timeout, transcript=transcript)
        self.host, self.port = host, port
        self.connect_timeout = connect_timeout
        self._sock: socket.socket | None = None

    @property
    def address(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def open(self) -> None:
        try:
            self._sock = socket.create_connection((self.host, self.port), self.connect_timeout)
        except OSError as exc:
            raise DeviceUnreachable(f"cannot connect to {self.address}: {exc}") from exc
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _socket(self) -> socket.socket:
        if self._sock is None:
            raise DeviceUnreachable(f"{self.address} is not connected")
        return self._sock

    def _write(self, data: bytes | str) -> None:
        sock = self._socket()
        sock.settimeout(self.timeout)
        sock.sendall(data.encode() if isinstance(data, str) else data)

    def _read(self, timeout: float) -> bytes | None:
        sock = self._socket()
        sock.settimeout(max(timeout, 1e-6))
        try:
            data = sock.recv(65536)
        except TimeoutError:
            return None
        if not data:
            raise DeviceUnreachable(f"{self.address} closed the connection")
        return data
