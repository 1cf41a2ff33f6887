"""Reusable states of a charging station as fixtures, after the reusable
states of the OCPP 2.0.1 Part 6 test cases (Booted, EVConnectedPreSession,
Authorized, EnergyTransferStarted...).

Physical steps go through :class:`conformance.ocpp.actions.Actions`: the
control API, the operator (``--operator=prompt``) or a skip naming the step.
Every state is reached by driving the station and waiting, with a deadline,
for the messages that prove it; a station that never sends them fails the
test with a timeout finding.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from conformance.devices.ocpp import OcppStation
from conformance.ocpp.actions import Actions
from conformance.operator import Operator
from suites.ocpp.common import (
    CONNECTOR,
    EVSE,
    VALID_TOKEN,
    AvailabilityChanges,
    Settings,
    Tx,
    after_boot,
    back_to_idle,
    expect_availability,
    forget_earlier,
    within,
)

#: emulated seconds a station may take to boot and register after power-up
BOOT_TIME = 60.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "ocpp_since(version): requirement marked (2.1) in Part 2; skipped for 2.0.1"
    )


@pytest.fixture(autouse=True)
def _ocpp_version_gate(request: pytest.FixtureRequest) -> None:
    mark = request.node.get_closest_marker("ocpp_since")
    if mark is None or "device" not in request.fixturenames:
        return
    spec = getattr(request.node, "callspec", None)
    param = spec.params.get("device") if spec is not None else None
    version = getattr(param, "params", {}).get("version", "2.1") if param is not None else "2.1"
    if version == "2.0.1" and mark.args[0] == "2.1":
        pytest.skip("requirement added in OCPP 2.1; the station speaks 2.0.1")


@pytest.fixture
def act(device: OcppStation, request: pytest.FixtureRequest) -> Iterator[Actions]:
    """Physical actions at the station (cable, card, buttons, network, power);
    after the test, what they left in place is undone (:func:`back_to_idle`)."""
    prompt = request.config.getoption("operator", "skip") == "prompt"
    actions = Actions(device.control, Operator(request.config) if prompt else None)
    yield actions
    if actions.automatic:
        back_to_idle(device, actions)


@pytest.fixture
def station(device: OcppStation) -> OcppStation:
    """The station, connected: waits for one that is rebooting or reconnecting."""
    if not device.connected:
        device.wait_connected(within(device, BOOT_TIME), requirement="B01.FR.03")
    return device


@pytest.fixture
def booted(station: OcppStation) -> OcppStation:
    """State Booted: registration Accepted by us (B01)."""
    was_accepted = station.accepted
    station.wait_for(
        lambda: station.accepted,
        within=within(station, BOOT_TIME),
        what="BootNotification accepted (registration Accepted)",
        requirement="B01.FR.01",
    )
    booted_at = station.last_boot_at
    recent = booted_at is not None and time.monotonic() - booted_at < station.seconds(10) + 1
    if station.boots or not was_accepted or recent:  # it (re)booted just now
        after_boot(station)
        station.wait_quiet(max(0.3, station.seconds(1.0)), within(station, 10))
        forget_earlier(station)
    return station


@pytest.fixture
def ev_connected_pre_session(booted: OcppStation, act: Actions) -> Iterator[Tx]:
    """State EVConnectedPreSession: cable plugged in at EVSE 1, no energy yet.
    The connector reports Occupied (G01.FR.01, availability per B01.FR.05)."""
    tx = Tx(booted, EVSE)
    act.plug(evse=EVSE, connector=CONNECTOR)
    expect_availability(booted, "Occupied", requirement="G01.FR.01")
    yield tx


@pytest.fixture
def energy_transfer_started(ev_connected_pre_session: Tx, act: Actions) -> Tx:
    """State EnergyTransferStarted: EV connected, valid idToken presented,
    energy flowing (a TransactionEvent with chargingState Charging)."""
    tx = ev_connected_pre_session
    act.present_token(id_token=VALID_TOKEN["idToken"], type=VALID_TOKEN["type"], evse=EVSE)
    tx.expect(
        where=lambda p: p.get("transactionInfo", {}).get("chargingState") == "Charging",
        within=within(tx.station, 10),
        requirement="E01.FR.05",
    )
    return tx


@pytest.fixture
def station_settings(booted: OcppStation) -> Iterator[Settings]:
    """Device-model variables the test sets (SetVariables, B05), put back after it."""
    settings = Settings(booted)
    yield settings
    settings.restore()


@pytest.fixture
def availability(booted: OcppStation) -> Iterator[AvailabilityChanges]:
    """ChangeAvailabilityRequests of the test (G03, G04); whatever it made
    Inoperative is set Operative again after it (the setting persists, G03.FR.08)."""
    changes = AvailabilityChanges(booted)
    yield changes
    changes.restore()


@pytest.fixture
def settled(booted: OcppStation) -> OcppStation:
    """State Booted, and the station has sent what it sends once Accepted (the
    availability reports of B01.FR.05) when it booted just now: a physical action
    right after the BootNotificationResponse could otherwise overtake it."""
    after_boot(booted)
    return booted
