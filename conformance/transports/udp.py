"""UDP datagrams to one peer (VISCA over IP)."""

from __future__ import annotations

import socket

from conformance.errors import DeviceUnreachable
from conformance.transcript import Transcript
from conformance.transports.base import DEFAULT_TIMEOUT, SocketTransport


class UdpTransport(SocketTransport):
    kind = "message"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transcript: Transcript | None = None,
    ) -> None:
        super().__init__(timeout=timeout, transcript=transcript)
        self.host, self.port = host, port

    @property
    def address(self) -> str:
        return f"udp://{self.host}:{self.port}"

    def open(self) -> None:
        try:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)
            family, _, _, _, sockaddr = infos[0]
        except OSError as exc:
            raise DeviceUnreachable(f"cannot resolve {self.address}: {exc}") from exc
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            raise DeviceUnreachable(f"cannot reach {self.address}: {exc}") from exc
        self._sock = sock

    def _write(self, data: bytes | str) -> None:
        self._socket().send(data.encode() if isinstance(data, str) else data)

    def _read(self, timeout: float) -> bytes | None:
        try:
            return self._recv(timeout, 65535)
        except ConnectionRefusedError as exc:
            raise DeviceUnreachable(f"{self.address}: port unreachable (ICMP)") from exc
