"""Scapy layer and decoder for Pelco-D (AVer spec ``aver-visca-pelco-spec.txt`` §3.2.3).

Frame: ``SYNC(FF) ADDR cmd1 cmd2 data1 data2 checksum``, checksum = sum of
bytes 2..6 modulo 256 ("2~6 SUM"), computed in ``post_build`` when None and
verified by :func:`decode`.  Commands come from the shared table in
:mod:`dissectors.pelco`.

Addresses are 1-based: "1~80" for pan/tilt (read as hex, 0x01..0x80, like the
ADDR column's "0~7F" in §3.2.2) and "1~8" for the extended commands.
"""

from __future__ import annotations

from scapy.fields import FlagsField, XByteField

from dissectors import pelco

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


_CODEC = pelco.Codec(VARIANT, PelcoD)
camera_address = _CODEC.camera_address
build = _CODEC.build
build_pt = _CODEC.build_pt
decode = _CODEC.decode
describe = _CODEC.describe
