"""The VISCA and VISCA-over-IP dissectors against the command table and the spec.

AVer VISCA spec rev 3.4 (``aver-visca-pelco-spec.txt``): §3.1 message format,
§3.2.1 command table, §3.2.4 VISCA over IP.  Every row of the table must build,
dissect with Scapy, round-trip and decode under its own name; anything else
must decode as invalid, and no input may make a decoder raise.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, UDP
from scapy.packet import Packet, Raw

from dissectors import visca, visca_ip
from dissectors import visca_table as table
from dissectors.notation import HEX, Notation
from dissectors.visca import MESSAGE_CLASSES, VISCA
from dissectors.visca_ip import VISCA_IP

ROWS = table.COMMANDS + table.REPLIES
WITH_REPLY = tuple(row for row in ROWS if row.reply is not None)
CAMERAS = st.integers(1, 7)  # §3.1: "7 receiver address supported, start from 1"

#: Address bytes each notation token stands for, written out from §3.1.
COMMAND_ADDRESSES = frozenset(range(0x81, 0x88))
REPLY_ADDRESSES = frozenset(camera << 4 for camera in range(9, 16))


def _row_id(row: table.Row) -> str:
    return row.name


def field_name(row: table.Row, letter: str) -> str:
    """The name a parameter letter gets in Scapy fields and in decode()."""
    return row.params.get(letter, letter.lower())


def values_for(row: table.Row, notation: Notation) -> st.SearchStrategy[dict[str, int]]:
    """Parameter values within the row's ranges (else the notation's width), by field name."""
    return st.fixed_dictionaries(
        {
            field_name(row, letter): st.sampled_from(row.values(letter))
            for letter in notation.letters
        }
    )


def framed(data: bytes) -> bool:
    """§3.1: FF only as the terminator (a parameter byte of FF would end the message)."""
    return table.TERMINATOR not in data[:-1]


def camera_of(data: bytes) -> dict[str, int]:
    """The ``camera`` field decode() reports for an address byte."""
    if data[0] in COMMAND_ADDRESSES:
        return {"camera": data[0] & 0x0F}
    if data[0] in REPLY_ADDRESSES:
        return {"camera": (data[0] >> 4) - 8}
    return {}


# ---------------------------------------------------------------- every row


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), camera=CAMERAS)
def test_row_builds_dissects_and_round_trips(
    row: table.Row, data: st.DataObject, camera: int
) -> None:
    values = data.draw(values_for(row, row.packet), label="values")
    wire = visca.build(row.name, camera, **values)
    assume(framed(wire))
    assert len(wire) == len(row.packet)

    # Rows that share their bytes with an earlier row dissect as that row.
    first = table.BY_NAME[table.SAME_BYTES.get(row.name, row.name)]
    pkt = VISCA(wire)
    message = pkt.payload
    assert type(message) is MESSAGE_CLASSES[first.name]
    assert message.row is first
    for name, value in values.items():
        assert message.getfieldval(name) == value, name
    assert bytes(pkt) == wire

    # Built from Scapy fields instead of from the notation: the same bytes.
    address = VISCA(wire[:1])
    rebuilt = VISCA(
        header=address.header,
        sender=address.sender,
        broadcast=address.broadcast,
        receiver=address.receiver,
    ) / MESSAGE_CLASSES[row.name](**values)
    assert bytes(rebuilt) == wire

    decoded = visca.decode(wire)
    assert decoded.name == first.name
    assert row.name in [decoded.name, *decoded.aliases]
    assert decoded.valid, decoded.problems
    assert decoded.fields == {**camera_of(wire), **values}


def test_shared_bytes_resolve_to_the_row_the_model_supports() -> None:
    wire = visca.build("WDR_On")
    assert visca.decode(wire).name == "Backlight_On"
    assert visca.decode(wire).aliases == ["WDR_On"]
    assert visca.decode(wire, model="CAM520Pro3").name == "WDR_On"  # no Backlight on it


@pytest.mark.parametrize("row", WITH_REPLY, ids=_row_id)
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), camera=CAMERAS)
def test_specific_reply_decodes_with_its_request(
    row: table.Row, data: st.DataObject, camera: int
) -> None:
    assert row.reply is not None
    values = data.draw(values_for(row, row.reply), label="reply values")
    request = visca.build(row.name, camera)
    reply = visca.build_reply(row, camera, **values)
    assume(framed(reply))
    assert len(reply) == len(row.reply)

    decoded = visca.decode(reply, request)
    assert decoded.name == f"{row.name} reply"
    assert decoded.valid, decoded.problems
    assert decoded.fields == {**camera_of(reply), **values}
    assert bytes(VISCA(reply)) == reply


def test_version_inq_reply_without_its_request_is_a_generic_inquiry_answer() -> None:
    row = table.BY_NAME["Version_Inq"]
    reply = visca.build_reply(
        row, 1, vendor_id=0x1234, model_id=0x0506, version=0x0708, max_socket=2
    )
    assert reply.hex(" ") == "90 50 12 34 05 06 07 08 02 ff"
    decoded = visca.decode(reply)
    assert (decoded.name, decoded.valid) == ("Inquiry reply", True)
    assert decoded.fields == {"camera": 1, "data": reply[2:-1]}
    assert type(VISCA(reply).payload) is visca.VISCA_InquiryReply


def test_if_clear_reply_is_named_by_its_request() -> None:
    """``y0 50 FF`` alone is a Completion; in answer to IF_Clear it is IF_Clear's reply."""
    reply = visca.build_reply(table.BY_NAME["IF_Clear"], 1)
    assert visca.decode(reply).name == "Completion"
    assert visca.decode(reply, visca.build("IF_Clear", 1)).name == "IF_Clear reply"


