"""The CSMS side (``OcppStation``) against a hand-driven station sending raw
frames: answers, error codes, findings, reconnection (Part 4 ch. 3-5)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from websockets.sync.client import ClientConnection, connect

from conformance.devices import client_for, parse_device
from conformance.devices.ocpp import OcppStation
from conformance.errors import DeviceUnreachable, Finding, NoReply

BOOT = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}


def frame(*items: object) -> str:
    return json.dumps(list(items))


@pytest.fixture
def csms() -> Iterator[OcppStation]:
    device = client_for(parse_device("ocpp+listen://127.0.0.1:1?id=CS9&timeout=2"))
    assert isinstance(device, OcppStation)
    device.listener.port = 0
    device.listener.accept_timeout = 5
    device.listen()
    yield device
    device.close()


def dial(csms: OcppStation, protocol: str = "ocpp2.1", path: str = "CS9") -> ClientConnection:
    return connect(
        f"ws://127.0.0.1:{csms.listener.port}/{path}",
        subprotocols=[protocol],  # type: ignore[list-item]
        open_timeout=5,
        max_size=None,
    ).__enter__()  # closed by the test; a bare connect() is deprecated


@pytest.fixture
def station(csms: OcppStation) -> Iterator[ClientConnection]:
    conn = dial(csms)
    csms.open()
    yield conn
    conn.close()


def answer(conn: ClientConnection) -> list:
    return json.loads(conn.recv(timeout=5))


def boot(conn: ClientConnection, mid: str = "b1") -> list:
    conn.send(frame(2, mid, "BootNotification", BOOT))
    return answer(conn)


def test_boot_is_accepted_and_recorded(csms: OcppStation, station: ClientConnection) -> None:
    reply = boot(station)
    assert reply[:2] == [3, "b1"] and reply[2]["status"] == "Accepted"
    assert csms.accepted
    assert csms.expect("BootNotification").payload == BOOT
    csms.after_test()


def test_pending_registration_and_calls_before_acceptance(
    csms: OcppStation, station: ClientConnection
) -> None:
    csms.csms.boot_status = "Pending"
    assert boot(station)[2]["status"] == "Pending"
    station.send(frame(2, "h1", "Heartbeat", {}))
    assert answer(station)[:3] == [4, "h1", "SecurityError"]  # B02.FR.09
    with pytest.raises(Finding, match=r"B02\.FR\.02"):
        csms.after_test()


def test_unreadable_frame_gets_rpc_framework_error(
    csms: OcppStation, station: ClientConnection
) -> None:
    station.send("this is not json")
    assert answer(station)[:3] == [4, "-1", "RpcFrameworkError"]
    with pytest.raises(Finding, match=r"Part 4 §4\.1\.2") as caught:
        csms.after_test()
    assert caught.value.received == "this is not json"


def test_unknown_action_is_not_implemented(csms: OcppStation, station: ClientConnection) -> None:
    boot(station)
    station.send(frame(2, "x1", "MakeCoffee", {}))
    assert answer(station)[:3] == [4, "x1", "NotImplemented"]


def test_schema_violation_is_a_finding_with_the_frame(
    csms: OcppStation, station: ClientConnection
) -> None:
    station.send(frame(2, "b2", "BootNotification", {"reason": "PowerUp"}))
    assert answer(station)[:3] == [4, "b2", "OccurrenceConstraintViolation"]
    with pytest.raises(Finding, match="chargingStation") as caught:
        csms.expect("BootNotification")
    assert '"b2"' in str(caught.value.received)
    with pytest.raises(Finding, match="schema"):
        csms.after_test()


def test_reused_message_id_is_a_violation(csms: OcppStation, station: ClientConnection) -> None:
    boot(station, "same")
    station.send(frame(2, "same", "Heartbeat", {}))
    answer(station)
    with pytest.raises(Finding, match=r"§4\.1\.4"):
        csms.after_test()


def test_call_returns_the_result_payload(csms: OcppStation, station: ClientConnection) -> None:
    boot(station)

    def reply() -> None:
        got = answer(station)
        assert got[0] == 2 and got[2] == "GetVariables"
        item = {"component": {"name": "X"}, "variable": {"name": "Y"}}
        result = {"getVariableResult": [{"attributeStatus": "UnknownComponent", **item}]}
        station.send(frame(3, got[1], result))

    t = threading.Thread(target=reply)
    t.start()
    payload = csms.call(
        "GetVariables",
        {"getVariableData": [{"component": {"name": "X"}, "variable": {"name": "Y"}}]},
    )
    t.join(5)
    assert payload["getVariableResult"][0]["attributeStatus"] == "UnknownComponent"


@pytest.mark.parametrize(
    ("response", "match"),
    [
        (lambda mid: frame(4, mid, "InternalError", "boom", {}), "CALLERROR InternalError"),
        (lambda mid: frame(3, mid, {"status": "Maybe"}), "schema"),
    ],
)
def test_bad_answers_to_our_call_are_findings(
    csms: OcppStation, station: ClientConnection, response, match: str
) -> None:
    boot(station)

    def reply() -> None:
        got = answer(station)
        station.send(response(got[1]))

    t = threading.Thread(target=reply)
    t.start()
    with pytest.raises(Finding, match=match):
        csms.call("ChangeAvailability", {"operationalStatus": "Inoperative"})
    t.join(5)


def test_no_answer_is_no_reply(csms: OcppStation, station: ClientConnection) -> None:
    boot(station)
    with pytest.raises(NoReply, match="no answer to ResetRequest"):
        csms.call("Reset", {"type": "Immediate"}, timeout=0.3)


def test_expect_times_out_naming_what_came(csms: OcppStation, station: ClientConnection) -> None:
    boot(station)
    with pytest.raises(NoReply, match=r"received: BootNotification") as caught:
        csms.expect("Heartbeat", within=0.2, requirement="B01.FR.04")
    assert caught.value.requirement == ("B01.FR.04",)


def test_wrong_subprotocol_is_refused_and_reported(csms: OcppStation) -> None:
    with pytest.raises(Exception, match="400"):
        dial(csms, protocol="ocpp1.6")
    csms.listener.accept_timeout = 0.3
    with pytest.raises(DeviceUnreachable, match=r"ocpp1\.6"):
        csms.open()


def test_wrong_identity_is_refused(csms: OcppStation) -> None:
    with pytest.raises(Exception, match="404"):
        dial(csms, path="SOMEONE_ELSE")


def test_oversized_message_is_a_finding(csms: OcppStation, station: ClientConnection) -> None:
    boot(station)
    station.send(frame(2, "big", "DataTransfer", {"vendorId": "x" * (2 << 20)}))
    csms.wait_disconnected(5)
    with pytest.raises(Finding, match="1009"):
        csms.after_test()


def test_reconnection_is_taken_and_registration_starts_over(
    csms: OcppStation, station: ClientConnection
) -> None:
    boot(station)
    station.close()
    csms.wait_disconnected(5)
    assert not csms.accepted
    again = dial(csms)
    csms.wait_connected(5)
    assert boot(again, "b9")[2]["status"] == "Accepted"
    again.close()


def test_basic_auth_profile_rejects_a_wrong_password(tmp_path) -> None:
    device = client_for(
        parse_device("ocpp+listen://127.0.0.1:1?id=CS9&profile=1&password=s3cret-pass")
    )
    device.listener.port = 0  # type: ignore[attr-defined]
    device.listen()  # type: ignore[attr-defined]
    try:
        with pytest.raises(Exception, match="401"):
            connect(
                f"ws://127.0.0.1:{device.listener.port}/CS9",  # type: ignore[attr-defined]
                subprotocols=["ocpp2.1"],  # type: ignore[list-item]
                additional_headers={"Authorization": "Basic Q1M5Ondyb25n"},  # CS9:wrong
                open_timeout=5,
            ).__enter__()
        assert "s3cret-pass" not in repr(device.spec)
    finally:
        device.close()


def test_secret_variable_values_never_reach_the_transcript(
    csms: OcppStation, station: ClientConnection
) -> None:
    boot(station)

    def reply() -> None:
        got = answer(station)
        item = {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}}
        station.send(frame(3, got[1], {"setVariableResult": [{"attributeStatus": "Accepted",
                                                              **item}]}))  # fmt: skip

    t = threading.Thread(target=reply)
    t.start()
    csms.call(
        "SetVariables",
        {"setVariableData": [{"component": {"name": "SecurityCtrlr"},
                              "variable": {"name": "BasicAuthPassword"},
                              "attributeValue": "hunter2-secret-value"}]},
    )  # fmt: skip
    t.join(5)
    assert "hunter2-secret-value" not in csms.transcript.render()
    assert "***" in csms.transcript.render()
