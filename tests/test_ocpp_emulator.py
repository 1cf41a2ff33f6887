"""The OCPP charging-station emulator against a small scripted CSMS.

The CSMS (``websockets.sync.server`` on 127.0.0.1:0) answers every CALL with a
schema-valid response unless a test installs its own answer, records every CALL
the station sends and checks its payload against the official schema.  All waits
have deadlines; intervals run on the emulator's compressed clock (speed 200).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.server import ServerConnection, serve

from conformance.emulators.hosting import EmulatorHost
from conformance.emulators.ocpp import OcppStationEmulator
from conformance.errors import FrameworkError
from conformance.ocpp import rpc, schemas
from conformance.ocpp.security import SecurityConfig, make_process_request, server_ssl_context

SPEED = 200.0
WAIT = 5.0  # real seconds any expected message may take


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Csms:
    """A scripted CSMS: answers CALLs, records them, sends its own CALLs."""

    def __init__(
        self,
        version: str = "2.1",
        *,
        ssl_context: Any = None,
        admit: Callable[[ServerConnection, Any], Any] | None = None,
    ) -> None:
        self.version = version
        self.scheme = "wss" if ssl_context is not None else "ws"
        self._admit = admit
        self.cond = threading.Condition()
        self.calls: list[tuple[float, str, dict[str, Any], str, int]] = []
        self.results: dict[str, rpc.Message] = {}
        self.problems: list[str] = []
        self.subprotocols: list[str | None] = []
        self.boot: dict[str, Any] = {"status": "Accepted", "interval": 300}
        self.answers: dict[str, Callable[[dict[str, Any]], Any]] = {}
        self.conns: list[ServerConnection] = []
        self.offers: list[str] = []  # Sec-WebSocket-Protocol of every handshake
        self.rejected: list[str] = []  # handshakes refused by *admit*
        self.server = serve(
            self._handle,
            "127.0.0.1",
            0,
            subprotocols=["ocpp2.1", "ocpp2.0.1"],  # type: ignore[list-item]
            process_request=self._offered,
            ssl=ssl_context,
        )
        self.port = self.server.socket.getsockname()[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host = "localhost" if self.scheme == "wss" else "127.0.0.1"
        return f"{self.scheme}://{host}:{self.port}/ocpp/CS001"

    def close(self) -> None:
        self.server.shutdown()
        self._thread.join(timeout=5)

    def default(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        if action == "BootNotification":
            return {"currentTime": now_iso(), **self.boot}
        if action == "Heartbeat":
            return {"currentTime": now_iso()}
        if action == "Authorize":
            return {"idTokenInfo": {"status": "Accepted"}}
        if action == "TransactionEvent" and "idToken" in payload:
            return {"idTokenInfo": {"status": "Accepted"}}
        if action == "DataTransfer":
            return {"status": "Accepted"}
        return {}

    def _offered(self, ws: ServerConnection, request: Any) -> Any:
        self.offers.append(request.headers.get("Sec-WebSocket-Protocol", ""))
        return self._admit(ws, request) if self._admit is not None else None

    def _handle(self, ws: ServerConnection) -> None:
        with self.cond:
            self.conns.append(ws)
            self.subprotocols.append(ws.subprotocol)
            self.cond.notify_all()
        index = len(self.conns) - 1
        try:
            for frame in ws:
                self._frame(ws, frame, index)
        except Exception:
            pass

    def _frame(self, ws: ServerConnection, frame: str | bytes, index: int) -> None:
        try:
            msg = rpc.parse(frame, version=self.version)
        except rpc.RpcError as exc:
            with self.cond:
                self.problems.append(f"unreadable frame: {exc}")
                self.cond.notify_all()
            return
        if not isinstance(msg, rpc.Call):
            with self.cond:
                self.results[msg.message_id] = msg
                self.cond.notify_all()
            return
        problems = schemas.check(self.version, msg.action, "Request", msg.payload)
        with self.cond:
            if problems:
                self.problems.append(f"{msg.action}: {schemas.describe(problems)}")
            self.calls.append((time.monotonic(), msg.action, msg.payload, msg.message_id, index))
            self.cond.notify_all()
        custom = self.answers.get(msg.action)
        answer = custom(msg.payload) if custom else self.default(msg.action, msg.payload)
        if answer is None:
            return
        if isinstance(answer, rpc.CallError):
            reply: rpc.CallResult | rpc.CallError = rpc.CallError(msg.message_id, answer.error_code)
        else:
            reply = rpc.CallResult(msg.message_id, answer)
        with contextlib.suppress(Exception):
            ws.send(reply.frame())

    # ------------------------------------------------------------ test helpers
    def actions(self) -> list[str]:
        with self.cond:
            return [c[1] for c in self.calls]

    def wait(
        self,
        action: str,
        count: int = 1,
        *,
        where: Callable[[dict[str, Any]], bool] | None = None,
        after: int = 0,
        timeout: float = WAIT,
    ) -> list[dict[str, Any]]:
        """Payloads of the first *count* CALLs *action* (from index *after*) matching *where*."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [
                    c[2]
                    for c in self.calls[after:]
                    if c[1] == action and (where is None or where(c[2]))
                ]
                if len(found) >= count:
                    return found[:count]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {count} x {action}; got {[c[1] for c in self.calls]}")
                self.cond.wait(left)

    def times(self, action: str) -> list[float]:
        with self.cond:
            return [c[0] for c in self.calls if c[1] == action]

    def mark(self) -> int:
        with self.cond:
            return len(self.calls)

    def since(self, mark: int) -> list[tuple[str, dict[str, Any]]]:
        with self.cond:
            return [(c[1], c[2]) for c in self.calls[mark:]]

    def wait_connections(self, count: int, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.conns) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"only {len(self.conns)} connections")
                self.cond.wait(left)

    def send_frame(self, frame: str | bytes) -> None:
        self.conns[-1].send(frame)

    def call(self, action: str, payload: dict[str, Any], timeout: float = WAIT) -> rpc.Message:
        message_id = rpc.new_message_id()
        self.conns[-1].send(rpc.Call(message_id, action, payload).frame())
        deadline = time.monotonic() + timeout
        with self.cond:
            while message_id not in self.results:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no answer to {action}")
                self.cond.wait(left)
            answer = self.results[message_id]
        if isinstance(answer, rpc.CallResult):
            problems = schemas.check(self.version, action, "Response", answer.payload)
            assert not problems, schemas.describe(problems)
        return answer

    def quiet(self, seconds: float, mark: int | None = None) -> list[str]:
        """CALLs that arrive within *seconds* (real) after *mark*."""
        start = self.mark() if mark is None else mark
        deadline = time.monotonic() + seconds
        with self.cond:
            while (left := deadline - time.monotonic()) > 0:
                self.cond.wait(left)
            return [c[1] for c in self.calls[start:]]


Station = Callable[..., OcppStationEmulator]


@pytest.fixture
def csms() -> Iterator[Csms]:
    server = Csms()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def station(host: EmulatorHost, csms: Csms) -> Iterator[Station]:
    made: list[OcppStationEmulator] = []

    def make(*, booted: bool = True, **kwargs: Any) -> OcppStationEmulator:
        kwargs.setdefault("speed", SPEED)
        emu = OcppStationEmulator(**kwargs)
        csms.version = emu.version
        made.append(emu)
        host.call(lambda: emu.start(csms.url))
        if booted:
            csms.wait("BootNotification")
            csms.wait(_availability(emu), len(emu.layout))
        return emu

    try:
        yield make
    finally:
        for emu in made:
            host.call(emu.stop)
            assert emu.internal_errors == [], emu.internal_errors[0]
        if not any(emu.faults for emu in made):
            assert csms.problems == [], csms.problems


def _availability(emu: OcppStationEmulator) -> str:
    return "NotifyEvent" if emu.version == "2.1" else "StatusNotification"


def do(host: EmulatorHost, emu: OcppStationEmulator, action: str, **kwargs: Any) -> Any:
    return host.call(lambda: getattr(emu, action)(**kwargs))


def states(payloads: list[dict[str, Any]]) -> list[tuple[int, int, str]]:
    return [
        (
            d["component"]["evse"]["id"],
            d["component"]["evse"]["connectorId"],
            d["actualValue"],
        )
        for p in payloads
        for d in p["eventData"]
        if d["variable"]["name"] == "AvailabilityState"
    ]


def drained(host: EmulatorHost, emu: OcppStationEmulator) -> None:
    """Wait until the station has no TransactionEvent waiting for its answer."""
    deadline = time.monotonic() + WAIT
    while do(host, emu, "state")["queued_transaction_events"]:
        assert time.monotonic() < deadline, "TransactionEvents stay queued"
        time.sleep(0.01)


def tx_events(csms: Csms, mark: int = 0) -> list[dict[str, Any]]:
    return [p for a, p in csms.since(mark) if a == "TransactionEvent"]


def set_vars(csms: Csms, *items: tuple[str, str, str]) -> list[str]:
    data = []
    for name, value, component in items:
        variable, _, instance = name.partition("[")
        var: dict[str, Any] = {"name": variable}
        if instance:
            var["instance"] = instance.rstrip("]")
        data.append({"component": {"name": component}, "variable": var, "attributeValue": value})
    answer = csms.call("SetVariables", {"setVariableData": data})
    assert isinstance(answer, rpc.CallResult)
    return [r["attributeStatus"] for r in answer.payload["setVariableResult"]]


