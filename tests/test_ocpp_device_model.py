"""The OCPP 2.1 device model: B05 Set Variables, B06 Get Variables, B07 Get Base Report.

Every result list is checked against the official OCPP 2.1 JSON schemas shipped in
the ``ocpp`` package.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from typing import Any

import pytest
from jsonschema import Draft6Validator

from conformance.ocpp.device_model import (
    ATTRIBUTE_TYPES,
    DATA_TYPES,
    REPORT_BASES,
    VARIABLES,
    DeviceModel,
    VariableDef,
    chunk_report,
    notify_report_requests,
    validate_value,
)

# Component-variables marked "yes" in the Required? column of dm_components_vars.csv
# (OCPP 2.1 appendices CSV v2.0) for the components this station implements, plus the
# ones Part 2/Part 4 mark required where the CSV says "no" (Part 2 §2.1.1, §2.3.9;
# Part 4 §8.1-§8.4).
CSV_REQUIRED = [
    ("AlignedDataCtrlr", "Interval", None),
    ("AlignedDataCtrlr", "Measurands", None),
    ("AlignedDataCtrlr", "TxEndedInterval", None),
    ("AlignedDataCtrlr", "TxEndedMeasurands", None),
    ("AuthCtrlr", "AuthorizeRemoteStart", None),
    ("AuthCtrlr", "LocalAuthorizeOffline", None),
    ("AuthCtrlr", "LocalPreAuthorize", None),
    ("ChargingStation", "AvailabilityState", None),
    ("ChargingStation", "Available", None),
    ("ChargingStation", "SupplyPhases", None),
    ("ClockCtrlr", "DateTime", None),
    ("ClockCtrlr", "TimeSource", None),
    ("DeviceDataCtrlr", "BytesPerMessage", "GetReport"),
    ("DeviceDataCtrlr", "BytesPerMessage", "GetVariables"),
    ("DeviceDataCtrlr", "BytesPerMessage", "SetVariables"),
    ("DeviceDataCtrlr", "ItemsPerMessage", "GetReport"),
    ("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables"),
    ("DeviceDataCtrlr", "ItemsPerMessage", "SetVariables"),
    ("LocalAuthListCtrlr", "BytesPerMessage", None),
    ("LocalAuthListCtrlr", "Entries", None),
    ("LocalAuthListCtrlr", "ItemsPerMessage", None),
    ("MonitoringCtrlr", "BytesPerMessage", "SetVariableMonitoring"),
    ("MonitoringCtrlr", "ItemsPerMessage", "SetVariableMonitoring"),
    ("OCPPCommCtrlr", "FileTransferProtocols", None),
    ("OCPPCommCtrlr", "MessageTimeout", "Default"),
    ("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent"),
    ("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent"),
    ("OCPPCommCtrlr", "NetworkConfigurationPriority", None),
    ("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", None),
    ("OCPPCommCtrlr", "OfflineThreshold", None),
    ("OCPPCommCtrlr", "ResetRetries", None),
    ("OCPPCommCtrlr", "UnlockOnEVSideDisconnect", None),
    ("SampledDataCtrlr", "TxEndedInterval", None),
    ("SampledDataCtrlr", "TxEndedMeasurands", None),
    ("SampledDataCtrlr", "TxStartedMeasurands", None),
    ("SampledDataCtrlr", "TxUpdatedInterval", None),
    ("SampledDataCtrlr", "TxUpdatedMeasurands", None),
    ("SecurityCtrlr", "CertificateEntries", None),
    ("SecurityCtrlr", "OrganizationName", None),
    ("SecurityCtrlr", "SecurityProfile", None),
    ("TxCtrlr", "EVConnectionTimeOut", None),
    ("TxCtrlr", "StopTxOnEVSideDisconnect", None),
    ("TxCtrlr", "StopTxOnInvalidId", None),
    ("TxCtrlr", "TxStartPoint", None),
    ("TxCtrlr", "TxStopPoint", None),
    ("OCPPCommCtrlr", "ActiveNetworkProfile", None),
    ("AuthCtrlr", "SupportedIdTokenTypes", None),
    ("OCPPCommCtrlr", "RetryBackOffRepeatTimes", None),
    ("OCPPCommCtrlr", "RetryBackOffRandomRange", None),
    ("OCPPCommCtrlr", "RetryBackOffWaitMinimum", None),
    ("OCPPCommCtrlr", "WebSocketPingInterval", None),
]
PER_EVSE_REQUIRED = [
    ("EVSE", v) for v in ("AvailabilityState", "Available", "Power", "SupplyPhases")
]
PER_CONNECTOR_REQUIRED = [
    ("Connector", v) for v in ("Available", "ConnectorType", "SupplyPhases", "AvailabilityState")
]
# Variables the B, C, E, G, J and N use cases consult.
USE_CASE_VARIABLES = [
    ("OCPPCommCtrlr", "HeartbeatInterval", None),
    ("OCPPCommCtrlr", "QueueAllMessages", None),
    ("AuthCtrlr", "Enabled", None),
    ("AuthCtrlr", "OfflineTxForUnknownIdEnabled", None),
    ("AuthCacheCtrlr", "Enabled", None),
    ("AuthCacheCtrlr", "LifeTime", None),
    ("AuthCacheCtrlr", "Policy", None),
    ("LocalAuthListCtrlr", "Enabled", None),
    ("TxCtrlr", "MaxEnergyOnInvalidId", None),
    ("TxCtrlr", "TxBeforeAcceptedEnabled", None),
    ("SampledDataCtrlr", "RegisterValuesWithoutPhases", None),
    ("AlignedDataCtrlr", "SendDuringIdle", None),
    ("MonitoringCtrlr", "Enabled", None),
    ("MonitoringCtrlr", "OfflineQueuingSeverity", None),
    ("ChargingStation", "Model", None),
    ("ChargingStation", "VendorName", None),
    ("SecurityCtrlr", "BasicAuthPassword", None),
    ("SecurityCtrlr", "Identity", None),
]

URL = "wss://csms.example/ocpp"
PASSWORD = "0123456789abcdef0123456789abcdef"


@cache
def _validator(name: str) -> Draft6Validator:
    text = (files("ocpp") / "v21" / "schemas" / f"{name}.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    schema.pop("$id", None)
    return Draft6Validator(schema, format_checker=Draft6Validator.FORMAT_CHECKER)


def assert_schema(name: str, payload: dict[str, Any]) -> None:
    errors = sorted(_validator(name).iter_errors(payload), key=str)
    assert not errors, f"{name}: {[e.message for e in errors[:5]]}"


def get(dm: DeviceModel, *items: dict[str, Any]) -> list[dict[str, Any]]:
    results = dm.get_variables(list(items))
    assert_schema("GetVariablesResponse", {"getVariableResult": results})
    assert len(results) == len(items)  # B06.FR.01
    return results


def put(dm: DeviceModel, *items: dict[str, Any]) -> list[dict[str, Any]]:
    results = dm.set_variables(list(items))
    assert_schema("SetVariablesResponse", {"setVariableResult": results})
    assert len(results) == len(items)  # B05.FR.01
    return results


def cv(
    component: str,
    variable: str,
    *,
    evse: int | None = None,
    connector: int | None = None,
    ci: str | None = None,
    vi: str | None = None,
    attr: str | None = None,
    value: str | None = None,
) -> dict[str, Any]:
    comp: dict[str, Any] = {"name": component}
    if ci is not None:
        comp["instance"] = ci
    if evse is not None:
        comp["evse"] = {"id": evse} if connector is None else {"id": evse, "connectorId": connector}
    var: dict[str, Any] = {"name": variable}
    if vi is not None:
        var["instance"] = vi
    item: dict[str, Any] = {"component": comp, "variable": var}
    if attr is not None:
        item["attributeType"] = attr
    if value is not None:
        item["attributeValue"] = value
    return item


def status(dm: DeviceModel, component: str, variable: str, value: str, **kw: Any) -> str:
    return put(dm, cv(component, variable, value=value, **kw))[0]["attributeStatus"]


@pytest.fixture
def dm() -> DeviceModel:
    return DeviceModel(
        {1: 2, 2: 1},
        overrides={("NetworkConfiguration[0]", "OcppCsmsUrl"): URL},
        vendor="ACME",
        model="Box",
    )


FAN = (
    VariableDef(
        "Fan",
        "Speed",
        "integer",
        "ReadOnly",
        "0",
        unit="rpm",
        min=0,
        max=1000,
        attributes=ATTRIBUTE_TYPES,
        attribute_mutability=(
            ("Target", "ReadWrite"),
            ("MinSet", "ReadWrite"),
            ("MaxSet", "ReadWrite"),
        ),
    ),
)


@pytest.fixture
def fan() -> DeviceModel:
    """Part 1 §3.3's fan example: Actual read-only, Target/MinSet/MaxSet writable."""
    return DeviceModel({1: 1}, variables=VARIABLES + FAN)


