"""The byte notation of spec command tables, e.g. ``8x 01 04 47 0Y 0Y 0Y 0Y FF``.

Each two-character token is one byte.  An upper-case hex digit is a fixed
nibble; any other character is a nibble of a named parameter.  All nibbles of
one letter, in order, make up that parameter, so ``0Y 0Y 0Y 0Y`` is a 16-bit
value spread over four bytes (AVer VISCA spec note 1: "0x1234 -> 01 02 03 04")
and ``GG GG`` a 16-bit value in two bytes.  The first token is the address
byte: ``8x`` (camera x), ``88`` (broadcast) or ``y0`` (reply from camera y).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

HEX = frozenset("0123456789ABCDEF")


@dataclass(frozen=True)
class Notation:
    text: str

    @cached_property
    def tokens(self) -> tuple[str, ...]:
        tokens = tuple(self.text.split())
        for token in tokens:
            if len(token) != 2:
                raise ValueError(f"{self.text!r}: token {token!r} is not two characters")
        return tokens

    @property
    def address(self) -> str:
        return self.tokens[0]

    @property
    def body(self) -> tuple[str, ...]:
        """The tokens after the address byte, terminator included."""
        return self.tokens[1:]

    def __len__(self) -> int:
        return len(self.tokens)

    @cached_property
    def letters(self) -> tuple[str, ...]:
        """Parameter letters of the body, in order of first appearance."""
        seen: dict[str, None] = {}
        for token in self.body:
            for ch in token:
                if ch not in HEX:
                    seen.setdefault(ch)
        return tuple(seen)

    def widths(self) -> dict[str, int]:
        """Bits of each parameter letter."""
        out: dict[str, int] = {}
        for token in self.body:
            for ch in token:
                if ch not in HEX:
                    out[ch] = out.get(ch, 0) + 4
        return out

    @cached_property
    def prefix(self) -> bytes:
        """The fixed bytes of the body up to the first parameter nibble."""
        out = bytearray()
        for token in self.body:
            if any(ch not in HEX for ch in token):
                break
            out.append(int(token, 16))
        return bytes(out)

    def match(self, body: bytes) -> dict[str, int] | None:
        """Parameter values if *body* (the bytes after the address) fits."""
        if len(body) != len(self.body):
            return None
        values: dict[str, int] = {}
        for byte, token in zip(body, self.body, strict=True):
            for nibble, ch in ((byte >> 4, token[0]), (byte & 0xF, token[1])):
                if ch in HEX:
                    if nibble != int(ch, 16):
                        return None
                else:
                    values[ch] = (values.get(ch, 0) << 4) | nibble
        return values

    def build(self, values: dict[str, int]) -> bytes:
        """The body bytes for *values* (missing parameters are 0)."""
        widths = self.widths()
        remaining = {ch: widths[ch] for ch in widths}
        out = bytearray()
        for token in self.body:
            byte = 0
            for ch in token:
                if ch in HEX:
                    nibble = int(ch, 16)
                else:
                    remaining[ch] -= 4
                    nibble = (values.get(ch, 0) >> remaining[ch]) & 0xF
                byte = (byte << 4) | nibble
            out.append(byte)
        return bytes(out)
