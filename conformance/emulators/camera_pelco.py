"""Pelco-D and Pelco-P faces of the camera emulator, acting on the same camera
state as the VISCA faces (:mod:`conformance.emulators.ptz`).

Driven by the Pelco table in :mod:`dissectors.pelco`: every frame is decoded
with it, and only a frame without problems is acted on.  Spec:
``aver-visca-pelco-spec.txt`` §3.2.2 (Pelco-P) and §3.2.3 (Pelco-D).

Choices where the spec is silent, documented here once:

* AVer defines no Pelco replies, so these faces never send anything;
* the stream is cut at the sync byte (Pelco-D ``FF``, Pelco-P STX ``A0``):
  bytes before it are dropped, and the next 7 (D) or 8 (P) bytes are one
  frame, acted on or ignored as a whole;
* a frame with any problem the table names (checksum, framing byte, address
  outside the ADDR range, a bit marked NA, a parameter outside its range, a
  known dialect) is ignored;
* wire address to camera: Pelco-D address n is camera n, Pelco-P address n is
  camera n + 1 (the ADDR columns count from 1 and from 0); a frame for a
  camera not on the chain is ignored;
* a standard (P/T bit 0) frame sets the whole motion: pan, tilt and zoom bits
  that are not set stop their axis, so Stop (no bit set) stops everything;
* pan/tilt speed 0x00..0x30 maps linearly onto VISCA speed 0x00..0x0F, so
  0x00 is the slowest speed, not a stop; zoom runs at VISCA's standard speed;
* in standby only Camera On is acted on, as only Power_On is over VISCA;
* Track ON selects automatic tracking (as CAM_Track_Auto), Track OFF turns it
  off (as CAM_Track_Disable); preset and profile numbers are the ones VISCA's
  CAM_set, CAM_recall and CAM_Profile_* use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.emulators.base import Endpoint, Link
from conformance.emulators.camera import ACTIONS, Camera, CameraEmulator, Values
from conformance.emulators.ptz import pt_speed, zoom_speed
from dissectors import pelco
from dissectors import visca_table as table
from dissectors.decoded import Decoded

#: fastest VISCA pan/tilt speed, which Pelco's 0x30 maps onto
VISCA_TOP_SPEED = table.PT_SPEED_RANGE["P"][1]


def pelco_pt_speed(speed: int) -> float:
    """Units per second for Pelco pan/tilt speed 0x00..0x30 (linear onto VISCA 0x00..0x0F)."""
    top = pelco.SPEED_RANGE[1]
    return pt_speed(0) + (pt_speed(VISCA_TOP_SPEED) - pt_speed(0)) * min(speed, top) / top


def _wol(on: bool) -> Callable[[Camera, Values], float]:
    def act(cam: Camera, v: Values) -> float:
        cam.state.settings["wol"] = on
        return 0.0

    return act


#: extended command (table row name) -> what the camera does
EXTENDED: dict[str, Callable[[Camera, Values], float]] = {
    "Set Preset": ACTIONS["CAM_set"],
    "Go To Preset": ACTIONS["CAM_recall"],
    "Track ON": ACTIONS["CAM_Track_Auto"],
    "Track OFF": ACTIONS["CAM_Track_Disable"],
    "WOL ON": _wol(True),
    "WOL OFF": _wol(False),
    "Read Profile": ACTIONS["CAM_Profile_Read"],
    "Save To Profile": ACTIONS["CAM_Profile_Save"],
    "Track Trigger": ACTIONS["CAM_Track_Trigger"],
}


class PelcoEndpoint(Endpoint):
    """Pelco-D or Pelco-P on a byte stream (serial pty or TCP); never answers."""

    emulator: CameraEmulator

    def __init__(self, emulator: CameraEmulator, face: str) -> None:
        super().__init__(emulator)
        if face not in pelco.VARIANTS:
            raise ValueError(f"no Pelco variant {face!r}")
        self.variant = pelco.VARIANTS[face]
        self.sync = self.variant.framing[0][1]

    # ------------------------------------------------------------ framing
    def on_data(self, link: Link, data: bytes) -> None:
        """Cut the stream into frames; a bad frame is dropped, never raised on."""
        buffer: bytearray = link.state.setdefault("pelco_buffer", bytearray())
        buffer += data
        size = self.variant.frame_len
        while True:
            start = buffer.find(self.sync)
            if start < 0:
                buffer.clear()
                return
            del buffer[:start]
            if len(buffer) < size:
                return
            frame = bytes(buffer[:size])
            del buffer[:size]
            # One frame's failure is recorded and must not lose the frames after it.
            self.emulator.guard(self.on_frame, frame)

    # ------------------------------------------------------------ acting
    def on_frame(self, frame: bytes) -> None:
        """Act on one complete frame if it is valid and for a camera on the chain."""
        decoded = self.accepted(frame)
        if decoded is None or self.emulator.fault("state_not_applied"):
            return
        camera = self.addressed(decoded.fields["address"])
        if camera is None:
            return
        if frame[3] >> pelco.PT_BIT & 1:
            if camera.state.powered:
                name = decoded.name
                row = pelco.BY_NAME[name]
                values = {row.param: decoded.fields[row.param]} if row.param else {}
                EXTENDED[name](camera, values)
        else:
            self.standard(camera, decoded.fields)

    def accepted(self, frame: bytes) -> Decoded | None:
        """The decode of *frame* if the camera acts on it, else None."""
        decoded = pelco.decode_frame(self.variant, frame)
        if decoded.valid:
            return decoded
        if self.emulator.fault("pelco_ignores_checksum"):
            fixed = frame[:-1] + bytes([self.variant.checksum(frame)])
            decoded = pelco.decode_frame(self.variant, fixed)
            if decoded.valid:
                return decoded
        return None

    def addressed(self, address: int) -> Camera | None:
        """The camera a wire address names, if it is on the chain."""
        number = address - self.variant.first_address + 1
        camera = self.emulator.cameras.get(number)
        if camera is None and self.emulator.fault("pelco_ignores_address"):
            return self.emulator.camera
        return camera

    def standard(self, camera: Camera, bits: dict[str, Any]) -> None:
        """A P/T bit 0 frame: power, then the motion of every axis."""
        state = camera.state
        if bits.get("camera_on_off"):
            on = bool(bits.get(self.variant.power_on))
            ACTIONS["Power_On" if on else "Power_Off"](camera, {})
        if not state.powered:
            return
        pan = int(bool(bits.get("pan_right"))) - int(bool(bits.get("pan_left")))
        tilt = int(bool(bits.get("tilt_up"))) - int(bool(bits.get("tilt_down")))
        state.pan_tilt(
            pan, tilt, pelco_pt_speed(bits["pan_speed"]), pelco_pt_speed(bits["tilt_speed"])
        )
        zoom = int(bool(bits.get("zoom_tele"))) - int(bool(bits.get("zoom_wide")))
        if zoom:
            state.zoom.move(zoom * zoom_speed(0), state.now)
        else:
            state.zoom.stop(state.now)
