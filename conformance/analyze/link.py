"""From a captured frame to the UDP datagram or TCP segment inside it, with ``struct`` only.

Link types (tcpdump.org LINKTYPE_* values): NULL (0) and LOOP (108) loopback,
Ethernet (1) with 802.1Q / 802.1ad VLAN tags, raw IP (101, 12, 14, 228, 229),
Linux cooked SLL (113) and SLL2 (276).  IPv4 (RFC 791) and IPv6 (RFC 8200,
extension headers skipped); UDP (RFC 768) and TCP (RFC 9293).  The IP length
fields, not the captured length, bound the payload, so Ethernet padding never
leaks into it and a snaplen cut shows as ``truncated`` bytes.
"""

from __future__ import annotations

import socket
import struct
from typing import NamedTuple

UDP = 17
TCP = 6

ETHERNET = 1
NULL = 0
LOOP = 108
RAW = 101
RAW_ALIASES = (12, 14)
IPV4 = 228
IPV6 = 229
SLL = 113
SLL2 = 276
LINK_TYPES: dict[int, str] = {
    NULL: "loopback (NULL)",
    ETHERNET: "Ethernet",
    LOOP: "loopback (LOOP)",
    RAW: "raw IP",
    12: "raw IP",
    14: "raw IP",
    IPV4: "raw IPv4",
    IPV6: "raw IPv6",
    SLL: "Linux cooked (SLL)",
    SLL2: "Linux cooked (SLL2)",
}

_ETH_IPV4 = 0x0800
_ETH_IPV6 = 0x86DD
_VLAN_TAGS = (0x8100, 0x88A8, 0x9100)
_IPV6_EXTENSIONS = (0, 43, 60)  # hop-by-hop, routing, destination options
_IPV6_FRAGMENT = 44
_BSD_AF_INET6 = (10, 24, 28, 30)  # AF_INET6 on Linux, BSDs, macOS

_H = struct.Struct("!H")
_IPV4 = struct.Struct("!BBHHHBBH4s4s")
_IPV6 = struct.Struct("!IHBB16s16s")
_PORTS = struct.Struct("!HHH")
_ETHERNET_IPV4 = struct.Struct("!14xB1xH2xH1xB2x4s4s")
_TCP = struct.Struct("!HHIIBB")


class Transport(NamedTuple):
    """One UDP datagram or TCP segment (addresses as text)."""

    protocol: int  # UDP or TCP
    src: str
    dst: str
    sport: int
    dport: int
    seq: int  # TCP only
    flags: int  # TCP only
    ack: int  # TCP only (meaningful with the ACK flag)
    payload: bytes
    truncated: int  # payload bytes the capture cut off


class Fragment(NamedTuple):
    """An IP fragment: not reassembled, only reported."""

    src: str
    dst: str


#: addresses already turned into text (bounded: cleared when full)
_NAMES: dict[bytes, str] = {}
_MAX_NAMES = 1 << 16


def _name(raw: bytes) -> str:
    name = _NAMES.get(raw)
    if name is None:
        if len(_NAMES) >= _MAX_NAMES:
            _NAMES.clear()
        family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
        name = _NAMES[raw] = socket.inet_ntop(family, raw)
    return name


def parse(linktype: int, data: bytes) -> Transport | Fragment | None:
    """The UDP/TCP content of one frame, a Fragment, or None (anything else)."""
    if linktype == ETHERNET and data[12:14] == b"\x08\x00" and len(data) >= 42:
        # the common case inline: Ethernet, IPv4 without options, unfragmented UDP
        vihl, total, frag, proto, src, dst = _ETHERNET_IPV4.unpack_from(data)
        if vihl == 0x45 and proto == UDP and not frag & 0x3FFF:
            sport, dport, length = _PORTS.unpack_from(data, 34)
            end = 14 + total
            if 8 <= length < total - 19:
                end = 34 + length
            captured = len(data)
            names = _NAMES
            return Transport(
                UDP,
                names.get(src) or _name(src),
                names.get(dst) or _name(dst),
                sport,
                dport,
                0,
                0,
                0,
                data[42:end],
                end - captured if end > captured else 0,
            )
        return _ipv4(data, 14)
    offset = _network_offset(linktype, data)
    if offset is None or len(data) <= offset:
        return None
    version = data[offset] >> 4
    if version == 4:
        return _ipv4(data, offset)
    if version == 6:
        return _ipv6(data, offset)
    return None


