"""Meter values in transactions (J02) and clock-aligned values (J01.FR.14/J01.FR.22)
of the station emulator: a mixin of
:class:`~conformance.emulators.ocpp.transactions.Transactions`.

TxStartedMeasurands go into Started (Transaction.Begin, E01.FR.09);
TxUpdatedMeasurands every TxUpdatedInterval as MeterValuePeriodic events
(Sample.Periodic, J02.FR.11); TxEndedMeasurands into Ended (Transaction.Begin and
Transaction.End values plus one Sample.Periodic value per TxEndedInterval, E06.FR.11).
With AlignedDataCtrlr.Interval, AlignedDataCtrlr.Measurands (Sample.Clock) go out as
MeterValueClock events during a transaction (J01.FR.22, not with SendDuringIdle,
J01.FR.19) and as MeterValuesRequest otherwise (J01.FR.14); AlignedDataCtrlr
TxEndedMeasurands every TxEndedInterval go into Ended.  Clock alignment is to
multiples of the interval on the emulated clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.emulators.ocpp.transactions import Evse, Tx

MAX_ENDED_SAMPLES = 200  # E06.FR.12/13: intermediate samples are thinned out beyond this


class SamplingMixin:
    """Sampling and its timers; the state lives on Transactions and its EVSEs."""

    def _measurands(self, component: str, variable: str) -> list[str]:
        enabled = (
            self.st.dm.bool(component, "Enabled") if self.st.dm.has(component, "Enabled") else True
        )
        return self.st.dm.list(component, variable) if enabled else []

    def _context(self, context: str) -> str:
        if self.st.fault("wrong_meter_context") and context != "Sample.Clock":
            return "Other"
        if self.st.fault("aligned_wrong_context") and context == "Sample.Clock":
            return "Sample.Periodic"
        return context

    def _sample(self, ev: Evse, measurands: list[str], context: str) -> dict[str, Any] | None:
        """One meterValue at the meter's last tick (callers tick first)."""
        offset = 0.0
        if self.st.fault("energy_not_monotonic") and context == "Sample.Periodic":
            offset = -500.0  # breaks J02.FR.16
        values = ev.meter.sampled_values(measurands, self._context(context), register_offset=offset)
        if not values:
            return None
        return {"timestamp": self.st.now_iso(), "sampledValue": values}

    def _schedule_periodic(self, tx: Tx) -> None:
        interval = self.st._int("SampledDataCtrlr", "TxUpdatedInterval", 0)
        if interval <= 0 or tx.ended:
            return
        seconds = interval / 2 if self.st.fault("periodic_wrong_interval") else interval
        tx.periodic = self.st.later(seconds, self._periodic, tx)

    def _periodic(self, tx: Tx) -> None:
        """J02.FR.11: TxUpdatedMeasurands every TxUpdatedInterval."""
        tx.periodic = None
        if tx.ended:
            return
        ev = self.evses[tx.evse]
        measurands = self._measurands("SampledDataCtrlr", "TxUpdatedMeasurands")
        self._tick(ev)
        if measurands and not self.st.fault("no_periodic_meter_values"):
            sample = self._sample(ev, measurands, "Sample.Periodic")
            if sample is not None:
                trigger = "MeterValuePeriodic"
                if self.st.fault("wrong_trigger_periodic"):
                    trigger = "MeterValueClock"
                self._emit(tx, "Updated", trigger, meter=[sample])
        self._schedule_periodic(tx)

    def _schedule_ended(self, tx: Tx) -> None:
        interval = self.st._int("SampledDataCtrlr", "TxEndedInterval", 0)
        if interval > 0 and not tx.ended:
            tx.ended_timer = self.st.later(interval, self._ended_sample, tx)

    def _ended_sample(self, tx: Tx) -> None:
        tx.ended_timer = None
        if tx.ended:
            return
        measurands = self._measurands("SampledDataCtrlr", "TxEndedMeasurands")
        ev = self.evses[tx.evse]
        self._tick(ev)
        self._keep_sample(tx, self._sample(ev, measurands, "Sample.Periodic"))
        self._schedule_ended(tx)

    @staticmethod
    def _keep_sample(tx: Tx, sample: dict[str, Any] | None) -> None:
        if sample is None:
            return
        tx.ended_samples.append(sample)
        if len(tx.ended_samples) > MAX_ENDED_SAMPLES:
            del tx.ended_samples[::2]  # E06.FR.13: intermediate values first

    def restart_aligned(self) -> None:
        st = self.st
        st.cancel(self._aligned)
        st.cancel(self._aligned_ended)
        self._aligned = self._aligned_ended = None
        if not st.powered or st._loop is None:
            return
        if st.dm.has("AlignedDataCtrlr", "Enabled") and not st.dm.bool(
            "AlignedDataCtrlr", "Enabled"
        ):
            return
        interval = st._int("AlignedDataCtrlr", "Interval", 0)
        if interval > 0:
            self._aligned = st.later(interval - st.clock.now() % interval, self._aligned_tick)
        ended = st._int("AlignedDataCtrlr", "TxEndedInterval", 0)
        if ended > 0:
            delay = ended - st.clock.now() % ended
            self._aligned_ended = st.later(delay, self._aligned_ended_tick)

    def _aligned_tick(self) -> None:
        """J01.FR.14 / J01.FR.22: AlignedDataCtrlr.Measurands every Interval."""
        st = self.st
        self._aligned = None
        measurands = st.dm.list("AlignedDataCtrlr", "Measurands")
        idle_only = st.dm.bool("AlignedDataCtrlr", "SendDuringIdle")
        for ev in self.evses.values():
            if not measurands:
                break
            self._tick(ev)
            if ev.tx is not None:
                if idle_only:
                    continue  # J01.FR.19
                sample = self._sample(ev, measurands, "Sample.Clock")
                if sample is not None:
                    self._emit(ev.tx, "Updated", "MeterValueClock", meter=[sample])
            elif st.reportable and not (idle_only and self.busy(None)):
                sample = self._sample(ev, measurands, "Sample.Clock")
                if sample is not None:
                    st.send("MeterValues", {"evseId": ev.id, "meterValue": [sample]})
        self.restart_aligned()

    def _aligned_ended_tick(self) -> None:
        self._aligned_ended = None
        measurands = self.st.dm.list("AlignedDataCtrlr", "TxEndedMeasurands")
        for ev in self.evses.values():
            if ev.tx is not None and measurands:
                self._tick(ev)
                self._keep_sample(ev.tx, self._sample(ev, measurands, "Sample.Clock"))
        self.restart_aligned()
