"""``conformance analyze`` on large VISCA-over-IP captures: packets per second and peak
memory against ``tshark -r FILE`` (the baseline, output to /dev/null) on the same file.

The capture (classic pcap, Ethernet / IPv4 / UDP, written with ``struct`` in
seconds) carries :data:`CONTROLLERS` controllers talking to one camera on port
52381 (AVer VISCA spec rev 3.4 §3.2.4): a pool of command and inquiry
exchanges from :func:`tests.bench.visca_ip_decode.frames` (every request with
its ACK and Completion or its answer), replayed with per-controller sequence
numbers, 200 µs apart; every :data:`ANOMALY_EVERY` packets one sequence number
is skipped and one reply answers nothing.  Each side runs as its own process;
its CPU time and peak RSS are what ``os.wait4`` reports for that process.  Both
sizes in :data:`SIZES` run, so flat memory shows as the same peak for both.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from tests.bench import visca_ip_decode

SIZES = (100_000, 1_000_000)
CONTROLLERS = 4
ANOMALY_EVERY = 100_000
POOL = 3_000  # frames in the exchange pool the capture replays
STEP_US = 200
#: wall-time bound of one measured process (seconds)
DEADLINE = 900.0

CAMERA = bytes([10, 0, 0, 9])
CAMERA_PORT = 52381
ROOT = Path(__file__).resolve().parents[2]

OURS = (
    "import sys\n"
    "from conformance.analyze.command import run\n"
    "sys.exit(run(sys.argv[1], json_out=False, allure=None, ports=None, protocol=None))\n"
)

notes: list[str] = []
LEGEND = (
    f"capture analysis ({CONTROLLERS} VISCA-IP controllers, command/inquiry/ACK/Completion mix, "
    f"a gap and an orphan reply every {ANOMALY_EVERY} packets): baseline = tshark -r FILE "
    "-n > /dev/null; framework = conformance analyze FILE; packets per CPU second of each "
    "process, start-up included (higher is better; CPU, not wall time, so that other load on "
    "the machine does not skew it), and its peak RSS in MiB (lower is better)"
)


def _exchanges() -> list[list[tuple[bool, bytes]]]:
    """The pool: whole exchanges (request first) of (to the camera?, datagram)."""
    out: list[list[tuple[bool, bytes]]] = []
    for to_camera, datagram in visca_ip_decode.frames(POOL, seed=7):
        if to_camera or not out:
            out.append([])
        out[-1].append((to_camera, datagram))
    return out


def write_capture(path: Path, packets: int) -> int:
    """Write the benchmark capture of *packets* packets; returns the anomalies planted."""
    pool = _exchanges()
    eth = b"\x02\x00\x00\x00\x00\x09" + b"\x02\x00\x00\x00\x00\x02" + b"\x08\x00"
    ip = struct.Struct("!BBHHHBBH4s4s")
    udp = struct.Struct("!HHHH")
    record = struct.Struct("<IIII")
    hosts = [(bytes([10, 0, 0, 11 + i]), 50_000 + i) for i in range(CONTROLLERS)]
    seqs = [0] * CONTROLLERS
    planted = 0
    written = 0
    next_anomaly = ANOMALY_EVERY // 2
    t_us = 1_700_000_000 * 1_000_000
    chunk: list[bytes] = []
    with path.open("wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        index = 0
        while written < packets:
            who = index % CONTROLLERS
            exchange = [(to_camera, seqs[who], d) for to_camera, d in pool[index % len(pool)]]
            index += 1
            seqs[who] += 1
            if written >= next_anomaly:
                next_anomaly += ANOMALY_EVERY
                seqs[who] += 1  # this controller's next request skips a number ...
                exchange.append((False, seqs[who] + 1_000_000, exchange[-1][2]))  # ... orphan
                planted += 2
            host, port = hosts[who]
            for to_camera, seq, datagram in exchange[: packets - written]:
                body = datagram[:4] + seq.to_bytes(4, "big") + datagram[8:]
                src, dst = (host, CAMERA) if to_camera else (CAMERA, host)
                ports = (port, CAMERA_PORT) if to_camera else (CAMERA_PORT, port)
                frame = b"".join(
                    (
                        eth,
                        ip.pack(0x45, 0, 28 + len(body), 0, 0, 64, 17, 0, src, dst),
                        udp.pack(*ports, 8 + len(body), 0),
                        body,
                    )
                )
                t_us += STEP_US
                sec, usec = divmod(t_us, 1_000_000)
                chunk += (record.pack(sec, usec, len(frame), len(frame)), frame)
                written += 1
            if len(chunk) > 20_000:
                f.write(b"".join(chunk))
                chunk.clear()
        f.write(b"".join(chunk))
    return planted


def measure(argv: list[str]) -> tuple[float, float, float, int]:
    """(wall seconds, CPU seconds, peak RSS in MiB, exit status) of one process run to
    its end."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    timer = threading.Timer(DEADLINE, proc.kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return time.perf_counter() - start, cpu, usage.ru_maxrss / 1024, proc.returncode


def run() -> Iterator[tuple[str, float | None, float]]:
    notes.clear()
    tshark = shutil.which("tshark")
    if tshark is None:
        notes.append("tshark is not installed (Debian package tshark): our figures alone")
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            path = Path(tmp) / f"visca-ip-{size}.pcap"
            started = time.perf_counter()
            planted = write_capture(path, size)
            mib = path.stat().st_size / 2**20
            notes.append(
                f"{size} packets: capture written in {time.perf_counter() - started:.1f} s "
                f"({mib:.0f} MiB, {planted} planted anomalies)"
            )
            wall, cpu, rss, status = measure([sys.executable, "-c", OURS, str(path)])
            notes.append(f"{size} packets: conformance analyze {wall:.1f} s wall, {cpu:.1f} s CPU")
            if status != 1:
                notes.append(f"conformance analyze exited {status} on {path.name}, expected 1")
            baseline: tuple[float, float] | None = None
            if tshark is not None:
                t_wall, t_cpu, t_rss, t_status = measure([tshark, "-n", "-r", str(path)])
                notes.append(f"{size} packets: tshark {t_wall:.1f} s wall, {t_cpu:.1f} s CPU")
                baseline = (size / t_cpu, t_rss)
                if t_status != 0:
                    notes.append(f"tshark exited {t_status} on {path.name}")
            label = f"{size // 1000}k pkts"
            yield (f"analyze {label}: packets/CPU-s", baseline and baseline[0], size / cpu)
            yield (f"analyze {label}: peak RSS MiB", baseline and baseline[1], rss)


if __name__ == "__main__":
    for name, base, ours in run():
        print(f"{name:<40} {base if base is not None else 'n/a':>12} {ours:>12.1f}")
    print(LEGEND)
    for note in notes:
        print(f"  {note}")
