"""``conformance analyze CAPTURE``: the analysis printed (table or ``--json``), optionally
written as Allure results; exit status 0 without VIOLATION findings, 1 with."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.analyze import analyze
from conformance.analyze.ports import parse_ports
from conformance.analyze.serial_log import PROTOCOLS
from conformance.errors import UsageError

PROG = "conformance analyze"


def run(
    capture: str,
    *,
    json_out: bool,
    allure: str | None,
    ports: str | None,
    protocol: str | None,
) -> int:
    """Analyse *capture*; UsageError (one line) for a missing or unreadable file, a
    bad ``--port`` or an unknown ``--protocol``.  ``--protocol`` applies to serial
    logs; in pcap / pcapng captures the ports say which protocol is which."""
    path = Path(capture)
    if not path.exists():
        raise UsageError(f"{PROG}: no such file: {capture}")
    if not path.is_file():
        raise UsageError(f"{PROG}: not a file: {capture}")
    if protocol is not None and protocol not in PROTOCOLS:
        raise UsageError(f"{PROG}: unknown protocol {protocol!r} (known: {', '.join(PROTOCOLS)})")
    try:
        port_map = parse_ports(ports)
        analysis = analyze(path, ports=port_map, protocol=protocol)
    except ValueError as exc:
        raise UsageError(f"{PROG}: {str(exc).splitlines()[0]}") from None
    except OSError as exc:
        raise UsageError(f"{PROG}: cannot read {capture}: {exc.strerror or exc}") from None
    if allure is not None:
        from conformance.analyze.allure import write_results

        try:
            write_results(analysis, Path(allure))
        except OSError as exc:
            raise UsageError(
                f"{PROG}: cannot write Allure results to {allure}: {exc.strerror or exc}"
            ) from None
    print(json.dumps(analysis.to_json(), indent=2) if json_out else analysis.render())
    return 1 if analysis.failing() else 0
