"""The campaign runner behind ``conformance fuzz``.

Each worker opens the device, asks its protocol's :class:`~fuzz.target.Target`
for programs drawn by Hypothesis, and after every program checks liveness with
the protocol's probe and state with a later inquiry.  A new finding is written
to the corpus directory the moment it is seen, then Hypothesis shrinks it, the
file is rewritten with the minimal reproducer, and only then is it reported
(progress line, Allure result).  Counters are saved as the campaign runs, so
running the same command again resumes it.  Several workers run as separate
processes and share the findings directory and the example database.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import multiprocessing
import os
import queue
import random
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.errors import Flaky

from conformance.devices.pool import DevicePool
from conformance.devices.uri import DeviceSpec, parse_device
from conformance.errors import DeviceUnreachable
from conformance.files import write_atomic
from fuzz import allure_results, database
from fuzz.case import KINDS, LIVENESS, Case, Observation
from fuzz.runner import DeviceGone, Runner
from fuzz.store import BadFindingFile, FindingFile, Store, checked, now_iso
from fuzz.strategies import program_bytes
from fuzz.target import FindingFailure, Target, failure, target_class

#: protocol -> "module:function" giving the stateful machine bound to a target
MACHINES: dict[str, str] = {
    "visca-ip": "fuzz.visca_ip_machine:machine_for",
    "at": "fuzz.bc26_machine:machine_for",
    "ocpp": "fuzz.ocpp_machine:machine_for",
}
STATE_DIR = ".campaign"
#: Hypothesis shrink attempts a crash or hang finding may take: each one costs
#: a recovery window (and a power-cycle); the case-level pass does the rest
LIVENESS_SHRINKS = 12
DEFAULT_DURATION = 60.0


class StopCampaign(BaseException):
    """The budget is spent or the user asked to stop."""


@dataclass
class CampaignConfig:
    device: str
    protocol: str | None = None
    max_cases: int | None = None
    duration: float | None = None
    seed: int | None = None
    corpus: Path = Path("fuzz-findings")
    workers: int = 1
    db: str | None = None
    results: Path | None = None
    progress: bool = True
    #: seconds a device that stopped answering the probe gets to come back
    recovery: float = 10.0
    #: "programs", "stateful" or "both" (every fourth Hypothesis run is stateful)
    mode: str = "both"
    #: programs per Hypothesis run
    chunk: int = 200


@dataclass
class CampaignResult:
    cases: int = 0
    programs: int = 0
    seconds: float = 0.0
    findings: list[Path] = field(default_factory=list)  # new in this campaign
    known: int = 0  # findings already on file, seen again
    framework_errors: int = 0
    stopped: str = "budget"  # budget | interrupted | device gone | unreachable
    detail: str = ""
    seed: int = 0
    resumed: bool = False
    protocol: str = ""

    @property
    def cases_per_second(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``15m``, ``2h``, ``1h30m`` -> seconds."""
    total, number, seen = 0.0, "", False
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    for char in text.strip().lower():
        if char.isdigit() or char == ".":
            number += char
        elif char in units and number:
            total += float(number) * units[char]
            number, seen = "", True
        else:
            raise ValueError(f"bad duration {text!r} (e.g. 90s, 15m, 2h, 1h30m)")
    if number:
        total += float(number)
        seen = True
    if not seen or total <= 0:
        raise ValueError(f"bad duration {text!r} (e.g. 90s, 15m, 2h, 1h30m)")
    return total


def machine_for(target: Target) -> type | None:
    where = MACHINES.get(target.protocol)
    if where is None:
        return None
    module, _, name = where.partition(":")
    try:
        return getattr(importlib.import_module(module), name)(target)  # type: ignore[no-any-return]
    except ImportError:
        return None


# ---------------------------------------------------------------- one worker
@dataclass
class _Pending:
    file: FindingFile
    observation: Observation
    cases: list[Case]
    data: bytes


