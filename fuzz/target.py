"""What a protocol plugs into the campaign: its cases, its oracle, its
liveness probe and its state check.

One :class:`Target` subclass per protocol, registered in :data:`TARGETS`.  The
campaign (:mod:`fuzz.campaign`), ``conformance replay`` and ``pytest fuzz/``
drive every protocol through this interface only.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from fuzz.case import Case, Observation
from fuzz.source import ByteSource

if TYPE_CHECKING:
    from conformance.devices.base import Device

#: protocol -> "module:Class" of its target (imported when first needed)
TARGETS: dict[str, str] = {
    "visca": "fuzz.visca:ViscaTarget",
    "visca-ip": "fuzz.visca:ViscaIpTarget",
    "pelco-d": "fuzz.pelco:PelcoTarget",
    "pelco-p": "fuzz.pelco:PelcoTarget",
    "at": "fuzz.at:AtTarget",
    "ocpp": "fuzz.ocpp:OcppTarget",
}


class Target(ABC):
    """A device under fuzzing.

    The campaign calls, in order: :meth:`start` once; then for every program
    :meth:`begin`, :meth:`run`, and (after every program, or when
    :meth:`run` saw silence) :meth:`probe` and :meth:`check_state`.  None of
    them may block beyond the device's reply bounds.  Device misbehaviour is
    returned as :class:`Observation`; only a lost link raises
    :class:`~conformance.errors.DeviceUnreachable`.
    """

    protocol: ClassVar[str]
    #: cases in one program at most (the pipelining window, for targets that pipeline)
    max_program: ClassVar[int] = 16
    #: bytes of source a case consumes on average (sizes the Hypothesis draw)
    case_bytes: ClassVar[int] = 8
    #: the case families :meth:`draw` chooses from, for reports and tests
    families: ClassVar[tuple[str, ...]] = ()
    #: what :meth:`probe` sends, for messages and reports
    probe_name: ClassVar[str] = ""
    #: False when this device offers no probe at all (a Pelco camera without a
    #: VISCA observer): the campaign then says liveness is not checked
    liveness: bool = True

    def __init__(self, device: Device) -> None:
        self.device = device
        #: signatures already reported; :meth:`raise_new` skips them
        self.known: set[str] = set()

    @property
    def model(self) -> str | None:
        return self.device.spec.model

    # ------------------------------------------------------------ cases
    @abstractmethod
    def draw(self, src: ByteSource) -> Case:
        """One case, every decision read from *src* (zero bytes: the plainest)."""

    def program(self, data: bytes) -> list[Case]:
        """The program *data* decodes to: at least one case, at most :attr:`max_program`."""
        src = ByteSource(data)
        cases = [self.draw(src)]
        while not src.exhausted and len(cases) < self.max_program:
            cases.append(self.draw(src))
        return cases

    # ------------------------------------------------------------ running
    def start(self) -> None:  # noqa: B027 - optional hook
        """Once before the first program: take baselines (identity, settings)."""

    def begin(self) -> None:  # noqa: B027 - optional hook
        """Bring the device to the state every program starts from."""

    @abstractmethod
    def run(self, cases: Sequence[Case]) -> list[Observation]:
        """Send *cases*, collect the answers within the reply bounds, and return
        everything the spec does not allow (``Observation.case`` = the index)."""

    @abstractmethod
    def probe(self) -> str | None:
        """The protocol's liveness probe: None if the device answered it within
        its bound, else one line saying what happened instead."""

    def check_state(self, cases: Sequence[Case]) -> list[Observation]:
        """A later inquiry: state that *cases* had no right to change (kind
        ``state-corruption``).  Called after a program the device survived."""
        return []

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what :meth:`start` took."""

    # ------------------------------------------------------------ for stateful machines
    def raise_new(self, observations: Sequence[Observation], cases: Sequence[Case]) -> None:
        """Raise the first observation not yet reported, as :func:`failure`."""
        for observation in observations:
            if observation.signature not in self.known:
                raise failure(observation, cases)


class FindingFailure(Exception):
    """A new finding inside a Hypothesis run.  Each signature gets its own
    subclass (:func:`failure`), so Hypothesis tells findings apart and shrinks
    each one on its own."""

    signature: ClassVar[str] = ""

    def __init__(self, observation: Observation, cases: Sequence[Case]) -> None:
        super().__init__(observation.render())
        self.observation = observation
        self.cases = list(cases)


_FAILURES: dict[str, type[FindingFailure]] = {}


def failure(observation: Observation, cases: Sequence[Case]) -> FindingFailure:
    cls = _FAILURES.get(observation.signature)
    if cls is None:
        name = "Finding_" + "".join(c if c.isalnum() else "_" for c in observation.signature)
        cls = type(name[:80], (FindingFailure,), {"signature": observation.signature})
        _FAILURES[observation.signature] = cls
    return cls(observation, cases)


def target_class(protocol: str) -> type[Target]:
    try:
        where = TARGETS[protocol]
    except KeyError:
        known = ", ".join(sorted(TARGETS))
        raise ValueError(f"no fuzz target for protocol {protocol!r} (known: {known})") from None
    module, _, name = where.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def target_for(device: Device) -> Target:
    return target_class(device.protocol)(device)
