"""The station's OCPP-J RPC framework (OCPP 2.1 Part 4 chapter 4; OCPP 2.0.1 Part 4
likewise, without SEND and CALLRESULTERROR).

The CSMS side checks every frame the station sends as it arrives (JSON text,
message structure, message ids, the JSON schema of Part 3) and fails the test in
which a bad one came; the tests here drive each rule on purpose: the answers to
unknown actions, invalid payloads and unreadable frames (§4.1.7, §4.2.3, §4.3),
the frames that must stay unanswered (§4.1.3, §4.2.4), the message ids of answers
and CALLs (§4.1.4, §4.2.2), one CALL at a time (§4.1.1) and the schema of every
message (§4.1.7).

Not tested here:

* §4.1.2 (UTF-8 JSON text), §4.2.1 (CALL structure), §4.1.6 (action names): checked
  on every frame of every test by the CSMS side.
* §4.1.5 (no null or empty values for absent optional fields): part of the schema
  check (such a value breaks its field's type or minimum size).
* CALLRESULTERROR (§4.2.3, 2.1): a receiver "can" answer a bad CALLRESULT with it
  (optional); the CSMS here never sends a bad CALLRESULT.
* §4.4: the same rule as §4.1.3.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from typing import Any

import pytest

from conformance.devices.ocpp import Csms, Exchange, OcppStation, now_iso
from conformance.errors import Finding, NoReply
from conformance.expect import expect
from conformance.ocpp import rpc, schemas
from conformance.ocpp.actions import Actions
from suites.ocpp.common import (
    AVAILABILITY,
    CONNECTOR,
    EVSE,
    REACT,
    VALID_TOKEN,
    Settings,
    availability_of,
    expect_availability,
    expect_reboot,
    expect_since,
    power_cycle,
    quiet,
    since_21,
    start_energy_transfer,
    within,
)

pytestmark = [pytest.mark.protocol("ocpp"), pytest.mark.feature("OCPP-J RPC framework")]

#: a variable every station has (OCPPCommCtrlr.HeartbeatInterval, Part 2 §2.1.5)
KNOWN = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
VALID = {"getVariableData": [KNOWN]}
#: emulated seconds in which a frame that must not be answered stays unanswered
UNANSWERED = 10.0
#: part of the station's MessageTimeout during which it must not send a 2nd CALL
SYNC_SHARE = 0.5
#: MessageTimeout (s) assumed when the station does not report one (Part 2 §2.1.3)
DEFAULT_MESSAGE_TIMEOUT = 30.0


def call_frame(message_id: Any, action: str, payload: Any) -> str:
    return json.dumps([rpc.CALL, message_id, action, payload])


def answer_to(
    station: OcppStation, frame: str, reply_id: str, *, requirement: str, expected: str
) -> rpc.CallResult | rpc.CallError:
    """The station's answer with message id *reply_id* to *frame*; none is a NoReply."""
    __tracebackhide__ = True
    reply = station.call_raw(frame, reply_id=reply_id)
    if reply is None:
        lost = "" if station.connected else " (the station disconnected)"
        raise NoReply(
            f"no answer with message id {reply_id!r} within {station.reply_timeout:.1f} s{lost}",
            requirement=requirement,
            sent=frame,
            expected=expected,
        )
    return reply


def expect_call_error(
    station: OcppStation, frame: str, reply_id: str, codes: tuple[str, ...], requirement: str
) -> rpc.CallError:
    """*frame* is answered with a CALLERROR carrying *reply_id* and one of *codes*,
    its description at most 255 characters (Part 4 §4.2.3 Table 7)."""
    __tracebackhide__ = True
    wanted = " or ".join(codes)
    reply = answer_to(
        station, frame, reply_id, requirement=requirement, expected=f"CALLERROR {wanted}"
    )
    if reply.message_type != rpc.CALLERROR or not isinstance(reply, rpc.CallError):
        raise Finding(
            f"station answered with message type {reply.message_type}, not CALLERROR",
            requirement=requirement,
            sent=frame,
            received=reply.frame(),
            expected=f"CALLERROR {wanted}",
        )
    expect(
        reply.error_code in codes,
        f"station answered CALLERROR {reply.error_code}",
        requirement=requirement,
        sent=frame,
        received=reply.frame(),
        expected=f"CALLERROR {wanted} (Part 4 §4.3 Table 9)",
    )
    expect(
        len(reply.error_description) <= rpc.MAX_DESCRIPTION_LENGTH,
        f"errorDescription of {len(reply.error_description)} characters",
        requirement="Part 4 §4.2.3",
        received=reply.frame(),
        expected=f"at most {rpc.MAX_DESCRIPTION_LENGTH} characters",
    )
    return reply


