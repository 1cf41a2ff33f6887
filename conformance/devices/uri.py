"""``--device`` URI grammar.

::

    emu                                   every built-in emulator
    emu:NAME[?model=M&fault=F,...&speed=N]
    visca+serial:///dev/ttyUSB0?baud=9600&address=1     (or any pyserial URL:
    visca+serial://socket://HOST:PORT, rfc2217://..., loop://)
    visca+tcp://HOST:PORT?address=1
    visca-ip://HOST[:52381]?address=1
    pelco-d+serial://...   pelco-d+tcp://HOST:PORT?address=1
    pelco-p+serial://...   pelco-p+tcp://HOST:PORT?address=0
    at+serial:///dev/ttyUSB0?baud=9600&module=bc26     at+tcp://HOST:PORT?module=bc26
    ocpp+listen://HOST:PORT?id=CS001&version=2.1[&control=URL][&profile=1..3&password=P]
                [&cert=PEM&key=PEM&ca=PEM]     (security profiles, OCPP 2.1 Part 2 A00)

Every error is a :class:`~conformance.errors.DeviceURIError` with one line
naming the problem.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from conformance.errors import DeviceURIError

VISCA_IP_PORT = 52381

#: protocol -> links it can run over
LINKS: dict[str, tuple[str, ...]] = {
    "visca": ("serial", "tcp"),
    "visca-ip": ("udp",),
    "pelco-d": ("serial", "tcp"),
    "pelco-p": ("serial", "tcp"),
    "at": ("serial", "tcp"),
    "ocpp": ("listen",),
}

#: emulator device name -> protocol it speaks
EMULATED: dict[str, str] = {
    "visca": "visca",
    "visca-ip": "visca-ip",
    "pelco-d": "pelco-d",
    "pelco-p": "pelco-p",
    "bc26": "at",
    "ocpp": "ocpp",
}

SERIAL_BAUDS = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
OCPP_VERSIONS = ("2.1", "2.0.1")
AT_MODULES = ("bc26",)
SECRET_PARAMS = frozenset({"password", "key_password", "token", "auth"})

_COMMON = frozenset({"model", "timeout"})
_CAMERA = frozenset({"address", "chain", "motion_timeout"})
#: AT modules: the IoT platform the module is pointed at (server=HOST:PORT,
#: endpoint=NAME) for the suites' registration steps
_AT = frozenset({"baud", "module", "async_timeout", "server", "endpoint"})
_PARAMS: dict[tuple[str, str], frozenset[str]] = {
    ("visca", "serial"): _COMMON | _CAMERA | {"baud"},
    ("visca", "tcp"): _COMMON | _CAMERA,
    ("visca-ip", "udp"): _COMMON | _CAMERA,
    ("pelco-d", "serial"): _COMMON | _CAMERA | {"baud", "observe"},
    ("pelco-d", "tcp"): _COMMON | _CAMERA | {"observe"},
    ("pelco-p", "serial"): _COMMON | _CAMERA | {"baud", "observe"},
    ("pelco-p", "tcp"): _COMMON | _CAMERA | {"observe"},
    ("at", "serial"): _COMMON | _AT,
    ("at", "tcp"): _COMMON | _AT - {"baud"},
    ("ocpp", "listen"): _COMMON
    | {"id", "version", "control", "accept_timeout", "speed"}
    | {"profile", "password", "cert", "key", "ca"},
}
_EMU_PARAMS = (
    _COMMON
    | _CAMERA
    | {"fault", "speed", "chain", "id", "version", "module"}
    | {
        "async_timeout",
        "evses",
    }
)

#: what a user would type to get a device for each protocol (used in skip reasons)
EXAMPLES: dict[str, str] = {
    "visca": "visca+serial:///dev/ttyUSB0, visca+tcp://HOST:PORT, visca-ip://HOST or emu:visca",
    "visca-ip": "visca-ip://HOST[:52381] or emu:visca-ip",
    "pelco-d": "pelco-d+serial:///dev/ttyUSB0, pelco-d+tcp://HOST:PORT or emu:pelco-d",
    "pelco-p": "pelco-p+serial:///dev/ttyUSB0, pelco-p+tcp://HOST:PORT or emu:pelco-p",
    "at": "at+serial:///dev/ttyUSB0?module=bc26 or emu:bc26",
    "bc26": "at+serial:///dev/ttyUSB0?module=bc26 or emu:bc26",
    "ocpp": "ocpp+listen://0.0.0.0:9000?id=CS001&version=2.1 or emu:ocpp",
}

_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")


@dataclass(frozen=True, repr=False)
class DeviceSpec:
    """One parsed ``--device`` URI.  Its repr masks secrets, since test
    parameters end up in reports."""

    uri: str
    protocol: str
    link: str
    host: str | None = None
    port: int | None = None
    serial_port: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    emulator: str | None = None
    faults: tuple[str, ...] = ()

    @property
    def speaks(self) -> frozenset[str]:
        """The protocol names a suite may ask for and get this device."""
        names = {self.protocol}
        if self.protocol == "visca-ip":
            names.add("visca")
        if self.protocol == "at":
            names.add(self.params.get("module", "bc26"))
        if self.protocol == "ocpp":
            names.add("ocpp" + self.params.get("version", "2.1"))
        return frozenset(names)

    @property
    def model(self) -> str | None:
        return self.params.get("model")

    @property
    def timeout(self) -> float | None:
        value = self.params.get("timeout")
        return float(value) if value is not None else None

    def int_param(self, name: str, default: int) -> int:
        return int(self.params.get(name, default))

    @property
    def masked(self) -> str:
        """The URI with passwords in the user-info or secret parameters hidden."""
        return mask_uri(self.uri)

    @property
    def id(self) -> str:
        """Short name for test ids."""
        return self.masked

    def __repr__(self) -> str:
        return f"DeviceSpec({self.masked!r})"

    __str__ = __repr__


def mask_uri(uri: str) -> str:
    masked = re.sub(r"(://[^/@:?]*:)[^/@?]*@", r"\1***@", uri)
    return re.sub(
        r"([?&](?:{})=)[^&]*".format("|".join(sorted(SECRET_PARAMS))),
        r"\1***",
        masked,
        flags=re.IGNORECASE,
    )


def _fail(uri: str, problem: str) -> DeviceURIError:
    return DeviceURIError(f"--device {mask_uri(uri)!r}: {problem}")


def _query(uri: str, text: str, allowed: Iterable[str]) -> dict[str, str]:
    allowed = frozenset(allowed)
    params: dict[str, str] = {}
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except ValueError:
        raise _fail(uri, f"malformed query string {text!r}") from None
    for key, value in pairs:
        if key not in allowed:
            raise _fail(
                uri, f"unknown parameter {key!r} (this scheme takes: {', '.join(sorted(allowed))})"
            )
        if key == "fault" and key in params:
            params[key] += "," + value
        elif key in params:
            raise _fail(uri, f"parameter {key!r} given twice")
        else:
            params[key] = value
    return params


def _int(uri: str, params: dict[str, str], name: str, lo: int, hi: int) -> None:
    if name not in params:
        return
    try:
        value = int(params[name], 0)
    except ValueError:
        raise _fail(uri, f"{name}={params[name]!r} is not a whole number") from None
    if not lo <= value <= hi:
        raise _fail(uri, f"{name}={value} is out of range {lo}..{hi}")
    params[name] = str(value)


def _positive(uri: str, params: dict[str, str], name: str, most: float) -> None:
    if name not in params:
        return
    try:
        value = float(params[name])
    except ValueError:
        raise _fail(uri, f"{name}={params[name]!r} is not a number") from None
    if not 0 < value <= most:
        raise _fail(uri, f"{name}={value:g} must be above 0 and at most {most:g}")


def _validate(uri: str, protocol: str, params: dict[str, str]) -> None:
    if "baud" in params:
        _int(uri, params, "baud", 1, 4_000_000)
        if int(params["baud"]) not in SERIAL_BAUDS:
            raise _fail(uri, f"baud={params['baud']} is not a standard rate {SERIAL_BAUDS}")
    _positive(uri, params, "timeout", 600)
    _positive(uri, params, "motion_timeout", 3600)
    _positive(uri, params, "async_timeout", 3600)
    _positive(uri, params, "speed", 10_000)
    if protocol in ("visca", "visca-ip"):
        _int(uri, params, "address", 1, 7)
        _int(uri, params, "chain", 1, 7)
    elif protocol in ("pelco-d", "pelco-p"):
        _int(uri, params, "address", 0, 255)
    if "module" in params and params["module"] not in AT_MODULES:
        raise _fail(uri, f"module={params['module']!r} is unknown (known: {', '.join(AT_MODULES)})")
    if "version" in params and params["version"] not in OCPP_VERSIONS:
        raise _fail(uri, f"version={params['version']!r} must be one of {', '.join(OCPP_VERSIONS)}")
    if "accept_timeout" in params:
        _int(uri, params, "accept_timeout", 1, 86_400)
    _int(uri, params, "evses", 1, 16)
    _ocpp_security(uri, params)
    if "observe" in params:
        try:
            observer = parse_device(params["observe"])
        except DeviceURIError as exc:
            raise _fail(uri, f"observe=: {exc}") from None
        if observer.link == "emu" or "visca" not in observer.speaks:
            raise _fail(uri, "observe= takes a VISCA device URI of the same camera")
    if "model" in params and not _NAME_RE.match(params["model"]):
        raise _fail(uri, f"model={params['model']!r} is not a model name")


def _ocpp_security(uri: str, params: dict[str, str]) -> None:
    """Security profiles 1-3 (OCPP 2.1 Part 2 A00): 1 and 2 need the
    BasicAuthPassword, 2 and 3 the CSMS certificate and key, 3 the CA that
    signed the stations' client certificates."""
    _int(uri, params, "profile", 0, 3)
    profile = int(params.get("profile", 0))
    if profile in (1, 2) and not params.get("password"):
        raise _fail(uri, f"profile={profile} needs password= (the station's BasicAuthPassword)")
    if profile >= 2:
        missing = [p for p in ("cert", "key") if not params.get(p)]
        if profile == 3 and not params.get("ca"):
            missing.append("ca")
        if missing:
            raise _fail(uri, f"profile={profile} needs {', '.join(p + '=' for p in missing)}")
    for name in ("cert", "key", "ca"):
        if params.get(name) and not os.path.isfile(params[name]):
            raise _fail(uri, f"{name}={params[name]} is not a file")
    if profile < 2 and any(params.get(p) for p in ("cert", "key", "ca")):
        raise _fail(uri, "cert=, key= and ca= are for profile=2 or 3 (TLS)")
    if "control" in params and not re.match(r"^https?://[^/\s]+", params["control"]):
        raise _fail(uri, f"control={params['control']!r} is not an http://HOST:PORT URL")


