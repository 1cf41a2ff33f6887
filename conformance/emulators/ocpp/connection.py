"""The station emulator's connection life: dialling and reconnecting (Part 4 §3.1,
§5.4), BootNotification (B01-B03), the B04 reports after a reconnect and the
heartbeat (G02).  A mixin of :class:`~conformance.emulators.ocpp.station.OcppStationEmulator`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

from conformance.emulators.ocpp.link import CallFailed, CallTimeout, LinkClosed
from conformance.ocpp import rpc

VENDOR = "Conformance"
MODEL = "EmulatedStation"
FIRMWARE = "1.0.0"
BOOT_RETRY_S = 30.0  # emulated: BootNotification unanswered, or interval 0
POST_BOOT_FAULT_S = 2.0  # emulated: garbage_frame / oversized_message after a boot
OVERSIZED = 2 * 1024 * 1024


class ConnectionMixin:
    """Connection, boot and heartbeat; state lives on the station."""

    def _wake_main(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _sleep(self, emulated: float) -> None:
        """Sleep, or less when woken (reset_state, go_online)."""
        assert self._wake is not None
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.clock.real(emulated))

    def _backoff(self, attempt: int) -> float:
        """Part 4 §5.4: RetryBackOffWaitMinimum doubled per failed attempt, at most
        RetryBackOffRepeatTimes times, plus up to RetryBackOffRandomRange."""
        if self.fault("no_reconnect_backoff"):
            return 0.0
        minimum = self._int("OCPPCommCtrlr", "RetryBackOffWaitMinimum", 5)
        repeat = self._int("OCPPCommCtrlr", "RetryBackOffRepeatTimes", 5)
        spread = self._int("OCPPCommCtrlr", "RetryBackOffRandomRange", 10)
        return minimum * 2 ** min(attempt, repeat) + random.uniform(0, spread)

    async def _run(self) -> None:
        """Connect, boot, keep the connection; reconnect with back-off when it drops."""
        assert self._online is not None
        attempt = 0
        while True:
            await self._online.wait()
            if not self._connect_now:
                await self._sleep(self._backoff(attempt))  # the n-th reconnection attempt
                attempt += 1
                if not self._online.is_set():
                    continue
            self._connect_now = False
            try:
                await self.link.open(
                    self.url,
                    identity=self.identity,
                    security=self.security,
                    timeout=max(self.call_timeout(), 5.0),
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.last_connect_error = f"{type(exc).__name__}: {exc}"[:300]
                continue
            attempt = 0  # Part 4 §5.4 (errata 2025-06): back to RetryBackOffWaitMinimum
            self.outbox.kick()
            try:
                await self._connected()
            finally:
                self._link_down()

    async def _connected(self) -> None:
        if self.accepted_this_boot and self.registration == "Accepted":
            self._after_reconnect()
        else:
            await self._boot()
        await self.link.wait_closed()

    def _link_down(self) -> None:
        if self.offline_since is None:
            self.offline_since = self.clock.now()
        self.outbox.mark_offline()
        self.outbox.drop_other()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            self._heartbeat = None
        if self.registration != "Accepted":
            self.registration = None

    # ================================================================ boot
    def boot_payload(self) -> dict[str, Any]:
        """BootNotificationRequest (B01.FR.01, B01.FR.09)."""
        station = {
            "model": self.dm.get("ChargingStation", "Model") or MODEL,
            "vendorName": self.dm.get("ChargingStation", "VendorName") or VENDOR,
            "serialNumber": self.serial,
            "firmwareVersion": FIRMWARE,
        }
        payload: dict[str, Any] = {"reason": self.boot_reason, "chargingStation": station}
        if self.fault("schema_violation") and not self.bad_boot_sent:
            self.bad_boot_sent = True  # the first one after power-up; retries are valid
            del payload["reason"]
        return payload

    async def _boot(self) -> None:
        """B01-B03: BootNotification until Accepted; only the link's end stops it."""
        while self.link.connected:
            try:
                answer = await self.link.request(
                    "BootNotification", self.boot_payload(), timeout=self.call_timeout()
                )
            except LinkClosed:
                return
            except (CallTimeout, CallFailed):
                await self._wait_or_closed(BOOT_RETRY_S)  # B01 error handling 2
                continue
            self.set_clock(answer.get("currentTime"))
            status, interval = answer.get("status"), int(answer.get("interval", 0))
            if status == "Accepted":
                self.registration = "Accepted"
                self.accepted_this_boot = True
                self.boot_interval = interval
                if interval > 0 and not self.fault("heartbeat_ignores_interval"):
                    self.dm.set("OCPPCommCtrlr", "HeartbeatInterval", str(interval))  # B01.FR.04
                self._on_accepted()
                return
            self.registration = status
            await self._not_accepted(status, interval)

    async def _not_accepted(self, status: str | None, interval: int) -> None:
        """B02 Pending / B03 Rejected: wait the interval, then boot again."""
        wait = float(interval) if interval > 0 else BOOT_RETRY_S  # B02.FR.07, B03.FR.05
        if interval <= 0 and self.fault("boot_interval_zero_flood"):
            wait = 1.0
        if self.fault("boot_retry_early"):
            wait /= 2
        if status == "Pending":
            if self.fault("pending_closes_connection"):
                await self.link.close("pending_closes_connection")
                return
            if self.fault("calls_while_pending"):
                self.send("Heartbeat", {}, early=True)
        elif status == "Rejected" and self.fault("sends_while_rejected"):
            self.spawn(self._rejected_heartbeat())
        if self.fault("no_boot_retry"):
            wait = 1e9
        await self._wait_or_closed(wait)  # B02.FR.08, B03.FR.06

    async def _cut_network(self, cut: int) -> None:
        """go_offline with a CALL in flight: nothing new goes out, and the connection
        drops once that CALL is answered or timed out (so a message the CSMS answered
        is not sent again).  reset_state cancels a cut that has not happened yet."""
        await self.link.idle(self.call_timeout())
        if cut == self._cuts:
            self.link.abort("network loss")

    async def _rejected_heartbeat(self) -> None:
        with contextlib.suppress(LinkClosed, CallTimeout, CallFailed):
            await self.link.request("Heartbeat", {}, timeout=self.call_timeout())

    async def _wait_or_closed(self, emulated: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.link.wait_closed(), self.clock.real(emulated))

    def _on_accepted(self) -> None:
        """B01 after Accepted: availability of every connector, heartbeats, queue."""
        self.offline_since = None
        self.avail.report_all(after_boot=True)  # B01.FR.05
        self.monitors.reevaluate()  # N07.FR.14
        self._restart_heartbeat()
        self.outbox.kick()
        self.tx.accepted()
        self.later(POST_BOOT_FAULT_S, self._post_boot_faults)

    def _after_reconnect(self) -> None:
        """B04: availability reports per OfflineThreshold, then a Heartbeat."""
        since = self.offline_since
        self.offline_since = None
        offline_s = 0.0 if since is None else self.clock.now() - since
        threshold = self._int("OCPPCommCtrlr", "OfflineThreshold", 300)
        self.outbox.replay_faults()
        self.avail.report_after_offline(long=offline_s > threshold)
        self.monitors.reevaluate()  # N07 remark: deferred offline events
        self.send_heartbeat()
        self._restart_heartbeat()
        self.outbox.kick()

    def _post_boot_faults(self) -> None:
        if not self.reportable:
            return
        if self.once("garbage_frame"):
            self.spawn(self._raw("this is not JSON {"))
        if self.once("oversized_message"):
            call = rpc.Call(
                rpc.new_message_id(),
                "DataTransfer",
                {"vendorId": "org.conformance.emulator", "data": "x" * OVERSIZED},
            )
            self.spawn(self._raw(call.frame()))

    async def _raw(self, text: str) -> None:
        with contextlib.suppress(LinkClosed):
            await self.link.send_text(text)

    # ================================================================ heartbeat
    def heartbeat_interval(self) -> float:
        return float(max(1, self._int("OCPPCommCtrlr", "HeartbeatInterval", 300)))

    def _restart_heartbeat(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            self._heartbeat = None
        if self.powered and self._loop is not None:
            self._heartbeat = self.spawn(self._heartbeat_loop())

    async def _heartbeat_loop(self) -> None:
        """G02.FR.02: a Heartbeat every HeartbeatInterval."""
        while True:
            await asyncio.sleep(self.clock.real(self.heartbeat_interval()))
            if self.reportable:
                self.send_heartbeat()

    def send_heartbeat(self) -> None:
        if self.fault("no_heartbeat"):
            return
        if any(item.action == "Heartbeat" for item in self.outbox.other):
            return
        self.send("Heartbeat", {}, on_result=lambda r: self.set_clock(r.get("currentTime")))

    def _on_answer(self, action: str, payload: dict[str, Any]) -> None:
        """A CALLRESULT arrived: its CALL is delivered, and the registration status
        takes effect as the BootNotificationResponse arrives."""
        self.outbox.answered(action)
        if action == "BootNotification" and payload.get("status") in (
            "Accepted",
            "Pending",
            "Rejected",
        ):
            self.registration = payload["status"]
            if self.registration == "Accepted":
                self.accepted_this_boot = True
