"""Every suite test of the E06-E13 transaction modules and the J02 meter
values module can fail: each emulator fault turns the tests that check the
rule it breaks red, as findings (not errors)."""

from __future__ import annotations

import pytest

from tests.fault_runs import FaultRuns
from tests.ocpp_faults import check_red, fault_runs

pytest_plugins = ["pytester"]

E06_EV_GONE = "test_e06_fr_02_ev_disconnect_ends_the_transaction"
E06_POWER_PATH = "test_e06_fr_06_power_path_closed_ends_the_transaction"
E06_ENERGY = "test_e06_fr_07_energy_transfer_stop_ends_the_transaction"
E07_SAME = "test_e07_fr_01_same_idtoken_ends_the_transaction"
E07_UPDATED = "test_e07_fr_02_stop_authorized_is_reported_before_the_ev_leaves"
E07_GROUP = "test_e07_fr_01_idtoken_of_the_same_group_ends_the_transaction"
E09 = "test_e09_fr_01_ev_side_disconnect_deauthorizes_the_transaction"
E10 = "test_e10_fr_01_ev_side_disconnect_suspends_the_transaction"
E04 = "test_e04_transaction_started_offline_is_sent_when_back_online"
E12 = "test_e12_transaction_entirely_offline_is_sent_when_back_online"
E08_SAME = "test_e08_fr_01_same_idtoken_stops_the_transaction_offline"
E08_GROUP = "test_e08_fr_02_idtoken_of_the_same_group_stops_the_transaction_offline"
E11 = "test_e11_events_during_connection_loss_are_queued_and_sent_offline"
E11_QUEUED = "test_e11_fr_07_event_unanswered_at_connection_loss_is_resent_offline"
E13_REFUSED = "test_e13_fr_02_refused_event_is_retried_then_discarded"
E13_UNANSWERED = "test_e13_fr_02_unanswered_event_is_sent_again_until_answered"
J02_PERIODIC = "test_j02_fr_11_updated_events_carry_the_measurands_every_interval"
J02_ENDED = "test_j02_ended_event_carries_the_tx_ended_measurands"

#: fault -> suite tests it must turn red ("function" or "function[*fragment")
RED: dict[str, list[str]] = {
    "wrong_trigger_stop": [E07_SAME, f"{E06_POWER_PATH}[*local_stop", f"{E06_ENERGY}[*local_stop",
                           E10, E08_SAME],
    "wrong_trigger_ev_lost": [E06_EV_GONE, f"{E06_POWER_PATH}[*ev_disconnect", E09],
    "stopped_reason_missing": [E06_EV_GONE, f"{E06_ENERGY}[*ev_suspends", E09],
    "wrong_stopped_reason": [E06_EV_GONE, f"{E06_ENERGY}[*ev_suspends", E09],
    "ev_disconnect_ignored": [E09],
    "ev_disconnect_always_stops": [E10],
    "group_stop_refused": [E07_GROUP, E08_GROUP],
    "no_offline_flag": [E04, E12, E08_SAME, E08_GROUP, E11, E11_QUEUED],
    "queued_not_offline": [E11_QUEUED],
    "offline_flag_when_online": [E04, E11],
    "no_replay": [E11, E12],
    "replay_wrong_order": [E12, E11],
    "e13_no_retry": [E13_REFUSED, E13_UNANSWERED],
    "e13_retry_immediately": [E13_REFUSED],
    "e13_never_discard": [E13_REFUSED],
    "no_started_meter_values": [E04, J02_PERIODIC, J02_ENDED],
    "no_periodic_meter_values": [J02_PERIODIC],
    "periodic_wrong_interval": [J02_PERIODIC],
    "wrong_trigger_periodic": [J02_PERIODIC],
    "wrong_meter_context": [J02_PERIODIC, J02_ENDED, E06_EV_GONE, E07_SAME, E09, E10, E12,
                            E08_SAME],
    "no_ended_meter_values": [E06_EV_GONE, E06_POWER_PATH, E07_SAME, E07_UPDATED, E09, E10,
                              E12, E08_SAME, J02_ENDED],
    "energy_not_monotonic": [J02_PERIODIC, J02_ENDED],
}  # fmt: skip


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest) -> FaultRuns:
    return fault_runs(request, RED)


@pytest.mark.parametrize("fault", sorted(RED))
def test_fault_turns_the_matching_tests_red(
    pytester: pytest.Pytester, runs: FaultRuns, fault: str
) -> None:
    check_red(fault, RED[fault], runs.outcome(pytester, fault))