# -- the table ------------------------------------------------------------------------


def test_table_rows_are_well_formed() -> None:
    seen = set()
    for d in VARIABLES:
        assert d.data_type in DATA_TYPES
        assert len(d.component) <= 50 and len(d.variable) <= 50
        key = (d.component, d.variable, d.instance)
        assert key not in seen, key
        seen.add(key)
        if d.default is not None and d.values_list:
            assert validate_value(d, d.default) == d.default, d.shortcut
        if d.data_type in ("OptionList", "MemberList") and d.per == "station":
            assert d.values_list, d.shortcut
        assert len(",".join(d.values_list)) <= 1000  # valuesList maxLength


def test_defaults_are_valid_values(dm: DeviceModel) -> None:
    for d in VARIABLES:
        where = _first(dm, d)
        value = dm.get(d.component, d.variable, instance=d.instance, **where)
        if value is not None:
            effective = dm.definition(d.component, d.variable, instance=d.instance, **where)
            assert validate_value(effective, value) == value, d.shortcut


def _first(dm: DeviceModel, d: VariableDef) -> dict[str, Any]:
    if d.per == "evse":
        return {"evse": 1}
    if d.per == "connector":
        return {"evse": 1, "connector": 1}
    if d.per == "slot":
        return {"component_instance": dm.network_slots[0]}
    return {}


@pytest.mark.parametrize(("component", "variable", "instance"), CSV_REQUIRED + USE_CASE_VARIABLES)
def test_station_variables_present(
    dm: DeviceModel, component: str, variable: str, instance: str | None
) -> None:
    assert dm.has(component, variable, instance=instance)


def test_required_rows_flagged() -> None:
    flagged = {(d.component, d.variable, d.instance) for d in VARIABLES if d.required}
    assert set(CSV_REQUIRED) <= flagged


def test_per_evse_and_connector_required_present(dm: DeviceModel) -> None:
    for evse, count in dm.evses.items():
        for component, variable in PER_EVSE_REQUIRED:
            assert dm.has(component, variable, evse=evse)
        for connector in range(1, count + 1):
            for component, variable in PER_CONNECTOR_REQUIRED:
                assert dm.has(component, variable, evse=evse, connector=connector)
    assert not dm.has("EVSE", "Power", evse=3)
    assert not dm.has("Connector", "ConnectorType", evse=2, connector=2)
    assert not dm.has("EVSE", "Power")


def test_network_configuration_per_slot(dm: DeviceModel) -> None:
    """B09.FR.06/B09.FR.08: one NetworkConfiguration instance per slot, in the report."""
    for slot in ("0", "1"):
        assert dm.has("NetworkConfiguration", "OcppCsmsUrl", component_instance=slot)
    d = dm.definition("OCPPCommCtrlr", "NetworkConfigurationPriority")
    assert d.values_list == ("0", "1") and d.data_type == "SequenceList"
    assert dm.get("OCPPCommCtrlr", "NetworkConfigurationPriority") == "0"
    slots = {
        r["component"].get("instance")
        for r in dm.report("FullInventory")
        if r["component"]["name"] == "NetworkConfiguration"
    }
    assert slots == {"0", "1"}


