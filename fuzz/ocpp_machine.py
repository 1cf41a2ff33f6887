"""Stateful fuzzing of a charging station's boot -> authorize -> transaction life.

The machine drives the station through its control API (a cable plugged or
unplugged, an idToken presented, the start / stop button) as ``control`` cases,
interleaved with fuzz CALLs from :class:`fuzz.ocpp.OcppTarget`.  Our CSMS answers
Authorize and TransactionEvent from the fixed idToken table
:data:`fuzz.ocpp.TOKENS` (Accepted, Invalid, Blocked, Expired, Unknown), installed
by :meth:`OcppTarget.begin`, so a replay of the cases gets the same answers.

:class:`Lifecycle` holds the rules checked on every TransactionEventRequest the
station sends, by :meth:`OcppTarget.run` after each control case (so a replay of the
cases shows a finding again), besides what the CSMS side checks on every frame
(schemas, message ids, Part 4):

* seqNo increases by one per TransactionEventRequest (OCPP 2.1 Part 2 §1.3.2.1,
  E01.FR.07; a counter per transaction or one for the whole station);
* a transaction starts with eventType Started (E01.FR.01-E01.FR.06) and nothing
  follows its Ended event (E06, E07.FR.04 "final TransactionEventRequest");
* a transactionId is never used for a second transaction (E01.FR.08);
* energy is offered only after authorization (C01.FR.01, with AuthCtrlr.Enabled):
  chargingState Charging needs an idToken in the transaction (E01.FR.10) that our
  CSMS accepts, or the start button's NoAuthorization (C02).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from conformance.ocpp import rpc
from fuzz.case import Case, Observation
from fuzz.ocpp import PROTOCOL, TOKENS, OcppTarget
from fuzz.strategies import cases as case_strategy

if TYPE_CHECKING:
    from conformance.devices.ocpp import Exchange

#: EVSEs the machine uses (every station has EVSE 1; the emulator has two)
EVSES = (1, 2)
NO_AUTHORIZATION = "NoAuthorization"


@dataclass
class _Tx:
    evse: int | None
    seq: int
    started: bool
    ended: bool = False
    last: tuple[Any, ...] = ()
    token: dict[str, Any] | None = None


@dataclass
class Lifecycle:
    """The transaction rules over the station's TransactionEventRequests."""

    target: OcppTarget
    #: True when the station was reset before: every transaction is new to us
    strict: bool = True
    txs: dict[str, _Tx] = field(default_factory=dict)
    #: transactionIds whose transaction ended
    done: set[str] = field(default_factory=set)
    last_seq: int | None = None
    seen: int = 0  # exchanges of the station's log already looked at
    log_id: int = 0

    def check(self, index: int | None) -> list[Observation]:
        """Rule breaks in the TransactionEventRequests received since the last call."""
        log = self.target.device.received()
        if len(log) < self.seen or (self.log_id and log and id(log[0]) != self.log_id):
            self.seen = 0  # a new log (the device was settled)
        if log:
            self.log_id = id(log[0])
        fresh, self.seen = log[self.seen :], len(log)
        found: list[Observation] = []
        for exchange in fresh:
            call = isinstance(exchange.message, rpc.Call) and not exchange.problems
            if call and exchange.action == "TransactionEvent":
                found += self._event(index, exchange)
        return found

    def _seen(
        self, index: int | None, exchange: Exchange, summary: str, key: str, ref: str, why: str
    ) -> Observation:
        return Observation(
            "protocol-violation", summary, key, ref, why, None, exchange.frame, index
        )

    def _event(self, index: int | None, exchange: Exchange) -> list[Observation]:
        payload = exchange.payload
        info = payload.get("transactionInfo", {})
        tid = info.get("transactionId")
        kind = payload.get("eventType")
        seq = payload.get("seqNo")
        if not isinstance(tid, str) or not isinstance(seq, int):
            return []
        stamp = (kind, seq, payload.get("timestamp"))
        tx = self.txs.get(tid)
        if tx is not None and tx.last == stamp:
            return []  # the same event sent again (retry, E13; Part 4 §4.1.4)
        found: list[Observation] = []
        evse = (payload.get("evse") or {}).get("id")
        if kind == "Started":
            if tx is not None or tid in self.done:
                found.append(
                    self._seen(
                        index,
                        exchange,
                        f"transactionId {tid!r} started a second transaction",
                        "E01.FR.08/reused-transaction-id",
                        "E01.FR.08",
                        "a transactionId never used before by the station",
                    )
                )
            tx = self.txs[tid] = _Tx(evse, seq, started=True)
        elif tx is None:
            if self.strict:
                found.append(
                    self._seen(
                        index,
                        exchange,
                        f"eventType {kind} for transaction {tid!r} that never started",
                        f"E01/{kind}-before-Started",
                        "E01.FR.01-E01.FR.06",
                        "a TransactionEventRequest with eventType Started first",
                    )
                )
            tx = self.txs[tid] = _Tx(evse, seq, started=False)
        else:
            if tx.ended:
                found.append(
                    self._seen(
                        index,
                        exchange,
                        f"eventType {kind} after transaction {tid!r} ended",
                        "E06/event-after-Ended",
                        "E06.FR.01-E06.FR.07, E07.FR.04",
                        "no TransactionEventRequest after the one with eventType Ended",
                    )
                )
            follows = seq == tx.seq + 1 or (self.last_seq is not None and seq == self.last_seq + 1)
            if not follows:
                found.append(
                    self._seen(
                        index,
                        exchange,
                        f"seqNo {seq} after {tx.seq} in transaction {tid!r}",
                        "E01.FR.07/seqNo",
                        "E01.FR.07 (Part 2 §1.3.2.1)",
                        f"seqNo {tx.seq + 1}: one more per TransactionEventRequest",
                    )
                )
            tx.seq = seq
        self.last_seq = seq
        tx.last = stamp
        if tx.evse is None:
            tx.evse = evse
        if isinstance(payload.get("idToken"), dict):
            tx.token = payload["idToken"]
        if kind == "Ended":
            tx.ended = True
            self.done.add(tid)
        if info.get("chargingState") == "Charging" and self.target.auth_enabled:
            found += self._charging(index, exchange, tid, tx)
        return found

    def _charging(self, index: int | None, exchange: Exchange, tid: str, tx: _Tx) -> list[Any]:
        token = tx.token
        if token is not None and token.get("type") == NO_AUTHORIZATION:
            return []  # the start button (C02)
        if token is None:
            if not tx.started:
                return []  # may have been authorized before we watched
            return [
                self._seen(
                    index,
                    exchange,
                    f"transaction {tid!r} is Charging without an idToken",
                    "C01.FR.01/charging-unauthorized",
                    "C01.FR.01, E01.FR.10",
                    "energy only after authorization, reported with its idToken",
                )
            ]
        status = TOKENS.get(str(token.get("idToken")), "Accepted")
        if status == "Accepted":
            return []
        return [
            self._seen(
                index,
                exchange,
                f"transaction {tid!r} is Charging for idToken {token.get('idToken')!r}, "
                f"which the CSMS answered {status}",
                "C01.FR.01/charging-rejected-token",
                "C01.FR.01",
                "no energy for an idToken whose AuthorizeResponse was not Accepted",
            )
        ]


