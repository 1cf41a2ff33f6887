"""Raw VISCA in a byte stream (a TCP connection or a serial log): framing on ``FF``,
resynchronisation, checks, and pairing of requests with replies.

AVer VISCA spec rev 3.4 §3.1: messages start with an address byte (``8x``,
``88``, ``y0``) and end at ``FF``, 3..16 bytes; commands are paired with their
ACK (first in, first answered) and their Completion (by socket), inquiries with
their answer, errors (``y0 6z ee FF``) with the request or socket they refuse.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

from conformance.analyze import visca_msg as vm
from conformance.analyze.model import CAMERA, CAPTURE, Analysis, Conversation, Finding
from conformance.analyze.streams import Direction, Stream
from dissectors import visca_table as table

#: seconds a request waits for its first reply, an ACKed command for its completion
REPLY_BOUND = 5.0
COMPLETION_BOUND = 30.0
#: requests waiting at once; beyond this the oldest counts as unanswered
MAX_PENDING = 1024


def _visca_start(byte: int) -> bool:
    """An address byte a message can start with (§3.1): 81..87, 88, 90..F0."""
    return 0x81 <= byte <= 0x88 or (byte >= 0x90 and byte & 0x0F == 0 and byte != 0xFF)


_STARTS = bytes(b for b in range(256) if _visca_start(b))
_START = re.compile(b"[" + re.escape(_STARTS) + b"]")
_START_OR_END = re.compile(b"[" + re.escape(_STARTS + bytes([table.TERMINATOR])) + b"]")


@dataclass
class _Request:
    data: bytes
    msg: vm.Message
    frame: int
    time: float
    acked: float | None = None


class ViscaStream(Stream):
    """VISCA in a byte stream; ``from_client`` may be unreliable (a serial log
    without direction marks): the address byte says who sent a message, and
    bytes that fit no message have no party."""

    protocol_requirement = vm.REQUIREMENT
    check_prefix = "visca"

    def __init__(
        self,
        analysis: Analysis,
        conversation: Conversation,
        *,
        timed: bool = True,
        directed: bool = True,
    ) -> None:
        super().__init__(analysis, conversation, timed=timed)
        self.directed = directed  # False: from_client means nothing (a log without marks)
        self._waiting: deque[_Request] = deque()
        self._sockets: dict[int, _Request] = {}
        self._after_gap_orphans = False
        self._not_captured = 0

    def _split(self, from_client: bool, d: Direction, *, final: bool) -> None:
        buf = d.buffer
        while buf:
            if d.resync:
                end = buf.find(table.TERMINATOR)
                if end < 0:
                    buf.clear()
                    return
                del buf[: end + 1]
                d.resync = False
                continue
            if d.overlong:  # the tail of a message reported as unterminated
                edge = _START_OR_END.search(buf)
                if edge is None:
                    buf.clear()
                    return
                del buf[: edge.start() + (buf[edge.start()] == table.TERMINATOR)]
                d.overlong = False
                continue
            if not _visca_start(buf[0]):
                start = _START.search(buf, 1)
                self._skip(d, start.start() if start else len(buf))
                continue
            self._flush_garbage(d)
            end = buf.find(table.TERMINATOR, 1, table.MAX_LEN)
            if end < 0:
                if len(buf) < table.MAX_LEN:  # more may come (or close() reports it)
                    return
                start = _START.search(buf, 1, table.MAX_LEN)
                cut = start.start() if start else table.MAX_LEN
                data = bytes(buf[:cut])
                del buf[:cut]
                d.overlong = start is None
                self.note(from_client, data, "unterminated")
                self.violation(
                    "visca.unterminated",
                    f"no FF terminator within {table.MAX_LEN} bytes of an address byte",
                    data,
                    party=self._party(from_client, data),
                    expected=f"a message of {table.MIN_LEN}..{table.MAX_LEN} bytes ending in FF",
                )
                continue
            data = bytes(buf[: end + 1])
            del buf[: end + 1]
            self._message(from_client, data)

    def _party(self, from_client: bool, data: bytes, *, answer: bool | None = None) -> str:
        if self.directed:
            return self.conv.party(from_client)
        if answer is not None:
            return self.conv.party(not answer)
        return vm.sender(data)  # "" for bytes without an address byte

    # ------------------------------------------------------------ pairing

    def _message(self, from_client: bool, data: bytes) -> None:
        head = self._waiting[0] if self._waiting else None
        msg = vm.classify(data, head.data if head is not None else None)
        self.note(from_client, data, msg.line)
        answer: bool | None = None  # None: neither a request nor a reply
        if msg.kind == vm.BROADCAST:  # 88: a request, or its echo / answer
            if self.directed:
                answer = not from_client
            else:
                answer = head is not None and head.msg.kind == vm.BROADCAST
        elif msg.kind in vm.REQUESTS or msg.kind in vm.REPLIES:
            answer = msg.kind in vm.REPLIES
        if msg.problems:
            self.violation(
                "visca.invalid",
                f"invalid VISCA message: {'; '.join(msg.problems)}",
                data,
                party=self._party(from_client, data, answer=answer),
                decoded=msg.line,
            )
        if answer is not None:
            (self._reply if answer else self._request)(data, msg)

    def _request(self, data: bytes, msg: vm.Message) -> None:
        self.conv.requests += 1
        self._after_gap_orphans = False
        self._waiting.append(_Request(data, msg, self._frame, self._time))
        if len(self._waiting) > MAX_PENDING:
            self._unanswered(self._waiting.popleft(), "reply")

    def _reply(self, data: bytes, msg: vm.Message) -> None:
        self.conv.replies += 1
        head = self._waiting[0] if self._waiting else None
        running = self._sockets.get(msg.socket) if msg.socket else None
        if msg.kind == vm.ERROR:
            target = running if running is not None and msg.error not in (1, 2, 3) else head
            if target is None:
                self._orphan(data, msg)
                return
            self._error(target, data, msg)
            if target is running:
                self._complete(running, msg.socket or 0)
                if head is not None and head.msg.kind == vm.CANCEL:
                    self._first(head, done=True)
            else:
                self._first(target, done=True)
            return
        if msg.kind == vm.COMPLETION and running is not None:
            self._complete(running, msg.socket or 0)
            return
        if head is None:
            self._orphan(data, msg)
            return
        expected_kind = {
            vm.COMMAND: (vm.ACK, vm.COMPLETION),
            vm.CANCEL: (vm.ACK, vm.COMPLETION),
            vm.INQUIRY: (vm.ANSWER,),
            vm.BROADCAST: (vm.BROADCAST,),
        }[head.msg.kind]
        wrong_address = vm.address_problem(head.msg, msg)
        if wrong_address is not None:
            self.violation(
                "visca.reply-address",
                wrong_address[0],
                data,
                party=CAMERA,
                decoded=msg.line,
                expected=wrong_address[1],
            )
        if msg.kind not in expected_kind:
            self.violation(
                "visca.reply-mismatch",
                f"{msg.name} does not answer {head.msg.name} (frame {head.frame})",
                data,
                party=CAMERA,
                decoded=msg.line,
                expected=vm.REPLY_EXPECTED,
            )
            self._first(head, done=True)
            return
        if msg.kind == vm.ACK:
            self._first(head, done=False)
            socket = msg.socket or 0
            old = self._sockets.pop(socket, None)
            if old is not None:
                self._unanswered(old, "completion")
            self._sockets[socket] = head
            return
        self._first(head, done=True)

    def _first(self, req: _Request, *, done: bool) -> None:
        """*req* got its first reply (and, *done*, its last)."""
        if self._waiting and self._waiting[0] is req:
            self._waiting.popleft()
        if self.timed:
            self.conv.latency.add(self._time - req.time)
            if done and req.msg.kind in (vm.COMMAND, vm.CANCEL):
                self.conv.completion.add(self._time - req.time)
        req.acked = self._time

    def _complete(self, req: _Request, socket: int) -> None:
        self._sockets.pop(socket, None)
        if self.timed:
            self.conv.completion.add(self._time - req.time)

    def _error(self, req: _Request, data: bytes, msg: vm.Message) -> None:
        flawed = bool(req.msg.problems)
        kind, summary, expected = vm.judge_error(msg, req.msg.name, req.frame, flawed=flawed)
        self.violation(
            "visca.error-reply",
            summary,
            data,
            party=CAMERA,
            kind=kind,
            decoded=msg.line,
            expected=expected,
        )

    def _orphan(self, data: bytes, msg: vm.Message) -> None:
        if self._after_gap_orphans:
            return
        self.violation(
            "visca.orphan-reply",
            f"{msg.name} answers no request awaiting one",
            data,
            party=CAMERA,
            decoded=msg.line,
            expected="a reply only to a request sent before it",
        )

    def _after_gap(self) -> None:
        self._waiting.clear()
        self._sockets.clear()
        self._after_gap_orphans = True

    def _expire(self, now: float) -> None:
        if not self.timed:
            return
        while self._waiting and now - self._waiting[0].time > REPLY_BOUND:
            self._unanswered(self._waiting.popleft(), "reply")
        for socket, req in list(self._sockets.items()):
            if now - (req.acked or req.time) > COMPLETION_BOUND:
                del self._sockets[socket]
                self._unanswered(req, "completion")

    def _finish(self) -> None:
        self._expire(self._time)
        for req in self._waiting:
            self._unanswered(req, "reply", at_end=True)
        for req in self._sockets.values():
            self._unanswered(req, "completion", at_end=True)
        self._waiting.clear()
        self._sockets.clear()

    def _unanswered(self, req: _Request, what: str, *, at_end: bool = False) -> None:
        bound = REPLY_BOUND if what == "reply" else COMPLETION_BOUND
        since = req.time if what == "reply" else (req.acked or req.time)
        if at_end and (not self.timed or self._time - since <= bound):
            self._not_captured += 1
            self.analysis.add(
                Finding(
                    CAPTURE,
                    "capture.ends-before-reply",
                    self.protocol_requirement,
                    f"the capture ends before the {what} to {req.msg.name} "
                    "(later such requests are not reported)",
                    self.conv.key,
                    req.frame,
                    req.time if self.timed else None,
                    req.data,
                    req.msg.line,
                    party="",
                ),
                once=True,
            )
            return
        if what == "reply":
            self.conv.unanswered += 1
            check, summary = "visca.no-reply", f"no reply to {req.msg.name} within {bound:g} s"
        else:
            self.conv.details["no_completion"] = self.conv.details.get("no_completion", 0) + 1
            check = "visca.no-completion"
            summary = f"{req.msg.name} acknowledged but not completed within {bound:g} s"
        self.violation(
            check,
            summary,
            req.data,
            party=CAMERA,
            decoded=req.msg.line,
            expected=f"a {what}",
            frame=req.frame,
            time=req.time,
        )
