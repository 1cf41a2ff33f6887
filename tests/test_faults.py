"""Every suite test can fail: each emulator fault switch turns the suite tests
that check the broken requirement red, as findings (failed, never errors),
while the clean emulator is green."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance import emulators
from conformance.emulators.camera import CameraEmulator
from tests.fault_runs import FaultRun, FaultRuns, selected
from tests.suite_runs import failing, start

pytest_plugins = ["pytester"]

BOTH = ("visca", "visca-ip")
SAMPLE = [  # a request of each kind, for faults that spoil every answer
    "test_if_clear_is_answered",
    "test_inquiry_is_answered_in_the_row_layout[*Version_Inq",
    "test_command_is_acked_and_completed[*PT_Direct",
]
#: fault -> (emulators, extra URI parameters, tests it must turn red).  A test is
#: named by function, optionally with a fragment of its parameter id after "[*".
RED: dict[str, tuple[tuple[str, ...], str, list[str]]] = {
    "no_reply": (BOTH, "", SAMPLE),
    "slow_reply": (BOTH, "", SAMPLE),
    "babble": (BOTH, "", [*SAMPLE, "test_if_clear_broadcast_is_returned"]),
    "wrong_reply_address": (
        BOTH,
        "",
        [
            "test_if_clear_is_answered",
            "test_version_inq_reports_identity",
            "test_inquiry_is_answered_in_the_row_layout",
            "test_unknown_command_is_a_syntax_error",
        ],
    ),
    "broadcast_not_echoed": (BOTH, "", ["test_if_clear_broadcast_is_returned"]),
    "version_short": (
        BOTH,
        "",
        [
            "test_version_inq_reports_identity",
            "test_inquiry_is_answered_in_the_row_layout[*Version_Inq",
        ],
    ),
    "no_ack": (
        BOTH,
        "",
        ["test_command_is_acked_and_completed", "test_power_reset_reboots_and_answers_again"],
    ),
    "ack_without_completion": (BOTH, "", ["test_command_is_acked_and_completed[*Zoom_Stop"]),
    "wrong_socket": (BOTH, "", ["test_command_is_acked_and_completed[*CAM_set"]),
    "inquiry_off_by_one": (
        BOTH,
        "",
        ["test_pt_direct_arrives_at_its_position", "test_zoom_direct_arrives_at_its_position"],
    ),
    "state_not_applied": (
        BOTH,
        "",
        [
            "test_pt_direct_arrives_at_its_position",
            "test_direction_moves_the_right_way_and_pt_stop_stops",
            "test_zoom_moves_the_right_way_and_zoom_stop_stops",
            "test_recall_returns_to_the_stored_position",
            "test_power_off_and_on_show_in_power_status",
            "test_mute_commands_show_in_ado_mute_inq",
            "test_volume_commands_step_ado_volume_inq",
        ],
    ),
    "accepts_unknown": (
        BOTH,
        "",
        [
            "test_unknown_command_is_a_syntax_error",
            "test_message_without_terminator_is_not_executed",
            "test_over_long_message_is_refused[*with-FF",
        ],
    ),
    "accepts_out_of_range": (BOTH, "", ["test_out_of_range_parameter_is_a_syntax_error"]),
    "accepts_unsupported": (
        BOTH,
        "&model=CAM550",
        ["test_command_the_model_does_not_claim_is_refused"],
    ),
    "ignores_address": (BOTH, "", ["test_camera_not_on_the_chain_gets_no_answer"]),
    "no_length_error": (("visca",), "", ["test_over_long_message_is_refused[*no-FF"]),
    "cancel_ignored": (
        BOTH,
        "",
        ["test_cancel_on_an_idle_socket_is_no_socket", "test_cancel_of_a_move_is_command_canceled"],
    ),
    "no_buffer_full": (BOTH, "", ["test_third_command_with_both_sockets_busy_is_buffer_full"]),
    "address_set_wrong": (BOTH, "", ["test_address_set_answers_the_next_free_address"]),
    "ip_wrong_sequence": (
        ("visca-ip",),
        "",
        ["test_reply_header_matches_request", "test_if_clear_is_answered"],
    ),
    "ip_wrong_type": (
        ("visca-ip",),
        "",
        ["test_reply_header_matches_request", "test_if_clear_is_answered"],
    ),
    "ip_bad_length": (
        ("visca-ip",),
        "",
        ["test_reply_header_matches_request", "test_if_clear_is_answered"],
    ),
    "ip_ignores_sequence": (("visca-ip",), "", ["test_out_of_order_sequence_is_a_sequence_error"]),
    "ip_reset_ignored": (
        ("visca-ip",),
        "",
        [
            "test_reset_is_acknowledged_and_restarts_the_sequence",
            "test_resend_with_the_same_sequence_is_answered",
        ],
    ),
    "ip_no_type_error": (
        ("visca-ip",),
        "",
        [
            "test_unknown_payload_type_is_a_message_type_error",
            "test_bad_payload_length_is_a_message_type_error",
        ],
    ),
    # the camera dies at the first mismatched length field (the plugin's reset before
    # each test power-cycles it again)
    "ip_crash_on_length_mismatch": (
        ("visca-ip",),
        "",
        ["test_bad_payload_length_is_a_message_type_error"],
    ),
}
#: faults proven by tests/test_pelco_suites.py
PELCO_FAULTS = {"pelco_ignores_checksum", "pelco_ignores_address"}


def test_every_fault_switch_is_covered() -> None:
    assert set(RED) | PELCO_FAULTS == set(CameraEmulator.FAULTS)


#: the device id an emulated device puts first in a test id (its query names the fault)
_DEVICE_ID = re.compile(
    r"^emu:(?:{})(\?[^-\]]*)?".format(
        "|".join(re.escape(n) for n in sorted(emulators.available(), key=len, reverse=True))
    )
)


def _matches(nodeid: str, pattern: str) -> bool:
    """*pattern* is "function" or "function[*fragment"; the fragment is looked for
    in the test's own parameters, not in the device URI (which names the fault)."""
    function, _, fragment = pattern.partition("[*")
    name = nodeid.split("::")[-1]
    base, _, params = name.partition("[")
    return base == function and fragment in _DEVICE_ID.sub("", params)


