"""Pelco-P suites (``aver-visca-pelco-spec.txt`` §3.2.2): 8-byte frames
``A0 addr data1 data2 data3 data4 AF xor`` over serial or TCP, watched through a
VISCA observer of the same camera."""
