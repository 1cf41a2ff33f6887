"""Every command in every form the manual defines (§1.2, §3.1-§3.12) is
answered as its table says: test forms with their literal ranges, read forms
with typed information lines, write and execution forms with OK and, where
the manual gives one, their asynchronous result.  Forms the manual does not
list, and parameters outside its ranges, must be answered ERROR."""

from __future__ import annotations

import pytest

from conformance.devices.at import AtDevice
from conformance.expect import expect
from dissectors import bc26
from suites.bc26.states import open_and_connect, ref

pytestmark = [pytest.mark.protocol("bc26"), pytest.mark.feature("Command forms")]

TEST_FORMS = [n for n, c in bc26.COMMANDS.items() if "test" in c.forms]
UNLISTED = [
    pytest.param(f"AT+{name}{suffix}", id=f"{name}{suffix or '-exec'}")
    for name, command in bc26.COMMANDS.items()
    for kind, suffix in (("test", "=?"), ("read", "?"), ("exec", ""))
    if kind not in command.forms and not (kind == "exec" and "write" in command.forms)
]


@pytest.mark.parametrize("name", TEST_FORMS)
def test_test_form_lists_the_ranges(device: AtDevice, name: str) -> None:
    answer = device.expect_final(f"AT+{name}=?", "OK")
    expect(answer.lines == list(bc26.COMMANDS[name].forms["test"].info),
           f"AT+{name}=? answered {answer.lines}", requirement=ref(name), sent=f"AT+{name}=?",
           expected=" / ".join(bc26.COMMANDS[name].forms["test"].info))  # fmt: skip


@pytest.mark.parametrize("command", UNLISTED)
def test_form_the_manual_does_not_list_is_an_error(device: AtDevice, command: str) -> None:
    device.expect_final(command, "ERROR", ref="BC26 §1.2 forms")


MALFORMED = [
    ("AT+QLWSERV=180.101.147.115,5683", "QLWSERV"),
    ("AT+QLWCONF=866971030001361", "QLWCONF"),
    ('AT+QLWCFG="format",1,1', "QLWCFG"),
    ("AT+QLWOPEN=zero", "QLWOPEN"),
    ("AT+QLWRD=1,2", "QLWRD"),
]


@pytest.mark.story("Parameter types")
@pytest.mark.parametrize(("command", "name"), MALFORMED, ids=[c for c, _ in MALFORMED])
def test_parameter_of_the_wrong_type_or_count_is_an_error(
    configured: AtDevice, command: str, name: str
) -> None:
    configured.expect_final(command, "ERROR", ref=ref(name))


RANGE_ERRORS = [
    ('AT+QLWSERV="180.101.147.115",65536', "QLWSERV"),
    ('AT+QLWADDOBJ=65536,0,1,"0"', "QLWADDOBJ"),
    ("AT+QLWOPEN=2", "QLWOPEN"),
    ("AT+QLWRD=0", "QLWRD"),
    ("AT+QLWRD=513", "QLWRD"),
    ('AT+QLWCFG="dataformat",2,0', "QLWCFG"),
]


@pytest.mark.story("Parameter ranges")
@pytest.mark.parametrize(("command", "name"), RANGE_ERRORS, ids=[c for c, _ in RANGE_ERRORS])
def test_parameter_outside_the_manuals_range_is_an_error(
    configured: AtDevice, command: str, name: str
) -> None:
    configured.expect_final(command, "ERROR", ref=ref(name))


READ_BACK = [
    pytest.param("QLWSERV", '"10.1.2.3",5684', id="QLWSERV"),
    pytest.param("QLWCONF", '"ep-42"', id="QLWCONF"),
]


@pytest.mark.story("Read back")
@pytest.mark.parametrize(("name", "value"), READ_BACK)
def test_read_form_returns_what_was_written(device: AtDevice, name: str, value: str) -> None:
    device.expect_final(f"AT+{name}={value}", "OK")
    answer = device.expect_final(f"AT+{name}?", "OK")
    want = f"+{name}: {value}"
    expect(answer.lines == [want], f"read back {answer.lines}", requirement=ref(name),
           expected=want)  # fmt: skip


@pytest.mark.story("AT+QLWCFG")
@pytest.mark.requirement(ref("QLWCFG"))
@pytest.mark.parametrize("formats", ["1,1", "1,0", "0,0"])
def test_qlwcfg_dataformat_is_accepted(device: AtDevice, formats: str) -> None:
    device.expect_final(f'AT+QLWCFG="dataformat",{formats}', "OK")


@pytest.mark.story("AT+QLWDATASTATUS")
@pytest.mark.requirement(ref("QLWDATASTATUS"))
def test_qlwdatastatus_read_answers_a_status(configured: AtDevice) -> None:
    open_and_connect(configured, 0)
    answer = configured.expect_final("AT+QLWDATASTATUS?", "OK")
    expect(len(answer.lines) == 1, f"answered {answer.lines}", requirement=ref("QLWDATASTATUS"),
           expected="+QLWDATASTATUS: <status>")  # fmt: skip


@pytest.mark.story("AT+QLWDEL")
@pytest.mark.requirement(ref("QLWDEL"))
def test_qlwdel_answers_within_five_seconds(device: AtDevice) -> None:
    answer = device.expect_final("AT+QLWDEL", "OK")
    expect(answer.elapsed <= 5.0, f"took {answer.elapsed:.2f} s", requirement=ref("QLWDEL"),
           expected="at most 5 s")  # fmt: skip


@pytest.mark.story("Echo")
@pytest.mark.requirement("BC26 §1.2 (V.250 ATE)")
@pytest.mark.parametrize("echo", [1, 0])
def test_echo_setting_is_obeyed(device: AtDevice, echo: int) -> None:
    """With ATE1 a command comes back before its answer; with ATE0 it does not."""
    device.expect_final(f"ATE{echo}", "OK")
    raw = device.raw_exchange("AT+QLWRD=?")
    echoed = raw.lstrip().startswith("AT+QLWRD=?")
    expect(echoed == bool(echo), f"ATE{echo}: the module answered {raw!r}",
           requirement="BC26 §1.2 (V.250 ATE)",
           expected="the command echoed first" if echo else "no echo")  # fmt: skip
    device.expect_final("ATE0", "OK")


SEND_RANGE_ERRORS = [
    pytest.param("AT+QLWDATASEND=19,0,0,1,00,0x0200", id="mode-0x0200"),
    pytest.param(f"AT+QLWDATASEND=19,0,0,513,{'00' * 513},0x0000", id="length-513"),
]


@pytest.mark.story("Parameter ranges")
@pytest.mark.requirement(ref("QLWDATASEND"))
@pytest.mark.parametrize("command", SEND_RANGE_ERRORS)
def test_send_outside_the_manuals_range_is_an_error(configured: AtDevice, command: str) -> None:
    """Registered, in hex mode, with data matching its length: only the range is wrong."""
    open_and_connect(configured, 0)
    configured.expect_final(command, "ERROR", ref=ref("QLWDATASEND"))
