"""Allure wiring: labels from suite markers, ``environment.properties``,
``categories.json`` that keep the three kinds of failure apart, and the
structured "finding" attachment of a failed test."""

from __future__ import annotations

import json
import platform
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

from conformance import __version__
from conformance.devices.uri import DeviceSpec
from conformance.errors import Finding, hexs
from conformance.transcript import RECEIVED, SENT, Transcript

LABEL_MARK = "allure_label"  # the mark allure-pytest reads labels from
OCTT_LABEL = "octt"
FINDING_ATTACHMENT = "finding"
#: an OCTT test-case id (OCPP 2.0.1 Part 6) with its optional side, ``TC_B_01_CS``
_OCTT = re.compile(r"\bTC_([A-Z])_(\d{2,3})(?:_(?:CS|CSMS))?\b")

PROTOCOL_TITLES = {
    "visca": "VISCA",
    "visca-ip": "VISCA over IP",
    "pelco-d": "Pelco-D",
    "pelco-p": "Pelco-P",
    "bc26": "Quectel BC26 LwM2M",
    "at": "AT commands",
    "ocpp": "OCPP",
}

#: Allure categories; the first that matches a result wins.
CATEGORIES = [
    {
        "name": "Device unreachable",
        "description": "The device could not be opened or the link to it was lost.",
        "matchedStatuses": ["broken", "failed"],
        "messageRegex": r"(?s).*DeviceUnreachable.*",
    },
    {
        "name": "Product defect (device violated the spec)",
        "description": "The device answered wrongly, late, or not at all.",
        "matchedStatuses": ["failed"],
    },
    {
        "name": "Framework error",
        "description": "A bug in the framework or a suite, or a broken set-up.",
        "matchedStatuses": ["broken"],
    },
]


def _label(value: str, label_type: str) -> pytest.MarkDecorator:
    return getattr(pytest.mark, LABEL_MARK)(value, label_type=label_type)


def _existing(item: pytest.Item, label_type: str, value: str | None = None) -> bool:
    return any(
        m.kwargs.get("label_type") == label_type and (value is None or value in m.args)
        for m in item.iter_markers(LABEL_MARK)
    )


def octt_ids(text: str | None) -> list[str]:
    """The OCTT test cases *text* names, without their side: ``TC_B_01_CS`` and
    ``TC_B_01_CSMS`` are both ``TC_B_01`` (OCPP 2.0.1 Part 5 lists them so)."""
    return list(dict.fromkeys(f"TC_{m[1]}_{m[2]}" for m in _OCTT.finditer(text or "")))


def label_item(item: pytest.Item, device: DeviceSpec | None) -> None:
    """epic = protocol, feature = command group, story = command or use case,
    ``requirement`` = spec rows or requirement IDs, ``octt`` = the OCTT test
    cases the docstring names; plus device and model.

    A test parametrized over a table row (any parameter with ``name``,
    ``group`` and ``ref``) takes its story, feature and requirement from it.
    """
    protocol = item.get_closest_marker("protocol")
    feature = item.get_closest_marker("feature")
    story = item.get_closest_marker("story")
    labels: list[tuple[str, str]] = []
    if protocol and protocol.args:
        labels.append(("epic", PROTOCOL_TITLES.get(protocol.args[0], protocol.args[0])))
    callspec = getattr(item, "callspec", None)
    rows = [v for v in (callspec.params.values() if callspec else ())
            if all(hasattr(v, a) for a in ("name", "group", "ref"))]  # fmt: skip
    for row in rows:
        labels += [("story", str(row.name)), ("requirement", str(row.ref))]
        if not feature:
            labels.append(("feature", str(row.group)))
    if feature and feature.args:
        labels.append(("feature", str(feature.args[0])))
    if story and story.args:
        labels.append(("story", str(story.args[0])))
    for mark in item.iter_markers("requirement"):
        labels.extend(("requirement", str(r)) for r in mark.args)
    doc = getattr(getattr(item, "obj", None), "__doc__", None)
    labels.extend((OCTT_LABEL, tc) for tc in octt_ids(doc if isinstance(doc, str) else None))
    if device is not None:
        labels.append(("device", device.masked))
        if device.model:
            labels.append(("model", device.model))
    for label_type, value in labels:
        if label_type == OCTT_LABEL:
            if not _existing(item, label_type, value):
                item.add_marker(_label(value, label_type))
        elif label_type == "requirement" or not _existing(item, label_type):
            item.add_marker(_label(value, label_type))


def _decode_as_recorded(
    data: bytes | str, direction: str, transcripts: Sequence[Transcript]
) -> str:
    """The transcript's decode of the message that carried *data* (a payload
    travels inside a frame, e.g. VISCA over IP), else of *data* itself."""
    for transcript in transcripts:
        for record in reversed(list(transcript.records)):
            if record.direction != direction or type(record.data) is not type(data):
                continue
            if record.data == data or (data and data in record.data):
                return transcript.decode(record.data)
    return next((d for t in transcripts if (d := t.decode(data))), "")


def _side(data: bytes | str | None, direction: str, transcripts: Sequence[Transcript]) -> Any:
    if data is None:
        return None
    shown = {"text": data} if isinstance(data, str) else {"hex": hexs(data)}
    return {**shown, "decoded": _decode_as_recorded(data, direction, transcripts)}


def finding_record(finding: Finding, transcripts: Sequence[Transcript] = ()) -> dict[str, Any]:
    """The JSON "finding" attachment of a failed test: requirement, summary, what
    was sent and received (hex plus the transcript's decode), what was expected."""
    return {
        "kind": finding.kind,
        "exception": f"{type(finding).__module__}.{type(finding).__qualname__}",
        "requirement": list(finding.requirement),
        "summary": finding.summary,
        "sent": _side(finding.sent, SENT, transcripts),
        "received": _side(finding.received, RECEIVED, transcripts),
        "expected": finding.expected,
    }


def write_categories(results_dir: Path) -> None:
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "categories.json").write_text(json.dumps(CATEGORIES, indent=2))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("=", "\\=").replace(":", "\\:")


def write_environment(
    results_dir: Path, devices: Iterable[DeviceSpec], info: dict[str, dict[str, object]]
) -> None:
    """``environment.properties``: device URIs (secrets masked), model, what
    suites read from the device (firmware...), framework version."""
    lines = [
        f"framework.version={__version__}",
        f"python={platform.python_version()}",
        f"platform={_escape(platform.platform())}",
    ]
    for n, spec in enumerate(devices, 1):
        lines.append(f"device.{n}={_escape(spec.masked)}")
        if spec.model:
            lines.append(f"device.{n}.model={_escape(spec.model)}")
        if spec.faults:
            lines.append(f"device.{n}.faults={_escape(','.join(spec.faults))}")
        for key, value in sorted(info.get(spec.uri, {}).items()):
            lines.append(f"device.{n}.{key}={_escape(str(value))}")
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "environment.properties").write_text("\n".join(lines) + "\n")
