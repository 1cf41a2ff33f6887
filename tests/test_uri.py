"""Device URI grammar: what parses to what, and the one-line error for what does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.devices.uri import mask_uri, parse_device, parse_devices
from conformance.errors import DeviceURIError


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (
            "visca+tcp://10.0.0.5:5678?address=2",
            {
                "protocol": "visca",
                "link": "tcp",
                "host": "10.0.0.5",
                "port": 5678,
                "params": {"address": "2"},
            },
        ),
        ("visca-ip://10.0.0.5", {"protocol": "visca-ip", "link": "udp", "port": 52381}),
        ("visca-ip://[::1]:1234", {"host": "::1", "port": 1234}),
        (
            "visca+serial://socket://127.0.0.1:7000?baud=115200",
            {
                "link": "serial",
                "serial_port": "socket://127.0.0.1:7000",
                "params": {"baud": "115200"},
            },
        ),
        ("visca+serial://loop://", {"serial_port": "loop://"}),
        ("pelco-p+tcp://h:4001?address=0", {"protocol": "pelco-p", "params": {"address": "0"}}),
        ("at+tcp://h:2000?module=bc26", {"protocol": "at", "params": {"module": "bc26"}}),
        (
            "ocpp+listen://0.0.0.0:9000?id=CS001&version=2.0.1",
            {"protocol": "ocpp", "link": "listen", "params": {"id": "CS001", "version": "2.0.1"}},
        ),
        (
            "emu:visca?fault=no_reply,slow_reply&fault=babble&model=CAM550",
            {
                "emulator": "visca",
                "faults": ("no_reply", "slow_reply", "babble"),
                "params": {"model": "CAM550"},
            },
        ),
        ("emu:bc26", {"protocol": "at", "params": {"module": "bc26"}}),
    ],
)
def test_valid_uris(uri: str, expected: dict[str, object]) -> None:
    spec = parse_device(uri)
    for key, value in expected.items():
        assert getattr(spec, key) == value, key


def test_serial_path_that_exists(tmp_path: Path) -> None:
    port = tmp_path / "ttyFAKE"
    port.touch()
    assert parse_device(f"visca+serial://{port}?address=7").serial_port == str(port)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("foo://x", "unknown scheme 'foo'"),
        ("visca+udp://h:1", "unknown scheme 'visca+udp'"),
        ("visca", "not a device URI"),
        ("", "empty URI"),
        ("visca+tcp://host", "missing port"),
        ("visca+tcp://:5678", "missing host"),
        ("visca+tcp://h:99999", "port"),
        ("visca+tcp://h:port", "malformed host or port"),
        ("visca+tcp://h:1?adress=1", "unknown parameter 'adress'"),
        ("visca+tcp://h:1?address=9", "address=9 is out of range 1..7"),
        ("visca+tcp://h:1?address=one", "is not a whole number"),
        ("visca+tcp://h:1?address=1&address=2", "given twice"),
        ("visca+tcp://h:1?timeout=-1", "timeout=-1 must be above 0 and at most 600"),
        ("visca+serial:///dev/not-here", "serial port /dev/not-here does not exist"),
        ("visca+serial://", "missing serial port"),
        ("visca+serial://loop://?baud=1234", "not a standard rate"),
        ("at+tcp://h:1?module=sim800", "module='sim800' is unknown"),
        ("ocpp+listen://0.0.0.0:9000", "missing id="),
        ("ocpp+listen://0.0.0.0:9000?id=CS1&version=1.6", "version='1.6' must be one of"),
        ("emu:", "name the emulator"),
        ("pelco-d+tcp://h:1?observe=foo://x", "observe=: --device 'foo://x': unknown scheme"),
        ("pelco-d+tcp://h:1?observe=emu:visca", "observe= takes a VISCA device URI"),
        ("emu:toaster", "unknown emulator 'toaster'"),
        ("emu:visca?speed=fast", "speed='fast' is not a number"),
    ],
)
def test_bad_uris_name_the_problem_in_one_line(uri: str, message: str) -> None:
    with pytest.raises(DeviceURIError) as info:
        parse_device(uri)
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_emu_expands_to_every_available_emulator() -> None:
    specs = parse_devices(["emu"], ["visca", "visca-ip"])
    assert [s.emulator for s in specs] == ["visca", "visca-ip"]


def test_same_device_twice_is_an_error() -> None:
    with pytest.raises(DeviceURIError, match="given twice"):
        parse_devices(["emu:visca", "emu"], ["visca"])


@pytest.mark.parametrize(
    ("uri", "secret"),
    [
        ("ocpp+listen://CS001:hunter2@0.0.0.0:9000?id=CS001", "hunter2"),
        ("ocpp+listen://0.0.0.0:9000?id=CS001&password=hunter2", "hunter2"),
        ("ocpp+listen://0.0.0.0:9000?id=CS001&PASSWORD=hunter2&x=1", "hunter2"),
    ],
)
def test_secrets_are_masked(uri: str, secret: str) -> None:
    masked = mask_uri(uri)
    assert secret not in masked
    assert "***" in masked


def test_speaks() -> None:
    assert parse_device("visca-ip://h").speaks == {"visca", "visca-ip"}
    assert parse_device("emu:visca").speaks == {"visca"}
    assert "ocpp2.1" in parse_device("ocpp+listen://h:1?id=A").speaks