def test_writeonly_and_vendor() -> None:
    dm = DeviceModel({1: 1}, vendor="V", model="M")
    assert dm.definition("SecurityCtrlr", "BasicAuthPassword").mutability == "WriteOnly"
    assert dm.get("ChargingStation", "VendorName") == "V"
    assert dm.get("ChargingStation", "Model") == "M"


# -- B06 Get Variables ----------------------------------------------------------------


def test_get_accepted_echoes_and_defaults_attribute_type(dm: DeviceModel) -> None:
    item = cv("OCPPCommCtrlr", "HeartbeatInterval")
    (result,) = get(dm, item)
    assert result == {
        "attributeType": "Actual",  # B06.FR.11
        "attributeStatus": "Accepted",  # B06.FR.10
        "attributeValue": "300",  # B06.FR.04
        "component": item["component"],  # B06.FR.02
        "variable": item["variable"],
    }


def test_get_echoes_attribute_type_and_evse(dm: DeviceModel) -> None:
    item = cv("Connector", "ConnectorType", evse=1, connector=2, attr="Actual")
    (result,) = get(dm, item)
    assert result["attributeType"] == "Actual"  # B06.FR.03
    assert result["component"] == {"name": "Connector", "evse": {"id": 1, "connectorId": 2}}
    assert result["attributeValue"] == "cType2"


def test_get_names_are_case_insensitive(dm: DeviceModel) -> None:
    (result,) = get(dm, cv("ocppcommctrlr", "HEARTBEATINTERVAL"))
    assert result["attributeStatus"] == "Accepted"
    assert result["component"] == {"name": "ocppcommctrlr"}


@pytest.mark.parametrize(
    "item",
    [
        cv("NoSuchCtrlr", "Enabled"),
        cv("EVSE", "Power", evse=9),
        cv("EVSE", "Power"),  # the EVSE component has an evse
        cv("EVSE", "Power", evse=1, connector=1),
        cv("Connector", "ConnectorType", evse=1),  # no connectorId
        cv("Connector", "ConnectorType", evse=2, connector=2),
        cv("OCPPCommCtrlr", "HeartbeatInterval", evse=1),
        cv("NetworkConfiguration", "OcppCsmsUrl"),  # B06.FR.15: instance required
        cv("NetworkConfiguration", "OcppCsmsUrl", ci="7"),
    ],
)
def test_get_unknown_component(dm: DeviceModel, item: dict[str, Any]) -> None:
    (result,) = get(dm, item)
    assert result["attributeStatus"] == "UnknownComponent"  # B06.FR.06
    assert "attributeValue" not in result


@pytest.mark.parametrize(
    "item",
    [
        cv("OCPPCommCtrlr", "NoSuchVariable"),
        cv("DeviceDataCtrlr", "ItemsPerMessage"),  # B06.FR.15: only instances exist
        cv("DeviceDataCtrlr", "ItemsPerMessage", vi=""),
        cv("DeviceDataCtrlr", "ItemsPerMessage", vi="NoSuchMessage"),
        cv("OCPPCommCtrlr", "HeartbeatInterval", vi="Extra"),
        cv("EVSE", "ConnectorType", evse=1),
    ],
)
def test_get_unknown_variable(dm: DeviceModel, item: dict[str, Any]) -> None:
    (result,) = get(dm, item)
    assert result["attributeStatus"] == "UnknownVariable"  # B06.FR.07
    assert "attributeValue" not in result


def test_get_variable_instances(dm: DeviceModel) -> None:
    """B06.FR.14: the named variable instance is returned."""
    results = get(
        dm,
        cv("DeviceDataCtrlr", "ItemsPerMessage", vi="GetReport"),
        cv("DeviceDataCtrlr", "ItemsPerMessage", vi="getvariables"),
        cv("OCPPCommCtrlr", "MessageAttempts", vi="TransactionEvent"),
        cv("NetworkConfiguration", "OcppCsmsUrl", ci="0"),
        cv("NetworkConfiguration", "OcppCsmsUrl", ci="1"),
    )
    assert [r["attributeValue"] for r in results] == ["100", "50", "3", URL, ""]
    assert results[1]["variable"] == {"name": "ItemsPerMessage", "instance": "getvariables"}


def test_get_not_supported_attribute(dm: DeviceModel) -> None:
    for attr in ("Target", "MinSet", "MaxSet"):
        (result,) = get(dm, cv("EVSE", "Power", evse=1, attr=attr))
        assert result["attributeStatus"] == "NotSupportedAttributeType"  # B06.FR.08
        assert result["attributeType"] == attr and "attributeValue" not in result


def test_get_write_only_rejected(dm: DeviceModel) -> None:
    dm.set("SecurityCtrlr", "BasicAuthPassword", PASSWORD)
    results = get(
        dm,
        cv("SecurityCtrlr", "BasicAuthPassword"),
        cv("NetworkConfiguration", "BasicAuthPassword", ci="0"),
    )
    for result in results:
        assert result["attributeStatus"] == "Rejected"  # B06.FR.09
        assert "attributeValue" not in result
        assert result["attributeStatusInfo"] == {"reasonCode": "WriteOnly"}
    assert dm.get("SecurityCtrlr", "BasicAuthPassword") == PASSWORD  # station side reads it


def test_get_unset_attribute_is_empty_string(dm: DeviceModel, fan: DeviceModel) -> None:
    """B06.FR.13: supported but unset -> Accepted with ""."""
    (result,) = get(fan, cv("Fan", "Speed", attr="Target"))
    assert result["attributeStatus"] == "Accepted" and result["attributeValue"] == ""
    (result,) = get(dm, cv("SecurityCtrlr", "OrganizationName"))
    assert result["attributeStatus"] == "Accepted" and result["attributeValue"] == ""


def test_get_date_time_is_live() -> None:
    moment = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    dm = DeviceModel({1: 1}, clock=lambda: moment)
    (result,) = get(dm, cv("ClockCtrlr", "DateTime"))
    assert result["attributeValue"] == "2030-01-02T03:04:05.678Z"


