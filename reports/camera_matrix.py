"""Camera support claimed vs observed: the VISCA command table per model, and the
Pelco command rows per protocol.

The claims are the model notes of ``aver-visca-pelco-spec.txt`` §3.2.1 as
:data:`dissectors.visca_table.COMMANDS` holds them (over IP: §3.2.4); the Pelco
tables (§3.2.2 Pelco-P, §3.2.3 Pelco-D, :mod:`dissectors.pelco`) name no models,
so their rows only show verdicts.  Tests name their command in the ``story``
label and their model in ``model``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from conformance.allure_support import PROTOCOL_TITLES
from dissectors import pelco, visca_table
from reports.results import ANY_MODEL, TestResult
from reports.verdicts import UNTESTED, Counts

CAMERA_EPICS = (PROTOCOL_TITLES["visca"], PROTOCOL_TITLES["visca-ip"])
PELCO_EPICS = (PROTOCOL_TITLES["pelco-d"], PROTOCOL_TITLES["pelco-p"])


@dataclass
class CameraCell:
    """One model's claim for one row, and what its tests showed."""

    model: str
    claim: str  # "claimed", "not claimed" or "claimed, not over IP"
    counts: Counts
    state: str  # "agree", "disagree", "inconclusive" or "untested"
    note: str

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "claim": self.claim,
            "state": self.state,
            "note": self.note,
            **self.counts.to_json(),
        }


@dataclass
class MatrixRow:
    name: str
    group: str
    cells: list[CameraCell]


@dataclass
class CameraMatrix:
    models: list[str]
    rows: list[MatrixRow]

    def to_json(self) -> dict[str, Any]:
        return {
            "models": self.models,
            "rows": [
                {"name": r.name, "group": r.group, "cells": [c.to_json() for c in r.cells]}
                for r in self.rows
            ],
        }


@dataclass
class PelcoRow:
    name: str
    group: str
    counts: dict[str, Counts]  # protocol title -> counts


def _cell(counts: Counts) -> dict[str, Any]:
    return {**counts.to_json(), "verdict": counts.verdict}


@dataclass
class PelcoTable:
    protocols: list[str]
    rows: list[PelcoRow]

    def to_json(self) -> dict[str, Any]:
        return {
            "protocols": self.protocols,
            "rows": [
                {
                    "name": r.name,
                    "group": r.group,
                    "cells": {p: _cell(r.counts.get(p, Counts())) for p in self.protocols},
                }
                for r in self.rows
            ],
        }


def _over_ip(result: TestResult) -> bool:
    """Whether the test talked to the camera over VISCA-over-IP (§3.2.4)."""
    scheme = result.first("device").split("?")[0]
    return (
        result.first("epic") == PROTOCOL_TITLES["visca-ip"]
        or scheme.startswith("visca-ip:")
        or scheme == "emu:visca-ip"
    )


def _claim(row: visca_table.Row, model: str) -> tuple[bool, bool, str]:
    """(claimed on a serial/TCP link, claimed over IP, the claim in words)."""
    named = None if model == ANY_MODEL else model
    serial, over_ip = row.supported(named), row.supported(named, over_ip=True)
    words = "not claimed" if not serial else "claimed" if over_ip else "claimed, not over IP"
    return serial, over_ip, words


def _camera_cell(row: visca_table.Row, model: str, tests: list[TestResult]) -> CameraCell:
    serial, over_ip, claim = _claim(row, model)
    counts = Counts()
    notes: list[str] = []
    for t in tests:
        counts.add(t.status)
        claimed = over_ip if _over_ip(t) else serial
        if t.status == "failed":
            notes.append("claimed but failed" if claimed else "not claimed, failed")
    if notes:
        state, note = "disagree", ", ".join(dict.fromkeys(notes))
    elif counts.by_status["broken"] or counts.by_status["unknown"]:
        state, note = "inconclusive", "framework error or unknown result"
    elif counts.by_status["passed"]:
        state, note = "agree", "as claimed" if serial else "refused, as not claimed"
    else:
        state, note = UNTESTED, "skipped" if tests else "no test"
    return CameraCell(model, claim, counts, state, note)


def build_camera_matrix(results: list[TestResult]) -> CameraMatrix | None:
    """Every VISCA command row against the models the run's camera tests used
    (``any`` last); None without a VISCA test of a command in the table."""
    names = {r.name for r in visca_table.COMMANDS}
    cells: dict[tuple[str, str], list[TestResult]] = defaultdict(list)
    models: dict[str, None] = {}
    for result in results:
        if result.first("epic") not in CAMERA_EPICS:
            continue
        model = result.first("model") or ANY_MODEL
        models.setdefault(model)
        for story in dict.fromkeys(result.values("story")):
            if story in names:
                cells[story, model].append(result)
    if not cells:
        return None
    columns = sorted(models, key=lambda m: (m == ANY_MODEL, m))
    rows = []
    for row in visca_table.COMMANDS:
        row_cells = [_camera_cell(row, m, cells.get((row.name, m), [])) for m in columns]
        rows.append(MatrixRow(row.name, row.group, row_cells))
    return CameraMatrix(columns, rows)


def build_pelco_table(results: list[TestResult]) -> PelcoTable | None:
    """Every Pelco command row with counts per protocol the run used; None without
    a Pelco test of a command in the tables."""
    groups = {name: "Pan-Tilt" for name in pelco.PT_NAMES}
    groups.update({r.name: r.group for r in pelco.COMMANDS})
    counts: dict[str, dict[str, Counts]] = defaultdict(dict)
    seen: dict[str, None] = {}
    for result in results:
        epic = result.first("epic")
        if epic not in PELCO_EPICS:
            continue
        for story in dict.fromkeys(result.values("story")):
            if story in groups:
                seen.setdefault(epic)
                counts[story].setdefault(epic, Counts()).add(result.status)
    if not seen:
        return None
    protocols = [p for p in PELCO_EPICS if p in seen]
    rows = [PelcoRow(name, group, counts.get(name, {})) for name, group in groups.items()]
    return PelcoTable(protocols, rows)
