"""B05 Set Variables, B06 Get Variables and B07 Get Base Report (OCPP 2.1 Part 2
§B "Provisioning"; OCPP 2.0.1 Part 6 TC_B_06..TC_B_15, TC_B_32..TC_B_39, TC_B_53).

The variables used are ones Part 2 chapter "Referenced Components and Variables"
makes required (OCPPCommCtrlr.OfflineThreshold, MessageAttemptInterval
[TransactionEvent], DeviceDataCtrlr.ItemsPerMessage[GetVariables]...); anything
else (a variable with limits, a WriteOnly one, an unset attribute, the attribute
types a variable supports) is looked up in the station's own FullInventory report,
and a test skips when the station has no such variable.  Values a test changes are
put back afterwards.

Not tested here:

* B05.FR.11, B05.FR.13, B06.FR.05, B07.FR.14: CSMS-side requirements (this suite
  keeps to them: one item per variable, few items per request).
* B06.FR.16, B06.FR.17: optional behaviour (MAY answer a CALLERROR).
* B07.FR.11: needs a variable with attribute types besides Actual; none of the
  required variables has one, so a station may have none to check.
* B07.FR.13: "temporarily unable" cannot be brought about from the CSMS.
* B07.FR.15: deleted by the 2025-09 errata (covered by B07.FR.03).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from conformance.devices.ocpp import Exchange, OcppStation
from conformance.errors import Finding
from conformance.expect import expect
from suites.ocpp.common import (
    Inventory,
    Reported,
    inventory,
    next_request_id,
    quiet,
    report_key,
    within,
)

pytestmark = [pytest.mark.protocol("ocpp"), pytest.mark.feature("B Provisioning")]

UNKNOWN_COMPONENT = "ConformanceNoSuchComponent"
UNKNOWN_VARIABLE = "ConformanceNoSuchVariable"
OFFLINE_THRESHOLD = ("OCPPCommCtrlr", "OfflineThreshold", None)  # §2.1.9, required, RW
ATTEMPT_INTERVAL = ("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent")  # §2.1.12
ITEMS_GET_VARIABLES = ("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables")  # §2.1.18, RO
HEARTBEAT_INTERVAL = ("OCPPCommCtrlr", "HeartbeatInterval", None)  # §2.1.5, optional
#: required and writable in every station (Part 2 §2.1.9, §2.1.11, §2.1.12)
REQUIRED_WRITABLE = (
    OFFLINE_THRESHOLD,
    ATTEMPT_INTERVAL,
    ("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent"),
)
#: required in every station (Part 2 §2.1.3, §2.1.9, §2.1.17-§2.1.20)
REQUIRED = (
    OFFLINE_THRESHOLD,
    ("OCPPCommCtrlr", "MessageTimeout", "Default"),
    ("DeviceDataCtrlr", "ItemsPerMessage", "GetReport"),
    ITEMS_GET_VARIABLES,
    ("DeviceDataCtrlr", "BytesPerMessage", "GetReport"),
    ("DeviceDataCtrlr", "BytesPerMessage", "GetVariables"),
)
#: required on the ChargingStation, every EVSE and every Connector (Part 2 §2.15.1-2)
REQUIRED_PER_TIER = ("Available", "AvailabilityState")
LIST_TYPES = ("OptionList", "SequenceList", "MemberList")
#: emulated seconds a report may take to start or to continue
REPORT_WAIT = 30.0


# ---------------------------------------------------------------- helpers
def data(
    component: str,
    variable: str,
    instance: str | None = None,
    *,
    attribute: str | None = None,
    value: str | None = None,
    evse: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One GetVariableData (or SetVariableData with *value*)."""
    item: dict[str, Any] = {
        "component": {"name": component, **({"evse": evse} if evse else {})},
        "variable": {"name": variable, **({"instance": instance} if instance else {})},
    }
    if attribute is not None:
        item["attributeType"] = attribute
    if value is not None:
        item["attributeValue"] = value
    return item


def label(item: dict[str, Any]) -> str:
    return Reported(item).label()


