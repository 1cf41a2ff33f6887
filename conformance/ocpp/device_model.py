"""The device model of an OCPP 2.1 charging station: components, variables, attributes.

Concepts follow OCPP 2.1 Part 1 chapter 3 (components at the ChargingStation, EVSE
or Connector tier, optional component and variable instances, variable
characteristics and the attribute types Actual/Target/MinSet/MaxSet).  The
behaviour of the three device-model use cases every station implements
(Part 1 §3.6) is here as pure functions of the model:

* B05 Set Variables -> :meth:`DeviceModel.set_variables` (B05.FR.01-B05.FR.12),
* B06 Get Variables -> :meth:`DeviceModel.get_variables` (B06.FR.01-B06.FR.15),
* B07 Get Base Report -> :meth:`DeviceModel.report`, :func:`chunk_report` and
  :func:`notify_report_requests` (B07.FR.03, .04, .07-.12).

:data:`VARIABLES` is the station's table of component-variables.  Names, data
types, units and the required flag come from the appendix CSV
``dm_components_vars.csv`` (OCPP 2.1 Part 2 appendices, CSV v2.0); mutability,
limits and values lists from Part 2 "Referenced Components and Variables"
(chapter 2, sections cited per row) and, for the WebSocket variables, Part 4
chapter 8.  Where the CSV and Part 2 disagree, Part 2 wins and the row says so.
Default values are this implementation's choice.

Values are strings on the wire and in the model.  Internal reads and writes by
station logic (:meth:`DeviceModel.get`, :meth:`DeviceModel.set`) ignore
mutability; only the CSMS-facing methods enforce it.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "ATTRIBUTE_TYPES",
    "AVAILABILITY_STATES",
    "DATA_TYPES",
    "ID_TOKEN_TYPES",
    "MEASURANDS",
    "OCPP_INTERFACES",
    "PROBLEM_VARIABLES",
    "REPORT_BASES",
    "TX_POINTS",
    "VARIABLES",
    "DeviceModel",
    "VariableDef",
    "chunk_report",
    "notify_report_requests",
    "validate_value",
]

RO, RW, WO = "ReadOnly", "ReadWrite", "WriteOnly"
#: AttributeEnumType (Part 2 §3 / NotifyReportRequest schema).
ATTRIBUTE_TYPES = ("Actual", "Target", "MinSet", "MaxSet")
#: DataEnumType.  The CSV's "passwordString"/"identifierString" are strings on the wire.
DATA_TYPES = (
    "string",
    "decimal",
    "integer",
    "dateTime",
    "boolean",
    "OptionList",
    "SequenceList",
    "MemberList",
)
#: ReportBaseEnumType (B07.FR.12: ConfigurationInventory and FullInventory are mandatory).
REPORT_BASES = ("ConfigurationInventory", "FullInventory", "SummaryInventory")
#: Part 2 §2.15.2 AvailabilityState values list.
AVAILABILITY_STATES = ("Available", "Occupied", "Reserved", "Unavailable", "Faulted")
#: The MeasurandEnumType subset this station can sample (Part 2 §2.9 "values from Measurands").
MEASURANDS = (
    "Energy.Active.Import.Register",
    "Energy.Active.Export.Register",
    "Energy.Active.Import.Interval",
    "Power.Active.Import",
    "Power.Active.Export",
    "Power.Offered",
    "Current.Import",
    "Current.Export",
    "Current.Offered",
    "Voltage",
    "Frequency",
    "SoC",
)
#: Part 2 §2.7.6 TxStartPoint/TxStopPoint values this station implements.
TX_POINTS = ("EVConnected", "Authorized", "PowerPathClosed", "EnergyTransfer")
#: idtokenenumtype.csv (Part 2 appendices §7.1) values this station accepts.
ID_TOKEN_TYPES = (
    "Central",
    "eMAID",
    "ISO14443",
    "ISO15693",
    "KeyCode",
    "Local",
    "MacAddress",
    "NoAuthorization",
)
#: OCPPInterfaceEnumType (SetNetworkProfileRequest schema).
OCPP_INTERFACES = (
    "Wired0",
    "Wired1",
    "Wired2",
    "Wired3",
    "Wireless0",
    "Wireless1",
    "Wireless2",
    "Wireless3",
    "Any",
)
#: Variables whose "true" Actual value marks an abnormal state (B07.FR.09 note).
PROBLEM_VARIABLES = ("Problem", "Tripped", "Overload", "Fallback")

_TIERS = ("station", "evse", "connector", "slot")
_INT32 = (-(2**31), 2**31 - 1)


@dataclass(frozen=True)
class VariableDef:
    """One component-variable of the table, before it is placed on EVSEs/connectors.

    ``per`` says where instances live: ``"station"`` (top tier), ``"evse"`` (one per
    EVSE), ``"connector"`` (one per connector) or ``"slot"`` (one per network
    configuration slot, as the component instance; Part 2 §2.1.8).  ``min``/``max``
    are the characteristics minLimit/maxLimit; for string and list types ``max`` is
    the maximum length of the (CSV) string (VariableCharacteristicsType).
    ``mutability`` applies to every attribute unless ``attribute_mutability`` names
    another one for an attribute type (Part 1 §3.3).
    """

    component: str
    variable: str
    data_type: str
    mutability: str
    default: str | None
    unit: str | None = None
    instance: str | None = None
    values_list: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    attributes: tuple[str, ...] = ("Actual",)
    per: str = "station"
    required: bool = False
    constant: bool = False
    supports_monitoring: bool = False
    max_elements: int | None = None
    #: Extra string rule: "identifierString" or "passwordString" (Part 2 §2 primitive types).
    string_format: str | None = None
    attribute_mutability: tuple[tuple[str, str], ...] = ()
    #: A set takes effect after a reboot: SetVariables answers RebootRequired.
    reboot_required: bool = False

    def __post_init__(self) -> None:
        if self.data_type not in DATA_TYPES:
            raise ValueError(f"{self.shortcut}: unknown dataType {self.data_type!r}")
        if self.mutability not in (RO, RW, WO):
            raise ValueError(f"{self.shortcut}: unknown mutability {self.mutability!r}")
        if self.per not in _TIERS:
            raise ValueError(f"{self.shortcut}: per must be one of {_TIERS}")
        if not self.attributes or set(self.attributes) - set(ATTRIBUTE_TYPES):
            raise ValueError(f"{self.shortcut}: bad attributes {self.attributes!r}")

    @property
    def shortcut(self) -> str:
        """Part 2 chapter 2 shortcut notation ``Component.Variable[instance]``."""
        inst = f"[{self.instance}]" if self.instance else ""
        return f"{self.component}.{self.variable}{inst}"

    def mutability_of(self, attribute: str) -> str:
        """The mutability of one attribute type of this variable."""
        return dict(self.attribute_mutability).get(attribute, self.mutability)

    @property
    def writable(self) -> bool:
        """True when the CSMS can set at least one attribute (B07.FR.07)."""
        return any(self.mutability_of(a) != RO for a in self.attributes)


_V = VariableDef
_MEAS = MEASURANDS
_EAIR = "Energy.Active.Import.Register"

# fmt: off
#: The station's component-variables.  Source: dm_components_vars.csv (names, dataType,
#: unit, Required?) and OCPP 2.1 Part 2 chapter 2 (mutability, limits, values lists).
VARIABLES: tuple[VariableDef, ...] = (
    # ChargingStation (Part 2 §2.15; appendices §3.2.11)
    _V("ChargingStation", "AvailabilityState", "OptionList", RO, "Available",
       values_list=AVAILABILITY_STATES, required=True, supports_monitoring=True),   # §2.15.2
    _V("ChargingStation", "Available", "boolean", RO, "true", required=True,
       supports_monitoring=True),                                                   # §2.15.1
    _V("ChargingStation", "Model", "string", RO, None, max=20, constant=True),
    _V("ChargingStation", "VendorName", "string", RO, None, max=50, constant=True),
    _V("ChargingStation", "SupplyPhases", "integer", RO, "3", min=0, max=3,
       required=True, constant=True),                                               # §2.15.6
    _V("ChargingStation", "Problem", "boolean", RO, "false",
       supports_monitoring=True),                                                   # generic
    # EVSE, one per EVSE (Part 2 §2.15; appendices §3.2.29)
    _V("EVSE", "AvailabilityState", "OptionList", RO, "Available",
       values_list=AVAILABILITY_STATES, per="evse", required=True,
       supports_monitoring=True),                                                   # §2.15.2
    _V("EVSE", "Available", "boolean", RO, "true", per="evse", required=True,
       supports_monitoring=True),                                                   # §2.15.1
    _V("EVSE", "Power", "decimal", RO, "0", unit="W", max=22000.0, per="evse",
       required=True, supports_monitoring=True),                                    # §2.15.8
    _V("EVSE", "SupplyPhases", "integer", RO, "3", min=0, max=3, per="evse",
       required=True, constant=True),                                               # §2.15.6
    _V("EVSE", "AllowReset", "boolean", RO, "true", per="evse", constant=True),     # §2.15.3
    _V("EVSE", "Problem", "boolean", RO, "false", per="evse",
       supports_monitoring=True),                                                   # generic
    # Connector, one per connector (Part 2 §2.15)
    _V("Connector", "AvailabilityState", "OptionList", RO, "Available",
       values_list=AVAILABILITY_STATES, per="connector", required=True,
       supports_monitoring=True),                                                   # §2.15.2
    _V("Connector", "Available", "boolean", RO, "true", per="connector", required=True,
       supports_monitoring=True),                                                   # §2.15.1
    _V("Connector", "ConnectorType", "string", RO, "cType2", per="connector",
       required=True, constant=True),                                               # §2.15.4
    _V("Connector", "SupplyPhases", "integer", RO, "3", min=0, max=3, per="connector",
       required=True, constant=True),                                               # §2.15.6
    _V("Connector", "Problem", "boolean", RO, "false", per="connector",
       supports_monitoring=True),                                                   # generic
    # ConnectorPlugRetentionLock (appendices §3.2.17; G05.FR.02 reports its Problem)
    _V("ConnectorPlugRetentionLock", "Problem", "boolean", RO, "false", per="connector",
       supports_monitoring=True),
    # OCPPCommCtrlr (Part 2 §2.1; Part 4 chapter 8)
    _V("OCPPCommCtrlr", "ActiveNetworkProfile", "integer", RO, None,
       required=True),                                       # §2.1.1 (CSV: string, no)
    _V("OCPPCommCtrlr", "FileTransferProtocols", "MemberList", RO, "HTTPS,HTTP",
       values_list=("FTP", "FTPS", "HTTP", "HTTPS", "SFTP"), required=True,
       constant=True),                                                              # §2.1.4
    _V("OCPPCommCtrlr", "HeartbeatInterval", "integer", RW, "300", unit="s",
       min=1),                                                                      # §2.1.5
    _V("OCPPCommCtrlr", "MessageTimeout", "integer", RO, "30", unit="s",
       instance="Default", required=True),                                         # §2.1.3
    _V("OCPPCommCtrlr", "MessageAttempts", "integer", RW, "3", min=0,
       instance="TransactionEvent", required=True),                                 # §2.1.11
    _V("OCPPCommCtrlr", "MessageAttemptInterval", "integer", RW, "60", unit="s",
       min=0, instance="TransactionEvent", required=True),                          # §2.1.12
    _V("OCPPCommCtrlr", "NetworkConfigurationPriority", "SequenceList", RW, None,
       required=True, reboot_required=True),       # §2.1.6 (CSV: string); B09/B10
    _V("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", "integer", RW, "3",
       min=1, required=True),                                                       # §2.1.7
    _V("OCPPCommCtrlr", "OfflineThreshold", "integer", RW, "300", unit="s", min=0,
       required=True),                                                              # §2.1.9
    _V("OCPPCommCtrlr", "QueueAllMessages", "boolean", RW, "false"),                # §2.1.10
    _V("OCPPCommCtrlr", "ResetRetries", "integer", RW, "2", min=0,
       required=True),                                                              # §2.1.15
    _V("OCPPCommCtrlr", "UnlockOnEVSideDisconnect", "boolean", RW, "true",
       required=True),                                                              # §2.1.13
    _V("OCPPCommCtrlr", "RetryBackOffRepeatTimes", "integer", RW, "5", min=0,
       required=True),                               # Part 4 §8.1 (CSV: no)
    _V("OCPPCommCtrlr", "RetryBackOffRandomRange", "integer", RW, "10", unit="s",
       min=0, required=True),                        # Part 4 §8.2 (CSV: no)
    _V("OCPPCommCtrlr", "RetryBackOffWaitMinimum", "integer", RW, "5", unit="s",
       min=0, required=True),                        # Part 4 §8.3 (CSV: no)
    _V("OCPPCommCtrlr", "WebSocketPingInterval", "integer", RW, "30", unit="s",
       min=0, required=True),                        # Part 4 §8.4 (CSV: no)
    # DeviceDataCtrlr (Part 2 §2.1.17-§2.1.24)
    _V("DeviceDataCtrlr", "ItemsPerMessage", "integer", RO, "100", instance="GetReport",
       required=True, constant=True),
    _V("DeviceDataCtrlr", "ItemsPerMessage", "integer", RO, "50", instance="GetVariables",
       required=True, constant=True),
    _V("DeviceDataCtrlr", "ItemsPerMessage", "integer", RO, "50", instance="SetVariables",
       required=True, constant=True),
    _V("DeviceDataCtrlr", "BytesPerMessage", "integer", RO, "65000", instance="GetReport",
       required=True, constant=True),
    _V("DeviceDataCtrlr", "BytesPerMessage", "integer", RO, "65000",
       instance="GetVariables", required=True, constant=True),
    _V("DeviceDataCtrlr", "BytesPerMessage", "integer", RO, "65000",
       instance="SetVariables", required=True, constant=True),
    _V("DeviceDataCtrlr", "ConfigurationValueSize", "integer", RO, "1000", max=2500,
       constant=True),                                                              # §2.1.21
    _V("DeviceDataCtrlr", "ReportingValueSize", "integer", RO, "2500", max=2500,
       constant=True),                                                              # §2.1.22
    # ClockCtrlr (Part 2 §2.1.25, §2.1.31)
    _V("ClockCtrlr", "DateTime", "dateTime", RO, None, required=True,
       supports_monitoring=True),
    _V("ClockCtrlr", "TimeSource", "SequenceList", RW, "Heartbeat",
       values_list=("Heartbeat", "RealTimeClock"), required=True),
    # SecurityCtrlr (Part 2 §2.2)
    _V("SecurityCtrlr", "BasicAuthPassword", "string", WO, None, max=64,
       string_format="passwordString"),              # §2.2.1 (CSV: passwordString)
    _V("SecurityCtrlr", "Identity", "string", RW, None, max=48,
       string_format="identifierString"),            # §2.2.2 (CSV: identifierString)
    _V("SecurityCtrlr", "OrganizationName", "string", RW, None, max=64,
       required=True),                                                              # §2.2.3
    _V("SecurityCtrlr", "CertificateEntries", "integer", RO, "0", max=16,
       required=True),                                                              # §2.2.4
    _V("SecurityCtrlr", "SecurityProfile", "integer", RO, "1", min=1, max=3,
       required=True),                                                              # §2.2.5
    # AuthCtrlr (Part 2 §2.3)
    _V("AuthCtrlr", "Enabled", "boolean", RW, "true"),                              # §2.3.1
    _V("AuthCtrlr", "OfflineTxForUnknownIdEnabled", "boolean", RW, "false"),        # §2.3.3
    _V("AuthCtrlr", "AuthorizeRemoteStart", "boolean", RW, "true",
       required=True),                                                              # §2.3.4
    _V("AuthCtrlr", "LocalAuthorizeOffline", "boolean", RW, "true",
       required=True),                                                              # §2.3.5
    _V("AuthCtrlr", "LocalPreAuthorize", "boolean", RW, "false",
       required=True),                                                              # §2.3.6
    _V("AuthCtrlr", "DisableRemoteAuthorization", "boolean", RW, "false"),          # §2.3.8
    _V("AuthCtrlr", "SupportedIdTokenTypes", "MemberList", RO, ",".join(ID_TOKEN_TYPES),
       values_list=ID_TOKEN_TYPES, required=True,
       constant=True),                    # §2.3.9 (CSV: SupportedIdTokenType, no)
    # AuthCacheCtrlr (Part 2 §2.5)
    _V("AuthCacheCtrlr", "Enabled", "boolean", RW, "true"),
    _V("AuthCacheCtrlr", "Available", "boolean", RO, "true", constant=True),
    _V("AuthCacheCtrlr", "LifeTime", "integer", RW, "86400", unit="s", min=0),
    _V("AuthCacheCtrlr", "Storage", "integer", RO, "0", unit="B", max=65536),
    _V("AuthCacheCtrlr", "Policy", "OptionList", RW, "LRU", values_list=("LRU", "LFU")),
    _V("AuthCacheCtrlr", "DisablePostAuthorize", "boolean", RW, "false"),
    # LocalAuthListCtrlr (Part 2 §2.6)
    _V("LocalAuthListCtrlr", "Enabled", "boolean", RW, "true"),
    _V("LocalAuthListCtrlr", "Entries", "integer", RO, "0", max=1000, required=True),
    _V("LocalAuthListCtrlr", "Available", "boolean", RO, "true", constant=True),
    _V("LocalAuthListCtrlr", "ItemsPerMessage", "integer", RO, "100", required=True,
       constant=True),
    _V("LocalAuthListCtrlr", "BytesPerMessage", "integer", RO, "65000", required=True,
       constant=True),
    _V("LocalAuthListCtrlr", "Storage", "integer", RO, "0", unit="B", max=262144),
    _V("LocalAuthListCtrlr", "DisablePostAuthorize", "boolean", RW, "false"),
    _V("LocalAuthListCtrlr", "SupportsExpiryDateTime", "boolean", RO, "false",
       constant=True),
    # TxCtrlr (Part 2 §2.7)
    _V("TxCtrlr", "EVConnectionTimeOut", "integer", RW, "60", unit="s", min=0,
       required=True),                                                              # §2.7.1
    _V("TxCtrlr", "StopTxOnEVSideDisconnect", "boolean", RW, "true",
       required=True),                                                              # §2.7.2
    _V("TxCtrlr", "TxBeforeAcceptedEnabled", "boolean", RW, "false"),               # §2.7.3
    _V("TxCtrlr", "TxStartPoint", "MemberList", RW, "PowerPathClosed",
       values_list=TX_POINTS, required=True),                                       # §2.7.4
    _V("TxCtrlr", "TxStopPoint", "MemberList", RW, "EVConnected,Authorized",
       values_list=TX_POINTS, required=True),                                       # §2.7.5
    _V("TxCtrlr", "MaxEnergyOnInvalidId", "integer", RW, "0", unit="Wh",
       min=0),                                                                      # §2.7.7
    _V("TxCtrlr", "StopTxOnInvalidId", "boolean", RW, "true", required=True),       # §2.7.8
    # SampledDataCtrlr (Part 2 §2.9.1-§2.9.11; CSV name TxEndedInterval)
    _V("SampledDataCtrlr", "Enabled", "boolean", RW, "true"),
    _V("SampledDataCtrlr", "Available", "boolean", RO, "true", constant=True),
    _V("SampledDataCtrlr", "RegisterValuesWithoutPhases", "boolean", RW, "false"),
    _V("SampledDataCtrlr", "TxEndedMeasurands", "MemberList", RW, _EAIR,
       values_list=_MEAS, required=True),
    _V("SampledDataCtrlr", "TxEndedInterval", "integer", RW, "0", unit="s", min=0,
       required=True),
    _V("SampledDataCtrlr", "TxStartedMeasurands", "MemberList", RW, _EAIR,
       values_list=_MEAS, required=True),
    _V("SampledDataCtrlr", "TxUpdatedMeasurands", "MemberList", RW,
       f"{_EAIR},Power.Active.Import", values_list=_MEAS, required=True),
    _V("SampledDataCtrlr", "TxUpdatedInterval", "integer", RW, "60", unit="s", min=0,
       required=True),
    # AlignedDataCtrlr (Part 2 §2.9.14-§2.9.22; Interval 0 = no clock-aligned data)
    _V("AlignedDataCtrlr", "Enabled", "boolean", RW, "true"),
    _V("AlignedDataCtrlr", "Available", "boolean", RO, "true", constant=True),
    _V("AlignedDataCtrlr", "Measurands", "MemberList", RW, _EAIR, values_list=_MEAS,
       required=True),
    _V("AlignedDataCtrlr", "Interval", "integer", RW, "0", unit="s", min=0,
       required=True),
    _V("AlignedDataCtrlr", "SendDuringIdle", "boolean", RW, "false"),
    _V("AlignedDataCtrlr", "TxEndedMeasurands", "MemberList", RW, _EAIR,
       values_list=_MEAS, required=True),
    _V("AlignedDataCtrlr", "TxEndedInterval", "integer", RW, "0", unit="s", min=0,
       required=True),
    # MonitoringCtrlr (Part 2 §2.13)
    _V("MonitoringCtrlr", "Enabled", "boolean", RW, "true"),
    _V("MonitoringCtrlr", "Available", "boolean", RO, "true", constant=True),
    _V("MonitoringCtrlr", "ItemsPerMessage", "integer", RO, "20",
       instance="ClearVariableMonitoring", constant=True),
    _V("MonitoringCtrlr", "ItemsPerMessage", "integer", RO, "20",
       instance="SetVariableMonitoring", required=True, constant=True),
    _V("MonitoringCtrlr", "BytesPerMessage", "integer", RO, "65000",
       instance="ClearVariableMonitoring", constant=True),
    _V("MonitoringCtrlr", "BytesPerMessage", "integer", RO, "65000",
       instance="SetVariableMonitoring", required=True, constant=True),
    _V("MonitoringCtrlr", "OfflineQueuingSeverity", "integer", RW, "2", min=0, max=9),
    _V("MonitoringCtrlr", "ActiveMonitoringBase", "OptionList", RO, "All",
       values_list=("All", "FactoryDefault", "HardWiredOnly")),
    _V("MonitoringCtrlr", "ActiveMonitoringLevel", "integer", RO, "9", min=0, max=9),
    # NetworkConfiguration, one instance per configuration slot (Part 2 §2.1.8, B09.FR.08;
    # writable per B09.FR.10, passwords WriteOnly; no APN/VPN support: B09.FR.13)
    _V("NetworkConfiguration", "OcppCsmsUrl", "string", RW, None, max=2000, per="slot",
       required=True),
    _V("NetworkConfiguration", "OcppInterface", "OptionList", RW, "Wired0",
       values_list=OCPP_INTERFACES, per="slot", required=True),
    _V("NetworkConfiguration", "OcppTransport", "OptionList", RW, "JSON",
       values_list=("JSON",), per="slot", required=True),
    _V("NetworkConfiguration", "OcppVersion", "OptionList", RW, "OCPP21",
       values_list=("OCPP201", "OCPP21"), per="slot", required=True),
    _V("NetworkConfiguration", "MessageTimeout", "integer", RW, "30", unit="s", min=1,
       per="slot", required=True),
    _V("NetworkConfiguration", "SecurityProfile", "integer", RW, "1", min=1, max=3,
       per="slot", required=True),
    _V("NetworkConfiguration", "Identity", "string", RW, None, max=48, per="slot",
       string_format="identifierString"),
    _V("NetworkConfiguration", "BasicAuthPassword", "string", WO, None, max=64,
       per="slot", required=True, string_format="passwordString"),
    _V("NetworkConfiguration", "VpnEnabled", "boolean", RO, "false", per="slot",
       required=True),
    _V("NetworkConfiguration", "ApnEnabled", "boolean", RO, "false", per="slot",
       required=True),
)
# fmt: on

_INT_RE = re.compile(r"0|-?[1-9][0-9]*")
_DEC_RE = re.compile(r"-?[0-9]+(\.[0-9]{1,6})?")  # Part 2 §2: at most 6 decimals to the CS
_DT_RE = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,3})?([Zz]|[+-]\d{2}:\d{2})")
IDENTIFIER_STRING = re.compile(r"[A-Za-z0-9*\-_=:+|@.]*")  # identifierString character set
PASSWORD_MIN = 16  # A00.FR.205: passwordString of at least 16 characters


class _Invalid(ValueError):
    """A value that B05.FR.07/B05.FR.08 (or a use-case rule) makes Rejected."""

    def __init__(self, reason: str, info: str) -> None:
        super().__init__(info)
        self.reason = reason
        self.info = info


def _number(text: str) -> float:
    return float(text)


def _check_range(d: VariableDef, n: float, lo: float | None, hi: float | None) -> None:
    if lo is not None and n < lo:
        raise _Invalid("ValueTooLow", f"{d.shortcut}: {n:g} is below {lo:g}")
    if hi is not None and n > hi:
        raise _Invalid("ValueTooHigh", f"{d.shortcut}: {n:g} is above {hi:g}")


def validate_value(d: VariableDef, value: str) -> str:
    """*value* checked against *d*'s dataType and characteristics; returns it normalised.

    B05.FR.07 (format) and B05.FR.08 (range).  MemberList/SequenceList members are
    stripped of blanks and must be unique values from the values list (Part 2
    VariableCharacteristicsType: OptionList one value, MemberList an unordered
    subset, SequenceList an ordered subset).  Raises ``ValueError`` subclasses.
    """
    t = d.data_type
    if t == "integer":
        if not _INT_RE.fullmatch(value):
            raise _Invalid("InvalidValue", f"{d.shortcut}: {value!r} is not an integer")
        n = int(value)
        _check_range(d, n, _INT32[0], _INT32[1])
        _check_range(d, n, d.min, d.max)
    elif t == "decimal":
        if not _DEC_RE.fullmatch(value):
            raise _Invalid("InvalidValue", f"{d.shortcut}: {value!r} is not a decimal")
        _check_range(d, _number(value), d.min, d.max)
    elif t == "boolean":
        if value not in ("true", "false"):
            raise _Invalid("InvalidValue", f"{d.shortcut}: {value!r} is not true/false")
    elif t == "dateTime":
        if not _DT_RE.fullmatch(value):
            raise _Invalid("InvalidValue", f"{d.shortcut}: {value!r} is not RFC 3339")
        try:
            datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        except ValueError as exc:
            raise _Invalid("InvalidValue", f"{d.shortcut}: {exc}") from None
    elif t == "OptionList":
        if value not in d.values_list:
            raise _Invalid("InvalidValue", f"{d.shortcut}: {value!r} not in valuesList")
    elif t in ("MemberList", "SequenceList"):
        members = [m.strip() for m in value.split(",")] if value.strip() else []
        for m in members:
            if m not in d.values_list:
                raise _Invalid("InvalidValue", f"{d.shortcut}: {m!r} not in valuesList")
        if len(set(members)) != len(members):
            raise _Invalid("InvalidValue", f"{d.shortcut}: duplicate member in {value!r}")
        if d.max_elements is not None and len(members) > d.max_elements:
            raise _Invalid("TooManyElements", f"{d.shortcut}: more than {d.max_elements}")
        value = ",".join(members)
    elif d.string_format == "identifierString" and not IDENTIFIER_STRING.fullmatch(value):
        raise _Invalid("InvalidValue", f"{d.shortcut}: not an identifierString")
    elif d.string_format == "passwordString" and len(value) < PASSWORD_MIN:
        raise _Invalid("InvalidValue", f"{d.shortcut}: shorter than {PASSWORD_MIN}")
    textual = t in ("string", "OptionList", "MemberList", "SequenceList")
    if textual and d.max is not None and len(value) > d.max:
        raise _Invalid("TooLargeElement", f"{d.shortcut}: longer than {d.max:g}")
    return value


def _fold(text: str | None) -> str | None:
    """Names and instances are case-insensitive (ComponentType/VariableType schema)."""
    return text.casefold() if text else None


def _split_shortcut(name: str) -> tuple[str, str | None]:
    """``"Name[inst]"`` -> ``("Name", "inst")``; ``"Name"`` -> ``("Name", None)``."""
    m = re.fullmatch(r"([^\[\]]+)\[([^\[\]]*)\]", name)
    return (m.group(1), m.group(2) or None) if m else (name, None)


@dataclass
class _Instance:
    """One component-variable placed at a location, with its attribute values."""

    d: VariableDef
    component_instance: str | None
    evse: int | None
    connector: int | None
    values: dict[str, str | None]
    order: tuple[int, int, int, int]

    @property
    def component_label(self) -> str:
        ci = self.component_instance
        return f"{self.d.component}[{ci}]" if ci else self.d.component

    @property
    def variable_label(self) -> str:
        return f"{self.d.variable}[{self.d.instance}]" if self.d.instance else self.d.variable

    def component_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.d.component}
        if self.component_instance:
            out["instance"] = self.component_instance
        if self.evse is not None:
            evse: dict[str, Any] = {"id": self.evse}
            if self.connector is not None:
                evse["connectorId"] = self.connector
            out["evse"] = evse
        return out

    def variable_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.d.variable}
        if self.d.instance:
            out["instance"] = self.d.instance
        return out


_Key = tuple[str | None, str | None, int | None, int | None, str | None, str | None]
_Listener = Callable[[str, str, int | None, int | None, str], None]


class DeviceModel:
    """A charging station's device model: its variables placed on EVSEs and connectors.

    *evses* maps EVSE id -> number of connectors (connectors are numbered from 1).
    *overrides* replaces defaults: keys are ``(component, variable)`` where either may
    carry an instance in shortcut notation, e.g. ``("DeviceDataCtrlr",
    "ItemsPerMessage[GetReport]")`` or ``("NetworkConfiguration[0]", "OcppCsmsUrl")``;
    an override applies to every EVSE/connector instance.  *network_slots* are the
    configuration slots (B09.FR.06: at least two).  *clock* supplies
    ClockCtrlr.DateTime.  The defaults (after overrides) are what
    :meth:`reset_to_defaults` returns to.
    """

    def __init__(
        self,
        evses: Mapping[int, int],
        *,
        overrides: Mapping[tuple[str, str], str] | None = None,
        vendor: str = "Conformance",
        model: str = "Emulator",
        variables: Iterable[VariableDef] = VARIABLES,
        network_slots: Iterable[int] = (0, 1),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.evses: dict[int, int] = dict(evses)
        for evse_id, count in self.evses.items():
            if evse_id < 1 or count < 1:
                raise ValueError(f"EVSE {evse_id} with {count} connectors")
        self.network_slots: tuple[str, ...] = tuple(str(s) for s in network_slots)
        self._lock = threading.RLock()
        self._listeners: list[_Listener] = []
        self._providers: dict[_Key, Callable[[], str]] = {}
        self._instances: dict[_Key, _Instance] = {}
        self._components: set[tuple[str | None, str | None, int | None, int | None]] = set()
        slots = self.network_slots
        for index, d in enumerate(variables):
            if d.shortcut == "OCPPCommCtrlr.NetworkConfigurationPriority":
                d = replace(d, values_list=slots, default=d.default or (slots[0] if slots else ""))
            elif d.shortcut == "OCPPCommCtrlr.ActiveNetworkProfile" and d.default is None:
                d = replace(d, default=slots[0] if slots else None)
            for ci, evse, conn, order in self._locations(d, index):
                self._add(_Instance(d, ci, evse, conn, dict.fromkeys(d.attributes), order))
        for var, value in (("VendorName", vendor), ("Model", model)):
            if value and self._find("ChargingStation", None, None, None, var, None):
                self._init_defaults({("ChargingStation", var): value})
        self._init_defaults(overrides or {})
        self._defaults = self.snapshot()
        now = clock or (lambda: datetime.now(UTC))
        if self._find("ClockCtrlr", None, None, None, "DateTime", None):
            self.provide("ClockCtrlr", "DateTime", lambda: _rfc3339(now()))

    # -- construction -------------------------------------------------------------

    def _locations(
        self, d: VariableDef, index: int
    ) -> Iterable[tuple[str | None, int | None, int | None, tuple[int, int, int, int]]]:
        if d.per == "station":
            yield None, None, None, (0, 0, 0, index)
        elif d.per == "slot":
            for n, slot in enumerate(self.network_slots):
                yield slot, None, None, (0, 0, n + 1, index)
        else:
            for evse_id in sorted(self.evses):
                if d.per == "evse":
                    yield None, evse_id, None, (evse_id, 0, 0, index)
                else:
                    for conn in range(1, self.evses[evse_id] + 1):
                        yield None, evse_id, conn, (evse_id, conn, 0, index)

    def _add(self, inst: _Instance) -> None:
        d = inst.d
        comp = (_fold(d.component), _fold(inst.component_instance), inst.evse, inst.connector)
        key = (*comp, _fold(d.variable), _fold(d.instance))
        if key in self._instances:
            raise ValueError(f"duplicate variable {d.shortcut} at {comp}")
        inst.values["Actual"] = d.default if "Actual" in d.attributes else None
        self._instances[key] = inst
        self._components.add(comp)

    def _init_defaults(self, overrides: Mapping[tuple[str, str], str]) -> None:
        for (comp_name, var_name), value in overrides.items():
            comp, ci = _split_shortcut(comp_name)
            var, vi = _split_shortcut(var_name)
            hits = [
                i
                for i in self._instances.values()
                if _fold(i.d.component) == _fold(comp)
                and (ci is None or _fold(i.component_instance) == _fold(ci))
                and _fold(i.d.variable) == _fold(var)
                and _fold(i.d.instance) == _fold(vi)
            ]
            if not hits:
                raise KeyError(f"no variable {comp_name}.{var_name} to override")
            for inst in hits:
                try:
                    inst.values["Actual"] = validate_value(inst.d, value)
                except _Invalid as exc:
                    raise ValueError(f"override {comp_name}.{var_name}: {exc.info}") from None

    # -- internal access (station logic; mutability is not enforced) ----------------

    def _find(
        self,
        component: str,
        component_instance: str | None,
        evse: int | None,
        connector: int | None,
        variable: str,
        instance: str | None,
    ) -> _Instance | None:
        key = (
            _fold(component),
            _fold(component_instance),
            evse,
            connector,
            _fold(variable),
            _fold(instance),
        )
        return self._instances.get(key)

    def _lookup(
        self,
        component: str,
        variable: str,
        evse: int | None,
        connector: int | None,
        instance: str | None,
        attribute: str,
        component_instance: str | None,
    ) -> _Instance:
        inst = self._find(component, component_instance, evse, connector, variable, instance)
        if inst is None:
            where = f" at EVSE {evse} connector {connector}" if evse is not None else ""
            ci = f"[{component_instance}]" if component_instance else ""
            vi = f"[{instance}]" if instance else ""
            raise KeyError(f"unknown variable {component}{ci}.{variable}{vi}{where}")
        if attribute not in inst.d.attributes:
            raise KeyError(f"{inst.d.shortcut} has no {attribute} attribute")
        return inst

    def _value(self, inst: _Instance, attribute: str) -> str | None:
        if attribute == "Actual":
            provider = self._providers.get(self._key_of(inst))
            if provider is not None:
                return provider()
        return inst.values.get(attribute)

    @staticmethod
    def _key_of(inst: _Instance) -> _Key:
        d = inst.d
        return (
            _fold(d.component),
            _fold(inst.component_instance),
            inst.evse,
            inst.connector,
            _fold(d.variable),
            _fold(d.instance),
        )

    def has(
        self,
        component: str,
        variable: str,
        *,
        evse: int | None = None,
        connector: int | None = None,
        instance: str | None = None,
        component_instance: str | None = None,
    ) -> bool:
        """True when the station implements this component-variable at that location."""
        found = self._find(component, component_instance, evse, connector, variable, instance)
        return found is not None

    def definition(
        self,
        component: str,
        variable: str,
        *,
        evse: int | None = None,
        connector: int | None = None,
        instance: str | None = None,
        component_instance: str | None = None,
    ) -> VariableDef:
        """The (effective) table row of a component-variable; ``KeyError`` if unknown."""
        args = (component, variable, evse, connector, instance, "Actual", component_instance)
        return self._lookup(*args).d

    def get(
        self,
        component: str,
        variable: str,
        *,
        evse: int | None = None,
        connector: int | None = None,
        instance: str | None = None,
        attribute: str = "Actual",
        component_instance: str | None = None,
    ) -> str | None:
        """An attribute's value (``None`` when unset), WriteOnly ones included.

        Raises ``KeyError`` for a component-variable or attribute the model lacks.
        """
        with self._lock:
            args = (component, variable, evse, connector, instance, attribute, component_instance)
            return self._value(self._lookup(*args), attribute)

    def set(
        self,
        component: str,
        variable: str,
        value: str,
        *,
        evse: int | None = None,
        connector: int | None = None,
        instance: str | None = None,
        attribute: str = "Actual",
        component_instance: str | None = None,
        validate: bool = True,
        notify: bool = True,
    ) -> None:
        """Station-side write (e.g. AvailabilityState after ChangeAvailability).

        Ignores mutability; checks the value (``ValueError``) unless *validate* is
        false.  Listeners are told when the value changed and *notify* is true.
        """
        with self._lock:
            args = (component, variable, evse, connector, instance, attribute, component_instance)
            inst = self._lookup(*args)
            if validate:
                try:
                    value = validate_value(inst.d, value)
                except _Invalid as exc:
                    raise ValueError(exc.info) from None
            changed = inst.values.get(attribute) != value
            inst.values[attribute] = value
        if changed and notify and attribute == "Actual":
            self._notify([inst])

    def provide(
        self,
        component: str,
        variable: str,
        source: Callable[[], str] | None,
        *,
        evse: int | None = None,
        connector: int | None = None,
        instance: str | None = None,
        component_instance: str | None = None,
    ) -> None:
        """Read the Actual value from *source* on every read (``None`` removes it).

        For live measurements and the clock (ClockCtrlr.DateTime by default).
        """
        with self._lock:
            args = (component, variable, evse, connector, instance, "Actual", component_instance)
            key = self._key_of(self._lookup(*args))
            if source is None:
                self._providers.pop(key, None)
            else:
                self._providers[key] = source

    def int(self, component: str, variable: str, **kw: Any) -> int:
        """The value as an integer (``ValueError`` when unset or not numeric)."""
        value = self.get(component, variable, **kw)
        if value is None or value == "":
            raise ValueError(f"{component}.{variable} has no value")
        return int(float(value)) if "." in value else int(value)

    def decimal(self, component: str, variable: str, **kw: Any) -> float:
        """The value as a float (``ValueError`` when unset or not numeric)."""
        value = self.get(component, variable, **kw)
        if value is None or value == "":
            raise ValueError(f"{component}.{variable} has no value")
        return float(value)

    def bool(self, component: str, variable: str, **kw: Any) -> bool:
        """The value as a boolean: ``"true"`` (any case) is True, anything else False."""
        value = self.get(component, variable, **kw)
        return (value or "").strip().lower() == "true"

    def list(self, component: str, variable: str, **kw: Any) -> list[str]:
        """A (CSV) list value's members, in order; ``[]`` when unset or empty."""
        value = self.get(component, variable, **kw) or ""
        return [m.strip() for m in value.split(",") if m.strip()]

    def on_change(self, callback: _Listener) -> None:
        """Register ``callback(component, variable, evse, connector, value)``.

        Called after an Accepted SetVariables item is applied (B05.FR.10) and after a
        station-side :meth:`set` that changed an Actual value.  Instances use the
        shortcut notation: ``"MessageAttempts[TransactionEvent]"``,
        ``"NetworkConfiguration[1]"``.  Callbacks run outside the model's lock.
        """
        self._listeners.append(callback)

    def _notify(self, changed: Iterable[_Instance]) -> None:
        for inst in changed:
            value = inst.values.get("Actual") or ""
            for callback in list(self._listeners):
                callback(
                    inst.component_label, inst.variable_label, inst.evse, inst.connector, value
                )

    # -- B06 Get Variables ----------------------------------------------------------

    def _resolve(
        self, component: Mapping[str, Any], variable: Mapping[str, Any]
    ) -> _Instance | str:
        """The instance a ComponentType/VariableType pair addresses, or the Unknown* status.

        An absent or empty instance addresses the instance-less component/variable
        only (B06.FR.14, B06.FR.15).
        """
        evse_json = component.get("evse") or {}
        evse = evse_json.get("id") if evse_json else None
        connector = evse_json.get("connectorId") if evse_json else None
        comp = (
            _fold(component.get("name")),
            _fold(component.get("instance")),
            evse,
            connector,
        )
        if comp not in self._components:
            return "UnknownComponent"  # B05.FR.04, B06.FR.06
        key = (*comp, _fold(variable.get("name")), _fold(variable.get("instance")))
        return self._instances.get(key) or "UnknownVariable"  # B05.FR.05, B06.FR.07

    def _reporting_limit(self) -> int:
        inst = self._find("DeviceDataCtrlr", None, None, None, "ReportingValueSize", None)
        value = inst.values.get("Actual") if inst else None
        return min(int(value), 2500) if value else 2500

    def get_variables(self, request_items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """GetVariableResult items for a GetVariablesRequest's getVariableData (B06).

        One result per item, in order (B06.FR.01), echoing component and variable
        (B06.FR.02) and always carrying attributeType, Actual when the request had
        none (B06.FR.03, B06.FR.11).  attributeValue only with Accepted (B06.FR.04,
        B06.FR.06-B06.FR.10), "" for a supported but unset attribute (B06.FR.13),
        cut to ReportingValueSize.
        """
        results: list[dict[str, Any]] = []
        with self._lock:
            limit = self._reporting_limit()
            for item in request_items:
                attribute = item.get("attributeType") or "Actual"
                component = item.get("component") or {}
                variable = item.get("variable") or {}
                result: dict[str, Any] = {
                    "attributeType": attribute,
                    "component": copy.deepcopy(component),
                    "variable": copy.deepcopy(variable),
                }
                found = self._resolve(component, variable)
                if isinstance(found, str):
                    result["attributeStatus"] = found
                elif attribute not in found.d.attributes:
                    result["attributeStatus"] = "NotSupportedAttributeType"  # B06.FR.08
                elif found.d.mutability_of(attribute) == WO:
                    result["attributeStatus"] = "Rejected"  # B06.FR.09
                    result["attributeStatusInfo"] = {"reasonCode": "WriteOnly"}
                else:
                    value = self._value(found, attribute) or ""
                    result["attributeStatus"] = "Accepted"  # B06.FR.10
                    result["attributeValue"] = value[:limit]
                results.append(result)
        return results

    # -- B05 Set Variables ----------------------------------------------------------

    def _check_set(self, inst: _Instance, attribute: str, value: str) -> tuple[str, str]:
        """(normalised value, status) for a set, or ``_Invalid`` (-> Rejected)."""
        d = inst.d
        size = self._find("DeviceDataCtrlr", None, None, None, "ConfigurationValueSize", None)
        max_size = size.values.get("Actual") if size else None
        if max_size and len(value) > int(max_size):
            raise _Invalid("TooLargeElement", f"longer than ConfigurationValueSize {max_size}")
        value = validate_value(d, value)  # B05.FR.07, B05.FR.08
        if d.data_type in ("integer", "decimal"):
            self._check_set_limits(inst, attribute, _number(value))
        if d.mutability_of(attribute) == RO:  # B05.FR.09
            raise _Invalid("ReadOnly", f"{d.shortcut} is read-only")
        if d.component == "NetworkConfiguration":
            priority = self.list("OCPPCommCtrlr", "NetworkConfigurationPriority")
            if inst.component_instance in priority:  # B09.FR.22
                raise _Invalid("InvalidValue", f"slot {inst.component_instance} is in use")
        status = "RebootRequired" if d.reboot_required else "Accepted"
        if d.shortcut == "OCPPCommCtrlr.NetworkConfigurationPriority":
            status = self._check_priority(value)
        return value, status

    def _check_set_limits(self, inst: _Instance, attribute: str, n: float) -> None:
        """MinSet/MaxSet bound Actual and Target, and each other (Part 1 §3.3)."""
        values = inst.values
        lo = values.get("MinSet") if attribute in ("Actual", "Target", "MaxSet") else None
        hi = values.get("MaxSet") if attribute in ("Actual", "Target", "MinSet") else None
        _check_range(inst.d, n, _number(lo) if lo else None, _number(hi) if hi else None)

    def _check_priority(self, value: str) -> str:
        """NetworkConfigurationPriority: B09.FR.20, B10.FR.01, B10.FR.02."""
        new = [m for m in value.split(",") if m]
        if not new:
            raise _Invalid("InvalidValue", "NetworkConfigurationPriority cannot be empty")
        for slot in new:
            url = self._find("NetworkConfiguration", slot, None, None, "OcppCsmsUrl", None)
            if url is not None and not url.values.get("Actual"):  # B10.FR.02
                raise _Invalid("InvalidValue", f"slot {slot} has no configuration")
        current = self.list("OCPPCommCtrlr", "NetworkConfigurationPriority")
        removal_only = [s for s in current if s in new] == new
        return "Accepted" if removal_only else "RebootRequired"  # B09.FR.20 / B10.FR.01

    def set_variables(self, request_items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """SetVariableResult items for a SetVariablesRequest's setVariableData (B05).

        One result per item in order (B05.FR.01), echoing component and variable
        (B05.FR.02) with attributeType, Actual when absent (B05.FR.03, B05.FR.12).
        Statuses: UnknownComponent (B05.FR.04), UnknownVariable (B05.FR.05),
        NotSupportedAttributeType (B05.FR.06), Rejected for a badly formatted or
        out-of-range value (B05.FR.07, B05.FR.08) or a ReadOnly attribute
        (B05.FR.09), else Accepted (B05.FR.10) or RebootRequired.  Items are applied
        one after another; Accepted ones are applied and reported to listeners,
        RebootRequired ones are stored (for the next boot) without notification.
        """
        results: list[dict[str, Any]] = []
        changed: list[_Instance] = []
        with self._lock:
            for item in request_items:
                attribute = item.get("attributeType") or "Actual"
                component = item.get("component") or {}
                variable = item.get("variable") or {}
                result: dict[str, Any] = {
                    "attributeType": attribute,
                    "component": copy.deepcopy(component),
                    "variable": copy.deepcopy(variable),
                }
                results.append(result)
                found = self._resolve(component, variable)
                if isinstance(found, str):
                    result["attributeStatus"] = found
                    continue
                if attribute not in found.d.attributes:
                    result["attributeStatus"] = "NotSupportedAttributeType"  # B05.FR.06
                    continue
                try:
                    value, status = self._check_set(
                        found, attribute, item.get("attributeValue", "")
                    )
                except _Invalid as exc:
                    result["attributeStatus"] = "Rejected"
                    info = {"reasonCode": exc.reason, "additionalInfo": exc.info[:1024]}
                    result["attributeStatusInfo"] = info
                    continue
                result["attributeStatus"] = status
                found.values[attribute] = value
                if status == "Accepted" and attribute == "Actual":
                    changed.append(found)
                    changed.extend(self._propagate(found, value))
        self._notify(changed)
        return results

    def _propagate(self, inst: _Instance, value: str) -> list[_Instance]:
        """B09.FR.26/B09.FR.27: SecurityCtrlr Identity/BasicAuthPassword to every slot."""
        if inst.d.component != "SecurityCtrlr" or inst.d.variable not in (
            "Identity",
            "BasicAuthPassword",
        ):
            return []
        out = []
        for slot in self.network_slots:
            target = self._find("NetworkConfiguration", slot, None, None, inst.d.variable, None)
            if target is not None:
                target.values["Actual"] = value
                out.append(target)
        return out

    # -- B09/B10 helpers ------------------------------------------------------------

    def set_network_profile(self, slot: int, profile: Mapping[str, Any]) -> str:
        """Store a SetNetworkProfileRequest connectionData in slot *slot*.

        Returns "Accepted" (B09.FR.01, B09.FR.09: every NetworkConfiguration variable
        of that slot updated) or "Rejected" (B09.FR.02 invalid content, B09.FR.05 slot
        not in NetworkConfigurationPriority's valuesList).  APN/VPN are unsupported, so
        ApnEnabled/VpnEnabled stay false (B09.FR.11, B09.FR.13).
        """
        fields = {
            "OcppCsmsUrl": profile.get("ocppCsmsUrl"),
            "OcppInterface": profile.get("ocppInterface"),
            "OcppTransport": profile.get("ocppTransport"),
            "OcppVersion": profile.get("ocppVersion"),
            "MessageTimeout": profile.get("messageTimeout"),
            "SecurityProfile": profile.get("securityProfile"),
            "Identity": profile.get("identity"),
            "BasicAuthPassword": profile.get("basicAuthPassword"),
        }
        name = str(slot)
        if name not in self.network_slots or profile.get("apn") or profile.get("vpn"):
            return "Rejected"
        with self._lock:
            staged: list[tuple[_Instance, str]] = []
            for var, raw in fields.items():
                inst = self._find("NetworkConfiguration", name, None, None, var, None)
                if inst is None or raw is None:
                    continue
                try:
                    staged.append((inst, validate_value(inst.d, str(raw))))
                except _Invalid:
                    if var == "OcppVersion":  # ignored in 2.1 (SetNetworkProfileRequest)
                        continue
                    return "Rejected"
            if not any(i.d.variable == "OcppCsmsUrl" and v for i, v in staged):
                return "Rejected"
            for inst, value in staged:
                inst.values["Actual"] = value
        return "Accepted"

    def network_profile(self, slot: int | str) -> dict[str, str | None]:
        """The NetworkConfiguration variables of *slot* as ``{variable: value}``."""
        name = str(slot)
        with self._lock:
            return {
                i.d.variable: i.values.get("Actual")
                for i in self._instances.values()
                if i.d.component == "NetworkConfiguration" and i.component_instance == name
            }

    def activate_network_profile(self, slot: int | str) -> None:
        """Make *slot* the active connection: ActiveNetworkProfile, and B09.FR.28.

        SecurityCtrlr.Identity/BasicAuthPassword/SecurityProfile take the slot's
        values where the slot has them.
        """
        profile = self.network_profile(slot)
        self.set("OCPPCommCtrlr", "ActiveNetworkProfile", str(slot))
        for var in ("Identity", "BasicAuthPassword", "SecurityProfile"):
            value = profile.get(var)
            if value and self.has("SecurityCtrlr", var):
                self.set("SecurityCtrlr", var, value)

    # -- B07 Get Base Report --------------------------------------------------------

    def _sorted(self) -> list[_Instance]:
        return sorted(self._instances.values(), key=lambda i: i.order)

    def _in_summary(self, inst: _Instance) -> bool:
        """B07.FR.09: availability of station/EVSEs/connectors, and problem states."""
        d = inst.d
        if d.variable == "AvailabilityState" and d.component in ("ChargingStation", "EVSE"):
            return True
        if d.variable == "AvailabilityState" and d.component == "Connector":
            evse = self._find("EVSE", None, inst.evse, None, "AvailabilityState", None)
            return evse is None or evse.values.get("Actual") != inst.values.get("Actual")
        if d.variable in PROBLEM_VARIABLES and d.data_type == "boolean":
            return self._value(inst, "Actual") == "true"
        return False

    def _report_item(self, inst: _Instance, limit: int) -> dict[str, Any]:
        d = inst.d
        attributes = []
        for attribute in d.attributes:  # B07.FR.11: every supported type, set or not
            mutability = d.mutability_of(attribute)
            entry: dict[str, Any] = {"type": attribute}
            if mutability != WO:  # B07.FR.03: WriteOnly values are never reported
                entry["value"] = (self._value(inst, attribute) or "")[:limit]
            entry["mutability"] = mutability
            entry["persistent"] = mutability != RO or d.constant
            entry["constant"] = d.constant
            attributes.append(entry)
        characteristics: dict[str, Any] = {"dataType": d.data_type}
        if d.unit:
            characteristics["unit"] = d.unit
        if d.min is not None:
            characteristics["minLimit"] = d.min
        if d.max is not None:
            characteristics["maxLimit"] = d.max
        if d.max_elements is not None:
            characteristics["maxElements"] = d.max_elements
        if d.values_list:
            characteristics["valuesList"] = ",".join(d.values_list)
        characteristics["supportsMonitoring"] = d.supports_monitoring
        return {
            "component": inst.component_json(),
            "variable": inst.variable_json(),
            "variableAttribute": attributes,
            "variableCharacteristics": characteristics,
        }

    def report(self, base: str) -> list[dict[str, Any]]:
        """reportData items (ReportDataType) of a GetBaseReport *base* (B07).

        ConfigurationInventory: every variable the CSMS can set (B07.FR.07);
        FullInventory: all (B07.FR.08); SummaryInventory: AvailabilityState of the
        station and EVSEs, of connectors where it differs from their EVSE, and
        Problem/Tripped/Overload/Fallback variables that are true (B07.FR.09).
        WriteOnly values are left out (B07.FR.03).  Raises ``ValueError`` for an
        unknown base (the station answers NotSupported, B07.FR.02).
        """
        if base not in REPORT_BASES:
            raise ValueError(f"unsupported reportBase {base!r}")
        with self._lock:
            limit = self._reporting_limit()
            items = []
            for inst in self._sorted():
                if base == "ConfigurationInventory" and not inst.d.writable:
                    continue
                if base == "SummaryInventory" and not self._in_summary(inst):
                    continue
                items.append(self._report_item(inst, limit))
            return items

    # -- persistence ----------------------------------------------------------------

    def snapshot(self, *, persistent_only: bool = False) -> dict[str, Any]:
        """All stored attribute values as JSON-serialisable data.

        With *persistent_only*, only writable attributes and constants (Part 2
        chapter 2 "General requirements": writable variables are persistent).
        Values from :meth:`provide` sources are not stored.
        """
        rows = []
        with self._lock:
            for inst in self._sorted():
                d = inst.d
                for attribute in d.attributes:
                    if persistent_only and d.mutability_of(attribute) == RO and not d.constant:
                        continue
                    rows.append(
                        [
                            d.component,
                            inst.component_instance,
                            inst.evse,
                            inst.connector,
                            d.variable,
                            d.instance,
                            attribute,
                            inst.values.get(attribute),
                        ]
                    )
        return {"values": rows}

    def restore(self, snapshot: Mapping[str, Any]) -> None:
        """Load values from :meth:`snapshot`; rows the model lacks are ignored.

        No validation and no listener calls: the data came from this model.
        """
        with self._lock:
            for comp, ci, evse, conn, var, vi, attribute, value in snapshot.get("values", ()):
                inst = self._find(comp, ci, evse, conn, var, vi)
                if inst is not None and attribute in inst.d.attributes:
                    inst.values[attribute] = value

    def reset_to_defaults(self) -> None:
        """Every value back to its default (after constructor overrides)."""
        self.restore(self._defaults)


def _rfc3339(moment: datetime) -> str:
    """UTC RFC 3339 with milliseconds (Part 2 §2 dateTime: at most 3 decimals)."""
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def chunk_report(items: list[dict[str, Any]], items_per_message: int) -> list[list[dict[str, Any]]]:
    """Split reportData over NotifyReportRequests of at most *items_per_message* items.

    B07.FR.03 allows one or more messages; an empty report is one message with no
    reportData (``[[]]``).  *items_per_message* is normally
    DeviceDataCtrlr.ItemsPerMessage[GetReport].
    """
    if items_per_message < 1:
        raise ValueError("items_per_message must be at least 1")
    if not items:
        return [[]]
    return [items[i : i + items_per_message] for i in range(0, len(items), items_per_message)]


def notify_report_requests(
    items: list[dict[str, Any]],
    *,
    request_id: int,
    items_per_message: int,
    generated_at: str | None = None,
) -> list[dict[str, Any]]:
    """NotifyReportRequest payloads for one report: same requestId in each (B07.FR.04),
    seqNo from 0 (B07.FR.10), tbc true on all but the last."""
    stamp = generated_at or _rfc3339(datetime.now(UTC))
    chunks = chunk_report(items, items_per_message)
    out = []
    for seq, chunk in enumerate(chunks):
        payload: dict[str, Any] = {
            "requestId": request_id,
            "generatedAt": stamp,
            "seqNo": seq,
            "tbc": seq < len(chunks) - 1,
        }
        if chunk:
            payload["reportData"] = chunk
        out.append(payload)
    return out
