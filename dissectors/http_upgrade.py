"""The WebSocket opening handshake (RFC 6455 §4) as seen in a capture.

* :func:`read_head`, :func:`parse_request`, :func:`parse_response` -- the HTTP/1.1
  heads of the upgrade (RFC 9112 §3, §4) as :class:`HttpRequest`/:class:`HttpResponse`.
* :func:`accept_key` -- Sec-WebSocket-Accept from Sec-WebSocket-Key (§4.2.2, §1.3).
* :func:`parse_extensions` -- Sec-WebSocket-Extensions (§9.1).
* :func:`check_handshake` -- what request and response get wrong (§4.1, §4.2.2, §9.1;
  RFC 7692 §7.1); :func:`negotiated_deflate` -- the permessage-deflate parameters.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from dissectors.websocket import DEFLATE_RFC, RFC, Problem
from dissectors.websocket_deflate import EXTENSION, DeflateParams

#: §1.3: appended to Sec-WebSocket-Key before hashing into Sec-WebSocket-Accept
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#: an HTTP head larger than this is not a WebSocket handshake
MAX_HEAD = 16 << 10


@dataclass
class HttpHead:
    """An HTTP/1.1 request or response head: start line parts and headers in order."""

    start: tuple[str, str, str]
    headers: list[tuple[str, str]]

    def get(self, name: str) -> str | None:
        """The header's value; repeated headers joined with ", " (RFC 9110 §5.3)."""
        values = [v for n, v in self.headers if n.lower() == name.lower()]
        return ", ".join(values) if values else None

    def tokens(self, name: str) -> list[str]:
        """The comma-separated items of a header, stripped, empty ones dropped."""
        value = self.get(name)
        return [t.strip() for t in value.split(",") if t.strip()] if value else []


@dataclass
class HttpRequest(HttpHead):
    @property
    def method(self) -> str:
        return self.start[0]

    @property
    def target(self) -> str:
        return self.start[1]

    @property
    def version(self) -> str:
        return self.start[2]


@dataclass
class HttpResponse(HttpHead):
    @property
    def version(self) -> str:
        return self.start[0]

    @property
    def status(self) -> int:
        return int(self.start[1])

    @property
    def reason(self) -> str:
        return self.start[2]


def read_head(buffer: bytes | bytearray, limit: int = MAX_HEAD) -> int | None:
    """Length of the HTTP head at the start of *buffer* (through the empty line), None
    while incomplete; ValueError when no head ends within *limit* bytes."""
    end = bytes(buffer[: limit + 4]).find(b"\r\n\r\n")
    if end >= 0:
        return end + 4
    if len(buffer) > limit:
        raise ValueError(f"no end of the HTTP head within {limit} bytes")
    return None