def exchange(
    station: OcppStation, action: str, items: list[dict[str, Any]], requirement: str
) -> tuple[list[dict[str, Any]], str]:
    """Send Get/SetVariables; returns (results matched to *items* in order, the
    response as text).  One result per item (B0x.FR.01), each with the component
    and variable of its item (B0x.FR.02)."""
    __tracebackhide__ = True
    key = "getVariable" if action == "GetVariables" else "setVariable"
    fr = "B06" if action == "GetVariables" else "B05"
    answer = station.call(action, {f"{key}Data": items}, requirement=requirement)
    text = json.dumps(answer)
    results = list(answer.get(f"{key}Result", []))
    expect(
        len(results) == len(items),
        f"{action}Response has {len(results)} results for {len(items)} items",
        requirement=f"{fr}.FR.01",
        received=text,
        expected=f"one {key}Result per {key}Data ({len(items)})",
    )
    matched: list[dict[str, Any]] = []
    left = list(results)
    for item in items:
        want = report_key(item["component"], item["variable"])
        found = next(
            (r for r in left if report_key(r.get("component", {}), r.get("variable", {})) == want),
            None,
        )
        if found is None:
            raise Finding(
                f"no {key}Result for {label(item)}",
                requirement=f"{fr}.FR.02",
                received=text,
                expected=f"a result with component {item['component']} and variable "
                f"{item['variable']}",
            )
        left.remove(found)
        matched.append(found)
    return matched, text


def check_attribute_type(
    item: dict[str, Any], result: dict[str, Any], text: str, *, echo: str, default: str
) -> None:
    """The result's attributeType: the request's (*echo*, B05.FR.03/B06.FR.03) or
    Actual when the request had none (*default*, B05.FR.12/B06.FR.11)."""
    __tracebackhide__ = True
    want = item.get("attributeType", "Actual")
    expect(
        result.get("attributeType") == want,
        f"result for {label(item)} has attributeType {result.get('attributeType')!r}",
        requirement=echo if "attributeType" in item else default,
        received=text,
        expected=f"attributeType {want}"
        + ("" if "attributeType" in item else " (the request had none)"),
    )


def check_status(result: dict[str, Any], text: str, want: str, requirement: str) -> None:
    __tracebackhide__ = True
    expect(
        result.get("attributeStatus") == want,
        f"{label(result)} answered attributeStatus {result.get('attributeStatus')}",
        requirement=requirement,
        received=text,
        expected=f"attributeStatus {want}",
    )


def get_value(station: OcppStation, component: str, variable: str, instance: str | None) -> str:
    """The Actual value of a variable the spec makes required (B06)."""
    __tracebackhide__ = True
    item = data(component, variable, instance)
    (result,), text = exchange(station, "GetVariables", [item], "B06.FR.10")
    check_status(result, text, "Accepted", "B06.FR.10")
    return str(result.get("attributeValue", ""))


def other_integer(current: str, reported: Reported | None) -> str:
    """An integer value different from *current*, inside the reported limits."""
    try:
        n = int(current)
    except ValueError:
        n = 300
    high = (reported.characteristics or {}).get("maxLimit") if reported else None
    return str(n - 1 if high is not None and n + 1 > high else n + 1)


def find(inv: Inventory, cv: tuple[str, str, str | None]) -> Reported | None:
    return inv.find(cv[0], cv[1], instance=cv[2])


class Restore:
    """Values a test sets, put back (SetVariables) when it ends."""

    def __init__(self, station: OcppStation) -> None:
        self.station = station
        self.items: list[dict[str, Any]] = []

    def keep(self, cv: tuple[str, str, str | None], value: str) -> None:
        self.items.append(data(*cv, value=value))

    def run(self) -> None:
        if self.items and self.station.accepted:
            for item in reversed(self.items):
                with contextlib.suppress(Exception):
                    payload = {"setVariableData": [item]}
                    self.station.call("SetVariables", payload, allow_error=True)


@pytest.fixture
def restore(booted: OcppStation) -> Iterator[Restore]:
    keeper = Restore(booted)
    yield keeper
    keeper.run()


# ---------------------------------------------------------------- B05 Set Variables
@pytest.mark.story("B05 Set Variables")
@pytest.mark.requirement("B05.FR.01", "B05.FR.02", "B05.FR.10", "B05.FR.12")
def test_b05_fr_10_a_set_value_is_accepted_and_applied(
    booted: OcppStation, restore: Restore
) -> None:
    """SetVariables OfflineThreshold: Accepted, attributeType Actual, and the value
    is read back (TC_B_09_CS)."""
    station = booted
    old = get_value(station, *OFFLINE_THRESHOLD)
    new = other_integer(old, None)
    restore.keep(OFFLINE_THRESHOLD, old)
    item = data(*OFFLINE_THRESHOLD, value=new)
    (result,), text = exchange(station, "SetVariables", [item], "B05.FR.01")
    check_attribute_type(item, result, text, echo="B05.FR.03", default="B05.FR.12")
    check_status(result, text, "Accepted", "B05.FR.10")
    now = get_value(station, *OFFLINE_THRESHOLD)
    expect(
        now == new,
        f"OfflineThreshold reads {now!r} after it was set to {new!r} and Accepted",
        requirement="B05.FR.10",
        expected=f"GetVariables answers {new!r}",
    )


