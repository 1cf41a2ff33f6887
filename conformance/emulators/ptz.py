"""The state of one PTZ camera, protocol-neutral: VISCA and Pelco both act on it.

Positions move over emulated time at the commanded speed, so an inquiry made
while the camera moves sees it part-way.  The AVer spec gives no position
ranges or speeds; the figures here are the emulator's own (Sony-like).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

PAN_RANGE = (-0x0990, 0x0990)
TILT_RANGE = (-0x01B0, 0x0510)
ZOOM_RANGE = (0x0000, 0x4000)
FOCUS_RANGE = (0x1000, 0xF000)
DIRECT_PT_SPEED = 4000.0  # position units per emulated second for PT_Direct / recall
DIRECT_ZOOM_SPEED = 0x4000  # zoom units per emulated second for Zoom_Direct
LEVEL_RANGE = (0x00, 0x0F)  # gain, exposure compensation, shutter, iris, bright steps
VOLUME_RANGE = (0x00, 0x0A)  # Ado_Volume_Inq: "Volume value (0~A)"


def pt_speed(speed: int) -> float:
    """Units per second for VISCA pan/tilt speed 0..0x0F."""
    return 150.0 * (speed + 1)


def zoom_speed(speed: int) -> float:
    """Units per second for VISCA zoom speed 1..7 (0 = the standard speed)."""
    return 0x0800 * max(speed, 1)


@dataclass
class Axis:
    """One motor: a position that moves linearly with time towards a target or a limit."""

    low: int
    high: int
    position: float = 0.0
    velocity: float = 0.0
    since: float = 0.0
    target: float | None = None

    def at(self, now: float) -> float:
        pos = self.position + self.velocity * (now - self.since)
        if self.target is not None:
            pos = min(pos, self.target) if self.velocity > 0 else max(pos, self.target)
        return min(max(pos, self.low), self.high)

    def _settle(self, now: float) -> None:
        self.position = self.at(now)
        self.since = now

    def move(self, velocity: float, now: float) -> None:
        self._settle(now)
        self.velocity, self.target = velocity, None

    def move_to(self, target: float, speed: float, now: float) -> float:
        """Start towards *target*; returns the emulated seconds it will take."""
        self._settle(now)
        target = min(max(target, self.low), self.high)
        distance = target - self.position
        self.target = target
        self.velocity = (speed if distance > 0 else -speed) if distance else 0.0
        return abs(distance) / speed if speed else 0.0

    def stop(self, now: float) -> None:
        self._settle(now)
        self.velocity, self.target = 0.0, None

    def set(self, value: float, now: float) -> None:
        self.position, self.since, self.velocity, self.target = value, now, 0.0, None

    def moving(self, now: float) -> bool:
        if self.velocity == 0:
            return False
        pos = self.at(now)
        return not (pos in (self.low, self.high) or pos == self.target)


@dataclass
class Preset:
    pan: float
    tilt: float
    zoom: float


def _axis(bounds: tuple[int, int]) -> Axis:
    return Axis(*bounds)


@dataclass
class PtzState:
    """Everything a camera remembers; ``reset()`` is power-on with factory settings."""

    clock: Callable[[], float]
    powered: bool = True
    pan: Axis = field(default_factory=lambda: _axis(PAN_RANGE))
    tilt: Axis = field(default_factory=lambda: _axis(TILT_RANGE))
    zoom: Axis = field(default_factory=lambda: _axis(ZOOM_RANGE))
    focus: Axis = field(default_factory=lambda: _axis(FOCUS_RANGE))
    settings: dict[str, int | str | bool] = field(default_factory=dict)
    presets: dict[int, Preset] = field(default_factory=dict)
    profiles: dict[int, dict[str, int | str | bool]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        now = self.clock()
        self.powered = True
        for axis in (self.pan, self.tilt, self.zoom, self.focus):
            axis.set(0 if axis.low <= 0 <= axis.high else axis.low, now)
        self.presets.clear()
        self.profiles.clear()
        self.settings = {
            "focus_mode": "auto", "wb_mode": "auto", "r_gain": 0x80, "b_gain": 0x80,
            "ae_mode": "auto", "gain": 0x00, "exp_comp": 0x07, "shutter": 0x07, "iris": 0x07,
            "bright": 0x07, "color_gain": 0x04, "color_hue": 0x07, "backlight": False,
            "menu": False, "pip_usb": 0x00, "pip_hdmi": 0x00, "tracking": "off",
            "track_start": 0x0A, "track_source": 0x02, "gesture": False, "mute": 2,
            "volume": 0x05, "audio_tracking": False, "wol": False,
        }  # fmt: skip

    # -------------------------------------------------------------- moves
    @property
    def now(self) -> float:
        return self.clock()

    def pan_tilt(self, pan_dir: int, tilt_dir: int, pan_v: float, tilt_v: float) -> None:
        """Continuous move; directions are -1, 0 or +1."""
        self.pan.move(pan_dir * pan_v, self.now)
        self.tilt.move(tilt_dir * tilt_v, self.now)

    def pt_stop(self) -> None:
        self.pan.stop(self.now)
        self.tilt.stop(self.now)

    def pt_to(self, pan: float, tilt: float, speed: float = DIRECT_PT_SPEED) -> float:
        return max(self.pan.move_to(pan, speed, self.now), self.tilt.move_to(tilt, speed, self.now))

    def zoom_to(self, zoom: float, speed: float = DIRECT_ZOOM_SPEED) -> float:
        return self.zoom.move_to(zoom, speed, self.now)

    def positions(self) -> tuple[int, int, int]:
        now = self.now
        return round(self.pan.at(now)), round(self.tilt.at(now)), round(self.zoom.at(now))

    def store_preset(self, number: int) -> None:
        pan, tilt, zoom = self.positions()
        self.presets[number] = Preset(pan, tilt, zoom)

    def recall_preset(self, number: int) -> float:
        """Move to a stored preset; an empty preset does not move.  Returns the seconds."""
        preset = self.presets.get(number)
        if preset is None:
            return 0.0
        return max(self.pt_to(preset.pan, preset.tilt), self.zoom_to(preset.zoom))

    def save_profile(self, number: int) -> None:
        self.profiles[number] = dict(self.settings)

    def read_profile(self, number: int) -> None:
        if number in self.profiles:
            self.settings.update(self.profiles[number])

    def step(self, name: str, delta: int, bounds: tuple[int, int] = LEVEL_RANGE) -> None:
        value = int(self.settings[name]) + delta
        self.settings[name] = min(max(value, bounds[0]), bounds[1])
