"""A device under test: its parsed URI, its transport and what suites learn about it."""

from __future__ import annotations

from typing import Any, ClassVar

from conformance.devices.uri import DeviceSpec
from conformance.transcript import Decoder, Transcript
from conformance.transports.base import DEFAULT_TIMEOUT, Transport


class Device:
    """Base of the protocol clients the suites use.

    ``info`` collects what suites read from the device (firmware version,
    model id...); the plugin writes it to Allure's ``environment.properties``.
    """

    protocol: ClassVar[str] = ""
    decoder: ClassVar[Decoder | None] = None
    #: reply bound (seconds) when the URI gives no ``timeout=``
    default_timeout: ClassVar[float] = DEFAULT_TIMEOUT

    def __init__(self, spec: DeviceSpec, transport: Transport) -> None:
        self.spec = spec
        self.transport = transport
        self.info: dict[str, Any] = {}
        #: the emulator's control API for an ``emu:`` device (the platform, the
        #: operator), None for a real device
        self.control: Any = None
        self.reply_timeout = spec.timeout or self.default_timeout
        self.transport.timeout = self.reply_timeout
        self.use_transcript(transport.transcript)

    @property
    def transcript(self) -> Transcript:
        return self.transport.transcript

    def use_transcript(self, transcript: Transcript) -> None:
        """Record into *transcript* from now on (the plugin gives one per test)."""
        if self.decoder is not None:
            transcript.decoder = type(self).decoder  # type: ignore[assignment]
        transcript.name = transcript.name or self.spec.masked
        self.transport.transcript = transcript

    def open(self) -> None:
        self.transport.open()

    def close(self) -> None:
        self.transport.close()

    def after_test(self) -> None:
        """Checks once a test's own steps passed (e.g. stray lines after the last
        answer); a finding raised here fails the test."""

    def settle(self) -> None:
        """Discard anything still arriving from the previous test."""
        self.transport.drain()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec.masked}>"