@pytest.mark.story("B05 Set Variables")
@pytest.mark.requirement("B05.FR.01", "B05.FR.02", "B05.FR.03", "B05.FR.04", "B05.FR.10",
                         "B05.FR.12")  # fmt: skip
def test_b05_fr_01_one_result_per_item(booted: OcppStation, restore: Restore) -> None:
    """Three SetVariableData (attributeType given, omitted, unknown component) get
    three matching results (TC_B_10_CS)."""
    station = booted
    threshold = get_value(station, *OFFLINE_THRESHOLD)
    interval = get_value(station, *ATTEMPT_INTERVAL)
    restore.keep(OFFLINE_THRESHOLD, threshold)
    restore.keep(ATTEMPT_INTERVAL, interval)
    items = [
        data(*OFFLINE_THRESHOLD, attribute="Actual", value=threshold),
        data(*ATTEMPT_INTERVAL, value=interval),
        data(UNKNOWN_COMPONENT, "OfflineThreshold", value="300"),
    ]
    results, text = exchange(station, "SetVariables", items, "B05.FR.01")
    for item, result in zip(items, results, strict=True):
        check_attribute_type(item, result, text, echo="B05.FR.03", default="B05.FR.12")
    check_status(results[0], text, "Accepted", "B05.FR.10")
    check_status(results[1], text, "Accepted", "B05.FR.10")
    check_status(results[2], text, "UnknownComponent", "B05.FR.04")


@pytest.mark.story("B05 Set Variables")
@pytest.mark.requirement("B05.FR.04")
def test_b05_fr_04_unknown_component_is_unknown_component(booted: OcppStation) -> None:
    """A component the station does not have: UnknownComponent (TC_B_35_CS)."""
    item = data(UNKNOWN_COMPONENT, "OfflineThreshold", value="300")
    (result,), text = exchange(booted, "SetVariables", [item], "B05.FR.01")
    check_status(result, text, "UnknownComponent", "B05.FR.04")


@pytest.mark.story("B05 Set Variables")
@pytest.mark.requirement("B05.FR.05")
def test_b05_fr_05_unknown_variable_is_unknown_variable(booted: OcppStation) -> None:
    """A variable OCPPCommCtrlr does not have: UnknownVariable (TC_B_36_CS)."""
    item = data("OCPPCommCtrlr", UNKNOWN_VARIABLE, value="300")
    (result,), text = exchange(booted, "SetVariables", [item], "B05.FR.01")
    check_status(result, text, "UnknownVariable", "B05.FR.05")


def unsupported_type(inv: Inventory, cv: tuple[str, str, str | None]) -> str:
    """An attribute type the station reports no support for on *cv*, else skip."""
    reported = find(inv, cv)
    if reported is None:
        pytest.skip(f"{'.'.join(x for x in cv if x)} is not in the FullInventory")
    missing = [t for t in ("Target", "MinSet", "MaxSet") if t not in reported.types()]
    if not missing:
        pytest.skip(f"{reported.label()} supports every attribute type")
    return missing[0]


@pytest.mark.story("B05 Set Variables")
@pytest.mark.requirement("B05.FR.03", "B05.FR.06")
def test_b05_fr_06_unsupported_attribute_type(booted: OcppStation, restore: Restore) -> None:
    """OfflineThreshold with an attribute type its FullInventory entry lacks:
    NotSupportedAttributeType, with that attributeType (TC_B_37_CS)."""
    station = booted
    kind = unsupported_type(inventory(station), OFFLINE_THRESHOLD)
    restore.keep(OFFLINE_THRESHOLD, get_value(station, *OFFLINE_THRESHOLD))
    item = data(*OFFLINE_THRESHOLD, attribute=kind, value="300")
    (result,), text = exchange(station, "SetVariables", [item], "B05.FR.01")
    check_attribute_type(item, result, text, echo="B05.FR.03", default="B05.FR.12")
    check_status(result, text, "NotSupportedAttributeType", "B05.FR.06")


