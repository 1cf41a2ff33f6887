"""One VISCA message classified for pairing: who sent it, which socket, what it means.

AVer VISCA spec rev 3.4 §3.1 (address byte ``8x`` / ``88`` / ``y0``; ACK
``y0 4z FF``, Completion ``y0 5z FF``, inquiry answer ``y0 50 .. FF``, errors
``y0 6z ee FF``, Cancel ``8x 2z FF``) and the §3.2.1 table, through
:func:`dissectors.visca.decode`.  Decodes are cached (bounded): real traffic
repeats the same few messages, which keeps large captures fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from conformance.analyze.model import CAMERA, CONTROLLER, NOTE, VIOLATION, hexs
from dissectors import visca
from dissectors import visca_table as table

__all__ = ["classify", "hexs"]

REQUIREMENT = "AVer VISCA §3.1"

COMMAND = "command"
INQUIRY = "inquiry"
CANCEL = "cancel"
BROADCAST = "broadcast"
ACK = "ack"
COMPLETION = "completion"
ANSWER = "answer"
ERROR = "error"
OTHER = "other"
REQUESTS = (COMMAND, INQUIRY, CANCEL, BROADCAST)
REPLIES = (ACK, COMPLETION, ANSWER, ERROR)

#: what a reply that answers the wrong request should have been
REPLY_EXPECTED = "ACK then Completion for a command, the answer for an inquiry"

#: error code (``y0 6z ee FF``) -> name, from the error rows of the VISCA table
ERROR_NAMES = {int(r.packet.tokens[2], 16): r.name for r in table.REPLIES if r.group == "Error"}
#: error codes that say a malformed or unsupported message crossed the wire; the
#: others (buffer full, cancelled, no socket, not executable) are the camera's
#: state, not a breach of the spec
MALFORMED_ERRORS = {
    code: name
    for code, name in ERROR_NAMES.items()
    if name in ("Message_Length_Error", "Syntax_Error")
}


@dataclass(frozen=True)
class Message:
    kind: str  # one of REQUESTS, REPLIES, or OTHER
    camera: int | None  # 1..7 (the addressee of a request, the sender of a reply)
    socket: int | None  # ACK, Completion and socket errors
    error: int | None  # the error code of an ERROR
    name: str
    line: str  # one-line decode
    problems: tuple[str, ...]

    @property
    def error_name(self) -> str:
        return ERROR_NAMES.get(self.error or 0, f"error {self.error or 0:02X}")


def _kind(data: bytes) -> tuple[str, int | None, int | None, int | None]:
    if len(data) < 2:
        return OTHER, None, None, None
    address, second = data[0], data[1]
    if address == table.BROADCAST:
        return BROADCAST, None, None, None
    if 0x81 <= address <= 0x87:
        camera = address & 0x07
        if second & 0xF0 == 0x20 and len(data) == 3:
            return CANCEL, camera, second & 0x0F, None
        return (INQUIRY if second == 0x09 else COMMAND), camera, None, None
    if address & 0x8F == 0x80 and address >= 0x90:
        camera = (address >> 4) - 8
        high, low = second & 0xF0, second & 0x0F
        if high == 0x40 and len(data) == 3:
            return ACK, camera, low, None
        if high == 0x50 and len(data) == 3:
            return COMPLETION, camera, low, None
        if second == 0x50:
            return ANSWER, camera, None, None
        if high == 0x60 and len(data) >= 4:
            return ERROR, camera, low, data[2]
        return OTHER, camera, None, None
    return OTHER, None, None, None


def classify(data: bytes, request: bytes | None = None) -> Message:
    """*data* classified and decoded; *request* (only used for inquiry answers) names
    the answer."""
    if request is not None and (len(data) < 2 or data[1] != 0x50 or len(data) == 3):
        request = None  # only an inquiry answer needs its request: more cache hits
    return _classify(data, request)


@lru_cache(maxsize=4096)
def _classify(data: bytes, request: bytes | None) -> Message:
    kind, camera, socket, error = _kind(data)
    decoded = visca.decode(data, request)
    problems = tuple(decoded.problems)
    if kind == OTHER and not problems:
        problems = ("neither a request (8x, 88) nor a reply (y0 4z/5z/50/6z) (§3.1)",)
    return Message(kind, camera, socket, error, decoded.name, decoded.describe(), problems)


def refuses_valid(error: Message, *, flawed: bool) -> bool:
    """An error reply that is a violation: Message_Length_Error or Syntax_Error to a
    request the analysis found nothing wrong with.  The other errors report the
    camera's state (busy, cancelled, not executable now), and rejecting a flawed
    request is right."""
    return error.error in MALFORMED_ERRORS and not flawed


def reply_address_ok(request: Message, reply: Message) -> bool:
    """A reply comes from the camera the request was addressed to (§3.1: 8x -> x+8 0)."""
    return request.camera is None or reply.camera is None or request.camera == reply.camera


def address_problem(request: Message, reply: Message) -> tuple[str, str] | None:
    """(summary, expected) of a reply from another camera than the request's, or None."""
    if reply_address_ok(request, reply):
        return None
    return (
        f"reply from camera {reply.camera} to a request for camera {request.camera}",
        f"reply address {(request.camera or 1) + 8:X}0",
    )


def judge_error(
    error: Message, what: str, frame: int, *, flawed: bool
) -> tuple[str, str, str | None]:
    """(kind, summary, expected) of the error reply *error* to the request *what* sent
    in *frame*: a VIOLATION when :func:`refuses_valid`, else a NOTE ("rightly" for a
    Message_Length_Error or Syntax_Error to a flawed request)."""
    refused = refuses_valid(error, flawed=flawed)
    rightly = "" if refused or error.error not in MALFORMED_ERRORS else ": rightly"
    return (
        VIOLATION if refused else NOTE,
        f"{error.error_name} in answer to {what} (frame {frame}){rightly}",
        "an ACK or answer: the request was valid" if refused else None,
    )


def sender(data: bytes) -> str:
    """Who sent a message, from its address byte (§3.1): CONTROLLER for ``8x`` / ``88``,
    CAMERA for ``y0``, "" when the first byte is neither."""
    if not data:
        return ""
    first = data[0]
    if 0x81 <= first <= 0x88:
        return CONTROLLER
    if first >= 0x90 and first & 0x0F == 0 and first != 0xFF:
        return CAMERA
    return ""
