"""End to end against the deliberately fragile camera: VISCA over IP whose
payload-length field disagrees with the bytes that follow crashes it
(``emu:visca-ip?fault=ip_crash_on_length_mismatch``, revived only by a
power-cycle).  The campaign must find it within a bounded number of cases,
shrink it to the one datagram, and the reproducer must crash a fresh camera
again; the clean camera gives no finding."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fuzz.campaign import CampaignConfig, run_campaign
from fuzz.replay import replay
from fuzz.store import load

FRAGILE = "emu:visca-ip?fault=ip_crash_on_length_mismatch&timeout=0.2"
CLEAN = "emu:visca-ip?timeout=0.2"
BOUND = 400  # cases within which the fuzzer must hit the crash
CLI = [sys.executable, "-m", "conformance.cli"]


def _length_mismatch(datagram: bytes) -> bool:
    return len(datagram) >= 8 and int.from_bytes(datagram[2:4], "big") != len(datagram) - 8


def test_the_crash_is_found_shrunk_and_replayed(tmp_path: Path) -> None:
    result = run_campaign(CampaignConfig(device=FRAGILE, max_cases=BOUND, seed=11,
                                         corpus=tmp_path, progress=False, mode="programs",
                                         recovery=0.3))  # fmt: skip
    assert result.stopped == "budget", result.detail
    (path,) = result.findings
    finding = load(path)
    assert finding.data["kind"] == "crash" and finding.data["status"] == "minimal"
    assert finding.data["context"]["cases_before"] < BOUND
    (case,) = finding.cases  # shrunk to the one datagram
    assert isinstance(case.data, bytes) and _length_mismatch(case.data)
    assert len(finding.data["original"]["cases"]) > 1
    again = replay(path, FRAGILE, recovery=0.3)
    assert again.reproduced and again.observations[-1].kind == "crash"
    clean = replay(path, CLEAN, recovery=0.3)
    assert not clean.reproduced and clean.observations == []


def test_the_clean_camera_gives_no_finding(tmp_path: Path) -> None:
    result = run_campaign(CampaignConfig(device=CLEAN, max_cases=4000, seed=5, corpus=tmp_path,
                                         progress=False, mode="both", recovery=0.3))  # fmt: skip
    assert result.stopped == "budget" and result.cases >= 4000
    assert result.findings == [] and result.framework_errors == 0


def test_workers_share_one_finding(tmp_path: Path) -> None:
    result = run_campaign(CampaignConfig(device=FRAGILE, max_cases=2 * BOUND, seed=3,
                                         corpus=tmp_path, progress=False, mode="programs",
                                         recovery=0.3, workers=2))  # fmt: skip
    assert result.stopped == "budget", result.detail
    assert len(result.findings) == 1  # both workers crash it; it is filed once
    states = [json.loads(p.read_text()) for p in (tmp_path / ".campaign").glob("worker-*.json")]
    assert len(states) == 2 and all(s["cases"] > 0 for s in states)


def test_the_command_line_campaign_and_replay(tmp_path: Path) -> None:
    fuzz = subprocess.run(
        [*CLI, "fuzz", "--device", FRAGILE, "--max-cases", str(BOUND), "--seed", "11",
         "--recovery", "0.3", "--mode", "programs", "--corpus", str(tmp_path / "found"),
         "--results", str(tmp_path / "results"), "-q"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert fuzz.returncode == 1, fuzz.stderr
    assert "1 new finding(s)" in fuzz.stdout and "Traceback" not in fuzz.stderr
    finding = tmp_path / "found" / "0001.json"
    assert f"conformance replay {finding}" in fuzz.stdout
    results = [json.loads(p.read_text()) for p in (tmp_path / "results").glob("*-result.json")]
    assert sorted(r["status"] for r in results) == ["failed", "failed"]
    replayed = subprocess.run(
        [*CLI, "replay", str(finding), "--device", FRAGILE, "--recovery", "0.3"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert replayed.returncode == 1 and "REPRODUCED" in replayed.stdout, replayed.stdout
    clean = subprocess.run(
        [*CLI, "replay", str(finding), "--device", CLEAN, "--recovery", "0.3"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert clean.returncode == 0 and "not reproduced" in clean.stdout


def test_pytest_fuzz_runs_the_same_strategies(pytester: pytest.Pytester, tmp_path: Path) -> None:
    import fuzz

    tests = str(Path(fuzz.__file__).parent / "test_visca_ip.py")
    corpus = tmp_path / "corpus"
    clean = pytester.runpytest_subprocess(
        tests, "--device=emu:visca-ip", "--fuzz-examples=20", f"--fuzz-corpus={corpus}",
        "-p", "no:cacheprovider",
    )  # fmt: skip
    clean.assert_outcomes(passed=2)
    broken = pytester.runpytest_subprocess(
        tests, "--device=emu:visca-ip?fault=ip_wrong_sequence&timeout=0.2", "--fuzz-examples=20",
        f"--fuzz-corpus={corpus}", "-p", "no:cacheprovider", "-k", "programs",
    )  # fmt: skip
    broken.assert_outcomes(failed=1)
    assert "protocol-violation" in broken.stdout.str()
    filed = [load(p) for p in corpus.glob("0*.json")]
    assert any(f.data["kind"] == "protocol-violation" and len(f.cases) == 1 for f in filed)
