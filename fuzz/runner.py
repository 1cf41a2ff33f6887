"""Running programs on a live device: the target's oracle, then liveness
(the protocol's probe, a recovery window, hang or crash) and a later state
inquiry.  Shared by the campaign, ``conformance replay`` and ``pytest fuzz/``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from conformance.errors import DeviceUnreachable
from fuzz.case import Case, Observation
from fuzz.target import Target


class DeviceGone(BaseException):
    """The device stopped answering and did not come back.  A BaseException so
    that Hypothesis never takes it for a failing example."""


class Runner:
    """A target plus the liveness rules around each program."""

    def __init__(
        self,
        target: Target,
        *,
        recovery: float = 10.0,
        stop: threading.Event | None = None,
        note: Callable[[str], None] = lambda _text: None,
    ) -> None:
        self.target = target
        self.recovery = recovery
        self.stop = stop or threading.Event()
        self.note = note
        #: the last program crashed the device and it has not been revived
        self.dead = False

    @property
    def probe_name(self) -> str:
        return self.target.probe_name or "the liveness probe"

    def observe(self, cases: Sequence[Case]) -> list[Observation]:
        """Run *cases* from :meth:`Target.begin`: what the oracle saw, then a
        hang or crash if the probe goes unanswered, else the state check.

        Exceptions other than a lost link are the framework's and propagate.
        """
        if self.dead:
            self.revive()
        target = self.target
        observations: list[Observation] = []
        problem: str | None = None
        try:
            target.begin()
            observations = list(target.run(cases))
        except DeviceUnreachable as exc:
            problem = f"link lost: {exc}"
        problem = problem or self.alive()
        if problem is not None:  # what went unanswered is the dead device's, not new findings
            kept = [o for o in observations if o.kind != "no-response"]
            return [*kept, self.liveness_finding(problem)]
        try:
            observations += target.check_state(cases)
        except DeviceUnreachable as exc:
            observations.append(self.liveness_finding(f"link lost: {exc}"))
        return observations

    def reproduces(self, cases: Sequence[Case], observation: Observation) -> Observation | None:
        """The observation of the same finding if *cases* show it again (a
        crash and a hang count as the same liveness finding)."""
        try:
            seen = self.observe(cases)
        except Exception:
            return None
        found = next((o for o in seen if o.shows(observation.signature)), None)
        if found is None or found.signature == observation.signature:
            return found
        return observation  # a crash shown as a hang, or the reverse: the same finding

    def minimize(
        self, cases: Sequence[Case], observation: Observation
    ) -> tuple[list[Case], Observation]:
        """Drop the cases a finding does not need: each case alone first (most
        findings need one), then removal one at a time from the end.  Hypothesis
        shrinks the program's bytes, but not below the strategy's minimum size,
        so plain filler cases may remain until this pass."""
        kept = list(cases)
        if len(kept) <= 1:
            return kept, observation
        for case in kept:
            found = self.reproduces([case], observation)
            if found is not None:
                return [case], found
            if self.stop.is_set():
                return kept, observation
        for index in range(len(kept) - 1, -1, -1):
            if len(kept) == 1 or self.stop.is_set():
                break
            candidate = kept[:index] + kept[index + 1 :]
            found = self.reproduces(candidate, observation)
            if found is not None:
                kept, observation = candidate, found
        return kept, observation

    def alive(self) -> str | None:
        """None if the probe is answered, else what happened instead."""
        if not self.target.liveness:
            return None
        try:
            return self.target.probe()
        except DeviceUnreachable as exc:
            return f"link lost: {exc}"

    def await_recovery(self) -> float | None:
        """Seconds until the probe is answered again; None if not within the window."""
        start = time.monotonic()
        while (waited := time.monotonic() - start) < self.recovery:
            if self.stop.is_set():
                return None
            if self.alive() is None:
                return time.monotonic() - start
            self.stop.wait(min(0.2, self.recovery - waited))
        return None

    def liveness_finding(self, problem: str) -> Observation:
        """The probe went unanswered after a program: hang if it comes back
        within the recovery window, crash if not."""
        back = self.await_recovery()
        expected = f"an answer to {self.probe_name}"
        if back is not None:
            return Observation(
                "hang",
                f"no answer to {self.probe_name} after this program ({problem}); "
                f"answered again after {back:.1f} s",
                key="probe",
                expected=expected,
            )
        self.dead = True
        return Observation(
            "crash",
            f"no answer to {self.probe_name} after this program ({problem}), "
            f"nor within {self.recovery:g} s",
            key="probe",
            expected=expected,
        )

    def revive(self) -> None:
        """Power-cycle an emulator (its control API's ``reset``); a real device
        gets the recovery window to come back.  :class:`DeviceGone` if it does not."""
        control = getattr(self.target.device, "control", None)
        if getattr(control, "emulator", None) is not None:
            control.reset()  # type: ignore[union-attr]
        else:
            self.note(
                f"the device is not answering {self.probe_name}; waiting "
                f"{self.recovery:g} s for it to come back (power-cycle it)"
            )
        if self.await_recovery() is None:
            raise DeviceGone(
                f"no answer to {self.probe_name} for {self.recovery:g} s after a crash"
            )
        self.dead = False
        try:
            self.target.start()
        except DeviceUnreachable as exc:
            raise DeviceGone(f"the device came back but could not be opened: {exc}") from None
