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
from conformance.analyze.model import CAPTURE, NOTE, SCHEMA, VIOLATION, Analysis
from conformance.analyze.ports import parse_ports
from conformance.cli import UsageError
from dissectors import visca_ip as vip
from tests import captures as c
from tests.conftest import labels

CLEAN = 10  # packets in c.clean_visca_ip()


def analysed(tmp_path: Path, packets: list[Packet], **kw: object) -> Analysis:
    return analyze(c.write(tmp_path / "capture.pcap", packets, **kw))  # type: ignore[arg-type]


def found(analysis: Analysis) -> list[tuple[str, str, int | None]]:
    return [(f.kind, f.check, f.frame) for f in analysis.sorted_findings()]


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
        [(VIOLATION, "visca-ip.sequence-gap", 11)],
    ),
    "same sequence, different message": (
        c.exchange(c.PT_UP, 3, c.ACK, c.COMPLETION),
        [(VIOLATION, "visca-ip.duplicate-sequence", 11)],
    ),
    "retransmission": (
        c.exchange(c.PT_STOP, 3, c.ACK, c.COMPLETION),
        [(NOTE, "visca-ip.retransmission", 11)],
    ),
    "sequence backwards": (
        c.exchange(c.PT_UP, 1, c.ACK, c.COMPLETION),
        [(VIOLATION, "visca-ip.sequence-backwards", 11)],
    ),
    "bad payload length": (
        [
            c.udp(struct.pack(">HHI", vip.COMMAND, 10, 4) + c.PT_UP, to_camera=True),
            c.reply(vip.MESSAGE_TYPE_ERROR, 4, vip.CONTROL_REPLY),
        ],
        [(VIOLATION, "visca-ip.length", 11), (NOTE, "visca-ip.control-error", 12)],
    ),
    "unknown payload type": (
        [c.request(c.PT_UP, 4, 0x0300), c.reply(vip.MESSAGE_TYPE_ERROR, 4, vip.CONTROL_REPLY)],
        [(VIOLATION, "visca-ip.payload-type", 11), (NOTE, "visca-ip.control-error", 12)],
    ),
    "type error to a valid request": (
        [c.request(c.PT_UP, 4), c.reply(vip.MESSAGE_TYPE_ERROR, 4, vip.CONTROL_REPLY)],
        [(VIOLATION, "visca-ip.control-error", 12)],
    ),
    "reply without a request": (
        [c.reply(c.ACK, 42)],
        [(VIOLATION, "visca-ip.orphan-reply", 11)],
    ),
    "reply with the wrong payload type": (
        [c.request(c.PT_UP, 4), c.reply(c.ACK, 4, vip.COMMAND), c.reply(c.COMPLETION, 4)],
        [(VIOLATION, "visca-ip.reply-type", 12)],
    ),
    "syntax error reply": (
        c.exchange(c.PT_UP, 4, c.SYNTAX_ERROR),
        [(VIOLATION, "visca.error-reply", 12)],
    ),
    "not executable (camera state, not a breach)": (
        c.exchange(c.PT_UP, 4, c.ACK, c.NOT_EXECUTABLE),
        [(NOTE, "visca.error-reply", 13)],
    ),
    "invalid inner VISCA": (
        c.exchange(bytes.fromhex("8101FF"), 4, c.SYNTAX_ERROR),
        [(VIOLATION, "visca.invalid", 11), (NOTE, "visca.error-reply", 12)],
    ),
    "inquiry answered with an ACK": (
        c.exchange(c.POWER_INQ, 4, c.ACK),
        [(VIOLATION, "visca.reply-mismatch", 12)],
    ),
    "inquiry in a command payload type": (
        [c.request(c.POWER_INQ, 4, vip.COMMAND), c.reply(c.POWER_ON_ANSWER, 4)],
        [(VIOLATION, "visca-ip.payload-type", 11)],
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
    assert found(a) == [(VIOLATION, "visca-ip.no-reply", 11)]
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
    assert found(analysed(tmp_path, packets)) == [(VIOLATION, "visca-ip.no-completion", 11)]


def test_a_capture_ending_right_after_a_request_is_not_a_violation(tmp_path: Path) -> None:
    a = analysed(tmp_path, [*c.clean_visca_ip(), c.request(c.PT_UP, 4)])
    assert found(a) == [(CAPTURE, "capture.ends-before-reply", 11)]


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
    assert found(a) == [(VIOLATION, "visca-ip.sequence-gap", 11)]
    assert a.packets == CLEAN + 3


def test_ipv6_and_vlan(tmp_path: Path) -> None:
    six = analysed(tmp_path, [*c.clean_visca_ip(ipv6=True), c.request(c.PT_UP, 6, ipv6=True)])
    assert list(six.conversations) == ["[fd00::2]:50000 -> [fd00::9]:52381"]
    assert found(six)[0] == (VIOLATION, "visca-ip.sequence-gap", 11)
    vlan = analysed(tmp_path, [*c.clean_visca_ip(vlan=7), *c.exchange(c.PT_UP, 1)])
    assert found(vlan)[0] == (VIOLATION, "visca-ip.sequence-backwards", 11)


def test_snaplen_cut_packets_are_reported_once_and_not_judged(tmp_path: Path) -> None:
    a = analysed(tmp_path, c.clean_visca_ip(), snaplen=50)  # headers only: 8 payload bytes
    assert found(a) == [(CAPTURE, "capture.snaplen", 1)]
    assert next(iter(a.conversations.values())).latency.count == 4


def test_fragments_other_traffic_and_unknown_link_types_are_counted(tmp_path: Path) -> None:
    big = Ether() / IP(src=c.CONTROLLER, dst=c.CAMERA) / UDP(sport=1, dport=2) / Raw(bytes(64))
    dns = Ether() / IP(src=c.CONTROLLER, dst="10.0.0.53") / UDP(sport=5353, dport=53) / Raw(b"q")
    packets = [*c.clean_visca_ip(), *(Ether() / f for f in fragment(big[IP], 24)), dns]
    a = analysed(tmp_path, packets)
    assert found(a) == [(CAPTURE, "capture.ip-fragment", 11)]
    assert "(3 packets)" in a.findings[0].summary
    assert a.other_packets == 4
    odd = tmp_path / "odd.pcap"
    wrpcap(str(odd), [Raw(b"x" * 20), Raw(b"y" * 20)], linktype=147)
    b = analyze(odd)
    assert found(b) == [(CAPTURE, "capture.link-type", 1)]
    assert b.other_packets == 2


def test_a_capture_file_cut_short(tmp_path: Path) -> None:
    path = c.write(tmp_path / "c.pcap", c.clean_visca_ip())
    path.write_bytes(path.read_bytes()[:-5])
    a = analyze(path)
    assert (CAPTURE, "capture.file-cut", CLEAN) in found(a)
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
        "findings", "totals", "by_check", "suppressed",
    }  # fmt: skip
    (conv,) = doc["conversations"]
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
    }
    assert doc["totals"] == {"violation": 1, "capture": 0, "note": 0}


