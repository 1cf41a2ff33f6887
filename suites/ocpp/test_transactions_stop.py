"""E Transactions, ending one: E06 (stop options), E07 (local stop by
idToken), E09 and E10 (cable pulled at the EV side), seen from the CSMS, after
the Part 6 test cases TC_E_06/07/08/15/20/22/24/26/37_CS and TC_C_40_CS.

TxStopPoint, StopTxOnEVSideDisconnect and the TxEndedMeasurands are set per
test with SetVariables and put back afterwards; a value the station does not
take skips the test (a station may support a subset, Part 2 §2.7.5).

Not tested here, and why:

* E06.FR.01: a parking bay detector is no action the suite can drive.
* E06.FR.04: refers to E05; asserted by the E05.FR.10 test (transactions start).
* E06.FR.05: deleted by the errata 2025-09 (§2.8).
* E06.FR.10, E07.FR.07, E09.FR.02, E09.FR.03, E10.FR.01 (the lock itself):
  whether the cable is locked is not reported to the CSMS.  E10.FR.01 is
  asserted through what it implies: the transaction goes on.
* E06.FR.12, .13, E07.FR.09, .10, E09.FR.06, .07, E10.FR.05, .06: dropping
  meter data when low on memory cannot be caused from the CSMS.
* E06.FR.09, E07.FR.04: allow leaving stoppedReason out after a local stop
  (MAY); the tests accept it.
* E06.FR.16: no action of the suite raises an abnormal error or fault
  condition (a power cycle is E17, resuming transactions).
* E07.FR.12, E09.FR.08, E10.FR.07: signed meter values are optional hardware.
* E10.FR.02: needs a permanently attached cable.
* Same as a tested FR: E06.FR.14, E07.FR.11, E09.FR.04, E10.FR.03 (E01.FR.07,
  asserted in every test).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from conformance.devices.ocpp import OcppStation
from conformance.expect import expect
from conformance.ocpp.actions import Actions
from suites.ocpp.common import (
    CONNECTOR,
    ENERGY_REGISTER,
    EVSE,
    OTHER_TOKEN,
    REACT,
    VALID_TOKEN,
    Settings,
    Tx,
    charging_state,
    local_list_entry,
    measurands_of,
    present,
    quiet,
    same_token,
    sampled_values,
    start_energy_transfer,
    within,
)

pytestmark = [pytest.mark.protocol("ocpp"), pytest.mark.feature("E Transactions")]

TX = "TxCtrlr"
SAMPLED = "SampledDataCtrlr"
GROUP = "CONFGROUP"


# ---------------------------------------------------------------- helpers
def info(payload: dict[str, Any]) -> dict[str, Any]:
    return payload.get("transactionInfo", {})


def check(tx: Tx, condition: bool, summary: str, *, requirement: str, expected: str) -> None:
    """*condition* about the last TransactionEvent of *tx* must hold."""
    __tracebackhide__ = True
    expect(
        condition, summary, requirement=requirement, received=tx.events[-1].frame, expected=expected
    )


def check_trigger(tx: Tx, *allowed: str, requirement: str = "E06.FR.15") -> None:
    __tracebackhide__ = True
    payload = tx.events[-1].payload
    got = payload.get("triggerReason")
    check(
        tx,
        got in allowed,
        f"TransactionEvent {payload.get('eventType')} has triggerReason {got}",
        requirement=requirement,
        expected=f"triggerReason {' or '.join(allowed)}",
    )


def check_reason(tx: Tx, *allowed: str | None, requirement: str) -> None:
    """stoppedReason of the Ended event is one of *allowed* (None: left out)."""
    __tracebackhide__ = True
    got = info(tx.events[-1].payload).get("stoppedReason")
    shown = [a or "left out" for a in allowed]
    check(
        tx,
        got in allowed,
        f"Ended has stoppedReason {got or 'left out'}",
        requirement=requirement,
        expected=f"stoppedReason {' or '.join(shown)}",
    )


def check_reason_given(tx: Tx, *appropriate: str) -> None:
    """A transaction the driver did not end at the station: stoppedReason is
    present (E06.FR.08) and the most appropriate value (E07.FR.06)."""
    __tracebackhide__ = True
    got = info(tx.events[-1].payload).get("stoppedReason")
    check(
        tx,
        got is not None,
        "Ended of a transaction the driver did not end has no stoppedReason",
        requirement="E06.FR.08",
        expected=f"stoppedReason {' or '.join(appropriate)}",
    )
    check_reason(tx, *appropriate, requirement="E07.FR.06")


def check_ended_meter_values(tx: Tx, requirement: str = "E06.FR.11") -> None:
    """The Ended event carries the TxEndedMeasurands the test set (only the
    energy register) with a sample of context Transaction.End."""
    __tracebackhide__ = True
    end = sampled_values(tx.events[-1].payload, "Transaction.End")
    check(
        tx,
        ENERGY_REGISTER in measurands_of(end),
        f"Ended has Transaction.End samples of {sorted(measurands_of(end)) or 'nothing'}",
        requirement=requirement,
        expected=f"meterValue with {ENERGY_REGISTER}, context Transaction.End (TxEndedMeasurands)",
    )


def ended_meter_values(settings: Settings) -> None:
    settings.set(SAMPLED, "TxEndedMeasurands", ENERGY_REGISTER)


def stop_point(settings: Settings, value: str) -> None:
    settings.set(TX, "TxStopPoint", value)


def unplug(act: Actions) -> None:
    act.unplug(evse=EVSE, connector=CONNECTOR)


def no_authorize_since(station: OcppStation, since: float, requirement: str) -> None:
    """No AuthorizeRequest went out after *since* (monotonic)."""
    __tracebackhide__ = True
    asked = [e for e in station.received("Authorize") if e.at >= since]
    expect(
        not asked,
        "station sent an AuthorizeRequest before ending the authorization",
        requirement=requirement,
        received=asked[0].frame if asked else None,
        expected="the authorization ends without an AuthorizeRequest",
    )


# ---------------------------------------------------------------- E06
@pytest.mark.story("E06 Stop Transaction options")
@pytest.mark.requirement("E06.FR.02", "E06.FR.08", "E06.FR.11", "E06.FR.15", "E07.FR.06",
                         "E01.FR.07", "E01.FR.18")  # fmt: skip
def test_e06_fr_02_ev_disconnect_ends_the_transaction(
    station_settings: Settings, booted: OcppStation, act: Actions
) -> None:
    """TxStopPoint EVConnected: the EV leaving ends the transaction, triggerReason
    EVCommunicationLost, stoppedReason EVDisconnected, chargingState Idle and the
    TxEndedMeasurands in it (TC_E_20_CS)."""
    stop_point(station_settings, "EVConnected")
    station_settings.set(TX, "StopTxOnEVSideDisconnect", "false", required=False)
    ended_meter_values(station_settings)
    tx = start_energy_transfer(booted, act)
    unplug(act)
    tx.expect("Ended", within=within(booted, REACT), requirement="E06.FR.02")
    check_trigger(tx, "EVCommunicationLost")
    check_reason_given(tx, "EVDisconnected", "StoppedByEV")
    state = charging_state(tx.events[-1].payload)
    check(
        tx,
        state in ("Idle", None),
        f"Ended after the EV left has chargingState {state}",
        requirement="E01.FR.18",
        expected="chargingState Idle (or unchanged and left out)",
    )
    check_ended_meter_values(tx)
    tx.check_sequence()
    present(act, VALID_TOKEN)  # the driver comes back for a cable still locked (E10.FR.01)


@pytest.mark.story("E06 Stop Transaction options")
@pytest.mark.requirement("E06.FR.06", "E06.FR.15", "E06.FR.11", "E01.FR.07")
@pytest.mark.parametrize("how", ["local_stop", "ev_disconnect"])
def test_e06_fr_06_power_path_closed_ends_the_transaction(
    station_settings: Settings, booted: OcppStation, act: Actions, how: str
) -> None:
    """TxStopPoint PowerPathClosed: the idToken presented again (TC_E_07_CS) or
    the EV leaving (TC_E_37_CS) ends the transaction."""
    stop_point(station_settings, "PowerPathClosed")
    ended_meter_values(station_settings)
    tx = start_energy_transfer(booted, act)
    if how == "local_stop":
        present(act, VALID_TOKEN)
        tx.expect("Ended", within=within(booted, REACT), requirement="E06.FR.06")
        check_trigger(tx, "StopAuthorized")
    else:
        unplug(act)
        tx.expect("Ended", within=within(booted, REACT), requirement="E06.FR.06")
        check_trigger(tx, "EVCommunicationLost")
    check_ended_meter_values(tx)
    tx.check_sequence()


@pytest.mark.story("E06 Stop Transaction options")
@pytest.mark.requirement("E06.FR.07", "E06.FR.15", "E06.FR.08", "E07.FR.06", "E01.FR.07")
@pytest.mark.parametrize("how", ["local_stop", "ev_suspends"])
def test_e06_fr_07_energy_transfer_stop_ends_the_transaction(
    station_settings: Settings, booted: OcppStation, act: Actions, how: str
) -> None:
    """TxStopPoint EnergyTransfer: the energy transfer stopping ends the
    transaction, whether the driver stops it (TC_E_08_CS) or the EV stops
    drawing energy (Part 2 E06 S6; TC_E_22_CS): ChargingStateChanged,
    stoppedReason StoppedByEV."""
    stop_point(station_settings, "EnergyTransfer")
    tx = start_energy_transfer(booted, act)
    if how == "local_stop":
        present(act, VALID_TOKEN)
        tx.expect("Ended", within=within(booted, REACT), requirement="E06.FR.07")
        check_trigger(tx, "StopAuthorized")
    else:
        act.ev_suspend(evse=EVSE)
        tx.expect("Ended", within=within(booted, REACT), requirement="E06.FR.07")
        check_trigger(tx, "ChargingStateChanged", "EnergyLimitReached")
        check_reason_given(tx, "StoppedByEV")
    tx.check_sequence()


# ---------------------------------------------------------------- E07
@pytest.mark.story("E07 Transaction locally stopped by IdToken")
@pytest.mark.requirement("E07.FR.01", "E07.FR.02", "E07.FR.05", "E07.FR.08", "E06.FR.03",
                         "E01.FR.07")  # fmt: skip
def test_e07_fr_01_same_idtoken_ends_the_transaction(
    station_settings: Settings, booted: OcppStation, act: Actions
) -> None:
    """TxStopPoint Authorized: the starting idToken presented again ends the
    transaction without an AuthorizeRequest: Ended, triggerReason StopAuthorized
    with that idToken, stoppedReason Local or left out (TC_E_06/15_CS)."""
    stop_point(station_settings, "Authorized")
    ended_meter_values(station_settings)
    tx = start_energy_transfer(booted, act)
    since = present(act, VALID_TOKEN)
    tx.expect("Ended", within=within(booted, REACT), requirement="E06.FR.03")
    no_authorize_since(booted, since, "E07.FR.01")
    check_trigger(tx, "StopAuthorized", requirement="E07.FR.02")
    got = tx.events[-1].payload.get("idToken")
    check(
        tx,
        same_token(got, VALID_TOKEN),
        f"StopAuthorized event has idToken {got or 'absent'}",
        requirement="E07.FR.02",
        expected=f"the idToken that stopped the authorization, {VALID_TOKEN['idToken']!r}",
    )
    check_reason(tx, "Local", None, requirement="E07.FR.05")
    check_ended_meter_values(tx, "E07.FR.08")
    tx.check_sequence()


@pytest.mark.story("E07 Transaction locally stopped by IdToken")
@pytest.mark.requirement("E07.FR.01", "E07.FR.02", "E07.FR.08", "E06.FR.02", "E01.FR.07")
def test_e07_fr_02_stop_authorized_is_reported_before_the_ev_leaves(
    station_settings: Settings, booted: OcppStation, act: Actions
) -> None:
    """TxStopPoint EVConnected: the idToken presented again ends the
    authorization (Updated, StopAuthorized, energy stops), the transaction ends
    when the EV leaves (Part 2 E07 Figure 65 alternative)."""
    stop_point(station_settings, "EVConnected")
    ended_meter_values(station_settings)
    tx = start_energy_transfer(booted, act)
    since = present(act, VALID_TOKEN)
    tx.expect(trigger="StopAuthorized", within=within(booted, REACT), requirement="E07.FR.02")
    no_authorize_since(booted, since, "E07.FR.01")
    payload = tx.events[-1].payload
    check(
        tx,
        payload["eventType"] == "Updated",
        f"StopAuthorized event has eventType {payload['eventType']}",
        requirement="E07.FR.02",
        expected="eventType Updated: TxStopPoint EVConnected keeps the transaction",
    )
    check(
        tx,
        same_token(payload.get("idToken"), VALID_TOKEN),
        f"StopAuthorized event has idToken {payload.get('idToken') or 'absent'}",
        requirement="E07.FR.02",
        expected=f"idToken {VALID_TOKEN['idToken']!r}",
    )
    if charging_state(payload) in (None, "Charging"):
        tx.expect(
            where=lambda p: charging_state(p) not in (None, "Charging"),
            within=within(booted, REACT),
            requirement="E07.FR.01",
        )
    unplug(act)
    tx.expect("Ended", within=within(booted, REACT), requirement="E06.FR.02")
    check_ended_meter_values(tx, "E07.FR.08")
    tx.check_sequence()


@pytest.mark.story("E07 Transaction locally stopped by IdToken")
@pytest.mark.requirement("E07.FR.01", "E07.FR.02")
def test_e07_fr_01_idtoken_of_the_same_group_ends_the_transaction(
    station_settings: Settings, booted: OcppStation, act: Actions
) -> None:
    """Another idToken, Accepted in the Local Authorization List with the group
    of the starting idToken, ends the authorization without an AuthorizeRequest;
    the StopAuthorized event names it (TC_C_40_CS)."""
    stop_point(station_settings, "Authorized")
    booted.csms.groups[VALID_TOKEN["idToken"]] = GROUP
    with local_list_entry(booted, OTHER_TOKEN, GROUP):
        tx = start_energy_transfer(booted, act)
        since = present(act, OTHER_TOKEN)
        tx.expect(trigger="StopAuthorized", within=within(booted, REACT),
                  requirement="E07.FR.01")  # fmt: skip
        no_authorize_since(booted, since, "E07.FR.01")
        got = tx.events[-1].payload.get("idToken")
        check(
            tx,
            same_token(got, OTHER_TOKEN),
            f"StopAuthorized event has idToken {got or 'absent'}",
            requirement="E07.FR.02",
            expected=f"the idToken that stopped the authorization, {OTHER_TOKEN['idToken']!r}",
        )


# ---------------------------------------------------------------- E09, E10
@pytest.mark.story("E09 When cable disconnected on EV-side: Stop Transaction")
@pytest.mark.requirement("E09.FR.01", "E09.FR.05", "E06.FR.08", "E06.FR.15", "E07.FR.06",
                         "E01.FR.07")  # fmt: skip
def test_e09_fr_01_ev_side_disconnect_deauthorizes_the_transaction(
    station_settings: Settings, booted: OcppStation, act: Actions
) -> None:
    """StopTxOnEVSideDisconnect true, TxStopPoint Authorized: the cable pulled
    at the EV ends the authorization and so the transaction (EVCommunicationLost,
    EVDisconnected); plugged in again, no energy flows (TC_E_24_CS)."""
    stop_point(station_settings, "Authorized")
    station_settings.set(TX, "StopTxOnEVSideDisconnect", "true")
    ended_meter_values(station_settings)
    tx = start_energy_transfer(booted, act)
    unplug(act)
    tx.expect("Ended", within=within(booted, REACT), requirement="E09.FR.01")
    check_trigger(tx, "EVCommunicationLost")
    check_reason_given(tx, "EVDisconnected", "StoppedByEV")
    check_ended_meter_values(tx, "E09.FR.05")
    tx.check_sequence()
    since = time.monotonic()
    act.plug(evse=EVSE, connector=CONNECTOR)
    booted.expect_none(
        "TransactionEvent",
        lambda p: charging_state(p) == "Charging",
        within=quiet(booted),
        requirement="E09.FR.01",
        expected="no energy after the EV is plugged in again, until a new authorization",
    )
    expect(
        all(e.at < since for e in booted.received("Authorize")),
        "station asked for authorization although nobody presented an idToken",
        requirement="E09.FR.01",
        expected="no AuthorizeRequest",
    )


@pytest.mark.story("E10 When cable disconnected on EV-side: Suspend Transaction")
@pytest.mark.requirement("E10.FR.01", "E10.FR.04", "E02.FR.17", "E06.FR.03", "E06.FR.15",
                         "E01.FR.07", "E01.FR.18")  # fmt: skip
def test_e10_fr_01_ev_side_disconnect_suspends_the_transaction(
    station_settings: Settings, booted: OcppStation, act: Actions
) -> None:
    """StopTxOnEVSideDisconnect false, TxStopPoint Authorized: the cable pulled
    at the EV only suspends the transaction (Updated, EVCommunicationLost, Idle);
    plugged in again it charges on (CablePluggedIn); the driver's idToken then
    ends it (TC_E_26_CS, Part 2 E10 A1-B3)."""
    stop_point(station_settings, "Authorized")
    station_settings.set(TX, "StopTxOnEVSideDisconnect", "false")
    ended_meter_values(station_settings)
    tx = start_energy_transfer(booted, act)
    unplug(act)
    tx.expect(trigger="EVCommunicationLost", within=within(booted, REACT),
              requirement="E06.FR.15")  # fmt: skip
    payload = tx.events[-1].payload
    check(
        tx,
        payload["eventType"] == "Updated",
        f"EV-side disconnect gives eventType {payload['eventType']}",
        requirement="E10.FR.01",
        expected="eventType Updated: the transaction goes on (StopTxOnEVSideDisconnect false)",
    )
    check(
        tx,
        charging_state(payload) == "Idle",
        f"EV-side disconnect reports chargingState {charging_state(payload)}",
        requirement="E01.FR.18",
        expected="chargingState Idle",
    )
    act.plug(evse=EVSE, connector=CONNECTOR)
    tx.expect(trigger="CablePluggedIn", within=within(booted, REACT), requirement="E02.FR.17")
    if charging_state(tx.events[-1].payload) != "Charging":
        tx.expect(
            where=lambda p: charging_state(p) == "Charging",
            within=within(booted, REACT),
            requirement="E10.FR.01",
        )
    present(act, VALID_TOKEN)
    tx.expect("Ended", within=within(booted, REACT), requirement="E06.FR.03")
    check_trigger(tx, "StopAuthorized")
    check_ended_meter_values(tx, "E10.FR.04")
    tx.check_sequence()
