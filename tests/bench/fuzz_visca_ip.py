"""Fuzz cases per second against the VISCA-over-IP camera emulator over UDP
loopback, liveness checks on: our campaign (:mod:`fuzz.campaign`) against
boofuzz (the baseline) fuzzing the same emulator process in the same run, each
for :data:`SECONDS` of wall time.

boofuzz is not a dependency of the project: ``make bench`` installs it into
its own venv (``.venv-bench``; ``BOOFUZZ_PYTHON`` points elsewhere) and the
script in :data:`BOOFUZZ_SCRIPT` runs there as a subprocess.  Its session:

* the request modelled field by field (AVer VISCA spec rev 3.4 §3.2.4:
  payload type, payload length, sequence number, then the VISCA packet of
  §3.2.1): one command (``CAM_Zoom`` Direct) and one inquiry
  (``CAM_ZoomPosInq``), every primitive fuzzable; a second run leaves the
  camera address byte unfuzzed, because a message to an absent camera gets no
  answer and boofuzz then waits out the whole reply bound: that run is
  boofuzz's best case, every message answered;
* the answer to each request and to each fuzzed message read
  (``receive_data_after_each_request``, ``receive_data_after_fuzz``) within
  the same reply bound as our side (:attr:`ViscaDevice.default_timeout`);
* boofuzz has no liveness check of its own for UDP (over TCP its check is the
  connect at the start of each case), so a monitor does the equivalent: after
  every case its ``post_send`` sends ``CAM_PowerInq`` and waits for the
  answer within the reply bound (no answer is a crash to boofuzz);
* web UI off, no console logger; the SQLite case log boofuzz always keeps is
  set to its lightest (``fuzz_db_keep_only_n_pass_cases=1``: passing cases are
  written only before a failure), in a temporary directory; no sleep after a
  failure (``restart_sleep_time=0``; the clean emulator gives none anyway);
* everything else at boofuzz's defaults (a new UDP socket per case, mutations
  in its own order, depth unbounded).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import selectors
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from conformance.devices.visca import ViscaDevice

#: wall time each fuzzer gets (seconds)
SECONDS = 10.0
SEED = 1
#: the reply bound, the same for both sides
REPLY_BOUND = ViscaDevice.default_timeout
ROOT = Path(__file__).resolve().parents[2]
#: absolute, not resolved: resolving the venv's python symlink would leave the venv
BOOFUZZ_PYTHON = Path(
    os.environ.get("BOOFUZZ_PYTHON", ROOT / ".venv-bench" / "bin" / "python")
).absolute()

#: Runs under the bench venv's python: ``script HOST PORT SECONDS BOUND DIR MODE``
#: (MODE ``fuzz-address`` or ``fixed-address``); prints one JSON line.
BOOFUZZ_SCRIPT = r'''
import json, socket, struct, sys, time
from importlib.metadata import version
from boofuzz import (Session, Target, UDPSocketConnection, s_block, s_byte, s_bytes, s_dword,
                     s_get, s_initialize, s_size, s_static, s_word)
from boofuzz.monitors import BaseMonitor

host, port, seconds, bound, workdir = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), \
    float(sys.argv[4]), sys.argv[5]
fuzz_address = sys.argv[6] == "fuzz-address"


class ViscaProbe(BaseMonitor):
    """Liveness: CAM_PowerInq (8x 09 04 00 FF) as a VISCA inquiry, answered within *bound*.
    Also ends the session once *seconds* have passed."""

    def __init__(self):
        super().__init__()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect((host, port))
        self.seq = 0
        self.probes = 0
        self.failures = 0
        self.unanswered = 0
        self.deadline = time.perf_counter() + seconds

    def alive(self):
        return True

    def post_send(self, target=None, fuzz_data_logger=None, session=None):
        if not session.last_recv:
            self.unanswered += 1
        if time.perf_counter() >= self.deadline:
            session._index_end = session.total_mutant_index  # ends the loop after this case
        self.seq += 1
        self.probes += 1
        self.sock.send(struct.pack(">HHI", 0x0110, 5, self.seq) + b"\x81\x09\x04\x00\xff")
        end = time.monotonic() + bound
        while (left := end - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(64)
            except OSError:
                break
            if len(data) >= 8 and struct.unpack(">HHI", data[:8])[::2] == (0x0111, self.seq):
                return True
        self.failures += 1
        return False

    def get_crash_synopsis(self):
        return "no answer to CAM_PowerInq"


def header(payload_type, block):
    s_word(payload_type, endian=">", name="payload_type")
    s_size(block, length=2, endian=">", name="payload_length")
    s_dword(1, endian=">", name="sequence")


s_initialize("CAM_Zoom_Direct")  # 8x 01 04 47 0p 0q 0r 0s FF
header(0x0100, "command")
with s_block("command"):
    s_byte(0x81, name="address", fuzzable=fuzz_address)
    s_bytes(b"\x01\x04\x47", name="command_bytes")
    s_bytes(b"\x00\x00\x00\x00", name="position")
    s_static(b"\xff")
s_initialize("CAM_ZoomPosInq")  # 8x 09 04 47 FF
header(0x0110, "inquiry")
with s_block("inquiry"):
    s_byte(0x81, name="address", fuzzable=fuzz_address)
    s_bytes(b"\x09\x04\x47", name="inquiry_bytes")
    s_static(b"\xff")

probe = ViscaProbe()
connection = UDPSocketConnection(host, port, send_timeout=bound, recv_timeout=bound,
                                 bind=("127.0.0.1", 0))
session = Session(
    target=Target(connection=connection, monitors=[probe]),
    web_port=None,
    fuzz_loggers=[],
    fuzz_db_keep_only_n_pass_cases=1,
    db_filename=workdir + "/boofuzz.db",
    receive_data_after_each_request=True,
    receive_data_after_fuzz=True,
    restart_sleep_time=0,
)
session.connect(s_get("CAM_Zoom_Direct"))
session.connect(s_get("CAM_ZoomPosInq"))
start = time.perf_counter()
probe.deadline = start + seconds
session.fuzz()
elapsed = time.perf_counter() - start
print(json.dumps({"cases": session.num_cases_actually_fuzzed, "seconds": elapsed,
                  "failures": probe.failures, "probes": probe.probes,
                  "unanswered": probe.unanswered, "version": version("boofuzz")}))
'''

#: what each side did, for the legend
notes: list[str] = []
LEGEND = (
    f"fuzzing ({SECONDS:g} s each, one `conformance emulate visca-ip` process over UDP "
    f"loopback, liveness checked, {REPLY_BOUND:g} s reply bound on both sides): baseline = "
    "boofuzz (request modelled field by field, the answer to every message read, a "
    "CAM_PowerInq liveness monitor after every case; 'address fixed' leaves the camera "
    "address byte unfuzzed, so that no case waits out the bound); framework = the fuzz "
    f"campaign (seed {SEED}, programs pipelined and paired by sequence number, liveness "
    "probe and state check after every program)"
)


class Emulator:
    """``conformance emulate visca-ip --udp 127.0.0.1:0`` in its own process."""

    def __init__(self, timeout: float = 20.0) -> None:
        cmd = [sys.executable, "-m", "conformance.cli", "emulate", "visca-ip"]
        self.proc = subprocess.Popen(
            [*cmd, "--udp", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            ready = sel.select(timeout)
        if not ready:
            self.close()
            raise RuntimeError(f"the emulator did not say where it listens within {timeout:g} s")
        endpoint = json.loads(self.proc.stdout.readline())["endpoints"][0]
        self.device: str = endpoint["device"]
        host, _, port = endpoint["address"].rpartition(":")
        self.host, self.port = host, int(port)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def boofuzz(host: str, port: int, *, fuzz_address: bool) -> tuple[float | None, str]:
    """(cases/s, one line on the run); cases/s is None when boofuzz cannot run."""
    if not BOOFUZZ_PYTHON.exists():
        return None, "boofuzz: not installed (`make bench` installs it into .venv-bench)"
    mode = "fuzz-address" if fuzz_address else "fixed-address"
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "boofuzz_visca_ip.py"
        script.write_text(BOOFUZZ_SCRIPT)
        args = [str(BOOFUZZ_PYTHON), str(script), host, str(port), str(SECONDS)]
        try:
            done = subprocess.run(
                [*args, str(REPLY_BOUND), tmp, mode],
                capture_output=True,
                text=True,
                timeout=SECONDS + 120,
                cwd=tmp,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"boofuzz: could not run ({exc})"
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        why = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return None, f"boofuzz: failed ({why})"
    out = json.loads(lines[-1])
    what = "all fields" if fuzz_address else "address fixed"
    note = (
        f"boofuzz {out['version']}, {what}: {out['cases']} cases in {out['seconds']:.1f} s, "
        f"{out['unanswered']} unanswered; {out['probes']} probes, {out['failures']} failed"
    )
    return out["cases"] / out["seconds"], note


def ours(device: str) -> tuple[float, str]:
    """(cases/s, one line on the run) of :func:`fuzz.campaign.run_campaign`."""
    from fuzz.campaign import CampaignConfig, run_campaign

    with tempfile.TemporaryDirectory() as corpus:
        config = CampaignConfig(
            device=device,
            duration=SECONDS,
            seed=SEED,
            corpus=Path(corpus),
            progress=False,
            mode="programs",  # message programs, as boofuzz sends; the state machine is slower
        )
        with contextlib.redirect_stderr(io.StringIO()):  # its finding lines: counted below
            result = run_campaign(config)
    note = (
        f"ours: {result.cases} cases ({result.programs} programs) in {result.seconds:.1f} s, "
        f"{len(result.findings)} findings, stopped: {result.stopped}"
    )
    return result.cases / result.seconds, note


def run() -> Iterator[tuple[str, float | None, float]]:
    notes.clear()
    emulator = Emulator()
    try:
        rate, note = ours(emulator.device)
        notes.append(note)
        full, note = boofuzz(emulator.host, emulator.port, fuzz_address=True)
        notes.append(note)
        fixed = None
        if full is not None:
            fixed, note = boofuzz(emulator.host, emulator.port, fuzz_address=False)
            notes.append(note)
    finally:
        emulator.close()
    yield "fuzz cases/s VISCA-IP, all fields", full, rate
    yield "fuzz cases/s VISCA-IP, address fixed", fixed, rate
