"""B11 Reset - Without Ongoing Transaction and B12 Reset - With Ongoing Transaction
(OCPP 2.1 Part 2 §B "Provisioning", errata 2025-09 §2.7; OCPP 2.0.1 Part 6
TC_B_20..TC_B_23, TC_B_25..TC_B_28).

A reset of the whole station is seen as the link dropping and a new
BootNotificationRequest on a new connection (B01 applies after it); a reset of one
EVSE (evseId) must leave the station connected.  Whether the station resets single
EVSEs is read from its EVSE.AllowReset variable (B11.FR.10).

Not tested here:

* B11.FR.05: needs a reservation (H01), tested with the reservation use cases.
* B11.FR.06, B12.FR.10: "not able to reset at this moment" cannot be brought about
  from the CSMS.
* B11.FR.07: Scheduled without a transaction needs another non-idle condition
  (firmware update, log upload; errata §2.7) this block does not create; Scheduled
  with a transaction is B12.FR.01.
* B11.FR.10: a SHOULD; it is what the EVSE tests go by (AllowReset true: the
  station resets single EVSEs).
* B12.FR.09: needs a station that does not reset single EVSEs (TC_B_29); the B11
  EVSE test checks the Rejected answer of such a station.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from conformance.devices.ocpp import Csms, Exchange, OcppStation
from conformance.expect import expect
from conformance.ocpp import rpc
from conformance.ocpp.actions import Actions
from suites.ocpp.common import (
    CONNECTOR,
    EVSE,
    REACT,
    VALID_TOKEN,
    AvailabilityChanges,
    Settings,
    Tx,
    every_connector,
    expect_connector_states,
    expect_reboot,
    forget_earlier,
    quiet,
    within,
)

pytestmark = [pytest.mark.protocol("ocpp"), pytest.mark.feature("B Provisioning")]

#: emulated seconds for the availability reports after the reboot
REPORTS = 10.0
#: emulated seconds an EVSE reset must go without the station rebooting
NO_REBOOT = 5.0
#: emulated seconds to reboot when a message timed out first (MessageTimeout 30 s,
#: the retries of E13, the boot itself)
REBOOT_AFTER_TIMEOUT = 180.0


def reset(
    station: OcppStation, kind: str, *, evse: int | None = None, requirement: str
) -> tuple[float, str]:
    """ResetRequest *kind* (of *evse*); returns (monotonic time before it, status)."""
    __tracebackhide__ = True
    forget_earlier(station)
    since = time.monotonic()
    payload: dict[str, Any] = {"type": kind}
    if evse is not None:
        payload["evseId"] = evse
    answer = station.call("Reset", payload, requirement=requirement)
    return since, answer["status"]


def expect_status(status: str, wanted: str, what: str, requirement: str) -> None:
    __tracebackhide__ = True
    expect(
        status == wanted,
        f"{what} answered {status}",
        requirement=requirement,
        expected=f"ResetResponse status {wanted}",
    )


def expect_no_reboot(station: OcppStation, since: float, requirement: str) -> None:
    """An EVSE reset: the station stays connected and does not boot again."""
    __tracebackhide__ = True
    station.expect_none(
        "BootNotification",
        within=quiet(station, NO_REBOOT),
        requirement=requirement,
        expected="no reboot of the station for a reset of one EVSE",
    )
    closed = [detail for _, kind, detail in station.events_since(since) if kind == "closed"]
    expect(
        not closed,
        f"the station dropped the connection after an EVSE reset ({closed[0] if closed else ''})",
        requirement=requirement,
        expected="the station stays connected: only the EVSE resets",
    )


def allows_evse_reset(station: OcppStation) -> bool:
    """EVSE.AllowReset of EVSE 1 is true (B11.FR.10)."""
    return Settings(station).get("EVSE", "AllowReset", evse=EVSE) == "true"


def end_normally(act: Actions) -> None:
    """The driver ends the transaction: idToken again (StopAuthorized), then the
    cable out (TC_B_21 steps 3-5)."""
    act.present_token(id_token=VALID_TOKEN["idToken"], type=VALID_TOKEN["type"], evse=EVSE)
    act.unplug(evse=EVSE, connector=CONNECTOR)


def expect_ended(
    tx: Tx, requirement: str, *, trigger: str | None = None, stopped: str | None = None
) -> Exchange:
    """The Ended TransactionEventRequest of *tx*, with *trigger* (triggerReason) and
    *stopped* (stoppedReason); without them, one not caused by the reset."""
    __tracebackhide__ = True
    payload = tx.expect("Ended", within=within(tx.station, REACT), requirement=requirement)
    exchange = tx.events[-1]
    got_trigger = payload.get("triggerReason")
    got_stopped = payload.get("transactionInfo", {}).get("stoppedReason")
    if trigger is not None:
        ok = got_trigger == trigger and got_stopped == stopped
        wanted = f"triggerReason {trigger}, stoppedReason {stopped}"
    else:
        ok = got_stopped != "ImmediateReset" and got_trigger != "ResetCommand"
        wanted = "the transaction ended normally by the driver, not by the reset"
    expect(
        ok,
        f"Ended with triggerReason {got_trigger}, stoppedReason {got_stopped}",
        requirement=requirement,
        received=exchange.frame,
        expected=wanted,
    )
    return exchange


# ---------------------------------------------------------------- B11
@pytest.mark.story("B11 Reset - Without Ongoing Transaction")
@pytest.mark.requirement("B11.FR.01", "B11.FR.03", "B11.FR.04", "B01.FR.03", "B01.FR.09")
@pytest.mark.parametrize("kind", ["OnIdle", "Immediate"])
def test_b11_fr_03_reset_without_transaction_reboots_the_station(
    booted: OcppStation, kind: str
) -> None:
    """An idle station accepts ResetRequest, reboots, boots with reason RemoteReset
    and reports every connector Available (TC_B_20_CS)."""
    station = booted
    wanted = every_connector(station)
    since, status = reset(station, kind, requirement="B11.FR.01")
    expect_status(status, "Accepted", f"Reset {kind} of an idle station", "B11.FR.03")
    boot = expect_reboot(station, since, reason="RemoteReset")
    expect_connector_states(
        station, wanted, since=boot.at, within=within(station, REPORTS), requirement="B11.FR.04"
    )


@pytest.mark.story("B11 Reset - Without Ongoing Transaction")
@pytest.mark.requirement("B11.FR.02", "B12.FR.06")
def test_b11_fr_02_inoperative_evse_is_unavailable_after_reset(
    booted: OcppStation, availability: AvailabilityChanges
) -> None:
    """An EVSE set Inoperative is reported Unavailable again after a reset of the
    station, the others Available (TC_B_23_CS)."""
    station = booted
    wanted = every_connector(station)
    answer = availability.change("Inoperative", evse=EVSE, requirement="B11.FR.02")
    expect(
        answer.get("status") == "Accepted",
        f"ChangeAvailability Inoperative answered {answer.get('status')}",
        requirement="B11.FR.02",
        expected="status Accepted (the station is idle)",
    )
    wanted.update({k: "Unavailable" for k in wanted if k[0] == EVSE})
    since, status = reset(station, "OnIdle", requirement="B11.FR.01")
    expect_status(status, "Accepted", "Reset OnIdle of an idle station", "B11.FR.03")
    boot = expect_reboot(station, since, reason="RemoteReset")
    expect_connector_states(
        station, wanted, since=boot.at, within=within(station, REPORTS), requirement="B11.FR.02"
    )


@pytest.mark.story("B11 Reset - Without Ongoing Transaction")
@pytest.mark.requirement("B11.FR.01", "B11.FR.08", "B11.FR.09")
def test_b11_fr_08_evse_reset_leaves_the_station_running(booted: OcppStation) -> None:
    """Reset OnIdle of EVSE 1: Accepted and only the EVSE resets when AllowReset is
    true (TC_B_25_CS), else Rejected (TC_B_28_CS)."""
    station = booted
    allowed = allows_evse_reset(station)
    since, status = reset(station, "OnIdle", evse=EVSE, requirement="B11.FR.01")
    if not allowed:
        expect_status(status, "Rejected", "Reset of one EVSE (AllowReset false)", "B11.FR.09")
        return
    expect_status(status, "Accepted", "Reset of an idle EVSE (AllowReset true)", "B11.FR.08")
    expect_no_reboot(station, since, "B11.FR.08")


# ---------------------------------------------------------------- B12
@pytest.mark.story("B12 Reset - With Ongoing Transaction")
@pytest.mark.requirement("B12.FR.01", "B12.FR.03", "B01.FR.05", "B01.FR.09")
def test_b12_fr_01_on_idle_reset_waits_for_the_transaction(
    energy_transfer_started: Tx, act: Actions
) -> None:
    """Reset OnIdle during a transaction is Scheduled; charging goes on until the
    driver ends it normally, then the station reboots with reason ScheduledReset
    (TC_B_21_CS)."""
    tx = energy_transfer_started
    station = tx.station
    wanted = every_connector(station)
    since, status = reset(station, "OnIdle", requirement="B12.FR.01")
    expect_status(status, "Scheduled", "Reset OnIdle during a transaction", "B12.FR.01")
    station.expect_none(
        "BootNotification",
        within=quiet(station, REACT),
        requirement="B12.FR.01",
        expected="no reboot while the transaction runs",
    )
    expect(
        not any(e.payload.get("eventType") == "Ended" for e in tx.all_events()),
        "the transaction ended before the driver ended it",
        requirement="B12.FR.03",
        received=tx.all_events()[-1].frame,
        expected="the transaction goes on until it is ended normally",
    )
    end_normally(act)
    ended = expect_ended(tx, "B12.FR.03")
    boot = expect_reboot(station, since, reason="ScheduledReset")
    expect(
        ended.at < boot.at,
        "the Ended TransactionEventRequest came after the reboot",
        requirement="B12.FR.03",
        received=ended.frame,
        expected="the transaction ends before the reboot",
    )
    expect_connector_states(
        station, wanted, since=boot.at, within=within(station, REPORTS), requirement="B01.FR.05"
    )


@pytest.mark.story("B12 Reset - With Ongoing Transaction")
@pytest.mark.requirement("B12.FR.02", "B12.FR.04", "B01.FR.03", "B01.FR.05", "B01.FR.09")
def test_b12_fr_04_immediate_reset_ends_the_transaction_first(
    energy_transfer_started: Tx, act: Actions
) -> None:
    """Reset Immediate during a transaction is Accepted; the transaction ends with
    triggerReason ResetCommand and stoppedReason ImmediateReset before the reboot
    (reason RemoteReset); the plugged connector is Occupied after it (TC_B_22_CS)."""
    tx = energy_transfer_started
    station = tx.station
    wanted = every_connector(station)
    wanted[(EVSE, CONNECTOR)] = "Occupied"
    try:
        since, status = reset(station, "Immediate", requirement="B12.FR.02")
        expect_status(status, "Accepted", "Reset Immediate during a transaction", "B12.FR.02")
        ended = expect_ended(tx, "B12.FR.04", trigger="ResetCommand", stopped="ImmediateReset")
        boot = expect_reboot(station, since, reason="RemoteReset")
        expect(
            ended.at < boot.at,
            "the Ended TransactionEventRequest came after the reboot",
            requirement="B12.FR.04",
            received=ended.frame,
            expected="the transaction ends before the reboot",
        )
        expect_connector_states(
            station, wanted, since=boot.at, within=within(station, REPORTS), requirement="B01.FR.05"
        )
    finally:
        act.unplug(evse=EVSE, connector=CONNECTOR)


@pytest.mark.story("B12 Reset - With Ongoing Transaction")
@pytest.mark.requirement("B12.FR.05", "B12.FR.02", "B12.FR.04")
def test_b12_fr_05_unanswered_ended_event_is_sent_again_after_the_reboot(
    energy_transfer_started: Tx, act: Actions
) -> None:
    """Reset Immediate; the CSMS leaves the Ended TransactionEventRequest unanswered
    until the station rebooted: the station reboots anyway and sends the event
    again after the reboot."""
    tx = energy_transfer_started
    station = tx.station
    default = Csms()
    start: list[float] = []

    def ended_unanswered_until_reboot(call: rpc.Call) -> Any:
        rebooted = any(boot.at > start[0] for boot in station.boots) if start else False
        if call.payload.get("eventType") == "Ended" and not rebooted:
            return None
        return default.answer(call)

    station.csms.on("TransactionEvent", ended_unanswered_until_reboot)
    start.append(time.monotonic())
    try:
        since, status = reset(station, "Immediate", requirement="B12.FR.02")
        expect_status(status, "Accepted", "Reset Immediate during a transaction", "B12.FR.02")
        first = expect_ended(tx, "B12.FR.04", trigger="ResetCommand", stopped="ImmediateReset")
        boot = expect_reboot(station, since, reason=None, boot_time=REBOOT_AFTER_TIMEOUT)
        seq_no = first.payload.get("seqNo")

        def resent() -> bool:
            return any(
                e.at > boot.at
                and e.payload.get("eventType") == "Ended"
                and e.payload.get("seqNo") == seq_no
                for e in tx.all_events()
            )

        station.wait_for(
            resent,
            within=within(station, REACT),
            what=f"the unanswered Ended TransactionEventRequest (seqNo {seq_no}) sent again "
            "after the reboot",
            requirement="B12.FR.05",
        )
    finally:
        act.unplug(evse=EVSE, connector=CONNECTOR)


@pytest.mark.story("B12 Reset - With Ongoing Transaction")
@pytest.mark.requirement("B12.FR.01", "B12.FR.07")
def test_b12_fr_07_evse_on_idle_reset_waits_for_its_transaction(
    energy_transfer_started: Tx, act: Actions
) -> None:
    """Reset OnIdle of the EVSE in a transaction is Scheduled; the transaction ends
    normally by the driver and the station stays up (TC_B_26_CS)."""
    tx = energy_transfer_started
    station = tx.station
    if not allows_evse_reset(station):
        pytest.skip("the station does not reset single EVSEs (EVSE.AllowReset is not true)")
    since, status = reset(station, "OnIdle", evse=EVSE, requirement="B12.FR.01")
    expect_status(status, "Scheduled", "Reset OnIdle of an EVSE in a transaction", "B12.FR.01")
    end_normally(act)
    expect_ended(tx, "B12.FR.07")
    expect_no_reboot(station, since, "B12.FR.07")


@pytest.mark.story("B12 Reset - With Ongoing Transaction")
@pytest.mark.requirement("B12.FR.02", "B12.FR.08")
def test_b12_fr_08_evse_immediate_reset_ends_its_transaction(
    energy_transfer_started: Tx, act: Actions
) -> None:
    """Reset Immediate of the EVSE in a transaction is Accepted; the transaction
    ends with triggerReason ResetCommand, stoppedReason ImmediateReset and the
    station stays up (TC_B_27_CS)."""
    tx = energy_transfer_started
    station = tx.station
    if not allows_evse_reset(station):
        pytest.skip("the station does not reset single EVSEs (EVSE.AllowReset is not true)")
    try:
        since, status = reset(station, "Immediate", evse=EVSE, requirement="B12.FR.02")
        expect_status(status, "Accepted", "Reset Immediate of an EVSE", "B12.FR.02")
        expect_ended(tx, "B12.FR.08", trigger="ResetCommand", stopped="ImmediateReset")
        expect_no_reboot(station, since, "B12.FR.08")
    finally:
        act.unplug(evse=EVSE, connector=CONNECTOR)