@pytest.mark.story("B05 Set Variables")
@pytest.mark.requirement("B05.FR.07")
@pytest.mark.parametrize("value", ["abc", "12.5", "true", "2030-01-01T00:00:00Z"])
def test_b05_fr_07_badly_formatted_value_is_rejected(
    booted: OcppStation, restore: Restore, value: str
) -> None:
    """The integer OfflineThreshold set to a value that is no integer: Rejected
    (TC_B_11_CS)."""
    station = booted
    restore.keep(OFFLINE_THRESHOLD, get_value(station, *OFFLINE_THRESHOLD))
    item = data(*OFFLINE_THRESHOLD, value=value)
    (result,), text = exchange(station, "SetVariables", [item], "B05.FR.01")
    check_status(result, text, "Rejected", "B05.FR.07")


def ranged_variable(inv: Inventory) -> tuple[Reported, str]:
    """A writable numeric variable with a limit, and a value just beyond it."""
    for reported in inv.items:
        actual = reported.attribute("Actual")
        chars = reported.characteristics or {}
        if actual is None or Reported.mutability(actual) != "ReadWrite":
            continue
        if reported.data_type not in ("integer", "decimal") or reported.component.get("evse"):
            continue
        if chars.get("maxLimit") is not None:
            return reported, _number(chars["maxLimit"] + 1, reported.data_type)
        if chars.get("minLimit") is not None:
            return reported, _number(chars["minLimit"] - 1, reported.data_type)
    pytest.skip("the FullInventory has no writable numeric variable with minLimit/maxLimit")


def _number(n: float, data_type: str | None) -> str:
    return str(int(n)) if data_type == "integer" and float(n).is_integer() else f"{n:g}"


@pytest.mark.story("B05 Set Variables")
@pytest.mark.requirement("B05.FR.08")
def test_b05_fr_08_value_out_of_range_is_rejected(booted: OcppStation, restore: Restore) -> None:
    """A writable variable with a minLimit/maxLimit in its characteristics, set just
    beyond the limit: Rejected."""
    station = booted
    reported, beyond = ranged_variable(inventory(station))
    cv = reported.component_variable()
    now, _ = exchange(station, "GetVariables", [cv], "B06.FR.01")
    if now[0].get("attributeStatus") == "Accepted":
        restore.items.append({**cv, "attributeValue": now[0].get("attributeValue", "")})
    item = {**cv, "attributeValue": beyond}
    (result,), text = exchange(station, "SetVariables", [item], "B05.FR.01")
    limits = json.dumps(reported.characteristics)
    expect(
        result.get("attributeStatus") == "Rejected",
        f"{reported.label()} = {beyond} (characteristics {limits}) answered "
        f"{result.get('attributeStatus')}",
        requirement="B05.FR.08",
        received=text,
        expected="attributeStatus Rejected",
    )


@pytest.mark.story("B05 Set Variables")
@pytest.mark.requirement("B05.FR.09")
def test_b05_fr_09_read_only_variable_is_rejected(booted: OcppStation) -> None:
    """The ReadOnly ItemsPerMessage[GetVariables] set to its own value: Rejected
    (TC_B_39_CS)."""
    station = booted
    current = get_value(station, *ITEMS_GET_VARIABLES)
    item = data(*ITEMS_GET_VARIABLES, value=current)
    (result,), text = exchange(station, "SetVariables", [item], "B05.FR.01")
    check_status(result, text, "Rejected", "B05.FR.09")


@pytest.mark.story("B05 Set Variables")
@pytest.mark.requirement("B05.FR.10", "G02.FR.02")
def test_b05_fr_10_new_heartbeat_interval_takes_effect(
    booted: OcppStation, restore: Restore
) -> None:
    """HeartbeatInterval set to 10 s: Accepted, and heartbeats follow at that
    cadence."""
    station = booted
    item = data(*HEARTBEAT_INTERVAL)
    (before,), _ = exchange(station, "GetVariables", [item], "B06.FR.01")
    if before.get("attributeStatus") != "Accepted":
        pytest.skip("the station has no OCPPCommCtrlr.HeartbeatInterval (optional)")
    restore.keep(HEARTBEAT_INTERVAL, str(before.get("attributeValue", "")))
    interval = 10
    item = data(*HEARTBEAT_INTERVAL, value=str(interval))
    (result,), text = exchange(station, "SetVariables", [item], "B05.FR.01")
    check_status(result, text, "Accepted", "B05.FR.10")
    for _ in range(2):
        station.expect(
            "Heartbeat",
            within=within(station, interval),
            requirement="B05.FR.10",
            expected=f"a HeartbeatRequest every {interval} s after HeartbeatInterval was set",
        )


