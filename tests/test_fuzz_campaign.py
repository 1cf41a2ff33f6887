"""The campaign engine: findings filed before they are reported, shrunk to a
minimal reproducer, replayed; resume; framework errors kept apart; Allure.

The engine is driven here by a small in-test target on ``emu:visca-ip``
whose "device bug" is a marker byte in the program, so the numbers are
exact; the end-to-end tests against the deliberately fragile camera are in
``tests/test_fuzz_fragile.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from fuzz import campaign as campaign_module
from fuzz import target as target_module
from fuzz.campaign import CampaignConfig, parse_duration, run_campaign
from fuzz.case import Case, Observation
from fuzz.source import ByteSource
from fuzz.store import Store, load
from fuzz.target import Target

BUG = 0xAB  # a program holding this byte shows the "device bug"
SYNTAX_ERROR = bytes.fromhex("906002FF")


class MiniTarget(Target):
    """Cases are single bytes; the device "answers" byte BUG with an error."""

    protocol = "visca-ip"
    probe_name = "nothing"
    max_program = 8
    case_bytes = 2

    def draw(self, src: ByteSource) -> Case:
        value = src.byte()
        return Case("visca-ip", "byte", f"{value:02X}", bytes([value]), expect="success")

    def run(self, cases: Sequence[Case]) -> list[Observation]:
        out = []
        for index, case in enumerate(cases):
            assert isinstance(case.data, bytes)
            if case.data[0] == BUG:
                out.append(Observation("error-reply", "answered Syntax_Error", key="bug",
                                       ref="VISCA §3.1", sent=case.data, received=SYNTAX_ERROR,
                                       expected="ACK", case=index))  # fmt: skip
        return out

    def probe(self) -> str | None:
        return None


@pytest.fixture
def mini(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(target_module.TARGETS, "visca-ip", f"{__name__}:MiniTarget")
    yield


def config(tmp_path: Path, **kw: Any) -> CampaignConfig:
    defaults: dict[str, Any] = {"device": "emu:visca-ip", "corpus": tmp_path / "corpus",
                                "seed": 7, "progress": False, "mode": "programs"}  # fmt: skip
    defaults.update(kw)
    return CampaignConfig(**defaults)


def test_durations_parse() -> None:
    assert parse_duration("90") == 90
    assert parse_duration("2h") == 7200
    assert parse_duration("1h30m") == 5400
    assert parse_duration("1.5s") == 1.5
    for bad in ("", "h", "2x", "-1s", "0"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_a_finding_is_filed_before_it_is_reported_and_shrunk_to_one_case(
    tmp_path: Path, mini: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    update = campaign_module.Progress.update

    def spy(self: campaign_module.Progress, event: dict[str, Any]) -> None:
        if event["event"] == "pending":  # the first sighting is already on disk
            (path,) = (tmp_path / "corpus").glob("0*.json")
            seen.append(("pending", json.loads(path.read_text())))
        if event["event"] == "finding":
            seen.append(("finding", json.loads(Path(event["path"]).read_text())))
        update(self, event)

    monkeypatch.setattr(campaign_module.Progress, "update", spy)
    result = run_campaign(config(tmp_path, max_cases=3000, results=tmp_path / "results"))
    assert result.stopped == "budget" and result.cases >= 3000
    assert [kind for kind, _ in seen] == ["pending", "finding"]
    assert seen[0][1]["status"] == "shrinking"
    final = seen[1][1]
    assert final["status"] == "minimal" and final["kind"] == "error-reply"
    assert final["reproducer"]["cases"] == [Case("visca-ip", "byte", "AB", bytes([BUG]),
                                                 expect="success").to_json()]  # fmt: skip
    assert len(final["original"]["cases"]) >= 1
    finding = load(Path(result.findings[0]))
    assert finding.observation.ref == "VISCA §3.1"
    # the same bug seen again later is not a new finding
    assert result.known > 0
    results = [json.loads(p.read_text()) for p in (tmp_path / "results").glob("*-result.json")]
    failed = [r for r in results if r["status"] == "failed"]
    assert len(failed) == 2  # the finding, and the campaign that found something new
    labels = {(lab["name"], lab["value"]) for r in failed for lab in r["labels"]}
    assert ("requirement", "VISCA §3.1") in labels and ("story", "error-reply") in labels


def test_a_second_campaign_on_the_same_corpus_knows_the_finding(tmp_path: Path, mini: None) -> None:
    first = run_campaign(config(tmp_path, max_cases=2000))
    assert len(first.findings) == 1
    second = run_campaign(config(tmp_path, max_cases=2000, seed=8))
    assert second.findings == [] and second.known > 0
    assert len(Store(tmp_path / "corpus").files()) == 1


def test_framework_errors_are_kept_apart_from_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mini: None
) -> None:
    real = MiniTarget.run

    def run(self: MiniTarget, cases: Sequence[Case]) -> list[Observation]:
        if any(isinstance(c.data, bytes) and c.data[0] == BUG for c in cases):
            raise KeyError("a bug of ours")
        return real(self, cases)

    monkeypatch.setattr(MiniTarget, "run", run)
    result = run_campaign(config(tmp_path, max_cases=1000))
    assert result.findings == [] and result.framework_errors > 0
    log = (tmp_path / "corpus" / "framework-errors.log").read_text()
    assert "KeyError: 'a bug of ours'" in log and "byte AB" in log


def test_an_interrupted_campaign_resumes_where_it_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mini: None
) -> None:
    calls = {"n": 0}
    real = MiniTarget.run

    def run(self: MiniTarget, cases: Sequence[Case]) -> list[Observation]:
        calls["n"] += 1
        if calls["n"] == 300:
            raise KeyboardInterrupt
        return real(self, cases)

    monkeypatch.setattr(MiniTarget, "run", run)
    first = run_campaign(config(tmp_path, max_cases=100_000, seed=None))
    assert first.stopped == "interrupted" and 0 < first.cases < 100_000
    state = json.loads((tmp_path / "corpus" / ".campaign" / "worker-0.json").read_text())
    assert state["finished"] is False and state["cases"] == first.cases
    monkeypatch.setattr(MiniTarget, "run", real)
    second = run_campaign(config(tmp_path, max_cases=first.cases + 500, seed=None))
    assert second.resumed and second.seed == first.seed
    assert second.cases >= first.cases + 500 and second.stopped == "budget"
    state = json.loads((tmp_path / "corpus" / ".campaign" / "worker-0.json").read_text())
    assert state["finished"] is True


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A real Redis server (Debian's redis-server) on a free loopback port."""
    import os
    import selectors
    import shutil
    import socket
    import subprocess
    import time

    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (Debian package redis-server)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    assert proc.stdout is not None
    deadline, said = time.monotonic() + 15, b""
    with selectors.DefaultSelector() as sel:  # wait for the server to say it is ready
        sel.register(proc.stdout, selectors.EVENT_READ)
        while b"Ready to accept connections" not in said:
            if proc.poll() is not None or not sel.select(max(0, deadline - time.monotonic())):
                proc.kill()
                pytest.fail(f"redis-server did not get ready within 15 s: {said[-300:]!r}")
            said += os.read(proc.stdout.fileno(), 4096)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_campaigns_share_findings_through_redis(tmp_path: Path, mini: None, redis_url: str) -> None:
    import redis

    first = run_campaign(config(tmp_path, corpus=tmp_path / "a", db=redis_url, max_cases=2000))
    assert len(first.findings) == 1
    client = redis.Redis.from_url(redis_url)
    assert any(b"conformance-fuzz" in key for key in client.scan_iter())
    # Another machine: its own corpus directory, the same Redis.
    second = run_campaign(config(tmp_path, corpus=tmp_path / "b", db=redis_url,
                                 max_cases=2000, seed=99))  # fmt: skip
    assert second.findings == [] and second.known > 0
    (imported,) = Store(tmp_path / "b").files()
    assert imported.signature == load(first.findings[0]).signature
    assert imported.data["origin"].startswith("shared database")
    assert imported.cases == load(first.findings[0]).cases
