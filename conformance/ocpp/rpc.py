"""OCPP-J RPC framework: the five message types, their frames and a strict parser.

Pure (no I/O).  OCPP 2.1 Part 4 chapter 4: message types §4.1.3 (Table 3), message
ID §4.1.4 (Table 4), payload §4.1.5, structures §4.2.1-§4.2.4 (Tables 5-8) and the
error codes of §4.3 (Table 9).  OCPP 2.0.1 has only CALL, CALLRESULT and CALLERROR;
CALLRESULTERROR (5) and SEND (6) are new in 2.1.

:func:`parse` turns a received frame into a message or raises :class:`RpcError`,
which carries the Table 9 code and message ID of the CALLERROR to answer with, or
says the frame must be ignored instead.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar

CALL, CALLRESULT, CALLERROR, CALLRESULTERROR, SEND = 2, 3, 4, 5, 6

#: Part 4 §4.3 Table 9: every error code a CALLERROR / CALLRESULTERROR may carry.
ERROR_CODES: dict[str, str] = {
    "FormatViolation": "the payload is not syntactically valid for the action",
    "GenericError": "an error that no more specific code covers",
    "InternalError": "the receiver failed internally while handling the action",
    "MessageTypeNotSupported": "the message type number is not supported by the receiver",
    "NotImplemented": "the action is unknown to the receiver",
    "NotSupported": "the action is known but not supported by the receiver",
    "OccurrenceConstraintViolation": "a field is missing, or occurs too often or too rarely",
    "PropertyConstraintViolation": "a field holds a value outside its allowed values",
    "ProtocolError": "the payload does not match the message's PDU structure",
    "RpcFrameworkError": "the frame is not a valid RPC message (e.g. unreadable message ID)",
    "SecurityError": "a security issue stopped the receiver from completing the action",
    "TypeConstraintViolation": "a field has the wrong data type",
}

#: Part 4 §4.1.4 Table 4: messageId is string[36].
MAX_ID_LENGTH = 36
#: Part 4 §4.2.3 Table 7: errorDescription is string[255].
MAX_DESCRIPTION_LENGTH = 255
#: Message type numbers each OCPP version defines (Part 4 §4.1.3 Table 3).
MESSAGE_TYPES: dict[str, frozenset[int]] = {
    "2.1": frozenset({CALL, CALLRESULT, CALLERROR, CALLRESULTERROR, SEND}),
    "2.0.1": frozenset({CALL, CALLRESULT, CALLERROR}),
}
# Number of elements of each message type's array (Part 4 §4.2.1-§4.2.4).
_ELEMENTS = {CALL: 4, CALLRESULT: 3, CALLERROR: 5, CALLRESULTERROR: 5, SEND: 4}


def _dump(value: list[Any]) -> str:
    # §4.1.2: the frame must be valid JSON, so NaN and infinities are refused.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@dataclass(frozen=True)
class Call:
    """CALL, a request (Part 4 §4.2.1, Table 5): ``[2, id, action, payload]``."""

    message_type: ClassVar[int] = CALL
    message_id: str
    action: str
    payload: dict[str, Any]

    def frame(self) -> str:
        return _dump([self.message_type, self.message_id, self.action, self.payload])


@dataclass(frozen=True)
class CallResult:
    """CALLRESULT, the response to a CALL (Part 4 §4.2.2, Table 6): ``[3, id, payload]``."""

    message_type: ClassVar[int] = CALLRESULT
    message_id: str
    payload: dict[str, Any]

    def frame(self) -> str:
        return _dump([self.message_type, self.message_id, self.payload])


@dataclass(frozen=True)
class CallError:
    """CALLERROR, the error answer to a CALL (Part 4 §4.2.3, Table 7).

    ``[4, id, errorCode, errorDescription, errorDetails]``.  The description is kept
    as given (so a received one can be checked) and cut to 255 characters in
    :meth:`frame`.
    """

    message_type: ClassVar[int] = CALLERROR
    message_id: str
    error_code: str
    error_description: str = ""
    error_details: dict[str, Any] = field(default_factory=dict)

    def frame(self) -> str:
        return _dump(
            [
                self.message_type,
                self.message_id,
                self.error_code,
                self.error_description[:MAX_DESCRIPTION_LENGTH],
                self.error_details,
            ]
        )


@dataclass(frozen=True)
class CallResultError(CallError):
    """CALLRESULTERROR, the error answer to a CALLRESULT (2.1 only, Part 4 §4.2.3).

    A subclass of :class:`CallError` (same fields); match it before CallError.
    """

    message_type: ClassVar[int] = CALLRESULTERROR


@dataclass(frozen=True)
class Send:
    """SEND, an unconfirmed message (2.1 only, Part 4 §4.2.4, Table 8).

    ``[6, id, action, payload]``; the receiver never answers it.
    """

    message_type: ClassVar[int] = SEND
    message_id: str
    action: str
    payload: dict[str, Any]

    def frame(self) -> str:
        return _dump([self.message_type, self.message_id, self.action, self.payload])


Message = Call | CallResult | CallError | CallResultError | Send


class RpcError(Exception):
    """A frame that cannot be read as an OCPP-J message.

    ``code`` is the Table 9 error code, ``message_id`` the ID to answer with ("-1"
    when it cannot be read, Part 4 §4.2.3).  ``ignore`` is true when the frame must
    not be answered at all: an unknown message type number (§4.1.3, §4.4) or a
    SEND (§4.2.4).  ``message_type`` is the frame's type number when it was read.
    """

    def __init__(
        self,
        code: str,
        description: str,
        message_id: str = "-1",
        *,
        ignore: bool = False,
        message_type: int | None = None,
    ) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.message_id = message_id
        self.ignore = ignore
        self.message_type = message_type

    def reply(self) -> CallError:
        """The CALLERROR that answers the frame."""
        return CallError(self.message_id, self.code, self.description)


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN / Infinity, which are not JSON (RFC 8259).
    raise ValueError(f"{name} is not a JSON value")


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value ("null", "integer", "object", ...)."""
    if value is None:
        return "null"
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }.get(type(value), type(value).__name__)