def _network_offset(linktype: int, data: bytes) -> int | None:
    """Where the IP header starts, or None for a non-IP frame."""
    if linktype == ETHERNET:
        offset = 12
        while len(data) >= offset + 2:
            (ethertype,) = _H.unpack_from(data, offset)
            if ethertype in _VLAN_TAGS:
                offset += 4
                continue
            return offset + 2 if ethertype in (_ETH_IPV4, _ETH_IPV6) else None
        return None
    if linktype in (RAW, IPV4, IPV6, *RAW_ALIASES):
        return 0
    if linktype in (NULL, LOOP):
        if len(data) < 4:
            return None
        family = int.from_bytes(data[:4], "big" if linktype == LOOP else "little")
        if family > 0xFFFF:  # NULL is host byte order: written on the other endianness
            family = int.from_bytes(data[:4], "big")
        return 4 if family == socket.AF_INET or family in _BSD_AF_INET6 else None
    if linktype == SLL:
        if len(data) < 16:
            return None
        return 16 if _H.unpack_from(data, 14)[0] in (_ETH_IPV4, _ETH_IPV6) else None
    if linktype == SLL2:
        if len(data) < 20:
            return None
        return 20 if _H.unpack_from(data, 0)[0] in (_ETH_IPV4, _ETH_IPV6) else None
    return None


def _ipv4(data: bytes, offset: int) -> Transport | Fragment | None:
    if len(data) < offset + 20:
        return None
    vihl, _, total, _, frag, _, proto, _, src, dst = _IPV4.unpack_from(data, offset)
    if proto not in (UDP, TCP):
        return None
    if frag & 0x3FFF:  # more fragments, or a fragment offset
        return Fragment(_name(src), _name(dst))
    return _transport(proto, data, offset + (vihl & 0x0F) * 4, offset + total, src, dst)


def _ipv6(data: bytes, offset: int) -> Transport | Fragment | None:
    if len(data) < offset + 40:
        return None
    _, length, nxt, _, src, dst = _IPV6.unpack_from(data, offset)
    start = offset + 40
    end = start + length
    for _ in range(8):  # a bounded walk over extension headers
        if nxt in _IPV6_EXTENSIONS and len(data) >= start + 2:
            nxt, start = data[start], start + (data[start + 1] + 1) * 8
        elif nxt == _IPV6_FRAGMENT:
            return Fragment(_name(src), _name(dst))
        else:
            break
    if nxt not in (UDP, TCP):
        return None
    return _transport(nxt, data, start, end, src, dst)


def _transport(
    proto: int, data: bytes, start: int, end: int, src: bytes, dst: bytes
) -> Transport | None:
    captured = min(len(data), end)
    if proto == UDP:
        if captured < start + 8:
            return None
        sport, dport, length = _PORTS.unpack_from(data, start)
        end = min(end, start + length) if length >= 8 else end
        body = start + 8
        seq = flags = ack = 0
    else:
        if captured < start + 14:
            return None
        sport, dport, seq, ack, off, flags = _TCP.unpack_from(data, start)
        body = start + (off >> 4) * 4
        if captured < body:
            return None
    payload = data[body : min(end, len(data))]
    truncated = max(0, end - max(len(data), body))
    return Transport(
        proto,
        _name(src),
        _name(dst),
        sport,
        dport,
        seq,
        flags,
        ack,
        payload,
        truncated,
    )
