"""N07 Alert Event (OCPP 2.1 Part 2 §N "Diagnostics"; OCPP 2.0.1 Part 6 TC_N_20_CS).

N07 needs monitors the station already has (its prerequisite).  The suite asks the
station for its threshold monitors with GetMonitoringReport (N02); a station that
cannot report them is driven on the hard-wired monitors below, if it has their
variable.  The monitored value is moved by a physical action (``raise_alert``:
the control API, else the operator) across the threshold and back.

Not tested here:

* N07.FR.03: a CSMS-side requirement (this suite answers every NotifyEvent).
* N07.FR.05, N07.FR.20, N07.FR.21: optional (MAY/SHOULD).
* N07.FR.10, N07.FR.11, N07.FR.12, N07.FR.13, N07.FR.18, N07.FR.19, N07.FR.22,
  N07.FR.23: need monitors set, changed or cleared by the CSMS (N04/N06:
  SetVariableMonitoring, ClearVariableMonitoring) or of types (Delta, TargetDelta)
  a station need not have preconfigured.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from conformance.devices.ocpp import Exchange, OcppStation
from conformance.expect import expect
from conformance.ocpp import rpc
from conformance.ocpp.actions import Actions
from suites.ocpp.common import (
    Settings,
    next_request_id,
    quiet,
    reboot,
    report_key,
    since_21,
    within,
)

pytestmark = [pytest.mark.protocol("ocpp"), pytest.mark.feature("N Diagnostics")]

STORY = "N07 Alert Event"
#: emulated seconds a station may take to report a crossed threshold
REPORT = 10.0
#: emulated seconds to get back online after the network returns (Part 4 §5.4 back-off)
RECONNECT = 120.0


@dataclass(frozen=True)
class Monitor:
    """A threshold monitor of the station (VariableMonitoringType)."""

    component: dict[str, Any]
    variable: dict[str, Any]
    kind: str  # UpperThreshold | LowerThreshold
    value: float
    id: int | None = None
    severity: int | None = None

    @property
    def evse(self) -> int | None:
        return (self.component.get("evse") or {}).get("id")

    @property
    def label(self) -> str:
        return f"{self.kind} {self.value:g} on {self.component['name']}.{self.variable['name']}"

    def beyond(self) -> float:
        """A value that triggers it (past the threshold, not on it)."""
        margin = max(1.0, abs(self.value) * 0.1)
        return self.value + margin if self.kind == "UpperThreshold" else self.value - margin

    def back(self) -> float:
        """A value within the threshold again."""
        margin = max(1.0, abs(self.value) * 0.1)
        return self.value - margin if self.kind == "UpperThreshold" else self.value + margin

    def names(self, event: dict[str, Any], cleared: bool) -> bool:
        """*event* (eventData) is this monitor's, cleared or not."""
        if report_key(event["component"], event["variable"]) != report_key(
            self.component, self.variable
        ):
            return False
        if self.id is not None and event.get("variableMonitoringId") not in (None, self.id):
            return False
        return bool(event.get("cleared", False)) == cleared


#: hard-wired monitors driven when the station cannot report its own (GetMonitoringReport)
FALLBACK = (
    Monitor({"name": "TemperatureSensor"}, {"name": "Temperature"}, "UpperThreshold", 70.0),
    Monitor({"name": "TemperatureSensor"}, {"name": "Temperature"}, "LowerThreshold", -25.0),
)
_FOUND: weakref.WeakKeyDictionary[OcppStation, list[Monitor]] = weakref.WeakKeyDictionary()


def reported_monitors(station: OcppStation) -> list[Monitor] | None:
    """Threshold monitors from GetMonitoringReport (N02), or None when the station
    does not report them."""
    request_id = next_request_id()
    payload = {"requestId": request_id, "monitoringCriteria": ["ThresholdMonitoring"]}
    answer = station.call("GetMonitoringReport", payload, allow_error=True)
    if isinstance(answer, rpc.CallError) or answer.get("status") != "Accepted":
        return None
    found = []
    while True:
        part = station.expect(
            "NotifyMonitoringReport",
            lambda p: p["requestId"] == request_id,
            within=within(station, REPORT),
            requirement="N02.FR.03",
        ).payload
        for item in part.get("monitor", []):
            for vm in item.get("variableMonitoring", []):
                if vm["type"] in ("UpperThreshold", "LowerThreshold"):
                    kind, value = vm["type"], float(vm["value"])
                    cv = (item["component"], item["variable"])
                    found.append(Monitor(*cv, kind, value, vm["id"], vm["severity"]))
        if not part.get("tbc", False):
            return found


