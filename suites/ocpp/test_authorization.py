"""C Authorization: C01 (RFID), C02 (start button), C04 (PIN-code) seen from
the CSMS, after the Part 6 test cases TC_C_02/04/06/07/56_CS and TC_E_03_CS.

Not tested here, and why:

* C01.FR.03 (b): a token of the same group from the Authorization Cache or
  Local Authorization List ending the authorization needs a prepared cache or
  list: C09/C12/C14.
* C01.FR.05, C04.FR.03: optional behaviour (MAY).
* C01.FR.06, .07, .18-.20, .22, .24, C02.FR.02, C04.FR.01, .02, .05: CSMS-side
  requirements (the tester plays the CSMS).
* C01.FR.08, .09, .12, .13 (languages shown to the driver), C04.FR.04 (key
  codes kept out of the station's logs), C04.FR.06 (brute-force measures):
  not observable from the CSMS.
* C01.FR.10, .11, .17: constrain the language fields the CSMS sends.
* C01.FR.23: SHOULD NOT, about a transaction that lost its authorization: E05.
* C01.FR.25: what the driver presents carries no additionalInfo a test could
  vary; the suite compares tokens that way (:func:`same_token`).
* C02.FR.03: the content of the Authorization Cache is not observable.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from conformance.devices.ocpp import OcppStation
from conformance.errors import Finding
from conformance.ocpp.actions import Actions
from suites.ocpp.common import (
    CONNECTOR,
    EVSE,
    INVALID_TOKEN,
    OTHER_TOKEN,
    PIN_TOKEN,
    REACT,
    VALID_TOKEN,
    Settings,
    Tx,
    expect_authorize,
    expect_availability,
    present,
    quiet,
    same_token,
    within,
)

pytestmark = [pytest.mark.protocol("ocpp"), pytest.mark.feature("C Authorization")]

#: EVConnectionTimeOut (s) the C01.FR.26 test sets
EV_CONNECTION_TIMEOUT = 10
NO_AUTHORIZATION = {"idToken": "", "type": "NoAuthorization"}


@pytest.fixture
def online_authorization(station_settings: Settings) -> Iterator[Settings]:
    """Part 6 configuration state of the C tests: authorization on, remote
    authorization allowed, no local pre-authorization (where implemented), and
    an empty Authorization Cache, so every presented token is sent (C01.FR.02)."""
    settings = station_settings
    taken = settings.set("AuthCtrlr", "Enabled", "true", required=False)
    if not taken and settings.get("AuthCtrlr", "Enabled") == "false":
        pytest.skip("AuthCtrlr.Enabled is false and the station keeps it so")
    settings.set("AuthCtrlr", "DisableRemoteAuthorization", "false", required=False)
    settings.set("AuthCtrlr", "LocalPreAuthorize", "false", required=False)
    settings.station.call("ClearCache", {}, allow_error=True)
    yield settings


def charging(p: dict[str, Any]) -> bool:
    return p.get("transactionInfo", {}).get("chargingState") == "Charging"


def carries(token: dict[str, Any]) -> Any:
    return lambda p: same_token(p.get("idToken"), token)


def expect_no_energy(
    station: OcppStation, token: dict[str, Any], *, requirement: str, why: str
) -> None:
    """For the quiet period: no TransactionEvent with *token* and none that
    reports chargingState Charging at the EVSE (energy offered)."""
    __tracebackhide__ = True
    station.expect_none(
        "TransactionEvent",
        lambda p: (p.get("evse", {}).get("id", EVSE) == EVSE and charging(p)) or carries(token)(p),
        within=quiet(station),
        requirement=requirement,
        expected=f"no TransactionEventRequest with idToken {token['idToken']!r} and none "
        f"with chargingState Charging, since {why}",
    )


@pytest.mark.story("C01 EV Driver Authorization using RFID")
@pytest.mark.requirement("C01.FR.01", "C01.FR.02")
def test_c01_fr_02_rfid_is_authorized_before_energy_is_offered(
    online_authorization: Settings, ev_connected_pre_session: Tx, act: Actions
) -> None:
    """No energy on plug-in alone; the presented card is sent in an
    AuthorizeRequest, and energy flows once it is Accepted (TC_E_03_CS)."""
    station = ev_connected_pre_session.station
    expect_no_energy(
        station, VALID_TOKEN, requirement="C01.FR.01", why="no idToken was presented yet"
    )
    present(act, VALID_TOKEN)
    expect_authorize(station, VALID_TOKEN)
    ev_connected_pre_session.expect(
        where=charging, within=within(station, REACT), requirement="C01.FR.01"
    )


@pytest.mark.story("C01 EV Driver Authorization using RFID")
@pytest.mark.requirement("C01.FR.01", "C01.FR.02")
@pytest.mark.parametrize("status", ["Invalid", "Unknown", "Blocked", "Expired"])
def test_c01_fr_01_rejected_idtoken_gets_no_energy(
    online_authorization: Settings, ev_connected_pre_session: Tx, act: Actions, status: str
) -> None:
    """An idToken the CSMS answers with a status other than Accepted starts no
    charging and goes into no TransactionEvent (TC_C_02/56/06/07_CS)."""
    station = ev_connected_pre_session.station
    station.csms.tokens[INVALID_TOKEN["idToken"]] = status
    present(act, INVALID_TOKEN)
    expect_authorize(station, INVALID_TOKEN)
    expect_no_energy(
        station,
        INVALID_TOKEN,
        requirement="C01.FR.01",
        why=f"the CSMS answered the AuthorizeRequest with {status}",
    )


@pytest.mark.story("C01 EV Driver Authorization using RFID")
@pytest.mark.requirement("C01.FR.03")
def test_c01_fr_03_same_idtoken_ends_the_authorization_without_authorize(
    online_authorization: Settings, energy_transfer_started: Tx, act: Actions
) -> None:
    """Presenting the starting idToken again ends the authorization
    (StopAuthorized) without an AuthorizeRequest first (TC_E_06_CS)."""
    tx = energy_transfer_started
    station = tx.station
    since = present(act, VALID_TOKEN)
    tx.expect(trigger="StopAuthorized", within=within(station, REACT), requirement="C01.FR.03")
    asked = [e for e in station.received("Authorize") if e.at >= since]
    if asked:
        raise Finding(
            "station sent an AuthorizeRequest for the idToken that started the authorization",
            requirement="C01.FR.03",
            received=asked[0].frame,
            expected="authorization ended without an AuthorizeRequest",
        )


@pytest.mark.story("C01 EV Driver Authorization using RFID")
@pytest.mark.requirement("C01.FR.02", "C01.FR.03")
def test_c01_fr_03_other_idtoken_does_not_end_the_authorization(
    online_authorization: Settings, energy_transfer_started: Tx, act: Actions
) -> None:
    """A different idToken, unknown locally, is sent for authorization and
    neither joins nor ends the running transaction (TC_C_04_CS)."""
    tx = energy_transfer_started
    station = tx.station
    present(act, OTHER_TOKEN)
    expect_authorize(station, OTHER_TOKEN)
    station.expect_none(
        "TransactionEvent",
        lambda p: (
            carries(OTHER_TOKEN)(p)
            or (
                p["transactionInfo"]["transactionId"] == tx.transaction_id
                and (p["eventType"] == "Ended" or p["triggerReason"] == "StopAuthorized")
            )
        ),
        within=quiet(station),
        requirement="C01.FR.03",
        expected="the transaction goes on: no TransactionEventRequest with the other idToken, "
        "no StopAuthorized or Ended",
    )


@pytest.mark.story("C01 EV Driver Authorization using RFID")
@pytest.mark.requirement("C01.FR.21")
def test_c01_fr_21_charging_only_at_the_evses_the_csms_allows(
    online_authorization: Settings, ev_connected_pre_session: Tx, act: Actions
) -> None:
    """An idToken Accepted with an evseId list that leaves out this EVSE
    starts no charging on it."""
    station = ev_connected_pre_session.station
    elsewhere = EVSE + 1

    def answer(call: Any) -> dict[str, Any]:
        if same_token(call.payload["idToken"], VALID_TOKEN):
            return {"idTokenInfo": {"status": "Accepted", "evseId": [elsewhere]}}
        return {"idTokenInfo": station.csms.id_token_info(call.payload["idToken"])}

    with station.answering("Authorize", answer):
        present(act, VALID_TOKEN)
        expect_authorize(station, VALID_TOKEN)
        expect_no_energy(
            station,
            VALID_TOKEN,
            requirement="C01.FR.21",
            why=f"the CSMS allowed the idToken at EVSE {elsewhere} only",
        )


@pytest.mark.story("C01 EV Driver Authorization using RFID")
@pytest.mark.requirement("C01.FR.26")
def test_c01_fr_26_authorization_ends_at_the_ev_connection_timeout(
    online_authorization: Settings, settled: OcppStation, act: Actions
) -> None:
    """An idToken authorized without a cable plugged in before
    EVConnectionTimeOut no longer allows charging when the cable comes
    (TC_E_39_CS, with a start point after authorization)."""
    settings = online_authorization
    settings.set("TxCtrlr", "TxStartPoint", "PowerPathClosed")
    settings.set("TxCtrlr", "EVConnectionTimeOut", str(EV_CONNECTION_TIMEOUT))
    present(act, VALID_TOKEN)
    expect_authorize(settled, VALID_TOKEN)
    settled.expect_none(  # the timeout runs out; no transaction may start meanwhile
        "TransactionEvent",
        lambda p: charging(p) or carries(VALID_TOKEN)(p),
        within=quiet(settled, 2 * EV_CONNECTION_TIMEOUT),
        requirement="C01.FR.26",
        expected="no transaction before the cable is plugged in (TxStartPoint PowerPathClosed)",
    )
    act.plug(evse=EVSE, connector=CONNECTOR)
    expect_availability(settled, "Occupied", requirement="G01.FR.01")
    expect_no_energy(
        settled,
        VALID_TOKEN,
        requirement="C01.FR.26",
        why=f"the cable came after EVConnectionTimeOut ({EV_CONNECTION_TIMEOUT} s)",
    )


@pytest.mark.story("C02 Authorization using a start button")
@pytest.mark.requirement("C02.FR.01", "C01.FR.04")
def test_c02_fr_01_start_button_reports_no_authorization_idtoken(
    station_settings: Settings, settled: OcppStation, act: Actions
) -> None:
    """A transaction started with the start button carries idToken "" of type
    NoAuthorization, and nothing is sent for authorization (C02 scenario with
    TxStartPoint EVConnected)."""
    station_settings.set("TxCtrlr", "TxStartPoint", "EVConnected")
    tx = Tx(settled, EVSE)
    act.plug(evse=EVSE, connector=CONNECTOR)
    expect_availability(settled, "Occupied", requirement="G01.FR.01")
    tx.expect("Started", within=within(settled, REACT), requirement="E01.FR.02")
    since = time.monotonic()
    act.press_start(evse=EVSE)
    started = tx.expect(
        where=lambda p: "idToken" in p, within=within(settled, REACT), requirement="C02.FR.01"
    )
    token = started["idToken"]
    if not same_token(token, NO_AUTHORIZATION):
        raise Finding(
            f"the start button's transaction carries idToken {token}",
            requirement="C02.FR.01",
            received=tx.events[-1].frame,
            expected=f"idToken {NO_AUTHORIZATION}",
        )
    asked = [e for e in settled.received("Authorize") if e.at >= since]
    if asked:
        raise Finding(
            "station sent an AuthorizeRequest for a start-button press",
            requirement="C01.FR.04",
            received=asked[0].frame,
            expected="AuthorizeRequest only for an identifier",
        )
    if not charging(started):
        tx.expect(where=charging, within=within(settled, REACT), requirement="C02.FR.01")


@pytest.mark.story("C04 Authorization using PIN-code")
@pytest.mark.requirement("C01.FR.02", "E01.FR.10")
def test_c04_c01_fr_02_pin_code_is_authorized_as_key_code(
    online_authorization: Settings, ev_connected_pre_session: Tx, act: Actions
) -> None:
    """An entered PIN-code goes to the CSMS as idToken type KeyCode; once
    Accepted it is the transaction's idToken and energy flows."""
    tx = ev_connected_pre_session
    station = tx.station
    present(act, PIN_TOKEN)
    expect_authorize(station, PIN_TOKEN)
    tx.expect(where=carries(PIN_TOKEN), within=within(station, REACT), requirement="E01.FR.10")
    if not charging(tx.events[-1].payload):
        tx.expect(where=charging, within=within(station, REACT), requirement="C01.FR.01")


@pytest.mark.story("C04 Authorization using PIN-code")
@pytest.mark.requirement("C01.FR.01", "C01.FR.02")
def test_c04_c01_fr_01_invalid_pin_code_gets_no_energy(
    online_authorization: Settings, ev_connected_pre_session: Tx, act: Actions
) -> None:
    """A PIN-code the CSMS answers Invalid starts no charging (TC_C_02_CS with
    a key code)."""
    station = ev_connected_pre_session.station
    station.csms.tokens[PIN_TOKEN["idToken"]] = "Invalid"
    present(act, PIN_TOKEN)
    expect_authorize(station, PIN_TOKEN)
    expect_no_energy(
        station,
        PIN_TOKEN,
        requirement="C01.FR.01",
        why="the CSMS answered the key code Invalid",
    )