@pytest.mark.parametrize(
    "camera, address, reply", [(1, 0x81, 0x90), (2, 0x82, 0xA0), (7, 0x87, 0xF0)]
)
def test_addresses_follow_section_3_1(camera: int, address: int, reply: int) -> None:
    assert visca.address_of(camera) == address
    assert visca.reply_address(camera) == reply


# ---------------------------------------------------------------- notation

NOTATIONS = sorted(
    {n.text for row in ROWS for n in (row.packet, row.reply) if n is not None}
    | {
        "8x 01 04 47 0Y 0Y 0Y 0Y FF",
        "8x 01 06 01 0P 0T 03 01 FF",
        "8x 01 04 07 2y FF",
        "8x 01 06 02 00 00 0Y 0Y 0Y 0Y 0V 0V 0V 0V FF",
    }
)


def test_spec_note_1_position_nibbles() -> None:
    """Spec note 1: "0x1234 -> 01 02 03 04"."""
    zoom = Notation("8x 01 04 47 0Y 0Y 0Y 0Y FF")
    assert zoom.build({"Y": 0x1234}) == bytes.fromhex("01 04 47 01 02 03 04 FF")
    assert zoom.match(bytes.fromhex("01 04 47 01 02 03 04 FF")) == {"Y": 0x1234}
    assert zoom.widths() == {"Y": 16}
    assert zoom.prefix == bytes.fromhex("01 04 47")


def test_notation_rejects_tokens_that_are_not_two_characters() -> None:
    with pytest.raises(ValueError, match="not two characters"):
        _ = Notation("8x 1 FF").tokens


@given(text=st.sampled_from(NOTATIONS), data=st.data())
def test_build_then_match_gives_the_values_back(text: str, data: st.DataObject) -> None:
    notation = Notation(text)
    widths = notation.widths()
    values = data.draw(
        st.fixed_dictionaries(
            {letter: st.integers(0, (1 << widths[letter]) - 1) for letter in notation.letters}
        )
    )
    body = notation.build(values)
    assert len(body) == len(notation.body)
    assert notation.match(body) == values


def _fixed_nibbles_fit(notation: Notation, body: bytes) -> bool:
    """Written independently of Notation.match: every fixed nibble is as written."""
    return all(
        ch not in HEX or nibble == int(ch, 16)
        for byte, token in zip(body, notation.body, strict=True)
        for nibble, ch in ((byte >> 4, token[0]), (byte & 0xF, token[1]))
    )


