"""J MeterValues: J02, transaction-related meter values, seen from the CSMS,
after the Part 6 test cases TC_J_07/09/10_CS.

SampledDataCtrlr is set per test with SetVariables (TxStartedMeasurands,
TxUpdatedMeasurands, TxUpdatedInterval, TxEndedMeasurands, TxEndedInterval)
and put back afterwards; a value the station does not take skips the test.
Intervals are checked on the station's clock as the CSMS sees it (arrival
times scaled by the station's speed), since an emulated station's timestamps
are wall-clock time.

Not tested here, and why:

* J02.FR.01, .14, .20: optional behaviour (MAY).
* J02.FR.03, .05, .06, .18: the fields and their values are checked against
  the official schema for every message; what they mean is not observable.
* J02.FR.07, .09: phase numbering and rotation relative to the grid are not
  observable from the CSMS.
* J02.FR.12, .13: dropping messages when low on memory cannot be caused.
* J02.FR.17: SHOULD; telling a re-based register from a fresh meter needs
  knowledge of the hardware.
* J02.FR.19: CSMS-side requirement.
* J02.FR.21, .23, .24: signed meter values are optional hardware.
* J02.FR.22: a TransactionEventRequest names one EVSE; whether the values
  were measured there is not observable.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

import pytest

from conformance.devices.ocpp import Exchange, OcppStation
from conformance.expect import expect
from conformance.ocpp.actions import Actions
from suites.ocpp.common import (
    ENERGY_REGISTER,
    REACT,
    VALID_TOKEN,
    Settings,
    Tx,
    measurands_of,
    present,
    sampled_values,
    start_energy_transfer,
    within,
)

pytestmark = [pytest.mark.protocol("ocpp"), pytest.mark.feature("J MeterValues")]

SAMPLED = "SampledDataCtrlr"
#: SampledDataCtrlr.TxUpdatedInterval and TxEndedInterval (s) the tests set
INTERVAL = 10
UPDATED = (ENERGY_REGISTER, "Power.Active.Import")
#: periodic events may come this much earlier or later than TxUpdatedInterval
CADENCE = (0.7, 1.5)
PERIODS = 3


def check(exchange: Exchange, condition: bool, summary: str, *, requirement: str,
          expected: str) -> None:  # fmt: skip
    __tracebackhide__ = True
    expect(condition, summary, requirement=requirement, received=exchange.frame, expected=expected)


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def energy(samples: list[dict[str, Any]]) -> list[float]:
    return [
        float(s["value"]) for s in samples if s.get("measurand", ENERGY_REGISTER) == ENERGY_REGISTER
    ]


def check_contexts(exchange: Exchange, context: str, requirement: str = "J02.FR.04") -> None:
    """Every sampledValue of the event has *context*."""
    __tracebackhide__ = True
    found = {s.get("context", "Sample.Periodic") for s in sampled_values(exchange.payload)}
    check(
        exchange,
        found == {context},
        f"{exchange.payload['triggerReason']} event has sampled values with context "
        f"{sorted(found) or 'none'}",
        requirement=requirement,
        expected=f"context {context}",
    )


def check_monotonic(exchange: Exchange, values: list[float], what: str) -> None:
    __tracebackhide__ = True
    check(
        exchange,
        all(a <= b for a, b in itertools.pairwise(values)),
        f"{ENERGY_REGISTER} went {values} over {what}",
        requirement="J02.FR.16",
        expected="a register that never goes down within the transaction",
    )


def started_event(tx: Tx) -> Exchange:
    __tracebackhide__ = True
    for exchange in tx.all_events():
        if exchange.payload["eventType"] == "Started":
            return exchange
    exchange = tx.station.expect(
        "TransactionEvent",
        lambda p: (
            p["eventType"] == "Started"
            and p["transactionInfo"]["transactionId"] == tx.transaction_id
        ),
        within=within(tx.station, REACT),
        requirement="E01.FR.05",
    )
    return exchange


@pytest.mark.story("J02 Sending transaction related Meter Values")
@pytest.mark.requirement("J02.FR.11", "J02.FR.02", "J02.FR.04", "J02.FR.10", "J02.FR.16",
                         "E01.FR.09")  # fmt: skip
def test_j02_fr_11_updated_events_carry_the_measurands_every_interval(
    station_settings: Settings, booted: OcppStation, act: Actions
) -> None:
    """While charging, an Updated event with triggerReason MeterValuePeriodic
    every TxUpdatedInterval, carrying each TxUpdatedMeasurand as Sample.Periodic,
    its meterValue timestamps within the interval; the energy register never
    goes down from the Transaction.Begin value on (TC_J_07/09_CS)."""
    station_settings.set(SAMPLED, "TxStartedMeasurands", ENERGY_REGISTER)
    station_settings.set(SAMPLED, "TxUpdatedMeasurands", ",".join(UPDATED))
    station_settings.set(SAMPLED, "TxUpdatedInterval", str(INTERVAL))
    tx = start_energy_transfer(booted, act)
    started = started_event(tx)
    begin = sampled_values(started.payload, "Transaction.Begin")
    check(
        started,
        ENERGY_REGISTER in measurands_of(begin),
        f"Started has Transaction.Begin samples of {sorted(measurands_of(begin)) or 'nothing'}",
        requirement="E01.FR.09",
        expected=f"meterValue with {ENERGY_REGISTER}, context Transaction.Begin",
    )
    registers = energy(begin)
    periodic: list[Exchange] = []
    for _ in range(PERIODS):
        tx.expect("Updated", trigger="MeterValuePeriodic", within=within(booted, 2 * INTERVAL),
                  requirement="J02.FR.11")  # fmt: skip
        event = tx.events[-1]
        periodic.append(event)
        meter = event.payload.get("meterValue", [])
        check(
            event,
            bool(meter) and all(mv.get("sampledValue") for mv in meter),
            "MeterValuePeriodic event without sampled values",
            requirement="J02.FR.02",
            expected="meterValue elements of one or more sampledValue each",
        )
        got = measurands_of(sampled_values(event.payload))
        check(
            event,
            set(UPDATED) <= got,
            f"MeterValuePeriodic event samples {sorted(got)}",
            requirement="J02.FR.11",
            expected=f"every TxUpdatedMeasurand: {', '.join(UPDATED)}",
        )
        check_contexts(event, "Sample.Periodic")
        sent = moment(event.payload["timestamp"])
        late = [
            mv["timestamp"]
            for mv in meter
            if not 0 <= (sent - moment(mv["timestamp"])).total_seconds() < INTERVAL
        ]
        check(
            event,
            not late,
            f"meterValue timestamps {late} outside the interval before the event",
            requirement="J02.FR.10",
            expected=f"(event timestamp - {INTERVAL} s) < meterValue timestamp <= event timestamp",
        )
        registers += energy(sampled_values(event.payload))
    for before, after in itertools.pairwise(periodic):
        gap = (after.at - before.at) * booted.speed
        check(
            after,
            CADENCE[0] * INTERVAL <= gap <= CADENCE[1] * INTERVAL,
            f"MeterValuePeriodic events {gap:.1f} s apart (station time)",
            requirement="J02.FR.11",
            expected=f"one every TxUpdatedInterval = {INTERVAL} s",
        )
    check_monotonic(periodic[-1], registers, "the Started and periodic events")


@pytest.mark.story("J02 Sending transaction related Meter Values")
@pytest.mark.requirement("E06.FR.11", "J02.FR.04", "J02.FR.16")
def test_j02_ended_event_carries_the_tx_ended_measurands(
    station_settings: Settings, booted: OcppStation, act: Actions
) -> None:
    """TxEndedMeasurands sampled every TxEndedInterval from the start: the
    Ended event carries them, Sample.Periodic in between and one
    Transaction.End at the end; the register never goes down (TC_J_10_CS)."""
    station_settings.set(SAMPLED, "TxStartedMeasurands", ENERGY_REGISTER)
    station_settings.set(SAMPLED, "TxEndedMeasurands", ENERGY_REGISTER)
    station_settings.set(SAMPLED, "TxEndedInterval", str(INTERVAL))
    station_settings.set(SAMPLED, "TxUpdatedMeasurands", ENERGY_REGISTER)
    station_settings.set(SAMPLED, "TxUpdatedInterval", str(INTERVAL))
    station_settings.set("TxCtrlr", "TxStopPoint", "Authorized")
    tx = start_energy_transfer(booted, act)
    started = started_event(tx)
    check_contexts(started, "Transaction.Begin")
    for _ in range(2):  # let the station sample twice
        tx.expect("Updated", trigger="MeterValuePeriodic", within=within(booted, 2 * INTERVAL),
                  requirement="J02.FR.11")  # fmt: skip
    present(act, VALID_TOKEN)
    tx.expect("Ended", within=within(booted, REACT), requirement="E06.FR.03")
    ended = tx.events[-1]
    samples = sampled_values(ended.payload)
    end = [s for s in samples if s.get("context") == "Transaction.End"]
    check(
        ended,
        ENERGY_REGISTER in measurands_of(end),
        f"Ended has Transaction.End samples of {sorted(measurands_of(end)) or 'nothing'}",
        requirement="E06.FR.11",
        expected=f"meterValue with {ENERGY_REGISTER}, context Transaction.End",
    )
    contexts = {s.get("context", "Sample.Periodic") for s in samples}
    allowed = {"Transaction.Begin", "Sample.Periodic", "Transaction.End"}
    check(
        ended,
        contexts <= allowed,
        f"Ended has sampled values with context {sorted(contexts)}",
        requirement="J02.FR.04",
        expected="contexts Transaction.Begin, Sample.Periodic (every TxEndedInterval), "
        "Transaction.End",
    )
    lasted = (ended.at - started.at) * booted.speed
    between = [s for s in samples if s.get("context", "Sample.Periodic") == "Sample.Periodic"]
    most = int(lasted // INTERVAL) + 1
    check(
        ended,
        1 <= len(between) <= most,
        f"Ended has {len(between)} Sample.Periodic values for a transaction of "
        f"{lasted:.0f} s (station time)",
        requirement="E06.FR.11",
        expected=f"one per TxEndedInterval = {INTERVAL} s: 1 to {most}",
    )
    meter = ended.payload.get("meterValue", [])
    stamps = [moment(mv["timestamp"]) for mv in meter]
    check(
        ended,
        stamps == sorted(stamps),
        "Ended meterValue timestamps are not in time order",
        requirement="E06.FR.11",
        expected="samples from the start of the transaction to its end, in order",
    )
    check_monotonic(ended, energy(samples), "the Ended event's samples")