def monitor(station: OcppStation, kind: str) -> Monitor:
    """A threshold monitor of *kind* the station has; skip when it has none."""
    found = _FOUND.get(station)
    if found is None:
        found = reported_monitors(station) or []
        if not found:
            for fallback in FALLBACK:
                item = {"component": fallback.component, "variable": fallback.variable}
                answer = station.call("GetVariables", {"getVariableData": [item]})
                result = (answer.get("getVariableResult") or [{}])[0]
                if result.get("attributeStatus") == "Accepted":
                    found.append(fallback)
        _FOUND[station] = found
    for candidate in found:
        if candidate.kind == kind:
            return candidate
    pytest.skip(f"the station reports no {kind} monitor (N07 needs one preconfigured)")


def matching(m: Monitor, *, cleared: bool) -> Callable[[dict[str, Any]], bool]:
    return lambda p: any(m.names(e, cleared) for e in p["eventData"])


def expect_alert(
    station: OcppStation, m: Monitor, *, cleared: bool, requirement: str
) -> tuple[Exchange, dict[str, Any]]:
    """The NotifyEventRequest for *m* (cleared or not), checked: its component,
    variable and variableMonitoringId (N07.FR.06), seqNo 0 (N07.FR.07) and trigger
    Alerting (N07.FR.16/17)."""
    __tracebackhide__ = True
    what = "back within" if cleared else "beyond"
    report = station.expect(
        "NotifyEvent",
        matching(m, cleared=cleared),
        within=within(station, REPORT),
        requirement=requirement,
        expected=f"NotifyEventRequest for the {m.label} monitor (value {what} it)"
        + (", cleared true" if cleared else ""),
    )
    event = next(e for e in report.payload["eventData"] if m.names(e, cleared))
    monitor_id = event.get("variableMonitoringId")
    expect(
        monitor_id is not None and (m.id is None or monitor_id == m.id),
        f"eventData for {m.label} has variableMonitoringId {monitor_id}",
        requirement="N07.FR.06",
        received=report.frame,
        expected=f"variableMonitoringId {m.id if m.id is not None else 'of the monitor'}",
    )
    expect(
        report.payload["seqNo"] == 0,
        f"the NotifyEventRequest of the alert has seqNo {report.payload['seqNo']}",
        requirement="N07.FR.07",
        received=report.frame,
        expected="seqNo 0",
    )
    expect(
        event["trigger"] == "Alerting",
        f"threshold event with trigger {event['trigger']}",
        requirement="N07.FR.16" if m.kind == "UpperThreshold" else "N07.FR.17",
        received=report.frame,
        expected="trigger Alerting",
    )
    return report, event


class Alerts:
    """The station, and the physical action that moves a monitored value; moved
    values are put back within their thresholds after the test."""

    def __init__(self, station: OcppStation, act: Actions) -> None:
        self.station = station
        self.act = act
        self.moved: list[Monitor] = []

    def move(self, m: Monitor, value: float) -> None:
        """The value *m* watches becomes *value* (control API or operator)."""
        if m not in self.moved:
            self.moved.append(m)
        self.act.raise_alert(
            component=m.component["name"],
            variable=m.variable["name"],
            value=f"{value:g}",
            evse=m.evse,
        )

    def restore(self) -> None:
        if not self.act.automatic:
            return
        with contextlib.suppress(Exception):
            if not self.station.connected:
                self.act.go_online()
            for m in self.moved:
                self.move(m, m.back())


@pytest.fixture
def alerts(settled: OcppStation, act: Actions) -> Iterator[Alerts]:
    keeper = Alerts(settled, act)
    yield keeper
    keeper.restore()


@pytest.mark.story(STORY)
@pytest.mark.requirement("N07.FR.06", "N07.FR.07", "N07.FR.16")
def test_n07_fr_16_upper_threshold_exceeded_is_alerted(
    alerts: Alerts,
) -> None:
    """Value on an UpperThreshold: no event; above it: NotifyEvent trigger Alerting with
    the monitor's component, variable and id, seqNo 0 (TC_N_20_CS)."""
    station = alerts.station
    m = monitor(station, "UpperThreshold")
    alerts.move(m, m.value)
    station.expect_none(
        "NotifyEvent",
        matching(m, cleared=False),
        within=quiet(station),
        requirement="N07.FR.16",
        expected=f"no event with the value on the threshold {m.value:g}",
    )
    alerts.move(m, m.beyond())
    expect_alert(station, m, cleared=False, requirement="N07.FR.16")


@pytest.mark.story(STORY)
@pytest.mark.requirement("N07.FR.06", "N07.FR.07", "N07.FR.17")
def test_n07_fr_17_lower_threshold_undercut_is_alerted(
    alerts: Alerts,
) -> None:
    """Value below a LowerThreshold: NotifyEvent trigger Alerting with the monitor's
    component, variable and id, seqNo 0 (TC_N_20_CS)."""
    station = alerts.station
    m = monitor(station, "LowerThreshold")
    alerts.move(m, m.beyond())
    expect_alert(station, m, cleared=False, requirement="N07.FR.17")


