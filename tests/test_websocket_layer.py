"""The WebSocket layer (``dissectors/websocket.py``) against RFC 6455 and RFC 7692.

Scapy build -> dissect round trips over every length encoding, masking and
opcode; the stream parser, message assembler and inflater on clean input and on
each planted protocol error; the opening handshake checks; and bytes produced by
an independent implementation (the ``websockets`` package's sans-I/O client and
server with permessage-deflate) read back unchanged.
"""

from __future__ import annotations

import random
import struct
import zlib

import pytest
from scapy.packet import Raw
from websockets.frames import Frame

from dissectors import websocket as ws
from dissectors.http_upgrade import (
    accept_key,
    check_handshake,
    negotiated_deflate,
    parse_extensions,
    parse_request,
    parse_response,
    read_head,
)
from dissectors.websocket import WebSocket
from dissectors.websocket_deflate import (
    DEFLATE_TAIL,
    EXTENSION,
    DeflateError,
    DeflateParams,
    Deflater,
    Inflater,
)
from tests.ocpp_captures import websockets_pair

KEY = b"\x37\xfa\x21\x3d"
LENGTHS = (0, 1, 125, 126, 127, 65535, 65536, 70000)


def checks(problems: list[ws.Problem] | tuple[ws.Problem, ...]) -> list[str]:
    return [p.check for p in problems]


def parse(data: bytes, *, from_client: bool | None = None, **options: object) -> list[ws.Frame]:
    return ws.FrameParser(from_client=from_client, **options).feed(data)  # type: ignore[arg-type]


# ---------------------------------------------------------------- Scapy layer


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("masked", [False, True])
def test_layer_round_trips_every_length_encoding(length: int, masked: bool) -> None:
    payload = bytes(i % 251 for i in range(length))
    key = KEY if masked else None
    pkt = WebSocket(opcode=ws.BINARY, mask=int(masked), masking_key=key, data=payload)
    raw = bytes(pkt)
    assert raw == ws.encode_frame(ws.BINARY, payload, key=key)
    back = WebSocket(raw)
    assert back.data == payload
    assert back.length == ws.length_code(length)
    assert (back.length16, back.length64) == {
        126: (length, None),
        127: (None, length),
    }.get(back.length, (None, None))
    assert back.problems(from_client=masked) == []
    if masked and length:
        assert raw[-length:] != payload  # masked on the wire, unmasked in the layer


@pytest.mark.parametrize("opcode", sorted(ws.OPCODES))
def test_layer_round_trips_every_opcode(opcode: int) -> None:
    fin = 1 if opcode != ws.CONTINUATION else 0
    back = WebSocket(bytes(WebSocket(fin=fin, opcode=opcode, data=b"abc")))
    assert (back.fin, back.opcode, back.data) == (fin, opcode, b"abc")
    assert ws.OPCODES[opcode] in back.mysummary()


def test_layer_dissects_rfc_examples() -> None:
    # RFC 6455 §5.7: a masked "Hello" and a 256-byte binary message with a 16-bit length
    hello = WebSocket(bytes.fromhex("818537fa213d7f9f4d5158"))
    assert (hello.opcode, hello.mask, hello.data) == (ws.TEXT, 1, b"Hello")
    binary = WebSocket(bytes.fromhex("827e0100") + bytes(256))
    assert (binary.length, binary.length16, len(binary.data)) == (126, 256, 256)


def test_a_random_masking_key_still_dissects() -> None:
    raw = bytes(WebSocket(mask=1, data=b"payload"))
    assert WebSocket(raw).data == b"payload"


def test_back_to_back_frames_chain() -> None:
    raw = ws.encode_frame(ws.TEXT, b"one") + ws.encode_frame(ws.PING, b"") + b"\x81"
    pkt = WebSocket(raw)
    assert pkt.data == b"one"
    assert pkt.payload.opcode == ws.PING
    assert isinstance(pkt.payload.payload, Raw)  # one byte cannot be a frame


def test_layer_problems_fire_on_faulty_frames() -> None:
    overlong = WebSocket(ws.encode_frame(ws.TEXT, b"12345", length_bytes=2))
    assert checks(overlong.problems()) == ["websocket.length-encoding"]
    truncated = WebSocket(ws.encode_frame(ws.TEXT, b"12345")[:-2])
    assert checks(truncated.problems()) == ["websocket.truncated"]
    unmasked = WebSocket(ws.encode_frame(ws.TEXT, b"x"))
    assert checks(unmasked.problems(from_client=True)) == ["websocket.unmasked-client-frame"]
    assert unmasked.problems(from_client=False) == []


