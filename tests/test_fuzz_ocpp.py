"""The OCPP fuzz target against the built-in station emulator: no observation on the
clean station (2.1 and 2.0.1), each observation kind turned up by a fault that
breaks the rule it judges, reconnection, and the transaction machine green on the
clean station and red under a fault."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

from conformance.devices import client_for
from conformance.devices.ocpp import OcppStation
from conformance.devices.pool import DevicePool, Opened
from conformance.devices.uri import parse_device
from conformance.errors import DeviceUnreachable
from conformance.ocpp import rpc, schemas
from conformance.transports.base import Deadline
from fuzz.case import Case, Observation
from fuzz.ocpp import (
    CSMS_ACTIONS,
    FAMILIES,
    FRAME_KINDS,
    INVALID_ONLY,
    SECRET,
    WATCHED,
    OcppTarget,
    csms_actions,
    station_actions,
)
from fuzz.ocpp_machine import control_case, machine_for
from fuzz.source import ByteSource
from fuzz.strategies import programs
from fuzz.target import FindingFailure, target_for

#: short reply bounds: a missing answer costs a fraction of a second
FAST = "timeout=0.5"
QUICK = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def pool() -> Iterator[DevicePool]:
    pool = DevicePool()
    yield pool
    pool.close()


def station(pool: DevicePool, uri: str) -> tuple[OcppTarget, Opened]:
    opened = pool.get(parse_device(uri))
    target = target_for(opened.device)
    assert isinstance(target, OcppTarget)
    target.start()
    return target, opened


def offline_target(version: str = "2.1") -> OcppTarget:
    """A target over a station that is never opened (drawing cases needs no link)."""
    device = client_for(parse_device(f"ocpp+listen://127.0.0.1:1?id=CSX&version={version}"))
    assert isinstance(device, OcppStation)
    return OcppTarget(device)


def draw(target: OcppTarget, *choices: int) -> Case:
    """The case the bytes *choices* (then zeros) decode to."""
    return target.draw(ByteSource(bytes(choices)))


def family(name: str) -> int:
    return FAMILIES.index(name)


def frame(kind: str) -> tuple[int, int]:
    return FAMILIES.index("frame"), FRAME_KINDS.index(kind)


def observe(target: OcppTarget, *cases: Case) -> list[Observation]:
    target.begin()
    return target.run(list(cases))


def kinds(observations: list[Observation]) -> set[str]:
    return {o.signature for o in observations}


# ---------------------------------------------------------------- drawing
def test_zero_bytes_draw_a_minimal_valid_get_variables() -> None:
    case = draw(offline_target())
    assert (case.family, case.expect, case.channel) == ("valid", "success", "wire")
    message = json.loads(case.data)
    assert message == [2, "~id~", "GetVariables", {"getVariableData": [
        {"component": {"name": ""}, "variable": {"name": ""}}]}]  # fmt: skip
    assert schemas.check("2.1", "GetVariables", "Request", message[3]) == []


@pytest.mark.parametrize("version", ["2.1", "2.0.1"])
def test_the_action_table_follows_the_schemas(version: str) -> None:
    """CSMS-to-station actions are the table's rows the version defines; the
    station-to-CSMS ones are the rest, and no action is both."""
    target = offline_target(version)
    assert target.actions == csms_actions(version)
    assert target.actions[0] == "GetVariables"
    inbound = station_actions(version)
    assert {"BootNotification", "Heartbeat", "TransactionEvent", "Authorize"} <= set(inbound)
    assert not set(inbound) & set(CSMS_ACTIONS)
    assert "Reset" in target.actions and "Reset" not in target.valid_actions


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=OcppTarget.max_program * OcppTarget.case_bytes))
def test_every_draw_is_a_sound_case(data: bytes) -> None:
    """Never raises; JSON-able; destructive actions only with a field missing or of
    the wrong type; ChangeAvailability only Operative; no secret values."""
    target = offline_target()
    cases = target.program(data)
    assert 1 <= len(cases) <= target.max_program
    for case in cases:
        json.dumps(case.to_json())
        assert case.family.split(":")[0] in FAMILIES
        assert case.expect in ("success", "error", "silence", "any")
        action = case.meta.get("action")
        if action in CSMS_ACTIONS and CSMS_ACTIONS[action][0] == INVALID_ONLY:
            assert case.family in ("mutated:required", "mutated:type"), case.label
            assert case.expect == "error"
        if case.family == "valid" and action == "ChangeAvailability":
            assert json.loads(case.data)[3]["operationalStatus"] == "Operative"
        if SECRET.variable in str(case.data):
            items = json.loads(case.data)[3]["setVariableData"]
            assert all(
                "attributeValue" not in i for i in items if i["variable"]["name"] == SECRET.variable
            )
            assert "without attributeValue" in case.label


def test_every_family_and_frame_kind_is_reachable() -> None:
    target = offline_target()
    for name in FAMILIES:
        assert draw(target, family(name)).family.startswith(name)
    for kind in FRAME_KINDS:
        assert draw(target, *frame(kind)).family == f"frame:{kind}"


def test_message_types_5_and_6_stay_unanswered_by_2_0_1() -> None:
    target = offline_target("2.0.1")
    send = draw(target, family("msgtype"), 0)
    resulterror = draw(target, family("msgtype"), 1)
    assert json.loads(send.data)[0] == rpc.SEND and send.expect == "silence"
    assert json.loads(resulterror.data)[0] == rpc.CALLRESULTERROR
    assert resulterror.expect == "silence"
    assert "2.0.1" in send.ref


# ---------------------------------------------------------------- the clean station
@pytest.mark.parametrize(("version", "examples"), [("2.1", 250), ("2.0.1", 120)])
def test_clean_station_gives_no_observation(pool: DevicePool, version: str, examples: int) -> None:
    target, opened = station(pool, f"emu:ocpp?version={version}")

    @settings(QUICK, max_examples=examples)
    @given(programs(target))
    def check(cases: list[Case]) -> None:
        target.begin()
        found = target.run(cases)
        assert target.probe() is None
        found += target.check_state(cases)
        assert not found, "\n".join(o.render() for o in found)

    check()
    assert opened.emulator is not None
    assert opened.emulator.internal_errors == []


def test_probe_answers_and_state_is_read(pool: DevicePool) -> None:
    target, _ = station(pool, "emu:ocpp")
    assert target.probe() is None
    assert target.baseline["TxCtrlr.EVConnectionTimeOut"] == "60"
    assert ("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables") in target.limits
    assert target.check_state([]) == []


# ---------------------------------------------------------------- each kind, by a fault
def test_no_response_when_the_station_drops_the_link_and_comes_back(pool: DevicePool) -> None:
    """disconnect_mid_test: the CALL goes unanswered, the station dials in again."""
    target, _ = station(pool, f"emu:ocpp?fault=disconnect_mid_test&{FAST}")
    found = observe(target, draw(target))
    assert kinds(found) == {"no-response:link-dropped/GetVariables/valid"}
    assert target.device.connected
    assert target.probe() is None


def test_no_response_when_the_station_never_answers(pool: DevicePool) -> None:
    target, _ = station(pool, f"emu:ocpp?fault=no_response&{FAST}")
    found = observe(target, draw(target), draw(target, family("mutated")))
    assert kinds(found) == {
        "no-response:silent/GetVariables/valid",
        "no-response:silent/GetVariables/required",
    }
    assert target.probe() is not None


def test_a_station_that_stays_away_is_unreachable(pool: DevicePool) -> None:
    target, opened = station(pool, f"emu:ocpp?{FAST}&evses=1")
    target.begin()
    opened.device.control.go_offline()
    opened.device.wait_disconnected(2.0)
    with pytest.raises(DeviceUnreachable, match="did not dial in again"):
        target.run([draw(target)])
    opened.device.control.go_online()
    opened.device.wait_connected(5.0)
    assert target.probe() is None


def test_malformed_reply_when_the_station_sends_garbage(pool: DevicePool) -> None:
    """garbage_frame: a frame that is not JSON after the boot."""
    target, opened = station(pool, f"emu:ocpp?fault=garbage_frame&{FAST}")
    device = opened.device
    target.begin()
    device.control.power_cycle()
    device.wait_disconnected(2.0)
    device.wait_for(lambda: device.accepted, within=5.0, what="boot", requirement=None)
    found: list[Observation] = []
    deadline = Deadline(3.0)
    while not found and not deadline.expired():
        found = target.run([draw(target)])
    assert kinds(found) == {"malformed-reply:unreadable-frame"}


def test_error_reply_for_a_valid_payload(pool: DevicePool, monkeypatch: pytest.MonkeyPatch) -> None:
    """No fault switch refuses a valid payload: the handler is patched to."""
    target, opened = station(pool, "emu:ocpp")
    handlers = opened.emulator.handlers  # type: ignore[union-attr]
    original = handlers.dispatch

    def refuse(call: rpc.Call) -> Any:
        if (
            call.action == "GetVariables"
            and not call.payload["getVariableData"][0]["component"]["name"]
        ):
            return rpc.CallError(call.message_id, "FormatViolation", "refused"), None
        return original(call)

    monkeypatch.setattr(handlers, "dispatch", refuse)
    found = observe(target, draw(target))
    assert kinds(found) == {"error-reply:GetVariables/FormatViolation"}


def test_accepted_invalid_payload(pool: DevicePool, monkeypatch: pytest.MonkeyPatch) -> None:
    """No fault switch accepts an invalid payload: the handler is patched to."""
    target, opened = station(pool, "emu:ocpp")
    handlers = opened.emulator.handlers  # type: ignore[union-attr]
    original = handlers.dispatch
    result = {"attributeStatus": "Accepted", "component": {"name": "A"}, "variable": {"name": "B"}}

    def accept(call: rpc.Call) -> Any:
        if call.action == "GetVariables" and "getVariableData" not in call.payload:
            return {"getVariableResult": [result]}, None
        return original(call)

    monkeypatch.setattr(handlers, "dispatch", accept)
    found = observe(target, draw(target, family("mutated")))
    assert kinds(found) == {"accepted-invalid:GetVariables/required"}


def test_state_corruption_when_an_accepted_value_is_not_set(pool: DevicePool) -> None:
    """set_not_applied: SetVariables EVConnectionTimeOut=120 is Accepted, not stored."""
    target, _ = station(pool, "emu:ocpp?fault=set_not_applied")
    case = draw(target, family("setvar"))
    assert case.label == "SetVariables TxCtrlr.EVConnectionTimeOut='120'"
    assert observe(target, case) == []
    found = target.check_state([case])
    assert kinds(found) == {"state-corruption:TxCtrlr.EVConnectionTimeOut/not-applied"}
    assert "B05.FR.10" in found[0].ref


def test_accepted_values_are_expected_not_reported(pool: DevicePool) -> None:
    target, _ = station(pool, "emu:ocpp")
    case = draw(target, family("setvar"))
    assert observe(target, case) == []
    assert target.expected["TxCtrlr.EVConnectionTimeOut"] == {"120"}
    assert target.check_state([case]) == []
    target.begin()  # the emulator is reset: back to the baseline
    assert target.check_state([]) == []


def test_a_real_station_gets_its_variables_written_back(
    pool: DevicePool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the emulator's reset, begin() restores the watched variables."""
    target, _ = station(pool, "emu:ocpp")
    target.begin()
    monkeypatch.setattr(OcppTarget, "emulator", property(lambda self: None))
    case = draw(target, family("setvar"))
    assert target.run([case]) == []
    assert target.check_state([case]) == []
    assert target._read([WATCHED[0]]) == {WATCHED[0].key: "120"}
    target.begin()
    assert target._read([WATCHED[0]]) == {WATCHED[0].key: "60"}
    assert target.check_state([]) == []


