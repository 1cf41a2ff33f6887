"""OCPP security profiles for the OCPP-J WebSocket link (OCPP 2.1 Part 2 §1.3, block A00).

=======  =========================================  ===========  ======================
profile  name                                       scheme       station authentication
=======  =========================================  ===========  ======================
0        no security (labs only, not valid OCPP)    ``ws``       none
1        Unsecured Transport with Basic Auth        ``ws``       HTTP Basic
2        TLS with Basic Authentication              ``wss``      HTTP Basic
3        TLS with Client Side Certificates          ``wss``      TLS client certificate
=======  =========================================  ===========  ======================

The CSMS side (our :class:`~conformance.transports.websocket.WebSocketListener`
when the device under test is a charging station) gets :func:`server_ssl_context`
and :func:`make_process_request`; the station side (our
:class:`~conformance.transports.websocket.WebSocketClient`) gets
:func:`client_ssl_context` and :func:`basic_auth_header`.

Requirements covered here: A00.FR.001/002 (one profile per endpoint, a mismatching
station is turned away), A00.FR.202-207 and A00.FR.301-304/324 (HTTP Basic with the
station identity as username and BasicAuthPassword as UTF-8 password, checked by the
CSMS), A00.FR.306-314 and A00.FR.409-417 (CSMS is the TLS server, path validation,
TLS >= 1.2), A00.FR.318/319/421/422 (cipher suites), A00.FR.321/424 (no TLS
compression), A00.FR.401-405/407 (client certificate path and CN checks), and Part 4
§3.1.1/§3.3 (identity in the connection URL, 404 for an unknown identity).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

from websockets.http11 import Request, Response
from websockets.sync.server import ServerConnection

PROFILES = (0, 1, 2, 3)
BASIC_AUTH_PROFILES = (1, 2)
TLS_PROFILES = (2, 3)

#: Part 2 A00.FR.318/421 (the four suites a CSMS must offer) and A00.FR.319/422 (a
#: station's ECDHE-ECDSA or RSA pair), plus ECDHE-RSA for RSA certificates with forward
#: secrecy.  TLS 1.3 suites are configured separately by OpenSSL and stay enabled.
OCPP_CIPHERS = ":".join(
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "AES128-GCM-SHA256",
        "AES256-GCM-SHA384",
    )
)

#: Offered with a 401 so the station knows to send Basic credentials (RFC 7617).
WWW_AUTHENTICATE = 'Basic realm="OCPP", charset="UTF-8"'


@dataclass(frozen=True)
class SecurityConfig:
    """One end's security settings for an OCPP-J link.

    *certfile*/*keyfile* are our own chain and key (server: the CSMS certificate,
    A00.FR.307; client: the station certificate for profile 3, A00.FR.402).  *cafile*
    verifies the peer (server: station certificates in profile 3, A00.FR.403; client:
    the CSMS certificate, A00.FR.308).
    """

    profile: int = 0
    password: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    cafile: str | None = None

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"unknown OCPP security profile {self.profile!r}; use 0-3")

    @property
    def scheme(self) -> str:
        """``wss`` for the TLS profiles 2 and 3, else ``ws`` (Part 4 §3.1.1)."""
        return "wss" if self.profile in TLS_PROFILES else "ws"

    @property
    def uses_basic_auth(self) -> bool:
        return self.profile in BASIC_AUTH_PROFILES

    def __repr__(self) -> str:
        password = "None" if self.password is None else "'***'"
        return (
            f"SecurityConfig(profile={self.profile}, password={password}, "
            f"certfile={self.certfile!r}, keyfile={self.keyfile!r}, cafile={self.cafile!r})"
        )

    __str__ = __repr__


def _tls_context(*, server_side: bool) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server_side else ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # A00.FR.313/314, A00.FR.416/417
    context.options |= ssl.OP_NO_COMPRESSION  # A00.FR.321/424
    context.set_ciphers(OCPP_CIPHERS)  # A00.FR.318-320, A00.FR.421-423
    return context


def server_ssl_context(config: SecurityConfig) -> ssl.SSLContext | None:
    """The CSMS's TLS context: ``None`` for profiles 0 and 1.

    Profiles 2/3 present *certfile* (A00.FR.306/307, A00.FR.409/410) over TLS >= 1.2;
    profile 3 also requires a client certificate that chains to *cafile*
    (A00.FR.401-403); the handshake fails without one (A00.FR.407).
    """
    if config.profile not in TLS_PROFILES:
        return None
    if not config.certfile:
        raise ValueError(f"security profile {config.profile} needs the CSMS certificate file")
    context = _tls_context(server_side=True)
    context.load_cert_chain(config.certfile, config.keyfile)
    if config.profile == 3:
        if not config.cafile:
            raise ValueError("security profile 3 needs a CA file to verify station certificates")
        context.load_verify_locations(cafile=config.cafile)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def client_ssl_context(config: SecurityConfig) -> ssl.SSLContext | None:
    """The station's TLS context: ``None`` for profiles 0 and 1.

    Verifies the CSMS certificate path against *cafile* (the system store if unset)
    and its host name (A00.FR.308/309, A00.FR.411/412); profile 3 presents the station
    certificate (A00.FR.401/402).
    """
    if config.profile not in TLS_PROFILES:
        return None
    context = _tls_context(server_side=False)  # check_hostname, CERT_REQUIRED
    if config.cafile:
        context.load_verify_locations(cafile=config.cafile)
    else:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    if config.profile == 3:
        if not config.certfile:
            raise ValueError("security profile 3 needs the station certificate file")
        context.load_cert_chain(config.certfile, config.keyfile)
    return context


def basic_auth_header(identity: str, password: str) -> dict[str, str]:
    """The ``Authorization`` header of A00.FR.202-205: ``identity:password`` as UTF-8,
    base64-encoded once (the password itself is not pre-encoded)."""
    token = base64.b64encode(f"{identity}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def _authorization_values(headers: Mapping[str, str]) -> list[str]:
    get_all = getattr(headers, "get_all", None)  # websockets' Headers keeps repeats
    if callable(get_all):
        return list(get_all("Authorization"))
    return [value for name, value in headers.items() if name.lower() == "authorization"]


def check_basic_auth(headers: Mapping[str, str], identity: str, password: str) -> str | None:
    """``None`` when *headers* carry Basic credentials for *identity* and *password*
    (A00.FR.207/324), else a one-line reason.  The reason never contains a password."""
    values = _authorization_values(headers)
    if not values:
        return "no Authorization header (A00.FR.203: credentials required on every connect)"
    if len(values) > 1:
        return f"{len(values)} Authorization headers, expected one"
    scheme, _, token = values[0].strip().partition(" ")
    if scheme.lower() != "basic":
        return f"Authorization scheme {scheme[:20]!r} is not Basic (A00.FR.202)"
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "Authorization credentials are not base64 of UTF-8 text (A00.FR.205)"
    if ":" not in decoded:
        return "Authorization credentials have no ':' between username and password"
    # The identity cannot contain ':' (Part 4 §3.1.1), so the first ':' separates.
    username, _, given = decoded.partition(":")
    user_ok = hmac.compare_digest(username.encode(), identity.encode())
    password_ok = hmac.compare_digest(given.encode(), password.encode())
    if not user_ok:
        return f"username {username[:60]!r} is not the station identity {identity!r} (A00.FR.204)"
    if not password_ok:
        return f"wrong password for {identity!r} (A00.FR.207)"
    return None


def identity_from_path(path: str) -> str | None:
    """The station identity in a request path: its last segment, percent-decoded
    (Part 4 §3.1.1); ``None`` when that segment is empty.  A query is ignored."""
    segment = urlsplit(path).path.rsplit("/", 1)[-1]
    return unquote(segment, errors="strict") if segment else None


def _common_name(cert: Mapping[str, Any]) -> str | None:
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


def _organization(cert: Mapping[str, Any]) -> str | None:
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "organizationName":
                return str(value)
    return None


def check_client_certificate(
    cert: Mapping[str, Any] | None, identity: str, *, organization: str | None = None
) -> str | None:
    """``None`` when a station certificate (an :meth:`ssl.SSLSocket.getpeercert` dict)
    fits, else a one-line reason.

    The subject CN must be the station's serial number (A00.FR.405, A00.FR.511), passed
    as *identity* (the usual set-up names the station by its serial number); with
    *organization*, the subject O must contain the CSO name (A00.FR.404).
    """
    if not cert:
        return "no client certificate (A00.FR.401/402)"
    common_name = _common_name(cert)
    if common_name is None:
        return "client certificate subject has no CN (A00.FR.511)"
    if common_name != identity:
        return f"client certificate CN {common_name!r} is not {identity!r} (A00.FR.405)"
    if organization is not None:
        org = _organization(cert)
        if org is None or organization not in org:
            return f"client certificate O {org!r} does not contain {organization!r} (A00.FR.404)"
    return None


def _peer_certificate(conn: Any) -> dict[str, Any] | None:
    sock = getattr(conn, "socket", None)
    if not isinstance(sock, ssl.SSLSocket):
        return None
    try:
        return sock.getpeercert() or None
    except (ValueError, OSError):  # not connected or handshake not done
        return None


def peer_certificate_subject(conn: Any) -> str | None:
    """The CN of the peer's verified certificate (profile 3), for logs; ``None``
    on a plain link or without a client certificate."""
    cert = _peer_certificate(conn)
    return _common_name(cert) if cert else None


def make_process_request(
    identity: str,
    config: SecurityConfig,
    on_reject: Callable[[str], None] | None = None,
    *,
    serial_number: str | None = None,
    check_certificate_cn: bool = True,
) -> Callable[[ServerConnection, Request], Response | None]:
    """A ``process_request`` hook for :func:`websockets.sync.server.serve` that admits
    only station *identity* under *config*'s profile.

    * the last path segment must be *identity*, else 404 (Part 4 §3.3);
    * profiles 1/2: Basic credentials must match, else 401 with ``WWW-Authenticate``
      (A00.FR.207/324);
    * profile 3: the client certificate's CN must be *serial_number* (default:
      *identity*), else 403 (A00.FR.405/407); skipped when *check_certificate_cn* is
      false.  The certificate path itself is checked by the TLS handshake.

    *on_reject* gets each reason (never a password).  Returning ``None`` accepts.
    """
    if config.uses_basic_auth and config.password is None:
        raise ValueError(f"security profile {config.profile} needs a BasicAuthPassword")
    expected_cn = identity if serial_number is None else serial_number

    def reject(conn: ServerConnection, status: HTTPStatus, reason: str) -> Response:
        if on_reject is not None:
            on_reject(reason)
        response = conn.respond(status, f"{reason}\n")
        if status == HTTPStatus.UNAUTHORIZED:
            response.headers["WWW-Authenticate"] = WWW_AUTHENTICATE
        return response

    def process_request(conn: ServerConnection, request: Request) -> Response | None:
        try:
            found = identity_from_path(request.path)
        except UnicodeDecodeError:
            found = None
        if found != identity:
            reason = f"path {request.path[:100]!r} does not name station {identity!r}"
            return reject(conn, HTTPStatus.NOT_FOUND, f"{reason} (Part 4 §3.3)")
        if config.uses_basic_auth:
            assert config.password is not None
            problem = check_basic_auth(request.headers, identity, config.password)
            if problem is not None:
                return reject(conn, HTTPStatus.UNAUTHORIZED, problem)
        if config.profile == 3 and check_certificate_cn:
            problem = check_client_certificate(_peer_certificate(conn), expected_cn)
            if problem is not None:
                return reject(conn, HTTPStatus.FORBIDDEN, problem)
        return None

    return process_request
