"""The shared Pelco checks bound to Pelco-D (``aver-visca-pelco-spec.txt`` §3.2.3)."""

from __future__ import annotations

from dissectors import pelco_d
from suites.pelco_common import PelcoSuite

SUITE = PelcoSuite(pelco_d)
