"""The station emulator's OCPP-J link: one WebSocket client connection to the CSMS and
the RPC framework on it (OCPP 2.1 Part 4 chapter 3 and chapter 4).

* Part 4 §3.1: the station dials the connection URL (identity as last path segment)
  offering one subprotocol (§3.1.2); HTTP Basic for security profiles 1/2 and TLS for
  2/3 (Part 2 A00, :mod:`conformance.ocpp.security`).  A handshake in which the CSMS
  agrees to no subprotocol is treated as a failed connection (§3.3).
* Part 4 §4.1.1: at most one CALL outstanding; :meth:`OcppLink.request` holds a lock
  until the CALLRESULT/CALLERROR arrives or the timeout expires.
* Part 4 §4.1.3/§4.2.3/§4.2.4: every received frame is parsed with
  :func:`conformance.ocpp.rpc.parse`; a malformed CALL is answered with the CALLERROR
  the parser names, unknown message types and SENDs are never answered.  A
  CALLRESULT that does not fit its schema fails the request (and, in 2.1, is answered
  with CALLRESULTERROR).
* Nothing received can stop the link: handler errors become an InternalError answer
  and are reported through ``on_error``.

No frame contents are kept (idTokens of type KeyCode must never be logged, C04.FR.04):
the trace holds direction, message type, action and message ID only.
"""

from __future__ import annotations

import asyncio
import contextlib
import traceback
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from conformance.ocpp import rpc, schemas
from conformance.ocpp.security import SecurityConfig, basic_auth_header, client_ssl_context

#: Largest frame accepted from the CSMS; a larger one closes the link (code 1009).
MAX_FRAME = 1 << 20
#: Frames kept in the trace (direction, type, action, id).
TRACE = 200

#: Table 9 codes about a payload (payload_error_generic turns them into GenericError)
PAYLOAD_ERRORS = frozenset(
    {
        "FormatViolation",
        "OccurrenceConstraintViolation",
        "PropertyConstraintViolation",
        "ProtocolError",
        "TypeConstraintViolation",
    }
)
#: (answer payload | CALLERROR | None for no answer, what to do after answering)
Reply = tuple[dict[str, Any] | rpc.CallError | None, Callable[[], None] | None]


class LinkClosed(Exception):
    """The connection is down, or went down before the answer came."""


class CallTimeout(Exception):
    """No CALLRESULT/CALLERROR within the timeout (Part 4 §4.1.1)."""


class CallFailed(Exception):
    """The CSMS answered with CALLERROR, or with a CALLRESULT that breaks its schema."""

    def __init__(self, error: rpc.CallError) -> None:
        super().__init__(f"{error.error_code}: {error.error_description}")
        self.error = error


class Faults(Protocol):
    """What the link asks the station about fault switches."""

    def fault(self, name: str) -> bool: ...

    def once(self, name: str) -> bool: ...

    def wrong_dial(self) -> bool: ...