# ---------------------------------------------------------------- construction
def test_control_api_and_faults_are_declared() -> None:
    emu = OcppStationEmulator()
    assert emu.name == "ocpp"
    assert emu.FACES == {"ocpp": ("ws-client",)}
    for name in emu.CONTROL:
        assert callable(getattr(emu, name)), name
    assert len(emu.FAULTS) >= 50
    for name, text in emu.FAULTS.items():
        assert name.isidentifier() and name.islower(), name
        assert text[:1].isupper() and (":" in text), name
    with pytest.raises(ValueError, match="unknown fault"):
        OcppStationEmulator(faults=["nope"])
    with pytest.raises(FrameworkError):
        emu.endpoint("ocpp")
    info = emu.info()
    assert info["evses"] == {"1": 1, "2": 1} and info["connected"] is False


# ---------------------------------------------------------------- B01-B03
def test_boot_accepted_availability_and_heartbeat_cadence(
    station: Station, csms: Csms, host: EmulatorHost
) -> None:
    csms.boot = {"status": "Accepted", "interval": 20}
    emu = station()
    boot = csms.wait("BootNotification")[0]
    assert boot["reason"] == "PowerUp"
    assert boot["chargingStation"]["serialNumber"] == "SN-CS001"
    assert csms.actions()[0] == "BootNotification"
    assert sorted(states(csms.wait("NotifyEvent", 2))) == [(1, 1, "Available"), (2, 1, "Available")]
    csms.wait("Heartbeat", 3)
    beats = csms.times("Heartbeat")
    gaps = [b - a for a, b in itertools.pairwise(beats)]
    assert all(0.05 < g < 0.4 for g in gaps), gaps  # 20 emulated s = 0.1 real s
    assert csms.subprotocols == ["ocpp2.1"]
    assert do(host, emu, "info")["accepted"] is True


def test_boot_pending_answers_csms_and_sends_nothing_else(
    station: Station, csms: Csms, host: EmulatorHost
) -> None:
    csms.boot = {"status": "Pending", "interval": 60}  # 0.3 s real
    emu = station(booted=False)
    csms.wait("BootNotification")
    first = time.monotonic()
    answer = csms.call(
        "GetVariables",
        {
            "getVariableData": [
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
            ]
        },
    )
    assert isinstance(answer, rpc.CallResult)
    stop = csms.call("RequestStopTransaction", {"transactionId": "x"})
    assert isinstance(stop, rpc.CallResult) and stop.payload["status"] == "Rejected"  # B02.FR.05
    do(host, emu, "plug")
    csms.boot = {"status": "Accepted", "interval": 300}
    csms.wait("BootNotification", 2)
    assert time.monotonic() - first >= 0.25  # B02.FR.04
    before = csms.actions()
    assert before[:2] == ["BootNotification", "BootNotification"]
    csms.wait("NotifyEvent", 2)


def test_boot_rejected_is_silent_and_refuses_calls(
    station: Station, csms: Csms, host: EmulatorHost
) -> None:
    csms.boot = {"status": "Rejected", "interval": 80}  # 0.4 s real
    station(booted=False)
    csms.wait("BootNotification")
    first = time.monotonic()
    answer = csms.call("ClearCache", {})
    assert isinstance(answer, rpc.CallError) and answer.error_code == "SecurityError"
    csms.boot = {"status": "Accepted", "interval": 300}
    csms.wait("BootNotification", 2)
    assert time.monotonic() - first >= 0.35  # B03.FR.02, B03.FR.06
    assert csms.actions()[:2] == ["BootNotification", "BootNotification"]


def test_boot_without_answer_is_retried(station: Station, csms: Csms) -> None:
    answered = []

    def boot(payload: dict[str, Any]) -> Any:
        if not answered:
            answered.append(1)
            return rpc.CallError("", "InternalError")
        return {"currentTime": now_iso(), "interval": 300, "status": "Accepted"}

    csms.answers["BootNotification"] = boot
    station(booted=False)
    csms.wait("BootNotification", 2)
    csms.wait("NotifyEvent", 2)


# ---------------------------------------------------------------- B05-B07
def test_set_and_get_variables(station: Station, csms: Csms) -> None:
    station()
    statuses = set_vars(
        csms,
        ("HeartbeatInterval", "10", "OCPPCommCtrlr"),
        ("NoSuchVariable", "1", "OCPPCommCtrlr"),
        ("HeartbeatInterval", "abc", "OCPPCommCtrlr"),
    )
    assert statuses == ["Accepted", "UnknownVariable", "Rejected"]
    mark = csms.mark()
    csms.wait("Heartbeat", 3, after=mark)  # 10 emulated s = 0.05 s: at once
    answer = csms.call(
        "GetVariables",
        {
            "getVariableData": [
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
                {"component": {"name": "NoSuchThing"}, "variable": {"name": "X"}},
            ]
        },
    )
    assert isinstance(answer, rpc.CallResult)
    first, second = answer.payload["getVariableResult"]
    assert first["attributeValue"] == "10" and first["attributeType"] == "Actual"
    assert second["attributeStatus"] == "UnknownComponent" and "attributeValue" not in second


def test_get_base_report(station: Station, csms: Csms) -> None:
    station()
    answer = csms.call("GetBaseReport", {"requestId": 7, "reportBase": "FullInventory"})
    assert isinstance(answer, rpc.CallResult) and answer.payload["status"] == "Accepted"
    csms.wait("NotifyReport", where=lambda p: not p["tbc"])  # the last part
    reports = [p for a, p in csms.since(0) if a == "NotifyReport"]
    assert len(reports) > 1  # ItemsPerMessage[GetReport] splits the full inventory
    assert [r["seqNo"] for r in reports] == list(range(len(reports)))
    assert all(r["requestId"] == 7 for r in reports)
    assert [r["tbc"] for r in reports] == [True] * (len(reports) - 1) + [False]
    items = [item for r in reports for item in r.get("reportData", [])]
    names = {(i["component"]["name"], i["variable"]["name"]) for i in items}
    assert ("OCPPCommCtrlr", "HeartbeatInterval") in names
    for item in items:
        for attribute in item["variableAttribute"]:
            if attribute.get("mutability") == "WriteOnly":
                assert "value" not in attribute
    bad = csms.call("GetBaseReport", {"requestId": 8, "reportBase": "Nonsense"})
    assert isinstance(bad, rpc.CallError)


# ---------------------------------------------------------------- transactions
def test_rfid_transaction_with_meter_values(
    station: Station, csms: Csms, host: EmulatorHost
) -> None:
    emu = station()
    set_vars(csms, ("TxUpdatedInterval", "20", "SampledDataCtrlr"))
    mark = csms.mark()
    assert do(host, emu, "plug")["result"] == "plugged"
    assert states(csms.wait("NotifyEvent", after=mark)) == [(1, 1, "Occupied")]
    assert do(host, emu, "present_token", id_token="04A1B2C3")["result"] == "authorizing"
    csms.wait("Authorize", after=mark)
    started = csms.wait("TransactionEvent", after=mark)[0]
    assert started["eventType"] == "Started" and started["seqNo"] == 0
    assert started["triggerReason"] == "Authorized"
    assert started["idToken"] == {"idToken": "04A1B2C3", "type": "ISO14443"}
    assert started["evse"] == {"id": 1, "connectorId": 1}
    assert started["transactionInfo"]["chargingState"] == "Charging"
    assert started["meterValue"][0]["sampledValue"][0]["context"] == "Transaction.Begin"
    periodic = csms.wait(
        "TransactionEvent",
        2,
        after=mark,
        where=lambda p: p["triggerReason"] == "MeterValuePeriodic",
    )
    energy = [p["meterValue"][0]["sampledValue"][0]["value"] for p in periodic]
    assert energy[0] < energy[1]
    assert periodic[0]["meterValue"][0]["sampledValue"][0]["context"] == "Sample.Periodic"
    do(host, emu, "present_token", id_token="04a1b2c3")  # same token (case-insensitive)
    ended = csms.wait("TransactionEvent", after=mark, where=lambda p: p["eventType"] == "Ended")[0]
    assert ended["triggerReason"] == "StopAuthorized"
    assert ended["transactionInfo"]["stoppedReason"] == "Local"
    contexts = [m["sampledValue"][0]["context"] for m in ended["meterValue"]]
    assert contexts[0] == "Transaction.Begin" and contexts[-1] == "Transaction.End"
    events = tx_events(csms, mark)
    assert [e["seqNo"] for e in events] == list(range(len(events)))
    assert len({e["transactionInfo"]["transactionId"] for e in events}) == 1
    assert csms.actions()[mark:].count("Authorize") == 1  # C01.FR.03: none to stop
    mark = csms.mark()
    do(host, emu, "unplug")
    assert states(csms.wait("NotifyEvent", after=mark)) == [(1, 1, "Available")]


def test_cable_first_then_ev_disconnect(station: Station, csms: Csms, host: EmulatorHost) -> None:
    emu = station()
    set_vars(csms, ("TxStartPoint", "EVConnected", "TxCtrlr"))
    mark = csms.mark()
    do(host, emu, "plug", evse=2)
    started = csms.wait("TransactionEvent", after=mark)[0]
    assert started["triggerReason"] == "CablePluggedIn"
    assert started["transactionInfo"]["chargingState"] == "EVConnected"
    assert "idToken" not in started
    do(host, emu, "press_start", evse=2)
    authorized = csms.wait("TransactionEvent", 2, after=mark)[1]
    assert authorized["triggerReason"] == "Authorized"
    assert authorized["idToken"] == {"idToken": "", "type": "NoAuthorization"}  # C02.FR.01
    assert authorized["transactionInfo"]["chargingState"] == "Charging"
    do(host, emu, "ev_suspend", evse=2)
    suspended = csms.wait("TransactionEvent", 3, after=mark)[2]
    assert suspended["triggerReason"] == "ChargingStateChanged"
    assert suspended["transactionInfo"]["chargingState"] == "SuspendedEV"
    do(host, emu, "unplug", evse=2)
    ended = csms.wait("TransactionEvent", after=mark, where=lambda p: p["eventType"] == "Ended")[0]
    assert ended["triggerReason"] == "EVCommunicationLost"
    assert ended["transactionInfo"]["stoppedReason"] == "EVDisconnected"
    assert "Authorize" not in csms.actions()[mark:]
    assert states(csms.wait("NotifyEvent", 2, after=mark))[-1] == (2, 1, "Available")


