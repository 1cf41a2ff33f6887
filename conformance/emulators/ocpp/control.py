"""The station emulator's control API: what a driver, an EV or the environment does
(cables, idTokens, buttons, network, power, hardware alerts, DataTransfer).  Every
method runs on the host's loop, returns a JSON-able dict at once and never waits for
the CSMS.  A mixin of :class:`~conformance.emulators.ocpp.station.OcppStationEmulator`.
"""

from __future__ import annotations

from typing import Any

#: IdTokenEnumType of OCPP 2.0.1 (2.1 takes any string of up to 20 characters)
ID_TOKEN_TYPES_201 = (
    "Central",
    "eMAID",
    "ISO14443",
    "ISO15693",
    "KeyCode",
    "Local",
    "MacAddress",
    "NoAuthorization",
)


class ControlMixin:
    """The CONTROL methods."""

    def _evse(self, evse: Any, connector: Any = None) -> tuple[int, int | None]:
        if isinstance(evse, bool) or not isinstance(evse, int) or evse not in self.layout:
            raise ValueError(f"no EVSE {evse!r} (EVSEs: {sorted(self.layout)})")
        if connector is None:
            return evse, None
        if (
            isinstance(connector, bool)
            or not isinstance(connector, int)
            or not 1 <= connector <= self.layout[evse]
        ):
            raise ValueError(f"EVSE {evse} has no connector {connector!r}")
        return evse, connector

    def info(self) -> dict[str, Any]:
        """Identity, version, speed, EVSE layout, link and registration, faults."""
        return {
            "identity": self.identity,
            "version": self.version,
            "speed": self.clock.speed,
            "evses": {str(e): c for e, c in self.layout.items()},
            "connected": self.link.connected,
            "accepted": self.registration == "Accepted",
            "faults": sorted(self.faults),
        }

    def state(self) -> dict[str, Any]:
        """A JSON snapshot for debugging (idTokens of type KeyCode are masked)."""
        return {
            **self.info(),
            "powered": self.powered,
            "online_wanted": self.online_wanted,
            "registration": self.registration,
            "boot_reason": self.boot_reason,
            "boots": self.boots,
            "connections": self.link.connections,
            "subprotocol": self.link.subprotocol,
            "last_connect_error": self.last_connect_error,
            "heartbeat_interval": self.heartbeat_interval(),
            "clock": self.now_iso(),
            "pending_reset": self.pending_reset,
            "evses_state": self.tx.describe(),
            "availability": self.avail.describe(),
            "queued_transaction_events": len(self.outbox.tx),
            "queued_other": [i.action for i in self.outbox.other],
            "sent": dict(self.outbox.sent),
            "dropped": self.outbox.dropped[-50:],
            "data_transfers": self.data_transfers[-10:],
            "trace": [list(t) for t in list(self.link.trace)[-40:]],
            "internal_errors": len(self.internal_errors),
        }

    def plug(self, evse: int = 1, connector: int = 1) -> dict[str, Any]:
        """The EV cable is plugged in (G01.FR.03, E01.FR.02, E02)."""
        e, c = self._evse(evse, connector)
        assert c is not None
        return self.tx.plug(e, c)

    def unplug(self, evse: int = 1, connector: int = 1) -> dict[str, Any]:
        """The cable is unplugged at the EV side (E06, E09, E10, G01.FR.04)."""
        e, c = self._evse(evse, connector)
        assert c is not None
        return self.tx.unplug(e, c)

    def present_token(self, id_token: str, type: str = "ISO14443", evse: int = 1) -> dict[str, Any]:
        """An idToken (RFID card, or a PIN with type KeyCode) at *evse* (C01, C04, E07)."""
        e, _ = self._evse(evse)
        if not isinstance(id_token, str) or not isinstance(type, str) or not type:
            raise ValueError("id_token and type are strings")
        if len(id_token) > (255 if self.version == "2.1" else 36) or len(type) > 20:
            raise ValueError("id_token or type too long for IdTokenType")
        if self.version == "2.0.1" and type not in ID_TOKEN_TYPES_201:
            raise ValueError(f"OCPP 2.0.1 has no idToken type {type!r}")
        return self.auth.present(e, {"idToken": id_token, "type": type})

    def press_start(self, evse: int = 1) -> dict[str, Any]:
        """The start button (C02): authorization with idToken type NoAuthorization."""
        e, _ = self._evse(evse)
        return self.auth.start_button(e)

    def press_stop(self, evse: int = 1) -> dict[str, Any]:
        """The local stop button: ends the authorization, stoppedReason Local (E07.FR.05)."""
        e, _ = self._evse(evse)
        return self.tx.stop_button(e)

    def ev_suspend(self, evse: int = 1) -> dict[str, Any]:
        """The EV stops drawing energy (chargingState SuspendedEV, E01.FR.19)."""
        e, _ = self._evse(evse)
        return self.tx.ev_suspend(e, True)

    def ev_resume(self, evse: int = 1) -> dict[str, Any]:
        """The EV draws energy again (chargingState Charging)."""
        e, _ = self._evse(evse)
        return self.tx.ev_suspend(e, False)

    def lock_failure(self, evse: int = 1, connector: int = 1, on: bool = True) -> dict[str, Any]:
        """G05: the connector lock fails (on) or works again (off)."""
        e, c = self._evse(evse, connector)
        assert c is not None
        return self.tx.lock_failure(e, c, bool(on))

    def go_offline(self) -> dict[str, Any]:
        """Network loss: nothing more goes out; the connection drops (at once, or when the
        CALL in flight is answered, so an answered message is not sent twice) and stays
        down until :meth:`go_online`.  Transaction events are queued meanwhile (E11)."""
        self.online_wanted = False
        if self._online is not None:
            self._online.clear()
        self._cuts += 1
        if self.link.idle_now():
            self.link.abort("network loss")
        elif self._loop is not None:
            self.spawn(self._cut_network(self._cuts))
        return {"online": False}

    def go_online(self) -> dict[str, Any]:
        """Network back: reconnect after the back-off (Part 4 §5.4)."""
        self.online_wanted = True
        if self._online is not None:
            self._online.set()
        return {"online": True}

    def power_cycle(self) -> dict[str, Any]:
        """Power off and on: reboot with reason PowerUp.  Running transactions end
        (stoppedReason PowerLoss, sent after the boot); availability settings, the device
        model, the authorization stores and queued transaction events are kept (B01.FR.07,
        G03.FR.08, G04.FR.09, B12.FR.05); cables stay in."""
        if not self.powered:
            return {"rebooting": False, "reason": "already off"}
        self.reboot("PowerUp", power_loss=True)
        return {"rebooting": True}

    def raise_alert(
        self, component: str, variable: str, value: str, evse: int | None = None
    ) -> dict[str, Any]:
        """N07: a hardware value changes; preconfigured monitors report it."""
        if evse is not None:
            evse, _ = self._evse(evse)
        return self.monitors.raise_alert(component, variable, str(value), evse)

    def send_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: object = None
    ) -> dict[str, Any]:
        """P02: DataTransferRequest to the CSMS; the answer shows in :meth:`state`."""
        if not isinstance(vendor_id, str) or not 1 <= len(vendor_id) <= 255:
            raise ValueError("vendor_id is a string of 1..255 characters")
        payload: dict[str, Any] = {"vendorId": vendor_id}
        if self.fault("data_transfer_wrong_vendor_id"):
            payload["vendorId"] = "unknown"
        if message_id is not None:
            payload["messageId"] = str(message_id)[:50]
        if data is not None:
            payload["data"] = data
        record: dict[str, Any] = {"request": payload, "response": None}
        self.data_transfers.append(record)

        def done(answer: dict[str, Any]) -> None:
            record["response"] = answer

        def failed(reason: str) -> None:
            record["error"] = reason

        queued = self.send("DataTransfer", payload, on_result=done, on_failure=failed)
        return {"queued": queued}
