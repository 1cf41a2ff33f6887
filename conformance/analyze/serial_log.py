"""Serial captures as text: hex dumps and timestamped byte logs, through the stream checks.

Accepted lines:

* plain hex: ``81 01 06 01 18 18 03 01 FF`` (any spacing, ``0x`` prefixes);
* dumps with offsets: ``xxd`` (``00000000: 8101 0601 ...  ascii``) and
  ``hexdump -C`` (``00000000  81 01 06 ...  |ascii|``, ``*`` for repeated lines);
* timestamped byte logs: ``12:00:01.123 > 81 01 ... FF``,
  ``[2026-11-21T12:00:01.123Z] TX: ...``, ``< 90 41 FF``, with or without a
  time and a direction (``>``/``TX`` controller to device, ``<``/``RX`` back).

The whole log is one conversation; the frame number of a finding is the log
line.  Lines are read one at a time: nothing per line is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from conformance.analyze import visca_msg as vm
from conformance.analyze.model import NOTE, Analysis, Finding
from conformance.analyze.pelco_stream import PelcoStream
from conformance.analyze.visca_stream import ViscaStream
from conformance.at.lines import LogClock
from conformance.decode import PELCO_FRAMING, parse_hex, split_visca
from dissectors import pelco

PROTOCOLS = ("visca", "pelco-d", "pelco-p")
#: bytes looked at to guess the protocol
GUESS_BYTES = 4096

_TIME = (
    r"(?P<iso>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)"
    r"|(?P<clock>\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?)"
)
_END = r"(?=[\]\s]|$)"  # a time stands alone: "81:01:06:FF" is hex, not a clock
_DIR = r"(?P<dir>>|<|(?:TX|RX|Tx|Rx|tx|rx)\b:?)"
_LINE = re.compile(rf"^\s*(?:\[?(?:{_TIME}){_END}\]?)?\s*{_DIR}?\s*(?P<rest>.*?)\s*$")
_DUMP = re.compile(r"^(?P<offset>[0-9a-fA-F]{6,8})(?::\s|\s\s|$)(?P<rest>.*)$")


@dataclass(frozen=True)
class Chunk:
    line: int
    time: float | None
    from_client: bool | None  # None: the log does not say
    data: bytes


class LogReader:
    """The byte chunks of a log, one per line that carries bytes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.unparsed: list[tuple[int, str]] = []  # the first lines not understood
        self.unparsed_count = 0
        self.timed = False
        self.directed = False

    def chunks(self) -> Iterator[Chunk]:
        dump: bool | None = None  # decided by the first line with bytes
        offset = 0
        previous = b""
        squeezed = False
        clock = LogClock()
        direction: bool | None = None
        with self.path.open(encoding="utf-8", errors="replace") as f:
            for number, raw in enumerate(f, 1):
                text = raw.strip()
                if not text or text.startswith("#"):
                    continue
                if dump is None:
                    first = _DUMP.match(text)
                    dump = first is not None and int(first["offset"], 16) == 0
                if dump:
                    if text == "*":
                        squeezed = True
                        continue
                    match = _DUMP.match(text)
                    if match is None:
                        self._unparsed(number, text)
                        continue
                    at = int(match["offset"], 16)
                    if squeezed and previous and at > offset:
                        repeats = (at - offset) // len(previous)
                        yield Chunk(number, None, None, previous * repeats)
                        offset += repeats * len(previous)
                    squeezed = False
                    data = self._dump_bytes(match["rest"])
                    if data is None:
                        self._unparsed(number, text)
                        continue
                    if data:
                        previous = data
                        offset = at + len(data)
                        yield Chunk(number, None, None, data)
                    continue
                match = _LINE.match(text)
                if match is None or not match["rest"]:
                    self._unparsed(number, text)
                    continue
                try:
                    data = parse_hex(match["rest"])
                except ValueError:
                    self._unparsed(number, text)
                    continue
                when = clock.when(match["clock"], match["iso"])
                if when is not None:
                    self.timed = True
                mark = match["dir"]
                if mark:
                    self.directed = True
                    direction = mark[0] in ">Tt"
                yield Chunk(number, when if when is not None else clock.last, direction, data)

    @staticmethod
    def _dump_bytes(rest: str) -> bytes | None:
        """The hex part of an xxd or hexdump -C line (the ASCII column dropped)."""
        if "|" in rest:  # hexdump -C
            hex_part = rest.split("|", 1)[0]
        else:  # xxd: hex groups, two spaces, then the ASCII column
            hex_part = re.split(r"\s{2,}", rest.strip(), maxsplit=1)[0]
        try:
            return parse_hex(hex_part)
        except ValueError:
            return None

    def _unparsed(self, number: int, text: str) -> None:
        self.unparsed_count += 1
        if len(self.unparsed) < 5:
            self.unparsed.append((number, text))


