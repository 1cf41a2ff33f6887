"""The Pelco-D and Pelco-P suites (``aver-visca-pelco-spec.txt`` §3.2.3, §3.2.2)
against the emulator's Pelco faces: clean they are green, each Pelco-relevant
fault switch turns exactly the tests that check it red (findings: failed, never
errors), ``observe=`` works over TCP, and an unreachable device errors fast.

The suite runs are separate pytest processes started together, each writing
JUnit XML, so that the four full runs take the time of one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from urllib.parse import quote

import pytest

from conformance.emulators.base import Link
from conformance.emulators.camera import CameraEmulator
from conformance.emulators.camera_pelco import EXTENDED, PelcoEndpoint
from conformance.emulators.hosting import EmulatorHost
from dissectors import pelco, pelco_d, pelco_p
from suites.pelco_common import PelcoSuite
from tests.suite_runs import start

pytest_plugins = ["pytester"]

SUITES = Path(__file__).resolve().parents[1] / "suites"
PATHS = [str(SUITES / "pelco_d"), str(SUITES / "pelco_p")]
#: every run: a short reaction bound, and a short motion bound for the fault runs
BOUNDS = "timeout=0.2&motion_timeout=0.5"
D, P = "emu:pelco-d", "emu:pelco-p"


def _names(device: str, tests: list[str]) -> set[str]:
    return {f"{t}[{device}]" if "[" not in t else t.replace("[", f"[{device}-") for t in tests}


def _state_tests(device: str) -> set[str]:
    """The tests that need the camera to act on a frame (all but the ignore and alive ones)."""
    suite = PelcoSuite(pelco_d if device == D else pelco_p)
    directions = [f"test_direction_moves_the_camera_and_stop_stops_it[{p.id}]"
                  for p in suite.directions]  # fmt: skip
    return _names(device, [
        *directions,
        "test_zoom_tele_zooms_in",
        "test_zoom_wide_zooms_out",
        "test_camera_off_and_on_show_in_power_status",
        "test_go_to_preset_returns_to_the_stored_position[0x01]",
        "test_go_to_preset_returns_to_the_stored_position[0x7F]",
    ])  # fmt: skip


#: fault -> the Pelco suite tests it must turn red (every other test stays green)
EXPECTED_RED: dict[str, set[str]] = {
    "pelco_ignores_checksum": _names(D, [
        "test_frame_with_a_bad_checksum_is_ignored",
        "test_frame_with_a_sum_mod_100_checksum_is_ignored",
    ]) | _names(P, ["test_frame_with_a_bad_checksum_is_ignored"]),
    "pelco_ignores_address": _names(D, ["test_frame_for_another_address_is_ignored"])
    | _names(P, [
        "test_frame_for_another_address_is_ignored",
        "test_frame_for_the_camera_number_is_ignored",
    ]),
    "state_not_applied": _state_tests(D) | _state_tests(P),
}  # fmt: skip
#: Pelco tests per variant: 8 directions, zoom x2, power, presets 2 + 4, rows 9, errors 5 / 6
COUNTS = {D: 31, P: 32}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """The clean run and one run per fault, started together; run -> outcomes
    (test names without the run's query)."""
    where = tmp_path_factory.mktemp("pelco-runs")
    queries = {"clean": BOUNDS, **{f: f"fault={f}&{BOUNDS}" for f in EXPECTED_RED}}
    started = {r: start(where, r, [f"{D}?{q}", f"{P}?{q}"], *PATHS) for r, q in queries.items()}
    try:
        return {run: started[run].outcomes(f"?{q}", timeout=120) for run, q in queries.items()}
    finally:
        for suite in started.values():
            suite.stop()


def test_clean_emulators_run_every_pelco_test_green(runs: dict[str, dict[str, str]]) -> None:
    outcomes = runs["clean"]
    assert {n: o for n, o in outcomes.items() if o != "passed"} == {}
    for device, count in COUNTS.items():
        assert sum(f"[{device}" in name for name in outcomes) == count


def test_every_pelco_fault_is_expected_somewhere() -> None:
    assert {f for f in CameraEmulator.FAULTS if f.startswith("pelco_")} <= set(EXPECTED_RED)


@pytest.mark.parametrize("fault", sorted(EXPECTED_RED))
def test_fault_turns_exactly_the_matching_tests_red(
    runs: dict[str, dict[str, str]], fault: str
) -> None:
    outcomes = runs[fault]
    assert [n for n, o in outcomes.items() if o in ("error", "skipped")] == [], (
        "a fault must give findings (failed), not errors"
    )
    assert {n for n, o in outcomes.items() if o == "failed"} == EXPECTED_RED[fault]
    assert set(outcomes) == set(runs["clean"])


# ---------------------------------------------------------------- real-device URIs


def test_observe_parameter_watches_a_tcp_camera(
    pytester: pytest.Pytester, host: EmulatorHost
) -> None:
    camera = CameraEmulator()
    pelco_at = host.serve(camera, "pelco-p", "tcp").address
    visca_at = host.serve(camera, "visca", "tcp").address
    observe = quote(f"visca+tcp://{visca_at}?address=1", safe="")
    rec = pytester.inline_run(
        f"--device=pelco-p+tcp://{pelco_at}?address=0&timeout=0.2&observe={observe}",
        "-p", "no:cacheprovider", "-k", "direction or bad_checksum", PATHS[1],
    )  # fmt: skip
    passed, skipped, failed = rec.listoutcomes()
    assert (len(passed), skipped, failed) == (9, [], [])


def test_without_observer_the_tests_skip_naming_observe(
    pytester: pytest.Pytester, host: EmulatorHost
) -> None:
    pelco_at = host.serve(CameraEmulator(), "pelco-d", "tcp").address
    result = pytester.runpytest(
        f"--device=pelco-d+tcp://{pelco_at}", "-p", "no:cacheprovider", "-rs", PATHS[0]
    )
    result.assert_outcomes(skipped=COUNTS[D])
    result.stdout.fnmatch_lines(["*add observe=visca+serial://PORT*to the pelco-d URI*"])


def test_unreachable_device_errors_without_hanging(
    pytester: pytest.Pytester, closed_port: int
) -> None:
    rec = pytester.inline_run(
        f"--device=pelco-d+tcp://127.0.0.1:{closed_port}", "-p", "no:cacheprovider", PATHS[0]
    )
    passed, skipped, failed = rec.listoutcomes()
    assert (passed, skipped, len(failed)) == ([], [], COUNTS[D])
    for report in failed:
        assert report.when == "setup"
        assert "DeviceUnreachable" in str(report.longrepr)


# ---------------------------------------------------------------- the emulator's Pelco face


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    running = asyncio.new_event_loop()
    yield running
    running.close()


def _face(camera: CameraEmulator, face: str, loop: asyncio.AbstractEventLoop) -> tuple[
    PelcoEndpoint, Link, list[bytes]
]:  # fmt: skip
    sent: list[bytes] = []
    return PelcoEndpoint(camera, face), Link("pty", "test", sent.append, loop, camera), sent


def test_every_extended_row_has_an_action() -> None:
    assert set(EXTENDED) == set(pelco.BY_NAME)


@pytest.mark.parametrize("module", [pelco_d, pelco_p], ids=["pelco-d", "pelco-p"])
def test_frames_are_found_after_junk_and_across_chunks(
    module: ModuleType, loop: asyncio.AbstractEventLoop
) -> None:
    camera = CameraEmulator()
    endpoint, link, sent = _face(camera, module.PROTOCOL, loop)
    stream = b"\x12\x34" + module.build("Track ON", module.FIRST_ADDRESS)
    for i in range(len(stream)):  # one byte at a time
        endpoint.on_data(link, stream[i : i + 1])
    assert camera.camera.state.settings["tracking"] == "auto"
    endpoint.on_data(link, module.build("Track OFF", module.FIRST_ADDRESS, checksum=0))
    assert camera.camera.state.settings["tracking"] == "auto"  # bad checksum: ignored
    assert sent == [] and camera.internal_errors == []


def test_no_input_raises(loop: asyncio.AbstractEventLoop) -> None:
    camera = CameraEmulator()
    for face in ("pelco-d", "pelco-p"):
        endpoint, link, sent = _face(camera, face, loop)
        for value in range(0x100):
            endpoint.on_data(link, bytes([0xFF, 0x01, value, value, value, value, value, 0xA0]))
            endpoint.on_data(link, bytes([0xA0, 0x00, value, value, value, value, 0xAF, value]))
        assert sent == [] and camera.internal_errors == []
