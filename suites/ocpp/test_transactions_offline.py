"""E Transactions across connection loss and refused messages: E04 (started
offline), E08 (stopped offline), E11 (connection loss during a transaction),
E12 (a transaction entirely offline) and E13 (TransactionEvent not accepted by
the CSMS), seen from the CSMS, after the Part 6 test cases
TC_E_40/41/42/43/44/45/50_CS.

The network is cut and restored with ``act.go_offline``/``act.go_online``;
the CSMS refuses a TransactionEvent with a CALLERROR or by not answering.  The
variables a test needs (offline authorization, retry settings, measurands)
are set with SetVariables and put back afterwards; a value the station does
not take skips the test.

Not tested here, and why:

* E04.FR.07, .08, E11.FR.04, .05, E12.FR.04, .05, .08, .09, E08.FR.10, .11:
  dropping messages or meter data when low on memory cannot be caused.
* E04.FR.09, E11.FR.06, E12.FR.06: optional behaviour (MAY split meter data).
* E04.FR.10, E08.FR.12, E11.FR.08, E12.FR.10: signed meter values are optional
  hardware.
* E04.FR.11: applies only to a station that does not know the EVSE at the
  start.
* E08.FR.03: whether the connector is unlocked is not reported to the CSMS.
* E13.FR.01: optional (MAY be configured); the tests configure both variables.
* Same as a tested FR: E04.FR.01 (E12.FR.01), E04.FR.04, E08.FR.08 (E01.FR.07,
  asserted in every test), E04.FR.06, E11.FR.03, E12.FR.03 (J02.FR.11,
  meter values module), E08.FR.05 (E12.FR.01), E08.FR.06 (E12.FR.02).
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.devices.ocpp import Exchange, OcppStation
from conformance.expect import expect
from conformance.ocpp import rpc
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
    offline_period,
    present,
    quiet,
    sampled_values,
    start_energy_transfer,
    within,
)

pytestmark = [pytest.mark.protocol("ocpp"), pytest.mark.feature("E Transactions")]

TX = "TxCtrlr"
AUTH = "AuthCtrlr"
COMM = "OCPPCommCtrlr"
SAMPLED = "SampledDataCtrlr"
GROUP = "CONFGROUP"
#: MessageAttempts[TransactionEvent] and MessageAttemptInterval[TransactionEvent] (s)
ATTEMPTS = 3
ATTEMPT_INTERVAL = 10
#: a retry may come this much earlier than n x MessageAttemptInterval (clock jitter)
EARLY = 0.8
#: OCPPCommCtrlr.MessageTimeout[Default] when the station does not report it (Part 2 §2.1.3)
MESSAGE_TIMEOUT = 30


# ---------------------------------------------------------------- helpers
def offline_authorization(settings: Settings) -> None:
    """The station may authorize the test's idToken while offline: unknown
    idTokens are allowed then (C15, OfflineTxForUnknownIdEnabled)."""
    settings.set(AUTH, "LocalAuthorizeOffline", "true", required=False)
    settings.set(AUTH, "OfflineTxForUnknownIdEnabled", "true")


def check(exchange: Exchange, condition: bool, summary: str, *, requirement: str,
          expected: str) -> None:  # fmt: skip
    __tracebackhide__ = True
    expect(condition, summary, requirement=requirement, received=exchange.frame, expected=expected)


def check_offline(exchange: Exchange, flag: bool, requirement: str) -> None:
    """The event's offline flag is *flag* (absent counts as false)."""
    __tracebackhide__ = True
    got = bool(exchange.payload.get("offline", False))
    what = f"{exchange.payload['eventType']} ({exchange.payload['triggerReason']})"
    check(
        exchange,
        got == flag,
        f"TransactionEvent {what} has offline {exchange.payload.get('offline', 'absent')}",
        requirement=requirement,
        expected=(
            "offline true: the event occurred while the station was offline"
            if flag
            else "offline false or absent: the event occurred while online"
        ),
    )


def check_ended_meter_values(exchange: Exchange, requirement: str) -> None:
    __tracebackhide__ = True
    end = measurands_of(sampled_values(exchange.payload, "Transaction.End"))
    check(
        exchange,
        ENERGY_REGISTER in end,
        f"Ended has Transaction.End samples of {sorted(end) or 'nothing'}",
        requirement=requirement,
        expected=f"meterValue with {ENERGY_REGISTER}, context Transaction.End (TxEndedMeasurands)",
    )


def stop_on_authorization(settings: Settings) -> None:
    settings.set(TX, "TxStopPoint", "Authorized")
    settings.set(SAMPLED, "TxEndedMeasurands", ENERGY_REGISTER)


