"""Allure results of a campaign, written as it goes: one failed result per
finding (its requirement, what was sent and received, the reproducer file)
and one result for the campaign itself, so ``conformance report`` shows a
campaign next to the suites' runs."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from conformance.allure_support import PROTOCOL_TITLES
from conformance.errors import hexs
from conformance.files import write_atomic
from fuzz.case import KINDS
from fuzz.store import FindingFile


def _labels(protocol: str, device: str, story: str, requirement: str = "") -> list[dict[str, str]]:
    labels = [
        ("epic", PROTOCOL_TITLES.get(protocol, protocol)),
        ("feature", "Fuzzing campaign"),
        ("story", story),
        ("suite", f"fuzz {protocol}"),
        ("device", device),
        ("framework", "conformance fuzz"),
    ]
    if requirement:
        labels.append(("requirement", requirement))
    return [{"name": k, "value": v} for k, v in labels]


def _attach(results: Path, name: str, body: str, mime: str, ext: str) -> dict[str, str]:
    source = f"{uuid.uuid4()}-attachment.{ext}"
    results.mkdir(parents=True, exist_ok=True)
    write_atomic(results / source, body)
    return {"name": name, "source": source, "type": mime}


def _write(results: Path, result: dict[str, Any]) -> None:
    results.mkdir(parents=True, exist_ok=True)
    write_atomic(results / f"{result['uuid']}-result.json", json.dumps(result, indent=1))


def write_finding(results: Path, finding: FindingFile, started: float) -> None:
    obs = finding.observation
    data = finding.data
    cases = finding.cases
    program = "\n".join(f"{i:3d}  {c.describe()}" for i, c in enumerate(cases))
    attachments = [
        _attach(results, "reproducer program", program + "\n", "text/plain", "txt"),
        _attach(
            results,
            f"finding {finding.path.name}",
            json.dumps(data, indent=2),
            "application/json",
            "json",
        ),
    ]
    name = f"{finding.id} {obs.kind}: {obs.summary}"
    details = obs.render() + f"\n\nreplay: conformance replay {finding.path} --device URI"
    _write(
        results,
        {
            "uuid": str(uuid.uuid4()),
            "historyId": f"fuzz:{finding.protocol}:{finding.signature}",
            "name": name[:200],
            "fullName": f"fuzz.{finding.protocol}.{finding.signature}",
            "status": "failed",
            "statusDetails": {"message": details, "trace": ""},
            "description": KINDS[obs.kind],
            "labels": _labels(finding.protocol, data["device"], obs.kind, obs.ref),
            "parameters": [
                {"name": "sent", "value": hexs(obs.sent)},
                {"name": "received", "value": hexs(obs.received)},
                {"name": "expected", "value": obs.expected or "-"},
                {"name": "reproducer", "value": f"{len(cases)} case(s), {data['status']}"},
            ],
            "attachments": attachments,
            "start": int(started * 1000),
            "stop": int(time.time() * 1000),
        },
    )


def write_campaign(results: Path, summary: dict[str, Any], started: float) -> None:
    """The campaign as one result: passed if it found nothing new."""
    protocol = summary["protocol"]
    lines = [f"{k}: {v}" for k, v in summary.items() if k != "findings"]
    lines += [f"finding {f}" for f in summary.get("findings", [])]
    status = "failed" if summary.get("new_findings") else "passed"
    if summary.get("stopped") not in (None, "budget"):
        status = "broken"
    _write(
        results,
        {
            "uuid": str(uuid.uuid4()),
            "historyId": f"fuzz:{protocol}:campaign",
            "name": f"fuzz campaign {protocol}: {summary['cases']} cases, "
            f"{summary['new_findings']} new finding(s)",
            "fullName": f"fuzz.{protocol}.campaign",
            "status": status,
            "statusDetails": {"message": "\n".join(lines), "trace": ""},
            "labels": _labels(protocol, summary["device"], "campaign"),
            "parameters": [
                {"name": k, "value": str(summary[k])}
                for k in ("cases", "programs", "seconds", "cases_per_second", "seed")
                if k in summary
            ],
            "attachments": [
                _attach(
                    results, "campaign", json.dumps(summary, indent=2), "application/json", "json"
                )
            ],
            "start": int(started * 1000),
            "stop": int(time.time() * 1000),
        },
    )