@given(text=st.sampled_from(NOTATIONS), data=st.data())
def test_match_then_build_gives_the_bytes_back(text: str, data: st.DataObject) -> None:
    notation = Notation(text)
    size = len(notation.body)
    built = notation.build(
        data.draw(
            st.fixed_dictionaries({letter: st.integers(0, 0xFFFF) for letter in notation.letters})
        )
    )
    body = data.draw(
        st.one_of(
            st.binary(min_size=size, max_size=size),
            # one byte changed: hits fixed nibbles as well as parameter nibbles
            st.tuples(st.integers(0, size - 1), st.integers(0, 255)).map(
                lambda change: built[: change[0]] + bytes([change[1]]) + built[change[0] + 1 :]
            ),
            st.just(built),
        )
    )
    values = notation.match(body)
    assert (values is not None) == _fixed_nibbles_fit(notation, body)
    if values is not None:
        assert notation.build(values) == body
    assert notation.match(body + b"\x00") is None
    assert notation.match(body[:-1]) is None


# ---------------------------------------------------------------- answers / hashret


def sr_pairs(sent: list[Packet], received: list[Packet]) -> list[tuple[Packet, Packet]]:
    """Pair replies with requests the way Scapy's ``sr()`` does: a hash table of the
    sent packets by ``hashret()``, then the first one the reply ``answers()``."""
    by_hash: dict[bytes, list[Packet]] = defaultdict(list)
    for pkt in sent:
        by_hash[pkt.hashret()].append(pkt)
    pairs = []
    for reply in received:
        for request in by_hash.get(reply.hashret(), []):
            if reply.answers(request):
                pairs.append((request, reply))
                break
    return pairs


IF_CLEAR = table.BY_NAME["IF_Clear"]
BROADCAST = visca.build("IF_Clear(broadcast)")


def test_reply_answers_the_request_to_its_camera_only() -> None:
    request_1 = VISCA(visca.build("IF_Clear", 1))
    request_2 = VISCA(visca.build("IF_Clear", 2))
    reply_1 = VISCA(visca.build_reply(IF_CLEAR, 1))
    assert reply_1.answers(request_1)
    assert reply_1.hashret() == request_1.hashret()
    assert not reply_1.answers(request_2)
    assert reply_1.hashret() != request_2.hashret()
    assert not request_1.answers(reply_1), "a request answers nothing"
    assert not request_1.answers(request_1)


def test_broadcast_echo_answers_the_broadcast() -> None:
    sent, echo = VISCA(BROADCAST), VISCA(BROADCAST)
    assert echo.answers(sent)
    assert echo.hashret() == sent.hashret()
    assert not VISCA(visca.build_reply(IF_CLEAR, 1)).answers(sent)


def test_sr_style_pairing_sorts_replies_to_their_requests() -> None:
    requests = [
        VISCA(visca.build("IF_Clear", 1)),
        VISCA(visca.build("Version_Inq", 2)),
        VISCA(BROADCAST),
    ]
    replies = [
        VISCA(BROADCAST),
        VISCA(visca.build_reply(table.BY_NAME["Version_Inq"], 2, vendor_id=1)),
        VISCA(visca.build_reply(IF_CLEAR, 3)),  # from a camera nobody asked
        VISCA(visca.build_reply(IF_CLEAR, 1)),
    ]
    pairs = sr_pairs(requests, replies)
    assert [(bytes(req), bytes(rep)) for req, rep in pairs] == [
        (bytes(requests[2]), bytes(replies[0])),
        (bytes(requests[1]), bytes(replies[1])),
        (bytes(requests[0]), bytes(replies[3])),
    ]


def _over_udp(frame: bytes, *, to_camera: bool) -> Packet:
    ends = (
        {"src": "192.0.2.10", "dst": "192.0.2.20"}
        if to_camera
        else {"src": "192.0.2.20", "dst": "192.0.2.10"}
    )
    ports = (
        {"sport": 40000, "dport": visca_ip.PORT}
        if to_camera
        else {"sport": visca_ip.PORT, "dport": 40000}
    )
    return IP(bytes(IP(**ends) / UDP(**ports) / Raw(frame)))


def test_visca_ip_reply_answers_the_request_with_its_sequence() -> None:
    request = _over_udp(visca_ip.wrap(visca.build("IF_Clear", 1), 7), to_camera=True)
    reply = _over_udp(
        visca_ip.wrap(visca.build_reply(IF_CLEAR, 1), 7, visca_ip.REPLY), to_camera=False
    )
    other = _over_udp(
        visca_ip.wrap(visca.build_reply(IF_CLEAR, 1), 8, visca_ip.REPLY), to_camera=False
    )
    assert reply.answers(request)
    assert reply.hashret() == request.hashret()
    assert not other.answers(request)
    assert other.hashret() != request.hashret()
    reset = _over_udp(visca_ip.wrap(visca_ip.RESET, 0, visca_ip.CONTROL), to_camera=True)
    ack = _over_udp(visca_ip.wrap(visca_ip.CONTROL_ACK, 0, visca_ip.CONTROL_REPLY), to_camera=False)
    assert ack.answers(reset)
    assert not reply.answers(reset)


