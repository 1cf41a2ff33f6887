"""The VISCA command table, written once.

Source: AVer VISCA spec rev 3.4 (``aver-visca-pelco-spec.txt``), §3.1 (message
format) and §3.2.1 (command table); generic replies follow the Sony VISCA core
that the AVer table assumes.  Packets are written in the spec's own notation
(see :mod:`dissectors.notation`).  Adding a command is one row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from dissectors.notation import Notation

Kind = Literal["command", "inquiry", "broadcast", "reply"]

SPEC = "aver-visca-pelco-spec.txt"


@dataclass(frozen=True)
class Row:
    """One message of the spec's table."""

    name: str
    packet: Notation
    kind: Kind
    group: str
    section: str = "§3.2.1"
    reply: Notation | None = None
    params: dict[str, str] = field(default_factory=dict)
    ranges: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        """Requirement reference used in findings and Allure labels."""
        return f"VISCA {self.section} {self.name}"


def row(
    name: str,
    packet: str,
    kind: Kind,
    group: str,
    *,
    reply: str | None = None,
    params: dict[str, str] | None = None,
    ranges: dict[str, tuple[int, int]] | None = None,
    section: str = "§3.2.1",
) -> Row:
    return Row(
        name,
        Notation(packet),
        kind,
        group,
        section,
        Notation(reply) if reply else None,
        params or {},
        ranges or {},
    )


#: Requests from the controller (§3.2.1).
COMMANDS: tuple[Row, ...] = (
    row("IF_Clear", "8x 01 00 01 FF", "command", "Interface", reply="y0 50 FF"),
    row("IF_Clear(broadcast)", "88 01 00 01 FF", "broadcast", "Interface", reply="88 01 00 01 FF"),
    row(
        "Version_Inq",
        "8x 09 00 02 FF",
        "inquiry",
        "Interface",
        reply="y0 50 GG GG HH HH JJ JJ KK FF",
        params={"G": "vendor_id", "H": "model_id", "J": "version", "K": "max_socket"},
    ),
)

#: Generic replies (Sony VISCA core; ``z`` is the socket number).
REPLIES: tuple[Row, ...] = (
    row("ACK", "y0 4z FF", "reply", "Reply", params={"z": "socket"}, section="§3.1"),
    row("Completion", "y0 5z FF", "reply", "Reply", params={"z": "socket"}, section="§3.1"),
    row("Message_Length_Error", "y0 60 01 FF", "reply", "Error", section="§3.1"),
    row("Syntax_Error", "y0 60 02 FF", "reply", "Error", section="§3.1"),
    row("Command_Buffer_Full", "y0 60 03 FF", "reply", "Error", section="§3.1"),
    row(
        "Command_Canceled", "y0 6z 04 FF", "reply", "Error", params={"z": "socket"}, section="§3.1"
    ),
    row("No_Socket", "y0 6z 05 FF", "reply", "Error", params={"z": "socket"}, section="§3.1"),
    row(
        "Command_Not_Executable",
        "y0 6z 41 FF",
        "reply",
        "Error",
        params={"z": "socket"},
        section="§3.1",
    ),
)

BY_NAME: dict[str, Row] = {r.name: r for r in COMMANDS + REPLIES}

MIN_LEN, MAX_LEN = 3, 16  # §3.1: address, 1..14 message bytes, terminator
TERMINATOR = 0xFF
BROADCAST = 0x88
