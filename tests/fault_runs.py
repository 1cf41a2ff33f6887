"""Fault runs in batches: the suites against emulators with one fault switched on,
several faults in one in-process pytest run.

Each fault keeps its own emulator instance (its own ``--device`` URIs, so its own
state, reset before each of its tests as in a run of its own) and its own outcome.
The batch shares only what proves nothing: pytest's start-up and collection, and
the emulators' start, which is done side by side (an OCPP station's first boot and
the quiet wait after it take a second of real time each).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

from conformance.devices.pool import DevicePool
from conformance.devices.uri import DeviceSpec
from conformance.emulators.hosting import EmulatorHost
from conformance.plugin import pool_key, specs_key

Report = pytest.TestReport | pytest.CollectReport


@dataclass(frozen=True)
class FaultRun:
    """One fault: the devices it is switched on in, and which suite tests to run
    on them (*wanted* takes a test's node id)."""

    fault: str
    uris: tuple[str, ...]
    wanted: Callable[[str], bool]


@dataclass
class Outcome:
    """One fault's reports, sorted as :meth:`pytest.HookRecorder.listoutcomes` does."""

    passed: list[Report] = field(default_factory=list)
    skipped: list[Report] = field(default_factory=list)
    failed: list[Report] = field(default_factory=list)

    def add(self, report: Report) -> None:
        if report.passed:
            if report.when == "call":
                self.passed.append(report)
        elif report.skipped:
            self.skipped.append(report)
        else:
            self.failed.append(report)


class _Batch:
    """Plugin of the inner run: keeps each fault's tests on its own devices only,
    and opens every device before the first test, side by side."""

    def __init__(self, runs: Sequence[FaultRun]) -> None:
        self.by_uri = {uri: run for run in runs for uri in run.uris}
        #: node id -> fault whose device it runs on
        self.owner: dict[str, str] = {}

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        keep: list[pytest.Item] = []
        drop: list[pytest.Item] = []
        for item in items:
            callspec = getattr(item, "callspec", None)
            spec = callspec.params.get("device") if callspec is not None else None
            run = self.by_uri.get(spec.uri) if isinstance(spec, DeviceSpec) else None
            if run is not None and run.wanted(item.nodeid):
                keep.append(item)
                self.owner[item.nodeid] = run.fault
            else:
                drop.append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
        items[:] = keep

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        config = session.config
        faults = set(self.owner.values())
        specs = [
            spec
            for spec in config.stash[specs_key]
            if spec.uri in self.by_uri and self.by_uri[spec.uri].fault in faults
        ]
        if len(specs) < 2:
            return
        pool: DevicePool = config.stash[pool_key]
        if pool.host is None:
            pool.host = EmulatorHost().start()
        with ThreadPoolExecutor(max_workers=len(specs)) as opening:
            list(opening.map(lambda spec: _open(pool, spec), specs))


def _open(pool: DevicePool, spec: DeviceSpec) -> None:
    """Open ahead of the first test; a failure is left for the test's own set-up
    to meet again (an unreachable device is remembered by the pool)."""
    with contextlib.suppress(Exception):
        pool.get(spec)


def run_batch(
    pytester: pytest.Pytester, runs: Sequence[FaultRun], args: Sequence[str]
) -> dict[str, Outcome]:
    """Run *runs* in one inner pytest run (*args*: what to collect); fault -> outcome.
    A collection error is every fault's."""
    batch = _Batch(runs)
    devices = [f"--device={uri}" for run in runs for uri in run.uris]
    rec = pytester.inline_run(*devices, "-p", "no:cacheprovider", *args, plugins=[batch])
    outcomes = {run.fault: Outcome() for run in runs}
    for report in rec.getreports(("pytest_collectreport", "pytest_runtest_logreport")):
        if isinstance(report, pytest.CollectReport):
            if report.failed:
                for outcome in outcomes.values():
                    outcome.add(report)
        elif report.nodeid in batch.owner:
            outcomes[batch.owner[report.nodeid]].add(report)
    return outcomes


class FaultRuns:
    """The fault runs of one test module, done on first need in batches of up to
    *size* faults: the fault asked for and the ones after it in test order that
    this pytest run selected (so a worker that took over the rest of a module runs
    only those, and a single selected test runs its fault alone)."""

    def __init__(
        self,
        runs: Iterable[FaultRun],
        args: Sequence[str],
        *,
        size: int,
        selected: Iterable[str],
    ) -> None:
        self.runs = {run.fault: run for run in runs}
        self.args = tuple(args)
        self.size = size
        chosen = set(selected)
        self.order = [fault for fault in sorted(self.runs) if fault in chosen]
        self.done: dict[str, Outcome] = {}

    def outcome(self, pytester: pytest.Pytester, fault: str) -> Outcome:
        if fault not in self.done:
            later = self.order[self.order.index(fault) :] if fault in self.order else [fault]
            todo = [f for f in later if f not in self.done][: self.size]
            self.done.update(run_batch(pytester, [self.runs[f] for f in todo], self.args))
        return self.done[fault]


def selected(request: pytest.FixtureRequest, param: str = "fault") -> set[str]:
    """The values of *param* in the requesting module's tests in this pytest run."""
    return {
        item.callspec.params[param]
        for item in request.session.items
        if item.path == request.path
        and param in getattr(getattr(item, "callspec", None), "params", {})
    }
