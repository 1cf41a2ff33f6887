"""OCPP security profiles 0-3 over real WebSocket links with real TLS certificates.

A test CA (``trustme``) issues the CSMS certificate for 127.0.0.1/localhost and a
station certificate whose CN is the station identity; a second CA issues an
impostor's certificate.  Our WebSocketListener plays the CSMS, our WebSocketClient
the charging station (OCPP 2.1 Part 2 §1.3, A00.FR.xxx; Part 4 §3.1.1/§3.3).
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus
from websockets.http11 import Request, Response
from websockets.sync.server import ServerConnection

from conformance.errors import DeviceUnreachable
from conformance.ocpp.security import (
    PROFILES,
    SecurityConfig,
    basic_auth_header,
    check_basic_auth,
    check_client_certificate,
    client_ssl_context,
    identity_from_path,
    make_process_request,
    peer_certificate_subject,
    server_ssl_context,
)
from conformance.transports.websocket import WebSocketClient, WebSocketListener

HOST = "127.0.0.1"
STATION = "CS001"
PASSWORD = "s3cret:Pass-word_0123456789"  # 16..40 chars and a ':' (A00.FR.205)
WAIT = 5.0  # every connect and accept; none is ever reached on a passing run
SUBPROTOCOL = "ocpp2.1"


@dataclass(frozen=True)
class Pki:
    ca: str
    server_cert: str  # CSMS chain + key, for 127.0.0.1 and localhost
    station_cert: str  # CN = STATION, signed by ca
    wrong_cn_cert: str  # CN = "CS999", signed by ca
    foreign_cert: str  # CN = STATION, signed by another CA


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")

    def write(name: str, blob: trustme.Blob) -> str:
        path = directory / name
        blob.write_to_path(str(path))
        return str(path)

    ca, other_ca = trustme.CA(organization_name="Test CSO"), trustme.CA()
    return Pki(
        ca=write("ca.pem", ca.cert_pem),
        server_cert=write(
            "csms.pem", ca.issue_cert(HOST, "localhost").private_key_and_cert_chain_pem
        ),
        station_cert=write(
            "station.pem",
            ca.issue_cert(
                common_name=STATION, organization_name="Test CSO"
            ).private_key_and_cert_chain_pem,
        ),
        wrong_cn_cert=write(
            "wrong-cn.pem", ca.issue_cert(common_name="CS999").private_key_and_cert_chain_pem
        ),
        foreign_cert=write(
            "foreign.pem", other_ca.issue_cert(common_name=STATION).private_key_and_cert_chain_pem
        ),
    )


def server_config(pki: Pki, profile: int) -> SecurityConfig:
    return SecurityConfig(
        profile=profile,
        password=PASSWORD if profile in (1, 2) else None,
        certfile=pki.server_cert,
        cafile=pki.ca,
    )


@dataclass
class Csms:
    listener: WebSocketListener
    rejects: list[str]
    subjects: list[str | None]

    def url(self, scheme: str, identity: str = STATION) -> str:
        return f"{scheme}://{HOST}:{self.listener.port}/ocpp/{identity}"


@contextmanager
def csms(config: SecurityConfig, identity: str = STATION) -> Iterator[Csms]:
    """Our listener as a CSMS for *identity*, recording rejections and client CNs."""
    rejects: list[str] = []
    subjects: list[str | None] = []
    check = make_process_request(identity, config, on_reject=rejects.append)

    def process_request(conn: ServerConnection, request: Request) -> Response | None:
        subjects.append(peer_certificate_subject(conn))
        return check(conn, request)

    listener = WebSocketListener(
        HOST,
        0,
        subprotocols=[SUBPROTOCOL],
        process_request=process_request,
        ssl=server_ssl_context(config),
        timeout=WAIT,
        accept_timeout=WAIT,
    )
    listener.listen()
    try:
        yield Csms(listener, rejects, subjects)
    finally:
        listener.close()


def station(
    url: str,
    *,
    headers: dict[str, str] | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> WebSocketClient:
    return WebSocketClient(
        url,
        subprotocols=[SUBPROTOCOL],
        headers=headers,
        ssl=ssl_context,
        timeout=WAIT,
        connect_timeout=WAIT,
    )


def assert_linked(server: Csms, client: WebSocketClient) -> None:
    """The handshake went through: the CSMS accepts and both ends exchange a frame."""
    client.open()
    try:
        server.listener.accept(timeout=WAIT)
        assert client.subprotocol == SUBPROTOCOL
        client.send('[2,"1","Heartbeat",{}]')
        assert server.listener.recv(timeout=WAIT) == '[2,"1","Heartbeat",{}]'
        server.listener.send('[3,"1",{}]')
        assert client.recv(timeout=WAIT) == '[3,"1",{}]'
    finally:
        client.close()
    assert server.rejects == []


def refused(client: WebSocketClient) -> DeviceUnreachable:
    with pytest.raises(DeviceUnreachable) as caught:
        client.open()
    client.close()
    return caught.value


def refused_after_tls(client: WebSocketClient) -> None:
    """The CSMS rejects the client certificate (A00.FR.407).  Under TLS 1.3 the refusal
    may only surface while the HTTP upgrade is sent; it is still "unreachable"."""
    refused(client)


def http_status(error: DeviceUnreachable) -> int:
    cause = error.__cause__
    assert isinstance(cause, InvalidStatus), f"not an HTTP refusal: {error}"
    return cause.response.status_code


# -- profile 0 and 1: plain ws ------------------------------------------------------


def test_profile_0_accepts_without_credentials(pki: Pki) -> None:
    config = SecurityConfig()
    with csms(config) as server:
        assert_linked(server, station(server.url(config.scheme)))


def test_profile_1_good_password_is_accepted(pki: Pki) -> None:
    config = server_config(pki, 1)
    with csms(config) as server:
        assert_linked(
            server, station(server.url("ws"), headers=basic_auth_header(STATION, PASSWORD))
        )


def test_profile_1_wrong_password_is_401(pki: Pki) -> None:
    with csms(server_config(pki, 1)) as server:
        client = station(server.url("ws"), headers=basic_auth_header(STATION, PASSWORD + "x"))
        error = refused(client)
        assert http_status(error) == 401
        assert isinstance(error.__cause__, InvalidStatus)
        assert error.__cause__.response.headers["WWW-Authenticate"].startswith("Basic")
        assert len(server.rejects) == 1
        assert "password" in server.rejects[0]
        assert PASSWORD not in server.rejects[0]
        assert PASSWORD not in str(error)


def test_profile_1_missing_credentials_is_401(pki: Pki) -> None:
    with csms(server_config(pki, 1)) as server:
        assert http_status(refused(station(server.url("ws")))) == 401
        assert server.rejects and "no Authorization header" in server.rejects[0]


def test_profile_1_username_other_than_identity_is_401(pki: Pki) -> None:
    with csms(server_config(pki, 1)) as server:
        client = station(server.url("ws"), headers=basic_auth_header("CS002", PASSWORD))
        assert http_status(refused(client)) == 401
        assert "username" in server.rejects[0] and PASSWORD not in server.rejects[0]


def test_wrong_identity_in_path_is_404(pki: Pki) -> None:
    with csms(server_config(pki, 1)) as server:
        client = station(
            server.url("ws", identity="CS002"), headers=basic_auth_header("CS002", PASSWORD)
        )
        assert http_status(refused(client)) == 404
        assert "CS002" in server.rejects[0]


def test_percent_encoded_identity_is_matched_decoded(pki: Pki) -> None:
    config = server_config(pki, 1)
    with csms(config, identity="RDAM|123") as server:
        client = station(
            server.url("ws", identity="RDAM%7C123"),
            headers=basic_auth_header("RDAM|123", PASSWORD),
        )
        assert_linked(server, client)


# -- profile 2: TLS + basic auth ------------------------------------------------------


def test_profile_2_good(pki: Pki) -> None:
    config = server_config(pki, 2)
    client_config = SecurityConfig(profile=2, password=PASSWORD, cafile=pki.ca)
    with csms(config) as server:
        client = station(
            server.url(client_config.scheme),
            headers=basic_auth_header(STATION, PASSWORD),
            ssl_context=client_ssl_context(client_config),
        )
        assert_linked(server, client)
        assert server.subjects == [None]  # no client certificate asked for


def test_profile_2_wrong_password_is_401(pki: Pki) -> None:
    client_config = SecurityConfig(profile=2, password="wrong-password-0123", cafile=pki.ca)
    with csms(server_config(pki, 2)) as server:
        client = station(
            server.url("wss"),
            headers=basic_auth_header(STATION, "wrong-password-0123"),
            ssl_context=client_ssl_context(client_config),
        )
        assert http_status(refused(client)) == 401
        assert "password" in server.rejects[0]


def test_profile_2_client_not_trusting_the_csms_ca_fails(pki: Pki, tmp_path: Path) -> None:
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    client_config = SecurityConfig(profile=2, password=PASSWORD, cafile=str(other_ca))
    with csms(server_config(pki, 2)) as server:
        client = station(
            server.url("wss"),
            headers=basic_auth_header(STATION, PASSWORD),
            ssl_context=client_ssl_context(client_config),
        )
        error = refused(client)
        assert isinstance(error.__cause__, ssl.SSLCertVerificationError)
        assert server.rejects == [] and server.subjects == []


def test_profile_2_plain_ws_client_fails(pki: Pki) -> None:
    with csms(server_config(pki, 2)) as server:
        client = station(server.url("ws"), headers=basic_auth_header(STATION, PASSWORD))
        refused(client)
        assert server.subjects == []  # never got past TLS


def test_profile_1_csms_refuses_a_tls_station(pki: Pki) -> None:
    """A00.FR.002: a station on another profile does not get through."""
    client_config = SecurityConfig(profile=2, password=PASSWORD, cafile=pki.ca)
    with csms(server_config(pki, 1)) as server:
        client = station(
            server.url("wss"),
            headers=basic_auth_header(STATION, PASSWORD),
            ssl_context=client_ssl_context(client_config),
        )
        refused(client)
        assert server.subjects == []


# -- profile 3: TLS + client certificates ---------------------------------------------


def station_tls(pki: Pki, certfile: str | None) -> ssl.SSLContext:
    if certfile is None:  # a profile 2 context: trusts the CSMS, offers no certificate
        config = SecurityConfig(profile=2, password=PASSWORD, cafile=pki.ca)
    else:
        config = SecurityConfig(profile=3, certfile=certfile, cafile=pki.ca)
    context = client_ssl_context(config)
    assert context is not None
    return context


def test_profile_3_good_client_certificate(pki: Pki) -> None:
    with csms(server_config(pki, 3)) as server:
        client = station(server.url("wss"), ssl_context=station_tls(pki, pki.station_cert))
        assert_linked(server, client)
        assert server.subjects == [STATION]


def test_profile_3_without_client_certificate_fails(pki: Pki) -> None:
    with csms(server_config(pki, 3)) as server:
        refused_after_tls(station(server.url("wss"), ssl_context=station_tls(pki, None)))
        assert server.subjects == []  # the TLS handshake failed (A00.FR.407)


def test_profile_3_certificate_from_another_ca_fails(pki: Pki) -> None:
    with csms(server_config(pki, 3)) as server:
        client = station(server.url("wss"), ssl_context=station_tls(pki, pki.foreign_cert))
        refused_after_tls(client)
        assert server.subjects == []


def test_profile_3_certificate_cn_other_than_identity_is_403(pki: Pki) -> None:
    with csms(server_config(pki, 3)) as server:
        client = station(server.url("wss"), ssl_context=station_tls(pki, pki.wrong_cn_cert))
        assert http_status(refused(client)) == 403
        assert server.subjects == ["CS999"]
        assert "CN 'CS999'" in server.rejects[0] and "A00.FR.405" in server.rejects[0]


# -- pure helpers ---------------------------------------------------------------------


def test_repr_hides_the_password() -> None:
    config = SecurityConfig(profile=2, password=PASSWORD, certfile="c.pem", cafile="ca.pem")
    for text in (repr(config), str(config), f"{config}", repr([config])):
        assert PASSWORD not in text
        assert "***" in text and "profile=2" in text


def test_scheme_and_profiles() -> None:
    assert PROFILES == (0, 1, 2, 3)
    assert [SecurityConfig(profile=p, password="x").scheme for p in PROFILES] == [
        "ws",
        "ws",
        "wss",
        "wss",
    ]
    with pytest.raises(ValueError):
        SecurityConfig(profile=4)


def test_ssl_contexts(pki: Pki) -> None:
    for profile in (0, 1):
        assert server_ssl_context(server_config(pki, profile)) is None
        assert client_ssl_context(server_config(pki, profile)) is None
    for profile in (2, 3):
        context = server_ssl_context(server_config(pki, profile))
        assert context is not None
        assert context.minimum_version >= ssl.TLSVersion.TLSv1_2  # A00.FR.313/416
        assert context.options & ssl.OP_NO_COMPRESSION  # A00.FR.321/424
        assert context.verify_mode == (ssl.CERT_REQUIRED if profile == 3 else ssl.CERT_NONE)
        suites = {cipher["name"] for cipher in context.get_ciphers()}
        assert {"ECDHE-ECDSA-AES128-GCM-SHA256", "AES256-GCM-SHA384"} <= suites  # A00.FR.318
    client = client_ssl_context(SecurityConfig(profile=2, password="x", cafile=pki.ca))
    assert client is not None and client.check_hostname
    assert client.minimum_version >= ssl.TLSVersion.TLSv1_2
    with pytest.raises(ValueError):
        server_ssl_context(SecurityConfig(profile=2, password="x"))
    with pytest.raises(ValueError):
        server_ssl_context(SecurityConfig(profile=3, certfile=pki.server_cert))
    with pytest.raises(ValueError):
        client_ssl_context(SecurityConfig(profile=3, cafile=pki.ca))
    with pytest.raises(ValueError):
        make_process_request(STATION, SecurityConfig(profile=1))


@pytest.mark.parametrize(
    ("path", "identity"),
    [
        ("/ocpp/CS001", "CS001"),
        ("/CS001", "CS001"),
        ("/ocppj/RDAM%7C123", "RDAM|123"),
        ("/ocpp/CS001?token=1", "CS001"),
        ("/ocpp/", None),
        ("/", None),
        ("", None),
    ],
)
def test_identity_from_path(path: str, identity: str | None) -> None:
    assert identity_from_path(path) == identity


@pytest.mark.parametrize("password", [PASSWORD, "plain", ":", "a:b:c", "ünïcødé-pässwörd:1"])
def test_basic_auth_round_trip(password: str) -> None:
    headers = basic_auth_header(STATION, password)
    assert list(headers) == ["Authorization"]
    token = headers["Authorization"].removeprefix("Basic ")
    assert base64.b64decode(token).decode() == f"{STATION}:{password}"  # A00.FR.205
    assert check_basic_auth(headers, STATION, password) is None
    assert check_basic_auth({"authorization": headers["Authorization"]}, STATION, password) is None
    assert check_basic_auth(Headers(headers), STATION, password) is None
    reason = check_basic_auth(headers, STATION, password + "!")
    assert reason is not None and "password" in reason and password + "!" not in reason


def encoded(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, "no Authorization header"),
        ({"Authorization": "Bearer abc"}, "not Basic"),
        ({"Authorization": "Basic !!!"}, "not base64"),
        ({"Authorization": encoded(PASSWORD.replace(":", ""))}, "no ':'"),
        ({"Authorization": encoded(f"CS002:{PASSWORD}")}, "username 'CS002'"),
        ({"Authorization": encoded(f"{STATION}:nope")}, "wrong password"),
        (Headers([("Authorization", encoded("a:b")), ("Authorization", "x")]), "2 Authorization"),
    ],
)
def test_check_basic_auth_reasons(headers: dict[str, str], expected: str) -> None:
    reason = check_basic_auth(headers, STATION, PASSWORD)
    assert reason is not None and expected in reason
    assert "\n" not in reason and PASSWORD not in reason and PASSWORD.replace(":", "") not in reason


def test_check_client_certificate() -> None:
    cert = {"subject": ((("organizationName", "Test CSO"),), (("commonName", STATION),))}
    assert check_client_certificate(cert, STATION) is None
    assert check_client_certificate(cert, STATION, organization="Test CSO") is None
    check: Callable[..., str | None] = check_client_certificate
    assert "A00.FR.404" in (check(cert, STATION, organization="Other") or "")
    assert "A00.FR.405" in (check(cert, "CS002") or "")
    assert "no CN" in (check({"subject": ((("organizationName", "X"),),)}, STATION) or "")
    assert "no client certificate" in (check(None, STATION) or "")
