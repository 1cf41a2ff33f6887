"""``conformance decode`` names every row of the spec tables.

AVer VISCA spec rev 3.4 (``aver-visca-pelco-spec.txt``): §3.1 message format,
§3.2.1 VISCA command table, §3.2.2 Pelco-P, §3.2.3 Pelco-D, §3.2.4 VISCA over
IP.  Every row, built at the low end of its parameters' ranges, must come back
under its own name (or as an alias of a row with the same bytes); a specific
reply must be named after the request before it; invalid messages exit 1 with
their problems, bad hex exits 2 with one line and no traceback.
"""

from __future__ import annotations

import importlib
import io
import json
import subprocess
import sys
from types import ModuleType
from typing import Any

import pytest

from conformance.cli import main
from conformance.decode import decode_hex, parse_hex, split_messages
from dissectors import visca, visca_ip
from dissectors import visca_table as table

try:
    from dissectors import pelco
except ImportError:  # the Pelco dissectors are not in this version yet
    pelco = None  # type: ignore[assignment]

ROWS = table.COMMANDS + table.REPLIES
WITH_REPLY = tuple(row for row in ROWS if row.reply is not None)
PELCO_NAMES: tuple[str, ...] = (
    tuple(r.name for r in pelco.COMMANDS) + tuple(pelco.PT_NAMES) if pelco is not None else ()
)


def _row_id(row: table.Row) -> str:
    return row.name


def lowest(row: table.Row, letters: tuple[str, ...]) -> dict[str, int]:
    """The lowest allowed value of each parameter letter (§3.2.1 ranges)."""
    return {letter: row.values(letter)[0] for letter in letters}


def request_bytes(row: table.Row) -> bytes:
    return visca.build(row.name, 1, **lowest(row, row.packet.letters))


def reply_bytes(row: table.Row) -> bytes:
    assert row.reply is not None
    return visca.build_reply(row, 1, **lowest(row, row.reply.letters))


def hexs(data: bytes) -> str:
    return data.hex(" ").upper()


def decode_json(
    capsys: pytest.CaptureFixture[str], protocol: str, *hex_args: str, status: int = 0
) -> list[dict[str, Any]]:
    """``conformance decode --json`` output, checking the exit status."""
    code = main(["decode", "--protocol", protocol, "--json", *hex_args])
    out, err = capsys.readouterr()
    assert code == status, err
    result: list[dict[str, Any]] = json.loads(out)
    return result


def named(item: dict[str, Any], name: str) -> bool:
    return item["name"] == name or name in item.get("aliases", [])


def pelco_module(protocol: str) -> ModuleType:
    return pytest.importorskip(f"dissectors.{protocol.replace('-', '_')}")


# ---------------------------------------------------------------- VISCA, §3.2.1


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_every_visca_row_decodes_under_its_name(
    row: table.Row, capsys: pytest.CaptureFixture[str]
) -> None:
    data = request_bytes(row)
    [item] = decode_json(capsys, "visca", hexs(data))
    assert named(item, row.name), item
    assert item["protocol"] == "visca"
    assert item["valid"] is True and item["problems"] == []
    assert item["hex"] == hexs(data)
    for letter in row.packet.letters:
        assert item["fields"][row.params.get(letter, letter.lower())] == row.values(letter)[0]


@pytest.mark.parametrize("row", WITH_REPLY, ids=_row_id)
def test_every_specific_reply_is_named_after_its_request(
    row: table.Row, capsys: pytest.CaptureFixture[str]
) -> None:
    stream = hexs(request_bytes(row) + reply_bytes(row))
    request, reply = decode_json(capsys, "visca", stream)
    assert named(request, row.name), request
    assert reply["name"] == f"{row.name} reply", reply
    assert reply["valid"] is True
    for letter in row.reply.letters if row.reply else ():
        assert reply["fields"][row.params.get(letter, letter.lower())] == row.values(letter)[0]


def test_version_inq_reply_in_one_stream(capsys: pytest.CaptureFixture[str]) -> None:
    items = decode_json(capsys, "visca", "81 09 00 02 FF 90 50 00 01 05 0A 01 00 02 FF")
    assert [item["name"] for item in items] == ["Version_Inq", "Version_Inq reply"]
    assert items[1]["fields"] == {
        "camera": 1,
        "vendor_id": 0x0001,
        "model_id": 0x050A,
        "version": 0x0100,
        "max_socket": 2,
    }


def test_reply_pairs_with_the_request_to_its_own_camera(
    capsys: pytest.CaptureFixture[str],
) -> None:
    version = table.BY_NAME["Version_Inq"]
    stream = [
        hexs(visca.build("Version_Inq", 2)),
        hexs(visca.build("Zoom_Pos_Inq", 1)),
        hexs(visca.build_reply(version, 2, vendor_id=1)),
    ]
    items = decode_json(capsys, "visca", *stream)
    assert items[2]["name"] == "Version_Inq reply"
    assert items[2]["fields"]["camera"] == 2


