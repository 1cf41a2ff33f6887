"""The details of a failed or broken test: its category, requirements, finding and
transcripts.

The finding is the plugin's ``finding`` attachment (``FINDING_ATTACHMENT`` in
:mod:`conformance.allure_support`), else what the status message of a
:class:`conformance.errors.Finding` says; transcripts are the ``transcript*``
attachments, cut to their first lines.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from conformance.allure_support import FINDING_ATTACHMENT
from reports.categories import category_of
from reports.results import NO_EPIC, TRANSCRIPT_PREFIX, ResultSet, TestResult, read_head
from reports.verdicts import TestRef

MAX_TRANSCRIPT_LINES = 80  # lines of each transcript shown
MAX_FINDING_BYTES = 1 << 20  # a larger "finding" attachment is not read

_MESSAGE_HEAD = re.compile(r"^(?:(?P<exc>[\w.]+): )?(?:\[(?P<req>[^\]]*)\] )?(?P<summary>.*)$")
_MESSAGE_FIELD = re.compile(r"^\s*(sent|received|expected):\s?(.*)$")


@dataclass
class Transcript:
    name: str
    lines: list[str]
    more: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "lines": self.lines, "more_lines": self.more}


@dataclass
class Failure:
    test: TestRef
    category: str | None
    protocol: str
    requirements: list[str]
    message: str
    finding: dict[str, Any] | None
    transcripts: list[Transcript]

    def to_json(self) -> dict[str, Any]:
        return {
            **self.test.to_json(),
            "category": self.category,
            "protocol": self.protocol,
            "requirements": self.requirements,
            "message": self.message,
            "finding": self.finding,
            "transcripts": [t.to_json() for t in self.transcripts],
        }


def _hex_or_text(value: str) -> dict[str, str]:
    value = value.strip()
    if re.fullmatch(r"(?:[0-9A-F]{2})(?: [0-9A-F]{2})*|\(0 bytes\)|nothing", value):
        return {"hex": value}
    return {"text": value}


def finding_from_message(message: str) -> dict[str, Any] | None:
    """The finding a :class:`conformance.errors.Finding` message carries
    (``[requirement] summary`` and the ``sent:``/``received:``/``expected:`` lines),
    or None if the message is not one."""
    lines = message.splitlines()
    if not lines:
        return None
    head = _MESSAGE_HEAD.match(lines[0])
    assert head is not None  # the pattern matches any line
    fields: dict[str, str] = {}
    for line in lines[1:]:
        match = _MESSAGE_FIELD.match(line)
        if match:
            fields[match[1]] = match[2]
    exc = head["exc"] or ""
    if not (fields or head["req"] or exc.endswith(("Finding", "NoReply", "MalformedReply"))):
        return None
    return {
        "kind": exc.rpartition(".")[2] or None,
        "requirement": [r.strip() for r in (head["req"] or "").split(",") if r.strip()],
        "summary": head["summary"],
        "sent": _hex_or_text(fields["sent"]) if "sent" in fields else None,
        "received": _hex_or_text(fields["received"]) if "received" in fields else None,
        "expected": fields.get("expected"),
        "source": "message",
    }


def _finding_attachment(results: ResultSet, result: TestResult) -> dict[str, Any] | None:
    for att in result.attachments:
        if att.name != FINDING_ATTACHMENT:
            continue
        path = results.attachment_path(att)
        try:
            if path is None or path.stat().st_size > MAX_FINDING_BYTES:
                continue
            data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("summary"), str):
            return {**data, "source": "attachment"}
    return None


def _transcripts(results: ResultSet, result: TestResult, max_lines: int) -> list[Transcript]:
    out = []
    for att in result.attachments:
        if not att.name.startswith(TRANSCRIPT_PREFIX):
            continue
        path = results.attachment_path(att)
        if path is None:
            out.append(Transcript(att.name, ["(attachment file missing)"], 0))
            continue
        try:
            lines, more = read_head(path, max_lines)
        except OSError as exc:
            lines, more = [f"(unreadable: {exc})"], 0
        out.append(Transcript(att.name, lines, more))
    return out


def build_failure(
    results: ResultSet, result: TestResult, *, max_transcript_lines: int = MAX_TRANSCRIPT_LINES
) -> Failure:
    """The details of *result*, reading its attachments in the directory of *results*."""
    return Failure(
        test=TestRef.of(result),
        category=category_of(result),
        protocol=result.first("epic", NO_EPIC),
        requirements=list(dict.fromkeys(result.values("requirement"))),
        message=result.message,
        finding=_finding_attachment(results, result) or finding_from_message(result.message),
        transcripts=_transcripts(results, result, max_transcript_lines),
    )