def test_render_lists_conversations_and_findings(tmp_path: Path) -> None:
    text = analysed(tmp_path, [*c.clean_visca_ip(), *GAP]).render()
    assert "10.0.0.2:50000 -> 10.0.0.9:52381" in text
    assert "frame 11 VIOLATION visca-ip.sequence-gap" in text
    assert "findings: 1 violation, 0 capture, 0 note" in text


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
    names = {att["name"]: (out / att["source"]).read_text() for att in result["attachments"]}
    assert "visca-ip.orphan-reply" in names["findings"]
    assert "#3 > seq=1" in names["messages"]
    assert not list(out.glob(".*.tmp"))
    clean = write_results(analysed(tmp_path, c.clean_visca_ip()), tmp_path / "clean")
    (ok,) = [json.loads(p.read_text()) for p in clean if p.name.endswith("-result.json")]
    assert ok["status"] == "passed" and labels(ok, "requirement") == []


# ---------------------------------------------------------------- command


def test_run_exit_codes_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = c.write(tmp_path / "clean.pcap", c.clean_visca_ip())
    assert run(str(clean), json_out=False, allure=None, ports=None, protocol=None) == 0
    assert "0 violation" in capsys.readouterr().out
    bad = c.write(tmp_path / "bad.pcap", [*c.clean_visca_ip(), *GAP])
    allure = tmp_path / "results"
    assert run(str(bad), json_out=True, allure=str(allure), ports=None, protocol=None) == 1
    assert json.loads(capsys.readouterr().out)["totals"]["violation"] == 1
    assert list(allure.glob("*-result.json"))
    # the same capture on another port, given with --port (the default port stays)
    moved = []
    for pkt in [*c.clean_visca_ip(), *GAP]:
        udp = pkt[UDP]
        udp.sport, udp.dport = (1259 if p == vip.PORT else p for p in (udp.sport, udp.dport))
        moved.append(pkt)
    other = c.write(tmp_path / "moved.pcap", moved)
    assert run(str(other), json_out=False, allure=None, ports=None, protocol=None) == 0
    assert "(13 not analysed)" in capsys.readouterr().out
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
