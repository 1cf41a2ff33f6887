"""The VISCA command table, written once.

Source: AVer VISCA spec rev 3.4 (``aver-visca-pelco-spec.txt``): §3.1 message
format, §3.2.1 command table (commands, audio commands, inquiries) and the
per-row model notes ("*Support: ...", "*Not available for ..."), which become
each row's ``models``.  Generic replies follow the Sony VISCA core that the
AVer table assumes.  Packets are written in the spec's own notation (see
:mod:`dissectors.notation`).  Adding a command is one row.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Literal

from dissectors.notation import Notation

Kind = Literal["command", "inquiry", "broadcast", "control", "reply"]

SPEC = "aver-visca-pelco-spec.txt"

#: Every model the spec names (§3.2.1 notes, §4 revision history, §5).
MODELS: tuple[str, ...] = (
    "CAM520", "VC520+", "CAM540", "VB342+", "VB342Pro", "VB350",
    "CAM520Pro", "CAM520Pro2", "CAM520Pro3", "VC520Pro", "VC520Pro2", "VC520Pro3",
    "CAM550", "CAM570", "FONE700",
)  # fmt: skip


def only(*models: str) -> frozenset[str]:
    """A "*Support: ..." note."""
    unknown = set(models) - set(MODELS)
    assert not unknown, unknown
    return frozenset(models)


def all_but(*models: str) -> frozenset[str]:
    """A "*Not available for ..." note."""
    return frozenset(MODELS) - only(*models)


ALL = frozenset(MODELS)
TRACKING = only("VB342+", "VB342Pro", "VB350", "CAM540", "CAM550", "CAM520Pro", "CAM520Pro2",
                "CAM520Pro3", "VC520Pro", "VC520Pro2", "VC520Pro3", "CAM570")  # fmt: skip
AUDIO = only("VB342+", "VB342Pro", "VB350", "FONE700", "VC520Pro3")
AUDIO_INQ = only("VB342Pro", "VB350", "VC520Pro3", "FONE700")
NEW_EXPOSURE = only("CAM550", "CAM570", "VC520Pro3", "CAM520Pro3")
NO_FOCUS = all_but("CAM520Pro2", "VC520Pro2", "VC520Pro3")
NO_AE = all_but("CAM520Pro2", "VC520Pro2")
PIP = only("CAM550", "CAM570")
PIP_VALUES = frozenset({0x00, 0x01, 0x02, 0x03, 0x04, 0x12, 0x13, 0x14})

Allowed = tuple[int, int] | Collection[int]


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
    allowed: dict[str, Allowed] = field(default_factory=dict)
    models: frozenset[str] = ALL
    not_over_ip: frozenset[str] = frozenset()

    @property
    def ref(self) -> str:
        """Requirement reference used in findings and Allure labels."""
        return f"VISCA {self.section} {self.name}"

    def supported(self, model: str | None, *, over_ip: bool = False) -> bool:
        """Whether *model* claims this row (every row, for an unnamed model)."""
        if model is None:
            return True
        return model in self.models and not (over_ip and model in self.not_over_ip)

    def values(self, letter: str) -> list[int]:
        """Every allowed value of a parameter, in order."""
        allowed = self.allowed.get(letter)
        width = (self.reply if letter not in self.packet.letters and self.reply else
                 self.packet).widths()[letter]  # fmt: skip
        if allowed is None:
            return list(range(1 << width))
        if isinstance(allowed, tuple) and len(allowed) == 2:
            return list(range(allowed[0], allowed[1] + 1))
        return sorted(allowed)

    def in_range(self, letter: str, value: int) -> bool:
        allowed = self.allowed.get(letter)
        if allowed is None:
            return True
        if isinstance(allowed, tuple) and len(allowed) == 2:
            return allowed[0] <= value <= allowed[1]
        return value in allowed

    def describe_allowed(self, letter: str) -> str:
        allowed = self.allowed[letter]
        if isinstance(allowed, tuple) and len(allowed) == 2:
            return f"0x{allowed[0]:02X}..0x{allowed[1]:02X}"
        return ", ".join(f"0x{v:02X}" for v in sorted(allowed))


def row(
    name: str,
    packet: str,
    kind: Kind,
    group: str,
    *,
    reply: str | None = None,
    params: dict[str, str] | None = None,
    allowed: dict[str, Allowed] | None = None,
    models: frozenset[str] = ALL,
    not_over_ip: frozenset[str] = frozenset(),
    section: str = "§3.2.1",
) -> Row:
    return Row(name, Notation(packet), kind, group, section,
               Notation(reply) if reply else None, params or {}, allowed or {}, models,
               not_over_ip)  # fmt: skip


def cmd(name: str, packet: str, group: str, **kw: object) -> Row:
    return row(name, packet, "command", group, **kw)  # type: ignore[arg-type]


def inq(name: str, packet: str, reply: str, **kw: object) -> Row:
    return row(name, packet, "inquiry", "Inquiry", reply=reply, **kw)  # type: ignore[arg-type]


PT_SPEED = {"P": "pan_speed", "T": "tilt_speed"}
PT_SPEED_RANGE: dict[str, Allowed] = {"P": (0, 0x0F), "T": (0, 0x0F)}
ZOOM_SPEED: dict[str, Allowed] = {"y": (1, 7)}
PRESET: dict[str, Allowed] = {"Y": (0, 0x7F)}
PROFILE: dict[str, Allowed] = {"Y": (0, 0x05)}

# fmt: off
#: Requests from the controller (§3.2.1), in the spec's order.
COMMANDS: tuple[Row, ...] = (
    row("Address_Set", "88 30 01 FF", "broadcast", "Interface", reply="88 30 0w FF",
        params={"w": "next_address"}, allowed={"w": (2, 8)}),
    cmd("IF_Clear", "8x 01 00 01 FF", "Interface", reply="y0 50 FF"),
    row("IF_Clear(broadcast)", "88 01 00 01 FF", "broadcast", "Interface",
        reply="88 01 00 01 FF"),
    cmd("Power_On", "8x 01 04 00 02 FF", "Power"),
    cmd("Power_Off", "8x 01 04 00 03 FF", "Power"),
    cmd("Power_Reset", "8x 01 04 00 00 FF", "Power"),
    cmd("PT_Stop", "8x 01 06 01 00 00 03 03 FF", "Pan-Tilt"),
    cmd("PT_Up", "8x 01 06 01 0P 0T 03 01 FF", "Pan-Tilt", params=PT_SPEED,
        allowed=PT_SPEED_RANGE),
    cmd("PT_Down", "8x 01 06 01 0P 0T 03 02 FF", "Pan-Tilt", params=PT_SPEED,
        allowed=PT_SPEED_RANGE),
    cmd("PT_Left", "8x 01 06 01 0P 0T 01 03 FF", "Pan-Tilt", params=PT_SPEED,
        allowed=PT_SPEED_RANGE),
    cmd("PT_Right", "8x 01 06 01 0P 0T 02 03 FF", "Pan-Tilt", params=PT_SPEED,
        allowed=PT_SPEED_RANGE),
    cmd("PT_UpLeft", "8x 01 06 01 0P 0T 01 01 FF", "Pan-Tilt", params=PT_SPEED,
        allowed=PT_SPEED_RANGE),
    cmd("PT_UpRight", "8x 01 06 01 0P 0T 02 01 FF", "Pan-Tilt", params=PT_SPEED,
        allowed=PT_SPEED_RANGE),
    cmd("PT_DownLeft", "8x 01 06 01 0P 0T 01 02 FF", "Pan-Tilt", params=PT_SPEED,
        allowed=PT_SPEED_RANGE),
    cmd("PT_DownRight", "8x 01 06 01 0P 0T 02 02 FF", "Pan-Tilt", params=PT_SPEED,
        allowed=PT_SPEED_RANGE),
    cmd("PT_Calibration", "8x 01 06 05 FF", "Pan-Tilt"),
    cmd("PT_Direct", "8x 01 06 02 00 00 0Y 0Y 0Y 0Y 0V 0V 0V 0V FF", "Pan-Tilt",
        params={"Y": "pan_position", "V": "tilt_position"}),
    cmd("PT_Menu", "8x 01 06 06 10 FF", "Menu", models=NEW_EXPOSURE),
    cmd("Zoom_Stop", "8x 01 04 07 00 FF", "Zoom"),
    cmd("Zoom_Tele", "8x 01 04 07 2y FF", "Zoom", params={"y": "zoom_speed"},
        allowed=ZOOM_SPEED, models=only("CAM520Pro3", "VC520Pro3")),
    cmd("Zoom_Wide", "8x 01 04 07 3y FF", "Zoom", params={"y": "zoom_speed"},
        allowed=ZOOM_SPEED, models=only("CAM520Pro3", "VC520Pro3")),
    cmd("Zoom_Direct", "8x 01 04 47 0Y 0Y 0Y 0Y FF", "Zoom", params={"Y": "zoom_position"}),
    cmd("Focus_Stop", "8x 01 04 08 00 FF", "Focus", models=NO_FOCUS),
    cmd("Focus_Far", "8x 01 04 08 20 FF", "Focus", models=NO_FOCUS),
    cmd("Focus_Near", "8x 01 04 08 30 FF", "Focus", models=NO_FOCUS),
    cmd("Focus_Auto_Mode", "8x 01 04 38 02 FF", "Focus"),
    cmd("Focus_Manual_Mode", "8x 01 04 38 03 FF", "Focus"),
    cmd("Focus_OnePush_Trigger", "8x 01 04 18 01 FF", "Focus"),
    cmd("WB_Auto_Mode", "8x 01 04 35 00 FF", "White balance"),
    cmd("WB_One_Push_Mode", "8x 01 04 35 03 FF", "White balance"),
    cmd("WB_Manual_Mode", "8x 01 04 35 05 FF", "White balance"),
    cmd("WB_One_Push_Trigger", "8x 01 04 10 05 FF", "White balance"),
    cmd("WB_Rgain_Up", "8x 01 04 03 02 FF", "White balance"),
    cmd("WB_Rgain_Down", "8x 01 04 03 03 FF", "White balance"),
    cmd("WB_Bgain_Up", "8x 01 04 04 02 FF", "White balance"),
    cmd("WB_Bgain_Down", "8x 01 04 04 03 FF", "White balance"),
    cmd("AE_Auto_Mode", "8x 01 04 39 00 FF", "Exposure", models=NO_AE),
    cmd("AE_Gain_Up", "8x 01 04 0C 02 FF", "Exposure", models=NO_AE),
    cmd("AE_Gain_Down", "8x 01 04 0C 03 FF", "Exposure", models=NO_AE),
    cmd("ExpComp_Up", "8x 01 04 0E 02 FF", "Exposure"),
    cmd("ExpComp_Down", "8x 01 04 0E 03 FF", "Exposure"),
    cmd("Shutter_Up", "8x 01 04 0A 02 FF", "Exposure", models=NEW_EXPOSURE),
    cmd("Shutter_Down", "8x 01 04 0A 03 FF", "Exposure", models=NEW_EXPOSURE),
    cmd("Iris_Up", "8x 01 04 0B 02 FF", "Exposure", models=NEW_EXPOSURE),
    cmd("Iris_Down", "8x 01 04 0B 03 FF", "Exposure", models=NEW_EXPOSURE),
    cmd("Bright_Up", "8x 01 04 0D 02 FF", "Exposure", models=NEW_EXPOSURE),
    cmd("Bright_Down", "8x 01 04 0D 03 FF", "Exposure", models=NEW_EXPOSURE),
    cmd("Color_Gain", "8x 01 04 49 00 00 00 0p FF", "Image", params={"p": "gain"},
        not_over_ip=only("CAM520Pro2")),
    cmd("Color_Hue", "8x 01 04 4F 00 00 00 0p FF", "Image", params={"p": "hue"},
        not_over_ip=only("CAM520Pro2")),
    cmd("Backlight_On", "8x 01 04 33 02 FF", "Image", models=all_but("CAM520Pro3", "VC520Pro3")),
    cmd("Backlight_Off", "8x 01 04 33 03 FF", "Image", models=all_but("CAM520Pro3", "VC520Pro3")),
    cmd("WDR_On", "8x 01 04 33 02 FF", "Image"),
    cmd("WDR_Off", "8x 01 04 33 03 FF", "Image"),
    cmd("CAM_set", "8x 01 04 3F 01 YY FF", "Presets", params={"Y": "preset"}, allowed=PRESET),
    cmd("CAM_recall", "8x 01 04 3F 02 YY FF", "Presets", params={"Y": "preset"},
        allowed=PRESET),
    cmd("CAM_Profile_Read", "8x 01 04 40 01 YY FF", "Profiles", params={"Y": "profile"},
        allowed=PROFILE, models=all_but("CAM520Pro3", "VC520Pro3")),
    cmd("CAM_Profile_Save", "8x 01 04 40 02 YY FF", "Profiles", params={"Y": "profile"},
        allowed=PROFILE, models=only("CAM520")),
    cmd("CAM_Enter", "8x 01 7E 01 02 00 01 FF", "Menu", models=NEW_EXPOSURE),
    cmd("CAM_PIP_Set_USB", "8x 01 04 7F 00 YY FF", "PIP", params={"Y": "pip"},
        allowed={"Y": PIP_VALUES}, models=PIP),
    cmd("CAM_PIP_Set_HDMI", "8x 01 04 7F 01 YY FF", "PIP", params={"Y": "pip"},
        allowed={"Y": PIP_VALUES}, models=PIP),
    cmd("CAM_Track_Trigger", "8x 01 04 7D 00 00 FF", "Tracking", models=TRACKING),
    cmd("CAM_Track_Disable", "8x 01 04 7D 01 00 FF", "Tracking", models=TRACKING),
    cmd("CAM_Track_Auto", "8x 01 04 7D 02 00 FF", "Tracking", models=TRACKING),
    cmd("CAM_Track_Manual", "8x 01 04 7D 03 00 FF", "Tracking", models=TRACKING),
    cmd("CAM_Track_Audio_Tracking", "8x 01 04 7D 04 00 FF", "Tracking",
        models=only("VB342+", "VB342Pro", "VB350", "CAM570")),
    cmd("CAM_Track_Audio_Frame", "8x 01 04 7D 05 00 FF", "Tracking", models=only("VB342+")),
    cmd("CAM_Track_Audio_Preset", "8x 01 04 7D 06 00 FF", "Tracking", models=only("VB342+")),
    cmd("CAM_Track_Presentation", "8x 01 04 7D 07 00 FF", "Tracking",
        models=only("VB342Pro", "VB350", "CAM570")),
    cmd("CAM_Track_Preset", "8x 01 04 7D 08 00 FF", "Tracking",
        models=only("CAM520Pro3", "CAM570", "VB350", "VC520Pro3")),
    cmd("CAM_Track_Set_Start_Position", "8x 01 04 7D 10 YY FF", "Tracking",
        params={"Y": "start_position"}, allowed={"Y": (0, 0x0A)},
        models=only("VB342+", "VB342Pro", "CAM540", "CAM520Pro", "CAM520Pro2", "CAM520Pro3",
                    "VC520Pro", "VC520Pro2", "VC520Pro3")),
    cmd("CAM_Track_Source", "8x 01 04 7D 11 YY FF", "Tracking", params={"Y": "source"},
        allowed={"Y": (1, 2)}, models=PIP),
    cmd("CAM_Track_Gesture_On", "8x 01 04 7D 20 02 FF", "Tracking",
        models=only("CAM550", "VB342Pro", "VB350", "CAM570")),
    cmd("CAM_Track_Gesture_Off", "8x 01 04 7D 20 03 FF", "Tracking",
        models=only("CAM550", "VB342Pro", "VB350", "CAM570")),
    cmd("CAM_Track_Smart Composition", "8x 01 04 7D 09 00 FF", "Tracking",
        models=only("CAM520Pro3", "VC520Pro3")),
    cmd("ADO_Mute_Tigger", "8x 01 08 00 00 FF", "Audio", models=AUDIO),
    cmd("ADO_Mute_On", "8x 01 08 00 01 FF", "Audio", models=AUDIO),
    cmd("ADO_Mute_Off", "8x 01 08 00 02 FF", "Audio", models=AUDIO),
    cmd("ADO_Volume_Up", "8x 01 08 01 01 FF", "Audio", models=AUDIO),
    cmd("ADO_Volume_Down", "8x 01 08 01 02 FF", "Audio", models=AUDIO),
    cmd("ADO_Tracking_On", "8x 01 08 02 01 FF", "Audio", models=only("FONE700")),
    cmd("ADO_Tracking_Off", "8x 01 08 02 02 FF", "Audio", models=only("FONE700")),
    inq("Version_Inq", "8x 09 00 02 FF", "y0 50 GG GG HH HH JJ JJ KK FF",
        params={"G": "vendor_id", "H": "model_id", "J": "version", "K": "max_socket"},
        models=all_but("CAM520Pro2", "VC520Pro2")),
    inq("PT_Pos_Inq", "8x 09 06 12 FF", "y0 50 0Y 0Y 0Y 0Y 0V 0V 0V 0V FF",
        params={"Y": "pan_position", "V": "tilt_position"}, models=all_but("CAM520Pro2")),
    inq("Zoom_Pos_Inq", "8x 09 04 47 FF", "y0 50 0Y 0Y 0Y 0Y FF",
        params={"Y": "zoom_position"}, models=all_but("CAM520Pro2")),
    inq("Power_Status_Inq", "8x 09 04 00 FF", "y0 50 0p FF", params={"p": "power"},
        allowed={"p": (2, 3)}, models=only("FONE700", "CAM520Pro3", "VC520Pro3"),
        not_over_ip=only("CAM520Pro3", "VC520Pro3")),
    inq("Ado_Mute_Inq", "8x 09 08 00 FF", "y0 50 0Y FF", params={"Y": "mute"},
        allowed={"Y": (1, 2)}, models=AUDIO_INQ),
    inq("Ado_Volume_Inq", "8x 09 08 01 FF", "y0 50 0Y FF", params={"Y": "volume"},
        allowed={"Y": (0, 0x0A)}, models=AUDIO_INQ),
    row("Cancel", "8x 2z FF", "control", "Interface", params={"z": "socket"}, section="§3.1"),
)

#: Generic replies (Sony VISCA core; ``z`` is the socket number).
REPLIES: tuple[Row, ...] = (
    row("ACK", "y0 4z FF", "reply", "Reply", params={"z": "socket"}, section="§3.1"),
    row("Completion", "y0 5z FF", "reply", "Reply", params={"z": "socket"}, section="§3.1"),
    row("Message_Length_Error", "y0 60 01 FF", "reply", "Error", section="§3.1"),
    row("Syntax_Error", "y0 60 02 FF", "reply", "Error", section="§3.1"),
    row("Command_Buffer_Full", "y0 60 03 FF", "reply", "Error", section="§3.1"),
    row("Command_Canceled", "y0 6z 04 FF", "reply", "Error", params={"z": "socket"},
        section="§3.1"),
    row("No_Socket", "y0 6z 05 FF", "reply", "Error", params={"z": "socket"}, section="§3.1"),
    row("Command_Not_Executable", "y0 6z 41 FF", "reply", "Error", params={"z": "socket"},
        section="§3.1"),
)
# fmt: on

BY_NAME: dict[str, Row] = {r.name: r for r in COMMANDS + REPLIES}

#: Rows whose bytes are the same as an earlier row's (the spec lists the
#: Backlight and WDR commands with one encoding: "if not supported Backlight,
#: change to control WDR").
SAME_BYTES: dict[str, str] = {"WDR_On": "Backlight_On", "WDR_Off": "Backlight_Off"}

MIN_LEN, MAX_LEN = 3, 16  # §3.1: address, 1..14 message bytes, terminator
TERMINATOR = 0xFF
BROADCAST = 0x88
