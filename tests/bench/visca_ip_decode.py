"""VISCA-over-IP frames decoded per second: our Scapy layers and ``visca_ip.decode``
against plain Scapy UDP parsing of the same frames (the baseline), in the same run.

The frames are a realistic mix built from the §3.2.1 table (AVer VISCA spec rev
3.4) and wrapped per §3.2.4: every command with its ACK and Completion, every
inquiry with its specific reply (or a generic ACK), parameters drawn from each
row's allowed values.  The baseline parses UDP datagrams whose ports are not
52381, so Scapy stops at ``Raw``; ours parses the same datagrams to and from port
52381, so ``VISCA_IP`` / ``VISCA`` / the row's message class dissect the payload.
"""

from __future__ import annotations

import random
import struct
import time
from collections.abc import Callable, Iterator

from scapy.layers.inet import UDP
from scapy.packet import Raw

from dissectors import visca, visca_ip
from dissectors import visca_table as table
from dissectors.visca_ip import VISCA_IP

FRAMES = 20_000
CONTROLLER_PORT = 50_000  # ephemeral port of the controller
OTHER_PORT = 50_001  # stands in for 52381 in the baseline: nothing is bound to it


def _params(rng: random.Random, row: table.Row, letters: tuple[str, ...]) -> dict[str, int]:
    return {letter: rng.choice(row.values(letter)) for letter in letters}


def _framed(message: bytes) -> bool:
    """§3.1: FF only as the terminator."""
    return table.TERMINATOR not in message[:-1]


def _exchange(rng: random.Random, row: table.Row, camera: int) -> list[tuple[int, bytes]]:
    """(payload type, VISCA message) of a request and the camera's replies."""
    while True:
        request = visca.build(row.name, camera, **_params(rng, row, row.packet.letters))
        if row.reply is not None and row.kind != "broadcast":
            reply = visca.build_reply(row, camera, **_params(rng, row, row.reply.letters))
        else:
            reply = b""
        if _framed(request) and _framed(reply or b"\xff"):
            break
    if row.kind == "inquiry":
        return [(visca_ip.INQUIRY, request), (visca_ip.REPLY, reply)]
    socket = rng.randint(1, 2)
    ack = visca.build("ACK", camera, socket=socket)
    done = reply or visca.build("Completion", camera, socket=socket)
    return [(visca_ip.COMMAND, request), (visca_ip.REPLY, ack), (visca_ip.REPLY, done)]


def frames(count: int = FRAMES, seed: int = 0) -> list[tuple[bool, bytes]]:
    """*count* (to the camera?, VISCA-over-IP payload) pairs: whole exchanges, in order."""
    rng = random.Random(seed)
    rows = [row for row in table.COMMANDS if row.kind != "broadcast"]
    out: list[tuple[bool, bytes]] = []
    sequence = 0
    while len(out) < count:
        rng.shuffle(rows)
        for row in rows:
            camera = rng.randint(1, 7)
            for payload_type, message in _exchange(rng, row, camera):
                to_camera = payload_type != visca_ip.REPLY
                out.append((to_camera, visca_ip.wrap(message, sequence, payload_type)))
            sequence += 1
    return out[:count]


def _udp(payload: bytes, to_camera: bool, camera_port: int) -> bytes:
    """A UDP datagram (checksum 0: not computed) between the controller and *camera_port*."""
    ports = (CONTROLLER_PORT, camera_port) if to_camera else (camera_port, CONTROLLER_PORT)
    return struct.pack("!HHHH", *ports, 8 + len(payload), 0) + payload


def _rate(fn: Callable[[bytes], object], items: list[bytes]) -> float:
    start = time.perf_counter()
    for item in items:
        fn(item)
    return len(items) / (time.perf_counter() - start)


def _layers(pkt: UDP) -> Iterator[type]:
    layer = pkt.payload
    while layer:
        yield type(layer)
        layer = layer.payload


def run() -> list[tuple[str, float, float]]:
    mix = frames()
    payloads = [payload for _, payload in mix]
    plain = [_udp(payload, to_camera, OTHER_PORT) for to_camera, payload in mix]
    ours = [_udp(payload, to_camera, visca_ip.PORT) for to_camera, payload in mix]
    # The two sides must do what they claim: Raw only, against the whole stack.
    assert all(list(_layers(UDP(d))) == [Raw] for d in plain[:50])
    assert all(VISCA_IP in UDP(d) and Raw not in UDP(d) for d in ours[:50])
    assert all(visca_ip.decode(p).valid for p in payloads[:500])

    baseline = _rate(UDP, plain)
    dissected = _rate(UDP, ours)
    decoded = _rate(visca_ip.decode, payloads)
    return [
        ("VISCA-IP frames/s: UDP()+VISCA layers", baseline, dissected),
        ("VISCA-IP frames/s: visca_ip.decode()", baseline, decoded),
    ]
