"""Fixtures of the fuzz tests (``pytest fuzz/ --device=URI``): the device's
target with its liveness rules, and a check that files every finding as a
reproducer (``--fuzz-corpus``) before the test fails with it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import allure
import pytest
from hypothesis import HealthCheck, Phase, given, settings

from conformance.devices.base import Device
from fuzz.case import Case
from fuzz.runner import Runner
from fuzz.store import FindingFile, Store
from fuzz.strategies import programs
from fuzz.target import Target, target_for


@pytest.fixture
def fuzz_examples(request: pytest.FixtureRequest) -> int:
    return int(request.config.getoption("fuzz_examples"))


class FuzzCheck:
    """Runs programs through a :class:`Runner` and fails on the first
    observation, after writing it (smallest program seen) to the corpus."""

    def __init__(self, runner: Runner, store: Store, device: Device) -> None:
        self.runner, self.store, self.device = runner, store, device
        self.filed: dict[str, FindingFile] = {}

    @property
    def target(self) -> Target:
        return self.runner.target

    def run_programs(self, examples: int) -> None:
        """*examples* programs of the target's strategy, each through this check.

        Hypothesis does not shrink here: the check files each finding with the
        fewest cases that still show it (:meth:`Runner.minimize`), at a
        fraction of the device time a byte-level shrink would take."""
        __tracebackhide__ = True

        @settings(max_examples=examples, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck),
                  phases=(Phase.explicit, Phase.reuse, Phase.generate))  # fmt: skip
        @given(programs(self.target))
        def check(cases: list[Case]) -> None:
            self(cases)

        check()

    def __call__(self, cases: Sequence[Case]) -> None:
        __tracebackhide__ = True
        observations = self.runner.observe(cases)
        if not observations:
            return
        first = observations[0]
        filed = self.filed.get(first.signature)
        if filed is None:  # the first sighting is filed with its smallest program
            cases, first = self.runner.minimize(cases, first)
            filed = self.store.add(first, list(cases), protocol=self.target.protocol,
                                   device=self.device.spec.masked, context={"pytest": True},
                                   status="found by pytest")  # fmt: skip
            if filed is None:  # on file from an earlier run
                filed = self.store.signatures(self.target.protocol)[first.signature]
                filed = self.store.update(filed, observation=first, cases=list(cases))
        elif len(cases) < len(filed.cases):
            filed = self.store.update(filed, observation=first, cases=list(cases))
        self.filed[first.signature] = filed
        allure.attach.file(str(filed.path), name=f"finding {filed.path.name}",
                           attachment_type=allure.attachment_type.JSON)  # fmt: skip
        raise AssertionError(
            first.render() + f"\n  reproducer:  {filed.path} "
            f"(conformance replay {filed.path} --device {self.device.spec.masked})"
        )


@pytest.fixture
def fuzz_check(request: pytest.FixtureRequest, device: Device) -> Iterator[FuzzCheck]:
    """``fuzz_check(cases)`` for the device under test; ``fuzz_check.target``
    draws the cases."""
    target = target_for(device)
    store = Store(Path(request.config.getoption("fuzz_corpus")))
    runner = Runner(target, recovery=max(2.0, 4 * device.reply_timeout))
    target.start()
    yield FuzzCheck(runner, store, device)
    target.close()
