"""What the OCPP suites share: markers, the test idTokens, availability
reports (NotifyEvent in 2.1, StatusNotification in 2.0.1) and a transaction
tracker that checks every TransactionEvent of one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from conformance.devices.ocpp import Exchange, OcppStation
from conformance.errors import Finding

EVSE = 1
CONNECTOR = 1
VALID_TOKEN = {"idToken": "CONF0001", "type": "ISO14443"}
OTHER_TOKEN = {"idToken": "CONF0002", "type": "ISO14443"}
INVALID_TOKEN = {"idToken": "CONF0BAD", "type": "ISO14443"}
PIN_TOKEN = {"idToken": "1234", "type": "KeyCode"}

#: only for OCPP 2.1 stations: requirements marked "(2.1)" in Part 2
since_21 = pytest.mark.ocpp_since("2.1")


def margin(station: OcppStation) -> float:
    """Slack added to a spec interval before "it did not happen"."""
    return station.reply_timeout


def within(station: OcppStation, emulated: float) -> float:
    """Real seconds to wait for something due *emulated* seconds from now."""
    return station.seconds(emulated) + margin(station)


def uses_notify_event(station: OcppStation) -> bool:
    """2.1 reports availability with NotifyEvent (B01.FR.05); 2.0.1 with
    StatusNotification (still allowed in 2.1, deprecated)."""
    return station.version != "2.0.1"


def availability_of(payload: dict[str, Any]) -> list[tuple[int | None, int | None, str]]:
    """(evse, connector, state) reported by one NotifyEvent or StatusNotification."""
    if "connectorStatus" in payload:  # StatusNotification
        return [(payload["evseId"], payload["connectorId"], payload["connectorStatus"])]
    out = []
    for event in payload.get("eventData", []):
        if event["variable"]["name"] != "AvailabilityState":
            continue
        evse = event["component"].get("evse", {})
        out.append((evse.get("id"), evse.get("connectorId"), event["actualValue"]))
    return out


AVAILABILITY = ("NotifyEvent", "StatusNotification")


def expect_availability(
    station: OcppStation,
    state: str,
    *,
    evse: int = EVSE,
    connector: int | None = CONNECTOR,
    within: float | None = None,
    requirement: str,
) -> Exchange:
    """The station reports *state* for the connector (or the EVSE when
    *connector* is None), through NotifyEvent or StatusNotification."""
    __tracebackhide__ = True
    return station.expect(
        AVAILABILITY,
        lambda p: (evse, connector, state) in availability_of(p),
        within=within,
        requirement=requirement,
        expected=f"AvailabilityState {state} for EVSE {evse} connector {connector}",
    )


@dataclass
class Tx:
    """One transaction seen from the CSMS: every TransactionEvent of it is
    checked for a constant transactionId and seqNo rising by one (E01.FR.07)."""

    station: OcppStation
    evse: int = EVSE
    transaction_id: str | None = None
    events: list[Exchange] = field(default_factory=list)

    def expect(
        self,
        event_type: str | None = None,
        *,
        trigger: str | None = None,
        where: Callable[[dict[str, Any]], bool] | None = None,
        within: float | None = None,
        requirement: str | None = None,
    ) -> dict[str, Any]:
        __tracebackhide__ = True

        def match(p: dict[str, Any]) -> bool:
            if event_type is not None and p["eventType"] != event_type:
                return False
            if trigger is not None and p["triggerReason"] != trigger:
                return False
            if self.transaction_id is not None:
                if p["transactionInfo"]["transactionId"] != self.transaction_id:
                    return False
            elif p.get("evse", {}).get("id", self.evse) != self.evse:
                return False
            return where is None or where(p)

        what = " ".join(x for x in (event_type, trigger) if x) or "any"
        exchange = self.station.expect(
            "TransactionEvent",
            match,
            within=within,
            requirement=requirement,
            expected=f"TransactionEventRequest ({what}) for EVSE {self.evse}",
        )
        if self.transaction_id is None:
            self.transaction_id = exchange.payload["transactionInfo"]["transactionId"]
        self.events.append(exchange)
        return exchange.payload

    def all_events(self) -> list[Exchange]:
        return [
            e
            for e in self.station.received("TransactionEvent")
            if e.payload.get("transactionInfo", {}).get("transactionId") == self.transaction_id
        ]

    def check_sequence(self, requirement: str = "E01.FR.07") -> None:
        """seqNo counts 0, 1, 2... over the transaction's events in the order sent."""
        __tracebackhide__ = True
        seen = [e.payload["seqNo"] for e in self.all_events()]
        if not seen:
            return
        start = seen[0]
        want = list(range(start, start + len(seen)))
        if seen != want:
            raise Finding(
                f"TransactionEvent seqNo of transaction {self.transaction_id} went {seen}",
                requirement=requirement,
                received=self.all_events()[-1].frame,
                expected=f"seqNo increasing by one per message: {want}",
            )
