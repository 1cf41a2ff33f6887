"""Every command of the table (AVer VISCA spec rev 3.4, §3.2.1) is accepted:
ACK ``y0 4z FF`` within the reply bound, then Completion ``y0 5z FF`` on the
same socket (§3.1).  Commands the model does not claim are skipped here and
checked to be rejected in test_model_support."""

from __future__ import annotations

import pytest

from conformance.devices.visca import ViscaDevice
from dissectors.visca_table import Row
from suites.visca.common import COMMANDS, NOT_GENERIC, require, row_id, typical, undone

pytestmark = pytest.mark.protocol("visca")


@pytest.mark.parametrize("row", [r for r in COMMANDS if r.name not in NOT_GENERIC], ids=row_id)
def test_command_is_acked_and_completed(device: ViscaDevice, row: Row) -> None:
    require(device, row.name)
    with undone(device, row.name):
        device.command(row.name, **typical(row))
