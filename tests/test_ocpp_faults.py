"""Across the OCPP blocks: every suite test is turned red by some fault,
every fault turns some suite test (or an emulator check) red, and the clean
emulator is green, for OCPP 2.1 and 2.0.1."""

from __future__ import annotations

import pytest

from conformance.emulators.ocpp import OcppStationEmulator
from tests.ocpp_faults import _matches, collected, run
from tests.test_ocpp_emulator import FAULT_CHECKS
from tests.test_ocpp_faults_authorization import RED as AUTHORIZATION
from tests.test_ocpp_faults_boot import RED as BOOT
from tests.test_ocpp_faults_provisioning import RED as PROVISIONING
from tests.test_ocpp_faults_transactions import RED as TRANSACTIONS

pytest_plugins = ["pytester"]

BLOCKS = (BOOT, PROVISIONING, AUTHORIZATION, TRANSACTIONS)


def test_every_fault_switch_is_proven() -> None:
    proven = set(FAULT_CHECKS).union(*BLOCKS)
    assert sorted(set(OcppStationEmulator.FAULTS) - proven) == []
    assert sorted(proven - set(OcppStationEmulator.FAULTS)) == []


def test_every_ocpp_suite_test_is_turned_red_by_a_fault(pytester: pytest.Pytester) -> None:
    tests = collected(pytester)
    assert len(tests) > 100
    patterns = [p for block in BLOCKS for ps in block.values() for p in ps]
    assert [t for t in tests if not any(_matches(t, p) for p in patterns)] == []


@pytest.mark.parametrize("version", ["2.1", "2.0.1"])
def test_clean_emulator_is_green(pytester: pytest.Pytester, version: str) -> None:
    rec = run(pytester, f"emu:ocpp?version={version}", [])
    passed, skipped, failed = rec.listoutcomes()
    assert [r.nodeid for r in failed] == []
    assert len(passed) > 100
    if version == "2.1":
        assert skipped == []
