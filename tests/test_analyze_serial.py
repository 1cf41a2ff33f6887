"""Serial captures as text: timestamped byte logs and hex dumps, the protocol guessed or
given, and the VISCA / Pelco stream checks with log line numbers as frames."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.analyze import analyze
from conformance.analyze.allure import write_results
from conformance.analyze.model import CAMERA, CAPTURE, CONTROLLER, NOTE, VIOLATION, Analysis
from conformance.analyze.serial_log import analyze_log
from dissectors import pelco_d, pelco_p
from tests.conftest import labels

CLEAN_LOG = """\
12:00:01.000 > 81 01 06 01 05 05 03 01 FF
12:00:01.020 < 90 41 FF
12:00:01.350 < 90 51 FF
12:00:02.000 > 81 09 04 00 FF
12:00:02.015 < 90 50 02 FF
"""


def log(tmp_path: Path, text: str, name: str = "camera.log") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def found(analysis: Analysis) -> list[tuple[str, str, int | None, str]]:
    return [(f.kind, f.check, f.frame, f.party) for f in analysis.sorted_findings()]


def hexdump_c(data: bytes) -> str:
    """``hexdump -C`` output, squeezing repeated lines into ``*``."""
    lines, previous, squeezed = [], None, False
    for off in range(0, len(data), 16):
        chunk = data[off : off + 16]
        if chunk == previous and len(chunk) == 16:
            if not squeezed:
                lines.append("*")
            squeezed = True
            continue
        previous, squeezed = chunk, False
        left = " ".join(f"{b:02x}" for b in chunk[:8])
        right = " ".join(f"{b:02x}" for b in chunk[8:])
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{off:08x}  {left:<23}  {right:<23}  |{text}|")
    lines.append(f"{len(data):08x}")
    return "\n".join(lines) + "\n"


def xxd(data: bytes) -> str:
    lines = []
    for off in range(0, len(data), 16):
        chunk = data[off : off + 16]
        groups = " ".join(chunk[i : i + 2].hex() for i in range(0, len(chunk), 2))
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{off:08x}: {groups:<39}  {text}")
    return "\n".join(lines) + "\n"


STREAM = bytes.fromhex("8101060105050301FF 9041FF 9051FF 81090400FF 905002FF".replace(" ", ""))


def test_a_timestamped_log_with_directions(tmp_path: Path) -> None:
    a = analyze(log(tmp_path, CLEAN_LOG))
    assert found(a) == []
    assert a.format == "log" and a.packets == 5
    (conv,) = a.conversations.values()
    assert (conv.protocol, conv.key) == ("visca-serial", "camera.log")
    assert (conv.requests, conv.replies) == (2, 3)
    assert conv.latency.count == 2 and conv.latency.max == pytest.approx(0.020)
    assert conv.completion.max == pytest.approx(0.350)
    assert conv.details["direction_marks"] and conv.details["timestamps"]


def test_iso_times_and_tx_rx_marks(tmp_path: Path) -> None:
    text = (
        "[2026-11-21T12:00:01.123Z] TX: 81 01 06 01 05 05 03 01 FF\n"
        "[2026-11-21T12:00:01.143Z] RX: 90 41 FF\n"
        "[2026-11-21T12:00:01.200Z] RX: 90 51 FF\n"
    )
    a = analyze(log(tmp_path, text))
    assert found(a) == []
    (conv,) = a.conversations.values()
    assert conv.latency.max == pytest.approx(0.020, abs=1e-6)
    assert conv.first == pytest.approx(1795262401.123)


@pytest.mark.parametrize("fmt", ["plain", "spaced-free", "colons", "xxd", "hexdump -C"])
def test_untimed_dumps_read_the_same_messages(tmp_path: Path, fmt: str) -> None:
    text = {
        "plain": "81 01 06 01 05 05 03 01 FF\n90 41 FF\n90 51 FF\n81 09 04 00 FF\n90 50 02 FF\n",
        "spaced-free": STREAM.hex() + "\n",
        "colons": ":".join(f"{b:02X}" for b in STREAM) + "\n",
        "xxd": xxd(STREAM),
        "hexdump -C": hexdump_c(STREAM),
    }[fmt]
    a = analyze(log(tmp_path, text))
    assert found(a) == []
    (conv,) = a.conversations.values()
    assert (conv.messages, conv.requests, conv.replies) == (5, 2, 3)
    assert conv.latency.count == 0  # no times: no latency
    assert "PT_Up" in conv.transcript[0]


def test_hexdump_squeezed_lines_are_expanded(tmp_path: Path) -> None:
    data = bytes.fromhex("8101060100000303FF" + "9041FF9051FF") * 8  # 120 bytes, repeats
    text = hexdump_c(bytes(16 * 3) + data)
    assert "*" in text
    a = analyze_log(log(tmp_path, text), "visca")
    (conv,) = a.conversations.values()
    assert conv.requests == 8
    # 48 zero bytes, lines 1-2 ("*"); a dump has no direction marks: no party to blame
    assert found(a) == [(VIOLATION, "visca.garbage", 3, "")]
    assert "48 bytes" in a.findings[0].summary


def test_planted_faults_in_a_log_are_found_at_their_lines(tmp_path: Path) -> None:
    text = CLEAN_LOG + (
        "12:00:03.000 > 81 01 06 01 00 00 03 03 FF\n"  # 6
        "12:00:03.010 < 90 60 02 FF\n"  # 7: Syntax_Error to a valid request
        "12:00:04.000 > 12 34 81 09 04 00 FF\n"  # 8: garbage before the inquiry
        "12:00:04.010 < 90 50 02 FF\n"  # 9
        "12:00:05.000 > 81 09 04 00 FF\n"  # 10: never answered
        "12:00:11.000 > 81 09 04 00 FF\n"  # 11
        "12:00:11.010 < 90 50 02 FF\n"  # 12
        "12:00:11.020 > 81 01 06\n"  # 13: the log ends inside a message
    )
    a = analyze(log(tmp_path, text))
    assert found(a) == [
        (VIOLATION, "visca.error-reply", 7, CAMERA),
        (VIOLATION, "visca.garbage", 8, CONTROLLER),
        (VIOLATION, "visca.no-reply", 10, CAMERA),
        (CAPTURE, "capture.truncated-frame", 13, ""),
    ]


def test_pelco_logs_guessed_and_checked(tmp_path: Path) -> None:
    good = pelco_d.build("Go To Preset", preset=1)
    bad = pelco_d.build("Set Preset", preset=2, checksum=0x00)
    text = "".join(f"00:00:0{i}.000 > {f.hex(' ')}\n" for i, f in enumerate([good, bad, good]))
    a = analyze(log(tmp_path, text))
    (conv,) = a.conversations.values()
    assert conv.protocol == "pelco-d-serial"
    assert found(a) == [(VIOLATION, "pelco.checksum", 2, CONTROLLER)]
    p_frames = [pelco_p.build("Go To Preset", preset=3), pelco_p.build("Set Preset", preset=4)]
    b = analyze(log(tmp_path, "".join(f.hex(" ") + "\n" for f in p_frames), "p.log"))
    assert next(iter(b.conversations.values())).protocol == "pelco-p-serial"
    assert found(b) == []


def test_protocol_given_unknown_or_not_guessable(tmp_path: Path) -> None:
    path = log(tmp_path, CLEAN_LOG)
    assert analyze(path, protocol="visca").conversations["camera.log"].requests == 2
    with pytest.raises(ValueError, match="unknown protocol 'sony'"):
        analyze(path, protocol="sony")
    with pytest.raises(ValueError, match="cannot tell the protocol"):
        analyze(log(tmp_path, "01 02 03 04\n", "odd.log"))


def test_lines_that_are_not_bytes_are_noted_once(tmp_path: Path) -> None:
    text = "capture started on COM3\n" + CLEAN_LOG + "12:00:09.000 link lost\n"
    a = analyze(log(tmp_path, text))
    assert found(a) == [(NOTE, "log.unparsed", 1, "")]
    assert "2 line(s)" in a.findings[0].summary


def test_without_direction_marks_the_address_byte_names_the_sender(tmp_path: Path) -> None:
    text = (
        "81 01 FF\n"  # 1: a command too short to mean anything (the controller's)
        "90 60 02 FF\n"  # 2: Syntax_Error, rightly
        "81 09 04 00 FF\n"  # 3
        "90 70 FF\n"  # 4: neither ACK, Completion, answer nor error (the camera's)
        "90 50 02 FF\n"  # 5
    )
    a = analyze_log(log(tmp_path, text), "visca")
    assert not next(iter(a.conversations.values())).details["direction_marks"]
    assert found(a) == [
        (VIOLATION, "visca.invalid", 1, CONTROLLER),
        (NOTE, "visca.error-reply", 2, CAMERA),
        (VIOLATION, "visca.invalid", 4, CAMERA),
    ]


def test_an_unattributed_violation_fails_in_allure(tmp_path: Path) -> None:
    data = bytes(3) + bytes.fromhex("8101060100000303FF9041FF9051FF")  # garbage, no marks
    a = analyze_log(log(tmp_path, data.hex(" ") + "\n"), "visca")
    assert found(a) == [(VIOLATION, "visca.garbage", 1, "")]
    written = write_results(a, tmp_path / "allure")
    (result,) = [json.loads(p.read_text()) for p in written if p.name.endswith("-result.json")]
    assert result["status"] == "failed"
    assert result["statusDetails"]["message"].startswith("violations: 1 unattributed\n")
    assert labels(result, "tag") == ["violation unattributed"]
