"""Connector availability of the station emulator: G01, G03, G04 and the B01/B04
reports.

The station, each EVSE and each connector have their own operative setting
(G03 note 1), set by ChangeAvailability and kept across reboots (B01.FR.07,
G03.FR.08, G04.FR.09).  A connector's AvailabilityState follows from them and from
the cable: Unavailable when the connector, its EVSE or the station is Inoperative
(G03.FR.06, G04.FR.07) or a reset waits for idle (B12 scenario 3a), else Occupied
while its cable is in (G01.FR.03), else Available (G01.FR.04).  A change during a
transaction is Scheduled and applied when the transaction ends (G03.FR.05,
G04.FR.06, G01.FR.05).

Every change is reported for the connector that changed, and only for it
(G01.FR.08): NotifyEventRequest (component Connector, variable AvailabilityState,
trigger Delta) in 2.1 (B01.FR.05, G01.FR.03), StatusNotificationRequest in 2.0.1.
Changes while not connected and Accepted are remembered for B04.FR.02.
The device model's AvailabilityState variables follow along (B07.FR.09).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.emulators.ocpp.station import OcppStationEmulator

Key = tuple[int, int]


class Availability:
    def __init__(self, station: OcppStationEmulator) -> None:
        self.st = station
        self.station_op = True
        self.evse_op: dict[int, bool] = dict.fromkeys(station.layout, True)
        self.conn_op: dict[Key, bool] = {k: True for k in self._keys()}
        #: (evse or None for the station, connector or None, operative)
        self.scheduled: list[tuple[int | None, int | None, bool]] = []
        self.waiting_reset: int | bool | None = False  # False, None (station) or an EVSE id
        self.current: dict[Key, str] = {k: "Available" for k in self._keys()}
        self.changed_offline: set[Key] = set()
        self._event_ids = itertools.count(1)

    def _keys(self) -> list[Key]:
        return [(e, c) for e, n in self.st.layout.items() for c in range(1, n + 1)]

    # ------------------------------------------------------------ state
    def operative(self, evse: int, connector: int | None = None) -> bool:
        if not (self.station_op and self.evse_op[evse]):
            return False
        if connector is not None:
            return self.conn_op[(evse, connector)]
        return any(self.conn_op[(evse, c)] for c in range(1, self.st.layout[evse] + 1))

    def status(self, evse: int, connector: int) -> str:
        """The AvailabilityState this connector is in now."""
        ev = self.st.tx.evses[evse]
        plugged = ev.cable == connector
        inoperative = not (self.station_op and self.conn_op[(evse, connector)])
        if not self.evse_op[evse] and not self.st.fault("evse_inoperative_connectors_available"):
            inoperative = True  # G03.FR.06
        resetting = self.waiting_reset is None or self.waiting_reset == evse
        if inoperative or (resetting and not plugged):
            return "Unavailable"
        return "Occupied" if plugged else "Available"

    def describe(self) -> dict[str, Any]:
        return {
            "station_operative": self.station_op,
            "evse_operative": {str(e): v for e, v in self.evse_op.items()},
            "connector_operative": {f"{e}/{c}": v for (e, c), v in self.conn_op.items()},
            "scheduled": [list(s) for s in self.scheduled],
            "status": {f"{e}/{c}": s for (e, c), s in self.current.items()},
        }

    def reset(self) -> None:
        """reset_state: everything Operative, nothing scheduled, nothing sent."""
        self.station_op = True
        self.evse_op = dict.fromkeys(self.evse_op, True)
        self.conn_op = dict.fromkeys(self.conn_op, True)
        self.scheduled.clear()
        self.waiting_reset = False
        self.changed_offline.clear()
        self.current = {k: self.status(*k) for k in self._keys()}
        self._sync_model()

    def rebooted(self) -> None:
        """A reboot: scheduled changes apply (no transaction survives), a pending reset is
        done; settings persist unless availability_not_persisted."""
        for scope_evse, connector, operative in self.scheduled:
            self._set(scope_evse, connector, operative)
        self.scheduled.clear()
        self.waiting_reset = False
        if self.st.fault("availability_not_persisted"):  # breaks G03.FR.08
            self.station_op = True
            self.evse_op = dict.fromkeys(self.evse_op, True)
            self.conn_op = dict.fromkeys(self.conn_op, True)
        self.current = {k: self.status(*k) for k in self._keys()}
        self._sync_model()

    # ------------------------------------------------------------ ChangeAvailability
    def _set(self, evse: int | None, connector: int | None, operative: bool) -> None:
        if evse is None:
            self.station_op = operative
        elif connector is None:
            self.evse_op[evse] = operative
            if operative and self.st.fault("evse_operative_resets_connectors"):
                for c in range(1, self.st.layout[evse] + 1):
                    self.conn_op[(evse, c)] = True
        else:
            self.conn_op[(evse, connector)] = operative

    def _get(self, evse: int | None, connector: int | None) -> bool:
        if evse is None:
            return self.station_op
        if connector is None:
            return self.evse_op[evse]
        return self.conn_op[(evse, connector)]

    def change(self, evse: int | None, connector: int | None, operative: bool) -> str:
        """ChangeAvailabilityRequest (G03/G04): Accepted, Scheduled or Rejected."""
        if evse is not None and evse not in self.st.layout:
            return "Rejected"
        if connector is not None and (evse is None or not 1 <= connector <= self.st.layout[evse]):
            return "Rejected"
        busy = self.st.tx.busy(evse)
        already = self._get(evse, connector) == operative and not any(
            s[:2] == (evse, connector) for s in self.scheduled
        )
        if already:  # G03.FR.03, G04.FR.04
            return "Rejected" if self.st.fault("same_state_rejected") else "Accepted"
        if busy and not self.st.fault("change_availability_not_scheduled"):
            self.scheduled = [s for s in self.scheduled if s[:2] != (evse, connector)]
            self.scheduled.append((evse, connector, operative))
            return "Scheduled"  # G03.FR.05, G04.FR.06
        self._set(evse, connector, operative)
        self.refresh(quiet=self.st.fault("change_availability_no_report"))  # G03.FR.04
        return "Accepted"

    def transaction_ended(self) -> None:
        """Apply scheduled changes whose scope has no transaction left, then report."""
        keep = []
        for evse, connector, operative in self.scheduled:
            if self.st.tx.busy(evse):
                keep.append((evse, connector, operative))
            else:
                self._set(evse, connector, operative)
        applied = len(keep) != len(self.scheduled)
        self.scheduled = keep
        self.refresh(quiet=applied and self.st.fault("change_availability_no_report"))

    # ------------------------------------------------------------ reporting
    def refresh(self, *, quiet: bool = False) -> None:
        """Report every connector whose AvailabilityState changed (G01, G03.FR.04)."""
        f = self.st.fault
        for key in self._keys():
            new = self.status(*key)
            old = self.current.get(key)
            if new == old:
                continue
            self.current[key] = new
            if quiet or (new == "Occupied" and f("no_occupied_report")):
                continue
            if new == "Available" and old == "Occupied" and f("no_available_report"):
                continue
            shown = new
            breaks = f("scheduled_unavailable_reported_available")
            if old == "Occupied" and new == "Unavailable" and breaks:
                shown = "Available"  # breaks G01.FR.05
            if self.st.reportable or self.st.queue_all_messages():
                self._report(key, shown, "Delta")
            else:
                self.changed_offline.add(key)
        self._sync_model()

    def report_all(self, *, after_boot: bool = False) -> None:
        """B01.FR.05: the state of every connector after BootNotification Accepted."""
        self.changed_offline.clear()
        if after_boot and self.st.fault("no_availability_report"):
            return
        for key in self._keys():
            state = self.current[key] = self.status(*key)
            if after_boot and self.st.fault("wrong_availability_after_reboot"):
                state = "Available" if state == "Unavailable" else state
            self._report(key, state, "Delta")
        self._sync_model()

    def report_after_offline(self, *, long: bool) -> None:
        """B04.FR.01 (offline longer than OfflineThreshold: all connectors) and
        B04.FR.02 (else only the connectors that changed)."""
        f = self.st.fault
        if long and f("no_status_after_offline"):
            self.changed_offline.clear()
            return
        if long or f("all_status_after_short_offline"):
            self.report_all()
            return
        for key in sorted(self.changed_offline):
            self._report(key, self.current[key], "Delta")
        self.changed_offline.clear()

    def _report(self, key: Key, state: str, trigger: str) -> None:
        evse, connector = key
        st = self.st
        if st.version == "2.0.1":
            payload: dict[str, Any] = {
                "timestamp": st.now_iso(),
                "connectorStatus": state,
                "evseId": evse,
                "connectorId": connector,
            }
            st.send("StatusNotification", payload)
            return
        st.send("NotifyEvent", self.notify_event(key, state, trigger))

    def notify_event(self, key: Key, state: str, trigger: str) -> dict[str, Any]:
        evse, connector = key
        now = self.st.now_iso()
        return {
            "generatedAt": now,
            "seqNo": 0,
            "tbc": False,
            "eventData": [
                {
                    "eventId": self.next_event_id(),
                    "timestamp": now,
                    "trigger": trigger,
                    "actualValue": state,
                    "eventNotificationType": "HardWiredNotification",
                    "component": {
                        "name": "Connector",
                        "evse": {"id": evse, "connectorId": connector},
                    },
                    "variable": {"name": "AvailabilityState"},
                }
            ],
        }

    def next_event_id(self) -> int:
        return next(self._event_ids)

    def _sync_model(self) -> None:
        """The device model's AvailabilityState/Available variables (B07.FR.09)."""
        dm = self.st.dm
        for (evse, connector), state in self.current.items():
            dm.set(
                "Connector",
                "AvailabilityState",
                state,
                evse=evse,
                connector=connector,
                notify=False,
            )
            dm.set(
                "Connector",
                "Available",
                "true" if self.conn_op[(evse, connector)] else "false",
                evse=evse,
                connector=connector,
                notify=False,
            )
        for evse in self.st.layout:
            states = [self.current[(evse, c)] for c in range(1, self.st.layout[evse] + 1)]
            if "Occupied" in states:
                state = "Occupied"
            elif all(s == "Unavailable" for s in states):
                state = "Unavailable"
            else:
                state = "Available"
            dm.set("EVSE", "AvailabilityState", state, evse=evse, notify=False)
            dm.set(
                "EVSE",
                "Available",
                "true" if self.evse_op[evse] else "false",
                evse=evse,
                notify=False,
            )
        station = "Available" if self.station_op else "Unavailable"
        dm.set("ChargingStation", "AvailabilityState", station, notify=False)
        dm.set("ChargingStation", "Available", "true" if self.station_op else "false", notify=False)
