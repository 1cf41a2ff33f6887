"""CSMS-initiated CALLs at the station emulator.

Before any handler: while Rejected every CALL is answered CALLERROR SecurityError
(B03.FR.08); a CALL that breaks its JSON schema, or names an unknown action, gets the
CALLERROR :func:`conformance.ocpp.schemas.error_for` names (Part 4 §4.1.7, §4.3:
NotImplemented for an unknown action); a known action without a handler here is
answered NotSupported (Part 4 §4.3).  While Pending every CALL is answered
(B02.FR.01), RequestStart/StopTransaction with Rejected (B02.FR.05).

Handled: GetVariables (B06), SetVariables (B05), GetBaseReport (B07), Reset (B11,
B12), ChangeAvailability (G03, G04), DataTransfer (P01), and, for the authorization
stores, ClearCache (C11), SendLocalList/GetLocalListVersion (D01/D02);
GetTransactionStatus (E14), SetMonitoringLevel (N05), RequestStartTransaction and
RequestStopTransaction (F01-F03, minimal).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from conformance.emulators.ocpp.authorization import Grant
from conformance.ocpp import rpc, schemas
from conformance.ocpp.device_model import REPORT_BASES, chunk_report

if TYPE_CHECKING:
    from conformance.emulators.ocpp.station import OcppStationEmulator

Reply = tuple[dict[str, Any] | rpc.CallError | None, Callable[[], None] | None]


class Handlers:
    def __init__(self, station: OcppStationEmulator) -> None:
        self.st = station
        self.table: dict[str, Callable[[dict[str, Any]], Reply]] = {
            "GetVariables": self.get_variables,
            "SetVariables": self.set_variables,
            "GetBaseReport": self.get_base_report,
            "Reset": self.reset,
            "ChangeAvailability": self.change_availability,
            "DataTransfer": self.data_transfer,
            "ClearCache": self.clear_cache,
            "SendLocalList": self.send_local_list,
            "GetLocalListVersion": self.get_local_list_version,
            "GetTransactionStatus": self.get_transaction_status,
            "SetMonitoringLevel": self.set_monitoring_level,
            "RequestStartTransaction": self.request_start,
            "RequestStopTransaction": self.request_stop,
        }

    def dispatch(self, call: rpc.Call) -> Reply:
        st = self.st
        if st.registration == "Rejected" and not st.fault("answers_while_rejected"):
            return rpc.CallError(call.message_id, "SecurityError", "not accepted"), None
        if st.registration == "Pending" and st.fault("no_answer_while_pending"):
            return rpc.CallError(call.message_id, "SecurityError", "pending"), None
        error = schemas.error_for(st.version, call)
        if error is not None:
            if error.error_code == "NotImplemented" and st.fault(
                "callerror_unknown_action_wrong_code"
            ):
                error = rpc.CallError(call.message_id, "NotSupported", error.error_description)
            elif error.error_code != "NotImplemented" and st.fault("payload_error_generic"):
                error = rpc.CallError(call.message_id, "GenericError", error.error_description)
            return error, None
        handler = self.table.get(call.action)
        if handler is None:
            return (
                rpc.CallError(call.message_id, "NotSupported", f"{call.action} not supported"),
                None,
            )
        return handler(call.payload)

    # ------------------------------------------------------------ B05/B06
    def get_variables(self, payload: dict[str, Any]) -> Reply:
        """B06: one result per item (B06.FR.01) from the device model."""
        f = self.st.fault
        items = payload.get("getVariableData", [])
        results = self.st.dm.get_variables(items)
        for item, result in zip(items, results, strict=True):
            status = result.get("attributeStatus")
            if status == "UnknownComponent" and f("get_unknown_component_wrong_status"):
                result["attributeStatus"] = "UnknownVariable"
            if status and status.startswith("Unknown") and f("get_value_for_unknown"):
                result["attributeValue"] = ""
            write_only = (result.get("attributeStatusInfo") or {}).get("reasonCode") == "WriteOnly"
            if status == "Rejected" and write_only and f("get_write_only_value"):
                result["attributeStatus"] = "Accepted"
                result["attributeValue"] = "secret-value"
                result.pop("attributeStatusInfo", None)
            if "attributeType" not in item and f("get_no_attribute_type"):
                result.pop("attributeType", None)
            if status == "NotSupportedAttributeType" and f("get_unsupported_attribute_accepted"):
                result.update(attributeStatus="Accepted", attributeValue="")
            if status == "Accepted" and result.get("attributeValue"):
                if f("get_value_truncated"):
                    result["attributeValue"] = result["attributeValue"][:-1]
            elif status == "Accepted" and f("get_empty_value_omitted"):
                result.pop("attributeValue", None)
        if f("get_variables_wrong_count") and len(results) > 1:
            results = results[:-1]
        return {"getVariableResult": results}, None

    def set_variables(self, payload: dict[str, Any]) -> Reply:
        """B05: one result per item (B05.FR.01); Accepted values act at once."""
        st, f = self.st, self.st.fault
        items = payload.get("setVariableData", [])
        before = st.dm.snapshot() if f("set_not_applied") else None
        readonly_ok = f("set_readonly_accepted")
        results = st.dm.set_variables(items)
        for result in results:
            info = result.get("attributeStatusInfo") or {}
            if result.get("attributeStatus") == "UnknownComponent" and f(
                "set_unknown_component_wrong_status"
            ):
                result["attributeStatus"] = "UnknownVariable"
            if readonly_ok and info.get("reasonCode") == "ReadOnly":
                result["attributeStatus"] = "Accepted"
                result.pop("attributeStatusInfo", None)
            status, reason = result.get("attributeStatus"), info.get("reasonCode")
            if status == "UnknownVariable" and f("set_unknown_variable_wrong_status"):
                result["attributeStatus"] = "UnknownComponent"
            accept = (
                (status == "NotSupportedAttributeType" and f("set_unsupported_attribute_accepted"))
                or (reason == "InvalidValue" and f("set_bad_format_accepted"))
                or (reason in ("ValueTooLow", "ValueTooHigh") and f("set_out_of_range_accepted"))
            )
            if accept:
                result["attributeStatus"] = "Accepted"
                result.pop("attributeStatusInfo", None)
        if before is not None:
            st.dm.restore(before)
        if f("set_variables_wrong_count") and len(results) > 1:
            results = results[:-1]
        return {"setVariableResult": results}, None

    # ------------------------------------------------------------ B07
    def get_base_report(self, payload: dict[str, Any]) -> Reply:
        """B07: Accepted (B07.FR.01) then NotifyReportRequests; NotSupported for an
        unknown base (B07.FR.02); Rejected while a report is still going out (B07.FR.13)."""
        base = payload.get("reportBase")
        request_id = payload.get("requestId", 0)
        if base not in REPORT_BASES:
            return {"status": "NotSupported"}, None
        if any(item.action == "NotifyReport" for item in self.st.outbox.other):
            return {"status": "Rejected"}, None  # the previous report is still going out
        if self.st.fault("no_notify_report"):
            return {"status": "Accepted"}, None
        if base == "SummaryInventory" and self.st.fault("summary_not_supported_but_sent"):
            return {"status": "NotSupported"}, lambda: self._report(base, request_id)
        return {"status": "Accepted"}, lambda: self._report(base, request_id)

    def _report(self, base: str, request_id: int) -> None:
        st, f = self.st, self.st.fault
        items = st.dm.report(base)
        if f("report_write_only_values"):
            for item in items:
                for attribute in item.get("variableAttribute", []):
                    if attribute.get("mutability") == "WriteOnly":
                        attribute["value"] = "secret-value"
        if f("report_no_characteristics"):
            for item in items:
                item.pop("variableCharacteristics", None)
        if base == "SummaryInventory" and f("summary_lacks_evse_availability"):
            items = [i for i in items if i["component"]["name"] != "EVSE"]
        per_message = st._int("DeviceDataCtrlr", "ItemsPerMessage", 100, instance="GetReport")
        chunks = chunk_report(items, max(1, per_message))
        generated = st.now_iso()
        for seq, chunk in enumerate(chunks):
            last = seq == len(chunks) - 1
            report: dict[str, Any] = {
                "requestId": request_id + 1 if f("report_wrong_request_id") else request_id,
                "generatedAt": generated,
                "seqNo": seq + 1 if f("report_seq_no_from_one") else seq,  # B07.FR.10
                "tbc": True if f("report_tbc_wrong") else not last,
            }
            if chunk:
                report["reportData"] = chunk
            st.send("NotifyReport", report, early=True)

    # ------------------------------------------------------------ B11/B12
    def reset(self, payload: dict[str, Any]) -> Reply:
        """B11/B12: Accepted and reboot (RemoteReset); OnIdle with a transaction
        Scheduled (B12.FR.01), Immediate ends transactions first (B12.FR.02/04)."""
        st, f = self.st, self.st.fault
        kind = payload.get("type")
        evse = payload.get("evseId")
        if kind == "ImmediateAndResume":
            return {"status": "Rejected"}, None  # B13 needs TxResumptionTimeout > 0
        allowed = evse in st.layout and st.dm.bool("EVSE", "AllowReset", evse=evse)
        if evse not in (None, 0) and not allowed:
            return {"status": "Rejected"}, None  # B11.FR.09
        scope = None if evse in (None, 0) else evse
        whole = scope is None or f("evse_reset_reboots_station")  # B11.FR.08
        reason = "PowerUp" if f("reset_wrong_boot_reason") else "RemoteReset"
        busy = st.tx.busy(scope)
        if kind == "OnIdle" and busy and not f("reset_onidle_immediate"):
            scheduled = "PowerUp" if f("reset_wrong_boot_reason") else "ScheduledReset"
            st.pending_reset = {"evse": scope, "reason": scheduled}
            st.avail.waiting_reset = scope  # B12 scenario 3a
            return {"status": "Scheduled"}, st.avail.refresh  # B12.FR.01

        def execute() -> None:
            if f("reset_no_reboot"):
                return
            trigger, stopped = "ResetCommand", "ImmediateReset"  # B12.FR.04, B12.FR.08
            if f("reset_wrong_stopped_reason"):
                trigger, stopped = "AbnormalCondition", "Reboot"
            if not f("reset_immediate_no_stop"):
                st.tx.end_all(trigger, stopped, evse=scope)
            if whole:
                st.reboot_when_flushed(reason)  # B11.FR.03/04, B12.FR.05

        return {"status": "Accepted"}, execute  # B11.FR.01, B12.FR.02

    # ------------------------------------------------------------ G03/G04
    def change_availability(self, payload: dict[str, Any]) -> Reply:
        evse_json = payload.get("evse") or {}
        evse = evse_json.get("id")
        connector = evse_json.get("connectorId")
        if evse == 0:
            evse, connector = None, None  # the whole station (G04.FR.01)
        operative = payload.get("operationalStatus") == "Operative"
        status = self.st.avail.change(evse, connector, operative)
        return {"status": status}, None

    # ------------------------------------------------------------ P01
    def data_transfer(self, payload: dict[str, Any]) -> Reply:
        """P01.FR.05: no vendor extension is implemented: UnknownVendorId."""
        if self.st.fault("accepts_data_transfer"):
            return {"status": "Accepted"}, None
        return {"status": "UnknownVendorId"}, None

    # ------------------------------------------------------------ C11, D01, D02
    def clear_cache(self, payload: dict[str, Any]) -> Reply:
        if not self.st.dm.bool("AuthCacheCtrlr", "Enabled"):
            return {"status": "Rejected"}, None
        self.st.auth.cache.clear()
        return {"status": "Accepted"}, None

    def send_local_list(self, payload: dict[str, Any]) -> Reply:
        status = self.st.auth.send_local_list(
            int(payload.get("versionNumber", 0)),
            str(payload.get("updateType")),
            list(payload.get("localAuthorizationList") or []),
        )
        return {"status": status}, None

    def get_local_list_version(self, payload: dict[str, Any]) -> Reply:
        enabled = self.st.dm.bool("LocalAuthListCtrlr", "Enabled")
        return {"versionNumber": self.st.auth.list_version if enabled else 0}, None

    # ------------------------------------------------------------ E14, N05
    def get_transaction_status(self, payload: dict[str, Any]) -> Reply:
        tx_id = payload.get("transactionId")
        answer: dict[str, Any] = {"messagesInQueue": self.st.outbox.pending(tx_id)}
        if tx_id is not None:
            answer["ongoingIndicator"] = any(
                ev.tx is not None and ev.tx.id == tx_id for ev in self.st.tx.evses.values()
            )
        return answer, None

    def set_monitoring_level(self, payload: dict[str, Any]) -> Reply:
        severity = payload.get("severity")
        if not isinstance(severity, int) or not 0 <= severity <= 9:
            return {"status": "Rejected"}, None
        self.st.dm.set("MonitoringCtrlr", "ActiveMonitoringLevel", str(severity), notify=False)
        return {"status": "Accepted"}, None

    # ------------------------------------------------------------ F01-F03 (minimal)
    def request_start(self, payload: dict[str, Any]) -> Reply:
        st = self.st
        if st.registration != "Accepted":
            return {"status": "Rejected"}, None  # B02.FR.05
        evse = payload.get("evseId") or min(st.layout)
        if evse not in st.layout:
            return {"status": "Rejected"}, None
        ev = st.tx.evses[evse]
        if ev.grant is not None or ev.tx is not None or ev.spent or ev.held is not None:
            return {"status": "Rejected"}, None
        if not st.avail.operative(evse):
            return {"status": "Rejected"}, None
        token = payload.get("idToken") or {}
        grant = Grant(
            {"idToken": token.get("idToken", ""), "type": token.get("type", "Central")},
            how="remote",
            remote_start_id=payload.get("remoteStartId"),
            trigger="RemoteStart",
        )
        return {"status": "Accepted"}, lambda: st.tx.authorized(evse, grant)

    def request_stop(self, payload: dict[str, Any]) -> Reply:
        st = self.st
        if st.registration != "Accepted":
            return {"status": "Rejected"}, None  # B02.FR.05
        running = [ev.tx for ev in st.tx.evses.values() if ev.tx is not None]
        found = [tx for tx in running if tx.id == payload.get("transactionId")]
        if not found:
            return {"status": "Rejected"}, None
        return {"status": "Accepted"}, lambda: st.tx.end(found[0], "RemoteStop", "Remote")