def expect_unanswered(station: OcppStation, frame: str, message_id: str, requirement: str) -> None:
    """*frame* gets no answer; a regular CALL right after it still does (the
    station takes frames in order, so a late answer would come before it)."""
    __tracebackhide__ = True
    reply = station.call_raw(frame, reply_id=message_id, timeout=quiet(station, UNANSWERED))
    if reply is not None:
        raise Finding(
            "station answered a frame it must ignore",
            requirement=requirement,
            sent=frame,
            received=reply.frame(),
            expected="no CALLRESULT and no CALLERROR",
        )
    station.call("GetVariables", VALID, requirement=requirement)


# ---------------------------------------------------------------- §4.1.7, §4.3
@pytest.mark.story("Part 4 §4.1.7 Message validity")
@pytest.mark.requirement("Part 4 §4.1.7", "Part 4 §4.3", "Part 4 §4.2.3")
def test_part4_4_1_7_unknown_action_is_not_implemented(booted: OcppStation) -> None:
    """A CALL with an action OCPP does not define is answered with CALLERROR
    NotImplemented carrying the CALL's message id."""
    message_id = rpc.new_message_id()
    frame = call_frame(message_id, "ConformanceNoSuchAction", {})
    expect_call_error(booted, frame, message_id, ("NotImplemented",), "Part 4 §4.3")


#: case -> (GetVariablesRequest payload, the Table 9 error code it must get)
INVALID_PAYLOADS: dict[str, tuple[Any, str]] = {
    "undefined-property": ({**VALID, "conformanceExtra": 1}, "FormatViolation"),
    "payload-not-an-object": ([KNOWN], "FormatViolation"),
    "required-field-missing": ({}, "OccurrenceConstraintViolation"),
    "wrong-data-type": (
        {"getVariableData": [{"component": KNOWN["component"], "variable": {"name": 42}}]},
        "TypeConstraintViolation",
    ),
    "value-not-allowed": (
        {"getVariableData": [{**KNOWN, "attributeType": "Sideways"}]},
        "PropertyConstraintViolation",
    ),
}


@pytest.mark.story("Part 4 §4.3 RPC framework error codes")
@pytest.mark.requirement("Part 4 §4.1.7", "Part 4 §4.3")
@pytest.mark.parametrize("case", sorted(INVALID_PAYLOADS))
def test_part4_4_3_invalid_payload_gets_its_error_code(booted: OcppStation, case: str) -> None:
    """A GetVariablesRequest whose payload breaks its schema is answered with the
    CALLERROR code of Table 9 for that kind of violation."""
    payload, code = INVALID_PAYLOADS[case]
    message_id = rpc.new_message_id()
    frame = call_frame(message_id, "GetVariables", payload)
    expect_call_error(booted, frame, message_id, (code,), "Part 4 §4.3")


# ---------------------------------------------------------------- §4.2.3
#: case -> a CALL frame whose message id cannot be read
UNREADABLE: dict[str, str] = {
    "not-json": '[2, "conformance-cut", "GetVariables", {"getVariableData": [',
    "id-not-a-string": call_frame(4711, "GetVariables", VALID),
}


@pytest.mark.story("Part 4 §4.2.3 CALLERROR")
@pytest.mark.requirement("Part 4 §4.2.3")
@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_part4_4_2_3_unreadable_message_id_is_answered_with_minus_one(
    booted: OcppStation, case: str
) -> None:
    """A frame whose message id cannot be read is answered with a CALLERROR with
    message id "-1" and a Table 9 error code."""
    expect_call_error(booted, UNREADABLE[case], "-1", tuple(rpc.ERROR_CODES), "Part 4 §4.2.3")


