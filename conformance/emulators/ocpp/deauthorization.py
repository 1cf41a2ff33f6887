"""How an authorization ends without the driver, at the station emulator: a mixin of
:class:`~conformance.emulators.ocpp.transactions.Transactions`.

* EVConnectionTimeOut: an authorization without a connected EV ends after
  TxCtrlr.EVConnectionTimeOut (C01.FR.26); a transaction already started (e.g.
  TxStartPoint Authorized) ends with triggerReason EVConnectTimeout and stoppedReason
  Timeout (E03.FR.05).
* A non-Accepted idTokenInfo in a TransactionEventResponse (E05): with
  StopTxOnInvalidId the transaction is deauthorized and ends (stop point Authorized,
  PowerPathClosed or EnergyTransfer, E05.FR.10) or goes on without energy
  (chargingState EVConnected, E05.FR.09); without it, energy flows until
  MaxEnergyOnInvalidId (E05.FR.03), then chargingState SuspendedEVSE (E05.FR.02).
  The answer also updates the Authorization Cache (C10.FR.05).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.emulators.ocpp.authorization import token_key
from conformance.emulators.ocpp.meter import POWER_W

if TYPE_CHECKING:
    from conformance.emulators.ocpp.transactions import Evse, Tx

ENDING_POINTS = frozenset({"Authorized", "PowerPathClosed"})


class DeauthorizationMixin:
    """EVConnectionTimeOut and invalid idTokens."""

    def _connect_timer(self, ev: Evse) -> None:
        """C01.FR.26 / E03.FR.05: EVConnectionTimeOut after the authorization."""
        self.st.cancel(ev.connect_timer)
        ev.connect_timer = None
        if self.st.fault("ev_connect_timeout_ignored"):
            return
        timeout = self.st._int("TxCtrlr", "EVConnectionTimeOut", 60)
        if timeout > 0:
            ev.connect_timer = self.st.later(timeout, self._connect_timeout, ev.id)

    def _connect_timeout(self, e: int) -> None:
        ev = self.evses[e]
        ev.connect_timer = None
        if ev.ev_connected or ev.grant is None:
            return
        if ev.tx is not None:
            self.end(ev.tx, "EVConnectTimeout", "Timeout")  # E03.FR.05
        else:
            ev.grant = None  # C01.FR.26

    def _response(self, tx: Tx, payload: dict[str, Any], answer: dict[str, Any]) -> None:
        st = self.st
        info = answer.get("idTokenInfo")
        token = payload.get("idToken")
        if not isinstance(info, dict):
            return
        if isinstance(token, dict):
            st.auth.cache_update(token, info)  # C10.FR.05
        if info.get("status") == "Accepted" or tx.ended or st.fault("ignores_invalid_id"):
            return
        ev = self.evses[tx.evse]
        if ev.tx is not tx:
            return
        if token and tx.token and token_key(token) != token_key(tx.token):
            return
        self._tick(ev)
        if st.dm.bool("TxCtrlr", "StopTxOnInvalidId") or st.fault("stop_tx_on_invalid_id_ignored"):
            ev.grant = None
            trigger = "StopAuthorized" if st.fault("wrong_trigger_deauthorized") else "Deauthorized"
            stop = self._points("TxStopPoint")
            if stop & ENDING_POINTS or "EnergyTransfer" in stop:
                reason = "Local" if st.fault("deauthorized_wrong_reason") else "DeAuthorized"
                self.end(tx, trigger, reason)  # E05.FR.10
            else:
                self._emit(tx, "Updated", trigger)  # E05.FR.09: chargingState EVConnected
            return
        limit = st._int("TxCtrlr", "MaxEnergyOnInvalidId", 0)
        if limit > 0 and ev.meter.register_wh - tx.energy_start < limit:
            tx.invalid_limit = tx.energy_start + limit  # E05.FR.03
            self._watch_limit(tx)
        else:
            self._suspend_invalid(tx)  # E05.FR.02

    def _watch_limit(self, tx: Tx) -> None:
        ev = self.evses[tx.evse]
        self._tick(ev)
        if tx.ended or tx.invalid_limit is None:
            return
        left = tx.invalid_limit - ev.meter.register_wh
        if left <= 0:
            self._suspend_invalid(tx)
            return
        seconds = left / POWER_W * 3600.0 if ev.meter.charging else 60.0
        tx.limit_timer = self.st.later(max(seconds, 0.5), self._watch_limit, tx)

    def _suspend_invalid(self, tx: Tx) -> None:
        tx.suspended_invalid = True
        tx.invalid_limit = None
        self._changed(self.evses[tx.evse], "DeAuthorized")
