"""Reusable module states as fixtures: configured, registered (direct push or
buffer access).  Platform-side steps (observe, downlink) need an IoT platform:
the emulator's control API, or none on a real module (those tests skip)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conformance.devices.at import AtDevice
from conformance.errors import Finding
from dissectors import bc26

SERVER = ('"180.101.147.115"', "5683")  # the manual's example platform (§3.1)
ENDPOINT = '"866971030001361"'  # the manual's example endpoint name (§3.2)
OBJECTS = ('19,0,1,"0"', '19,1,1,"0"')  # §5.1: /19/0/0 and /19/1/0


def ref(name: str) -> str:
    return bc26.COMMANDS[name].ref


def server(device: AtDevice) -> tuple[str, str]:
    given = device.spec.params.get("server")
    if not given:
        return SERVER
    host, _, port = given.rpartition(":")
    return f'"{host}"', port


def platform(device: AtDevice) -> Any:
    """The IoT platform side, or a skip naming what is missing."""
    if device.control is None:
        pytest.skip("needs an IoT platform to act (observe, downlink, ACK control); only the "
                    "built-in emulator (emu:bc26) provides one so far")  # fmt: skip
    return device.control


def open_and_connect(device: AtDevice, mode: int) -> None:
    device.expect_final(f"AT+QLWOPEN={mode}", "OK")
    result = device.wait_for(("CONNECT OK", "CONNECT FAIL"), ref=ref("QLWOPEN"))
    if result != "CONNECT OK":
        raise Finding("registration failed", requirement=ref("QLWOPEN"), received=result,
                      expected="CONNECT OK")  # fmt: skip


@pytest.fixture
def configured(device: AtDevice) -> Iterator[AtDevice]:
    """Platform address, endpoint name and the §5.1 objects set (§3.1-§3.3)."""
    host, port = server(device)
    device.expect_final(f"AT+QLWSERV={host},{port}", "OK")
    name = device.spec.params.get("endpoint")
    device.expect_final(f'AT+QLWCONF="{name}"' if name else f"AT+QLWCONF={ENDPOINT}", "OK")
    for obj in OBJECTS:
        device.expect_final(f"AT+QLWADDOBJ={obj}", "OK")
    device.expect_final('AT+QLWCFG="dataformat",1,1', "OK")  # hex, as the §5 examples
    yield device
    try:
        device.command("AT+QLWDEL")
    except Finding:
        device.settle()