# ---------------------------------------------------------------- frame parser


def test_parser_reads_frames_fed_byte_by_byte() -> None:
    stream = b"".join(ws.encode_frame(ws.TEXT, b"x" * n, key=KEY) for n in (0, 5, 126, 300, 65536))
    parser = ws.FrameParser(from_client=True)
    frames = [f for i in range(0, len(stream), 7) for f in parser.feed(stream[i : i + 7])]
    assert [len(f.payload) for f in frames] == [0, 5, 126, 300, 65536]
    assert all(f.problems == () for f in frames)
    assert frames[1].start == frames[0].end
    assert frames[-1].end == len(stream)
    assert parser.buffered == 0


def test_mask_helpers_are_symmetric() -> None:
    assert ws.unmask(ws.unmask(b"Hello", KEY), KEY) == b"Hello"
    assert ws.unmask(b"", KEY) == b""


PLANTED = [
    ("reserved opcode", ws.encode_frame(0x3, b"", key=KEY), True, {}, "websocket.reserved-opcode"),
    ("RSV2 set", ws.encode_frame(ws.TEXT, b"[]", rsv=ws.RSV2, key=KEY), True, {},
     "websocket.rsv-bits"),
    ("RSV1 without deflate", ws.encode_frame(ws.TEXT, b"[]", rsv=ws.RSV1, key=KEY), True, {},
     "websocket.rsv-bits"),
    ("RSV1 on a continuation", ws.encode_frame(ws.CONTINUATION, b"x", rsv=ws.RSV1, key=KEY),
     True, {"rsv1_allowed": True}, "websocket.rsv-bits"),
    ("RSV1 on a ping", ws.encode_frame(ws.PING, b"", rsv=ws.RSV1, key=KEY), True,
     {"rsv1_allowed": True}, "websocket.rsv-bits"),
    ("long ping", ws.encode_frame(ws.PING, bytes(126), key=KEY), True, {},
     "websocket.control-too-long"),
    ("fragmented close", ws.encode_frame(ws.CLOSE, b"", fin=False, key=KEY), True, {},
     "websocket.control-fragmented"),
    ("unmasked client frame", ws.encode_frame(ws.TEXT, b"[]"), True, {},
     "websocket.unmasked-client-frame"),
    ("masked server frame", ws.encode_frame(ws.TEXT, b"[]", key=KEY), False, {},
     "websocket.masked-server-frame"),
    ("16-bit length for 5 bytes", ws.encode_frame(ws.TEXT, b"[1,2]", length_bytes=2), False, {},
     "websocket.length-encoding"),
    ("64-bit length for 200 bytes", ws.encode_frame(ws.BINARY, bytes(200), length_bytes=8),
     False, {}, "websocket.length-encoding"),
    ("64-bit length with the top bit", b"\x82\x7f" + struct.pack(">Q", 1 << 63), False, {},
     "websocket.length-encoding"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("data", "from_client", "options", "check"),
    [p[1:] for p in PLANTED],
    ids=[p[0] for p in PLANTED],
)
def test_each_frame_error_fires(
    data: bytes, from_client: bool, options: dict[str, bool], check: str
) -> None:
    (frame, *_) = parse(data, from_client=from_client, **options)
    assert check in checks(frame.problems)


def test_the_same_frames_done_right_are_quiet() -> None:
    good = [
        (ws.encode_frame(ws.TEXT, b"[]", rsv=ws.RSV1, key=KEY), True, True),
        (ws.encode_frame(ws.PING, bytes(125), key=KEY), True, False),
        (ws.encode_frame(ws.CLOSE, ws.close_payload(1000), key=KEY), True, False),
        (ws.encode_frame(ws.TEXT, b"[]"), False, False),
        (ws.encode_frame(ws.BINARY, bytes(126)), False, False),
        (ws.encode_frame(ws.BINARY, bytes(65536)), False, False),
    ]
    for data, from_client, rsv1 in good:
        (frame,) = parse(data, from_client=from_client, rsv1_allowed=rsv1)
        assert frame.problems == ()


def test_oversized_frames_are_skipped_not_buffered() -> None:
    parser = ws.FrameParser(from_client=False, max_payload=100)
    big = ws.encode_frame(ws.BINARY, bytes(300))
    after = ws.encode_frame(ws.TEXT, b"[3]")
    frames = parser.feed(big[:50]) + parser.feed(big[50:] + after)
    assert [f.skipped for f in frames] == [True, False]
    assert checks(frames[0].problems) == ["websocket.too-large"]
    assert frames[1].payload == b"[3]"
    assert parser.buffered == 0


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("from_client", [True, False])
def test_parser_finds_the_next_frames_after_a_lost_compressed_tail(
    seed: int, from_client: bool
) -> None:
    rnd = random.Random(seed)
    deflater = Deflater(no_context_takeover=True)
    texts = [f'[2,"{i}","DataTransfer",{{"data":"{rnd.randbytes(80).hex()}"}}]' for i in range(4)]
    key = KEY if from_client else None
    wire = [
        ws.encode_frame(ws.TEXT, deflater.deflate(t.encode()), rsv=ws.RSV1, key=key) for t in texts
    ]
    parser = ws.FrameParser(from_client=from_client, rsv1_allowed=True)
    parser.resync(100)  # the start of the first frame is lost
    frames = parser.feed(wire[0][rnd.randrange(2, len(wire[0])) :])
    for data in wire[1:]:
        frames += parser.feed(data)
    assembler = ws.MessageAssembler(Inflater(no_context_takeover=True))
    messages = [assembler.add(f)[0] for f in frames if not f.problems]
    assert [m.text for m in messages if m is not None][-3:] == texts[1:]


def test_parser_resynchronises_after_lost_bytes() -> None:
    parser = ws.FrameParser(from_client=True)
    first = ws.encode_frame(ws.TEXT, b'[2,"1","Heartbeat",{}]', key=KEY)
    second = ws.encode_frame(ws.TEXT, b'[2,"2","Heartbeat",{}]', key=KEY)
    assert parser.feed(first[:9]) == []
    parser.resync(len(first) - 9 - 4)  # the rest of the first frame minus 4 bytes is lost
    frames = parser.feed(first[-4:] + second)
    assert [f.payload for f in frames] == [b'[2,"2","Heartbeat",{}]']
    assert frames[0].start == len(first)


# ---------------------------------------------------------------- messages


def test_fragments_with_an_interleaved_ping_assemble() -> None:
    text = '[2,"1","DataTransfer",{"vendorId":"é€"}]'.encode()
    cut = text.index("€".encode()) + 1  # a fragment boundary inside a UTF-8 character
    data = (
        ws.encode_frame(ws.TEXT, text[:cut], fin=False, key=KEY)
        + ws.encode_frame(ws.PING, b"hi", key=KEY)
        + ws.encode_frame(ws.CONTINUATION, text[cut:], key=KEY)
    )
    assembler = ws.MessageAssembler()
    out = [assembler.add(f) for f in parse(data, from_client=True)]
    assert out[0] == (None, [])
    ping, problems = out[1]
    assert ping is not None and (ping.opcode, ping.data, problems) == (ws.PING, b"hi", [])
    message, problems = out[2]
    assert message is not None and problems == []
    assert (message.text, message.frames) == (text.decode(), 2)
    assert not assembler.pending


def assemble(*frames: bytes, inflater: Inflater | None = None) -> list[str]:
    assembler = ws.MessageAssembler(inflater)
    found: list[str] = []
    for frame in parse(b"".join(frames)):
        found += checks(assembler.add(frame)[1])
    return found


def test_fragmentation_errors_fire() -> None:
    assert assemble(ws.encode_frame(ws.CONTINUATION, b"x")) == ["websocket.fragmentation"]
    assert assemble(ws.encode_frame(ws.TEXT, b"[", fin=False), ws.encode_frame(ws.TEXT, b"[]")) == [
        "websocket.fragmentation"
    ]
    assert assemble(ws.encode_frame(ws.TEXT, b"[", fin=False), ws.encode_frame(0, b"]")) == []


def test_invalid_utf8_text_fires() -> None:
    assert assemble(ws.encode_frame(ws.TEXT, b"[\xff]")) == ["websocket.invalid-utf8"]
    assert assemble(ws.encode_frame(ws.BINARY, b"[\xff]")) == []


@pytest.mark.parametrize(
    ("payload", "check"),
    [
        (b"\x03", "websocket.close-payload"),
        (ws.close_payload(1005), "websocket.close-code"),
        (ws.close_payload(1006), "websocket.close-code"),
        (ws.close_payload(999), "websocket.close-code"),
        (ws.close_payload(2999), "websocket.close-code"),
        (ws.close_payload(5000), "websocket.close-code"),
        (struct.pack(">H", 1000) + b"\xc3", "websocket.invalid-utf8"),
    ],
)
def test_bad_close_payloads_fire(payload: bytes, check: str) -> None:
    assert assemble(ws.encode_frame(ws.CLOSE, payload)) == [check]


@pytest.mark.parametrize("code", [None, 1000, 1001, 1011, 1014, 3000, 4999])
def test_good_close_payloads_are_quiet(code: int | None) -> None:
    assert assemble(ws.encode_frame(ws.CLOSE, ws.close_payload(code, "bye ✓"))) == []
    assert ws.parse_close(ws.close_payload(code, "bye")) == (code, "bye" if code else "")


# ---------------------------------------------------------------- permessage-deflate

MESSAGE = b'[2,"19223201","BootNotification",{"reason":"PowerUp","chargingStation":{}}]'


@pytest.mark.parametrize("takeover", [True, False])
def test_deflate_round_trips_with_and_without_context_takeover(takeover: bool) -> None:
    deflater = Deflater(no_context_takeover=not takeover)
    inflater = Inflater(no_context_takeover=not takeover)
    first, second = deflater.deflate(MESSAGE), deflater.deflate(MESSAGE)
    assert not first.endswith(DEFLATE_TAIL)
    assert inflater.inflate(first) == inflater.inflate(second) == MESSAGE
    alone = Inflater(no_context_takeover=True)
    if takeover:  # the second message refers back into the first one's window
        assert len(second) < len(first)
        with pytest.raises(DeflateError):
            alone.inflate(second)
    else:
        assert second == first
        assert alone.inflate(second) == MESSAGE


def test_a_window_larger_than_negotiated_does_not_inflate() -> None:
    rnd = random.Random(7)
    block = rnd.randbytes(300)
    deflater = Deflater(15)
    first, second = deflater.deflate(block + rnd.randbytes(1000)), deflater.deflate(block)
    # the second message refers 1300 bytes back into the first: beyond a 9-bit window
    wide = Inflater(15)
    assert wide.inflate(first)[:300] == wide.inflate(second) == block
    narrow = Inflater(9)
    narrow.inflate(first)
    with pytest.raises(DeflateError, match="too far back"):
        narrow.inflate(second)


def test_compressed_messages_assemble_across_fragments() -> None:
    deflated = Deflater().deflate(MESSAGE)
    data = ws.encode_frame(ws.TEXT, deflated[:5], fin=False, rsv=ws.RSV1) + ws.encode_frame(
        ws.CONTINUATION, deflated[5:]
    )
    assembler = ws.MessageAssembler(Inflater())
    (_, (message, problems)) = [assembler.add(f) for f in parse(data, rsv1_allowed=True)]
    assert problems == [] and message is not None
    assert (message.data, message.compressed) == (MESSAGE, True)


def test_undecodable_compressed_message_fires() -> None:
    inflater = Inflater()
    garbage = ws.encode_frame(ws.TEXT, b"\xff\xff\xff", rsv=ws.RSV1)
    assert assemble(garbage, inflater=inflater) == ["websocket.deflate"]
    assert inflater.broken
    with pytest.raises(DeflateError):
        inflater.inflate(Deflater().deflate(MESSAGE))


def test_lost_bytes_lose_the_context_only_with_takeover() -> None:
    keep, reset = Inflater(), Inflater(no_context_takeover=True)
    keep.lose()
    reset.lose()
    assert keep.lost and not reset.lost
    assert reset.inflate(Deflater().deflate(MESSAGE)) == MESSAGE


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("permessage-deflate", DeflateParams()),
        (
            "permessage-deflate; server_no_context_takeover; client_max_window_bits=10",
            DeflateParams(server_no_context_takeover=True, client_max_window_bits=10),
        ),
        (
            'permessage-deflate; client_no_context_takeover; server_max_window_bits="12"',
            DeflateParams(client_no_context_takeover=True, server_max_window_bits=12),
        ),
    ],
)
def test_deflate_parameters_are_read(header: str, expected: DeflateParams) -> None:
    ((name, params),) = parse_extensions(header)
    assert name == EXTENSION
    assert DeflateParams.from_params(params) == expected


