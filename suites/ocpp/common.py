"""What the OCPP suites share: markers, the test idTokens, availability
reports (NotifyEvent in 2.1, StatusNotification in 2.0.1) and a transaction
tracker that checks every TransactionEvent of one transaction."""

from __future__ import annotations

import contextlib
import itertools
import json
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conformance.devices.ocpp import Exchange, OcppStation
from conformance.errors import DeviceUnreachable, Finding, FrameworkError, NoReply
from conformance.expect import expect
from conformance.ocpp.actions import Actions

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

    @property
    def ended(self) -> bool:
        return any(e.payload["eventType"] == "Ended" for e in self.all_events())

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


def quiet(station: OcppStation, emulated: float = 10.0) -> float:
    """Real seconds to watch for a message that must NOT come: *emulated*
    seconds of the station's clock (the Part 6 test cases wait their
    configured message timeout before they end)."""
    return station.seconds(emulated)


def same_token(given: dict[str, Any] | None, token: dict[str, Any]) -> bool:
    """Two IdTokenTypes are equal on idToken and type; additionalInfo does not
    count (C01.FR.25)."""
    given = given or {}
    return given.get("idToken") == token["idToken"] and given.get("type") == token["type"]


#: SetVariables statuses that leave the value in place until a reboot
REBOOT = "RebootRequired"


def _component(name: str, evse: int | None) -> dict[str, Any]:
    return {"name": name, **({"evse": {"id": evse}} if evse is not None else {})}


def _variable(name: str) -> dict[str, Any]:
    """``"MessageAttempts[TransactionEvent]"`` names a variable instance."""
    base, _, instance = name.partition("[")
    return {"name": base, "instance": instance.rstrip("]")} if instance else {"name": name}


@dataclass
class Settings:
    """Device-model variables one test sets with SetVariables (B05) and puts
    back afterwards (fixture ``station_settings``).  A value the station does
    not take skips the test: a station may implement a subset (e.g. of the
    TxStartPoint values, E01; Part 2 §2.7.4)."""

    station: OcppStation
    changed: list[tuple[str, str, str, int | None]] = field(default_factory=list)

    def get(self, component: str, variable: str, *, evse: int | None = None) -> str | None:
        """The Actual value, or None when the station does not report it (B06)."""
        data = {"component": _component(component, evse), "variable": _variable(variable)}
        answer = self.station.call("GetVariables", {"getVariableData": [data]})
        assert isinstance(answer, dict)
        results = answer.get("getVariableResult") or [{}]
        if results[0].get("attributeStatus") != "Accepted":
            return None
        return results[0].get("attributeValue")

    def set(
        self,
        component: str,
        variable: str,
        value: str,
        *,
        evse: int | None = None,
        required: bool = True,
    ) -> bool:
        """Set *component*.*variable* to *value*.  When the station does not
        take it: skip the test if *required*, else return False."""
        old = self.get(component, variable, evse=evse)
        if old == value:
            return True
        status = self._set(component, variable, value, evse)
        if status in ("Accepted", REBOOT) and old is not None:
            self.changed.append((component, variable, old, evse))
        if status == "Accepted":
            return True
        if required:
            why = "it needs a reboot to apply" if status == REBOOT else f"SetVariables {status}"
            pytest.skip(f"the station does not take {component}.{variable} = {value!r} ({why})")
        return False

    def _set(self, component: str, variable: str, value: str, evse: int | None) -> str:
        data = {
            "attributeValue": value,
            "component": _component(component, evse),
            "variable": _variable(variable),
        }
        answer = self.station.call("SetVariables", {"setVariableData": [data]})
        assert isinstance(answer, dict)
        results = answer.get("setVariableResult") or []
        if len(results) != 1:
            raise Finding(
                f"SetVariablesResponse has {len(results)} results for 1 SetVariableData",
                requirement="B05.FR.01",
                received=str(answer),
                expected="one SetVariableResult per SetVariableData",
            )
        return str(results[0].get("attributeStatus"))

    def restore(self) -> None:
        """Put every changed variable back, newest first; a station that is
        gone by now keeps what it has."""
        while self.changed:
            component, variable, old, evse = self.changed.pop()
            if not self.station.connected:
                continue
            with contextlib.suppress(Exception):
                self._set(component, variable, old, evse)


