"""``conformance decode``: hex on the command line to named, checked messages.

Source: AVer VISCA spec rev 3.4 (``aver-visca-pelco-spec.txt``): §3.1 VISCA
message format, §3.2.2 Pelco-P, §3.2.3 Pelco-D, §3.2.4 VISCA over IP.  The
dissectors do the decoding; this module only turns loosely written hex into
messages (splitting streams into frames) and pairs VISCA replies with the
request they answer, so that inquiry answers get their names.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable

from dissectors import visca, visca_ip
from dissectors import visca_table as table
from dissectors.decoded import Decoded

VISCA = "visca"
VISCA_IP = "visca-ip"
PELCO_D = "pelco-d"
PELCO_P = "pelco-p"
PROTOCOLS: tuple[str, ...] = (VISCA, VISCA_IP, PELCO_D, PELCO_P)

#: Pelco frame start byte and length: §3.2.3 ``FF addr cmd1 cmd2 data1 data2 sum``
#: and §3.2.2 ``A0 addr data1 data2 data3 data4 AF xor``.
PELCO_FRAMING: dict[str, tuple[int, int]] = {PELCO_D: (0xFF, 7), PELCO_P: (0xA0, 8)}
#: Modules of the Pelco decoders, imported only when asked for.
PELCO_MODULES: dict[str, str] = {PELCO_D: "dissectors.pelco_d", PELCO_P: "dissectors.pelco_p"}

_SEPARATORS = re.compile(r"[\s:,\-]+")
_HEX_DIGITS = re.compile(r"[0-9a-fA-F]+")


# ---------------------------------------------------------------- hex input


def parse_hex(text: str) -> bytes:
    """Bytes written as hex: ``"81 09 00 02 FF"``, ``"81:09:00:02:ff"``, ``"0x81,0x09"``,
    ``"810900"``.

    Tokens are separated by whitespace, ``:``, ``-`` or ``,``; each may carry a
    ``0x`` prefix and hold several bytes.  Raises ValueError naming the bad token.
    """
    out = bytearray()
    for token in _SEPARATORS.split(text.strip()):
        if not token:
            continue
        digits = token[2:] if token[:2] in ("0x", "0X") else token
        problem = None
        if not _HEX_DIGITS.fullmatch(digits):
            problem = f"not hex: {token!r}"
        elif len(digits) % 2:
            if digits is token:
                problem = f"odd number of hex digits in {token!r}"
            else:
                digits = "0" + digits  # "0x1" is the number 1
        if problem is not None:
            where = f" (in {text.strip()!r})" if text.strip() != token else ""
            raise ValueError(problem + where)
        out += bytes.fromhex(digits)
    return bytes(out)


def split_visca(data: bytes) -> list[bytes]:
    """A VISCA byte stream cut after each FF terminator (§3.1); a tail without
    one is kept as a last, unterminated message."""
    messages = []
    start = 0
    for i, byte in enumerate(data):
        if byte == table.TERMINATOR:
            messages.append(data[start : i + 1])
            start = i + 1
    if start < len(data):
        messages.append(data[start:])
    return messages


def split_pelco(data: bytes, protocol: str) -> list[bytes]:
    """A Pelco byte stream cut into fixed-length frames from each start byte
    (§3.2.2, §3.2.3); bytes before a start byte form a frame of their own (which
    then decodes as invalid), as does a short last frame."""
    start_byte, length = PELCO_FRAMING[protocol]
    frames = []
    i = 0
    while i < len(data):
        if data[i] == start_byte:
            frames.append(data[i : i + length])
            i += length
            continue
        j = data.find(start_byte, i + 1)
        j = len(data) if j < 0 else j
        frames.append(data[i:j])
        i = j
    return frames


def split_messages(protocol: str, hex_args: Iterable[str]) -> list[bytes]:
    """Every message in *hex_args*.

    Each argument is split on its own (a VISCA-over-IP argument is one
    datagram), except that consecutive one-byte arguments, as in an unquoted
    ``81 09 00 02 FF``, are joined first.
    """
    _check_protocol(protocol)
    chunks: list[bytes] = []
    single = bytearray()  # consecutive one-byte arguments
    for arg in hex_args:
        data = parse_hex(arg)
        if not data:
            raise ValueError(f"no hex digits in {arg!r}")
        if len(data) == 1:
            single += data
            continue
        if single:
            chunks.append(bytes(single))
            single.clear()
        chunks.append(data)
    if single:
        chunks.append(bytes(single))
    if not chunks:
        raise ValueError("no messages given")
    messages: list[bytes] = []
    for data in chunks:
        if protocol == VISCA:
            messages += split_visca(data)
        elif protocol == VISCA_IP:
            messages.append(data)
        else:
            messages += split_pelco(data, protocol)
    return messages


# ---------------------------------------------------------------- decoding


def decode_hex(protocol: str, hex_args: list[str], *, model: str | None = None) -> list[Decoded]:
    """Decode every message written in *hex_args* as *protocol*.

    VISCA replies are decoded with the latest request to the same camera (or
    the latest broadcast), VISCA-over-IP replies with the request of the same
    sequence number, so ``81 09 00 02 FF 90 50 ...`` gives "Version_Inq reply".
    *model* (a name from the §3.2.1 notes) picks between rows that share bytes.
    Raises ValueError with a one-line message for bad input.
    """
    _check_protocol(protocol)
    if model is not None:
        if protocol not in (VISCA, VISCA_IP):
            raise ValueError(f"--model applies to visca and visca-ip, not {protocol}")
        if model not in table.MODELS:
            raise ValueError(f"unknown model {model!r} (known: {', '.join(table.MODELS)})")
    messages = split_messages(protocol, hex_args)
    if protocol == VISCA:
        return _decode_visca(messages, model)
    if protocol == VISCA_IP:
        return _decode_visca_ip(messages, model)
    decode = pelco_decoder(protocol)
    return [decode(frame) for frame in messages]


def pelco_decoder(protocol: str) -> Callable[[bytes], Decoded]:
    """``decode`` of :mod:`dissectors.pelco_d` or :mod:`dissectors.pelco_p`, imported now."""
    try:
        module = importlib.import_module(PELCO_MODULES[protocol])
    except ImportError as exc:
        raise ValueError(f"{protocol} decoding is not available: {exc}") from None
    decode: Callable[[bytes], Decoded] = module.decode
    return decode


def _visca_party(address: int) -> tuple[str, int] | None:
    """Who a VISCA message is from or to (§3.1): ("request", camera 1..7),
    ("reply", camera 1..7) or ("broadcast", 0); None for a bad address byte."""
    if address == table.BROADCAST:
        return "broadcast", 0
    if 0x81 <= address <= 0x87:
        return "request", address & 0x07
    if address & 0x0F == 0 and 0x90 <= address <= 0xF0:
        return "reply", (address >> 4) - 8
    return None


def _decode_visca(messages: list[bytes], model: str | None) -> list[Decoded]:
    pending: dict[int, bytes] = {}  # camera (0: broadcast) -> latest request
    out = []
    for data in messages:
        party = _visca_party(data[0]) if len(data) > 1 else None
        if party is None:
            decoded = visca.decode(data, model=model)
        elif party[0] == "request":
            decoded = visca.decode(data, model=model)
            pending[party[1]] = data
        elif party[0] == "reply":
            decoded = visca.decode(data, pending.get(party[1]), model)
        else:  # a broadcast, or the answer to (or echo of) the latest one
            decoded = visca.decode(data, pending.pop(0, None), model)
            if not decoded.name.endswith(" reply"):
                pending[0] = data
        out.append(decoded)
    return out


def _decode_visca_ip(datagrams: list[bytes], model: str | None) -> list[Decoded]:
    requests: dict[int, bytes] = {}  # sequence number -> request datagram
    latest: bytes | None = None
    out = []
    for data in datagrams:
        try:
            ptype, _, sequence, payload = visca_ip.unwrap(data)
        except ValueError:
            out.append(visca_ip.decode(data))
            continue
        request = None
        if ptype in (visca_ip.COMMAND, visca_ip.INQUIRY):
            requests[sequence] = data
            latest = data
        elif ptype == visca_ip.REPLY:
            request = requests.get(sequence, latest)
        decoded = visca_ip.decode(data, request)
        if model is not None and decoded.inner is not None:
            inner_request = request[visca_ip.HEADER_LEN :] if request is not None else None
            decoded.inner = visca.decode(payload, inner_request or None, model)
        out.append(decoded)
    return out


def _check_protocol(protocol: str) -> None:
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r} (known: {', '.join(PROTOCOLS)})")


# ---------------------------------------------------------------- output


def describe_line(decoded: Decoded) -> str:
    """``<hex>  <describe()>``, as ``conformance decode`` prints each message."""
    return f"{decoded.raw.hex(' ').upper()}  {decoded.describe()}"
