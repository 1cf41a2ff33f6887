"""What a person or an EV does at a charging station, for the suites.

Each action goes through the station's control API when the device has one
(the built-in emulator, or ``control=`` in the URI); otherwise the operator is
asked (``--operator=prompt``); otherwise the test is skipped with
"needs operator action: ...".  Names and arguments are those of the control API
of :class:`conformance.emulators.ocpp.OcppStationEmulator`.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.operator import Operator

#: action -> what the operator is asked to do
PROMPTS: dict[str, str] = {
    "plug": "plug the EV cable into EVSE {evse} connector {connector}",
    "unplug": "unplug the EV cable at the EV side from EVSE {evse} connector {connector}",
    "present_token": "present idToken {id_token} ({type}) at EVSE {evse}",
    "press_start": "press the start button of EVSE {evse}",
    "press_stop": "press the stop button of EVSE {evse}",
    "ev_suspend": "make the EV at EVSE {evse} stop drawing energy",
    "ev_resume": "make the EV at EVSE {evse} draw energy again",
    "lock_failure": "make the cable lock of EVSE {evse} connector {connector} fail "
    "(on={on}), then plug the cable in",
    "go_offline": "cut the station's network connection to the CSMS",
    "go_online": "restore the station's network connection",
    "power_cycle": "switch the station off and on again",
    "raise_alert": "make {component}.{variable} reach {value} (a preconfigured monitor)",
    "send_data_transfer": "make the station send DataTransfer vendorId={vendor_id}",
}
DEFAULTS: dict[str, Any] = {"evse": 1, "connector": 1, "type": "ISO14443", "on": True}


class Actions:
    def __init__(self, control: Any, operator: Operator | None) -> None:
        self.control = control
        self.operator = operator

    @property
    def automatic(self) -> bool:
        """True when actions happen without a person (control API)."""
        return self.control is not None

    def __getattr__(self, name: str) -> Any:
        if name not in PROMPTS:
            raise AttributeError(name)

        def act(**kwargs: Any) -> Any:
            if self.control is not None:
                return getattr(self.control, name)(**kwargs)
            text = PROMPTS[name].format_map({**DEFAULTS, **kwargs})
            if self.operator is None:
                pytest.skip(f"needs operator action: {text}")
            self.operator.ask(text)
            return None

        return act
