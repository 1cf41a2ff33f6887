"""OCPP-J RPC framing and schema validation.

OCPP 2.1 Part 4: version negotiation §3.1.2 (Table 1), message types §4.1.3,
message ID §4.1.4, payload §4.1.5, structures §4.2.1-§4.2.4, error codes §4.3
(Table 9).  Payloads are checked against the official 2.0.1 / 2.1 JSON schemas.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.ocpp import rpc, schemas
from conformance.ocpp.rpc import (
    Call,
    CallError,
    CallResult,
    CallResultError,
    RpcError,
    Send,
    new_message_id,
    parse,
)
from conformance.ocpp.schemas import SchemaProblem, check, error_for

RFE, FV = "RpcFrameworkError", "FormatViolation"
BOOT = {"reason": "PowerUp", "chargingStation": {"model": "SingleSocket", "vendorName": "VendorX"}}
BOOT_RESPONSE = {"currentTime": "2024-08-27T12:30:40Z", "interval": 300, "status": "Accepted"}
STREAM = {
    "id": 1,
    "pending": 0,
    "basetime": "2024-08-27T12:30:40Z",
    "data": [{"t": 0, "v": "230.4"}, {"t": 5, "v": "230.2"}],
}


def boot(**station: Any) -> dict[str, Any]:
    return {"reason": "PowerUp", "chargingStation": {**BOOT["chargingStation"], **station}}


# --- messages and frames ----------------------------------------------------------------


def test_error_codes_are_the_twelve_of_table_9() -> None:
    assert set(rpc.ERROR_CODES) == {
        "FormatViolation",
        "GenericError",
        "InternalError",
        "MessageTypeNotSupported",
        "NotImplemented",
        "NotSupported",
        "OccurrenceConstraintViolation",
        "PropertyConstraintViolation",
        "ProtocolError",
        "RpcFrameworkError",
        "SecurityError",
        "TypeConstraintViolation",
    }
    assert all(rpc.ERROR_CODES.values())


def test_message_type_numbers() -> None:
    assert [Call.message_type, CallResult.message_type, CallError.message_type] == [2, 3, 4]
    assert [CallResultError.message_type, Send.message_type] == [5, 6]


def test_frames_are_compact_json_and_keep_non_ascii_text() -> None:
    call = Call("19223201", "SetDisplayMessage", {"message": {"content": "Läd ✓"}})
    assert call.frame() == '[2,"19223201","SetDisplayMessage",{"message":{"content":"Läd ✓"}}]'
    assert CallResult("a", {}).frame() == '[3,"a",{}]'
    assert CallError("a", "NotSupported").frame() == '[4,"a","NotSupported","",{}]'
    assert CallResultError("a", "GenericError", "x").frame() == '[5,"a","GenericError","x",{}]'
    assert Send("a", "NotifyPeriodicEventStream", {}).frame() == (
        '[6,"a","NotifyPeriodicEventStream",{}]'
    )


@pytest.mark.parametrize(
    "message",
    [
        Call("19223201", "BootNotification", BOOT),
        CallResult("19223201", BOOT_RESPONSE),
        CallError("162376037", "NotSupported", "not supported", {"hint": [1, 2.5, None]}),
        CallResultError("1", "FormatViolation", "cannot read the tariff", {}),
        Send("2", "NotifyPeriodicEventStream", STREAM),
    ],
    ids=lambda m: type(m).__name__,
)
def test_round_trip(message: rpc.Message) -> None:
    parsed = parse(message.frame())
    assert parsed == message and type(parsed) is type(message)
    assert parse(message.frame().encode()) == message


def test_parse_accepts_whitespace_and_bytes() -> None:
    frame = '[\n  2,\n  "19223201",\n  "Heartbeat",\n  { }\n]'
    assert parse(frame) == Call("19223201", "Heartbeat", {})
    assert parse(b'[4, "x", "SecurityError", "", {}]') == CallError("x", "SecurityError")


def test_error_description_is_cut_to_255_characters_in_the_frame() -> None:
    error = CallError("a", "GenericError", "é" * 300)
    assert len(json.loads(error.frame())[3]) == rpc.MAX_DESCRIPTION_LENGTH
    assert len(error.error_description) == 300


def test_frame_refuses_values_that_are_not_json() -> None:
    with pytest.raises(ValueError):
        CallResult("a", {"x": float("nan")}).frame()


def test_new_message_id_is_a_uuid4_within_the_id_limit() -> None:
    ids = {new_message_id() for _ in range(100)}
    assert len(ids) == 100
    for mid in ids:
        assert len(mid) == rpc.MAX_ID_LENGTH and uuid.UUID(mid).version == 4


# --- parse errors -----------------------------------------------------------------------

LONG_ID = "x" * 37


@pytest.mark.parametrize(
    ("frame", "code", "message_id"),
    [
        pytest.param(b"[2,\xff]", RFE, "-1", id="not-utf8"),
        pytest.param("[2, 'a'", RFE, "-1", id="not-json"),
        pytest.param('[2,"a","X",{"v":NaN}]', RFE, "-1", id="nan-is-not-json"),
        pytest.param('\ufeff[3,"a",{}]', RFE, "-1", id="bom"),
        pytest.param("[" * 100_000, RFE, "-1", id="deep-nesting"),
        pytest.param('{"a": 1}', RFE, "-1", id="object"),
        pytest.param('"text"', RFE, "-1", id="string"),
        pytest.param("[]", RFE, "-1", id="empty-array"),
        pytest.param("[2]", RFE, "-1", id="no-id"),
        pytest.param('[2, 17, "Heartbeat", {}]', RFE, "-1", id="id-not-string"),
        pytest.param('[2, null, "Heartbeat", {}]', RFE, "-1", id="id-null"),
        pytest.param(f'[2, "{LONG_ID}", "Heartbeat", {{}}]', RFE, LONG_ID, id="id-too-long"),
        pytest.param('["2", "a", "Heartbeat", {}]', RFE, "a", id="type-string"),
        pytest.param('[true, "a", "Heartbeat", {}]', RFE, "a", id="type-bool"),
        pytest.param('[2.0, "a", "Heartbeat", {}]', RFE, "a", id="type-float"),
        pytest.param('[2, "a", "Heartbeat"]', RFE, "a", id="call-3-elements"),
        pytest.param('[2, "a", "Heartbeat", {}, {}]', RFE, "a", id="call-5-elements"),
        pytest.param('[3, "a"]', RFE, "a", id="callresult-2-elements"),
        pytest.param('[4, "a", "GenericError", ""]', RFE, "a", id="callerror-4-elements"),
        pytest.param('[2, "a", 5, {}]', RFE, "a", id="action-not-string"),
        pytest.param('[4, "a", 1, "", {}]', RFE, "a", id="error-code-not-string"),
        pytest.param('[4, "a", "GenericError", null, {}]', RFE, "a", id="description-null"),
        pytest.param('[2, "a", "Heartbeat", []]', FV, "a", id="call-payload-array"),
        pytest.param('[2, "a", "Heartbeat", null]', FV, "a", id="call-payload-null"),
        pytest.param('[3, "a", "Accepted"]', FV, "a", id="callresult-payload-string"),
        pytest.param('[4, "a", "GenericError", "", []]', FV, "a", id="error-details-array"),
        pytest.param('[5, "a", "GenericError", "", null]', FV, "a", id="error-details-null"),
    ],
)
def test_parse_errors(frame: str | bytes, code: str, message_id: str) -> None:
    with pytest.raises(RpcError) as caught:
        parse(frame)
    error = caught.value
    assert (error.code, error.message_id, error.ignore) == (code, message_id, False)
    reply = error.reply()
    assert type(reply) is CallError
    assert (reply.message_id, reply.error_code) == (message_id, code)
    assert reply.error_description == error.description != ""
    assert json.loads(reply.frame())[:3] == [4, message_id, code]


@pytest.mark.parametrize(
    ("frame", "message_id"),
    [('[7, "a", {}]', "a"), ('[1, "b", "X", {}]', "b"), ("[99]", "-1"), ("[0, 5]", "-1")],
)
def test_unknown_message_type_is_ignored(frame: str, message_id: str) -> None:
    """§4.1.3 / §4.4: a type number outside Table 3 is ignored, not answered."""
    with pytest.raises(RpcError) as caught:
        parse(frame)
    assert caught.value.code == "MessageTypeNotSupported"
    assert caught.value.ignore is True
    assert caught.value.message_id == message_id


def test_malformed_send_is_not_answered() -> None:
    """§4.2.4: no CALLERROR for a SEND, not even a broken one."""
    with pytest.raises(RpcError) as caught:
        parse('[6, "a", "NotifyPeriodicEventStream", []]')
    assert (caught.value.code, caught.value.ignore, caught.value.message_type) == (FV, True, 6)


@pytest.mark.parametrize(
    "frame", ['[5, "a", "GenericError", "", {}]', '[6, "a", "NotifyPeriodicEventStream", {}]']
)
def test_ocpp201_has_no_callresulterror_or_send(frame: str) -> None:
    assert parse(frame, version="2.1")
    with pytest.raises(RpcError) as caught:
        parse(frame, version="2.0.1")
    assert (caught.value.code, caught.value.ignore) == ("MessageTypeNotSupported", True)


def test_ocpp201_reads_call_callresult_callerror() -> None:
    for message in (Call("1", "Heartbeat", {}), CallResult("1", {}), CallError("1", "X")):
        assert parse(message.frame(), version="2.0.1") == message


def test_callerror_with_a_code_outside_table_9_is_kept() -> None:
    error = parse('[4, "a", "Oops", "' + "d" * 300 + '", {"k": 1}]')
    assert isinstance(error, CallError)
    assert error.error_code == "Oops" and error.error_code not in rpc.ERROR_CODES
    assert len(error.error_description) == 300 and error.error_details == {"k": 1}


def test_parse_rejects_an_unknown_version() -> None:
    with pytest.raises(ValueError):
        parse("[2]", version="1.6")


# --- properties -------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
payloads = st.dictionaries(st.text(), json_values, max_size=5)
ids = st.text(max_size=rpc.MAX_ID_LENGTH)
messages = st.one_of(
    st.builds(Call, ids, st.text(), payloads),
    st.builds(CallResult, ids, payloads),
    st.builds(CallError, ids, st.text(), st.text(max_size=255), payloads),
    st.builds(CallResultError, ids, st.text(), st.text(max_size=255), payloads),
    st.builds(Send, ids, st.text(), payloads),
)


@given(messages)
def test_property_frames_round_trip(message: rpc.Message) -> None:
    frame = message.frame()
    parsed = parse(frame)
    assert parsed == message and type(parsed) is type(message)
    assert parsed.frame() == frame


near_frames = st.lists(
    st.integers(min_value=-1, max_value=8) | json_values, min_size=0, max_size=6
).map(json.dumps)


@given(st.text() | st.binary() | near_frames)
def test_property_parse_raises_only_rpc_errors(frame: str | bytes) -> None:
    for version in ("2.1", "2.0.1"):
        try:
            message = parse(frame, version=version)
        except RpcError as error:
            assert error.code in rpc.ERROR_CODES
            assert isinstance(error.message_id, str)
        else:
            assert isinstance(message, Call | CallResult | CallError | Send)


# --- schemas ----------------------------------------------------------------------------


def test_subprotocols_follow_table_1() -> None:
    assert schemas.SUBPROTOCOLS == {"2.1": "ocpp2.1", "2.0.1": "ocpp2.0.1"}
    assert schemas.VERSIONS_BY_SUBPROTOCOL == {"ocpp2.1": "2.1", "ocpp2.0.1": "2.0.1"}


def test_actions() -> None:
    v21, v201 = schemas.actions("2.1"), schemas.actions("2.0.1")
    assert {"BootNotification", "Heartbeat", "TransactionEvent"} <= v201 < v21
    assert "NotifyPeriodicEventStream" in v21 - v201
    assert not any(a.endswith(("Request", "Response")) for a in v21)
    with pytest.raises(ValueError):
        schemas.actions("1.6")


@pytest.mark.parametrize("version", ["2.1", "2.0.1"])
def test_valid_boot_notification(version: str) -> None:
    assert check(version, "BootNotification", "Request", BOOT) == []
    assert check(version, "BootNotification", "Response", BOOT_RESPONSE) == []


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param(
            {"reason": "PowerUp", "chargingStation": {"model": "M"}},
            SchemaProblem(
                "chargingStation.vendorName",
                "required property is missing",
                "OccurrenceConstraintViolation",
            ),
            id="missing-required",
        ),
        pytest.param(
            boot(model=12),
            SchemaProblem(
                "chargingStation.model", "expected string, got integer", "TypeConstraintViolation"
            ),
            id="wrong-type",
        ),
        pytest.param(
            {**BOOT, "reason": "Bored"},
            SchemaProblem("reason", "", "PropertyConstraintViolation"),
            id="bad-enum",
        ),
        pytest.param(
            boot(model="m" * 21),
            SchemaProblem(
                "chargingStation.model",
                "21 characters, longer than the maximum 20",
                "PropertyConstraintViolation",
            ),
            id="too-long",
        ),
        pytest.param(
            boot(colour="red"),
            SchemaProblem("chargingStation.colour", "property is not defined by the schema", FV),
            id="additional-property",
        ),
    ],
)
def test_boot_notification_problems(payload: dict[str, Any], expected: SchemaProblem) -> None:
    for version in ("2.1", "2.0.1"):
        problems = check(version, "BootNotification", "Request", payload)
        assert len(problems) == 1
        (problem,) = problems
        assert (problem.path, problem.code) == (expected.path, expected.code)
        assert expected.message in problem.message


def test_bad_enum_message_names_the_allowed_values() -> None:
    (problem,) = check("2.1", "BootNotification", "Request", {**BOOT, "reason": "Bored"})
    assert '"Bored"' in problem.message and "PowerUp" in problem.message


@pytest.mark.parametrize("when", ["2024-02-30T00:00:00Z", "2024-08-27 12:30", "yesterday"])
def test_bad_date_time_is_caught(when: str) -> None:
    problems = check("2.1", "BootNotification", "Response", {**BOOT_RESPONSE, "currentTime": when})
    assert [(p.path, p.code) for p in problems] == [("currentTime", "PropertyConstraintViolation")]
    assert "date-time" in problems[0].message


def test_custom_data_may_carry_any_property() -> None:
    """Part 4 chapter 9: CustomDataType is the one class open to extra properties."""
    payload = {"customData": {"vendorId": "com.example", "meter": 12345}}
    assert check("2.1", "Heartbeat", "Request", payload) == []
    (problem,) = check("2.1", "Heartbeat", "Request", {"customData": {"meter": 1}})
    assert problem.path == "customData.vendorId"


def test_occurrence_and_minimum_constraints() -> None:
    (empty,) = check("2.1", "GetVariables", "Request", {"getVariableData": []})
    assert (empty.path, empty.code) == ("getVariableData", "OccurrenceConstraintViolation")
    (negative,) = check("2.1", "NotifyPeriodicEventStream", "Send", {**STREAM, "id": -1})
    assert (negative.path, negative.code) == ("id", "PropertyConstraintViolation")


def test_payload_that_is_not_an_object() -> None:
    assert check("2.1", "Heartbeat", "Request", None) == [
        SchemaProblem("", "expected object, got null", "TypeConstraintViolation")
    ]


def test_problems_are_sorted_by_path() -> None:
    payload = {
        "getVariableData": [
            {"component": {"name": "A"}, "variable": {}},
            {"component": {}, "variable": {"name": "B"}, "x": 1},
        ]
        * 6
    }
    problems = check("2.1", "GetVariables", "Request", payload)
    paths = [p.path for p in problems]
    assert paths[:3] == [
        "getVariableData[0].variable.name",
        "getVariableData[1].component.name",
        "getVariableData[1].x",
    ]
    assert paths[-1] == "getVariableData[11].x"  # numeric, not text, order
    assert problems == check("2.1", "GetVariables", "Request", payload)


@pytest.mark.parametrize(
    ("version", "action", "kind"),
    [
        ("2.1", "Teleport", "Request"),
        ("2.1", "BootNotificationRequest", "Request"),
        ("2.1", "BootNotification", "Send"),
        ("2.1", "BootNotificationRequest", "Send"),
        ("2.1", "NotifyPeriodicEventStream", "Request"),
        ("2.0.1", "NotifyPeriodicEventStream", "Send"),
        ("2.0.1", "AFRRSignal", "Request"),
    ],
)
def test_unknown_action_is_not_implemented(version: str, action: str, kind: str) -> None:
    (problem,) = check(version, action, kind, {})
    assert (problem.path, problem.code) == ("", "NotImplemented")


def test_response_kind() -> None:
    assert check("2.1", "Heartbeat", "Response", {"currentTime": "2024-01-01T00:00:00Z"}) == []
    (problem,) = check("2.1", "Heartbeat", "Response", {})
    assert (problem.path, problem.code) == ("currentTime", "OccurrenceConstraintViolation")


def test_send_kind() -> None:
    assert check("2.1", "NotifyPeriodicEventStream", "Send", STREAM) == []
    bad = {**STREAM, "data": [{"t": "soon", "v": "1"}]}
    (problem,) = check("2.1", "NotifyPeriodicEventStream", "Send", bad)
    assert (problem.path, problem.code) == ("data[0].t", "TypeConstraintViolation")


def test_unknown_kind_and_version() -> None:
    with pytest.raises(ValueError):
        check("2.1", "Heartbeat", "Confirmation", {})
    with pytest.raises(ValueError):
        check("1.6", "Heartbeat", "Request", {})


def test_fifty_element_payload_validates() -> None:
    sample = {"timestamp": "2024-01-01T00:00:00Z", "sampledValue": [{"value": 1.5}]}
    payload = {
        "eventType": "Updated",
        "timestamp": "2024-01-01T00:00:00Z",
        "triggerReason": "MeterValuePeriodic",
        "seqNo": 3,
        "transactionInfo": {"transactionId": "t1"},
        "meterValue": [sample] * 50,
    }
    assert check("2.1", "TransactionEvent", "Request", payload) == []


def test_describe() -> None:
    extra = SchemaProblem("a.b", "is wrong", "GenericError")
    problems = [*check("2.1", "Heartbeat", "Request", None), extra]
    assert schemas.describe(problems) == "(payload): expected object, got null\na.b: is wrong"
    assert schemas.describe([]) == ""


def test_error_for_a_valid_call_is_none() -> None:
    assert error_for("2.1", Call("1", "BootNotification", BOOT)) is None
    assert error_for("2.0.1", Call("1", "Heartbeat", {})) is None


def test_error_for_an_invalid_call() -> None:
    error = error_for("2.1", Call("42", "BootNotification", boot(model=12)))
    assert error is not None and type(error) is CallError
    assert (error.message_id, error.error_code) == ("42", "TypeConstraintViolation")
    assert error.error_description == "chargingStation.model: expected string, got integer"
    assert error.error_details["problems"][0]["path"] == "chargingStation.model"
    assert parse(error.frame()) == error


def test_error_for_reports_the_coarsest_problem() -> None:
    payload = {"reason": "Bored", "chargingStation": {"model": 1, "vendorName": "V"}, "x": 0}
    error = error_for("2.1", Call("1", "BootNotification", payload))
    assert error is not None and error.error_code == FV
    payload = {"reason": "Bored", "chargingStation": {"model": 1}}
    error = error_for("2.1", Call("1", "BootNotification", payload))
    assert error is not None and error.error_code == "OccurrenceConstraintViolation"


def test_error_for_an_unknown_action() -> None:
    error = error_for("2.0.1", Call("7", "NotifyPeriodicEventStream", STREAM))
    assert error is not None
    assert (error.message_id, error.error_code) == ("7", "NotImplemented")
