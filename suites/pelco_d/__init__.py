"""Pelco-D suites (``aver-visca-pelco-spec.txt`` §3.2.3): 7-byte frames
``FF addr cmd1 cmd2 data1 data2 sum`` over serial or TCP, watched through a
VISCA observer of the same camera."""
