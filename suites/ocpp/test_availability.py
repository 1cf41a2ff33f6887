"""G01 Report connector AvailabilityState, G03 Change Availability EVSE/Connector,
G04 Change Availability Charging Station and G05 Lock Failure (OCPP 2.1 Part 2 §G
"Availability"; OCPP 2.0.1 Part 6 TC_G_01..TC_G_20).

Connector states are reported by NotifyEvent (AvailabilityState, 2.1) or
StatusNotification (2.0.1, deprecated in 2.1); both are accepted.  The EVSEs and
connectors a test expects reports for come from the station's FullInventory.
Whatever a test makes Inoperative is made Operative again after it.

Not tested here:

* G01.FR.06, G01.FR.09: need a reservation (H01 ReserveNow).
* G01.FR.08: a recommendation (SHOULD NOT), and only for EVSEs with several
  connectors.
* G05.FR.03: a CSMS-side requirement (this suite answers every NotifyEvent).
* G05.FR.04: optional (MAY) and shown to the driver, not to the CSMS.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.devices.ocpp import Exchange, OcppStation
from conformance.expect import expect
from conformance.ocpp.actions import Actions
from suites.ocpp.common import (
    AVAILABILITY,
    CONNECTOR,
    EVSE,
    VALID_TOKEN,
    AvailabilityChanges,
    Tx,
    availability_of,
    connectors_of,
    expect_availability,
    quiet,
    reboot,
    report_key,
    within,
)

pytestmark = [pytest.mark.protocol("ocpp"), pytest.mark.feature("G Availability")]

#: ConnectorStatusEnumType; Part 2 §2.15.2 AvailabilityState valuesList
STATES = ("Available", "Occupied", "Reserved", "Unavailable", "Faulted")
#: emulated seconds a station may take to report a change
REPORT = 10.0
G01 = "G01 Report connector AvailabilityState"
G03 = "G03 Change Availability EVSE/Connector"
G04 = "G04 Change Availability Charging Station"


def check_states(station: OcppStation) -> None:
    """Every AvailabilityState this test received is a ConnectorStatus (G01.FR.01)."""
    __tracebackhide__ = True
    for exchange in station.received():
        if exchange.action not in AVAILABILITY:
            continue
        for evse, connector, state in availability_of(exchange.payload):
            expect(
                state in STATES,
                f"EVSE {evse} connector {connector} reported AvailabilityState {state!r}",
                requirement="G01.FR.01",
                received=exchange.frame,
                expected=f"one of {', '.join(STATES)}",
            )


def expect_all(
    station: OcppStation, state: str, where: list[tuple[int, int]], requirement: str
) -> list[Exchange]:
    """A report of *state* for every connector in *where*."""
    __tracebackhide__ = True
    return [
        expect_availability(
            station,
            state,
            evse=evse,
            connector=connector,
            within=within(station, REPORT),
            requirement=requirement,
        )
        for evse, connector in where
    ]


def check_status(answer: dict[str, object], want: str, requirement: str, what: str) -> None:
    __tracebackhide__ = True
    expect(
        answer.get("status") == want,
        f"ChangeAvailability {what} answered {answer.get('status')}",
        requirement=requirement,
        received=str(answer),
        expected=f"status {want}",
    )


@pytest.fixture
def unplug_after(settled: OcppStation, act: Actions) -> Iterator[Actions]:
    """The test plugs a cable in at EVSE 1; it is unplugged afterwards."""
    yield act
    if settled.accepted:
        act.unplug(evse=EVSE, connector=CONNECTOR)


# ---------------------------------------------------------------- G01
@pytest.mark.story(G01)
@pytest.mark.requirement("G01.FR.01", "G01.FR.03")
def test_g01_fr_03_plugging_in_reports_occupied(
    settled: OcppStation, unplug_after: Actions
) -> None:
    """An EV plugged into an Available connector is reported Occupied, trigger Delta
    (TC_G_01_CS)."""
    unplug_after.plug(evse=EVSE, connector=CONNECTOR)
    report = expect_availability(
        settled, "Occupied", within=within(settled, REPORT), requirement="G01.FR.03"
    )
    check_delta(report, "G01.FR.03")
    check_states(settled)


def check_delta(report: Exchange, requirement: str) -> None:
    """A NotifyEvent availability report has trigger Delta (G01.FR.03/FR.04)."""
    __tracebackhide__ = True
    for event in report.payload.get("eventData", []):
        if event["variable"]["name"] == "AvailabilityState":
            expect(
                event["trigger"] == "Delta",
                f"AvailabilityState reported with trigger {event['trigger']}",
                requirement=requirement,
                received=report.frame,
                expected="trigger Delta",
            )


@pytest.mark.story(G01)
@pytest.mark.requirement("G01.FR.01", "G01.FR.04")
def test_g01_fr_04_unplugging_reports_available(ev_connected_pre_session: Tx, act: Actions) -> None:
    """The EV unplugged from an Occupied connector: reported Available, trigger Delta
    (TC_G_02_CS)."""
    station = ev_connected_pre_session.station
    act.unplug(evse=EVSE, connector=CONNECTOR)
    report = expect_availability(
        station, "Available", within=within(station, REPORT), requirement="G01.FR.04"
    )
    check_delta(report, "G01.FR.04")
    check_states(station)


@pytest.mark.story(G01)
@pytest.mark.requirement("G01.FR.01", "G01.FR.05", "G03.FR.05")
def test_g01_fr_05_ev_leaving_a_connector_scheduled_inoperative_reports_unavailable(
    settled: OcppStation,
    energy_transfer_started: Tx,
    act: Actions,
    availability: AvailabilityChanges,
) -> None:
    """Connector set Inoperative while charging: Scheduled; when the EV leaves it is
    reported Unavailable, not Available (TC_G_17_CS)."""
    station = energy_transfer_started.station
    answer = availability.change(
        "Inoperative", evse=EVSE, connector=CONNECTOR, requirement="G03.FR.01"
    )
    check_status(answer, "Scheduled", "G03.FR.05", "of a charging connector")
    act.unplug(evse=EVSE, connector=CONNECTOR)
    expect_availability(
        station, "Unavailable", within=within(station, REPORT), requirement="G01.FR.05"
    )
    wrong = [
        x
        for x in station.received()
        if x.action in AVAILABILITY and (EVSE, CONNECTOR, "Available") in availability_of(x.payload)
    ]
    expect(not wrong, "the connector was reported Available after the EV left",
           requirement="G01.FR.05", received=wrong[0].frame if wrong else None,
           expected="Unavailable (it was scheduled to become Inoperative)")  # fmt: skip
    check_states(station)


# ---------------------------------------------------------------- G03
@pytest.mark.story(G03)
@pytest.mark.requirement("G01.FR.07", "G03.FR.01", "G03.FR.02", "G03.FR.04", "G03.FR.06")
def test_g03_fr_06_inoperative_evse_makes_its_connectors_unavailable(
    settled: OcppStation, availability: AvailabilityChanges
) -> None:
    """EVSE set Inoperative: Accepted, every connector of it reported Unavailable
    (TC_G_03_CS)."""
    answer = availability.change("Inoperative", evse=EVSE, requirement="G03.FR.01")
    check_status(answer, "Accepted", "G03.FR.02", f"Inoperative of idle EVSE {EVSE}")
    expect_all(settled, "Unavailable", connectors_of(settled, EVSE), "G03.FR.06")
    check_states(settled)


@pytest.mark.story(G03)
@pytest.mark.requirement("G01.FR.07", "G03.FR.01", "G03.FR.02", "G03.FR.04", "G03.FR.07")
def test_g03_fr_07_operative_evse_restores_its_connectors(
    settled: OcppStation, availability: AvailabilityChanges
) -> None:
    """EVSE set Inoperative, then Operative: Accepted, its connectors reported
    Available again (TC_G_04_CS)."""
    where = connectors_of(settled, EVSE)
    availability.change("Inoperative", evse=EVSE, requirement="G03.FR.01")
    expect_all(settled, "Unavailable", where, "G03.FR.06")
    answer = availability.change("Operative", evse=EVSE, requirement="G03.FR.01")
    check_status(answer, "Accepted", "G03.FR.02", f"Operative of Inoperative EVSE {EVSE}")
    expect_all(settled, "Available", where, "G03.FR.07")
    check_states(settled)


@pytest.mark.story(G03)
@pytest.mark.requirement("G01.FR.07", "G03.FR.01", "G03.FR.02", "G03.FR.04")
def test_g03_fr_04_connector_inoperative_and_back_is_reported(
    settled: OcppStation, availability: AvailabilityChanges
) -> None:
    """Connector set Inoperative, then Operative: both Accepted and each change
    reported (TC_G_07_CS, TC_G_08_CS)."""
    answer = availability.change(
        "Inoperative", evse=EVSE, connector=CONNECTOR, requirement="G03.FR.01"
    )
    check_status(answer, "Accepted", "G03.FR.02", "Inoperative of an idle connector")
    expect_all(settled, "Unavailable", [(EVSE, CONNECTOR)], "G03.FR.04")
    answer = availability.change(
        "Operative", evse=EVSE, connector=CONNECTOR, requirement="G03.FR.01"
    )
    check_status(answer, "Accepted", "G03.FR.02", "Operative of an Inoperative connector")
    expect_all(settled, "Available", [(EVSE, CONNECTOR)], "G03.FR.04")
    check_states(settled)


@pytest.mark.story(G03)
@pytest.mark.requirement("G03.FR.01", "G03.FR.03")
@pytest.mark.parametrize("status", ["Operative", "Inoperative"])
@pytest.mark.parametrize("scope", ["evse", "connector"])
def test_g03_fr_03_request_for_the_current_state_is_accepted(
    settled: OcppStation, availability: AvailabilityChanges, scope: str, status: str
) -> None:
    """An EVSE/connector asked for the state it is in: Accepted (TC_G_09_CS,
    TC_G_10_CS, TC_G_15_CS, TC_G_16_CS)."""
    connector = CONNECTOR if scope == "connector" else None
    where = [(EVSE, CONNECTOR)] if connector else connectors_of(settled, EVSE)
    if status == "Inoperative":
        availability.change("Inoperative", evse=EVSE, connector=connector, requirement="G03.FR.01")
        expect_all(settled, "Unavailable", where, "G03.FR.04")
    answer = availability.change(status, evse=EVSE, connector=connector, requirement="G03.FR.01")
    check_status(answer, "Accepted", "G03.FR.03", f"{status} of an {scope} already {status}")


@pytest.mark.story(G03)
@pytest.mark.requirement("G03.FR.01", "G03.FR.04", "G03.FR.05", "G03.FR.06")
def test_g03_fr_05_evse_change_during_a_transaction_is_scheduled(
    settled: OcppStation,
    energy_transfer_started: Tx,
    act: Actions,
    availability: AvailabilityChanges,
) -> None:
    """EVSE set Inoperative while charging: Scheduled; its connector becomes
    Unavailable once the transaction is over and the EV gone (TC_G_11_CS)."""
    station = energy_transfer_started.station
    answer = availability.change("Inoperative", evse=EVSE, requirement="G03.FR.01")
    check_status(answer, "Scheduled", "G03.FR.05", f"Inoperative of charging EVSE {EVSE}")
    act.unplug(evse=EVSE, connector=CONNECTOR)
    expect_all(station, "Unavailable", [(EVSE, CONNECTOR)], "G03.FR.04")
    check_states(station)


@pytest.mark.story(G03)
@pytest.mark.requirement("G03.FR.07")
def test_g03_fr_07_connector_stays_inoperative_when_its_evse_returns(
    settled: OcppStation, availability: AvailabilityChanges
) -> None:
    """Connector Inoperative, then its EVSE Inoperative and Operative again: the
    connector keeps its own setting and stays Unavailable (G03 note 1)."""
    station = settled
    availability.change("Inoperative", evse=EVSE, connector=CONNECTOR, requirement="G03.FR.01")
    expect_all(station, "Unavailable", [(EVSE, CONNECTOR)], "G03.FR.04")
    availability.change("Inoperative", evse=EVSE, requirement="G03.FR.01")
    others = [k for k in connectors_of(station, EVSE) if k != (EVSE, CONNECTOR)]
    expect_all(station, "Unavailable", others, "G03.FR.06")
    answer = availability.change("Operative", evse=EVSE, requirement="G03.FR.01")
    check_status(answer, "Accepted", "G03.FR.02", f"Operative of Inoperative EVSE {EVSE}")
    expect_all(station, "Available", others, "G03.FR.07")
    station.expect_none(
        AVAILABILITY,
        lambda p: any(
            (e, c) == (EVSE, CONNECTOR) and s != "Unavailable" for e, c, s in availability_of(p)
        ),
        within=quiet(station),
        requirement="G03.FR.07",
        expected=f"connector {CONNECTOR} stays Unavailable (set Inoperative on its own)",
    )


@pytest.mark.story(G03)
@pytest.mark.requirement("G01.FR.01", "G01.FR.02", "G03.FR.08")
@pytest.mark.parametrize("scope", ["evse", "connector"])
def test_g03_fr_08_inoperative_setting_survives_a_reboot(
    settled: OcppStation, act: Actions, availability: AvailabilityChanges, scope: str
) -> None:
    """EVSE/connector set Inoperative, then a power cycle: after the new boot it is
    reported Unavailable again (TC_G_18_CS, TC_G_19_CS)."""
    station = settled
    connector = CONNECTOR if scope == "connector" else None
    where = [(EVSE, CONNECTOR)] if connector else connectors_of(station, EVSE)
    availability.change("Inoperative", evse=EVSE, connector=connector, requirement="G03.FR.01")
    expect_all(station, "Unavailable", where, "G03.FR.04")
    reboot(station, act)
    expect_all(station, "Unavailable", where, "G03.FR.08")
    check_states(station)


# ---------------------------------------------------------------- G04
@pytest.mark.story(G04)
@pytest.mark.requirement("G04.FR.01", "G04.FR.02", "G04.FR.03", "G04.FR.05", "G04.FR.07")
def test_g04_fr_07_inoperative_station_makes_every_connector_unavailable(
    settled: OcppStation, availability: AvailabilityChanges
) -> None:
    """Station set Inoperative (no evse): Accepted, every connector reported
    Unavailable (TC_G_05_CS)."""
    answer = availability.change("Inoperative", requirement="G04.FR.02")
    check_status(answer, "Accepted", "G04.FR.03", "Inoperative of an idle station")
    expect_all(settled, "Unavailable", connectors_of(settled), "G04.FR.07")
    check_states(settled)


@pytest.mark.story(G04)
@pytest.mark.requirement("G04.FR.01", "G04.FR.02", "G04.FR.03", "G04.FR.05", "G04.FR.08")
def test_g04_fr_08_operative_station_restores_every_connector(
    settled: OcppStation, availability: AvailabilityChanges
) -> None:
    """Station set Inoperative, then Operative: Accepted, every connector reported
    Available again (TC_G_06_CS)."""
    where = connectors_of(settled)
    availability.change("Inoperative", requirement="G04.FR.02")
    expect_all(settled, "Unavailable", where, "G04.FR.07")
    answer = availability.change("Operative", requirement="G04.FR.02")
    check_status(answer, "Accepted", "G04.FR.03", "Operative of an Inoperative station")
    expect_all(settled, "Available", where, "G04.FR.08")
    check_states(settled)


@pytest.mark.story(G04)
@pytest.mark.requirement("G04.FR.02", "G04.FR.04")
@pytest.mark.parametrize("status", ["Operative", "Inoperative"])
def test_g04_fr_04_request_for_the_current_state_is_accepted(
    settled: OcppStation, availability: AvailabilityChanges, status: str
) -> None:
    """The station asked for the state it is in: Accepted (TC_G_12_CS, TC_G_13_CS)."""
    if status == "Inoperative":
        availability.change("Inoperative", requirement="G04.FR.02")
        expect_all(settled, "Unavailable", connectors_of(settled), "G04.FR.05")
    answer = availability.change(status, requirement="G04.FR.02")
    check_status(answer, "Accepted", "G04.FR.04", f"{status} of a station already {status}")


@pytest.mark.story(G04)
@pytest.mark.requirement("G04.FR.02", "G04.FR.05", "G04.FR.06", "G04.FR.07")
def test_g04_fr_06_station_change_during_a_transaction_is_scheduled(
    settled: OcppStation,
    energy_transfer_started: Tx,
    act: Actions,
    availability: AvailabilityChanges,
) -> None:
    """Station set Inoperative while charging: Scheduled; the charging connector
    becomes Unavailable once the transaction is over and the EV gone (TC_G_14_CS)."""
    station = energy_transfer_started.station
    answer = availability.change("Inoperative", requirement="G04.FR.02")
    check_status(answer, "Scheduled", "G04.FR.06", "Inoperative of a charging station")
    act.unplug(evse=EVSE, connector=CONNECTOR)
    expect_all(station, "Unavailable", [(EVSE, CONNECTOR)], "G04.FR.05")
    check_states(station)


@pytest.mark.story(G04)
@pytest.mark.requirement("G04.FR.09")
def test_g04_fr_09_inoperative_station_stays_so_after_a_reboot(
    settled: OcppStation, act: Actions, availability: AvailabilityChanges
) -> None:
    """Station set Inoperative, then a power cycle: after the new boot every
    connector is reported Unavailable again."""
    station = settled
    where = connectors_of(station)
    availability.change("Inoperative", requirement="G04.FR.02")
    expect_all(station, "Unavailable", where, "G04.FR.07")
    reboot(station, act)
    expect_all(station, "Unavailable", where, "G04.FR.09")


# ---------------------------------------------------------------- G05
@pytest.mark.story("G05 Lock Failure")
@pytest.mark.requirement("G05.FR.01", "G05.FR.02")
def test_g05_fr_02_failed_lock_is_reported_and_blocks_charging(
    settled: OcppStation, unplug_after: Actions
) -> None:
    """The connector lock fails when an authorized EV is plugged in: NotifyEvent
    ConnectorPlugRetentionLock.Problem true, and no charging (TC_G_20_CS)."""
    station, act = settled, unplug_after
    lock = {"name": "ConnectorPlugRetentionLock", "evse": {"id": EVSE, "connectorId": CONNECTOR}}
    answer = station.call(
        "GetVariables", {"getVariableData": [{"component": lock, "variable": {"name": "Problem"}}]}
    )
    if answer.get("getVariableResult", [{}])[0].get("attributeStatus") != "Accepted":
        pytest.skip("the station has no ConnectorPlugRetentionLock.Problem (G05 prerequisite)")
    act.lock_failure(evse=EVSE, connector=CONNECTOR, on=True)
    if act.automatic:  # an operator plugs the cable in as part of the lock_failure step
        act.plug(evse=EVSE, connector=CONNECTOR)
    act.present_token(id_token=VALID_TOKEN["idToken"], type=VALID_TOKEN["type"], evse=EVSE)
    want = report_key(lock, {"name": "Problem"})
    report = station.expect(
        "NotifyEvent",
        lambda p: any(report_key(e["component"], e["variable"]) == want for e in p["eventData"]),
        within=within(station, REPORT),
        requirement="G05.FR.02",
        expected="NotifyEventRequest for ConnectorPlugRetentionLock.Problem",
    )
    event = next(
        e for e in report.payload["eventData"] if report_key(e["component"], e["variable"]) == want
    )
    expect(
        str(event["actualValue"]).lower() == "true",
        f"ConnectorPlugRetentionLock.Problem reported {event['actualValue']!r}",
        requirement="G05.FR.02",
        received=report.frame,
        expected='actualValue "true"',
    )
    station.expect_none(
        "TransactionEvent",
        lambda p: p["transactionInfo"].get("chargingState") == "Charging",
        within=quiet(station),
        requirement="G05.FR.01",
        expected="no charging while the connector is not locked",
    )
    if act.automatic:
        act.lock_failure(evse=EVSE, connector=CONNECTOR, on=False)