def test_over_the_station_limits_any_answer_goes() -> None:
    """More items than ItemsPerMessageGetVariables: CALLERROR allowed (B06.FR.16)."""
    target = offline_target()
    case = draw(target)
    assert not target._over(case, case.data)
    target.limits[("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables")] = 0
    assert target._over(case, case.data)
    target.limits = {("DeviceDataCtrlr", "BytesPerMessage", "GetVariables"): 10}
    assert target._over(case, case.data)


PROTOCOL_FAULTS: dict[str, tuple[str, tuple[int, ...], str]] = {
    "answers_send": ("2.1", (family("msgtype"), 0), "answered/msgtype:6"),
    "answers_unknown_message_type": ("2.1", frame("unknown-type"), "answered/frame:unknown-type"),
    "callerror_unknown_action_wrong_code": (
        "2.1",
        frame("unknown-action"),
        "frame:unknown-action/NotSupported",
    ),
    "payload_error_generic": ("2.1", (family("mutated"),), "required/GenericError"),
    "unreadable_id_not_minus_one": ("2.1", frame("bad-json"), "reply-id/frame:bad-json"),
    "answer_id_not_echoed": ("2.1", (), "reply-id/valid"),
}


@pytest.mark.parametrize("fault", sorted(PROTOCOL_FAULTS))
def test_protocol_violation_by_fault(pool: DevicePool, fault: str) -> None:
    version, choices, key = PROTOCOL_FAULTS[fault]
    target, _ = station(pool, f"emu:ocpp?fault={fault}&version={version}&{FAST}")
    found = observe(target, draw(target, *choices))
    assert kinds(found) == {f"protocol-violation:{key}"}, [o.render() for o in found]


