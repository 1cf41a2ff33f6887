"""Pelco-D and Pelco-P fuzz target (``aver-visca-pelco-spec.txt`` §3.2.3 and
§3.2.2), one class for both: the variant comes from the device's protocol and
every frame from the tables of :mod:`dissectors.pelco`.

Families (the first byte of a case picks one): ``valid`` (a pan/tilt command or
an extended row, speeds 0x00..0x30, parameters in range), ``boundary`` (speeds
and parameters at the ends of their ranges), ``out-of-range`` (speed above
0x30, a parameter outside its range, a bit AVer marks NA, an unknown extended
opcode, opposite directions at once), ``checksum`` (a wrong checksum, or one a
known dialect computes), ``address`` (another camera's address, the camera
number where the address is 0-based), ``framing`` (truncated, a wrong SYNC /
STX / ETX, trailing bytes) and ``random``.

AVer defines no Pelco replies, so the oracle is the device's VISCA observer
(``observe=``, see :mod:`conformance.devices.pelco`): the spec (as the suites
in ``suites/pelco_*`` read it) demands that a frame with a bad checksum, for
another address, truncated or with a wrong framing byte is ignored.  Before
such a frame :meth:`PelcoTarget.run` stops the camera (a Pelco Stop of its own)
and reads PT_Pos_Inq, Zoom_Pos_Inq and Power_Status_Inq (those the model
claims); after it, they must read the same (``state-corruption``).  A frame
that would have been Set Preset n gets a preset check: preset n is stored
where the camera is, the camera is moved a little over VISCA, the frame is
sent, and Go To Preset n must bring it back.  What valid frames may change is
never compared.  Without an observer nothing can be watched:
:attr:`PelcoTarget.liveness` is False and :meth:`PelcoTarget.probe` returns None.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from conformance.errors import Finding
from dissectors import pelco
from dissectors import visca_table as table
from fuzz.case import Case, Observation
from fuzz.source import ByteSource
from fuzz.target import Target

#: standard commands the observer can see act (moves, zoom, power)
SEEN = tuple(n for n in pelco.PT_NAMES if n != pelco.STOP)
#: inquiries that show what a frame did, and the field each compares
READINGS = (
    ("PT_Pos_Inq", ("pan_position", "tilt_position")),
    ("Zoom_Pos_Inq", ("zoom_position",)),
    ("Power_Status_Inq", ("power",)),
)
#: position units the preset check moves the camera by (towards the centre)
NUDGE = 0x40


def frame(variant: pelco.Variant, address: int, body: bytes, checksum: int | None = None) -> bytes:
    """A whole frame of *variant*: framing bytes around *body* (bytes 3..6), checksum
    computed unless given."""
    if variant.protocol == pelco.PELCO_D:
        head, tail = bytes([0xFF, address & 0xFF]) + body, b""
    else:
        head, tail = bytes([0xA0, address & 0xFF]) + body, b"\xaf"
    partial = head + tail
    value = variant.checksum(partial + b"\x00") if checksum is None else checksum
    return partial + bytes([value & 0xFF])


class PelcoTarget(Target):
    """A Pelco-D or Pelco-P camera, watched through its VISCA observer."""

    protocol = "pelco-d"  # per instance: the device's
    max_program = 12
    case_bytes = 6
    families: ClassVar[tuple[str, ...]] = (
        "valid",
        "boundary",
        "out-of-range",
        "checksum",
        "address",
        "framing",
        "random",
    )

    def __init__(self, device: Any) -> None:
        super().__init__(device)
        self.protocol = device.protocol  # type: ignore[misc]
        self.variant = pelco.VARIANTS[self.protocol]
        self.address: int = device.address
        self.observer = device.observer
        self.liveness = self.observer is not None
        self.claims: set[str] = set()
        if self.observer is not None:
            model = self.observer.spec.model
            self.claims = {r.name for r in table.COMMANDS if r.supported(model)}
        self.probe_name = (
            "Version_Inq on the VISCA observer"
            if "Version_Inq" in self.claims
            else "IF_Clear on the VISCA observer"
        )
        self.stop = frame(self.variant, self.address, pelco.body(self.variant, pelco.STOP))
        self.camera_on = frame(
            self.variant, self.address, pelco.body(self.variant, pelco.CAMERA_ON)
        )
        self.identity: dict[str, int] | None = None
        self._draws: dict[str, Callable[[ByteSource], Case]] = {
            "valid": lambda s: self._f_valid(s, "valid"),
            "boundary": lambda s: self._f_valid(s, "boundary"),
            "out-of-range": self._f_out_of_range,
            "checksum": self._f_checksum,
            "address": self._f_address,
            "framing": self._f_framing,
            "random": self._f_random,
        }
        self._observations: list[Observation] = []
        self._maybe_off = False

    # ------------------------------------------------------------ cases
    def ref(self, what: str) -> str:
        return f"{self.variant.label} {self.variant.section} {what}"

    def draw(self, src: ByteSource) -> Case:
        family = self.families[src.integer(0, len(self.families) - 1)]
        return self._draws[family](src)

    def _body(self, src: ByteSource, how: str, names: Sequence[str]) -> tuple[str, bytes, dict]:
        """(name, bytes 3..6, parameters) of a standard command or extended row."""
        name = src.choice(names)
        row = pelco.BY_NAME.get(name)
        if row is not None:
            params: dict[str, int] = {}
            if row.param is not None and row.param_range is not None:
                low, high = row.param_range
                value = src.choice((low, high)) if how == "boundary" else src.integer(low, high)
                params[row.param] = value
            return name, pelco.body(self.variant, name, **params), params
        low, high = pelco.SPEED_RANGE
        if how == "boundary":
            speeds = {"pan_speed": src.choice((low, high)), "tilt_speed": src.choice((low, high))}
        else:
            speeds = {"pan_speed": src.integer(low, high), "tilt_speed": src.integer(low, high)}
        return name, pelco.body(self.variant, name, **speeds), speeds

    def _case(
        self,
        family: str,
        label: str,
        data: bytes,
        act: str,
        *,
        rule: str = "",
        inner: dict[str, Any] | None = None,
        realign: bool = False,
        ref: str = "",
    ) -> Case:
        expect = {"may": "success", "ignore": "silence"}.get(act, "any")
        meta = {"act": act, "rule": rule, "inner": inner or {}, "realign": realign}
        return Case(
            self.protocol, family, label, data, expect, ref or self.ref(rule or label), meta=meta
        )  # type: ignore[arg-type]

    def _f_valid(self, src: ByteSource, how: str) -> Case:
        names = [pelco.STOP, *SEEN, *pelco.BY_NAME]
        name, body, params = self._body(src, how, names)
        shown = " ".join(f"{k}=0x{v:02X}" for k, v in params.items())
        data = frame(self.variant, self.address, body)
        ref = pelco.BY_NAME[name].ref(self.protocol) if name in pelco.BY_NAME else self.ref(name)
        return self._case(
            how, f"{name} {shown}".strip(), data, "may", inner={"name": name, **params}, ref=ref
        )

    def _f_out_of_range(self, src: ByteSource) -> Case:
        how = src.integer(0, 4)
        v = self.variant
        if how == 0:
            speed = src.integer(pelco.SPEED_RANGE[1] + 1, 0xFF)
            body = pelco.body(v, "Pan Left", pan_speed=speed, tilt_speed=speed)
            label = f"Pan Left speed 0x{speed:02X} above 0x30"
        elif how == 1:
            row = src.choice([r for r in pelco.COMMANDS if r.param_range])
            assert row.param_range is not None
            outside = [x for x in range(0x100) if not row.param_range[0] <= x <= row.param_range[1]]
            value = src.choice(outside)
            body = bytes([0, row.opcode, 0, value])
            label = f"{row.name} {row.param} 0x{value:02X} outside its range"
        elif how == 2:
            spare = [n for n in v.bit_names() if n not in {b for _, b in v.aver_bits}]
            bit = src.choice(sorted(spare))
            body = pelco.body(v, "Pan Left", pan_speed=0x10, tilt_speed=0x10, **{bit: True})
            label = f"Pan Left with {bit} (NA in AVer's table)"
        elif how == 3:
            unknown = [o for o in range(1, 0x100, 2) if o not in pelco.BY_OPCODE]
            opcode = src.choice(unknown)
            body = bytes([0, opcode, 0, 0])
            label = f"extended opcode 0x{opcode:02X}"
        else:
            body = pelco.body(v, "Pan Left", pan_speed=0x10, tilt_speed=0x10, pan_right=True)
            label = "Pan Left and Pan Right at once"
        return self._case("out-of-range", label, frame(v, self.address, body), "any")

    def _ignored(self, src: ByteSource) -> tuple[str, bytes, dict[str, Any]]:
        """A frame's body the observer could see act on (moves, zoom, power, presets)."""
        name, body, params = self._body(src, "valid", [*SEEN, "Set Preset", "Go To Preset"])
        return name, body, {"name": name, **params}

    def _f_checksum(self, src: ByteSource) -> Case:
        name, body, inner = self._ignored(src)
        good = frame(self.variant, self.address, body)
        dialects = [(d, f(good)) for d, f in self.variant.checksum_dialects if f(good) != good[-1]]
        if dialects and src.boolean():
            dialect, value = dialects[0]
            label = f"{name} with the {dialect} checksum 0x{value:02X}"
        else:
            value = (good[-1] + src.integer(1, 0xFE)) & 0xFF
            if any(value == d for _, d in dialects):
                value = (value + 1) & 0xFF if (value + 1) & 0xFF != good[-1] else (value + 2) & 0xFF
            label = f"{name} with checksum 0x{value:02X} for 0x{good[-1]:02X}"
        return self._case(
            "checksum",
            label,
            good[:-1] + bytes([value]),
            "ignore",
            rule="checksum",
            inner=inner,
            ref=self.ref(f"checksum {self.variant.checksum_rule}"),
        )

    def _f_address(self, src: ByteSource) -> Case:
        name, body, inner = self._ignored(src)
        a = self.address
        others = [a + 1, a - 1, a + 0x40, a ^ 0x80, 0x00, 0xFF]
        other = src.choice([x & 0xFF for x in others if x & 0xFF != a])
        data = frame(self.variant, other, body)
        return self._case(
            "address",
            f"{name} for address 0x{other:02X}",
            data,
            "ignore",
            rule="address",
            inner=inner,
            ref=self.ref("ADDR"),
        )

    def _f_framing(self, src: ByteSource) -> Case:
        name, body, inner = self._ignored(src)
        good = frame(self.variant, self.address, body)
        how = src.integer(0, 3)
        size = self.variant.frame_len
        if how == 0:
            keep = src.integer(1, size - 1)
            return self._case(
                "framing",
                f"{name}: first {keep} of {size} bytes",
                good[:keep],
                "ignore",
                rule="truncated",
                inner=inner,
                realign=True,
                ref=self.ref(f"{size}-byte frame"),
            )
        if how == 1 or (how == 2 and len(self.variant.framing) < 2):
            number, value, what = self.variant.framing[0]
        elif how == 2:
            number, value, what = self.variant.framing[1]
        else:
            extra = bytes(src.integer(0, 0x7F) for _ in range(src.integer(1, 4)))
            return self._case(
                "framing",
                f"{name} and {len(extra)} bytes more",
                good + extra,
                "may",
                inner=inner,
                realign=True,
                ref=self.ref(f"{size}-byte frame"),
            )
        broken = bytearray(good)
        broken[number - 1] = value ^ (1 << src.integer(0, 7))
        broken[-1] = self.variant.checksum(bytes(broken))
        return self._case(
            "framing",
            f"{name} with byte{number} 0x{broken[number - 1]:02X} instead of {what}",
            bytes(broken),
            "ignore",
            rule=what.lower(),
            inner=inner,
            realign=True,
            ref=self.ref(f"{what} 0x{value:02X}"),
        )

    def _f_random(self, src: ByteSource) -> Case:
        return self._case("random", "random bytes", src.blob(16), "any", realign=True)

    # ------------------------------------------------------------ observing
    def _read(self) -> dict[str, Any] | None:
        """What the claimed inquiries read now, None if the observer failed."""
        assert self.observer is not None
        out: dict[str, Any] = {}
        try:
            for inquiry, fields in READINGS:
                if inquiry in self.claims:
                    answer = self.observer.inquire(inquiry)
                    out[inquiry] = tuple(answer[f] for f in fields)
        except Finding:
            return None
        return out

    def _still(self) -> dict[str, Any] | None:
        """Stop the camera and read it once two reads agree (within the motion bound)."""
        self.device.send_raw(self.stop, "stop before a frame that must be ignored")
        deadline = time.monotonic() + self.device.motion_timeout
        last = self._read()
        while last is not None and time.monotonic() < deadline:
            now = self._read()
            if now == last:
                return now
            last = now
        return last

    def _position(self) -> tuple[int, int] | None:
        reading = self._read()
        return None if reading is None else reading.get("PT_Pos_Inq")

    def _settle_at(self, want: tuple[int, int]) -> tuple[int, int] | None:
        """Read PT_Pos_Inq until it is *want* or stops changing; the last reading."""
        deadline = time.monotonic() + self.device.motion_timeout
        last = self._position()
        while last is not None and last != want and time.monotonic() < deadline:
            now = self._position()
            if now == last:
                return now
            last = now
        return last

    def _note(self, summary: str, case: Case, index: int, received: str) -> None:
        rule = str(case.meta.get("rule", ""))
        obs = Observation(
            "state-corruption",
            summary,
            f"{rule} frame acted on",
            ref=case.ref,
            expected="the frame is ignored: nothing changes",
            sent=case.data,
            received=received.encode(),
            case=index,
        )
        if obs.signature not in {o.signature for o in self._observations}:
            self._observations.append(obs)

    # ------------------------------------------------------------ running
    def start(self) -> None:
        self.identity = None
        if self.observer is not None and "Version_Inq" in self.claims:
            try:
                self.identity = self.observer.inquire("Version_Inq")
            except Finding:
                self.identity = None

    def begin(self) -> None:
        if self.observer is not None:
            self.observer.settle()
        self.device.send_raw(self.stop + self.stop, "realign and stop")
        if self._maybe_off:
            self.device.send_raw(self.camera_on, "leave standby")
        self._maybe_off = False

    def run(self, cases: Sequence[Case]) -> list[Observation]:
        self._observations = []
        for index, case in enumerate(cases):
            data = case.data if isinstance(case.data, bytes) else case.data.encode()
            meta = case.meta
            inner = meta.get("inner") or {}
            if inner.get("name") == pelco.CAMERA_OFF or meta.get("act") == "any":
                self._maybe_off = True
            if meta.get("act") == "ignore" and self.observer is not None:
                self._watch(index, case, data, inner)  # realigns itself
            else:
                self.device.send_raw(data)
                if meta.get("realign"):
                    self.device.send_raw(self.stop + self.stop, "realign")
        return list(self._observations)

    def _watch(self, index: int, case: Case, data: bytes, inner: dict[str, Any]) -> None:
        """Send a frame the spec says must be ignored, and see that nothing changed."""
        preset = inner.get("preset") if inner.get("name") == "Set Preset" else None
        before = self._still()
        home = before.get("PT_Pos_Inq") if before else None
        checkable = (
            preset is not None
            and home is not None
            and "PT_Direct" in self.claims
            and not self._maybe_off
            and self.observer is not None
        )
        if checkable:
            assert home is not None and self.observer is not None
            self.device.send_raw(
                frame(
                    self.variant,
                    self.address,
                    pelco.body(self.variant, "Set Preset", preset=preset),
                )
            )
            # An observer round trip: the camera has taken the Pelco frame (another
            # link) before the move below, so the preset holds the home position.
            self._read()
            pan = _signed(home[0])
            target = (pan - NUDGE if pan > 0 else pan + NUDGE) & 0xFFFF
            try:
                self.observer.command("PT_Direct", pan_position=target, tilt_position=home[1])
            except Finding:
                checkable = False
            before = self._read()
        self.device.send_raw(data)
        if case.meta.get("realign"):  # before anything of ours can be swallowed with it
            self.device.send_raw(self.stop + self.stop, "realign")
        self._read()  # one round trip on the observer: the frame has been taken by now
        after = self._read()
        if before is not None and after is not None and after != before:
            changed = [k for k in after if after[k] != before.get(k)]
            self._note(
                f"{', '.join(changed)} changed after a frame that must be ignored: "
                f"{before} -> {after}",
                case,
                index,
                str(after),
            )
        if checkable and home is not None:
            self.device.send_raw(
                frame(
                    self.variant,
                    self.address,
                    pelco.body(self.variant, "Go To Preset", preset=preset),
                )
            )
            self._read()  # the same: the recall has been taken before the readings count
            at = self._settle_at(home)
            if at is not None and at != home:
                self._note(
                    f"Go To Preset 0x{preset:02X} went to {at}, not to {home} where it "
                    "was stored before the frame",
                    case,
                    index,
                    str(at),
                )

    def probe(self) -> str | None:
        if self.observer is None:
            return None
        try:
            if "Version_Inq" in self.claims:
                self.observer.inquire("Version_Inq")
            else:
                self.observer.request(self.observer.build("IF_Clear"))
        except Finding as exc:
            return f"no answer to {self.probe_name}: {exc.summary}"
        return None

    def check_state(self, cases: Sequence[Case]) -> list[Observation]:
        """Version_Inq's identity on the observer is what it was (no frame changes it)."""
        if self.observer is None or self.identity is None:
            return []
        try:
            now = self.observer.inquire("Version_Inq")
        except Finding:
            return []
        if now == self.identity:
            return []
        return [
            Observation(
                "state-corruption",
                f"Version_Inq identity changed from {self.identity} to {now}",
                "Version_Inq identity",
                ref=table.BY_NAME["Version_Inq"].ref,
                expected="the identity Version_Inq gave before",
            )
        ]


def _signed(value: int) -> int:
    return value - 0x10000 if value & 0x8000 else value
