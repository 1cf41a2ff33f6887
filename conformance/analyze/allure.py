"""A capture analysis as Allure results, so captures show up in the same report as live runs.

One result per conversation, except the empty ones (no message, no transcript
line, no finding: refused or unused connections, see
:meth:`~conformance.analyze.model.Analysis.empty_keys`).  A result is failed
when the device side broke the spec, passed otherwise (never broken: a capture
cannot break the framework):

* VISCA, VISCA over IP, Pelco: a VIOLATION by the camera, or by a sender that
  cannot be told.  The controller's violations are listed but do not fail the
  result: such captures are mostly of a test controller whose probes are flawed
  on purpose;
* OCPP: a VIOLATION by either side.  A capture may be of a station or of a CSMS
  under test, and the analysis cannot tell which one is the tool.

The status message counts the violations per party, then lists every finding
with its party (the "findings" attachment too).  Labels: epic = the protocol
title (as live runs use), feature "Capture analysis", story = the conversation
key, one ``requirement`` label per distinct requirement of its findings, one
``tag`` "violation by the PARTY" (or "violation unattributed") per party that
broke the spec.  Capture-wide findings (conversation "") get one more result.
Every file is written with :func:`conformance.files.write_atomic`.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

from conformance.allure_support import PROTOCOL_TITLES
from conformance.analyze.model import (
    VIOLATION,
    Analysis,
    Conversation,
    Finding,
    failing_parties,
    hexs,
    party_name,
)
from conformance.files import write_atomic

FEATURE = "Capture analysis"
#: conversation protocols named after their transport, mapped to the protocol title's key
_BASE = {"visca-tcp": "visca", "pelco-d-tcp": "pelco-d", "pelco-p-tcp": "pelco-p"}


def protocol_title(protocol: str) -> str:
    """``VISCA over IP`` for "visca-ip", ``VISCA`` for "visca-tcp" / "visca-serial", ..."""
    base = _BASE.get(protocol, protocol.removesuffix("-serial"))
    return PROTOCOL_TITLES.get(base, protocol)


def _by_party(findings: list[Finding]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for f in findings:
        if f.kind == VIOLATION:
            counts[f.party] = counts.get(f.party, 0) + 1
    return counts


def _by(party: str) -> str:
    return f"by the {party}" if party else party_name(party)


def _verdict(counts: dict[str, int], failing: frozenset[str]) -> str:
    """``violations: 2 by the controller (not failing this result), 1 by the camera``."""
    parts = [
        f"{n} {_by(p)}" + ("" if p in failing else " (not failing this result)")
        for p, n in counts.items()
    ]
    return "violations: " + ", ".join(parts) if parts else "no violations"


def _finding_text(f: Finding) -> str:
    where = f"frame {f.frame}" if f.frame is not None else "capture"
    lines = [f"[{f.requirement}] {where}: {f.label} {f.check}: {f.summary}"]
    if f.data is not None:
        lines.append(f"  bytes:    {hexs(f.data) if isinstance(f.data, bytes) else repr(f.data)}")
    if f.decoded:
        lines.append(f"  decoded:  {f.decoded}")
    if f.expected:
        lines.append(f"  expected: {f.expected}")
    return "\n".join(lines)


class _Writer:
    def __init__(self, analysis: Analysis, directory: Path) -> None:
        self.analysis = analysis
        self.directory = directory
        self.name = Path(analysis.capture).name
        self.written: list[Path] = []

    def attach(self, title: str, body: str) -> dict[str, str]:
        source = f"{uuid.uuid4()}-attachment.txt"
        path = self.directory / source
        write_atomic(path, body)
        self.written.append(path)
        return {"name": title, "source": source, "type": "text/plain"}

    def result(
        self,
        *,
        title: str,
        key: str,
        epic: str,
        findings: list[Finding],
        transcript: str | None,
        conv: Conversation | None,
    ) -> None:
        counts = _by_party(findings)
        failing = failing_parties(conv.protocol if conv is not None else None)
        failed = any(p in failing for p in counts)
        text = "\n".join(_finding_text(f) for f in findings) or "no findings"
        labels = [
            ("epic", epic),
            ("feature", FEATURE),
            ("story", key),
            ("suite", f"capture {self.name}"),
            ("framework", "conformance analyze"),
        ]
        labels += [("requirement", r) for r in dict.fromkeys(f.requirement for f in findings)]
        labels += [("tag", f"violation {_by(p)}") for p in counts]
        attachments = [self.attach("findings", text + "\n")]
        if transcript is not None:
            attachments.append(self.attach("messages", transcript))
        now = time.time()
        start = conv.first if conv is not None and conv.first is not None else now
        stop = conv.last if conv is not None and conv.last is not None else start
        parameters: list[dict[str, str]] = [{"name": "capture", "value": self.analysis.capture}]
        if conv is not None:
            parameters += [
                {"name": "messages", "value": str(conv.messages)},
                {"name": "requests/replies", "value": f"{conv.requests}/{conv.replies}"},
                {"name": "latency", "value": conv.latency.brief()},
            ]
        identity = hashlib.sha1(f"{self.name}|{key}".encode()).hexdigest()
        result: dict[str, Any] = {
            "uuid": str(uuid.uuid4()),
            "historyId": identity,
            "testCaseId": identity,
            "name": title[:200],
            "fullName": f"capture.{self.name}.{key}",
            "status": "failed" if failed else "passed",
            "statusDetails": {
                "message": f"{_verdict(counts, failing)}\n{text}" if findings else "",
                "trace": "",
            },
            "labels": [{"name": k, "value": v} for k, v in labels],
            "parameters": parameters,
            "attachments": attachments,
            "start": int(start * 1000),
            "stop": int(stop * 1000),
        }
        path = self.directory / f"{result['uuid']}-result.json"
        write_atomic(path, json.dumps(result, indent=1))
        self.written.append(path)


def write_results(analysis: Analysis, directory: Path | str) -> list[Path]:
    """Write *analysis* into the Allure results *directory* (created if missing);
    returns the files written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    writer = _Writer(analysis, directory)
    by_conv: dict[str, list[Finding]] = {}
    for f in analysis.sorted_findings():
        by_conv.setdefault(f.conversation, []).append(f)
    empty = analysis.empty_keys()
    for conv in analysis.conversations.values():
        if conv.key in empty:
            continue
        lines = list(conv.transcript)
        if conv.transcript_omitted:
            lines.append(f"... {conv.transcript_omitted} more message(s) not listed")
        writer.result(
            title=f"capture {writer.name}: {conv.protocol} {conv.key}",
            key=conv.key,
            epic=protocol_title(conv.protocol),
            findings=by_conv.get(conv.key, []),
            transcript="\n".join(lines) + "\n",
            conv=conv,
        )
    wide = [f for key, found in by_conv.items() if key not in analysis.conversations for f in found]
    if wide:
        writer.result(
            title=f"capture {writer.name}: the capture itself",
            key="capture",
            epic="Capture",
            findings=wide,
            transcript=None,
            conv=None,
        )
    return writer.written
