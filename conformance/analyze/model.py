"""What an analysis finds in a capture: findings, conversations, streaming latency.

Everything here is bounded so that a multi-gigabyte capture analyses in flat
memory: latency percentiles come from a fixed log-scale histogram, transcripts
keep their first lines only, and findings keep the first few per conversation
and check (the rest are counted).

Every finding names the *party* whose bytes it is about: the controller or the
camera for VISCA, VISCA over IP and Pelco (the controller is the conversation's
client), the station or the CSMS for OCPP (the station is the WebSocket client,
OCPP 2.1 Part 4 chapter 3), and "" for the capture itself (every CAPTURE
finding) or where the sender cannot be told (bytes in a serial log without
direction marks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

VIOLATION = "violation"  # the device (or peer) broke the spec
CAPTURE = "capture"  # the capture itself is incomplete: TCP gap, truncated frame, snaplen cut
NOTE = "note"  # informational: e.g. an encrypted conversation that cannot be analysed
KINDS: tuple[str, ...] = (VIOLATION, CAPTURE, NOTE)

CONTROLLER = "controller"  # VISCA / Pelco: the side that sends requests (the client)
CAMERA = "camera"
STATION = "station"  # OCPP: the WebSocket client
CSMS = "csms"
#: (client party, server party) of the OCPP conversations; every other protocol has a
#: controller as client and a camera as server
_OCPP_PARTIES = (STATION, CSMS)
_CAMERA_PARTIES = (CONTROLLER, CAMERA)

#: transcript lines kept per conversation
TRANSCRIPT_LINES = 200
#: findings kept per (conversation, check); the rest are counted in ``Analysis.suppressed``
FINDINGS_PER_CHECK = 50

#: ``to_json()`` document version; bumped only when a key changes meaning or goes away
SCHEMA = "conformance-analyze/1"


def hexs(data: bytes) -> str:
    return data.hex(" ").upper()


def parties(protocol: str) -> tuple[str, str]:
    """(client party, server party) of a conversation's *protocol*: ("station", "csms")
    for "ocpp", ("controller", "camera") for the VISCA and Pelco ones."""
    return _OCPP_PARTIES if protocol == "ocpp" else _CAMERA_PARTIES


#: protocols whose captures fail on a violation by either side: a capture may be
#: taken to judge the station or the CSMS; for cameras the controller is the tool
BOTH_SIDES = frozenset({"ocpp"})


def failing_parties(protocol: str | None) -> frozenset[str]:
    """The parties whose VIOLATION fails a conversation of *protocol* ("" included: a
    sender that cannot be told); None (capture-wide findings): any party."""
    if protocol is None:
        return frozenset({"", *parties("ocpp"), *parties("visca")})
    client, server = parties(protocol)
    return frozenset({client, server} if protocol in BOTH_SIDES else {server, ""})


def party_name(party: str) -> str:
    """*party* as shown to a reader ("" is "unattributed")."""
    return party or "unattributed"


@dataclass
class Finding:
    """One thing the analysis noticed, tied to a frame and a spec reference."""

    kind: str  # VIOLATION | CAPTURE | NOTE
    check: str  # stable short id, e.g. "visca-ip.sequence-gap"
    requirement: str  # spec reference: "AVer VISCA §3.2.4", "E01.FR.07"
    summary: str  # one line, what happened
    conversation: str = ""  # Conversation.key
    frame: int | None = None  # 1-based packet number (as Wireshark shows it), or log line number
    time: float | None = None  # capture timestamp (epoch seconds)
    data: bytes | str | None = None  # the offending bytes / message text
    decoded: str | None = None  # one-line decode of data
    expected: str | None = None  # what the spec wants instead
    party: str = ""  # who sent the bytes: CONTROLLER, CAMERA, STATION, CSMS; "" the capture

    def to_json(self) -> dict[str, Any]:
        """Keys: kind, check, requirement, summary, conversation, frame, time,
        data (spaced upper-case hex for bytes, the text itself for text, or null),
        data_format ("hex", "text" or null), decoded, expected, party ("" for the
        capture itself or an unknown sender)."""
        if isinstance(self.data, bytes | bytearray):
            data: str | None = hexs(bytes(self.data))
            data_format: str | None = "hex"
        elif isinstance(self.data, str):
            data, data_format = self.data, "text"
        else:
            data, data_format = None, None
        return {
            "kind": self.kind,
            "check": self.check,
            "requirement": self.requirement,
            "summary": self.summary,
            "conversation": self.conversation,
            "frame": self.frame,
            "time": self.time,
            "data": data,
            "data_format": data_format,
            "decoded": self.decoded,
            "expected": self.expected,
            "party": self.party,
        }

    @property
    def label(self) -> str:
        """``VIOLATION (camera)``, or ``CAPTURE`` without a party."""
        return f"{self.kind.upper()} ({self.party})" if self.party else self.kind.upper()

    def line(self) -> str:
        """One line for the summary:
        ``frame 12 VIOLATION (controller) visca-ip.sequence-gap [AVer VISCA §3.2.4]: ...``."""
        where = f"frame {self.frame} " if self.frame is not None else ""
        return f"{where}{self.label} {self.check} [{self.requirement}]: {self.summary}"


class LatencyStats:
    """Streaming latency statistics in constant memory.

    count/min/max/mean are exact; percentiles come from a log-scale histogram
    (buckets 2 % wide from 1 µs up), so they are within about 1 % of the truth.
    """

    _BASE = 1e-6  # the buckets start at 1 µs
    _STEP = math.log(1.02)
    _SCALE = 1 / _STEP

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.min: float | None = None
        self.max: float | None = None
        self._buckets: dict[int, int] = {}

    def add(self, seconds: float) -> None:
        if seconds < 0.0:
            seconds = 0.0
        self.count += 1
        self.total += seconds
        if self.min is None or seconds < self.min:
            self.min = seconds
        if self.max is None or seconds > self.max:
            self.max = seconds
        index = 0 if seconds <= self._BASE else int(_log(seconds * 1e6) * self._SCALE)
        buckets = self._buckets
        buckets[index] = buckets.get(index, 0) + 1

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    def percentile(self, q: float) -> float | None:
        """The *q*-th percentile (0..100), or None without samples."""
        if not self.count or self.min is None or self.max is None:
            return None
        rank = max(1, math.ceil(q / 100 * self.count))
        seen = 0
        for index in sorted(self._buckets):
            seen += self._buckets[index]
            if seen >= rank:
                middle = self._BASE * math.exp((index + 0.5) * self._STEP)
                return min(max(middle, self.min), self.max)
        return self.max

    def to_json(self) -> dict[str, Any]:
        """Keys: count, min, max, mean, p50, p95, p99 (seconds; null without samples)."""
        return {
            "count": self.count,
            "min": self.min,
            "max": self.max,
            "mean": self.mean,
            "p50": self.percentile(50),
            "p95": self.percentile(95),
            "p99": self.percentile(99),
        }

    def brief(self) -> str:
        """``p50 12.3 ms / p95 40.1 ms / max 52.0 ms (n=10)`` or ``-``."""
        if not self.count:
            return "-"
        p50, p95 = self.percentile(50), self.percentile(95)
        return f"p50 {_ms(p50)} / p95 {_ms(p95)} / max {_ms(self.max)} (n={self.count})"


_log = math.log


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


@dataclass
class Conversation:
    """One controller/device exchange: a UDP pair, a TCP connection's 4-tuple, or a log."""

    protocol: str  # "visca-ip", "visca-tcp", "pelco-d-tcp", "pelco-p-tcp", "ocpp", ...
    key: str  # "10.0.0.2:50000 -> 10.0.0.9:52381" (client -> server), or the log file name
    client: str
    server: str
    first: float | None = None
    last: float | None = None
    messages: int = 0  # messages decoded (both directions)
    requests: int = 0
    replies: int = 0
    unanswered: int = 0
    #: request -> first reply (ACK, inquiry answer, response)
    latency: LatencyStats = field(default_factory=LatencyStats)
    #: request -> completion (VISCA commands); empty for protocols without one
    completion: LatencyStats = field(default_factory=LatencyStats)
    details: dict[str, Any] = field(default_factory=dict)
    transcript: list[str] = field(default_factory=list)
    transcript_omitted: int = 0

    def seen(self, time: float | None) -> None:
        """Widen first/last to include *time*."""
        if time is None:
            return
        if self.first is None or time < self.first:
            self.first = time
        if self.last is None or time > self.last:
            self.last = time

    def party(self, from_client: bool) -> str:
        """The party of one side: the client is the controller (station for OCPP)."""
        return parties(self.protocol)[0 if from_client else 1]

    @property
    def transcript_full(self) -> bool:
        """No room for another transcript line (callers may skip formatting one)."""
        return len(self.transcript) >= TRANSCRIPT_LINES

    def note_message(self, time: float, line: str) -> None:
        """Count one decoded message; keep *line* in the transcript while there is room.

        Transcript lines are prefixed with the time since the conversation began.
        """
        self.messages += 1
        self.note_line(time, line)

    def note_line(self, time: float, line: str) -> None:
        """Keep *line*, which is not a message (e.g. an HTTP upgrade line), in the
        transcript while there is room; the message count stays."""
        self.seen(time)
        if len(self.transcript) < TRANSCRIPT_LINES:
            offset = time - self.first if self.first is not None and time is not None else 0.0
            self.transcript.append(f"+{offset:.6f}  {line}")
        else:
            self.transcript_omitted += 1

    def to_json(self, *, empty: bool = False) -> dict[str, Any]:
        """Keys: protocol, key, client, server, first, last, messages, requests,
        replies, unanswered, latency, completion, details, transcript,
        transcript_omitted, empty (*empty*: see :meth:`Analysis.empty_keys`)."""
        return {
            "protocol": self.protocol,
            "key": self.key,
            "client": self.client,
            "server": self.server,
            "first": self.first,
            "last": self.last,
            "messages": self.messages,
            "requests": self.requests,
            "replies": self.replies,
            "unanswered": self.unanswered,
            "latency": self.latency.to_json(),
            "completion": self.completion.to_json(),
            "details": dict(self.details),
            "transcript": list(self.transcript),
            "transcript_omitted": self.transcript_omitted,
            "empty": empty,
        }


