"""What every emulator shares: fault switches, time compression, reset, and
the link/endpoint interface the host drives."""

from __future__ import annotations

import asyncio
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Any, ClassVar


class Clock:
    """Emulated time that runs *speed* times faster than real time, so that
    heartbeat or sampling intervals do not cost real minutes."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._t0 = time.monotonic()

    def now(self) -> float:
        """Emulated seconds since the clock started."""
        return (time.monotonic() - self._t0) * self.speed

    def real(self, emulated_seconds: float) -> float:
        """Real seconds that *emulated_seconds* take."""
        return emulated_seconds / self.speed


class Link:
    """One peer of an endpoint: a pty, a TCP connection or a UDP source address.

    Created and driven by the host on its event loop; emulators call
    :meth:`send` and :meth:`later` and keep per-peer state in :attr:`state`.
    """

    def __init__(
        self,
        kind: str,
        peer: str,
        writer: Callable[[bytes], None],
        loop: asyncio.AbstractEventLoop,
        emulator: Emulator,
    ) -> None:
        self.kind = kind
        self.peer = peer
        self._writer = writer
        self._loop = loop
        self._emulator = emulator
        self.state: dict[str, Any] = {}
        self.closed = False

    def send(self, data: bytes) -> None:
        if not self.closed and data:
            self._writer(data)

    def later(self, seconds: float, fn: Callable[[], None], *, emulated: bool = True) -> None:
        """Run *fn* after *seconds* (emulated time unless ``emulated=False``).

        Pending calls are cancelled by :meth:`Emulator.reset`.
        """
        delay = self._emulator.clock.real(seconds) if emulated else seconds
        timers = self._emulator.timers

        def run() -> None:
            timers.discard(handle)
            self._emulator.guard(fn)

        handle = self._loop.call_later(delay, run)
        timers.add(handle)


class Endpoint(ABC):
    """One protocol face of an emulator (e.g. raw VISCA, or VISCA over IP)."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    @abstractmethod
    def on_data(self, link: Link, data: bytes) -> None:
        """Bytes (stream chunk or whole datagram) from *link*."""

    def on_connect(self, link: Link) -> None:  # noqa: B027 - optional hook
        """A peer connected."""


class Emulator(ABC):
    """Base class of the built-in emulators.

    Subclasses declare ``FAULTS`` (switch -> what it breaks) and ``FACES``
    (face -> the transports it can be served on) and implement
    :meth:`endpoint` and :meth:`reset_state`.
    """

    name: ClassVar[str]
    FAULTS: ClassVar[dict[str, str]] = {}
    FACES: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: time compression when the device URI gives no ``speed=``
    DEFAULT_SPEED: ClassVar[float] = 1.0
    #: model profiles the emulator knows (None: it takes no model)
    MODELS: ClassVar[tuple[str, ...] | None] = None

    def __init__(
        self, *, faults: Iterable[str] = (), speed: float = 1.0, model: str | None = None
    ) -> None:
        unknown = sorted(set(faults) - set(self.FAULTS))
        if unknown:
            raise ValueError(
                f"unknown fault {', '.join(unknown)} for emulator {self.name} "
                f"(known: {', '.join(sorted(self.FAULTS)) or 'none'})"
            )
        self.faults: set[str] = set(faults)
        self.clock = Clock(speed)
        self.model = model
        self.timers: set[asyncio.TimerHandle] = set()
        self.links: list[Link] = []
        self.internal_errors: list[str] = []

    def fault(self, name: str) -> bool:
        assert name in self.FAULTS, name
        return name in self.faults

    def guard(self, fn: Callable[..., None], *args: Any) -> None:
        """Run *fn*; an exception is recorded, never allowed to stop the emulator."""
        try:
            fn(*args)
        except Exception:
            self.internal_errors.append(traceback.format_exc())

    def reset(self) -> None:
        """Back to power-on state: pending timers cancelled, per-link state cleared.
        Fault switches stay as they are."""
        for handle in self.timers:
            handle.cancel()
        self.timers.clear()
        for link in self.links:
            link.state.clear()
        self.reset_state()

    @abstractmethod
    def reset_state(self) -> None: ...

    @abstractmethod
    def endpoint(self, face: str) -> Endpoint: ...
