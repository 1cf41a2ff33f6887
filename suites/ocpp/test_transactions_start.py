"""E Transactions, starting one: E01 (start options), E02 (cable plugin
first), E03 (idToken first), E05 (idToken not accepted), seen from the CSMS,
after the Part 6 test cases TC_E_01/02/03/04/05/09/10_CS.

TxStartPoint, TxStopPoint, StopTxOnInvalidId and the other variables are set
per test with SetVariables and put back afterwards; a value the station does
not take skips the test (a station may support a subset, Part 2 §2.7.4).

Not tested here, and why:

* E01.FR.01, E03.FR.15: a parking bay detector is no action the suite can
  drive; E01.FR.04, E02.FR.14, E03.FR.10, E05.FR.06: signed meter values are
  optional hardware.
* E01.FR.11, .12, E02.FR.02, .04, E03.FR.02, E05.FR.01: CSMS-side requirements.
* E01.FR.13, E02.FR.03, E03.FR.03: reservations: H01.
* E01.FR.14: needs an EVSE with two connectors.
* E01.FR.17, E02.FR.21, E03.FR.11, E05.FR.08: apply only to a station that
  does not know the EVSE at the start; which one it is cannot be set.
* E02.FR.11, .16, E03.FR.09: optional behaviour (MAY); E02.FR.18, .19,
  E03.FR.13, .14: only for stations able to report phases, and the phases
  cannot be changed from here.
* E05.FR.03: needs the EV to draw a configured amount of energy; E05.FR.11
  (SHOULD keep the cable locked) is not observable from the CSMS.
* Same as a tested FR: E02.FR.07, E03.FR.06 and E05.FR.04 (E01.FR.07, asserted
  wherever a transaction has several events), E02.FR.08 (E01.FR.08), E02.FR.09, E03.FR.07, E05.FR.05
  (E01.FR.09), E03.FR.08 (E02.FR.10), E02.FR.15 (E01.FR.15), E02.FR.13
  (E01.FR.18).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from conformance.devices.ocpp import Exchange, OcppStation
from conformance.errors import Finding
from conformance.expect import expect
from conformance.ocpp.actions import Actions
from suites.ocpp.common import (
    CONNECTOR,
    EVSE,
    REACT,
    VALID_TOKEN,
    Settings,
    Tx,
    expect_authorize,
    expect_availability,
    present,
    quiet,
    reboot,
    same_token,
    since_21,
    within,
)

pytestmark = [pytest.mark.protocol("ocpp"), pytest.mark.feature("E Transactions")]

TX = "TxCtrlr"
SAMPLED = "SampledDataCtrlr"
ENERGY = "Energy.Active.Import.Register"
#: EVConnectionTimeOut (s) the E03.FR.05 test sets
EV_CONNECTION_TIMEOUT = 10
#: SampledDataCtrlr.TxUpdatedInterval (s) the E02.FR.10 test sets
UPDATED_INTERVAL = 10


# ---------------------------------------------------------------- helpers
def plug(station: OcppStation, act: Actions, *, requirement: str = "G01.FR.01") -> float:
    """Plug the EV in at EVSE 1; the connector reports Occupied.  Returns when
    the cable went in (monotonic)."""
    at = time.monotonic()
    act.plug(evse=EVSE, connector=CONNECTOR)
    expect_availability(station, "Occupied", within=within(station, REACT), requirement=requirement)
    return at


def last(tx: Tx) -> Exchange:
    return tx.events[-1]


def info(payload: dict[str, Any]) -> dict[str, Any]:
    return payload.get("transactionInfo", {})


def charging(payload: dict[str, Any]) -> bool:
    return info(payload).get("chargingState") == "Charging"


def check(tx: Tx, condition: bool, summary: str, *, requirement: str, expected: str) -> None:
    """*condition* about the last TransactionEvent of *tx* must hold."""
    __tracebackhide__ = True
    expect(condition, summary, requirement=requirement, received=last(tx).frame, expected=expected)


def check_trigger(tx: Tx, *allowed: str, requirement: str = "E01.FR.15") -> None:
    __tracebackhide__ = True
    got = last(tx).payload.get("triggerReason")
    check(
        tx,
        got in allowed,
        f"TransactionEvent {last(tx).payload.get('eventType')} has triggerReason {got}",
        requirement=requirement,
        expected=f"triggerReason {' or '.join(allowed)}",
    )


def check_evse(tx: Tx, requirement: str = "E01.FR.16") -> None:
    """The last event names the EVSE and connector the EV is connected to."""
    __tracebackhide__ = True
    evse = last(tx).payload.get("evse", {})
    check(
        tx,
        evse.get("id") == EVSE and evse.get("connectorId") == CONNECTOR,
        f"first TransactionEvent after the EV connected has evse {evse or 'absent'}",
        requirement=requirement,
        expected=f"evse.id {EVSE} and evse.connectorId {CONNECTOR}",
    )


def check_token(tx: Tx, token: dict[str, Any], requirement: str = "E01.FR.10") -> None:
    __tracebackhide__ = True
    got = last(tx).payload.get("idToken")
    check(
        tx,
        same_token(got, token),
        f"TransactionEvent after authorization has idToken {got or 'absent'}",
        requirement=requirement,
        expected=f"idToken {token['idToken']!r} type {token['type']}",
    )


def check_after(tx: Tx, since: float, what: str, requirement: str) -> None:
    """The transaction started no earlier than *since*, the moment of *what*."""
    __tracebackhide__ = True
    check(
        tx,
        last(tx).at >= since,
        f"transaction started before {what}",
        requirement=requirement,
        expected=f"TransactionEventRequest Started only after {what}",
    )


def authorize(station: OcppStation, act: Actions, token: dict[str, Any] = VALID_TOKEN) -> None:
    present(act, token)
    expect_authorize(station, token)


def start_charging(station: OcppStation, act: Actions) -> Tx:
    """EV plugged in, idToken Accepted, energy flowing (EnergyTransferStarted)."""
    tx = Tx(station, EVSE)
    plug(station, act)
    authorize(station, act)
    tx.expect(where=charging, within=within(station, REACT), requirement="E01.FR.18")
    return tx


# ---------------------------------------------------------------- E01
@pytest.mark.story("E01 Start Transaction options")
@pytest.mark.requirement("E01.FR.02", "E01.FR.07", "E01.FR.10", "E01.FR.15", "E01.FR.16",
                         "E01.FR.18")  # fmt: skip
def test_e01_fr_02_ev_connected_starts_the_transaction(
    station_settings: Settings, settled: OcppStation, act: Actions
) -> None:
    """TxStartPoint EVConnected: plugging in starts the transaction, before
    any idToken (TC_E_09_CS); the later authorization brings the idToken."""
    station_settings.set(TX, "TxStartPoint", "EVConnected")
    tx = Tx(settled, EVSE)
    plug(settled, act)
    tx.expect("Started", within=within(settled, REACT), requirement="E01.FR.02")
    check_trigger(tx, "CablePluggedIn", "ChargingStateChanged")
    check_evse(tx)
    state = info(last(tx).payload).get("chargingState")
    check(
        tx,
        state == "EVConnected",
        f"Started without authorization has chargingState {state}",
        requirement="E01.FR.18",
        expected="chargingState EVConnected",
    )
    authorize(settled, act)
    tx.expect(where=lambda p: "idToken" in p, within=within(settled, REACT),
              requirement="E01.FR.10")  # fmt: skip
    check_token(tx, VALID_TOKEN)
    tx.check_sequence()


@pytest.mark.story("E01 Start Transaction options")
@pytest.mark.requirement("E01.FR.03", "E01.FR.07", "E01.FR.10", "E01.FR.15", "E01.FR.16")
def test_e01_fr_03_authorization_starts_the_transaction(
    station_settings: Settings, settled: OcppStation, act: Actions
) -> None:
    """TxStartPoint Authorized: the Accepted idToken starts the transaction
    before any cable (TC_E_10_CS); plugging in then names EVSE and connector."""
    station_settings.set(TX, "TxStartPoint", "Authorized")
    tx = Tx(settled, EVSE)
    authorize(settled, act)
    tx.expect("Started", within=within(settled, REACT), requirement="E01.FR.03")
    check_trigger(tx, "Authorized")
    check_token(tx, VALID_TOKEN)
    plug(settled, act)
    tx.expect(within=within(settled, REACT), requirement="E01.FR.16")
    check_evse(tx)
    tx.check_sequence()


@pytest.mark.story("E01 Start Transaction options")
@pytest.mark.requirement("E01.FR.05", "E01.FR.07", "E01.FR.10", "E01.FR.15", "E01.FR.16")
def test_e01_fr_05_power_path_closed_starts_the_transaction(
    station_settings: Settings, settled: OcppStation, act: Actions
) -> None:
    """TxStartPoint PowerPathClosed: authorized and connected starts the
    transaction, not the authorization alone (TC_E_01_CS)."""
    station_settings.set(TX, "TxStartPoint", "PowerPathClosed")
    tx = Tx(settled, EVSE)
    authorize(settled, act)
    plugged = plug(settled, act)
    tx.expect("Started", within=within(settled, REACT), requirement="E01.FR.05")
    check_after(tx, plugged, "the EV was connected", "E01.FR.05")
    check_trigger(tx, "CablePluggedIn", "ChargingStateChanged", "Authorized")
    check_token(tx, VALID_TOKEN)
    check_evse(tx)
    tx.check_sequence()


@pytest.mark.story("E01 Start Transaction options")
@pytest.mark.requirement("E01.FR.06", "E01.FR.07", "E01.FR.10", "E01.FR.15", "E01.FR.16")
def test_e01_fr_06_energy_transfer_starts_the_transaction(
    station_settings: Settings, settled: OcppStation, act: Actions
) -> None:
    """TxStartPoint EnergyTransfer: the transaction starts with the energy
    flow, its first event reports Charging (TC_E_02_CS)."""
    station_settings.set(TX, "TxStartPoint", "EnergyTransfer")
    tx = Tx(settled, EVSE)
    authorize(settled, act)
    plugged = plug(settled, act)
    tx.expect("Started", within=within(settled, REACT), requirement="E01.FR.06")
    check_after(tx, plugged, "the EV was connected", "E01.FR.06")
    state = info(last(tx).payload).get("chargingState")
    check(
        tx,
        state == "Charging",
        f"Started with TxStartPoint EnergyTransfer has chargingState {state}",
        requirement="E01.FR.06",
        expected="chargingState Charging: the transaction starts when energy flows",
    )
    check_trigger(tx, "ChargingStateChanged", "Authorized", "CablePluggedIn")
    check_token(tx, VALID_TOKEN)
    check_evse(tx)
    tx.check_sequence()


@pytest.mark.story("E01 Start Transaction options")
@pytest.mark.requirement("E01.FR.08", "E02.FR.08")
def test_e01_fr_08_every_transaction_gets_a_new_id(
    station_settings: Settings, settled: OcppStation, act: Actions
) -> None:
    """Two transactions in a row, and one after a power cycle, have three
    different transactionIds."""
    station_settings.set(TX, "TxStartPoint", "EVConnected")
    station_settings.set(TX, "TxStopPoint", "EVConnected")
    seen: list[str] = []
    for round_ in range(3):
        if round_ == 2:
            reboot(settled, act)
        tx = Tx(settled, EVSE)
        plug(settled, act)
        tx.expect("Started", within=within(settled, REACT), requirement="E01.FR.02")
        assert tx.transaction_id is not None
        if tx.transaction_id in seen:
            raise Finding(
                f"transactionId {tx.transaction_id!r} was used before "
                f"({'after a power cycle' if round_ == 2 else 'in the previous transaction'})",
                requirement="E01.FR.08",
                received=last(tx).frame,
                expected=f"a transactionId other than {seen}",
            )
        seen.append(tx.transaction_id)
        act.unplug(evse=EVSE, connector=CONNECTOR)
        tx.expect("Ended", within=within(settled, REACT), requirement="E06.FR.02")


@pytest.mark.story("E01 Start Transaction options")
@pytest.mark.requirement("E01.FR.09")
def test_e01_fr_09_started_carries_the_transaction_begin_meter_values(
    station_settings: Settings, settled: OcppStation, act: Actions
) -> None:
    """With TxStartedMeasurands set, the Started event has them in meterValue
    with context Transaction.Begin (EVSE known: TxStartPoint EVConnected)."""
    station_settings.set(TX, "TxStartPoint", "EVConnected")
    station_settings.set(SAMPLED, "TxStartedMeasurands", ENERGY)
    tx = Tx(settled, EVSE)
    plug(settled, act)
    started = tx.expect("Started", within=within(settled, REACT), requirement="E01.FR.02")
    samples = [
        s
        for mv in started.get("meterValue", [])
        for s in mv.get("sampledValue", [])
        if s.get("context") == "Transaction.Begin" and s.get("measurand", ENERGY) == ENERGY
    ]
    check(
        tx,
        bool(samples),
        "Started has no Transaction.Begin sample of the configured measurand",
        requirement="E01.FR.09",
        expected=f"meterValue with a sampledValue of {ENERGY}, context Transaction.Begin",
    )


@pytest.mark.story("E01 Start Transaction options")
@pytest.mark.requirement("E01.FR.18", "E01.FR.19", "E01.FR.20")
def test_e01_fr_19_ev_suspending_and_resuming_is_reported(
    settled: OcppStation, act: Actions
) -> None:
    """The EV pausing the energy transfer is reported as chargingState
    SuspendedEV (or EVConnected), its resuming as Charging again."""
    tx = start_charging(settled, act)
    act.ev_suspend(evse=EVSE)
    suspended = tx.expect(
        where=lambda p: info(p).get("chargingState") in ("SuspendedEV", "EVConnected"),
        within=within(settled, REACT),
        requirement="E01.FR.19",
    )
    if suspended["eventType"] != "Ended":  # not ended by TxStopPoint EnergyTransfer
        act.ev_resume(evse=EVSE)
        tx.expect(where=charging, within=within(settled, REACT), requirement="E01.FR.18")
    tx.check_sequence()


# ---------------------------------------------------------------- E02
@pytest.mark.story("E02 Start Transaction - Cable Plugin First")
@pytest.mark.requirement("E02.FR.01", "E02.FR.05", "E02.FR.06", "E02.FR.07", "E02.FR.13",
                         "E02.FR.17", "E02.FR.20", "E01.FR.16")  # fmt: skip
def test_e02_fr_01_cable_plugin_first_then_authorization(
    station_settings: Settings, settled: OcppStation, act: Actions
) -> None:
    """Plug in, then authorize: Occupied, Started at plug-in, the next event
    says Authorized with the idToken, then Charging (TC_E_03_CS)."""
    station_settings.set(TX, "TxStartPoint", "EVConnected")
    tx = Tx(settled, EVSE)
    plug(settled, act, requirement="E02.FR.05")
    tx.expect("Started", within=within(settled, REACT), requirement="E02.FR.06")
    check_trigger(tx, "CablePluggedIn", "ChargingStateChanged", requirement="E02.FR.17")
    check_evse(tx)
    authorize(settled, act)
    tx.expect(within=within(settled, REACT), requirement="E02.FR.01")
    check_trigger(tx, "Authorized", requirement="E02.FR.01")
    check_token(tx, VALID_TOKEN, requirement="E02.FR.20")
    if not charging(last(tx).payload):
        tx.expect(where=charging, within=within(settled, REACT), requirement="E02.FR.13")
    tx.check_sequence("E02.FR.07")


@pytest.mark.story("E02 Start Transaction - Cable Plugin First")
@pytest.mark.requirement("E02.FR.10", "E02.FR.17")
def test_e02_fr_10_updated_events_carry_the_periodic_meter_values(
    station_settings: Settings, settled: OcppStation, act: Actions
) -> None:
    """While charging, an Updated event every TxUpdatedInterval carries the
    TxUpdatedMeasurands (triggerReason MeterValuePeriodic)."""
    station_settings.set(SAMPLED, "TxUpdatedMeasurands", ENERGY)
    station_settings.set(SAMPLED, "TxUpdatedInterval", str(UPDATED_INTERVAL))
    tx = start_charging(settled, act)
    periodic = tx.expect(
        "Updated",
        trigger="MeterValuePeriodic",
        within=within(settled, 2 * UPDATED_INTERVAL),
        requirement="E02.FR.17",
    )
    measurands = {
        s.get("measurand", ENERGY)
        for mv in periodic.get("meterValue", [])
        for s in mv.get("sampledValue", [])
    }
    check(
        tx,
        ENERGY in measurands,
        f"periodic Updated event samples {sorted(measurands) or 'nothing'}",
        requirement="E02.FR.10",
        expected=f"meterValue with the configured measurand {ENERGY}",
    )


# ---------------------------------------------------------------- E03
@pytest.mark.story("E03 Start Transaction - IdToken First")
@pytest.mark.requirement("E03.FR.01", "E03.FR.06", "E03.FR.12", "E01.FR.16")
def test_e03_fr_01_idtoken_first_then_cable(
    station_settings: Settings, settled: OcppStation, act: Actions
) -> None:
    """Authorize, then plug in: Started with the idToken, CablePluggedIn with
    EVSE and connector, then Charging (TC_E_04_CS, TxStartPoint Authorized)."""
    station_settings.set(TX, "TxStartPoint", "Authorized")
    tx = Tx(settled, EVSE)
    authorize(settled, act)
    tx.expect("Started", within=within(settled, REACT), requirement="E01.FR.03")
    check_token(tx, VALID_TOKEN, requirement="E03.FR.01")
    plug(settled, act)
    tx.expect(within=within(settled, REACT), requirement="E03.FR.12")
    check_trigger(tx, "CablePluggedIn", requirement="E03.FR.12")
    check_evse(tx)
    if not charging(last(tx).payload):
        tx.expect(where=charging, within=within(settled, REACT), requirement="E01.FR.18")
    tx.check_sequence("E03.FR.06")


@pytest.mark.story("E03 Start Transaction - IdToken First")
@pytest.mark.requirement("E03.FR.05")
def test_e03_fr_05_no_cable_before_the_timeout_ends_the_transaction(
    station_settings: Settings, settled: OcppStation, act: Actions
) -> None:
    """Authorized but no cable within EVConnectionTimeOut: the transaction
    ends with triggerReason EVConnectTimeout, stoppedReason Timeout
    (TC_E_05_CS, TxStartPoint and TxStopPoint Authorized)."""
    station_settings.set(TX, "TxStartPoint", "Authorized")
    station_settings.set(TX, "TxStopPoint", "Authorized")
    station_settings.set(TX, "EVConnectionTimeOut", str(EV_CONNECTION_TIMEOUT))
    tx = Tx(settled, EVSE)
    authorize(settled, act)
    tx.expect("Started", within=within(settled, REACT), requirement="E01.FR.03")
    tx.expect("Ended", within=within(settled, 2 * EV_CONNECTION_TIMEOUT), requirement="E03.FR.05")
    check_trigger(tx, "EVConnectTimeout", requirement="E03.FR.05")
    reason = info(last(tx).payload).get("stoppedReason")
    check(
        tx,
        reason == "Timeout",
        f"Ended after EVConnectionTimeOut has stoppedReason {reason}",
        requirement="E03.FR.05",
        expected="stoppedReason Timeout",
    )
    tx.check_sequence("E03.FR.06")


# ---------------------------------------------------------------- E05
def start_rejected(
    settings: Settings, station: OcppStation, act: Actions, *, stop_tx: str, stop_point: str
) -> Tx:
    """E05 scenario: idToken Accepted by AuthorizeResponse, the transaction
    starts (TxStartPoint PowerPathClosed) and its TransactionEventResponse says
    Invalid.  Returns the transaction, Started taken."""
    settings.set(TX, "TxStartPoint", "PowerPathClosed")
    settings.set(TX, "TxStopPoint", stop_point)
    settings.set(TX, "StopTxOnInvalidId", stop_tx)
    if stop_tx == "false" and not settings.set(TX, "MaxEnergyOnInvalidId", "0", required=False):
        allowance = settings.get(TX, "MaxEnergyOnInvalidId")
        if allowance not in (None, "0"):  # E05.FR.03 would apply instead
            pytest.skip(f"MaxEnergyOnInvalidId stays {allowance}: E05.FR.03 applies, not .02")

    def reject(call: Any) -> dict[str, Any]:
        if "idToken" in call.payload:
            return {"idTokenInfo": {"status": "Invalid"}}
        return {}

    station.csms.on("TransactionEvent", reject)
    tx = Tx(station, EVSE)
    plug(station, act)
    authorize(station, act)
    tx.expect(where=lambda p: "idToken" in p, within=within(station, REACT),
              requirement="E01.FR.10")  # fmt: skip
    return tx


@pytest.mark.story("E05 Start Transaction - Id not Accepted")
@pytest.mark.requirement("E05.FR.02", "E05.FR.04")
def test_e05_fr_02_invalid_idtoken_suspends_the_energy(
    station_settings: Settings, settled: OcppStation, act: Actions
) -> None:
    """StopTxOnInvalidId false: on Invalid the station stops the energy
    (ChargingStateChanged to SuspendedEVSE) and keeps the transaction."""
    tx = start_rejected(station_settings, settled, act, stop_tx="false", stop_point="EVConnected")
    tx.expect(
        trigger="ChargingStateChanged",
        where=lambda p: info(p).get("chargingState") == "SuspendedEVSE",
        within=within(settled, REACT),
        requirement="E05.FR.02",
    )
    settled.expect_none(
        "TransactionEvent",
        lambda p: (
            info(p)["transactionId"] == tx.transaction_id
            and (p["eventType"] == "Ended" or p["triggerReason"] == "Deauthorized")
        ),
        within=quiet(settled),
        requirement="E05.FR.02",
        expected="the transaction goes on, not deauthorized (StopTxOnInvalidId false)",
    )
    tx.check_sequence("E05.FR.04")


@since_21
@pytest.mark.story("E05 Start Transaction - Id not Accepted")
@pytest.mark.requirement("E05.FR.09", "E05.FR.04")
def test_e05_fr_09_invalid_idtoken_deauthorizes_and_keeps_the_transaction(
    station_settings: Settings, settled: OcppStation, act: Actions
) -> None:
    """StopTxOnInvalidId true, TxStopPoint EVConnected: on Invalid an Updated
    event with triggerReason Deauthorized, chargingState EVConnected in it or
    the next one."""
    tx = start_rejected(station_settings, settled, act, stop_tx="true", stop_point="EVConnected")
    tx.expect(trigger="Deauthorized", within=within(settled, REACT), requirement="E05.FR.09")
    kind = last(tx).payload["eventType"]
    check(
        tx,
        kind == "Updated",
        f"Deauthorized event has eventType {kind}",
        requirement="E05.FR.09",
        expected="eventType Updated: TxStopPoint EVConnected keeps the transaction",
    )
    if info(last(tx).payload).get("chargingState") != "EVConnected":
        tx.expect(within=within(settled, REACT), requirement="E05.FR.09")
        state = info(last(tx).payload).get("chargingState")
        check(
            tx,
            state == "EVConnected",
            f"the event after Deauthorized has chargingState {state or 'absent'}",
            requirement="E05.FR.09",
            expected="chargingState EVConnected in the Deauthorized event or the next one",
        )
    tx.check_sequence("E05.FR.04")


@pytest.mark.story("E05 Start Transaction - Id not Accepted")
@pytest.mark.requirement("E05.FR.10", "E05.FR.04")
def test_e05_fr_10_invalid_idtoken_ends_the_transaction(
    station_settings: Settings, settled: OcppStation, act: Actions
) -> None:
    """StopTxOnInvalidId true, TxStopPoint Authorized: on Invalid the
    transaction ends, triggerReason Deauthorized, stoppedReason DeAuthorized."""
    tx = start_rejected(station_settings, settled, act, stop_tx="true", stop_point="Authorized")
    tx.expect("Ended", within=within(settled, REACT), requirement="E05.FR.10")
    check_trigger(tx, "Deauthorized", requirement="E05.FR.10")
    reason = info(last(tx).payload).get("stoppedReason")
    check(
        tx,
        reason == "DeAuthorized",
        f"Ended after an Invalid idToken has stoppedReason {reason}",
        requirement="E05.FR.10",
        expected="stoppedReason DeAuthorized",
    )
    tx.check_sequence("E05.FR.04")