#: emulated seconds a station may take to react to a driver's action
REACT = 10.0


def present(act: Actions, token: dict[str, Any], evse: int = EVSE) -> float:
    """Present *token* at *evse*; returns when it was presented (monotonic), to
    compare with :attr:`Exchange.at`."""
    at = time.monotonic()
    act.present_token(id_token=token["idToken"], type=token["type"], evse=evse)
    return at


def expect_authorize(
    station: OcppStation, token: dict[str, Any], *, requirement: str = "C01.FR.02"
) -> Exchange:
    """The AuthorizeRequest for *token* (C01.FR.02)."""
    __tracebackhide__ = True
    return station.expect(
        "Authorize",
        lambda p: same_token(p["idToken"], token),
        within=within(station, REACT),
        requirement=requirement,
        expected=f"AuthorizeRequest with idToken {token['idToken']!r} type {token['type']}",
    )


# ---------------------------------------------------------------- stopping, offline, metering
#: MeasurandEnumType default: a sampledValue without measurand is this one
ENERGY_REGISTER = "Energy.Active.Import.Register"
#: emulated seconds for the CSMS to see the link drop after the network is cut
LINK_LOSS = 120.0
#: emulated seconds a station may take to dial in again once the network is
#: back: RetryBackOffWaitMinimum plus RetryBackOffRandomRange, doubled a few
#: times (Part 4 §5.4)
RECONNECT = 120.0


def charging_state(payload: dict[str, Any]) -> str | None:
    return payload.get("transactionInfo", {}).get("chargingState")


def start_energy_transfer(
    station: OcppStation, act: Actions, token: dict[str, Any] = VALID_TOKEN
) -> Tx:
    """State EnergyTransferStarted with the station's current settings: EV
    plugged in at EVSE 1 (Occupied), *token* presented, a TransactionEvent
    reporting chargingState Charging.  Returns the transaction, that event taken."""
    __tracebackhide__ = True
    tx = Tx(station, EVSE)
    act.plug(evse=EVSE, connector=CONNECTOR)
    expect_availability(station, "Occupied", within=within(station, REACT), requirement="G01.FR.01")
    present(act, token)
    tx.expect(
        where=lambda p: charging_state(p) == "Charging",
        within=within(station, REACT),
        requirement="E01.FR.18",
    )
    return tx


def sampled_values(payload: dict[str, Any], context: str | None = None) -> list[dict[str, Any]]:
    """Every sampledValue in the meterValue of a TransactionEvent (of *context*)."""
    return [
        s
        for mv in payload.get("meterValue", [])
        for s in mv.get("sampledValue", [])
        if context is None or s.get("context", "Sample.Periodic") == context
    ]


def measurands_of(samples: list[dict[str, Any]]) -> set[str]:
    return {s.get("measurand", ENERGY_REGISTER) for s in samples}


@contextlib.contextmanager
def offline_period(station: OcppStation, act: Actions) -> Iterator[None]:
    """The station's network is down inside the block (``act.go_offline``;
    the CSMS sees the link drop); on leaving, the network is back
    (``act.go_online``) and the station has dialled in again."""
    __tracebackhide__ = True
    act.go_offline()
    try:
        station.wait_disconnected(within(station, LINK_LOSS), requirement=None)
        yield
    finally:
        act.go_online()
    station.wait_connected(within(station, RECONNECT), requirement="Part 4 §5.4")


