"""What kind of file a capture is, and its packets one at a time.

Uncompressed classic pcap is read in 1 MiB chunks with ``struct``; pcapng and
gzip-compressed captures of either kind with Scapy's ``RawPcapReader`` (which
opens both formats).  Only the raw bytes and the record header are used, never
a dissected Scapy packet, and nothing is kept between packets.
"""

from __future__ import annotations

import contextlib
import logging
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from scapy.error import Scapy_Exception
from scapy.utils import RawPcapReader

PCAP_MAGICS = (b"\xa1\xb2\xc3\xd4", b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\x3c\x4d", b"\x4d\x3c\xb2\xa1")
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
GZIP_MAGIC = b"\x1f\x8b"
#: bytes of a text log looked at to decide that it is text
TEXT_PROBE = 65536


#: one packet record: (frame, time, linktype, data, wirelen, caplen) where frame is
#: 1-based as Wireshark numbers packets, time is in epoch seconds, wirelen the
#: length on the wire and caplen the length the record header claims was captured
#: (more than ``len(data)`` when the file ends inside the packet)
Record = tuple[int, float, int, bytes, int, int]

#: a record header claiming more than this is corruption, not a packet
MAX_CAPLEN = 1 << 24
_CHUNK = 1 << 20


def sniff(path: Path) -> str:
    """ "pcap", "pcapng" or "log"; ValueError for a file that is none of them."""
    try:
        with path.open("rb") as f:
            head = f.read(TEXT_PROBE)
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    if head[:4] in PCAP_MAGICS:
        return "pcap"
    if head[:4] == PCAPNG_MAGIC:
        return "pcapng"
    if head[:2] == GZIP_MAGIC:
        return "pcap"  # RawPcapReader opens compressed captures of either kind
    if not head.strip():
        raise ValueError(f"{path} is empty: not a pcap/pcapng capture or a serial log")
    text = head.decode("utf-8", errors="replace")
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    if b"\x00" in head or printable < 0.95 * len(text):
        raise ValueError(
            f"{path} is neither a pcap/pcapng capture nor a text log (hex dump or byte log)"
        )
    return "log"


@contextlib.contextmanager
def _quiet_scapy() -> Iterator[None]:
    """Scapy logs a warning for a cut-short file; the analysis reports it instead."""
    logger = logging.getLogger("scapy")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def records(path: Path) -> Iterator[Record]:
    """Every packet record of the capture at *path*, in file order.

    Uncompressed classic pcap is read in large chunks with ``struct`` (the fast
    path); pcapng and compressed files through Scapy's ``RawPcapReader``.
    """
    with path.open("rb") as f:
        magic = f.read(4)
        if magic in PCAP_MAGICS:
            yield from _pcap(f, magic)
            return
    yield from _scapy(path)


def _pcap(f: BinaryIO, magic: bytes) -> Iterator[Record]:
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    scale = 1e-9 if magic in (b"\xa1\xb2\x3c\x4d", b"\x4d\x3c\xb2\xa1") else 1e-6
    header = f.read(20)
    if len(header) < 20:
        raise ValueError(f"{f.name}: pcap file header cut short")
    linktype = struct.unpack(endian + "HHiIII", header)[5] & 0x0FFFFFFF
    record = struct.Struct(endian + "IIII")
    buf, pos, frame = b"", 0, 0
    while True:
        if len(buf) - pos < 16:
            buf, pos = buf[pos:] + f.read(_CHUNK), 0
            if len(buf) < 16:
                return
        sec, frac, caplen, wirelen = record.unpack_from(buf, pos)
        start, end = pos + 16, pos + 16 + caplen
        if end > len(buf):
            if caplen > MAX_CAPLEN:
                yield frame + 1, sec + frac * scale, linktype, b"", wirelen, caplen
                return
            buf, pos = buf[pos:] + f.read(max(_CHUNK, caplen + 16)), 0
            start, end = 16, 16 + caplen
        frame += 1
        if end > len(buf):  # the file ends inside this packet
            yield frame, sec + frac * scale, linktype, buf[start:], wirelen, caplen
            return
        yield frame, sec + frac * scale, linktype, buf[start:end], wirelen, caplen
        pos = end


def _scapy(path: Path) -> Iterator[Record]:
    with _quiet_scapy():
        try:
            reader = RawPcapReader(str(path))
        except (Scapy_Exception, OSError, EOFError) as exc:
            raise ValueError(f"{path}: not a readable pcap/pcapng capture ({exc})") from None
        try:
            read = reader._read_packet
            frame = 0
            pcapng = hasattr(reader, "interfaces")  # per-interface link type and resolution
            scale = 1e-9 if getattr(reader, "nano", False) else 1e-6
            while True:
                try:
                    data, meta = read()
                except EOFError:
                    return
                frame += 1
                if pcapng:
                    ts = ((meta.tshigh << 32) | meta.tslow) / meta.tsresol
                    yield frame, ts, meta.linktype, data, meta.wirelen, len(data)
                else:
                    ts = meta.sec + meta.usec * scale
                    yield frame, ts, reader.linktype, data, meta.wirelen, meta.caplen
        finally:
            reader.close()