def test_get_value_cut_to_reporting_value_size() -> None:
    dm = DeviceModel({1: 1}, overrides={("DeviceDataCtrlr", "ReportingValueSize"): "5"})
    dm.set("SecurityCtrlr", "OrganizationName", "Example Organisation")
    (result,) = get(dm, cv("SecurityCtrlr", "OrganizationName"))
    assert result["attributeValue"] == "Examp"


def test_get_many_mixed(dm: DeviceModel) -> None:
    items = [
        cv("OCPPCommCtrlr", "OfflineThreshold"),
        cv("Nope", "Nope"),
        cv("TxCtrlr", "Nope"),
        cv("TxCtrlr", "TxStartPoint", attr="MaxSet"),
        cv("SecurityCtrlr", "BasicAuthPassword"),
    ]
    statuses = [r["attributeStatus"] for r in get(dm, *items)]
    assert statuses == [
        "Accepted",
        "UnknownComponent",
        "UnknownVariable",
        "NotSupportedAttributeType",
        "Rejected",
    ]


# -- B05 Set Variables ----------------------------------------------------------------


def test_set_accepted_applies_and_echoes(dm: DeviceModel) -> None:
    item = cv("OCPPCommCtrlr", "HeartbeatInterval", value="42")
    (result,) = put(dm, item)
    assert result == {
        "attributeType": "Actual",  # B05.FR.12
        "attributeStatus": "Accepted",  # B05.FR.10
        "component": item["component"],  # B05.FR.02
        "variable": item["variable"],
    }
    assert dm.int("OCPPCommCtrlr", "HeartbeatInterval") == 42


def test_set_echoes_attribute_type_and_instance(dm: DeviceModel) -> None:
    item = cv("OCPPCommCtrlr", "MessageAttempts", vi="TransactionEvent", attr="Actual", value="5")
    (result,) = put(dm, item)
    assert result["attributeType"] == "Actual"  # B05.FR.03
    assert result["variable"] == {"name": "MessageAttempts", "instance": "TransactionEvent"}
    assert dm.get("OCPPCommCtrlr", "MessageAttempts", instance="TransactionEvent") == "5"


def test_set_status_paths(dm: DeviceModel) -> None:
    results = put(
        dm,
        cv("NoSuchCtrlr", "Enabled", value="true"),
        cv("EVSE", "Power", evse=7, value="1"),
        cv("AuthCtrlr", "NoSuch", value="true"),
        cv("DeviceDataCtrlr", "ItemsPerMessage", value="1"),
        cv("AuthCtrlr", "Enabled", attr="Target", value="true"),
        cv("AuthCtrlr", "Enabled", value="yes"),
        cv("OCPPCommCtrlr", "HeartbeatInterval", value="0"),
        cv("ChargingStation", "VendorName", value="X"),
        cv("AuthCtrlr", "Enabled", value="false"),
    )
    assert [r["attributeStatus"] for r in results] == [
        "UnknownComponent",  # B05.FR.04
        "UnknownComponent",
        "UnknownVariable",  # B05.FR.05
        "UnknownVariable",
        "NotSupportedAttributeType",  # B05.FR.06
        "Rejected",  # B05.FR.07
        "Rejected",  # B05.FR.08
        "Rejected",  # B05.FR.09
        "Accepted",
    ]
    assert results[5]["attributeStatusInfo"]["reasonCode"] == "InvalidValue"
    assert results[6]["attributeStatusInfo"]["reasonCode"] == "ValueTooLow"
    assert results[7]["attributeStatusInfo"]["reasonCode"] == "ReadOnly"
    assert dm.get("ChargingStation", "VendorName") == "ACME"
    assert dm.get("AuthCtrlr", "Enabled") == "false"


def test_only_accepted_items_applied(dm: DeviceModel) -> None:
    results = put(
        dm,
        cv("OCPPCommCtrlr", "OfflineThreshold", value="120"),
        cv("OCPPCommCtrlr", "ResetRetries", value="-1"),
        cv("TxCtrlr", "TxStopPoint", value="Bogus"),
    )
    assert [r["attributeStatus"] for r in results] == ["Accepted", "Rejected", "Rejected"]
    assert dm.get("OCPPCommCtrlr", "OfflineThreshold") == "120"
    assert dm.get("OCPPCommCtrlr", "ResetRetries") == "2"
    assert dm.get("TxCtrlr", "TxStopPoint") == "EVConnected,Authorized"


def test_read_only_rejected_everywhere(dm: DeviceModel) -> None:
    for d in VARIABLES:
        if d.mutability != "ReadOnly" or d.per == "slot":
            continue
        loc = _first(dm, d)
        kw: dict[str, Any] = {"vi": d.instance}
        if "evse" in loc:
            kw.update(evse=loc["evse"], connector=loc.get("connector"))
        value = dm.get(d.component, d.variable, instance=d.instance, **loc) or "x"
        result = put(dm, cv(d.component, d.variable, value=value, **kw))[0]
        assert result["attributeStatus"] == "Rejected", d.shortcut


INTEGER = ("OCPPCommCtrlr", "HeartbeatInterval")
BOOLEAN = ("TxCtrlr", "StopTxOnInvalidId")
OPTION = ("AuthCacheCtrlr", "Policy")
MEMBERS = ("TxCtrlr", "TxStartPoint")
SEQUENCE = ("ClockCtrlr", "TimeSource")
STRING = ("SecurityCtrlr", "OrganizationName")
IDENTITY = ("SecurityCtrlr", "Identity")
PASSWORD_VAR = ("SecurityCtrlr", "BasicAuthPassword")