@contextlib.contextmanager
def local_list_entry(station: OcppStation, token: dict[str, Any], group: str) -> Iterator[None]:
    """*token* Accepted with groupIdToken *group* in the Local Authorization
    List (SendLocalList Differential, D01) inside the block, removed after it.
    A station without a usable list skips the test."""
    version = station.call("GetLocalListVersion", {})
    assert isinstance(version, dict)
    number = int(version.get("versionNumber", 0)) + 1
    entry = {
        "idToken": token,
        "idTokenInfo": {
            "status": "Accepted",
            "groupIdToken": {"idToken": group, "type": "Central"},
        },
    }
    answer = station.call(
        "SendLocalList",
        {"versionNumber": number, "updateType": "Differential", "localAuthorizationList": [entry]},
        allow_error=True,
    )
    status = answer.get("status") if isinstance(answer, dict) else answer.error_code
    if status != "Accepted":
        pytest.skip(f"the station does not take a Local Authorization List entry ({status})")
    try:
        yield
    finally:
        if station.connected:
            with contextlib.suppress(Exception):
                station.call(
                    "SendLocalList",
                    {
                        "versionNumber": number + 1,
                        "updateType": "Differential",
                        "localAuthorizationList": [{"idToken": token}],
                    },
                    allow_error=True,
                )


# ---------------------------------------------------------------- device model (B07)
#: requestIds of GetBaseReport/GetReport requests: distinct within a run
_REQUEST_IDS = itertools.count(int(time.time()) % 100_000 * 10)


def next_request_id() -> int:
    return next(_REQUEST_IDS)


def collect_report(
    station: OcppStation, request_id: int, *, requirement: str, wait: float = 60.0
) -> list[Exchange]:
    """The NotifyReportRequests of report *request_id*, up to the one with tbc false
    (B07.FR.03, B08.FR.04).  Each must come within *wait* emulated seconds."""
    __tracebackhide__ = True
    parts: list[Exchange] = []
    while True:
        part = station.expect(
            "NotifyReport",
            lambda p: p["requestId"] == request_id,
            within=within(station, wait),
            requirement=requirement,
            expected=f"NotifyReportRequest requestId {request_id}"
            + (f" after seqNo {parts[-1].payload['seqNo']} with tbc true" if parts else ""),
        )
        parts.append(part)
        if not part.payload.get("tbc", False) or len(parts) > 10_000:
            return parts


@dataclass(frozen=True)
class Reported:
    """One reportData element of a NotifyReportRequest (ReportDataType)."""

    item: dict[str, Any]

    @property
    def component(self) -> dict[str, Any]:
        return self.item["component"]

    @property
    def variable(self) -> dict[str, Any]:
        return self.item["variable"]

    @property
    def attributes(self) -> list[dict[str, Any]]:
        return self.item.get("variableAttribute", [])

    @property
    def characteristics(self) -> dict[str, Any] | None:
        return self.item.get("variableCharacteristics")

    @property
    def data_type(self) -> str | None:
        return (self.characteristics or {}).get("dataType")

    def attribute(self, kind: str = "Actual") -> dict[str, Any] | None:
        return next((a for a in self.attributes if a.get("type", "Actual") == kind), None)

    def types(self) -> list[str]:
        return [a.get("type", "Actual") for a in self.attributes]

    @staticmethod
    def mutability(attribute: dict[str, Any]) -> str:
        return attribute.get("mutability", "ReadWrite")  # schema default

    def label(self) -> str:
        c, v = self.component, self.variable
        ci = f"[{c['instance']}]" if c.get("instance") else ""
        vi = f"[{v['instance']}]" if v.get("instance") else ""
        evse = c.get("evse")
        where = ""
        if evse:
            where = f" (EVSE {evse['id']}"
            where += f" connector {evse['connectorId']})" if "connectorId" in evse else ")"
        return f"{c['name']}{ci}.{v['name']}{vi}{where}"

    def key(self) -> tuple[Any, ...]:
        return report_key(self.component, self.variable)

    def component_variable(self) -> dict[str, Any]:
        """``{"component": ..., "variable": ...}`` to address it in Get/SetVariables."""
        return {"component": dict(self.component), "variable": dict(self.variable)}


