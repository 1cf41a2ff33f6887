"""VISCA client over serial, TCP (raw bytes) or UDP (VISCA over IP).

Every request returns the replies with their latency; anything the spec does
not allow on the way (bad framing, wrong header, wrong sequence) becomes a
:class:`~conformance.errors.Finding` naming the spec section.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from conformance.devices.base import Device
from conformance.devices.uri import DeviceSpec
from conformance.errors import Finding, MalformedReply, NoReply
from conformance.framing import TerminatorFramer
from conformance.transports.base import Deadline, Transport
from dissectors import visca, visca_ip
from dissectors import visca_table as table
from dissectors.decoded import Decoded

FRAMER = TerminatorFramer(b"\xff", max_frame=table.MAX_LEN)


@dataclass(frozen=True)
class Reply:
    data: bytes
    latency: float  # seconds from the end of the request
    decoded: Decoded
    frame: bytes  # what came on the wire (with the IP header, if any)


class ViscaDevice(Device):
    protocol = "visca"
    decoder = staticmethod(visca.describe)
    default_timeout = 1.0

    def __init__(self, spec: DeviceSpec, transport: Transport) -> None:
        super().__init__(spec, transport)
        self.address = spec.int_param("address", 1)

    def build(self, name: str, **params: int) -> bytes:
        return visca.build(name, self.address, **params)

    def send(self, message: bytes) -> bytes:
        """Put one VISCA message on the wire; returns the frame actually sent."""
        self.transport.send(message)
        return message

    def receive(
        self,
        timeout: float | None = None,
        *,
        request: bytes | None = None,
        requirement: str | None = None,
        sent_at: float | None = None,
    ) -> Reply:
        """The next VISCA message from the device."""
        deadline = Deadline(self.reply_timeout if timeout is None else timeout)
        started = sent_at if sent_at is not None else time.monotonic()
        try:
            frame = self.transport.recv_frame(FRAMER, deadline.remaining())
        except (NoReply, MalformedReply) as finding:
            raise finding.with_context(requirement=requirement, sent=request) from None
        assert isinstance(frame, bytes)
        latency = time.monotonic() - started
        return Reply(frame, latency, visca.decode(frame, request), frame)

    def request(
        self,
        message: bytes,
        *,
        replies: int = 1,
        timeout: float | None = None,
        requirement: str | None = None,
    ) -> list[Reply]:
        """Send *message* and collect *replies* answers, each within the deadline."""
        self.send(message)
        sent_at = time.monotonic()
        return [
            self.receive(timeout, request=message, requirement=requirement, sent_at=sent_at)
            for _ in range(replies)
        ]


class ViscaIpDevice(ViscaDevice):
    """VISCA over IP (§3.2.4): each message wrapped in the 8-byte header."""

    protocol = "visca-ip"
    decoder = staticmethod(visca_ip.describe)

    def __init__(self, spec: DeviceSpec, transport: Transport) -> None:
        super().__init__(spec, transport)
        self.sequence = 0

    def send(
        self, message: bytes, *, payload_type: int | None = None, sequence: int | None = None
    ) -> bytes:
        seq = self.sequence if sequence is None else sequence
        frame = visca_ip.wrap(message, seq, payload_type)
        self.transport.send(frame)
        self.last_sequence = seq
        if sequence is None:
            self.sequence = (self.sequence + 1) & 0xFFFFFFFF
        return frame

    def receive_frame(
        self,
        timeout: float | None = None,
        *,
        request: bytes | None = None,
        requirement: str | None = None,
    ) -> tuple[bytes, float]:
        started = time.monotonic()
        try:
            frame = self.transport.recv_frame(
                None, self.reply_timeout if timeout is None else timeout
            )
        except NoReply as finding:
            raise finding.with_context(requirement=requirement, sent=request) from None
        assert isinstance(frame, bytes)
        return frame, time.monotonic() - started

    def receive(
        self,
        timeout: float | None = None,
        *,
        request: bytes | None = None,
        requirement: str | None = None,
        sent_at: float | None = None,
    ) -> Reply:
        """The next reply, its header checked against §3.2.4 and the request."""
        frame, _ = self.receive_frame(timeout, request=request, requirement=requirement)
        latency = time.monotonic() - (sent_at if sent_at is not None else time.monotonic())
        decoded = visca_ip.decode(frame)
        ref = requirement or "VISCA-over-IP §3.2.4"
        if decoded.problems:
            raise MalformedReply(
                "; ".join(decoded.problems),
                requirement=ref,
                sent=request,
                received=frame,
                expected="a well-formed VISCA-over-IP reply",
            )
        ptype, _, seq, payload = visca_ip.unwrap(frame)
        if request is not None:
            want_seq = self.last_sequence
            if seq != want_seq:
                raise Finding(
                    f"reply carries sequence number {seq}, the request had {want_seq}",
                    requirement=ref,
                    sent=request,
                    received=frame,
                    expected=f"sequence number {want_seq}",
                )
        if ptype in (visca_ip.CONTROL, visca_ip.CONTROL_REPLY):
            return Reply(payload, latency, decoded, frame)
        if ptype != visca_ip.REPLY:
            raise Finding(
                f"reply has payload type {ptype:04X}",
                requirement=ref,
                sent=request,
                received=frame,
                expected="payload type 0111 (VISCA reply)",
            )
        return Reply(payload, latency, visca.decode(payload, request), frame)
