"""Durable findings: one JSON reproducer file per finding, in the campaign's
``--corpus`` directory, written before anything reports it.

Files are ``0001.json``, ``0002.json``...  Several workers (processes, or
machines sharing the directory) number them under one lock file.  Every
write goes to a temporary file that is synced and then renamed, so a file is
either the old version or the new one, never half of each.  The Hypothesis
example database is only a cache; these files are what ``conformance
replay`` reads.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conformance.files import write_atomic
from fuzz.case import Case, Observation

FORMAT = "conformance-fuzz-finding/1"
NAME = re.compile(r"^(\d{4,})\.json$")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class FindingFile:
    """A finding as stored: what was seen, and the program that shows it."""

    path: Path
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def signature(self) -> str:
        return str(self.data["signature"])

    @property
    def observation(self) -> Observation:
        return Observation.from_json(self.data["observation"])

    @property
    def cases(self) -> list[Case]:
        return [Case.from_json(c) for c in self.data["reproducer"]["cases"]]

    @property
    def protocol(self) -> str:
        return str(self.data["protocol"])


class BadFindingFile(ValueError):
    """A file that is not a finding this version can replay (one line for the user)."""


def load(path: Path) -> FindingFile:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadFindingFile(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise BadFindingFile(f"{path} is not JSON: {exc}") from None
    return checked(data, path)


def checked(data: Any, path: Path) -> FindingFile:
    """*data* as a finding (from a file, or published in the example database)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BadFindingFile(f"{path} is not a fuzz finding ({FORMAT})")
    try:
        finding = FindingFile(path, data)
        finding.observation  # noqa: B018 - validates
        finding.cases  # noqa: B018
    except (KeyError, TypeError, ValueError, AssertionError) as exc:
        raise BadFindingFile(f"{path}: damaged finding ({exc})") from None
    return finding


class Store:
    """The findings directory of a campaign."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock_path = self.dir / ".lock"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with open(self._lock_path, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def files(self) -> list[FindingFile]:
        out = []
        for path in sorted(self.dir.iterdir()):
            if NAME.match(path.name):
                with contextlib.suppress(BadFindingFile):
                    out.append(load(path))
        return out

    def signatures(self, protocol: str | None = None) -> dict[str, FindingFile]:
        return {f.signature: f for f in self.files() if protocol is None or f.protocol == protocol}

    def add(
        self,
        observation: Observation,
        cases: list[Case],
        *,
        protocol: str,
        device: str,
        context: dict[str, Any],
        status: str,
        origin: str = "found",
    ) -> FindingFile | None:
        """Write a new finding; None if its signature is already on file."""
        with self.locked():
            known = self.signatures(protocol)
            if observation.signature in known:
                return None
            numbers = [int(m.group(1)) for p in self.dir.iterdir() if (m := NAME.match(p.name))]
            number = max(numbers, default=0) + 1
            path = self.dir / f"{number:04d}.json"
            data = {
                "format": FORMAT,
                "id": f"{number:04d}",
                "protocol": protocol,
                "device": device,
                "signature": observation.signature,
                "kind": observation.kind,
                "status": status,
                "origin": origin,
                "found_at": now_iso(),
                "context": context,
                "observation": observation.to_json(),
                "reproducer": {"cases": [c.to_json() for c in cases]},
            }
            write_atomic(path, json.dumps(data, indent=2) + "\n")
            return FindingFile(path, data)

    def update(
        self,
        finding: FindingFile,
        *,
        observation: Observation | None = None,
        cases: list[Case] | None = None,
        **fields: Any,
    ) -> FindingFile:
        """Rewrite *finding* (the minimal reproducer after shrinking, a status)."""
        data = dict(finding.data)
        if cases is not None:
            data.setdefault("original", data["reproducer"])
            data["reproducer"] = {"cases": [c.to_json() for c in cases]}
        if observation is not None:
            data["observation"] = observation.to_json()
        data.update(fields)
        with self.locked():
            write_atomic(finding.path, json.dumps(data, indent=2) + "\n")
        return FindingFile(finding.path, data)