def test_keycode_other_token_and_stop_button(
    station: Station, csms: Csms, host: EmulatorHost
) -> None:
    emu = station()
    mark = csms.mark()
    do(host, emu, "plug")
    do(host, emu, "present_token", id_token="739182465", type="KeyCode")  # C04
    started = csms.wait("TransactionEvent", after=mark)[0]
    assert started["idToken"] == {"idToken": "739182465", "type": "KeyCode"}
    state = do(host, emu, "state")
    json.dumps(state)
    assert "739182465" not in json.dumps(state)  # C04.FR.04: never in logs
    other = do(host, emu, "present_token", id_token="OTHER")
    assert other["result"] == "authorizing"  # C01.FR.02: unknown locally, asked for
    csms.wait("Authorize", 2, after=mark)
    assert csms.quiet(0.1, mark).count("TransactionEvent") == 1  # C01.FR.23: no takeover
    do(host, emu, "press_stop")
    ended = csms.wait("TransactionEvent", after=mark, where=lambda p: p["eventType"] == "Ended")[0]
    assert ended["triggerReason"] == "StopAuthorized"
    assert ended["transactionInfo"]["stoppedReason"] == "Local" and "idToken" not in ended


def test_ev_side_disconnect_without_stop_suspends(
    station: Station, csms: Csms, host: EmulatorHost
) -> None:
    emu = station()
    set_vars(
        csms,
        ("StopTxOnEVSideDisconnect", "false", "TxCtrlr"),
        ("TxStopPoint", "Authorized", "TxCtrlr"),
    )
    mark = csms.mark()
    do(host, emu, "plug")
    do(host, emu, "present_token", id_token="CARD9")
    csms.wait("TransactionEvent", after=mark)
    do(host, emu, "unplug")  # E10: suspended, the cable stays locked
    lost = csms.wait("TransactionEvent", 2, after=mark)[1]
    assert lost["triggerReason"] == "EVCommunicationLost"
    assert lost["transactionInfo"]["chargingState"] == "Idle"
    do(host, emu, "plug")
    back = csms.wait("TransactionEvent", 3, after=mark)[2]
    assert back["triggerReason"] == "CablePluggedIn"
    assert back["transactionInfo"]["chargingState"] == "Charging"
    assert do(host, emu, "present_token", id_token="CARD9")["result"] == "authorization ended"
    ended = csms.wait("TransactionEvent", 4, after=mark)[3]
    assert ended["eventType"] == "Ended" and ended["triggerReason"] == "StopAuthorized"


def test_invalid_id_in_response_ends_transaction(
    station: Station, csms: Csms, host: EmulatorHost
) -> None:
    emu = station()

    def answer(payload: dict[str, Any]) -> dict[str, Any]:
        return {"idTokenInfo": {"status": "Blocked"}} if "idToken" in payload else {}

    csms.answers["TransactionEvent"] = answer
    set_vars(csms, ("LocalPreAuthorize", "true", "AuthCtrlr"))
    csms.answers["Authorize"] = lambda p: {"idTokenInfo": {"status": "Accepted"}}
    mark = csms.mark()
    do(host, emu, "plug")
    do(host, emu, "present_token", id_token="CARD1")
    ended = csms.wait("TransactionEvent", after=mark, where=lambda p: p["eventType"] == "Ended")[0]
    assert ended["triggerReason"] == "Deauthorized"  # E05.FR.10
    assert ended["transactionInfo"]["stoppedReason"] == "DeAuthorized"


def test_offline_queue_and_replay_in_order(
    station: Station, csms: Csms, host: EmulatorHost
) -> None:
    emu = station()
    set_vars(csms, ("TxUpdatedInterval", "20", "SampledDataCtrlr"))
    mark = csms.mark()
    do(host, emu, "plug")
    do(host, emu, "present_token", id_token="CARD2")
    started = csms.wait("TransactionEvent", after=mark)[0]
    drained(host, emu)
    do(host, emu, "go_offline")
    offline_mark = csms.mark()
    deadline = time.monotonic() + WAIT
    while do(host, emu, "state")["queued_transaction_events"] < 3:
        assert time.monotonic() < deadline, "no periodic events queued offline"
        csms.quiet(0.05)
    do(host, emu, "present_token", id_token="CARD2")  # E08: stopped while offline
    do(host, emu, "go_online")
    csms.wait_connections(2)
    ended = csms.wait(
        "TransactionEvent", after=offline_mark, where=lambda p: p["eventType"] == "Ended"
    )[0]
    replayed = tx_events(csms, offline_mark)
    assert all(e.get("offline") is True for e in replayed)
    assert ended["triggerReason"] == "StopAuthorized"
    seqs = [e["seqNo"] for e in tx_events(csms, mark)]
    assert seqs == list(range(len(seqs))), tx_events(csms, mark)
    assert started["transactionInfo"]["transactionId"] == ended["transactionInfo"]["transactionId"]
    assert "BootNotification" not in csms.actions()[offline_mark:]  # Part 4 §5.4
    csms.wait("Heartbeat", after=offline_mark)


def test_e13_retries_then_drops(station: Station, csms: Csms, host: EmulatorHost) -> None:
    emu = station()
    set_vars(
        csms,
        ("MessageAttemptInterval[TransactionEvent]", "20", "OCPPCommCtrlr"),
        ("MessageAttempts[TransactionEvent]", "3", "OCPPCommCtrlr"),
        ("TxStartPoint", "EVConnected", "TxCtrlr"),
        ("TxUpdatedInterval", "0", "SampledDataCtrlr"),
    )
    csms.answers["TransactionEvent"] = lambda payload: rpc.CallError("", "InternalError")
    mark = csms.mark()
    do(host, emu, "plug")
    csms.wait("TransactionEvent", 3, after=mark)
    times = [t for t in csms.times("TransactionEvent")]
    first, second = times[1] - times[0], times[2] - times[1]
    assert first > 0.08 and second > 0.18  # 20 s x 1, 20 s x 2 at speed 200 (E13.FR.03)
    del csms.answers["TransactionEvent"]
    do(host, emu, "unplug")
    ended = csms.wait("TransactionEvent", 4, after=mark)[3]
    assert ended["eventType"] == "Ended" and ended["seqNo"] == 1  # the Started was dropped


# ---------------------------------------------------------------- reset
def test_reset_state_returns_to_idle_without_traffic(
    station: Station, csms: Csms, host: EmulatorHost
) -> None:
    csms.boot = {"status": "Accepted", "interval": 400}
    emu = station()
    do(host, emu, "plug")
    do(host, emu, "present_token", id_token="CARD3")
    csms.wait("TransactionEvent")
    set_vars(csms, ("HeartbeatInterval", "3000", "OCPPCommCtrlr"))
    mark = csms.mark()
    host.call(emu.reset)
    assert csms.quiet(0.3, mark) == []
    state = do(host, emu, "state")
    assert state["evses_state"]["1"]["transaction"] is None
    assert state["evses_state"]["1"]["cable"] is None
    assert state["queued_transaction_events"] == 0
    assert state["heartbeat_interval"] == 400  # the boot interval, not the one set
    do(host, emu, "plug")
    do(host, emu, "present_token", id_token="CARD3")
    started = csms.wait("TransactionEvent", after=mark)[0]
    assert started["eventType"] == "Started" and started["seqNo"] == 0


def test_reset_state_reboots_a_station_that_is_not_accepted(
    station: Station, csms: Csms, host: EmulatorHost
) -> None:
    emu = station()
    do(host, emu, "go_offline")
    deadline = time.monotonic() + WAIT
    while do(host, emu, "info")["connected"]:
        assert time.monotonic() < deadline, "still connected"
        time.sleep(0.005)
    host.call(emu.reset)
    mark = csms.mark()
    assert csms.wait("BootNotification", after=mark)[0]["reason"] == "PowerUp"
    csms.wait("NotifyEvent", 2, after=mark)
    assert do(host, emu, "info")["accepted"] is True


def test_reset_immediate_ends_transaction_and_reboots(
    station: Station, csms: Csms, host: EmulatorHost
) -> None:
    emu = station()
    do(host, emu, "plug")
    do(host, emu, "present_token", id_token="CARD4")
    csms.wait("TransactionEvent")
    answer = csms.call("Reset", {"type": "Immediate"})
    assert isinstance(answer, rpc.CallResult) and answer.payload["status"] == "Accepted"
    ended = csms.wait("TransactionEvent", where=lambda p: p["eventType"] == "Ended")[0]
    assert ended["triggerReason"] == "ResetCommand"
    assert ended["transactionInfo"]["stoppedReason"] == "ImmediateReset"
    boots = csms.wait("BootNotification", 2)
    assert boots[1]["reason"] == "RemoteReset"


def test_reset_on_idle_is_scheduled_during_transaction(
    station: Station, csms: Csms, host: EmulatorHost
) -> None:
    emu = station()
    do(host, emu, "plug")
    do(host, emu, "present_token", id_token="CARD5")
    csms.wait("TransactionEvent")
    answer = csms.call("Reset", {"type": "OnIdle"})
    assert isinstance(answer, rpc.CallResult) and answer.payload["status"] == "Scheduled"
    assert states(csms.wait("NotifyEvent", where=lambda p: "Unavailable" in str(p))) == [
        (2, 1, "Unavailable")
    ]
    do(host, emu, "present_token", id_token="CARD5")
    boots = csms.wait("BootNotification", 2)
    assert boots[1]["reason"] in ("ScheduledReset", "RemoteReset")


