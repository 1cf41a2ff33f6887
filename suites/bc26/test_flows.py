"""The manual's three example flows (§5.1-§5.3) end to end against the module,
with the platform's part (observe, downlink) played by the IoT platform."""

from __future__ import annotations

import pytest

from conformance.devices.at import AtDevice
from conformance.expect import expect
from suites.bc26.states import open_and_connect, platform, ref

pytestmark = [pytest.mark.protocol("bc26"), pytest.mark.feature("Example flows")]

PAYLOAD = "01F00035020056"  # 7 bytes in hex mode
URC_WAIT = 10.0


@pytest.mark.story("§5.1 Register to the IoT platform")
@pytest.mark.requirement("BC26 §5.1", ref("QLWOPEN"), ref("QLWUPDATE"), ref("QLWCLOSE"),
                         ref("QLWDEL"), "BC26 §4.1 +QLWOBSERVE")  # fmt: skip
def test_register_update_deregister(configured: AtDevice) -> None:
    control = platform(configured)
    open_and_connect(configured, 0)
    control.observe(19, 0, 0)
    configured.expect_urc(
        "QLWOBSERVE",
        within=URC_WAIT,
        params={"flag": "0", "obj_id": "19", "ins_id": "0", "res_id": "0"},
    )
    configured.expect_final("AT+QLWUPDATE", "OK")
    got = configured.wait_for(("UPDATE OK", "UPDATE FAIL"), ref=ref("QLWUPDATE"))
    expect(got == "UPDATE OK", f"{got}", requirement=ref("QLWUPDATE"), expected="UPDATE OK")
    configured.expect_final("AT+QLWCLOSE", "OK")
    got = configured.wait_for(("CLOSE OK", "CLOSE FAIL"), ref=ref("QLWCLOSE"))
    expect(got == "CLOSE OK", f"{got}", requirement=ref("QLWCLOSE"), expected="CLOSE OK")


@pytest.mark.story("§5.2 Send and receive data in direct push mode")
@pytest.mark.requirement("BC26 §5.2", ref("QLWDATASEND"), ref("QLWDATASTATUS"),
                         "BC26 §4.2 +QLWDATARECV")  # fmt: skip
def test_direct_push(configured: AtDevice) -> None:
    control = platform(configured)
    open_and_connect(configured, 0)
    configured.expect_final('AT+QLWCFG="dataformat",1,1', "OK")
    configured.expect_final(f"AT+QLWDATASEND=19,0,0,7,{PAYLOAD},0x0000", "OK")
    control.downlink(19, 1, 0, bytes.fromhex("AAAA0000"))
    urc = configured.expect_urc("QLWDATARECV", within=URC_WAIT)
    expect(urc.params.get("data") == "AAAA0000" and urc.params["length"] == "4",
           f"+QLWDATARECV with {urc.params}", requirement="BC26 §4.2 +QLWDATARECV",
           expected="+QLWDATARECV: 19,1,0,4,AAAA0000")  # fmt: skip
    configured.expect_final(f"AT+QLWDATASEND=19,0,0,7,{PAYLOAD},0x0100", "OK")
    got = configured.wait_for(("SEND OK", "SEND FAIL"), ref=ref("QLWDATASEND"))
    expect(got == "SEND OK", got, requirement=ref("QLWDATASEND"), expected="SEND OK")
    answer = configured.expect_final("AT+QLWDATASTATUS?", "OK")
    expect(
        answer.lines == ["+QLWDATASTATUS: 4"],
        f"{answer.lines}",
        requirement=ref("QLWDATASTATUS"),
        expected="+QLWDATASTATUS: 4 (success)",
    )


@pytest.mark.story("§5.3 Send and receive data in buffer access mode")
@pytest.mark.requirement("BC26 §5.3", ref("QLWRD"), "BC26 §3.10 note 1", "BC26 §3.10 note 2")
def test_buffer_access(configured: AtDevice) -> None:
    control = platform(configured)
    open_and_connect(configured, 1)
    configured.expect_final('AT+QLWCFG="dataformat",1,1', "OK")
    control.downlink(19, 1, 0, bytes.fromhex("AAAA0000"))
    urc = configured.expect_urc("QLWDATARECV", within=URC_WAIT)
    expect(
        "data" not in urc.params and urc.params["length"] == "4",
        f"{urc.params}",
        requirement="BC26 §4.2 +QLWDATARECV",
        expected="+QLWDATARECV: 19,1,0,4",
    )
    first = configured.expect_final("AT+QLWRD=2", "OK")
    expect(first.lines == ["+QLWRD: 2,2", "AAAA"], f"{first.lines}", requirement=ref("QLWRD"),
           expected="+QLWRD: 2,2 then AAAA")  # fmt: skip
    second = configured.expect_final("AT+QLWRD=2", "OK")
    expect(
        second.lines == ["+QLWRD: 2,0", "0000"],
        f"{second.lines}",
        requirement=ref("QLWRD"),
        expected="+QLWRD: 2,0 then 0000",
    )
    empty = configured.expect_final("AT+QLWRD=4", "OK")
    expect(empty.lines == ["+QLWRD: 0"], f"{empty.lines}", requirement=ref("QLWRD"),
           expected="+QLWRD: 0")  # fmt: skip


