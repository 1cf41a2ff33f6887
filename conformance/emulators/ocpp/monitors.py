"""N07 Alert Event: the station's preconfigured ("hard-wired") variable monitors.

The emulator has these monitors (N07 prerequisite: set in firmware), on hardware
values that only the environment changes (control API ``raise_alert``):

=====  =====================================  ==============  =========  ========
id     component.variable                     type            value      severity
=====  =====================================  ==============  =========  ========
1      TemperatureSensor.Temperature          UpperThreshold  70 °C      3
2      TemperatureSensor.Temperature          LowerThreshold  -25 °C     5
10+n   OverCurrentProtection.ACCurrent, EVSE n  UpperThreshold  32 A      2
=====  =====================================  ==============  =========  ========

A value beyond a threshold (not on it) triggers a NotifyEventRequest with trigger
Alerting, eventNotificationType PreconfiguredMonitor, the monitor's id and severity
(N07.FR.06, N07.FR.16, N07.FR.17, N07.FR.20), seqNo 0 (N07.FR.07); the value back
within the threshold triggers one with cleared true (N07.FR.02).  Monitors whose
severity is above MonitoringCtrlr.ActiveMonitoringLevel stay silent (N07.FR.15);
while offline, events of severity up to MonitoringCtrlr.OfflineQueuingSeverity are
queued and delivered later (N07.FR.04); the other monitors are evaluated again once
the station is online (the N07 remark's way of not losing them), which also reports a
value that went back within its threshold across a reboot (N07.FR.14).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.ocpp.device_model import VariableDef

if TYPE_CHECKING:
    from conformance.emulators.ocpp.station import OcppStationEmulator

#: Hardware variables the monitors watch, added to the station's device model.
EXTRA_VARIABLES = (
    VariableDef(
        "TemperatureSensor",
        "Temperature",
        "decimal",
        "ReadOnly",
        "25",
        unit="Celsius",
        supports_monitoring=True,
    ),
    VariableDef(
        "OverCurrentProtection",
        "ACCurrent",
        "decimal",
        "ReadOnly",
        "0",
        unit="A",
        per="evse",
        supports_monitoring=True,
    ),
)


@dataclass(frozen=True)
class Monitor:
    id: int
    component: str
    variable: str
    kind: str  # UpperThreshold | LowerThreshold
    value: float
    severity: int
    evse: int | None = None

    def exceeded(self, actual: float) -> bool:
        return actual > self.value if self.kind == "UpperThreshold" else actual < self.value


def preconfigured(evses: list[int]) -> list[Monitor]:
    out = [
        Monitor(1, "TemperatureSensor", "Temperature", "UpperThreshold", 70.0, 3),
        Monitor(2, "TemperatureSensor", "Temperature", "LowerThreshold", -25.0, 5),
    ]
    out += [
        Monitor(10 + n, "OverCurrentProtection", "ACCurrent", "UpperThreshold", 32.0, 2, n)
        for n in evses
    ]
    return out


class Monitors:
    def __init__(self, station: OcppStationEmulator) -> None:
        self.st = station
        self.monitors = preconfigured(sorted(station.layout))
        self.triggered: set[int] = set()

    def reset(self) -> None:
        self.triggered.clear()

    def raise_alert(
        self, component: str, variable: str, value: str, evse: int | None
    ) -> dict[str, Any]:
        """The hardware value *component*.*variable* (of *evse*) becomes *value*."""
        st = self.st
        try:
            actual = float(value)
        except ValueError:
            raise ValueError(f"value {value!r} is not a number") from None
        matching = [
            m
            for m in self.monitors
            if m.component.casefold() == component.casefold()
            and m.variable.casefold() == variable.casefold()
            and m.evse == evse
        ]
        if st.dm.has(component, variable, evse=evse):
            st.dm.set(component, variable, value, evse=evse, validate=False)
        events = self._evaluate(matching, actual)
        return {
            "monitors": [m.id for m in matching],
            "events": [{"monitor": m.id, "cleared": c} for m, c in events],
            "sent": self._deliver(events, value),
        }

    def reevaluate(self) -> None:
        """Back online (or booted): monitors whose events could not be queued while
        offline are evaluated again against the current values (N07 remark; a value
        back within its threshold after a reboot is reported cleared, N07.FR.14)."""
        for m in self.monitors:
            try:
                raw = self.st.dm.get(m.component, m.variable, evse=m.evse)
                actual = float(raw or "")
            except (KeyError, ValueError):
                continue
            self._deliver(self._evaluate([m], actual), raw or "")

    def _evaluate(self, monitors: list[Monitor], actual: float) -> list[tuple[Monitor, bool]]:
        """(monitor, cleared) for every monitor whose state changes."""
        st = self.st
        events = []
        for m in monitors:
            if m.exceeded(actual) and m.id not in self.triggered:
                self.triggered.add(m.id)
                events.append((m, False))
            elif not m.exceeded(actual) and m.id in self.triggered:
                self.triggered.discard(m.id)
                if not st.fault("alert_no_clear"):
                    events.append((m, True))  # N07.FR.02
        level = st._int("MonitoringCtrlr", "ActiveMonitoringLevel", 9)
        if not st.fault("alert_ignores_level"):
            events = [(m, c) for m, c in events if m.severity <= level]  # N07.FR.15
        if st.fault("alert_not_sent"):
            events = [(m, c) for m, c in events if c]
        return events

    def _deliver(self, events: list[tuple[Monitor, bool]], value: str) -> str:
        """Send now; offline, queue what OfflineQueuingSeverity allows (N07.FR.04) and
        leave the rest to :meth:`reevaluate`."""
        st = self.st
        if not events:
            return "nothing to report"
        if st.reportable:
            self._notify(events, value)
            return "sent"
        queue_to = st._int("MonitoringCtrlr", "OfflineQueuingSeverity", 2)
        if st.fault("alert_not_queued_offline"):
            return "dropped (offline)"
        queued = [(m, c) for m, c in events if m.severity <= queue_to]
        for m, cleared in events:
            if m.severity > queue_to:  # undone: evaluated again once online
                if cleared:
                    self.triggered.add(m.id)
                else:
                    self.triggered.discard(m.id)
        if queued:
            self._notify(queued, value, keep=True)
            return "queued (offline)"
        return "deferred until online"

    def _notify(self, events: list[tuple[Monitor, bool]], value: str, keep: bool = False) -> None:
        st = self.st
        now = st.now_iso()
        data = []
        for m, cleared in events:
            item: dict[str, Any] = {
                "eventId": st.avail.next_event_id(),
                "timestamp": now,
                "trigger": "Delta" if st.fault("alert_wrong_trigger") else "Alerting",
                "actualValue": value[:2500],
                "eventNotificationType": "PreconfiguredMonitor",
                "component": {"name": m.component},
                "variable": {"name": m.variable},
            }
            if m.evse is not None:
                item["component"]["evse"] = {"id": m.evse}
            if not st.fault("alert_no_monitor_id"):
                item["variableMonitoringId"] = m.id  # N07.FR.06
            if st.version == "2.1":
                item["severity"] = m.severity  # N07.FR.20
            if cleared:
                item["cleared"] = True
            data.append(item)
        payload = {
            "generatedAt": now,
            "seqNo": 1 if st.fault("alert_seq_no_nonzero") else 0,  # N07.FR.07
            "tbc": False,
            "eventData": data,
        }
        st.send("NotifyEvent", payload, keep=keep)