class Worker:
    """One process's share of a campaign."""

    def __init__(
        self,
        config: CampaignConfig,
        index: int,
        spec: DeviceSpec,
        emit: Callable[[dict[str, Any]], None],
        stop: threading.Event | Any,
    ) -> None:
        self.config, self.index, self.spec, self.emit, self.stop = config, index, spec, emit, stop
        self.store = Store(config.corpus)
        self.db = database.open_database(config.db, config.corpus)
        self.state_path = config.corpus / STATE_DIR / f"worker-{index}.json"
        self.known: set[str] = set()
        self.pending: dict[str, _Pending] = {}
        #: shrink attempts that crashed or hung the device again, this Hypothesis run
        self.liveness_shrinks = 0
        self.result = CampaignResult()
        self.cases = self.programs = self.chunk_no = 0
        self.elapsed_before = 0.0
        self.started = time.monotonic()
        self.wall_started = time.time()
        self.target: Target | None = None
        self.runner: Runner | None = None
        self.protocol = ""

    # ------------------------------------------------------------ budget
    def _share(self) -> int | None:
        total = self.config.max_cases
        if total is None:
            return None
        workers = self.config.workers
        return total // workers + (1 if self.index < total % workers else 0)

    def elapsed(self) -> float:
        return self.elapsed_before + time.monotonic() - self.started

    def out_of_budget(self) -> bool:
        if self.stop.is_set():
            return True
        share = self._share()
        if share is not None and self.cases >= share:
            return True
        return self.config.duration is not None and self.elapsed() >= self.config.duration

    # ------------------------------------------------------------ state (resume)
    def _load_state(self, campaign_seed: int) -> bool:
        try:
            state = json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return False
        if state.get("finished") or state.get("device") != self.spec.masked:
            return False
        self.cases, self.programs = int(state["cases"]), int(state["programs"])
        self.chunk_no, self.elapsed_before = int(state["chunk"]), float(state["elapsed"])
        self.result.seed = int(state.get("seed", campaign_seed))
        return True

    def save_state(self, finished: bool = False) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "device": self.spec.masked,
            "protocol": self.protocol,
            "seed": self.result.seed,
            "cases": self.cases,
            "programs": self.programs,
            "chunk": self.chunk_no,
            "elapsed": round(self.elapsed(), 3),
            "finished": finished,
            "saved_at": now_iso(),
        }
        write_atomic(self.state_path, json.dumps(state, indent=1))

    # ------------------------------------------------------------ findings on file
    def sync_known(self) -> None:
        """Learn what is on file, here and (through the database) elsewhere."""
        on_file = self.store.signatures(self.protocol)
        for record in database.published(self.db, self.protocol):
            if record["signature"] in on_file:
                continue
            try:
                shared = checked(record, Path("shared database"))
            except BadFindingFile:
                continue
            imported = self.store.add(
                shared.observation,
                shared.cases,
                protocol=self.protocol,
                device=record.get("device", "?"),
                context=record.get("context", {}),
                status=record.get("status", "minimal"),
                origin=f"shared database (found as {record.get('id', '?')})",
            )
            if imported is not None:
                on_file[imported.signature] = imported
        self.known |= set(on_file)
        assert self.target is not None
        self.target.known = self.known

    # ------------------------------------------------------------ running
    def run(self, campaign_seed: int) -> CampaignResult:
        self.result.seed = campaign_seed
        self.result.resumed = self._load_state(campaign_seed)
        pool = DevicePool()
        try:
            try:
                opened = pool.get(self.spec)
            except DeviceUnreachable as exc:
                self.result.stopped, self.result.detail = "unreachable", str(exc)
                return self.result
            protocol = self.config.protocol or opened.device.protocol
            self.target = target_class(protocol)(opened.device)
            self.protocol = self.result.protocol = protocol
            self.target.raise_new = self._raise_new  # type: ignore[method-assign]
            note = lambda text: self.emit({"event": "note", "text": text})  # noqa: E731
            self.runner = Runner(
                self.target, recovery=self.config.recovery, stop=self.stop, note=note
            )
            self.sync_known()
            self.started = time.monotonic()
            try:
                self.target.start()
                machine = machine_for(self.target) if self.config.mode != "programs" else None
                while not self.out_of_budget():
                    self.chunk_no += 1
                    stateful = machine is not None and (
                        self.config.mode == "stateful" or self.chunk_no % 4 == 0
                    )
                    self._chunk(machine if stateful else None)
                    self.save_state()
                    self.sync_known()
            except DeviceGone as exc:
                self.result.stopped, self.result.detail = "device gone", str(exc)
            except DeviceUnreachable as exc:
                self.result.stopped, self.result.detail = "unreachable", str(exc)
            except KeyboardInterrupt:
                self.result.stopped = "interrupted"
            if self.stop.is_set() and self.result.stopped == "budget":
                self.result.stopped = "interrupted"
            with contextlib.suppress(Exception):
                self.target.close()
        finally:
            self._finalize("interrupted while shrinking")
            self.result.cases, self.result.programs = self.cases, self.programs
            self.result.seconds = self.elapsed()
            self.save_state(finished=self.result.stopped in ("budget", "device gone"))
            pool.close()
        return self.result

    def _chunk(self, machine: type | None) -> None:
        target = self.target
        assert target is not None
        rng = random.Random(f"{self.result.seed}:{self.index}:{self.chunk_no}")
        common = {
            "database": self.db,
            "deadline": None,
            "suppress_health_check": list(HealthCheck),
            "report_multiple_bugs": True,
            "verbosity": Verbosity.quiet,
            "phases": (Phase.reuse, Phase.generate, Phase.shrink),
            "print_blob": False,
        }
        try:
            if machine is None:

                @settings(max_examples=self.config.chunk, **common)
                @seed(rng.getrandbits(64))
                @given(program_bytes(target))
                def fuzz_programs(data: bytes) -> None:
                    self.execute(data)

                fuzz_programs._hypothesis_internal_database_key = (  # type: ignore[attr-defined]
                    f"conformance-fuzz:{self.protocol}:programs".encode()
                )
                fuzz_programs()
            else:
                self._stateful(machine, rng, common)
        except FindingFailure:
            pass
        except Flaky as exc:  # the finding did not show again on the last replay
            for pending in self.pending.values():
                pending.file.data["note"] = f"not reproducible on every run ({type(exc).__name__})"
        except ExceptionGroup as group:
            rest = group.subgroup(lambda e: not isinstance(e, FindingFailure))
            if rest is not None:
                raise rest from None
        finally:
            self._finalize("minimal")

    def _stateful(self, machine: type, rng: random.Random, common: dict[str, Any]) -> None:
        from hypothesis.stateful import run_state_machine_as_test

        target = self.target
        assert target is not None
        run = target.run

        def counting_run(cases: Sequence[Case]) -> list[Observation]:
            if self.out_of_budget() and not self.pending:
                raise StopCampaign
            self.cases += len(cases)
            self._tick()
            return run(cases)

        target.run = counting_run  # type: ignore[method-assign]
        try:
            run_state_machine_as_test(
                machine,
                settings=settings(
                    max_examples=max(5, self.config.chunk // 20), stateful_step_count=20, **common
                ),
            )
        except StopCampaign:
            pass
        finally:
            target.run = run  # type: ignore[method-assign]
        self.programs += 1
        assert self.runner is not None
        problem = self.runner.alive()
        if problem is not None:  # the machine's cases are not known here: no reproducer
            self._handle([self.runner.liveness_finding(problem)], [], b"")

    def execute(self, data: bytes) -> None:
        """One program: run, probe, check state; raise the first new finding."""
        if self.out_of_budget() and not self.pending:
            return
        if self.liveness_shrinks > LIVENESS_SHRINKS:
            return  # each costs a recovery window: the case-level pass finishes the job
        assert self.target is not None and self.runner is not None
        cases = self.target.program(data)
        try:
            observations = self.runner.observe(cases)
        except Exception:  # a bug of ours, never blamed on the device
            self._framework_error(cases)
            return
        self.cases += len(cases)
        self.programs += 1
        self._tick()
        self._handle(observations, cases, data)

    # ------------------------------------------------------------ findings
    def _handle(self, observations: list[Observation], cases: list[Case], data: bytes) -> None:
        order = list(KINDS)
        new = [o for o in observations if o.signature not in self.known]
        self.result.known += len(observations) - len(new)
        new.sort(key=lambda o: order.index(o.kind))
        first: Observation | None = None
        for observation in new:
            pending = self.pending.get(observation.signature)
            if pending is None:
                stored = self.store.add(
                    observation,
                    cases,
                    protocol=self.protocol,
                    device=self.spec.masked,
                    context={
                        "worker": self.index,
                        "seed": self.result.seed,
                        "cases_before": self.cases,
                        "chunk": self.chunk_no,
                    },
                    status="shrinking",
                )
                if stored is None:  # another worker filed it first
                    self.known.add(observation.signature)
                    continue
                self.pending[observation.signature] = _Pending(stored, observation, cases, data)
                self.emit({"event": "pending", "worker": self.index})
            else:
                if observation.kind in LIVENESS:
                    self.liveness_shrinks += 1
                if (len(data), data) < (len(pending.data), pending.data):
                    pending.observation, pending.cases, pending.data = observation, cases, data
            first = first or observation
        if first is not None:
            raise failure(first, cases)

    def _raise_new(self, observations: Sequence[Observation], cases: Sequence[Case]) -> None:
        """A stateful machine's report: same path as a program's (data = the
        machine's case count, so shorter runs count as smaller)."""
        size = len(cases).to_bytes(4, "big")
        self._handle(list(observations), list(cases), size)

    def _finalize(self, status: str) -> None:
        for signature, pending in list(self.pending.items()):
            original = len(pending.file.cases)
            if status == "minimal" and self.runner is not None and not self.stop.is_set():
                try:
                    pending.cases, pending.observation = self.runner.minimize(
                        pending.cases, pending.observation
                    )
                except KeyboardInterrupt:
                    self.stop.set()
            updated = self.store.update(
                pending.file,
                observation=pending.observation,
                cases=pending.cases,
                status=status if len(pending.cases) <= original else "unshrunk",
                shrink={"original_cases": original, "minimal_cases": len(pending.cases)},
                note=pending.file.data.get("note", ""),
            )
            with contextlib.suppress(Exception):  # the database is a cache
                database.publish(self.db, self.protocol, updated.data)
            if self.config.results is not None:  # reported as it is found
                allure_results.write_finding(self.config.results, updated, self.wall_started)
            self.known.add(signature)
            self.result.findings.append(updated.path)
            self.emit(
                {
                    "event": "finding",
                    "worker": self.index,
                    "path": str(updated.path),
                    "line": _finding_line(updated),
                }
            )
        self.pending.clear()
        self.liveness_shrinks = 0

    def _framework_error(self, cases: list[Case]) -> None:
        self.result.framework_errors += 1
        log = self.config.corpus / "framework-errors.log"
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"--- {now_iso()} worker {self.index}\n")
            handle.write("".join(f"  {c.describe()}\n" for c in cases))
            handle.write(traceback.format_exc() + "\n")
        self.emit({"event": "error", "worker": self.index, "log": str(log)})

    def _tick(self) -> None:
        if self.programs % 16 == 0:
            self.emit(
                {
                    "event": "progress",
                    "worker": self.index,
                    "cases": self.cases,
                    "programs": self.programs,
                }
            )


