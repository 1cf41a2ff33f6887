"""Scapy layer and decoder for Pelco-D (AVer spec ``aver-visca-pelco-spec.txt`` §3.2.3).

Frame: ``SYNC(FF) ADDR cmd1 cmd2 data1 data2 checksum``, checksum = sum of
bytes 2..6 modulo 256 ("2~6 SUM"), computed in ``post_build`` when None and
verified by :func:`decode`.  Commands come from the shared table in
:mod:`dissectors.pelco`.

Addresses are 1-based: "1~80" for pan/tilt (read as hex, 0x01..0x80, like the
ADDR column's "0~7F" in §3.2.2) and "1~8" for the extended commands.
"""

from __future__ import annotations

from typing import Any

from scapy.fields import FlagsField, XByteField

from dissectors import pelco
from dissectors.decoded import Decoded

VARIANT = pelco.VARIANTS[pelco.PELCO_D]
PROTOCOL = VARIANT.protocol
SECTION = VARIANT.section
FRAME_LEN = VARIANT.frame_len  # 7
SYNC = 0xFF
FIRST_ADDRESS = VARIANT.first_address  # camera 1 = 0x01


class PelcoD(pelco.PelcoFrame):
    """One Pelco-D frame (§3.2.3); bit names of cmd1/cmd2 from the spec's bit tables."""

    name = "Pelco-D"
    variant = VARIANT
    fields_desc = [
        XByteField("sync", SYNC),
        XByteField("address", FIRST_ADDRESS),
        FlagsField("cmd1", 0, 8, list(VARIANT.byte3)),
        pelco.OpcodeFlagsField("cmd2", 0, 8, list(VARIANT.byte4)),
        XByteField("data1", 0),  # pan speed, or 0x00 (extended)
        XByteField("data2", 0),  # tilt speed, or the extended parameter
        XByteField("checksum", None),
    ]


def camera_address(camera: int) -> int:
    """Wire address of camera 1, 2, ... (1-based, §3.2.3)."""
    return VARIANT.camera_address(camera)


def build(
    name: str, address: int = FIRST_ADDRESS, *, checksum: int | None = None, **params: Any
) -> bytes:
    """Wire bytes of table row or pan/tilt command *name* (see :func:`pelco.body`).

    ``build("Go To Preset", 1, preset=5)``, ``build("Pan Left", 1, pan_speed=0x20)``;
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
    """A standard (pan/tilt) frame with the named cmd1/cmd2 bits set, e.g. ``pan_left=True``."""
    body = pelco.pt_body(VARIANT, {b for b, on in bits.items() if on}, pan_speed, tilt_speed)
    return _frame(address, body, checksum)


def _frame(address: int, body: bytes, checksum: int | None) -> bytes:
    return bytes(
        PelcoD(
            address=address,
            cmd1=body[0],
            cmd2=body[1],
            data1=body[2],
            data2=body[3],
            checksum=checksum,
        )
    )


def decode(data: bytes, *, expected_address: int | None = None) -> Decoded:
    """Name, fields and problems of one Pelco-D frame (§3.2.3); never raises."""
    return pelco.decode_frame(VARIANT, data, expected_address)


def describe(data: bytes | str, *, expected_address: int | None = None) -> str:
    """One-line decode for transcripts."""
    if isinstance(data, str):
        return repr(data)
    return decode(data, expected_address=expected_address).describe()
