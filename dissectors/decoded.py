"""What a decoder reports about one message, whatever the protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Decoded:
    protocol: str
    name: str
    fields: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    raw: bytes = b""
    inner: Decoded | None = None
    #: other table names for the very same bytes (e.g. Backlight_On / WDR_On)
    aliases: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems and (self.inner is None or self.inner.valid)

    def describe(self) -> str:
        """One line: name, fields, and problems if any."""
        parts = [" / ".join([self.name, *self.aliases])]
        if self.fields:
            parts.append(" ".join(f"{k}={_show(v)}" for k, v in self.fields.items()))
        if self.inner is not None:
            parts.append(f"[{self.inner.describe()}]")
        if self.problems:
            parts.append("INVALID: " + "; ".join(self.problems))
        return " ".join(parts)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "protocol": self.protocol,
            "name": self.name,
            "fields": {k: _jsonable(v) for k, v in self.fields.items()},
            "valid": self.valid,
            "problems": list(self.problems),
            "hex": self.raw.hex(" ").upper(),
        }
        if self.aliases:
            out["aliases"] = list(self.aliases)
        if self.inner is not None:
            out["inner"] = self.inner.to_json()
        return out


def _show(value: Any) -> str:
    if isinstance(value, int):
        return f"0x{value:X}" if value > 9 else str(value)
    if isinstance(value, bytes):
        return value.hex(" ").upper()
    return str(value)


def _jsonable(value: Any) -> Any:
    return value.hex(" ").upper() if isinstance(value, bytes) else value
