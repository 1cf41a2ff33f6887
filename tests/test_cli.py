"""The ``conformance`` command line: one clear line and a non-zero exit for bad
input, a machine-readable line from ``emulate``, and ``run``/``report``."""

from __future__ import annotations

import json
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.framing import TerminatorFramer
from conformance.transports import SerialTransport, TcpTransport, UdpTransport
from dissectors import visca, visca_ip
from tests.conftest import allure_results

CLI = [sys.executable, "-m", "conformance.cli"]


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd, check=False
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--device", "foo://x"], "unknown scheme 'foo'"),
        (["run", "--device", "visca+tcp://h"], "missing port"),
        (["run", "--device", "visca+serial:///dev/ttyNOPE9"], "does not exist"),
        (["emulate", "toaster"], "unknown emulator 'toaster'"),
        (["emulate", "camera", "--tcp", "h:notaport"], "is not HOST:PORT"),
        (["emulate", "camera", "--fault", "melted"], "unknown fault melted"),
        (["emulate", "camera", "--udp", "127.0.0.1:1", "--udp", "127.0.0.1:1"], "cannot serve"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["report", "--bogus"], "unrecognized arguments: --bogus"),
        (["fuzz"], "--device URI is required"),
        (["fuzz", "--device", "emu"], "give one device"),
        (["fuzz", "--device", "visca-ip://"], "visca-ip://"),
        (["fuzz", "--device", "emu:visca-ip", "--duration", "2x"], "bad duration '2x'"),
        (["fuzz", "--device", "emu:visca-ip", "--max-cases", "0"], "at least 1"),
        (
            ["fuzz", "--device", "emu:visca-ip", "--max-cases", "5", "--duration", "1s"],
            "not allowed with argument",
        ),
        (["fuzz", "--device", "emu:visca-ip", "--protocol", "modbus"], "no fuzz target"),
        (["fuzz", "--device", "emu:visca-ip", "--protocol", "ocpp"], "does not speak ocpp"),
        (["fuzz", "--device", "emu:visca-ip", "--db", "http://x"], "use a directory or redis"),
        (
            ["fuzz", "--device", "emu:visca-ip", "--db", "redis://127.0.0.1:1/0"],
            "cannot reach Redis",
        ),
        (["fuzz", "--device", "ocpp+listen://127.0.0.1:9?id=A", "--workers", "2"], "--workers 1"),
        (["replay", "nothere.json", "--device", "emu:visca-ip"], "cannot read nothere.json"),
        (["replay", "f.json"], "--device URI is required"),
        (["analyze"], "the following arguments are required: capture"),
        (["analyze", "nothere.pcap"], "nothere.pcap"),
        (["analyze", "nothere.pcap", "--protocol", "modbus"], "invalid choice: 'modbus'"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(args: list[str], message: str, tmp_path: Path) -> None:
    proc = run_cli(*args, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert message in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout


@pytest.mark.parametrize(
    "command",
    ["run", "emulate", "decode", "report", "analyze", "fuzz", "replay", "check-transcript"],
)
def test_every_subcommand_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert len(capsys.readouterr().out.splitlines()) > 3


def test_report_without_results_is_one_line(tmp_path: Path) -> None:
    proc = run_cli("report", str(tmp_path / "none"), "-o", str(tmp_path / "out"))
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "no Allure results directory" in proc.stderr


def _read_line(proc: subprocess.Popen[str], deadline: float) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(max(0.0, deadline - time.monotonic())):
            raise AssertionError("emulate printed nothing before the deadline")
    return proc.stdout.readline()


def test_emulate_prints_where_it_listens_and_serves_until_interrupted() -> None:
    proc = subprocess.Popen(
        [*CLI, "emulate", "camera", "--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--pty"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = json.loads(_read_line(proc, time.monotonic() + 30))
        assert line["event"] == "listening" and line["emulator"] == "camera"
        where = {e["transport"]: e for e in line["endpoints"]}
        assert set(where) == {"tcp", "udp", "pty"}
        assert where["udp"]["device"].startswith("visca-ip://127.0.0.1:")
        assert where["tcp"]["device"].startswith("visca+tcp://127.0.0.1:")
        assert where["pty"]["device"] == f"visca+serial://{where['pty']['address']}"
        framer = TerminatorFramer(b"\xff", 16)
        host, port = where["tcp"]["address"].rsplit(":", 1)
        for transport in (
            TcpTransport(host, int(port), timeout=5),
            SerialTransport(where["pty"]["address"], timeout=5),
        ):
            with transport:
                transport.send(visca.build("IF_Clear"))
                assert transport.recv_frame(framer) == bytes.fromhex("90 50 FF")
        host, port = where["udp"]["address"].rsplit(":", 1)
        with UdpTransport(host, int(port), timeout=5) as udp:
            udp.send(visca_ip.wrap(visca.build("IF_Clear"), 1))
            assert udp.recv_frame() == visca_ip.wrap(bytes.fromhex("90 50 FF"), 1, visca_ip.REPLY)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_run_writes_results_that_report_can_render(tmp_path: Path) -> None:
    run = ("run", "--device", "emu:visca", "--results", "res", "-q", "-k", "test_interface")
    proc = run_cli(*run, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = allure_results(tmp_path / "res")
    assert len(results) == 4  # the visca interface tests
    assert {r["status"] for r in results} == {"passed"}
    # a second run replaces the results instead of piling up
    proc = run_cli(*run, cwd=tmp_path)
    assert len(allure_results(tmp_path / "res")) == 4
    try:
        from reports.allure_cli import find_allure

        find_allure()
    except Exception as exc:
        pytest.skip(f"Allure 3 CLI not installed: {exc}")
    proc = run_cli("report", "res", "-o", "rep", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "rep" / "index.html").is_file()
    assert "googletagmanager" not in (tmp_path / "rep" / "index.html").read_text()


def test_run_exit_status_follows_the_verdicts(tmp_path: Path) -> None:
    proc = run_cli("run", "--device", "emu:visca?fault=version_short", "--results", "res", "-q",
                   "-k", "test_interface", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 1
    assert "1 failed, 3 passed" in proc.stdout


def test_version() -> None:
    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("conformance ")