def test_a_reply_without_its_request_is_a_generic_inquiry_answer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    [item] = decode_json(capsys, "visca", "90 50 00 01 05 0A 01 00 02 FF")
    assert item["name"] == "Inquiry reply"


def test_model_picks_between_rows_with_the_same_bytes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    backlight = hexs(visca.build("Backlight_On", 1))
    [plain] = decode_json(capsys, "visca", backlight)
    assert plain["name"] == "Backlight_On" and plain["aliases"] == ["WDR_On"]
    main(["decode", "--protocol", "visca", "--json", "--model", "CAM520Pro3", backlight])
    [wdr] = json.loads(capsys.readouterr().out)
    assert wdr["name"] == "WDR_On"


# ---------------------------------------------------------------- VISCA over IP, §3.2.4


def ip_type(row: table.Row) -> int:
    if row.kind == "reply":
        return visca_ip.REPLY
    return visca_ip.INQUIRY if row.kind == "inquiry" else visca_ip.COMMAND


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_every_row_over_ip_has_header_fields_and_inner(
    row: table.Row, capsys: pytest.CaptureFixture[str]
) -> None:
    message = request_bytes(row)
    datagram = visca_ip.wrap(message, 0x01020304, ip_type(row))
    [item] = decode_json(capsys, "visca-ip", hexs(datagram))
    assert item["protocol"] == "visca-ip"
    assert item["name"] == visca_ip.PAYLOAD_TYPES[ip_type(row)]
    assert item["fields"] == {
        "payload_type": ip_type(row),
        "payload_type_name": visca_ip.PAYLOAD_TYPES[ip_type(row)],
        "payload_length": len(message),
        "sequence": 0x01020304,
    }
    assert item["valid"] is True
    assert named(item["inner"], row.name), item["inner"]
    assert item["inner"]["protocol"] == "visca"
    assert item["inner"]["hex"] == hexs(message)


def test_reply_datagram_is_named_after_the_request_with_its_sequence(
    capsys: pytest.CaptureFixture[str],
) -> None:
    version = table.BY_NAME["Version_Inq"]
    datagrams = [
        visca_ip.wrap(visca.build("Version_Inq", 1), 5),
        visca_ip.wrap(visca.build("Zoom_Pos_Inq", 1), 6),
        visca_ip.wrap(visca.build_reply(version, 1, vendor_id=1), 5, visca_ip.REPLY),
    ]
    items = decode_json(capsys, "visca-ip", *map(hexs, datagrams))
    assert [item["inner"]["name"] for item in items] == [
        "Version_Inq",
        "Zoom_Pos_Inq",
        "Version_Inq reply",
    ]


def test_model_applies_to_the_inner_message_over_ip(capsys: pytest.CaptureFixture[str]) -> None:
    version = table.BY_NAME["Version_Inq"]
    datagrams = [
        visca_ip.wrap(visca.build("Backlight_On", 1), 1),
        visca_ip.wrap(visca.build("Version_Inq", 1), 2),
        visca_ip.wrap(visca.build_reply(version, 1, vendor_id=1), 2, visca_ip.REPLY),
    ]
    args = ["decode", "--protocol", "visca-ip", "--json", "--model", "CAM520Pro3"]
    assert main([*args, *map(hexs, datagrams)]) == 0
    items = json.loads(capsys.readouterr().out)
    assert [item["inner"]["name"] for item in items] == [
        "WDR_On",
        "Version_Inq",
        "Version_Inq reply",
    ]