def suspended(payload: dict[str, Any]) -> bool:
    return charging_state(payload) == "SuspendedEV"


def accept(station: OcppStation, call: rpc.Call) -> dict[str, Any]:
    """The TransactionEventResponse the CSMS gives by default."""
    if "idToken" in call.payload:
        return {"idTokenInfo": station.csms.id_token_info(call.payload["idToken"])}
    return {}


# ---------------------------------------------------------------- E04, E12
@pytest.mark.story("E04 Transaction started while Charging Station is offline")
@pytest.mark.requirement("E04.FR.02", "E04.FR.03", "E04.FR.05", "E06.FR.15", "E01.FR.07")
def test_e04_transaction_started_offline_is_sent_when_back_online(
    station_settings: Settings, booted: OcppStation, act: Actions
) -> None:
    """Started offline with a locally authorized idToken: once connected the
    queued Started (offline true, Transaction.Begin values) comes; the later
    events occur online and say so (Part 2 E04)."""
    offline_authorization(station_settings)
    station_settings.set(SAMPLED, "TxStartedMeasurands", ENERGY_REGISTER)
    tx = Tx(booted, EVSE)
    with offline_period(booted, act):
        act.plug(evse=EVSE, connector=CONNECTOR)
        present(act, VALID_TOKEN)
    started = tx.expect("Started", within=within(booted, REACT), requirement="E04.FR.02")
    check_offline(tx.events[-1], True, "E04.FR.03")
    begin = measurands_of(sampled_values(started, "Transaction.Begin"))
    check(
        tx.events[-1],
        ENERGY_REGISTER in begin,
        f"Started has Transaction.Begin samples of {sorted(begin) or 'nothing'}",
        requirement="E04.FR.05",
        expected=f"meterValue with {ENERGY_REGISTER}, context Transaction.Begin",
    )
    act.unplug(evse=EVSE, connector=CONNECTOR)
    tx.expect(trigger="EVCommunicationLost", within=within(booted, REACT),
              requirement="E06.FR.15")  # fmt: skip
    check_offline(tx.events[-1], False, "E04.FR.03")
    tx.check_sequence()


@pytest.mark.story("E12 Inform CSMS of an Offline Occurred Transaction")
@pytest.mark.requirement("E12.FR.01", "E12.FR.02", "E12.FR.07")
def test_e12_transaction_entirely_offline_is_sent_when_back_online(
    station_settings: Settings, booted: OcppStation, act: Actions
) -> None:
    """A whole transaction offline (plug in, idToken, idToken again, unplug):
    once connected every queued event comes, in order, offline true, the Ended
    with its TxEndedMeasurands (TC_E_43_CS)."""
    offline_authorization(station_settings)
    stop_on_authorization(station_settings)
    tx = Tx(booted, EVSE)
    with offline_period(booted, act):
        act.plug(evse=EVSE, connector=CONNECTOR)
        present(act, VALID_TOKEN)
        present(act, VALID_TOKEN)
        act.unplug(evse=EVSE, connector=CONNECTOR)
    tx.expect("Started", within=within(booted, REACT), requirement="E12.FR.02")
    tx.expect("Ended", within=within(booted, REACT), requirement="E12.FR.02")
    ended = tx.events[-1]
    for exchange in tx.all_events():
        check_offline(exchange, True, "E12.FR.02")
    check_ended_meter_values(ended, "E12.FR.07")
    tx.check_sequence("E12.FR.01")


# ---------------------------------------------------------------- E08
@pytest.mark.story("E08 Transaction stopped while Charging Station is offline")
@pytest.mark.requirement("E08.FR.01", "E08.FR.04", "E08.FR.07", "E08.FR.09", "E07.FR.02",
                         "E01.FR.07")  # fmt: skip
def test_e08_fr_01_same_idtoken_stops_the_transaction_offline(
    station_settings: Settings, booted: OcppStation, act: Actions
) -> None:
    """The starting idToken presented while offline ends the transaction; once
    connected the queued Ended (StopAuthorized, offline true, TxEndedMeasurands)
    comes (TC_E_44_CS)."""
    stop_on_authorization(station_settings)
    tx = start_energy_transfer(booted, act)
    with offline_period(booted, act):
        present(act, VALID_TOKEN)
    tx.expect("Ended", within=within(booted, REACT), requirement="E08.FR.04")
    ended = tx.events[-1]
    check(
        ended,
        ended.payload["triggerReason"] == "StopAuthorized",
        f"Ended has triggerReason {ended.payload['triggerReason']}",
        requirement="E07.FR.02",
        expected="triggerReason StopAuthorized",
    )
    check_offline(ended, True, "E08.FR.07")
    check_ended_meter_values(ended, "E08.FR.09")
    tx.check_sequence()


