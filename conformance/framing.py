"""Framers cut a received byte stream into protocol messages.

Message-oriented links (UDP, WebSocket) deliver whole messages and need none;
stream links (serial, TCP) hand their bytes to one of these.  A framer that
holds more than ``max_frame`` bytes without a complete message reports the
peer as babbling instead of waiting for ever.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Framer(Protocol):
    max_frame: int

    def split(self, buffer: bytearray) -> bytes | None:
        """Remove one complete frame from the front of *buffer* and return it."""


@dataclass(frozen=True)
class TerminatorFramer:
    """Frames end with a terminator byte sequence (VISCA ``FF``, AT ``CR LF``)."""

    terminator: bytes
    max_frame: int

    def split(self, buffer: bytearray) -> bytes | None:
        end = buffer.find(self.terminator)
        if end < 0:
            return None
        end += len(self.terminator)
        frame = bytes(buffer[:end])
        del buffer[:end]
        return frame


@dataclass(frozen=True)
class FixedLengthFramer:
    """Fixed-size frames that start with a sync byte (Pelco-D ``FF``, Pelco-P ``A0``).

    Bytes before the first sync byte are returned as a frame of their own so
    that the caller sees (and reports) them rather than having them vanish.
    """

    sync: bytes
    length: int

    @property
    def max_frame(self) -> int:
        return self.length

    def split(self, buffer: bytearray) -> bytes | None:
        start = buffer.find(self.sync)
        if start > 0:
            junk = bytes(buffer[:start])
            del buffer[:start]
            return junk
        if start < 0:
            if len(buffer) >= self.length:
                junk = bytes(buffer)
                del buffer[:]
                return junk
            return None
        if len(buffer) < self.length:
            return None
        frame = bytes(buffer[: self.length])
        del buffer[: self.length]
        return frame
