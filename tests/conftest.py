"""Shared helpers for the framework's own tests."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from conformance.emulators.hosting import EmulatorHost

# Timing belongs in benchmarks: no per-example deadline, which a loaded CI
# machine would turn into spurious failures.
settings.register_profile("conformance", deadline=None)
settings.load_profile("conformance")


def allure_results(directory: Path) -> list[dict[str, Any]]:
    """The test results Allure-pytest wrote into *directory*."""
    return [json.loads(p.read_text()) for p in sorted(directory.glob("*-result.json"))]


def labels(result: dict[str, Any], name: str) -> list[str]:
    return [label["value"] for label in result.get("labels", []) if label["name"] == name]


@pytest.fixture
def closed_port() -> int:
    """A TCP/UDP port on loopback that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def host() -> Iterator[EmulatorHost]:
    """An emulator host for the test, closed at teardown."""
    host = EmulatorHost().start()
    try:
        yield host
    finally:
        host.close()