# ---------------------------------------------------------------- B06 Get Variables
@pytest.mark.story("B06 Get Variables")
@pytest.mark.requirement("B06.FR.01", "B06.FR.02", "B06.FR.03", "B06.FR.04", "B06.FR.10")
def test_b06_fr_10_get_returns_the_current_value(booted: OcppStation, restore: Restore) -> None:
    """GetVariables OfflineThreshold (attributeType Actual) after it was set: Accepted
    with that value (TC_B_06_CS)."""
    station = booted
    old = get_value(station, *OFFLINE_THRESHOLD)
    new = other_integer(old, None)
    restore.keep(OFFLINE_THRESHOLD, old)
    (done,), text = exchange(
        station, "SetVariables", [data(*OFFLINE_THRESHOLD, value=new)], "B05.FR.01"
    )
    check_status(done, text, "Accepted", "B05.FR.10")
    item = data(*OFFLINE_THRESHOLD, attribute="Actual")
    (result,), text = exchange(station, "GetVariables", [item], "B06.FR.01")
    check_attribute_type(item, result, text, echo="B06.FR.03", default="B06.FR.11")
    check_status(result, text, "Accepted", "B06.FR.10")
    expect(
        "attributeValue" in result,
        "Accepted result without attributeValue",
        requirement="B06.FR.04",
        received=text,
        expected="attributeValue of the requested attribute",
    )
    expect(
        result["attributeValue"] == new,
        f"OfflineThreshold answered {result['attributeValue']!r}",
        requirement="B06.FR.10",
        received=text,
        expected=f"the value set just before: {new!r}",
    )


@pytest.mark.story("B06 Get Variables")
@pytest.mark.requirement("B06.FR.01", "B06.FR.02", "B06.FR.03", "B06.FR.04", "B06.FR.06",
                         "B06.FR.10", "B06.FR.11")  # fmt: skip
def test_b06_fr_01_one_result_per_item(booted: OcppStation) -> None:
    """Three GetVariableData (attributeType given, omitted, unknown component) get
    three matching results (TC_B_07_CS)."""
    items = [
        data(*OFFLINE_THRESHOLD, attribute="Actual"),
        data(*ATTEMPT_INTERVAL),
        data(UNKNOWN_COMPONENT, "OfflineThreshold"),
    ]
    results, text = exchange(booted, "GetVariables", items, "B06.FR.01")
    for item, result in zip(items, results, strict=True):
        check_attribute_type(item, result, text, echo="B06.FR.03", default="B06.FR.11")
    for result in results[:2]:
        check_status(result, text, "Accepted", "B06.FR.10")
        expect(
            "attributeValue" in result,
            f"Accepted result for {label(result)} without attributeValue",
            requirement="B06.FR.04",
            received=text,
            expected="attributeValue",
        )
    check_status(results[2], text, "UnknownComponent", "B06.FR.06")


def check_unknown(result: dict[str, Any], text: str, want: str, requirement: str) -> None:
    __tracebackhide__ = True
    check_status(result, text, want, requirement)
    expect(
        "attributeValue" not in result,
        f"{want} result carries attributeValue {result.get('attributeValue')!r}",
        requirement=requirement,
        received=text,
        expected="no attributeValue",
    )


@pytest.mark.story("B06 Get Variables")
@pytest.mark.requirement("B06.FR.06")
def test_b06_fr_06_unknown_component_is_unknown_component(booted: OcppStation) -> None:
    """A component the station does not have: UnknownComponent, no attributeValue
    (TC_B_32_CS)."""
    item = data(UNKNOWN_COMPONENT, "OfflineThreshold")
    (result,), text = exchange(booted, "GetVariables", [item], "B06.FR.01")
    check_unknown(result, text, "UnknownComponent", "B06.FR.06")


@pytest.mark.story("B06 Get Variables")
@pytest.mark.requirement("B06.FR.07")
def test_b06_fr_07_unknown_variable_is_unknown_variable(booted: OcppStation) -> None:
    """A variable OCPPCommCtrlr does not have: UnknownVariable, no attributeValue
    (TC_B_33_CS)."""
    item = data("OCPPCommCtrlr", UNKNOWN_VARIABLE)
    (result,), text = exchange(booted, "GetVariables", [item], "B06.FR.01")
    check_unknown(result, text, "UnknownVariable", "B06.FR.07")


