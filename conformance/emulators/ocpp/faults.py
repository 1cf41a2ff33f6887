"""Fault switches of the OCPP station emulator: switch -> "REQ-ID: what it breaks".

Each switch breaks exactly the rule it names and leaves the rest of the station
conforming, so a CSMS-side test that checks that rule (and only that test) fails.
"""

from __future__ import annotations

FAULTS: dict[str, str] = {
    # -- OCPP-J, Part 4 --------------------------------------------------------------
    "wrong_subprotocol": "Part 4 §3.1.2: the first handshake after power-up offers only the "
    "subprotocol ocpp1.6",
    "schema_violation": "Part 4 §4.1.7: the first BootNotificationRequest after power-up lacks "
    "its required field reason",
    "bad_date_time": "Part 2 §2.1 dateTime: timestamps are sent as 'YYYY-MM-DD hh:mm:ss', "
    "without 'T' and time zone (not RFC 3339)",
    "garbage_frame": "Part 4 §4.1.2: sends a text frame that is not JSON after boot",
    "oversized_message": "Part 4 §5: sends a 2 MiB DataTransfer CALL after boot",
    "disconnect_mid_test": "Part 4 §3.1: drops the connection when the next CSMS CALL "
    "arrives (after boot), without answering it",
    "duplicate_message_id": "Part 4 §4.1.4: the next CALL after boot reuses the message ID "
    "of the CALL before it",
    "two_calls_outstanding": "Part 4 §4.1.1: after boot, every CALL (but Heartbeat) is followed "
    "at once by a Heartbeat, while it is still unanswered",
    "no_response": "Part 4 §4.2.2: never answers CSMS CALLs (neither CALLRESULT nor CALLERROR)",
    "callerror_unknown_action_wrong_code": "Part 4 §4.3: answers an unknown action with "
    "CALLERROR NotSupported instead of NotImplemented",
    "answers_send": "Part 4 §4.2.4: answers a SEND with a CALLERROR",
    "no_reconnect_backoff": "Part 4 §5.4: reconnects at once, without the RetryBackOff wait",
    "payload_error_generic": "Part 4 §4.3: a CALL that breaks its schema is answered "
    "GenericError instead of the specific error code",
    "unreadable_id_not_minus_one": "Part 4 §4.2.3: the CALLERROR for a frame whose message "
    "ID cannot be read carries ID 0 instead of -1",
    "answers_unknown_message_type": "Part 4 §4.1.3: a frame with an unknown message type "
    "number is answered with CALLERROR instead of ignored",
    "answer_id_not_echoed": "Part 4 §4.2.2: CALLRESULTs and CALLERRORs carry a new message "
    "ID instead of the CALL's",
    # -- B01-B04 boot, heartbeat, offline ---------------------------------------------
    "no_availability_report": "B01.FR.05: no AvailabilityState report per connector after "
    "BootNotification Accepted",
    "heartbeat_ignores_interval": "B01.FR.04: keeps its own HeartbeatInterval instead of the "
    "BootNotificationResponse interval",
    "no_heartbeat": "G02.FR.02: never sends HeartbeatRequest",
    "ignores_current_time": "B01.FR.06: does not set its clock from currentTime (timestamps "
    "stay one hour behind)",
    "queued_before_boot": "B01.FR.08: sends queued TransactionEventRequests before its "
    "BootNotification is answered",
    "wrong_availability_after_reboot": "B01.FR.07: after a reboot reports Unavailable "
    "connectors as Available (the state itself is kept)",
    "calls_while_pending": "B02.FR.02: sends HeartbeatRequest while Pending",
    "no_answer_while_pending": "B02.FR.01: answers CSMS CALLs while Pending with "
    "CALLERROR SecurityError",
    "boot_retry_early": "B02.FR.04: resends BootNotification after half the interval",
    "pending_closes_connection": "B02.FR.06: closes the WebSocket when told Pending",
    "no_boot_retry": "B02.FR.08: never resends BootNotification after Pending/Rejected",
    "boot_interval_zero_flood": "B02.FR.07: with interval 0 resends BootNotification every "
    "emulated second",
    "sends_while_rejected": "B03.FR.02: sends HeartbeatRequest while Rejected",
    "answers_while_rejected": "B03.FR.08: answers CSMS CALLs normally while Rejected instead "
    "of CALLERROR SecurityError",
    "no_status_after_offline": "B04.FR.01: after a long offline period sends no "
    "AvailabilityState reports",
    "all_status_after_short_offline": "B04.FR.02: after a short offline period reports every "
    "connector, not only the changed ones",
    # -- B05-B07 device model ---------------------------------------------------------
    "set_variables_wrong_count": "B05.FR.01: SetVariablesResponse lacks the last result",
    "set_unknown_component_wrong_status": "B05.FR.04: an unknown component is answered "
    "UnknownVariable",
    "set_readonly_accepted": "B05.FR.09: setting a ReadOnly variable is answered Accepted "
    "(and ignored)",
    "set_unknown_variable_wrong_status": "B05.FR.05: an unknown variable is answered "
    "UnknownComponent",
    "set_unsupported_attribute_accepted": "B05.FR.06: an attribute type the variable lacks is "
    "answered Accepted (and ignored)",
    "set_bad_format_accepted": "B05.FR.07: a badly formatted value is answered Accepted (and "
    "ignored)",
    "set_out_of_range_accepted": "B05.FR.08: a value beyond minLimit/maxLimit is answered "
    "Accepted (and ignored)",
    "set_not_applied": "B05.FR.10: Accepted values are not stored",
    "heartbeat_interval_not_applied": "B05.FR.10: a new HeartbeatInterval is stored but the "
    "heartbeat keeps the old cadence",
    "get_variables_wrong_count": "B06.FR.01: GetVariablesResponse lacks the last result",
    "get_unknown_component_wrong_status": "B06.FR.06: an unknown component is answered "
    "UnknownVariable",
    "get_value_for_unknown": "B06.FR.06: attributeValue is included with an Unknown* status",
    "get_write_only_value": "B06.FR.09: WriteOnly variables are answered Accepted with a value",
    "get_no_attribute_type": "B06.FR.11: results omit attributeType when the request had none",
    "get_unsupported_attribute_accepted": "B06.FR.08: an attribute type the variable lacks is "
    "answered Accepted with an empty value",
    "get_empty_value_omitted": "B06.FR.13: an unset attribute is answered without attributeValue",
    "get_value_truncated": "B06.FR.10: attributeValue lacks the last character of the value",
    "no_notify_report": "B07.FR.03: GetBaseReport is Accepted but no NotifyReportRequest follows",
    "report_wrong_request_id": "B07.FR.04: NotifyReportRequest carries requestId + 1",
    "report_seq_no_from_one": "B07.FR.10: the first NotifyReportRequest has seqNo 1",
    "report_tbc_wrong": "B07.FR.03: the last NotifyReportRequest says tbc true",
    "report_write_only_values": "B07.FR.03: reports the values of WriteOnly variables",
    "report_no_characteristics": "B07.FR.08: reportData lacks variableCharacteristics",
    "summary_lacks_evse_availability": "B07.FR.09: the SummaryInventory leaves out the "
    "AvailabilityState of the EVSEs",
    "summary_not_supported_but_sent": "B07.FR.05: SummaryInventory is answered NotSupported, "
    "yet reported",
    # -- B11/B12 reset ----------------------------------------------------------------
    "reset_no_reboot": "B11.FR.03: ResetRequest is Accepted but the station does not reboot",
    "reset_wrong_boot_reason": "B01.FR.09: the BootNotification after a Reset says PowerUp",
    "reset_onidle_immediate": "B12.FR.01: OnIdle during a transaction is Accepted and "
    "executed at once",
    "reset_immediate_no_stop": "B12.FR.04: an Immediate reset reboots without ending the "
    "transactions",
    "reset_wrong_stopped_reason": "B12.FR.04: transactions ended by a reset say "
    "triggerReason AbnormalCondition, stoppedReason Reboot",
    "evse_reset_reboots_station": "B11.FR.08: a Reset with evseId reboots the whole station",
    "reset_drops_unanswered_event": "B12.FR.05: an Ended TransactionEventRequest unanswered "
    "at an Immediate reset is dropped, not sent again after the reboot",
    # -- C authorization --------------------------------------------------------------
    "no_authorize": "C01.FR.02: idTokens are accepted locally, never an AuthorizeRequest",
    "authorize_on_stop": "C01.FR.03: sends AuthorizeRequest before ending an authorization "
    "with the same idToken",
    "ignores_authorize_status": "C01.FR.01: charges although AuthorizeResponse is not Accepted",
    "ignores_evse_list": "C01.FR.21: charges on an EVSE not in idTokenInfo.evseId",
    "different_token_allowed": "C01.FR.23: another idToken can take over an authorized transaction",
    "group_stop_refused": "E07.FR.01: an idToken of the same group cannot end the authorization",
    "start_button_wrong_token": "C02.FR.01: the start button sends type NoAuthorization with "
    "a non-empty idToken",
    "authorize_start_button": "C01.FR.04: the start button sends an AuthorizeRequest for the "
    "NoAuthorization idToken",
    # -- E transactions ---------------------------------------------------------------
    "reused_transaction_id": "E01.FR.08: the next transaction reuses the last transactionId",
    "ev_connected_start_ignored": "E01.FR.02: TxStartPoint EVConnected does not start a "
    "transaction when the EV connects",
    "authorized_start_waits_for_ev": "E01.FR.03: TxStartPoint Authorized starts the transaction "
    "only once the EV is connected too",
    "power_path_starts_early": "E01.FR.05: TxStartPoint PowerPathClosed starts the transaction "
    "at the authorization or the EV connection, whichever comes first",
    "energy_transfer_starts_early": "E01.FR.06: TxStartPoint EnergyTransfer starts the "
    "transaction at the authorization or the EV connection, before energy flows",
    "ev_suspend_not_reported": "E01.FR.19: the station does not notice the EV suspending the "
    "energy transfer: chargingState stays Charging",
    "seqno_skip": "E01.FR.07: seqNo skips a number after the Started event",
    "seqno_repeat": "E01.FR.07: the first Updated event repeats the Started seqNo",
    "no_evse_in_first_event": "E01.FR.16: the first TransactionEventRequest lacks evse",
    "no_charging_state": "E02.FR.13: chargingState is never sent",
    "no_id_token": "E02.FR.01: the event that reports the authorization lacks idToken",
    "wrong_trigger_cable": "E02.FR.17: a plugged cable is reported with triggerReason "
    "ChargingStateChanged instead of CablePluggedIn",
    "wrong_trigger_authorized": "E02.FR.01: an authorization is reported with triggerReason "
    "ChargingStateChanged instead of Authorized",
    "wrong_trigger_stop": "E07.FR.02: ending the authorization is reported with triggerReason "
    "Authorized instead of StopAuthorized",
    "wrong_trigger_ev_lost": "E06.FR.15: a disconnected EV is reported with triggerReason "
    "ChargingStateChanged instead of EVCommunicationLost",
    "wrong_trigger_deauthorized": "E05.FR.09: deauthorization is reported with triggerReason "
    "StopAuthorized instead of Deauthorized",
    "stopped_reason_missing": "E06.FR.08: stoppedReason is left out of Ended events that "
    "the driver did not cause",
    "wrong_stopped_reason": "E07.FR.06: Ended events say stoppedReason Local whatever the cause",
    "deauthorized_wrong_reason": "E05.FR.10: a transaction ended by an invalid idToken says "
    "stoppedReason Local instead of DeAuthorized",
    "ev_connect_timeout_ignored": "E03.FR.05: EVConnectionTimeOut never ends the "
    "authorization or transaction",
    "ignores_invalid_id": "E05.FR.09: keeps charging after a TransactionEventResponse with a "
    "non-Accepted idTokenInfo",
    "stop_tx_on_invalid_id_ignored": "E05.FR.02: with StopTxOnInvalidId false an invalid "
    "idToken still deauthorizes instead of suspending the energy",
    "ev_disconnect_ignored": "E09.FR.01: an EV-side disconnect neither deauthorizes nor ends "
    "the transaction",
    "ev_disconnect_always_stops": "E10.FR.01: an EV-side disconnect ends the transaction although "
    "StopTxOnEVSideDisconnect is false and TxStopPoint lacks EVConnected",
    "no_offline_flag": "E11.FR.02: queued TransactionEventRequests do not carry offline true",
    "queued_not_offline": "E11.FR.07: TransactionEventRequests still queued when the "
    "connection drops are sent again without offline true",
    "offline_flag_when_online": "E12.FR.02: live TransactionEventRequests carry offline true",
    "no_replay": "E11.FR.02: queued TransactionEventRequests are dropped on reconnect",
    "replay_wrong_order": "E11.FR.02: queued TransactionEventRequests are replayed newest first",
    "e13_no_retry": "E13.FR.02: a failed TransactionEventRequest is not sent again",
    "e13_retry_immediately": "E13.FR.03: a failed TransactionEventRequest is resent at once",
    "e13_never_discard": "E13.FR.04: a failed TransactionEventRequest is retried beyond "
    "MessageAttempts",
    # -- J02 meter values -------------------------------------------------------------
    "no_started_meter_values": "E01.FR.09: the Started event lacks TxStartedMeasurands",
    "no_periodic_meter_values": "J02.FR.11: no MeterValuePeriodic events are sent",
    "periodic_wrong_interval": "J02.FR.11: MeterValuePeriodic events come every half "
    "TxUpdatedInterval",
    "wrong_trigger_periodic": "J02.FR.11: periodic values are sent with triggerReason "
    "MeterValueClock",
    "wrong_meter_context": "J02.FR.04: sampled values carry context Other instead of "
    "Transaction.Begin/Sample.Periodic/Transaction.End",
    "no_ended_meter_values": "E06.FR.11: the Ended event lacks TxEndedMeasurands",
    "energy_not_monotonic": "J02.FR.16: the energy register goes down between samples",
    "aligned_wrong_context": "J01.FR.22: clock-aligned values carry context Sample.Periodic",
    # -- G availability ---------------------------------------------------------------
    "no_occupied_report": "G01.FR.03: plugging a cable is not reported as Occupied",
    "no_available_report": "G01.FR.04: unplugging is not reported as Available",
    "scheduled_unavailable_reported_available": "G01.FR.05: a connector scheduled to become "
    "Unavailable is reported Available when the EV leaves",
    "change_availability_not_scheduled": "G03.FR.05: ChangeAvailability during a transaction "
    "is Accepted and applied at once",
    "change_availability_no_report": "G03.FR.04: availability changes are not reported",
    "same_state_rejected": "G03.FR.03: a request for the current state is Rejected",
    "evse_inoperative_connectors_available": "G03.FR.06: connectors of an Inoperative EVSE "
    "stay Available",
    "availability_not_persisted": "G03.FR.08: Inoperative settings are lost on reboot",
    "evse_operative_resets_connectors": "G03.FR.07: an EVSE set Operative sets its connectors "
    "Operative too (not back to their own setting)",
    "lock_failure_not_reported": "G05.FR.02: a failed connector lock is not reported",
    "charges_despite_lock_failure": "G05.FR.01: charging starts although the lock failed",
    # -- N07 alerts -------------------------------------------------------------------
    "alert_not_sent": "N07.FR.16: a crossed threshold monitor is not reported",
    "alert_wrong_trigger": "N07.FR.16: threshold alerts say trigger Delta instead of Alerting",
    "alert_no_monitor_id": "N07.FR.06: alert eventData lacks variableMonitoringId",
    "alert_seq_no_nonzero": "N07.FR.07: the alert NotifyEventRequest has seqNo 1",
    "alert_no_clear": "N07.FR.02: a value back within its threshold is not reported cleared",
    "alert_ignores_level": "N07.FR.15: alerts above the monitoring level are sent",
    "alert_not_queued_offline": "N07.FR.04: alerts raised while offline are dropped",
    # -- P01 --------------------------------------------------------------------------
    "accepts_data_transfer": "P01.FR.05: DataTransfer for an unknown vendorId is Accepted",
    "data_transfer_wrong_vendor_id": "P02.FR.01: the station's DataTransferRequest names "
    "vendorId 'unknown', not that of the function that sends it",
}

#: Faults that act once (after boot, or on the next CALL), re-armed by reset_state.
ONE_SHOT = frozenset(
    {
        "garbage_frame",
        "oversized_message",
        "disconnect_mid_test",
        "duplicate_message_id",
    }
)
