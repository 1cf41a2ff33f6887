"""Opens each device once per run, starting its emulator first for ``emu:NAME``.

A device that cannot be opened is remembered as unreachable, so every test
that needs it fails fast with the same :class:`DeviceUnreachable` instead of
waiting out the connect timeout again; the run goes on.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from conformance import emulators
from conformance.devices import client_for
from conformance.devices.base import Device
from conformance.devices.pelco import camera_number, with_observer
from conformance.devices.uri import DeviceSpec, parse_device
from conformance.emulators.base import Emulator
from conformance.emulators.hosting import EmulatorHost, Listening
from conformance.errors import DeviceUnreachable


@dataclass
class Opened:
    device: Device
    emulator: Emulator | None = None
    listening: Listening | None = None
    errors_seen: int = 0


@dataclass
class DevicePool:
    opened: dict[str, Opened] = field(default_factory=dict)
    failed: dict[str, DeviceUnreachable] = field(default_factory=dict)
    host: EmulatorHost | None = None

    def get(self, spec: DeviceSpec) -> Opened:
        if spec.uri in self.failed:
            __tracebackhide__ = True  # the pool's repr holds the unmasked URIs
            raise self.failed[spec.uri].with_traceback(None)  # not one more frame per test
        if spec.uri not in self.opened:
            try:
                self.opened[spec.uri] = self._open(spec)
            except DeviceUnreachable as exc:
                self.failed[spec.uri] = exc
                raise
        return self.opened[spec.uri]

    def _open(self, spec: DeviceSpec) -> Opened:
        if spec.link != "emu":
            device = client_for(spec)
            device.open()
            return Opened(device)
        assert spec.emulator is not None
        how = emulators.EMULATED_DEVICES[spec.emulator]
        cls = emulators.EMULATORS[how.emulator]
        options: dict[str, object] = {"faults": spec.faults, "model": spec.model}
        options["speed"] = float(spec.params.get("speed", cls.DEFAULT_SPEED))
        for name in ("address", "chain"):
            if name in spec.params:
                options[name] = int(spec.params[name])
        pelco = spec.protocol in ("pelco-d", "pelco-p")
        if pelco and "address" in options:  # the URI gives the wire address
            options["address"] = camera_number(spec.protocol, int(spec.params["address"]))
        if how.transport == "ws-client":
            return self._open_dialing(spec, cls, options)
        emulator = cls(**options)  # type: ignore[arg-type]
        if self.host is None:
            self.host = EmulatorHost().start()
        listening = self.host.serve(emulator, how.face, how.transport)
        concrete = concrete_spec(spec, how.scheme, listening)
        if pelco:  # no Pelco replies: the same camera's VISCA face observes it
            visca_face = self.host.serve(emulator, "visca", "pty")
            concrete = with_observer(concrete, f"visca+serial://{visca_face.address}")
        device = client_for(concrete)
        device.control = Control(self.host, emulator)
        device.open()
        return Opened(device, emulator, listening)

    def _open_dialing(
        self, spec: DeviceSpec, cls: type[Emulator], options: dict[str, object]
    ) -> Opened:
        """An emulator that dials out (an OCPP station): listen as its CSMS, start
        it pointed at us, and wait for it to connect."""
        identity = spec.params.get("id", "CS001")
        params = {k: v for k, v in spec.params.items() if k in ("id", "version", "timeout")}
        params.setdefault("id", identity)
        listen = DeviceSpec(spec.uri, spec.protocol, "listen", "127.0.0.1", 0, None, params,
                            spec.emulator, spec.faults)  # fmt: skip
        device = client_for(listen)
        options.update(identity=identity, version=params.get("version", "2.1"))
        options["evses"] = int(spec.params.get("evses", 2))
        emulator = cls(**options)  # type: ignore[arg-type]
        if self.host is None:
            self.host = EmulatorHost().start()
        port = device.listen()  # type: ignore[attr-defined]
        self.host.call(emulator.start, f"ws://127.0.0.1:{port}/{identity}")  # type: ignore[attr-defined]
        device.control = Control(self.host, emulator)
        device.speed = emulator.clock.speed  # type: ignore[attr-defined]
        device.listener.accept_timeout = 10  # type: ignore[attr-defined]
        device.open()
        # Let its first boot and the reports after it finish before any test starts.
        device.wait_for(lambda: device.accepted, within=10, what="boot", requirement=None)  # type: ignore[attr-defined]
        device.wait_quiet(1.0, 5.0)  # type: ignore[attr-defined]
        return Opened(device, emulator)

    def close(self) -> None:
        for opened in self.opened.values():
            stop = getattr(opened.emulator, "stop", None)
            if stop is not None and self.host is not None:
                with contextlib.suppress(Exception):
                    self.host.call(stop)
            with contextlib.suppress(Exception):
                opened.device.close()
        self.opened.clear()
        if self.host is not None:
            self.host.close()
            self.host = None


class Control:
    """An emulator's control API (what a person, an EV or an IoT platform does),
    called on the emulator host's loop so it never races the device traffic."""

    def __init__(self, host: EmulatorHost, emulator: Emulator) -> None:
        self._host, self.emulator = host, emulator

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.emulator, name)
        if not callable(target):
            return self._host.call(lambda: getattr(self.emulator, name))

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._host.call(lambda: target(*args, **kwargs))

        return call


def concrete_spec(spec: DeviceSpec, scheme: str, listening: Listening) -> DeviceSpec:
    """The real-device spec of a running emulator, keeping the user's parameters."""
    keep = {k: v for k, v in spec.params.items()
            if k in ("address", "timeout", "model", "motion_timeout", "module",
                     "async_timeout")}  # fmt: skip
    query = "&".join(f"{k}={v}" for k, v in keep.items())
    where = listening.address
    uri = f"{scheme}://{where}" + (f"?{query}" if query else "")
    concrete = parse_device(uri)
    return DeviceSpec(
        spec.uri,
        concrete.protocol,
        concrete.link,
        concrete.host,
        concrete.port,
        concrete.serial_port,
        concrete.params,
        spec.emulator,
        spec.faults,
    )
