"""WebSocket links through the ``websockets`` library (its threading API).

:class:`WebSocketClient` dials a server.  :class:`WebSocketListener` is the
server side used when the device under test connects to us (an OCPP charging
station dialling its CSMS): it waits, with a deadline, for the device.
"""

from __future__ import annotations

import queue
import ssl as ssl_module
import threading
from collections.abc import Callable, Sequence

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.http11 import Request, Response
from websockets.sync.client import ClientConnection, connect
from websockets.sync.server import Server, ServerConnection, serve
from websockets.typing import Subprotocol

from conformance.errors import DeviceUnreachable
from conformance.transcript import Transcript
from conformance.transports.base import DEFAULT_TIMEOUT, Transport

ProcessRequest = Callable[[ServerConnection, Request], Response | None]


class _WebSocketTransport(Transport):
    kind = "message"
    _conn: ClientConnection | ServerConnection | None = None

    @property
    def subprotocol(self) -> str | None:
        return self._conn.subprotocol if self._conn is not None else None

    def _connection(self) -> ClientConnection | ServerConnection:
        if self._conn is None:
            raise DeviceUnreachable(f"{self.address} is not connected")
        return self._conn

    def _write(self, data: bytes | str) -> None:
        try:
            self._connection().send(data)
        except ConnectionClosed as exc:
            raise DeviceUnreachable(f"{self.address} closed the connection: {exc}") from exc

    def _read(self, timeout: float) -> bytes | str | None:
        try:
            return self._connection().recv(timeout=timeout)
        except TimeoutError:
            return None
        except ConnectionClosed as exc:
            raise DeviceUnreachable(f"{self.address} closed the connection: {exc}") from exc


class WebSocketClient(_WebSocketTransport):
    def __init__(
        self,
        url: str,
        *,
        subprotocols: Sequence[str] = (),
        headers: dict[str, str] | None = None,
        ssl: ssl_module.SSLContext | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = 10.0,
        transcript: Transcript | None = None,
    ) -> None:
        super().__init__(timeout=timeout, transcript=transcript)
        self.url = url
        self.subprotocols = [Subprotocol(p) for p in subprotocols]
        self.headers = headers or {}
        self.ssl = ssl
        self.connect_timeout = connect_timeout

    @property
    def address(self) -> str:
        return self.url.split("@")[-1] if "@" in self.url else self.url

    def open(self) -> None:
        try:
            # Entered like a context manager (closed in close()): websockets >= 17.1
            # deprecates using connect() directly, and this works with every version.
            self._conn = connect(
                self.url,
                subprotocols=self.subprotocols or None,
                additional_headers=self.headers,
                ssl=self.ssl,
                open_timeout=self.connect_timeout,
                close_timeout=self.timeout,
                proxy=None,
            ).__enter__()
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError, ConnectionClosed) as exc:
            raise DeviceUnreachable(f"cannot connect to {self.address}: {exc}") from exc

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class WebSocketListener(_WebSocketTransport):
    """Listens on *host*:*port* and takes the first connection that passes
    *process_request* (which may check a path, a station id or credentials)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        subprotocols: Sequence[str] = (),
        process_request: ProcessRequest | None = None,
        ssl: ssl_module.SSLContext | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        accept_timeout: float = 60.0,
        max_size: int | None = 1 << 20,
        transcript: Transcript | None = None,
    ) -> None:
        super().__init__(timeout=timeout, transcript=transcript)
        self.host, self.port = host, port
        self.max_size = max_size
        self.subprotocols = [Subprotocol(p) for p in subprotocols]
        self.process_request = process_request
        self.ssl = ssl
        self.accept_timeout = accept_timeout
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._incoming: queue.Queue[ServerConnection] = queue.Queue()
        self._done = threading.Event()

    @property
    def address(self) -> str:
        scheme = "wss" if self.ssl else "ws"
        return f"{scheme}://{self.host}:{self.port} (listening)"

    def listen(self) -> None:
        """Bind the port; :meth:`accept` then waits for the device."""
        # A listener can be closed and listened on again: start from a clean slate.
        self._done.clear()
        self._incoming = queue.Queue()
        try:
            self._server = serve(
                self._handler,
                self.host,
                self.port,
                subprotocols=self.subprotocols or None,
                process_request=self.process_request,
                ssl=self.ssl,
                close_timeout=self.timeout,
                max_size=self.max_size,
            )
        except OSError as exc:
            raise DeviceUnreachable(f"cannot listen on {self.host}:{self.port}: {exc}") from exc
        self.port = self._server.socket.getsockname()[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"ws-listen-{self.port}", daemon=True
        )
        self._thread.start()

    def _handler(self, conn: ServerConnection) -> None:
        self._incoming.put(conn)
        # Keep the connection open until the transport is closed or replaced.
        while not self._done.is_set() and conn.state.name == "OPEN":
            self._done.wait(0.2)

    @property
    def listening(self) -> bool:
        return self._server is not None

    def next_connection(self) -> ServerConnection | None:
        """A device connection accepted since the last call, without waiting."""
        try:
            return self._incoming.get_nowait()
        except queue.Empty:
            return None

    def accept(self, timeout: float | None = None) -> None:
        wait = self.accept_timeout if timeout is None else timeout
        try:
            self._conn = self._incoming.get(timeout=wait)
        except queue.Empty:
            raise DeviceUnreachable(
                f"no device connected to {self.address} within {wait:.1f} s"
            ) from None

    def open(self) -> None:
        if self._server is None:
            self.listen()
        try:
            self.accept()
        except DeviceUnreachable:
            self.close()  # do not leave the port bound and accepting devices
            raise

    def close(self) -> None:
        self._done.set()
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