# ---------------------------------------------------------------- availability
def test_change_availability_persists_across_power_cycle(
    station: Station, csms: Csms, host: EmulatorHost
) -> None:
    emu = station()
    mark = csms.mark()
    answer = csms.call(
        "ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 1}}
    )
    assert isinstance(answer, rpc.CallResult) and answer.payload["status"] == "Accepted"
    assert states(csms.wait("NotifyEvent", after=mark)) == [(1, 1, "Unavailable")]
    same = csms.call("ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 1}})
    assert isinstance(same, rpc.CallResult) and same.payload["status"] == "Accepted"
    mark = csms.mark()
    do(host, emu, "power_cycle")
    boot = csms.wait("BootNotification", after=mark)[0]
    assert boot["reason"] == "PowerUp"
    after = sorted(states(csms.wait("NotifyEvent", 2, after=mark)))
    assert after == [(1, 1, "Unavailable"), (2, 1, "Available")]


def test_change_availability_scheduled_during_transaction(
    station: Station, csms: Csms, host: EmulatorHost
) -> None:
    emu = station()
    do(host, emu, "plug")
    do(host, emu, "present_token", id_token="CARD6")
    csms.wait("TransactionEvent")
    answer = csms.call("ChangeAvailability", {"operationalStatus": "Inoperative"})
    assert isinstance(answer, rpc.CallResult) and answer.payload["status"] == "Scheduled"
    mark = csms.mark()
    do(host, emu, "unplug")
    assert sorted(states(csms.wait("NotifyEvent", 2, after=mark))) == [
        (1, 1, "Unavailable"),
        (2, 1, "Unavailable"),
    ]


def test_lock_failure_is_reported_and_blocks_charging(
    station: Station, csms: Csms, host: EmulatorHost
) -> None:
    emu = station()
    do(host, emu, "lock_failure", evse=1, connector=1, on=True)
    mark = csms.mark()
    do(host, emu, "plug")
    do(host, emu, "present_token", id_token="CARD7")
    problem = csms.wait(
        "NotifyEvent",
        after=mark,
        where=lambda p: p["eventData"][0]["variable"]["name"] == "Problem",
    )[0]["eventData"][0]
    assert problem["component"]["name"] == "ConnectorPlugRetentionLock"
    assert problem["actualValue"] == "true"
    assert "TransactionEvent" not in csms.quiet(0.2, mark)  # G05: not started


def test_offline_short_reports_only_changes(
    station: Station, csms: Csms, host: EmulatorHost
) -> None:
    emu = station()
    do(host, emu, "go_offline")
    do(host, emu, "plug", evse=2)
    mark = csms.mark()
    do(host, emu, "go_online")
    csms.wait("Heartbeat", after=mark)
    reports = [p for a, p in csms.since(mark) if a == "NotifyEvent"]
    assert states(reports) == [(2, 1, "Occupied")]  # B04.FR.02


# ---------------------------------------------------------------- N07, P01, P02
def test_alert_event_and_clear(station: Station, csms: Csms, host: EmulatorHost) -> None:
    emu = station()
    mark = csms.mark()
    result = do(
        host, emu, "raise_alert", component="TemperatureSensor", variable="Temperature", value="85"
    )
    assert result["sent"] == "sent"
    alert = csms.wait("NotifyEvent", after=mark)[0]
    data = alert["eventData"][0]
    assert alert["seqNo"] == 0 and data["trigger"] == "Alerting"
    assert data["eventNotificationType"] == "PreconfiguredMonitor"
    assert data["variableMonitoringId"] == 1 and data["actualValue"] == "85"
    do(host, emu, "raise_alert", component="TemperatureSensor", variable="Temperature", value="20")
    cleared = csms.wait("NotifyEvent", 2, after=mark)[1]["eventData"][0]
    assert cleared["cleared"] is True


def test_data_transfer_both_ways(station: Station, csms: Csms, host: EmulatorHost) -> None:
    emu = station()
    answer = csms.call("DataTransfer", {"vendorId": "com.example"})
    assert isinstance(answer, rpc.CallResult) and answer.payload["status"] == "UnknownVendorId"
    do(host, emu, "send_data_transfer", vendor_id="com.example", message_id="m1", data={"a": 1})
    sent = csms.wait("DataTransfer")[0]
    assert sent == {"vendorId": "com.example", "messageId": "m1", "data": {"a": 1}}


# ---------------------------------------------------------------- RPC robustness
def test_unknown_action_send_and_malformed_calls(station: Station, csms: Csms) -> None:
    station()
    unknown = csms.call("NoSuchAction", {})
    assert isinstance(unknown, rpc.CallError) and unknown.error_code == "NotImplemented"
    invalid = csms.call("Reset", {"type": "Sometime"})
    assert isinstance(invalid, rpc.CallError)
    csms.send_frame(rpc.Send(rpc.new_message_id(), "NotifyPeriodicEventStream", {}).frame())
    csms.send_frame("[2, 5, ")
    answer = csms.call("ClearCache", {})
    assert isinstance(answer, rpc.CallResult)


def test_random_frames_never_crash_the_station(
    station: Station, csms: Csms, host: EmulatorHost
) -> None:
    emu = station()
    frames = st.one_of(
        st.text(max_size=200),
        st.binary(max_size=100),
        st.lists(
            st.one_of(
                st.integers(0, 7),
                st.text(max_size=20),
                st.none(),
                st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
            ),
            max_size=6,
        ).map(lambda items: __import__("json").dumps(items)),
    )

    @settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(frames)
    def send(frame: str | bytes) -> None:
        csms.send_frame(frame)

    send()
    answer = csms.call("GetLocalListVersion", {})
    assert isinstance(answer, rpc.CallResult)
    assert emu.internal_errors == []
    assert do(host, emu, "info")["connected"] is True


# ---------------------------------------------------------------- security profiles
PASSWORD = "0123456789abcdef0123"


def _secured_station(host: EmulatorHost, csms: Csms, security: SecurityConfig) -> None:
    emu = OcppStationEmulator(speed=SPEED, security=security)
    host.call(lambda: emu.start(csms.url))
    try:
        boot = csms.wait("BootNotification")[0]
        assert boot["reason"] == "PowerUp"
        assert csms.rejected == []
    finally:
        host.call(emu.stop)
        csms.close()
    assert emu.internal_errors == []


def test_security_profile_1_sends_basic_auth(host: EmulatorHost) -> None:
    config = SecurityConfig(profile=1, password=PASSWORD)
    rejected: list[str] = []
    csms = Csms(admit=make_process_request("CS001", config, rejected.append))
    csms.rejected = rejected
    _secured_station(host, csms, config)


def test_security_profile_2_dials_tls_with_basic_auth(host: EmulatorHost, tmp_path: Any) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server = ca.issue_cert("localhost", "127.0.0.1")
    cert, key, ca_file = tmp_path / "csms.pem", tmp_path / "csms.key", tmp_path / "ca.pem"
    server.cert_chain_pems[0].write_to_path(str(cert))
    server.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(ca_file))
    csms_side = SecurityConfig(profile=2, password=PASSWORD, certfile=str(cert), keyfile=str(key))
    rejected: list[str] = []
    csms = Csms(
        ssl_context=server_ssl_context(csms_side),
        admit=make_process_request("CS001", csms_side, rejected.append),
    )
    csms.rejected = rejected
    _secured_station(host, csms, SecurityConfig(profile=2, password=PASSWORD, cafile=str(ca_file)))


# ---------------------------------------------------------------- OCPP 2.0.1 and faults
def test_version_201_uses_status_notification(
    station: Station, csms: Csms, host: EmulatorHost
) -> None:
    emu = station(version="2.0.1")
    assert csms.subprotocols == ["ocpp2.0.1"]
    assert len(csms.wait("StatusNotification", 2)) == 2
    mark = csms.mark()
    do(host, emu, "plug")
    status = csms.wait("StatusNotification", after=mark)[0]
    assert status["connectorStatus"] == "Occupied" and status["evseId"] == 1
    do(host, emu, "present_token", id_token="CARD8")
    csms.wait("TransactionEvent", after=mark)
    assert "NotifyEvent" not in csms.actions()


def test_fault_schema_violation_and_bad_date(station: Station, csms: Csms) -> None:
    csms.boot = {"status": "Rejected", "interval": 300}
    station(booted=False, faults=["schema_violation", "bad_date_time"])
    boot = csms.wait("BootNotification")[0]
    assert "reason" not in boot
    assert any("reason" in problem for problem in csms.problems)


def test_fault_wrong_trigger_and_seqno(station: Station, csms: Csms, host: EmulatorHost) -> None:
    emu = station(faults=["wrong_trigger_cable", "seqno_skip"])
    set_vars(csms, ("TxStartPoint", "EVConnected", "TxCtrlr"))
    mark = csms.mark()
    do(host, emu, "plug")
    do(host, emu, "press_start")
    events = csms.wait("TransactionEvent", 2, after=mark)
    assert events[0]["triggerReason"] == "ChargingStateChanged"
    assert [e["seqNo"] for e in events] == [0, 2]


def test_fault_garbage_frame(station: Station, csms: Csms) -> None:
    station(faults=["garbage_frame"])
    deadline = time.monotonic() + WAIT
    while not csms.problems:
        assert time.monotonic() < deadline
        csms.quiet(0.05)
    assert "unreadable" in csms.problems[0]