@pytest.mark.parametrize(
    ("target", "value", "expected"),
    [
        (INTEGER, "10", "Accepted"),
        (INTEGER, "2147483647", "Accepted"),
        (INTEGER, "2147483648", "Rejected"),
        (INTEGER, "010", "Rejected"),  # Part 2 §2: no leading zeros
        (INTEGER, "+10", "Rejected"),  # no plus sign
        (INTEGER, "1.0", "Rejected"),
        (INTEGER, "", "Rejected"),
        (INTEGER, " 10", "Rejected"),
        (INTEGER, "ten", "Rejected"),
        (BOOLEAN, "true", "Accepted"),
        (BOOLEAN, "false", "Accepted"),
        (BOOLEAN, "True", "Rejected"),  # only "true"/"false"
        (BOOLEAN, "1", "Rejected"),
        (OPTION, "LFU", "Accepted"),
        (OPTION, "FIFO", "Rejected"),  # not in this station's valuesList
        (OPTION, "LRU,LFU", "Rejected"),
        (OPTION, "lru", "Rejected"),
        (MEMBERS, "Authorized,EVConnected", "Accepted"),
        (MEMBERS, "PowerPathClosed", "Accepted"),
        (MEMBERS, "", "Accepted"),  # the empty subset
        (MEMBERS, "EVConnected,EVConnected", "Rejected"),
        (MEMBERS, "EVConnected,DataSigned", "Rejected"),
        (MEMBERS, "EVConnected,,Authorized", "Rejected"),
        (SEQUENCE, "RealTimeClock,Heartbeat", "Accepted"),
        (SEQUENCE, "NTP", "Rejected"),
        (SEQUENCE, "Heartbeat,Heartbeat", "Rejected"),
        (STRING, "x" * 64, "Accepted"),
        (STRING, "x" * 65, "Rejected"),  # maxLimit is the string length
        (IDENTITY, "CS-01_a:b", "Accepted"),
        (IDENTITY, "CS 01", "Rejected"),  # identifierString
        (IDENTITY, "x" * 49, "Rejected"),
        (PASSWORD_VAR, PASSWORD, "Accepted"),
        (PASSWORD_VAR, "short", "Rejected"),  # A00.FR.205: at least 16
        (PASSWORD_VAR, "p" * 65, "Rejected"),
    ],
)
def test_set_typed_validation(
    dm: DeviceModel, target: tuple[str, str], value: str, expected: str
) -> None:
    assert status(dm, *target, value) == expected


def test_list_values_normalised_and_ordered(dm: DeviceModel) -> None:
    assert status(dm, *MEMBERS, "EVConnected, Authorized") == "Accepted"
    assert dm.list(*MEMBERS) == ["EVConnected", "Authorized"]
    assert dm.get(*MEMBERS) == "EVConnected,Authorized"
    assert status(dm, *SEQUENCE, "RealTimeClock,Heartbeat") == "Accepted"
    assert dm.list(*SEQUENCE) == ["RealTimeClock", "Heartbeat"]  # order kept


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2030-01-02T03:04:05Z", True),
        ("2030-01-02T03:04:05.123+01:00", True),
        ("2030-01-02T03:04:05.1234Z", False),  # at most 3 decimals
        ("2030-01-02T03:04:05", False),  # offset required
        ("2030-13-02T03:04:05Z", False),
        ("2030-01-02 03:04:05Z", False),
        ("yesterday", False),
    ],
)
def test_date_time_validation(value: str, ok: bool) -> None:
    d = VariableDef("X", "When", "dateTime", "ReadWrite", None)
    dm = DeviceModel({1: 1}, variables=(d,))
    assert status(dm, "X", "When", value) == ("Accepted" if ok else "Rejected")


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("1.5", True),
        ("-0.000001", True),
        ("22000", True),
        ("1.1234567", False),  # Part 2 §2: at most six decimals
        ("1e3", False),
        ("22000.1", False),  # above maxLimit
        ("-1", True),  # minLimit
        ("-1.5", False),
        ("", False),
    ],
)
def test_decimal_validation(value: str, ok: bool) -> None:
    d = VariableDef("X", "Level", "decimal", "ReadWrite", "0", min=-1.0, max=22000.0)
    dm = DeviceModel({1: 1}, variables=(d,))
    assert status(dm, "X", "Level", value) == ("Accepted" if ok else "Rejected")


def test_max_elements() -> None:
    d = VariableDef(
        "X", "Set", "MemberList", "ReadWrite", "", values_list=("a", "b", "c"), max_elements=2
    )
    dm = DeviceModel({1: 1}, variables=(d,))
    assert status(dm, "X", "Set", "a,b") == "Accepted"
    result = put(dm, cv("X", "Set", value="a,b,c"))[0]
    assert result["attributeStatus"] == "Rejected"
    assert result["attributeStatusInfo"]["reasonCode"] == "TooManyElements"


def test_configuration_value_size_limits_set() -> None:
    dm = DeviceModel({1: 1}, overrides={("DeviceDataCtrlr", "ConfigurationValueSize"): "10"})
    assert status(dm, *STRING, "x" * 10) == "Accepted"
    assert status(dm, *STRING, "x" * 11) == "Rejected"


def test_target_min_set_max_set(fan: DeviceModel) -> None:
    """Part 1 §3.3: Target must stay within MinSet/MaxSet and the limits."""
    assert status(fan, "Fan", "Speed", "200", attr="MinSet") == "Accepted"
    assert status(fan, "Fan", "Speed", "500", attr="MaxSet") == "Accepted"
    assert status(fan, "Fan", "Speed", "600", attr="Target") == "Rejected"
    assert status(fan, "Fan", "Speed", "100", attr="Target") == "Rejected"
    assert status(fan, "Fan", "Speed", "450", attr="Target") == "Accepted"
    assert status(fan, "Fan", "Speed", "100", attr="MaxSet") == "Rejected"  # below MinSet
    assert status(fan, "Fan", "Speed", "2000", attr="MaxSet") == "Rejected"  # above maxLimit
    assert status(fan, "Fan", "Speed", "300") == "Rejected"  # Actual is ReadOnly
    assert fan.get("Fan", "Speed", attribute="Target") == "450"
    (result,) = get(fan, cv("Fan", "Speed", attr="MaxSet"))
    assert result["attributeValue"] == "500" and result["attributeType"] == "MaxSet"


