"""Serial link through pyserial: a device path or any pyserial URL
(``socket://``, ``rfc2217://``, ``loop://``)."""

from __future__ import annotations

import serial

from conformance.errors import DeviceUnreachable
from conformance.transcript import Transcript
from conformance.transports.base import DEFAULT_TIMEOUT, Transport


class SerialTransport(Transport):
    kind = "stream"

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 9600,
        timeout: float = DEFAULT_TIMEOUT,
        transcript: Transcript | None = None,
    ) -> None:
        super().__init__(timeout=timeout, transcript=transcript)
        self.port = port
        self.baudrate = baudrate
        self._serial: serial.SerialBase | None = None

    @property
    def address(self) -> str:
        return f"serial {self.port} @ {self.baudrate} baud"

    def open(self) -> None:
        try:
            self._serial = serial.serial_for_url(
                self.port,
                baudrate=self.baudrate,
                bytesize=serial.EIGHTBITS,
                parity=serial.PARITY_NONE,
                stopbits=serial.STOPBITS_ONE,
                timeout=self.timeout,
                write_timeout=self.timeout,
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise DeviceUnreachable(f"cannot open {self.address}: {exc}") from exc

    def close(self) -> None:
        if self._serial is not None:
            self._serial.close()
            self._serial = None

    def _port(self) -> serial.SerialBase:
        if self._serial is None:
            raise DeviceUnreachable(f"{self.address} is not open")
        return self._serial

    def _write(self, data: bytes | str) -> None:
        port = self._port()
        payload = data.encode() if isinstance(data, str) else data
        try:
            port.write(payload)
            port.flush()
        except serial.SerialTimeoutException as exc:
            raise DeviceUnreachable(f"{self.address}: write timed out") from exc
        except serial.SerialException as exc:
            raise OSError(str(exc)) from exc

    def _read(self, timeout: float) -> bytes | None:
        port = self._port()
        try:
            port.timeout = max(timeout, 0.0)
            data = port.read(1)
            if not data:
                return None
            port.timeout = 0
            return data + port.read(port.in_waiting or 0)
        except serial.SerialException as exc:
            raise OSError(str(exc)) from exc