@pytest.mark.story("B06 Get Variables")
@pytest.mark.requirement("B06.FR.03", "B06.FR.08")
def test_b06_fr_08_unsupported_attribute_type(booted: OcppStation) -> None:
    """OfflineThreshold with an attribute type its FullInventory entry lacks:
    NotSupportedAttributeType, no attributeValue (TC_B_34_CS)."""
    station = booted
    kind = unsupported_type(inventory(station), OFFLINE_THRESHOLD)
    item = data(*OFFLINE_THRESHOLD, attribute=kind)
    (result,), text = exchange(station, "GetVariables", [item], "B06.FR.01")
    check_attribute_type(item, result, text, echo="B06.FR.03", default="B06.FR.11")
    check_unknown(result, text, "NotSupportedAttributeType", "B06.FR.08")


@pytest.mark.story("B06 Get Variables")
@pytest.mark.requirement("B06.FR.09")
def test_b06_fr_09_write_only_variable_is_rejected(booted: OcppStation) -> None:
    """A WriteOnly variable from the FullInventory: Rejected, its value not given."""
    station = booted
    found = [
        (r, a)
        for r in inventory(station).items
        for a in r.attributes
        if Reported.mutability(a) == "WriteOnly"
    ]
    if not found:
        pytest.skip("the FullInventory has no WriteOnly variable")
    reported, attribute = found[0]
    item = {**reported.component_variable(), "attributeType": attribute.get("type", "Actual")}
    (result,), text = exchange(station, "GetVariables", [item], "B06.FR.01")
    check_status(result, text, "Rejected", "B06.FR.09")
    expect(
        not result.get("attributeValue"),
        f"the value of WriteOnly {reported.label()} was given",
        requirement="B06.FR.09",
        received=text,
        expected="no attributeValue",
    )


@pytest.mark.story("B06 Get Variables")
@pytest.mark.requirement("B06.FR.13")
def test_b06_fr_13_unset_attribute_is_an_empty_string(booted: OcppStation) -> None:
    """An attribute the FullInventory reports without a value: Accepted with
    attributeValue "" (not left out)."""
    station = booted
    found = [
        (r, a)
        for r in inventory(station).items
        for a in r.attributes
        if Reported.mutability(a) != "WriteOnly" and not a.get("value")
    ]
    if not found:
        pytest.skip("the FullInventory has no readable attribute without a value")
    for reported, attribute in found[:5]:
        item = {**reported.component_variable(), "attributeType": attribute.get("type", "Actual")}
        (result,), text = exchange(station, "GetVariables", [item], "B06.FR.01")
        if result.get("attributeStatus") != "Accepted" or result.get("attributeValue"):
            continue  # set meanwhile (a measured value, or an earlier test)
        expect(
            result.get("attributeValue") == "",
            f"unset {reported.label()} answered without attributeValue",
            requirement="B06.FR.13",
            received=text,
            expected='attributeValue ""',
        )
        return
    pytest.skip("every attribute reported without a value has one by now")


@pytest.mark.story("B06 Get Variables")
@pytest.mark.requirement("B06.FR.02", "B06.FR.14", "B06.FR.15")
def test_b06_fr_14_instance_selects_the_variable(booted: OcppStation) -> None:
    """ItemsPerMessage[GetVariables] is answered for that instance; ItemsPerMessage
    without instance (the spec defines none) is UnknownVariable."""
    station = booted
    item = data(*ITEMS_GET_VARIABLES)
    answer = station.call("GetVariables", {"getVariableData": [item]}, requirement="B06.FR.01")
    text = json.dumps(answer)
    result = (answer.get("getVariableResult") or [{}])[0]
    expect(
        report_key(result.get("component", {}), result.get("variable", {}))
        == report_key(item["component"], item["variable"]),
        f"result for ItemsPerMessage[GetVariables] names {result.get('variable')}",
        requirement="B06.FR.14",
        received=text,
        expected='variable {"name": "ItemsPerMessage", "instance": "GetVariables"}',
    )
    check_status(result, text, "Accepted", "B06.FR.10")
    bare = data("DeviceDataCtrlr", "ItemsPerMessage")
    (result,), text = exchange(station, "GetVariables", [bare], "B06.FR.01")
    check_unknown(result, text, "UnknownVariable", "B06.FR.15")


# ---------------------------------------------------------------- B07 Get Base Report
def request_report(station: OcppStation, base: str) -> tuple[int, str]:
    request_id = next_request_id()
    answer = station.call(
        "GetBaseReport", {"requestId": request_id, "reportBase": base}, requirement="B07.FR.01"
    )
    return request_id, str(answer.get("status"))