def _finding_line(finding: FindingFile) -> str:
    obs = finding.observation
    return (
        f"{finding.path.name} {obs.kind}: {obs.summary} [{obs.ref or '-'}] "
        f"({len(finding.cases)} case(s))"
    )


# ---------------------------------------------------------------- the campaign
class Progress:
    """A progress bar (tqdm) on a terminal, a line every 10 s otherwise."""

    def __init__(self, config: CampaignConfig, enabled: bool) -> None:
        self.config, self.enabled = config, enabled
        self.cases: dict[int, int] = {}
        self.findings = 0
        self.started = time.monotonic()
        self._last_line = 0.0
        self.bar: Any = None
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(
                total=config.max_cases,
                unit="case",
                dynamic_ncols=True,
                file=sys.stderr,
                smoothing=0.1,
            )

    def total(self) -> int:
        return sum(self.cases.values())

    def update(self, event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "progress":
            self.cases[event["worker"]] = event["cases"]
        elif kind == "finding":
            self.findings += 1
            self.write(f"finding {event['line']}")
        elif kind == "note":
            self.write(event["text"])
        elif kind == "error":
            self.write(f"framework error (the program is in {event['log']})")
        self.refresh()

    def write(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        elif self.enabled or text.startswith("finding"):
            print(text, file=sys.stderr, flush=True)

    def refresh(self) -> None:
        total = self.total()
        elapsed = time.monotonic() - self.started
        rate = total / elapsed if elapsed > 0 else 0.0
        if self.bar is not None:
            self.bar.n = total
            self.bar.set_postfix_str(f"findings {self.findings}", refresh=False)
            self.bar.refresh()
        elif self.enabled and time.monotonic() - self._last_line >= 10:
            self._last_line = time.monotonic()
            print(
                f"{elapsed:7.0f} s  {total} cases  {rate:.0f}/s  findings {self.findings}",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _campaign_seed(config: CampaignConfig) -> int:
    if config.seed is not None:
        return config.seed
    with contextlib.suppress(OSError, ValueError, KeyError):
        state = json.loads((config.corpus / STATE_DIR / "worker-0.json").read_text())
        if not state.get("finished"):
            return int(state["seed"])
    return random.SystemRandom().getrandbits(32)


def _worker_process(
    config: CampaignConfig, index: int, campaign_seed: int, events: Any, stop: Any
) -> None:
    spec = parse_device(config.device)
    worker = Worker(config, index, spec, events.put, stop)
    try:
        result = worker.run(campaign_seed)
    except KeyboardInterrupt:
        result = worker.result
        result.stopped = "interrupted"
    events.put({"event": "done", "worker": index, "result": asdict(result)})


def run_campaign(config: CampaignConfig) -> CampaignResult:
    """Run a campaign to its budget; findings are on file before this returns."""
    if config.max_cases is None and config.duration is None:
        config.duration = DEFAULT_DURATION
    config.corpus.mkdir(parents=True, exist_ok=True)
    spec = parse_device(config.device)
    campaign_seed = _campaign_seed(config)
    started = time.time()
    progress = Progress(config, config.progress)
    total = CampaignResult(seed=campaign_seed)
    try:
        if config.workers <= 1:
            stop = threading.Event()
            worker = Worker(config, 0, spec, progress.update, stop)
            try:
                result = worker.run(campaign_seed)
            except KeyboardInterrupt:
                stop.set()
                result = worker.result
                result.stopped = "interrupted"
            results = [result]
        else:
            results = _run_workers(config, campaign_seed, progress)
    finally:
        progress.close()
    for result in results:
        total.cases += result.cases
        total.programs += result.programs
        total.seconds = max(total.seconds, result.seconds)
        total.findings += [Path(p) for p in result.findings]
        total.known += result.known
        total.framework_errors += result.framework_errors
        total.resumed = total.resumed or result.resumed
        total.protocol = total.protocol or result.protocol
        if result.stopped != "budget" and total.stopped == "budget":
            total.stopped, total.detail = result.stopped, result.detail
    if config.results is not None:
        _write_allure(config, spec, total, started)
    return total


def _run_workers(
    config: CampaignConfig, campaign_seed: int, progress: Progress
) -> list[CampaignResult]:
    context = multiprocessing.get_context("spawn")
    events = context.Queue()
    stop = context.Event()
    procs = [
        context.Process(
            target=_worker_process,
            args=(config, i, campaign_seed, events, stop),
            name=f"fuzz-worker-{i}",
            daemon=True,
        )
        for i in range(config.workers)
    ]
    for proc in procs:
        proc.start()
    results: dict[int, CampaignResult] = {}

    def take(event: dict[str, Any]) -> None:
        if event["event"] == "done":
            results[event["worker"]] = CampaignResult(**event["result"])
        else:
            progress.update(event)

    try:
        while len(results) < len(procs):
            try:
                take(events.get(timeout=0.5))
                continue
            except queue.Empty:
                pass
            for i, proc in enumerate(procs):
                if proc.is_alive() or i in results:
                    continue
                with contextlib.suppress(queue.Empty):  # what it said before it ended
                    while i not in results:
                        take(events.get_nowait())
                if i not in results:  # a worker that died without a word
                    results[i] = CampaignResult(
                        stopped="worker died", detail=f"exit code {proc.exitcode}"
                    )
            progress.refresh()
    except KeyboardInterrupt:
        stop.set()
        deadline = time.monotonic() + 30
        while len(results) < len(procs) and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty, KeyboardInterrupt):
                take(events.get(timeout=0.5))
        for i in range(len(procs)):
            results.setdefault(i, CampaignResult(stopped="interrupted"))
    finally:
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
    return [results[i] for i in sorted(results)]


def _write_allure(
    config: CampaignConfig, spec: DeviceSpec, total: CampaignResult, started: float
) -> None:
    assert config.results is not None
    allure_results.write_campaign(config.results, summary(config, spec, total), started)


def summary(config: CampaignConfig, spec: DeviceSpec, total: CampaignResult) -> dict[str, Any]:
    return {
        "device": spec.masked,
        "protocol": total.protocol or config.protocol or spec.protocol,
        "cases": total.cases,
        "programs": total.programs,
        "seconds": round(total.seconds, 1),
        "cases_per_second": round(total.cases_per_second),
        "seed": total.seed,
        "workers": config.workers,
        "new_findings": len(total.findings),
        "known_findings_seen_again": total.known,
        "framework_errors": total.framework_errors,
        "stopped": total.stopped,
        "findings": [str(p) for p in total.findings],
        "corpus": os.fspath(config.corpus),
    }
