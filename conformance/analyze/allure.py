"""A capture analysis as Allure results, so captures show up in the same report as live runs.

One result per conversation: failed when it has a VIOLATION finding, passed
otherwise (never broken: a capture cannot break the framework).  Labels: epic
= the protocol title (as live runs use), feature "Capture analysis", story =
the conversation key, one ``requirement`` label per distinct requirement of its
findings.  Capture-wide findings (conversation "") get one more result.  Every
file is written atomically (a temporary name, then a rename).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from conformance.allure_support import PROTOCOL_TITLES
from conformance.analyze.model import VIOLATION, Analysis, Conversation, Finding, hexs

FEATURE = "Capture analysis"
#: conversation protocols named after their transport, mapped to the protocol title's key
_BASE = {"visca-tcp": "visca", "pelco-d-tcp": "pelco-d", "pelco-p-tcp": "pelco-p"}


def protocol_title(protocol: str) -> str:
    """``VISCA over IP`` for "visca-ip", ``VISCA`` for "visca-tcp" / "visca-serial", ..."""
    base = _BASE.get(protocol, protocol.removesuffix("-serial"))
    return PROTOCOL_TITLES.get(base, protocol)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _finding_text(f: Finding) -> str:
    where = f"frame {f.frame}" if f.frame is not None else "capture"
    lines = [f"[{f.requirement}] {where}: {f.kind.upper()} {f.check}: {f.summary}"]
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
        _write_atomic(path, body)
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
        failed = any(f.kind == VIOLATION for f in findings)
        text = "\n".join(_finding_text(f) for f in findings) or "no findings"
        labels = [
            ("epic", epic),
            ("feature", FEATURE),
            ("story", key),
            ("suite", f"capture {self.name}"),
            ("framework", "conformance analyze"),
        ]
        labels += [("requirement", r) for r in dict.fromkeys(f.requirement for f in findings)]
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
            "statusDetails": {"message": text if findings else "", "trace": ""},
            "labels": [{"name": k, "value": v} for k, v in labels],
            "parameters": parameters,
            "attachments": attachments,
            "start": int(start * 1000),
            "stop": int(stop * 1000),
        }
        path = self.directory / f"{result['uuid']}-result.json"
        _write_atomic(path, json.dumps(result, indent=1))
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
    for conv in analysis.conversations.values():
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
