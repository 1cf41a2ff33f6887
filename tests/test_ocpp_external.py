"""The suites against a station running outside the test process:
``conformance emulate ocpp`` dials ``ocpp+listen://...`` and its control API
(HTTP) performs the physical actions."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from tests.test_cli import CLI, _read_line, run_cli

pytest_plugins = ["pytester"]

#: a few use cases across the blocks, each with physical actions
SUBSET = "test_b01 or test_e02 or test_g01 or test_p01"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(*args: str) -> tuple[subprocess.Popen[str], dict]:
    proc = subprocess.Popen(
        [*CLI, "emulate", "ocpp", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        return proc, json.loads(_read_line(proc, time.monotonic() + 30))
    except Exception:
        proc.kill()
        raise


def stop(proc: subprocess.Popen[str]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_suites_run_against_a_standalone_emulator(pytester: pytest.Pytester) -> None:
    csms = free_port()
    proc, line = start(
        "--csms", f"ws://127.0.0.1:{csms}/", "--id", "CS042", "--control", "127.0.0.1:0"
    )
    try:
        assert line["event"] == "dialing" and line["csms"].endswith("/CS042")
        device = line["device"] + "&accept_timeout=30"
        assert "control=http://127.0.0.1:" in device
        rec = pytester.inline_run(
            f"--device={device}", "-p", "no:cacheprovider", "--pyargs", "suites.ocpp", "-k", SUBSET
        )
        passed, skipped, failed = rec.listoutcomes()
        assert [r.nodeid for r in failed] == []
        assert len(passed) >= 8, "the control API drove the physical steps"
        assert not [r for r in skipped if "operator" in str(r.longrepr)]
    finally:
        assert stop(proc) == 0


def test_control_api_answers_json_and_refuses_bad_requests() -> None:
    proc, line = start("--csms", f"ws://127.0.0.1:{free_port()}/", "--control", "127.0.0.1:0")
    base = line["control"]
    try:
        with urllib.request.urlopen(base + "/", timeout=10) as response:
            actions = json.loads(response.read())["actions"]
        assert {"plug", "present_token", "go_offline", "power_cycle"} <= set(actions)
        with urllib.request.urlopen(base + "/info", timeout=10) as response:
            info = json.loads(response.read())
        assert info["identity"] == "CS001" and info["connected"] is False
        for path, body, status in [
            ("/melt", b"{}", 404),
            ("/plug", b"not json", 400),
            ("/plug", b"[1]", 400),
            ("/plug", b'{"nonsense": 1}', 400),
        ]:
            request = urllib.request.Request(base + path, data=body)
            with pytest.raises(urllib.error.HTTPError) as caught:
                urllib.request.urlopen(request, timeout=10)
            assert caught.value.code == status, path
        request = urllib.request.Request(base + "/plug", data=b'{"evse": 1}')
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
    finally:
        assert stop(proc) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "--csms ws://HOST:PORT/ is required"),
        (["--csms", "http://127.0.0.1:1/"], "is not a ws:// or wss:// URL"),
        (["--csms", "ws://127.0.0.1:1/", "--fault", "melted"], "unknown fault melted"),
        (["--csms", "wss://127.0.0.1:1/"], "use wss:// with --profile 2 or 3"),
    ],
)
def test_bad_emulate_ocpp_input_is_one_line(args: list[str], message: str) -> None:
    proc = run_cli("emulate", "ocpp", *args, timeout=60)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], proc.stderr
