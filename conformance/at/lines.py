"""Lines of an AT dialogue, live or recorded.

Live bytes are framed by :class:`LineSplitter` (V.250: commands end in CR,
responses are ``<CR><LF>text<CR><LF>``), however they are fragmented.  A
recorded log is read by :func:`read_log`: plain lines, or lines with a
``[12:00:01.123]`` or ISO timestamp, with ``>``/``<`` direction marks or
without them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

HOST = ">"  # host to module
MODULE = "<"  # module to host


@dataclass(frozen=True)
class Line:
    number: int  # 1-based line of the log, or the order of arrival live
    text: str
    time: float | None = None  # seconds; only differences matter
    direction: str | None = None  # HOST, MODULE or None (unknown)


class LineSplitter:
    """Cuts a byte stream into lines on CR, LF or CR LF; blank lines vanish.

    Feeding one byte at a time gives the same lines as feeding everything at once.
    """

    def __init__(self, max_line: int = 4096) -> None:
        self._buffer = bytearray()
        self.max_line = max_line

    def feed(self, data: bytes) -> list[str]:
        self._buffer += data
        lines = []
        while True:
            ends = [i for i in (self._buffer.find(b"\r"), self._buffer.find(b"\n")) if i >= 0]
            if not ends:
                if len(self._buffer) > self.max_line:  # babbling: cut, never grow forever
                    lines.append(self._buffer[: self.max_line].decode("latin-1"))
                    del self._buffer[: self.max_line]
                    continue
                return lines
            end = min(ends)
            line = bytes(self._buffer[:end]).decode("latin-1")
            del self._buffer[: end + 1]
            if line.strip():
                lines.append(line)

    @property
    def pending(self) -> str:
        """Bytes received without a line end yet."""
        return self._buffer.decode("latin-1")


_PREFIX = re.compile(
    r"^\s*(?:\[(?P<clock>\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?)\]"
    r"|(?P<iso>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?))?"
    r"\s*(?:(?P<dir>[<>])(?:\s|$))?(?P<text>.*?)\s*$"
)


def parse_clock(text: str) -> float:
    """Seconds since midnight of a ``12:00:01.123`` (or ``12:00:01,123``) time of day."""
    h, m, s = text.replace(",", ".").split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def parse_iso(text: str) -> float:
    """Epoch seconds of an ISO 8601 time (``2026-11-21T12:00:01.123Z``, a ``,`` decimal
    mark or a ``+01:00`` offset allowed); without an offset it is local time."""
    text = text.replace(",", ".").replace("Z", "+00:00")
    return datetime.fromisoformat(text).timestamp()


class LogClock:
    """The time of each line of a log stamped with a time of day or an ISO time: a
    time of day more than 12 h before the previous stamp has passed midnight."""

    def __init__(self) -> None:
        self.day = 0.0
        self.last: float | None = None

    def when(self, clock: str | None, iso: str | None) -> float | None:
        """Seconds of the line's stamp (time of day: since the first midnight; ISO:
        epoch), None without one.  The latest stamp is kept in :attr:`last`."""
        when: float | None = None
        if clock:
            when = parse_clock(clock) + self.day
            if self.last is not None and when < self.last - 43_200:  # past midnight
                self.day += 86_400
                when += 86_400
        elif iso:
            when = parse_iso(iso)
        if when is not None:
            self.last = when
        return when


def read_log(lines: Iterable[str]) -> Iterator[Line]:
    """The dialogue lines of a recorded log (blank lines skipped)."""
    clock = LogClock()
    for number, raw in enumerate(lines, 1):
        match = _PREFIX.match(raw.rstrip("\r\n"))
        if match is None or not match["text"]:
            continue
        when = clock.when(match["clock"], match["iso"])
        yield Line(number, match["text"], when, match["dir"])


def split_params(text: str) -> list[str]:
    """Comma-separated parameters; commas inside double quotes do not split."""
    out, current, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            out.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    out.append("".join(current).strip())
    return out
