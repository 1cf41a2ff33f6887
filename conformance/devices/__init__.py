"""Device URIs, protocol clients, and the pool that opens each device once."""

from __future__ import annotations

from conformance.devices.at import AtDevice
from conformance.devices.base import Device
from conformance.devices.control import HttpControl
from conformance.devices.ocpp import OcppStation, listener_for
from conformance.devices.pelco import PelcoDDevice, PelcoPDevice
from conformance.devices.uri import DeviceSpec, parse_device, parse_devices
from conformance.devices.visca import ViscaDevice, ViscaIpDevice
from conformance.errors import FrameworkError
from conformance.transports import SerialTransport, TcpTransport, Transport, UdpTransport

#: protocol -> client class.  Protocols missing here have no client yet.
CLIENTS: dict[str, type[Device]] = {
    "visca": ViscaDevice,
    "visca-ip": ViscaIpDevice,
    "pelco-d": PelcoDDevice,
    "pelco-p": PelcoPDevice,
    "at": AtDevice,
    "ocpp": OcppStation,
}


def transport_for(spec: DeviceSpec) -> Transport:
    """An unopened transport for a concrete (non-``emu``) device."""
    if spec.link == "serial":
        assert spec.serial_port is not None
        return SerialTransport(spec.serial_port, baudrate=spec.int_param("baud", 9600))
    if spec.link == "tcp":
        assert spec.host is not None and spec.port is not None
        return TcpTransport(spec.host, spec.port)
    if spec.link == "udp":
        assert spec.host is not None and spec.port is not None
        return UdpTransport(spec.host, spec.port)
    if spec.link == "listen":
        return listener_for(spec)
    raise FrameworkError(f"no transport for {spec.link!r} links yet ({spec.masked})")


def client_for(spec: DeviceSpec) -> Device:
    """An unopened protocol client for a concrete device."""
    try:
        cls = CLIENTS[spec.protocol]
    except KeyError:
        raise FrameworkError(f"no {spec.protocol} client yet ({spec.masked})") from None
    device = cls(spec, transport_for(spec))
    if "control" in spec.params:
        device.control = HttpControl(spec.params["control"], timeout=device.reply_timeout)
    return device


__all__ = ["Device", "DeviceSpec", "client_for", "parse_device", "parse_devices"]
