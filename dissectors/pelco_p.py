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

from scapy.fields import FlagsField, XByteField

from dissectors import pelco

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


_CODEC = pelco.Codec(VARIANT, PelcoP)
camera_address = _CODEC.camera_address
build = _CODEC.build
build_pt = _CODEC.build_pt
decode = _CODEC.decode
describe = _CODEC.describe