def receive_report(station: OcppStation, request_id: int) -> list[Exchange]:
    """Every NotifyReportRequest up to tbc false: requestId of the request (B07.FR.04),
    seqNo 0, 1, 2... (B07.FR.10)."""
    __tracebackhide__ = True
    parts: list[Exchange] = []
    while True:
        seq = len(parts)
        part = station.expect(
            "NotifyReport",
            within=within(station, REPORT_WAIT),
            requirement="B07.FR.03",
            expected=f"NotifyReportRequest seqNo {seq}"
            + (" (the one before said tbc true)" if parts else " after GetBaseReport Accepted"),
        )
        p = part.payload
        expect(
            p["requestId"] == request_id,
            f"NotifyReportRequest has requestId {p['requestId']}",
            requirement="B07.FR.04",
            received=part.frame,
            expected=f"requestId {request_id} of the GetBaseReportRequest",
        )
        expect(
            p["seqNo"] == seq,
            f"NotifyReportRequest number {seq + 1} of the report has seqNo {p['seqNo']}",
            requirement="B07.FR.10",
            received=part.frame,
            expected=f"seqNo {seq} (0 for the first part, then +1)",
        )
        parts.append(part)
        if not p.get("tbc", False):
            return parts


def report_items(parts: list[Exchange]) -> list[tuple[Reported, Exchange]]:
    return [(Reported(i), part) for part in parts for i in part.payload.get("reportData", [])]


def check_items(items: list[tuple[Reported, Exchange]], requirement: str) -> None:
    """WriteOnly values left out (B07.FR.03); characteristics present, with a
    valuesList for list types that holds the values (*requirement*; TC_B_53_CS)."""
    __tracebackhide__ = True
    for reported, part in items:
        for attribute in reported.attributes:
            expect(
                not (Reported.mutability(attribute) == "WriteOnly" and "value" in attribute),
                f"the value of WriteOnly {reported.label()} is reported",
                requirement="B07.FR.03",
                received=part.frame,
                expected="WriteOnly variables without value",
            )
        chars = reported.characteristics
        expect(
            chars is not None,
            f"{reported.label()} is reported without variableCharacteristics",
            requirement=requirement,
            received=part.frame,
            expected="variableCharacteristics for every component-variable",
        )
        assert chars is not None
        if chars.get("dataType") not in LIST_TYPES:
            continue
        allowed = [v.strip() for v in str(chars.get("valuesList", "")).split(",") if v.strip()]
        expect(
            bool(allowed),
            f"{reported.label()} ({chars.get('dataType')}) has no valuesList",
            requirement=requirement,
            received=part.frame,
            expected="a valuesList for OptionList, SequenceList and MemberList",
        )
        for attribute in reported.attributes:
            value = attribute.get("value")
            if not value:
                continue
            members = [value] if chars["dataType"] == "OptionList" else value.split(",")
            wrong = [m for m in members if m.strip() not in allowed]
            expect(
                not wrong,
                f"{reported.label()} = {value!r} is outside its valuesList {allowed}",
                requirement=requirement,
                received=part.frame,
                expected="values from the valuesList",
            )


def check_present(
    items: list[tuple[Reported, Exchange]],
    wanted: list[tuple[str, str, str | None, dict[str, Any] | None]],
    requirement: str,
    what: str,
) -> None:
    __tracebackhide__ = True
    keys = {r.key() for r, _ in items}
    missing = []
    for component, variable, instance, evse in wanted:
        comp = {"name": component, **({"evse": evse} if evse else {})}
        var = {"name": variable, **({"instance": instance} if instance else {})}
        if report_key(comp, var) not in keys:
            missing.append(Reported({"component": comp, "variable": var}).label())
    expect(
        not missing,
        f"the report lacks {', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}",
        requirement=requirement,
        expected=what,
    )


def tiers(items: list[tuple[Reported, Exchange]]) -> list[dict[str, Any] | None]:
    """None for the ChargingStation, then the evse of every EVSE and Connector reported."""
    found: dict[tuple[int, int | None], dict[str, Any]] = {}
    for reported, _ in items:
        evse = reported.component.get("evse")
        if reported.component["name"] in ("EVSE", "Connector") and evse:
            found[(evse["id"], evse.get("connectorId"))] = evse
    return [None, *found.values()]


def tier_component(evse: dict[str, Any] | None) -> str:
    if evse is None:
        return "ChargingStation"
    return "Connector" if "connectorId" in evse else "EVSE"


