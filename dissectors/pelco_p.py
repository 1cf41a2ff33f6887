"""Scapy layer and decoder for Pelco-P (AVer spec ``aver-visca-pelco-spec.txt`` §3.2.2).

Frame: ``STX(A0) ADDR data1 data2 data3 data4 ETX(AF) checksum``, checksum =
XOR of bytes 1..7, STX and ETX included ("1~7 XOR"), computed in
``post_build`` when None and verified by :func:`decode`.  Commands come from
the shared table in :mod:`dissectors.pelco`.

Addresses are 0-based on the wire ("0~7F" for pan/tilt, "0~7" for the
extended commands): camera 1 is 0x00.  A controller that sends the camera
number instead is the "address off by one" dialect, which :func:`decode`
names when given ``expected_address``.
"""

from __future__ import annotations

from typing import Any

from scapy.fields import FlagsField, XByteField

from dissectors import pelco
from dissectors.decoded import Decoded

VARIANT = pelco.VARIANTS[pelco.PELCO_P]
PROTOCOL = VARIANT.protocol
SECTION = VARIANT.section
FRAME_LEN = VARIANT.frame_len  # 8
STX = 0xA0
ETX = 0xAF
FIRST_ADDRESS = VARIANT.first_address  # camera 1 = 0x00


class PelcoP(pelco.PelcoFrame):
    """One Pelco-P frame (§3.2.2); bit names of data1/data2 from the spec's bit tables."""

    name = "Pelco-P"
    variant = VARIANT
    fields_desc = [
        XByteField("stx", STX),
        XByteField("address", FIRST_ADDRESS),
        FlagsField("data1", 0, 8, list(VARIANT.byte3)),
        pelco.OpcodeFlagsField("data2", 0, 8, list(VARIANT.byte4)),
        XByteField("data3", 0),  # pan speed, or 0x00 (extended)
        XByteField("data4", 0),  # tilt speed, or the extended parameter
        XByteField("etx", ETX),
        XByteField("checksum", None),
    ]


def camera_address(camera: int) -> int:
    """Wire address of camera 1, 2, ... (0-based, §3.2.2)."""
    return VARIANT.camera_address(camera)


def build(
    name: str, address: int = FIRST_ADDRESS, *, checksum: int | None = None, **params: Any
) -> bytes:
    """Wire bytes of table row or pan/tilt command *name* (see :func:`pelco.body`).

    ``build("Go To Preset", 0, preset=5)``, ``build("Pan Left", 0, pan_speed=0x20)``;
    *checksum* overrides the computed one to craft bad frames.
    """
    return _frame(address, pelco.body(VARIANT, name, **params), checksum)


def build_pt(
    address: int = FIRST_ADDRESS,
    *,
    pan_speed: int = 0,
    tilt_speed: int = 0,
    checksum: int | None = None,
    **bits: bool,
) -> bytes:
    """A standard (pan/tilt) frame with the named data1/data2 bits set, e.g. ``pan_left=True``."""
    body = pelco.pt_body(VARIANT, {b for b, on in bits.items() if on}, pan_speed, tilt_speed)
    return _frame(address, body, checksum)


def _frame(address: int, body: bytes, checksum: int | None) -> bytes:
    return bytes(
        PelcoP(
            address=address,
            data1=body[0],
            data2=body[1],
            data3=body[2],
            data4=body[3],
            checksum=checksum,
        )
    )


def decode(data: bytes, *, expected_address: int | None = None) -> Decoded:
    """Name, fields and problems of one Pelco-P frame (§3.2.2); never raises."""
    return pelco.decode_frame(VARIANT, data, expected_address)


def describe(data: bytes | str, *, expected_address: int | None = None) -> str:
    """One-line decode for transcripts."""
    if isinstance(data, str):
        return repr(data)
    return decode(data, expected_address=expected_address).describe()