class Analysis:
    """Everything learnt from one capture."""

    def __init__(self, capture: str, *, format: str = "") -> None:
        self.capture = capture
        self.format = format  # "pcap", "pcapng", "log"
        self.packets = 0  # packets (or log lines with bytes) read
        self.other_packets = 0  # packets no analyser wanted
        self.conversations: dict[str, Conversation] = {}
        self.findings: list[Finding] = []
        #: findings not kept (beyond FINDINGS_PER_CHECK), per "conversation|check"
        self.suppressed: dict[str, int] = {}
        self._per_check: dict[tuple[str, str], int] = {}
        self._totals: dict[str, int] = dict.fromkeys(KINDS, 0)
        self._by_check: dict[str, int] = {}
        self._violations_by_party: dict[str, int] = {}

    def conversation(
        self, protocol: str, client: str, server: str, *, key: str | None = None
    ) -> Conversation:
        """Get or create the conversation ``client -> server`` (or named *key*)."""
        key = key if key is not None else f"{client} -> {server}"
        conv = self.conversations.get(key)
        if conv is None:
            conv = self.conversations[key] = Conversation(protocol, key, client, server)
        return conv

    def add(self, finding: Finding, *, once: bool = False) -> bool:
        """Record *finding* (*once*: unless its check already fired in its
        conversation); beyond FINDINGS_PER_CHECK of the same check in the same
        conversation it is only counted.  Returns whether it was recorded."""
        slot = (finding.conversation, finding.check)
        seen = self._per_check.get(slot, 0)
        if once and seen:
            return False
        self._totals[finding.kind] = self._totals.get(finding.kind, 0) + 1
        self._by_check[finding.check] = self._by_check.get(finding.check, 0) + 1
        if finding.kind == VIOLATION:
            by_party = self._violations_by_party
            by_party[finding.party] = by_party.get(finding.party, 0) + 1
        self._per_check[slot] = seen + 1
        if seen < FINDINGS_PER_CHECK:
            self.findings.append(finding)
        else:
            name = f"{finding.conversation}|{finding.check}"
            self.suppressed[name] = self.suppressed.get(name, 0) + 1
        return True

    def count(self, kind: str) -> int:
        """How many findings of *kind* there were, kept or not."""
        return self._totals.get(kind, 0)

    def violations_by_party(self) -> dict[str, int]:
        """VIOLATION findings per party ("" unattributed), kept or not, most first."""
        return dict(sorted(self._violations_by_party.items(), key=lambda kv: (-kv[1], kv[0])))

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == VIOLATION]

    def failing(self) -> list[Finding]:
        """The kept VIOLATIONs that fail their conversation (:func:`failing_parties`):
        what the exit status of ``conformance analyze`` and the Allure verdicts go by."""
        out = []
        for f in self.violations:
            conv = self.conversations.get(f.conversation)
            if f.party in failing_parties(conv.protocol if conv else None):
                out.append(f)
        return out

    def empty_keys(self) -> set[str]:
        """Keys of the conversations with nothing in them: no message, no transcript line
        and no finding (a refused connection, a SYN / RST, or one closed unused)."""
        with_findings = {conversation for conversation, _ in self._per_check}
        return {
            key
            for key, c in self.conversations.items()
            if not c.messages and not c.transcript and key not in with_findings
        }

    def sorted_findings(self) -> list[Finding]:
        """Findings in frame order (findings without a frame last)."""
        return sorted(self.findings, key=lambda f: (f.frame is None, f.frame or 0))

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document.

        Keys: schema, capture, format, packets, other_packets, conversations
        (list of ``Conversation.to_json()``, every one, "empty" set on those
        :meth:`empty_keys` names), findings (list of ``Finding.to_json()`` in frame
        order), totals ({kind: count, including suppressed}), violations_by_party
        ({party: VIOLATION count, including suppressed; "" unattributed}), by_check
        ({check: count}), suppressed ({"conversation|check": count not listed}).
        """
        empty = self.empty_keys()
        return {
            "schema": SCHEMA,
            "capture": self.capture,
            "format": self.format,
            "packets": self.packets,
            "other_packets": self.other_packets,
            "conversations": [
                c.to_json(empty=key in empty) for key, c in self.conversations.items()
            ],
            "findings": [f.to_json() for f in self.sorted_findings()],
            "totals": dict(self._totals),
            "violations_by_party": self.violations_by_party(),
            "by_check": dict(sorted(self._by_check.items())),
            "suppressed": dict(self.suppressed),
        }

    def render(self) -> str:
        """Human summary: conversations table (the empty ones one line per protocol and
        server), findings by kind (violations by party) and check, then each finding."""
        out = [
            f"{self.capture}: {self.format or 'capture'}, {self.packets} packets "
            f"({self.other_packets} not analysed), {len(self.conversations)} conversation(s)"
        ]
        empty = self.empty_keys()
        idle: dict[tuple[str, str], int] = {}  # (protocol, server) -> empty conversations
        for key in empty:
            c = self.conversations[key]
            idle[(c.protocol, c.server)] = idle.get((c.protocol, c.server), 0) + 1
        if len(empty) < len(self.conversations):
            rows = [("protocol", "conversation", "msgs", "req/rep", "unans", "latency")]
            for c in self.conversations.values():
                if c.key in empty:
                    continue
                latency = c.latency.brief()
                if c.completion.count:
                    latency += f"; completion {c.completion.brief()}"
                rows.append(
                    (
                        c.protocol,
                        c.key,
                        str(c.messages),
                        f"{c.requests}/{c.replies}",
                        str(c.unanswered),
                        latency,
                    )
                )
            widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
            for r in rows:
                cells = [cell.ljust(w) for cell, w in zip(r, widths, strict=False)]
                out.append("  " + "  ".join([*cells, r[-1]]).rstrip())
        for (protocol, server), n in sorted(idle.items()):
            out.append(
                f"  {protocol} -> {server}: {n} connection(s) with no messages: refused or empty"
            )
        totals = [f"{self._totals.get(k, 0)} {k}" for k in KINDS]
        if self._violations_by_party:
            by_party = ", ".join(
                f"{n} {party_name(p)}" for p, n in self.violations_by_party().items()
            )
            totals[0] += f" ({by_party})"
        out.append(f"findings: {', '.join(totals)}")
        for check, n in sorted(self._by_check.items()):
            out.append(f"  {n:6d}  {check}")
        for f in self.sorted_findings():
            out.append(f"  {f.line()}")
            if f.data is not None:
                shown = hexs(f.data) if isinstance(f.data, bytes) else repr(f.data)
                out.append(f"      data:     {_clip(shown)}")
            if f.decoded:
                out.append(f"      decoded:  {_clip(f.decoded)}")
            if f.expected:
                out.append(f"      expected: {f.expected}")
        for name, n in self.suppressed.items():
            out.append(f"  ... {n} more {name.split('|', 1)[1]} in {name.split('|', 1)[0]}")
        return "\n".join(out)


def _clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
