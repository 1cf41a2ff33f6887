"""Captures of a charging station talking OCPP-J to its CSMS, built with Scapy.

:class:`TcpCapture` writes one TCP connection (3-way handshake, segments with
correct seq/ack, FIN) as a pcap; :class:`OcppCapture` puts the HTTP upgrade and
WebSocket frames (masked from the station, optionally fragmented, deflated,
split across segments or packed several to a segment) on it.  :func:`clean`
is the reference exchange every anomaly test starts from.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.packet import Packet
from scapy.utils import wrpcap
from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

from dissectors import websocket as ws
from dissectors.http_upgrade import accept_key, parse_extensions
from dissectors.websocket_deflate import DeflateParams, Deflater

STATION = ("10.0.0.2", 50000)
CSMS = ("10.0.0.9", 9000)
START = 1_700_000_000.0
KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 §1.3's sample key
MASK = b"\x37\xfa\x21\x3d"
NOW = "2024-05-01T12:00:00Z"
TOKEN = {"idToken": "CONF0001", "type": "ISO14443"}

SYN, FIN, PSH, ACK = 0x02, 0x01, 0x08, 0x10


class TcpCapture:
    """One TCP connection station -> CSMS as Ethernet/IPv4/TCP packets."""

    def __init__(self, *, client: tuple[str, int] = STATION, server: tuple[str, int] = CSMS):
        self.client, self.server = client, server
        self.packets: list[Packet] = []
        self.time = START
        self.seq = {True: 1000, False: 5000}  # next sequence number per sender

    def _packet(self, from_client: bool, flags: int, payload: bytes = b"") -> None:
        src, dst = (self.client, self.server) if from_client else (self.server, self.client)
        tcp = TCP(
            sport=src[1],
            dport=dst[1],
            seq=self.seq[from_client],
            ack=self.seq[not from_client] if flags & ACK else 0,
            flags=flags,
            window=65535,
        )
        pkt = Ether() / IP(src=src[0], dst=dst[0]) / tcp
        if payload:
            pkt = pkt / payload
        pkt.time = self.time
        self.packets.append(pkt)
        self.seq[from_client] = (self.seq[from_client] + len(payload)) & 0xFFFFFFFF
        if flags & (SYN | FIN):
            self.seq[from_client] = (self.seq[from_client] + 1) & 0xFFFFFFFF

    def wait(self, seconds: float) -> None:
        self.time += seconds

    def open(self) -> None:
        """SYN, SYN/ACK, ACK."""
        self._packet(True, SYN)
        self.wait(0.001)
        self._packet(False, SYN | ACK)
        self.wait(0.001)
        self._packet(True, ACK)

    def send(self, from_client: bool, data: bytes, split: Sequence[int] = ()) -> None:
        """*data* in one segment, or cut at the offsets in *split*."""
        cuts = [0, *split, len(data)]
        for a, b in itertools.pairwise(cuts):
            self.wait(0.001)
            self._packet(from_client, PSH | ACK, data[a:b])

    def skip(self, from_client: bool, size: int) -> None:
        """Lose *size* bytes: the sequence number moves on, no packet is written."""
        self.seq[from_client] = (self.seq[from_client] + size) & 0xFFFFFFFF

    def close(self) -> None:
        self.wait(0.001)
        self._packet(True, FIN | ACK)
        self._packet(False, FIN | ACK)
        self._packet(True, ACK)

    def write(self, path: Path) -> Path:
        wrpcap(str(path), self.packets)
        return path


def frames(
    opcode: int,
    payload: bytes,
    *,
    masked: bool,
    fragments: int = 1,
    rsv1: bool = False,
    interleave: bytes | None = None,
) -> bytes:
    """A message as *fragments* frames; *interleave* is put between the first two."""
    size = max(1, -(-len(payload) // fragments))
    parts = [payload[i : i + size] for i in range(0, len(payload), size)] or [b""]
    out = b""
    for i, part in enumerate(parts):
        out += ws.encode_frame(
            opcode if i == 0 else ws.CONTINUATION,
            part,
            fin=i == len(parts) - 1,
            rsv=ws.RSV1 if rsv1 and i == 0 else 0,
            key=MASK if masked else None,
        )
        if i == 0 and interleave is not None:
            out += interleave
    return out


class OcppCapture:
    """An OCPP-J conversation on a :class:`TcpCapture`."""

    def __init__(
        self,
        *,
        offered: Sequence[str] = ("ocpp2.1", "ocpp2.0.1"),
        chosen: str | None = "ocpp2.1",
        deflate: str | None = None,
        path: str = "/ocpp/CS001",
        authorization: str | None = None,
        status: str = "101 Switching Protocols",
        accept: str | None = None,
        handshake: bool = True,
        tls: bool = False,
    ) -> None:
        self.tcp = TcpCapture()
        self.tcp.open()
        self.deflaters: dict[bool, Deflater] = {}
        self.ids = 0
        if tls:
            self.tcp.send(True, bytes.fromhex("160301002c010000280303") + bytes(40))
            self.tcp.send(False, bytes.fromhex("160303003102000031") + bytes(49))
            return
        if not handshake:
            return
        request = [
            f"GET {path} HTTP/1.1",
            "Host: csms.example.com:9000",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {KEY}",
            "Sec-WebSocket-Version: 13",
        ]
        if offered:
            request.append(f"Sec-WebSocket-Protocol: {', '.join(offered)}")
        if deflate is not None:
            request.append("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
        if authorization is not None:
            request.append(f"Authorization: {authorization}")
        self.tcp.send(True, ("\r\n".join(request) + "\r\n\r\n").encode())
        response = [
            f"HTTP/1.1 {status}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Accept: {accept or accept_key(KEY)}",
        ]
        if chosen is not None:
            response.append(f"Sec-WebSocket-Protocol: {chosen}")
        if deflate is not None:
            response.append(f"Sec-WebSocket-Extensions: {deflate}")
            params = DeflateParams.from_params(parse_extensions(deflate)[0][1])
            self.deflaters = {side: params.deflater(from_client=side) for side in (True, False)}
        self.tcp.wait(0.01)
        self.tcp.send(False, ("\r\n".join(response) + "\r\n\r\n").encode())

    # ------------------------------------------------------------ messages

    def encode(
        self,
        from_station: bool,
        message: list[Any] | str | bytes,
        *,
        masked: bool | None = None,
        fragments: int = 1,
        interleave: bytes | None = None,
        compress: bool | None = None,
        opcode: int = ws.TEXT,
    ) -> bytes:
        """The frames of one message (compressed when deflate was negotiated)."""
        if isinstance(message, list):
            data = json.dumps(message, separators=(",", ":")).encode()
        elif isinstance(message, str):
            data = message.encode()
        else:
            data = message
        deflater = self.deflaters.get(from_station)
        compress = deflater is not None if compress is None else compress
        if compress and deflater is not None:
            data = deflater.deflate(data)
        return frames(
            opcode,
            data,
            masked=from_station if masked is None else masked,
            fragments=fragments,
            rsv1=bool(compress),
            interleave=interleave,
        )

    def send(
        self,
        from_station: bool,
        message: list[Any] | str | bytes,
        *,
        wait: float = 0.05,
        split: Sequence[int] = (),
        **options: Any,
    ) -> None:
        self.tcp.wait(wait)
        self.tcp.send(from_station, self.encode(from_station, message, **options), split)

    def raw(self, from_station: bool, data: bytes, *, wait: float = 0.05) -> None:
        self.tcp.wait(wait)
        self.tcp.send(from_station, data)

    def next_id(self) -> str:
        self.ids += 1
        return f"m{self.ids:04d}"

    def call(
        self,
        action: str,
        payload: dict[str, Any],
        answer: dict[str, Any] | None = None,
        *,
        from_station: bool = True,
        message_id: str | None = None,
        latency: float = 0.02,
        **options: Any,
    ) -> str:
        """A CALL and (unless *answer* is None) its CALLRESULT."""
        message_id = message_id or self.next_id()
        self.send(from_station, [2, message_id, action, payload], **options)
        if answer is not None:
            self.send(not from_station, [3, message_id, answer], wait=latency)
        return message_id

    def close(self, code: int = 1000) -> None:
        body = ws.close_payload(code, "bye")
        self.raw(True, ws.encode_frame(ws.CLOSE, body, key=MASK))
        self.raw(False, ws.encode_frame(ws.CLOSE, body))
        self.tcp.close()

    def write(self, path: Path) -> Path:
        return self.tcp.write(path)


# ---------------------------------------------------------------- OCPP 2.1 payloads

BOOT = {"chargingStation": {"model": "M1", "vendorName": "Vendor"}, "reason": "PowerUp"}
STATUS = {"timestamp": NOW, "connectorStatus": "Available", "evseId": 1, "connectorId": 1}


def boot_answer(status: str = "Accepted", interval: int = 300) -> dict[str, Any]:
    return {"currentTime": NOW, "interval": interval, "status": status}


def tx_event(event: str, seq: int, tx: str = "TX0001") -> dict[str, Any]:
    payload: dict[str, Any] = {
        "eventType": event,
        "timestamp": NOW,
        "triggerReason": {"Started": "Authorized", "Updated": "ChargingStateChanged"}.get(
            event, "StopAuthorized"
        ),
        "seqNo": seq,
        "transactionInfo": {"transactionId": tx},
    }
    if event == "Started":
        payload["evse"] = {"id": 1, "connectorId": 1}
        payload["idToken"] = TOKEN
    return payload


def register(s: OcppCapture, **options: Any) -> OcppCapture:
    """BootNotification Accepted and the connector's StatusNotification."""
    s.call("BootNotification", BOOT, boot_answer(), **options)
    s.call("StatusNotification", STATUS, {}, **options)
    return s