# ================================================================ every fault switch
# Each fault is checked in a small scenario: with the switch on, the scenario shows
# the broken rule (the check fires); with no switch on, no check of that scenario
# fires.  The runs of one scenario (no fault, then each fault) run side by side.
FAST = 400.0  # emulated seconds per real second in these runs


class Run:
    """One scenario run: its CSMS, its station and what the scenario noted."""

    def __init__(self, host: EmulatorHost, faults: list[str], boot: dict[str, Any]) -> None:
        self.host = host
        self.csms = Csms()
        self.csms.boot = dict(boot)
        self.emu = OcppStationEmulator(faults=faults, speed=FAST)
        self.notes: dict[str, Any] = {}

    def start(self, *, booted: bool = True) -> None:
        self.host.call(lambda: self.emu.start(self.csms.url))
        if booted:
            deadline = time.monotonic() + WAIT
            while not self.do("info")["accepted"]:
                assert time.monotonic() < deadline, "the station did not boot"
                time.sleep(0.005)
            self.pause(4)  # the boot reports

    def stop(self) -> None:
        self.host.call(self.emu.stop)
        self.csms.close()

    def do(self, action: str, **kwargs: Any) -> Any:
        return do(self.host, self.emu, action, **kwargs)

    def pause(self, emulated: float) -> None:
        self.csms.quiet(emulated / FAST)

    def soft(self, action: str, count: int = 1, *, emulated: float = 200.0, **kw: Any) -> list:
        """Like Csms.wait, but returns what came (maybe less) after *emulated* seconds."""
        try:
            return self.csms.wait(action, count, timeout=emulated / FAST, **kw)
        except AssertionError:
            return [p for a, p in self.csms.since(kw.get("after", 0)) if a == action]

    def set(self, *items: tuple[str, str, str]) -> list[str]:
        return set_vars(self.csms, *items)

    def call(self, action: str, payload: dict[str, Any], timeout: float = 2.0) -> Any:
        try:
            return self.csms.call(action, payload, timeout=timeout)
        except Exception as exc:
            return exc

    def payloads(self, action: str) -> list[dict[str, Any]]:
        return [p for a, p in self.csms.since(0) if a == action]

    def events(self) -> list[dict[str, Any]]:
        return self.payloads("TransactionEvent")

    def ended(self) -> list[dict[str, Any]]:
        return [e for e in self.events() if e["eventType"] == "Ended"]

    def alerts(self) -> list[dict[str, Any]]:
        return [
            d
            for p in self.payloads("NotifyEvent")
            for d in p["eventData"]
            if d["eventNotificationType"] == "PreconfiguredMonitor"
        ]


def _rfid(r: Run) -> None:
    r.set(("TxUpdatedInterval", "80", "SampledDataCtrlr"))
    for n in (1, 2):
        mark = r.csms.mark()
        r.do("plug")
        r.do("present_token", id_token="CARD")
        r.soft("TransactionEvent", after=mark)
        if n == 1:
            r.soft("TransactionEvent", 3, emulated=400, after=mark)
        r.pause(20)
        r.do("present_token", id_token="CARD")
        r.soft("TransactionEvent", where=lambda p: p["eventType"] == "Ended", after=mark)
        r.do("unplug")
        r.pause(20)


def _cable(r: Run) -> None:
    r.set(("TxStartPoint", "EVConnected", "TxCtrlr"))
    r.do("plug", evse=2)
    r.do("press_start", evse=2)
    r.do("ev_suspend", evse=2)
    r.do("ev_resume", evse=2)
    r.do("unplug", evse=2)
    r.soft("TransactionEvent", where=lambda p: p["eventType"] == "Ended")


def _boot(r: Run) -> None:
    r.pause(180)


def _rpc(r: Run) -> None:
    r.notes["unknown"] = r.call("NoSuchAction", {}, timeout=0.5)
    r.notes["send_id"] = send_id = rpc.new_message_id()
    with contextlib.suppress(Exception):
        r.csms.send_frame(rpc.Send(send_id, "NotifyPeriodicEventStream", {}).frame())
    r.notes["clear"] = r.call("ClearCache", {}, timeout=0.5)
    r.notes["invalid"] = r.call("Reset", {"type": "Sometime"}, timeout=0.5)
    with contextlib.suppress(Exception):
        r.csms.send_frame('[2, 5, "Heartbeat", {}]')
        r.csms.send_frame('[7, "type-seven", {}]')
    r.pause(40)


def _handshake(r: Run) -> None:
    r.start(booted=False)
    r.pause(100)


def _aligned(r: Run) -> None:
    r.set(("Interval", "40", "AlignedDataCtrlr"))
    r.soft("MeterValues", 2, emulated=200)


def _pending(r: Run) -> None:
    boots: list[int] = []

    def boot(payload: dict[str, Any]) -> dict[str, Any]:
        boots.append(1)
        status = "Pending" if len(boots) == 1 else "Accepted"
        return {"currentTime": now_iso(), "interval": 80, "status": status}

    r.csms.answers["BootNotification"] = boot
    r.start(booted=False)
    r.csms.wait("BootNotification")
    r.notes["clear"] = r.call("ClearCache", {})
    r.soft("BootNotification", 2, emulated=400)
    r.pause(20)


def _pending_zero(r: Run) -> None:
    r.csms.boot = {"status": "Pending", "interval": 0}
    r.start(booted=False)
    r.csms.wait("BootNotification")
    r.pause(40)


def _rejected(r: Run) -> None:
    boots: list[int] = []

    def boot(payload: dict[str, Any]) -> dict[str, Any]:
        boots.append(1)
        status = "Rejected" if len(boots) == 1 else "Accepted"
        return {"currentTime": now_iso(), "interval": 80, "status": status}

    r.csms.answers["BootNotification"] = boot
    r.start(booted=False)
    r.csms.wait("BootNotification")
    r.notes["clear"] = r.call("ClearCache", {})
    r.soft("BootNotification", 2, emulated=400)


def _reboot_pending(r: Run) -> None:
    boots: list[int] = []

    def boot(payload: dict[str, Any]) -> dict[str, Any]:
        boots.append(1)
        status = "Pending" if len(boots) == 2 else "Accepted"
        return {"currentTime": now_iso(), "interval": 80, "status": status}

    r.csms.answers["BootNotification"] = boot
    r.start()
    r.do("plug")
    r.do("present_token", id_token="CARD")
    r.soft("TransactionEvent")
    drained(r.host, r.emu)
    r.do("power_cycle")
    r.soft("BootNotification", 3, emulated=300)
    r.soft("TransactionEvent", 2)


def _config(r: Run) -> None:
    def item(component: str, variable: str, instance: str | None = None) -> dict[str, Any]:
        var: dict[str, Any] = {"name": variable}
        if instance:
            var["instance"] = instance
        return {"component": {"name": component}, "variable": var}

    mark = r.csms.mark()
    r.notes["set"] = r.call(
        "SetVariables",
        {
            "setVariableData": [
                {**item("OCPPCommCtrlr", "HeartbeatInterval"), "attributeValue": "50"},
                {**item("NoSuchComponent", "X"), "attributeValue": "1"},
                {**item("OCPPCommCtrlr", "MessageTimeout", "Default"), "attributeValue": "10"},
            ]
        },
    )
    r.notes["beats"] = len(r.soft("Heartbeat", 2, emulated=400, after=mark))
    r.notes["get"] = r.call(
        "GetVariables",
        {
            "getVariableData": [
                item("OCPPCommCtrlr", "HeartbeatInterval"),
                item("NoSuchComponent", "X"),
                item("SecurityCtrlr", "BasicAuthPassword"),
            ]
        },
    )
    r.notes["report"] = r.call("GetBaseReport", {"requestId": 3, "reportBase": "FullInventory"})
    r.soft("NotifyReport", where=lambda p: not p["tbc"], emulated=400)


def _offline(r: Run, threshold: str) -> None:
    r.set(
        ("OfflineThreshold", threshold, "OCPPCommCtrlr"),
        ("TxUpdatedInterval", "40", "SampledDataCtrlr"),
        ("RetryBackOffWaitMinimum", "100", "OCPPCommCtrlr"),
        ("RetryBackOffRandomRange", "0", "OCPPCommCtrlr"),
    )
    r.do("plug")
    r.do("present_token", id_token="CARD")
    r.soft("TransactionEvent")
    drained(r.host, r.emu)
    r.do("go_offline")
    r.notes["mark"] = mark = r.csms.mark()
    r.pause(100)
    r.do("plug", evse=2)
    r.notes["queued"] = r.do("state")["queued_transaction_events"]
    r.notes["online_at"] = time.monotonic()
    r.do("go_online")
    r.csms.wait_connections(2)
    r.notes["reconnected"] = time.monotonic()
    r.soft("Heartbeat", after=mark)
    r.pause(20)


def _e13(r: Run) -> None:
    r.set(
        ("MessageAttemptInterval[TransactionEvent]", "40", "OCPPCommCtrlr"),
        ("MessageAttempts[TransactionEvent]", "3", "OCPPCommCtrlr"),
        ("TxStartPoint", "EVConnected", "TxCtrlr"),
        ("TxUpdatedInterval", "0", "SampledDataCtrlr"),
    )
    r.csms.answers["TransactionEvent"] = lambda payload: rpc.CallError("", "InternalError")
    r.do("plug")
    r.soft("TransactionEvent", 4, emulated=300)


def _reset(r: Run, kind: str) -> None:
    r.do("plug")
    r.do("present_token", id_token="CARD")
    r.soft("TransactionEvent")
    drained(r.host, r.emu)
    r.notes["reset"] = r.call("Reset", {"type": kind})
    if kind == "Immediate":
        r.soft("BootNotification", 2, emulated=300)
        r.pause(20)