def report_key(component: dict[str, Any], variable: dict[str, Any]) -> tuple[Any, ...]:
    """Names and instances compare case-insensitively (Part 2 ComponentType/VariableType)."""
    evse = component.get("evse") or {}

    def fold(text: Any) -> Any:
        return text.casefold() if isinstance(text, str) and text else None

    return (
        fold(component.get("name")),
        fold(component.get("instance")),
        evse.get("id"),
        evse.get("connectorId"),
        fold(variable.get("name")),
        fold(variable.get("instance")),
    )


@dataclass
class Inventory:
    """A station's FullInventory report (B07.FR.08): what its device model holds."""

    items: list[Reported]

    def find(
        self,
        component: str,
        variable: str,
        *,
        instance: str | None = None,
        evse: int | None = None,
        connector: int | None = None,
    ) -> Reported | None:
        comp: dict[str, Any] = {"name": component}
        if evse is not None:
            comp["evse"] = {"id": evse, **({"connectorId": connector} if connector else {})}
        var: dict[str, Any] = {"name": variable, **({"instance": instance} if instance else {})}
        key = report_key(comp, var)
        return next((r for r in self.items if r.key() == key), None)

    def connectors(self) -> dict[int, list[int]]:
        """EVSE id -> its connector ids, from the EVSE and Connector components."""
        out: dict[int, set[int]] = {}
        for r in self.items:
            evse = r.component.get("evse") or {}
            if r.component["name"] in ("EVSE", "Connector") and "id" in evse:
                out.setdefault(evse["id"], set())
                if "connectorId" in evse:
                    out[evse["id"]].add(evse["connectorId"])
        return {e: sorted(c) or [1] for e, c in sorted(out.items())}


_INVENTORIES: weakref.WeakKeyDictionary[OcppStation, Inventory] = weakref.WeakKeyDictionary()


def inventory(station: OcppStation) -> Inventory:
    """The station's FullInventory (GetBaseReport, B07.FR.12), fetched once per run:
    the tests that need a variable of some kind look it up here instead of assuming
    one.  A station that cannot report it fails with the B07 requirement."""
    __tracebackhide__ = True
    cached = _INVENTORIES.get(station)
    if cached is not None:
        return cached
    request_id = next_request_id()
    answer = station.call(
        "GetBaseReport",
        {"requestId": request_id, "reportBase": "FullInventory"},
        requirement="B07.FR.12",
    )
    expect(
        answer.get("status") == "Accepted",
        f"GetBaseReport FullInventory answered {answer.get('status')}",
        requirement="B07.FR.12",
        received=json.dumps(answer),
        expected="status Accepted (every station supports FullInventory)",
    )
    parts = collect_report(station, request_id, requirement="B07.FR.03")
    items = [Reported(i) for p in parts for i in p.payload.get("reportData", [])]
    found = _INVENTORIES[station] = Inventory(items)
    return found


def connectors_of(station: OcppStation, evse: int | None = None) -> list[tuple[int, int]]:
    """(EVSE, connector) of every connector (of *evse*) the station reports."""
    layout = inventory(station).connectors()
    return [(e, c) for e, cs in layout.items() if evse in (None, e) for c in cs]


