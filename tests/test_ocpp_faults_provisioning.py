"""Every test of the B05-B07 (provisioning), G01/G03-G05 (availability), N07 (alerts)
and P01/P02 (data transfer) suites can fail: each emulator fault below turns the
suite tests that check the broken rule red, as findings."""

from __future__ import annotations

import pytest

from tests.fault_runs import FaultRuns
from tests.ocpp_faults import check_red, fault_runs

pytest_plugins = ["pytester"]

B07 = [
    "test_b07_fr_07_configuration_inventory",
    "test_b07_fr_08_full_inventory",
    "test_b07_fr_09_summary_inventory",
]
SCHEDULED = [
    "test_g01_fr_05_ev_leaving_a_connector_scheduled_inoperative_reports_unavailable",
    "test_g03_fr_05_evse_change_during_a_transaction_is_scheduled",
    "test_g04_fr_06_station_change_during_a_transaction_is_scheduled",
]
PERSISTED = [
    "test_g03_fr_08_inoperative_setting_survives_a_reboot",
    "test_g04_fr_09_inoperative_station_stays_so_after_a_reboot",
]
ALERTS = [
    "test_n07_fr_16_upper_threshold_exceeded_is_alerted",
    "test_n07_fr_17_lower_threshold_undercut_is_alerted",
    "test_n07_fr_02_value_back_within_the_threshold_is_cleared",
    "test_n07_fr_14_value_back_within_after_a_reboot_is_cleared",
    "test_n07_fr_15_monitor_above_the_monitoring_level_is_silent",
    "test_n07_fr_04_alert_while_offline_is_delivered_once_online",
]

#: fault -> suite tests it must turn red ("function" or "function[*fragment").  A test
#: that waits out a deadline when its message never comes is listed under one fault
#: only, to keep the fault runs short.
RED: dict[str, list[str]] = {
    # B05 Set Variables
    "set_variables_wrong_count": ["test_b05_fr_01_one_result_per_item"],
    "set_unknown_component_wrong_status": [
        "test_b05_fr_04_unknown_component_is_unknown_component",
        "test_b05_fr_01_one_result_per_item",
    ],
    "set_unknown_variable_wrong_status": ["test_b05_fr_05_unknown_variable_is_unknown_variable"],
    "set_unsupported_attribute_accepted": ["test_b05_fr_06_unsupported_attribute_type"],
    "set_bad_format_accepted": ["test_b05_fr_07_badly_formatted_value_is_rejected"],
    "set_out_of_range_accepted": ["test_b05_fr_08_value_out_of_range_is_rejected"],
    "set_readonly_accepted": ["test_b05_fr_09_read_only_variable_is_rejected"],
    "set_not_applied": [
        "test_b05_fr_10_a_set_value_is_accepted_and_applied",
        "test_b06_fr_10_get_returns_the_current_value",
    ],
    "heartbeat_interval_not_applied": ["test_b05_fr_10_new_heartbeat_interval_takes_effect"],
    # B06 Get Variables
    "get_variables_wrong_count": ["test_b06_fr_01_one_result_per_item"],
    "get_unknown_component_wrong_status": [
        "test_b06_fr_06_unknown_component_is_unknown_component",
        "test_b06_fr_01_one_result_per_item",
    ],
    "get_value_for_unknown": [
        "test_b06_fr_06_unknown_component_is_unknown_component",
        "test_b06_fr_07_unknown_variable_is_unknown_variable",
        "test_b06_fr_14_instance_selects_the_variable",
    ],
    "get_unsupported_attribute_accepted": ["test_b06_fr_08_unsupported_attribute_type"],
    "get_write_only_value": ["test_b06_fr_09_write_only_variable_is_rejected"],
    "get_value_truncated": ["test_b06_fr_10_get_returns_the_current_value"],
    "get_no_attribute_type": ["test_b06_fr_01_one_result_per_item"],
    "get_empty_value_omitted": ["test_b06_fr_13_unset_attribute_is_an_empty_string"],
    # B07 Get Base Report
    "no_notify_report": B07[:1],
    "report_wrong_request_id": B07[:2],
    "report_seq_no_from_one": B07,
    "report_tbc_wrong": B07[:1],
    "report_write_only_values": B07[:2],
    "report_no_characteristics": B07,
    "summary_lacks_evse_availability": ["test_b07_fr_09_summary_inventory"],
    "summary_not_supported_but_sent": ["test_b07_fr_09_summary_inventory"],
    # G01, G03, G04, G05
    "no_occupied_report": ["test_g01_fr_03_plugging_in_reports_occupied"],
    "no_available_report": ["test_g01_fr_04_unplugging_reports_available"],
    "scheduled_unavailable_reported_available": SCHEDULED[:1],
    "change_availability_not_scheduled": SCHEDULED,
    "change_availability_no_report": [
        "test_g03_fr_04_connector_inoperative_and_back_is_reported",
        "test_g03_fr_07_operative_evse_restores_its_connectors",
        "test_g04_fr_07_inoperative_station_makes_every_connector_unavailable",
        "test_g04_fr_08_operative_station_restores_every_connector",
    ],
    "same_state_rejected": [
        "test_g03_fr_03_request_for_the_current_state_is_accepted",
        "test_g04_fr_04_request_for_the_current_state_is_accepted",
    ],
    "evse_inoperative_connectors_available": [
        "test_g03_fr_06_inoperative_evse_makes_its_connectors_unavailable"
    ],
    "evse_operative_resets_connectors": [
        "test_g03_fr_07_connector_stays_inoperative_when_its_evse_returns"
    ],
    "availability_not_persisted": PERSISTED,
    "lock_failure_not_reported": ["test_g05_fr_02_failed_lock_is_reported_and_blocks_charging"],
    "charges_despite_lock_failure": ["test_g05_fr_02_failed_lock_is_reported_and_blocks_charging"],
    # N07 Alert Event
    "alert_not_sent": ALERTS[:1],
    "alert_wrong_trigger": ALERTS[:2],
    "alert_no_monitor_id": ALERTS,
    "alert_seq_no_nonzero": ALERTS,
    "alert_no_clear": ALERTS[2:4],
    "alert_ignores_level": ["test_n07_fr_15_monitor_above_the_monitoring_level_is_silent"],
    "alert_not_queued_offline": ["test_n07_fr_04_alert_while_offline_is_delivered_once_online"],
    # P01, P02
    "accepts_data_transfer": ["test_p01_fr_05_unknown_vendor_is_answered_unknown_vendor_id"],
    "data_transfer_wrong_vendor_id": ["test_p02_fr_01_station_data_transfer_names_its_vendor"],
}


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest) -> FaultRuns:
    return fault_runs(request, RED)


@pytest.mark.parametrize("fault", sorted(RED))
def test_fault_turns_the_matching_tests_red(
    pytester: pytest.Pytester, runs: FaultRuns, fault: str
) -> None:
    check_red(fault, RED[fault], runs.outcome(pytester, fault))
