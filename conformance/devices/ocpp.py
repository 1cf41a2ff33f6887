"""The CSMS the suites play against a charging station, over OCPP-J (Part 4).

The station dials in (``ocpp+listen://HOST:PORT?id=CS001``).  A reader thread
takes every frame it sends, checks it (JSON, RPC framing, message ids, the
official JSON schema, Part 4 §4.1), answers its CALLs through :class:`Csms`
(which a test may reconfigure) and files it in the test's log, where the test
waits for it with :meth:`OcppStation.expect`.  Whatever the station gets wrong
outside the test's own assertions is kept as a violation and fails the test
in :meth:`OcppStation.after_test`: a bad frame is a finding, never a crash.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import ServerConnection

from conformance.devices.base import Device
from conformance.devices.uri import DeviceSpec
from conformance.errors import DeviceUnreachable, Finding, FrameworkError, NoReply
from conformance.ocpp import rpc, schemas
from conformance.ocpp.security import SecurityConfig, make_process_request, server_ssl_context
from conformance.transports.base import Deadline
from conformance.transports.websocket import WebSocketListener

#: Frames above this size close the link (1009) and are reported, Part 4 §5.
MAX_FRAME = 1 << 20
REGISTRATION = "B01.FR.02"
NOT_ACCEPTED = {"Pending": "B02.FR.02", "Rejected": "B03.FR.02"}
#: the CSMS answers those CALLs with CALLERROR SecurityError
NOT_ACCEPTED_ANSWER = {"Pending": "B02.FR.09", "Rejected": "B03.FR.07"}
#: CALLs a station may send while Pending when the CSMS asked for them (B02.FR.02)
ASKED_FOR = {"GetBaseReport": "NotifyReport", "GetReport": "NotifyReport"}


#: device-model variables whose values never go into transcripts or reports
SECRET_VARIABLES = ("BasicAuthPassword",)


def mask_secrets(frame: str) -> str:
    """*frame* with the values of secret variables replaced by ``***``."""
    if not any(name in frame for name in SECRET_VARIABLES):
        return frame
    try:
        data = json.loads(frame)
    except ValueError:
        return frame

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            variable = node.get("variable")
            if isinstance(variable, dict) and variable.get("name") in SECRET_VARIABLES:
                for key in ("attributeValue", "value"):
                    if key in node:
                        node[key] = "***"
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data)
    return json.dumps(data, separators=(",", ":"))


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def describe_frame(data: bytes | str) -> str:
    """One line for the transcript: ``CALL BootNotification``, ``CALLERROR ...``."""
    try:
        msg = rpc.parse(data)
    except rpc.RpcError as exc:
        return f"unreadable ({exc.code}: {exc.description})"
    if isinstance(msg, rpc.Call):
        return f"CALL {msg.action} id={msg.message_id}"
    if isinstance(msg, rpc.Send):
        return f"SEND {msg.action} id={msg.message_id}"
    if isinstance(msg, rpc.CallResultError):
        return f"CALLRESULTERROR {msg.error_code} id={msg.message_id}"
    if isinstance(msg, rpc.CallError):
        return f"CALLERROR {msg.error_code} id={msg.message_id}"
    return f"CALLRESULT id={msg.message_id}"


@dataclass
class Exchange:
    """One CALL or SEND from the station, and what the CSMS answered."""

    message: rpc.Call | rpc.Send
    frame: str
    at: float
    connection: int
    reply: rpc.CallResult | rpc.CallError | None = None
    problems: list[schemas.SchemaProblem] = field(default_factory=list)
    taken: bool = False

    @property
    def action(self) -> str:
        return self.message.action

    @property
    def payload(self) -> dict[str, Any]:
        return self.message.payload

    def __repr__(self) -> str:
        return f"<{self.action} {self.frame[:200]}>"


@dataclass(frozen=True)
class Violation:
    """Something the station did wrong that no test step asked about."""

    requirement: str
    summary: str
    frame: str | None = None
    expected: str | None = None

    def finding(self) -> Finding:
        return Finding(
            self.summary, requirement=self.requirement, received=self.frame, expected=self.expected
        )


Answer = dict[str, Any] | rpc.CallError | None
Handler = Callable[[rpc.Call], Answer]


class Csms:
    """How the tester answers the station's CALLs.

    Defaults are those of a CSMS that accepts the station and every idToken.
    A test changes the fields or installs a handler with :meth:`on`; a handler
    returning ``None`` leaves the CALL unanswered (a CSMS that times out).
    Reset before every test.
    """

    def __init__(self) -> None:
        self.boot_status = "Accepted"
        #: interval (s) sent in BootNotificationResponse
        self.heartbeat_interval = 300
        #: idToken -> authorization status; others get ``default_token_status``
        self.tokens: dict[str, str] = {}
        self.default_token_status = "Accepted"
        #: idToken -> groupIdToken sent back with its status (C01, E07)
        self.groups: dict[str, str] = {}
        self.data_transfer_status = "UnknownVendorId"
        self.handlers: dict[str, Handler] = {}

    def on(self, action: str, handler: Handler) -> None:
        self.handlers[action] = handler

    def id_token_info(self, id_token: dict[str, Any] | None) -> dict[str, Any]:
        token = (id_token or {}).get("idToken", "")
        info: dict[str, Any] = {"status": self.tokens.get(token, self.default_token_status)}
        if token in self.groups:
            info["groupIdToken"] = {"idToken": self.groups[token], "type": "Central"}
        return info

    def answer(self, call: rpc.Call) -> Answer:
        handler = self.handlers.get(call.action)
        if handler is not None:
            return handler(call)
        own = OWN_ANSWERS.get(call.action)
        return {} if own is None else own(self, call.payload)

    def _transaction_event(self, payload: dict[str, Any]) -> dict[str, Any]:
        if "idToken" in payload:
            return {"idTokenInfo": self.id_token_info(payload["idToken"])}
        return {}


#: the station CALLs :class:`Csms` answers with more than ``{}`` unless a handler is set
OWN_ANSWERS: dict[str, Callable[[Csms, dict[str, Any]], dict[str, Any]]] = {
    "BootNotification": lambda csms, _p: {
        "currentTime": now_iso(),
        "interval": csms.heartbeat_interval,
        "status": csms.boot_status,
    },
    "Heartbeat": lambda _csms, _p: {"currentTime": now_iso()},
    "Authorize": lambda csms, p: {"idTokenInfo": csms.id_token_info(p.get("idToken"))},
    "TransactionEvent": Csms._transaction_event,
    "DataTransfer": lambda csms, _p: {"status": csms.data_transfer_status},
    "NotifyEVChargingNeeds": lambda _csms, _p: {"status": "Accepted"},
}


@dataclass
class _Pending:
    call: rpc.Call
    reply: rpc.CallResult | rpc.CallError | None = None


class OcppStation(Device):
    """A charging station under test; we are its CSMS."""

    protocol = "ocpp"
    decoder = staticmethod(describe_frame)
    default_timeout = 10.0

    def __init__(self, spec: DeviceSpec, transport: WebSocketListener) -> None:
        self.version = spec.params.get("version", "2.1")
        self.identity = spec.params["id"]
        self.security = security_config(spec)
        transport.subprotocols = [schemas.SUBPROTOCOLS[self.version]]  # type: ignore[list-item]
        transport.ssl = server_ssl_context(self.security)
        transport.process_request = self._process_request
        super().__init__(spec, transport)
        self._rejections: list[str] = []
        self._check_credentials = make_process_request(
            self.identity, self.security, self._rejections.append
        )
        self.listener = transport
        self.csms = Csms()
        #: emulated seconds per real second of the station (emulators run faster)
        self.speed = float(spec.params.get("speed", 1.0))
        self._cond = threading.Condition()
        self._send_lock = threading.Lock()
        self._call_lock = threading.Lock()
        self._conn: ServerConnection | None = None
        self._connections = 0
        self._pending: _Pending | None = None
        self._log: list[Exchange] = []
        self._events: list[tuple[float, str, str]] = []  # (at, "connected"|"closed", detail)
        self._violations: list[Violation] = []
        self._ids: set[str] = set()
        self._reader: threading.Thread | None = None
        self._stop = threading.Event()
        self._asked: set[str] = set()
        #: registration status we gave on the current connection (None: no boot yet)
        self.registration: str | None = None
        self.boots: list[Exchange] = []
        #: when the last BootNotification was answered (kept across tests)
        self.last_boot_at: float | None = None

    # ------------------------------------------------------------ connection
    def _process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        refused = self._check_credentials(conn, request)
        if refused is not None:
            return refused
        offered = [
            p.strip()
            for h in request.headers.get_all("Sec-WebSocket-Protocol")
            for p in h.split(",")
        ]
        wanted = schemas.SUBPROTOCOLS[self.version]
        if wanted not in offered:
            reason = f"station offered subprotocols {offered or 'none'}, not {wanted}"
            self._rejections.append(reason)
            self._violate("Part 4 §3.1.2", reason, expected=f"Sec-WebSocket-Protocol: {wanted}")
            return conn.respond(400, f"expected subprotocol {wanted}\n")
        return None

    def listen(self) -> int:
        """Bind the listening port and return it (the station may dial in from now)."""
        self.listener.listen()
        return self.listener.port

    def open(self) -> None:
        if self.control is not None and "speed" not in self.spec.params:
            # An emulator started with --speed says so through its control API.
            with contextlib.suppress(Exception):
                self.speed = float(self.control.info().get("speed", self.speed))
        if not self.listener.listening:
            self.listen()
        self._stop.clear()
        self._reader = threading.Thread(
            target=self._read_loop, name=f"ocpp-{self.identity}", daemon=True
        )
        self._reader.start()
        try:
            self.wait_connected(self.listener.accept_timeout, requirement="B01.FR.01")
        except NoReply as exc:
            self.close()
            why = "; refused: " + "; ".join(self._rejections[-3:]) if self._rejections else ""
            raise DeviceUnreachable(
                f"station {self.identity} did not connect to {self.listener.address} "
                f"within {self.listener.accept_timeout:.0f} s{why}"
            ) from exc

    def close(self) -> None:
        self._stop.set()
        if self._reader is not None:
            self._reader.join(timeout=5)
            self._reader = None
        with contextlib.suppress(Exception):
            if self._conn is not None:
                self._conn.close()
        self._conn = None
        self.listener.close()

    @property
    def connected(self) -> bool:
        return self._conn is not None

    @property
    def accepted(self) -> bool:
        return self.connected and self.registration == "Accepted"

    def _attach(self, conn: ServerConnection) -> None:
        old, self._conn = self._conn, conn
        if old is not None:
            with contextlib.suppress(Exception):
                old.close()
        with self._cond:
            self._connections += 1
            self.registration = None
            self._asked.clear()
            self._events.append((time.monotonic(), "connected", conn.subprotocol or ""))
            self._cond.notify_all()
        self.transcript.note(f"station connected (subprotocol {conn.subprotocol})")

    def _detach(self, detail: str) -> None:
        self._conn = None
        with self._cond:
            self.registration = None
            self._events.append((time.monotonic(), "closed", detail))
            if self._pending is not None and self._pending.reply is None:
                self._pending = None
            self._cond.notify_all()
        self.transcript.note(f"station disconnected: {detail}")

    def _read_loop(self) -> None:
        while not self._stop.is_set():
            newer = self.listener.next_connection()
            if newer is not None:
                self._attach(newer)
            conn = self._conn
            if conn is None:
                self._stop.wait(0.02)
                continue
            try:
                frame = conn.recv(timeout=0.1)
            except TimeoutError:
                continue
            except ConnectionClosed as exc:
                self._closed(exc)
                continue
            except Exception as exc:  # a bug here must not kill the reader
                self._violate("framework", f"reader failed: {type(exc).__name__}: {exc}")
                continue
            try:
                self._on_frame(frame)
            except Exception as exc:
                self._violate("framework", f"handling a frame failed: {type(exc).__name__}: {exc}")

    def _closed(self, exc: ConnectionClosed) -> None:
        code = exc.rcvd.code if exc.rcvd else (exc.sent.code if exc.sent else None)
        if exc.sent is not None and exc.sent.code == 1009:
            self._violate(
                "Part 4 §5",
                f"station sent a message over {MAX_FRAME} bytes; the link was closed (1009)",
                expected=f"messages up to {MAX_FRAME} bytes",
            )
        self._detach(f"close code {code}")

    # ------------------------------------------------------------ frames in
    def _on_frame(self, frame: str | bytes) -> None:
        text = frame if isinstance(frame, str) else None
        shown = mask_secrets(frame) if isinstance(frame, str) else frame
        self.transcript.received(shown)
        if text is None:
            self._violate(
                "Part 4 §4.1.2",
                "station sent a binary WebSocket frame",
                frame=repr(frame[:200]),
                expected="text frames of UTF-8 JSON",
            )
            return
        try:
            msg = rpc.parse(text, version=self.version)
        except rpc.RpcError as exc:
            self._violate(
                "Part 4 §4.1.2" if exc.code == "RpcFrameworkError" else "Part 4 §4.1.3",
                f"unreadable frame from the station ({exc.code}: {exc.description})",
                frame=text,
                expected="[MessageTypeId, MessageId, ...] per Part 4 §4.2",
            )
            if not exc.ignore:
                self._send(exc.reply().frame())
            return
        if isinstance(msg, rpc.Call | rpc.Send):
            self._on_call(msg, text)
        else:
            self._on_response(msg, text)

    def _on_response(self, msg: rpc.Message, text: str) -> None:
        with self._cond:
            pending = self._pending
            if pending is None or pending.call.message_id != msg.message_id:
                self._violate(
                    "Part 4 §4.1.4",
                    "station answered a message id we have no CALL outstanding for",
                    frame=text,
                    expected=(
                        f"the id of our CALL {pending.call.message_id}" if pending else "no answer"
                    ),
                )
                return
            pending.reply = msg  # type: ignore[assignment]
            self._cond.notify_all()

    def _on_call(self, msg: rpc.Call | rpc.Send, text: str) -> None:
        kind = "Send" if isinstance(msg, rpc.Send) else "Request"
        problems = schemas.check(self.version, msg.action, kind, msg.payload)
        exchange = Exchange(
            msg, mask_secrets(text), time.monotonic(), self._connections, problems=problems
        )
        if msg.message_id in self._ids:
            self._violate(
                "Part 4 §4.1.4",
                f"station reused message id {msg.message_id!r}",
                frame=text,
                expected="a message id not used before by this station",
            )
        self._ids.add(msg.message_id)
        if problems:
            self._violate(
                f"{msg.action}{'Request' if kind == 'Request' else ''} schema (Part 4 §4.1.7)",
                f"station's {msg.action} does not match the schema: {schemas.describe(problems)}",
                frame=text,
                expected="a payload valid against the official JSON schema",
            )
        if isinstance(msg, rpc.Call):
            exchange.reply = self._answer(msg, problems)
        # Filed before the registration it brings is visible, so a test that
        # saw "Accepted" also sees the BootNotification that got it.
        with self._cond:
            self._log.append(exchange)
            if isinstance(msg, rpc.Call) and msg.action == "BootNotification":
                self.boots.append(exchange)
            self._register(exchange)
            self._cond.notify_all()
        if exchange.reply is not None:
            self._send(exchange.reply.frame())

    def _register(self, exchange: Exchange) -> None:
        """The registration status our answer gives the station (B01-B03)."""
        if not isinstance(exchange.reply, rpc.CallResult):
            return
        if exchange.action == "BootNotification":
            self.last_boot_at = exchange.at
            self.registration = exchange.reply.payload.get("status")
            station = exchange.payload.get("chargingStation", {})
            for key in ("vendorName", "model", "serialNumber", "firmwareVersion"):
                if key in station:
                    self.info[key] = station[key]
        elif self.registration is None:
            # A station that was accepted before this run and just reconnected.
            self.registration = "Accepted"

    def _answer(self, call: rpc.Call, problems: list[schemas.SchemaProblem]) -> Answer | Any:
        if problems:
            return schemas.error_for(self.version, call)
        status = self.registration
        asked_for = call.action in self._asked
        if call.action != "BootNotification" and status in NOT_ACCEPTED and not asked_for:
            self._violate(
                NOT_ACCEPTED[status],
                f"station sent {call.action} while its registration is {status}",
                frame=call.frame(),
                expected="only BootNotificationRequest until Accepted",
            )
            return rpc.CallError(
                call.message_id,
                "SecurityError",
                f"registration is {status} ({NOT_ACCEPTED_ANSWER[status]})",
            )
        try:
            answer = self.csms.answer(call)
        except Exception as exc:
            raise FrameworkError(f"CSMS handler for {call.action} failed: {exc}") from exc
        if answer is None or isinstance(answer, rpc.CallError):
            return answer
        bad = schemas.check(self.version, call.action, "Response", answer)
        if bad:
            raise FrameworkError(
                f"suite bug: our {call.action}Response is invalid: {schemas.describe(bad)}"
            )
        return rpc.CallResult(call.message_id, answer)

    def _violate(
        self,
        requirement: str,
        summary: str,
        *,
        frame: str | None = None,
        expected: str | None = None,
    ) -> None:
        if frame is not None:
            frame = mask_secrets(frame)
        with self._cond:
            self._violations.append(Violation(requirement, summary, frame, expected))
            self._cond.notify_all()
        self.transcript.note(f"violation [{requirement}] {summary}")

    # ------------------------------------------------------------ frames out
    def _send(self, frame: str) -> None:
        conn = self._conn
        if conn is None:
            raise DeviceUnreachable(f"station {self.identity} is not connected")
        with self._send_lock:
            try:
                conn.send(frame)
            except ConnectionClosed as exc:
                raise DeviceUnreachable(f"station {self.identity} closed the link: {exc}") from exc
        self.transcript.sent(mask_secrets(frame))

    def send_raw(self, frame: str | bytes) -> None:
        """Send *frame* as it is (robustness and RPC tests)."""
        conn = self._conn
        if conn is None:
            raise DeviceUnreachable(f"station {self.identity} is not connected")
        with self._send_lock:
            conn.send(frame)
        self.transcript.sent(mask_secrets(frame) if isinstance(frame, str) else frame)

    def drop_connection(self) -> None:
        """Close the station's WebSocket from the CSMS side; the station is expected
        to dial in again (Part 4 §5.4, TC_B_57_CS)."""
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()
            self.transcript.note("CSMS closed the connection")

    def call_raw(
        self, frame: str | bytes, *, reply_id: str, timeout: float | None = None
    ) -> rpc.CallResult | rpc.CallError | None:
        """Send *frame* as it is and return the station's CALLRESULT or CALLERROR
        with message id *reply_id*, or None when none comes within *timeout*.

        For the RPC tests' unusual frames (Part 4 §4.1.3-§4.3): an unknown action,
        an invalid payload, an unreadable message id (answered with "-1"), a frame
        that must not be answered.  One CALL at a time, as :meth:`call`; an answer
        with another id is a violation (Part 4 §4.1.4).
        """
        wait = self.reply_timeout if timeout is None else timeout
        with self._call_lock:
            pending = _Pending(rpc.Call(reply_id, "(raw)", {}))
            with self._cond:
                self._pending = pending
            try:
                try:
                    self.send_raw(frame)
                except ConnectionClosed as exc:  # dropped as the frame went out
                    self.transcript.note(f"link closed while sending: {exc}")
                deadline = Deadline(wait)
                with self._cond:
                    while pending.reply is None and self._pending is pending:
                        if deadline.expired():
                            break
                        self._cond.wait(min(deadline.remaining(), 0.1))
            finally:
                with self._cond:
                    if self._pending is pending:
                        self._pending = None
        return pending.reply

    def call(
        self,
        action: str,
        payload: dict[str, Any],
        *,
        timeout: float | None = None,
        requirement: str | None = None,
        allow_error: bool = False,
    ) -> dict[str, Any] | rpc.CallError:
        """Send a CALL and return the CALLRESULT payload.

        One CALL at a time (Part 4 §4.1.1).  No answer within *timeout* is a
        :class:`NoReply`; a CALLERROR is a finding unless *allow_error*; an
        answer that breaks the response schema is a finding.
        """
        __tracebackhide__ = True
        bad = schemas.check(self.version, action, "Request", payload)
        if bad:
            raise FrameworkError(
                f"suite bug: our {action}Request is invalid: {schemas.describe(bad)}"
            )
        wait = self.reply_timeout if timeout is None else timeout
        requirement = requirement or f"{action}Response"
        with self._call_lock:
            call = rpc.Call(rpc.new_message_id(), action, payload)
            pending = _Pending(call)
            with self._cond:
                self._pending = pending
            if action in ASKED_FOR:
                self._asked.add(ASKED_FOR[action])
            try:
                self._send(call.frame())
            except DeviceUnreachable as exc:
                with self._cond:
                    self._pending = None
                raise NoReply(
                    f"could not send {action}Request: {exc}",
                    requirement=requirement,
                    sent=mask_secrets(call.frame()),
                    expected=f"a connected station answering {action}Request",
                ) from None
            deadline = Deadline(wait)
            with self._cond:
                while pending.reply is None and self._pending is pending:
                    if deadline.expired():
                        break
                    self._cond.wait(min(deadline.remaining(), 0.1))
                self._pending = None
            reply = pending.reply
        if reply is None:
            lost = "" if self.connected else " (the station disconnected)"
            raise NoReply(
                f"no answer to {action}Request within {wait:.1f} s{lost}",
                requirement=requirement,
                sent=mask_secrets(call.frame()),
                expected=f"CALLRESULT {action}Response (Part 4 §4.2.2)",
            )
        if isinstance(reply, rpc.CallError):
            if allow_error:
                return reply
            raise Finding(
                f"station answered {action}Request with CALLERROR {reply.error_code} "
                f"{reply.error_description!r}",
                requirement=requirement,
                sent=mask_secrets(call.frame()),
                received=mask_secrets(reply.frame()),
                expected=f"CALLRESULT {action}Response",
            )
        bad = schemas.check(self.version, action, "Response", reply.payload)
        if bad:
            raise Finding(
                f"station's {action}Response does not match the schema: {schemas.describe(bad)}",
                requirement=f"{action}Response schema (Part 4 §4.1.7)",
                sent=mask_secrets(call.frame()),
                received=mask_secrets(reply.frame()),
                expected="a payload valid against the official JSON schema",
            )
        return reply.payload

    # ------------------------------------------------------------ waiting
    def seconds(self, emulated: float) -> float:
        """Real seconds that *emulated* seconds of the station's clock take."""
        return emulated / self.speed

    def expect(
        self,
        action: str | tuple[str, ...],
        where: Callable[[dict[str, Any]], bool] | None = None,
        *,
        within: float | None = None,
        requirement: str | None = None,
        expected: str | None = None,
    ) -> Exchange:
        """The next CALL *action* from the station (matching *where*) that no
        earlier step took.  Nothing within *within* seconds is a :class:`NoReply`
        naming *requirement*; a match that breaks the schema is a finding."""
        __tracebackhide__ = True
        wait = self.reply_timeout if within is None else within
        deadline = Deadline(wait)
        actions = (action,) if isinstance(action, str) else action
        with self._cond:
            while True:
                for exchange in self._log:
                    if exchange.taken or exchange.action not in actions:
                        continue
                    if where is not None and not _matches(where, exchange.payload):
                        continue
                    exchange.taken = True
                    if exchange.problems:
                        raise Finding(
                            f"station's {exchange.action} does not match the schema: "
                            f"{schemas.describe(exchange.problems)}",
                            requirement=requirement or f"{exchange.action}Request schema",
                            received=exchange.frame,
                            expected=expected,
                        )
                    return exchange
                if deadline.expired():
                    break
                self._cond.wait(min(deadline.remaining(), 0.1))
        got = self._summary()
        names = " or ".join(f"{a}Request" for a in actions)
        raise NoReply(
            f"station sent no {names}{' as expected' if where else ''} within {wait:.1f} s"
            f" (received: {got})",
            requirement=requirement,
            expected=expected or names,
        )

    def expect_none(
        self,
        action: str | tuple[str, ...],
        where: Callable[[dict[str, Any]], bool] | None = None,
        *,
        within: float,
        requirement: str,
        expected: str | None = None,
    ) -> None:
        """The station must not send *action* (matching *where*) for *within* s."""
        __tracebackhide__ = True
        try:
            exchange = self.expect(action, where, within=within)
        except NoReply:
            return
        raise Finding(
            f"station sent {exchange.action}Request when it must not",
            requirement=requirement,
            received=exchange.frame,
            expected=expected or f"no {exchange.action}Request within {within:.1f} s",
        )

    def received(self, action: str | None = None) -> list[Exchange]:
        """Every CALL/SEND of this test so far (of *action*), taken or not."""
        with self._cond:
            return [e for e in self._log if action is None or e.action == action]

    def wait_for(
        self, predicate: Callable[[], bool], *, within: float, what: str, requirement: str | None
    ) -> None:
        __tracebackhide__ = True
        deadline = Deadline(within)
        with self._cond:
            while not predicate():
                if deadline.expired():
                    raise NoReply(
                        f"station: {what} did not happen within {within:.1f} s",
                        requirement=requirement,
                        expected=what,
                    )
                self._cond.wait(min(deadline.remaining(), 0.1))

    def wait_connected(self, within: float, *, requirement: str | None = None) -> None:
        self.wait_for(
            lambda: self._conn is not None, within=within, what="connect", requirement=requirement
        )

    def wait_disconnected(self, within: float, *, requirement: str | None = None) -> None:
        self.wait_for(
            lambda: self._conn is None, within=within, what="disconnect", requirement=requirement
        )

    def wait_quiet(self, quiet: float, limit: float) -> None:
        """Wait until the station has sent nothing for *quiet* seconds (at most *limit*)."""
        deadline = Deadline(limit)
        with self._cond:
            while not deadline.expired():
                last = self._log[-1].at if self._log else 0.0
                idle = time.monotonic() - last
                if idle >= quiet:
                    return
                self._cond.wait(min(quiet - idle, deadline.remaining()))

    def events_since(self, since: float) -> list[tuple[float, str, str]]:
        with self._cond:
            return [e for e in self._events if e[0] >= since]

    def _summary(self) -> str:
        counts: dict[str, int] = {}
        for e in self._log:
            counts[e.action] = counts.get(e.action, 0) + 1
        return ", ".join(f"{a} x{n}" if n > 1 else a for a, n in counts.items()) or "nothing"

    # ------------------------------------------------------------ per test
    def settle(self) -> None:
        """A new test: fresh log, default CSMS, no violations carried over."""
        with self._cond:
            self._log.clear()
            self._violations.clear()
            self._rejections.clear()
            self.boots.clear()
        self.csms = Csms()

    def take_violations(self) -> list[Violation]:
        with self._cond:
            found, self._violations = self._violations, []
        return found

    def after_test(self) -> None:
        __tracebackhide__ = True
        found = [v for v in self.take_violations() if v.requirement != "framework"]
        if not found:
            return
        if len(found) == 1:
            raise found[0].finding()
        first = found[0]
        more = "\n".join(f"  also [{v.requirement}] {v.summary}" for v in found[1:6])
        raise Finding(
            f"{first.summary}\n{more}",
            requirement=[v.requirement for v in found[:6]],
            received=first.frame,
            expected=first.expected,
        )

    @contextlib.contextmanager
    def answering(self, action: str, handler: Handler) -> Iterator[None]:
        """Answer *action* with *handler* inside the block."""
        previous = self.csms.handlers.get(action)
        self.csms.on(action, handler)
        try:
            yield
        finally:
            if previous is None:
                self.csms.handlers.pop(action, None)
            else:
                self.csms.handlers[action] = previous


def _matches(where: Callable[[dict[str, Any]], bool], payload: dict[str, Any]) -> bool:
    try:
        return bool(where(payload))
    except (KeyError, IndexError, TypeError, AttributeError):
        return False


def security_config(spec: DeviceSpec) -> SecurityConfig:
    params = spec.params
    return SecurityConfig(
        profile=int(params.get("profile", 0)),
        password=params.get("password"),
        certfile=params.get("cert"),
        keyfile=params.get("key"),
        cafile=params.get("ca"),
    )


def listener_for(spec: DeviceSpec) -> WebSocketListener:
    assert spec.host is not None and spec.port is not None
    return WebSocketListener(
        spec.host,
        spec.port,
        accept_timeout=float(spec.params.get("accept_timeout", 60)),
        max_size=MAX_FRAME,
    )


__all__ = ["Csms", "Exchange", "OcppStation"]
