"""OCPP-J CALLs answered per second by the CSMS side the suites play: our
``OcppStation`` (parse, message-id rules, schema validation both ways,
transcript) against a bare ``websockets`` server that answers every frame
with a canned CALLRESULT (the baseline), same client, same run."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

from websockets.sync.client import connect
from websockets.sync.server import ServerConnection, serve

from conformance.devices import client_for, parse_device

CALLS = 2000
PAYLOAD = {
    "eventType": "Updated",
    "timestamp": "2026-01-01T00:00:00Z",
    "triggerReason": "MeterValuePeriodic",
    "seqNo": 1,
    "transactionInfo": {"transactionId": "tx-1", "chargingState": "Charging"},
    "meterValue": [
        {
            "timestamp": "2026-01-01T00:00:00Z",
            "sampledValue": [{"value": 1234.5, "measurand": "Energy.Active.Import.Register"}],
        }
    ],
}


def _client(url: str) -> float:
    with connect(url, subprotocols=["ocpp2.1"], open_timeout=5) as conn:  # type: ignore[list-item]
        conn.send(json.dumps([2, "boot", "BootNotification", {"reason": "PowerUp",
                              "chargingStation": {"model": "M", "vendorName": "V"}}]))  # fmt: skip
        conn.recv(timeout=5)
        start = time.perf_counter()
        for n in range(CALLS):
            conn.send(json.dumps([2, f"m{n}", "TransactionEvent", PAYLOAD]))
            conn.recv(timeout=5)
        return CALLS / (time.perf_counter() - start)


def _bare() -> float:
    def handler(conn: ServerConnection) -> None:
        for frame in conn:
            mid = json.loads(frame)[1]
            conn.send(json.dumps([3, mid, {}]))

    with serve(handler, "127.0.0.1", 0, subprotocols=["ocpp2.1"]) as server:  # type: ignore[list-item]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.socket.getsockname()[1]
        rate = _client(f"ws://127.0.0.1:{port}/CS1")
        server.shutdown()
    return rate


def _ours() -> float:
    device = client_for(parse_device("ocpp+listen://127.0.0.1:1?id=CS1"))
    device.listener.port = 0  # type: ignore[attr-defined]
    port = device.listen()  # type: ignore[attr-defined]
    result: list[float] = []
    client = threading.Thread(target=lambda: result.append(_client(f"ws://127.0.0.1:{port}/CS1")))
    client.start()
    device.open()
    client.join(120)
    device.close()
    return result[0]


def run() -> Iterator[tuple[str, float, float]]:
    yield "OCPP-J TransactionEvent CALLs/s", _bare(), _ours()
