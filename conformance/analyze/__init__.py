"""``conformance analyze``: protocol checks on recorded traffic.

Captures (pcap / pcapng) and serial logs are read as a stream; VISCA over IP,
raw VISCA and Pelco over TCP or serial, and OCPP-J conversations are checked
against the same specs as live runs.  See :mod:`conformance.analyze.model` for
what an analysis holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from conformance.analyze.model import Analysis


def analyze(
    path: Path, *, ports: Mapping[str, list[int]] | None = None, protocol: str | None = None
) -> Analysis:
    """Analyse the capture or serial log at *path*.

    pcap / pcapng are recognised by their magic number and read packet by
    packet; anything else is read as a serial log (hex dump or timestamped byte
    log), its protocol given by *protocol* ("visca", "pelco-d", "pelco-p") or
    guessed.  *ports* maps protocol names to ports (see
    :func:`conformance.analyze.ports.parse_ports`; None: the defaults).  Raises
    ValueError for a file that is neither a capture nor a readable log, or for
    bad *ports* / *protocol*.
    """
    from conformance.analyze.dispatch import analyze_path

    return analyze_path(Path(path), ports=ports, protocol=protocol)
