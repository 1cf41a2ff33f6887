"""PTZ camera emulator: VISCA (serial/TCP), VISCA over IP (UDP), Pelco-D and
Pelco-P, all acting on the same camera state (:mod:`conformance.emulators.ptz`).

Driven by the command table in :mod:`dissectors.visca_table`: a request is
matched to its row, checked against the row's allowed values and the model's
support, and acted on by the row's entry in ``ACTIONS`` or ``INQUIRIES``.
Spec: AVer VISCA spec rev 3.4 (``aver-visca-pelco-spec.txt``) §3.1, §3.2.1,
§3.2.2-§3.2.4; replies follow the Sony VISCA core the AVer table assumes.

Choices where the spec is silent, documented here once:

* a request to an address with no camera on the chain gets no reply;
* a command the model does not claim (its row's "*Support" note), a request
  that matches no row, and a parameter outside the row's allowed values all
  get Syntax_Error ``y0 60 02 FF``, the answer Sony-core cameras give to a
  message they cannot parse;
* more than 16 bytes without a terminator are discarded and answered with
  Message_Length_Error ``y0 60 01 FF``;
* a command is answered ACK ``y0 4z FF`` then Completion ``y0 5z FF`` on the
  same socket z (1..2); moves complete when the camera arrives; a third
  command while both sockets are busy gets Command_Buffer_Full ``y0 60 03 FF``;
  Cancel ``8x 2z FF`` answers Command_Canceled ``y0 6z 04 FF`` for a busy
  socket and No_Socket ``y0 6z 05 FF`` for an idle one;
* in standby only Power_On, IF_Clear and inquiries are executed; anything
  else gets ACK then Command_Not_Executable ``y0 6z 41 FF``;
* recalling an empty preset completes without moving;
* the identity returned by Version_Inq is the emulator's own, not AVer's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conformance.emulators.base import Emulator, Endpoint, Link
from conformance.emulators.ptz import (
    VOLUME_RANGE,
    PtzState,
    pt_speed,
    zoom_speed,
)
from dissectors import visca, visca_ip
from dissectors import visca_table as table

SLOW_REPLY_S = 2.0  # real seconds of delay under the slow_reply fault
SOCKETS = (1, 2)


@dataclass(frozen=True)
class Identity:
    vendor_id: int = 0xC0F0
    model_id: int = 0x0001
    version: int = 0x0100
    max_socket: int = len(SOCKETS)


def _identity(model: str | None) -> Identity:
    """The emulator's own identity for a model profile (model ids are ours, by name)."""
    if model is None:
        return Identity()
    return Identity(model_id=1 + (table.MODELS.index(model) if model in table.MODELS else 0x7F))


def _signed16(value: int) -> int:
    return value - 0x10000 if value & 0x8000 else value


def _unsigned16(value: int) -> int:
    return value & 0xFFFF


Values = dict[str, int]
#: row name -> what the camera does; returns emulated seconds until completion.
Action = Callable[["Camera", Values], float]


def _moves(pan: int, tilt: int) -> Action:
    def act(cam: Camera, v: Values) -> float:
        cam.state.pan_tilt(pan, tilt, pt_speed(v["pan_speed"]), pt_speed(v["tilt_speed"]))
        return 0.0

    return act


def _set(name: str, value: int | str | bool) -> Action:
    def act(cam: Camera, v: Values) -> float:
        cam.state.settings[name] = value
        return 0.0

    return act


def _step(name: str, delta: int, bounds: tuple[int, int] | None = None) -> Action:
    def act(cam: Camera, v: Values) -> float:
        if bounds is None:
            cam.state.step(name, delta)
        else:
            cam.state.step(name, delta, bounds)
        return 0.0

    return act


def _set_from(name: str, field_name: str) -> Action:
    def act(cam: Camera, v: Values) -> float:
        cam.state.settings[name] = v[field_name]
        return 0.0

    return act


def _none(cam: Camera, v: Values) -> float:
    return 0.0


def _power(on: bool) -> Action:
    def act(cam: Camera, v: Values) -> float:
        cam.state.pt_stop()
        cam.state.powered = on
        return 0.0

    return act


def _power_reset(cam: Camera, v: Values) -> float:
    cam.state.reset()
    return 0.0


def _pt_direct(cam: Camera, v: Values) -> float:
    return cam.state.pt_to(_signed16(v["pan_position"]), _signed16(v["tilt_position"]))