def _host_port(uri: str, netloc: str, default_port: int | None) -> tuple[str, int]:
    try:
        split = urlsplit("//" + netloc)
        host, port = split.hostname, split.port
    except ValueError as exc:
        raise _fail(uri, f"malformed host or port: {exc}") from None
    if not host:
        raise _fail(uri, "missing host")
    if port is None:
        if default_port is None:
            raise _fail(uri, "missing port (write HOST:PORT)")
        port = default_port
    if not 0 < port < 65536:
        raise _fail(uri, f"port {port} is out of range 1..65535")
    return host, port


def parse_device(uri: str, *, check_serial_exists: bool = True) -> DeviceSpec:
    """Parse one URI.  ``emu`` alone is handled by :func:`parse_devices`."""
    uri = uri.strip()
    if not uri:
        raise DeviceURIError("--device: empty URI")
    if uri == "emu" or uri.startswith("emu:"):
        return _parse_emu(uri)
    if "://" not in uri:
        raise _fail(uri, "not a device URI (expected SCHEME://..., emu or emu:NAME)")
    scheme, rest = uri.split("://", 1)
    scheme = scheme.lower()
    if "+" in scheme:
        protocol, link = scheme.split("+", 1)
    elif scheme == "visca-ip":
        protocol, link = "visca-ip", "udp"
    else:
        protocol, link = scheme, ""
    if protocol not in LINKS or link not in LINKS[protocol]:
        raise _fail(uri, f"unknown scheme {scheme!r} (known: {', '.join(known_schemes())})")
    body, _, query = rest.partition("?")
    params = _query(uri, query, _PARAMS[(protocol, link)])
    _validate(uri, protocol, params)

    if link == "serial":
        if not body:
            raise _fail(uri, "missing serial port (e.g. visca+serial:///dev/ttyUSB0)")
        local = "://" not in body and body.startswith("/")
        if local and check_serial_exists and not os.path.exists(body):
            raise _fail(uri, f"serial port {body} does not exist")
        return DeviceSpec(uri, protocol, link, serial_port=body, params=params)
    if "/" in body.rstrip("/"):
        raise _fail(uri, f"unexpected path in {body!r}")
    default_port = VISCA_IP_PORT if link == "udp" else None
    host, port = _host_port(uri, body.rstrip("/"), default_port)
    if protocol == "ocpp" and "id" not in params:
        raise _fail(uri, "missing id= (the charging station identity)")
    return DeviceSpec(uri, protocol, link, host=host, port=port, params=params)