def parse(frame: str | bytes, *, version: str = "2.1") -> Message:
    """Read one OCPP-J frame (a WebSocket text message) as a message of *version*.

    Raises :class:`RpcError` for anything that is not a well-formed message.  The
    payload is not checked against the action's schema (see ``schemas.check``), and
    a CALLERROR's code and description length are kept as received for the caller
    to judge.
    """
    if version not in MESSAGE_TYPES:
        raise ValueError(f"unknown OCPP version {version!r}")
    rfe = "RpcFrameworkError"
    if isinstance(frame, bytes | bytearray | memoryview):
        try:
            text = bytes(frame).decode("utf-8")
        except UnicodeDecodeError as exc:  # §4.1.2: frames are UTF-8
            raise RpcError(rfe, f"frame is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    else:
        text = frame
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # §4.1.2: frames are JSON
        raise RpcError(rfe, f"frame is not JSON ({exc})"[:MAX_DESCRIPTION_LENGTH]) from None
    if not isinstance(data, list) or not data:
        raise RpcError(rfe, f"frame is a JSON {json_type(data)}, not a non-empty array")

    raw_id = data[1] if len(data) > 1 else None
    # A too-long ID is still readable, so the error answer echoes it; only an ID
    # that is not a string at all becomes "-1" (§4.2.3).
    readable = raw_id if isinstance(raw_id, str) else "-1"
    kind = data[0]
    if type(kind) is not int:  # bool is an int subclass; 2.0 is not an integer
        raise RpcError(rfe, f"message type is a {json_type(kind)}, not an integer", readable)
    if kind not in MESSAGE_TYPES[version]:
        # §4.1.3: a message type number outside Table 3 is ignored, not answered.
        raise RpcError(
            "MessageTypeNotSupported",
            f"message type {kind} is not defined by OCPP {version}",
            readable,
            ignore=True,
            message_type=kind,
        )
    # §4.2.4: a SEND is never answered, not even when it is malformed.
    extra: dict[str, Any] = {"ignore": kind == SEND, "message_type": kind}
    if len(data) < 2:
        raise RpcError(rfe, "frame has no message ID", **extra)
    if not isinstance(raw_id, str):
        raise RpcError(rfe, f"message ID is a {json_type(raw_id)}, not a string", **extra)
    if len(raw_id) > MAX_ID_LENGTH:  # §4.1.4 Table 4
        raise RpcError(
            rfe,
            f"message ID is {len(raw_id)} characters, more than {MAX_ID_LENGTH}",
            raw_id,
            **extra,
        )
    # A wrong element count makes the frame an invalid RPC message rather than a
    # payload that does not fit its action's PDU (which is what Table 9 reserves
    # ProtocolError for), hence RpcFrameworkError (§4.2.1-§4.2.4, §4.3).
    if len(data) != _ELEMENTS[kind]:
        raise RpcError(
            rfe,
            f"message type {kind} has {_ELEMENTS[kind]} elements, this frame has {len(data)}",
            raw_id,
            **extra,
        )

    def need_string(index: int, name: str) -> str:
        if not isinstance(data[index], str):
            raise RpcError(
                rfe, f"{name} is a {json_type(data[index])}, not a string", raw_id, **extra
            )
        return data[index]

    def need_object(index: int, name: str) -> dict[str, Any]:
        # §4.1.5 calls null a possible but discouraged empty payload; every OCPP
        # schema requires an object, so anything else (null included) is a
        # syntactically wrong payload: FormatViolation (Table 9).
        if not isinstance(data[index], dict):
            raise RpcError(
                "FormatViolation",
                f"{name} is a {json_type(data[index])}, not a JSON object",
                raw_id,
                **extra,
            )
        return data[index]

    if kind in (CALL, SEND):
        action = need_string(2, "action")
        payload = need_object(3, "payload")
        return Call(raw_id, action, payload) if kind == CALL else Send(raw_id, action, payload)
    if kind == CALLRESULT:
        return CallResult(raw_id, need_object(2, "payload"))
    code = need_string(2, "errorCode")
    description = need_string(3, "errorDescription")
    details = need_object(4, "errorDetails")  # Table 7: {} when there are none
    cls = CallError if kind == CALLERROR else CallResultError
    return cls(raw_id, code, description, details)


def new_message_id() -> str:
    """A fresh message ID: a UUID4 string, 36 characters (§4.1.4)."""
    return str(uuid.uuid4())
