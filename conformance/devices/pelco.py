"""Pelco-D and Pelco-P clients (``aver-visca-pelco-spec.txt`` §3.2.3 and §3.2.2).

AVer defines no Pelco replies, so a Pelco device is only written to.  What a
frame did is seen through an *observer*: a VISCA link to the same camera,
given as ``observe=`` in the URI (e.g. ``pelco-d+serial:///dev/ttyUSB0?observe=
visca-ip://10.0.0.5``; percent-encode an observer URI that has a query of its
own).  For ``emu:pelco-d`` and ``emu:pelco-p`` the pool serves the emulator's
VISCA face and fills in ``observe=`` itself.

The URI's ``address=`` is the address on the wire: camera 1 is 0x01 in
Pelco-D and 0x00 in Pelco-P (the default).  ``timeout=`` bounds how long a
frame's effect may take to show, and so how long a frame that must be ignored
is watched; ``model=`` and ``motion_timeout=`` are passed on to the observer
unless its own URI gives them.
"""

from __future__ import annotations

import dataclasses
from types import ModuleType
from typing import ClassVar

from conformance.devices.base import Device
from conformance.devices.uri import DeviceSpec, parse_device
from conformance.devices.visca import DEFAULT_MOTION_TIMEOUT, ViscaDevice
from conformance.errors import DeviceUnreachable, DeviceURIError
from conformance.framing import FixedLengthFramer
from conformance.transcript import NOTE, SENT, Decoder, Record, Transcript
from conformance.transports.base import Transport
from dissectors import pelco, pelco_d, pelco_p
from dissectors.decoded import Decoded

#: observer URI schemes, for messages
OBSERVER_SCHEMES = "visca+serial://PORT, visca+tcp://HOST:PORT or visca-ip://HOST"
#: Pelco URI parameters an observer inherits unless its own URI sets them
INHERITED = ("model", "motion_timeout")


class Observed(bytes):
    """Bytes of the observer's link inside a Pelco transcript, with their own decoder."""

    decoder: Decoder

    def __new__(cls, data: bytes, decoder: Decoder) -> Observed:
        self = super().__new__(cls, data)
        self.decoder = decoder
        return self


class ObserverTranscript(Transcript):
    """Records the observer's traffic into the Pelco device's transcript.

    The observer's client sets this transcript's ``decoder`` (VISCA); each
    record keeps it, so the shared transcript decodes Pelco and VISCA alike.
    """

    def __init__(self, inner: Transcript) -> None:
        super().__init__(name=inner.name)
        self.inner = inner

    def _add(self, direction: str, data: bytes | str, note: str) -> Record:
        if direction == NOTE:
            return self.inner.note(f"observer: {note}")
        marked = Observed(data, self.decode) if isinstance(data, bytes) else data
        add = self.inner.sent if direction == SENT else self.inner.received
        return add(marked, note)


def _describe(dissector: ModuleType, data: bytes | str, address: int | None = None) -> str:
    """One-line decode: a Pelco frame (checked against *address*), or the observer's bytes."""
    if isinstance(data, Observed):
        return f"[observer] {data.decoder(bytes(data))}"
    return str(dissector.describe(data, expected_address=address))


def _describer(dissector: ModuleType) -> Decoder:
    return lambda data: _describe(dissector, data)


def camera_number(protocol: str, address: int) -> int:
    """Camera 1, 2, ... that wire *address* names (Pelco-D counts from 1, Pelco-P from 0)."""
    return address - pelco.VARIANTS[protocol].first_address + 1


def with_observer(spec: DeviceSpec, visca_uri: str) -> DeviceSpec:
    """*spec* observed through *visca_uri* (no query), addressed to the same camera."""
    first = pelco.VARIANTS[spec.protocol].first_address
    camera = camera_number(spec.protocol, spec.int_param("address", first))
    return dataclasses.replace(
        spec, params={**spec.params, "observe": f"{visca_uri}?address={camera}"}
    )


def observer_for(uri: str, spec: DeviceSpec) -> ViscaDevice:
    """An unopened VISCA client for ``observe=`` *uri* of the Pelco device *spec*."""
    from conformance.devices import client_for  # the registry imports this module

    try:
        observed = parse_device(uri)
    except DeviceURIError as exc:
        raise DeviceURIError(f"--device {spec.masked!r}: observe=: {exc}") from None
    if observed.protocol not in ("visca", "visca-ip") or observed.link == "emu":
        raise DeviceURIError(
            f"--device {spec.masked!r}: observe= must be a VISCA link to the same camera "
            f"({OBSERVER_SCHEMES}), not {observed.masked!r}"
        )
    inherited = {k: spec.params[k] for k in INHERITED if k in spec.params}
    observed = dataclasses.replace(observed, params={**inherited, **observed.params})
    device = client_for(observed)
    assert isinstance(device, ViscaDevice)
    return device


