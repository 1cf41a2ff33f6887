"""JUnit XML from Allure results (reports.junit)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from reports.junit import write_junit, xml_safe
from reports.results import load_results
from tests.test_report_summary import PLANTED_TOTALS, clean, planted, result, write


def parse(path: Path) -> ET.Element:
    """The root element; ET.parse raises on a file that is not well-formed."""
    return ET.parse(path).getroot()


def cases(root: ET.Element) -> dict[str, ET.Element]:
    return {case.attrib["name"]: case for case in root.iter("testcase")}


def test_planted_run_has_suites_per_protocol_and_one_element_per_outcome(tmp_path: Path) -> None:
    root = parse(write_junit(planted(tmp_path / "r"), tmp_path / "junit.xml"))
    assert root.tag == "testsuites"
    assert root.attrib["tests"] == str(sum(PLANTED_TOTALS.values()))
    assert (root.attrib["failures"], root.attrib["errors"], root.attrib["skipped"]) == (
        str(PLANTED_TOTALS["failed"]),
        str(PLANTED_TOTALS["broken"]),
        str(PLANTED_TOTALS["skipped"]),
    )
    suites = {s.attrib["name"]: s for s in root.iter("testsuite")}
    assert set(suites) == {"VISCA", "OCPP", "Pelco-D", "Pelco-P", "Quectel BC26 LwM2M"}
    visca = suites["VISCA"].attrib
    assert (visca["tests"], visca["failures"], visca["errors"], visca["skipped"]) == (
        "9", "2", "2", "1",
    )  # fmt: skip
    by_name = cases(root)
    b02 = by_name["test_b02[emu:ocpp]"]
    assert b02.attrib["classname"] == "suites.ocpp.test_boot"
    assert b02.attrib["time"] == "0.250"
    failure = b02.find("failure")
    assert failure is not None
    assert failure.attrib["type"] == "conformance.errors.Finding"
    assert failure.attrib["message"].startswith("conformance.errors.Finding: [B02.FR.04]")
    assert (failure.text or "").startswith("requirements: B02.FR.04\n")
    props = [p.attrib for p in b02.iter("property")]
    assert props == [{"name": "requirement", "value": "B02.FR.04"}]
    error = by_name["test_if_clear[tcp]"].find("error")
    assert error is not None and "DeviceUnreachable" in error.attrib["message"]
    skipped = by_name["test_stop[PT_Stop]"].find("skipped")
    assert skipped is not None and skipped.attrib["message"] == "no device"
    passed = by_name["test_b01[emu:ocpp]"]
    assert [c.tag for c in passed] == ["properties"]
    retried = [c for c in root.iter("testcase") if c.attrib["name"] == "test_b05[emu:ocpp]"]
    assert len(retried) == 1 and retried[0].find("failure") is None


def test_clean_run_has_no_failure_elements(tmp_path: Path) -> None:
    root = parse(write_junit(load_results(clean(tmp_path / "r")), tmp_path / "junit.xml"))
    assert (root.attrib["tests"], root.attrib["failures"], root.attrib["errors"]) == ("2", "0", "0")
    assert not [e for tag in ("failure", "error", "skipped") for e in root.iter(tag)]


def test_control_characters_are_made_safe(tmp_path: Path) -> None:
    nasty = 'bell \x07, nul \x00, esc \x1b, lone \ud800 & <tag> "quoted"\nsecond line'
    odd = result("test_\x01odd", "failed", epic="VISCA\x0b", message=nasty,
                 requirements=["REQ\x02 1"])  # fmt: skip
    results = write(tmp_path / "r", [odd])
    root = parse(write_junit(results, tmp_path / "junit.xml"))
    (case,) = root.iter("testcase")
    assert case.attrib["name"] == "test_\\x01odd"
    failure = case.find("failure")
    assert failure is not None
    assert (
        failure.attrib["message"]
        == 'bell \\x07, nul \\x00, esc \\x1b, lone \\ud800 & <tag> "quoted"'
    )
    assert (failure.text or "").endswith("second line")
    assert "requirements: REQ\\x02 1" in (failure.text or "")
    assert next(root.iter("testsuite")).attrib["name"] == "VISCA\\x0b"


def test_xml_safe_leaves_ordinary_text_alone() -> None:
    text = "tab\tnewline\nreturn\r § ü 漢字 & <>"
    assert xml_safe(text) == text