def _zoom(direction: int) -> Action:
    def act(cam: Camera, v: Values) -> float:
        cam.state.zoom.move(direction * zoom_speed(v.get("zoom_speed", 0)), cam.state.now)
        return 0.0

    return act


def _zoom_stop(cam: Camera, v: Values) -> float:
    cam.state.zoom.stop(cam.state.now)
    return 0.0


def _zoom_direct(cam: Camera, v: Values) -> float:
    return cam.state.zoom_to(v["zoom_position"])


def _focus(direction: int) -> Action:
    def act(cam: Camera, v: Values) -> float:
        cam.state.focus.move(direction * 0x2000, cam.state.now)
        return 0.0

    return act


def _preset_set(cam: Camera, v: Values) -> float:
    cam.state.store_preset(v["preset"])
    return 0.0


def _preset_recall(cam: Camera, v: Values) -> float:
    return cam.state.recall_preset(v["preset"])


def _profile(save: bool) -> Action:
    def act(cam: Camera, v: Values) -> float:
        (cam.state.save_profile if save else cam.state.read_profile)(v["profile"])
        return 0.0

    return act


def _menu(cam: Camera, v: Values) -> float:
    cam.state.settings["menu"] = not cam.state.settings["menu"]
    return 0.0


def _mute_toggle(cam: Camera, v: Values) -> float:
    cam.state.settings["mute"] = 1 if cam.state.settings["mute"] == 2 else 2
    return 0.0


ACTIONS: dict[str, Action] = {
    "Power_On": _power(True),
    "Power_Off": _power(False),
    "Power_Reset": _power_reset,
    "PT_Stop": lambda cam, v: (cam.state.pt_stop(), 0.0)[1],
    "PT_Up": _moves(0, 1),
    "PT_Down": _moves(0, -1),
    "PT_Left": _moves(-1, 0),
    "PT_Right": _moves(1, 0),
    "PT_UpLeft": _moves(-1, 1),
    "PT_UpRight": _moves(1, 1),
    "PT_DownLeft": _moves(-1, -1),
    "PT_DownRight": _moves(1, -1),
    "PT_Calibration": lambda cam, v: cam.state.pt_to(0, 0),
    "PT_Direct": _pt_direct,
    "PT_Menu": _menu,
    "Zoom_Stop": _zoom_stop,
    "Zoom_Tele": _zoom(1),
    "Zoom_Wide": _zoom(-1),
    "Zoom_Direct": _zoom_direct,
    "Focus_Stop": lambda cam, v: (cam.state.focus.stop(cam.state.now), 0.0)[1],
    "Focus_Far": _focus(1),
    "Focus_Near": _focus(-1),
    "Focus_Auto_Mode": _set("focus_mode", "auto"),
    "Focus_Manual_Mode": _set("focus_mode", "manual"),
    "Focus_OnePush_Trigger": _none,
    "WB_Auto_Mode": _set("wb_mode", "auto"),
    "WB_One_Push_Mode": _set("wb_mode", "one_push"),
    "WB_Manual_Mode": _set("wb_mode", "manual"),
    "WB_One_Push_Trigger": _none,
    "WB_Rgain_Up": _step("r_gain", 1, (0, 0xFF)),
    "WB_Rgain_Down": _step("r_gain", -1, (0, 0xFF)),
    "WB_Bgain_Up": _step("b_gain", 1, (0, 0xFF)),
    "WB_Bgain_Down": _step("b_gain", -1, (0, 0xFF)),
    "AE_Auto_Mode": _set("ae_mode", "auto"),
    "AE_Gain_Up": _step("gain", 1),
    "AE_Gain_Down": _step("gain", -1),
    "ExpComp_Up": _step("exp_comp", 1),
    "ExpComp_Down": _step("exp_comp", -1),
    "Shutter_Up": _step("shutter", 1),
    "Shutter_Down": _step("shutter", -1),
    "Iris_Up": _step("iris", 1),
    "Iris_Down": _step("iris", -1),
    "Bright_Up": _step("bright", 1),
    "Bright_Down": _step("bright", -1),
    "Color_Gain": _set_from("color_gain", "gain"),
    "Color_Hue": _set_from("color_hue", "hue"),
    "Backlight_On": _set("backlight", True),
    "Backlight_Off": _set("backlight", False),
    "WDR_On": _set("backlight", True),
    "WDR_Off": _set("backlight", False),
    "CAM_set": _preset_set,
    "CAM_recall": _preset_recall,
    "CAM_Profile_Read": _profile(save=False),
    "CAM_Profile_Save": _profile(save=True),
    "CAM_Enter": _none,
    "CAM_PIP_Set_USB": _set_from("pip_usb", "pip"),
    "CAM_PIP_Set_HDMI": _set_from("pip_hdmi", "pip"),
    "CAM_Track_Trigger": _none,
    "CAM_Track_Disable": _set("tracking", "off"),
    "CAM_Track_Auto": _set("tracking", "auto"),
    "CAM_Track_Manual": _set("tracking", "manual"),
    "CAM_Track_Audio_Tracking": _set("tracking", "audio"),
    "CAM_Track_Audio_Frame": _set("tracking", "audio_frame"),
    "CAM_Track_Audio_Preset": _set("tracking", "audio_preset"),
    "CAM_Track_Presentation": _set("tracking", "presentation"),
    "CAM_Track_Preset": _set("tracking", "preset"),
    "CAM_Track_Set_Start_Position": _set_from("track_start", "start_position"),
    "CAM_Track_Source": _set_from("track_source", "source"),
    "CAM_Track_Gesture_On": _set("gesture", True),
    "CAM_Track_Gesture_Off": _set("gesture", False),
    "CAM_Track_Smart Composition": _set("tracking", "smart_composition"),
    "ADO_Mute_Tigger": _mute_toggle,
    "ADO_Mute_On": _set("mute", 1),
    "ADO_Mute_Off": _set("mute", 2),
    "ADO_Volume_Up": _step("volume", 1, VOLUME_RANGE),
    "ADO_Volume_Down": _step("volume", -1, VOLUME_RANGE),
    "ADO_Tracking_On": _set("audio_tracking", True),
    "ADO_Tracking_Off": _set("audio_tracking", False),
}


