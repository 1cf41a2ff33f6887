"""A run against a station that misbehaves on the link recovers: with each of the
emulator's robustness faults (a frame that is not JSON, a wrong WebSocket
subprotocol, a message over the size limit, the connection dropped in the middle
of a test) the test in which it happens fails with a finding naming the broken
rule, and the next test of the same run runs on a fresh log over a working
connection (the station reconnected) and passes: nothing is left "unreachable"
or carried over."""

from __future__ import annotations

import pytest

from tests.ocpp_faults import FAULT_PARAMS, run
from tests.test_ocpp_faults_boot import COLD_BOOT, HEARTBEAT, UNIQUE_IDS, UNKNOWN_ACTION

pytest_plugins = ["pytester"]

#: fault -> (the test it turns red, what its finding names, the next test of the run)
PAIRS: dict[str, tuple[str, str, str]] = {
    "garbage_frame": (HEARTBEAT, "Part 4 §4.1.2", UNKNOWN_ACTION),
    "wrong_subprotocol": (COLD_BOOT, "Part 4 §3.1.2", UNKNOWN_ACTION),
    "oversized_message": (HEARTBEAT, "Part 4 §5", UNKNOWN_ACTION),
    "disconnect_mid_test": (UNKNOWN_ACTION, "the station disconnected", UNIQUE_IDS),
}


def function_of(nodeid: str) -> str:
    return nodeid.split("::")[-1].split("[")[0]


@pytest.mark.parametrize("fault", sorted(PAIRS))
def test_next_test_runs_on_its_own_merits_after_a_link_fault(
    pytester: pytest.Pytester, fault: str
) -> None:
    first, names, then = PAIRS[fault]
    rec = run(pytester, f"emu:ocpp?fault={fault}&{FAULT_PARAMS}", [first, then])
    reports = rec.getreports("pytest_runtest_logreport")
    errors = [r.nodeid for r in reports if r.when != "call" and r.failed]
    assert errors == [], f"{fault}: set-up or teardown errors (unreachable?): {errors}"
    calls = [r for r in reports if r.when == "call"]
    assert [function_of(r.nodeid) for r in calls] == [first, then], "both tests ran, in order"
    red, nxt = calls
    assert red.failed, f"{fault} left {first} green"
    text = str(red.longrepr)
    assert "Finding" in text or "NoReply" in text, f"{fault}: not a finding:\n{text}"
    assert names in text, f"{fault}: the finding does not name {names!r}:\n{text}"
    assert nxt.passed, f"{fault}: {then} after it did not pass:\n{nxt.longrepr}"