# ---------------------------------------------------------------- VISCA over IP


def test_post_build_fills_the_payload_length() -> None:
    message = visca.build("Version_Inq", 1)
    pkt = VISCA_IP(payload_type=visca_ip.INQUIRY, sequence=0x01020304) / VISCA(message)
    assert (
        bytes(pkt)
        == visca_ip.wrap(message, 0x01020304)
        == (bytes.fromhex("01 10 00 05 01 02 03 04") + message)
    )
    explicit = VISCA_IP(payload_length=9, sequence=1) / VISCA(message)
    assert bytes(explicit)[2:4] == b"\x00\x09", "an explicit length is kept, not corrected"


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_visca_ip_over_udp_dissects_and_round_trips(row: table.Row) -> None:
    lowest = {field_name(row, letter): row.values(letter)[0] for letter in row.packet.letters}
    message = visca.build(row.name, 1, **lowest)
    to_camera = row.kind != "reply"
    ptype = (
        visca_ip.REPLY
        if not to_camera
        else (visca_ip.INQUIRY if row.kind == "inquiry" else visca_ip.COMMAND)
    )
    pkt = (
        IP(src="192.0.2.10", dst="192.0.2.20")
        / UDP(
            sport=40000 if to_camera else visca_ip.PORT, dport=visca_ip.PORT if to_camera else 40000
        )
        / VISCA_IP(payload_type=ptype, sequence=0xFFFFFFFE)
        / VISCA(message)
    )
    wire = bytes(pkt)
    again = IP(wire)
    assert again.haslayer(VISCA_IP), "bound on UDP port 52381"
    header = again[VISCA_IP]
    assert (header.payload_type, header.payload_length, header.sequence) == (
        ptype,
        len(message),
        0xFFFFFFFE,
    )
    assert again.haslayer(MESSAGE_CLASSES[table.SAME_BYTES.get(row.name, row.name)])
    assert bytes(again) == wire
    decoded = visca_ip.decode(bytes(header))
    assert decoded.valid, decoded.describe()
    assert decoded.inner is not None
    assert row.name in [decoded.inner.name, *decoded.inner.aliases]


def test_specific_reply_over_ip_is_named_with_the_request_frame() -> None:
    row = table.BY_NAME["Version_Inq"]
    request = visca_ip.wrap(visca.build(row.name, 1), 3)
    reply = visca_ip.wrap(
        visca.build_reply(row, 1, vendor_id=0xC0F0, max_socket=2), 3, visca_ip.REPLY
    )
    decoded = visca_ip.decode(reply, request)
    assert decoded.valid and decoded.name == "VISCA reply"
    assert decoded.inner is not None
    assert decoded.inner.name == "Version_Inq reply"
    assert decoded.inner.fields["vendor_id"] == 0xC0F0


@pytest.mark.parametrize(
    "payload_type, payload, name",
    [
        (visca_ip.CONTROL, visca_ip.RESET, "RESET"),
        (visca_ip.CONTROL_REPLY, visca_ip.CONTROL_ACK, "Control ACK"),
        (visca_ip.CONTROL_REPLY, visca_ip.SEQUENCE_ERROR, "Sequence_Error"),
        (visca_ip.CONTROL_REPLY, visca_ip.MESSAGE_TYPE_ERROR, "Message_Type_Error"),
    ],
)
def test_control_payloads_are_named(payload_type: int, payload: bytes, name: str) -> None:
    decoded = visca_ip.decode(visca_ip.wrap(payload, 5, payload_type))
    assert (decoded.name, decoded.valid, decoded.inner) == (name, True, None)
    assert decoded.fields["sequence"] == 5


IF_CLEAR_WIRE = visca.build("IF_Clear", 1)

