"""Which port carries which protocol in a capture (``--port visca-ip=52381,ocpp=9000``).

Defaults: VISCA over IP on UDP 52381 (AVer VISCA spec §3.2.4), raw VISCA on TCP
5678, OCPP-J on TCP 9000.  Pelco over TCP has no standard port.
"""

from __future__ import annotations

DEFAULT_PORTS: dict[str, int] = {"visca-ip": 52381, "visca-tcp": 5678, "ocpp": 9000}

#: every protocol ``--port`` accepts, with the transport it runs on
TRANSPORTS: dict[str, str] = {
    "visca-ip": "udp",
    "visca-tcp": "tcp",
    "pelco-d-tcp": "tcp",
    "pelco-p-tcp": "tcp",
    "ocpp": "tcp",
}


def parse_ports(text: str | None) -> dict[str, list[int]]:
    """``"visca-ip=1259,ocpp=80"`` -> ``{"visca-ip": [52381, 1259], "visca-tcp": [5678],
    "pelco-d-tcp": [], "pelco-p-tcp": [], "ocpp": [9000, 80]}``.

    The ports given are added to the defaults; a default port that *text* gives
    to another protocol on the same transport goes to that protocol instead.
    Raises ValueError with a one-line message for bad input.
    """
    given: dict[str, list[int]] = {}
    owner: dict[tuple[str, int], str] = {}
    for entry in (text or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        name, sep, value = entry.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise ValueError(f"bad --port entry {entry!r}: expected PROTOCOL=PORT")
        if name not in TRANSPORTS:
            raise ValueError(
                f"unknown protocol {name!r} in --port (known: {', '.join(TRANSPORTS)})"
            )
        if not value.isdigit() or not 1 <= int(value) <= 65535:
            raise ValueError(f"bad port {value!r} for {name} in --port: expected 1..65535")
        slot = (TRANSPORTS[name], int(value))
        if owner.setdefault(slot, name) != name:
            raise ValueError(
                f"--port gives {slot[0]} port {slot[1]} to both {owner[slot]} and {name}"
            )
        ports = given.setdefault(name, [])
        if int(value) not in ports:
            ports.append(int(value))
    result: dict[str, list[int]] = {}
    for name, transport in TRANSPORTS.items():
        default = DEFAULT_PORTS.get(name)
        keep = default is not None and owner.get((transport, default), name) == name
        ports = [default] if keep and default is not None else []
        result[name] = ports + [p for p in given.get(name, []) if p not in ports]
    return result


def by_transport(ports: dict[str, list[int]], transport: str) -> dict[int, str]:
    """{port: protocol} for the protocols of *ports* that run on *transport*."""
    out: dict[int, str] = {}
    for name, numbers in ports.items():
        if TRANSPORTS.get(name) != transport:
            continue
        for port in numbers:
            out.setdefault(port, name)
    return out