def control_case(action: str, label: str, ref: str, **args: Any) -> Case:
    """A ``control`` case: *action* of the station's control API with *args*."""
    return Case(
        PROTOCOL,
        "control",
        label,
        json.dumps({"action": action, **args}, separators=(",", ":")),
        "any",
        ref,
        "control",
        {"action": action, **args},
    )


class OcppMachine(RuleBasedStateMachine):
    """Rules build cases; :meth:`OcppTarget.run` runs and checks them."""

    target: OcppTarget

    def __init__(self) -> None:
        super().__init__()
        self.cases: list[Case] = []
        self.plugged: set[int] = set()
        self.target.begin()
        layout = {}
        if self.has_control():
            info = self.target.device.control.info()
            layout = info.get("evses", {}) if isinstance(info, dict) else {}
        self.evses = [e for e in EVSES if str(e) in layout] or [1]

    def has_control(self) -> bool:
        return self.target.device.control is not None

    def _run(self, case: Case) -> None:
        self.cases.append(case)
        self.target.raise_new(self.target.run([case]), self.cases)

    @precondition(lambda self: self.has_control())
    @rule(evse=st.sampled_from(EVSES))
    def plug(self, evse: int) -> None:
        if evse not in self.evses or evse in self.plugged:
            return
        self.plugged.add(evse)
        self._run(control_case("plug", f"plug EVSE {evse}", "E02, G01", evse=evse, connector=1))

    @precondition(lambda self: self.has_control() and bool(self.plugged))
    @rule(evse=st.sampled_from(EVSES))
    def unplug(self, evse: int) -> None:
        if evse not in self.plugged:
            return
        self.plugged.discard(evse)
        self._run(
            control_case("unplug", f"unplug EVSE {evse}", "E06, E09, E10", evse=evse, connector=1)
        )

    @precondition(lambda self: self.has_control())
    @rule(token=st.sampled_from(sorted(TOKENS)), evse=st.sampled_from(EVSES))
    def present_token(self, token: str, evse: int) -> None:
        if evse not in self.evses:
            return
        status = TOKENS[token]
        self._run(
            control_case(
                "present_token",
                f"present idToken {token} ({status}) at EVSE {evse}",
                "C01, E07",
                id_token=token,
                type="ISO14443",
                evse=evse,
            )
        )

    @precondition(lambda self: self.has_control())
    @rule(evse=st.sampled_from(EVSES))
    def press_start(self, evse: int) -> None:
        if evse in self.evses:
            self._run(control_case("press_start", f"start button EVSE {evse}", "C02", evse=evse))

    @precondition(lambda self: self.has_control())
    @rule(evse=st.sampled_from(EVSES))
    def press_stop(self, evse: int) -> None:
        if evse in self.evses:
            self._run(control_case("press_stop", f"stop button EVSE {evse}", "E07", evse=evse))

    @rule(data=st.data())
    def fuzz_call(self, data: st.DataObject) -> None:
        self._run(data.draw(case_strategy(self.target)))

    @invariant()
    def transactions_follow_the_rules(self) -> None:
        """Events that came after the last rule's settling time, judged too (a replay
        judges them at the end of its program)."""
        if self.cases and self.has_control():
            found = self.target.lifecycle().check(len(self.cases) - 1)
            self.target.raise_new(found, self.cases)


def machine_for(target: OcppTarget) -> type[RuleBasedStateMachine]:
    """:class:`OcppMachine` bound to *target* (its control rules need a control API)."""
    return type("OcppMachineFor", (OcppMachine,), {"target": target})