BAD_FRAMES: dict[str, bytes] = {
    "empty": b"",
    "short": bytes.fromhex("01 00 00 05"),
    "header-only": bytes.fromhex("01 00 00 00 00 00 00 01"),
    "garbage": bytes.fromhex("DE AD BE EF 00 11 22 33 44 55"),
    "length-too-long": bytes.fromhex("01 00 00 09 00 00 00 01") + IF_CLEAR_WIRE,
    "length-too-short": bytes.fromhex("01 00 00 02 00 00 00 01") + IF_CLEAR_WIRE,
    "length-over-16": bytes.fromhex("01 00 00 11 00 00 00 01") + bytes(16) + b"\xff",
    "unknown-type": bytes.fromhex("03 00 00 05 00 00 00 01") + IF_CLEAR_WIRE,
    "unknown-control-command": visca_ip.wrap(b"\x55", 1, visca_ip.CONTROL),
    "unknown-control-reply": visca_ip.wrap(b"\x55", 1, visca_ip.CONTROL_REPLY),
}


@pytest.mark.parametrize("frame", BAD_FRAMES.values(), ids=BAD_FRAMES.keys())
def test_malformed_visca_ip_frames_are_invalid_naming_3_2_4(frame: bytes) -> None:
    decoded = visca_ip.decode(frame)
    assert not decoded.valid
    assert decoded.problems
    assert any("§3.2.4" in problem for problem in decoded.problems), decoded.problems
    assert decoded.raw == frame


def test_invalid_inner_message_makes_the_frame_invalid() -> None:
    decoded = visca_ip.decode(visca_ip.wrap(b"\x81\x01\x00\x01", 1))  # no terminator
    assert decoded.problems == []
    assert decoded.inner is not None and not decoded.inner.valid
    assert not decoded.valid


# ---------------------------------------------------------------- robustness

# Generic inquiry answers ``y0 50 ... FF`` decode as valid "Inquiry reply" without
# their request (their content depends on the inquiry); everything else valid must
# be an instance of a row of the table.


def _in_range(row: table.Row, values: dict[str, int]) -> bool:
    return all(row.in_range(letter, value) for letter, value in values.items())


def _addresses(token: str) -> frozenset[int]:
    if token == "8x":
        return COMMAND_ADDRESSES
    if token == "y0":
        return REPLY_ADDRESSES
    return frozenset({int(token, 16)})


def well_formed(data: bytes) -> bool:
    """The oracle, written from §3.1/§3.2.1 and the table, not from decode()."""
    if not table.MIN_LEN <= len(data) <= table.MAX_LEN or data[-1] != table.TERMINATOR:
        return False
    if not framed(data):
        return False
    if data[0] in REPLY_ADDRESSES and data[1] == 0x50 and len(data) > 3:
        return True  # generic inquiry answer
    for row in ROWS:
        values = row.packet.match(data[1:])
        if data[0] in _addresses(row.packet.address) and values is not None:
            return _in_range(row, values)
    for row in ROWS:  # answers to broadcasts (Address_Set) carry the broadcast address
        if row.kind == "broadcast" and row.reply is not None and data[0] == table.BROADCAST:
            values = row.reply.match(data[1:])
            if values is not None:
                return _in_range(row, values)
    return False


@st.composite
def near_messages(draw: st.DrawFn) -> bytes:
    """A message of the table, possibly with one byte changed, added or removed."""
    row = draw(st.sampled_from(ROWS))
    notation = draw(st.sampled_from([n for n in (row.packet, row.reply) if n is not None]))
    values = draw(values_for(row, notation))
    address = draw(st.sampled_from(sorted(_addresses(notation.address))))
    data = bytes([address]) + notation.build(
        {letter: values[field_name(row, letter)] for letter in notation.letters}
    )
    where = draw(st.integers(0, len(data)))
    byte = bytes([draw(st.integers(0, 255))])
    return draw(
        st.sampled_from(
            [
                data,
                data[:where] + byte + data[where + 1 :],
                data[:where] + byte + data[where:],
                data[:where] + data[where + 1 :],
            ]
        )
    )


ANY_BYTES = st.one_of(st.binary(max_size=64), near_messages())


@settings(max_examples=400)
@given(data=ANY_BYTES)
@example(data=bytes.fromhex("89 01 00 01 FF"))  # 8x with x > 7
@example(data=bytes.fromhex("80 09 00 02 FF"))  # camera 0
@example(data=bytes.fromhex("98 50 FF"))
@example(data=bytes.fromhex("90 50 FF FF"))
def test_visca_decode_never_raises_and_flags_what_is_not_in_the_table(data: bytes) -> None:
    decoded = visca.decode(data)
    assert decoded.raw == data
    assert decoded.valid == well_formed(data), decoded.describe()
    if not decoded.valid:
        assert decoded.problems
    decoded.describe()
    decoded.to_json()