@pytest.mark.story("§3.10 note 1: no URC until drained")
@pytest.mark.requirement("BC26 §3.10 note 1")
def test_no_new_urc_until_the_buffer_is_drained(configured: AtDevice) -> None:
    control = platform(configured)
    open_and_connect(configured, 1)
    configured.expect_final('AT+QLWCFG="dataformat",1,1', "OK")
    control.downlink(19, 1, 0, bytes.fromhex("0102"))
    configured.expect_urc("QLWDATARECV", within=URC_WAIT)
    control.downlink(19, 1, 0, bytes.fromhex("0304"))
    answer = configured.expect_final("AT+QLWRD=2", "OK")  # the live checker flags an early URC
    expect(answer.lines == ["+QLWRD: 2,0", "0102"], f"{answer.lines}", requirement=ref("QLWRD"),
           expected="+QLWRD: 2,0 then 0102")  # fmt: skip
    configured.expect_urc("QLWDATARECV", within=URC_WAIT)  # the second, once drained


@pytest.mark.story("CON and NON")
@pytest.mark.requirement(ref("QLWDATASEND"), "BC26 §3.8 note 1")
def test_con_send_waits_for_the_previous_result(configured: AtDevice) -> None:
    open_and_connect(configured, 0)
    control = platform(configured)
    control.ack_delay(5.0)
    configured.expect_final("AT+QLWDATASEND=19,0,0,1,01,0x0100", "OK")
    configured.expect_final("AT+QLWDATASEND=19,0,0,1,02,0x0100", "ERROR",
                            ref="BC26 §3.8 note 1")  # fmt: skip
    got = configured.wait_for(("SEND OK", "SEND FAIL"), ref=ref("QLWDATASEND"))
    expect(got == "SEND OK", got, requirement=ref("QLWDATASEND"), expected="SEND OK")


@pytest.mark.story("CON and NON")
@pytest.mark.requirement(ref("QLWDATASEND"), ref("QLWDATASTATUS"))
def test_con_without_platform_ack_is_send_fail(configured: AtDevice) -> None:
    open_and_connect(configured, 0)
    control = platform(configured)
    control.drop_ack(True)
    configured.expect_final("AT+QLWDATASEND=19,0,0,1,01,0x0100", "OK")
    got = configured.wait_for(("SEND OK", "SEND FAIL"), ref=ref("QLWDATASEND"))
    expect(got == "SEND FAIL", got, requirement=ref("QLWDATASEND"), expected="SEND FAIL")
    answer = configured.expect_final("AT+QLWDATASTATUS?", "OK")
    expect(
        answer.lines in (["+QLWDATASTATUS: 2"], ["+QLWDATASTATUS: 3"]),
        f"{answer.lines}",
        requirement=ref("QLWDATASTATUS"),
        expected="2 (sent failed) or 3 (timeout)",
    )


@pytest.mark.story("AT+QLWOPEN")
@pytest.mark.requirement(ref("QLWOPEN"))
def test_rejected_registration_is_connect_fail(configured: AtDevice) -> None:
    control = platform(configured)
    control.reject_registration(True)
    configured.expect_final("AT+QLWOPEN=0", "OK")
    got = configured.wait_for(("CONNECT OK", "CONNECT FAIL"), ref=ref("QLWOPEN"))
    expect(got == "CONNECT FAIL", got, requirement=ref("QLWOPEN"), expected="CONNECT FAIL")


@pytest.mark.story("AT+QLWDELOBJ")
@pytest.mark.requirement(ref("QLWDELOBJ"))
def test_delobj_when_registered_is_followed_by_update_ok(configured: AtDevice) -> None:
    open_and_connect(configured, 0)
    configured.expect_final("AT+QLWDELOBJ=19", "OK")
    got = configured.wait_for(("UPDATE OK", "UPDATE FAIL"), ref=ref("QLWDELOBJ"))
    expect(got == "UPDATE OK", got, requirement=ref("QLWDELOBJ"), expected="UPDATE OK")