def registered(**options: Any) -> OcppCapture:
    """Upgrade, then :func:`register`."""
    return register(OcppCapture(**options))


def charge(s: OcppCapture, seqs: Sequence[int] = (0, 1, 2), **options: Any) -> None:
    """Heartbeat, Authorize and a transaction Started, Updated, Ended."""
    s.call("Heartbeat", {}, {"currentTime": NOW}, **options)
    s.call("Authorize", {"idToken": TOKEN}, {"idTokenInfo": {"status": "Accepted"}}, **options)
    for event, seq in zip(("Started", "Updated", "Ended"), seqs, strict=True):
        s.call("TransactionEvent", tx_event(event, seq), {}, **options)


def clean(**options: Any) -> OcppCapture:
    """The reference exchange: no finding expected (the connection is still open)."""
    s = registered(**options)
    charge(s)
    return s


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def websockets_pair(*, takeover: bool) -> tuple[ClientProtocol, ServerProtocol, bytes, bytes]:
    """A sans-I/O client and server of the ``websockets`` package after the upgrade."""
    client = ClientProtocol(
        parse_uri("ws://csms.example.com:9000/ocpp/CS001"),
        subprotocols=["ocpp2.1", "ocpp2.0.1"],
        extensions=[
            ClientPerMessageDeflateFactory(
                client_no_context_takeover=not takeover,
                server_no_context_takeover=not takeover,
                client_max_window_bits=True,
            )
        ],
    )
    server = ServerProtocol(subprotocols=["ocpp2.1"], extensions=[ServerPerMessageDeflateFactory()])
    client.send_request(client.connect())
    up = b"".join(client.data_to_send())
    server.receive_data(up)
    server.send_response(server.accept(server.events_received()[0]))
    down = b"".join(server.data_to_send())
    client.receive_data(down)
    return client, server, up, down
