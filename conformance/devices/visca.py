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
SOCKETS = (1, 2)
DEFAULT_MOTION_TIMEOUT = 30.0


@dataclass(frozen=True)
class Reply:
    data: bytes
    latency: float  # seconds from the end of the request
    decoded: Decoded
    frame: bytes  # what came on the wire (with the IP header, if any)


@dataclass(frozen=True)
class Exchange:
    """A command, its ACK and its Completion."""

    request: bytes
    ack: Reply
    completion: Reply


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

    # ------------------------------------------------------------ spec verbs
    @property
    def motion_timeout(self) -> float:
        """Bound on a Completion that follows a move (``motion_timeout=`` in the URI)."""
        return float(self.spec.params.get("motion_timeout", DEFAULT_MOTION_TIMEOUT))

    def _expect_reply(self, reply: Reply, name: str, *, ref: str, request: bytes,
                      expected: str) -> Reply:  # fmt: skip
        """*reply* must be row *name* from this camera."""
        __tracebackhide__ = True
        got = visca.match_row(reply.data)
        if got is None or got.name != name or reply.data[0] != visca.reply_address(self.address):
            raise Finding(f"expected {name}, got {reply.decoded.describe()}", requirement=ref,
                          sent=request, received=reply.frame, expected=expected)  # fmt: skip
        return reply

    def command(self, name: str, *, ref: str | None = None, **params: int) -> Exchange:
        """Send command row *name*; it must be ACKed (``y0 4z FF``) within the reply
        bound and completed (``y0 5z FF``, same socket) within the motion bound."""
        __tracebackhide__ = True
        row = table.BY_NAME[name]
        ref = ref or row.ref
        message = self.build(name, **params)
        self.send(message)
        sent_at = time.monotonic()
        ack = self.receive(request=message, requirement=ref, sent_at=sent_at)
        y = visca.reply_address(self.address)
        self._expect_reply(ack, "ACK", ref=f"{ref} (§3.1 ACK)", request=message,
                           expected=f"ACK {y:02X} 4z FF, z = socket 1..2")  # fmt: skip
        socket = ack.decoded.fields["socket"]
        if socket not in SOCKETS:
            raise Finding(f"ACK names socket {socket}", requirement=f"{ref} (§3.1 ACK)",
                          sent=message, received=ack.frame, expected="socket 1 or 2")  # fmt: skip
        done = self.receive(self.motion_timeout, request=message, requirement=ref,
                            sent_at=sent_at)  # fmt: skip
        want = f"Completion {y:02X} 5{socket} FF (socket of the ACK)"
        self._expect_reply(done, "Completion", ref=f"{ref} (§3.1 Completion)", request=message,
                           expected=want)  # fmt: skip
        if done.decoded.fields["socket"] != socket:
            raise Finding(f"Completion names socket {done.decoded.fields['socket']}, the ACK "
                          f"socket {socket}", requirement=f"{ref} (§3.1 Completion)",
                          sent=message, received=done.frame, expected=want)  # fmt: skip
        return Exchange(message, ack, done)

    def inquire(self, name: str, *, ref: str | None = None) -> dict[str, int]:
        """Send inquiry row *name*; the answer must fit the row's reply notation,
        come from this camera within the reply bound, with values the row allows."""
        __tracebackhide__ = True
        row = table.BY_NAME[name]
        assert row.reply is not None, name
        ref = ref or row.ref
        message = self.build(name)
        (reply,) = self.request(message, requirement=ref)
        y = visca.reply_address(self.address)
        expected = f"{row.reply.text.replace('y0', f'{y:02X}')}"
        if reply.decoded.name != f"{name} reply" or reply.data[0] != y:
            raise Finding(f"not a {name} answer: {reply.decoded.describe()}", requirement=ref,
                          sent=message, received=reply.frame, expected=expected)  # fmt: skip
        if reply.decoded.problems:
            raise Finding("; ".join(reply.decoded.problems), requirement=ref, sent=message,
                          received=reply.frame, expected=expected)  # fmt: skip
        return {k: v for k, v in reply.decoded.fields.items() if k != "camera"}

    def expect_error(self, message: bytes, error: str, *, ref: str,
                     after_ack: bool = False) -> Reply:  # fmt: skip
        """*message* must be answered with error row *error* (after an ACK if
        *after_ack*), from this camera, within the reply bound."""
        __tracebackhide__ = True
        self.send(message)
        sent_at = time.monotonic()
        y = visca.reply_address(self.address)
        expected = table.BY_NAME[error].packet.text.replace("y0", f"{y:02X}")
        if after_ack:
            ack = self.receive(request=message, requirement=ref, sent_at=sent_at)
            self._expect_reply(ack, "ACK", ref=ref, request=message,
                               expected=f"ACK {y:02X} 4z FF, then {error} {expected}")  # fmt: skip
        reply = self.receive(request=message, requirement=ref, sent_at=sent_at)
        return self._expect_reply(reply, error, ref=ref, request=message,
                                  expected=f"{error} {expected}")  # fmt: skip

    def expect_silence(self, message: bytes, *, ref: str, within: float | None = None) -> None:
        """*message* must get no answer at all within *within* seconds."""
        __tracebackhide__ = True
        self.send(message)
        try:
            reply = self.receive(within or self.reply_timeout, request=message, requirement=ref)
        except NoReply:
            return
        raise Finding("answered a message the spec gives no answer to", requirement=ref,
                      sent=message, received=reply.frame, expected="no reply")  # fmt: skip


CONTROL_REPLY_TYPE = visca_ip.CONTROL_REPLY.to_bytes(2, "big")


class ViscaIpDevice(ViscaDevice):
    """VISCA over IP (§3.2.4): each message wrapped in the 8-byte header."""

    protocol = "visca-ip"
    decoder = staticmethod(visca_ip.describe)

    def __init__(self, spec: DeviceSpec, transport: Transport) -> None:
        super().__init__(spec, transport)
        self.sequence = 0
        #: whether the camera acknowledges RESET (None: not tried yet)
        self.resets: bool | None = None

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

    def settle(self) -> None:
        """Each test starts in step with the camera: a RESET control command (§3.2.4,
        Sony VISCA over IP) sets the camera's expected sequence number and ours to 0.
        A camera that does not acknowledge RESET is left to the RESET test to judge,
        and is not sent RESET again."""
        super().settle()
        self.sequence = 0
        if self.resets is False:
            return
        self.transport.send(visca_ip.wrap(visca_ip.RESET, 0, visca_ip.CONTROL))
        deadline = time.monotonic() + self.reply_timeout
        acked = False
        while not acked and (left := deadline - time.monotonic()) > 0:
            try:
                frame, _ = self.receive_frame(left)
            except NoReply:
                break
            acked = frame[:2] == CONTROL_REPLY_TYPE
        self.resets = acked
        self.transport.drain()

    def send_frame(self, frame: bytes) -> None:
        """A hand-made datagram (header included), as is."""
        self.transport.send(frame)

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
