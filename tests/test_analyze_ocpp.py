"""``conformance analyze`` on OCPP-J captures (``conformance/analyze/ocpp.py``).

Every capture is a pcap built with Scapy (``tests/ocpp_captures.py``) and read
through :func:`conformance.analyze.analyze`.  The clean capture, in every
framing (split segments, packed segments, fragmentation, permessage-deflate with
and without context takeover, bytes from the ``websockets`` package) gives no
finding; each planted anomaly gives exactly its own finding(s).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.analyze import analyze
from conformance.analyze.allure import write_results
from conformance.analyze.model import CAPTURE, CSMS, NOTE, STATION, VIOLATION, Analysis
from dissectors import websocket as ws
from tests import ocpp_captures as oc
from tests.ocpp_captures import (
    BOOT,
    NOW,
    STATUS,
    TOKEN,
    OcppCapture,
    boot_answer,
    charge,
    clean,
    registered,
    tx_event,
    websockets_pair,
)

PASSWORD = "Quite-Long-Password-0123456789"
PORTS = {"ocpp": [9000]}
ACCEPTED = {"idTokenInfo": {"status": "Accepted"}}
ANSWERS: dict[str, Any] = {"Authorize": ACCEPTED, "Heartbeat": {"currentTime": NOW}}


def run(capture: OcppCapture | oc.TcpCapture, tmp_path: Path) -> Analysis:
    return analyze(capture.write(tmp_path / "capture.pcap"), ports=PORTS)


def found(analysis: Analysis) -> list[tuple[str, str, str]]:
    return sorted((f.kind, f.check, f.party) for f in analysis.findings)


def conversation(analysis: Analysis) -> Any:
    (conv,) = analysis.conversations.values()
    return conv


# ---------------------------------------------------------------- clean captures


def closed() -> OcppCapture:
    s = clean()
    s.close()
    return s


def split_segments() -> OcppCapture:
    s = oc.register(OcppCapture(), split=(3, 9))
    charge(s, split=(1, 2, 30))
    return s


def packed_segments() -> OcppCapture:
    """Several frames in one segment: a ping with a CALL, a pong with an answer and a CALL."""
    s = registered()
    s.raw(
        True,
        ws.encode_frame(ws.PING, b"p", key=oc.MASK) + s.encode(True, [2, "h1", "Heartbeat", {}]),
    )
    s.raw(
        False,
        ws.encode_frame(ws.PONG, b"p")
        + s.encode(False, [3, "h1", {"currentTime": NOW}])
        + s.encode(False, [2, "c1", "ClearCache", {}]),
    )
    s.send(True, [3, "c1", {"status": "Accepted"}])
    s.call("Authorize", {"idToken": TOKEN}, ACCEPTED)
    return s


def deflated(takeover: bool) -> Callable[[], OcppCapture]:
    def build() -> OcppCapture:
        header = "permessage-deflate"
        if not takeover:
            header += "; client_no_context_takeover; server_no_context_takeover"
        s = registered(deflate=header)
        pong = ws.encode_frame(ws.PONG, b"", key=oc.MASK)
        charge(s, fragments=3, interleave=pong)
        s.close()
        return s

    return build


def version_201() -> OcppCapture:
    s = clean(offered=("ocpp2.0.1",), chosen="ocpp2.0.1")
    s.close()
    return s


def basic_auth() -> OcppCapture:
    return clean(authorization=oc.basic("CS001", PASSWORD))


def triggered_while_pending() -> OcppCapture:
    s = OcppCapture()
    s.call("BootNotification", BOOT, boot_answer("Pending", 300))
    trigger = {"requestedMessage": "StatusNotification"}
    s.call("TriggerMessage", trigger, {"status": "Accepted"}, from_station=False)
    s.call("StatusNotification", STATUS, {})
    return s


def heartbeat_interval_changed() -> OcppCapture:
    s = registered()
    data = {
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "HeartbeatInterval"},
        "attributeValue": "20",
    }
    result = {
        "attributeStatus": "Accepted",
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "HeartbeatInterval"},
    }
    s.call("SetVariables", {"setVariableData": [data]}, {"setVariableResult": [result]},
           from_station=False)  # fmt: skip
    for _ in range(3):
        s.call("Heartbeat", {}, {"currentTime": NOW}, wait=20.0)
    return s


def heartbeats_on_time() -> OcppCapture:
    s = registered()
    for _ in range(3):
        s.call("Heartbeat", {}, {"currentTime": NOW}, wait=300.0)
    return s


def boot_resent_after_interval() -> OcppCapture:
    s = OcppCapture()
    s.call("BootNotification", BOOT, boot_answer("Pending", 10))
    s.call("BootNotification", BOOT, boot_answer("Accepted", 300), wait=10.0)
    s.call("StatusNotification", STATUS, {})
    return s


def retried_event() -> OcppCapture:
    s = registered()
    s.call("TransactionEvent", tx_event("Started", 0), None, message_id="t1")
    s.call("TransactionEvent", tx_event("Started", 0), {}, message_id="t1", wait=31.0)
    s.call("TransactionEvent", tx_event("Ended", 1), {})
    return s


def websockets_capture() -> oc.TcpCapture:
    """Handshake and compressed frames all written by the ``websockets`` package."""
    client, server, up, down = websockets_pair(takeover=True)
    tcp = oc.TcpCapture()
    tcp.open()
    tcp.send(True, up)
    tcp.send(False, down)
    exchange = [
        (client, [2, "w1", "BootNotification", BOOT]),
        (server, [3, "w1", boot_answer()]),
        (client, [2, "w2", "StatusNotification", STATUS]),
        (server, [3, "w2", {}]),
        (client, [2, "w3", "Authorize", {"idToken": TOKEN}]),
        (server, [3, "w3", ACCEPTED]),
    ]
    for proto, message in exchange:
        text = json.dumps(message).encode()
        proto.send_text(text[:20], fin=False)
        proto.send_continuation(text[20:], fin=True)
        tcp.wait(0.05)
        tcp.send(proto is client, b"".join(proto.data_to_send()), split=(5,))
    return tcp


def coalesced() -> OcppCapture:
    """The request with the station's first frame, the 101 with the CSMS's first frame."""
    s = OcppCapture(handshake=False)
    reference = OcppCapture()  # its handshake bytes, segment by segment
    request, response = (bytes(p["TCP"].payload) for p in reference.tcp.packets[3:5])
    boot = s.encode(True, [2, "b1", "BootNotification", BOOT])
    s.raw(True, request + boot)
    s.raw(False, response + s.encode(False, [3, "b1", boot_answer()]))
    s.call("StatusNotification", STATUS, {})
    s.call("Heartbeat", {}, {"currentTime": NOW})
    return s


CLEAN: list[tuple[str, Callable[[], OcppCapture | oc.TcpCapture]]] = [
    ("open at the end", clean),
    ("closed", closed),
    ("frames split across segments", split_segments),
    ("several frames per segment", packed_segments),
    ("deflate with context takeover, fragmented", deflated(True)),
    ("deflate without context takeover, fragmented", deflated(False)),
    ("OCPP 2.0.1", version_201),
    ("basic authentication", basic_auth),
    ("triggered StatusNotification while Pending", triggered_while_pending),
    ("heartbeat interval from SetVariables", heartbeat_interval_changed),
    ("heartbeats on time", heartbeats_on_time),
    ("BootNotification resent after the interval", boot_resent_after_interval),
    ("retried TransactionEvent", retried_event),
    ("websockets package", websockets_capture),
    ("upgrade and first frames in one segment", coalesced),
]


@pytest.mark.parametrize("build", [c[1] for c in CLEAN], ids=[c[0] for c in CLEAN])
def test_clean_captures_have_no_findings(
    build: Callable[[], OcppCapture | oc.TcpCapture], tmp_path: Path
) -> None:
    analysis = run(build(), tmp_path)
    assert found(analysis) == []
    conv = conversation(analysis)
    assert conv.protocol == "ocpp"
    assert conv.requests >= 3 and conv.replies == conv.latency.count >= conv.requests - 1
    assert conv.unanswered == 0


def test_clean_capture_details_and_transcript(tmp_path: Path) -> None:
    conv = conversation(run(deflated(True)(), tmp_path))
    assert conv.details["station"] == "CS001"
    assert conv.details["subprotocol"] == "ocpp2.1"
    assert conv.details["offered"] == ["ocpp2.1", "ocpp2.0.1"]
    assert conv.details["deflate"] is True
    assert conv.details["registration"] == "Accepted"
    assert conv.details["connectors"] == {"1/1": "Available"}
    assert conv.details["close"]["station"]["code"] == 1000
    assert conv.details["pongs"] == {"station": 5}
    assert conv.requests == 7 and conv.messages == 16  # 14 OCPP messages and 2 Close frames
    lines = conv.transcript
    assert "→ GET /ocpp/CS001" in lines[0] and "← 101 Switching Protocols" in lines[1]
    assert "→ CALL BootNotification m0001 {" in lines[2]
    assert "← CALLRESULT m0001 (BootNotification)" in lines[3]
    assert "→ CLOSE 1000" in lines[-2]


def test_credentials_never_appear(tmp_path: Path) -> None:
    s = registered(authorization=oc.basic("WRONG", PASSWORD))
    data = {
        "component": {"name": "SecurityCtrlr"},
        "variable": {"name": "BasicAuthPassword"},
        "attributeValue": PASSWORD,
        "unknownField": 1,  # a schema violation, so the message text lands in a finding
    }
    s.call("SetVariables", {"setVariableData": [data]}, None, from_station=False)
    profile = {"configurationSlot": 1, "connectionData": {"basicAuthPassword": PASSWORD}}
    s.send(False, [2, "np1", "SetNetworkProfile", profile])
    analysis = run(s, tmp_path)
    text = json.dumps(analysis.to_json()) + analysis.render()
    token = oc.basic("WRONG", PASSWORD).split()[1]
    assert PASSWORD not in text and token not in text
    assert "***" in text
    assert conversation(analysis).details["security"].startswith("HTTP Basic")
    assert ("violation", "ocpp.basic-auth", "station") in found(analysis)


# ---------------------------------------------------------------- planted anomalies


def with_call(action: str, payload: Any, answer: Any, **options: Any) -> Callable[[], OcppCapture]:
    def build() -> OcppCapture:
        s = clean()
        s.call(action, payload, answer, **options)
        return s

    return build


def then(*steps: Callable[[OcppCapture], Any], base: Callable[..., OcppCapture] = clean,
         **options: Any) -> Callable[[], OcppCapture]:  # fmt: skip
    def build() -> OcppCapture:
        s = base(**options)
        for step in steps:
            step(s)
        return s

    return build


def error(message_id: str, code: str = "FormatViolation", text: str = "") -> list[Any]:
    return [4, message_id, code, text, {}]


def unanswered(wait: float) -> Callable[[OcppCapture], None]:
    def step(s: OcppCapture) -> None:
        s.call("DataTransfer", {"vendorId": "V"}, None)
        s.tcp.wait(wait)
        s.close()

    return step


def pending_then(
    action: str, payload: dict[str, Any], status: str = "Pending"
) -> Callable[[], OcppCapture]:
    def build() -> OcppCapture:
        s = OcppCapture()
        s.call("BootNotification", BOOT, boot_answer(status, 300))
        s.call(action, payload, ANSWERS[action])
        return s

    return build


def rejected_csms_call() -> OcppCapture:
    s = OcppCapture()
    s.call("BootNotification", BOOT, boot_answer("Rejected", 300))
    s.call("ClearCache", {}, {"status": "Accepted"}, from_station=False)
    return s


def call_before_boot_answer() -> OcppCapture:
    s = OcppCapture()
    s.send(True, [2, "b1", "BootNotification", BOOT])
    s.call("Heartbeat", {}, {"currentTime": NOW})
    s.send(False, [3, "b1", boot_answer()])
    return s


def early_boot() -> OcppCapture:
    s = OcppCapture()
    s.call("BootNotification", BOOT, boot_answer("Pending", 60))
    s.call("BootNotification", BOOT, boot_answer("Pending", 60), wait=5.0)
    return s


def heartbeats(gap: float, interval: int = 300) -> Callable[[], OcppCapture]:
    def build() -> OcppCapture:
        s = registered()
        s.call("Heartbeat", {}, {"currentTime": NOW})
        s.call("Heartbeat", {}, {"currentTime": NOW}, wait=gap)
        return s

    return build


def without_status() -> OcppCapture:
    s = OcppCapture()
    s.call("BootNotification", BOOT, boot_answer())
    charge(s)
    s.close()
    return s


def lost_answer() -> OcppCapture:
    s = clean()
    s.send(True, [2, "x1", "DataTransfer", {"vendorId": "V"}])
    s.tcp.skip(False, len(s.encode(False, [3, "x1", {"status": "Accepted"}])))
    s.close()
    return s


def lost_compressed_call() -> OcppCapture:
    s = registered(deflate="permessage-deflate")
    s.tcp.skip(True, len(s.encode(True, [2, "l1", "Authorize", {"idToken": TOKEN}])))
    s.send(False, [3, "l1", ACCEPTED])
    s.call("Heartbeat", {}, {"currentTime": NOW})
    return s


def undecodable() -> OcppCapture:
    s = registered(deflate="permessage-deflate")
    s.raw(True, ws.encode_frame(ws.TEXT, b"\xff\xff\xff\xff", rsv=ws.RSV1, key=oc.MASK))
    return s


def mid_stream() -> OcppCapture:
    s = OcppCapture(handshake=False)
    s.call("Heartbeat", {}, {"currentTime": NOW})
    return s


def request_only() -> OcppCapture:
    s = OcppCapture()
    s.tcp.packets = s.tcp.packets[:4]  # SYN, SYN/ACK, ACK, the request
    return s


def without_version() -> OcppCapture:
    """The upgrade request lacks Sec-WebSocket-Version; the CSMS upgrades anyway."""
    s = OcppCapture(handshake=False)
    reference = OcppCapture()  # its handshake bytes, segment by segment
    request, response = (bytes(p["TCP"].payload) for p in reference.tcp.packets[3:5])
    s.raw(True, request.replace(b"Sec-WebSocket-Version: 13\r\n", b""))
    s.raw(False, response)
    return oc.register(s)


def no_http() -> OcppCapture:
    s = OcppCapture(handshake=False)
    s.raw(True, b"GET nothing-useful\r\n\r\n")
    return s


def truncated() -> OcppCapture:
    s = clean()
    s.raw(True, s.encode(True, [2, "t1", "Heartbeat", {}])[:-3])
    return s


def after_close() -> OcppCapture:
    s = clean()
    s.raw(True, ws.encode_frame(ws.CLOSE, ws.close_payload(1000), key=oc.MASK))
    s.call("Authorize", {"idToken": TOKEN}, ACCEPTED)
    return s


def no_subprotocol_then_close() -> OcppCapture:
    s = OcppCapture(chosen=None)
    s.close()
    return s


def silent(seconds: float) -> Callable[[OcppCapture], None]:
    def step(s: OcppCapture) -> None:
        s.call("Authorize", {"idToken": TOKEN}, ACCEPTED, wait=seconds)

    return step


def events(s: OcppCapture, *sequence: tuple[str, int]) -> None:
    for event, seq in sequence:
        s.call("TransactionEvent", tx_event(event, seq, "TX2"), {})


BAD_TOKEN = {"idToken": {"idToken": "CONF0001"}}
STREAM = {"id": 1, "pending": 0, "basetime": NOW, "data": [{"t": 0, "v": "1"}]}
V, C = VIOLATION, CAPTURE
S, M, N = STATION, CSMS, ""  # N: no party (the capture itself, or a limit of the analysis)
ANOMALIES: list[tuple[str, Callable[[], Any], list[tuple[str, str, str]]]] = [
    ("schema-invalid payload",
     then(lambda s: s.call("Authorize", BAD_TOKEN, None, message_id="a9"),
          lambda s: s.send(False, error("a9", "OccurrenceConstraintViolation"))),
     [(V, "ocpp.schema", S)]),
    ("CALLRESULT for an unknown id", then(lambda s: s.send(False, [3, "nope", {}])),
     [(V, "ocpp.unknown-id", M)]),
    ("CALLERROR for an unknown id", then(lambda s: s.send(False, error("nope"))),
     [(V, "ocpp.unknown-id", M)]),
    ("CALLRESULTERROR for an unknown id",
     then(lambda s: s.send(True, [5, "nope", "GenericError", "", {}])),
     [(V, "ocpp.unknown-id", S)]),
    ("answered twice",
     then(lambda s: s.send(False, [3, "m0003", {"currentTime": NOW}])),
     [(V, "ocpp.unknown-id", M)]),
    ("unanswered CALL", then(unanswered(40.0)), [(V, "ocpp.unanswered", M)]),
    ("CALL unanswered when the capture ends", then(unanswered(1.0)), [(C, "ocpp.unanswered", N)]),
    ("duplicate message id",
     with_call("Authorize", {"idToken": TOKEN}, ACCEPTED, message_id="m0003"),
     [(V, "ocpp.duplicate-id", S)]),
    ("SEND reusing a CALL's id",
     then(lambda s: s.send(True, [6, "m0003", "NotifyPeriodicEventStream", STREAM])),
     [(V, "ocpp.duplicate-id", S)]),
    ("second CALL while one is outstanding",
     then(lambda s: s.send(True, [2, "o1", "DataTransfer", {"vendorId": "V"}]),
          lambda s: s.call("Authorize", {"idToken": TOKEN}, ACCEPTED),
          lambda s: s.send(False, [3, "o1", {"status": "Accepted"}])),
     [(V, "ocpp.call-outstanding", S)]),
    ("CALL while Pending", pending_then("Authorize", {"idToken": TOKEN}),
     [(V, "ocpp.boot-order", S)]),
    ("CALL while Rejected", pending_then("Heartbeat", {}, "Rejected"), [(V, "ocpp.boot-order", S)]),
    ("CSMS CALL while Rejected", rejected_csms_call, [(V, "ocpp.boot-order", M)]),
    ("CALL before the BootNotification answer", call_before_boot_answer,
     [(V, "ocpp.boot-order", S), (V, "ocpp.call-outstanding", S)]),
    ("BootNotification resent early", early_boot, [(V, "ocpp.boot-resend", S)]),
    ("seqNo skipping", then(lambda s: charge(s, (0, 2, 3)), base=registered),
     [(V, "ocpp.seqno-order", S)]),
    ("Updated after Ended",
     then(lambda s: events(s, ("Started", 0), ("Ended", 1), ("Updated", 2))),
     [(V, "ocpp.transaction-order", S)]),
    ("second Started",
     then(lambda s: events(s, ("Started", 0), ("Updated", 1), ("Started", 2))),
     [(V, "ocpp.transaction-order", S)]),
    ("Heartbeat too early", heartbeats(10.0), [(V, "ocpp.heartbeat-early", S)]),
    ("station silent too long", then(silent(500.0)), [(V, "ocpp.heartbeat-late", S)]),
    ("no availability after boot", without_status, [(V, "ocpp.availability", S)]),
    ("bad Sec-WebSocket-Accept", lambda: clean(accept="AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
     [(V, "websocket.accept", M)]),
    ("subprotocol not offered", lambda: clean(offered=("ocpp2.1",), chosen="ocpp2.0.1"),
     [(V, "websocket.subprotocol", M)]),
    ("no subprotocol chosen, messages follow", lambda: clean(chosen=None),
     [(V, "ocpp.no-subprotocol", M)]),
    ("no subprotocol chosen, closed", no_subprotocol_then_close,
     [(NOTE, "ocpp.no-subprotocol", M)]),
    ("no subprotocol offered", lambda: clean(offered=(), chosen="ocpp2.1"),
     [(V, "ocpp.subprotocol", S), (V, "websocket.subprotocol", M)]),
    ("OCPP 1.6", lambda: clean(offered=("ocpp1.6",), chosen="ocpp1.6"),
     [(NOTE, "ocpp.version", N)]),
    ("HTTP 404", lambda: OcppCapture(status="404 Not Found"), [(V, "websocket.http-status", M)]),
    ("unmasked client frame", with_call("Authorize", {"idToken": TOKEN}, ACCEPTED, masked=False),
     [(V, "websocket.unmasked-client-frame", S)]),
    ("masked server frame",
     then(lambda s: s.call("Authorize", {"idToken": TOKEN}, None, message_id="k1"),
          lambda s: s.send(False, [3, "k1", ACCEPTED], masked=True)),
     [(V, "websocket.masked-server-frame", M)]),
    ("binary message", then(lambda s: s.send(True, b"[]", opcode=ws.BINARY)),
     [(V, "ocpp.binary", S)]),
    ("data frame after Close", after_close, [(V, "websocket.after-close", S)]),
    ("malformed RPC frame", then(lambda s: s.send(True, '[2,"x"]')), [(V, "ocpp.rpc", S)]),
    ("unknown message type", then(lambda s: s.send(True, '[7,"x",{}]')), [(V, "ocpp.rpc", S)]),
    ("unreadable id answered with -1",
     then(lambda s: s.send(True, '[2,5,"Heartbeat",{}]'),
          lambda s: s.send(False, error("-1", "RpcFrameworkError"))),
     [(V, "ocpp.rpc", S)]),
    ("unknown action",
     then(lambda s: s.call("FooBar", {}, None, message_id="f1"),
          lambda s: s.send(False, error("f1", "NotImplemented"))),
     [(V, "ocpp.unknown-action", S)]),
    ("error code outside Table 9",
     then(lambda s: s.call("DataTransfer", {"vendorId": "V"}, None, message_id="e1"),
          lambda s: s.send(False, error("e1", "Oops"))),
     [(V, "ocpp.error-code", M)]),
    ("error description too long",
     then(lambda s: s.call("DataTransfer", {"vendorId": "V"}, None, message_id="e2"),
          lambda s: s.send(False, error("e2", "GenericError", "x" * 256))),
     [(V, "ocpp.error-description", M)]),
    ("station identity with a colon", lambda: clean(path="/ocpp/CS:001"),
     [(V, "ocpp.station-identity", S)]),
    ("basic auth username", lambda: clean(authorization=oc.basic("CS002", PASSWORD)),
     [(V, "ocpp.basic-auth", S)]),
    ("basic auth short password", lambda: clean(authorization=oc.basic("CS001", "short")),
     [(V, "ocpp.basic-auth", S)]),
    ("basic auth not base64", lambda: clean(authorization="Basic ???"),
     [(V, "ocpp.basic-auth", S)]),
    ("TLS connection", lambda: OcppCapture(tls=True), [(NOTE, "ocpp.tls", N)]),
    ("capture starts after the upgrade", mid_stream, [(C, "ocpp.no-handshake", N)]),
    ("no answer to the upgrade", request_only, [(C, "ocpp.handshake", N)]),
    ("upgrade request without a version", without_version, [(V, "websocket.handshake", S)]),
    ("not an HTTP request", no_http, [(V, "ocpp.handshake", S)]),
    ("capture ends inside a frame", truncated, [(C, "ocpp.truncated", N)]),
    ("lost answer", lost_answer, [(C, "ocpp.unanswered", N), (C, "tcp.gap", N)]),
    ("lost compressed CALL", lost_compressed_call,
     [(C, "ocpp.unknown-id", N), (C, "ocpp.unknown-id", N), (C, "tcp.gap", N),
      (C, "websocket.deflate", N)]),
    ("message that does not inflate", undecodable, [(V, "websocket.deflate", S)]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("build", "expected"), [a[1:] for a in ANOMALIES], ids=[a[0] for a in ANOMALIES]
)
def test_each_planted_anomaly_gives_exactly_its_finding(
    build: Callable[[], Any], expected: list[tuple[str, str, str]], tmp_path: Path
) -> None:
    analysis = run(build(), tmp_path)
    assert found(analysis) == sorted(expected)
    for finding in analysis.findings:
        assert finding.party in ((S, M) if finding.kind == VIOLATION else (N, S, M))
        assert finding.kind != CAPTURE or finding.party == ""
        assert finding.requirement and finding.summary
        assert finding.conversation == conversation(analysis).key
        if finding.check != "ocpp.availability":
            assert finding.frame is not None and finding.frame > 0


def test_findings_name_requirement_frame_message_and_expectation(tmp_path: Path) -> None:
    s = registered()
    charge(s, (0, 2, 3))
    analysis = run(s, tmp_path)
    (finding,) = analysis.findings
    assert finding.requirement == "E01.FR.07"
    assert isinstance(finding.data, str) and '"seqNo":2' in finding.data
    assert finding.expected is not None and "seqNo 1" in finding.expected
    assert finding.decoded is not None and finding.decoded.startswith("→ CALL TransactionEvent")
    packet = s.tcp.packets[finding.frame - 1]
    assert packet["IP"].src == oc.STATION[0] and b"TransactionEvent" not in bytes(packet)  # masked


@pytest.mark.parametrize(
    ("build", "requirement"),
    [
        (pending_then("Authorize", {"idToken": TOKEN}), "B02.FR.02"),
        (pending_then("Heartbeat", {}, "Rejected"), "B03.FR.02"),
        (rejected_csms_call, "B03.FR.03"),
        (early_boot, "B02.FR.04"),
        (without_status, "B01.FR.05"),
        (heartbeats(10.0), "B01.FR.04"),
    ],
)
def test_registration_findings_cite_their_requirement(
    build: Callable[[], OcppCapture], requirement: str, tmp_path: Path
) -> None:
    (finding,) = run(build(), tmp_path).findings
    assert finding.requirement == requirement


def test_before_the_boot_answer_cites_b01_fr_08(tmp_path: Path) -> None:
    analysis = run(call_before_boot_answer(), tmp_path)
    assert {f.requirement for f in analysis.findings} == {"B01.FR.08", "OCPP-J Part 4 §4.1.1"}


def test_long_messages_are_truncated_in_findings(tmp_path: Path) -> None:
    s = clean()
    s.call("DataTransfer", {"vendorId": "V", "data": "y" * 5000, "extra": 1}, None)
    (finding,) = [f for f in run(s, tmp_path).findings if f.check == "ocpp.schema"]
    assert isinstance(finding.data, str) and len(finding.data) < 700
    assert "characters)" in finding.data


def test_tls_connection_reports_nothing_else(tmp_path: Path) -> None:
    analysis = run(OcppCapture(tls=True), tmp_path)
    conv = conversation(analysis)
    assert conv.messages == 0 and conv.transcript == []
    assert analysis.findings[0].summary == "TLS-encrypted: not analysable without keys"


def test_a_malformed_head_does_not_show_its_credentials(tmp_path: Path) -> None:
    s = OcppCapture(handshake=False)
    token = oc.basic("CS001", PASSWORD).split()[1]
    s.raw(True, f"GET /ocpp/CS001 HTTP/1.1\r\nAuthorization Basic {token}\r\n\r\n".encode())
    analysis = run(s, tmp_path)
    assert found(analysis) == [(VIOLATION, "ocpp.handshake", STATION)]
    assert token not in json.dumps(analysis.to_json()) + analysis.render()


# ---------------------------------------------------------------- parties


def both_sides() -> OcppCapture:
    """The station skips a seqNo, the CSMS answers with an error code outside Table 9."""
    s = registered()
    charge(s, (0, 2, 3))
    s.call("DataTransfer", {"vendorId": "V"}, None, message_id="e1")
    s.send(False, error("e1", "Oops"))
    return s


def test_both_sides_misbehave_and_are_counted_per_party(tmp_path: Path) -> None:
    analysis = run(both_sides(), tmp_path)
    assert found(analysis) == [(V, "ocpp.error-code", M), (V, "ocpp.seqno-order", S)]
    assert analysis.violations_by_party() == {CSMS: 1, STATION: 1}
    assert "findings: 2 violation (1 csms, 1 station), 0 capture, 0 note" in analysis.render()


@pytest.mark.parametrize(
    ("build", "status"),
    [(both_sides, "failed"), (rejected_csms_call, "failed"), (closed, "passed")],
    ids=["both sides", "the CSMS alone", "clean"],
)
def test_a_violation_by_either_side_fails_in_allure(
    build: Callable[[], OcppCapture], status: str, tmp_path: Path
) -> None:
    written = write_results(run(build(), tmp_path), tmp_path / "allure")
    (result,) = [json.loads(p.read_text()) for p in written if p.name.endswith("-result.json")]
    assert result["status"] == status
    message = result["statusDetails"]["message"]
    if build is rejected_csms_call:
        assert message.startswith("violations: 1 by the csms\n")
        assert "VIOLATION (csms) ocpp.boot-order" in message


@pytest.mark.parametrize("build", [lambda: OcppCapture(tls=True), lambda: clean(status="404")])
def test_a_connection_without_messages_but_with_findings_is_listed(
    build: Callable[[], OcppCapture], tmp_path: Path
) -> None:
    analysis = run(build(), tmp_path)
    assert conversation(analysis).messages == 0 and analysis.findings
    assert analysis.empty_keys() == set()
    assert "no messages" not in analysis.render()