@since_21
@pytest.mark.story(STORY)
@pytest.mark.requirement("N07.FR.02", "N07.FR.06")
def test_n07_fr_02_value_back_within_the_threshold_is_cleared(
    alerts: Alerts,
) -> None:
    """Value above an UpperThreshold, then back below it: a NotifyEvent with cleared
    true for that monitor (TC_N_20_CS step 7)."""
    station = alerts.station
    m = monitor(station, "UpperThreshold")
    alerts.move(m, m.beyond())
    expect_alert(station, m, cleared=False, requirement="N07.FR.16")
    alerts.move(m, m.back())
    expect_alert(station, m, cleared=True, requirement="N07.FR.02")


@since_21
@pytest.mark.story(STORY)
@pytest.mark.requirement("N07.FR.14")
def test_n07_fr_14_value_back_within_after_a_reboot_is_cleared(
    alerts: Alerts,
) -> None:
    """Value above an UpperThreshold, a power cycle, then the value back below it: a
    NotifyEvent with cleared true."""
    station = alerts.station
    m = monitor(station, "UpperThreshold")
    alerts.move(m, m.beyond())
    expect_alert(station, m, cleared=False, requirement="N07.FR.16")
    reboot(station, alerts.act)
    alerts.move(m, m.back())
    expect_alert(station, m, cleared=True, requirement="N07.FR.14")


@pytest.fixture
def monitoring_level(settled: OcppStation) -> Iterator[Callable[[int], str]]:
    """SetMonitoringLevel (N05) for the test; the level it had is set again after it."""
    item = {"component": {"name": "MonitoringCtrlr"}, "variable": {"name": "ActiveMonitoringLevel"}}
    answer = settled.call("GetVariables", {"getVariableData": [item]})
    result = (answer.get("getVariableResult") or [{}])[0]
    accepted = result.get("attributeStatus") == "Accepted"
    before = result.get("attributeValue", "9") if accepted else "9"
    changed: list[int] = []

    def set_level(severity: int) -> str:
        changed.append(severity)
        answer = settled.call("SetMonitoringLevel", {"severity": severity})
        return str(answer.get("status"))

    yield set_level
    if changed and settled.accepted:
        with contextlib.suppress(Exception):
            settled.call("SetMonitoringLevel", {"severity": int(before)}, allow_error=True)


@pytest.mark.story(STORY)
@pytest.mark.requirement("N07.FR.15")
def test_n07_fr_15_monitor_above_the_monitoring_level_is_silent(
    alerts: Alerts, monitoring_level: Callable[[int], str]
) -> None:
    """The alert is sent at first; with SetMonitoringLevel below the monitor's severity
    the same crossing sends nothing."""
    station = alerts.station
    m = monitor(station, "UpperThreshold")
    alerts.move(m, m.beyond())
    _, event = expect_alert(station, m, cleared=False, requirement="N07.FR.16")
    alerts.move(m, m.back())
    severity = m.severity if m.severity is not None else event.get("severity")
    level = 0 if severity is None else int(severity) - 1
    if level < 0:
        pytest.skip(f"the {m.label} monitor has severity 0: no level is below it")
    if monitoring_level(level) != "Accepted":
        pytest.skip(f"SetMonitoringLevel {level} is not Accepted (N05)")
    alerts.move(m, m.beyond())
    station.expect_none(
        "NotifyEvent",
        matching(m, cleared=False),
        within=quiet(station),
        requirement="N07.FR.15",
        expected=f"no event: the monitor's severity {severity} is above the level {level}",
    )


@pytest.mark.story(STORY)
@pytest.mark.requirement("N07.FR.04", "N07.FR.06")
def test_n07_fr_04_alert_while_offline_is_delivered_once_online(
    station_settings: Settings, alerts: Alerts
) -> None:
    """OfflineQueuingSeverity 9 (every severity), the station offline, the threshold
    crossed: the NotifyEvent arrives after the connection is back (TC_N_22_CS)."""
    station = alerts.station
    m = monitor(station, "UpperThreshold")
    station_settings.set("MonitoringCtrlr", "OfflineQueuingSeverity", "9")
    alerts.act.go_offline()
    station.wait_disconnected(within(station, REPORT))
    alerts.move(m, m.beyond())
    alerts.act.go_online()
    station.wait_connected(within(station, RECONNECT), requirement="N07.FR.04")
    expect_alert(station, m, cleared=False, requirement="N07.FR.04")
