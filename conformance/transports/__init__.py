"""Transports: serial, TCP, UDP and WebSocket links with deadlines on every read."""

from conformance.transports.base import Deadline, Transport
from conformance.transports.serial import SerialTransport
from conformance.transports.tcp import TcpTransport
from conformance.transports.udp import UdpTransport
from conformance.transports.websocket import WebSocketClient, WebSocketListener

__all__ = [
    "Deadline",
    "SerialTransport",
    "TcpTransport",
    "Transport",
    "UdpTransport",
    "WebSocketClient",
    "WebSocketListener",
]