# ---------------------------------------------------------------- availability (G03/G04)
class AvailabilityChanges:
    """ChangeAvailabilityRequests of one test; what it made Inoperative is set
    Operative again afterwards (a real station keeps the setting, G03.FR.08)."""

    def __init__(self, station: OcppStation) -> None:
        self.station = station
        self.touched: list[tuple[int | None, int | None]] = []

    def change(
        self,
        status: str,
        *,
        evse: int | None = None,
        connector: int | None = None,
        requirement: str,
    ) -> dict[str, Any]:
        """Send ChangeAvailabilityRequest; returns the response payload."""
        scope = (evse, connector)
        answer = self.station.call(
            "ChangeAvailability", availability_request(status, evse, connector),
            requirement=requirement,
        )  # fmt: skip
        if status == "Inoperative" and scope not in self.touched:
            self.touched.append(scope)
        elif status == "Operative" and scope in self.touched:
            self.touched.remove(scope)
        return answer

    def restore(self) -> None:
        """Everything this test made Inoperative back to Operative; waits (briefly)
        for the connectors last reported Unavailable to be reported back."""
        station = self.station
        if not self.touched or not station.accepted:
            return
        start = time.monotonic()
        latest: dict[tuple[int | None, int | None], str] = {}
        for x in station.received():
            if x.action in AVAILABILITY:
                latest.update(((e, c), state) for e, c, state in availability_of(x.payload))
        down = {key for key, state in latest.items() if state == "Unavailable"}
        for evse, connector in reversed(self.touched):
            with contextlib.suppress(Exception):
                station.call(
                    "ChangeAvailability", availability_request("Operative", evse, connector),
                    allow_error=True,
                )  # fmt: skip
        self.touched.clear()

        def back() -> bool:
            seen = {
                (e, c)
                for x in station.received()
                if x.at >= start and x.action in AVAILABILITY
                for e, c, state in availability_of(x.payload)
                if state != "Unavailable"
            }
            return down <= seen

        with contextlib.suppress(Exception):
            station.wait_for(back, within=within(station, 10), what="reports", requirement=None)


def availability_request(status: str, evse: int | None, connector: int | None) -> dict[str, Any]:
    """ChangeAvailabilityRequest for the station (no *evse*), an EVSE or a connector."""
    payload: dict[str, Any] = {"operationalStatus": status}
    if evse is not None:
        payload["evse"] = {"id": evse, **({"connectorId": connector} if connector else {})}
    return payload


def forget_earlier(station: OcppStation) -> None:
    """Mark every message received so far as taken: later expects see only new ones
    (e.g. the reports after a reboot, not those before it)."""
    for exchange in station.received():
        exchange.taken = True


def reboot(station: OcppStation, act: Actions, *, boot_time: float = 60.0) -> None:
    """Power cycle the station; returns once it booted again and is Accepted.
    Messages from before the power cycle are no longer expected."""
    __tracebackhide__ = True
    forget_earlier(station)
    act.power_cycle()
    station.expect("BootNotification", within=within(station, boot_time), requirement="B01.FR.01")
    station.wait_for(
        lambda: station.accepted,
        within=within(station, boot_time),
        what="registration Accepted after the power cycle",
        requirement="B01.FR.01",
    )
    after_boot(station)


def after_boot(station: OcppStation, emulated: float = 10.0) -> None:
    """When the station booted during this test: wait (at most *emulated* s) for the
    availability reports it sends once it has taken the Accepted (B01.FR.05), so
    that what the test does next does not overtake its registration."""
    if not station.boots:
        return
    boot = station.boots[-1].at

    def reported() -> bool:
        return any(x.at > boot and x.action in AVAILABILITY for x in station.received())

    with contextlib.suppress(NoReply):
        station.wait_for(
            reported, within=within(station, emulated), what="reports after boot", requirement=None
        )


def reported_states(station: OcppStation, since: float) -> dict[tuple[int, int], str]:
    """(EVSE, connector) -> the last AvailabilityState reported for it since
    *since* (monotonic), through NotifyEvent or StatusNotification."""
    states: dict[tuple[int, int], str] = {}
    for exchange in station.received():
        if exchange.at < since or exchange.action not in AVAILABILITY:
            continue
        for evse, connector, state in availability_of(exchange.payload):
            if evse is not None and connector is not None:
                states[(evse, connector)] = state
    return states


