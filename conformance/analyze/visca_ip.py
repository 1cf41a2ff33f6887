"""VISCA over IP on UDP: sequence numbers, pairing, latency and checks per controller/camera pair.

AVer VISCA spec rev 3.4 §3.2.4: an 8-byte header (payload type, payload length
1..16, sequence number) before a VISCA packet; replies carry the sequence
number of the request they answer.  Control payloads (RESET ``01``, control ACK
``01``, ``0F 01`` sequence error, ``0F 02`` message type error) are the Sony
VISCA-over-IP ones :mod:`dissectors.visca_ip` knows.  The inner VISCA is judged
by :mod:`conformance.analyze.visca_msg` (§3.1, §3.2.1).

The controller is the side that sends requests (the client of the pair); a
finding names the controller or the camera as the party whose datagram broke
the spec, so deliberate probes of a test controller stay apart from a camera's
faults.

State per pair is bounded: a request waits at most :data:`REPLY_BOUND` seconds
of capture time for its first reply and :data:`COMPLETION_BOUND` for a
command's completion (then it counts as unanswered), and at most
:data:`MAX_PENDING` requests wait at once.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from conformance.analyze import visca_msg as vm
from conformance.analyze.model import (
    CAMERA,
    CAPTURE,
    CONTROLLER,
    NOTE,
    VIOLATION,
    Analysis,
    Conversation,
    Finding,
)
from conformance.analyze.tcp import endpoint
from dissectors import visca_ip as vip

REQUIREMENT = "AVer VISCA §3.2.4"
CONTROL_REQUIREMENT = "AVer VISCA §3.2.4 (control payloads)"
PROTOCOL = "visca-ip"

#: seconds of capture time a request waits for its first reply
REPLY_BOUND = 5.0
#: seconds of capture time an acknowledged command waits for its completion
COMPLETION_BOUND = 30.0
#: requests waiting at once per pair; beyond this the oldest counts as unanswered
MAX_PENDING = 1024

_HEADER = struct.Struct(">HHI")
_SEQ_MASK = 0xFFFFFFFF
_REPLY_TYPES = (vip.REPLY, vip.CONTROL_REPLY)
_VISCA_TYPES = frozenset((vip.COMMAND, vip.INQUIRY, vip.REPLY, vip.DEVICE_SETTING))
_TYPES = frozenset(vip.PAYLOAD_TYPES)
_COMMAND_KINDS = frozenset((vm.COMMAND, vm.CANCEL, vm.BROADCAST))
_REPLY_TYPE_EXPECTED = "payload type 0111 (VISCA reply)"
_CONTROL_ERRORS = {p: name for p, name in vip.CONTROL_PAYLOADS.items() if p != vip.RESET}


@dataclass(slots=True)
class _Request:
    seq: int
    frame: int
    time: float
    ptype: int
    payload: bytes
    msg: vm.Message | None  # the inner VISCA, None for a control payload
    flawed: bool  # the analysis already found something wrong with it
    acked: float | None = None  # when the ACK came (commands)


@dataclass
class _Pair:
    conv: Conversation
    controller: tuple[str, int]
    expected: int | None = None  # next sequence number due
    last: _Request | None = None  # the latest VISCA request
    reset_seq: int | None = None  # the sequence number of the latest RESET
    waiting: dict[tuple[bool, int], _Request] = field(default_factory=dict)  # (control, seq)
    running: dict[int, _Request] = field(default_factory=dict)  # ACKed commands by seq
    checked: float = float("-inf")  # when expiry was last checked
    not_captured: Finding | None = None  # the one "capture ends before reply" finding
    not_captured_count: int = 0

    def visca_request(self, seq: int) -> _Request | None:
        """The VISCA request (waiting for its first reply, or ACKed) with sequence *seq*."""
        return self.waiting.get((False, seq)) or self.running.get(seq)


def _ptype_name(ptype: int) -> str:
    return f"{ptype:04X} ({vip.PAYLOAD_TYPES.get(ptype, 'unknown')})"


def _after(seq: int) -> int:
    """The sequence number that follows *seq* (32 bits, wrapping)."""
    return (seq + 1) & _SEQ_MASK


def _party(from_controller: bool) -> str:
    return CONTROLLER if from_controller else CAMERA


def _pair_key(a: tuple[str, int], b: tuple[str, int]) -> tuple[tuple[str, int], tuple[str, int]]:
    return (a, b) if a <= b else (b, a)


class ViscaIpAnalyser:
    """Feed it every UDP datagram to or from a VISCA-over-IP port; call finish() at the end."""

    def __init__(self, analysis: Analysis, ports: set[int] | frozenset[int]) -> None:
        self.analysis = analysis
        self.ports = frozenset(ports)
        self._pairs: dict[tuple[tuple[str, int], tuple[str, int]], _Pair] = {}
        #: (src, sport, dst, dport) -> (pair, sent by the controller?)
        self._routes: dict[tuple[str, int, str, int], tuple[_Pair, bool]] = {}
        self._now = 0.0

    # ------------------------------------------------------------ input

    def datagram(
        self,
        frame: int,
        time: float,
        src: str,
        sport: int,
        dst: str,
        dport: int,
        data: bytes,
        truncated: int = 0,
    ) -> None:
        if time > self._now:
            self._now = time
        route = self._routes.get((src, sport, dst, dport))
        if route is None:
            route = self._route(src, sport, dst, dport, data)
        pair, from_controller = route
        conv = pair.conv
        conv.seen(time)
        if time - pair.checked > 1.0 or time < pair.checked:  # expiry, once a second
            pair.checked = time
            self._expire(pair, time)
        if truncated or len(data) < vip.HEADER_LEN:
            self._odd(pair, from_controller, frame, time, data, truncated)
            return
        ptype, length, seq = _HEADER.unpack_from(data)
        payload = data[vip.HEADER_LEN :]
        flawed = False
        sender = _party(from_controller)
        if length != len(payload) or not 0 < length <= vip.MAX_PAYLOAD or ptype not in _TYPES:
            flawed = self._header(conv, sender, frame, time, data, ptype, length, len(payload))
        msg = None
        if ptype in _VISCA_TYPES and payload:
            request = None
            if not from_controller and len(payload) > 3 and payload[1] == 0x50:
                answered = pair.waiting.get((False, seq))  # an inquiry answer: name it
                request = answered.payload if answered is not None else None
            msg = vm.classify(payload, request)
            if msg.problems:
                flawed = True
                self._add(
                    VIOLATION,
                    conv,
                    "visca.invalid",
                    f"invalid VISCA message: {'; '.join(msg.problems)}",
                    frame,
                    time,
                    payload,
                    party=sender,
                    decoded=msg.line,
                    requirement=vm.REQUIREMENT,
                )
        if not conv.transcript_full:
            inner = msg.line if msg is not None else self._control_name(ptype, payload)
            conv.note_message(
                time,
                f"#{frame} {'>' if from_controller else '<'} seq={seq} "
                f"{vip.PAYLOAD_TYPES.get(ptype, f'type {ptype:04X}')}: {vm.hexs(payload)}  {inner}",
            )
        else:
            conv.messages += 1
            conv.transcript_omitted += 1
        if from_controller:
            self._request(pair, _Request(seq, frame, time, ptype, payload, msg, flawed), data)
        else:
            self._reply(pair, frame, time, ptype, seq, payload, msg, data, flawed)

    def _header(
        self,
        conv: Conversation,
        sender: str,
        frame: int,
        time: float,
        data: bytes,
        ptype: int,
        length: int,
        actual: int,
    ) -> bool:
        """Check the declared length and the payload type; True if either is wrong."""
        flawed = False
        if length != actual or not 0 < length <= vip.MAX_PAYLOAD:
            flawed = True
            self._add(
                VIOLATION,
                conv,
                "visca-ip.length",
                f"payload length field {length} but {actual} payload bytes follow",
                frame,
                time,
                data,
                party=sender,
                expected=f"payload length = the bytes after the header ({actual}), 1..16",
            )
        if ptype not in _TYPES:
            flawed = True
            self._add(
                VIOLATION,
                conv,
                "visca-ip.payload-type",
                f"unknown payload type {ptype:04X}",
                frame,
                time,
                data,
                party=sender,
                expected="0100, 0110, 0111, 0120, 0200 or 0201",
            )
        return flawed

    def _odd(
        self,
        pair: _Pair,
        from_controller: bool,
        frame: int,
        time: float,
        data: bytes,
        truncated: int,
    ) -> None:
        """A datagram cut by the snaplen, or too short for the header."""
        conv = pair.conv
        mark = ">" if from_controller else "<"
        conv.note_message(time, f"#{frame} {mark} {vm.hexs(data)}  (cut short)")
        if truncated:
            self._add(
                CAPTURE,
                conv,
                "capture.snaplen",
                f"datagram cut by the capture's snapshot length ({truncated} bytes missing); "
                "its length and content are not judged, nor those of later cut datagrams "
                "of this conversation",
                frame,
                time,
                data,
                party="",
                requirement="pcap/pcapng: captured length < original length",
                once=True,
            )
            if len(data) >= vip.HEADER_LEN:  # the header is there: pair it, judge nothing
                ptype, _, seq = _HEADER.unpack_from(data)
                req = _Request(seq, frame, time, ptype, data[vip.HEADER_LEN :], None, True)
                self._cut(pair, from_controller, req)
            return
        self._add(
            VIOLATION,
            conv,
            "visca-ip.short",
            f"{len(data)}-byte datagram: shorter than the 8-byte header",
            frame,
            time,
            data,
            party=_party(from_controller),
            expected="payload type, payload length and sequence number (8 bytes)",
        )

    def finish(self) -> None:
        """End of capture: what still waits is unanswered (or its answer was not captured)."""
        for pair in self._pairs.values():
            self._expire(pair, self._now)
            for req in list(pair.waiting.values()):
                self._unanswered(pair, req, "reply", at_end=True)
            for req in list(pair.running.values()):
                self._unanswered(pair, req, "completion", at_end=True)
            pair.waiting.clear()
            pair.running.clear()
            pair.conv.details["resets"] = pair.conv.details.get("resets", 0)

    def _cut(self, pair: _Pair, from_controller: bool, req: _Request) -> None:
        """A datagram cut by the snaplen: it takes part in pairing and sequencing only."""
        if from_controller:
            pair.conv.requests += 1
            if req.ptype in (vip.COMMAND, vip.INQUIRY, vip.DEVICE_SETTING):
                pair.expected = _after(req.seq)
            control = req.ptype == vip.CONTROL
            if control:
                pair.expected = None
            self._wait(pair, (control, req.seq), req)
            return
        pair.conv.replies += 1
        if req.ptype == vip.CONTROL_REPLY:
            answered = pair.waiting.get((True, req.seq)) or pair.running.get(req.seq)
        else:
            answered = pair.visca_request(req.seq)
        if answered is not None:
            self._first_reply(pair, answered, req.time, done=True)

    # ------------------------------------------------------------ controller side

    def _request(self, pair: _Pair, req: _Request, data: bytes) -> None:
        conv = pair.conv
        if req.ptype in _REPLY_TYPES:
            self._add(
                VIOLATION,
                conv,
                "visca-ip.payload-type",
                f"the controller sent reply payload type {_ptype_name(req.ptype)}",
                req.frame,
                req.time,
                data,
                party=CONTROLLER,
                expected="a request type: 0100, 0110, 0120 or 0200",
            )
            # the camera may rightly refuse it (Message_Type_Error): pair that answer
            req.flawed = True
            self._wait(pair, (False, req.seq), req)
            return
        conv.requests += 1
        if req.ptype == vip.CONTROL:
            if req.payload == vip.RESET:
                conv.details["resets"] = conv.details.get("resets", 0) + 1
                # the sequence restarts: 0 (as the suites' RESET test and the emulator
                # have it) or the number after the RESET's own are both taken
                pair.expected = 0
                pair.last = None
                pair.reset_seq = req.seq
            elif not req.flawed:
                self._add(
                    VIOLATION,
                    conv,
                    "visca-ip.control-payload",
                    f"unknown control command payload {vm.hexs(req.payload)}",
                    req.frame,
                    req.time,
                    data,
                    party=CONTROLLER,
                    expected="RESET (01)",
                    requirement=CONTROL_REQUIREMENT,
                )
            self._wait(pair, (True, req.seq), req)
            return
        if (
            req.ptype == vip.COMMAND
            and req.msg is not None
            and req.msg.kind == vm.INQUIRY
            and not req.flawed
        ):
            self._add(
                VIOLATION,
                conv,
                "visca-ip.payload-type",
                "a VISCA inquiry sent with payload type 0100 (VISCA command)",
                req.frame,
                req.time,
                data,
                party=CONTROLLER,
                decoded=req.msg.line,
                expected="payload type 0110 for an inquiry",
            )
        if req.ptype in _TYPES:
            if req.seq == pair.expected:
                pair.expected = _after(req.seq)
            else:
                req.flawed |= self._sequence(pair, req, data)
            pair.last = req
        self._wait(pair, (False, req.seq), req)

    def _sequence(self, pair: _Pair, req: _Request, data: bytes) -> bool:
        """Check *req*'s sequence number; True if a violation was found."""
        conv, last, expected = pair.conv, pair.last, pair.expected
        pair.expected = _after(req.seq)
        if expected is None:
            return False
        if last is not None and req.seq == last.seq:
            if req.payload == last.payload and req.ptype == last.ptype:
                self._add(
                    NOTE,
                    conv,
                    "visca-ip.retransmission",
                    f"sequence number {req.seq} sent again with the same message "
                    f"(a retransmission of frame {last.frame})",
                    req.frame,
                    req.time,
                    data,
                    party=CONTROLLER,
                )
                return False
            self._add(
                VIOLATION,
                conv,
                "visca-ip.duplicate-sequence",
                f"sequence number {req.seq} reused for a different message "
                f"(frame {last.frame} had {vm.hexs(last.payload)})",
                req.frame,
                req.time,
                data,
                party=CONTROLLER,
                expected=f"sequence number {expected}",
            )
            return True
        step = (req.seq - expected) & _SEQ_MASK
        if step == 0:
            return False
        if last is None and pair.reset_seq is not None and req.seq == _after(pair.reset_seq):
            return False
        previous = "a RESET" if last is None else str((expected - 1) & _SEQ_MASK)
        if last is None:
            check, tail = "visca-ip.sequence-after-reset", ""
            wanted = "sequence number 0 after a RESET"
        elif step < 0x80000000:
            check = "visca-ip.sequence-gap"
            tail = f": {step} skipped (not sent, or lost from the capture)"
            wanted = f"sequence number {expected}"
        else:
            check, tail = "visca-ip.sequence-backwards", " without a RESET"
            wanted = f"sequence number {expected}, or a RESET first"
        self._add(
            VIOLATION,
            conv,
            check,
            f"sequence number {req.seq} after {previous}{tail}",
            req.frame,
            req.time,
            data,
            party=CONTROLLER,
            expected=wanted,
        )
        return True

    def _wait(self, pair: _Pair, key: tuple[bool, int], req: _Request) -> None:
        old = pair.waiting.pop(key, None)
        if old is not None and old.payload == req.payload:
            req = old  # a retransmission: latency counts from the first send
        pair.waiting[key] = req
        if len(pair.waiting) > MAX_PENDING:
            oldest = next(iter(pair.waiting.values()))
            self._unanswered(pair, oldest, "reply")

    # ------------------------------------------------------------ camera side

    def _reply(
        self,
        pair: _Pair,
        frame: int,
        time: float,
        ptype: int,
        seq: int,
        payload: bytes,
        msg: vm.Message | None,
        data: bytes,
        flawed: bool,
    ) -> None:
        conv = pair.conv
        conv.replies += 1
        if ptype == vip.CONTROL_REPLY:
            self._control_reply(pair, frame, time, seq, payload, data)
            return
        if ptype != vip.REPLY and ptype in vip.PAYLOAD_TYPES:
            self._add(
                VIOLATION,
                conv,
                "visca-ip.reply-type",
                f"the camera answered with payload type {_ptype_name(ptype)}",
                frame,
                time,
                data,
                party=CAMERA,
                expected=_REPLY_TYPE_EXPECTED,
            )
        req = pair.visca_request(seq)
        if req is None:
            self._orphan(pair, frame, time, seq, data, msg)
            return
        if msg is None:  # an unknown payload type or an empty payload: it answers, nothing more
            self._first_reply(pair, req, time, done=True)
            return
        wrong_address = vm.address_problem(req.msg, msg) if req.msg is not None else None
        if wrong_address is not None:
            self._add(
                VIOLATION,
                conv,
                "visca.reply-address",
                wrong_address[0],
                frame,
                time,
                payload,
                party=CAMERA,
                decoded=msg.line,
                expected=wrong_address[1],
                requirement=vm.REQUIREMENT,
            )
        if msg.kind == vm.ERROR:
            self._error_reply(conv, req, msg, frame, time, payload)
            self._first_reply(pair, req, time, done=True)
            return
        kind = msg.kind
        if kind == vm.ACK:
            fits = req.acked is None and self._is_command(req)
        elif kind == vm.COMPLETION:
            fits = self._is_command(req)
        else:
            fits = kind == vm.ANSWER and req.msg is not None and req.msg.kind == vm.INQUIRY
        if not fits and not flawed:
            what = req.msg.name if req.msg is not None else _ptype_name(req.ptype)
            self._add(
                VIOLATION,
                conv,
                "visca.reply-mismatch",
                f"{msg.name} does not answer {what} (frame {req.frame})",
                frame,
                time,
                payload,
                party=CAMERA,
                decoded=msg.line,
                expected=vm.REPLY_EXPECTED,
                requirement=vm.REQUIREMENT,
            )
        if msg.kind == vm.ACK and fits:
            self._first_reply(pair, req, time, done=False)
        else:
            self._first_reply(pair, req, time, done=True)

    def _control_reply(
        self, pair: _Pair, frame: int, time: float, seq: int, payload: bytes, data: bytes
    ) -> None:
        conv = pair.conv
        control = pair.waiting.get((True, seq))
        visca_req = pair.visca_request(seq)
        if payload == vip.CONTROL_ACK:
            if control is not None:
                self._first_reply(pair, control, time, done=True)
                return
            if visca_req is not None:
                self._add(
                    VIOLATION,
                    conv,
                    "visca-ip.reply-type",
                    f"a control ACK answers a VISCA request (frame {visca_req.frame})",
                    frame,
                    time,
                    data,
                    party=CAMERA,
                    expected=_REPLY_TYPE_EXPECTED,
                )
                self._first_reply(pair, visca_req, time, done=True)
                return
            self._orphan(pair, frame, time, seq, data, None)
            return
        req = visca_req or control
        if payload not in _CONTROL_ERRORS:
            self._add(
                VIOLATION,
                conv,
                "visca-ip.control-payload",
                f"unknown control reply payload {vm.hexs(payload)}",
                frame,
                time,
                data,
                party=CAMERA,
                expected="01 (ACK), 0F 01 or 0F 02",
                requirement=CONTROL_REQUIREMENT,
            )
        if req is None:
            self._orphan(pair, frame, time, seq, data, None)
            return
        name = _CONTROL_ERRORS.get(payload)
        if name is not None:
            kind = NOTE if req.flawed else VIOLATION
            why = (
                "rightly, the request was flawed"
                if req.flawed
                else "the request looked valid and in sequence"
            )
            self._add(
                kind,
                conv,
                "visca-ip.control-error",
                f"the camera answered frame {req.frame} with {name} ({why})",
                frame,
                time,
                data,
                party=CAMERA,
                expected=None if req.flawed else "a VISCA reply (ACK / answer)",
                requirement=CONTROL_REQUIREMENT,
            )
        self._first_reply(pair, req, time, done=True)

    def _error_reply(
        self,
        conv: Conversation,
        req: _Request,
        msg: vm.Message,
        frame: int,
        time: float,
        payload: bytes,
    ) -> None:
        what = req.msg.name if req.msg is not None else "the request"
        kind, summary, expected = vm.judge_error(msg, what, req.frame, flawed=req.flawed)
        self._add(
            kind,
            conv,
            "visca.error-reply",
            summary,
            frame,
            time,
            payload,
            party=CAMERA,
            decoded=msg.line,
            expected=expected,
            requirement=vm.REQUIREMENT,
        )

    def _orphan(
        self,
        pair: _Pair,
        frame: int,
        time: float,
        seq: int,
        data: bytes,
        msg: vm.Message | None,
    ) -> None:
        self._add(
            VIOLATION,
            pair.conv,
            "visca-ip.orphan-reply",
            f"reply with sequence number {seq} answers no request awaiting one "
            f"(within {REPLY_BOUND:g} s)",
            frame,
            time,
            data,
            party=CAMERA,
            decoded=msg.line if msg is not None else None,
            expected="the sequence number of a request",
        )

    # ------------------------------------------------------------ bookkeeping

    @staticmethod
    def _is_command(req: _Request) -> bool:
        return req.msg is not None and req.msg.kind in _COMMAND_KINDS

    def _first_reply(self, pair: _Pair, req: _Request, time: float, *, done: bool) -> None:
        conv = pair.conv
        control = req.ptype == vip.CONTROL
        if req.acked is None:
            conv.latency.add(time - req.time)
            pair.waiting.pop((control, req.seq), None)
        if done:
            if req.acked is not None or self._is_command(req):
                conv.completion.add(time - req.time)
            pair.running.pop(req.seq, None)
            return
        req.acked = time
        pair.running.pop(req.seq, None)
        pair.running[req.seq] = req
        if len(pair.running) > MAX_PENDING:
            self._unanswered(pair, next(iter(pair.running.values())), "completion")

    def _expire(self, pair: _Pair, now: float) -> None:
        while pair.waiting:
            req = next(iter(pair.waiting.values()))
            if now - req.time <= REPLY_BOUND:
                break
            self._unanswered(pair, req, "reply")
        while pair.running:
            req = next(iter(pair.running.values()))
            if now - (req.acked or req.time) <= COMPLETION_BOUND:
                break
            self._unanswered(pair, req, "completion")

    def _unanswered(self, pair: _Pair, req: _Request, what: str, *, at_end: bool = False) -> None:
        conv = pair.conv
        if what == "reply":
            pair.waiting.pop((req.ptype == vip.CONTROL, req.seq), None)
        else:
            pair.running.pop(req.seq, None)
        bound = REPLY_BOUND if what == "reply" else COMPLETION_BOUND
        since = req.time if what == "reply" else (req.acked or req.time)
        name = req.msg.name if req.msg is not None else self._control_name(req.ptype, req.payload)
        if at_end and self._now - since <= bound:
            if pair.not_captured is None:
                pair.not_captured = self._add(
                    CAPTURE,
                    conv,
                    "capture.ends-before-reply",
                    "",
                    req.frame,
                    req.time,
                    req.payload,
                    party="",
                )
            pair.not_captured_count += 1
            n = pair.not_captured_count
            pair.not_captured.summary = (
                f"the capture ends less than {bound:g} s after {n} request(s) still "
                f"waiting for a {what}, first {name} (seq {req.seq})"
            )
            return
        if what == "reply":
            conv.unanswered += 1
            check, summary = "visca-ip.no-reply", f"no reply to {name} within {REPLY_BOUND:g} s"
        else:
            conv.details["no_completion"] = conv.details.get("no_completion", 0) + 1
            check = "visca-ip.no-completion"
            summary = f"{name} acknowledged but not completed within {COMPLETION_BOUND:g} s"
        self._add(
            VIOLATION,
            conv,
            check,
            f"{summary} (seq {req.seq})",
            req.frame,
            req.time,
            req.payload,
            party=CAMERA,
            decoded=req.msg.line if req.msg is not None else None,
            expected=f"a {what} with sequence number {req.seq}",
        )

    def _route(self, src: str, sport: int, dst: str, dport: int, data: bytes) -> tuple[_Pair, bool]:
        a, b = (src, sport), (dst, dport)
        pair = self._pairs.get(_pair_key(a, b))
        if pair is None:
            pair = self._new_pair(a, b, data)
        route = self._routes[(src, sport, dst, dport)] = (pair, a == pair.controller)
        return route

    def _new_pair(self, a: tuple[str, int], b: tuple[str, int], data: bytes) -> _Pair:
        if b[1] in self.ports and a[1] not in self.ports:
            controller, camera = a, b
        elif a[1] in self.ports and b[1] not in self.ports:
            controller, camera = b, a
        else:  # both on the service port: whoever sends a request type is the controller
            ptype = _HEADER.unpack_from(data)[0] if len(data) >= vip.HEADER_LEN else 0
            controller, camera = (b, a) if ptype in _REPLY_TYPES else (a, b)
        conv = self.analysis.conversation(PROTOCOL, endpoint(*controller), endpoint(*camera))
        conv.details.setdefault("resets", 0)
        pair = _Pair(conv, controller)
        self._pairs[_pair_key(a, b)] = pair
        return pair

    @staticmethod
    def _control_name(ptype: int, payload: bytes) -> str:
        if ptype == vip.CONTROL:
            return "RESET" if payload == vip.RESET else "unknown control command"
        if ptype == vip.CONTROL_REPLY:
            if payload == vip.CONTROL_ACK:
                return "Control ACK"
            return _CONTROL_ERRORS.get(payload, "unknown control reply")
        return "unknown payload"

    def _add(
        self,
        kind: str,
        conv: Conversation,
        check: str,
        summary: str,
        frame: int,
        time: float,
        data: bytes,
        *,
        party: str,
        decoded: str | None = None,
        expected: str | None = None,
        requirement: str = REQUIREMENT,
        once: bool = False,
    ) -> Finding:
        """Record a finding of *kind* about *party*'s datagram (*once*: unless its check
        already fired in the conversation); returns it."""
        finding = Finding(
            kind, check, requirement, summary, conv.key, frame, time, data, decoded, expected, party
        )
        self.analysis.add(finding, once=once)
        return finding