@pytest.mark.parametrize(
    "header",
    [
        "permessage-deflate; client_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; colour=blue",
    ],
)
def test_bad_deflate_parameters_are_refused(header: str) -> None:
    ((_, params),) = parse_extensions(header)
    with pytest.raises(ValueError, match=r"§7\.1"):
        DeflateParams.from_params(params)


# ---------------------------------------------------------------- opening handshake

REQUEST = (
    b"GET /ocpp/CS001 HTTP/1.1\r\nHost: csms\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    b"Sec-WebSocket-Protocol: ocpp2.1, ocpp2.0.1\r\n"
    b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
)
RESPONSE = (
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: ocpp2.1\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
)


def handshake(response: str = RESPONSE, request: bytes = REQUEST) -> list[str]:
    return checks(check_handshake(parse_request(request), parse_response(response.encode())))


def test_accept_key_matches_rfc_example() -> None:
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_clean_handshake_is_quiet_and_parsed() -> None:
    assert handshake() == []
    request = parse_request(REQUEST)
    assert (request.method, request.target) == ("GET", "/ocpp/CS001")
    assert request.tokens("Sec-WebSocket-Protocol") == ["ocpp2.1", "ocpp2.0.1"]
    response = parse_response(RESPONSE.encode())
    assert (response.status, response.get("sec-websocket-protocol")) == (101, "ocpp2.1")
    assert negotiated_deflate(response) == DeflateParams()


