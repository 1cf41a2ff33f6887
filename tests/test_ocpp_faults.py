"""Across the OCPP blocks: every suite test is turned red by some fault,
every fault turns some suite test (or an emulator check) red, and the clean
emulator is green, for OCPP 2.1 and 2.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.emulators.ocpp import OcppStationEmulator
from tests.fault_runs import selected
from tests.ocpp_faults import _matches, collected
from tests.suite_runs import SuiteRun, failing, start
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


VERSIONS = ["2.1", "2.0.1"]


@pytest.fixture(scope="module")
def clean_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[dict[str, SuiteRun]]:  # fmt: skip
    """The clean station of each version this pytest run tests, in processes of
    their own started together (each waits mostly on its station's clock)."""
    where = tmp_path_factory.mktemp("ocpp-clean")
    wanted = selected(request, "version")
    runs = {v: start(where, v, [f"emu:ocpp?version={v}"], "--pyargs", "suites.ocpp")
            for v in VERSIONS if v in wanted}  # fmt: skip
    yield runs
    for suite in runs.values():
        suite.stop()


@pytest.mark.parametrize("version", VERSIONS)
def test_clean_emulator_is_green(clean_runs: dict[str, SuiteRun], version: str) -> None:
    run = clean_runs[version]
    outcomes = run.outcomes()
    assert failing(outcomes) == [], run.tail()
    assert sum(outcome == "passed" for outcome in outcomes.values()) > 100
    if version == "2.1":
        assert [name for name, outcome in outcomes.items() if outcome == "skipped"] == []
