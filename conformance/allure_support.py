"""Allure wiring: labels from suite markers, ``environment.properties`` and
``categories.json`` that keep the three kinds of failure apart."""

from __future__ import annotations

import json
import platform
from collections.abc import Iterable
from pathlib import Path

import pytest

from conformance import __version__
from conformance.devices.uri import DeviceSpec

LABEL_MARK = "allure_label"  # the mark allure-pytest reads labels from

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


def _existing(item: pytest.Item, label_type: str) -> bool:
    return any(m.kwargs.get("label_type") == label_type for m in item.iter_markers(LABEL_MARK))


def label_item(item: pytest.Item, device: DeviceSpec | None) -> None:
    """epic = protocol, feature = command group, story = command or use case,
    ``requirement`` = spec rows or requirement IDs; plus device and model.

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
    if device is not None:
        labels.append(("device", device.masked))
        if device.model:
            labels.append(("model", device.model))
    for label_type, value in labels:
        if label_type == "requirement" or not _existing(item, label_type):
            item.add_marker(_label(value, label_type))


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