def _avail_scenario(r: Run) -> None:
    change = {"operationalStatus": "Inoperative", "evse": {"id": 1}}
    r.notes["first"] = r.call("ChangeAvailability", change)
    r.notes["second"] = r.call("ChangeAvailability", change)
    r.pause(20)
    r.notes["before"] = r.do("state")["availability"]
    r.notes["mark"] = mark = r.csms.mark()
    r.do("power_cycle")
    r.soft("NotifyEvent", 2, emulated=300, after=mark)
    r.notes["after"] = r.do("state")["availability"]


def _availability_tx(r: Run) -> None:
    r.do("plug")
    r.do("present_token", id_token="CARD")
    r.soft("TransactionEvent")
    r.notes["change"] = r.call("ChangeAvailability", {"operationalStatus": "Inoperative"})
    r.notes["mark"] = mark = r.csms.mark()
    r.do("unplug")
    r.soft("NotifyEvent", 2, after=mark)


def _lock(r: Run) -> None:
    r.do("lock_failure", evse=1, connector=1, on=True)
    r.do("plug")
    r.do("present_token", id_token="CARD")
    r.pause(60)


def _alert(r: Run) -> None:
    r.do("raise_alert", component="TemperatureSensor", variable="Temperature", value="85")
    r.pause(20)
    r.do("raise_alert", component="TemperatureSensor", variable="Temperature", value="20")
    r.pause(20)


def _alert_level(r: Run) -> None:
    r.call("SetMonitoringLevel", {"severity": 1})
    r.do("raise_alert", component="TemperatureSensor", variable="Temperature", value="85")
    r.pause(20)


def _alert_offline(r: Run) -> None:
    r.do("go_offline")
    r.do("raise_alert", component="OverCurrentProtection", variable="ACCurrent", value="40", evse=1)
    r.do("go_online")
    r.csms.wait_connections(2)
    r.soft("Heartbeat", after=r.csms.mark())
    r.pause(20)


def _ev_disconnect(r: Run, stop_on_ev_side: str) -> None:
    r.set(
        ("TxStopPoint", "Authorized", "TxCtrlr"),
        ("StopTxOnEVSideDisconnect", stop_on_ev_side, "TxCtrlr"),
    )
    r.do("plug")
    r.do("present_token", id_token="CARD")
    r.soft("TransactionEvent")
    r.do("unplug")
    r.soft("TransactionEvent", 2, emulated=200)


def _timeout(r: Run) -> None:
    r.set(("TxStartPoint", "Authorized", "TxCtrlr"), ("EVConnectionTimeOut", "20", "TxCtrlr"))
    r.do("present_token", id_token="CARD")
    r.soft("TransactionEvent", 2, emulated=200)


def _invalid(r: Run) -> None:
    r.csms.answers["TransactionEvent"] = lambda p: (
        {"idTokenInfo": {"status": "Blocked"}} if "idToken" in p else {}
    )
    r.do("plug")
    r.do("present_token", id_token="CARD")
    r.soft("TransactionEvent", 2, emulated=200)


def _auth(r: Run) -> None:
    infos = {
        "BAD": {"status": "Invalid"},
        "EVSE2ONLY": {"status": "Accepted", "evseId": [2]},
    }
    r.csms.answers["Authorize"] = lambda p: {
        "idTokenInfo": infos.get(p["idToken"]["idToken"], {"status": "Accepted"})
    }
    r.do("plug")
    for token in ("BAD", "EVSE2ONLY", "GOOD", "OTHER"):
        r.do("present_token", id_token=token)
        r.pause(20)


def _group(r: Run) -> None:
    info = {"status": "Accepted", "groupIdToken": {"idToken": "G1", "type": "Central"}}
    r.csms.answers["Authorize"] = lambda p: {"idTokenInfo": info}
    r.csms.answers["TransactionEvent"] = lambda p: {"idTokenInfo": info} if "idToken" in p else {}
    r.do("plug", evse=2)
    r.do("present_token", id_token="B", evse=2)
    r.pause(20)
    r.do("present_token", id_token="B", evse=2)
    r.do("plug")
    r.do("present_token", id_token="A")
    r.pause(20)
    r.do("present_token", id_token="B")
    r.pause(20)


def _evse_reset(r: Run) -> None:
    r.notes["reset"] = r.call("Reset", {"type": "Immediate", "evseId": 2})
    r.soft("BootNotification", 2, emulated=200)


def _reset_resend(r: Run) -> None:
    def answer(payload: dict[str, Any]) -> dict[str, Any] | None:
        if payload["eventType"] == "Ended" and len(r.payloads("BootNotification")) < 2:
            return None  # unanswered until the reboot
        return {}

    r.do("plug")
    r.do("present_token", id_token="CARD")
    r.soft("TransactionEvent")
    drained(r.host, r.emu)
    r.csms.answers["TransactionEvent"] = answer
    r.call("Reset", {"type": "Immediate"})
    r.soft("BootNotification", 2, emulated=1600)
    after = r.csms.mark()
    r.soft("TransactionEvent", where=lambda p: p["eventType"] == "Ended", after=after, emulated=200)


def _token_first(r: Run, start_point: str) -> None:
    r.set(("TxStartPoint", start_point, "TxCtrlr"))
    r.do("present_token", id_token="CARD")
    r.pause(60)


def _invalid_keep(r: Run) -> None:
    r.set(("StopTxOnInvalidId", "false", "TxCtrlr"))
    r.csms.answers["TransactionEvent"] = lambda p: (
        {"idTokenInfo": {"status": "Blocked"}} if "idToken" in p else {}
    )
    r.do("plug")
    r.do("present_token", id_token="CARD")
    r.soft("TransactionEvent", 2, emulated=200)


def _data(r: Run) -> None:
    r.notes["answer"] = r.call("DataTransfer", {"vendorId": "com.example"})


#: the usual start: booted, Accepted, heartbeats out of the way
ACCEPTED = {"status": "Accepted", "interval": 3000}


def booted(play: Callable[[Run], None]) -> tuple[Callable[[Run], None], dict[str, Any], bool]:
    return (play, ACCEPTED, True)


SCENARIOS: dict[str, tuple[Callable[[Run], None], dict[str, Any], bool]] = {
    # name: (scenario, BootNotificationResponse, start booted before the scenario)
    "rfid": booted(_rfid),
    "cable": booted(_cable),
    "boot": (_boot, {"status": "Accepted", "interval": 40}, True),
    "rpc": booted(_rpc),
    "handshake": (_handshake, ACCEPTED, False),
    "aligned": booted(_aligned),
    "pending": (_pending, {}, False),
    "pending_zero": (_pending_zero, {}, False),
    "rejected": (_rejected, {}, False),
    "reboot_pending": (_reboot_pending, {}, False),
    "config": booted(_config),
    "offline_long": booted(lambda r: _offline(r, "10")),
    "offline_short": booted(lambda r: _offline(r, "3000")),
    "e13": booted(_e13),
    "reset": booted(lambda r: _reset(r, "Immediate")),
    "reset_idle": booted(lambda r: _reset(r, "OnIdle")),
    "availability": booted(_avail_scenario),
    "availability_tx": booted(_availability_tx),
    "lock": booted(_lock),
    "alert": booted(_alert),
    "alert_level": booted(_alert_level),
    "alert_offline": booted(_alert_offline),
    "ev_side_stop": booted(lambda r: _ev_disconnect(r, "true")),
    "ev_side_suspend": booted(lambda r: _ev_disconnect(r, "false")),
    "timeout": booted(_timeout),
    "invalid": booted(_invalid),
    "auth": booted(_auth),
    "group": booted(_group),
    "data": booted(_data),
    "evse_reset": booted(_evse_reset),
    "reset_resend": booted(_reset_resend),
    "power_path": booted(lambda r: _token_first(r, "PowerPathClosed")),
    "energy": booted(lambda r: _token_first(r, "EnergyTransfer")),
    "invalid_keep": booted(_invalid_keep),
}


def _first(items: list[dict[str, Any]]) -> dict[str, Any]:
    return items[0] if items else {}


def _started(r: Run) -> dict[str, Any]:
    return _first([e for e in r.events() if e["eventType"] == "Started"])


def _tx1(r: Run) -> list[dict[str, Any]]:
    events = r.events()
    first = events[0]["transactionInfo"]["transactionId"] if events else None
    return [e for e in events if e["transactionInfo"]["transactionId"] == first]


def _periodic(r: Run) -> list[dict[str, Any]]:
    return [
        e for e in r.events() if e["triggerReason"] in ("MeterValuePeriodic", "MeterValueClock")
    ]


def _gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


def _register(event: dict[str, Any]) -> list[float]:
    return [
        v["value"]
        for m in event.get("meterValue", [])
        for v in m["sampledValue"]
        if v["measurand"] == "Energy.Active.Import.Register"
    ]


def _tx_times(r: Run) -> list[float]:
    return [c[0] for c in r.csms.calls if c[1] == "TransactionEvent"]


def _result(r: Run, note: str, key: str) -> list[dict[str, Any]]:
    answer = r.notes.get(note)
    return answer.payload.get(key, []) if isinstance(answer, rpc.CallResult) else []


def _status(r: Run, note: str) -> str | None:
    answer = r.notes.get(note)
    return answer.payload.get("status") if isinstance(answer, rpc.CallResult) else None


def _between_boots(r: Run, action: str, first: int = 1) -> bool:
    actions = r.csms.actions()
    boots = [i for i, a in enumerate(actions) if a == "BootNotification"]
    end = boots[first] if len(boots) > first else len(actions)
    return action in actions[boots[first - 1] + 1 : end]