# ---------------------------------------------------------------- §4.1.3, §4.2.4
@pytest.mark.story("Part 4 §4.1.3 The message type")
@pytest.mark.requirement("Part 4 §4.1.3", "Part 4 §4.4")
def test_part4_4_1_3_unknown_message_type_is_ignored(booted: OcppStation) -> None:
    """A frame with message type number 7 (not in Table 3) is not answered, and the
    station goes on answering CALLs."""
    message_id = rpc.new_message_id()
    frame = json.dumps([7, message_id, "GetVariables", VALID])
    expect_unanswered(booted, frame, message_id, "Part 4 §4.1.3")


@since_21
@pytest.mark.story("Part 4 §4.2.4 SEND")
@pytest.mark.requirement("Part 4 §4.2.4")
def test_part4_4_2_4_send_is_not_answered(booted: OcppStation) -> None:
    """A SEND (NotifyPeriodicEventStream) gets neither CALLRESULT nor CALLERROR."""
    message_id = rpc.new_message_id()
    payload = {"id": 1, "pending": 0, "basetime": now_iso(), "data": [{"t": 0, "v": "1"}]}
    frame = rpc.Send(message_id, "NotifyPeriodicEventStream", payload).frame()
    expect_unanswered(booted, frame, message_id, "Part 4 §4.2.4")


# ---------------------------------------------------------------- §4.2.2, §4.1.4
@pytest.mark.story("Part 4 §4.2.2 CALLRESULT")
@pytest.mark.requirement("Part 4 §4.2.2", "Part 4 §4.1.4")
def test_part4_4_2_2_answer_carries_the_call_message_id(booted: OcppStation) -> None:
    """A CALL with a 36-character message id that is not a UUID is answered with a
    CALLRESULT carrying exactly that id and a valid GetVariablesResponse."""
    station = booted
    message_id = f"conformance-{uuid.uuid4().hex[:24]}"
    assert len(message_id) == rpc.MAX_ID_LENGTH
    frame = call_frame(message_id, "GetVariables", VALID)
    reply = answer_to(
        station,
        frame,
        message_id,
        requirement="Part 4 §4.2.2",
        expected=f"CALLRESULT with message id {message_id!r}",
    )
    expect(
        reply.message_type == rpc.CALLRESULT and isinstance(reply, rpc.CallResult),
        f"station answered with message type {reply.message_type}",
        requirement="Part 4 §4.2.2",
        sent=frame,
        received=reply.frame(),
        expected="CALLRESULT GetVariablesResponse",
    )
    assert isinstance(reply, rpc.CallResult)
    problems = schemas.check(station.version, "GetVariables", "Response", reply.payload)
    expect(
        not problems,
        f"GetVariablesResponse does not match the schema: {schemas.describe(problems)}",
        requirement="GetVariablesResponse schema (Part 4 §4.1.7)",
        received=reply.frame(),
        expected="a payload valid against the official JSON schema",
    )


@pytest.mark.story("Part 4 §4.1.4 Message ID")
@pytest.mark.requirement("Part 4 §4.1.4")
def test_part4_4_1_4_message_ids_are_unique_across_reboots(
    booted: OcppStation, act: Actions
) -> None:
    """The CALLs of the station before and after a power cycle all carry message ids
    never used before (the CSMS side also compares with every earlier test)."""
    station = booted
    since = power_cycle(station, act)
    expect_reboot(station, since, reason=None)
    expect_availability(
        station, "Available", within=within(station, REACT), requirement="B01.FR.05"
    )
    seen: dict[str, Exchange] = {}
    for exchange in station.received():
        first = seen.setdefault(exchange.message.message_id, exchange)
        if first is not exchange:
            raise Finding(
                f"station used message id {exchange.message.message_id!r} for "
                f"{first.action} and again for {exchange.action}",
                requirement="Part 4 §4.1.4",
                received=exchange.frame,
                expected="a message id not used before for any CALL or SEND",
            )


# ---------------------------------------------------------------- §4.1.1
class HoldFirst(Csms):
    """A CSMS that leaves the first CALL it gets unanswered (for now)."""

    def __init__(self) -> None:
        super().__init__()
        self.held: rpc.Call | None = None

    def answer(self, call: rpc.Call) -> Any:
        if self.held is None:
            self.held = call
            return None
        return super().answer(call)


