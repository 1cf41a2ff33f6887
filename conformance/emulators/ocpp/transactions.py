"""Transactions of the station emulator: E01-E13, one EVSE at a time (meter values:
:mod:`.sampling`; the G05 lock: :mod:`.lock`; timeouts and invalid idTokens:
:mod:`.deauthorization`).

A transaction starts at the first TxStartPoint that is reached (E01.FR.02 EVConnected,
E01.FR.03 Authorized, E01.FR.05 PowerPathClosed: authorized, EV connected and cable
locked, E01.FR.06 EnergyTransfer) and ends at the TxStopPoint rules of E06 (EVConnected
and PowerPathClosed: EV gone; Authorized and PowerPathClosed: authorization ended;
EnergyTransfer: energy stopped after it flowed).  Start and stop points react to
events, not to states: after a transaction ended with the cable still in, the next
one needs the cable out first.

TransactionEventRequest: seqNo from 0, +1 per event (E01.FR.07); a fresh UUID
transactionId (E01.FR.08); triggerReason of the event (E01.FR.15, E02.FR.17); evse in
the first event and, with connectorId, in the first one after the EV connected
(E01.FR.16); idToken in the event that reports an authorization or its end
(E01.FR.10, E02.FR.01, E03.FR.01, E07.FR.02); chargingState whenever it changed
(E02.FR.13); stoppedReason in Ended (E06.FR.08); offline true for events that occurred
while the link was down (E04.FR.03, E12.FR.02).

EV-side disconnect: StopTxOnEVSideDisconnect deauthorizes (E09.FR.01); the cable is
released at once with UnlockOnEVSideDisconnect (E09.FR.02), else it stays locked (the
connector stays Occupied) until its owner's idToken (E09.FR.03, E10.FR.01).  Without
it the transaction is suspended (chargingState Idle) until the EV is back or the
driver ends it (E10), unless TxStopPoint has EVConnected (E06.FR.02).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from conformance.emulators.ocpp.authorization import Grant
from conformance.emulators.ocpp.deauthorization import ENDING_POINTS, DeauthorizationMixin
from conformance.emulators.ocpp.lock import LockMixin
from conformance.emulators.ocpp.meter import Meter
from conformance.emulators.ocpp.sampling import SamplingMixin

if TYPE_CHECKING:
    import asyncio

    from conformance.emulators.ocpp.station import OcppStationEmulator


@dataclass(eq=False)
class Tx:
    id: str
    evse: int
    started: float
    seq: int = 0
    state: str | None = None  # chargingState last reported
    evse_sent: bool = False
    connector_sent: bool = False
    token: dict[str, Any] | None = None
    charging_s: float = 0.0
    energy_start: float = 0.0
    energy_seen: bool = False
    phases_sent: bool = False
    remote_sent: bool = False
    suspended_invalid: bool = False
    invalid_limit: float | None = None
    ended: bool = False
    repeated: bool = False
    begin_ended: dict[str, Any] | None = None
    ended_samples: list[dict[str, Any]] = field(default_factory=list)
    periodic: asyncio.TimerHandle | None = None
    ended_timer: asyncio.TimerHandle | None = None
    limit_timer: asyncio.TimerHandle | None = None


@dataclass(eq=False)
class Evse:
    id: int
    meter: Meter
    cable: int | None = None  # connector with the cable in
    ev_connected: bool = False
    ev_suspended: bool = False
    grant: Grant | None = None
    tx: Tx | None = None
    locked: bool = False
    lock_failed: set[int] = field(default_factory=set)
    lock_problem: bool = False
    spent: bool = False  # a transaction ended with the cable still in
    held: dict[str, Any] | None = None  # cable locked for this owner (E09.FR.03, E10.FR.01)
    connect_timer: asyncio.TimerHandle | None = None
    last_tick: float = 0.0


def _shown(token: dict[str, Any] | None) -> Any:
    """C04.FR.04: a KeyCode never appears in logs or state dumps."""
    if not token:
        return None
    if token.get("type") == "KeyCode":
        return {"idToken": "****", "type": "KeyCode"}
    return token


class Transactions(SamplingMixin, LockMixin, DeauthorizationMixin):
    def __init__(self, station: OcppStationEmulator) -> None:
        self.st = station
        self.evses: dict[int, Evse] = {e: Evse(e, Meter(1000.0 * e)) for e in station.layout}
        self._aligned: asyncio.TimerHandle | None = None
        self._aligned_ended: asyncio.TimerHandle | None = None
        self._last_id: str | None = None

    # ------------------------------------------------------------ configuration
    def _points(self, name: str) -> set[str]:
        points = set(self.st.dm.list("TxCtrlr", name))
        return points or {"PowerPathClosed"}

    # ------------------------------------------------------------ state
    def charging_state(self, ev: Evse) -> str:
        if not ev.ev_connected:
            return "Idle"
        locked = ev.locked or self.st.fault("charges_despite_lock_failure")
        if ev.grant is None or not locked:
            return "EVConnected"
        if ev.tx is not None and ev.tx.suspended_invalid:
            return "SuspendedEVSE"
        if ev.ev_suspended and not self.st.fault("ev_suspend_not_reported"):
            return "SuspendedEV"  # E01.FR.19
        return "Charging"

    def _tick(self, ev: Evse) -> None:
        """Advance the meter to now at the charging state that held until now."""
        now = self.st.clock.now()
        elapsed = now - ev.last_tick
        ev.last_tick = now
        ev.meter.advance(elapsed)
        if ev.meter.charging and ev.tx is not None:
            ev.tx.charging_s += elapsed
        ev.meter.charging = self.charging_state(ev) == "Charging"
        if ev.meter.charging and ev.tx is not None:
            ev.tx.energy_seen = True

    def busy(self, evse: int | None) -> bool:
        if evse is None:
            return any(ev.tx is not None for ev in self.evses.values())
        return self.evses[evse].tx is not None

    def describe(self) -> dict[str, Any]:
        out = {}
        for e, ev in self.evses.items():
            tx = ev.tx
            out[str(e)] = {
                "cable": ev.cable,
                "ev_connected": ev.ev_connected,
                "ev_suspended": ev.ev_suspended,
                "authorized": _shown(ev.grant.token) if ev.grant else None,
                "charging_state": self.charging_state(ev),
                "locked": ev.locked,
                "lock_failed": sorted(ev.lock_failed),
                "held_for": _shown(ev.held),
                "energy_wh": round(ev.meter.register_wh, 1),
                "transaction": None
                if tx is None
                else {"id": tx.id, "next_seq_no": tx.seq, "charging_state": tx.state},
            }
        return out

    # ------------------------------------------------------------ lifecycle
    def clear(self) -> None:
        """reset_state: no transaction, no cable, nothing sent."""
        for ev in self.evses.values():
            if ev.tx is not None:
                self._cancel_tx_timers(ev.tx)
                ev.tx.ended = True
            self.st.cancel(ev.connect_timer)
            self._tick(ev)
            fresh = Evse(ev.id, ev.meter, last_tick=self.st.clock.now())
            fresh.meter.charging = False
            self.evses[ev.id] = fresh
        self.restart_aligned()

    def power_down(self) -> None:
        """Power off: authorizations and running timers are lost, cables stay in."""
        for ev in self.evses.values():
            self._tick(ev)
            if ev.tx is not None:
                self._cancel_tx_timers(ev.tx)
            self.st.cancel(ev.connect_timer)
            ev.connect_timer = None
            ev.grant = None
            ev.locked = False
            ev.lock_problem = False
            ev.meter.charging = False
        self.st.cancel(self._aligned)
        self.st.cancel(self._aligned_ended)

    def power_up(self) -> None:
        for ev in self.evses.values():
            ev.last_tick = self.st.clock.now()
        self.restart_aligned()

    def accepted(self) -> None:
        """Accepted: an EV that connected before may start its transaction now
        (E01.FR.02/05 hold from then on; B03.FR.01 kept it waiting)."""
        for ev in self.evses.values():
            if ev.ev_connected and ev.tx is None:
                self._tick(ev)
                self._maybe_start(ev, "CablePluggedIn")

    def settings_changed(self, component: str, variable: str) -> None:
        if component == "AlignedDataCtrlr":
            self.restart_aligned()
            return
        for ev in self.evses.values():
            if ev.tx is None:
                continue
            if variable in ("TxUpdatedInterval", "Enabled"):
                self.st.cancel(ev.tx.periodic)
                self._schedule_periodic(ev.tx)
            if variable in ("TxEndedInterval", "Enabled"):
                self.st.cancel(ev.tx.ended_timer)
                self._schedule_ended(ev.tx)

    # ------------------------------------------------------------ sending
    def _emit(
        self,
        tx: Tx,
        event_type: str,
        trigger: str,
        *,
        id_token: dict[str, Any] | None = None,
        meter: list[dict[str, Any] | None] | None = None,
        reason: str | None = None,
    ) -> None:
        st, f = self.st, self.st.fault
        ev = self.evses[tx.evse]
        seq = tx.seq
        tx.seq += 1
        if f("seqno_skip") and seq == 0:
            tx.seq += 1  # breaks E01.FR.07
        if f("seqno_repeat") and event_type == "Updated" and not tx.repeated:
            tx.repeated = True
            seq, tx.seq = seq - 1, seq  # breaks E01.FR.07
        info: dict[str, Any] = {"transactionId": tx.id}
        payload: dict[str, Any] = {
            "eventType": event_type,
            "timestamp": st.now_iso(),
            "triggerReason": trigger,
            "seqNo": seq,
            "transactionInfo": info,
        }
        state = self.charging_state(ev)
        if (event_type == "Started" or state != tx.state) and not f("no_charging_state"):
            info["chargingState"] = state  # E02.FR.13
        if state == "Charging" and not tx.phases_sent:
            payload["numberOfPhasesUsed"] = 3  # E02.FR.18
            tx.phases_sent = True
        tx.state = state
        if tx.charging_s >= 1:
            info["timeSpentCharging"] = int(tx.charging_s)
        if reason is not None and event_type == "Ended":
            if f("wrong_stopped_reason"):
                reason = "Local"
            if not (f("stopped_reason_missing") and reason != "Local"):
                info["stoppedReason"] = reason  # E06.FR.08
        grant = ev.grant
        if grant is not None and grant.remote_start_id is not None and not tx.remote_sent:
            info["remoteStartId"] = grant.remote_start_id
            tx.remote_sent = True
        if not tx.evse_sent:
            tx.evse_sent = True
            if not f("no_evse_in_first_event"):
                payload["evse"] = self._evse_json(ev)
            tx.connector_sent = ev.cable is not None
        elif ev.cable is not None and not tx.connector_sent:
            payload["evse"] = self._evse_json(ev)  # E01.FR.16
            tx.connector_sent = True
        if id_token and not f("no_id_token"):
            payload["idToken"] = id_token
        values = [m for m in meter or () if m is not None]
        if values:
            payload["meterValue"] = values
        offline = not st.online or f("offline_flag_when_online")
        if offline and not f("no_offline_flag"):
            payload["offline"] = True  # E04.FR.03, E12.FR.02
        st.send(
            "TransactionEvent",
            payload,
            transactional=True,
            on_result=lambda answer: self._response(tx, payload, answer),
        )

    @staticmethod
    def _evse_json(ev: Evse) -> dict[str, Any]:
        out: dict[str, Any] = {"id": ev.id}
        if ev.cable is not None:
            out["connectorId"] = ev.cable
        return out

    # ------------------------------------------------------------ start and end
    def _may_start(self, ev: Evse) -> bool:
        return (
            ev.tx is None
            and not ev.spent
            and ev.held is None
            and self.st.may_charge()
            and self.st.avail.operative(ev.id, ev.cable)
            and self.st.powered
        )

    def _maybe_start(self, ev: Evse, trigger: str) -> bool:
        if not self._may_start(ev):
            return False
        f = self.st.fault
        points = self._points("TxStartPoint")
        authorized = ev.grant is not None
        early = authorized or ev.ev_connected  # the *_starts_early faults
        power_path = (
            ev.ev_connected and authorized and (ev.locked or f("charges_despite_lock_failure"))
        )
        if (
            ("EVConnected" in points and ev.ev_connected and not f("ev_connected_start_ignored"))
            or (
                "Authorized" in points
                and authorized
                and (ev.ev_connected or not f("authorized_start_waits_for_ev"))
            )
            or (
                "PowerPathClosed" in points
                and (power_path or (early and f("power_path_starts_early")))
            )
            or (
                "EnergyTransfer" in points
                and (
                    self.charging_state(ev) == "Charging"
                    or (early and f("energy_transfer_starts_early"))
                )
            )
        ):  # E01.FR.02, E01.FR.03, E01.FR.05, E01.FR.06
            self._start(ev, trigger)
            return True
        return False

    def _start(self, ev: Evse, trigger: str) -> None:
        st = self.st
        tx_id = str(uuid.uuid4())
        if st.fault("reused_transaction_id") and self._last_id is not None:
            tx_id = self._last_id  # breaks E01.FR.08
        self._last_id = tx_id
        self._tick(ev)
        tx = Tx(tx_id, ev.id, st.clock.now(), energy_start=ev.meter.register_wh)
        ev.tx = tx
        self._tick(ev)
        ended = self._measurands("SampledDataCtrlr", "TxEndedMeasurands")
        tx.begin_ended = self._sample(ev, ended, "Transaction.Begin") if ended else None
        started = self._measurands("SampledDataCtrlr", "TxStartedMeasurands")
        meter = None
        if started and not st.fault("no_started_meter_values"):
            meter = [self._sample(ev, started, "Transaction.Begin")]  # E01.FR.09
        token = None
        if ev.grant is not None and ev.grant.token:
            token = tx.token = ev.grant.token
            if ev.grant.trigger == "RemoteStart" and trigger == "Authorized":
                trigger = "RemoteStart"
        self._emit(tx, "Started", trigger, id_token=token, meter=meter)
        self._schedule_periodic(tx)
        self._schedule_ended(tx)

    def end(
        self,
        tx: Tx,
        trigger: str,
        reason: str,
        *,
        id_token: dict[str, Any] | None = None,
        release: bool = False,
        report_first: bool = False,
    ) -> None:
        """End *tx* (E06); with *release* the cable comes out: before the Ended event
        with *report_first* (EV-side unplug, E06 scenario S2), else after it (the
        driver takes the unlocked cable, E10 B3-B5)."""
        ev = self.evses[tx.evse]
        self._tick(ev)
        self._cancel_tx_timers(tx)
        self.st.cancel(ev.connect_timer)
        ev.connect_timer = None
        measurands = self._measurands("SampledDataCtrlr", "TxEndedMeasurands")
        meter: list[dict[str, Any] | None] = []
        if measurands and not self.st.fault("no_ended_meter_values"):  # E06.FR.11
            end_value = self._sample(ev, measurands, "Transaction.End")
            meter = [tx.begin_ended, *tx.ended_samples, end_value]
        ev.grant = None
        ev.locked = False  # E06.FR.10, E07.FR.07
        tx.ended = True
        ev.tx = None
        self._tick(ev)
        if not report_first:
            self._emit(tx, "Ended", trigger, id_token=id_token, meter=meter, reason=reason)
        if release:
            self._release(ev)
        ev.spent = ev.cable is not None
        self.st.avail.transaction_ended()
        if report_first:
            self._emit(tx, "Ended", trigger, id_token=id_token, meter=meter, reason=reason)
        self.st.transaction_ended()

    def end_all(
        self, trigger: str, reason: str, *, evse: int | None = None, offline: bool = False
    ) -> int:
        """End every transaction (of *evse*): resets and power loss (B12.FR.04)."""
        count = 0
        for ev in list(self.evses.values()):
            if ev.tx is not None and evse in (None, ev.id):
                self.end(ev.tx, trigger, reason)
                count += 1
        return count

    def _cancel_tx_timers(self, tx: Tx) -> None:
        for handle in (tx.periodic, tx.ended_timer, tx.limit_timer):
            self.st.cancel(handle)
        tx.periodic = tx.ended_timer = tx.limit_timer = None

    def _release(self, ev: Evse) -> None:
        """The cable comes out of the connector."""
        ev.cable = None
        ev.locked = False
        ev.lock_problem = False
        ev.held = None
        ev.spent = False
        ev.ev_suspended = False

    def _changed(self, ev: Evse, reason: str = "Local") -> None:
        """A change of charging state without an event of its own (ChargingStateChanged)."""
        self._tick(ev)
        tx = ev.tx
        if tx is None:
            self._maybe_start(ev, "ChargingStateChanged")
            return
        state = self.charging_state(ev)
        stop = self._points("TxStopPoint")
        if "EnergyTransfer" in stop and tx.energy_seen and state != "Charging":
            self.end(tx, "ChargingStateChanged", reason)  # E06.FR.07
        elif state != tx.state:
            self._emit(tx, "Updated", "ChargingStateChanged")

    # ------------------------------------------------------------ driver and EV events
    def plug(self, e: int, c: int) -> dict[str, Any]:
        ev = self.evses[e]
        if ev.ev_connected:
            return {"result": "refused", "reason": f"EVSE {e} already has an EV connected"}
        if ev.cable is not None and ev.cable != c:
            return {"result": "refused", "reason": f"EVSE {e} is in use on connector {ev.cable}"}
        self._tick(ev)
        ev.cable = c
        ev.ev_connected = True
        self.st.avail.refresh()  # G01.FR.03, E02.FR.05
        if ev.grant is None and not self.st.dm.bool("AuthCtrlr", "Enabled"):
            ev.grant = Grant({}, how="authorization disabled")  # C01.FR.01 does not apply
        self._try_lock(ev)
        self.st.cancel(ev.connect_timer)
        ev.connect_timer = None
        trigger = "CablePluggedIn"
        if self.st.fault("wrong_trigger_cable"):
            trigger = "ChargingStateChanged"
        if ev.tx is not None:
            self._tick(ev)
            self._emit(ev.tx, "Updated", trigger)  # E03 step 5, E10 A1
        else:
            self._maybe_start(ev, trigger)
        return self._result(ev, "plugged")

    def _result(self, ev: Evse, what: str) -> dict[str, Any]:
        return {
            "result": what,
            "transactionId": ev.tx.id if ev.tx else None,
            "chargingState": self.charging_state(ev),
        }

    def unplug(self, e: int, c: int) -> dict[str, Any]:
        st, f = self.st, self.st.fault
        ev = self.evses[e]
        if not ev.ev_connected or ev.cable != c:
            return {"result": "refused", "reason": f"no EV connected at EVSE {e} connector {c}"}
        self._tick(ev)
        ev.ev_connected = False
        tx = ev.tx
        if tx is None:
            ev.grant = None  # the authorization ends with the plug-out
            self.st.cancel(ev.connect_timer)
            self._release(ev)
            st.avail.refresh()  # G01.FR.04
            return self._result(ev, "unplugged")
        stop = self._points("TxStopPoint")
        deauth = st.dm.bool("TxCtrlr", "StopTxOnEVSideDisconnect")
        unlock = st.dm.bool("OCPPCommCtrlr", "UnlockOnEVSideDisconnect")
        ending = (
            "EVConnected" in stop  # E06.FR.02
            or "PowerPathClosed" in stop  # E06.FR.06
            or (deauth and "Authorized" in stop)  # E09.FR.01 + E06.FR.03
            or ("EnergyTransfer" in stop and tx.energy_seen)  # E06.FR.07
        )
        if f("ev_disconnect_ignored"):
            deauth = ending = False
        if f("ev_disconnect_always_stops"):
            ending = True
        owner = tx.token or (ev.grant.token if ev.grant else None)
        if deauth:
            ev.grant = None  # E09.FR.01
        trigger = "ChargingStateChanged" if f("wrong_trigger_ev_lost") else "EVCommunicationLost"
        if ending:
            release = (deauth and unlock) or not owner  # E09.FR.02
            if not release:
                ev.held = owner  # E09.FR.03
            self.end(tx, trigger, "EVDisconnected", release=release, report_first=True)
        else:
            ev.held = owner  # E10.FR.01: locked until the EV driver returns
            self._emit(tx, "Updated", trigger)
        return self._result(ev, "unplugged")

    def authorized(self, e: int, grant: Grant) -> dict[str, Any]:
        """An authorization granted at EVSE *e* (C01, C02, C04, C12-C15, F01)."""
        f = self.st.fault
        ev = self.evses[e]
        self._tick(ev)
        ev.grant = grant
        trigger = grant.trigger
        if f("wrong_trigger_authorized"):
            trigger = "ChargingStateChanged"
        self._try_lock(ev)
        token = grant.token or None
        if ev.tx is not None:
            ev.tx.token = token
            self._tick(ev)
            self._emit(ev.tx, "Updated", trigger, id_token=token)  # E02.FR.01, E02.FR.20
        else:
            self._maybe_start(ev, trigger)
        if not ev.ev_connected:
            self._connect_timer(ev)  # C01.FR.26
        return self._result(ev, "authorized")

    def stop_authorization(self, e: int, token: dict[str, Any] | None) -> dict[str, Any]:
        """The authorization ends at the driver's request (C01.FR.03, E07)."""
        f = self.st.fault
        ev = self.evses[e]
        self._tick(ev)
        ev.grant = None
        self.st.cancel(ev.connect_timer)
        ev.connect_timer = None
        tx = ev.tx
        ev.locked = False  # E07.FR.07: the cable is unlocked
        release = not ev.ev_connected and ev.cable is not None
        if tx is None:
            if release:
                self._release(ev)
                self.st.avail.refresh()
            return {"result": "authorization ended", "transactionId": None}
        trigger = "Authorized" if f("wrong_trigger_stop") else "StopAuthorized"
        stop = self._points("TxStopPoint")
        if stop & ENDING_POINTS or ("EnergyTransfer" in stop and tx.energy_seen):
            self.end(tx, trigger, "Local", id_token=token, release=release)  # E07.FR.04/05
        else:
            self._emit(tx, "Updated", trigger, id_token=token)  # E07.FR.02
            if release:
                self._release(ev)
                self.st.avail.refresh()
        return {"result": "authorization ended", "transactionId": tx.id}

    def release_cable(self, e: int, token: dict[str, Any]) -> dict[str, Any]:
        """The owner's idToken unlocks a held cable (E09.FR.03, E10 B1-B5)."""
        ev = self.evses[e]
        if ev.tx is not None:
            return self.stop_authorization(e, token)
        self._release(ev)
        self.st.avail.refresh()
        return {"result": "cable released", "transactionId": None}

    def stop_button(self, e: int) -> dict[str, Any]:
        ev = self.evses[e]
        if ev.grant is not None or ev.tx is not None:
            return self.stop_authorization(e, None)
        if ev.held is not None:
            self._release(ev)
            self.st.avail.refresh()
            return {"result": "cable released", "transactionId": None}
        return {"result": "refused", "reason": "nothing to stop"}

    def ev_suspend(self, e: int, suspended: bool) -> dict[str, Any]:
        ev = self.evses[e]
        if not ev.ev_connected:
            return {"result": "refused", "reason": f"no EV connected at EVSE {e}"}
        self._tick(ev)
        ev.ev_suspended = suspended
        self._changed(ev, "StoppedByEV")  # E01.FR.19
        return self._result(ev, "suspended" if suspended else "resumed")
