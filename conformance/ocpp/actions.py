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
        #: (action, arguments) performed so far, for the clean-up after a test
        self.done: list[tuple[str, dict[str, Any]]] = []

    @property
    def automatic(self) -> bool:
        """True when actions happen without a person (control API)."""
        return self.control is not None

    def __getattr__(self, name: str) -> Any:
        if name not in PROMPTS:
            raise AttributeError(name)

        def act(**kwargs: Any) -> Any:
            self.done.append((name, {**DEFAULTS, **kwargs}))
            if self.control is not None:
                return getattr(self.control, name)(**kwargs)
            text = PROMPTS[name].format_map({**DEFAULTS, **kwargs})
            if self.operator is None:
                pytest.skip(f"needs operator action: {text}")
            self.operator.ask(text)
            return None

        return act

    def outstanding(self) -> dict[str, list[dict[str, Any]]]:
        """What the test left in place, to undo: cables still plugged, lock
        failures still on, the network still cut, EVs still suspended."""
        plugged: dict[tuple[int, int], dict[str, Any]] = {}
        locks: dict[tuple[int, int], dict[str, Any]] = {}
        suspended: dict[int, dict[str, Any]] = {}
        offline: list[dict[str, Any]] = []
        for name, args in self.done:
            where = (args["evse"], args["connector"])
            if name == "plug":
                plugged[where] = args
            elif name == "unplug":
                plugged.pop(where, None)
                suspended.pop(args["evse"], None)
            elif name == "lock_failure":
                if args["on"]:
                    locks[where] = args
                else:
                    locks.pop(where, None)
            elif name == "ev_suspend":
                suspended[args["evse"]] = args
            elif name == "ev_resume":
                suspended.pop(args["evse"], None)
            elif name == "go_offline":
                offline = [args]
            elif name in ("go_online", "power_cycle"):
                offline = []
        return {
            "plugged": list(plugged.values()),
            "locks": list(locks.values()),
            "suspended": list(suspended.values()),
            "offline": offline,
        }