def _after_mark(r: Run, action: str) -> list[dict[str, Any]]:
    return [p for a, p in r.csms.since(r.notes.get("mark", 0)) if a == action]


def _before_mark(r: Run, action: str) -> list[dict[str, Any]]:
    with r.csms.cond:
        return [c[2] for c in r.csms.calls[: r.notes["mark"]] if c[1] == action]


def _reports(r: Run) -> list[dict[str, Any]]:
    return r.payloads("NotifyReport")


def _two_outstanding(r: Run) -> bool:
    outgoing_calls = 0
    for direction, kind, _action, _id in list(r.emu.link.trace):
        if direction == "out" and kind == rpc.CALL:
            outgoing_calls += 1
            if outgoing_calls > 1:
                return True
        elif direction == "in" and kind in (rpc.CALLRESULT, rpc.CALLERROR):
            outgoing_calls = 0
    return False


Check = Callable[[Run], bool]
FAULT_CHECKS: dict[str, tuple[str, Check]] = {
    # -- RFID transactions
    "no_authorize": ("rfid", lambda r: not r.payloads("Authorize")),
    "authorize_on_stop": ("rfid", lambda r: len(r.payloads("Authorize")) > 2),
    "seqno_skip": ("rfid", lambda r: any(g > 1 for g in _gaps([e["seqNo"] for e in _tx1(r)]))),
    "seqno_repeat": ("rfid", lambda r: any(g < 1 for g in _gaps([e["seqNo"] for e in _tx1(r)]))),
    "no_evse_in_first_event": ("rfid", lambda r: "evse" not in _started(r)),
    "no_charging_state": (
        "rfid",
        lambda r: not any("chargingState" in e["transactionInfo"] for e in r.events()),
    ),
    "no_id_token": ("rfid", lambda r: "idToken" not in _started(r)),
    "wrong_trigger_authorized": (
        "rfid",
        lambda r: _started(r).get("triggerReason") != "Authorized",
    ),
    "wrong_trigger_stop": (
        "rfid",
        lambda r: _first(r.ended()).get("triggerReason") != "StopAuthorized",
    ),
    "no_started_meter_values": ("rfid", lambda r: "meterValue" not in _started(r)),
    "no_periodic_meter_values": ("rfid", lambda r: not _periodic(r)),
    "wrong_trigger_periodic": (
        "rfid",
        lambda r: any(e["triggerReason"] == "MeterValueClock" for e in _periodic(r)),
    ),
    "periodic_wrong_interval": (
        "rfid",
        lambda r: any(
            g < 0.15
            for g in _gaps(
                [
                    c[0]
                    for c in r.csms.calls
                    if c[1] == "TransactionEvent" and c[2]["triggerReason"] == "MeterValuePeriodic"
                ]
            )
        ),
    ),
    "wrong_meter_context": (
        "rfid",
        lambda r: any(
            v.get("context") == "Other"
            for e in r.events()
            for m in e.get("meterValue", [])
            for v in m["sampledValue"]
        ),
    ),
    "no_ended_meter_values": ("rfid", lambda r: "meterValue" not in _first(r.ended())),
    "energy_not_monotonic": (
        "rfid",
        lambda r: any(
            g < 0
            for g in _gaps([v for e in _tx1(r) if e["eventType"] != "Ended" for v in _register(e)])
        ),
    ),
    "no_occupied_report": (
        "rfid",
        lambda r: "Occupied" not in [s for _e, _c, s in states(r.payloads("NotifyEvent"))],
    ),
    "no_available_report": (
        "rfid",
        lambda r: (
            [s for _e, _c, s in states(r.payloads("NotifyEvent"))][2:].count("Available") == 0
        ),
    ),
    "reused_transaction_id": (
        "rfid",
        lambda r: (
            len(r.ended()) == 2
            and r.ended()[0]["transactionInfo"]["transactionId"]
            == r.ended()[1]["transactionInfo"]["transactionId"]
        ),
    ),
    "offline_flag_when_online": ("rfid", lambda r: any(e.get("offline") for e in r.events())),
    "bad_date_time": ("rfid", lambda r: "T" not in _started(r).get("timestamp", "T")),
    "ignores_current_time": (
        "rfid",
        lambda r: (
            abs(
                datetime.fromisoformat(_started(r)["timestamp"].replace("Z", "+00:00"))
                - datetime.now(UTC)
            ).total_seconds()
            > 600
        ),
    ),
    # -- cable first, start button, EV-side disconnect
    "wrong_trigger_cable": (
        "cable",
        lambda r: _started(r).get("triggerReason") != "CablePluggedIn",
    ),
    "start_button_wrong_token": (
        "cable",
        lambda r: any(e.get("idToken", {}).get("idToken") not in (None, "") for e in r.events()),
    ),
    "stopped_reason_missing": (
        "cable",
        lambda r: "stoppedReason" not in _first(r.ended()).get("transactionInfo", {}),
    ),
    "wrong_stopped_reason": (
        "cable",
        lambda r: _first(r.ended()).get("transactionInfo", {}).get("stoppedReason") == "Local",
    ),
    "wrong_trigger_ev_lost": (
        "cable",
        lambda r: _first(r.ended()).get("triggerReason") != "EVCommunicationLost",
    ),
    # -- boot, heartbeat, link
    "no_heartbeat": ("boot", lambda r: not r.payloads("Heartbeat")),
    "aligned_wrong_context": (
        "aligned",
        lambda r: any(
            v["context"] != "Sample.Clock"
            for p in r.payloads("MeterValues")
            for m in p["meterValue"]
            for v in m["sampledValue"]
        ),
    ),
    "heartbeat_ignores_interval": ("boot", lambda r: len(r.payloads("Heartbeat")) < 2),
    "no_availability_report": ("boot", lambda r: not r.payloads("NotifyEvent")),
    "schema_violation": ("boot", lambda r: "reason" not in r.payloads("BootNotification")[0]),
    "wrong_subprotocol": ("handshake", lambda r: r.csms.offers[:1] != ["ocpp2.1"]),
    "garbage_frame": ("boot", lambda r: any("unreadable" in p for p in r.csms.problems)),
    "oversized_message": ("boot", lambda r: len(r.csms.conns) > 1),
    "no_response": ("rpc", lambda r: not isinstance(r.notes["clear"], rpc.CallResult)),
    "callerror_unknown_action_wrong_code": (
        "rpc",
        lambda r: getattr(r.notes["unknown"], "error_code", None) not in (None, "NotImplemented"),
    ),
    "answers_send": ("rpc", lambda r: r.notes["send_id"] in r.csms.results),
    "disconnect_mid_test": ("rpc", lambda r: len(r.csms.conns) > 1),
    "duplicate_message_id": (
        "rpc",
        lambda r: len({c[3] for c in r.csms.calls}) < len(r.csms.calls),
    ),
    "two_calls_outstanding": ("rpc", _two_outstanding),
    # -- pending / rejected
    "calls_while_pending": ("pending", lambda r: _between_boots(r, "Heartbeat")),
    "no_answer_while_pending": ("pending", lambda r: isinstance(r.notes["clear"], rpc.CallError)),
    "boot_retry_early": (
        "pending",
        lambda r: any(g < 0.15 for g in _gaps(r.csms.times("BootNotification"))),
    ),
    "pending_closes_connection": ("pending", lambda r: len(r.csms.conns) > 1),
    "no_boot_retry": ("pending", lambda r: len(r.payloads("BootNotification")) < 2),
    "boot_interval_zero_flood": ("pending_zero", lambda r: len(r.payloads("BootNotification")) > 2),
    "sends_while_rejected": ("rejected", lambda r: _between_boots(r, "Heartbeat")),
    "answers_while_rejected": (
        "rejected",
        lambda r: isinstance(r.notes["clear"], rpc.CallResult),
    ),
    "queued_before_boot": ("reboot_pending", lambda r: _between_boots(r, "TransactionEvent", 2)),
    # -- device model
    "set_variables_wrong_count": (
        "config",
        lambda r: len(_result(r, "set", "setVariableResult")) < 3,
    ),
    "set_unknown_component_wrong_status": (
        "config",
        lambda r: (
            [x["attributeStatus"] for x in _result(r, "set", "setVariableResult")][1:2]
            == ["UnknownVariable"]
        ),
    ),
    "set_readonly_accepted": (
        "config",
        lambda r: (
            [x["attributeStatus"] for x in _result(r, "set", "setVariableResult")][2:]
            == ["Accepted"]
        ),
    ),
    "set_not_applied": (
        "config",
        lambda r: _first(_result(r, "get", "getVariableResult")).get("attributeValue") != "50",
    ),
    "heartbeat_interval_not_applied": ("config", lambda r: r.notes["beats"] < 2),
    "get_variables_wrong_count": (
        "config",
        lambda r: len(_result(r, "get", "getVariableResult")) < 3,
    ),
    "get_unknown_component_wrong_status": (
        "config",
        lambda r: (
            [x["attributeStatus"] for x in _result(r, "get", "getVariableResult")][1:2]
            == ["UnknownVariable"]
        ),
    ),
    "get_value_for_unknown": (
        "config",
        lambda r: "attributeValue" in _result(r, "get", "getVariableResult")[1],
    ),
    "get_write_only_value": (
        "config",
        lambda r: (
            [x["attributeStatus"] for x in _result(r, "get", "getVariableResult")][2:]
            == ["Accepted"]
        ),
    ),
    "get_no_attribute_type": (
        "config",
        lambda r: "attributeType" not in _first(_result(r, "get", "getVariableResult")),
    ),
    "no_notify_report": ("config", lambda r: not _reports(r)),
    "report_wrong_request_id": ("config", lambda r: any(p["requestId"] != 3 for p in _reports(r))),
    "report_seq_no_from_one": ("config", lambda r: _first(_reports(r)).get("seqNo") != 0),
    "report_tbc_wrong": ("config", lambda r: bool(_reports(r)) and _reports(r)[-1]["tbc"]),
    "report_write_only_values": (
        "config",
        lambda r: any(
            "value" in a
            for p in _reports(r)
            for i in p.get("reportData", [])
            for a in i["variableAttribute"]
            if a.get("mutability") == "WriteOnly"
        ),
    ),
    "report_no_characteristics": (
        "config",
        lambda r: any(
            "variableCharacteristics" not in i for p in _reports(r) for i in p.get("reportData", [])
        ),
    ),
    # -- offline
    "no_offline_flag": (
        "offline_long",
        lambda r: any(
            not e.get("offline") for e in _after_mark(r, "TransactionEvent")[: r.notes["queued"]]
        ),
    ),
    "no_replay": (
        "offline_long",
        lambda r: not any(e.get("offline") for e in _after_mark(r, "TransactionEvent")),
    ),
    "replay_wrong_order": (
        "offline_long",
        lambda r: any(
            g < 0 for g in _gaps([e["seqNo"] for e in _after_mark(r, "TransactionEvent")])
        ),
    ),
    "no_status_after_offline": ("offline_long", lambda r: not _after_mark(r, "NotifyEvent")),
    "all_status_after_short_offline": (
        "offline_short",
        lambda r: len(states(_after_mark(r, "NotifyEvent"))) > 1,
    ),
    "no_reconnect_backoff": (
        "offline_short",
        lambda r: r.notes["reconnected"] - r.notes["online_at"] < 0.12,
    ),
    # -- E13
    "e13_no_retry": ("e13", lambda r: len(r.events()) < 2),
    "e13_retry_immediately": ("e13", lambda r: any(g < 0.05 for g in _gaps(_tx_times(r)))),
    "e13_never_discard": ("e13", lambda r: len(r.events()) > 3),
    # -- reset
    "reset_no_reboot": ("reset", lambda r: len(r.payloads("BootNotification")) < 2),
    "reset_wrong_boot_reason": (
        "reset",
        lambda r: [b["reason"] for b in r.payloads("BootNotification")][1:] == ["PowerUp"],
    ),
    "reset_immediate_no_stop": ("reset", lambda r: not r.ended()),
    "reset_wrong_stopped_reason": (
        "reset",
        lambda r: _first(r.ended()).get("triggerReason") != "ResetCommand",
    ),
    "reset_onidle_immediate": ("reset_idle", lambda r: _status(r, "reset") != "Scheduled"),
    # -- availability
    "change_availability_no_report": (
        "availability",
        lambda r: (
            r.notes["before"]["status"]["1/1"] == "Unavailable"
            and (1, 1, "Unavailable") not in states(_before_mark(r, "NotifyEvent"))
        ),
    ),
    "same_state_rejected": ("availability", lambda r: _status(r, "second") == "Rejected"),
    "evse_inoperative_connectors_available": (
        "availability",
        lambda r: r.notes["before"]["status"]["1/1"] == "Available",
    ),
    "availability_not_persisted": (
        "availability",
        lambda r: r.notes["after"]["evse_operative"]["1"] is True,
    ),
    "wrong_availability_after_reboot": (
        "availability",
        lambda r: (
            r.notes["after"]["evse_operative"]["1"] is False
            and (1, 1, "Available") in states(_after_mark(r, "NotifyEvent"))
        ),
    ),
    "change_availability_not_scheduled": (
        "availability_tx",
        lambda r: _status(r, "change") == "Accepted",
    ),
    "scheduled_unavailable_reported_available": (
        "availability_tx",
        lambda r: (1, 1, "Available") in states(_after_mark(r, "NotifyEvent")),
    ),
    "lock_failure_not_reported": (
        "lock",
        lambda r: not any("Problem" in str(p) for p in r.payloads("NotifyEvent")),
    ),
    "charges_despite_lock_failure": ("lock", lambda r: bool(r.events())),
    # -- alerts
    "alert_not_sent": ("alert", lambda r: not [a for a in r.alerts() if not a.get("cleared")]),
    "alert_wrong_trigger": ("alert", lambda r: any(a["trigger"] != "Alerting" for a in r.alerts())),
    "alert_no_monitor_id": (
        "alert",
        lambda r: any("variableMonitoringId" not in a for a in r.alerts()),
    ),
    "alert_seq_no_nonzero": (
        "alert",
        lambda r: any(p["seqNo"] != 0 for p in r.payloads("NotifyEvent")),
    ),
    "alert_no_clear": ("alert", lambda r: not any(a.get("cleared") for a in r.alerts())),
    "alert_ignores_level": ("alert_level", lambda r: bool(r.alerts())),
    "alert_not_queued_offline": ("alert_offline", lambda r: not r.alerts()),
    # -- E03, E05, E09, E10
    "ev_disconnect_ignored": ("ev_side_stop", lambda r: not r.ended()),
    "ev_disconnect_always_stops": ("ev_side_suspend", lambda r: bool(r.ended())),
    "ev_connect_timeout_ignored": ("timeout", lambda r: not r.ended()),
    "ignores_invalid_id": ("invalid", lambda r: not r.ended()),
    "deauthorized_wrong_reason": (
        "invalid",
        lambda r: _first(r.ended()).get("transactionInfo", {}).get("stoppedReason") == "Local",
    ),
    "wrong_trigger_deauthorized": (
        "invalid",
        lambda r: _first(r.ended()).get("triggerReason") == "StopAuthorized",
    ),
    # -- authorization
    "ignores_authorize_status": (
        "auth",
        lambda r: _started(r).get("idToken", {}).get("idToken") == "BAD",
    ),
    "ignores_evse_list": (
        "auth",
        lambda r: _started(r).get("idToken", {}).get("idToken") == "EVSE2ONLY",
    ),
    "different_token_allowed": (
        "auth",
        lambda r: any(e.get("idToken", {}).get("idToken") == "OTHER" for e in r.events()),
    ),
    "group_stop_refused": ("group", lambda r: len(r.ended()) < 2),
    "accepts_data_transfer": ("data", lambda r: _status(r, "answer") == "Accepted"),
    # -- added rules
    "payload_error_generic": (
        "rpc",
        lambda r: getattr(r.notes["invalid"], "error_code", None) == "GenericError",
    ),
    "unreadable_id_not_minus_one": ("rpc", lambda r: "0" in r.csms.results),
    "answers_unknown_message_type": ("rpc", lambda r: "type-seven" in r.csms.results),
    "answer_id_not_echoed": ("rpc", lambda r: not isinstance(r.notes["clear"], rpc.CallResult)),
    "evse_reset_reboots_station": ("evse_reset", lambda r: len(r.payloads("BootNotification")) > 1),
    "reset_drops_unanswered_event": (
        "reset_resend",
        lambda r: (
            not any(
                a == "TransactionEvent" and p["eventType"] == "Ended"
                for a, p in r.csms.since(r.csms.actions().index("BootNotification", 1) + 1)
            )
            if r.csms.actions().count("BootNotification") > 1
            else True
        ),
    ),
    "authorize_start_button": ("cable", lambda r: bool(r.payloads("Authorize"))),
    "ev_connected_start_ignored": (
        "cable",
        lambda r: _started(r).get("triggerReason") != "CablePluggedIn",
    ),
    "ev_suspend_not_reported": (
        "cable",
        lambda r: (
            not any(e["transactionInfo"].get("chargingState") == "SuspendedEV" for e in r.events())
        ),
    ),
    "authorized_start_waits_for_ev": ("timeout", lambda r: not r.events()),
    "power_path_starts_early": ("power_path", lambda r: bool(r.events())),
    "energy_transfer_starts_early": ("energy", lambda r: bool(r.events())),
    "stop_tx_on_invalid_id_ignored": (
        "invalid_keep",
        lambda r: any(e["triggerReason"] == "Deauthorized" for e in r.events()),
    ),
}


