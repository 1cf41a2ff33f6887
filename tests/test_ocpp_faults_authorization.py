"""The C Authorization (C01, C02, C04) and E Transactions start (E01, E02, E03,
E05) suite tests can fail: each emulator fault turns the tests that check the
broken rule red, as findings."""

from __future__ import annotations

import pytest

from tests.fault_runs import FaultRuns
from tests.ocpp_faults import check_red, fault_runs

pytest_plugins = ["pytester"]

C01_RFID = "test_c01_fr_02_rfid_is_authorized_before_energy_is_offered"
C01_REJECTED = "test_c01_fr_01_rejected_idtoken_gets_no_energy"
C01_SAME = "test_c01_fr_03_same_idtoken_ends_the_authorization_without_authorize"
C01_OTHER = "test_c01_fr_03_other_idtoken_does_not_end_the_authorization"
C01_EVSES = "test_c01_fr_21_charging_only_at_the_evses_the_csms_allows"
C01_TIMEOUT = "test_c01_fr_26_authorization_ends_at_the_ev_connection_timeout"
C02 = "test_c02_fr_01_start_button_reports_no_authorization_idtoken"
C04_PIN = "test_c04_c01_fr_02_pin_code_is_authorized_as_key_code"
C04_INVALID = "test_c04_c01_fr_01_invalid_pin_code_gets_no_energy"
E01_EV = "test_e01_fr_02_ev_connected_starts_the_transaction"
E01_AUTH = "test_e01_fr_03_authorization_starts_the_transaction"
E01_POWER = "test_e01_fr_05_power_path_closed_starts_the_transaction"
E01_ENERGY = "test_e01_fr_06_energy_transfer_starts_the_transaction"
E01_IDS = "test_e01_fr_08_every_transaction_gets_a_new_id"
E01_METER = "test_e01_fr_09_started_carries_the_transaction_begin_meter_values"
E01_SUSPEND = "test_e01_fr_19_ev_suspending_and_resuming_is_reported"
E02 = "test_e02_fr_01_cable_plugin_first_then_authorization"
E02_PERIODIC = "test_e02_fr_10_updated_events_carry_the_periodic_meter_values"
E03 = "test_e03_fr_01_idtoken_first_then_cable"
E03_TIMEOUT = "test_e03_fr_05_no_cable_before_the_timeout_ends_the_transaction"
E05_SUSPEND = "test_e05_fr_02_invalid_idtoken_suspends_the_energy"
E05_DEAUTH = "test_e05_fr_09_invalid_idtoken_deauthorizes_and_keeps_the_transaction"
E05_END = "test_e05_fr_10_invalid_idtoken_ends_the_transaction"

#: fault -> suite tests it must turn red ("function" or "function[*fragment")
RED: dict[str, list[str]] = {
    # C01, C02, C04
    "no_authorize": [C01_RFID, C04_PIN],
    "ignores_authorize_status": [C01_REJECTED, C04_INVALID],
    "authorize_on_stop": [C01_SAME],
    "wrong_trigger_stop": [C01_SAME],
    "different_token_allowed": [C01_OTHER],
    "ignores_evse_list": [C01_EVSES],
    "ev_connect_timeout_ignored": [C01_TIMEOUT, E03_TIMEOUT],
    "start_button_wrong_token": [C02],
    "authorize_start_button": [C02],
    # E01
    "ev_connected_start_ignored": [E01_EV, E02],
    "authorized_start_waits_for_ev": [E01_AUTH, E03],
    "power_path_starts_early": [E01_POWER, C01_TIMEOUT],
    "energy_transfer_starts_early": [E01_ENERGY],
    "no_id_token": [E01_AUTH, E01_POWER, E01_ENERGY, E03],
    "no_evse_in_first_event": [E01_EV, E01_POWER, E01_ENERGY, E02],
    "seqno_skip": [E01_EV, E01_AUTH, E02, E03, E05_END],
    "seqno_repeat": [E01_EV, E01_SUSPEND, E02, E03, E05_SUSPEND, E05_DEAUTH],
    "no_charging_state": [E01_EV, E01_ENERGY],
    "reused_transaction_id": [E01_IDS],
    "no_started_meter_values": [E01_METER],
    "ev_suspend_not_reported": [E01_SUSPEND],
    # E02, E03
    "wrong_trigger_authorized": [E02, E01_AUTH],
    "no_occupied_report": [E02],
    "no_periodic_meter_values": [E02_PERIODIC],
    "wrong_trigger_cable": [E03],
    # E05
    "ignores_invalid_id": [E05_DEAUTH],
    "stop_tx_on_invalid_id_ignored": [E05_SUSPEND],
    "wrong_trigger_deauthorized": [E05_END],
    "deauthorized_wrong_reason": [E05_END],
}


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest) -> FaultRuns:
    return fault_runs(request, RED)


@pytest.mark.parametrize("fault", sorted(RED))
def test_fault_turns_the_matching_tests_red(
    pytester: pytest.Pytester, runs: FaultRuns, fault: str
) -> None:
    check_red(fault, RED[fault], runs.outcome(pytester, fault))
