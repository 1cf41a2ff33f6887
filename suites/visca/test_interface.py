"""Interface commands: IF_Clear, IF_Clear(broadcast) and Version_Inq
(AVer VISCA spec rev 3.4, §3.2.1)."""

from __future__ import annotations

import pytest

from conformance.devices.visca import ViscaDevice
from conformance.expect import expect, expect_bytes, expect_within
from dissectors import visca
from dissectors.visca_table import BY_NAME

pytestmark = [pytest.mark.protocol("visca"), pytest.mark.feature("Interface")]

IF_CLEAR = BY_NAME["IF_Clear"]
IF_CLEAR_BROADCAST = BY_NAME["IF_Clear(broadcast)"]
VERSION_INQ = BY_NAME["Version_Inq"]


@pytest.mark.story("IF_Clear")
@pytest.mark.requirement(IF_CLEAR.ref)
def test_if_clear_is_answered(device: ViscaDevice) -> None:
    """``8x 01 00 01 FF`` is answered ``y0 50 FF`` from the addressed camera."""
    request = device.build("IF_Clear")
    (reply,) = device.request(request, requirement=IF_CLEAR.ref)
    expect_bytes(
        reply.data,
        visca.build_reply(IF_CLEAR, device.address),
        requirement=IF_CLEAR.ref,
        sent=request,
    )
    expect_within(
        reply.latency,
        device.reply_timeout,
        requirement=IF_CLEAR.ref,
        sent=request,
        received=reply.data,
    )


@pytest.mark.story("IF_Clear(broadcast)")
@pytest.mark.requirement(IF_CLEAR_BROADCAST.ref)
def test_if_clear_broadcast_is_returned(device: ViscaDevice) -> None:
    """``88 01 00 01 FF`` comes back unchanged."""
    request = visca.build("IF_Clear(broadcast)")
    (reply,) = device.request(request, requirement=IF_CLEAR_BROADCAST.ref)
    expect_bytes(
        reply.data,
        request,
        requirement=IF_CLEAR_BROADCAST.ref,
        sent=request,
        what="echo of the broadcast",
    )


@pytest.mark.story("Version_Inq")
@pytest.mark.requirement(VERSION_INQ.ref)
def test_version_inq_reports_identity(device: ViscaDevice) -> None:
    """``8x 09 00 02 FF`` is answered ``y0 50 GG GG HH HH JJ JJ KK FF``."""
    request = device.build("Version_Inq")
    (reply,) = device.request(request, requirement=VERSION_INQ.ref)
    y0 = visca.reply_address(device.address)
    expect(
        reply.decoded.name == "Version_Inq reply" and reply.data[0] == y0,
        "not a Version_Inq answer from the addressed camera",
        requirement=VERSION_INQ.ref,
        sent=request,
        received=reply.data,
        expected=f"y0 50 GG GG HH HH JJ JJ KK FF with y0 = {y0:02X}",
    )
    expect_within(
        reply.latency,
        device.reply_timeout,
        requirement=VERSION_INQ.ref,
        sent=request,
        received=reply.data,
    )
    fields = reply.decoded.fields
    device.info.update(
        vendor_id=f"{fields['vendor_id']:04X}",
        model_id=f"{fields['model_id']:04X}",
        firmware=f"{fields['version']:04X}",
        max_socket=fields["max_socket"],
    )


ADDRESS_SET = BY_NAME["Address_Set"]


@pytest.mark.story("Address_Set")
@pytest.mark.requirement(ADDRESS_SET.ref)
def test_address_set_answers_the_next_free_address(device: ViscaDevice) -> None:
    """``88 30 01 FF`` is answered ``88 30 0w FF``, w = the address after the last camera."""
    chain = int(device.spec.params.get("chain", 1))
    request = visca.build("Address_Set")
    (reply,) = device.request(request, requirement=ADDRESS_SET.ref)
    want = visca.build_reply(ADDRESS_SET, next_address=device.address + chain)
    expect_bytes(reply.data, want, requirement=ADDRESS_SET.ref, sent=request,
                 what="answer to Address_Set")  # fmt: skip