@pytest.mark.story("Part 4 §4.1.1 Synchronicity")
@pytest.mark.requirement("Part 4 §4.1.1")
def test_part4_4_1_1_no_second_call_while_one_is_unanswered(
    booted: OcppStation, act: Actions
) -> None:
    """While its CALL is unanswered (and not timed out) the station sends no other
    CALL: a cable plugged in and out is reported only once the first report was
    answered."""
    station = booted
    reported = Settings(station).get("OCPPCommCtrlr", "MessageTimeout[Default]")
    try:
        timeout = float(reported or DEFAULT_MESSAGE_TIMEOUT)
    except ValueError:
        timeout = DEFAULT_MESSAGE_TIMEOUT
    csms = station.csms = HoldFirst()
    act.plug(evse=EVSE, connector=CONNECTOR)
    plugged = True

    def held_exchange() -> Exchange | None:
        call = csms.held
        if call is None:
            return None
        return next((e for e in station.received() if e.message is call), None)

    try:
        station.wait_for(
            lambda: held_exchange() is not None,
            within=within(station, REACT),
            what="a CALL after the cable was plugged in",
            requirement="G01.FR.01",
        )
        held_at = held_exchange().at  # type: ignore[union-attr]
        held = csms.held
        assert held is not None
        act.unplug(evse=EVSE, connector=CONNECTOR)
        plugged = False

        def second() -> Exchange | None:
            return next(
                (
                    e
                    for e in station.received()
                    if e.at >= held_at
                    and isinstance(e.message, rpc.Call)
                    and e.message.message_id != held.message_id
                ),
                None,
            )

        window = station.seconds(timeout) * SYNC_SHARE
        with contextlib.suppress(NoReply):
            station.wait_for(
                lambda: second() is not None, within=window, what="second CALL", requirement=None
            )
        other = second()
        if other is not None:
            raise Finding(
                f"station sent {other.action}Request {other.at - held_at:.3f} s after its "
                f"{held.action}Request, which was still unanswered",
                requirement="Part 4 §4.1.1",
                received=other.frame,
                expected=f"no CALL before the {held.action}Request (message id "
                f"{held.message_id}) is answered or has timed out ({timeout:.0f} s)",
            )
        station.send_raw(rpc.CallResult(held.message_id, Csms().answer(held) or {}).frame())
        expect_since(
            station,
            AVAILABILITY,
            held_at,
            lambda p: (EVSE, CONNECTOR, "Available") in availability_of(p),
            within=within(station, REACT),
            requirement="G01.FR.02",
            expected="the cable-out report, once the first report was answered",
        )
    finally:
        station.csms = Csms()
        if plugged:
            act.unplug(evse=EVSE, connector=CONNECTOR)


# ---------------------------------------------------------------- §4.1.7 schema
@pytest.mark.story("Part 4 §4.1.7 Message validity")
@pytest.mark.requirement("Part 4 §4.1.7")
def test_part4_4_1_7_every_message_matches_its_schema(booted: OcppStation, act: Actions) -> None:
    """Every CALL the station sends in a boot and a charging session, and its answers
    to our CALLs, are valid against the official JSON schemas (Part 3)."""
    station = booted
    since = power_cycle(station, act)
    expect_reboot(station, since, reason=None)
    station.call("GetVariables", VALID, requirement="GetVariablesResponse schema")
    tx = start_energy_transfer(station, act)
    act.present_token(id_token=VALID_TOKEN["idToken"], type=VALID_TOKEN["type"], evse=EVSE)
    act.unplug(evse=EVSE, connector=CONNECTOR)
    tx.expect("Ended", within=within(station, REACT), requirement="E06.FR.01")
    for exchange in station.received():
        if exchange.problems:
            raise Finding(
                f"station's {exchange.action} does not match the schema: "
                f"{schemas.describe(exchange.problems)}",
                requirement=f"{exchange.action}Request schema (Part 4 §4.1.7)",
                received=exchange.frame,
                expected="a payload valid against the official JSON schema",
            )
