"""Per-test transcript: every byte or frame sent and received, with timestamps.

The plugin gives each test a fresh :class:`Transcript` on every device it uses
and attaches it to the Allure result as hex plus a one-line decode per message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from conformance.errors import hexs

Decoder = Callable[[bytes | str], str]

SENT = ">"
RECEIVED = "<"
NOTE = "#"


@dataclass(frozen=True)
class Record:
    """One message (or one unframed chunk) on the wire."""

    wallclock: float
    monotonic: float
    direction: str
    data: bytes | str
    note: str = ""


def _no_decode(_data: bytes | str) -> str:
    return ""


@dataclass
class Transcript:
    """Thread-safe append-only list of :class:`Record`."""

    name: str = ""
    decoder: Decoder = _no_decode
    records: list[Record] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _add(self, direction: str, data: bytes | str, note: str) -> Record:
        record = Record(time.time(), time.monotonic(), direction, data, note)
        with self._lock:
            self.records.append(record)
        return record

    def sent(self, data: bytes | str, note: str = "") -> Record:
        return self._add(SENT, data, note)

    def received(self, data: bytes | str, note: str = "") -> Record:
        return self._add(RECEIVED, data, note)

    def note(self, text: str) -> Record:
        return self._add(NOTE, b"", text)

    def decode(self, data: bytes | str) -> str:
        try:
            return self.decoder(data)
        except Exception as exc:  # a decoder bug must never hide the bytes
            return f"<decoder error: {type(exc).__name__}: {exc}>"

    def render(self) -> str:
        """Hex plus a one-line decode per message, one message per line."""
        with self._lock:
            records = list(self.records)
        if not records:
            return f"{self.name}: no traffic\n"
        start = records[0].monotonic
        lines = [f"# {self.name}" if self.name else "# transcript"]
        for r in records:
            stamp = datetime.fromtimestamp(r.wallclock, UTC).strftime("%H:%M:%S.%f")
            offset = f"+{r.monotonic - start:8.3f}s"
            if r.direction == NOTE:
                lines.append(f"{stamp} {offset} #  {r.note}")
                continue
            decoded = self.decode(r.data)
            extra = "  ".join(part for part in (decoded, r.note) if part)
            lines.append(
                f"{stamp} {offset} {r.direction}  {hexs(r.data)}"
                + (f"    {extra}" if extra else "")
            )
        return "\n".join(lines) + "\n"

    def __len__(self) -> int:
        return len(self.records)
