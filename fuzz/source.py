"""Choices read from a byte string, so one Hypothesis draw becomes many cases.

Every case builder in :mod:`fuzz` takes its decisions (which row, which
parameter value, which breakage) from a :class:`ByteSource`.  Hypothesis draws
the bytes and shrinks them: a shorter string gives fewer cases, and zero bytes
give the first choice and the low end of every range, so a shrunk reproducer is
the plainest program that still shows the finding.  Drawing one byte string per
program instead of one Hypothesis value per field keeps generation cheap enough
for thousands of cases per second.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


class ByteSource:
    """Consumes *data* from the front; once it is used up every choice is the
    first one, every integer the low end and every byte zero."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    @property
    def exhausted(self) -> bool:
        return self._pos >= len(self._data)

    @property
    def remaining(self) -> int:
        return max(0, len(self._data) - self._pos)

    def byte(self) -> int:
        if self._pos >= len(self._data):
            return 0
        value = self._data[self._pos]
        self._pos += 1
        return value

    def integer(self, low: int, high: int) -> int:
        """A value in ``low..high`` (inclusive), from as few bytes as the span needs."""
        if high <= low:
            return low
        span = high - low
        value = 0
        for _ in range((span.bit_length() + 7) // 8):
            value = (value << 8) | self.byte()
        return low + value % (span + 1)

    def boolean(self) -> bool:
        return bool(self.byte() & 1)

    def chance(self, percent: int) -> bool:
        """True for about *percent* % of byte values (never for a zero byte)."""
        return self.byte() * 100 >= (100 - percent) * 256 and percent > 0

    def choice(self, options: Sequence[T]) -> T:
        return options[self.integer(0, len(options) - 1)]

    def raw(self, size: int) -> bytes:
        """*size* bytes (zero-padded once the source is used up)."""
        chunk = self._data[self._pos : self._pos + size]
        self._pos += len(chunk)
        return chunk + bytes(size - len(chunk))

    def blob(self, max_size: int) -> bytes:
        """Up to *max_size* bytes, the length chosen first."""
        return self.raw(self.integer(0, max_size))
