"""permessage-deflate (RFC 7692) for the WebSocket layer in :mod:`dissectors.websocket`.

* :class:`Inflater` -- decompresses the messages of one direction (§7.2.2), with or
  without context takeover; :class:`DeflateError` when a message does not inflate.
* :class:`Deflater` -- compresses messages as §7.2.1 sends them (for building input).
* :class:`DeflateParams` -- the parameters a server accepted (§7.1), and the
  inflater/deflater of each direction they imply.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dissectors.websocket import MAX_PAYLOAD

#: §7.2.1: removed from every compressed message, appended before inflating
DEFLATE_TAIL = b"\x00\x00\xff\xff"
EXTENSION = "permessage-deflate"


class DeflateError(ValueError):
    """A compressed message that does not inflate (RFC 7692 §7.2.2)."""


class Inflater:
    """Decompresses the messages of one direction (RFC 7692 §7.2.2).

    With context takeover the LZ77 window carries over between messages; after
    :meth:`lose` (bytes missing from the capture) it is gone and :attr:`lost` is
    set, after a message that did not inflate :attr:`broken` is: either way later
    messages cannot be read.
    """

    def __init__(
        self,
        window_bits: int = 15,
        *,
        no_context_takeover: bool = False,
        max_size: int = MAX_PAYLOAD,
    ) -> None:
        # zlib refuses an 8-bit window for raw deflate; 9 reads the same streams
        self.window_bits = max(9, window_bits)
        self.no_context_takeover = no_context_takeover
        self.max_size = max_size
        self.lost = False
        self.broken = False
        self._d: Any = None

    def lose(self) -> None:
        """Messages were lost: a carried-over window cannot be rebuilt."""
        self._d = None
        self.lost = not self.no_context_takeover

    def inflate(self, data: bytes) -> bytes:
        if self.lost or self.broken:
            why = "bytes missing from the stream" if self.lost else "an earlier message"
            raise DeflateError(f"the compression context went with {why}")
        if self._d is None or self.no_context_takeover or self._d.eof:
            self._d = zlib.decompressobj(-self.window_bits)
        try:
            out = self._d.decompress(data + DEFLATE_TAIL, self.max_size)
        except zlib.error as exc:
            self._d = None
            self.broken = not self.no_context_takeover
            raise DeflateError(str(exc)) from None
        if self._d.unconsumed_tail:
            self._d = None
            self.broken = not self.no_context_takeover
            raise DeflateError(f"inflates to more than {self.max_size} bytes")
        return out


class Deflater:
    """Compresses messages the way RFC 7692 §7.2.1 sends them (sync flush, tail removed)."""

    def __init__(
        self, window_bits: int = 15, *, no_context_takeover: bool = False, level: int = 6
    ) -> None:
        self.window_bits = max(9, window_bits)
        self.no_context_takeover = no_context_takeover
        self.level = level
        self._c: Any = None

    def deflate(self, data: bytes) -> bytes:
        if self._c is None or self.no_context_takeover:
            self._c = zlib.compressobj(self.level, zlib.DEFLATED, -self.window_bits)
        out = self._c.compress(data) + self._c.flush(zlib.Z_SYNC_FLUSH)
        return out[: -len(DEFLATE_TAIL)] if out.endswith(DEFLATE_TAIL) else out


@dataclass(frozen=True)
class DeflateParams:
    """The negotiated permessage-deflate parameters (RFC 7692 §7.1)."""

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int = 15
    client_max_window_bits: int = 15

    @classmethod
    def from_params(cls, params: Mapping[str, str | None]) -> DeflateParams:
        """From a server's accepted extension; raises ValueError for what §7.1 forbids."""
        known = {
            "server_no_context_takeover",
            "client_no_context_takeover",
            "server_max_window_bits",
            "client_max_window_bits",
        }
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(f"unknown parameter {unknown[0]!r} (§7.1)")
        bits = {}
        for name in ("server_max_window_bits", "client_max_window_bits"):
            if name not in params:
                continue
            value = (params[name] or "").strip('"')
            if not value.isdigit() or not 8 <= int(value) <= 15:
                raise ValueError(f"{name}={params[name]!r} is not 8..15 (§7.1.2)")
            bits[name] = int(value)
        for name in ("server_no_context_takeover", "client_no_context_takeover"):
            if params.get(name) is not None:
                raise ValueError(f"{name} takes no value (§7.1.1)")
        return cls(
            server_no_context_takeover="server_no_context_takeover" in params,
            client_no_context_takeover="client_no_context_takeover" in params,
            server_max_window_bits=bits.get("server_max_window_bits", 15),
            client_max_window_bits=bits.get("client_max_window_bits", 15),
        )

    def _side(self, from_client: bool) -> tuple[int, bool]:
        """(window bits, no context takeover) of the messages one side sends."""
        if from_client:
            return self.client_max_window_bits, self.client_no_context_takeover
        return self.server_max_window_bits, self.server_no_context_takeover

    def inflater(self, *, from_client: bool) -> Inflater:
        """Reads the messages the client (*from_client*) or the server sends."""
        bits, fresh = self._side(from_client)
        return Inflater(bits, no_context_takeover=fresh)

    def deflater(self, *, from_client: bool) -> Deflater:
        """Compresses messages as the client (*from_client*) or the server sends them."""
        bits, fresh = self._side(from_client)
        return Deflater(bits, no_context_takeover=fresh)

    def describe(self) -> str:
        parts = [EXTENSION]
        for name in ("server_no_context_takeover", "client_no_context_takeover"):
            if getattr(self, name):
                parts.append(name)
        for name in ("server_max_window_bits", "client_max_window_bits"):
            if getattr(self, name) != 15:
                parts.append(f"{name}={getattr(self, name)}")
        return "; ".join(parts)