@pytest.mark.parametrize(
    ("old", "new", "check"),
    [
        ("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", "websocket.accept"),
        ("101 Switching Protocols", "404 Not Found", "websocket.http-status"),
        ("Protocol: ocpp2.1", "Protocol: ocpp1.6", "websocket.subprotocol"),
        ("Protocol: ocpp2.1", "Protocol: ocpp2.1, ocpp2.0.1", "websocket.subprotocol"),
        ("Upgrade: websocket\r\n", "", "websocket.handshake"),
        ("permessage-deflate", "x-webkit-deflate-frame", "websocket.extension"),
        (
            "permessage-deflate",
            "permessage-deflate; client_max_window_bits=99",
            "websocket.extension",
        ),
    ],
)
def test_each_handshake_error_fires(old: str, new: str, check: str) -> None:
    assert handshake(RESPONSE.replace(old, new)) == [check]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"GET ", b"POST "),
        (b"Version: 13", b"Version: 8"),
        (b"Connection: Upgrade", b"Connection: keep-alive"),
        (b"Key: dGhlIHNhbXBsZSBub25jZQ==", b"Key: c2hvcnQ="),
    ],
)
def test_each_request_error_fires(old: bytes, new: bytes) -> None:
    assert "websocket.handshake" in handshake(request=REQUEST.replace(old, new))