class PelcoDevice(Device):
    """A camera spoken to in Pelco-D or Pelco-P, watched through an optional observer."""

    dissector: ClassVar[ModuleType]
    variant: ClassVar[pelco.Variant]
    framer: ClassVar[FixedLengthFramer]
    default_timeout = 0.5  # reaction bound: a frame at 9600 baud takes under 10 ms

    def __init__(self, spec: DeviceSpec, transport: Transport) -> None:
        self.observer: ViscaDevice | None = None
        self.address = spec.int_param("address", self.variant.first_address)
        super().__init__(spec, transport)
        observe = spec.params.get("observe")
        if observe:
            self.attach_observer(observer_for(observe, spec))

    @property
    def camera(self) -> int:
        """The camera number (1, 2, ...) this device's wire address names."""
        return camera_number(self.protocol, self.address)

    @property
    def section(self) -> str:
        """Where the spec defines this variant (§3.2.3 or §3.2.2)."""
        return self.variant.section

    @property
    def motion_timeout(self) -> float:
        """Bound on a move, a stop or a power change (``motion_timeout=`` in the URI)."""
        return float(self.spec.params.get("motion_timeout", DEFAULT_MOTION_TIMEOUT))

    # ------------------------------------------------------------ observer
    def attach_observer(self, observer: ViscaDevice) -> None:
        """Watch the camera through *observer*, recording into this device's transcript."""
        self.observer = observer
        observer.use_transcript(ObserverTranscript(self.transcript))

    def use_transcript(self, transcript: Transcript) -> None:
        super().use_transcript(transcript)
        transcript.decoder = self.describe
        if self.observer is not None:
            self.observer.use_transcript(ObserverTranscript(transcript))

    def open(self) -> None:
        super().open()
        if self.observer is not None:
            try:
                self.observer.open()
            except DeviceUnreachable as exc:
                super().close()
                raise DeviceUnreachable(f"observer of {self.spec.masked}: {exc}") from exc

    def close(self) -> None:
        try:
            if self.observer is not None:
                self.observer.close()
        finally:
            super().close()

    def settle(self) -> None:
        """Discard anything still arriving on the observer's link, then whatever came
        meanwhile on the Pelco link (where AVer defines no replies, so no waiting)."""
        if self.observer is None:
            super().settle()
            return
        self.observer.settle()
        self.transport.drain(quiet=0.0)

    # ------------------------------------------------------------ frames
    def build(
        self, name: str, *, address: int | None = None, checksum: int | None = None, **params: int
    ) -> bytes:
        """Frame of table row or pan/tilt command *name* for this camera (or *address*)."""
        where = self.address if address is None else address
        return bytes(self.dissector.build(name, where, checksum=checksum, **params))

    def send_command(self, name: str, **params: int) -> bytes:
        """Send row or pan/tilt command *name* (``build`` arguments); returns the frame sent."""
        return self.send_raw(self.build(name, **params))

    def send_raw(self, frame: bytes, note: str = "") -> bytes:
        """Put *frame* on the wire as is (a bad frame on purpose, or a fragment)."""
        self.transport.send(frame, note)
        return frame

    def listen(self, seconds: float) -> list[bytes | str]:
        """Whatever the camera sends on the Pelco link within *seconds*, transcribed
        (AVer defines no replies, so normally nothing: this is how suites pace polling)."""
        return self.transport.drain(quiet=seconds, limit=seconds)

    def describe(self, data: bytes | str) -> str:
        """One-line decode for transcripts: Pelco frames checked against this device's
        address, the observer's traffic with the observer's decoder."""
        return _describe(self.dissector, data, self.address)

    def decode(self, frame: bytes) -> Decoded:
        """What the table makes of *frame*, for this device's address."""
        result: Decoded = self.dissector.decode(frame, expected_address=self.address)
        return result


class PelcoDDevice(PelcoDevice):
    """Pelco-D (§3.2.3): ``FF addr cmd1 cmd2 data1 data2 sum``."""

    protocol = pelco_d.PROTOCOL
    dissector = pelco_d
    variant = pelco_d.VARIANT
    framer = FixedLengthFramer(bytes([pelco_d.SYNC]), pelco_d.FRAME_LEN)
    decoder = staticmethod(_describer(pelco_d))


class PelcoPDevice(PelcoDevice):
    """Pelco-P (§3.2.2): ``A0 addr data1 data2 data3 data4 AF xor``."""

    protocol = pelco_p.PROTOCOL
    dissector = pelco_p
    variant = pelco_p.VARIANT
    framer = FixedLengthFramer(bytes([pelco_p.STX]), pelco_p.FRAME_LEN)
    decoder = staticmethod(_describer(pelco_p))
