"""The emulated energy meter of each EVSE and the sampled values it reports (J02).

The EVSE meter is at the Outlet; while the EV charges it draws ``POWER_W`` on three
phases at ``VOLTAGE_V``.  The import register (Wh) only rises and is never re-based at
a transaction start (J02.FR.16, J02.FR.17).  Values are reported without a phase
(totals; averages for current and voltage).
"""

from __future__ import annotations

from typing import Any

POWER_W = 11000.0
VOLTAGE_V = 230.0
PHASES = 3
OFFERED_A = 16.0
FREQUENCY_HZ = 50.0
BATTERY_WH = 60000.0
SOC_START = 40.0

#: measurand -> unit (Part 2 UnitOfMeasureType; units_of_measure.csv)
UNITS: dict[str, str] = {
    "Energy.Active.Import.Register": "Wh",
    "Energy.Active.Export.Register": "Wh",
    "Energy.Active.Import.Interval": "Wh",
    "Power.Active.Import": "W",
    "Power.Active.Export": "W",
    "Power.Offered": "W",
    "Current.Import": "A",
    "Current.Export": "A",
    "Current.Offered": "A",
    "Voltage": "V",
    "Frequency": "Hz",
    "SoC": "Percent",
}


class Meter:
    """One EVSE's meter: the register, the EV's state of charge, the last interval."""

    def __init__(self, register_wh: float) -> None:
        self.register_wh = register_wh
        self.interval_start_wh = register_wh
        self.soc = SOC_START
        self.charging = False

    def advance(self, seconds: float) -> None:
        """*seconds* of emulated time at the current charging state."""
        if self.charging and seconds > 0:
            energy = POWER_W * seconds / 3600.0
            self.register_wh += energy
            self.soc = min(100.0, self.soc + 100.0 * energy / BATTERY_WH)

    def value(self, measurand: str) -> float | None:
        charging = self.charging
        current = POWER_W / (VOLTAGE_V * PHASES) if charging else 0.0
        values: dict[str, float] = {
            "Energy.Active.Import.Register": self.register_wh,
            "Energy.Active.Export.Register": 0.0,
            "Energy.Active.Import.Interval": self.register_wh - self.interval_start_wh,
            "Power.Active.Import": POWER_W if charging else 0.0,
            "Power.Active.Export": 0.0,
            "Power.Offered": OFFERED_A * VOLTAGE_V * PHASES,
            "Current.Import": current,
            "Current.Export": 0.0,
            "Current.Offered": OFFERED_A,
            "Voltage": VOLTAGE_V,
            "Frequency": FREQUENCY_HZ,
            "SoC": self.soc,
        }
        found = values.get(measurand)
        return None if found is None else round(found, 1)

    def sampled_values(
        self, measurands: list[str], context: str, *, register_offset: float = 0.0
    ) -> list[dict[str, Any]]:
        """SampledValueType items for *measurands* (unknown ones are left out)."""
        out = []
        for measurand in measurands:
            value = self.value(measurand)
            if value is None:
                continue
            if measurand == "Energy.Active.Import.Register":
                value = round(value + register_offset, 1)
            item: dict[str, Any] = {
                "value": value,
                "measurand": measurand,
                "context": context,
                "location": "Outlet",
                "unitOfMeasure": {"unit": UNITS[measurand]},
            }
            out.append(item)
        if any(m == "Energy.Active.Import.Interval" for m in measurands):
            self.interval_start_wh = self.register_wh
        return out