def test_heads_are_found_in_a_stream() -> None:
    assert read_head(REQUEST[:-1]) is None
    assert read_head(REQUEST + b"\x81\x00") == len(REQUEST)
    with pytest.raises(ValueError, match="no end"):
        read_head(b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 5000)
    with pytest.raises(ValueError):
        parse_request(b"\x81\x05Hello\r\n\r\n")
    with pytest.raises(ValueError):
        parse_response(b"HTTP/1.1 abc\r\n\r\n")


# ---------------------------------------------------------------- an independent implementation


@pytest.mark.parametrize("takeover", [True, False])
def test_websockets_bytes_read_back(takeover: bool) -> None:
    client, server, up, down = websockets_pair(takeover=takeover)
    request = parse_request(up[: read_head(up)])
    response = parse_response(down[: read_head(down)])
    assert check_handshake(request, response) == []
    params = negotiated_deflate(response)
    assert params is not None
    assert params.client_no_context_takeover == params.server_no_context_takeover == (not takeover)
    texts = [f'[2,"{i}","Heartbeat",{{}}]' for i in range(3)]
    for text in texts:
        client.send_text(text.encode())
    server.send_text(b'[3,"0",', fin=False)
    server.send_continuation(b'{"currentTime":"2024-05-01T12:00:00Z"}]', fin=True)
    for from_client, proto, want in (
        (True, client, texts),
        (False, server, ['[3,"0",{"currentTime":"2024-05-01T12:00:00Z"}]']),
    ):
        raw = b"".join(proto.data_to_send())
        frames = parse(raw, from_client=from_client, rsv1_allowed=True)
        assert all(f.problems == () for f in frames)
        assert all(f.rsv1 for f in frames if f.opcode == ws.TEXT)
        assembler = ws.MessageAssembler(params.inflater(from_client=from_client))
        results = [assembler.add(f) for f in frames]
        assert [m.text for m, p in results if m is not None and not p] == want


def test_our_deflate_output_reads_in_websockets() -> None:
    client, _, _, down = websockets_pair(takeover=True)
    params = negotiated_deflate(parse_response(down[: read_head(down)]))
    assert params is not None
    deflater = params.deflater(from_client=False)
    for text in (MESSAGE, MESSAGE):
        client.receive_data(ws.encode_frame(ws.TEXT, deflater.deflate(text), rsv=ws.RSV1))
    received = [e.data for e in client.events_received() if isinstance(e, Frame)]
    assert received == [MESSAGE, MESSAGE]


def test_zlib_tail_is_what_sync_flush_ends_with() -> None:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    assert (c.compress(b"x") + c.flush(zlib.Z_SYNC_FLUSH)).endswith(DEFLATE_TAIL)