@pytest.mark.parametrize(
    ("payload_type", "payload", "name"),
    [
        (visca_ip.CONTROL, visca_ip.RESET, "RESET"),
        (visca_ip.CONTROL_REPLY, visca_ip.CONTROL_ACK, "Control ACK"),
        (visca_ip.CONTROL_REPLY, visca_ip.SEQUENCE_ERROR, "Sequence_Error"),
        (visca_ip.CONTROL_REPLY, visca_ip.MESSAGE_TYPE_ERROR, "Message_Type_Error"),
    ],
)
def test_control_datagrams_have_no_inner(
    payload_type: int, payload: bytes, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    [item] = decode_json(capsys, "visca-ip", hexs(visca_ip.wrap(payload, 9, payload_type)))
    assert item["name"] == name and item["valid"] is True
    assert "inner" not in item


# ---------------------------------------------------------------- Pelco, §3.2.2 and §3.2.3


@pytest.mark.parametrize("protocol", ["pelco-d", "pelco-p"])
@pytest.mark.parametrize("name", PELCO_NAMES)
def test_every_pelco_row_decodes_under_its_name(
    protocol: str, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    module = pelco_module(protocol)
    frame = module.build(name, module.FIRST_ADDRESS)
    [item] = decode_json(capsys, protocol, hexs(frame))
    assert named(item, name), item
    assert item["protocol"] == protocol
    assert item["valid"] is True and item["problems"] == []
    assert item["fields"]["address"] == module.FIRST_ADDRESS


@pytest.mark.parametrize("protocol", ["pelco-d", "pelco-p"])
def test_pelco_stream_splits_into_frames(protocol: str, capsys: pytest.CaptureFixture[str]) -> None:
    module = pelco_module(protocol)
    frames = [
        module.build("Pan Left", module.FIRST_ADDRESS, pan_speed=0x20),
        module.build("Go To Preset", module.FIRST_ADDRESS, preset=5),
        module.build("Stop", module.FIRST_ADDRESS),
    ]
    items = decode_json(capsys, protocol, hexs(b"".join(frames)))
    assert [item["name"] for item in items] == ["Pan Left", "Go To Preset", "Stop"]
    assert items[1]["fields"]["preset"] == 5


@pytest.mark.parametrize("protocol", ["pelco-d", "pelco-p"])
def test_pelco_bad_checksum_is_invalid(protocol: str, capsys: pytest.CaptureFixture[str]) -> None:
    module = pelco_module(protocol)
    good = module.build("Tilt Up", module.FIRST_ADDRESS)
    bad = good[:-1] + bytes([good[-1] ^ 0x01])
    items = decode_json(capsys, protocol, hexs(good), hexs(bad), status=1)
    assert [item["valid"] for item in items] == [True, False]
    assert any("checksum" in problem for problem in items[1]["problems"])


def test_pelco_junk_before_a_frame_is_its_own_invalid_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    module = pelco_module("pelco-d")
    frame = module.build("Stop", 1)
    items = decode_json(capsys, "pelco-d", "12 34 " + hexs(frame), status=1)
    assert [item["hex"] for item in items] == ["12 34", hexs(frame)]
    assert [item["valid"] for item in items] == [False, True]


def test_model_is_refused_for_pelco(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", "--protocol", "pelco-d", "--model", "CAM520", "FF"]) == 2
    assert "--model applies to visca" in capsys.readouterr().err


# ---------------------------------------------------------------- invalid messages: exit 1


@pytest.mark.parametrize(
    ("protocol", "hex_text", "problem"),
    [
        ("visca", "81 01 04 3F 02 80 FF", "preset=0x80 outside 0x00..0x7F"),
        ("visca", "81 01 04 00 02", "not terminated with FF"),
        ("visca", "81 77 77 FF", "matches no row"),
        ("visca", "01 01 04 00 02 FF", "address byte 01"),
        ("visca-ip", "01 00 00 09 00 00 00 01 81 01 04 00 02 FF", "payload length field 9"),
        ("visca-ip", "01 00 00 06", "shorter than the 8-byte header"),
        ("visca-ip", "07 77 00 01 00 00 00 01 01", "unknown payload type 0777"),
    ],
)
def test_invalid_message_lists_problems_and_exits_1(
    protocol: str, hex_text: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    items = decode_json(capsys, protocol, hex_text, status=1)
    assert items[-1]["valid"] is False
    assert any(problem in text for text in items[-1]["problems"]), items[-1]["problems"]


def test_invalid_inner_message_makes_the_datagram_invalid(
    capsys: pytest.CaptureFixture[str],
) -> None:
    datagram = visca_ip.wrap(bytes.fromhex("81 01 04 3F 02 80 FF"), 1)
    [item] = decode_json(capsys, "visca-ip", hexs(datagram), status=1)
    assert item["valid"] is False and item["problems"] == []
    assert item["inner"]["valid"] is False and item["inner"]["problems"]


def test_one_invalid_message_among_valid_ones_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    items = decode_json(capsys, "visca", "81 01 04 00 02 FF 81 77 FF 90 41 FF", status=1)
    assert [item["valid"] for item in items] == [True, False, True]


# ---------------------------------------------------------------- text output


def test_text_output_is_one_line_per_message_prefixed_with_its_hex(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["decode", "--protocol", "visca", "81 01 04 3F 02 05 FF 90 41 FF", "90 51 FF"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines == [
        "81 01 04 3F 02 05 FF  CAM_recall camera=1 preset=5",
        "90 41 FF  ACK camera=1 socket=1",
        "90 51 FF  Completion camera=1 socket=1",
    ]


def test_text_output_says_invalid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", "--protocol", "visca", "81 01 04 3F 02 80 FF"]) == 1
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith("81 01 04 3F 02 80 FF  CAM_recall ")
    assert "INVALID: preset=0x80 outside" in line


def test_visca_ip_text_output_shows_the_inner_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    datagram = hexs(visca_ip.wrap(visca.build("Power_On", 1), 1))
    assert main(["decode", "--protocol", "visca-ip", datagram]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith(datagram + "  VISCA command ")
    assert line.endswith("[Power_On camera=1]")


# ---------------------------------------------------------------- hex input


@pytest.mark.parametrize(
    "hex_args",
    [
        ["81 09 00 02 FF"],
        ["81:09:00:02:ff"],
        ["81-09-00-02-FF"],
        ["0x81,0x09,0x00,0x02,0xFF"],
        ["0x81, 0x09, 0x00, 0x02, 0xff"],
        ["810900 02FF"],
        ["0x810900 0X02ff"],
        ["81", "09", "00", "02", "FF"],  # unquoted: one byte per argument
        ["  81 09\t00 02 FF  "],
    ],
)
def test_hex_is_accepted_in_common_spellings(
    hex_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    [item] = decode_json(capsys, "visca", *hex_args)
    assert item["name"] == "Version_Inq"
    assert item["hex"] == "81 09 00 02 FF"


def test_stream_split_after_each_terminator() -> None:
    assert split_messages("visca", ["81 01 04 00 02 FF 90 41 FF 90 51"]) == [
        bytes.fromhex("81 01 04 00 02 FF"),
        bytes.fromhex("90 41 FF"),
        bytes.fromhex("90 51"),
    ]


def test_each_visca_ip_argument_is_one_datagram() -> None:
    one = visca_ip.wrap(visca.build("Power_On", 1), 1)
    two = visca_ip.wrap(visca.build("Power_Off", 1), 2)
    assert split_messages("visca-ip", [hexs(one), hexs(two)]) == [one, two]


def test_parse_hex_reads_a_lone_prefixed_digit_as_a_number() -> None:
    assert parse_hex("0x1 0xA 0x0F") == b"\x01\x0a\x0f"


@pytest.mark.parametrize(
    ("hex_args", "message"),
    [
        (["81 GG FF"], "not hex: 'GG' (in '81 GG FF')"),
        (["zz"], "not hex: 'zz'"),
        (["81 0x FF"], "not hex: '0x' (in '81 0x FF')"),
        (["810"], "odd number of hex digits in '810'"),
        ([" "], "no hex digits in ' '"),
    ],
)
def test_bad_hex_raises_one_line_naming_the_token(hex_args: list[str], message: str) -> None:
    with pytest.raises(ValueError) as info:
        decode_hex("visca", hex_args)
    assert str(info.value) == message


def test_unknown_protocol_and_model_raise() -> None:
    with pytest.raises(ValueError, match="unknown protocol 'modbus'"):
        decode_hex("modbus", ["01"])
    with pytest.raises(ValueError, match="unknown model 'CAM9000'"):
        decode_hex("visca", ["81 01 04 00 02 FF"], model="CAM9000")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--protocol", "visca", "81 GG FF"], "conformance decode: not hex: 'GG'"),
        (["--protocol", "visca", "81", "0"], "odd number of hex digits in '0'"),
        (["--protocol", "visca", "--model", "CAM9000", "81 01 FF"], "unknown model 'CAM9000'"),
        (["--protocol", "modbus", "01"], "invalid choice: 'modbus'"),
        (["81 01 FF"], "the following arguments are required: --protocol"),
        (["--protocol", "visca"], "the following arguments are required: HEX"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["decode", *args]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and message in err


def test_bad_hex_in_a_subprocess_exits_2_without_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "decode", "--protocol", "visca", "81 XY FF"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == "conformance decode: not hex: 'XY' (in '81 XY FF')\n"


# ---------------------------------------------------------------- standard input


def test_dash_reads_one_argument_per_line_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    datagrams = [
        visca_ip.wrap(visca.build("Version_Inq", 1), 1),
        visca_ip.wrap(visca.build("Power_On", 1), 2),
    ]
    text = "# captured\n" + "\n".join(map(hexs, datagrams)) + "\n\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    items = decode_json(capsys, "visca-ip", "-")
    assert [item["inner"]["name"] for item in items] == ["Version_Inq", "Power_On"]


def test_empty_stdin_is_bad_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))
    assert main(["decode", "--protocol", "visca", "-"]) == 2
    assert capsys.readouterr().err == "conformance decode: no hex on standard input\n"


def test_missing_pelco_module_is_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def without_pelco(name: str, package: str | None = None) -> ModuleType:
        if name.startswith("dissectors.pelco_"):
            raise ImportError(f"No module named {name!r}")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", without_pelco)
    with pytest.raises(ValueError, match="pelco-p decoding is not available"):
        decode_hex("pelco-p", ["A0 00 00 00 00 00 AF 0F"])
