"""P01 Data Transfer to the Charging Station and P02 Data Transfer to the CSMS (OCPP
2.1 Part 2 §P "DataTransfer"; OCPP 2.0.1 Part 6 TC_P_01_CS, TC_P_02_CSMS).

The vendorId the suite sends is one no station implements, so the station must
answer it as unknown (the TC_P_01_CS prerequisite).

Not tested here:

* P01.FR.06: UnknownMessageId needs a vendorId the station implements, which no
  requirement names.
* P01.FR.01/P02.FR.02, P01.FR.07/P02.FR.08: vendor agreements, not observable.
* P01.FR.02-FR.04, P02.FR.03-FR.05: recommendations (SHOULD/MAY).
* P02.FR.06, P02.FR.07: the CSMS's answer (this suite answers UnknownVendorId).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.devices.ocpp import OcppStation
from conformance.expect import expect
from conformance.ocpp.actions import Actions
from suites.ocpp.common import within

pytestmark = [pytest.mark.protocol("ocpp"), pytest.mark.feature("P DataTransfer")]

#: a vendorId in the reversed-DNS form (P01.FR.02) that no station implements
UNKNOWN_VENDOR = "org.openchargealliance.conformance.unknown"
VENDOR = "org.openchargealliance.conformance"
MESSAGE_ID = "ConformanceTest"
DATA = {"probe": 1, "text": "conformance"}


@pytest.mark.story("P01 Data Transfer to the Charging Station")
@pytest.mark.requirement("P01.FR.05")
@pytest.mark.parametrize(
    "request_payload",
    [
        {"vendorId": UNKNOWN_VENDOR},
        {"vendorId": UNKNOWN_VENDOR, "messageId": MESSAGE_ID, "data": DATA},
    ],
    ids=["vendor-only", "with-message-and-data"],
)
def test_p01_fr_05_unknown_vendor_is_answered_unknown_vendor_id(
    settled: OcppStation, request_payload: dict[str, Any]
) -> None:
    """DataTransfer with a vendorId the station does not implement: status
    UnknownVendorId (TC_P_01_CS)."""
    answer = settled.call("DataTransfer", request_payload, requirement="P01.FR.05")
    expect(
        answer.get("status") == "UnknownVendorId",
        f"DataTransfer for vendorId {UNKNOWN_VENDOR!r} answered {answer.get('status')}",
        requirement="P01.FR.05",
        received=json.dumps(answer),
        expected="status UnknownVendorId",
    )


@pytest.mark.story("P02 Data Transfer to the CSMS")
@pytest.mark.requirement("P02.FR.01")
def test_p02_fr_01_station_data_transfer_names_its_vendor(
    settled: OcppStation, act: Actions
) -> None:
    """The station's own DataTransferRequest carries the vendorId (and messageId and
    data) of the vendor-specific function that sent it (TC_P_02_CSMS, seen from the
    station's side)."""
    station = settled
    act.send_data_transfer(vendor_id=VENDOR, message_id=MESSAGE_ID, data=DATA)
    request = station.expect("DataTransfer", within=within(station, 10), requirement="P02.FR.01")
    got = request.payload
    expect(
        bool(got.get("vendorId")),
        "DataTransferRequest without a vendorId",
        requirement="P02.FR.01",
        received=request.frame,
        expected="the vendorId of the vendor-specific implementation",
    )
    if not act.automatic:
        return  # an operator's station sends its own vendorId, messageId and data
    expect(
        (got.get("vendorId"), got.get("messageId"), got.get("data")) == (VENDOR, MESSAGE_ID, DATA),
        f"DataTransferRequest vendorId {got.get('vendorId')!r} messageId "
        f"{got.get('messageId')!r} data {got.get('data')!r}",
        requirement="P02.FR.01",
        received=request.frame,
        expected=f"vendorId {VENDOR!r}, messageId {MESSAGE_ID!r}, data {DATA}",
    )
