"""``conformance analyze`` on pcap / pcapng captures of VISCA over IP: reading every
supported link type, each planted anomaly found at its frame, output and CLI."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP, fragment
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw
from scapy.utils import wrpcap

from conformance.analyze import analyze
from conformance.analyze.allure import write_results
from conformance.analyze.command import run
from conformance.analyze.model import (
    CAMERA,
    CAPTURE,
    CONTROLLER,
    NOTE,
    SCHEMA,
    TRANSCRIPT_LINES,
    VIOLATION,
    Analysis,
    Conversation,
)
from conformance.analyze.ports import parse_ports
from conformance.cli import UsageError
from conformance.files import write_atomic
from dissectors import visca_ip as vip
from tests import captures as c
from tests.conftest import labels

CLEAN = 10  # packets in c.clean_visca_ip()


def analysed(tmp_path: Path, packets: list[Packet], **kw: object) -> Analysis:
    return analyze(c.write(tmp_path / "capture.pcap", packets, **kw))  # type: ignore[arg-type]


def found(analysis: Analysis) -> list[tuple[str, str, int | None, str]]:
    return [(f.kind, f.check, f.frame, f.party) for f in analysis.sorted_findings()]


def test_clean_exchange_has_no_findings_and_pairs_every_request(tmp_path: Path) -> None:
    a = analysed(tmp_path, c.clean_visca_ip())
    assert found(a) == []
    (conv,) = a.conversations.values()
    assert conv.key == "10.0.0.2:50000 -> 10.0.0.9:52381"
    assert (conv.messages, conv.requests, conv.replies, conv.unanswered) == (10, 4, 6, 0)
    assert conv.latency.count == 4  # RESET, two commands, one inquiry
    assert conv.completion.count == 2
    assert conv.latency.percentile(50) == pytest.approx(0.010, rel=0.03)
    assert conv.completion.max == pytest.approx(0.020)
    assert conv.details["resets"] == 1
    assert a.packets == CLEAN and a.other_packets == 0


def test_pcapng_gives_the_same_analysis_as_pcap(tmp_path: Path) -> None:
    packets = [*c.clean_visca_ip(), c.request(c.PT_UP, 9), c.reply(c.ACK, 9)]
    pcap = analyze(c.write(tmp_path / "a.pcap", packets)).to_json()
    pcapng = analyze(c.write(tmp_path / "a.pcapng", packets, pcapng=True)).to_json()
    assert (pcap.pop("format"), pcapng.pop("format")) == ("pcap", "pcapng")
    pcap.pop("capture"), pcapng.pop("capture")
    assert pcap == pcapng
    assert [(f["check"], f["frame"]) for f in pcap["findings"]][:1] == [
        ("visca-ip.sequence-gap", 11)
    ]


# ---------------------------------------------------------------- planted anomalies


PLANTED = {
    "sequence gap": (
        c.exchange(c.PT_UP, 6, c.ACK, c.COMPLETION),
        [(VIOLATION, "visca-ip.sequence-gap", 11, CONTROLLER)],
    ),
    "same sequence, different message": (
        c.exchange(c.PT_UP, 3, c.ACK, c.COMPLETION),
        [(VIOLATION, "visca-ip.duplicate-sequence", 11, CONTROLLER)],
    ),
    "retransmission": (
        c.exchange(c.PT_STOP, 3, c.ACK, c.COMPLETION),
        [(NOTE, "visca-ip.retransmission", 11, CONTROLLER)],
    ),
    "sequence backwards": (
        c.exchange(c.PT_UP, 1, c.ACK, c.COMPLETION),
        [(VIOLATION, "visca-ip.sequence-backwards", 11, CONTROLLER)],
    ),
    "bad payload length": (
        [
            c.udp(struct.pack(">HHI", vip.COMMAND, 10, 4) + c.PT_UP, to_camera=True),
            c.reply(vip.MESSAGE_TYPE_ERROR, 4, vip.CONTROL_REPLY),
        ],
        [
            (VIOLATION, "visca-ip.length", 11, CONTROLLER),
            (NOTE, "visca-ip.control-error", 12, CAMERA),  # rightly refused: the probe's flaw
        ],
    ),
    "unknown payload type": (
        [c.request(c.PT_UP, 4, 0x0300), c.reply(vip.MESSAGE_TYPE_ERROR, 4, vip.CONTROL_REPLY)],
        [
            (VIOLATION, "visca-ip.payload-type", 11, CONTROLLER),
            (NOTE, "visca-ip.control-error", 12, CAMERA),
        ],
    ),
    "a reply payload type sent as a request": (
        [c.request(c.PT_UP, 4, vip.REPLY), c.reply(vip.MESSAGE_TYPE_ERROR, 4, vip.CONTROL_REPLY)],
        [
            (VIOLATION, "visca-ip.payload-type", 11, CONTROLLER),
            (NOTE, "visca-ip.control-error", 12, CAMERA),  # paired, not an orphan
        ],
    ),
    "a sequence number out of step after a RESET": (
        [
            c.request(vip.RESET, 4, vip.CONTROL),
            c.reply(vip.CONTROL_ACK, 4, vip.CONTROL_REPLY),
            c.request(c.PT_UP, 1000),
            c.reply(vip.SEQUENCE_ERROR, 1000, vip.CONTROL_REPLY),
        ],
        [
            (VIOLATION, "visca-ip.sequence-after-reset", 13, CONTROLLER),
            (NOTE, "visca-ip.control-error", 14, CAMERA),
        ],
    ),
    "type error to a valid request": (
        [c.request(c.PT_UP, 4), c.reply(vip.MESSAGE_TYPE_ERROR, 4, vip.CONTROL_REPLY)],
        [(VIOLATION, "visca-ip.control-error", 12, CAMERA)],
    ),
    "reply without a request": (
        [c.reply(c.ACK, 42)],
        [(VIOLATION, "visca-ip.orphan-reply", 11, CAMERA)],
    ),
    "reply with the wrong payload type": (
        [c.request(c.PT_UP, 4), c.reply(c.ACK, 4, vip.COMMAND), c.reply(c.COMPLETION, 4)],
        [(VIOLATION, "visca-ip.reply-type", 12, CAMERA)],
    ),
    "syntax error reply": (
        c.exchange(c.PT_UP, 4, c.SYNTAX_ERROR),
        [(VIOLATION, "visca.error-reply", 12, CAMERA)],
    ),
    "not executable (camera state, not a breach)": (
        c.exchange(c.PT_UP, 4, c.ACK, c.NOT_EXECUTABLE),
        [(NOTE, "visca.error-reply", 13, CAMERA)],
    ),
    "invalid inner VISCA": (
        c.exchange(bytes.fromhex("8101FF"), 4, c.SYNTAX_ERROR),
        [(VIOLATION, "visca.invalid", 11, CONTROLLER), (NOTE, "visca.error-reply", 12, CAMERA)],
    ),
    "inquiry answered with an ACK": (
        c.exchange(c.POWER_INQ, 4, c.ACK),
        [(VIOLATION, "visca.reply-mismatch", 12, CAMERA)],
    ),
    "inquiry in a command payload type": (
        [c.request(c.POWER_INQ, 4, vip.COMMAND), c.reply(c.POWER_ON_ANSWER, 4)],
        [(VIOLATION, "visca-ip.payload-type", 11, CONTROLLER)],
    ),
}


@pytest.mark.parametrize("name", PLANTED)
def test_each_planted_anomaly_gives_exactly_its_findings(tmp_path: Path, name: str) -> None:
    extra, expected = PLANTED[name]
    a = analysed(tmp_path, [*c.clean_visca_ip(), *extra])
    assert found(a) == expected


def test_a_reset_allows_the_sequence_to_start_again(tmp_path: Path) -> None:
    again = [
        c.request(vip.RESET, 0, vip.CONTROL),
        c.reply(vip.CONTROL_ACK, 0, vip.CONTROL_REPLY),
        *c.exchange(c.PT_UP, 0, c.ACK, c.COMPLETION),
    ]
    a = analysed(tmp_path, [*c.clean_visca_ip(), *again])
    assert found(a) == []
    assert next(iter(a.conversations.values())).details["resets"] == 2


def test_a_request_never_answered_within_the_bound(tmp_path: Path) -> None:
    late = c.T0 + 60
    packets = [
        *c.clean_visca_ip(),
        c.at(c.request(c.PT_UP, 4), late),
        c.at(c.request(c.POWER_INQ, 5), late + 6),
        c.at(c.reply(c.POWER_ON_ANSWER, 5), late + 6.01),
    ]
    a = analysed(tmp_path, packets)
    assert found(a) == [(VIOLATION, "visca-ip.no-reply", 11, CAMERA)]
    assert next(iter(a.conversations.values())).unanswered == 1


def test_an_acknowledged_command_never_completed(tmp_path: Path) -> None:
    late = c.T0 + 60
    packets = [
        *c.clean_visca_ip(),
        c.at(c.request(c.PT_UP, 4), late),
        c.at(c.reply(c.ACK, 4), late + 0.01),
        c.at(c.request(c.POWER_INQ, 5), late + 40),
        c.at(c.reply(c.POWER_ON_ANSWER, 5), late + 40.01),
    ]
    assert found(analysed(tmp_path, packets)) == [(VIOLATION, "visca-ip.no-completion", 11, CAMERA)]


def test_a_capture_ending_right_after_a_request_is_not_a_violation(tmp_path: Path) -> None:
    a = analysed(tmp_path, [*c.clean_visca_ip(), c.request(c.PT_UP, 4)])
    assert found(a) == [(CAPTURE, "capture.ends-before-reply", 11, "")]


def test_both_sides_on_the_service_port(tmp_path: Path) -> None:
    packets = []
    for pkt in c.clean_visca_ip():
        pkt[UDP].sport = pkt[UDP].dport = vip.PORT
        packets.append(pkt)
    a = analysed(tmp_path, packets)
    assert found(a) == []
    assert list(a.conversations) == ["10.0.0.2:52381 -> 10.0.0.9:52381"]


# ---------------------------------------------------------------- link types and capture faults


GAP = c.exchange(c.PT_UP, 6, c.ACK, c.COMPLETION)


@pytest.mark.parametrize("link", ["sll", "sll2", "raw", "null"])
def test_other_link_types_read_the_same(tmp_path: Path, link: str) -> None:
    a = analysed(tmp_path, c.relink([*c.clean_visca_ip(), *GAP], link))
    assert found(a) == [(VIOLATION, "visca-ip.sequence-gap", 11, CONTROLLER)]
    assert a.packets == CLEAN + 3


def test_ipv6_and_vlan(tmp_path: Path) -> None:
    six = analysed(tmp_path, [*c.clean_visca_ip(ipv6=True), c.request(c.PT_UP, 6, ipv6=True)])
    assert list(six.conversations) == ["[fd00::2]:50000 -> [fd00::9]:52381"]
    assert found(six)[0] == (VIOLATION, "visca-ip.sequence-gap", 11, CONTROLLER)
    vlan = analysed(tmp_path, [*c.clean_visca_ip(vlan=7), *c.exchange(c.PT_UP, 1)])
    assert found(vlan)[0] == (VIOLATION, "visca-ip.sequence-backwards", 11, CONTROLLER)


def test_snaplen_cut_packets_are_reported_once_and_not_judged(tmp_path: Path) -> None:
    a = analysed(tmp_path, c.clean_visca_ip(), snaplen=50)  # headers only: 8 payload bytes
    assert found(a) == [(CAPTURE, "capture.snaplen", 1, "")]
    assert next(iter(a.conversations.values())).latency.count == 4


def test_fragments_other_traffic_and_unknown_link_types_are_counted(tmp_path: Path) -> None:
    big = Ether() / IP(src=c.CONTROLLER, dst=c.CAMERA) / UDP(sport=1, dport=2) / Raw(bytes(64))
    dns = Ether() / IP(src=c.CONTROLLER, dst="10.0.0.53") / UDP(sport=5353, dport=53) / Raw(b"q")
    packets = [*c.clean_visca_ip(), *(Ether() / f for f in fragment(big[IP], 24)), dns]
    a = analysed(tmp_path, packets)
    assert found(a) == [(CAPTURE, "capture.ip-fragment", 11, "")]
    assert "(3 packets)" in a.findings[0].summary
    assert a.other_packets == 4
    odd = tmp_path / "odd.pcap"
    wrpcap(str(odd), [Raw(b"x" * 20), Raw(b"y" * 20)], linktype=147)
    b = analyze(odd)
    assert found(b) == [(CAPTURE, "capture.link-type", 1, "")]
    assert b.other_packets == 2


def test_a_capture_file_cut_short(tmp_path: Path) -> None:
    path = c.write(tmp_path / "c.pcap", c.clean_visca_ip())
    path.write_bytes(path.read_bytes()[:-5])
    a = analyze(path)
    assert (CAPTURE, "capture.file-cut", CLEAN, "") in found(a)
    assert not a.violations


def test_files_that_are_not_captures(tmp_path: Path) -> None:
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ValueError, match="neither a pcap/pcapng capture nor a text log"):
        analyze(binary)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty"):
        analyze(empty)
    prose = tmp_path / "notes.txt"
    prose.write_text("nothing to see here\njust words\n")
    with pytest.raises(ValueError, match="no hex bytes"):
        analyze(prose)


def test_ports_given_to_analyze_are_checked(tmp_path: Path) -> None:
    path = c.write(tmp_path / "c.pcap", c.clean_visca_ip())
    with pytest.raises(ValueError, match="unknown protocol 'http'"):
        analyze(path, ports={"http": [80]})
    with pytest.raises(ValueError, match="bad port 0"):
        analyze(path, ports={"visca-ip": [0]})
    assert analyze(path, ports={"visca-ip": [52381]}).conversations


# ---------------------------------------------------------------- output


def test_json_document_keys(tmp_path: Path) -> None:
    doc = json.loads(json.dumps(analysed(tmp_path, [*c.clean_visca_ip(), *GAP]).to_json()))
    assert doc["schema"] == SCHEMA
    assert set(doc) == {
        "schema", "capture", "format", "packets", "other_packets", "conversations",
        "findings", "totals", "violations_by_party", "by_check", "suppressed",
    }  # fmt: skip
    (conv,) = doc["conversations"]
    assert conv["empty"] is False
    assert set(conv["latency"]) == {"count", "min", "max", "mean", "p50", "p95", "p99"}
    assert conv["transcript"][2].startswith("+0.020000  #3 > seq=1 VISCA command")
    (finding,) = doc["findings"]
    assert finding == {
        "kind": "violation",
        "check": "visca-ip.sequence-gap",
        "requirement": "AVer VISCA §3.2.4",
        "summary": finding["summary"],
        "conversation": "10.0.0.2:50000 -> 10.0.0.9:52381",
        "frame": 11,
        "time": pytest.approx(c.T0 + 0.1),
        "data": "01 00 00 09 00 00 00 06 81 01 06 01 05 05 03 01 FF",
        "data_format": "hex",
        "decoded": None,
        "expected": "sequence number 4",
        "party": "controller",
    }
    assert doc["totals"] == {"violation": 1, "capture": 0, "note": 0}
    assert doc["violations_by_party"] == {"controller": 1}


def test_render_lists_conversations_and_findings(tmp_path: Path) -> None:
    text = analysed(tmp_path, [*c.clean_visca_ip(), *GAP]).render()
    assert "10.0.0.2:50000 -> 10.0.0.9:52381" in text
    assert "frame 11 VIOLATION (controller) visca-ip.sequence-gap" in text
    assert "findings: 1 violation (1 controller), 0 capture, 0 note" in text
    assert "no messages" not in text
    clean = analysed(tmp_path, c.clean_visca_ip()).render()
    assert "findings: 0 violation, 0 capture, 0 note" in clean


def test_allure_results(tmp_path: Path) -> None:
    packets = [*c.clean_visca_ip(), *GAP, c.reply(c.ACK, 99)]
    a = analysed(tmp_path, packets)
    out = tmp_path / "allure"
    written = write_results(a, out)
    results = [json.loads(p.read_text()) for p in written if p.name.endswith("-result.json")]
    (result,) = results
    assert result["status"] == "failed"
    assert result["name"] == "capture capture.pcap: visca-ip 10.0.0.2:50000 -> 10.0.0.9:52381"
    assert labels(result, "epic") == ["VISCA over IP"]
    assert labels(result, "feature") == ["Capture analysis"]
    assert labels(result, "story") == ["10.0.0.2:50000 -> 10.0.0.9:52381"]
    assert labels(result, "requirement") == ["AVer VISCA §3.2.4"]
    message = result["statusDetails"]["message"]
    assert "frame 11" in message and "frame 14" in message and "expected:" in message
    assert message.splitlines()[0] == (
        "violations: 1 by the controller (not failing this result), 1 by the camera"
    )
    assert "frame 11: VIOLATION (controller) visca-ip.sequence-gap" in message
    assert labels(result, "tag") == ["violation by the controller", "violation by the camera"]
    names = {att["name"]: (out / att["source"]).read_text() for att in result["attachments"]}
    assert "frame 14: VIOLATION (camera) visca-ip.orphan-reply" in names["findings"]
    assert "#3 > seq=1" in names["messages"]
    assert not list(out.glob(".*.tmp"))
    clean = write_results(analysed(tmp_path, c.clean_visca_ip()), tmp_path / "clean")
    (ok,) = [json.loads(p.read_text()) for p in clean if p.name.endswith("-result.json")]
    assert ok["status"] == "passed" and labels(ok, "requirement") == []


def results(written: list[Path]) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in written if p.name.endswith("-result.json")]


def test_violations_of_the_controller_alone_pass_in_allure(tmp_path: Path) -> None:
    probes = [
        *GAP,  # frame 11: a sequence gap
        c.request(c.PT_UP, 7, 0x0300),  # 14: an unknown payload type ...
        c.reply(vip.MESSAGE_TYPE_ERROR, 7, vip.CONTROL_REPLY),  # 15: ... rightly refused
    ]
    a = analysed(tmp_path, [*c.clean_visca_ip(), *probes])
    assert [f[3] for f in found(a) if f[0] == VIOLATION] == [CONTROLLER, CONTROLLER]
    (result,) = results(write_results(a, tmp_path / "allure"))
    assert result["status"] == "passed"
    message = str(result["statusDetails"]["message"])  # type: ignore[index]
    assert message.startswith("violations: 2 by the controller (not failing this result)\n")
    assert "frame 15: NOTE (camera) visca-ip.control-error" in message


def both_sides() -> list[Packet]:
    """The controller skips a sequence number and sends an unknown payload type; the camera
    rightly refuses the latter, then answers a valid command with Syntax_Error."""
    return [
        *c.clean_visca_ip(),
        *GAP,  # 11-13: sequence gap (controller)
        c.request(c.PT_UP, 7, 0x0300),  # 14: unknown payload type (controller)
        c.reply(vip.MESSAGE_TYPE_ERROR, 7, vip.CONTROL_REPLY),  # 15: rightly (NOTE)
        *c.exchange(c.PT_STOP, 7, c.SYNTAX_ERROR),  # 16-17: Syntax_Error to valid (camera)
    ]


def test_both_sides_misbehave_and_are_counted_per_party(tmp_path: Path) -> None:
    a = analysed(tmp_path, both_sides())
    assert found(a) == [
        (VIOLATION, "visca-ip.sequence-gap", 11, CONTROLLER),
        (VIOLATION, "visca-ip.payload-type", 14, CONTROLLER),
        (NOTE, "visca-ip.control-error", 15, CAMERA),
        (VIOLATION, "visca.error-reply", 17, CAMERA),
    ]
    assert a.violations_by_party() == {CONTROLLER: 2, CAMERA: 1}
    assert a.to_json()["violations_by_party"] == {"controller": 2, "camera": 1}
    text = a.render()
    assert "findings: 3 violation (2 controller, 1 camera), 0 capture, 1 note" in text
    assert "frame 17 VIOLATION (camera) visca.error-reply" in text
    assert "frame 15 NOTE (camera) visca-ip.control-error" in text
    (result,) = results(write_results(a, tmp_path / "allure"))
    assert result["status"] == "failed"
    message = str(result["statusDetails"]["message"])  # type: ignore[index]
    assert message.splitlines()[0] == (
        "violations: 2 by the controller (not failing this result), 1 by the camera"
    )
    assert "frame 17: VIOLATION (camera) visca.error-reply" in message


def test_suppressed_violations_still_count_per_party(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conformance.analyze import model

    monkeypatch.setattr(model, "FINDINGS_PER_CHECK", 1)
    orphans = [c.reply(c.ACK, 90 + i) for i in range(3)]
    a = analysed(tmp_path, [*c.clean_visca_ip(), *orphans])
    assert len(a.findings) == 1 and a.violations_by_party() == {CAMERA: 3}


def test_message_less_connections_are_collapsed(tmp_path: Path) -> None:
    refused = [
        *(c.TcpConnection(9000, client_port=41000 + i).refused() for i in range(3)),
        *(c.TcpConnection(5678, client_port=42000 + i).refused() for i in range(2)),
    ]
    a = analysed(tmp_path, [*c.clean_visca_ip(), *(p for pair in refused for p in pair)])
    assert len(a.conversations) == 6 and found(a) == []
    assert len(a.empty_keys()) == 5
    text = a.render()
    assert "ocpp -> 10.0.0.9:9000: 3 connection(s) with no messages: refused or empty" in text
    assert "visca-tcp -> 10.0.0.9:5678: 2 connection(s) with no messages: refused or empty" in text
    assert ":41000" not in text and "10.0.0.2:50000 -> 10.0.0.9:52381" in text
    doc = a.to_json()
    assert [conv["empty"] for conv in doc["conversations"]] == [False] + [True] * 5
    (result,) = results(write_results(a, tmp_path / "allure"))
    assert labels(result, "epic") == ["VISCA over IP"]


def test_a_message_less_connection_with_a_finding_is_not_collapsed(tmp_path: Path) -> None:
    s = c.TcpConnection(5678)
    packets = [*s.handshake(), s.send(True, c.PT_UP[:4])]  # the capture ends mid-message
    a = analysed(tmp_path, packets)
    (conv,) = a.conversations.values()
    assert conv.messages == 0 and a.empty_keys() == set()
    assert "no messages" not in a.render()
    assert len(results(write_results(a, tmp_path / "allure"))) == 1


def test_note_line_keeps_the_message_count() -> None:
    conv = Conversation("ocpp", "k", "a", "b")
    conv.note_line(10.0, "GET /ocpp/CS001")
    conv.note_message(10.5, "CALL Heartbeat")
    assert conv.messages == 1
    assert conv.transcript == ["+0.000000  GET /ocpp/CS001", "+0.500000  CALL Heartbeat"]
    for _ in range(TRANSCRIPT_LINES):
        conv.note_line(11.0, "more")
    assert conv.messages == 1 and conv.transcript_full and conv.transcript_omitted == 2


def test_write_atomic_replaces_whole_files_or_nothing(tmp_path: Path) -> None:
    target = tmp_path / "result.json"
    write_atomic(target, "first")
    write_atomic(target, b"\x00second")
    assert target.read_bytes() == b"\x00second"
    blocked = tmp_path / "busy"
    blocked.mkdir()
    (blocked / "inside").write_text("keep")
    with pytest.raises(OSError):
        write_atomic(blocked, "cannot replace a directory")
    assert (blocked / "inside").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy", "result.json"]


# ---------------------------------------------------------------- command


def test_run_exit_codes_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = c.write(tmp_path / "clean.pcap", c.clean_visca_ip())
    assert run(str(clean), json_out=False, allure=None, ports=None, protocol=None) == 0
    assert "0 violation" in capsys.readouterr().out
    # the controller's violations are listed, but only the camera's set the exit status
    probe = c.write(tmp_path / "probe.pcap", [*c.clean_visca_ip(), *GAP])
    assert run(str(probe), json_out=False, allure=None, ports=None, protocol=None) == 0
    assert "1 violation (1 controller)" in capsys.readouterr().out
    camera_bad = [*c.clean_visca_ip(), *c.exchange(c.PT_UP, 4, c.SYNTAX_ERROR)]
    bad = c.write(tmp_path / "bad.pcap", camera_bad)
    allure = tmp_path / "results"
    assert run(str(bad), json_out=True, allure=str(allure), ports=None, protocol=None) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["totals"]["violation"] == 1
    assert doc["violations_by_party"] == {"camera": 1}
    assert list(allure.glob("*-result.json"))
    # the same capture on another port, given with --port (the default port stays)
    moved = []
    for pkt in c.stamp([p.copy() for p in camera_bad]):
        udp = pkt[UDP]
        udp.sport, udp.dport = (1259 if p == vip.PORT else p for p in (udp.sport, udp.dport))
        moved.append(pkt)
    other = c.write(tmp_path / "moved.pcap", moved)
    assert run(str(other), json_out=False, allure=None, ports=None, protocol=None) == 0
    assert "(12 not analysed)" in capsys.readouterr().out
    assert run(str(other), json_out=False, allure=None, ports="visca-ip=1259", protocol=None) == 1


def test_parse_ports_adds_to_the_defaults() -> None:
    assert parse_ports(None) == {
        "visca-ip": [52381], "visca-tcp": [5678], "pelco-d-tcp": [], "pelco-p-tcp": [],
        "ocpp": [9000],
    }  # fmt: skip
    ports = parse_ports("ocpp=80, ocpp=8080,pelco-d-tcp=4001,visca-ip=52381")
    assert ports["ocpp"] == [9000, 80, 8080] and ports["pelco-d-tcp"] == [4001]
    assert ports["visca-ip"] == [52381]
    moved = parse_ports("pelco-p-tcp=5678")  # a default port given to another protocol
    assert moved["visca-tcp"] == [] and moved["pelco-p-tcp"] == [5678]
    with pytest.raises(ValueError, match="to both visca-tcp and ocpp"):
        parse_ports("visca-tcp=80,ocpp=80")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"capture": "missing.pcap"}, "no such file: missing.pcap"),
        ({"ports": "visca-ip"}, "bad --port entry 'visca-ip'"),
        ({"ports": "http=80"}, "unknown protocol 'http' in --port"),
        ({"ports": "visca-ip=70000"}, "bad port '70000'"),
        ({"protocol": "sony"}, "unknown protocol 'sony'"),
        ({"capture": "blob.bin"}, "neither a pcap/pcapng capture nor a text log"),
    ],
)
def test_run_usage_errors_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: dict[str, str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    c.write(tmp_path / "ok.pcap", c.clean_visca_ip())
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)))
    kw = {"capture": "ok.pcap", "json_out": False, "allure": None, "ports": None,
          "protocol": None, **args}  # fmt: skip
    with pytest.raises(UsageError) as err:
        run(**kw)  # type: ignore[arg-type]
    assert str(err.value).startswith("conformance analyze: ")
    assert message in str(err.value) and "\n" not in str(err.value)
