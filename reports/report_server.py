"""Serve a rendered report on 127.0.0.1 for a browser to check, and let nothing out.

The awesome app fetches its data files, which ``file://`` pages may not do, so the
report directory is served over HTTP from a thread.  The same server is the
browser's proxy: every request meant for another host (``CONNECT`` or an absolute
URL) is refused with 403 and recorded, so nothing leaves the machine.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

LOCAL_HOST = "127.0.0.1"
IO_TIMEOUT = 10.0  # seconds, for each socket of the report server


class RequestLog(Protocol):
    """Where the server records what it did (a :class:`reports.page_checks.BrowserCheck`)."""

    fetched: list[tuple[str, int]]  # (served path, HTTP status)
    blocked: list[str]  # refused proxy requests: "METHOD target"


class _Handler(SimpleHTTPRequestHandler):
    """Serves the report quietly; refuses and records requests meant for other hosts."""

    timeout = IO_TIMEOUT
    request_log: RequestLog
    lock: threading.Lock
    _proxied = False

    def log_message(self, format: str, *args: object) -> None:
        pass

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if not self._proxied:
            with self.lock:
                self.request_log.fetched.append((urlsplit(self.path).path, int(code)))

    def _refuse_proxied(self) -> bool:
        absolute = self.path.startswith(("http://", "https://", "ws://", "wss://"))
        self._proxied = self.command == "CONNECT" or absolute
        if not self._proxied:
            return False
        with self.lock:
            self.request_log.blocked.append(f"{self.command} {self.path}")
        self.send_error(HTTPStatus.FORBIDDEN, "no request leaves this machine")
        return True

    def do_GET(self) -> None:
        if not self._refuse_proxied():
            super().do_GET()

    def do_HEAD(self) -> None:
        if not self._refuse_proxied():
            super().do_HEAD()

    def _other(self) -> None:
        if not self._refuse_proxied():
            self.send_error(HTTPStatus.METHOD_NOT_ALLOWED)

    do_CONNECT = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _other


@contextmanager
def serve_report(directory: Path, log: RequestLog) -> Iterator[int]:
    """Serve ``directory`` on 127.0.0.1 from a thread, recording into ``log``;
    yields the port."""
    handler = type("Handler", (_Handler,), {"request_log": log, "lock": threading.Lock()})
    server = ThreadingHTTPServer((LOCAL_HOST, 0), partial(handler, directory=str(directory)))
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=IO_TIMEOUT)
