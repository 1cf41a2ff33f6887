"""The emulators' control API over HTTP: ``POST /<action>`` with a JSON object of
keyword arguments, answered with the action's JSON result.  ``GET /`` lists
the actions, ``GET /info`` is the emulator's :meth:`info`.

What a person, an EV or the environment does (plug a cable, present a card,
cut the network...) is an action; the test tool calls it through
:class:`conformance.devices.control.HttpControl`.  Every action runs on the
emulator host's loop, so it never races the device traffic.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from conformance.emulators.base import Emulator
from conformance.emulators.hosting import EmulatorHost

MAX_BODY = 64 * 1024


class ControlServer:
    """Serves *emulator*'s ``CONTROL`` actions on *host*:*port* (0 picks one)."""

    def __init__(self, host: EmulatorHost, emulator: Emulator, bind: str, port: int) -> None:
        self.emulator_host, self.emulator = host, emulator
        actions = tuple(getattr(emulator, "CONTROL", ()))
        server = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 10  # a client that stalls mid-request is dropped

            def log_message(self, *_args: Any) -> None:  # keep the console for the JSON line
                pass

            def _reply(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.rstrip("/") == "":
                    self._reply(200, {"actions": sorted(actions)})
                elif self.path == "/info" and "info" in actions:
                    self._reply(200, server.run("info", {}))
                else:
                    self._reply(404, {"error": f"no such resource {self.path}"})

            def do_POST(self) -> None:
                name = self.path.strip("/")
                if name not in actions:
                    self._reply(404, {"error": f"unknown action {name!r}", "actions": actions})
                    return
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    length = -1
                if not 0 <= length <= MAX_BODY:
                    self._reply(400, {"error": "bad Content-Length"})
                    return
                try:
                    kwargs = json.loads(self.rfile.read(length) or b"{}")
                except (ValueError, UnicodeDecodeError) as exc:
                    self._reply(400, {"error": f"body is not JSON: {exc}"})
                    return
                if not isinstance(kwargs, dict):
                    self._reply(400, {"error": "body must be a JSON object of arguments"})
                    return
                try:
                    self._reply(200, server.run(name, kwargs))
                except (TypeError, ValueError) as exc:
                    self._reply(400, {"error": f"{name}: {exc}"})
                except Exception as exc:
                    self._reply(500, {"error": f"{name} failed: {type(exc).__name__}: {exc}"})

        self.httpd = ThreadingHTTPServer((bind, port), Handler)
        self.httpd.daemon_threads = True
        self.address = "{}:{}".format(*self.httpd.server_address[:2])
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="control-http", daemon=True
        )

    def run(self, name: str, kwargs: dict[str, Any]) -> Any:
        target = getattr(self.emulator, name)
        return self.emulator_host.call(lambda: target(**kwargs))

    def start(self) -> ControlServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)
