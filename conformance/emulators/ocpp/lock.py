"""G05 Lock Failure at the station emulator: a mixin of
:class:`~conformance.emulators.ocpp.transactions.Transactions`.

The cable is locked once it is in, the EV connected and the driver authorized.  A
connector whose lock is made to fail (control API ``lock_failure``) reports
ConnectorPlugRetentionLock.Problem true in a NotifyEventRequest (G05.FR.02) and does
not charge (G05.FR.01: no PowerPathClosed, so with that start point no transaction);
when the lock works again it reports Problem false and charging goes on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.emulators.ocpp.transactions import Evse


class LockMixin:
    """The connector lock."""

    def lock_failure(self, e: int, c: int, on: bool) -> dict[str, Any]:
        ev = self.evses[e]
        if on:
            ev.lock_failed.add(c)
            return {"lock_fails": sorted(ev.lock_failed)}
        ev.lock_failed.discard(c)
        if ev.lock_problem and ev.cable == c:
            self._tick(ev)
            self._try_lock(ev)
            self._changed(ev)
        return {"lock_fails": sorted(ev.lock_failed)}

    def _try_lock(self, ev: Evse) -> None:
        """Lock the cable once the EV is connected and the driver authorized (G05)."""
        if ev.cable is None or not ev.ev_connected or ev.grant is None or ev.locked:
            return
        if ev.cable in ev.lock_failed:
            if not ev.lock_problem:
                ev.lock_problem = True
                self._report_lock(ev, True)  # G05.FR.02; G05.FR.01: no charging
            return
        ev.locked = True
        if ev.lock_problem:
            ev.lock_problem = False
            self._report_lock(ev, False)

    def _report_lock(self, ev: Evse, problem: bool) -> None:
        st = self.st
        value = "true" if problem else "false"
        assert ev.cable is not None
        st.dm.set(
            "ConnectorPlugRetentionLock",
            "Problem",
            value,
            evse=ev.id,
            connector=ev.cable,
            notify=False,
        )
        if st.fault("lock_failure_not_reported"):
            return
        now = st.now_iso()
        payload = {
            "generatedAt": now,
            "seqNo": 0,
            "tbc": False,
            "eventData": [
                {
                    "eventId": st.avail.next_event_id(),
                    "timestamp": now,
                    "trigger": "Delta",
                    "actualValue": value,
                    "eventNotificationType": "HardWiredNotification",
                    "component": {
                        "name": "ConnectorPlugRetentionLock",
                        "evse": {"id": ev.id, "connectorId": ev.cable},
                    },
                    "variable": {"name": "Problem"},
                }
            ],
        }
        st.send("NotifyEvent", payload)
