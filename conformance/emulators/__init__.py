"""Registry of the built-in emulators and of the ``emu:NAME`` devices they provide."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.emulators.base import Emulator
from conformance.emulators.bc26 import Bc26Emulator
from conformance.emulators.camera import CameraEmulator
from conformance.emulators.ocpp import OcppStationEmulator

#: emulator name -> class
EMULATORS: dict[str, type[Emulator]] = {
    CameraEmulator.name: CameraEmulator,
    Bc26Emulator.name: Bc26Emulator,
    OcppStationEmulator.name: OcppStationEmulator,
}


@dataclass(frozen=True)
class EmulatedDevice:
    """How ``emu:NAME`` is provided: which emulator, which face, on what."""

    emulator: str
    face: str
    transport: str
    scheme: str  # URI scheme of the device the suites then talk to


#: ``emu:NAME`` -> how it is served.  Names missing here are not built yet.
EMULATED_DEVICES: dict[str, EmulatedDevice] = {
    "visca": EmulatedDevice("camera", "visca", "pty", "visca+serial"),
    "visca-ip": EmulatedDevice("camera", "visca-ip", "udp", "visca-ip"),
    "pelco-d": EmulatedDevice("camera", "pelco-d", "pty", "pelco-d+serial"),
    "pelco-p": EmulatedDevice("camera", "pelco-p", "pty", "pelco-p+serial"),
    "bc26": EmulatedDevice("bc26", "at", "pty", "at+serial"),
    # the station dials the suites' CSMS: ws-client
    "ocpp": EmulatedDevice("ocpp", "ocpp", "ws-client", "ocpp+listen"),
}

#: aliases accepted by ``conformance emulate``
ALIASES = {name: dev.emulator for name, dev in EMULATED_DEVICES.items()}


def available() -> list[str]:
    """``emu:NAME`` names that are built, in the order ``emu`` expands to."""
    return list(EMULATED_DEVICES)


def emulator_class(name: str) -> type[Emulator]:
    return EMULATORS[ALIASES.get(name, name)]