class OcppLink:
    """One connection at a time; :meth:`open` again after it closed."""

    def __init__(
        self,
        *,
        version: str,
        faults: Faults,
        on_call: Callable[[rpc.Call], Reply],
        on_error: Callable[[str], None],
        on_answer: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.version = version
        self._faults = faults
        self._on_call = on_call
        self._on_error = on_error
        self._on_answer = on_answer
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[str, tuple[str, asyncio.Future[dict[str, Any]]]] = {}
        self._lock: asyncio.Lock | None = None
        self._closed = asyncio.Event()
        self._closed.set()
        self._last_id: str | None = None
        self.connections = 0
        self.trace: deque[tuple[str, int | str, str, str]] = deque(maxlen=TRACE)
        self.close_reason = ""

    # ------------------------------------------------------------ connection
    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._closed.is_set()

    @property
    def subprotocol(self) -> str | None:
        return None if self._ws is None else self._ws.subprotocol

    async def open(
        self, url: str, *, identity: str, security: SecurityConfig, timeout: float
    ) -> None:
        """Connect (Part 4 §3.1); raises on any failure, the link stays closed then."""
        if self.connected:
            return
        wanted = schemas.SUBPROTOCOLS[self.version]
        # wrong_subprotocol: offer only a version the station does not speak (§3.1.2)
        wrong = self._faults.fault("wrong_subprotocol") and self._faults.wrong_dial()
        offered = ["ocpp1.6"] if wrong else [wanted]
        headers: dict[str, str] = {}
        if security.uses_basic_auth and security.password is not None:
            headers = basic_auth_header(identity, security.password)  # A00.FR.202-205
        ssl_context = client_ssl_context(security) if url.startswith("wss:") else None
        ws = await connect(
            url,
            subprotocols=offered,  # type: ignore[arg-type]
            additional_headers=headers,
            ssl=ssl_context,
            open_timeout=timeout,
            ping_interval=None,
            close_timeout=2,
            max_size=MAX_FRAME,
            proxy=None,
        )
        if ws.subprotocol != wanted and not wrong:
            # §3.3: a CSMS that agrees to none of the offered versions closes the link
            await ws.close()
            raise LinkClosed(f"CSMS agreed to subprotocol {ws.subprotocol!r}, not {wanted}")
        self._ws = ws
        self._lock = asyncio.Lock()
        self._closed = asyncio.Event()
        self.connections += 1
        self.close_reason = ""
        self._reader = asyncio.get_running_loop().create_task(self._read(ws))

    def idle_now(self) -> bool:
        """No CALL awaits its answer."""
        return self._lock is None or not self._lock.locked()

    async def idle(self, timeout: float) -> None:
        """Wait (at most *timeout* real seconds) until no CALL awaits its answer."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._lock is not None and self._lock.locked() and loop.time() < deadline:
            await asyncio.sleep(0.005)

    async def wait_closed(self) -> None:
        await self._closed.wait()

    def abort(self, reason: str = "") -> None:
        """Drop the connection at once, no closing handshake (network loss)."""
        ws = self._ws
        if ws is None or self._closed.is_set():
            return
        self.close_reason = reason
        with contextlib.suppress(Exception):
            ws.transport.abort()
        self._mark_closed()
        if self._reader is not None and self._reader is not asyncio.current_task():
            self._reader.cancel()

    async def close(self, reason: str = "") -> None:
        """Close with the WebSocket closing handshake."""
        ws = self._ws
        if ws is None or self._closed.is_set():
            return
        self.close_reason = reason
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), 3)
        self.abort(reason)

    def _mark_closed(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        for _action, fut in self._pending.values():
            if not fut.done():
                fut.set_exception(LinkClosed("connection closed"))
        self._pending.clear()

    # ------------------------------------------------------------ sending
    def _trace(self, direction: str, kind: int | str, action: str, message_id: str) -> None:
        self.trace.append((direction, kind, action, message_id))

    async def send_text(self, text: str) -> None:
        """One text frame as it is (for answers and for the garbage/oversize faults)."""
        ws = self._ws
        if ws is None or self._closed.is_set():
            raise LinkClosed("not connected")
        try:
            await ws.send(text)
        except ConnectionClosed as exc:
            self._mark_closed()
            raise LinkClosed(str(exc)) from None

    async def request(self, action: str, payload: dict[str, Any], *, timeout: float) -> dict:
        """Send one CALL and wait for its CALLRESULT payload (Part 4 §4.1.1).

        Raises :class:`LinkClosed`, :class:`CallTimeout` or :class:`CallFailed`.
        """
        if not self.connected or self._lock is None:
            raise LinkClosed("not connected")
        async with self._lock:
            if not self.connected:
                raise LinkClosed("not connected")
            message_id = rpc.new_message_id()
            if self._last_id is not None and self._faults.once("duplicate_message_id"):
                message_id = self._last_id  # breaks Part 4 §4.1.4 (unique per sender)
            self._last_id = message_id
            loop = asyncio.get_running_loop()
            fut: asyncio.Future[dict[str, Any]] = loop.create_future()
            self._pending[message_id] = (action, fut)
            try:
                await self.send_text(rpc.Call(message_id, action, payload).frame())
                self._trace("out", rpc.CALL, action, message_id)
                if action not in ("BootNotification", "Heartbeat") and self._faults.once(
                    "two_calls_outstanding"
                ):
                    await self._second_call()
                return await asyncio.wait_for(asyncio.shield(fut), timeout)
            except TimeoutError:
                raise CallTimeout(f"{action}: no answer within {timeout:.2f} s") from None
            finally:
                if self._pending.get(message_id, (None, None))[1] is fut:
                    del self._pending[message_id]

    async def _second_call(self) -> None:
        """two_calls_outstanding: a Heartbeat while the CALL before it is unanswered."""
        extra = rpc.new_message_id()
        self._pending[extra] = ("Heartbeat", asyncio.get_running_loop().create_future())
        await self.send_text(rpc.Call(extra, "Heartbeat", {}).frame())
        self._trace("out", rpc.CALL, "Heartbeat", extra)

    async def _answer(self, message: rpc.CallResult | rpc.CallError) -> None:
        with contextlib.suppress(LinkClosed):
            await self.send_text(message.frame())
            self._trace("out", message.message_type, "", message.message_id)

    # ------------------------------------------------------------ receiving
    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for frame in ws:
                try:
                    await self._on_frame(frame)
                except Exception:
                    self._on_error(traceback.format_exc())
        except ConnectionClosed as exc:
            self.close_reason = self.close_reason or f"closed by peer ({exc})"
        except Exception:
            self._on_error(traceback.format_exc())
        finally:
            self._mark_closed()

    async def _on_frame(self, frame: str | bytes) -> None:
        try:
            message = rpc.parse(frame, version=self.version)
        except rpc.RpcError as exc:
            self._trace("in", exc.message_type or "?", "", exc.message_id)
            if exc.ignore:  # unknown message type (§4.1.3) or SEND (§4.2.4)
                if exc.message_type == rpc.SEND and self._faults.fault("answers_send"):
                    await self._answer(rpc.CallError(exc.message_id, "FormatViolation"))
                elif exc.message_type != rpc.SEND and self._faults.fault(
                    "answers_unknown_message_type"
                ):
                    await self._answer(exc.reply())  # breaks §4.1.3
                return
            if not self._faults.fault("no_response"):
                reply = exc.reply()
                if reply.message_id == "-1" and self._faults.fault("unreadable_id_not_minus_one"):
                    reply = rpc.CallError("0", reply.error_code, reply.error_description)
                if reply.error_code in PAYLOAD_ERRORS and self._faults.fault(
                    "payload_error_generic"
                ):
                    reply = rpc.CallError(reply.message_id, "GenericError", reply.error_description)
                await self._answer(reply)
            return
        if isinstance(message, rpc.Call):
            self._trace("in", rpc.CALL, message.action, message.message_id)
            await self._incoming_call(message)
        elif isinstance(message, rpc.Send):
            self._trace("in", rpc.SEND, message.action, message.message_id)
            if self._faults.fault("answers_send"):  # breaks §4.2.4
                await self._answer(rpc.CallError(message.message_id, "NotSupported"))
        elif isinstance(message, rpc.CallResultError):
            self._trace("in", rpc.CALLRESULTERROR, "", message.message_id)
        elif isinstance(message, rpc.CallError):
            self._trace("in", rpc.CALLERROR, message.error_code, message.message_id)
            entry = self._pending.pop(message.message_id, None)
            if entry is not None and not entry[1].done():
                entry[1].set_exception(CallFailed(message))
        else:
            self._trace("in", rpc.CALLRESULT, "", message.message_id)
            await self._result(message)

    async def _result(self, message: rpc.CallResult) -> None:
        entry = self._pending.pop(message.message_id, None)
        if entry is None:
            return  # not ours (any more): a late answer after the timeout
        action, fut = entry
        problems = schemas.check(self.version, action, "Response", message.payload)
        if problems:
            error = rpc.CallError(
                message.message_id, problems[0].code, schemas.describe(problems)[:255]
            )
            if self.version == "2.1":
                reply = rpc.CallResultError(message.message_id, error.error_code)
                await self._answer(reply)
            if not fut.done():
                fut.set_exception(CallFailed(error))
        elif not fut.done():
            if self._on_answer is not None:
                # before the next frame is read: e.g. a CALL right after the
                # BootNotificationResponse must see the new registration status
                self._on_answer(action, message.payload)
            fut.set_result(message.payload)

    async def _incoming_call(self, call: rpc.Call) -> None:
        if self._faults.once("disconnect_mid_test"):
            self.abort("disconnect_mid_test")
            return
        if self._faults.fault("no_response"):
            return
        try:
            answer, after = self._on_call(call)
        except Exception:
            self._on_error(traceback.format_exc())
            answer, after = rpc.CallError(call.message_id, "InternalError", "handler failed"), None
        message_id = call.message_id
        if self._faults.fault("answer_id_not_echoed"):
            message_id = rpc.new_message_id()  # breaks §4.2.2
        if isinstance(answer, rpc.CallError):
            await self._answer(
                rpc.CallError(
                    message_id, answer.error_code, answer.error_description, answer.error_details
                )
            )
        elif answer is not None:
            await self._answer(rpc.CallResult(message_id, answer))
        if after is not None:
            try:
                after()
            except Exception:
                self._on_error(traceback.format_exc())