def _lines(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    text = head.decode("iso-8859-1")
    lines = text.split("\r\n")
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise ValueError("empty HTTP head")
    headers = []
    for number, line in enumerate(lines[1:], 2):
        if line[:1] in (" ", "\t") and headers:  # obsolete line folding
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            # the line itself is not quoted: it may be a credential
            raise ValueError(f"line {number} of the head is not a header field")
        headers.append((name, value.strip()))
    return lines[0], headers


def parse_request(head: bytes) -> HttpRequest:
    """An HTTP request head (RFC 9112 §3); ValueError if it is not one."""
    first, headers = _lines(head)
    parts = first.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise ValueError(f"not an HTTP request line: {first[:60]!r}")
    return HttpRequest((parts[0], parts[1], parts[2]), headers)


def parse_response(head: bytes) -> HttpResponse:
    """An HTTP response head (RFC 9112 §4); ValueError if it is not one."""
    first, headers = _lines(head)
    version, _, rest = first.partition(" ")
    status, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/") or len(status) != 3 or not status.isdigit():
        raise ValueError(f"not an HTTP status line: {first[:60]!r}")
    return HttpResponse((version, status, reason), headers)


def accept_key(key: str) -> str:
    """The Sec-WebSocket-Accept that answers Sec-WebSocket-Key *key* (§4.2.2 item 5.4)."""
    digest = hashlib.sha1((key.strip() + GUID).encode("ascii", "replace")).digest()
    return base64.b64encode(digest).decode("ascii")


def parse_extensions(value: str | None) -> list[tuple[str, dict[str, str | None]]]:
    """``Sec-WebSocket-Extensions`` (§9.1): [(name, {param: value or None})...]."""
    out: list[tuple[str, dict[str, str | None]]] = []
    for item in (value or "").split(","):
        parts = [p.strip() for p in item.split(";")]
        if not parts[0]:
            continue
        params: dict[str, str | None] = {}
        for part in parts[1:]:
            if not part:
                continue
            name, sep, val = part.partition("=")
            params[name.strip().lower()] = val.strip().strip('"') if sep else None
        out.append((parts[0].lower(), params))
    return out


def _has_token(head: HttpHead, name: str, token: str) -> bool:
    return token.lower() in (t.lower() for t in head.tokens(name))


def check_handshake(request: HttpRequest, response: HttpResponse) -> list[Problem]:
    """What the opening handshake gets wrong (§4.1, §4.2.1, §4.2.2, §9.1; RFC 7692 §7.1)."""
    found: list[Problem] = []

    def problem(check: str, section: str, summary: str) -> None:
        found.append(Problem(f"websocket.{check}", f"{RFC} {section}", summary))

    if request.method != "GET" or request.version != "HTTP/1.1":
        what = f"{request.method} {request.version}"
        problem("handshake", "§4.1", f"request is {what}, not GET HTTP/1.1")
    if not _has_token(request, "Upgrade", "websocket"):
        problem("handshake", "§4.1", "request has no 'Upgrade: websocket'")
    if not _has_token(request, "Connection", "Upgrade"):
        problem("handshake", "§4.1", "request has no 'Connection: Upgrade'")
    key = request.get("Sec-WebSocket-Key")
    try:
        key_ok = key is not None and len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):
        key_ok = False
    if not key_ok:
        problem("handshake", "§4.1", "Sec-WebSocket-Key missing or not 16 base64-encoded bytes")
    if request.get("Sec-WebSocket-Version") != "13":
        version = request.get("Sec-WebSocket-Version")
        problem("handshake", "§4.1", f"Sec-WebSocket-Version {version!r}, not 13")
    if response.status != 101:
        problem(
            "http-status",
            "§4.2.2",
            f"server answered HTTP {response.status} {response.reason}".rstrip()
            + " instead of 101 Switching Protocols",
        )
        return found
    if not _has_token(response, "Upgrade", "websocket"):
        problem("handshake", "§4.2.2", "101 response has no 'Upgrade: websocket'")
    if not _has_token(response, "Connection", "Upgrade"):
        problem("handshake", "§4.2.2", "101 response has no 'Connection: Upgrade'")
    accept = response.get("Sec-WebSocket-Accept")
    if key is not None and accept != accept_key(key):
        problem(
            "accept",
            "§4.2.2",
            f"Sec-WebSocket-Accept {accept!r} does not answer the request's key",
        )
    offered = request.tokens("Sec-WebSocket-Protocol")
    chosen = response.tokens("Sec-WebSocket-Protocol")
    if len(chosen) > 1:
        names = ", ".join(chosen)
        problem("subprotocol", "§4.2.2", f"server chose {len(chosen)} subprotocols: {names}")
    for name in chosen:
        if name not in offered:
            problem(
                "subprotocol",
                "§4.1",
                f"server chose subprotocol {name!r}, which the client did not offer",
            )
    offered_ext = {name for name, _ in parse_extensions(request.get("Sec-WebSocket-Extensions"))}
    for name, params in parse_extensions(response.get("Sec-WebSocket-Extensions")):
        if name not in offered_ext:
            problem("extension", "§9.1", f"server accepted extension {name!r}, not offered")
        elif name == EXTENSION:
            try:
                DeflateParams.from_params(params)
            except ValueError as exc:
                found.append(Problem("websocket.extension", f"{DEFLATE_RFC} §7.1", str(exc)))
    return found


def negotiated_deflate(response: HttpResponse) -> DeflateParams | None:
    """The permessage-deflate parameters the server accepted, None without (or invalid)."""
    for name, params in parse_extensions(response.get("Sec-WebSocket-Extensions")):
        if name == EXTENSION:
            try:
                return DeflateParams.from_params(params)
            except ValueError:
                return None
    return None
