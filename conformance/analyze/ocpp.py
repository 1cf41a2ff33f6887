"""OCPP-J connections in a capture: the HTTP upgrade, WebSocket frames, OCPP-J messages.

One :class:`OcppStream` per TCP connection (the station is the client, OCPP 2.1
Part 4 chapter 3):

* the opening handshake (RFC 6455 §4): the station identity from the request
  path (Part 4 §3.1.1), the offered and chosen subprotocols (Part 4 §3.1.2,
  §3.3), the Sec-WebSocket-Accept check, permessage-deflate (Part 4 §3.4,
  RFC 7692) and the security profile hint of an Authorization header (Part 2
  A00; the credentials themselves never appear anywhere);
* the frames of both directions through ``dissectors.websocket`` (masking,
  fragmentation, compression, close codes);
* each text message through :class:`~conformance.analyze.ocpp_checks.OcppChecks`.

A TLS connection (Part 2 A00 security profiles 2 and 3) only gets a NOTE.
Every finding names the party whose bytes broke the spec (the station or the
CSMS), or none for the capture itself and the limits of the analysis.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from conformance.analyze.model import (
    CAPTURE,
    CSMS,
    NOTE,
    STATION,
    VIOLATION,
    Analysis,
    Conversation,
    Finding,
)
from conformance.analyze.ocpp_checks import (
    LINE_LIMIT,
    PART4,
    OcppChecks,
    clip,
    party_of,
    redact_text,
)
from conformance.analyze.tcp import StreamHandler
from conformance.ocpp import schemas
from conformance.ocpp.device_model import IDENTIFIER_STRING, PASSWORD_MIN
from conformance.ocpp.security import identity_from_path
from dissectors import websocket as ws
from dissectors.http_upgrade import (
    HttpHead,
    HttpRequest,
    HttpResponse,
    check_handshake,
    negotiated_deflate,
    parse_request,
    parse_response,
    read_head,
)
from dissectors.websocket_deflate import DeflateParams

PROTOCOL = "ocpp"
#: a TLS handshake record (content type 22, version 3.x)
TLS_RECORD = b"\x16\x03"
#: Part 4 §3.1.1: the identity is at most 48 characters of identifierString, without ':'
MAX_IDENTITY = 48
#: bytes of a frame header shown in a finding
HEADER_BYTES = 14


def stream_factory(analysis: Analysis, conversation: Conversation) -> StreamHandler:
    """The handler of one TCP connection to an OCPP port."""
    return OcppStream(analysis, conversation)


@dataclass
class _Side:
    """One direction of the connection."""

    from_client: bool
    head: bytearray = field(default_factory=bytearray)  # bytes before the handshake is done
    received: int = 0  # stream bytes so far
    parser: ws.FrameParser | None = None
    assembler: ws.MessageAssembler | None = None
    close_sent: bool = False
    after_close: bool = False

    @property
    def who(self) -> str:
        return party_of(self.from_client)


def handshake_party(problem: ws.Problem) -> str:
    """Who a problem of ``check_handshake`` is about: the request checks (RFC 6455
    §4.1, check "websocket.handshake") are the station's, all others the CSMS's."""
    if problem.check == "websocket.handshake" and problem.section.endswith("§4.1"):
        return STATION
    return CSMS


class OcppStream:
    """The analysis of one OCPP-J TCP connection (a :class:`StreamHandler`)."""

    def __init__(self, analysis: Analysis, conversation: Conversation) -> None:
        self.analysis = analysis
        self.conv = conversation
        self.state = "start"  # start, handshake, websocket, tls, done
        self.sides = {True: _Side(True), False: _Side(False)}
        self.request: HttpRequest | None = None
        self.checks = OcppChecks(analysis, conversation)
        self._no_subprotocol = False
        self._messages = 0  # data messages (OCPP-J or not)
        self._frame, self._time = 0, 0.0
        conversation.details.setdefault("handshake", False)

    # ------------------------------------------------------------ StreamHandler

    def data(self, from_client: bool, payload: bytes, frame: int, time: float) -> None:
        self.conv.seen(time)
        self._frame, self._time = frame, time
        side = self.sides[from_client]
        side.received += len(payload)
        if self.state in ("tls", "done"):
            return
        if self.state == "start":
            self._start(from_client, payload)
            if self.state == "tls":
                return
        if self.state == "handshake":
            side.head += payload
            self._handshake()
        elif self.state == "websocket":
            self._feed(side, payload)

    def gap(self, from_client: bool, missing: int, frame: int, time: float) -> None:
        self._frame, self._time = frame, time
        side = self.sides[from_client]
        side.received += missing
        if self.state in ("tls", "done"):
            return
        if self.state != "websocket":
            self._begin(None, known=False)
            for each in self.sides.values():
                each.head.clear()  # a head cut by the hole is no use
        assert side.parser is not None and side.assembler is not None
        side.parser.resync(missing)
        side.assembler.reset()
        self.checks.gap(from_client)

    def close(self, time: float | None) -> None:
        if self.state == "handshake" and self.request is not None:
            self._add(
                CAPTURE,
                "ocpp.handshake",
                "RFC 6455 §4.2.2",
                "no HTTP response to the WebSocket upgrade before the connection or capture ended",
                party="",
            )
        if self.state == "websocket":
            for side in self.sides.values():
                assert side.parser is not None and side.assembler is not None
                if side.parser.synchronised and (side.parser.buffered or side.assembler.pending):
                    self._add(
                        CAPTURE,
                        "ocpp.truncated",
                        "RFC 6455 §5.4",
                        f"the connection ends inside a WebSocket frame or message from the "
                        f"{side.who} ({side.parser.buffered} bytes of an incomplete frame)",
                        party="",
                    )
        if self._no_subprotocol and not self._messages:
            self._add(
                NOTE,
                "ocpp.no-subprotocol",
                f"{PART4} §3.3",
                "the CSMS agreed to none of the offered subprotocols (no Sec-WebSocket-Protocol)",
                party=CSMS,
            )
        self.checks.close(time)
        self.conv.details.update(self.checks.summary())

    # ------------------------------------------------------------ reporting

    def _add(
        self,
        kind: str,
        check: str,
        requirement: str,
        summary: str,
        *,
        party: str,
        data: bytes | str | None = None,
        decoded: str | None = None,
        expected: str | None = None,
        once: bool = False,
    ) -> None:
        """Record a finding about the bytes *party* sent ("" the capture or the analysis)."""
        finding = Finding(
            kind,
            check,
            requirement,
            summary,
            self.conv.key,
            self._frame,
            self._time,
            data,
            decoded,
            expected,
            party,
        )
        self.analysis.add(finding, once=once)

    def _line(self, from_client: bool, line: str, *, count: bool) -> None:
        line = clip(f"{'→' if from_client else '←'} {line}", LINE_LIMIT)
        if count:
            self.conv.note_message(self._time, line)
        else:  # handshake lines: in the transcript, not counted as messages
            self.conv.note_line(self._time, line)

    # ------------------------------------------------------------ start and handshake

    def _start(self, from_client: bool, payload: bytes) -> None:
        if payload[:2] == TLS_RECORD:
            self.state = "tls"
            self.conv.details["tls"] = True
            self._add(
                NOTE,
                "ocpp.tls",
                "OCPP 2.1 Part 2 A00 (security profiles 2, 3)",
                "TLS-encrypted: not analysable without keys",
                party="",
            )
        elif from_client or payload.startswith(b"HTTP/"):
            self.state = "handshake"
        else:
            self._begin(None, known=False)

    def _handshake(self) -> None:
        client, server = self.sides[True], self.sides[False]
        if self.request is None and client.head:
            if not client.head[:1].isalpha():
                self._begin(None, known=False)  # frames: the capture began after the upgrade
                self._replay()
                return
            head = self._head(client, parse_request, "request")
            if head is None:
                return
            assert isinstance(head, HttpRequest)
            self.request = head
            self._on_request(head)
        if server.head:
            head = self._head(server, parse_response, "response")
            if head is None:
                return
            assert isinstance(head, HttpResponse)
            self._on_response(head)

    def _head(self, side: _Side, parse: Any, what: str) -> HttpHead | None:
        try:
            size = read_head(side.head)
            if size is None:
                return None
            head = parse(bytes(side.head[:size]))
        except ValueError as exc:
            self.state = "done"
            end = side.head.find(b"\r\n")  # the first line only: later ones may hold credentials
            self._add(
                VIOLATION,
                "ocpp.handshake",
                "RFC 6455 §4.1" if what == "request" else "RFC 6455 §4.2.2",
                f"the {side.who} did not send an HTTP {what} head: {exc}",
                party=side.who,
                data=bytes(side.head[: end if 0 <= end < 64 else 64]),
            )
            return None
        del side.head[:size]
        return head

    def _on_request(self, request: HttpRequest) -> None:
        details = self.conv.details
        path = urlsplit(request.target).path
        offered = request.tokens("Sec-WebSocket-Protocol")
        details["path"] = path
        details["offered"] = offered
        self._line(
            True, f"{request.method} {path} (subprotocols: {', '.join(offered)})", count=False
        )
        try:
            station = identity_from_path(request.target)
        except UnicodeDecodeError:
            station = None
        details["station"] = station
        self._identity(station, path)
        if not offered:
            self._add(
                VIOLATION,
                "ocpp.subprotocol",
                f"{PART4} §3.1.2",
                "the station offered no OCPP version in Sec-WebSocket-Protocol",
                party=STATION,
                expected="Sec-WebSocket-Protocol listing e.g. ocpp2.1, ocpp2.0.1",
            )
        self._security(request, station)

    def _identity(self, station: str | None, path: str) -> None:
        problem = None
        if not station:
            problem = "the request path has no station identity as its last segment"
        elif len(station) > MAX_IDENTITY:
            problem = f"station identity of {len(station)} characters (at most {MAX_IDENTITY})"
        elif ":" in station or not IDENTIFIER_STRING.fullmatch(station):
            problem = "station identity has characters outside identifierString, or a ':'"
        if problem:
            self._add(
                VIOLATION,
                "ocpp.station-identity",
                f"{PART4} §3.1.1",
                problem,
                party=STATION,
                data=clip(path, 120),
                expected="<endpoint path>/<identity>: identifierString, 1..48 characters, no ':'",
            )

    def _security(self, request: HttpRequest, station: str | None) -> None:
        """The A00 security profile the handshake suggests; never the credentials."""
        value = request.get("Authorization")
        details = self.conv.details
        if value is None:
            details["security"] = "no HTTP authentication (security profile 0)"
            return
        scheme, _, token = value.strip().partition(" ")
        if scheme.lower() != "basic":
            details["security"] = f"HTTP {clip(scheme, 20)} authentication"
            return
        details["security"] = (
            "HTTP Basic authentication: security profile 1 (or 2 behind a TLS terminator)"
        )
        try:
            credentials = base64.b64decode(token.strip(), validate=True).decode()
            user, sep, password = credentials.partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, sep, password = "", "", ""
        if not sep:
            self._add(
                VIOLATION,
                "ocpp.basic-auth",
                "A00.FR.203",
                "Authorization header is not base64 of 'username:password' (value not shown)",
                party=STATION,
            )
            return
        if station is not None and user != station:
            self._add(
                VIOLATION,
                "ocpp.basic-auth",
                "A00.FR.204",
                "Basic authentication username is not the station identity (values not shown)",
                party=STATION,
                expected="username equal to the identity in the connection URL",
            )
        if len(password) < PASSWORD_MIN:
            self._add(
                VIOLATION,
                "ocpp.basic-auth",
                "A00.FR.205",
                f"Basic authentication password shorter than {PASSWORD_MIN} characters "
                "(value not shown)",
                party=STATION,
                expected=f"a password of {PASSWORD_MIN} to 64 characters",
            )

    def _on_response(self, response: HttpResponse) -> None:
        request = self.request
        if request is None:  # the request is not in the capture
            self._begin(negotiated_deflate(response), known=False)
            self._replay()
            return
        details = self.conv.details
        chosen = response.tokens("Sec-WebSocket-Protocol")
        deflate = negotiated_deflate(response)
        extra = ", ".join([*chosen[:1], *([deflate.describe()] if deflate else [])])
        status = f"{response.status} {response.reason}".strip()
        self._line(False, f"{status}{f' ({extra})' if extra else ''}", count=False)
        for problem in check_handshake(request, response):
            self._add(
                VIOLATION,
                problem.check,
                problem.section,
                problem.summary,
                party=handshake_party(problem),
                decoded=f"HTTP {status}",
            )
        if response.status != 101:
            self.state = "done"
            return
        details["handshake"] = True
        subprotocol = chosen[0] if chosen else None
        details["subprotocol"] = subprotocol
        details["deflate"] = deflate is not None
        if deflate is not None:
            details["extensions"] = deflate.describe()
        if subprotocol is None:
            self._no_subprotocol = True
            versions = schemas.VERSIONS_BY_SUBPROTOCOL
            known = [p for p in request.tokens("Sec-WebSocket-Protocol") if p in versions]
            self.checks.version = versions[known[0]] if known else "2.1"
        elif subprotocol in schemas.VERSIONS_BY_SUBPROTOCOL:
            self.checks.version = schemas.VERSIONS_BY_SUBPROTOCOL[subprotocol]
        else:
            self.checks.version = None
            self._add(
                NOTE,
                "ocpp.version",
                f"{PART4} §3.1.2",
                f"subprotocol {clip(subprotocol, 40)!r}: only the RPC framing is analysed "
                f"(schemas and use-case checks cover {', '.join(schemas.SUBPROTOCOLS.values())})",
                party="",  # a limit of the analysis, not a fault
            )
        self._begin(deflate, known=True)
        self._replay()

    # ------------------------------------------------------------ WebSocket

    def _begin(self, deflate: DeflateParams | None, *, known: bool) -> None:
        """Switch to frames; without a handshake (*known* False) compression is guessed."""
        self.state = "websocket"
        self.checks.known = known
        if not known:
            self.conv.details["handshake"] = False
            self._add(
                CAPTURE,
                "ocpp.no-handshake",
                "RFC 6455 §4",
                "the WebSocket upgrade is not in the capture: OCPP 2.1 and the "
                "compression settings are assumed",
                party="",
                once=True,
            )
            deflate = deflate or DeflateParams()
        for side in self.sides.values():
            side.parser = ws.FrameParser(
                from_client=side.from_client,
                rsv1_allowed=deflate is not None,
                offset=side.received - len(side.head),
            )
            inflater = deflate.inflater(from_client=side.from_client) if deflate else None
            side.assembler = ws.MessageAssembler(inflater)

    def _replay(self) -> None:
        """Feed what arrived after the heads (or before the state was known) as frames."""
        for side in self.sides.values():
            if side.head and self.state == "websocket":
                pending, side.head = bytes(side.head), bytearray()
                self._feed(side, pending)
            side.head.clear()

    def _feed(self, side: _Side, payload: bytes) -> None:
        assert side.parser is not None
        for frame in side.parser.feed(payload):
            self._on_frame(side, frame)

    def _on_frame(self, side: _Side, frame: ws.Frame) -> None:
        self.checks.activity(side.from_client, self._frame, self._time)
        header = frame.header or None
        decoded = (
            f"{ws.OPCODES.get(frame.opcode, hex(frame.opcode))} frame, fin={int(frame.fin)}, "
            f"rsv={frame.rsv:03b}, masked={int(frame.masked)}, {frame.length} bytes"
        )
        for problem in frame.problems:
            kind = NOTE if problem.check == "websocket.too-large" else VIOLATION
            self._add(
                kind,
                problem.check,
                problem.section,
                problem.summary,
                party=side.who,
                data=header,
                decoded=decoded,
            )
        if side.close_sent and not frame.control and not side.after_close:
            side.after_close = True
            self._add(
                VIOLATION,
                "websocket.after-close",
                "RFC 6455 §5.5.1",
                f"the {side.who} sent a data frame after its Close frame",
                party=side.who,
                data=header,
                decoded=decoded,
            )
        assert side.assembler is not None
        inflater = side.assembler.inflater
        lost = inflater is not None and inflater.lost
        broken = inflater is not None and inflater.broken
        message, problems = side.assembler.add(frame)
        for problem in problems:
            kind = VIOLATION
            if problem.check == "websocket.too-large":
                kind = NOTE
            elif problem.check == "websocket.deflate":
                if broken:
                    continue  # follows from the failure already reported
                if lost or not self.checks.known:
                    kind = CAPTURE  # the window went with lost bytes, or was never seen
            capture = kind == CAPTURE
            self._add(
                kind,
                problem.check,
                problem.section,
                problem.summary,
                party="" if capture else side.who,
                decoded=decoded,
                once=capture,
            )
        if message is not None:
            self._on_message(side, message)

    def _on_message(self, side: _Side, message: ws.Message) -> None:
        if message.opcode == ws.CLOSE:
            side.close_sent = True
            code, reason = ws.parse_close(message.data)
            close = self.conv.details.setdefault("close", {})
            close[side.who] = {"code": code, "reason": redact_text(reason), "frame": self._frame}
            name = ws.CLOSE_CODES.get(code or 0, "")
            shown = "-" if code is None else str(code)
            line = f"CLOSE {shown} {name} {redact_text(reason)!r}"
            self._line(side.from_client, line, count=True)
            return
        if message.opcode in (ws.PING, ws.PONG):
            key = "pings" if message.opcode == ws.PING else "pongs"
            counts = self.conv.details.setdefault(key, {})
            counts[side.who] = counts.get(side.who, 0) + 1
            return
        self._messages += 1
        if self._no_subprotocol:
            self._add(
                VIOLATION,
                "ocpp.no-subprotocol",
                f"{PART4} §3.3",
                "OCPP messages exchanged although the CSMS chose no subprotocol",
                party=CSMS,
                expected="the CSMS closes the connection right after a handshake without "
                "Sec-WebSocket-Protocol",
                once=True,
            )
        if message.opcode == ws.BINARY:
            self._line(side.from_client, f"BINARY {len(message.data)} bytes", count=True)
            self._add(
                VIOLATION,
                "ocpp.binary",
                f"{PART4} §4.1.2",
                f"binary WebSocket message of {len(message.data)} bytes",
                party=side.who,
                data=message.data[:64],
                expected="OCPP-J messages as UTF-8 JSON text",
            )
            return
        text = message.text
        if text is None:  # invalid UTF-8: reported by the assembler
            self._line(side.from_client, f"TEXT {len(message.data)} bytes (not UTF-8)", count=True)
            return
        self.checks.message(side.from_client, text, self._frame, self._time)
