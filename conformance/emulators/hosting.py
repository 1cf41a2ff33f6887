"""Runs emulator endpoints on a pty, TCP or UDP, on one asyncio loop in a
background thread.  The pytest plugin and ``conformance emulate`` both use it."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import threading
import tty
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from conformance.emulators.base import Emulator, Endpoint, Link
from conformance.errors import FrameworkError

T = TypeVar("T")


@dataclass(frozen=True)
class Listening:
    """Where one endpoint of a running emulator can be reached."""

    emulator: str
    face: str
    transport: str  # pty | tcp | udp
    address: str  # /dev/pts/N or HOST:PORT

    def as_json(self) -> dict[str, str]:
        return {"face": self.face, "transport": self.transport, "address": self.address}


class _StreamProtocol(asyncio.Protocol):
    def __init__(self, host: EmulatorHost, emulator: Emulator, endpoint: Endpoint) -> None:
        self.host, self.emulator, self.endpoint = host, emulator, endpoint
        self.link: Link | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        peer = transport.get_extra_info("peername")
        self.link = Link(
            "tcp", f"{peer[0]}:{peer[1]}", transport.write, self.host.loop, self.emulator
        )
        self.emulator.links.append(self.link)
        self.emulator.guard(self.endpoint.on_connect, self.link)

    def data_received(self, data: bytes) -> None:
        assert self.link is not None
        self.emulator.guard(self.endpoint.on_data, self.link, data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.link is not None:
            self.link.closed = True
            with contextlib.suppress(ValueError):
                self.emulator.links.remove(self.link)


class _DatagramProtocol(asyncio.DatagramProtocol):
    def __init__(self, host: EmulatorHost, emulator: Emulator, endpoint: Endpoint) -> None:
        self.host, self.emulator, self.endpoint = host, emulator, endpoint
        self.transport: asyncio.DatagramTransport | None = None
        self.peers: dict[Any, Link] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        link = self.peers.get(addr)
        if link is None:
            transport = self.transport
            assert transport is not None
            link = Link(
                "udp",
                f"{addr[0]}:{addr[1]}",
                lambda payload, a=addr: transport.sendto(payload, a),
                self.host.loop,
                self.emulator,
            )
            if len(self.peers) > 1024:  # bound memory against spoofed-source floods
                self.peers.clear()
            self.peers[addr] = link
            self.emulator.links.append(link)
        self.emulator.guard(self.endpoint.on_data, link, data)

    def error_received(self, exc: Exception) -> None:  # ICMP from a vanished peer
        pass


class EmulatorHost:
    """An asyncio loop in a daemon thread serving any number of emulators."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="emulator-host", daemon=True)
        self._closers: list[Callable[[], None]] = []
        self._started = False

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> EmulatorHost:
        if not self._started:
            self._thread.start()
            self._started = True
        return self

    def call(self, fn: Callable[..., T], *args: Any, timeout: float = 10.0) -> T:
        """Run *fn* on the loop thread and return its result."""
        self.start()

        async def run() -> T:
            return fn(*args)

        future = asyncio.run_coroutine_threadsafe(run(), self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise FrameworkError(f"emulator host did not answer within {timeout} s") from None

    def _await(self, coro: Any, timeout: float = 10.0) -> Any:
        self.start()
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    # ---------------------------------------------------------------- serving
    def serve(
        self, emulator: Emulator, face: str, transport: str, host: str = "127.0.0.1", port: int = 0
    ) -> Listening:
        """Serve *face* of *emulator* on *transport* (``pty``, ``tcp`` or ``udp``)."""
        if transport not in emulator.FACES.get(face, ()):
            raise FrameworkError(f"emulator {emulator.name} cannot serve {face} on {transport}")
        endpoint = emulator.endpoint(face)
        if transport == "pty":
            address = self.call(self._open_pty, emulator, endpoint)
        elif transport == "tcp":
            address = self._await(self._open_tcp(emulator, endpoint, host, port))
        elif transport == "udp":
            address = self._await(self._open_udp(emulator, endpoint, host, port))
        else:
            raise FrameworkError(f"unknown emulator transport {transport!r}")
        return Listening(emulator.name, face, transport, address)

    def _open_pty(self, emulator: Emulator, endpoint: Endpoint) -> str:
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        path = os.ttyname(slave)

        def write(data: bytes) -> None:
            with contextlib.suppress(BlockingIOError, OSError):
                os.write(master, data)

        link = Link("pty", path, write, self.loop, emulator)
        emulator.links.append(link)

        def readable() -> None:
            try:
                data = os.read(master, 4096)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if data:
                emulator.guard(endpoint.on_data, link, data)

        self.loop.add_reader(master, readable)

        def close() -> None:
            self.loop.remove_reader(master)
            link.closed = True
            os.close(master)
            os.close(slave)

        self._closers.append(close)
        return path

    async def _open_tcp(self, emulator: Emulator, endpoint: Endpoint, host: str, port: int) -> str:
        server = await self.loop.create_server(
            lambda: _StreamProtocol(self, emulator, endpoint), host, port, reuse_address=True
        )
        self._closers.append(server.close)
        sockname = server.sockets[0].getsockname()
        return f"{sockname[0]}:{sockname[1]}"

    async def _open_udp(self, emulator: Emulator, endpoint: Endpoint, host: str, port: int) -> str:
        transport, _ = await self.loop.create_datagram_endpoint(
            lambda: _DatagramProtocol(self, emulator, endpoint), local_addr=(host, port)
        )
        self._closers.append(transport.close)
        sockname = transport.get_extra_info("sockname")
        return f"{sockname[0]}:{sockname[1]}"

    def close(self) -> None:
        if not self._started:
            return
        closers, self._closers = self._closers, []

        def close_all() -> None:
            for closer in closers:
                with contextlib.suppress(Exception):
                    closer()

        with contextlib.suppress(Exception):
            self.call(close_all)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self.loop.close()  # its selector and self-pipe; a host is not restarted
        self._started = False
