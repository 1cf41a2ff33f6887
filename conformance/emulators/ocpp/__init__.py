"""OCPP 2.1 / 2.0.1 charging station emulator (dials a CSMS over OCPP-J)."""

from conformance.emulators.ocpp.station import OcppStationEmulator

__all__ = ["OcppStationEmulator"]
