"""The station's outgoing CALLs: one sender, two queues.

* Transaction-related messages (TransactionEvent) are queued whatever the link's
  state and delivered in the order they were generated (E04.FR.01/02, E11.FR.01/02,
  E12.FR.01/02).  Those still queued when the link goes down get ``offline: true``
  (E11.FR.07); those generated while offline carry it from the start.  A failure to
  process one (CALLERROR, or no answer within MessageTimeout) is retried after
  MessageAttemptInterval[TransactionEvent] x the number of transmissions so far, and
  dropped once MessageAttempts[TransactionEvent] transmissions failed (E13.FR.02-04).
  They survive reboots (B12.FR.05) and are held back until BootNotification is
  Accepted (B01.FR.08).
* Every other CALL is sent once when the station is connected and Accepted (or, for
  the messages a CSMS asked for while Pending, when Pending: B02.FR.02); it is
  dropped on failure and while offline, unless OCPPCommCtrlr.QueueAllMessages.

The oldest ready message goes first, so a transaction message waiting for its E13
retry does not hold up a heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.emulators.ocpp.link import CallFailed, CallTimeout, LinkClosed

if TYPE_CHECKING:
    from conformance.emulators.ocpp.station import OcppStationEmulator

#: Queued messages kept at most; the oldest non-transaction ones go first.
MAX_QUEUED = 5000


@dataclass(eq=False)
class Outgoing:
    """One CALL to send."""

    action: str
    payload: dict[str, Any]
    transactional: bool = False
    #: may go out while Pending (asked for by the CSMS, B02.FR.02)
    early: bool = False
    #: kept while offline and sent once Accepted again (N07.FR.04)
    keep: bool = False
    on_result: Callable[[dict[str, Any]], None] | None = None
    on_failure: Callable[[str], None] | None = None
    attempts: int = 0
    not_before: float = 0.0  # loop time of the next try (E13.FR.03)
    order: int = 0
    answered: bool = False


class Outbox:
    """The queues and the sender task of one station."""

    def __init__(self, station: OcppStationEmulator) -> None:
        self.station = station
        self.tx: deque[Outgoing] = deque()
        self.other: deque[Outgoing] = deque()
        self._counter = itertools.count()
        self._wake: asyncio.Event | None = None
        self.sent: dict[str, int] = {}
        self.current: Outgoing | None = None  # the CALL awaiting its answer
        self.dropped: list[str] = []  # actions discarded (E13.FR.04, failures)

    # ------------------------------------------------------------ queueing
    def put(self, item: Outgoing) -> bool:
        """Queue *item*; False when it is dropped at once (offline, not queued)."""
        st = self.station
        item.order = next(self._counter)
        if item.transactional:
            self.tx.append(item)
        else:
            may_send = st.online and (
                st.registration == "Accepted" or (item.early and st.registration == "Pending")
            )
            if not may_send and not item.keep and not st.queue_all_messages():
                self.dropped.append(item.action)
                return False
            self.other.append(item)
            while len(self.other) > MAX_QUEUED:
                self.other.popleft()
        self.kick()
        return True

    def kick(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def mark_offline(self) -> None:
        """E11.FR.07: queued transaction messages now carry ``offline: true``."""
        if self.station.fault("no_offline_flag") or self.station.fault("queued_not_offline"):
            return
        for item in self.tx:
            item.payload["offline"] = True

    def drop_other(self) -> None:
        """Link down: non-transaction messages are not kept (unless QueueAllMessages)."""
        if not self.station.queue_all_messages():
            self.dropped.extend(i.action for i in self.other if not i.keep)
            self.other = deque(i for i in self.other if i.keep)

    def replay_faults(self) -> None:
        """Applied when the link is back: the no_replay / replay_wrong_order faults."""
        st = self.station
        offline = [i for i in self.tx if i.payload.get("offline")]
        if not offline:
            return
        if st.fault("no_replay"):  # breaks E11.FR.02 / E12.FR.02
            self.tx = deque(i for i in self.tx if not i.payload.get("offline"))
        elif st.fault("replay_wrong_order"):  # breaks E11.FR.02 (order of events)
            rest = [i for i in self.tx if not i.payload.get("offline")]
            self.tx = deque([*reversed(offline), *rest])

    def clear(self) -> None:
        self.tx.clear()
        self.other.clear()

    def pending(self, transaction_id: str | None = None) -> bool:
        """Whether transaction messages (of *transaction_id*) wait to be delivered."""
        return any(
            transaction_id is None
            or i.payload.get("transactionInfo", {}).get("transactionId") == transaction_id
            for i in self.tx
        )

    # ------------------------------------------------------------ sending
    def _gate(self, item: Outgoing) -> bool:
        st = self.station
        if not st.online:
            return False
        if st.registration == "Accepted":
            return True
        if item.transactional and st.fault("queued_before_boot"):
            return True  # breaks B01.FR.08
        return item.early and st.registration == "Pending"

    def _next(self, now: float) -> tuple[Outgoing | None, float | None]:
        """The message to send now, else when to look again (None: on a kick)."""
        candidates = []
        if self.other and self._gate(self.other[0]):
            candidates.append(self.other[0])
        wait: float | None = None
        if self.tx and self._gate(self.tx[0]):
            head = self.tx[0]
            if head.not_before <= now:
                candidates.append(head)
            else:
                wait = head.not_before - now
        if candidates:
            return min(candidates, key=lambda i: i.order), None
        return None, wait

    async def run(self) -> None:
        """The sender task: runs while the station is powered."""
        self._wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            item, wait = self._next(loop.time())
            if item is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
                continue
            try:
                await self._deliver(item)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.station.internal_error(traceback.format_exc())
                self._remove(item)

    def _remove(self, item: Outgoing) -> None:
        for queue in (self.tx, self.other):
            if queue and queue[0] is item:
                queue.popleft()
                return
            if item in queue:
                queue.remove(item)
                return

    def answered(self, action: str) -> None:
        """The CALLRESULT of the CALL in flight arrived: it is delivered, even if the
        station loses power before the sender task sees the answer."""
        item = self.current
        if item is not None and item.action == action and not item.answered:
            item.answered = True
            self._remove(item)

    async def _deliver(self, item: Outgoing) -> None:
        st = self.station
        item.attempts += 1
        self.current = item
        try:
            result = await st.link.request(item.action, item.payload, timeout=st.call_timeout())
        except LinkClosed:
            item.attempts -= 1  # not a failure to process (E13): sent again when online
            if not item.transactional and not item.keep and not st.queue_all_messages():
                self._remove(item)
            return
        except (CallTimeout, CallFailed) as exc:
            self._failed(item, str(exc))
            return
        finally:
            self.current = None
        self._remove(item)
        self.sent[item.action] = self.sent.get(item.action, 0) + 1
        if item.on_result is not None:
            st.guard(item.on_result, result)

    def _failed(self, item: Outgoing, reason: str) -> None:
        st = self.station
        if not item.transactional:
            self._remove(item)
            self.dropped.append(item.action)
            if item.on_failure is not None:
                st.guard(item.on_failure, reason)
            return
        attempts = st.message_attempts()
        if st.fault("e13_no_retry"):
            attempts = 1  # breaks E13.FR.02
        if st.fault("e13_never_discard"):
            attempts = 1 << 30  # breaks E13.FR.04
        if item.attempts >= attempts:  # E13.FR.04: give up, next message
            self._remove(item)
            self.dropped.append(item.action)
            if item.on_failure is not None:
                st.guard(item.on_failure, reason)
            return
        interval = st.message_attempt_interval() * item.attempts  # E13.FR.03
        if st.fault("e13_retry_immediately"):
            interval = 0.0  # breaks E13.FR.03
        item.not_before = asyncio.get_running_loop().time() + st.clock.real(interval)