def test_on_change_after_accepted_set(dm: DeviceModel) -> None:
    calls: list[tuple[Any, ...]] = []
    dm.on_change(lambda *args: calls.append(args))
    put(
        dm,
        cv("OCPPCommCtrlr", "HeartbeatInterval", value="77"),
        cv("OCPPCommCtrlr", "HeartbeatInterval", value="-5"),
        cv("OCPPCommCtrlr", "MessageAttemptInterval", vi="TransactionEvent", value="9"),
    )
    assert calls == [
        ("OCPPCommCtrlr", "HeartbeatInterval", None, None, "77"),
        ("OCPPCommCtrlr", "MessageAttemptInterval[TransactionEvent]", None, None, "9"),
    ]


def test_on_change_from_station_side_set(dm: DeviceModel) -> None:
    calls: list[tuple[Any, ...]] = []
    dm.on_change(lambda *args: calls.append(args))
    dm.set("Connector", "AvailabilityState", "Occupied", evse=1, connector=2)
    dm.set("Connector", "AvailabilityState", "Occupied", evse=1, connector=2)  # unchanged
    assert calls == [("Connector", "AvailabilityState", 1, 2, "Occupied")]
    with pytest.raises(ValueError):
        dm.set("Connector", "AvailabilityState", "Charging", evse=1, connector=2)
    with pytest.raises(KeyError):
        dm.set("Connector", "AvailabilityState", "Occupied", evse=1, connector=3)


def test_network_configuration_priority(dm: DeviceModel) -> None:
    """B10.FR.02 unconfigured slot, B10.FR.01 RebootRequired, B09.FR.20 removal only."""
    prio = ("OCPPCommCtrlr", "NetworkConfigurationPriority")
    assert status(dm, *prio, "0,1") == "Rejected"  # slot 1 has no URL
    assert status(dm, *prio, "2") == "Rejected"  # not a slot
    assert status(dm, *prio, "") == "Rejected"
    assert status(dm, "NetworkConfiguration", "OcppCsmsUrl", URL, ci="1") == "Accepted"
    assert status(dm, *prio, "1,0") == "RebootRequired"
    assert dm.get(*prio) == "1,0"  # stored for the next boot
    assert status(dm, *prio, "0") == "Accepted"  # removal only
    # B09.FR.22: a slot in the priority list cannot be changed
    assert status(dm, "NetworkConfiguration", "OcppCsmsUrl", "ws://x", ci="0") == "Rejected"
    assert status(dm, "NetworkConfiguration", "MessageTimeout", "0", ci="1") == "Rejected"
    assert status(dm, "NetworkConfiguration", "MessageTimeout", "45", ci="1") == "Accepted"
    assert status(dm, "NetworkConfiguration", "VpnEnabled", "true", ci="1") == "Rejected"


def test_security_credentials_propagate_to_slots(dm: DeviceModel) -> None:
    """B09.FR.26, B09.FR.27."""
    assert status(dm, *IDENTITY, "CS42") == "Accepted"
    assert status(dm, *PASSWORD_VAR, PASSWORD) == "Accepted"
    for slot in dm.network_slots:
        profile = dm.network_profile(slot)
        assert profile["Identity"] == "CS42" and profile["BasicAuthPassword"] == PASSWORD


def test_set_network_profile_and_activate(dm: DeviceModel) -> None:
    profile = {
        "ocppInterface": "Wireless0",
        "ocppTransport": "JSON",
        "ocppVersion": "OCPP20",  # ignored in 2.1
        "messageTimeout": 20,
        "ocppCsmsUrl": "wss://other.example/ocpp",
        "securityProfile": 2,
        "identity": "CS7",
        "basicAuthPassword": PASSWORD,
    }
    assert dm.set_network_profile(1, profile) == "Accepted"  # B09.FR.01, B09.FR.09
    assert dm.network_profile(1)["OcppInterface"] == "Wireless0"
    assert dm.set_network_profile(5, profile) == "Rejected"  # B09.FR.05
    assert dm.set_network_profile(1, {**profile, "ocppTransport": "SOAP"}) == "Rejected"
    assert dm.set_network_profile(1, {**profile, "apn": {"apn": "x"}}) == "Rejected"
    dm.activate_network_profile(1)  # B09.FR.28
    assert dm.int("OCPPCommCtrlr", "ActiveNetworkProfile") == 1
    assert dm.get("SecurityCtrlr", "Identity") == "CS7"
    assert dm.int("SecurityCtrlr", "SecurityProfile") == 2


# -- per-EVSE and per-connector instances ---------------------------------------------


def test_instances_are_independent(dm: DeviceModel) -> None:
    dm.set("Connector", "AvailabilityState", "Faulted", evse=1, connector=2)
    dm.set("EVSE", "Power", "7400.5", evse=2)
    results = get(
        dm,
        cv("Connector", "AvailabilityState", evse=1, connector=1),
        cv("Connector", "AvailabilityState", evse=1, connector=2),
        cv("Connector", "AvailabilityState", evse=2, connector=1),
        cv("EVSE", "Power", evse=1),
        cv("EVSE", "Power", evse=2),
    )
    values = [r["attributeValue"] for r in results]
    assert values == ["Available", "Faulted", "Available", "0", "7400.5"]
    assert dm.decimal("EVSE", "Power", evse=2) == 7400.5


def test_typed_getters(dm: DeviceModel) -> None:
    assert dm.int("DeviceDataCtrlr", "ItemsPerMessage", instance="GetReport") == 100
    assert dm.bool("AuthCtrlr", "AuthorizeRemoteStart") is True
    assert dm.bool("AuthCtrlr", "LocalPreAuthorize") is False
    assert dm.list("SampledDataCtrlr", "TxUpdatedMeasurands") == [
        "Energy.Active.Import.Register",
        "Power.Active.Import",
    ]
    assert dm.list("SecurityCtrlr", "OrganizationName") == []
    with pytest.raises(ValueError):
        dm.int("SecurityCtrlr", "OrganizationName")
    with pytest.raises(KeyError):
        dm.get("OCPPCommCtrlr", "Nope")
    with pytest.raises(KeyError):
        dm.get("OCPPCommCtrlr", "HeartbeatInterval", attribute="Target")


