"""Fuzz target for OCPP 2.1 / 2.0.1 charging stations; we play their CSMS.

Only CSMS-to-station CALLs are sent (:data:`CSMS_ACTIONS`, the one table of the
actions a station must accept, per the PDU direction of OCPP 2.1 Part 2 chapter 1
"Messages"); the station's own CALLs (boot, heartbeats, status, transactions) keep
flowing, answered by :class:`conformance.devices.ocpp.Csms`.

Case families (the first byte picks one; zero bytes: a minimal valid
GetVariablesRequest):

``valid``
    a payload valid against the official request schema (boundary values from
    :mod:`fuzz.json_schema`); the station must answer CALLRESULT (Part 4 §4.2.2).
``mutated:<keyword>``
    the same with exactly one constraint broken (:func:`fuzz.json_schema.mutate`).
``frame:<kind>``
    frame-level breakage: text that is not JSON, unknown or non-integer message
    types, unknown actions (§4.1.6), message ids reused / not strings / empty / of
    exactly 36 characters (§4.1.4), wrong element counts, payloads that are not
    objects, unsolicited responses, CALLs of station-to-CSMS actions, valid frames
    in unusual JSON spelling, and large frames (up to 256 KiB, far below the 1 MiB
    both sides here accept; Part 4 sets no limit, so a station that closes the link
    over its own limit is waited for, not reported).
``msgtype:<n>``
    CALLRESULTERROR (5) and SEND (6): unknown message types for a 2.0.1 station
    (Part 4 §4.1.3), SEND never answered by a 2.1 one (Part 4 §4.2.4).
``setvar``
    SetVariablesRequest on the variables :meth:`OcppTarget.check_state` watches.
``random``
    arbitrary text (and now and then binary) frames.
``control``
    a driver / EV action through the station's control API (the stateful machine,
    :mod:`fuzz.ocpp_machine`).

Oracle (OCPP 2.1 Part 4 chapter 4).  A CALLERROR is demanded (§4.1.7) for an
unknown action (NotImplemented, §4.3 Table 9), a frame that is not JSON (message id
"-1" when it cannot be read, §4.2.3), a missing required field and a value of the
wrong data type (codes of those classes, §4.3; RpcFrameworkError too where the
payload is no object at all or the action is empty).  Other schema violations (enum,
lengths, ranges, formats, undefined properties, item counts) may be refused
(§4.1.2) or dropped (§4.2.3), so any answer is accepted there.  A schema-valid CALL
answered with a payload-format error code is ``error-reply``; an invalid one
answered CALLRESULT where a CALLERROR is demanded ``accepted-invalid``; a CALLRESULT
that breaks the response schema or an error code outside Table 9 ``malformed-reply``;
an answer with another message id (§4.1.4, §4.2.2), an answer to a SEND or to an
unknown message type (§4.2.4, §4.1.3), a CALLRESULTERROR answering a CALL, an
errorDescription over 255 characters or a wrong Table 9 code
``protocol-violation``; no answer where one is demanded ``no-response``.  Frames
the station sends on its own are checked as :class:`~conformance.devices.ocpp.OcppStation`
checks them (JSON, framing, message ids, schemas).  Where we break a CSMS-side rule
on purpose (more items or bytes than ItemsPerMessage / BytesPerMessage allow,
B05.FR.11, B06.FR.05/.16/.17, B08.FR.06/.17/.18, N06.FR.04/.06/.07, D01.FR.11) any
answer is accepted.

Destructive CALLs (:data:`CSMS_ACTIONS` rows ``invalid-only``: reboot, firmware,
certificates, network profiles, reservations, remote starts) are only sent with a
missing required field or a value of the wrong type, which the station must refuse;
ChangeAvailability is sent valid with operationalStatus Operative only.  SetVariables
names real variables only in the ``setvar`` family, and only the watched ones
(restored in :meth:`OcppTarget.begin`); SecurityCtrlr.BasicAuthPassword only without
a value.  Generated values keep the Part 2 §2.1.4 datatype limits the schemas do
not express (32-bit integers, at most three fractional digits in a dateTime).

Message ids: a frame holding the placeholder ``"~id~"`` gets a fresh id when sent
(Part 4 §4.1.4 wants ours unique), ``"~prev~"`` the id of the program's previous
frame (the reused-id case).

Reconnection: when the station drops the link, :meth:`OcppTarget.run` waits for it
to dial in again for the Part 4 §5.4 back-off (RetryBackOffWaitMinimum plus
RetryBackOffRandomRange, read from the station) plus the reply bound; a station
that comes back costs the case its answer (``no-response`` where one was demanded,
nothing for frames that may be dropped); one that does not raises
:class:`~conformance.errors.DeviceUnreachable`.  With the built-in emulator every
program starts from its reset state (:meth:`OcppTarget.begin`).
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any, ClassVar

from websockets.exceptions import ConnectionClosed

from conformance.devices.ocpp import OWN_ANSWERS, SECRET_VARIABLES, OcppStation
from conformance.emulators.base import Emulator
from conformance.errors import DeviceUnreachable, Finding, FrameworkError, NoReply
from conformance.ocpp import rpc, schemas
from conformance.transports.base import Deadline
from fuzz import json_schema
from fuzz.case import Case, Observation
from fuzz.source import ByteSource
from fuzz.target import Target

PROTOCOL = "ocpp"

# ---------------------------------------------------------------- the action table
VALID = "valid"  # sent valid and mutated
PINNED = "pinned"  # sent valid with some fields fixed (PINS), and mutated
INVALID_ONLY = "invalid-only"  # destructive: only with a field missing or of the wrong type

#: Every CSMS-to-station action (OCPP 2.1 Part 2 chapter 1, PDU direction; 2.0.1
#: the subset its schemas define) -> (policy, why).  GetVariables comes first: the
#: plainest case.  Station-to-CSMS actions are the others of the version's schemas.
CSMS_ACTIONS: dict[str, tuple[str, str]] = {
    "GetVariables": (VALID, "B06"),
    "AdjustPeriodicEventStream": (VALID, "N02 (2.1)"),
    "AFRRSignal": (VALID, "R04 (2.1): a transient set point"),
    "CancelReservation": (VALID, "H02"),
    "CertificateSigned": (INVALID_ONLY, "A02/A03: would replace the station's certificate"),
    "ChangeAvailability": (PINNED, "G03/G04: Operative only, never takes EVSEs out"),
    "ChangeTransactionTariff": (VALID, "I (2.1)"),
    "ClearCache": (VALID, "C11"),
    "ClearChargingProfile": (VALID, "K10"),
    "ClearDERControl": (VALID, "R (2.1)"),
    "ClearDisplayMessage": (VALID, "O05"),
    "ClearTariffs": (VALID, "I (2.1)"),
    "ClearVariableMonitoring": (VALID, "N06"),
    "CostUpdated": (VALID, "I03"),
    "CustomerInformation": (VALID, "N09"),
    "DataTransfer": (VALID, "P01"),
    "DeleteCertificate": (INVALID_ONLY, "M04: could delete the CSMS root certificate"),
    "GetBaseReport": (VALID, "B07"),
    "GetChargingProfiles": (VALID, "K09"),
    "GetCompositeSchedule": (VALID, "K08"),
    "GetDERControl": (VALID, "R (2.1)"),
    "GetDisplayMessages": (VALID, "O02"),
    "GetInstalledCertificateIds": (VALID, "M03"),
    "GetLocalListVersion": (VALID, "D02"),
    "GetLog": (VALID, "N01"),
    "GetMonitoringReport": (VALID, "N02"),
    "GetPeriodicEventStream": (VALID, "N (2.1)"),
    "GetReport": (VALID, "B08"),
    "GetTariffs": (VALID, "I (2.1)"),
    "GetTransactionStatus": (VALID, "E14"),
    "InstallCertificate": (INVALID_ONLY, "M05: would install a root certificate"),
    "NotifyAllowedEnergyTransfer": (VALID, "K (2.1)"),
    "NotifyWebPaymentStarted": (VALID, "C (2.1)"),
    "PublishFirmware": (INVALID_ONLY, "L03: downloads firmware"),
    "RequestBatterySwap": (INVALID_ONLY, "S (2.1): authorizes a swap"),
    "RequestStartTransaction": (INVALID_ONLY, "F01: would authorize and start charging"),
    "RequestStopTransaction": (VALID, "F03"),
    "ReserveNow": (INVALID_ONLY, "H01: would reserve an EVSE until expiryDateTime"),
    "Reset": (INVALID_ONLY, "B11/B12: reboots the station"),
    "SendLocalList": (VALID, "D01"),
    "SetChargingProfile": (INVALID_ONLY, "K01: could limit charging for good"),
    "SetDERControl": (INVALID_ONLY, "R (2.1): could curtail power for good"),
    "SetDefaultTariff": (VALID, "I (2.1)"),
    "SetDisplayMessage": (VALID, "O01"),
    "SetMonitoringBase": (VALID, "N03"),
    "SetMonitoringLevel": (VALID, "N05"),
    "SetNetworkProfile": (INVALID_ONLY, "B09: could change the CSMS the station dials"),
    "SetVariableMonitoring": (VALID, "N04"),
    "SetVariables": (PINNED, "B05: watched variables only, restored in begin()"),
    "TriggerMessage": (VALID, "F06"),
    "UnlockConnector": (VALID, "F05"),
    "UnpublishFirmware": (INVALID_ONLY, "L04: stops publishing firmware"),
    "UpdateDynamicSchedule": (VALID, "K (2.1)"),
    "UpdateFirmware": (INVALID_ONLY, "L01: installs firmware and reboots"),
    "UsePriorityCharging": (VALID, "K (2.1)"),
}

# ---------------------------------------------------------------- error codes
#: Part 4 §4.3 Table 9 codes about a payload's format
PAYLOAD_CODES = frozenset(
    {
        "FormatViolation",
        "OccurrenceConstraintViolation",
        "PropertyConstraintViolation",
        "ProtocolError",
        "TypeConstraintViolation",
    }
)
#: codes that say a schema-valid, well-framed CALL is not (error-reply)
WRONG_FOR_VALID = PAYLOAD_CODES | {"RpcFrameworkError", "MessageTypeNotSupported"}
#: an action the station does not implement may always say so (Table 9)
UNSUPPORTED = frozenset({"NotImplemented", "NotSupported"})
#: mutation keyword -> CALLERROR codes of its class (Table 9); None: no CALLERROR demanded
DEMANDED: dict[str, frozenset[str]] = {
    "required": frozenset({"OccurrenceConstraintViolation", "FormatViolation", "ProtocolError"}),
    # a wrong type on an enum field leaves the enum too
    "type": frozenset(
        {
            "TypeConstraintViolation",
            "FormatViolation",
            "ProtocolError",
            "PropertyConstraintViolation",
        }
    ),
}

# ---------------------------------------------------------------- limits we must keep
#: action -> (component, ItemsPerMessage instance, BytesPerMessage instance, array field)
LIMITS: dict[str, tuple[str, str | None, str | None, str]] = {
    "GetVariables": ("DeviceDataCtrlr", "GetVariables", "GetVariables", "getVariableData"),
    "SetVariables": ("DeviceDataCtrlr", "SetVariables", "SetVariables", "setVariableData"),
    "GetReport": ("DeviceDataCtrlr", "GetReport", "GetReport", "componentVariable"),
    "GetMonitoringReport": ("DeviceDataCtrlr", "GetReport", "GetReport", "componentVariable"),
    "SetVariableMonitoring": (
        "MonitoringCtrlr",
        "SetVariableMonitoring",
        "SetVariableMonitoring",
        "setMonitoringData",
    ),
    "ClearVariableMonitoring": (
        "MonitoringCtrlr",
        "ClearVariableMonitoring",
        "ClearVariableMonitoring",
        "id",
    ),
    "SendLocalList": ("LocalAuthListCtrlr", None, None, "localAuthorizationList"),
}


# ---------------------------------------------------------------- watched variables
@dataclass(frozen=True)
class Watched:
    """A device-model variable :meth:`OcppTarget.check_state` reads before and after."""

    component: str
    variable: str
    instance: str | None = None  # the variable's instance

    @property
    def key(self) -> str:
        inst = f"[{self.instance}]" if self.instance else ""
        return f"{self.component}.{self.variable}{inst}"

    def ref(self) -> dict[str, Any]:
        variable: dict[str, Any] = {"name": self.variable}
        if self.instance:
            variable["instance"] = self.instance
        return {"component": {"name": self.component}, "variable": variable}


#: writable integers every station has (Part 2 §2.1.9, §2.1.12, §2.7.1, §2.9.11) and
#: one ReadOnly one (§2.1.3, B05.FR.09: never Accepted, never changed)
WATCHED: tuple[Watched, ...] = (
    Watched("TxCtrlr", "EVConnectionTimeOut"),
    Watched("OCPPCommCtrlr", "OfflineThreshold"),
    Watched("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent"),
    Watched("SampledDataCtrlr", "TxUpdatedInterval"),
    Watched("OCPPCommCtrlr", "MessageTimeout", "Default"),
)
#: written only without attributeValue (the message must be refused)
SECRET = Watched("SecurityCtrlr", SECRET_VARIABLES[0])
#: values written to watched variables: valid ones first, then bad formats / ranges
VALUES = ("120", "30", "0", "600", "-1", "abc", "", "1.5", "99999999999", " 60")
#: variables read in start(): back-off (Part 4 §8.1-§8.3) and authorization (C01.FR.01)
BACKOFF = (
    Watched("OCPPCommCtrlr", "RetryBackOffWaitMinimum"),
    Watched("OCPPCommCtrlr", "RetryBackOffRandomRange"),
)
AUTH_ENABLED = Watched("AuthCtrlr", "Enabled")
#: reconnection back-off (emulated s) assumed when the station does not report its own
DEFAULT_BACKOFF_S = 30.0

# ---------------------------------------------------------------- CSMS set-up
#: idToken -> the status our CSMS answers for it (C01, C03); other idTokens are Accepted
TOKENS: dict[str, str] = {
    "FZ-OK-1": "Accepted",
    "FZ-OK-2": "Accepted",
    "FZ-INVALID": "Invalid",
    "FZ-BLOCKED": "Blocked",
    "FZ-EXPIRED": "Expired",
    "FZ-UNKNOWN": "Unknown",
}

# ---------------------------------------------------------------- frames
#: replaced by a fresh message id when the frame is sent
FRESH = "~id~"
#: replaced by the message id of the program's previous frame
PREVIOUS = "~prev~"
FAMILIES = ("valid", "mutated", "frame", "msgtype", "setvar", "random")
FRAME_KINDS = (
    "json-variant",
    "bad-json",
    "unknown-action",
    "unknown-type",
    "type-not-int",
    "payload-type",
    "duplicate-id",
    "id-type",
    "id-length",
    "arity",
    "response",
    "wrong-direction",
    "oversized",
)
#: message type numbers outside Part 4 §4.1.3 Table 3 (ignored, §4.1.3, §4.4)
UNKNOWN_TYPES = (7, 0, 1, 8, 99, -1, 2**31)
NOT_INTEGERS: tuple[Any, ...] = ("2", 2.0, True, None, [2], 2.5)
UNREADABLE_IDS: tuple[Any, ...] = (4711, None, True, {}, [], 1.5)
#: message id lengths: 36 (Table 4's limit) and 0.  Longer ids are left out: the
#: answer echoes them, and the CSMS side answers that unreadable answer with a
#: CALLERROR, which the station answers again, without end.
ID_LENGTHS = (36, 0)
OVERSIZED = (4096, 65536, 262144)
ACTION_SPELLINGS = ("lower", "upper", "suffix", "empty", "space", "unknown")
UNKNOWN_ACTION = "ConformanceNoSuchAction"
SEND_ACTION = "NotifyPeriodicEventStream"
PART4 = "OCPP 2.1 Part 4"


def _dump(value: Any, **kw: Any) -> str:
    kw.setdefault("separators", (",", ":"))
    return json.dumps(value, ensure_ascii=False, allow_nan=False, **kw)


def _is_json(text: str) -> bool:
    try:
        json.loads(text, parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))
    except (ValueError, RecursionError):
        return False
    return True


@cache
def schema(version: str, name: str) -> dict[str, Any] | None:
    """The official schema *name* (``GetVariablesRequest``) of *version*, without its
    ``$id`` (the ``urn:`` base would break ``#/definitions`` references), or None."""
    folder = {"2.1": "v21", "2.0.1": "v201"}[version]
    path = files("ocpp") / folder / "schemas" / f"{name}.json"
    if not path.is_file():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8-sig"))
    loaded.pop("$id", None)
    return loaded


def csms_actions(version: str) -> list[str]:
    """The CSMS-to-station actions *version* defines, in table order."""
    return [a for a in CSMS_ACTIONS if schema(version, f"{a}Request") is not None]


def station_actions(version: str) -> list[str]:
    """The station-to-CSMS CALL actions of *version* (every other Request schema)."""
    return sorted(
        a
        for a in schemas.actions(version)
        if a not in CSMS_ACTIONS and schema(version, f"{a}Request") is not None
    )


def _items(payload: Any, action: str) -> int:
    row = LIMITS.get(action)
    if row is None or not isinstance(payload, dict):
        return 0
    value = payload.get(row[3])
    return len(value) if isinstance(value, list) else 0


def _norm(value: Any) -> str:
    text = str(value)
    with contextlib.suppress(ValueError):
        return str(int(text.strip()))
    return text


def _reply_ids(value: Any) -> list[str]:
    """The ids an answer to a frame holding *value* may carry: its id when readable,
    and "-1" (Part 4 §4.2.3)."""
    ids = ["-1"]
    if isinstance(value, list) and len(value) > 1:
        mid = value[1]
        if isinstance(mid, str):
            ids.insert(0, mid)
        elif isinstance(mid, int | float) and not isinstance(mid, bool):
            ids.append(_dump(mid))
    return ids


@dataclass
class _Program:
    """What :meth:`OcppTarget.run` keeps while one program runs."""

    cases: Sequence[Case] = ()
    #: message id -> index of the case that sent it
    ids: dict[str, int] = field(default_factory=dict)
    #: message ids of frames that must stay unanswered -> case index
    silent: dict[str, int] = field(default_factory=dict)
    last_id: str | None = None
    minus_one: bool = False  # a frame whose answer may carry "-1" went out
    waiting: int | None = None  # the case whose answer we are waiting for
    alternatives: list[str] = field(default_factory=list)
    found: dict[str, rpc.Message] = field(default_factory=dict)


class OcppTarget(Target):
    """A charging station (``OcppStation``); see the module docstring."""

    protocol: ClassVar[str] = PROTOCOL
    max_program: ClassVar[int] = 8
    case_bytes: ClassVar[int] = 24
    families: ClassVar[tuple[str, ...]] = (*FAMILIES, "control")
    probe_name: ClassVar[str] = "TriggerMessageRequest(Heartbeat)"

    def __init__(self, device: Any) -> None:
        super().__init__(device)
        if not isinstance(device, OcppStation):
            raise FrameworkError(f"the ocpp target needs an OcppStation, not {device!r}")
        self.device: OcppStation = device
        self.version = device.version
        self.actions = csms_actions(self.version)
        self.valid_actions = [a for a in self.actions if CSMS_ACTIONS[a][0] != INVALID_ONLY]
        self.inbound = station_actions(self.version)
        #: (component, variable, instance) -> the station's limit
        self.limits: dict[tuple[str, str, str | None], int] = {}
        #: watched variable key -> value read in start() (absent: not readable)
        self.baseline: dict[str, str] = {}
        #: watched variable key -> the values it may hold now
        self.expected: dict[str, set[str]] = {}
        #: watched variable key -> True when an Accepted valid write set it exactly
        self.written: dict[str, bool] = {}
        self.auth_enabled = True
        self.reconnect_s = device.seconds(DEFAULT_BACKOFF_S) + device.reply_timeout
        self._program = _Program()
        self._older: dict[str, None] = {}  # ids of earlier programs (late answers)
        self._lifecycle: Any = None
        self._mark = 0
        self._started = False

    # ================================================================ cases
    def draw(self, src: ByteSource) -> Case:
        family = src.choice(FAMILIES)
        return getattr(self, f"_draw_{family}")(src)

    def _case(
        self,
        family: str,
        label: str,
        data: str | bytes,
        expect: str,
        ref: str,
        **meta: Any,
    ) -> Case:
        return Case(PROTOCOL, family, label, data, expect, ref, "wire", meta)  # type: ignore[arg-type]

    def _call(self, action: str, payload: Any, mid: str = FRESH) -> str:
        return _dump([rpc.CALL, mid, action, payload])

    def _request(self, action: str) -> dict[str, Any]:
        found = schema(self.version, f"{action}Request")
        assert found is not None, action
        return found

    def _valid_payload(self, src: ByteSource, action: str) -> Any:
        payload = json_schema.generate(src, self._request(action))
        if action == "ChangeAvailability":
            payload["operationalStatus"] = "Operative"
        elif action == "SetVariables":
            payload["setVariableData"] = _distinct(payload["setVariableData"])
        return payload

    def _draw_valid(self, src: ByteSource) -> Case:
        action = src.choice(self.valid_actions)
        payload = self._valid_payload(src, action)
        return self._case(
            "valid",
            f"{action} valid",
            self._call(action, payload),
            "success",
            f"{PART4} §4.2.2; {action}Request schema",
            action=action,
            id="fresh",
            wait="full",
            items=_items(payload, action),
            row=f"{action}/valid",
        )

    def _draw_mutated(self, src: ByteSource) -> Case:
        action = src.choice(self.actions)
        destructive = CSMS_ACTIONS[action][0] == INVALID_ONLY
        request = self._request(action)
        payload = json_schema.generate(src, request)
        if action == "ChangeAvailability":
            payload["operationalStatus"] = "Operative"
        kinds = tuple(DEMANDED) if destructive else json_schema.KINDS
        mutation = json_schema.mutate(src, request, payload, kinds=kinds)
        return self._mutated_case(action, mutation, f"{action} {mutation.constraint}")

    def _mutated_case(
        self, action: str, mutation: json_schema.Mutation, label: str, **meta: Any
    ) -> Case:
        keyword = mutation.keyword
        codes = DEMANDED.get(keyword)
        # a payload that is no object at all may be read as a broken frame (Table 9)
        framing = {"RpcFrameworkError"} if not mutation.path else set()
        where = mutation.path or "(payload)"
        if codes is not None:
            expect, ref = "error", f"{PART4} §4.1.7, §4.3 Table 9"
        else:
            expect, ref = "any", f"{PART4} §4.1.2, §4.2.3"
        return self._case(
            f"mutated:{keyword}",
            f"{label} at {where}",
            self._call(action, mutation.instance),
            expect,
            ref,
            action=action,
            id="fresh",
            wait="full" if codes is not None else "short",
            codes=sorted(codes | UNSUPPORTED | framing) if codes is not None else None,
            items=_items(mutation.instance, action),
            row=f"{action}/{keyword}",
            **meta,
        )

    def _draw_setvar(self, src: ByteSource) -> Case:
        items: list[dict[str, Any]] = []
        tracked: list[list[Any]] = []
        shown: list[str] = []
        seen: set[tuple[str, str | None]] = set()
        secret = False
        for _ in range(1 + src.integer(0, 2)):
            row = src.choice((*WATCHED, SECRET))
            attribute = src.choice((None, None, "Actual", "Target"))
            if (row.key, attribute or "Actual") in seen:
                continue
            seen.add((row.key, attribute or "Actual"))
            item = row.ref()
            if attribute is not None:
                item["attributeType"] = attribute
            if row is SECRET:
                secret = True  # never a value: the message must be refused
                shown.append(f"{row.key} without attributeValue")
            else:
                value = src.choice(VALUES)
                item["attributeValue"] = value
                tracked.append([row.key, value, attribute])
                shown.append(f"{row.key}={value!r}" + (f" ({attribute})" if attribute else ""))
            items.append(item)
        payload = {"setVariableData": items}
        label = "SetVariables " + ", ".join(shown)
        if secret:
            return self._case(
                "setvar",
                label,
                self._call("SetVariables", payload),
                "error",
                f"{PART4} §4.1.7, §4.3 Table 9",
                action="SetVariables",
                id="fresh",
                wait="full",
                codes=sorted(DEMANDED["required"] | UNSUPPORTED),
                items=len(items),
                row="SetVariables/required",
                tracked=tracked,
            )
        if src.chance(30):
            mutation = json_schema.mutate(src, self._request("SetVariables"), payload)
            return self._mutated_case(
                "SetVariables", mutation, f"{label}, {mutation.constraint}", tracked=tracked
            )
        return self._case(
            "setvar",
            label,
            self._call("SetVariables", payload),
            "success",
            f"{PART4} §4.2.2; B05.FR.01-B05.FR.10",
            action="SetVariables",
            id="fresh",
            wait="full",
            items=len(items),
            row="SetVariables/valid",
            tracked=tracked,
            valid=True,
        )

    def _draw_random(self, src: ByteSource) -> Case:
        blob = src.blob(64)
        if src.chance(10):
            return self._case(
                "random",
                f"binary frame of {len(blob)} bytes",
                blob,
                "any",
                f"{PART4} §4.1.2",
                id=None,
                wait="none",
                reply_ids=["-1"],
                row="random/binary",
            )
        text = blob.decode("latin-1")
        if not _is_json(text):
            return self._case(
                "random",
                f"text frame of {len(text)} characters (not JSON)",
                text,
                "error",
                f"{PART4} §4.1.7, §4.2.3",
                id=None,
                wait="full",
                reply_ids=["-1"],
                row="random/not-json",
            )
        return self._case(
            "random",
            f"text frame of {len(text)} characters (JSON)",
            text,
            "any",
            f"{PART4} §4.1.3",
            id=None,
            wait="none",
            reply_ids=_reply_ids(json.loads(text)),
            row="random/json",
        )

    def _draw_msgtype(self, src: ByteSource) -> Case:
        kind = src.choice((rpc.SEND, rpc.CALLRESULTERROR))
        if kind == rpc.SEND:
            send = schema(self.version, SEND_ACTION)
            if send is not None and src.boolean():
                action, payload = SEND_ACTION, json_schema.generate(src, send)
            else:
                action = src.choice(self.valid_actions)
                payload = self._valid_payload(src, action)
            data = _dump([rpc.SEND, FRESH, action, payload])
            label = f"SEND {action}"
        else:
            code = src.choice(sorted(rpc.ERROR_CODES))
            data = _dump([rpc.CALLRESULTERROR, FRESH, code, "", {}])
            label = f"CALLRESULTERROR {code}"
        if self.version == "2.0.1":
            ref = f"{PART4} §4.1.3 (OCPP 2.0.1 defines message types 2-4 only)"
            return self._case(
                f"msgtype:{kind}", label, data, "silence", ref, id="fresh", wait="none"
            )
        if kind == rpc.SEND:
            ref = f"{PART4} §4.2.4"
            return self._case(
                f"msgtype:{kind}", label, data, "silence", ref, id="fresh", wait="none"
            )
        return self._case(
            f"msgtype:{kind}",
            f"unsolicited {label}",
            data,
            "any",
            f"{PART4} §4.2.3",
            id="fresh",
            wait="none",
        )

    # ---------------------------------------------------------------- frame-level
    def _draw_frame(self, src: ByteSource) -> Case:
        kind = src.choice(FRAME_KINDS)
        action = src.choice(self.valid_actions)
        payload = self._valid_payload(src, action)
        family = f"frame:{kind}"
        base: dict[str, Any] = {"action": action, "row": family}
        if kind == "json-variant":
            how = src.integer(0, 3)
            if how == 0:
                data = json.dumps([rpc.CALL, FRESH, action, payload], indent=2)
                label = f"{action} pretty-printed"
            elif how == 1:
                data = " \r\n\t" + _dump(
                    [rpc.CALL, FRESH, action, payload], separators=(", ", ": ")
                )
                data += "\n "
                label = f"{action} with whitespace around"
            elif how == 2:
                escaped = '"' + "".join(f"\\u{ord(c):04x}" for c in action) + '"'
                data = f"[2,{_dump(FRESH)},{escaped},{_dump(payload)}]"
                label = f"{action} with the action spelt in \\u escapes"
            else:
                data = self._call(action, _reversed(payload))
                label = f"{action} with properties in reverse order"
            return self._case(
                family,
                label,
                data,
                "success",
                f"{PART4} §4.1.2 (any valid JSON), §4.2.2",
                id="fresh",
                wait="full",
                items=_items(payload, action),
                **{**base, "row": f"{action}/valid"},
            )
        if kind == "bad-json":
            data, how = _break_json(src, action, payload)
            return self._case(
                family,
                f"{action} frame, not JSON ({how})",
                data,
                "error",
                f"{PART4} §4.1.7, §4.2.3",
                id="fresh",
                wait="full",
                reply_ids=["-1"],
                minus_one=True,
                **base,
            )
        if kind == "unknown-action":
            spelling = src.choice(ACTION_SPELLINGS)
            name = _spell(action, spelling)
            return self._case(
                family,
                f"unknown action {name!r}",
                self._call(name, payload),
                "error",
                f"{PART4} §4.1.6, §4.1.7, §4.3 Table 9",
                id="fresh",
                wait="full",
                # an empty action may be read as a broken frame (Table 9)
                codes=["NotImplemented", *(["RpcFrameworkError"] if not name else [])],
                **{**base, "action": None},
            )
        if kind == "unknown-type":
            number = src.choice(UNKNOWN_TYPES)
            return self._case(
                family,
                f"message type {number}",
                _dump([number, FRESH, action, payload]),
                "silence",
                f"{PART4} §4.1.3, §4.4",
                id="fresh",
                wait="none",
                **base,
            )
        if kind == "type-not-int":
            number = src.choice(NOT_INTEGERS)
            return self._case(
                family,
                f"message type {_dump(number)}",
                _dump([number, FRESH, action, payload]),
                "any",
                f"{PART4} §4.1.3",
                id="fresh",
                wait="short",
                minus_one=True,
                **{**base, "action": None},
            )
        if kind == "payload-type":
            value = src.choice((None, [], "x", 0, True, [payload]))
            request = self._request(action)
            demanded = value is not None or bool(request.get("required"))
            return self._case(
                family,
                f"{action} with payload {_dump(value)[:20]}",
                self._call(action, value),
                "error" if demanded else "any",
                f"{PART4} §4.1.5, §4.1.7, §4.3 Table 9",
                id="fresh",
                wait="full" if demanded else "short",
                codes=sorted(PAYLOAD_CODES | UNSUPPORTED | {"RpcFrameworkError"}),
                minus_one=True,
                **base,
            )
        if kind == "duplicate-id":
            return self._case(
                family,
                f"{action} reusing the previous message id",
                self._call(action, payload, PREVIOUS),
                "any",
                f"{PART4} §4.1.4",
                id="prev",
                wait="short",
                minus_one=True,
                **base,
            )
        if kind == "id-type":
            value = src.choice(UNREADABLE_IDS)
            frame = [rpc.CALL, value, action, payload]
            return self._case(
                family,
                f"{action} with message id {_dump(value)}",
                _dump(frame),
                "any",
                f"{PART4} §4.1.4, §4.2.3",
                id=None,
                wait="short",
                reply_ids=_reply_ids(frame),
                **base,
            )
        if kind == "id-length":
            length = src.choice(ID_LENGTHS)
            valid = 0 < length <= rpc.MAX_ID_LENGTH
            return self._case(
                family,
                f"{action} with a message id of {length} characters",
                self._call(action, payload),
                "success" if valid else "any",
                f"{PART4} §4.1.4 Table 4, §4.2.2",
                id="fresh",
                id_length=length,
                wait="full" if valid else "short",
                minus_one=not valid,
                items=_items(payload, action),
                **{**base, "row": f"{action}/valid" if valid else family},
            )
        if kind == "arity":
            count = src.choice((3, 5, 2, 1, 6))
            frame = [rpc.CALL, FRESH, action, payload, {}, "x"][:count]
            return self._case(
                family,
                f"CALL with {count} elements",
                _dump(frame),
                "any",
                f"{PART4} §4.2.1",
                id="fresh" if count > 1 else None,
                wait="short" if count > 1 else "none",
                minus_one=True,
                reply_ids=None if count > 1 else ["-1"],
                **{**base, "action": None},
            )
        if kind == "response":
            if src.boolean():
                data, label = _dump([rpc.CALLRESULT, FRESH, {}]), "unsolicited CALLRESULT"
            else:
                data = _dump([rpc.CALLERROR, FRESH, "GenericError", "", {}])
                label = "unsolicited CALLERROR"
            return self._case(
                family, label, data, "any", f"{PART4} §4.1.4", id="fresh", wait="none", **base
            )
        if kind == "wrong-direction":
            inbound = src.choice(self.inbound)
            request = json_schema.generate(src, self._request(inbound))
            return self._case(
                family,
                f"{inbound} (a station-to-CSMS message) sent to the station",
                self._call(inbound, request),
                "any",
                f"{PART4} §4.1.7, §4.3 Table 9",
                id="fresh",
                wait="short",
                **{**base, "action": inbound},
            )
        size = src.choice(OVERSIZED)
        large = {"vendorId": "org.conformance.fuzz", "data": "A" * size}
        return self._case(
            family,
            f"DataTransfer of {size} bytes",
            self._call("DataTransfer", large),
            "any",
            f"{PART4} §4.1.2, §5",
            id="fresh",
            wait="full",
            **{**base, "action": "DataTransfer"},
        )

    # ================================================================ running
    def start(self) -> None:
        """Read the station's limits, the watched variables, its back-off and whether
        authorization is enabled; set up our CSMS answers."""
        self._ensure_link()
        self._csms_setup()
        wanted = [*WATCHED, *BACKOFF, AUTH_ENABLED, *self._limit_variables()]
        values = self._read(wanted)
        for row in WATCHED:
            if row.key in values:
                self.baseline[row.key] = values[row.key]
        for row in self._limit_variables():
            with contextlib.suppress(KeyError, ValueError):
                self.limits[(row.component, row.variable, row.instance)] = int(values[row.key])
        backoff = 0.0
        for row in BACKOFF:
            try:
                backoff += float(values[row.key])
            except (KeyError, ValueError):
                backoff = DEFAULT_BACKOFF_S
                break
        self.reconnect_s = self.device.seconds(backoff) + self.device.reply_timeout + 1.0
        self.auth_enabled = values.get(AUTH_ENABLED.key, "true").strip().lower() != "false"
        self._reset_expected()
        self._started = True

    def _limit_variables(self) -> list[Watched]:
        rows: dict[str, Watched] = {}
        for component, items, size, _ in LIMITS.values():
            for name, instance in (("ItemsPerMessage", items), ("BytesPerMessage", size)):
                row = Watched(component, name, instance)
                rows[row.key] = row
        return list(rows.values())

    def _read(self, rows: Sequence[Watched]) -> dict[str, str]:
        """Actual values of *rows* (GetVariables, B06), those the station knows."""
        out: dict[str, str] = {}
        for chunk in _chunks(list(rows), 4):
            try:
                answer = self.device.call(
                    "GetVariables", {"getVariableData": [r.ref() for r in chunk]}, allow_error=True
                )
            except (NoReply, Finding, DeviceUnreachable):
                continue
            if isinstance(answer, rpc.CallError):
                continue
            asked = {r.key.lower(): r.key for r in chunk}  # names are case-insensitive
            for result in answer.get("getVariableResult", []):
                key = asked.get(_result_key(result).lower())
                accepted = result.get("attributeStatus") == "Accepted"
                if key and accepted and "attributeValue" in result:
                    out[key] = str(result["attributeValue"])
        return out

    def _csms_setup(self) -> None:
        """Fixed CSMS answers: the idToken table, and minimal valid answers to the
        station CALLs whose default answer would break their response schema."""
        csms = self.device.csms
        csms.tokens.update(TOKENS)
        for action in self.inbound:
            if action in OWN_ANSWERS or action in csms.handlers:
                continue
            response = schema(self.version, f"{action}Response")
            if response is None or not schemas.check(self.version, action, "Response", {}):
                continue
            answer = json_schema.generate(ByteSource(b""), response)
            csms.on(action, lambda _call, answer=answer: dict(answer))

    @property
    def emulator(self) -> Emulator | None:
        control = self.device.control
        emulator = getattr(control, "emulator", None) if control is not None else None
        return emulator if isinstance(emulator, Emulator) else None

    def begin(self) -> None:
        """The built-in emulator is reset (fresh state, no transaction, defaults);
        a real station gets the watched variables written back to their baseline."""
        if not self._started:
            self.start()
        if self.emulator is not None:
            self.device.control.reset()
            self._reset_expected()
            self._ensure_link()
        else:
            self._ensure_link()
            self._restore()
        self._csms_setup()
        self._lifecycle = None
        self._mark = len(self.device.received())  # the life cycle starts here
        self.device.take_violations()

    def _reset_expected(self) -> None:
        self.expected = {k: {_norm(v)} for k, v in self.baseline.items()}
        self.written = dict.fromkeys(self.baseline, False)

    def _restore(self) -> None:
        changed = [
            r
            for r in WATCHED
            if self.expected.get(r.key, set()) - {_norm(self.baseline.get(r.key))}
        ]
        if changed:
            data = [{**r.ref(), "attributeValue": self.baseline[r.key]} for r in changed]
            with contextlib.suppress(NoReply, Finding, DeviceUnreachable):
                self.device.call("SetVariables", {"setVariableData": data}, allow_error=True)
        self._reset_expected()

    def run(self, cases: Sequence[Case]) -> list[Observation]:
        program = self._program = _Program(cases=cases)
        found: list[Observation] = []
        controls = False
        for index, case in enumerate(cases):
            if case.channel == "control":
                controls = True
                found += self._control(index, case)
            else:
                found += self._wire(index, case)
        if program.silent:
            found += self._sync(len(cases) - 1)
        found += self._take(len(cases) - 1 if cases else None)
        if controls or self._lifecycle is not None:
            found += self.lifecycle().check(len(cases) - 1 if cases else None)
        self._older.update(dict.fromkeys(program.ids))
        while len(self._older) > 4096:
            self._older.pop(next(iter(self._older)))
        return found

    # ---------------------------------------------------------------- link
    def _ensure_link(self) -> None:
        """Wait (Part 4 §5.4 back-off plus the reply bound) for a station that
        dropped the link; raise DeviceUnreachable if it does not come back."""
        if self.device.connected:
            return
        try:
            self.device.wait_connected(self.reconnect_s)
        except NoReply:
            raise DeviceUnreachable(
                f"station {self.device.identity} closed the link and did not dial in again "
                f"within {self.reconnect_s:.1f} s (Part 4 §5.4)"
            ) from None

    # ---------------------------------------------------------------- wire cases
    def _fresh(self, length: int | None = None) -> str:
        mid = f"fz-{uuid.uuid4().hex}"
        if length is not None:
            mid = (mid + "x" * length)[:length]
        return mid

    def _wire(self, index: int, case: Case) -> list[Observation]:
        program, meta = self._program, case.meta
        data = case.data
        mid: str | None = None
        if meta.get("id") == "fresh":
            mid = self._fresh(meta.get("id_length"))
            if isinstance(data, str):
                data = data.replace(_dump(FRESH), _dump(mid), 1)
        elif meta.get("id") == "prev":
            mid = program.last_id or self._fresh()
            if isinstance(data, str):
                data = data.replace(_dump(PREVIOUS), _dump(mid), 1)
        # the id the answer most likely carries first: the frame's own, or "-1"
        # where it cannot be read (reply_ids)
        ids = list(meta.get("reply_ids") or [])
        if mid is not None:
            ids = [*ids, mid] if ids else [mid]
            if meta.get("minus_one") and "-1" not in ids:
                ids.append("-1")
            program.last_id = mid
        for reply_id in ids:
            program.ids.setdefault(reply_id, index)
        if "-1" in ids:
            program.minus_one = True
        wait = meta.get("wait", "full")
        if case.expect == "silence" and mid is not None:
            program.silent[mid] = index
        self._ensure_link()
        if wait == "none":
            self._send(data)
            return self._take(index)
        timeout = self.device.reply_timeout
        if wait == "short":
            timeout = min(timeout, max(0.5, timeout / 5))
        program.waiting, program.alternatives, program.found = index, ids[1:], {}
        reply: rpc.Message | None = None
        try:
            reply = self._call_raw(data, ids[0] if ids else "-1", timeout)
            dropped = not self.device.connected
            found = self._take(index)
            reply = reply or next((program.found[i] for i in ids if i in program.found), None)
        finally:
            program.waiting, program.alternatives = None, []
        stray = any(o.key.startswith("reply-id/") and o.case == index for o in found)
        if reply is None:
            if dropped:
                self._ensure_link()
                if case.expect in ("success", "error"):
                    found.append(self._no_answer(index, case, data, dropped=True))
            elif case.expect in ("success", "error") and not stray:
                found.append(self._no_answer(index, case, data, dropped=False))
            self._note_write(case, None)
            return found
        found += self._judge(index, case, data, reply)
        self._note_write(case, reply)
        return found

    def _send(self, data: str | bytes) -> None:
        """Send without waiting; a link that drops under the frame is waited for."""
        try:
            self.device.send_raw(data)
        except (DeviceUnreachable, ConnectionClosed):
            self._ensure_link()

    def _call_raw(self, data: str | bytes, reply_id: str, timeout: float) -> rpc.Message | None:
        for attempt in (1, 2):
            try:
                return self.device.call_raw(data, reply_id=reply_id, timeout=timeout)
            except DeviceUnreachable:
                if attempt == 2:
                    raise
                self._ensure_link()
        return None

    def _no_answer(
        self, index: int, case: Case, sent: str | bytes, *, dropped: bool
    ) -> Observation:
        row = case.meta.get("row", case.family)
        what = "closed the link instead of answering" if dropped else "did not answer"
        wanted = "CALLRESULT" if case.expect == "success" else "CALLERROR"
        return Observation(
            "no-response",
            f"station {what} {case.label}",
            f"{'link-dropped' if dropped else 'silent'}/{row}",
            case.ref,
            f"a {wanted} within {self.device.reply_timeout:.1f} s",
            sent=sent,
            case=index,
        )

    def _judge(
        self, index: int, case: Case, sent: str | bytes, reply: rpc.Message
    ) -> list[Observation]:
        meta = case.meta
        action = meta.get("action")
        row = meta.get("row", case.family)
        received = reply.frame()
        found: list[Observation] = []

        def seen(kind: str, summary: str, key: str, ref: str, expected: str) -> None:
            found.append(Observation(kind, summary, key, ref, expected, sent, received, index))

        if isinstance(reply, rpc.CallResultError):
            seen(
                "protocol-violation",
                f"station answered {case.label} with CALLRESULTERROR",
                "callresulterror-to-call",
                f"{PART4} §4.1.3, §4.2.3",
                "CALLRESULT or CALLERROR (CALLRESULTERROR answers a CALLRESULT)",
            )
            return found
        if isinstance(reply, rpc.CallError):
            found += self._check_error(index, reply, sent)
            code = reply.error_code
            if case.expect == "success" and code in WRONG_FOR_VALID and not self._over(case, sent):
                seen(
                    "error-reply",
                    f"station refused a valid {action or case.label} with CALLERROR {code}",
                    f"{action}/{code}",
                    f"{PART4} §4.1.7, §4.2.2; {action}Request schema",
                    f"CALLRESULT {action}Response (the payload is schema-valid)",
                )
            codes = meta.get("codes")
            if (
                case.expect == "error"
                and codes
                and code not in codes
                and not self._over(case, sent)
            ):
                seen(
                    "protocol-violation",
                    f"station answered {case.label} with CALLERROR {code}",
                    f"{row.split('/')[-1] if '/' in row else row}/{code}",
                    f"{PART4} §4.3 Table 9",
                    f"CALLERROR {' or '.join(c for c in codes if c not in UNSUPPORTED)}",
                )
            return found
        assert isinstance(reply, rpc.CallResult)
        if case.expect == "error" and not self._over(case, sent):
            seen(
                "accepted-invalid",
                f"station accepted {case.label} with a CALLRESULT",
                row,
                case.ref,
                "CALLERROR (Part 4 §4.1.7: the message is not valid)",
            )
        if action and schema(self.version, f"{action}Response") is not None:
            problems = schemas.check(self.version, action, "Response", reply.payload)
            if problems:
                seen(
                    "malformed-reply",
                    f"station's {action}Response breaks its schema: "
                    f"{schemas.describe(problems)[:200]}",
                    f"{action}Response",
                    f"{action}Response schema ({PART4} §4.1.7)",
                    "a payload valid against the official JSON schema",
                )
        return found

    def _check_error(self, index: int | None, reply: rpc.CallError, sent: Any) -> list[Observation]:
        """Table 7 of Part 4 §4.2.3: a Table 9 code, a description of at most 255."""
        found = []
        if reply.error_code not in rpc.ERROR_CODES:
            found.append(
                Observation(
                    "malformed-reply",
                    f"CALLERROR with error code {reply.error_code[:40]!r}, not one of Table 9",
                    "error-code",
                    f"{PART4} §4.2.3 Table 7, §4.3 Table 9",
                    "an error code from Part 4 §4.3 Table 9",
                    sent,
                    reply.frame(),
                    index,
                )
            )
        if len(reply.error_description) > rpc.MAX_DESCRIPTION_LENGTH:
            found.append(
                Observation(
                    "protocol-violation",
                    f"CALLERROR errorDescription of {len(reply.error_description)} characters",
                    "error-description-length",
                    f"{PART4} §4.2.3 Table 7",
                    f"at most {rpc.MAX_DESCRIPTION_LENGTH} characters",
                    sent,
                    reply.frame(),
                    index,
                )
            )
        return found

    def _over(self, case: Case, sent: Any) -> bool:
        """We broke an ItemsPerMessage / BytesPerMessage limit: any answer goes."""
        action = case.meta.get("action")
        row = LIMITS.get(action or "")
        if row is None:
            return False
        component, items, size, _ = row
        item_limit = self.limits.get((component, "ItemsPerMessage", items))
        byte_limit = self.limits.get((component, "BytesPerMessage", size))
        length = len(sent.encode() if isinstance(sent, str) else sent)
        return (item_limit is not None and int(case.meta.get("items", 0)) > item_limit) or (
            byte_limit is not None and length > byte_limit
        )

    def _sync(self, index: int) -> list[Observation]:
        """A harmless CALL after frames that must stay unanswered: an answer to them
        comes before its own (frames are handled in order)."""
        mid = self._fresh()
        self._program.ids[mid] = index
        frame = self._call("GetVariables", {"getVariableData": [WATCHED[0].ref()]}, mid)
        with contextlib.suppress(DeviceUnreachable):
            self._ensure_link()
            self._call_raw(frame, mid, self.device.reply_timeout)
        return self._take(index)

    # ---------------------------------------------------------------- violations
    def _take(self, index: int | None) -> list[Observation]:
        """What the CSMS side saw since the last look: answers with ids we did not
        wait for, unreadable frames, and rule breaks in the station's own CALLs."""
        found: list[Observation] = []
        for violation in self.device.take_violations():
            if violation.requirement == "framework":
                continue
            text = violation.frame
            if violation.requirement == "Part 4 §4.1.4" and violation.summary.startswith(
                "station answered a message id"
            ):
                found += self._stray(index, text or "")
                continue
            kind, key = "protocol-violation", violation.requirement
            if "unreadable frame" in violation.summary or "binary" in violation.summary:
                kind, key = "malformed-reply", "unreadable-frame"
            elif "reused message id" in violation.summary:
                key = "station-reused-message-id"
            elif "schema" in violation.requirement:
                key = violation.requirement.split(" ")[0]
            found.append(
                Observation(
                    kind,
                    violation.summary,
                    key,
                    violation.requirement,
                    violation.expected or "",
                    None,
                    text,
                    index,
                )
            )
        return found

    def _stray(self, index: int | None, text: str) -> list[Observation]:
        program = self._program
        try:
            message = rpc.parse(text, version=self.version)
        except rpc.RpcError:
            return []  # reported as unreadable already
        mid = message.message_id
        if mid in program.silent:
            case = program.cases[program.silent[mid]]
            return [
                Observation(
                    "protocol-violation",
                    f"station answered {case.label}, which must stay unanswered",
                    f"answered/{case.family}",
                    case.ref,
                    "no CALLRESULT and no CALLERROR",
                    None,
                    text,
                    program.silent[mid],
                )
            ]
        if program.waiting is not None and mid in program.alternatives:
            program.found[mid] = message
            return []
        known = mid in program.ids or mid in self._older
        if not known and mid == "-1" and program.minus_one:
            known = True
        if known:
            if isinstance(message, rpc.CallError):
                return self._check_error(program.ids.get(mid, index), message, None)
            return []
        case_index = program.waiting if program.waiting is not None else index
        case = program.cases[case_index] if case_index is not None else None
        row = case.meta.get("row", case.family) if case is not None else "unsolicited"
        return [
            Observation(
                "protocol-violation",
                f"station answered with message id {mid!r}, which no frame of ours carried",
                f"reply-id/{row.split('/')[-1] if '/' in row else row}",
                f"{PART4} §4.1.4, §4.2.2, §4.2.3",
                'the message id of the CALL answered ("-1" when it cannot be read)',
                None,
                text,
                case_index,
            )
        ]

    # ---------------------------------------------------------------- control cases
    def _control(self, index: int, case: Case) -> list[Observation]:
        control = self.device.control
        if control is None:
            raise FrameworkError("a control case needs a device with a control API")
        args = json.loads(case.data)
        action = args.pop("action")
        since = time.monotonic()
        getattr(control, action)(**args)
        self._settle(since)
        return [*self._take(index), *self.lifecycle().check(index)]

    def _settle(self, since: float) -> None:
        """Wait until the station has sent nothing for a moment (half an emulated
        second, at least 30 ms) after *since*, at most the reply bound."""
        device = self.device
        quiet = max(0.03, device.seconds(0.5))
        deadline = Deadline(device.reply_timeout)
        while not deadline.expired():
            log = device.received()
            last = max(since, log[-1].at if log else since)
            idle = time.monotonic() - last
            if idle >= quiet:
                return
            count = len(log)
            with contextlib.suppress(NoReply):
                device.wait_for(
                    lambda count=count: len(device.received()) > count,
                    within=min(quiet - idle, deadline.remaining()),
                    what="a frame",
                    requirement=None,
                )

    def lifecycle(self) -> Any:
        """The transaction rules checker (:class:`fuzz.ocpp_machine.Lifecycle`)."""
        if self._lifecycle is None:
            from fuzz.ocpp_machine import Lifecycle

            self._lifecycle = Lifecycle(self, strict=self.emulator is not None, seen=self._mark)
        return self._lifecycle

    # ---------------------------------------------------------------- state
    def _note_write(self, case: Case, reply: rpc.Message | None) -> None:
        """Which values the watched variables may hold after a SetVariables case."""
        tracked = case.meta.get("tracked")
        if not tracked:
            return
        if isinstance(reply, rpc.CallError):
            return  # refused as a whole: nothing may change
        results = reply.payload.get("setVariableResult", []) if reply is not None else None
        for key, value, attribute in tracked:
            if key not in self.expected or attribute not in (None, "Actual"):
                continue
            status = None
            for result in results or []:
                if (
                    isinstance(result, dict)
                    and _result_key(result).lower() == key.lower()
                    and result.get("attributeType", "Actual") == "Actual"
                ):
                    status = result.get("attributeStatus")
            if (
                reply is None
                or status == "RebootRequired"
                or (status == "Accepted" and not case.meta.get("valid"))
            ):
                self.expected[key].add(_norm(value))
                self.written[key] = False
            elif status == "Accepted":
                self.expected[key] = {_norm(value)}
                self.written[key] = True

    def check_state(self, cases: Sequence[Case]) -> list[Observation]:
        """Watched variables hold what the program had the right to set (B05.FR.10:
        Accepted values are set; B05.FR.07-B05.FR.09 and Part 4 §4.1.7: refused writes
        change nothing)."""
        found: list[Observation] = []
        rows = [r for r in WATCHED if r.key in self.expected]
        if not rows or not self.device.connected:
            return self._take(None)
        values = self._read(rows)
        for row in rows:
            if row.key not in values:
                continue
            actual = _norm(values[row.key])
            allowed = self.expected[row.key]
            if actual in allowed:
                self.expected[row.key] = {actual}
                continue
            if self.written.get(row.key):
                kind, ref, why = "not-applied", "B05.FR.10", "the value an Accepted write set"
            else:
                kind = "changed"
                ref = "B05.FR.07-B05.FR.09, Part 4 §4.1.7"
                why = "the value before the program (no write of it was Accepted)"
            shown = sorted(allowed)
            found.append(
                Observation(
                    "state-corruption",
                    f"{row.key} is {actual!r} after the program",
                    f"{row.key}/{kind}",
                    ref,
                    f"{why}: {' or '.join(map(repr, shown))}",
                    None,
                    None,
                    None,
                )
            )
            self.expected[row.key] = {actual}
            self.written[row.key] = False
        return [*found, *self._take(None)]

    def probe(self) -> str | None:
        """TriggerMessage(Heartbeat) answered within the bound; any CALLRESULT or
        CALLERROR counts (a station may not support TriggerMessage)."""
        try:
            self._ensure_link()
        except DeviceUnreachable as exc:
            return str(exc)
        try:
            self.device.call(
                "TriggerMessage",
                {"requestedMessage": "Heartbeat"},
                allow_error=True,
                timeout=self.device.reply_timeout,
            )
        except NoReply as exc:
            return exc.summary
        except Finding:
            return None  # it answered, if badly: alive
        except DeviceUnreachable as exc:
            return str(exc)
        return None


# ---------------------------------------------------------------- helpers
def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _result_key(result: dict[str, Any]) -> str:
    component = result.get("component") or {}
    variable = result.get("variable") or {}
    inst = variable.get("instance")
    return f"{component.get('name')}.{variable.get('name')}" + (f"[{inst}]" if inst else "")


def _distinct(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """SetVariableData without repeats of component, variable and attributeType (the
    CSMS must not send those, B05.FR.13)."""
    seen: set[str] = set()
    out = []
    for item in items:
        key = _dump(
            [
                {k: v for k, v in item.get("component", {}).items() if k != "customData"},
                {k: v for k, v in item.get("variable", {}).items() if k != "customData"},
                item.get("attributeType", "Actual"),
            ],
            sort_keys=True,
        ).lower()
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _reversed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reversed(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed(v) for v in value]
    return value


def _spell(action: str, how: str) -> str:
    """An action name OCPP does not define (§4.1.6: case-sensitive, no suffix)."""
    if how == "lower":
        return action.lower()
    if how == "upper":
        return action.upper()
    if how == "suffix":
        return action + "Request"
    if how == "empty":
        return ""
    if how == "space":
        return action + " "
    return UNKNOWN_ACTION


def _break_json(src: ByteSource, action: str, payload: Any) -> tuple[str, str]:
    """A CALL of *action* made into text that is not JSON (RFC 8259), and how."""
    frame = _dump([rpc.CALL, FRESH, action, payload])
    head = f"[{rpc.CALL},{_dump(FRESH)},{_dump(action)},"
    how = src.integer(0, 6)
    if how == 0:
        cut = src.integer(1, max(1, len(frame) - 1))
        text, what = frame[:cut], f"cut after {cut} characters"
    elif how == 1:
        text, what = frame + "x", "trailing garbage"
    elif how == 2:
        text, what = frame.replace('"', "'"), "single quotes"
    elif how == 3:
        text, what = frame[:-1] + ",]", "trailing comma"
    elif how == 4:
        text, what = head + "NaN]", "NaN payload"
    elif how == 5:
        text, what = head[:-2] + '\x01",' + _dump(payload) + "]", "control character in a string"
    else:
        text, what = head + "{a:1}]", "unquoted key"
    if _is_json(text):
        text += "{"
    return text, what