def test_2_0_1_station_answering_type_5_breaks_4_1_3(pool: DevicePool) -> None:
    target, _ = station(pool, f"emu:ocpp?fault=answers_unknown_message_type&version=2.0.1&{FAST}")
    found = observe(target, draw(target, family("msgtype"), 1))
    assert kinds(found) == {"protocol-violation:answered/msgtype:5"}
    assert "2.0.1" in found[0].ref


# ---------------------------------------------------------------- the machine
MACHINE = settings(QUICK, max_examples=6, stateful_step_count=15, phases=[Phase.generate])


@pytest.mark.parametrize("version", ["2.1", "2.0.1"])
def test_machine_is_green_on_the_clean_station(pool: DevicePool, version: str) -> None:
    target, opened = station(pool, f"emu:ocpp?version={version}")
    run_state_machine_as_test(machine_for(target), settings=MACHINE)
    assert opened.emulator is not None and opened.emulator.internal_errors == []


def test_machine_is_red_under_a_fault(pool: DevicePool) -> None:
    """seqno_skip: the second TransactionEventRequest skips a seqNo (E01.FR.07)."""
    target, _ = station(pool, "emu:ocpp?fault=seqno_skip")
    with pytest.raises(FindingFailure) as caught:
        run_state_machine_as_test(machine_for(target), settings=settings(MACHINE, max_examples=40))
    assert caught.value.observation.key == "E01.FR.07/seqNo"
    # the cases replay the finding through the target alone
    target.begin()
    replay = target.run(caught.value.cases)
    assert "E01.FR.07/seqNo" in {o.key for o in replay}


REJECTED = [
    control_case("plug", "plug EVSE 1", "E02", evse=1, connector=1),
    control_case("present_token", "FZ-INVALID at EVSE 1", "C01", id_token="FZ-INVALID", evse=1),
]


CHARGING = "protocol-violation:C01.FR.01/charging-rejected-token"


@pytest.mark.parametrize(
    ("fault", "found"), [("", set()), ("ignores_authorize_status", {CHARGING})]
)
def test_a_rejected_token_never_starts_energy(
    pool: DevicePool, fault: str, found: set[str]
) -> None:
    """The machine's control cases through the target: C01.FR.01 kept by the clean
    station, broken by ignores_authorize_status."""
    target, _ = station(pool, f"emu:ocpp?fault={fault}" if fault else "emu:ocpp")
    assert kinds(observe(target, *REJECTED)) == found


def test_machine_without_control_api_only_fuzzes(
    pool: DevicePool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a control API the life-cycle rules are not available."""
    target, opened = station(pool, "emu:ocpp")
    monkeypatch.setattr(opened.device, "control", None)
    machine = machine_for(target)
    run_state_machine_as_test(machine, settings=settings(MACHINE, max_examples=3))
    instance = machine()
    assert not instance.has_control()  # type: ignore[attr-defined]
