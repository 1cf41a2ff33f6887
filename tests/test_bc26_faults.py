"""Every BC26 suite test can fail: each emulator fault turns the suite tests
that check the broken rule red (as findings, not errors); the clean emulator
is green."""

from __future__ import annotations

import pytest

from conformance.emulators.bc26 import Bc26Emulator
from tests.fault_runs import FaultRun, FaultRuns, selected
from tests.test_faults import _matches

pytest_plugins = ["pytester"]

FORMS = "test_test_form_lists_the_ranges"
#: fault -> suite tests it must turn red ("function" or "function[*fragment")
RED: dict[str, list[str]] = {
    "missing_ok": [FORMS, "test_qlwcfg_dataformat_is_accepted",
                   "test_read_form_returns_what_was_written", "test_echo_setting_is_obeyed",
                   "test_qlwdel_answers_within_five_seconds"],
    "ok_and_error": [FORMS, "test_read_form_returns_what_was_written"],
    "late_reply": [FORMS, "test_read_form_returns_what_was_written"],
    "wrong_urc_format": ["test_register_update_deregister", "test_direct_push",
                         "test_buffer_access"],
    "qlwrd_mismatch": ["test_buffer_access", "test_no_new_urc_until_the_buffer_is_drained"],
    "urc_while_buffered": ["test_no_new_urc_until_the_buffer_is_drained"],
    "wrong_async": ["test_register_update_deregister", "test_direct_push",
                    "test_rejected_registration_is_connect_fail",
                    "test_con_send_waits_for_the_previous_result",
                    "test_con_without_platform_ack_is_send_fail",
                    "test_delobj_when_registered_is_followed_by_update_ok",
                    "test_qlwdatastatus_read_answers_a_status",
                    "test_send_outside_the_manuals_range_is_an_error"],
    "accepts_out_of_range": ["test_parameter_outside_the_manuals_range_is_an_error",
                             "test_send_outside_the_manuals_range_is_an_error"],
    "accepts_malformed": ["test_parameter_of_the_wrong_type_or_count_is_an_error",
                          "test_form_the_manual_does_not_list_is_an_error"],
    "no_echo_control": ["test_echo_setting_is_obeyed[*-1"],
}  # fmt: skip


def test_every_fault_switch_is_covered() -> None:
    assert set(RED) == set(Bc26Emulator.FAULTS)


#: the BC26 suites
SUITES = ("--pyargs", "suites.bc26")
#: faults per inner run
BATCH = 5


def test_clean_emulator_is_green(pytester: pytest.Pytester) -> None:
    rec = pytester.inline_run("--device=emu:bc26", "-p", "no:cacheprovider", *SUITES)
    passed, _, failed = rec.listoutcomes()
    assert [r.nodeid for r in failed] == []
    assert len(passed) >= 45


def _fault_run(fault: str) -> FaultRun:
    """*fault* on its own BC26, running every test of the functions it names."""
    functions = {p.partition("[*")[0] for p in RED[fault]}
    return FaultRun(
        fault,
        (f"emu:bc26?fault={fault}&async_timeout=3",),
        lambda nodeid: nodeid.split("::")[-1].partition("[")[0] in functions,
    )


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest) -> FaultRuns:
    return FaultRuns(map(_fault_run, RED), SUITES, size=BATCH, selected=selected(request))


@pytest.mark.parametrize("fault", sorted(RED))
def test_fault_turns_the_matching_tests_red(
    pytester: pytest.Pytester, runs: FaultRuns, fault: str
) -> None:
    outcome = runs.outcome(pytester, fault)
    passed, failed = outcome.passed, outcome.failed
    assert [r.nodeid for r in failed if r.when != "call"] == [], "findings, not errors"
    red = {r.nodeid for r in failed}
    for pattern in RED[fault]:
        wanted = [r.nodeid for r in [*passed, *failed] if _matches(r.nodeid, pattern)]
        assert wanted, f"no test ran for {pattern}"
        assert [n for n in wanted if n not in red] == [], f"{fault} left these green"


def test_every_bc26_suite_test_is_proven_by_a_fault(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--device=emu:bc26", "--co", "-q", "--pyargs", "suites.bc26")
    collected = [line for line in result.stdout.lines if "::" in line]
    assert len(collected) > 40
    patterns = [p for ps in RED.values() for p in ps]
    unproven = [n for n in collected if not any(_matches(n, p) for p in patterns)]
    assert unproven == []
