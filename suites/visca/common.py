"""What the VISCA suites share: the rows they run over, model awareness, typical
parameter values, and waiting on the camera with deadlines."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from conformance.devices.visca import ViscaDevice, ViscaIpDevice
from conformance.errors import Finding
from dissectors import visca_table as table
from dissectors.visca_table import Row

#: every command of §3.2.1 (IF_Clear and the broadcasts have tests of their own)
COMMANDS = [r for r in table.COMMANDS if r.kind == "command" and r.name != "IF_Clear"]
INQUIRIES = [r for r in table.COMMANDS if r.kind == "inquiry"]
#: commands whose effect outlives the test; each is undone by the paired command
UNDO = {
    "PT_Up": "PT_Stop", "PT_Down": "PT_Stop", "PT_Left": "PT_Stop", "PT_Right": "PT_Stop",
    "PT_UpLeft": "PT_Stop", "PT_UpRight": "PT_Stop", "PT_DownLeft": "PT_Stop",
    "PT_DownRight": "PT_Stop", "Zoom_Tele": "Zoom_Stop", "Zoom_Wide": "Zoom_Stop",
    "Focus_Far": "Focus_Stop", "Focus_Near": "Focus_Stop", "Power_Off": "Power_On",
    "PT_Menu": "PT_Menu",
}  # fmt: skip
#: rows a generic command test must not send (a reboot is tested on its own)
NOT_GENERIC = {"Power_Reset"}


def row_id(row: Row) -> str:
    return row.name


def claims(device: ViscaDevice, row: Row) -> bool:
    """Whether the device's model claims *row* (every row when no model is named)."""
    return row.supported(device.spec.model, over_ip=isinstance(device, ViscaIpDevice))


def require(device: ViscaDevice, *names: str) -> None:
    """Skip, naming the spec note, unless the model claims every row in *names*."""
    for name in names:
        row = table.BY_NAME[name]
        if not claims(device, row):
            where = " over IP" if isinstance(device, ViscaIpDevice) else ""
            pytest.skip(f"{device.spec.model} does not claim {name}{where} ({row.ref} note)")


def typical(row: Row) -> dict[str, int]:
    """A value from the middle of each parameter's allowed values."""
    out = {}
    for letter in row.packet.letters:
        name = row.params.get(letter, letter.lower())
        if row.allowed.get(letter) is None and row.packet.widths()[letter] > 8:
            out[name] = 0x0100  # a position a short move away from home
        else:
            values = row.values(letter)
            out[name] = values[len(values) // 2]
    return out


def outside(row: Row, letter: str) -> int | None:
    """A value just outside a restricted parameter's allowed values, if it fits."""
    width = row.packet.widths()[letter]
    values = row.values(letter)
    for candidate in (values[-1] + 1, values[0] - 1, *range(1 << width)):
        fits = 0 <= candidate < (1 << width) and candidate != table.TERMINATOR
        if fits and not row.in_range(letter, candidate):
            return candidate
    return None


@contextmanager
def undone(device: ViscaDevice, name: str) -> Iterator[None]:
    """Undo a lasting command after the block, even if the block failed."""
    try:
        yield
    finally:
        undo = UNDO.get(name)
        if undo is not None and claims(device, table.BY_NAME[undo]):
            try:
                device.command(undo)
            except (Finding, AssertionError):
                device.settle()


def wait_for(device: ViscaDevice, inquiry: str, until: Callable[[dict[str, int]], bool],
             *, what: str, ref: str, timeout: float | None = None) -> dict[str, int]:  # fmt: skip
    """Ask *inquiry* again and again until its answer satisfies *until* or the
    deadline passes (then it is a finding naming *what* was expected)."""
    __tracebackhide__ = True
    deadline = time.monotonic() + (timeout or device.motion_timeout)
    while True:
        answer = device.inquire(inquiry)
        if until(answer):
            return answer
        if time.monotonic() >= deadline:
            raise Finding(f"{inquiry} still answers {answer}", requirement=ref,
                          expected=what)  # fmt: skip


def signed(value: int) -> int:
    """A 16-bit position as a signed number."""
    return value - 0x10000 if value & 0x8000 else value