def _parse_emu(uri: str) -> DeviceSpec:
    head, _, query = uri.partition("?")
    name = head[4:] if head.startswith("emu:") else ""
    if not name:
        raise _fail(uri, "name the emulator, e.g. emu:visca")
    if name not in EMULATED:
        raise _fail(uri, f"unknown emulator {name!r} (known: {', '.join(EMULATED)})")
    params = _query(uri, query, _EMU_PARAMS)
    protocol = EMULATED[name]
    if protocol == "at":
        params.setdefault("module", name)
    _validate(uri, protocol, params)
    faults = tuple(f for f in params.pop("fault", "").split(",") if f)
    return DeviceSpec(uri, protocol, "emu", params=params, emulator=name, faults=faults)


def parse_devices(
    uris: Sequence[str], available_emulators: Sequence[str], *, check_serial_exists: bool = True
) -> list[DeviceSpec]:
    """Parse every ``--device``; ``emu`` expands to each available emulator."""
    specs: list[DeviceSpec] = []
    for uri in uris:
        if uri.strip() == "emu":
            specs.extend(parse_device(f"emu:{name}") for name in available_emulators)
        else:
            specs.append(parse_device(uri, check_serial_exists=check_serial_exists))
    seen: set[str] = set()
    for spec in specs:
        if spec.uri in seen:
            raise DeviceURIError(f"--device {spec.masked!r} given twice")
        seen.add(spec.uri)
    return specs


def known_schemes() -> list[str]:
    out = []
    for protocol, links in LINKS.items():
        for link in links:
            bare = (protocol, link) == ("visca-ip", "udp")
            out.append(protocol if bare else f"{protocol}+{link}")
    return out
