"""Raw TCP byte stream (serial servers, PTZOptics-style VISCA on 5678)."""

from __future__ import annotations

import socket

from conformance.errors import DeviceUnreachable
from conformance.transcript import Transcript
from conformance.transports.base import DEFAULT_TIMEOUT, SocketTransport


class TcpTransport(SocketTransport):
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

    @property
    def address(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def open(self) -> None:
        try:
            self._sock = socket.create_connection((self.host, self.port), self.connect_timeout)
        except OSError as exc:
            raise DeviceUnreachable(f"cannot connect to {self.address}: {exc}") from exc
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _write(self, data: bytes | str) -> None:
        sock = self._socket()
        sock.settimeout(self.timeout)
        sock.sendall(data.encode() if isinstance(data, str) else data)

    def _read(self, timeout: float) -> bytes | None:
        data = self._recv(timeout, 65536)
        if data is None:
            return None
        if not data:
            raise DeviceUnreachable(f"{self.address} closed the connection")
        return data
