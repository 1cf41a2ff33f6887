"""What the byte-stream analysers share (a TCP connection or a serial log): one buffer
per direction, garbage runs, end-of-stream leftovers, findings and transcript.

The analysers are :class:`conformance.analyze.visca_stream.ViscaStream` and
:class:`conformance.analyze.pelco_stream.PelcoStream`.  Bytes that fit no frame
are skipped up to the next plausible start and reported once per run
("...garbage", naming them).  After a capture gap the stream resynchronises
silently (the gap itself is reported by the reader).  Each finding names the
party that sent the bytes: the client is the controller, the server the camera.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.analyze import visca_msg as vm
from conformance.analyze.model import CAPTURE, VIOLATION, Analysis, Conversation, Finding

#: bytes shown of a run of skipped garbage
GARBAGE_SHOWN = 32


@dataclass
class Direction:
    from_client: bool
    buffer: bytearray = field(default_factory=bytearray)
    garbage: bytearray = field(default_factory=bytearray)
    garbage_count: int = 0
    resync: bool = False  # after a gap: skip to the next frame boundary silently
    overlong: bool = False  # inside a VISCA message that never ended (already reported)


class Stream:
    """Per-direction buffers, findings and transcript shared by the VISCA and Pelco streams."""

    protocol_requirement = ""
    check_prefix = ""

    def __init__(self, analysis: Analysis, conversation: Conversation, *, timed: bool) -> None:
        self.analysis = analysis
        self.conv = conversation
        self.timed = timed
        self._dirs = {True: Direction(True), False: Direction(False)}
        self._frame = 0
        self._time = 0.0

    # ------------------------------------------------------------ StreamHandler

    def data(self, from_client: bool, payload: bytes, frame: int, time: float) -> None:
        self._frame, self._time = frame, time
        self.conv.seen(time if self.timed else None)
        d = self._dirs[from_client]
        d.buffer += payload
        self._split(from_client, d, final=False)
        self._expire(time)

    def gap(self, from_client: bool, missing: int, frame: int, time: float) -> None:
        d = self._dirs[from_client]
        d.buffer.clear()
        d.garbage.clear()
        d.garbage_count = 0
        d.resync = True
        self._after_gap()

    def close(self, time: float | None) -> None:
        for from_client, d in self._dirs.items():
            self._split(from_client, d, final=True)
            self._flush_garbage(d)
            if d.buffer:
                self.analysis.add(
                    Finding(
                        CAPTURE,
                        "capture.truncated-frame",
                        self.protocol_requirement,
                        f"{len(d.buffer)} bytes of an unfinished message when the "
                        f"{'connection closed' if time is not None else 'capture ended'}",
                        self.conv.key,
                        self._frame,
                        self._time if self.timed else None,
                        bytes(d.buffer),
                        party="",
                    )
                )
                d.buffer.clear()
        self._finish()

    # ------------------------------------------------------------ for subclasses

    def _split(self, from_client: bool, d: Direction, *, final: bool) -> None:
        raise NotImplementedError

    def _after_gap(self) -> None:
        """Forget pairing state that a gap made unreliable."""

    def _expire(self, now: float) -> None:
        """Count requests waiting too long as unanswered."""

    def _finish(self) -> None:
        """End of stream: settle what still waits."""

    def _party(self, from_client: bool, data: bytes, *, answer: bool | None = None) -> str:
        """Who sent *data* in direction *from_client* (*answer*: it is a reply)."""
        return self.conv.party(from_client)

    def _skip(self, d: Direction, count: int) -> None:
        """Drop *count* bytes from the buffer front as garbage (reported with the next frame)."""
        if not d.resync:
            if len(d.garbage) < GARBAGE_SHOWN:
                d.garbage += d.buffer[: GARBAGE_SHOWN - len(d.garbage)]
            d.garbage_count += count
        del d.buffer[:count]

    def _flush_garbage(self, d: Direction) -> None:
        if not d.garbage_count:
            return
        more = d.garbage_count - len(d.garbage)
        shown = vm.hexs(bytes(d.garbage)) + (f" ... ({more} more)" if more > 0 else "")
        self.violation(
            f"{self.check_prefix}.garbage",
            f"{d.garbage_count} bytes between messages fit no frame and were skipped: {shown}",
            bytes(d.garbage),
            party=self._party(d.from_client, bytes(d.garbage)),
            expected="nothing between frames",
        )
        d.garbage.clear()
        d.garbage_count = 0

    def note(self, from_client: bool | None, data: bytes, line: str) -> None:
        mark = "?" if from_client is None else (">" if from_client else "<")
        if not self.conv.transcript_full:
            line = f"#{self._frame} {mark} {vm.hexs(data)}  {line}"
        self.conv.note_message(self._time if self.timed else 0.0, line)

    def violation(
        self,
        check: str,
        summary: str,
        data: bytes | None,
        *,
        party: str,
        kind: str = VIOLATION,
        decoded: str | None = None,
        expected: str | None = None,
        requirement: str | None = None,
        frame: int | None = None,
        time: float | None = None,
    ) -> None:
        self.analysis.add(
            Finding(
                kind,
                check,
                requirement or self.protocol_requirement,
                summary,
                self.conv.key,
                frame if frame is not None else self._frame,
                (time if time is not None else self._time) if self.timed else None,
                data,
                decoded,
                expected,
                party,
            )
        )
