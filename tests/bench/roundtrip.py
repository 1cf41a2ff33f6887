"""Request/reply round trips against the camera emulator: the framework's
transport + transcript + framing stack against a bare socket (the baseline)
talking to the same emulator in the same run."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from conformance.emulators.camera import CameraEmulator
from conformance.emulators.hosting import EmulatorHost
from conformance.framing import TerminatorFramer
from conformance.transports import TcpTransport, UdpTransport
from dissectors import visca, visca_ip

ROUNDS = 2000
REQUEST = visca.build("IF_Clear")
FRAMER = TerminatorFramer(b"\xff", 16)


def _rate(fn: Callable[[], None], rounds: int = ROUNDS) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        fn()
    return rounds / (time.perf_counter() - start)


def run() -> list[tuple[str, float, float]]:
    host = EmulatorHost().start()
    try:
        camera = CameraEmulator()
        udp_host, udp_port = host.serve(camera, "visca-ip", "udp").address.rsplit(":", 1)
        tcp_host, tcp_port = host.serve(camera, "visca", "tcp").address.rsplit(":", 1)

        bare_udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        bare_udp.connect((udp_host, int(udp_port)))
        bare_udp.settimeout(2)
        seq = iter(range(10**9))

        def udp_bare() -> None:
            bare_udp.send(visca_ip.wrap(REQUEST, next(seq)))
            bare_udp.recv(64)

        ours_udp = UdpTransport(udp_host, int(udp_port), timeout=2)
        ours_udp.open()
        seq2 = iter(range(10**9))

        def udp_ours() -> None:
            ours_udp.send(visca_ip.wrap(REQUEST, next(seq2)))
            ours_udp.recv_frame()

        bare_tcp = socket.create_connection((tcp_host, int(tcp_port)), timeout=2)
        bare_tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def tcp_bare() -> None:
            bare_tcp.sendall(REQUEST)
            got = b""
            while not got.endswith(b"\xff"):
                got += bare_tcp.recv(64)

        ours_tcp = TcpTransport(tcp_host, int(tcp_port), timeout=2)
        ours_tcp.open()

        def tcp_ours() -> None:
            ours_tcp.send(REQUEST)
            ours_tcp.recv_frame(FRAMER)

        rows = [
            ("VISCA over IP (UDP) round trips/s", _rate(udp_bare), _rate(udp_ours)),
            ("raw VISCA over TCP round trips/s", _rate(tcp_bare), _rate(tcp_ours)),
        ]
        for sock in (bare_udp, bare_tcp):
            sock.close()
        ours_udp.close()
        ours_tcp.close()
        return rows
    finally:
        host.close()
