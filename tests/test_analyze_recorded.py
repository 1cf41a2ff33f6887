"""A capture recorded on loopback, not built by the tests: our suites against a
standalone camera emulator (VISCA over IP on UDP 52381, raw VISCA on TCP 5678) and
a standalone charging station dialling the suites' CSMS (OCPP 2.1, TCP 9000, real
kernel TCP and the websockets library's permessage-deflate with 12-bit windows).

The emulators are clean, so every violation in it is one of the suites' deliberate
probes, filed under the controller; the camera and the station break nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from conformance.analyze import analyze
from conformance.analyze.allure import write_results
from conformance.analyze.model import CAMERA, CONTROLLER, VIOLATION

RECORDED = Path(__file__).parent / "data/captures/suites-vs-emulators.pcapng"


def test_recorded_capture_blames_only_the_suites_probes(tmp_path: Path) -> None:
    a = analyze(RECORDED)

    assert a.format == "pcapng"
    assert a.failing() == []
    assert a.violations_by_party() == {CONTROLLER: len(a.violations)}
    probes = {f.check for f in a.violations}
    # the suites' sequence, header and table probes, each rightly refused by the camera
    assert {"visca-ip.sequence-after-reset", "visca-ip.payload-type", "visca-ip.length"} <= probes
    refusals = [f for f in a.findings if f.party == CAMERA]
    assert refusals and all(f.kind != VIOLATION for f in refusals)

    by_protocol: dict[str, list] = {}
    for conv in a.conversations.values():
        if conv.messages:
            by_protocol.setdefault(conv.protocol, []).append(conv)
    assert set(by_protocol) == {"visca-ip", "visca-tcp", "ocpp"}
    for conv in by_protocol["ocpp"]:
        assert conv.details["subprotocol"] == "ocpp2.1"
        assert conv.details["deflate"] is True
        assert conv.requests == conv.replies  # every CALL answered
    assert sum(c.details.get("transactions", 0) for c in by_protocol["ocpp"]) >= 10
    assert all(c.latency.count for convs in by_protocol.values() for c in convs)


def test_recorded_capture_as_allure_results(tmp_path: Path) -> None:
    written = write_results(analyze(RECORDED), tmp_path)
    results = [json.loads(p.read_text()) for p in written if p.name.endswith("-result.json")]
    assert len(results) == 5  # the refused dial-ups before the CSMS listened are left out
    assert {r["status"] for r in results} == {"passed"}
    probed = [r for r in results if "by the controller" in r["statusDetails"]["message"]]
    assert probed  # listed, not failing