def guess_protocol(path: Path) -> str:
    """The protocol the first bytes of the log look like; ValueError if none fits."""
    sample = bytearray()
    for chunk in LogReader(path).chunks():
        sample += chunk.data
        if len(sample) >= GUESS_BYTES:
            break
    data = bytes(sample)
    if not data:
        raise ValueError(f"{path}: no hex bytes found: not a hex dump or byte log")
    scores = {
        "visca": sum(not vm.classify(m).problems for m in split_visca(data)),
        "pelco-d": _pelco_score(data, "pelco-d"),
        "pelco-p": _pelco_score(data, "pelco-p"),
    }
    best = max(scores, key=lambda name: scores[name])
    if scores[best] == 0:
        raise ValueError(
            f"{path}: cannot tell the protocol from the bytes; give --protocol "
            f"({', '.join(PROTOCOLS)})"
        )
    return best


def _pelco_score(data: bytes, variant: str) -> int:
    sync, length = PELCO_FRAMING[variant]
    rules = pelco.VARIANTS[variant]
    score, i = 0, data.find(sync)
    while 0 <= i <= len(data) - length:
        frame = data[i : i + length]
        if all(frame[n - 1] == v for n, v, _ in rules.framing) and frame[-1] == rules.checksum(
            frame
        ):
            score += 1
            i += length
        else:
            i = data.find(sync, i + 1)
    return score


def analyze_log(path: Path, protocol: str | None = None) -> Analysis:
    """Analyse the serial log at *path* as *protocol* ("visca", "pelco-d", "pelco-p";
    None: guessed).  Raises ValueError for an unknown protocol or a log without bytes."""
    if protocol is not None and protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r} (known: {', '.join(PROTOCOLS)})")
    protocol = protocol or guess_protocol(path)
    analysis = Analysis(str(path), format="log")
    conv = analysis.conversation(f"{protocol}-serial", "controller", "device", key=path.name)
    conv.details["log_protocol"] = protocol
    reader = LogReader(path)
    chunks = reader.chunks()
    first = next(chunks, None)
    if first is None:
        raise ValueError(f"{path}: no hex bytes found: not a hex dump or byte log")
    # a log's first line tells whether it has times; directions may start later
    timed = first.time is not None
    stream: ViscaStream | PelcoStream
    if protocol == "visca":
        stream = ViscaStream(analysis, conv, timed=timed, directed=first.from_client is not None)
    else:
        stream = PelcoStream(analysis, conv, protocol, timed=timed)
    chunk: Chunk | None = first
    while chunk is not None:
        analysis.packets += 1
        from_client = True if chunk.from_client is None else chunk.from_client
        stream.data(from_client, chunk.data, chunk.line, chunk.time or 0.0)
        chunk = next(chunks, None)
    stream.close(None)
    conv.details["timestamps"] = timed
    conv.details["direction_marks"] = reader.directed
    if reader.unparsed:
        number, text = reader.unparsed[0]
        analysis.add(
            Finding(
                NOTE,
                "log.unparsed",
                "log format (module docstring)",
                f"{reader.unparsed_count} line(s) not understood as bytes were skipped, "
                f"first line {number}: {text[:80]!r}",
                conv.key,
                number,
                party="",  # the log itself
            )
        )
    return analysis