@pytest.mark.story("B07 Get Base Report")
@pytest.mark.requirement("B07.FR.01", "B07.FR.03", "B07.FR.04", "B07.FR.07", "B07.FR.10",
                         "B07.FR.12")  # fmt: skip
def test_b07_fr_07_configuration_inventory(booted: OcppStation) -> None:
    """ConfigurationInventory: Accepted, then NotifyReports of the report (same
    requestId, seqNo from 0) with only settable variables and their characteristics,
    the required writable ones among them (TC_B_12_CS)."""
    station = booted
    request_id, status = request_report(station, "ConfigurationInventory")
    expect(
        status == "Accepted",
        f"GetBaseReport ConfigurationInventory answered {status}",
        requirement="B07.FR.12",
        expected="Accepted (a base report every station supports)",
    )
    items = report_items(receive_report(station, request_id))
    check_items(items, "B07.FR.07")
    for reported, part in items:
        expect(
            any(Reported.mutability(a) != "ReadOnly" for a in reported.attributes),
            f"ReadOnly {reported.label()} is in the ConfigurationInventory",
            requirement="B07.FR.07",
            received=part.frame,
            expected="only component-variables that can be set (ReadWrite or WriteOnly)",
        )
    check_present(items, [(*cv, None) for cv in REQUIRED_WRITABLE], "B07.FR.07",
                  "every required writable variable of Part 2 §2.1")  # fmt: skip


@pytest.mark.story("B07 Get Base Report")
@pytest.mark.requirement("B07.FR.01", "B07.FR.03", "B07.FR.04", "B07.FR.08", "B07.FR.10",
                         "B07.FR.12")  # fmt: skip
def test_b07_fr_08_full_inventory(booted: OcppStation) -> None:
    """FullInventory: Accepted, then NotifyReports with every component-variable and
    its characteristics, the required ones among them (TC_B_13_CS, TC_B_53_CS)."""
    station = booted
    request_id, status = request_report(station, "FullInventory")
    expect(
        status == "Accepted",
        f"GetBaseReport FullInventory answered {status}",
        requirement="B07.FR.12",
        expected="Accepted (a base report every station supports)",
    )
    items = report_items(receive_report(station, request_id))
    check_items(items, "B07.FR.08")
    found = tiers(items)
    expect(
        len(found) > 1,
        "the FullInventory reports no EVSE or Connector component",
        requirement="B07.FR.08",
        expected="EVSE and Connector components (Part 2 §2.15)",
    )
    wanted = [(*cv, None) for cv in REQUIRED]
    wanted += [(tier_component(e), v, None, e) for e in found for v in REQUIRED_PER_TIER]
    check_present(items, wanted, "B07.FR.08",
                  "the required variables of Part 2 §2.1 and §2.15")  # fmt: skip


@pytest.mark.story("B07 Get Base Report")
@pytest.mark.requirement("B07.FR.01", "B07.FR.02", "B07.FR.03", "B07.FR.04", "B07.FR.05",
                         "B07.FR.09", "B07.FR.10")  # fmt: skip
def test_b07_fr_09_summary_inventory(booted: OcppStation) -> None:
    """SummaryInventory (optional): if Accepted, a report with the AvailabilityState of
    the station and of every EVSE (TC_B_14_CS); if NotSupported, no NotifyReport
    (TC_B_15_CS)."""
    station = booted
    evses = sorted(inventory(station).connectors())
    request_id, status = request_report(station, "SummaryInventory")
    expect(status in ("Accepted", "NotSupported", "Rejected"), f"answered {status}",
           requirement="B07.FR.01", expected="Accepted or NotSupported")  # fmt: skip
    if status == "NotSupported":
        station.expect_none(
            "NotifyReport",
            within=quiet(station),
            requirement="B07.FR.05",
            expected="no NotifyReportRequest after GetBaseReport NotSupported",
        )
        return
    if status == "Rejected":
        pytest.skip("the station is temporarily unable to report (B07.FR.13)")
    items = report_items(receive_report(station, request_id))
    check_items(items, "B07.FR.09")
    wanted: list[tuple[str, str, str | None, dict[str, Any] | None]] = [
        ("ChargingStation", "AvailabilityState", None, None)
    ]
    wanted += [("EVSE", "AvailabilityState", None, {"id": e}) for e in evses]
    check_present(items, wanted, "B07.FR.09",
                  "AvailabilityState of the ChargingStation and of every EVSE")  # fmt: skip
