"""Captures the analysis tests build themselves: VISCA over IP, raw VISCA / Pelco over
TCP, written as pcap or pcapng with Scapy (frame numbers are list positions + 1)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import CookedLinux, CookedLinuxV2, Dot1Q, Ether, Loopback
from scapy.packet import Packet, Raw
from scapy.utils import PcapNgWriter, wrpcap

from dissectors import visca_ip as vip

CONTROLLER = "10.0.0.2"
CAMERA = "10.0.0.9"
CONTROLLER_PORT = 50000
VISCA_IP_PORT = vip.PORT
T0 = 1_700_000_000.0

# VISCA (AVer VISCA spec §3.1 / §3.2.1) messages used throughout
PT_UP = bytes.fromhex("8101060105050301FF")
PT_STOP = bytes.fromhex("8101060100000303FF")
POWER_INQ = bytes.fromhex("81090400FF")
POWER_ON_ANSWER = bytes.fromhex("905002FF")
ACK = bytes.fromhex("9041FF")
COMPLETION = bytes.fromhex("9051FF")
SYNTAX_ERROR = bytes.fromhex("906002FF")
NOT_EXECUTABLE = bytes.fromhex("906141FF")


def stamp(packets: Iterable[Packet], start: float = T0, step: float = 0.010) -> list[Packet]:
    """Give the packets capture times *step* apart (unless they have one)."""
    out = []
    for i, pkt in enumerate(packets):
        if not getattr(pkt, "_stamped", False):
            pkt.time = start + i * step
        out.append(pkt)
    return out


def at(pkt: Packet, time: float) -> Packet:
    pkt.time = time
    pkt._stamped = True  # type: ignore[attr-defined]
    return pkt


# ---------------------------------------------------------------- VISCA over IP


def udp(data: bytes, *, to_camera: bool, ipv6: bool = False, vlan: int | None = None) -> Packet:
    """One VISCA-over-IP datagram between the controller and the camera on Ethernet."""
    ports = (CONTROLLER_PORT, VISCA_IP_PORT) if to_camera else (VISCA_IP_PORT, CONTROLLER_PORT)
    if ipv6:
        hosts = ("fd00::2", "fd00::9") if to_camera else ("fd00::9", "fd00::2")
        net: Packet = IPv6(src=hosts[0], dst=hosts[1])
    else:
        hosts = (CONTROLLER, CAMERA) if to_camera else (CAMERA, CONTROLLER)
        net = IP(src=hosts[0], dst=hosts[1])
    l2: Packet = Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:09")
    if vlan is not None:
        l2 = l2 / Dot1Q(vlan=vlan)
    return l2 / net / UDP(sport=ports[0], dport=ports[1]) / Raw(data)


def request(payload: bytes, seq: int, ptype: int | None = None, **kw: object) -> Packet:
    return udp(vip.wrap(payload, seq, ptype), to_camera=True, **kw)  # type: ignore[arg-type]


def reply(payload: bytes, seq: int, ptype: int = vip.REPLY, **kw: object) -> Packet:
    return udp(vip.wrap(payload, seq, ptype), to_camera=False, **kw)  # type: ignore[arg-type]


def clean_visca_ip(**kw: object) -> list[Packet]:
    """RESET, a command with ACK and Completion, an inquiry and its answer, a second
    command: no findings."""
    return stamp(
        [
            request(vip.RESET, 0, vip.CONTROL, **kw),  # 1
            reply(vip.CONTROL_ACK, 0, vip.CONTROL_REPLY, **kw),  # 2
            request(PT_UP, 1, **kw),  # 3
            reply(ACK, 1, **kw),  # 4
            reply(COMPLETION, 1, **kw),  # 5
            request(POWER_INQ, 2, **kw),  # 6
            reply(POWER_ON_ANSWER, 2, **kw),  # 7
            request(PT_STOP, 3, **kw),  # 8
            reply(ACK, 3, **kw),  # 9
            reply(COMPLETION, 3, **kw),  # 10
        ]
    )


def exchange(payload: bytes, seq: int, *answers: bytes) -> list[Packet]:
    """A request and its replies (unstamped)."""
    return [request(payload, seq), *(reply(a, seq) for a in answers)]


# ---------------------------------------------------------------- TCP


class TcpConnection:
    """Builds the segments of one TCP connection, client -> server, with real sequence numbers."""

    def __init__(
        self,
        server_port: int,
        *,
        client: str = CONTROLLER,
        server: str = CAMERA,
        client_port: int = 40000,
        isn: tuple[int, int] = (1000, 5000),
    ) -> None:
        self.client, self.server = client, server
        self.cport, self.sport = client_port, server_port
        self.seq = {True: isn[0], False: isn[1]}

    def _pkt(self, from_client: bool, flags: str, payload: bytes, seq: int) -> Packet:
        src, dst = (self.client, self.server) if from_client else (self.server, self.client)
        sport, dport = (self.cport, self.sport) if from_client else (self.sport, self.cport)
        ack = self.seq[not from_client]
        pkt = (
            Ether()
            / IP(src=src, dst=dst)
            / TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags)
        )
        return pkt / Raw(payload) if payload else pkt

    def handshake(self) -> list[Packet]:
        out = [self._pkt(True, "S", b"", self.seq[True])]
        self.seq[True] += 1
        out.append(self._pkt(False, "SA", b"", self.seq[False]))
        self.seq[False] += 1
        out.append(self._pkt(True, "A", b"", self.seq[True]))
        return out

    def refused(self) -> list[Packet]:
        """A connection attempt the server refuses: SYN, then RST/ACK."""
        syn = self._pkt(True, "S", b"", self.seq[True])
        self.seq[True] += 1
        return [syn, self._pkt(False, "RA", b"", 0)]

    def send(self, from_client: bool, payload: bytes) -> Packet:
        pkt = self._pkt(from_client, "PA", payload, self.seq[from_client])
        self.seq[from_client] = (self.seq[from_client] + len(payload)) & 0xFFFFFFFF
        return pkt

    def skip(self, from_client: bool, count: int) -> None:
        """Bytes sent but not captured."""
        self.seq[from_client] += count

    def close(self) -> list[Packet]:
        out = [self._pkt(True, "FA", b"", self.seq[True])]
        self.seq[True] += 1
        out.append(self._pkt(False, "FA", b"", self.seq[False]))
        self.seq[False] += 1
        out.append(self._pkt(True, "A", b"", self.seq[True]))
        return out


# ---------------------------------------------------------------- writing


def write(path: Path, packets: list[Packet], *, pcapng: bool = False, snaplen: int = 0) -> Path:
    """*packets* as a pcap (or pcapng) file at *path*; *snaplen* cuts every packet."""
    packets = stamp(packets)
    if snaplen:
        cut = []
        for pkt in packets:
            raw = bytes(pkt)
            short = Ether(raw[:snaplen])
            short.time = pkt.time
            short.wirelen = len(raw)
            cut.append(short)
        wrpcap(str(path), cut)
        return path
    if pcapng:
        with PcapNgWriter(str(path)) as writer:
            for pkt in packets:
                writer.write(pkt)
        return path
    wrpcap(str(path), packets)
    return path


def relink(packets: list[Packet], link: str) -> list[Packet]:
    """The same IP packets on another link type: "sll" (Linux cooked, as on an "any"
    capture), "sll2", "raw" (bare IP) or "null" (BSD loopback)."""
    out = []
    for pkt in stamp(packets):
        ip = pkt.getlayer(IP) or pkt.getlayer(IPv6)
        v6 = isinstance(ip, IPv6)
        proto = 0x86DD if v6 else 0x0800
        if link == "sll":
            new = CookedLinux(pkttype=0, lladdrtype=1, lladdrlen=6, src=b"\x02" * 8, proto=proto)
        elif link == "sll2":
            new = CookedLinuxV2(proto=proto, ifindex=2, lladdrtype=1, lladdrlen=6, src=b"\x02" * 8)
        elif link == "null":
            new = Loopback(type=24 if v6 else 2)
        else:
            new = None
        new = ip if new is None else new / ip
        new.time = pkt.time
        out.append(new)
    return out
