"""OCPP 2.1 / 2.0.1 charging station emulator: a WebSocket client that dials a CSMS
(the tester) and behaves as a conforming station for the basic use cases B01-B07,
B11, B12, C01, C02, C04, E01-E13, G01, G03-G05, J02, N07, P01 and P02 of OCPP 2.1
Part 2, over the OCPP-J of Part 4.

This module holds the station's life: power on/off, reboots (B11/B12, power cycles),
reset between tests, timers and the settings read from the device model.  The rest
lives in: :mod:`.connection` (connection, Part 4 §3.1/§5.4; boot B01-B03; B04; heartbeat
G02), :mod:`.control` (the control API), :mod:`.link` (OCPP-J RPC), :mod:`.outbox`
(queues, E11-E13), :mod:`.transactions` and :mod:`.sampling` (E01-E13, J02),
:mod:`.authorization` (C01/C02/C04, cache, local list), :mod:`.availability`
(G01/G03/G04/G05, B04 reports), :mod:`.monitors` (N07) and :mod:`.handlers`
(CSMS-initiated CALLs).  The station's configuration is its device model
(:class:`conformance.ocpp.device_model.DeviceModel`).

Choices where the specification leaves room, documented once:

* Intervals (heartbeat, retries, meter sampling, back-off, timeouts) run on emulated
  time (``speed`` times faster).  MessageTimeout is emulated too, but never shorter
  than ``MIN_TIMEOUT_S`` real seconds.  Timestamps in messages are real UTC plus the
  offset learned from the CSMS's currentTime (B01.FR.06, G02.FR.06).
* BootNotification without an answer is resent after ``BOOT_RETRY_S``; a Pending or
  Rejected interval of 0 is replaced by ``BOOT_RETRY_S`` (B02.FR.07, B03.FR.05).
* A reboot takes ``REBOOT_S``; after a reset executed at once the boot reason is
  RemoteReset, after one that was Scheduled it is ScheduledReset; a power cycle
  boots with PowerUp.  An EVSE reset (evseId) ends that EVSE's transactions only.
* A power cycle ends running transactions with stoppedReason PowerLoss (triggerReason
  AbnormalCondition); their Ended events are sent after the next boot.
* Reconnecting after an accepted boot sends no BootNotification (Part 4 §5.4) but the
  B04 availability reports and a Heartbeat.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from conformance.emulators.base import Emulator, Endpoint
from conformance.emulators.ocpp.authorization import Authorizer
from conformance.emulators.ocpp.availability import Availability
from conformance.emulators.ocpp.connection import (
    MODEL,
    VENDOR,
    ConnectionMixin,
)
from conformance.emulators.ocpp.control import ControlMixin
from conformance.emulators.ocpp.faults import FAULTS, ONE_SHOT
from conformance.emulators.ocpp.handlers import Handlers
from conformance.emulators.ocpp.link import OcppLink
from conformance.emulators.ocpp.monitors import EXTRA_VARIABLES, Monitors
from conformance.emulators.ocpp.outbox import Outbox, Outgoing
from conformance.emulators.ocpp.transactions import Transactions
from conformance.errors import FrameworkError
from conformance.ocpp import rpc
from conformance.ocpp.device_model import VARIABLES, DeviceModel
from conformance.ocpp.security import SecurityConfig

REBOOT_S = 5.0  # emulated: power off to power on
MIN_TIMEOUT_S = 1.0  # real: floor of MessageTimeout and of the WebSocket open timeout


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class OcppStationEmulator(ConnectionMixin, ControlMixin, Emulator):
    """A charging station with *evses* EVSEs (an int: one connector each; or a dict
    ``{evse id: connectors}``) that dials the CSMS given to :meth:`start`."""

    name = "ocpp"
    FACES: ClassVar[dict[str, tuple[str, ...]]] = {"ocpp": ("ws-client",)}
    DEFAULT_SPEED = 50.0
    FAULTS = FAULTS
    CONTROL: ClassVar[tuple[str, ...]] = (
        "info",
        "state",
        "plug",
        "unplug",
        "present_token",
        "press_start",
        "press_stop",
        "ev_suspend",
        "ev_resume",
        "lock_failure",
        "go_offline",
        "go_online",
        "power_cycle",
        "raise_alert",
        "send_data_transfer",
    )

    def __init__(
        self,
        *,
        faults: Any = (),
        speed: float = DEFAULT_SPEED,
        model: str | None = None,
        version: str = "2.1",
        identity: str = "CS001",
        evses: int | dict[int, int] = 2,
        security: SecurityConfig = SecurityConfig(),  # noqa: B008 - frozen dataclass
    ) -> None:
        super().__init__(faults=faults, speed=speed, model=None)
        if model is not None:
            raise ValueError("the ocpp emulator has no model profiles")
        if version not in ("2.1", "2.0.1"):
            raise ValueError(f"unknown OCPP version {version!r} (2.1 or 2.0.1)")
        if isinstance(evses, int):
            layout = {n: 1 for n in range(1, evses + 1)}
        else:
            layout = {int(e): int(c) for e, c in dict(evses).items()}
        if not layout or any(e < 1 or c < 1 for e, c in layout.items()):
            raise ValueError(f"bad EVSE layout {evses!r}")
        self.version = version
        self.identity = identity
        self.security = security
        self.layout = {int(e): int(c) for e, c in sorted(layout.items())}
        self.serial = f"SN-{identity}"[:25]
        self.url = ""
        self.dm = DeviceModel(
            self.layout,
            vendor=VENDOR,
            model=MODEL,
            variables=(*VARIABLES, *EXTRA_VARIABLES),
            clock=self.wall_now,
        )
        self.dm.on_change(self._dm_changed)
        self._clock_offset = -3600.0 if self.fault("ignores_current_time") else 0.0
        self.link = OcppLink(
            version=version,
            faults=self,
            on_call=self._on_call,
            on_error=self.internal_error,
            on_answer=self._on_answer,
        )
        self.outbox = Outbox(self)
        self.avail = Availability(self)
        self.auth = Authorizer(self)
        self.tx = Transactions(self)
        self.monitors = Monitors(self)
        self.handlers = Handlers(self)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._main: asyncio.Task[None] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._online: asyncio.Event | None = None
        self._power_on_timer: asyncio.TimerHandle | None = None
        self._oneshots: set[str] = set(ONE_SHOT)
        self._cuts = 0  # go_offline requests; reset_state cancels a pending one
        self.powered = False
        self.online_wanted = True
        self.registration: str | None = None  # None | Pending | Rejected | Accepted
        self.accepted_this_boot = False
        self.boot_reason = "PowerUp"
        self.boots = 0
        self.offline_since: float | None = None
        self.pending_reset: dict[str, Any] | None = None
        self._connect_now = True
        self.last_connect_error = ""
        self.data_transfers: list[dict[str, Any]] = []
        self.boot_interval = 0  # of the last Accepted BootNotificationResponse
        self.bad_boot_sent = False  # schema_violation: the broken BootNotification went out
        self.wrong_dial_done = False  # wrong_subprotocol: the wrong offer was made

    # ================================================================ lifecycle
    def endpoint(self, face: str) -> Endpoint:
        raise FrameworkError("the ocpp emulator is not served: it dials the CSMS (start(url))")

    def start(self, csms_url: str) -> None:
        """Power on and dial *csms_url* (``ws[s]://host:port/path/IDENTITY``)."""
        self.url = csms_url
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._online = asyncio.Event()
        self._online.set()
        self._power_up()

    def stop(self) -> None:
        self._power_down()
        self.powered = False

    def _power_up(self) -> None:
        self._power_on_timer = None
        self.powered = True
        self.boots += 1
        self.registration = None
        self.accepted_this_boot = False
        self.bad_boot_sent = False
        self.wrong_dial_done = False
        self._connect_now = True
        self._main = self.spawn(self._run())
        self._sender = self.spawn(self.outbox.run())
        self.tx.power_up()

    def _power_down(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()
        self._main = self._sender = self._heartbeat = None
        self.link.abort("power off")
        self.tx.power_down()
        for handle in list(self.timers):
            handle.cancel()
        self.timers.clear()
        self._power_on_timer = None

    def reset_state(self) -> None:
        """Back to power-on defaults between tests, without OCPP traffic while the link
        is up and Accepted.  A station that is offline, Pending or Rejected dials again
        at once and boots (reason PowerUp); one whose boot is under way finishes it."""
        self._oneshots = set(ONE_SHOT)
        self._cuts += 1
        for task in list(self._tasks):  # a pending reboot, heartbeat, fault frame...
            if task is not self._main and task is not self._sender:
                task.cancel()
        self._heartbeat = None
        self.pending_reset = None
        self.tx.clear()
        self.dm.reset_to_defaults()
        self.avail.reset()
        self.auth.clear()
        self.outbox.clear()
        self.monitors.reset()
        self.data_transfers.clear()
        self.online_wanted = True
        if self.boot_interval > 0 and not self.fault("heartbeat_ignores_interval"):
            self.dm.set("OCPPCommCtrlr", "HeartbeatInterval", str(self.boot_interval), notify=False)
        if self._loop is None:
            return  # never started
        if self._online is not None:
            self._online.set()
        if not self.powered:
            if self._power_on_timer is not None:
                self._power_on_timer.cancel()
                self.timers.discard(self._power_on_timer)
            self.boot_reason = "PowerUp"
            self._power_up()
        elif not self.link.connected or self.registration in ("Pending", "Rejected"):
            self.boot_reason = "PowerUp"  # dial at once (no back-off) and boot again
            self.registration = None
            self.accepted_this_boot = False
            self._connect_now = True
            self.link.abort("reset_state")
            self._wake_main()
        elif self.registration is None:
            pass  # the BootNotification is under way
        else:
            # no garbage_frame / oversized_message here: they follow a boot, so the
            # test after the one that rebooted runs on a clean link
            self._restart_heartbeat()
        self.tx.restart_aligned()

    def reboot(self, reason: str, *, power_loss: bool = False) -> None:
        """Power off now and on after REBOOT_S; *reason* goes into the next boot."""
        if not self.powered:
            return
        if power_loss:
            self.tx.end_all("AbnormalCondition", "PowerLoss", offline=True)
        self.pending_reset = None
        self._power_down()
        self.powered = False
        self.avail.rebooted()
        self.boot_reason = reason
        self._power_on_timer = self.later(REBOOT_S, self._power_up)

    def reboot_when_flushed(self, reason: str) -> None:
        """Reboot once the queued TransactionEvents are delivered, or after two
        MessageTimeouts (B12.FR.05: what is left is sent after the reboot)."""

        async def wait_then_reboot() -> None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 2 * self.call_timeout()
            while self.outbox.tx and self.link.connected and loop.time() < deadline:
                await asyncio.sleep(0.01)
            if self.fault("reset_drops_unanswered_event"):
                self.outbox.tx.clear()  # breaks B12.FR.05
            self.reboot(reason)

        self.spawn(wait_then_reboot())

    def transaction_ended(self) -> None:
        """A scheduled reset (B12.FR.01) runs when its scope has no transaction left."""
        reset = self.pending_reset
        if reset is None or self.tx.busy(reset["evse"]):
            return
        self.pending_reset = None
        self.avail.waiting_reset = False
        if reset["evse"] is None:
            self.reboot_when_flushed(reset["reason"])  # B12.FR.03
        else:
            self.avail.refresh()  # B12.FR.07: the EVSE reset is done

    # ================================================================ helpers
    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """A task owned by the station (cancelled on power off)."""
        loop = self._loop or asyncio.get_running_loop()
        task = loop.create_task(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                exc = t.exception()
                self.internal_error("".join(traceback.format_exception(exc)))

        task.add_done_callback(done)
        return task

    def later(self, seconds: float, fn: Callable[..., Any], *args: Any) -> asyncio.TimerHandle:
        """Run ``fn(*args)`` after *seconds* emulated seconds (cancelled on power off)."""
        loop = self._loop or asyncio.get_running_loop()

        def run() -> None:
            self.timers.discard(handle)
            self.guard(fn, *args)

        handle = loop.call_later(self.clock.real(max(0.0, seconds)), run)
        self.timers.add(handle)
        return handle

    def cancel(self, handle: asyncio.TimerHandle | None) -> None:
        if handle is not None:
            handle.cancel()
            self.timers.discard(handle)

    def internal_error(self, text: str) -> None:
        self.internal_errors.append(text)
        del self.internal_errors[:-100]

    def wrong_dial(self) -> bool:
        """wrong_subprotocol: True for the first dial after power-up only."""
        first = not self.wrong_dial_done
        self.wrong_dial_done = True
        return first

    def once(self, name: str) -> bool:
        """A fault that acts after boot: a one-shot one (``ONE_SHOT``) only once until
        reset_state re-arms it, any other one every time."""
        if name not in self.faults or self.registration != "Accepted":
            return False
        if name not in ONE_SHOT:
            return True
        if name in self._oneshots:
            self._oneshots.discard(name)
            return True
        return False

    def wall_now(self) -> datetime:
        """The station's clock: real UTC plus the offset set from the CSMS."""
        return datetime.now(UTC) + timedelta(seconds=self._clock_offset)

    def now_iso(self) -> str:
        """A timestamp for a message (RFC 3339, milliseconds, UTC)."""
        if self.fault("bad_date_time"):
            return self.wall_now().strftime("%Y-%m-%d %H:%M:%S")
        return _iso(self.wall_now())

    def set_clock(self, current_time: Any) -> None:
        """B01.FR.06 / G02.FR.06: follow the CSMS clock when TimeSource says Heartbeat."""
        if self.fault("ignores_current_time") or not isinstance(current_time, str):
            return
        if "Heartbeat" not in self.dm.list("ClockCtrlr", "TimeSource"):
            return
        moment = _parse_time(current_time)
        if moment is not None:
            self._clock_offset = (moment - datetime.now(UTC)).total_seconds()

    def _int(self, component: str, variable: str, default: int, **kw: Any) -> int:
        try:
            return self.dm.int(component, variable, **kw)
        except (KeyError, ValueError):
            return default

    def call_timeout(self) -> float:
        """Real seconds to wait for a CALL's answer: MessageTimeout (Part 4 §4.1.1)."""
        seconds = self._int("OCPPCommCtrlr", "MessageTimeout", 30, instance="Default")
        return max(self.clock.real(seconds), MIN_TIMEOUT_S)

    def message_attempts(self) -> int:
        return self._int("OCPPCommCtrlr", "MessageAttempts", 3, instance="TransactionEvent")

    def message_attempt_interval(self) -> float:
        return float(
            self._int("OCPPCommCtrlr", "MessageAttemptInterval", 60, instance="TransactionEvent")
        )

    def queue_all_messages(self) -> bool:
        return self.dm.bool("OCPPCommCtrlr", "QueueAllMessages")

    @property
    def reportable(self) -> bool:
        """Connected and Accepted: a non-transaction message can go out now."""
        return self.online and self.registration == "Accepted"

    @property
    def online(self) -> bool:
        """Connected, and the network is not being cut (``go_offline``)."""
        return self.link.connected and self.online_wanted

    def may_charge(self) -> bool:
        """Charging before being Accepted only with TxBeforeAcceptedEnabled (B03.FR.01)."""
        return self.accepted_this_boot or self.dm.bool("TxCtrlr", "TxBeforeAcceptedEnabled")

    def send(self, action: str, payload: dict[str, Any], **kw: Any) -> bool:
        """Queue a CALL (see :class:`Outgoing` for the keywords)."""
        return self.outbox.put(Outgoing(action, payload, **kw))

    def _dm_changed(
        self, component: str, variable: str, evse: int | None, connector: int | None, value: str
    ) -> None:
        """B05: settings that act at once."""
        if component == "OCPPCommCtrlr" and variable == "HeartbeatInterval":
            if not self.fault("heartbeat_interval_not_applied"):
                self._restart_heartbeat()
        elif component in ("SampledDataCtrlr", "AlignedDataCtrlr"):
            self.tx.settings_changed(component, variable)

    # ================================================================ incoming CALLs
    def _on_call(self, call: rpc.Call) -> Any:
        return self.handlers.dispatch(call)
