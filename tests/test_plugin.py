"""The pytest plugin, exercised through pytester: device selection, skip
reasons, usage errors, Allure labels, environment and categories."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import allure_results, labels

pytest_plugins = ["pytester"]

#: the interface tests (4) over emu:visca and emu:visca-ip, and the header tests (2)
INTERFACE = ("-k", "test_interface or test_header")
SUITE_TESTS = 4 * 2 + 2
SUITE_PACKAGES = ("visca", "visca_ip", "pelco_d", "pelco_p", "bc26")


def test_emu_collects_every_suite_with_a_device(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--device=emu", "--co", "-q")
    collected = [line for line in result.stdout.lines if "::" in line]
    assert not [line for line in collected if "-device]" in line], "a suite found no emulator"
    for package in SUITE_PACKAGES:
        assert any(line.startswith(f"{package}/") for line in collected), package


def test_emu_runs_suites_and_writes_allure_results(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--device=emu:visca", "--device=emu:visca-ip", *INTERFACE)
    result.assert_outcomes(passed=SUITE_TESTS, deselected=result.parseoutcomes()["deselected"])
    results_dir = pytester.path / "allure-results"  # the default
    results = allure_results(results_dir)
    assert len(results) == SUITE_TESTS
    for res in results:
        assert res["status"] == "passed"
        assert labels(res, "epic") in (["VISCA"], ["VISCA over IP"])
        assert labels(res, "feature") and labels(res, "story") and labels(res, "requirement")
        assert labels(res, "device")[0].startswith("emu:visca")
        transcript = [a for a in res["attachments"] if a["name"].startswith("transcript")]
        assert transcript, res["name"]
        text = (results_dir / transcript[0]["source"]).read_text()
        assert re.search(r"^\d\d:\d\d:\d\d\.\d{6} .* >  [0-9A-F]{2}( [0-9A-F]{2})*", text, re.M)
        assert " <  " in text
    version = next(r for r in results if "version_inq" in r["name"])
    assert labels(version, "requirement") == ["VISCA §3.2.1 Version_Inq"]
    env = (results_dir / "environment.properties").read_text()
    assert "device.1=emu\\:visca\n" in env
    assert "framework.version=" in env
    assert "device.1.firmware=" in env  # read by the Version_Inq test
    categories = json.loads((results_dir / "categories.json").read_text())
    assert [c["name"] for c in categories] == [
        "Device unreachable",
        "Product defect (device violated the spec)",
        "Framework error",
    ]


def test_alluredir_option_is_respected(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--device=emu:visca", "--alluredir=elsewhere", "-k",
                                "test_if_clear_is_answered")  # fmt: skip
    assert result.parseoutcomes()["passed"] == 1
    assert allure_results(pytester.path / "elsewhere")
    assert not (pytester.path / "allure-results").exists()


def test_suite_without_matching_device_is_skipped_naming_the_uri(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--device=emu:visca", "-rs", *INTERFACE)
    result.assert_outcomes(passed=4, skipped=2, deselected=result.parseoutcomes()["deselected"])
    result.stdout.fnmatch_lines(
        ["*no --device for protocol 'visca-ip': give visca-ip://HOST[[]:52381] or emu:visca-ip*"]
    )


def test_protocol_mark_selects_devices(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_mine="""
        import pytest
        pytestmark = pytest.mark.protocol("visca")

        def test_talks(device):
            assert device.spec.protocol in ("visca", "visca-ip")
    """
    )
    result = pytester.runpytest("--device=emu:visca", "--device=emu:visca-ip", "test_mine.py", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["*test_talks?emu:visca?*PASSED*", "*test_talks?emu:visca-ip?*PASSED*"]
    )


def test_device_fixture_without_protocol_mark_is_a_framework_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_mine="def test_talks(device):\n    pass\n")
    result = pytester.runpytest("--device=emu:visca", "test_mine.py")
    result.stdout.fnmatch_lines(["*uses the device fixture without a protocol mark*"])
    assert result.ret != 0


def test_without_device_our_plugin_stays_out_of_the_way(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_ok():\n    assert True\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "allure-results").exists()


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("foo://x", "unknown scheme 'foo'"),
        ("visca+tcp://camera.local", "missing port"),
        ("visca+tcp://camera.local:5678?adress=1", "unknown parameter 'adress'"),
        ("visca+serial:///dev/ttyNOPE0", "serial port /dev/ttyNOPE0 does not exist"),
        ("visca+tcp://camera.local:5678?address=x", "address='x' is not a whole number"),
        ("emu:visca?fault=melted", "unknown fault melted"),
    ],
)
def test_bad_device_is_a_one_line_usage_error(
    pytester: pytest.Pytester, uri: str, message: str
) -> None:
    result = pytester.runpytest_subprocess(f"--device={uri}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = [line for line in result.stderr.lines if line.strip()]
    assert len(err) == 1, err
    assert message in err[0]
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_unreachable_device_is_broken_not_failed_and_the_run_goes_on(
    pytester: pytest.Pytester, closed_port: int
) -> None:
    result = pytester.runpytest(
        f"--device=visca+tcp://127.0.0.1:{closed_port}?timeout=0.5",
        "--device=emu:visca-ip",
        *INTERFACE,
    )
    # visca tests over the dead TCP device error in setup; the emulator's pass.
    result.assert_outcomes(passed=6, errors=4, deselected=result.parseoutcomes()["deselected"])
    result.stdout.fnmatch_lines(["*DeviceUnreachable: cannot connect to tcp://127.0.0.1:*"])
    by_status: dict[str, list[dict[str, object]]] = {}
    for res in allure_results(pytester.path / "allure-results"):
        by_status.setdefault(str(res["status"]), []).append(res)
    assert len(by_status["broken"]) == 4
    unreachable = json.loads((pytester.path / "allure-results" / "categories.json").read_text())[0]
    for res in by_status["broken"]:
        message = res["statusDetails"]["message"]  # type: ignore[index]
        assert re.search(unreachable["messageRegex"], message)


def test_findings_are_failures_with_requirement_and_bytes(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--device=emu:visca?fault=wrong_reply_address", "-k",
                                "test_if_clear_is_answered or test_if_clear_broadcast")  # fmt: skip
    assert (result.parseoutcomes()["passed"], result.parseoutcomes()["failed"]) == (1, 1)
    result.stdout.fnmatch_lines(
        [
            "*Finding: ?VISCA §3.2.1 IF_Clear? wrong reply",
            "*sent:     81 01 00 01 FF",
            "*received: A0 50 FF",
            "*expected: 90 50 FF",
        ]
    )
    failed = [
        r for r in allure_results(pytester.path / "allure-results") if r["status"] == "failed"
    ]
    assert len(failed) == 1
    assert "VISCA §3.2.1 IF_Clear" in failed[0]["statusDetails"]["message"]


def test_secrets_never_reach_the_results(pytester: pytest.Pytester, closed_port: int) -> None:
    secret = "s3cr3t-Pa55"
    pytester.runpytest(
        f"--device=visca+tcp://user:{secret}@127.0.0.1:{closed_port}?timeout=0.2", "-k", "if_clear"
    )
    out = pytester.path / "allure-results"
    assert out.is_dir()
    for path in out.iterdir():
        assert secret not in path.read_text(errors="replace"), path.name


def test_suites_run_with_pyargs(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--pyargs", "suites", "--device=emu:visca-ip", *INTERFACE)
    assert result.parseoutcomes()["passed"] == 4 + 2


def test_installed_suites_path_is_used_from_any_directory(pytester: pytest.Pytester) -> None:
    import suites

    result = pytester.runpytest("--device=emu:visca", "--co", "-q")
    assert Path(suites.__file__).parent.name == "suites"
    result.stdout.fnmatch_lines(["*visca/test_interface.py::test_if_clear_is_answered*"])