@settings(max_examples=200)
@given(data=ANY_BYTES, request=st.one_of(st.none(), ANY_BYTES))
def test_visca_decode_with_any_request_never_raises(data: bytes, request: bytes | None) -> None:
    decoded = visca.decode(data, request)
    assert decoded.valid == well_formed(data), decoded.describe()


@settings(max_examples=400)
@given(data=ANY_BYTES)
def test_scapy_visca_never_raises_and_round_trips(data: bytes) -> None:
    pkt = VISCA(data)
    if data:
        assert bytes(pkt) == data
    pkt.summary()


def well_formed_frame(frame: bytes) -> bool:
    """§3.2.4 header, then a well-formed VISCA message or a known control payload."""
    if len(frame) < visca_ip.HEADER_LEN:
        return False
    ptype = int.from_bytes(frame[:2], "big")
    length = int.from_bytes(frame[2:4], "big")
    payload = frame[visca_ip.HEADER_LEN :]
    if not 1 <= length <= visca_ip.MAX_PAYLOAD or length != len(payload):
        return False
    if ptype == visca_ip.CONTROL:
        return payload == visca_ip.RESET
    if ptype == visca_ip.CONTROL_REPLY:
        return payload in (
            visca_ip.CONTROL_ACK,
            visca_ip.SEQUENCE_ERROR,
            visca_ip.MESSAGE_TYPE_ERROR,
        )
    if ptype in (visca_ip.COMMAND, visca_ip.INQUIRY, visca_ip.REPLY, visca_ip.DEVICE_SETTING):
        return well_formed(payload)
    return False


PAYLOAD_TYPES = st.sampled_from([*visca_ip.PAYLOAD_TYPES, 0x0000, 0x0112, 0x0202, 0xFFFF])


@st.composite
def near_frames(draw: st.DrawFn) -> bytes:
    payload = draw(
        st.one_of(
            near_messages(),
            st.binary(max_size=20),
            st.sampled_from([visca_ip.RESET, visca_ip.SEQUENCE_ERROR, visca_ip.MESSAGE_TYPE_ERROR]),
        )
    )
    frame = visca_ip.wrap(payload, draw(st.integers(0, 0xFFFFFFFF)), draw(PAYLOAD_TYPES))
    if draw(st.booleans()):
        frame = frame[:2] + draw(st.integers(0, 0xFFFF)).to_bytes(2, "big") + frame[4:]
    return frame


ANY_FRAMES = st.one_of(st.binary(max_size=64), near_frames())


@settings(max_examples=400)
@given(frame=ANY_FRAMES)
def test_visca_ip_decode_never_raises_and_flags_malformed_frames(frame: bytes) -> None:
    decoded = visca_ip.decode(frame)
    assert decoded.raw == frame
    assert decoded.valid == well_formed_frame(frame), decoded.describe()
    if not decoded.valid:
        assert decoded.problems or (decoded.inner is not None and decoded.inner.problems)
    decoded.describe()
    decoded.to_json()


@settings(max_examples=300)
@given(frame=ANY_FRAMES)
def test_scapy_visca_ip_never_raises(frame: bytes) -> None:
    over_udp = IP(bytes(IP() / UDP(sport=40000, dport=visca_ip.PORT) / Raw(frame)))
    assert bytes(over_udp[UDP].payload) == frame
    pkt = VISCA_IP(frame)  # short datagrams too: they keep their bytes
    assert bytes(pkt) == frame or not frame
    pkt.summary()


def _layers(pkt: Packet) -> list[str]:
    out: list[str] = []
    layer: Packet = pkt
    while layer:
        out.append(type(layer).__name__)
        layer = layer.payload
    return out


def test_short_visca_ip_payload_over_udp_stays_raw() -> None:
    pkt = IP(bytes(IP() / UDP(sport=40000, dport=visca_ip.PORT) / Raw(b"\x01\x00")))
    assert _layers(pkt)[:2] == ["IP", "UDP"]
    assert bytes(pkt[UDP].payload) == b"\x01\x00"