def expect_connector_states(
    station: OcppStation,
    wanted: dict[tuple[int, int], str],
    *,
    since: float,
    within: float,
    requirement: str,
) -> None:
    """Every connector in *wanted* gets reported (since *since*) in its wanted
    AvailabilityState, as its latest report; several connectors may share one
    NotifyEventRequest.  Missing ones after *within* seconds are a finding."""
    __tracebackhide__ = True

    def done() -> bool:
        got = reported_states(station, since)
        return all(got.get(key) == state for key, state in wanted.items())

    try:
        station.wait_for(done, within=within, what="connector reports", requirement=requirement)
    except Finding:
        got = reported_states(station, since)
        wrong = {k: got.get(k, "nothing") for k, v in wanted.items() if got.get(k) != v}
        shown = ", ".join(f"EVSE {e} connector {c}: {s}" for (e, c), s in sorted(wrong.items()))
        raise Finding(
            f"connectors not reported as expected within {within:.1f} s ({shown})",
            requirement=requirement,
            expected=", ".join(
                f"EVSE {e} connector {c} {s}" for (e, c), s in sorted(wanted.items())
            ),
        ) from None


# ---------------------------------------------------------------- boot (B01-B03, B11, B12)
def boot_answers(
    *answers: tuple[str, int], clock_shift: float = 0.0
) -> Callable[[Any], dict[str, Any]]:
    """A BootNotification handler for ``station.csms.on``: the n-th boot gets the
    n-th (status, interval), later ones the last; currentTime is our clock plus
    *clock_shift* seconds."""
    queue = list(answers)

    def answer(call: Any) -> dict[str, Any]:
        status, interval = queue.pop(0) if len(queue) > 1 else queue[0]
        moment = datetime.now(UTC) + timedelta(seconds=clock_shift)
        current = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {"currentTime": current, "interval": interval, "status": status}

    return answer


def power_cycle(station: OcppStation, act: Actions) -> float:
    """Switch the station off and on; returns the moment (monotonic) before it.
    Messages from before it are no longer expected (:func:`forget_earlier`)."""
    forget_earlier(station)
    since = time.monotonic()
    act.power_cycle()
    return since


def expect_reboot(
    station: OcppStation, since: float, *, reason: str | None, boot_time: float = 60.0
) -> Exchange:
    """The BootNotificationRequest of a reboot that started at *since* (monotonic):
    on a new connection (B01.FR.03), with *reason* unless None (B01.FR.09).  A boot
    from before *since* (logged just after the test began) is passed over."""
    __tracebackhide__ = True
    while True:
        boot = station.expect(
            "BootNotification",
            within=within(station, boot_time),
            requirement="B01.FR.03",
            expected="BootNotificationRequest after the reboot",
        )
        if boot.at >= since:
            break
    reconnected = any(kind == "connected" for _, kind, _ in station.events_since(since))
    expect(
        reconnected,
        "the BootNotificationRequest came on the connection from before the reboot",
        requirement="B01.FR.03",
        received=boot.frame,
        expected="the station connects again after rebooting",
    )
    if reason is not None:
        expect(
            boot.payload.get("reason") == reason,
            f"BootNotificationRequest reason {boot.payload.get('reason')!r}",
            requirement="B01.FR.09",
            received=boot.frame,
            expected=f"reason {reason}",
        )
    return boot


def every_connector(station: OcppStation, state: str = "Available") -> dict[tuple[int, int], str]:
    """*state* for each connector the station reports in its inventory."""
    return dict.fromkeys(connectors_of(station), state)


def open_transactions(station: OcppStation) -> dict[str, Exchange]:
    """transactionId -> its latest TransactionEvent, for transactions this test
    saw start and not end."""
    latest: dict[str, Exchange] = {}
    for exchange in station.received("TransactionEvent"):
        info = exchange.payload.get("transactionInfo", {})
        if "transactionId" in info:
            latest[info["transactionId"]] = exchange
    return {t: e for t, e in latest.items() if e.payload.get("eventType") != "Ended"}