#: the camera suites (no other suite takes a VISCA device)
SUITES = ("--pyargs", "suites.visca", "suites.visca_ip")
#: faults per inner run
BATCH = 8


def test_clean_emulators_are_green(tmp_path: Path) -> None:
    """Each clean camera in pytest processes of its own, side by side (the longer
    VISCA-over-IP run split in two by ``-k`` and its negation, so every test runs
    once, each half on its own camera)."""
    visca, visca_ip = "emu:visca?timeout=0.5", "emu:visca-ip?timeout=0.5"
    runs = [
        start(tmp_path, "visca", [visca], *SUITES),
        start(tmp_path, "visca-ip-errors", [visca_ip], *SUITES, "-k", "test_errors"),
        start(tmp_path, "visca-ip-others", [visca_ip], *SUITES, "-k", "not test_errors"),
        # with a model named, the model-aware tests run (and the clean emulator passes them)
        start(tmp_path, "model", ["emu:visca?model=CAM550"], *SUITES, "-k", "does_not_claim"),
    ]
    try:
        *cameras, model = [run.outcomes() for run in runs]
    finally:
        for run in runs:
            run.stop()
    every = {name: outcome for outcomes in cameras for name, outcome in outcomes.items()}
    assert failing(every) == [], "\n".join(run.tail() for run in runs[:-1])
    assert sum(outcome == "passed" for outcome in every.values()) > 250
    assert failing(model) == [] and "passed" in model.values(), runs[-1].tail()


def _fault_run(fault: str) -> FaultRun:
    """*fault* on its own cameras, running the tests its patterns name."""
    emulators, extra, patterns = RED[fault]
    uris = tuple(f"emu:{e}?fault={fault}&timeout=0.3&motion_timeout=1{extra}" for e in emulators)
    return FaultRun(fault, uris, lambda nodeid: any(_matches(nodeid, p) for p in patterns))


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest) -> FaultRuns:
    return FaultRuns(map(_fault_run, RED), SUITES, size=BATCH, selected=selected(request))


@pytest.mark.parametrize("fault", sorted(RED))
def test_fault_turns_the_matching_tests_red(
    pytester: pytest.Pytester, runs: FaultRuns, fault: str
) -> None:
    patterns = RED[fault][2]
    outcome = runs.outcome(pytester, fault)
    passed, failed = outcome.passed, outcome.failed
    errors = [r.nodeid for r in failed if r.when != "call"]
    assert errors == [], "a fault must give findings (failed), not errors"
    red = {r.nodeid for r in failed}
    for pattern in patterns:
        wanted = [r.nodeid for r in [*passed, *failed] if _matches(r.nodeid, pattern)]
        assert wanted, f"no test ran for {pattern}"
        green = [n for n in wanted if n not in red]
        assert green == [], f"{fault} left these green"


def test_every_camera_suite_test_is_proven_by_a_fault(pytester: pytest.Pytester) -> None:
    """Each VISCA and VISCA-over-IP suite test that runs against the emulators
    is named by some fault above, whose test proves it turns red."""
    result = pytester.runpytest(
        "--device=emu:visca?model=CAM550", "--device=emu:visca-ip", "--co", "-q",
        "--pyargs", "suites.visca", "suites.visca_ip",
    )  # fmt: skip
    collected = [line for line in result.stdout.lines if "::" in line]
    assert len(collected) > 300
    unproven = [
        nodeid
        for nodeid in collected
        if not any(
            _matches(nodeid, pattern) and any(f"emu:{e}?" in nodeid or f"emu:{e}]" in nodeid
                                              or f"emu:{e}-" in nodeid for e in emulators)
            for emulators, _, patterns in RED.values()
            for pattern in patterns
        )
    ]  # fmt: skip
    assert unproven == []
