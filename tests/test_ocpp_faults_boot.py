"""Every suite test of B01-B04, B11/B12 (``suites/ocpp/test_boot.py``,
``test_reset.py``) and of the OCPP-J RPC framework (``test_rpc.py``) can fail:
each emulator fault turns the tests that check the rule it breaks red, as
findings (spec violations), not errors."""

from __future__ import annotations

import pytest

from tests.fault_runs import FaultRuns
from tests.ocpp_faults import check_red, fault_runs

pytest_plugins = ["pytester"]

COLD_BOOT = "test_b01_fr_01_cold_boot_registers_and_reports_every_connector"
HEARTBEAT = "test_b01_fr_04_heartbeat_follows_the_boot_interval"
CLOCK = "test_b01_fr_06_clock_follows_the_csms_time"
INOPERATIVE_POWER = "test_b01_fr_07_inoperative_evse_is_unavailable_after_power_cycle"
QUEUED = "test_b01_fr_08_queued_messages_wait_for_the_accepted_boot"
PENDING_ANSWERS = "test_b02_fr_01_pending_station_answers_the_csms"
PENDING_RETRY = "test_b02_fr_08_pending_station_boots_again_after_the_interval"
PENDING_ZERO = "test_b02_fr_07_pending_interval_zero_is_no_flood"
REJECTED_RETRY = "test_b03_fr_02_rejected_station_is_silent_until_the_interval"
REJECTED_ANSWERS = "test_b03_fr_08_rejected_station_answers_security_error"
REJECTED_ZERO = "test_b03_fr_05_rejected_interval_zero_is_no_flood"
LONG_OFFLINE = "test_b04_fr_01_long_offline_reports_every_connector"
SHORT_OFFLINE = "test_b04_fr_02_short_offline_reports_only_changed_connectors"
RESET_IDLE = "test_b11_fr_03_reset_without_transaction_reboots_the_station"
INOPERATIVE_RESET = "test_b11_fr_02_inoperative_evse_is_unavailable_after_reset"
EVSE_RESET = "test_b11_fr_08_evse_reset_leaves_the_station_running"
ON_IDLE = "test_b12_fr_01_on_idle_reset_waits_for_the_transaction"
IMMEDIATE = "test_b12_fr_04_immediate_reset_ends_the_transaction_first"
RESEND = "test_b12_fr_05_unanswered_ended_event_is_sent_again_after_the_reboot"
EVSE_ON_IDLE = "test_b12_fr_07_evse_on_idle_reset_waits_for_its_transaction"
EVSE_IMMEDIATE = "test_b12_fr_08_evse_immediate_reset_ends_its_transaction"
UNKNOWN_ACTION = "test_part4_4_1_7_unknown_action_is_not_implemented"
INVALID_PAYLOAD = "test_part4_4_3_invalid_payload_gets_its_error_code"
MINUS_ONE = "test_part4_4_2_3_unreadable_message_id_is_answered_with_minus_one"
UNKNOWN_TYPE = "test_part4_4_1_3_unknown_message_type_is_ignored"
SEND = "test_part4_4_2_4_send_is_not_answered"
SAME_ID = "test_part4_4_2_2_answer_carries_the_call_message_id"
UNIQUE_IDS = "test_part4_4_1_4_message_ids_are_unique_across_reboots"
ONE_CALL = "test_part4_4_1_1_no_second_call_while_one_is_unanswered"
RECONNECT = "test_part4_5_4_reconnect_waits_the_back_off"
SCHEMA = "test_part4_4_1_7_every_message_matches_its_schema"

#: fault -> suite tests it must turn red ("function" or "function[*fragment")
RED: dict[str, list[str]] = {
    # -- OCPP-J (Part 4), the robustness faults included
    "wrong_subprotocol": [COLD_BOOT],
    "garbage_frame": [HEARTBEAT],
    "oversized_message": [HEARTBEAT],
    "disconnect_mid_test": [UNKNOWN_ACTION],
    "schema_violation": [SCHEMA],
    "bad_date_time": [SCHEMA],
    "duplicate_message_id": [UNIQUE_IDS],
    "two_calls_outstanding": [ONE_CALL],
    "no_response": [UNKNOWN_ACTION],
    "callerror_unknown_action_wrong_code": [UNKNOWN_ACTION],
    "payload_error_generic": [INVALID_PAYLOAD],
    "unreadable_id_not_minus_one": [MINUS_ONE],
    "answers_unknown_message_type": [UNKNOWN_TYPE],
    "answers_send": [SEND],
    "answer_id_not_echoed": [SAME_ID],
    "no_reconnect_backoff": [RECONNECT],
    # -- B01-B04
    "no_availability_report": [COLD_BOOT],
    "heartbeat_ignores_interval": [HEARTBEAT],
    "no_heartbeat": [HEARTBEAT],
    "ignores_current_time": [CLOCK],
    "wrong_availability_after_reboot": [INOPERATIVE_POWER, INOPERATIVE_RESET],
    "queued_before_boot": [QUEUED],
    "no_answer_while_pending": [PENDING_ANSWERS],
    "calls_while_pending": [PENDING_RETRY],
    "boot_retry_early": [PENDING_RETRY, REJECTED_RETRY],
    "pending_closes_connection": [PENDING_RETRY],
    "no_boot_retry": [PENDING_RETRY],
    "boot_interval_zero_flood": [PENDING_ZERO, REJECTED_ZERO],
    "sends_while_rejected": [REJECTED_RETRY],
    "answers_while_rejected": [REJECTED_ANSWERS],
    "no_status_after_offline": [LONG_OFFLINE],
    "all_status_after_short_offline": [SHORT_OFFLINE],
    # -- B11/B12
    "reset_no_reboot": [f"{RESET_IDLE}[*OnIdle"],
    "reset_wrong_boot_reason": [RESET_IDLE],
    "evse_reset_reboots_station": [EVSE_RESET],
    "reset_onidle_immediate": [ON_IDLE, EVSE_ON_IDLE],
    "reset_immediate_no_stop": [IMMEDIATE],
    "reset_wrong_stopped_reason": [IMMEDIATE, EVSE_IMMEDIATE],
    "reset_drops_unanswered_event": [RESEND],
}


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest) -> FaultRuns:
    return fault_runs(request, RED)


@pytest.mark.parametrize("fault", sorted(RED))
def test_fault_turns_the_matching_tests_red(
    pytester: pytest.Pytester, runs: FaultRuns, fault: str
) -> None:
    check_red(fault, RED[fault], runs.outcome(pytester, fault))
