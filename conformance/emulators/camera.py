"""PTZ camera emulator speaking VISCA (serial/TCP) and VISCA over IP (UDP).

Driven by the command table in :mod:`dissectors.visca_table`: a request is
matched to its row and answered by the row's handler.  Spec: AVer VISCA spec
rev 3.4 (``aver-visca-pelco-spec.txt``) §3.1, §3.2.1 and §3.2.4.

Choices where the spec is silent, documented here once:

* a request addressed to a camera that is not on the chain gets no reply
  (nothing is there to answer);
* a well-formed request that matches no row gets Syntax_Error ``y0 60 02 FF``;
* more than 16 bytes without a terminator are discarded and answered with
  Message_Length_Error ``y0 60 01 FF``;
* the identity returned by Version_Inq is the emulator's own, not AVer's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conformance.emulators.base import Emulator, Endpoint, Link
from dissectors import visca, visca_ip
from dissectors import visca_table as table

SLOW_REPLY_S = 2.0  # real seconds of delay under the slow_reply fault


@dataclass(frozen=True)
class Identity:
    vendor_id: int = 0xC0F0
    model_id: int = 0x0001
    version: int = 0x0100
    max_socket: int = 2


MODELS: dict[str, Identity] = {
    "generic": Identity(),
}


class CameraEmulator(Emulator):
    name = "camera"
    FACES = {"visca": ("pty", "tcp"), "visca-ip": ("udp",)}
    FAULTS = {
        "no_reply": "never answers anything (missing reply)",
        "slow_reply": f"answers {SLOW_REPLY_S:.0f} s late (wrong timing)",
        "wrong_reply_address": "replies carry the address of the next camera (wrong reply)",
        "babble": "answers every request with 20 bytes of garbage and no terminator",
        "broadcast_not_echoed": "IF_Clear broadcast is not returned (skipped requirement)",
        "version_short": "Version_Inq answer lacks the max-socket byte (wrong reply)",
        "ip_wrong_sequence": "VISCA-over-IP replies carry sequence number + 1",
        "ip_wrong_type": "VISCA-over-IP replies use payload type 0100 instead of 0111",
        "ip_bad_length": "VISCA-over-IP replies declare a payload length one too long",
    }

    def __init__(self, *, address: int = 1, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.address = address
        self.identity = MODELS.get(self.model or "generic", Identity())
        self.reset_state()

    def reset_state(self) -> None:
        pass  # the interface slice has no camera state yet

    def endpoint(self, face: str) -> Endpoint:
        if face == "visca":
            return ViscaEndpoint(self)
        if face == "visca-ip":
            return ViscaIpEndpoint(self)
        raise ValueError(f"camera has no face {face!r}")

    # ------------------------------------------------------------ VISCA core
    def emit(self, link: Link, data: bytes) -> None:
        """Everything the camera sends passes here, so no_reply and slow_reply
        apply to every answer, errors and control replies included."""
        if self.fault("no_reply"):
            return
        if self.fault("slow_reply"):
            link.later(SLOW_REPLY_S, lambda: link.send(data), emulated=False)
        else:
            link.send(data)

    def handle(self, message: bytes, reply: Callable[[bytes], None]) -> None:
        """Answer one complete VISCA message through *reply*."""
        if self.fault("babble"):
            reply(bytes(range(0x10, 0x24)))
            return
        for out in self.answers(message):
            if self.fault("wrong_reply_address") and out[0] & 0x0F == 0 and out[0] != 0x88:
                out = bytes([((out[0] >> 4) + 1) << 4 & 0xF0 or 0x90]) + out[1:]
            reply(out)

    def answers(self, message: bytes) -> list[bytes]:
        if visca.structural_problems(message):
            if message and message[0] & 0xF8 == 0x80 and message[0] & 0x07 == self.address:
                return [self._error("Syntax_Error")]
            return []
        address = message[0]
        if address != table.BROADCAST and address & 0x07 != self.address:
            return []
        row = visca.match_row(message)
        if row is None:
            return [self._error("Syntax_Error")] if address != table.BROADCAST else []
        handler = getattr(self, "do_" + row.name.replace("(", "_").replace(")", ""), None)
        if handler is None:
            return [self._error("Syntax_Error")]
        return handler(row, message)

    def _error(self, name: str, **params: int) -> bytes:
        return visca.build(name, self.address, **params)

    def do_IF_Clear(self, row: table.Row, message: bytes) -> list[bytes]:
        return [visca.build_reply(row, self.address)]

    def do_IF_Clear_broadcast(self, row: table.Row, message: bytes) -> list[bytes]:
        return [] if self.fault("broadcast_not_echoed") else [message]

    def do_Version_Inq(self, row: table.Row, message: bytes) -> list[bytes]:
        i = self.identity
        out = visca.build_reply(
            row,
            self.address,
            vendor_id=i.vendor_id,
            model_id=i.model_id,
            version=i.version,
            max_socket=i.max_socket,
        )
        return [out[:-2] + out[-1:]] if self.fault("version_short") else [out]


class ViscaEndpoint(Endpoint):
    """Raw VISCA on a byte stream (serial pty or TCP), framed on FF."""

    emulator: CameraEmulator

    def on_data(self, link: Link, data: bytes) -> None:
        cam = self.emulator
        buffer: bytearray = link.state.setdefault("buffer", bytearray())
        buffer += data
        while True:
            # Only the first MAX_LEN + 1 bytes are looked at, so that how the
            # stream was chunked never changes the answer.
            end = buffer.find(b"\xff", 0, table.MAX_LEN + 1)
            if end < 0:
                if len(buffer) <= table.MAX_LEN:
                    return
                del buffer[: table.MAX_LEN + 1]
                cam.emit(link, visca.build("Message_Length_Error", cam.address))
                continue
            message = bytes(buffer[: end + 1])
            del buffer[: end + 1]
            cam.handle(message, lambda out: cam.emit(link, out))


class ViscaIpEndpoint(Endpoint):
    """VISCA over IP (§3.2.4): 8-byte header, sequence numbers, RESET."""

    emulator: CameraEmulator

    def on_data(self, link: Link, data: bytes) -> None:
        cam = self.emulator
        try:
            ptype, length, seq, payload = visca_ip.unwrap(data)
        except ValueError:
            return  # too short to carry a sequence number to answer with
        if ptype == visca_ip.CONTROL:
            if payload == visca_ip.RESET:
                link.state["expected"] = 0
                cam.emit(link, visca_ip.wrap(visca_ip.CONTROL_ACK, seq, visca_ip.CONTROL_REPLY))
            else:
                cam.emit(
                    link, visca_ip.wrap(visca_ip.MESSAGE_TYPE_ERROR, seq, visca_ip.CONTROL_REPLY)
                )
            return
        if (
            ptype not in (visca_ip.COMMAND, visca_ip.INQUIRY)
            or length != len(payload)
            or not (1 <= length <= visca_ip.MAX_PAYLOAD)
        ):
            cam.emit(link, visca_ip.wrap(visca_ip.MESSAGE_TYPE_ERROR, seq, visca_ip.CONTROL_REPLY))
            return
        expected = link.state.get("expected")
        if expected is not None and seq not in (expected, (expected - 1) & 0xFFFFFFFF):
            cam.emit(link, visca_ip.wrap(visca_ip.SEQUENCE_ERROR, seq, visca_ip.CONTROL_REPLY))
            return
        link.state["expected"] = (seq + 1) & 0xFFFFFFFF

        def reply(out: bytes) -> None:
            rseq = (seq + 1) & 0xFFFFFFFF if cam.fault("ip_wrong_sequence") else seq
            rtype = visca_ip.COMMAND if cam.fault("ip_wrong_type") else visca_ip.REPLY
            frame = visca_ip.wrap(out, rseq, rtype)
            if cam.fault("ip_bad_length"):
                frame = frame[:2] + (len(out) + 1).to_bytes(2, "big") + frame[4:]
            cam.emit(link, frame)

        cam.handle(payload, reply)
