"""What the Pelco-D and Pelco-P suites share (``aver-visca-pelco-spec.txt``
§3.2.3 and §3.2.2).

The two variants carry the same commands in different frames, so every check
is written once here and bound to a variant by :class:`PelcoSuite`; the test
modules of ``suites/pelco_d`` and ``suites/pelco_p`` only declare the tests.

AVer defines no Pelco replies: what a frame did is read through the device's
observer, a VISCA link to the same camera (PT_Pos_Inq, Zoom_Pos_Inq,
Power_Status_Inq, IF_Clear).  The observer only asks; every action is a Pelco
frame.  Between two questions the suite listens on the Pelco link, so polling
is paced by the line, never by sleeping.

Bounds: a frame's effect must show within the device's ``timeout=`` (its
reaction bound), and a frame that must be ignored is watched for as long; a
move to a preset, a stop and a power change must be complete within
``motion_timeout=``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

import pytest

from conformance.devices.pelco import PelcoDevice
from conformance.devices.visca import ViscaDevice
from conformance.errors import Finding
from conformance.expect import expect, expect_bytes
from dissectors import pelco, visca
from dissectors.visca_table import BY_NAME as VISCA
from suites.visca.common import require, signed

T = TypeVar("T")
Position = tuple[int, int]

#: pan/tilt speed of the moves the suites make (both tables: speed = 0x00~0x30)
SPEED = 0x20
#: seconds spent listening on the Pelco link between two observer questions
POLL = 0.05
#: position units a move away from a stored preset covers at least
DISTANCE = 0x40
#: extended commands whose effect outlives the test, and the row that undoes it
UNDO = {"Track ON": "Track OFF"}
OBSERVE_HINT = (
    "observe=visca+serial://PORT, observe=visca+tcp://HOST:PORT or observe=visca-ip://HOST"
)


@dataclass(frozen=True)
class Case:
    """One parametrized check.  ``name``, ``group`` and ``ref`` become its Allure
    story, feature and requirement (see ``conformance.allure_support``)."""

    name: str
    group: str
    ref: str
    pan: int = 0  # direction of a pan/tilt command: -1 left, +1 right
    tilt: int = 0  # -1 down, +1 up
    param: str | None = None  # an extended row's parameter, and the value sent
    value: int | None = None

    @property
    def params(self) -> dict[str, int]:
        return {self.param: self.value} if self.param and self.value is not None else {}

    @property
    def id(self) -> str:
        return f"{self.name}-0x{self.value:02X}" if self.params else self.name


def cases(items: list[Case]) -> list[Any]:
    """*items* as ``pytest.param`` with readable ids."""
    return [pytest.param(c, id=c.id) for c in items]


# ---------------------------------------------------------------- observer readings


def position(observer: ViscaDevice) -> Position:
    """(pan, tilt) as PT_Pos_Inq reports them, signed."""
    answer = observer.inquire("PT_Pos_Inq")
    return signed(answer["pan_position"]), signed(answer["tilt_position"])


def zoom(observer: ViscaDevice) -> int:
    return observer.inquire("Zoom_Pos_Inq")["zoom_position"]


def power(observer: ViscaDevice) -> int:
    """Power_Status_Inq: 2 = on, 3 = standby."""
    return observer.inquire("Power_Status_Inq")["power"]


def heading(pan: int, tilt: int) -> str:
    words = [w for w, s in (("left", -pan), ("right", pan), ("down", -tilt), ("up", tilt)) if s > 0]
    return " and ".join(words) or "nowhere"


class PelcoSuite:
    """The Pelco checks, bound to one variant's dissector (``pelco_d`` or ``pelco_p``)."""

    def __init__(self, dissector: ModuleType) -> None:
        self.dissector = dissector
        self.variant: pelco.Variant = dissector.VARIANT
        self.protocol = self.variant.protocol

    # ------------------------------------------------------------ labels
    def ref(self, what: str) -> str:
        """Requirement reference, in the form the table rows use."""
        return f"{self.variant.label} {self.variant.section} {what}"

    def marks(self, feature: str | None = None) -> list[pytest.MarkDecorator]:
        """``pytestmark`` of a test module: the protocol, and its feature if one."""
        marks = [pytest.mark.protocol(self.protocol)]
        return [*marks, pytest.mark.feature(feature)] if feature else marks

    def row_ref(self, name: str) -> str:
        """Requirement reference of extended row *name*."""
        return pelco.BY_NAME[name].ref(self.protocol)

    def checksum_ref(self) -> str:
        return self.ref(f"checksum {self.variant.checksum_rule}")

    def address_ref(self) -> str:
        return self.ref("ADDR")

    def frame_ref(self) -> str:
        return self.ref(f"{self.variant.frame_len}-byte frame")

    def framing_ref(self, name: str) -> str:
        """Requirement reference of framing byte *name* (SYNC, STX, ETX)."""
        value = next(v for _, v, what in self.variant.framing if what == name)
        return self.ref(f"{name} 0x{value:02X}")

    def pt_case(self, name: str) -> Case:
        bits = pelco.pt_bits(self.variant, name)
        pan = ("pan_right" in bits) - ("pan_left" in bits)
        tilt = ("tilt_up" in bits) - ("tilt_down" in bits)
        return Case(name, "Pan and Tilt Commands", self.ref(name), pan, tilt)

    @property
    def directions(self) -> list[Any]:
        """Every pan/tilt direction of byte4 (alone and diagonal)."""
        named = [self.pt_case(n) for n in pelco.PT_NAMES]
        return cases([c for c in named if c.pan or c.tilt])

    def rows(self, *groups: str) -> list[Any]:
        """Extended rows of *groups*, each at both ends of its parameter's range."""
        out = []
        for row in pelco.COMMANDS:
            if row.group not in groups:
                continue
            values = sorted(set(row.param_range)) if row.param_range else [None]
            out += [Case(row.name, row.group, row.ref(self.protocol), param=row.param, value=v)
                    for v in values]  # fmt: skip
        return cases(out)

    # ------------------------------------------------------------ observing
    def observer(self, device: PelcoDevice, *inquiries: str) -> ViscaDevice:
        """The device's observer; skip, naming what to add, if there is none or its
        model does not claim *inquiries*."""
        if device.observer is None:
            pytest.skip(
                f"Pelco has no replies, so the camera is watched over VISCA: add "
                f"{OBSERVE_HINT} (a VISCA link to the same camera) to the {self.protocol} URI"
            )
        require(device.observer, *inquiries)
        return device.observer

    def wait_until(self, device: PelcoDevice, read: Callable[[ViscaDevice], T],
                   until: Callable[[T], bool], *, within: float, what: str, ref: str,
                   sent: bytes) -> T:  # fmt: skip
        """Read the observer until *until* holds; a finding naming *what* after *within* s."""
        __tracebackhide__ = True
        observer = self.observer(device)
        deadline = time.monotonic() + within
        while True:
            now = read(observer)
            if until(now):
                return now
            if time.monotonic() >= deadline:
                raise Finding(f"{within:g} s after the frame the observer reads {now}",
                              requirement=ref, sent=sent, expected=what)  # fmt: skip
            device.listen(POLL)

    def still(self, device: PelcoDevice, read: Callable[[ViscaDevice], T], *, ref: str,
              sent: bytes) -> T:  # fmt: skip
        """The reading once it has not changed for the reaction bound, within the motion bound."""
        __tracebackhide__ = True
        observer = self.observer(device)
        deadline = time.monotonic() + device.motion_timeout
        last, since = read(observer), time.monotonic()
        while True:
            device.listen(POLL)
            now = read(observer)
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= device.reply_timeout:
                return now
            if time.monotonic() >= deadline:
                raise Finding(f"still moving {device.motion_timeout:g} s after the frame "
                              f"(last read {now})", requirement=ref, sent=sent,
                              expected="the reading stays the same")  # fmt: skip

    def unchanged(self, device: PelcoDevice, read: Callable[[ViscaDevice], T], before: T, *,
                  ref: str, sent: bytes, what: str) -> None:  # fmt: skip
        """The reading must stay *before* for the whole reaction bound."""
        __tracebackhide__ = True
        observer = self.observer(device)
        deadline = time.monotonic() + device.reply_timeout
        while True:
            now = read(observer)
            expect(now == before, f"acted on a frame it must ignore: the observer read {before}, "
                   f"then {now}", requirement=ref, sent=sent, expected=what)  # fmt: skip
            if time.monotonic() >= deadline:
                return
            device.listen(POLL)

    def alive(self, device: PelcoDevice, *, ref: str, sent: bytes) -> None:
        """The camera must still answer IF_Clear on the observer after *sent*."""
        __tracebackhide__ = True
        observer = self.observer(device)
        request = observer.build("IF_Clear")
        want = visca.build_reply(VISCA["IF_Clear"], observer.address)
        answer = f"IF_Clear answered {want.hex(' ').upper()}"
        try:
            (reply,) = observer.request(request, requirement=ref)
        except Finding as exc:
            raise Finding(f"after the frame the camera no longer answers IF_Clear: {exc.summary}",
                          requirement=ref, sent=sent, received=exc.received,
                          expected=answer) from None  # fmt: skip
        expect_bytes(reply.data, want, requirement=ref, sent=request,
                     what="IF_Clear answer after the frame")  # fmt: skip

    @contextmanager
    def halted(self, device: PelcoDevice, stops: int = 1) -> Iterator[None]:
        """Send Stop after the block, even if it failed (*stops* times: the first may only
        complete a fragment the camera still holds)."""
        try:
            yield
        finally:
            for _ in range(stops):
                device.send_command(pelco.STOP)

    # ------------------------------------------------------------ pan, tilt, zoom, power
    def direction_moves_and_stop_stops(self, device: PelcoDevice, case: Case) -> None:
        """*case* moves the camera its way, only its way, and Stop stops it."""
        self.observer(device, "PT_Pos_Inq")
        start = position(self.observer(device))
        with self.halted(device):
            frame = device.send_command(case.name, pan_speed=SPEED, tilt_speed=SPEED)

            def moved(now: Position) -> bool:
                return all((now[i] - start[i]) * sign > 0
                           for i, sign in enumerate((case.pan, case.tilt)) if sign)  # fmt: skip

            self.wait_until(device, position, moved, within=device.reply_timeout, ref=case.ref,
                            sent=frame, what=f"a move {heading(case.pan, case.tilt)} "
                            f"from {start}")  # fmt: skip
            stop = device.send_command(pelco.STOP)
            stopped = self.still(device, position, ref=self.ref(pelco.STOP), sent=stop)
        d_pan, d_tilt = stopped[0] - start[0], stopped[1] - start[1]
        expect(d_pan * case.pan >= 0 and d_tilt * case.tilt >= 0 and (case.pan or not d_pan)
               and (case.tilt or not d_tilt),
               f"{case.name} moved pan by {d_pan} and tilt by {d_tilt}", requirement=case.ref,
               sent=frame, expected=f"a move {heading(case.pan, case.tilt)} only")  # fmt: skip

    def zoom_moves(self, device: PelcoDevice, name: str, direction: int) -> int:
        """Send Zoom Tele (+1) or Zoom Wide (-1), see the zoom move that way, stop it;
        returns where it stopped."""
        __tracebackhide__ = True
        self.observer(device, "Zoom_Pos_Inq")
        start = zoom(self.observer(device))
        with self.halted(device):
            frame = device.send_command(name)
            self.wait_until(device, zoom, lambda z: (z - start) * direction > 0,
                            within=device.reply_timeout, ref=self.ref(name), sent=frame,
                            what=f"Zoom_Pos_Inq {'above' if direction > 0 else 'below'} "
                            f"{start}")  # fmt: skip
            stop = device.send_command(pelco.STOP)
            return self.still(device, zoom, ref=self.ref(pelco.STOP), sent=stop)

    def zoom_tele(self, device: PelcoDevice) -> None:
        """Zoom Tele zooms in, and Stop stops the zoom."""
        self.zoom_moves(device, "Zoom Tele", +1)

    def zoom_wide(self, device: PelcoDevice) -> None:
        """Zoom Wide zooms out (from where Zoom Tele took it), and Stop stops the zoom."""
        self.zoom_moves(device, "Zoom Tele", +1)
        self.zoom_moves(device, "Zoom Wide", -1)

    def camera_off_and_on(self, device: PelcoDevice) -> None:
        """Camera Off enters standby and Camera On leaves it (Power_Status_Inq 3, then 2)."""
        self.observer(device, "Power_Status_Inq")
        off = device.send_command(pelco.CAMERA_OFF)
        try:
            self.wait_until(device, power, lambda p: p == 3, within=device.motion_timeout,
                            ref=self.ref(pelco.CAMERA_OFF), sent=off,
                            what="Power_Status_Inq 3 (standby)")  # fmt: skip
        finally:
            on = device.send_command(pelco.CAMERA_ON)
        self.wait_until(device, power, lambda p: p == 2, within=device.motion_timeout,
                        ref=self.ref(pelco.CAMERA_ON), sent=on,
                        what="Power_Status_Inq 2 (on)")  # fmt: skip

    # ------------------------------------------------------------ extended command set
    def move_away(self, device: PelcoDevice, name: str, start: Position) -> Position:
        """Move with pan/tilt command *name* until at least DISTANCE from *start*; stop."""
        __tracebackhide__ = True
        case = self.pt_case(name)
        frame = device.send_command(name, pan_speed=SPEED, tilt_speed=SPEED)
        self.wait_until(device, position,
                        lambda p: max(abs(p[0] - start[0]), abs(p[1] - start[1])) >= DISTANCE,
                        within=device.motion_timeout, ref=case.ref, sent=frame,
                        what=f"a move of {DISTANCE} units {heading(case.pan, case.tilt)} "
                        f"from {start}")  # fmt: skip
        stop = device.send_command(pelco.STOP)
        return self.still(device, position, ref=self.ref(pelco.STOP), sent=stop)

    def preset_round_trip(self, device: PelcoDevice, preset: int) -> None:
        """Set Preset stores where the camera is; Go To Preset comes back to it."""
        self.observer(device, "PT_Pos_Inq")
        go_to = self.row_ref("Go To Preset")
        with self.halted(device):
            stored = self.move_away(device, "Pan Left + Tilt Up", position(self.observer(device)))
            device.send_command("Set Preset", preset=preset)
            self.move_away(device, "Pan Right + Tilt Down", stored)
            frame = device.send_command("Go To Preset", preset=preset)
            self.wait_until(device, position, lambda p: p == stored,
                            within=device.motion_timeout, ref=go_to, sent=frame,
                            what=f"{stored}, stored by Set Preset 0x{preset:02X}")  # fmt: skip

    def row_accepted(self, device: PelcoDevice, case: Case) -> None:
        """An extended row leaves the camera alive (IF_Clear still answered)."""
        self.observer(device)
        frame = device.send_command(case.name, **case.params)
        try:
            self.alive(device, ref=case.ref, sent=frame)
        finally:
            if case.name in UNDO:
                device.send_command(UNDO[case.name])

    # ------------------------------------------------------------ frames to ignore
    def move_frame(self, device: PelcoDevice, **build: int) -> bytes:
        """Pan Left for this camera, or with *build* overrides (address, checksum, speeds)."""
        args: dict[str, int] = {"pan_speed": SPEED, "tilt_speed": SPEED, **build}
        return device.build("Pan Left", **args)

    def ignored(self, device: PelcoDevice, frame: bytes, *, ref: str, what: str,
                stops: int = 1) -> None:  # fmt: skip
        """*frame* must not move the camera, as PT_Pos_Inq shows for the reaction bound."""
        __tracebackhide__ = True
        self.observer(device, "PT_Pos_Inq")
        before = position(self.observer(device))
        with self.halted(device, stops):
            device.send_raw(frame, what)
            self.unchanged(device, position, before, ref=ref, sent=frame,
                           what=f"{what}: ignored, position stays")  # fmt: skip

    def bad_checksum(self, device: PelcoDevice) -> None:
        good = self.move_frame(device)
        wrong = next(c for c in range(0x100) if self._plain_bad_checksum(device, good, c))
        frame = self.move_frame(device, checksum=wrong)
        self.ignored(device, frame, ref=self.checksum_ref(),
                     what=f"checksum 0x{wrong:02X} instead of 0x{good[-1]:02X}")  # fmt: skip

    def _plain_bad_checksum(self, device: PelcoDevice, good: bytes, value: int) -> bool:
        """*value* is a wrong checksum no dialect computes, and not a sync byte."""
        if value in (good[-1], self.variant.framing[0][1]):
            return False
        problems = device.decode(good[:-1] + bytes([value])).problems
        return any(p.startswith("bad checksum") for p in problems)

    def dialect_checksum(self, device: PelcoDevice, dialect: str) -> None:
        """A checksum computed by a known wrong *dialect* (differing from the right one)."""
        compute = dict(self.variant.checksum_dialects)[dialect]
        frame = self.move_frame(device, pan_speed=pelco.SPEED_RANGE[1],
                                tilt_speed=pelco.SPEED_RANGE[1])  # fmt: skip
        wrong = compute(frame)
        assert wrong != frame[-1], f"{dialect} agrees with the spec for {frame.hex(' ')}"
        self.ignored(
            device,
            frame[:-1] + bytes([wrong]),
            ref=self.checksum_ref(),
            what=f"checksum by {dialect} (0x{wrong:02X}, not 0x{frame[-1]:02X})",
        )

    def other_address(self, device: PelcoDevice) -> None:
        """A frame for an address well away from the device's."""
        low, high = self.variant.pt_addresses
        other = low + 0x40 if device.address != low + 0x40 else low + 0x41
        assert other <= high
        self.ignored(
            device,
            self.move_frame(device, address=other),
            ref=self.address_ref(),
            what=f"a frame for address 0x{other:02X}, not 0x{device.address:02X}",
        )

    def address_off_by_one(self, device: PelcoDevice) -> None:
        """The camera number where a 0-based address belongs (the off-by-one dialect)."""
        other = device.address + 1
        self.ignored(device, self.move_frame(device, address=other), ref=self.address_ref(),
                     what=f"address 0x{other:02X} (camera number, off by one) for camera "
                     f"0x{device.address:02X}")  # fmt: skip

    def truncated(self, device: PelcoDevice) -> None:
        """A frame without its last byte; two Stops follow, the first completing it."""
        frame = self.move_frame(device)[:-1]
        self.ignored(
            device,
            frame,
            ref=self.frame_ref(),
            what=f"{len(frame)} of {self.variant.frame_len} bytes",
            stops=2,
        )

    def wrong_framing_byte(self, device: PelcoDevice, name: str) -> None:
        """Framing byte *name* (SYNC, STX, ETX) off by one bit, checksum recomputed."""
        number, value = next((n, v) for n, v, what in self.variant.framing if what == name)
        frame = bytearray(self.move_frame(device))
        frame[number - 1] = value ^ 0x01
        frame[-1] = self.variant.checksum(bytes(frame))
        self.ignored(
            device,
            bytes(frame),
            ref=self.framing_ref(name),
            what=f"byte{number} 0x{value ^ 0x01:02X} instead of {name} 0x{value:02X}",
        )