def test_provide_live_value(dm: DeviceModel) -> None:
    readings = iter(["1.5", "2.5"])
    dm.provide("EVSE", "Power", lambda: next(readings), evse=1)
    assert dm.get("EVSE", "Power", evse=1) == "1.5"
    assert get(dm, cv("EVSE", "Power", evse=1))[0]["attributeValue"] == "2.5"
    dm.provide("EVSE", "Power", None, evse=1)
    assert dm.get("EVSE", "Power", evse=1) == "0"


# -- B07 Get Base Report --------------------------------------------------------------


def _assert_report(items: list[dict[str, Any]], per_message: int = 25) -> None:
    payloads = notify_report_requests(items, request_id=7, items_per_message=per_message)
    for payload in payloads:
        assert_schema("NotifyReportRequest", payload)


def _key(item: dict[str, Any]) -> tuple[Any, ...]:
    c, v = item["component"], item["variable"]
    evse = c.get("evse", {})
    return (
        c["name"],
        c.get("instance"),
        evse.get("id"),
        evse.get("connectorId"),
        v["name"],
        v.get("instance"),
    )


def test_full_inventory(dm: DeviceModel) -> None:
    items = dm.report("FullInventory")  # B07.FR.08
    _assert_report(items)
    keys = [_key(i) for i in items]
    assert len(keys) == len(set(keys))
    station = sum(1 for d in VARIABLES if d.per == "station")
    evse = sum(1 for d in VARIABLES if d.per == "evse")
    conn = sum(1 for d in VARIABLES if d.per == "connector")
    slot = sum(1 for d in VARIABLES if d.per == "slot")
    assert len(items) == station + 2 * evse + 3 * conn + 2 * slot
    assert ("Connector", None, 1, 2, "ConnectorType", None) in keys
    assert ("EVSE", None, 2, None, "Power", None) in keys
    power = next(i for i in items if _key(i) == ("EVSE", None, 1, None, "Power", None))
    assert power["variableCharacteristics"] == {
        "dataType": "decimal",
        "unit": "W",
        "maxLimit": 22000.0,
        "supportsMonitoring": True,
    }
    heartbeat = next(i for i in items if i["variable"]["name"] == "HeartbeatInterval")
    assert heartbeat["variableAttribute"] == [
        {
            "type": "Actual",
            "value": "300",
            "mutability": "ReadWrite",
            "persistent": True,
            "constant": False,
        }
    ]


def test_write_only_values_never_reported(dm: DeviceModel) -> None:
    """B07.FR.03."""
    dm.set("SecurityCtrlr", "BasicAuthPassword", PASSWORD)
    dm.set("NetworkConfiguration", "BasicAuthPassword", PASSWORD, component_instance="1")
    for base in REPORT_BASES:
        text = json.dumps(dm.report(base))
        assert PASSWORD not in text
    items = [i for i in dm.report("FullInventory") if i["variable"]["name"] == "BasicAuthPassword"]
    assert len(items) == 3
    for item in items:
        (attr,) = item["variableAttribute"]
        assert attr["mutability"] == "WriteOnly" and "value" not in attr


def test_configuration_inventory(dm: DeviceModel) -> None:
    """B07.FR.07: only what the CSMS can set."""
    items = dm.report("ConfigurationInventory")
    _assert_report(items)
    names = {(i["component"]["name"], i["variable"]["name"]) for i in items}
    assert ("OCPPCommCtrlr", "HeartbeatInterval") in names
    assert ("SecurityCtrlr", "BasicAuthPassword") in names
    assert ("ChargingStation", "VendorName") not in names
    assert ("EVSE", "AvailabilityState") not in names
    for item in items:
        assert any(a["mutability"] != "ReadOnly" for a in item["variableAttribute"])


def test_summary_inventory(dm: DeviceModel) -> None:
    """B07.FR.09: availability of station/EVSEs, connectors differing, problems."""
    items = dm.report("SummaryInventory")
    _assert_report(items)
    assert [_key(i) for i in items] == [
        ("ChargingStation", None, None, None, "AvailabilityState", None),
        ("EVSE", None, 1, None, "AvailabilityState", None),
        ("EVSE", None, 2, None, "AvailabilityState", None),
    ]
    dm.set("Connector", "AvailabilityState", "Occupied", evse=1, connector=2)
    dm.set("ConnectorPlugRetentionLock", "Problem", "true", evse=2, connector=1)
    keys = [_key(i) for i in dm.report("SummaryInventory")]
    assert ("Connector", None, 1, 2, "AvailabilityState", None) in keys
    assert ("Connector", None, 1, 1, "AvailabilityState", None) not in keys
    assert ("ConnectorPlugRetentionLock", None, 2, 1, "Problem", None) in keys
    assert len(keys) == 5


def test_all_attribute_types_reported(fan: DeviceModel) -> None:
    """B07.FR.11: every supported attribute type, set or not."""
    fan.set("Fan", "Speed", "300", attribute="MaxSet")
    items = [i for i in fan.report("FullInventory") if i["component"]["name"] == "Fan"]
    _assert_report(items)
    (item,) = items
    attrs = {a["type"]: a for a in item["variableAttribute"]}
    assert list(attrs) == list(ATTRIBUTE_TYPES)
    assert attrs["Actual"]["value"] == "0" and attrs["Actual"]["mutability"] == "ReadOnly"
    assert attrs["Target"]["value"] == "" and attrs["Target"]["mutability"] == "ReadWrite"
    assert attrs["MaxSet"]["value"] == "300"
    assert item["variableCharacteristics"]["minLimit"] == 0
    assert [i["component"]["name"] for i in fan.report("ConfigurationInventory")].count("Fan") == 1


def test_unknown_report_base(dm: DeviceModel) -> None:
    with pytest.raises(ValueError):
        dm.report("CustomInventory")


