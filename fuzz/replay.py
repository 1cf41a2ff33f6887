"""``conformance replay FILE --device URI``: run one finding's reproducer
again, through the same oracle, liveness probe and state check."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from conformance.devices.pool import DevicePool
from conformance.devices.uri import parse_device
from fuzz.case import Observation
from fuzz.runner import Runner
from fuzz.store import FindingFile, load
from fuzz.target import target_class


@dataclass
class Replayed:
    finding: FindingFile
    observations: list[Observation] = field(default_factory=list)

    @property
    def reproduced(self) -> bool:
        return any(o.shows(self.finding.signature) for o in self.observations)


def replay(path: Path, device: str, *, recovery: float = 10.0) -> Replayed:
    """Raises BadFindingFile, DeviceURIError, ValueError (protocol mismatch) or
    DeviceUnreachable; device misbehaviour is in the result."""
    finding = load(path)
    spec = parse_device(device)
    pool = DevicePool()
    try:
        opened = pool.get(spec)
        if finding.protocol not in (opened.device.protocol, *spec.speaks):
            raise ValueError(
                f"{path} is a {finding.protocol} finding; {spec.masked} speaks "
                f"{opened.device.protocol}"
            )
        target = target_class(finding.protocol)(opened.device)
        runner = Runner(target, recovery=recovery)
        target.start()
        try:
            return Replayed(finding, runner.observe(finding.cases))
        finally:
            target.close()
    finally:
        pool.close()
