"""Every suite test can fail: each emulator fault switch turns exactly the
matching suite tests red (as product defects), and the clean emulator is green."""

from __future__ import annotations

import pytest

from conformance.emulators.camera import CameraEmulator

pytest_plugins = ["pytester"]

IF_CLEAR = "test_if_clear_is_answered"
BROADCAST = "test_if_clear_broadcast_is_returned"
VERSION = "test_version_inq_reports_identity"
HEADER_IF_CLEAR = "test_reply_header_matches_request[emu:visca-ip-IF_Clear]"
HEADER_VERSION = "test_reply_header_matches_request[emu:visca-ip-Version_Inq]"
SERIAL = [f"{t}[emu:visca]" for t in (IF_CLEAR, BROADCAST, VERSION)]
OVER_IP = [f"{t}[emu:visca-ip]" for t in (IF_CLEAR, BROADCAST, VERSION)]
ALL = {*SERIAL, *OVER_IP, HEADER_IF_CLEAR, HEADER_VERSION}

#: fault -> the suite tests it must turn red (every other test stays green)
EXPECTED_RED: dict[str, set[str]] = {
    "no_reply": ALL,
    "slow_reply": ALL,
    "babble": ALL,
    "wrong_reply_address": {
        f"{t}[emu:{d}]" for t in (IF_CLEAR, VERSION) for d in ("visca", "visca-ip")
    },
    "broadcast_not_echoed": {f"{BROADCAST}[emu:visca]", f"{BROADCAST}[emu:visca-ip]"},
    "version_short": {f"{VERSION}[emu:visca]", f"{VERSION}[emu:visca-ip]"},
    "ip_wrong_sequence": {*OVER_IP, HEADER_IF_CLEAR, HEADER_VERSION},
    "ip_wrong_type": {*OVER_IP, HEADER_IF_CLEAR, HEADER_VERSION},
    "ip_bad_length": {*OVER_IP, HEADER_IF_CLEAR, HEADER_VERSION},
}


def test_every_fault_switch_is_covered() -> None:
    assert set(EXPECTED_RED) == set(CameraEmulator.FAULTS)


def _run(pytester: pytest.Pytester, query: str) -> tuple[set[str], set[str], list[str]]:
    """(passed, failed) test names, and any test that errored instead of failing."""
    rec = pytester.inline_run(
        f"--device=emu:visca?{query}", f"--device=emu:visca-ip?{query}", "-p", "no:cacheprovider"
    )
    passed, skipped, failed = rec.listoutcomes()
    assert not skipped
    errors = [r.nodeid for r in failed if r.when != "call"]

    def name(nodeid: str) -> str:
        return nodeid.split("::")[-1].replace(f"?{query}", "")

    return ({name(r.nodeid) for r in passed}, {name(r.nodeid) for r in failed}, errors)


def test_clean_emulator_is_green(pytester: pytest.Pytester) -> None:
    passed, failed, _ = _run(pytester, "timeout=0.5")
    assert failed == set()
    assert passed == ALL


@pytest.mark.parametrize("fault", sorted(EXPECTED_RED))
def test_fault_turns_the_matching_tests_red(pytester: pytest.Pytester, fault: str) -> None:
    passed, failed, errors = _run(pytester, f"fault={fault}&timeout=0.5")
    assert errors == [], "a fault must give a finding (failed), not an error"
    assert failed == EXPECTED_RED[fault]
    assert passed == ALL - EXPECTED_RED[fault]
