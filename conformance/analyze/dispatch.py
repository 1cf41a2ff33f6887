"""A capture file, packet by packet, to the analyser of each protocol by port.

UDP on the ``visca-ip`` ports goes to :class:`ViscaIpAnalyser`; TCP on the
``visca-tcp``, ``pelco-d-tcp``, ``pelco-p-tcp`` and ``ocpp`` ports goes through
:class:`Reassembler` to a stream handler per connection.  Everything else is
counted as "other packets".  Text files go to :mod:`conformance.analyze.serial_log`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path

from conformance.analyze import link, source
from conformance.analyze.model import CAPTURE, NOTE, Analysis, Conversation, Finding
from conformance.analyze.pelco_stream import PelcoStream
from conformance.analyze.ports import TRANSPORTS, by_transport, parse_ports
from conformance.analyze.serial_log import analyze_log
from conformance.analyze.tcp import Reassembler, StreamFactory, StreamHandler
from conformance.analyze.visca_ip import ViscaIpAnalyser
from conformance.analyze.visca_stream import ViscaStream

OCPP_MODULE = "conformance.analyze.ocpp"


class _Unavailable:
    """Stands in for an analyser that cannot be loaded: one NOTE, bytes ignored."""

    def __init__(self, analysis: Analysis, conversation: Conversation, why: str) -> None:
        analysis.add(
            Finding(
                NOTE,
                f"{conversation.protocol}.unavailable",
                "-",
                f"{conversation.protocol.upper()} analysis not available ({why})",
                conversation.key,
                party="",  # the analysis itself, not a side of the conversation
            ),
            once=True,
        )

    def data(self, from_client: bool, payload: bytes, frame: int, time: float) -> None:
        pass

    def gap(self, from_client: bool, missing: int, frame: int, time: float) -> None:
        pass

    def close(self, time: float | None) -> None:
        pass


def _ocpp_factory() -> StreamFactory:
    """``conformance.analyze.ocpp.stream_factory``, imported at the first OCPP connection
    (not before: most captures have none); a stand-in if it cannot be imported."""
    resolved: list[StreamFactory] = []

    def factory(analysis: Analysis, conversation: Conversation) -> StreamHandler:
        if not resolved:
            try:
                resolved.append(importlib.import_module(OCPP_MODULE).stream_factory)
            except (ImportError, AttributeError) as exc:
                why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                resolved.append(lambda a, c: _Unavailable(a, c, why))
        return resolved[0](analysis, conversation)

    return factory


def _factories(tcp_ports: Mapping[int, str]) -> dict[int, tuple[str, StreamFactory]]:
    made: dict[str, StreamFactory] = {}
    for name in set(tcp_ports.values()):
        if name == "visca-tcp":
            made[name] = lambda a, c: ViscaStream(a, c)
        elif name in ("pelco-d-tcp", "pelco-p-tcp"):
            variant = name.removesuffix("-tcp")
            made[name] = lambda a, c, v=variant: PelcoStream(a, c, v)  # type: ignore[misc]
        elif name == "ocpp":
            made[name] = _ocpp_factory()
    return {port: (name, made[name]) for port, name in tcp_ports.items()}


def check_ports(ports: Mapping[str, list[int]] | None) -> dict[str, list[int]]:
    """*ports* (None: the defaults) checked: known protocols, ports 1..65535."""
    if ports is None:
        return parse_ports(None)
    out: dict[str, list[int]] = {}
    for name, numbers in ports.items():
        if name not in TRANSPORTS:
            raise ValueError(f"unknown protocol {name!r} (known: {', '.join(TRANSPORTS)})")
        for port in numbers:
            if not 1 <= int(port) <= 65535:
                raise ValueError(f"bad port {port} for {name}: expected 1..65535")
        out[name] = [int(p) for p in numbers]
    return out


def analyze_path(
    path: Path, *, ports: Mapping[str, list[int]] | None = None, protocol: str | None = None
) -> Analysis:
    """See :func:`conformance.analyze.analyze`."""
    kind = source.sniff(path)
    if kind == "log":
        return analyze_log(path, protocol)
    chosen = check_ports(ports)
    analysis = Analysis(str(path), format=kind)
    udp_ports = frozenset(by_transport(chosen, "udp"))
    tcp_ports = by_transport(chosen, "tcp")
    visca_ip = ViscaIpAnalyser(analysis, udp_ports)
    reassembler = Reassembler(analysis, _factories(tcp_ports))
    capture = _CaptureNotes(analysis)
    other = frame = 0
    parse, udp, transport, known_links = link.parse, link.UDP, link.Transport, link.LINK_TYPES
    datagram, segment = visca_ip.datagram, reassembler.segment
    for frame, ts, linktype, data, _, caplen in source.records(path):
        if caplen > len(data):
            capture.file_cut(frame, ts, len(data), caplen)
        t = parse(linktype, data)
        if type(t) is not transport:
            other += 1
            if t is not None:
                capture.fragment(frame, ts)
            elif linktype not in known_links:
                capture.link_type(frame, ts, linktype)
            continue
        assert isinstance(t, link.Transport)
        if t.protocol == udp:
            if t.dport in udp_ports or t.sport in udp_ports:
                datagram(frame, ts, t.src, t.sport, t.dst, t.dport, t.payload, t.truncated)
            else:
                other += 1
        elif t.dport in tcp_ports or t.sport in tcp_ports:
            segment(frame, ts, t.src, t.sport, t.dst, t.dport, t.seq, t.flags, t.payload,
                    t.truncated, t.ack)  # fmt: skip
        else:
            other += 1
    analysis.packets = frame
    reassembler.finish()
    visca_ip.finish()
    analysis.other_packets = other
    capture.finish()
    return analysis


class _CaptureNotes:
    """Findings about the capture itself, one per kind, with a count."""

    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self._counts: dict[str, tuple[Finding, int, str]] = {}

    def _bump(self, key: str, frame: int, time: float, check: str, text: str) -> None:
        seen = self._counts.get(key)
        if seen is None:
            finding = Finding(
                CAPTURE, check, "pcap/pcapng file format", text, "", frame, time, party=""
            )
            self.analysis.add(finding)
            self._counts[key] = (finding, 1, text)
        else:
            self._counts[key] = (seen[0], seen[1] + 1, text)

    def file_cut(self, frame: int, time: float, got: int, caplen: int) -> None:
        self._bump(
            "cut",
            frame,
            time,
            "capture.file-cut",
            f"the capture file ends inside packet {frame} ({got} of {caplen} bytes)",
        )

    def link_type(self, frame: int, time: float, linktype: int) -> None:
        self._bump(
            f"link{linktype}",
            frame,
            time,
            "capture.link-type",
            f"link type {linktype} is not supported; its packets are counted as other",
        )

    def fragment(self, frame: int, time: float) -> None:
        self._bump(
            "fragment",
            frame,
            time,
            "capture.ip-fragment",
            "IP fragments are not reassembled; they are counted as other packets",
        )

    def finish(self) -> None:
        for finding, count, text in self._counts.values():
            if count > 1:
                finding.summary = f"{text} ({count} packets)"