def test_every_fault_check_names_a_fault() -> None:
    """Faults added for a suite are proven by the suite (tests/test_ocpp_faults.py)."""
    assert set(FAULT_CHECKS) <= set(OcppStationEmulator.FAULTS)
    assert {scenario for scenario, _check in FAULT_CHECKS.values()} == set(SCENARIOS)


def _run(host: EmulatorHost, scenario: str, faults: list[str]) -> Run:
    play, boot, booted = SCENARIOS[scenario]
    run = Run(host, faults, boot)
    try:
        if booted:
            run.start()
        play(run)
    finally:
        run.stop()
    return run


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_fault_switches(host: EmulatorHost, scenario: str) -> None:
    """Without faults no check fires; each fault of the scenario fires its check."""
    faults = sorted(f for f, (s, _check) in FAULT_CHECKS.items() if s == scenario)
    cases: list[list[str]] = [[], *([f] for f in faults)]
    runs: dict[str, Run] = {}
    errors: list[BaseException] = []

    def play(case: list[str]) -> None:
        try:
            runs[case[0] if case else ""] = _run(host, scenario, case)
        except BaseException as exc:  # reported below, with the fault's name
            errors.append(exc)

    threads = [threading.Thread(target=play, args=(case,)) for case in cases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    clean = runs[""]
    assert clean.csms.problems == [], clean.csms.problems
    fired = [f for f in faults if FAULT_CHECKS[f][1](clean)]
    assert fired == [], f"checks fire without their fault: {fired}"
    missed = [f for f in faults if not FAULT_CHECKS[f][1](runs[f])]
    assert missed == [], f"faults that do not show: {missed}"
    for name, run in runs.items():
        assert run.emu.internal_errors == [], (name, run.emu.internal_errors[0])