def _pt_pos(cam: Camera) -> Values:
    pan, tilt, _ = cam.state.positions()
    return {"pan_position": _unsigned16(pan), "tilt_position": _unsigned16(tilt)}


#: inquiry row name -> the values of its answer
INQUIRIES: dict[str, Callable[[Camera], Values]] = {
    "Version_Inq": lambda cam: {
        "vendor_id": cam.identity.vendor_id,
        "model_id": cam.identity.model_id,
        "version": cam.identity.version,
        "max_socket": cam.identity.max_socket,
    },
    "PT_Pos_Inq": _pt_pos,
    "Zoom_Pos_Inq": lambda cam: {"zoom_position": cam.state.positions()[2]},
    "Power_Status_Inq": lambda cam: {"power": 2 if cam.state.powered else 3},
    "Ado_Mute_Inq": lambda cam: {"mute": int(cam.state.settings["mute"])},
    "Ado_Volume_Inq": lambda cam: {"volume": int(cam.state.settings["volume"])},
}
#: answers an inquiry_off_by_one fault shifts
POSITION_FIELDS = ("pan_position", "tilt_position", "zoom_position")


@dataclass
class Pending:
    """A command holding a socket until it completes."""

    row: table.Row
    cancelled: bool = False


@dataclass
class Camera:
    """One camera on the chain."""

    address: int
    identity: Identity
    state: PtzState
    sockets: dict[int, Pending | None] = field(default_factory=lambda: dict.fromkeys(SOCKETS))

    def reset(self) -> None:
        self.state.reset()
        self.sockets = dict.fromkeys(SOCKETS)


Reply = Callable[[bytes], None]