@pytest.mark.story("E08 Transaction stopped while Charging Station is offline")
@pytest.mark.requirement("E08.FR.02", "E08.FR.04", "E08.FR.07", "E01.FR.07")
def test_e08_fr_02_idtoken_of_the_same_group_stops_the_transaction_offline(
    station_settings: Settings, booted: OcppStation, act: Actions
) -> None:
    """Another idToken with the same group in the Local Authorization List,
    presented while offline, ends the transaction; the queued Ended comes once
    connected, offline true (TC_E_45_CS)."""
    stop_on_authorization(station_settings)
    booted.csms.groups[VALID_TOKEN["idToken"]] = GROUP
    with local_list_entry(booted, OTHER_TOKEN, GROUP):
        tx = start_energy_transfer(booted, act)
        with offline_period(booted, act):
            present(act, OTHER_TOKEN)
        tx.expect("Ended", within=within(booted, REACT), requirement="E08.FR.02")
        check_offline(tx.events[-1], True, "E08.FR.07")
        tx.check_sequence()


# ---------------------------------------------------------------- E11
@pytest.mark.story("E11 Connection Loss During Transaction")
@pytest.mark.requirement("E11.FR.01", "E11.FR.02")
def test_e11_events_during_connection_loss_are_queued_and_sent_offline(
    booted: OcppStation, act: Actions
) -> None:
    """The EV suspends and resumes while the station is offline: once
    connected both events come, in their order, offline true; regular
    communication resumes (TC_E_40_CS)."""
    tx = start_energy_transfer(booted, act)
    with offline_period(booted, act):
        act.ev_suspend(evse=EVSE)
        act.ev_resume(evse=EVSE)
    tx.expect(where=suspended, within=within(booted, REACT), requirement="E11.FR.02")
    check_offline(tx.events[-1], True, "E11.FR.02")
    tx.expect(
        where=lambda p: charging_state(p) == "Charging",
        within=within(booted, REACT),
        requirement="E11.FR.02",
    )
    check_offline(tx.events[-1], True, "E11.FR.02")
    tx.check_sequence("E11.FR.01")
    act.ev_suspend(evse=EVSE)
    tx.expect(where=suspended, within=within(booted, REACT), requirement="E01.FR.19")
    check_offline(tx.events[-1], False, "E11.FR.02")


@pytest.mark.story("E11 Connection Loss During Transaction")
@pytest.mark.requirement("E11.FR.07")
def test_e11_fr_07_event_unanswered_at_connection_loss_is_resent_offline(
    station_settings: Settings, booted: OcppStation, act: Actions
) -> None:
    """A TransactionEvent the CSMS has not answered when the connection is
    lost stays queued and is sent again after reconnecting, now offline true."""
    station_settings.set(COMM, "MessageAttemptInterval[TransactionEvent]", str(ATTEMPT_INTERVAL))
    tx = start_energy_transfer(booted, act)
    held: list[str] = []

    def hold_first(call: rpc.Call) -> dict[str, Any] | None:
        if suspended(call.payload) and not held:
            held.append(call.message_id)
            return None
        return accept(booted, call)

    with booted.answering("TransactionEvent", hold_first):
        act.ev_suspend(evse=EVSE)
        first = tx.expect(where=suspended, within=within(booted, REACT), requirement="E01.FR.19")
        with offline_period(booted, act):
            pass
        seq = first["seqNo"]
        again = booted.expect(
            "TransactionEvent",
            lambda p: p["seqNo"] == seq and suspended(p),
            within=within(booted, REACT + ATTEMPT_INTERVAL),
            requirement="E11.FR.07",
            expected=f"the unanswered TransactionEventRequest seqNo {seq} sent again",
        )
    check_offline(again, True, "E11.FR.07")


# ---------------------------------------------------------------- E13
def retry_settings(settings: Settings) -> int:
    """MessageAttempts/MessageAttemptInterval for TransactionEvent, no periodic
    meter values in between; returns the MessageTimeout (s) in force."""
    settings.set(COMM, "MessageAttempts[TransactionEvent]", str(ATTEMPTS))
    settings.set(COMM, "MessageAttemptInterval[TransactionEvent]", str(ATTEMPT_INTERVAL))
    settings.set(SAMPLED, "TxUpdatedInterval", "0")
    timeout = settings.get(COMM, "MessageTimeout[Default]")
    return int(timeout) if timeout and timeout.isdigit() else MESSAGE_TIMEOUT


