"""Client of an emulator's control API (``control=http://HOST:PORT`` in a
device URI): ``control.plug(evse=1)`` posts ``{"evse": 1}`` to ``/plug``."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from conformance.errors import DeviceUnreachable, FrameworkError


class HttpControl:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _request(self, path: str, body: dict[str, Any] | None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/{path}", data=data, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            try:
                detail = json.loads(exc.read()).get("error", "")
            except ValueError:
                detail = exc.reason
            raise FrameworkError(f"control API {self.url}/{path}: {exc.code} {detail}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise DeviceUnreachable(f"control API {self.url} unreachable: {exc}") from None

    def info(self) -> Any:
        return self._request("info", None)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        def action(**kwargs: Any) -> Any:
            return self._request(name, kwargs)

        return action

    def __repr__(self) -> str:
        return f"<HttpControl {self.url}>"
