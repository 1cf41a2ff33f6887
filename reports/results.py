"""Reading an Allure results directory, one file at a time.

allure-pytest writes one ``*-result.json`` per test (plus ``*-container.json``
fixture files and ``*-attachment.*`` payloads).  A results directory can hold
100k files, so :func:`load_results` walks it with :func:`os.scandir`, keeps only
what the summary and the JUnit file need from each result (no traces, no
steps), and never stops at a bad file: unreadable or invalid ones are counted.
When several results share a ``historyId`` (retries, or a run added to an old
results directory), the one that stopped last counts.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.allure_support import FINDING_ATTACHMENT, octt_ids

RESULT_SUFFIX = "-result.json"
STATUSES = ("passed", "failed", "broken", "skipped", "unknown")
#: labels the summary and the JUnit file read; the others are dropped on load
KEPT_LABELS = frozenset({"epic", "feature", "story", "requirement", "device", "model", "octt"})
#: attachments the summary reads: the plugin's transcripts and ``FINDING_ATTACHMENT``
TRANSCRIPT_PREFIX = "transcript"
MAX_MESSAGE = 8000  # characters of a status message kept per result
MAX_INVALID_LISTED = 50  # invalid files named on the page; all are counted
#: the protocol (``epic``) and the model the reports file a result without that label under
NO_EPIC = "Other"
ANY_MODEL = "any"


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str
    source: str
    type: str = ""


@dataclass(slots=True)
class TestResult:
    """The parts of one Allure result that reports use."""

    uuid: str
    name: str
    full_name: str
    status: str
    start: int | None = None
    stop: int | None = None
    history_id: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    message: str = ""
    attachments: tuple[Attachment, ...] = ()
    #: OCTT ids from the ``description`` (the docstring), for results without ``octt`` labels
    described_octt: tuple[str, ...] = ()
    file: str = ""

    def values(self, label: str) -> list[str]:
        """Every value of *label*, in file order."""
        return [v for n, v in self.labels if n == label]

    def first(self, label: str, default: str = "") -> str:
        return next((v for n, v in self.labels if n == label), default)

    @property
    def octt(self) -> list[str]:
        """Normalised OCTT ids: the ``octt`` labels, else those in the description."""
        labelled = [i for v in self.values("octt") for i in octt_ids(v)]
        return list(dict.fromkeys(labelled)) if labelled else list(self.described_octt)

    @property
    def report_id(self) -> str:
        """The id the Allure 3 report gives this result (md5 of its uuid), for links."""
        return hashlib.md5(self.uuid.encode("utf-8"), usedforsecurity=False).hexdigest()

    @property
    def module(self) -> str:
        """The test's module (``fullName`` up to ``#``), e.g. ``suites.visca.test_power``."""
        head, sep, _ = self.full_name.partition("#")
        if sep:
            return head
        return self.full_name.rpartition(".")[0] or self.full_name

    @property
    def duration(self) -> float:
        """Seconds from start to stop (0 when either is missing)."""
        if self.start is None or self.stop is None:
            return 0.0
        return max(0, self.stop - self.start) / 1000

    @property
    def finish(self) -> int:
        """The time used to pick the latest of several results with one ``historyId``."""
        return self.stop if self.stop is not None else (self.start or 0)


@dataclass
class ResultSet:
    """The results of a directory, one per test (the latest per ``historyId``)."""

    directory: Path
    results: list[TestResult] = field(default_factory=list)
    invalid_count: int = 0
    #: (file name, reason) of the first :data:`MAX_INVALID_LISTED` invalid files
    invalid: list[tuple[str, str]] = field(default_factory=list)
    #: results left out because a later one has the same ``historyId``
    superseded: int = 0

    def attachment_path(self, attachment: Attachment) -> Path | None:
        """Where *attachment* lives in the directory; None if its source is not a plain
        file name there (a crafted result must not make us read other files)."""
        source = attachment.source
        if not source or source != Path(source).name or source in {".", ".."}:
            return None
        path = self.directory / source
        return path if path.is_file() else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _millis(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def parse_result(data: Any, file: str = "") -> TestResult:
    """The :class:`TestResult` of one parsed ``*-result.json``; ValueError if it is
    not a JSON object."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    status = data.get("status")
    details = data.get("statusDetails")
    message = _text(details.get("message")) if isinstance(details, dict) else ""
    labels: list[tuple[str, str]] = []
    for label in data.get("labels") or ():
        if isinstance(label, dict):
            name, value = label.get("name"), label.get("value")
            if name in KEPT_LABELS and isinstance(value, str):
                labels.append((sys.intern(name), sys.intern(value)))
    attachments = []
    for att in data.get("attachments") or ():
        if not isinstance(att, dict):
            continue
        name = _text(att.get("name"))
        if name == FINDING_ATTACHMENT or name.startswith(TRANSCRIPT_PREFIX):
            attachments.append(Attachment(name, _text(att.get("source")), _text(att.get("type"))))
    uuid = _text(data.get("uuid")) or file.removesuffix(RESULT_SUFFIX)
    name = _text(data.get("name")) or uuid
    return TestResult(
        uuid=uuid,
        name=name,
        full_name=_text(data.get("fullName")) or name,
        status=status if status in STATUSES else "unknown",
        start=_millis(data.get("start")),
        stop=_millis(data.get("stop")),
        history_id=_text(data.get("historyId")),
        labels=tuple(labels),
        message=message[:MAX_MESSAGE],
        attachments=tuple(attachments),
        described_octt=tuple(octt_ids(_text(data.get("description")))),
        file=file,
    )


def iter_result_files(directory: Path) -> Iterator[os.DirEntry[str]]:
    """The ``*-result.json`` entries of *directory* (containers and attachments skipped)."""
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.name.endswith(RESULT_SUFFIX) and entry.is_file():
                yield entry


def load_results(directory: Path) -> ResultSet:
    """Every result in *directory*, the latest per ``historyId``, ordered by start."""
    directory = Path(directory)
    out = ResultSet(directory)
    latest: dict[str, TestResult] = {}
    for entry in iter_result_files(directory):
        try:
            with open(entry.path, "rb") as fh:
                result = parse_result(json.load(fh), entry.name)
        except (OSError, ValueError, RecursionError) as exc:
            out.invalid_count += 1
            if len(out.invalid) < MAX_INVALID_LISTED:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                out.invalid.append((entry.name, reason[:200]))
            continue
        key = result.history_id or f"uuid:{result.uuid}:{entry.name}"
        earlier = latest.get(key)
        if earlier is not None:
            out.superseded += 1
            if earlier.finish > result.finish:
                continue
        latest[key] = result
    out.results = sorted(latest.values(), key=lambda r: (r.start or 0, r.full_name, r.name))
    out.invalid.sort()
    return out


def read_head(path: Path, max_lines: int) -> tuple[list[str], int]:
    """The first *max_lines* lines of a text file and how many lines follow them,
    read without loading the whole file."""
    kept: list[str] = []
    more = 0
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if len(kept) < max_lines:
                kept.append(line.rstrip("\r\n"))
            else:
                more += 1
    return kept, more
