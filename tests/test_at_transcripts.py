"""The AT transcript checker on recorded logs: the manual's §5 examples pass,
doctored copies fail at the doctored line with the manual section, and
fragmented input frames into the same lines as whole input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.at.check_log import check_log
from conformance.at.checker import DialogueChecker
from conformance.at.lines import Line, LineSplitter, read_log
from conformance.cli import main

DATA = Path(__file__).parent / "data" / "bc26"
EXAMPLES = sorted(DATA.glob("manual_*.log"))


@pytest.mark.parametrize("log", EXAMPLES, ids=lambda p: p.stem)
def test_the_manuals_examples_pass(log: Path) -> None:
    report = check_log(log)
    assert report.violations == [], report.render()


def doctored(tmp_path: Path, source: str, old: str, new: str) -> tuple[Path, int]:
    """A copy of example *source* with one line changed; returns it and that line."""
    lines = (DATA / source).read_text().splitlines()
    hits = [i for i, line in enumerate(lines) if old in line]
    assert hits, old
    index = hits[0]
    if new:
        lines[index] = lines[index].replace(old, new)
    else:
        del lines[index]
    path = tmp_path / f"doctored-{source}"
    path.write_text("\n".join(lines) + "\n")
    return path, index + 1


DIRECT = "manual_5_2_direct_push.log"
BUFFER = "manual_5_3_buffer_access.log"
PLAIN = "manual_5_1_register.log"

#: (example, line text, replacement ("" deletes), section named, message fragment,
#: where the violation is blamed relative to the doctored line)
CASES = [
    pytest.param(DIRECT, "[12:00:05.050] < OK", "[12:00:05.500] < OK", "§3.11",
                 "final result after 500 ms", 0, id="late-OK"),
    pytest.param(BUFFER, "< +QLWRD: 2,2", "< +QLWRD: 2,1", "§3.10 note 2", "remain_length 1",
                 0, id="qlwrd-remain-mismatch"),
    pytest.param(BUFFER, "< AAAA0000", "< AAAA00", "§3.10", "characters of data", 0,
                 id="qlwrd-length-mismatch"),
    pytest.param(BUFFER, "< +QLWDATARECV: 19,1,0,4", "< +QLWDATARECV: 19,1,0,4,AAAA0000",
                 "§4.2", "data in the URC in buffer access mode", 0, id="data-in-buffer-urc"),
    pytest.param(DIRECT, "< +QLWOBSERVE: 0,19,0,0", "< +QLWOBSERVE: 2,19,0,0", "§4.1",
                 "malformed URC", 0, id="wrong-urc-format"),
    pytest.param(DIRECT, "< SEND OK", "< CLOSE OK", "§3.4-§3.8", "CLOSE OK with no command",
                 0, id="wrong-async-result"),
    pytest.param(PLAIN, "> AT+QLWOPEN=0", "> AT+QLWOPEN=2", "§3.5", "OK to an invalid command",
                 1, id="out-of-range-answered-OK"),
    pytest.param(PLAIN, "> AT+QLWUPDATE", "> AT+QLWUPDATE?", "§3.6", "is not a form", 1,
                 id="unlisted-form-answered-OK"),
    pytest.param(DIRECT, "[12:00:11.060] < OK", "", "§3.9", "no final result", -2,
                 id="missing-OK"),
    pytest.param(PLAIN, "< +CGPADDR: 1,10.52.241.198", "< +QLWSERV: \"1.2.3.4\",1", "§1.2",
                 "unexpected line", 0, id="unexpected-line"),
]  # fmt: skip


@pytest.mark.parametrize(("source", "old", "new", "section", "message", "offset"), CASES)
def test_doctored_logs_fail_at_the_doctored_line(
    tmp_path: Path, source: str, old: str, new: str, section: str, message: str, offset: int
) -> None:
    path, line = doctored(tmp_path, source, old, new)
    report = check_log(path)
    assert report.violations, f"{old!r} -> {new!r} went unnoticed"
    if not message:
        return
    hits = [v for v in report.violations if message in v.message or message in str(v)]
    assert hits, report.render()
    assert section in hits[0].ref
    assert hits[0].line == line + offset, report.render()


def test_urc_before_the_buffer_is_drained_is_a_violation(tmp_path: Path) -> None:
    path, line = doctored(tmp_path, BUFFER, "2018-07-26T12:00:08.000 > AT+QLWRD=4", "")
    text = path.read_text().splitlines()
    # drop the rest of that read too, so the second URC comes with 4 bytes unread
    text = [t for t in text if not t.endswith(("< +QLWRD: 4,0", "< AAAA0000"))]
    del text[line - 1]  # its OK
    path.write_text("\n".join(text) + "\n")
    report = check_log(path)
    assert any("§3.10 note 1" in v.ref and "unread" in v.message for v in report.violations)


def test_con_send_before_the_previous_result_is_a_violation() -> None:
    checker = DialogueChecker()
    lines = ['> AT+QLWDATASEND=19,0,0,1,01,0x0100', "< OK", "> AT+QLWDATASEND=19,0,0,1,02,0x0100",
             "< OK", "< SEND OK", "< SEND OK"]  # fmt: skip
    for line in read_log(lines):
        checker.feed(line)
    checker.finish()
    assert any("note 1" in v.ref and v.line == 3 for v in checker.violations)


def test_async_result_past_its_deadline_is_a_violation() -> None:
    checker = DialogueChecker(async_timeout=10)
    for line in read_log(["[00:00:00.000] > AT+QLWOPEN=0", "[00:00:00.100] < OK",
                          "[00:00:20.000] < CONNECT OK"]):  # fmt: skip
        checker.feed(line)
    checker.finish()
    assert [v.line for v in checker.violations if "within 10 s" in v.message] == [1]


def test_echo_is_recognised() -> None:
    checker = DialogueChecker()
    for line in read_log(["AT+QLWUPDATE", "AT+QLWUPDATE", "OK", "UPDATE OK"]):
        checker.feed(line)
    assert checker.finish() == []


@given(st.lists(st.integers(1, 7), min_size=1, max_size=60))
def test_fragmented_input_frames_like_whole_lines(cuts: list[int]) -> None:
    stream = b"AT+QLWOPEN=0\r\r\nOK\r\n\r\nCONNECT OK\r\n+QLWOBSERVE: 0,19,0,0\r\nAT+QLWRD=2\r"
    whole = LineSplitter().feed(stream)
    pieces, at = [], 0
    for cut in cuts:
        pieces.append(stream[at : at + cut])
        at += cut
    pieces.append(stream[at:])
    splitter = LineSplitter()
    fragmented = [line for piece in pieces for line in splitter.feed(piece)]
    assert fragmented == whole
    one_by_one = LineSplitter()
    assert [x for b in stream for x in one_by_one.feed(bytes([b]))] == whole
    assert whole[0] == "AT+QLWOPEN=0" and whole[-1] == "AT+QLWRD=2"


@pytest.mark.parametrize("prefix", ["", "[23:59:59.900] ", "2026-11-21T10:00:00.000+00:00 ",
                                    "2026-11-21 10:00:00,000 "])  # fmt: skip
@pytest.mark.parametrize("mark", ["", "> ", "< "])
def test_log_line_prefixes(prefix: str, mark: str) -> None:
    (line,) = read_log([f"{prefix}{mark}AT+QLWUPDATE"])
    assert isinstance(line, Line) and line.text == "AT+QLWUPDATE"
    assert (line.time is not None) == bool(prefix)
    assert line.direction == (mark.strip() or None)


def test_cli_exit_status_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-transcript", str(EXAMPLES[0])]) == 0
    path, line = doctored(tmp_path, PLAIN, "> AT+QLWOPEN=0", "> AT+QLWOPEN=7")
    capsys.readouterr()
    assert main(["check-transcript", str(path), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["violations"][0]["line"] == line + 1
    assert "§3.5" in out["violations"][0]["ref"]
    assert main(["check-transcript", str(tmp_path / "missing.log")]) == 2
