"""Offline checks on the OCPP-J messages of one connection (OCPP 2.1 Part 4 chapter 4, Part 2).

The station is the WebSocket client (Part 4 chapter 3).  Per message: the RPC
framing (``conformance.ocpp.rpc.parse``) and the payload schema
(``conformance.ocpp.schemas.check``; a CALLRESULT is checked as the response of
the CALL it answers).  Across messages:

* CALL pairing per direction by message ID (Part 4 §4.1.4): latency, duplicate
  IDs, answers without a CALL, CALLs never answered, a second CALL while one is
  outstanding (§4.1.1);
* registration: no other CALL from the station between its BootNotification and
  an Accepted answer (B01.FR.08, B02.FR.02, B03.FR.02), no early BootNotification
  resend (B02.FR.04), no CSMS CALL while Rejected (B03.FR.03), the availability
  report after Accepted (B01.FR.05);
* transactions: seqNo rising by one (E01.FR.07) and eventType Started, Updated,
  Ended in that order (E01.FR.01-06, E06.FR.01-07);
* heartbeat spacing against the interval of the BootNotificationResponse or a
  SetVariables HeartbeatInterval (B01.FR.04), with WebSocket frames counting as
  signs of life (Part 4 §5.3).

Where a capture lost bytes, the checks that depend on the lost messages report
CAPTURE instead of VIOLATION, or start over.  A finding names the party that
sent the offending message (an unanswered CALL: the side that owed the answer;
a CAPTURE finding: none).  Credentials never leave this module: see
:func:`redact` and :func:`redact_text`.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from conformance.analyze.model import (
    CAPTURE,
    CSMS,
    STATION,
    VIOLATION,
    Analysis,
    Conversation,
    Finding,
)
from conformance.ocpp import rpc, schemas

PART4 = "OCPP-J Part 4"
#: message IDs (Part 4 §4.1.4) and answers (§4.2.2, §4.2.3)
IDS = f"{PART4} §4.1.4"
ANSWERS = f"{PART4} §4.2.2, §4.2.3"
#: seconds after which an unanswered CALL has timed out (Part 4 §4.1.1 leaves it to
#: the implementation; 30 s is a common MessageTimeout)
CALL_TIMEOUT = 30.0
#: a Heartbeat may come this share of the interval early, minus JITTER seconds
EARLY = 0.9
JITTER = 1.0
#: the station may be silent for LATE times the heartbeat interval plus LATE_SLACK seconds
LATE = 1.5
LATE_SLACK = 10.0
#: characters of a message kept in a finding / in a transcript line
DATA_LIMIT = 600
LINE_LIMIT = 160
#: message IDs remembered per direction, transactions remembered (memory stays flat)
MAX_IDS = 10_000
MAX_CALLS = 1_000
MAX_TRANSACTIONS = 1_000

#: TriggerMessage requestedMessage -> the action it lets a Pending station send (B02.FR.02)
TRIGGERED = {
    "BootNotification": "BootNotification",
    "LogStatusNotification": "LogStatusNotification",
    "FirmwareStatusNotification": "FirmwareStatusNotification",
    "Heartbeat": "Heartbeat",
    "MeterValues": "MeterValues",
    "SignChargingStationCertificate": "SignCertificate",
    "SignV2GCertificate": "SignCertificate",
    "SignV2G20Certificate": "SignCertificate",
    "StatusNotification": "StatusNotification",
    "TransactionEvent": "TransactionEvent",
    "SignCombinedCertificate": "SignCertificate",
    "PublishFirmwareStatusNotification": "PublishFirmwareStatusNotification",
}
AVAILABILITY = ("StatusNotification", "NotifyEvent")

_SECRET_KEY = re.compile(r"password|passwd|secret", re.IGNORECASE)
_SECRET_TEXT = re.compile(
    r'("[^"\\]*(?:password|passwd|secret)[^"\\]*"\s*:\s*)"(?:[^"\\]|\\.)*"', re.IGNORECASE
)
_VALUE_TEXT = re.compile(r'("(?:attributeValue|actualValue)"\s*:\s*)"(?:[^"\\]|\\.)*"')
MASK = "***"


# ---------------------------------------------------------------- credentials


def variable_name(item: Any) -> Any:
    """``item["variable"]["name"]`` of a device-model item, or None."""
    variable = item.get("variable") if isinstance(item, dict) else None
    return variable.get("name") if isinstance(variable, dict) else None


def _secret_variable(item: Any) -> bool:
    name = variable_name(item)
    return isinstance(name, str) and bool(_SECRET_KEY.search(name))


def redact(value: Any) -> Any:
    """*value* with every password-like field masked: keys naming a password or
    secret, and the value of a device-model variable whose name does
    (e.g. SecurityCtrlr.BasicAuthPassword in SetVariables, A00.FR.205)."""
    if isinstance(value, list):
        return [redact(v) for v in value]
    if not isinstance(value, dict):
        return value
    secret_variable = _secret_variable(value)
    out = {}
    for key, item in value.items():
        if _SECRET_KEY.search(key) or (
            secret_variable and key in ("attributeValue", "actualValue")
        ):
            out[key] = MASK
        else:
            out[key] = redact(item)
    return out


def redact_text(text: str) -> str:
    """:func:`redact` for message text that may not even be JSON."""
    text = _SECRET_TEXT.sub(rf'\1"{MASK}"', text)
    if _SECRET_KEY.search(text):  # a password variable: every value in the message goes
        text = _VALUE_TEXT.sub(rf'\1"{MASK}"', text)
    return text


def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(text)} characters)"


def compact(value: Any) -> str:
    return json.dumps(redact(value), separators=(",", ":"), ensure_ascii=False, default=str)


def party_of(from_station: bool) -> str:
    """The party that sent a message: the station (the WebSocket client) or the CSMS."""
    return STATION if from_station else CSMS


# ---------------------------------------------------------------- state


@dataclass
class _At:
    """The message being looked at."""

    from_station: bool
    frame: int
    time: float
    text: str
    line: str = ""


@dataclass
class _Call:
    message_id: str
    action: str | None  # None: the CALL itself was malformed
    payload_key: str
    at: _At
    valid: bool  # False: the receiver may drop it (Part 4 §4.2.3)
    uncertain: bool = False  # its answer may be in bytes the capture lost


@dataclass
class _Tx:
    seq: int | None
    event: str
    ended: bool = False


@dataclass
class _Side:
    """What one sender did: its outstanding CALLs and IDs used."""

    open: dict[str, _Call] = field(default_factory=dict)
    used: OrderedDict[str, str] = field(default_factory=OrderedDict)  # id -> payload key
    answered: OrderedDict[str, None] = field(default_factory=OrderedDict)  # its CALLs answered
    results: OrderedDict[str, None] = field(default_factory=OrderedDict)  # CALLRESULTs it sent
    unreadable: int = 0  # frames it sent whose message ID could not be read
    lossy: bool = False  # bytes it sent are missing from the capture


def _remember(store: OrderedDict[str, Any], key: str, value: Any = None) -> None:
    store[key] = value
    store.move_to_end(key)
    while len(store) > MAX_IDS:
        store.popitem(last=False)


class OcppChecks:
    """The message-level analysis of one OCPP-J connection.

    *version* is the OCPP version the subprotocol chose ("2.1", "2.0.1"), or None
    when it is another one (e.g. OCPP 1.6): then only the RPC framing is read.
    """

    def __init__(self, analysis: Analysis, conversation: Conversation) -> None:
        self.analysis = analysis
        self.conv = conversation
        self.version: str | None = "2.1"
        #: a handshake was seen (False: version and settings are assumed)
        self.known = True
        self._sides = {True: _Side(), False: _Side()}
        self._last_time: float | None = None
        # registration (B01-B03)
        self._boot: str | None = None  # None, "booting", "Pending", "Rejected", "Accepted"
        self._boot_answer: float | None = None
        self._boot_interval = 0
        self._accepted_at: float | None = None
        self._allowed: set[str] = set()
        self._any_allowed = False
        self._reported_availability = False
        self._calls_after_accept = 0
        # heartbeat (B01.FR.04)
        self._heartbeat_interval = 0
        self._last_heartbeat: float | None = None
        self._triggered_heartbeat = False
        self._station_active: float | None = None
        self._pending_interval: dict[str, int] = {}
        # transactions (E01.FR.07)
        self._tx: OrderedDict[str, _Tx] = OrderedDict()
        self.connectors: dict[str, str] = {}
        self._deferred: list[tuple[bool, Finding]] = []

    # ------------------------------------------------------------ reporting

    def _add(
        self,
        kind: str,
        check: str,
        requirement: str,
        summary: str,
        at: _At | None,
        expected: str | None = None,
        *,
        once: bool = False,
        depends: bool | None = None,
        party: str | None = None,
    ) -> None:
        """Record a finding about *party* (None: the sender of *at*); one that *depends*
        on the messages of a side (True: the station) waits for the end, and turns
        CAPTURE, without a party, if that side lost bytes."""
        if party is None:
            assert at is not None, "a finding without a message names its party"
            party = party_of(at.from_station)
        finding = Finding(
            kind,
            check,
            requirement,
            summary,
            self.conv.key,
            at.frame if at else None,
            at.time if at else self._last_time,
            clip(redact_text(at.text), DATA_LIMIT) if at and at.text else None,
            (at.line or None) if at else None,
            expected,
            party,
        )
        if depends is not None:
            self._deferred.append((depends, finding))
            if len(self._deferred) > MAX_CALLS:
                self._resolve(self._deferred.pop(0))
        else:
            self.analysis.add(finding, once=once)

    def _resolve(self, item: tuple[bool, Finding]) -> None:
        depends, finding = item
        if self._sides[depends].lossy:
            finding.kind, finding.party = CAPTURE, ""
            side = "station" if depends else "CSMS"
            finding.summary += f" (bytes from the {side} are missing from the capture)"
        self.analysis.add(finding)

    def _note(self, at: _At, line: str) -> None:
        arrow = "→" if at.from_station else "←"
        at.line = clip(f"{arrow} {line}", LINE_LIMIT)
        self.conv.note_message(at.time, at.line)

    # ------------------------------------------------------------ input

    def activity(self, from_station: bool, frame: int, time: float) -> None:
        """Any WebSocket frame: a station frame is a sign of life (Part 4 §5.3)."""
        self._last_time = time
        if not from_station:
            return
        interval = self._heartbeat_interval
        last = self._station_active
        self._station_active = time
        if self._boot != "Accepted" or interval <= 0 or last is None:
            return
        silent = time - last
        if silent > interval * LATE + LATE_SLACK:
            self._add(
                VIOLATION,
                "ocpp.heartbeat-late",
                "B01.FR.04",
                f"station silent for {silent:.1f} s with a heartbeat interval of {interval} s",
                _At(True, frame, time, ""),
                f"a Heartbeat (or other traffic) at least every {interval} s",
            )

    def gap(self, from_station: bool) -> None:
        """Bytes sent by one side are missing: what depends on them starts over."""
        sender, other = self._sides[from_station], self._sides[not from_station]
        sender.lossy = True
        for call in other.open.values():
            call.uncertain = True  # its answer may be in the hole
        if from_station:
            for tx in self._tx.values():
                tx.seq = None
            self._last_heartbeat = None
            self._station_active = None
        elif self._boot == "booting":
            self._boot = None  # the answer may have been lost

    def message(self, from_station: bool, text: str, frame: int, time: float) -> None:
        """One OCPP-J text message."""
        self._last_time = time
        at = _At(from_station, frame, time, text)
        parse_version = self.version or "2.0.1"
        try:
            msg = rpc.parse(text, version=parse_version)
        except rpc.RpcError as exc:
            self._malformed(at, exc)
            return
        if isinstance(msg, rpc.Call):
            self._call(at, msg)
        elif isinstance(msg, rpc.CallResult):
            self._result(at, msg)
        elif isinstance(msg, rpc.CallError):  # CALLERROR and CALLRESULTERROR
            self._error(at, msg)
        else:
            self._send(at, msg)

    # ------------------------------------------------------------ RPC

    def _malformed(self, at: _At, exc: rpc.RpcError) -> None:
        kind = exc.message_type
        label = {rpc.CALL: "CALL", rpc.SEND: "SEND"}.get(kind or 0, "?")
        self._note(at, f"{label} {exc.message_id} (malformed) {clip(at.text, LINE_LIMIT)}")
        if exc.ignore and exc.code == "MessageTypeNotSupported":
            requirement, expected = f"{PART4} §4.1.3", "a message type of Part 4 Table 3"
        elif exc.code == "FormatViolation":
            requirement, expected = f"{PART4} §4.1.5", "a JSON object as payload"
        else:
            requirement, expected = f"{PART4} §4.1.2, §4.2", "a JSON array as Part 4 §4.2 defines"
        self._add(VIOLATION, "ocpp.rpc", requirement, exc.description, at, expected)
        side = self._sides[at.from_station]
        if exc.message_id == "-1":
            side.unreadable += 1
        elif kind == rpc.CALL:
            self._open(at, exc.message_id, None, "", valid=False)

    def _schema(self, at: _At, action: str, kind: str, payload: dict[str, Any]) -> bool:
        """Check *payload*; True when valid (or not checkable)."""
        if self.version is None:
            return True
        problems = schemas.check(self.version, action, kind, payload)
        if not problems:
            return True
        name = f"{action}{'' if kind == 'Send' else kind}"
        if problems[0].code == "NotImplemented":
            self._add(
                VIOLATION,
                "ocpp.unknown-action",
                f"{PART4} §4.1.7",
                f"{name} is not a message of OCPP {self.version}",
                at,
                "an action OCPP defines",
            )
            return False
        first = problems[0]
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        self._add(
            VIOLATION,
            "ocpp.schema",
            f"OCPP {self.version} Part 3 {name}",
            f"{name} invalid: {first.path or '(payload)'}: {first.message}{more}",
            at,
            f"a payload valid against the {name} schema ({first.code})",
        )
        return False

    def _open(self, at: _At, message_id: str, action: str | None, key: str, valid: bool) -> None:
        side = self._sides[at.from_station]
        earlier = side.open.get(message_id)
        if message_id in side.used and not (earlier is not None and side.used[message_id] == key):
            self._duplicate_id(at, message_id, call=True)
        elif earlier is None:
            busy = [
                c
                for c in side.open.values()
                if c.message_id != message_id and at.time - c.at.time < CALL_TIMEOUT
            ]
            if busy:
                first = busy[0]
                self._add(
                    VIOLATION,
                    "ocpp.call-outstanding",
                    f"{PART4} §4.1.1",
                    f"new CALL {action or '?'} while CALL {first.action or '?'} "
                    f"{first.message_id!r} (frame {first.at.frame}) is unanswered "
                    f"after {at.time - first.at.time:.1f} s",
                    at,
                    "no CALL until the previous one is answered or has timed out",
                    depends=not at.from_station,
                )
        _remember(side.used, message_id, key)
        side.open[message_id] = _Call(message_id, action, key, at, valid)
        if len(side.open) > MAX_CALLS:
            oldest = min(side.open.values(), key=lambda c: c.at.time)
            self._unanswered(side.open.pop(oldest.message_id), at.time)

    def _call(self, at: _At, msg: rpc.Call) -> None:
        self._note(at, f"CALL {msg.action} {msg.message_id} {compact(msg.payload)}")
        self.conv.requests += 1
        valid = self._schema(at, msg.action, "Request", msg.payload)
        self._open(at, msg.message_id, msg.action, compact(msg.payload), valid)
        if self.version is None:
            return
        if at.from_station:
            self._station_call(at, msg, valid)
        else:
            self._csms_call(at, msg, valid)

    def _send(self, at: _At, msg: rpc.Send) -> None:
        self._note(at, f"SEND {msg.action} {msg.message_id} {compact(msg.payload)}")
        self._schema(at, msg.action, "Send", msg.payload)
        side = self._sides[at.from_station]
        if msg.message_id in side.used:
            self._duplicate_id(at, msg.message_id, call=False)
        _remember(side.used, msg.message_id, compact(msg.payload))

    def _duplicate_id(self, at: _At, message_id: str, *, call: bool) -> None:
        """*message_id* reused by its sender (a CALL may repeat it for a retry)."""
        self._add(
            VIOLATION,
            "ocpp.duplicate-id",
            IDS,
            f"message ID {message_id!r} used before by the same sender"
            + (" for another message" if call else ""),
            at,
            "a message ID not used before on this connection"
            + (" (a retry may repeat it)" if call else ""),
        )

    def _unknown_id(self, at: _At, summary: str, expected: str, depends: bool | None) -> None:
        self._add(VIOLATION, "ocpp.unknown-id", IDS, summary, at, expected, depends=depends)

    def _answer(self, at: _At, message_id: str, what: str) -> _Call | None:
        """The CALL of the other side that *message_id* answers, or report it."""
        self.conv.replies += 1
        caller = self._sides[not at.from_station]
        call = caller.open.pop(message_id, None)
        if call is not None:
            _remember(caller.answered, message_id)
            self.conv.latency.add(at.time - call.at.time)
            return call
        if message_id == "-1" and caller.unreadable and what == "CALLERROR":
            caller.unreadable -= 1  # Part 4 §4.2.3: the answer to an unreadable frame
            return None
        again = message_id in caller.answered
        summary = (
            f"{what} for message ID {message_id!r}, which was answered already"
            if again
            else f"{what} for message ID {message_id!r}, which the other side never sent as a CALL"
        )
        self._unknown_id(
            at,
            summary,
            "the message ID of an unanswered CALL from the other side",
            None if again else not at.from_station,
        )
        return None

    def _result(self, at: _At, msg: rpc.CallResult) -> None:
        call = self._sides[not at.from_station].open.get(msg.message_id)
        action = call.action if call is not None else None
        self._note(at, f"CALLRESULT {msg.message_id} ({action or '?'}) {compact(msg.payload)}")
        call = self._answer(at, msg.message_id, "CALLRESULT")
        _remember(self._sides[at.from_station].results, msg.message_id)
        if call is None or call.action is None:
            return
        valid = self._schema(at, call.action, "Response", msg.payload)
        if self.version is not None and valid:
            self._response(at, call, msg.payload)

    def _error(self, at: _At, msg: rpc.CallError) -> None:
        """A CALLERROR, or a CALLRESULTERROR (the answer to a CALLRESULT, 2.1 only)."""
        label = "CALLRESULTERROR" if isinstance(msg, rpc.CallResultError) else "CALLERROR"
        self._note(at, f"{label} {msg.message_id} {msg.error_code} {msg.error_description!r}")
        if label == "CALLERROR":
            self._answer(at, msg.message_id, label)
        else:
            self.conv.replies += 1
            if msg.message_id not in self._sides[not at.from_station].results:
                self._unknown_id(
                    at,
                    f"{label} for message ID {msg.message_id!r}, "
                    "which the other side never sent as a CALLRESULT",
                    "the message ID of a CALLRESULT from the other side",
                    not at.from_station,
                )
        if msg.error_code not in rpc.ERROR_CODES:
            self._add(
                VIOLATION,
                "ocpp.error-code",
                f"{PART4} §4.3",
                f"error code {msg.error_code!r} is not in Table 9",
                at,
                "one of " + ", ".join(rpc.ERROR_CODES),
            )
        if len(msg.error_description) > rpc.MAX_DESCRIPTION_LENGTH:
            self._add(
                VIOLATION,
                "ocpp.error-description",
                f"{PART4} §4.2.3",
                f"errorDescription has {len(msg.error_description)} characters",
                at,
                f"at most {rpc.MAX_DESCRIPTION_LENGTH} characters (Table 7)",
            )

    # ------------------------------------------------------------ registration

    def _station_call(self, at: _At, msg: rpc.Call, valid: bool) -> None:
        action, payload = msg.action, msg.payload
        if action == "BootNotification":
            self._boot_request(at)
        else:
            self._registration(at, action)
            if self._boot == "Accepted":
                self._calls_after_accept += 1
        if not valid:
            return
        if action == "Heartbeat":
            self._heartbeat(at)
        elif action == "TransactionEvent":
            self._transaction(at, payload)
        elif action in AVAILABILITY:
            self._availability(payload)

    def _boot_request(self, at: _At) -> None:
        triggered = "BootNotification" in self._allowed or self._any_allowed
        self._allowed.discard("BootNotification")
        if self._boot in ("Pending", "Rejected") and self._boot_answer is not None:
            wait = self._boot_interval
            since = at.time - self._boot_answer
            if wait > 0 and since < wait * EARLY - JITTER and not triggered:
                requirement = "B02.FR.04" if self._boot == "Pending" else "B03.FR.02"
                self._add(
                    VIOLATION,
                    "ocpp.boot-resend",
                    requirement,
                    f"BootNotification resent {since:.1f} s after the {self._boot} answer",
                    at,
                    f"not before the interval of {wait} s",
                )
            return
        if self._boot != "Accepted" or not triggered:
            self._boot = "booting"

    def _registration(self, at: _At, action: str) -> None:
        state = self._boot
        if state in (None, "Accepted"):
            return
        allowed = self._any_allowed or action in self._allowed
        if state == "booting":
            requirement = "B01.FR.08"
            why = "before its BootNotification was answered Accepted or Pending"
        elif state == "Pending":
            if allowed:
                return
            requirement, why = "B02.FR.02", "while its registration is Pending"
        else:
            assert self._boot_answer is not None
            within = at.time - self._boot_answer < self._boot_interval
            requirement = "B03.FR.02" if within else "B02.FR.02"
            why = "while its registration is Rejected"
        self._add(
            VIOLATION,
            "ocpp.boot-order",
            requirement,
            f"station sent {action}Request {why}",
            at,
            "only BootNotificationRequest until the CSMS answers Accepted"
            + (" (or what TriggerMessage / GetReport asked for)" if state == "Pending" else ""),
            depends=False,  # an Accepted answer may be in bytes the capture lost
        )

    def _csms_call(self, at: _At, msg: rpc.Call, valid: bool) -> None:
        payload = msg.payload
        if self._boot == "Rejected":
            self._add(
                VIOLATION,
                "ocpp.boot-order",
                "B03.FR.03",
                f"CSMS sent {msg.action}Request to a station it Rejected",
                at,
                "no CSMS-initiated messages while the station is Rejected",
            )
        if not valid:
            return
        if msg.action == "TriggerMessage":
            wanted = payload.get("requestedMessage")
            if wanted == "CustomTrigger":
                self._any_allowed = True
            elif wanted in TRIGGERED:
                self._allowed.add(TRIGGERED[wanted])
                self._triggered_heartbeat |= wanted == "Heartbeat"
        elif msg.action in ("GetBaseReport", "GetReport"):
            self._allowed.add("NotifyReport")
        elif msg.action == "SetVariables":
            for item in payload.get("setVariableData", []):
                if variable_name(item) == "HeartbeatInterval":
                    value = str(item.get("attributeValue", ""))
                    if value.isdigit():
                        self._pending_interval[msg.message_id] = int(value)

    def _response(self, at: _At, call: _Call, payload: dict[str, Any]) -> None:
        if call.at.from_station and call.action == "BootNotification":
            status, interval = payload.get("status"), payload.get("interval", 0)
            self._boot_answer, self._boot_interval = at.time, int(interval)
            self._allowed.clear()
            self._any_allowed = False
            if status == "Accepted":
                self._boot = "Accepted"
                self._accepted_at = at.time
                self._reported_availability = False
                self._calls_after_accept = 0
                if interval > 0:
                    self._set_heartbeat_interval(int(interval))
            elif status in ("Pending", "Rejected"):
                self._boot = status
        elif not call.at.from_station and call.action == "SetVariables":
            value = self._pending_interval.pop(call.message_id, None)
            for result in payload.get("setVariableResult", []):
                accepted = result.get("attributeStatus") == "Accepted"
                if variable_name(result) == "HeartbeatInterval" and accepted and value is not None:
                    self._set_heartbeat_interval(value)

    def _set_heartbeat_interval(self, seconds: int) -> None:
        """A new interval (B01.FR.04): the next Heartbeat starts the spacing anew."""
        self._heartbeat_interval = seconds
        self._last_heartbeat = None

    # ------------------------------------------------------------ heartbeat, availability

    def _heartbeat(self, at: _At) -> None:
        interval, last = self._heartbeat_interval, self._last_heartbeat
        triggered = self._triggered_heartbeat
        self._triggered_heartbeat = False
        self._last_heartbeat = at.time
        if triggered or interval <= 0 or last is None or self._boot != "Accepted":
            return
        gap = at.time - last
        if gap < interval * EARLY - JITTER:
            self._add(
                VIOLATION,
                "ocpp.heartbeat-early",
                "B01.FR.04",
                f"Heartbeat {gap:.1f} s after the previous one",
                at,
                f"not before the heartbeat interval of {interval} s",
            )

    def _availability(self, payload: dict[str, Any]) -> None:
        found = False
        if "connectorStatus" in payload:
            key = f"{payload.get('evseId')}/{payload.get('connectorId')}"
            self.connectors[key] = str(payload["connectorStatus"])
            found = True
        for event in payload.get("eventData", []):
            if variable_name(event) != "AvailabilityState":
                continue
            evse = (event.get("component") or {}).get("evse") or {}
            key = f"{evse.get('id')}/{evse.get('connectorId')}"
            self.connectors[key] = str(event.get("actualValue"))
            found = True
        if found and self._boot == "Accepted":
            self._reported_availability = True

    # ------------------------------------------------------------ transactions

    def _transaction(self, at: _At, payload: dict[str, Any]) -> None:
        event, seq = payload.get("eventType"), payload.get("seqNo")
        tx_id = (payload.get("transactionInfo") or {}).get("transactionId")
        if not isinstance(tx_id, str) or not isinstance(seq, int) or not isinstance(event, str):
            return
        tx = self._tx.get(tx_id)
        if tx is None:
            self._tx[tx_id] = _Tx(seq, event, event == "Ended")
            while len(self._tx) > MAX_TRANSACTIONS:
                self._tx.popitem(last=False)
            return
        self._tx.move_to_end(tx_id)
        if tx.seq == seq and tx.event == event:
            return  # a retry of the last event (E13)
        if event == "Started" or tx.ended:
            what = "a second Started" if event == "Started" else f"{event} after Ended"
            self._add(
                VIOLATION,
                "ocpp.transaction-order",
                "E01.FR.01-06, E06.FR.01-07",
                f"TransactionEvent {what} for transaction {tx_id!r}",
                at,
                "eventType Started once, then Updated, then Ended once",
            )
        if tx.seq is not None and seq != tx.seq + 1:
            self._add(
                VIOLATION,
                "ocpp.seqno-order",
                "E01.FR.07",
                f"TransactionEvent seqNo {seq} after {tx.seq} in transaction {tx_id!r}",
                at,
                f"seqNo {tx.seq + 1} (increasing by one per TransactionEventRequest)",
            )
        tx.seq, tx.event = seq, event
        tx.ended |= event == "Ended"

    # ------------------------------------------------------------ end

    def _unanswered(self, call: _Call, end: float | None) -> None:
        if not call.valid:
            return  # Part 4 §4.2.3: an invalid message may be dropped
        self.conv.unanswered += 1
        waited = (end - call.at.time) if end is not None else 0.0
        what = f"CALL {call.action or '?'} {call.message_id!r}"
        kind, party, expected = CAPTURE, "", None
        if call.uncertain:
            summary = f"{what}: no answer seen, but bytes of the answering side are missing"
        elif waited >= CALL_TIMEOUT:
            kind, party = VIOLATION, party_of(not call.at.from_station)  # the side that owed it
            summary = f"{what} never answered ({waited:.1f} s until the end of the connection)"
            expected = "a CALLRESULT or CALLERROR with the same message ID"
        else:
            summary = (
                f"{what}: the connection or capture ends {waited:.1f} s later, before an answer"
            )
        self._add(kind, "ocpp.unanswered", ANSWERS, summary, call.at, expected, party=party)

    def close(self, time: float | None) -> None:
        """End of the connection (or capture): unanswered CALLs, the availability report."""
        end = time if time is not None else self._last_time
        for item in self._deferred:
            self._resolve(item)
        self._deferred.clear()
        for side in self._sides.values():
            for call in sorted(side.open.values(), key=lambda c: c.at.time):
                self._unanswered(call, end)
            side.open.clear()
        if (
            self._accepted_at is not None
            and self._calls_after_accept
            and not self._reported_availability
        ):
            self._add(
                VIOLATION,
                "ocpp.availability",
                "B01.FR.05",
                f"no connector availability reported after the Accepted BootNotification "
                f"({self._calls_after_accept} other CALLs followed)",
                None,
                "NotifyEventRequest (AvailabilityState) or StatusNotificationRequest "
                "for each connector",
                party=STATION,
            )

    def summary(self) -> dict[str, Any]:
        """What goes into the conversation's details."""
        out: dict[str, Any] = {}
        if self._boot is not None:
            out["registration"] = self._boot
        if self._heartbeat_interval:
            out["heartbeat_interval"] = self._heartbeat_interval
        if self.connectors:
            out["connectors"] = dict(sorted(self.connectors.items()))
        if self._tx:
            out["transactions"] = len(self._tx)
        return out
