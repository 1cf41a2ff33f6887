"""Raw VISCA and Pelco over TCP: reassembly (order, retransmissions, gaps, mid-stream
starts), framing and resynchronisation, pairing and the stream checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from scapy.packet import Packet

from conformance.analyze import analyze, dispatch
from conformance.analyze.model import (
    CAMERA,
    CAPTURE,
    CONTROLLER,
    NOTE,
    VIOLATION,
    Analysis,
    Conversation,
)
from conformance.analyze.ports import parse_ports
from conformance.analyze.tcp import ACK, SYN, Reassembler
from dissectors import pelco_d, pelco_p
from tests import captures as c

VISCA_TCP = 5678
PELCO_PORT = 4001
PORTS = parse_ports(f"pelco-d-tcp={PELCO_PORT}")
PORTS_P = parse_ports(f"pelco-p-tcp={PELCO_PORT}")


def analysed(tmp_path: Path, packets: list[Packet], ports: object = None) -> Analysis:
    path = c.write(tmp_path / "tcp.pcap", packets)
    return analyze(path, ports=ports)  # type: ignore[arg-type]


def found(analysis: Analysis) -> list[tuple[str, str, int | None, str]]:
    return [(f.kind, f.check, f.frame, f.party) for f in analysis.sorted_findings()]


def visca_connection(*, handshake: bool = True) -> tuple[c.TcpConnection, list[Packet]]:
    """Frames 1-3 handshake, 4-6 command/ACK/Completion, 7-8 inquiry/answer."""
    s = c.TcpConnection(VISCA_TCP)
    packets = s.handshake() if handshake else []
    packets += [
        s.send(True, c.PT_UP),
        s.send(False, c.ACK),
        s.send(False, c.COMPLETION),
        s.send(True, c.POWER_INQ),
        s.send(False, c.POWER_ON_ANSWER),
    ]
    return s, packets


def test_clean_visca_over_tcp(tmp_path: Path) -> None:
    s, packets = visca_connection()
    a = analysed(tmp_path, [*packets, *s.close()])
    assert found(a) == []
    (conv,) = a.conversations.values()
    assert conv.protocol == "visca-tcp"
    assert conv.key == "10.0.0.2:40000 -> 10.0.0.9:5678"
    assert (conv.messages, conv.requests, conv.replies) == (5, 2, 3)
    assert (conv.latency.count, conv.completion.count) == (2, 1)
    assert conv.completion.max == pytest.approx(0.020)


def test_out_of_order_and_retransmitted_segments_give_no_findings(tmp_path: Path) -> None:
    s = c.TcpConnection(VISCA_TCP)
    handshake = s.handshake()
    first = s.send(True, c.PT_UP[:4])
    second = s.send(True, c.PT_UP[4:])
    packets = [*handshake, second, first, first.copy(), s.send(False, c.ACK + c.COMPLETION)]
    a = analysed(tmp_path, packets)
    assert found(a) == []
    (conv,) = a.conversations.values()
    assert (conv.requests, conv.replies) == (1, 2)


def test_a_gap_in_the_stream_is_a_capture_finding(tmp_path: Path) -> None:
    s, packets = visca_connection()
    s.skip(True, 5)  # the controller's next request was not captured ...
    packets += [s.send(False, c.ACK), s.send(False, c.COMPLETION)]  # ... only its replies
    packets += [s.send(True, c.PT_STOP), s.send(False, c.ACK), s.send(False, c.COMPLETION)]
    a = analysed(tmp_path, [*packets, *s.close()])
    assert found(a) == [(CAPTURE, "tcp.gap", 9, "")]  # the camera acknowledged unseen bytes
    assert "5 bytes client -> server" in a.findings[0].summary


def test_a_mid_stream_capture_without_syn(tmp_path: Path) -> None:
    _, packets = visca_connection(handshake=False)
    a = analysed(tmp_path, packets)
    assert found(a) == []
    assert list(a.conversations) == ["10.0.0.2:40000 -> 10.0.0.9:5678"]


def test_garbage_between_messages_is_skipped_and_named(tmp_path: Path) -> None:
    s, packets = visca_connection()
    packets.append(s.send(True, bytes.fromhex("001234") + c.PT_STOP))
    packets += [s.send(False, c.ACK), s.send(False, c.COMPLETION)]
    a = analysed(tmp_path, [*packets, *s.close()])
    assert found(a) == [(VIOLATION, "visca.garbage", 9, CONTROLLER)]
    assert "3 bytes" in a.findings[0].summary and "00 12 34" in a.findings[0].summary


def test_a_message_cut_by_the_end_of_the_capture(tmp_path: Path) -> None:
    s, packets = visca_connection()
    packets.append(s.send(True, c.PT_STOP[:4]))
    a = analysed(tmp_path, packets)
    assert found(a) == [(CAPTURE, "capture.truncated-frame", 9, "")]


def test_visca_error_reply_and_unterminated_message(tmp_path: Path) -> None:
    s, packets = visca_connection()
    packets += [s.send(True, c.PT_STOP), s.send(False, c.SYNTAX_ERROR)]
    packets += [s.send(False, bytes.fromhex("90" + "41" * 17))]
    a = analysed(tmp_path, [*packets, *s.close()])
    assert found(a) == [
        (VIOLATION, "visca.error-reply", 10, CAMERA),
        (VIOLATION, "visca.unterminated", 11, CAMERA),
    ]


def test_visca_request_never_answered(tmp_path: Path) -> None:
    s, packets = visca_connection()
    packets.append(c.at(s.send(True, c.PT_STOP), c.T0 + 60))
    packets.append(c.at(s.send(True, c.POWER_INQ), c.T0 + 70))
    packets.append(c.at(s.send(False, c.POWER_ON_ANSWER), c.T0 + 70.01))
    a = analysed(tmp_path, packets)
    assert found(a) == [(VIOLATION, "visca.no-reply", 9, CAMERA)]


# ---------------------------------------------------------------- Pelco


def pelco_connection(frames: list[bytes], port: int = PELCO_PORT) -> list[Packet]:
    s = c.TcpConnection(port)
    return [*s.handshake(), *(s.send(True, f) for f in frames), *s.close()]


GOOD_D = [pelco_d.build("Go To Preset", preset=1), pelco_d.build_pt(pan_speed=0x20, pan_right=True)]
GOOD_P = [pelco_p.build("Go To Preset", preset=1), pelco_p.build("Set Preset", preset=2)]


def test_clean_pelco_d_and_p(tmp_path: Path) -> None:
    assert found(analysed(tmp_path, pelco_connection(GOOD_D), PORTS)) == []
    a = analysed(tmp_path, pelco_connection(GOOD_P), PORTS_P)
    assert found(a) == []
    assert next(iter(a.conversations.values())).requests == 2


def test_pelco_bad_checksum(tmp_path: Path) -> None:
    bad = pelco_d.build("Go To Preset", preset=1, checksum=0x42)
    a = analysed(tmp_path, pelco_connection([GOOD_D[0], bad, GOOD_D[1]]), PORTS)
    assert found(a) == [(VIOLATION, "pelco.checksum", 5, CONTROLLER)]
    assert a.findings[0].expected == "checksum 09 (2~6 SUM)"
    bad_p = pelco_p.build("Go To Preset", preset=1, checksum=0x42)
    b = analysed(tmp_path, pelco_connection([bad_p, *GOOD_P]), PORTS_P)
    assert found(b) == [(VIOLATION, "pelco.checksum", 4, CONTROLLER)]


def test_pelco_garbage_even_with_sync_bytes_inside_is_skipped(tmp_path: Path) -> None:
    junk = bytes.fromhex("12FF34")  # an FF that is not a frame start
    a = analysed(tmp_path, pelco_connection([GOOD_D[0], junk + GOOD_D[1]]), PORTS)
    assert found(a) == [(VIOLATION, "pelco.garbage", 5, CONTROLLER)]
    assert "12 FF 34" in a.findings[0].summary
    assert next(iter(a.conversations.values())).requests == 2
    b = analysed(tmp_path, pelco_connection([GOOD_P[0], b"\x00\x01" + GOOD_P[1]]), PORTS_P)
    assert found(b) == [(VIOLATION, "pelco.garbage", 5, CONTROLLER)]


def test_the_camera_side_of_a_stream_is_the_camera(tmp_path: Path) -> None:
    s, packets = visca_connection()
    packets += [s.send(False, bytes.fromhex("0102")), s.send(True, c.PT_STOP)]
    packets += [s.send(False, c.ACK), s.send(False, c.COMPLETION)]
    a = analysed(tmp_path, [*packets, *s.close()])
    assert found(a) == [(VIOLATION, "visca.garbage", 11, CAMERA)]  # flushed with the ACK
    p = c.TcpConnection(PELCO_PORT)
    bad = pelco_d.build("Go To Preset", preset=1, checksum=0x42)
    pelco = [*p.handshake(), p.send(True, GOOD_D[0]), p.send(False, bad), *p.close()]
    assert found(analysed(tmp_path, pelco, PORTS)) == [(VIOLATION, "pelco.checksum", 5, CAMERA)]


def test_pelco_frame_cut_at_the_end(tmp_path: Path) -> None:
    s = c.TcpConnection(PELCO_PORT)
    packets = [*s.handshake(), s.send(True, GOOD_D[0]), s.send(True, GOOD_D[1][:3])]
    assert found(analysed(tmp_path, packets, PORTS)) == [
        (CAPTURE, "capture.truncated-frame", 5, "")
    ]


# ---------------------------------------------------------------- OCPP stand-in, reassembler


def test_ocpp_ports_without_the_ocpp_analyser_give_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dispatch, "OCPP_MODULE", "conformance.analyze.no_such_module")
    s = c.TcpConnection(9000)
    packets = [*s.handshake(), s.send(True, b"GET / HTTP/1.1\r\n\r\n"), *s.close()]
    a = analysed(tmp_path, packets)
    assert found(a) == [(NOTE, "ocpp.unavailable", None, "")]
    assert "OCPP analysis not available" in a.findings[0].summary


class Recorder:
    def __init__(self, analysis: Analysis, conversation: Conversation) -> None:
        self.events: list[tuple[object, ...]] = []
        Recorder.last = self

    last: Recorder

    def data(self, from_client: bool, payload: bytes, frame: int, time: float) -> None:
        self.events.append(("data", from_client, payload))

    def gap(self, from_client: bool, missing: int, frame: int, time: float) -> None:
        self.events.append(("gap", from_client, missing))

    def close(self, time: float | None) -> None:
        self.events.append(("close",))


def test_reassembly_across_sequence_wrap_around() -> None:
    a = Analysis("unit")
    r = Reassembler(a, {80: ("x", Recorder)})
    isn = 0xFFFFFFF8
    r.segment(1, 0.0, "1.1.1.1", 999, "2.2.2.2", 80, isn, SYN, b"")
    r.segment(2, 0.0, "1.1.1.1", 999, "2.2.2.2", 80, isn + 1, ACK, b"abcdef")
    r.segment(3, 0.0, "1.1.1.1", 999, "2.2.2.2", 80, (isn + 11) & 0xFFFFFFFF, ACK, b"klm")
    r.segment(4, 0.0, "1.1.1.1", 999, "2.2.2.2", 80, (isn + 5) & 0xFFFFFFFF, ACK, b"efghij")
    r.finish()
    assert Recorder.last.events == [
        ("data", True, b"abcdef"),
        ("data", True, b"ghij"),
        ("data", True, b"klm"),
        ("close",),
    ]
    assert a.findings == []


def test_too_much_out_of_order_data_declares_a_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.analyze import tcp

    monkeypatch.setattr(tcp, "MAX_BUFFERED_SEGMENTS", 2)
    a = Analysis("unit")
    r = Reassembler(a, {80: ("x", Recorder)})
    for i, seq in enumerate((0, 110, 120, 130), 1):  # 10..109 never arrive
        r.segment(i, 0.0, "1.1.1.1", 999, "2.2.2.2", 80, seq, ACK, b"x" * 10)
    events = Recorder.last.events
    assert events[:3] == [("data", True, b"x" * 10), ("gap", True, 100), ("data", True, b"x" * 10)]
    assert [f.check for f in a.findings] == ["tcp.gap"]
