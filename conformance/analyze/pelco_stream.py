"""Pelco-D and Pelco-P in a byte stream (a TCP connection or a serial log): fixed-length
framing from the sync byte, resynchronisation after garbage, checksums.

AVer spec: Pelco-D (§3.2.3) 7-byte frames from ``FF``, checksum "2~6 SUM";
Pelco-P (§3.2.2) 8-byte frames from ``A0`` with ETX ``AF``, checksum "1~7
XOR".  A frame whose framing or checksum fails is first tried as garbage before
a good frame that starts inside it; only if none does is it a bad frame.
"""

from __future__ import annotations

from functools import lru_cache

from conformance.analyze.model import Analysis, Conversation
from conformance.analyze.streams import Direction, Stream
from conformance.decode import PELCO_FRAMING, pelco_decoder
from dissectors import pelco
from dissectors.decoded import Decoded


@lru_cache(maxsize=4096)
def _pelco_decode(protocol: str, frame: bytes) -> Decoded:
    return pelco_decoder(protocol)(frame)


class PelcoStream(Stream):
    """Pelco-D or Pelco-P frames in a byte stream; the controller speaks, the camera
    (in AVer's tables) never answers."""

    check_prefix = "pelco"

    def __init__(
        self,
        analysis: Analysis,
        conversation: Conversation,
        variant: str,
        *,
        timed: bool = True,
    ) -> None:
        super().__init__(analysis, conversation, timed=timed)
        self.variant = variant  # "pelco-d" or "pelco-p"
        self.sync, self.length = PELCO_FRAMING[variant]
        self.rules = pelco.VARIANTS[variant]
        section = "§3.2.3" if variant == "pelco-d" else "§3.2.2"
        self.protocol_requirement = f"AVer {variant.title()} {section}"

    def _split(self, from_client: bool, d: Direction, *, final: bool) -> None:
        buf, sync, length = d.buffer, self.sync, self.length
        while buf:
            start = buf.find(bytes([sync]))
            if start < 0:
                self._skip(d, len(buf))
                return
            if start > 0:
                self._skip(d, start)
                continue
            if len(buf) < length:
                return
            frame = bytes(buf[:length])
            if not pelco.aligned(self.rules, frame):
                later = self._realign(buf, final)
                if later is None:
                    return  # wait for the bytes that decide
                if later:
                    self._skip(d, later)
                    continue
            d.resync = False
            self._flush_garbage(d)
            del buf[:length]
            self._frame_out(from_client, frame)

    def _realign(self, buf: bytearray, final: bool) -> int | None:
        """Where a valid frame starts inside a broken one (0: nowhere, None: undecided yet)."""
        for i in range(1, self.length):
            if buf[i] != self.sync:
                continue
            if len(buf) < i + self.length:
                return 0 if final else None
            if pelco.aligned(self.rules, bytes(buf[i : i + self.length])):
                return i
        return 0

    def _frame_out(self, from_client: bool, frame: bytes) -> None:
        decoded = _pelco_decode(self.variant, frame)
        self.note(from_client, frame, decoded.describe())
        if from_client:
            self.conv.requests += 1
        else:
            self.conv.replies += 1
        checksum = [p for p in decoded.problems if "checksum" in p]
        other = [p for p in decoded.problems if "checksum" not in p]
        party = self._party(from_client, frame)
        if checksum:
            self.violation(
                "pelco.checksum",
                "; ".join(checksum),
                frame,
                party=party,
                decoded=decoded.describe(),
                expected=f"checksum {self.rules.checksum(frame):02X} ({self.rules.checksum_rule})",
            )
        if other:
            self.violation(
                "pelco.invalid",
                f"invalid {self.variant} frame: {'; '.join(other)}",
                frame,
                party=party,
                decoded=decoded.describe(),
            )
