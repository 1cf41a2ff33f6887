"""The shared Pelco checks bound to Pelco-P (``aver-visca-pelco-spec.txt`` §3.2.2)."""

from __future__ import annotations

from dissectors import pelco_p
from suites.pelco_common import PelcoSuite

SUITE = PelcoSuite(pelco_p)
