"""Every inquiry of the table (AVer VISCA spec rev 3.4, §3.2.1) is answered
``y0 50 ... FF`` in the row's layout, by the addressed camera, within the reply
bound, with values the row allows."""

from __future__ import annotations

import pytest

from conformance.devices.visca import ViscaDevice
from dissectors.visca_table import Row
from suites.visca.common import INQUIRIES, require, row_id

pytestmark = pytest.mark.protocol("visca")


@pytest.mark.parametrize("row", INQUIRIES, ids=row_id)
def test_inquiry_is_answered_in_the_row_layout(device: ViscaDevice, row: Row) -> None:
    require(device, row.name)
    answer = device.inquire(row.name)
    if row.name == "Version_Inq":
        device.info.update(
            vendor_id=f"{answer['vendor_id']:04X}",
            model_id=f"{answer['model_id']:04X}",
            firmware=f"{answer['version']:04X}",
            max_socket=answer["max_socket"],
        )
