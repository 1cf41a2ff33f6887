"""B01-B04 Cold Boot Accepted, Pending, Rejected, the offline idle station and
its reconnection (OCPP 2.1 Part 2 §B "Provisioning", Part 4 §5.4; OCPP 2.0.1
Part 6 TC_B_01, TC_B_02, TC_B_03, TC_B_30, TC_B_51, TC_B_52, TC_B_57).

Each boot test power-cycles the station (``act.power_cycle``) and answers its
BootNotificationRequests the way the scenario needs.  Availability is read from
NotifyEventRequest (2.1, B01.FR.05) or StatusNotificationRequest (2.0.1, and still
allowed in 2.1); the 2.0.1 editions of B01.FR.05 and B04.FR.01/02 ask for the same
reports with StatusNotification, so those tests run for both versions.  A station
left Pending or Rejected by a test is power-cycled and accepted afterwards (fixture
``unregistered``).

Not tested here:

* B01.FR.02, B01.FR.10, B01.FR.11, B01.FR.12, B02.FR.09, B03.FR.03, B03.FR.07:
  CSMS-side requirements (the framework, as CSMS, keeps to them: it answers every
  BootNotificationRequest and answers CALLs of a station that is not Accepted with
  CALLERROR SecurityError, reporting them as B02.FR.02 / B03.FR.02 findings).
* B01.FR.13: needs a reservation (H01), tested with the reservation use cases.
* B02.FR.03, B03.FR.01: optional behaviour (MAY accept transactions before
  being Accepted).  B03.FR.04 (MAY close the connection while Rejected) is
  tolerated; B03.FR.08 then cannot be checked and its test skips.
* Part 4 §5.4 (TC_B_57_CS) is tested for the first reconnection only; the doubled
  back-off after a refused attempt needs a CSMS that refuses handshakes.
* B02.FR.07, B03.FR.05 are tested as "no resend within FLOOD seconds": the spec
  names no bound, a resend sooner than that is taken as flooding.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from conformance.devices.ocpp import Csms, Exchange, OcppStation
from conformance.errors import Finding
from conformance.expect import expect
from conformance.ocpp import rpc
from conformance.ocpp.actions import Actions
from suites.ocpp.common import (
    AVAILABILITY,
    CONNECTOR,
    EVSE,
    VALID_TOKEN,
    AvailabilityChanges,
    Settings,
    Tx,
    availability_of,
    boot_answers,
    connectors_of,
    every_connector,
    expect_connector_states,
    expect_reboot,
    expect_since,
    forget_earlier,
    offline_period,
    power_cycle,
    quiet,
    within,
)
from suites.ocpp.states import BOOT_TIME

pytestmark = [pytest.mark.protocol("ocpp"), pytest.mark.feature("B Provisioning")]

#: heartbeat interval (s) the CSMS gives in BootNotificationResponse (B01.FR.04)
HEARTBEAT = 10
#: interval (s) of a Pending or Rejected BootNotificationResponse (B02.FR.08, B03.FR.06)
RETRY = 10
#: a BootNotification resent sooner than this (s) after interval 0 is a flood
FLOOD = 10.0
#: share of an interval a station may be early (clock granularity)
EARLY = 0.9
#: real seconds of scheduling jitter allowed on top (matters for fast emulated clocks)
JITTER = 0.03
#: emulated seconds for the availability reports after boot or reconnection
REPORTS = 10.0
#: offset (s) of the CSMS clock from real time in the time-sync test (B01.FR.06)
CLOCK_SHIFT = 600.0
#: how far (s) a synchronised timestamp may be from the CSMS clock
CLOCK_SLACK = 60.0
#: OfflineThreshold (s) below and above the offline period of the B04 tests
SHORT_THRESHOLD = 5
LONG_THRESHOLD = 3600
#: RetryBackOffWaitMinimum (s) of the reconnection test (Part 4 §5.4)
BACK_OFF = 10


def only_boots_between(
    station: OcppStation, first: Exchange, until: float, *, requirement: str
) -> None:
    """On the connection of the BootNotificationRequest *first* (and later ones), no
    CALL but BootNotificationRequest before *until* (B01.FR.08, B02.FR.02, B03.FR.02)."""
    __tracebackhide__ = True
    other = [
        e
        for e in station.received()
        if e.connection >= first.connection and e.at < until and e.action != "BootNotification"
    ]
    if other:
        raise Finding(
            f"station sent {other[0].action}Request before its BootNotification was Accepted",
            requirement=requirement,
            received=other[0].frame,
            expected="only BootNotificationRequest until the CSMS answers Accepted",
        )


def expect_gap(
    station: OcppStation, first: Exchange, second: Exchange, interval: float, requirement: str
) -> None:
    """*second* came no sooner than *interval* emulated seconds after *first*."""
    __tracebackhide__ = True
    gap = second.at - first.at
    expect(
        gap >= station.seconds(interval) * EARLY - JITTER,
        f"{second.action}Request came {gap:.3f} s after the previous one",
        requirement=requirement,
        received=second.frame,
        expected=f"not before the interval of {interval} s ({station.seconds(interval):.3f} s)",
    )


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))


@pytest.fixture
def unregistered(booted: OcppStation, act: Actions) -> Iterator[OcppStation]:
    """The station, for a test that may leave it Pending or Rejected: afterwards it
    is power-cycled and Accepted again (or, without a way to power-cycle it,
    accepted at its next BootNotificationRequest)."""
    yield booted
    if booted.accepted:
        return
    booted.csms = Csms()
    with contextlib.suppress(Exception):
        if act.automatic or act.operator is not None:
            act.power_cycle()
        booted.wait_for(
            lambda: booted.accepted,
            within=within(booted, BOOT_TIME),
            what="registration Accepted again",
            requirement=None,
        )


# ---------------------------------------------------------------- B01
@pytest.mark.story("B01 Cold Boot Charging Station")
@pytest.mark.requirement("B01.FR.01", "B01.FR.03", "B01.FR.05", "B01.FR.09")
def test_b01_fr_01_cold_boot_registers_and_reports_every_connector(
    booted: OcppStation, act: Actions
) -> None:
    """After a power cycle the station connects again, boots with reason PowerUp
    and reports every connector Available (TC_B_01_CS)."""
    station = booted
    wanted = every_connector(station)
    since = power_cycle(station, act)
    boot = expect_reboot(station, since, reason="PowerUp")
    expect_connector_states(
        station, wanted, since=boot.at, within=within(station, REPORTS), requirement="B01.FR.05"
    )


@pytest.mark.story("B01 Cold Boot Charging Station")
@pytest.mark.requirement("B01.FR.04")
def test_b01_fr_04_heartbeat_follows_the_boot_interval(booted: OcppStation, act: Actions) -> None:
    """After BootNotificationResponse Accepted with a 10 s interval the station
    sends a HeartbeatRequest every 10 s: none later, none sooner."""
    station = booted
    station.csms.heartbeat_interval = HEARTBEAT
    since = power_cycle(station, act)
    boot = expect_reboot(station, since, reason=None)
    beats = [
        expect_since(
            station,
            "Heartbeat",
            boot.at,
            within=within(station, HEARTBEAT),
            requirement="B01.FR.04",
        )
        for _ in range(2)
    ]
    expect_gap(station, beats[0], beats[1], HEARTBEAT, "B01.FR.04")


@pytest.mark.story("B01 Cold Boot Charging Station")
@pytest.mark.requirement("B01.FR.06")
def test_b01_fr_06_clock_follows_the_csms_time(
    booted: OcppStation, act: Actions, station_settings: Settings
) -> None:
    """With TimeSource Heartbeat the station takes currentTime of the
    BootNotificationResponse as its clock: the timestamps of its next reports
    follow a CSMS clock that is 10 minutes ahead."""
    station = booted
    sources = station_settings.get("ClockCtrlr", "TimeSource") or ""
    if "Heartbeat" not in sources.split(","):
        station_settings.set("ClockCtrlr", "TimeSource", "Heartbeat")
    station.csms.on(
        "BootNotification", boot_answers(("Accepted", HEARTBEAT), clock_shift=CLOCK_SHIFT)
    )
    since = power_cycle(station, act)
    boot = expect_reboot(station, since, reason=None)
    report = expect_since(
        station, AVAILABILITY, boot.at, within=within(station, REPORTS), requirement="B01.FR.05"
    )
    payload = report.payload
    stamp = payload.get("timestamp") or payload.get("generatedAt")
    received_at = datetime.now(UTC) - timedelta(seconds=time.monotonic() - report.at)
    ours = received_at + timedelta(seconds=CLOCK_SHIFT)
    off = (parse_time(stamp) - ours).total_seconds()
    expect(
        abs(off) <= CLOCK_SLACK,
        f"{report.action}Request timestamp {stamp} is {off:+.0f} s from the CSMS clock "
        f"({ours.isoformat(timespec='seconds')}) set at boot",
        requirement="B01.FR.06",
        received=report.frame,
        expected=f"timestamps within {CLOCK_SLACK:.0f} s of the currentTime clock "
        f"(BootNotificationResponse at {boot.reply.frame() if boot.reply else '?'})",
    )
    # our Heartbeat answers carry the real time: the station's clock is right again
    station.csms.handlers.pop("BootNotification", None)
    expect_since(
        station, "Heartbeat", boot.at, within=within(station, HEARTBEAT), requirement="B01.FR.04"
    )


@pytest.mark.story("B01 Cold Boot Charging Station")
@pytest.mark.requirement("B01.FR.07", "B01.FR.05")
def test_b01_fr_07_inoperative_evse_is_unavailable_after_power_cycle(
    booted: OcppStation, act: Actions, availability: AvailabilityChanges
) -> None:
    """An EVSE set Inoperative by ChangeAvailability is reported Unavailable again
    after a power cycle; the other connectors Available."""
    station = booted
    wanted = every_connector(station)
    answer = availability.change("Inoperative", evse=EVSE, requirement="B01.FR.07")
    expect(
        answer.get("status") == "Accepted",
        f"ChangeAvailability Inoperative answered {answer.get('status')}",
        requirement="B01.FR.07",
        expected="status Accepted (the station is idle)",
    )
    wanted.update({k: "Unavailable" for k in wanted if k[0] == EVSE})
    since = power_cycle(station, act)
    boot = expect_reboot(station, since, reason=None)
    expect_connector_states(
        station, wanted, since=boot.at, within=within(station, REPORTS), requirement="B01.FR.07"
    )


@pytest.mark.story("B01 Cold Boot Charging Station")
@pytest.mark.requirement("B01.FR.08", "B02.FR.02")
def test_b01_fr_08_queued_messages_wait_for_the_accepted_boot(
    energy_transfer_started: Tx, act: Actions, unregistered: OcppStation
) -> None:
    """Transaction messages kept across a power cycle (the Ended event of the
    transaction it broke off) are sent only after the BootNotification is Accepted:
    nothing but BootNotificationRequest before, also not while Pending."""
    tx = energy_transfer_started
    station = tx.station
    station.csms.on("BootNotification", boot_answers(("Pending", RETRY), ("Accepted", 300)))
    since = power_cycle(station, act)
    first = expect_reboot(station, since, reason="PowerUp")
    accepted = station.expect(
        "BootNotification", within=within(station, RETRY), requirement="B02.FR.08"
    )
    only_boots_between(station, first, accepted.at, requirement="B01.FR.08")
    try:  # without a message kept across the power cycle the check above was idle
        station.wait_for(
            lambda: any(e.at >= since for e in tx.all_events()),
            within=quiet(station, REPORTS),
            what="a TransactionEventRequest kept across the power cycle",
            requirement=None,
        )
    except Finding:
        pytest.skip("the station kept no transaction message across the power cycle")


# ---------------------------------------------------------------- B02
@pytest.mark.story("B02 Cold Boot Charging Station - Pending")
@pytest.mark.requirement("B02.FR.01", "B02.FR.02", "B02.FR.05")
def test_b02_fr_01_pending_station_answers_the_csms(
    act: Actions, station_settings: Settings, unregistered: OcppStation
) -> None:
    """While Pending the station answers SetVariables, GetVariables and
    GetBaseReport (its NotifyReports are asked for) and rejects
    RequestStartTransaction (TC_B_02_CS steps 3-12)."""
    station = unregistered
    old = station_settings.get("OCPPCommCtrlr", "OfflineThreshold") or "300"
    new = "301" if old == "300" else "300"
    station.csms.on("BootNotification", boot_answers(("Pending", RETRY)))
    since = power_cycle(station, act)
    expect_reboot(station, since, reason="PowerUp")
    station.wait_for(
        lambda: station.registration == "Pending",
        within=within(station, REPORTS),
        what="registration Pending",
        requirement="B02.FR.01",
    )
    station_settings.set("OCPPCommCtrlr", "OfflineThreshold", new)
    got = station_settings.get("OCPPCommCtrlr", "OfflineThreshold")
    expect(
        got == new,
        f"GetVariables OfflineThreshold gave {got!r} after SetVariables {new!r}",
        requirement="B02.FR.01",
        expected=f"attributeStatus Accepted, attributeValue {new!r}",
    )
    request_id = int(time.time()) % 1_000_000
    report = station.call(
        "GetBaseReport",
        {"requestId": request_id, "reportBase": "FullInventory"},
        requirement="B02.FR.01",
    )
    expect(
        report.get("status") == "Accepted",
        f"GetBaseReport answered {report.get('status')} while Pending",
        requirement="B02.FR.01",
        expected="status Accepted",
    )
    station.expect(
        "NotifyReport",
        lambda p: p["requestId"] == request_id,
        within=within(station, REPORTS),
        requirement="B02.FR.01",
    )
    start = station.call(
        "RequestStartTransaction",
        {"idToken": VALID_TOKEN, "remoteStartId": request_id, "evseId": EVSE},
        requirement="B02.FR.05",
    )
    expect(
        start.get("status") == "Rejected",
        f"RequestStartTransaction answered {start.get('status')} while Pending",
        requirement="B02.FR.05",
        expected="status Rejected",
    )


@pytest.mark.story("B02 Cold Boot Charging Station - Pending")
@pytest.mark.requirement("B02.FR.02", "B02.FR.04", "B02.FR.06", "B02.FR.08", "B01.FR.05")
def test_b02_fr_08_pending_station_boots_again_after_the_interval(
    unregistered: OcppStation, act: Actions
) -> None:
    """Pending with a 10 s interval: the station keeps the connection, sends
    nothing, boots again after 10 s (not sooner); once Accepted it reports every
    connector (TC_B_02_CS steps 15-17)."""
    station = unregistered
    wanted = every_connector(station)
    station.csms.on("BootNotification", boot_answers(("Pending", RETRY), ("Accepted", 300)))
    since = power_cycle(station, act)
    first = expect_reboot(station, since, reason="PowerUp")
    second = station.expect(
        "BootNotification", within=within(station, RETRY), requirement="B02.FR.08"
    )
    expect_gap(station, first, second, RETRY, "B02.FR.04")
    closed = [e for e in station.events_since(first.at) if e[1] == "closed" and e[0] < second.at]
    expect(
        not closed,
        f"the station closed the connection while Pending ({closed[0][2] if closed else ''})",
        requirement="B02.FR.06",
        expected="the connection stays open while Pending",
    )
    only_boots_between(station, first, second.at, requirement="B02.FR.02")
    expect_connector_states(
        station, wanted, since=second.at, within=within(station, REPORTS), requirement="B01.FR.05"
    )


@pytest.mark.story("B02 Cold Boot Charging Station - Pending")
@pytest.mark.requirement("B02.FR.07")
def test_b02_fr_07_pending_interval_zero_is_no_flood(
    unregistered: OcppStation, act: Actions
) -> None:
    """Pending with interval 0: the station picks its own wait and does not resend
    BootNotificationRequest within 10 s."""
    no_flood(unregistered, act, "Pending", "B02.FR.07")


def no_flood(station: OcppStation, act: Actions, status: str, requirement: str) -> None:
    __tracebackhide__ = True
    station.csms.on("BootNotification", boot_answers((status, 0)))
    since = power_cycle(station, act)
    expect_reboot(station, since, reason="PowerUp")
    station.expect_none(
        "BootNotification",
        within=station.seconds(FLOOD),
        requirement=requirement,
        expected=f"no BootNotificationRequest within {FLOOD:.0f} s of one answered "
        f"{status} with interval 0",
    )


# ---------------------------------------------------------------- B03
@pytest.mark.story("B03 Cold Boot Charging Station - Rejected")
@pytest.mark.requirement("B03.FR.02", "B03.FR.06", "B01.FR.05")
def test_b03_fr_02_rejected_station_is_silent_until_the_interval(
    unregistered: OcppStation, act: Actions
) -> None:
    """Rejected with a 10 s interval: the station sends nothing for 10 s (it may
    close the connection), then boots again; once Accepted it reports every
    connector (TC_B_03_CS)."""
    station = unregistered
    wanted = every_connector(station)
    station.csms.on("BootNotification", boot_answers(("Rejected", RETRY), ("Accepted", 300)))
    since = power_cycle(station, act)
    first = expect_reboot(station, since, reason="PowerUp")
    second = station.expect(
        "BootNotification", within=within(station, RETRY), requirement="B03.FR.06"
    )
    expect_gap(station, first, second, RETRY, "B03.FR.02")
    only_boots_between(station, first, second.at, requirement="B03.FR.02")
    expect_connector_states(
        station, wanted, since=second.at, within=within(station, REPORTS), requirement="B01.FR.05"
    )


@pytest.mark.story("B03 Cold Boot Charging Station - Rejected")
@pytest.mark.requirement("B03.FR.08")
def test_b03_fr_08_rejected_station_answers_security_error(
    unregistered: OcppStation, act: Actions
) -> None:
    """While Rejected the station answers a GetBaseReportRequest with CALLERROR
    SecurityError (TC_B_30_CS)."""
    station = unregistered
    station.csms.on("BootNotification", boot_answers(("Rejected", 60)))
    since = power_cycle(station, act)
    expect_reboot(station, since, reason="PowerUp")
    if not station.connected:
        pytest.skip("the station closed the connection while Rejected (B03.FR.04)")
    answer = station.call(
        "GetBaseReport",
        {"requestId": int(time.time()) % 1_000_000, "reportBase": "FullInventory"},
        requirement="B03.FR.08",
        allow_error=True,
    )
    code = answer.error_code if isinstance(answer, rpc.CallError) else "a CALLRESULT"
    expect(
        code == "SecurityError",
        f"GetBaseReportRequest while Rejected was answered with {code}",
        requirement="B03.FR.08",
        received=answer.frame() if isinstance(answer, rpc.CallError) else str(answer),
        expected="CALLERROR SecurityError",
    )


@pytest.mark.story("B03 Cold Boot Charging Station - Rejected")
@pytest.mark.requirement("B03.FR.05")
def test_b03_fr_05_rejected_interval_zero_is_no_flood(
    unregistered: OcppStation, act: Actions
) -> None:
    """Rejected with interval 0: the station picks its own wait and does not resend
    BootNotificationRequest within 10 s."""
    no_flood(unregistered, act, "Rejected", "B03.FR.05")


# ---------------------------------------------------------------- B04
def offline_with_cable(
    station: OcppStation, act: Actions, settings: Settings, threshold: int, hold: float
) -> float:
    """OfflineThreshold *threshold*, then offline for at least *hold* emulated
    seconds while an EV is plugged in at EVSE 1; returns when the link went down
    (monotonic): the reports after it are those of the reconnection."""
    settings.set("OCPPCommCtrlr", "OfflineThreshold", str(threshold))
    # a known reconnection delay, as TC_B_51/52 configure it (Part 4 §5.4)
    settings.set("OCPPCommCtrlr", "RetryBackOffRandomRange", "0")
    settings.set("OCPPCommCtrlr", "RetryBackOffWaitMinimum", "1")
    forget_earlier(station)
    since = time.monotonic()
    with offline_period(station, act):
        act.plug(evse=EVSE, connector=CONNECTOR)
        until = time.monotonic() + station.seconds(hold)
        station.wait_for(
            lambda: time.monotonic() >= until,
            within=station.seconds(hold) + 1.0,
            what=f"{hold:.0f} s offline",
            requirement=None,
        )
    return since


@pytest.mark.story("B04 Offline Behavior Idle Charging Station")
@pytest.mark.requirement("B04.FR.01")
def test_b04_fr_01_long_offline_reports_every_connector(
    booted: OcppStation, act: Actions, station_settings: Settings
) -> None:
    """Offline longer than OfflineThreshold, a cable plugged in meanwhile: back
    online the station reports every connector, the plugged one Occupied
    (TC_B_51_CS)."""
    station = booted
    wanted = every_connector(station)
    wanted[(EVSE, CONNECTOR)] = "Occupied"
    try:
        since = offline_with_cable(
            station, act, station_settings, SHORT_THRESHOLD, 2.0 * SHORT_THRESHOLD
        )
        expect_connector_states(
            station, wanted, since=since, within=within(station, REPORTS), requirement="B04.FR.01"
        )
    finally:
        act.unplug(evse=EVSE, connector=CONNECTOR)


@pytest.mark.story("B04 Offline Behavior Idle Charging Station")
@pytest.mark.requirement("B04.FR.02")
def test_b04_fr_02_short_offline_reports_only_changed_connectors(
    booted: OcppStation, act: Actions, station_settings: Settings
) -> None:
    """Offline shorter than OfflineThreshold, a cable plugged in meanwhile: back
    online the station reports the plugged connector Occupied and no other
    (TC_B_52_CS)."""
    station = booted
    others = [k for k in connectors_of(station) if k != (EVSE, CONNECTOR)]
    try:
        since = offline_with_cable(station, act, station_settings, LONG_THRESHOLD, 0.0)
        expect_connector_states(
            station,
            {(EVSE, CONNECTOR): "Occupied"},
            since=since,
            within=within(station, REPORTS),
            requirement="B04.FR.02",
        )
        station.expect_none(
            AVAILABILITY,
            lambda p: any((e, c) in others for e, c, _ in availability_of(p)),
            within=quiet(station, REPORTS),
            requirement="B04.FR.02",
            expected="no report for connectors whose state did not change while offline",
        )
    finally:
        act.unplug(evse=EVSE, connector=CONNECTOR)


# ---------------------------------------------------------------- Part 4 §5.4 (TC_B_57_CS)
@pytest.mark.story("Part 4 §5.4 Reconnecting")
@pytest.mark.requirement("Part 4 §5.4")
def test_part4_5_4_reconnect_waits_the_back_off(
    booted: OcppStation, station_settings: Settings
) -> None:
    """When the CSMS closes the connection the station dials in again, but not
    before RetryBackOffWaitMinimum (RetryBackOffRandomRange 0) has passed
    (TC_B_57_CS steps 1-3)."""
    station = booted
    station_settings.set("OCPPCommCtrlr", "RetryBackOffRandomRange", "0")
    station_settings.set("OCPPCommCtrlr", "RetryBackOffWaitMinimum", str(BACK_OFF))
    since = time.monotonic()
    station.drop_connection()
    station.wait_disconnected(within(station, REPORTS), requirement=None)
    station.wait_connected(within(station, BACK_OFF), requirement="Part 4 §5.4")
    events = station.events_since(since)
    closed = next(at for at, kind, _ in events if kind == "closed")
    back = next(at for at, kind, _ in events if kind == "connected" and at >= closed)
    expect(
        back - closed >= station.seconds(BACK_OFF) * EARLY - JITTER,
        f"the station dialled in again {back - closed:.3f} s after the connection was closed",
        requirement="Part 4 §5.4",
        expected=f"not before RetryBackOffWaitMinimum {BACK_OFF} s "
        f"({station.seconds(BACK_OFF):.3f} s)",
    )