def check_gap(
    station: OcppStation, before: Exchange, after: Exchange, emulated: float, requirement: str
) -> None:
    """*after* came no earlier than *emulated* seconds after *before*."""
    __tracebackhide__ = True
    gap = after.at - before.at
    want = station.seconds(emulated)
    check(
        after,
        gap >= EARLY * want,
        f"TransactionEventRequest sent again {gap * station.speed:.1f} s (station time) "
        "after the failed one",
        requirement=requirement,
        expected=f"the retry {emulated:.0f} s after the failure (MessageAttemptInterval x "
        "transmissions so far)",
    )


@pytest.mark.story("E13 Transaction-related message not accepted by CSMS")
@pytest.mark.requirement("E13.FR.02", "E13.FR.03", "E13.FR.04")
def test_e13_fr_02_refused_event_is_retried_then_discarded(
    station_settings: Settings, booted: OcppStation, act: Actions
) -> None:
    """Every transmission of one TransactionEvent gets CALLERROR InternalError:
    it is sent MessageAttempts times, the n-th retry n x MessageAttemptInterval
    after the failure, then dropped; the next event follows (TC_E_50_CS)."""
    retry_settings(station_settings)
    tx = start_energy_transfer(booted, act)

    def refuse(call: rpc.Call) -> dict[str, Any] | rpc.CallError:
        if suspended(call.payload):
            return rpc.CallError(call.message_id, "InternalError", "refused by the test (E13)")
        return accept(booted, call)

    with booted.answering("TransactionEvent", refuse):
        act.ev_suspend(evse=EVSE)
        act.ev_resume(evse=EVSE)
        tx.expect(where=suspended, within=within(booted, REACT), requirement="E01.FR.19")
        sent = [tx.events[-1]]
        seq = sent[0].payload["seqNo"]
        for n in range(1, ATTEMPTS):
            sent.append(
                booted.expect(
                    "TransactionEvent",
                    lambda p: p["seqNo"] == seq and suspended(p),
                    within=within(booted, n * ATTEMPT_INTERVAL),
                    requirement="E13.FR.02",
                    expected=f"transmission {n + 1} of {ATTEMPTS} of the refused seqNo {seq}",
                )
            )
            check_gap(booted, sent[-2], sent[-1], n * ATTEMPT_INTERVAL, "E13.FR.03")
        tx.expect(
            where=lambda p: charging_state(p) == "Charging",
            within=within(booted, ATTEMPTS * ATTEMPT_INTERVAL),
            requirement="E13.FR.04",
        )
        booted.expect_none(
            "TransactionEvent",
            lambda p: p["seqNo"] == seq,
            within=quiet(booted, 1.5 * ATTEMPTS * ATTEMPT_INTERVAL),
            requirement="E13.FR.04",
            expected=f"seqNo {seq} discarded after {ATTEMPTS} failed transmissions",
        )


@pytest.mark.story("E13 Transaction-related message not accepted by CSMS")
@pytest.mark.requirement("E13.FR.02", "E13.FR.03")
def test_e13_fr_02_unanswered_event_is_sent_again_until_answered(
    station_settings: Settings, booted: OcppStation, act: Actions
) -> None:
    """The first transmission of a TransactionEvent gets no answer: after
    MessageTimeout plus MessageAttemptInterval it comes again, is answered, and
    is not sent a third time (TC_E_42_CS)."""
    timeout = retry_settings(station_settings)
    tx = start_energy_transfer(booted, act)
    ignored: list[str] = []

    def ignore_first(call: rpc.Call) -> dict[str, Any] | None:
        if suspended(call.payload) and not ignored:
            ignored.append(call.message_id)
            return None
        return accept(booted, call)

    with booted.answering("TransactionEvent", ignore_first):
        act.ev_suspend(evse=EVSE)
        tx.expect(where=suspended, within=within(booted, REACT), requirement="E01.FR.19")
        first = tx.events[-1]
        seq = first.payload["seqNo"]
        second = booted.expect(
            "TransactionEvent",
            lambda p: p["seqNo"] == seq and suspended(p),
            within=within(booted, timeout + ATTEMPT_INTERVAL),
            requirement="E13.FR.02",
            expected=f"the unanswered seqNo {seq} sent again",
        )
        check_gap(booted, first, second, timeout + ATTEMPT_INTERVAL, "E13.FR.03")
        booted.expect_none(
            "TransactionEvent",
            lambda p: p["seqNo"] == seq,
            within=quiet(booted, 3 * ATTEMPT_INTERVAL),
            requirement="E13.FR.02",
            expected=f"seqNo {seq} not sent again once answered",
        )