class CameraEmulator(Emulator):
    """A chain of 1..7 cameras of one model behind one serial line or IP address."""

    name = "camera"
    MODELS = table.MODELS
    FACES = {
        "visca": ("pty", "tcp"),
        "visca-ip": ("udp",),
        "pelco-d": ("pty", "tcp"),
        "pelco-p": ("pty", "tcp"),
    }
    FAULTS = {
        "no_reply": "never answers anything (missing reply)",
        "slow_reply": f"answers {SLOW_REPLY_S:.0f} s late (wrong timing)",
        "wrong_reply_address": "replies carry the address of the next camera (wrong reply)",
        "babble": "answers every request with 20 bytes of garbage and no terminator",
        "broadcast_not_echoed": "IF_Clear broadcast is not returned (skipped requirement)",
        "version_short": "Version_Inq answer lacks the max-socket byte (wrong reply)",
        "no_ack": "commands complete without an ACK first",
        "ack_without_completion": "commands are ACKed but never completed",
        "wrong_socket": "Completion names the other socket than the ACK",
        "inquiry_off_by_one": "position inquiries answer one more than the position",
        "state_not_applied": "commands are ACKed and completed but change nothing",
        "accepts_unknown": "a message matching no row (or malformed) is ACKed and completed",
        "accepts_out_of_range": "parameters outside the table's values are accepted",
        "accepts_unsupported": "commands the model does not claim are accepted",
        "ignores_address": "answers requests addressed to any camera",
        "no_length_error": "over-long messages are dropped without Message_Length_Error",
        "cancel_ignored": "Cancel is neither acted on nor answered",
        "no_buffer_full": "a third command while both sockets are busy is accepted",
        "address_set_wrong": "Address_Set answers the address of the last camera, not the next",
        "ip_wrong_sequence": "VISCA-over-IP replies carry sequence number + 1",
        "ip_wrong_type": "VISCA-over-IP replies use payload type 0100 instead of 0111",
        "ip_bad_length": "VISCA-over-IP replies declare a payload length one too long",
        "ip_ignores_sequence": "VISCA-over-IP sequence numbers are not checked",
        "ip_reset_ignored": "VISCA-over-IP RESET is not answered",
        "ip_no_type_error": "an unknown VISCA-over-IP payload type is not answered with 0F 02",
        "pelco_ignores_checksum": "Pelco frames with a wrong checksum are acted on",
        "pelco_ignores_address": "Pelco frames for other addresses are acted on",
        "ip_crash_on_length_mismatch": (
            "a VISCA-over-IP datagram whose payload-length field disagrees with the bytes "
            "that follow crashes the camera: it answers nothing, on any face, until reset"
        ),
    }

    def __init__(self, *, address: int = 1, chain: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.model is not None and self.model not in table.MODELS:
            raise ValueError(f"unknown model {self.model} (known: {', '.join(table.MODELS)})")
        if not 1 <= address <= 7 or not 1 <= chain <= 8 - address:
            raise ValueError("cameras are addressed 1..7 on one chain (§3.1)")
        self.address = address
        identity = _identity(self.model)
        #: set by the ip_crash_on_length_mismatch fault; only reset() (power-cycle) clears it
        self.crashed = False
        self.cameras = {
            a: Camera(a, identity, PtzState(self.clock.now))
            for a in range(address, address + chain)
        }

    @property
    def identity(self) -> Identity:
        return self.cameras[self.address].identity

    @property
    def camera(self) -> Camera:
        """The first camera of the chain."""
        return self.cameras[self.address]

    def reset_state(self) -> None:
        self.crashed = False
        for camera in self.cameras.values():
            camera.reset()

    def endpoint(self, face: str) -> Endpoint:
        if face == "visca":
            return ViscaEndpoint(self)
        if face == "visca-ip":
            return ViscaIpEndpoint(self)
        if face in ("pelco-d", "pelco-p"):
            from conformance.emulators.camera_pelco import PelcoEndpoint

            return PelcoEndpoint(self, face)
        raise ValueError(f"camera has no face {face!r}")

    def supports(self, row: table.Row, *, over_ip: bool) -> bool:
        return self.fault("accepts_unsupported") or row.supported(self.model, over_ip=over_ip)

    # ------------------------------------------------------------ output
    def emit(self, link: Link, data: bytes) -> None:
        """Everything the camera sends passes here, so no_reply and slow_reply
        apply to every answer, errors and control replies included."""
        if self.crashed or self.fault("no_reply"):
            return
        if self.fault("slow_reply"):
            link.later(SLOW_REPLY_S, lambda: link.send(data), emulated=False)
        else:
            link.send(data)

    # ------------------------------------------------------------ VISCA
    def handle(self, message: bytes, reply: Reply, link: Link, *, over_ip: bool = False) -> None:
        """Answer one complete VISCA message through *reply*."""
        if self.fault("babble"):
            reply(bytes(range(0x10, 0x24)))
            return

        def out(data: bytes) -> None:
            if self.fault("wrong_reply_address") and data[0] & 0x0F == 0 and data[0] != 0x88:
                data = bytes([(((data[0] >> 4) + 1) << 4) & 0xF0 or 0x90]) + data[1:]
            reply(data)

        if message[:1] == bytes([table.BROADCAST]):
            self._broadcast(message, out)
            return
        camera = self._addressed(message)
        if camera is None:
            return
        if visca.structural_problems(message):
            if self.fault("accepts_unknown"):
                self._ack_complete(camera, None, out, link, 0.0)
            else:
                out(visca.build("Syntax_Error", camera.address))
            return
        row = visca.match_row(message, model=self.model)
        known = row is not None and (row.kind != "reply")
        if not known or row is None:
            if self.fault("accepts_unknown"):
                self._ack_complete(camera, None, out, link, 0.0)
            else:
                out(visca.build("Syntax_Error", camera.address))
            return
        values = {
            row.params.get(k, k.lower()): v
            for k, v in (row.packet.match(message[1:]) or {}).items()
        }
        letters = row.packet.match(message[1:]) or {}
        in_range = all(row.in_range(k, v) for k, v in letters.items())
        if not self.supports(row, over_ip=over_ip) or (
            not in_range and not self.fault("accepts_out_of_range")
        ):
            out(visca.build("Syntax_Error", camera.address))
            return
        if row.kind == "inquiry":
            answer = dict(INQUIRIES[row.name](camera))
            if self.fault("inquiry_off_by_one"):
                for name in POSITION_FIELDS:
                    if name in answer:
                        answer[name] = (answer[name] + 1) & 0xFFFF
            data = visca.build_reply(row, camera.address, **answer)
            out(
                data[:-2] + data[-1:]
                if self.fault("version_short") and row.name == "Version_Inq"
                else data
            )
            return
        if row.name == "IF_Clear":
            self._clear(camera)
            out(visca.build_reply(row, camera.address))
            return
        if row.name == "Cancel":
            self._cancel(camera, values["socket"], out)
            return
        self._command(camera, row, values, out, link)

    def _addressed(self, message: bytes) -> Camera | None:
        if not message or message[0] & 0xF0 != 0x80:
            return None
        address = message[0] & 0x0F
        if address in self.cameras:
            return self.cameras[address]
        return self.camera if self.fault("ignores_address") else None

    def _broadcast(self, message: bytes, out: Reply) -> None:
        row = visca.match_row(message)
        if row is not None and row.name == "IF_Clear(broadcast)":
            for camera in self.cameras.values():
                self._clear(camera)
            if not self.fault("broadcast_not_echoed"):
                out(message)
        elif row is not None and row.name == "Address_Set":
            last = max(self.cameras)
            nxt = last if self.fault("address_set_wrong") else last + 1
            out(visca.build_reply(row, next_address=nxt))

    def _clear(self, camera: Camera) -> None:
        for socket, pending in camera.sockets.items():
            if pending is not None:
                pending.cancelled = True
            camera.sockets[socket] = None

    def _cancel(self, camera: Camera, socket: int, out: Reply) -> None:
        if self.fault("cancel_ignored"):
            return
        pending = camera.sockets.get(socket)
        if pending is None:
            out(visca.build("No_Socket", camera.address, socket=socket))
            return
        pending.cancelled = True
        camera.sockets[socket] = None
        camera.state.pt_stop()
        camera.state.zoom.stop(camera.state.now)
        out(visca.build("Command_Canceled", camera.address, socket=socket))

    def _command(self, camera: Camera, row: table.Row, values: Values, out: Reply,
                 link: Link) -> None:  # fmt: skip
        if not camera.state.powered and row.name not in ("Power_On",):
            socket = self._free_socket(camera) or SOCKETS[0]
            if not self.fault("no_ack"):
                out(visca.build("ACK", camera.address, socket=socket))
            out(visca.build("Command_Not_Executable", camera.address, socket=socket))
            return
        if self._free_socket(camera) is None and not self.fault("no_buffer_full"):
            out(visca.build("Command_Buffer_Full", camera.address))  # refused: nothing done
            return
        seconds = 0.0 if self.fault("state_not_applied") else ACTIONS[row.name](camera, values)
        self._ack_complete(camera, row, out, link, seconds)

    def _free_socket(self, camera: Camera) -> int | None:
        return next((s for s, p in camera.sockets.items() if p is None), None)

    def _ack_complete(self, camera: Camera, row: table.Row | None, out: Reply, link: Link,
                      seconds: float) -> None:  # fmt: skip
        socket = self._free_socket(camera)
        if socket is None:
            if not self.fault("no_buffer_full"):
                out(visca.build("Command_Buffer_Full", camera.address))
                return
            socket = SOCKETS[0]
        if not self.fault("no_ack"):
            out(visca.build("ACK", camera.address, socket=socket))
        done_socket = SOCKETS[1] if socket == SOCKETS[0] else SOCKETS[0]
        completion = visca.build(
            "Completion",
            camera.address,
            socket=done_socket if self.fault("wrong_socket") else socket,
        )
        if self.fault("ack_without_completion"):
            return
        if seconds <= 0 or row is None:
            out(completion)
            return
        pending = Pending(row)
        camera.sockets[socket] = pending

        def complete() -> None:
            if pending.cancelled or camera.sockets.get(socket) is not pending:
                return
            camera.sockets[socket] = None
            out(completion)

        link.later(seconds, complete)


class ViscaEndpoint(Endpoint):
    """Raw VISCA on a byte stream (serial pty or TCP), framed on FF."""

    emulator: CameraEmulator

    def on_data(self, link: Link, data: bytes) -> None:
        cam = self.emulator
        if cam.crashed:
            return
        buffer: bytearray = link.state.setdefault("buffer", bytearray())
        buffer += data
        while True:
            # Only the first MAX_LEN + 1 bytes are looked at, so that how the
            # stream was chunked never changes the answer.
            end = buffer.find(b"\xff", 0, table.MAX_LEN + 1)
            if end < 0:
                if len(buffer) <= table.MAX_LEN:
                    return
                del buffer[: table.MAX_LEN + 1]
                if not cam.fault("no_length_error"):
                    cam.emit(link, visca.build("Message_Length_Error", cam.address))
                continue
            message = bytes(buffer[: end + 1])
            del buffer[: end + 1]
            cam.handle(message, lambda out: cam.emit(link, out), link)


class ViscaIpEndpoint(Endpoint):
    """VISCA over IP (§3.2.4): 8-byte header, sequence numbers, RESET."""

    emulator: CameraEmulator

    def _control(self, link: Link, payload: bytes, seq: int) -> None:
        self.emulator.emit(link, visca_ip.wrap(payload, seq, visca_ip.CONTROL_REPLY))

    def on_data(self, link: Link, data: bytes) -> None:
        cam = self.emulator
        if cam.crashed:
            return
        try:
            ptype, length, seq, payload = visca_ip.unwrap(data)
        except ValueError:
            return  # too short to carry a sequence number to answer with
        if length != len(payload) and cam.fault("ip_crash_on_length_mismatch"):
            cam.crashed = True
            return
        if ptype == visca_ip.CONTROL and payload == visca_ip.RESET:
            if not cam.fault("ip_reset_ignored"):
                link.state["expected"] = 0
                self._control(link, visca_ip.CONTROL_ACK, seq)
            return
        if (
            ptype not in (visca_ip.COMMAND, visca_ip.INQUIRY)
            or length != len(payload)
            or not (1 <= length <= visca_ip.MAX_PAYLOAD)
        ):
            if not cam.fault("ip_no_type_error"):
                self._control(link, visca_ip.MESSAGE_TYPE_ERROR, seq)
            return
        expected = link.state.get("expected")
        retry = (expected - 1) & 0xFFFFFFFF if expected is not None else None
        in_order = expected is None or seq in (expected, retry)
        if not in_order and not cam.fault("ip_ignores_sequence"):
            self._control(link, visca_ip.SEQUENCE_ERROR, seq)
            return
        link.state["expected"] = (seq + 1) & 0xFFFFFFFF

        def reply(out: bytes) -> None:
            rseq = (seq + 1) & 0xFFFFFFFF if cam.fault("ip_wrong_sequence") else seq
            rtype = visca_ip.COMMAND if cam.fault("ip_wrong_type") else visca_ip.REPLY
            frame = visca_ip.wrap(out, rseq, rtype)
            if cam.fault("ip_bad_length"):
                frame = frame[:2] + (len(out) + 1).to_bytes(2, "big") + frame[4:]
            cam.emit(link, frame)

        cam.handle(payload, reply, link, over_ip=True)