def _starting_token(station: OcppStation, transaction_id: str) -> dict[str, Any] | None:
    for exchange in station.received("TransactionEvent"):
        payload = exchange.payload
        same = payload.get("transactionInfo", {}).get("transactionId") == transaction_id
        if same and "idToken" in payload:
            return payload["idToken"]
    return None


def _last_states(station: OcppStation) -> dict[tuple[int, int], str]:
    states: dict[tuple[int, int], str] = {}
    for exchange in station.received("NotifyEvent") + station.received("StatusNotification"):
        for evse, connector, state in availability_of(exchange.payload):
            if evse is not None and connector is not None:
                states[(evse, connector)] = state
    return states


def _release_held_cables(station: OcppStation, act: Actions, undo: Actions) -> None:
    """A cable the EV left still locked in the connector (E09.FR.03, E10.FR.01)
    comes free when its driver presents the idToken again."""
    tokens = {a["evse"]: a for name, a in act.done if name == "present_token"}

    def held() -> list[int]:
        states = _last_states(station)
        return [e for (e, _c), state in states.items() if state == "Occupied" and e in tokens]

    with contextlib.suppress(NoReply):  # the Available report may still be on its way
        station.wait_for(lambda: not held(), within=quiet(station, 2), what="", requirement=None)
    for evse in held():
        token = tokens[evse]
        undo.present_token(id_token=token["id_token"], type=token["type"], evse=evse)
    station.wait_for(lambda: not held(), within=within(station, 10),
                     what="the cables released", requirement=None)  # fmt: skip


def back_to_idle(station: OcppStation, act: Actions, boot_time: float = 60.0) -> None:
    """Teardown after a test that acted on the station: network back, open
    transactions stopped as their driver would, cables out, lock failures and
    EV suspensions undone, so a real station is idle for the next test.  Best
    effort: a station that misbehaves here already failed the test that used it."""
    left = act.outstanding()
    if not act.done:
        return
    station.transcript.note("teardown: back to idle")
    undo = Actions(act.control, act.operator)
    try:
        if left["offline"] or not station.accepted:
            if left["offline"]:
                undo.go_online()
            station.wait_for(lambda: station.accepted, within=within(station, boot_time),
                             what="registration Accepted again", requirement=None)  # fmt: skip
        for transaction_id, exchange in open_transactions(station).items():
            evse = exchange.payload.get("evse", {}).get("id", EVSE)
            token = _starting_token(station, transaction_id)
            if token is not None and token.get("type") != "NoAuthorization":
                undo.present_token(id_token=token["idToken"], type=token["type"], evse=evse)
            else:
                undo.press_stop(evse=evse)
        for args in left["locks"]:
            undo.lock_failure(evse=args["evse"], connector=args["connector"], on=False)
        for args in left["suspended"]:
            undo.ev_resume(evse=args["evse"])
        for args in left["plugged"]:
            undo.unplug(evse=args["evse"], connector=args["connector"])
        station.wait_for(lambda: not open_transactions(station), within=within(station, 10),
                         what="the test's transactions ended", requirement=None)  # fmt: skip
        _release_held_cables(station, act, undo)
        # the reports these steps cause belong to this test, not the next one
        station.wait_quiet(max(0.1, station.seconds(0.5)), within(station, 5))
    except (Finding, DeviceUnreachable, FrameworkError) as exc:
        station.transcript.note(f"teardown could not make the station idle: {exc}")


def expect_since(
    station: OcppStation,
    action: str | tuple[str, ...],
    since: float,
    where: Callable[[dict[str, Any]], bool] | None = None,
    *,
    within: float,
    requirement: str | None = None,
    expected: str | None = None,
) -> Exchange:
    """:meth:`OcppStation.expect`, passing over messages received before *since*
    (monotonic): a message still being logged as :func:`forget_earlier` ran is
    not taken for one that came after."""
    __tracebackhide__ = True
    while True:
        exchange = station.expect(
            action, where, within=within, requirement=requirement, expected=expected
        )
        if exchange.at >= since:
            return exchange