def test_report_values_cut_to_reporting_value_size() -> None:
    dm = DeviceModel({1: 1}, overrides={("DeviceDataCtrlr", "ReportingValueSize"): "4"})
    item = next(
        i for i in dm.report("FullInventory") if i["variable"]["name"] == "TxUpdatedMeasurands"
    )
    assert item["variableAttribute"][0]["value"] == "Ener"


# -- chunking ---------------------------------------------------------------------------


def test_chunk_report() -> None:
    items = [{"n": n} for n in range(7)]
    assert [len(c) for c in chunk_report(items, 3)] == [3, 3, 1]
    assert [len(c) for c in chunk_report(items, 7)] == [7]
    assert [len(c) for c in chunk_report(items, 100)] == [7]
    assert [i for c in chunk_report(items, 2) for i in c] == items
    assert chunk_report([], 5) == [[]]
    with pytest.raises(ValueError):
        chunk_report(items, 0)


def test_notify_report_requests(dm: DeviceModel) -> None:
    """B07.FR.04 one requestId, B07.FR.10 seqNo from 0, tbc on all but the last."""
    items = dm.report("FullInventory")
    per = dm.int("DeviceDataCtrlr", "ItemsPerMessage", instance="GetReport")
    payloads = notify_report_requests(
        items, request_id=99, items_per_message=per, generated_at="2030-01-01T00:00:00Z"
    )
    assert len(payloads) == -(-len(items) // per)
    assert [p["seqNo"] for p in payloads] == list(range(len(payloads)))
    assert [p["tbc"] for p in payloads] == [True] * (len(payloads) - 1) + [False]
    assert {p["requestId"] for p in payloads} == {99}
    assert [i for p in payloads for i in p["reportData"]] == items
    for payload in payloads:
        assert_schema("NotifyReportRequest", payload)
    (empty,) = notify_report_requests([], request_id=1, items_per_message=5)
    assert "reportData" not in empty and empty["tbc"] is False
    assert_schema("NotifyReportRequest", empty)


# -- persistence ------------------------------------------------------------------------


def test_snapshot_restore_round_trip(dm: DeviceModel) -> None:
    put(
        dm,
        cv("OCPPCommCtrlr", "HeartbeatInterval", value="11"),
        cv(*PASSWORD_VAR, value=PASSWORD),
        cv(*MEMBERS, value="Authorized"),
    )
    dm.set("EVSE", "AvailabilityState", "Unavailable", evse=2)
    saved = json.loads(json.dumps(dm.snapshot()))  # JSON-serialisable
    fresh = DeviceModel({1: 2, 2: 1})
    fresh.restore(saved)
    assert fresh.get("OCPPCommCtrlr", "HeartbeatInterval") == "11"
    assert fresh.get(*PASSWORD_VAR) == PASSWORD
    assert fresh.get(*MEMBERS) == "Authorized"
    assert fresh.get("EVSE", "AvailabilityState", evse=2) == "Unavailable"
    assert fresh.get("NetworkConfiguration", "OcppCsmsUrl", component_instance="0") == URL
    assert fresh.snapshot() == dm.snapshot()


def test_snapshot_persistent_only(dm: DeviceModel) -> None:
    dm.set("EVSE", "AvailabilityState", "Unavailable", evse=2)
    dm.set("OCPPCommCtrlr", "HeartbeatInterval", "12")
    rows = dm.snapshot(persistent_only=True)["values"]
    names = {(r[0], r[4]) for r in rows}
    assert ("OCPPCommCtrlr", "HeartbeatInterval") in names
    assert ("ChargingStation", "VendorName") in names  # constant
    assert ("EVSE", "AvailabilityState") not in names
    rebooted = DeviceModel({1: 2, 2: 1})
    rebooted.restore({"values": rows})
    assert rebooted.get("OCPPCommCtrlr", "HeartbeatInterval") == "12"
    assert rebooted.get("EVSE", "AvailabilityState", evse=2) == "Available"


def test_restore_ignores_unknown_rows(dm: DeviceModel) -> None:
    bigger = DeviceModel({1: 2, 2: 1, 3: 1})
    bigger.set("EVSE", "Power", "5", evse=3)
    dm.restore(bigger.snapshot())
    assert not dm.has("EVSE", "Power", evse=3)
    dm.restore({"values": [["Nope", None, None, None, "X", None, "Actual", "1"]]})


def test_reset_to_defaults(dm: DeviceModel) -> None:
    put(dm, cv("OCPPCommCtrlr", "HeartbeatInterval", value="11"))
    dm.set("NetworkConfiguration", "OcppCsmsUrl", "ws://changed", component_instance="0")
    dm.reset_to_defaults()
    assert dm.get("OCPPCommCtrlr", "HeartbeatInterval") == "300"
    assert dm.get("NetworkConfiguration", "OcppCsmsUrl", component_instance="0") == URL
    assert dm.get("ChargingStation", "VendorName") == "ACME"


def test_overrides() -> None:
    dm = DeviceModel(
        {1: 1},
        overrides={
            ("OCPPCommCtrlr", "HeartbeatInterval"): "20",
            ("DeviceDataCtrlr", "ItemsPerMessage[GetReport]"): "10",
            ("Connector", "ConnectorType"): "sType2",
        },
    )
    assert dm.get("OCPPCommCtrlr", "HeartbeatInterval") == "20"
    assert dm.get("DeviceDataCtrlr", "ItemsPerMessage", instance="GetReport") == "10"
    assert dm.get("DeviceDataCtrlr", "ItemsPerMessage", instance="GetVariables") == "50"
    assert dm.get("Connector", "ConnectorType", evse=1, connector=1) == "sType2"
    with pytest.raises(ValueError):
        DeviceModel({1: 1}, overrides={("OCPPCommCtrlr", "HeartbeatInterval"): "soon"})
    with pytest.raises(KeyError):
        DeviceModel({1: 1}, overrides={("OCPPCommCtrlr", "Nope"): "1"})
    with pytest.raises(ValueError):
        DeviceModel({0: 1})
