"""The conformance summary (reports.results, reports.summary and the modules of its
views, reports.summary_page) from hand-made Allure results with planted failures of
each kind, and the plugin's ``finding`` attachment and ``octt`` labels."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from conformance.allure_support import octt_ids
from dissectors import visca_table
from reports.certification import load_profiles
from reports.failures import finding_from_message
from reports.results import load_results, read_head
from reports.summary import build_summary, to_json
from reports.summary_page import LINK_ID, PAGE, inject_link, render, write_summary
from reports.traceability import load_requirements
from tests.conftest import allure_results, labels

pytest_plugins = ["pytester"]

START = 1_700_000_000_000
TRANSCRIPT_LINES = 200  # longer than the page shows


def result(
    name: str,
    status: str = "passed",
    *,
    epic: str | None = None,
    story: str | None = None,
    feature: str | None = None,
    model: str | None = None,
    device: str | None = None,
    requirements: Iterable[str] = (),
    octt: Iterable[str] = (),
    message: str | None = None,
    description: str | None = None,
    history_id: str | None = None,
    at: int = 0,
    attachments: Iterable[dict[str, str]] = (),
    module: str = "suites.demo.test_demo",
) -> dict[str, Any]:
    """One allure-pytest style result (a retry repeats name, fullName and historyId)."""
    labels = [("epic", epic), ("story", story), ("feature", feature), ("model", model),
              ("device", device), ("suite", "test_demo")]  # fmt: skip
    labels += [("requirement", r) for r in requirements] + [("octt", o) for o in octt]
    data: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "historyId": history_id or f"h-{name}",
        "name": name,
        "fullName": f"{module}#{name.split('[')[0]}",
        "status": status,
        "start": START + at,
        "stop": START + at + 250,
        "labels": [{"name": n, "value": v} for n, v in labels if v is not None],
        "attachments": list(attachments),
    }
    if "[" in name:  # as allure-pytest: one parameter per id part (the report tells them apart)
        data["parameters"] = [{"name": "id", "value": name.partition("[")[2].rstrip("]")}]
    if message is not None:
        data["statusDetails"] = {"message": message, "trace": "Traceback ..."}
    if description is not None:
        data["description"] = description
    return data


def write(directory: Path, results: Iterable[dict[str, Any]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for data in results:
        (directory / f"{data['uuid']}-result.json").write_text(json.dumps(data), "utf-8")
    return directory


def attach(directory: Path, name: str, text: str, ext: str = "txt") -> dict[str, str]:
    directory.mkdir(parents=True, exist_ok=True)
    source = f"{uuid.uuid4()}-attachment.{ext}"
    (directory / source).write_text(text, "utf-8")
    kind = "application/json" if ext == "json" else "text/plain"
    return {"name": name, "source": source, "type": kind}


VISCA_FINDING = (
    "conformance.errors.Finding: [VISCA §3.2.1 Zoom_Tele] wrong reply\n"
    "  sent:     81 01 04 07 23 FF\n"
    "  received: 90 60 02 FF\n"
    "  expected: ACK y0 4z FF"
)
UNREACHABLE = "conformance.errors.DeviceUnreachable: cannot connect to tcp://127.0.0.1:9"
FRAMEWORK = "conformance.errors.FrameworkError: emulator camera failed internally"
B02_MESSAGE = (
    "conformance.errors.Finding: [B02.FR.04] BootNotificationRequest came 0.1 s after the "
    "previous one\n  expected: not before the interval"
)


def planted(directory: Path) -> Path:
    """A run with known counts: 9 passed, 4 failed, 2 broken (one unreachable),
    2 skipped, 1 unknown; one retried test; two invalid files."""
    transcript = "\n".join(
        [
            "# emu:ocpp",
            '12:00:00.000000 +   0.000s <  \'[2,"1","BootNotification",{}]\''
            "    CALL BootNotification",
        ]
        + [f"12:00:00.{n:06d} +   0.001s #  line {n}" for n in range(TRANSCRIPT_LINES)]
    )
    finding = {
        "kind": "spec violation",
        "requirement": ["B02.FR.04"],
        "summary": "BootNotificationRequest came 0.1 s after the previous one",
        "sent": None,
        "received": {"text": '[2,"1","BootNotification",{}]', "decoded": "CALL BootNotification"},
        "expected": "not before the interval",
    }
    cam = {"epic": "VISCA", "feature": "Zoom"}
    results = [
        # camera: claimed and failed / not claimed and refused / not claimed and accepted
        result("test_zoom[CAM520Pro3-Zoom_Tele]", "failed", **cam, story="Zoom_Tele",
               model="CAM520Pro3", device="emu:visca?model=CAM520Pro3",
               requirements=["VISCA §3.2.1 Zoom_Tele"], message=VISCA_FINDING, at=1),
        result("test_refused[CAM520-Zoom_Tele]", **cam, story="Zoom_Tele", model="CAM520",
               device="emu:visca?model=CAM520", at=2),
        result("test_refused[CAM520-CAM_PIP_Set_USB]", "failed", epic="VISCA", feature="PIP",
               story="CAM_PIP_Set_USB", model="CAM520", device="emu:visca?model=CAM520",
               message="conformance.errors.Finding: [VISCA §3.2.1 CAM_PIP_Set_USB (model "
               "note)] accepted", at=3),
        result("test_power[CAM520-Power_On]", epic="VISCA", feature="Power", story="Power_On",
               model="CAM520", device="emu:visca?model=CAM520", at=4),
        result("test_gain[CAM520Pro2-Color_Gain]", epic="VISCA", feature="Image",
               story="Color_Gain", model="CAM520Pro2", device="emu:visca-ip?model=CAM520Pro2",
               at=5),
        result("test_stop[PT_Stop]", "skipped", epic="VISCA", story="PT_Stop",
               device="emu:visca", message="no device", at=6),
        # the other two kinds of non-pass, and an unknown
        result("test_if_clear[tcp]", "broken", epic="VISCA", story="IF_Clear",
               device="visca+tcp://127.0.0.1:9", message=UNREACHABLE, at=7),
        result("test_version[emu]", "broken", epic="VISCA", story="Version_Inq",
               device="emu:visca", message=FRAMEWORK, at=8),
        result("test_mystery", "unknown", epic="VISCA", at=9),
        # Pelco
        result("test_preset[pelco-d]", epic="Pelco-D", story="Go To Preset", at=10),
        result("test_track[pelco-p]", "failed", epic="Pelco-P", story="Track ON",
               message="conformance.errors.Finding: [Pelco-P §3.2.2 Track ON] no effect", at=11),
        result("test_bc26_skip", "skipped", epic="Quectel BC26 LwM2M", at=12),
        # OCPP
        result("test_b01[emu:ocpp]", epic="OCPP", feature="B Provisioning",
               story="B01 Cold Boot Charging Station", requirements=["B01.FR.01", "B01.FR.09"],
               octt=["TC_B_01"], at=20, module="suites.ocpp.test_boot"),
        result("test_b02[emu:ocpp]", "failed", epic="OCPP", feature="B Provisioning",
               story="B02 Cold Boot Charging Station - Pending", requirements=["B02.FR.04"],
               octt=["TC_B_02"], message=B02_MESSAGE, at=21, module="suites.ocpp.test_boot",
               attachments=[attach(directory, "finding", json.dumps(finding), "json"),
                            attach(directory, "transcript emu:ocpp", transcript)]),
        result("test_b30_old[emu:ocpp]", epic="OCPP", story="B03 Cold Boot Charging Station - "
               "Rejected", requirements=["B03.FR.02"], description="Old result (TC_B_30_CS).",
               at=22),
        result("test_rpc[emu:ocpp]", epic="OCPP", story="Part 4 §4.1.7 Message validity",
               requirements=["Part 4 §4.1.7"], octt=["TC_Z_99"], at=23),
        result("test_b01_extra[emu:ocpp]", epic="OCPP", story="B01 Cold Boot Charging Station",
               requirements=["B01.FR.99"], at=24),
        # a retried test: the later (passed) result counts, whatever the file order
        result("test_b05[emu:ocpp]", epic="OCPP", story="B05 Set Variables",
               requirements=["B05.FR.01"], history_id="retry", at=40),
        result("test_b05[emu:ocpp]", "failed", epic="OCPP", story="B05 Set Variables",
               requirements=["B05.FR.01"], history_id="retry", message="first try", at=30),
    ]  # fmt: skip
    write(directory, results)
    (directory / "0-bad-result.json").write_text("{not json", "utf-8")
    (directory / "1-list-result.json").write_text("[]", "utf-8")
    (directory / "2-container.json").write_text("{not json either", "utf-8")  # not a result
    (directory / "categories.json").write_text("[]", "utf-8")
    return directory


PLANTED_TOTALS = {"passed": 9, "failed": 4, "broken": 2, "skipped": 2, "unknown": 1}


def clean(directory: Path) -> Path:
    return write(directory, [
        result("test_power[Power_On]", epic="VISCA", story="Power_On", model="CAM520", at=1),
        result("test_b01[emu:ocpp]", epic="OCPP", story="B01 Cold Boot Charging Station",
               requirements=["B01.FR.01"], octt=["TC_B_01"], at=2),
    ])  # fmt: skip


class Page(HTMLParser):
    """Elements of the summary page by attribute, with their text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[dict[str, Any]] = []
        self._open: list[dict[str, Any]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.tags.append((tag, dict(attrs)))
        self.elements.append(element)
        if tag not in {"br", "meta", "link", "img"}:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for n in range(len(self._open) - 1, -1, -1):
            if self._open[n]["tag"] == tag:
                del self._open[n:]
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element["text"] += data

    def find(self, tag: str | None = None, **attrs: str) -> list[dict[str, Any]]:
        """Elements (of *tag*) whose attributes (``data_x`` for ``data-x``) match."""
        wanted = {k.replace("_", "-"): v for k, v in attrs.items()}
        return [
            e
            for e in self.elements
            if (tag is None or e["tag"] == tag)
            and all(e["attrs"].get(k) == v for k, v in wanted.items())
        ]

    def inside(self, element: dict[str, Any]) -> list[dict[str, Any]]:
        """The elements within *element* (up to the next one of its tag)."""
        after = self.elements[self.elements.index(element) + 1 :]
        end = next((n for n, e in enumerate(after) if e["tag"] == element["tag"]), len(after))
        return after[:end]

    def one(self, tag: str | None = None, **attrs: str) -> dict[str, Any]:
        found = self.find(tag, **attrs)
        assert len(found) == 1, (attrs, found)
        return found[0]


def totals_cells(page: Page) -> dict[str, int]:
    table = page.one(id="totals")
    inside = page.elements[page.elements.index(table) :]
    cells = [e for e in inside if e["tag"] == "td" and "data-status" in e["attrs"]][:6]
    return {e["attrs"]["data-status"]: int(e["text"]) for e in cells}


@pytest.fixture
def planted_dir(tmp_path: Path) -> Path:
    return planted(tmp_path / "allure-results")


# ------------------------------------------------------------------ loading


def test_loading_counts_bad_files_skips_containers_and_keeps_the_latest_retry(
    planted_dir: Path,
) -> None:
    loaded = load_results(planted_dir)
    assert len(loaded.results) == sum(PLANTED_TOTALS.values())
    assert loaded.invalid_count == 2
    assert [name for name, _ in loaded.invalid] == ["0-bad-result.json", "1-list-result.json"]
    assert loaded.superseded == 1
    retried = [r for r in loaded.results if r.history_id == "retry"]
    assert [r.status for r in retried] == ["passed"]


def test_clean_directory_has_no_invalid_files(tmp_path: Path) -> None:
    loaded = load_results(clean(tmp_path / "r"))
    assert (loaded.invalid_count, loaded.superseded, len(loaded.results)) == (0, 0, 2)


def test_attachment_outside_the_results_dir_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("do not show", "utf-8")
    results = tmp_path / "r"
    write(results, [result("test_x", "failed", epic="VISCA", message="boom", attachments=[
        {"name": "transcript dev", "source": "../secret.txt", "type": "text/plain"}])])  # fmt: skip
    summary = build_summary(load_results(results))
    assert summary.failures[0].transcripts[0].lines == ["(attachment file missing)"]
    assert "do not show" not in render(summary)


def test_octt_ids_are_normalised() -> None:
    text = "TC_B_01_CS, TC_B_01_CSMS and TC_P_02_CSMS (TC_E_103); not TC_b_1 or XTC_B_01"
    assert octt_ids(text) == ["TC_B_01", "TC_P_02", "TC_E_103"]
    assert octt_ids("no test case here") == octt_ids(None) == []


def test_read_head_caps_long_files(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("".join(f"{n}\n" for n in range(10)), "utf-8")
    assert read_head(path, 3) == (["0", "1", "2"], 7)
    assert read_head(path, 20) == ([str(n) for n in range(10)], 0)


# ------------------------------------------------------------------ the model


def test_totals_and_categories_keep_the_three_kinds_apart(planted_dir: Path) -> None:
    data = to_json(build_summary(load_results(planted_dir)))
    assert data["totals"] == {**PLANTED_TOTALS, "total": 18}
    categories = {c["id"]: c["count"] for c in data["categories"]}
    assert categories == {"device-unreachable": 1, "product-defect": 4, "framework-error": 1}
    assert data["invalid_files"]["count"] == 2
    assert data["superseded_results"] == 1


def test_clean_run_has_no_failures_and_empty_categories(tmp_path: Path) -> None:
    data = to_json(build_summary(load_results(clean(tmp_path / "r"))))
    assert data["totals"] == {"passed": 2, "failed": 0, "broken": 0, "skipped": 0,
                              "unknown": 0, "total": 2}  # fmt: skip
    assert all(c["count"] == 0 for c in data["categories"])
    assert data["failures"] == []
    assert data["invalid_files"]["count"] == 0
    cell = data["camera_matrix"]["rows"]
    power = next(r for r in cell if r["name"] == "Power_On")["cells"][0]
    assert (power["state"], power["note"]) == ("agree", "as claimed")


def test_breakdowns_per_protocol_model_and_story(planted_dir: Path) -> None:
    data = to_json(build_summary(load_results(planted_dir)))
    protocol = {row["protocol"]: row for row in data["by_protocol"]}
    assert protocol["VISCA"]["total"] == 9
    assert (protocol["VISCA"]["failed"], protocol["VISCA"]["broken"]) == (2, 2)
    assert protocol["OCPP"]["failed"] == 1 and protocol["OCPP"]["passed"] == 5
    assert protocol["Pelco-P"]["failed"] == 1
    models = {(r["protocol"], r["model"]): r["total"] for r in data["by_model"]}
    assert models[("VISCA", "CAM520")] == 3
    assert models[("VISCA", "any")] == 4
    stories = {(r["protocol"], r["story"]): r for r in data["by_story"]}
    assert stories[("VISCA", "Zoom_Tele")]["failed"] == 1
    assert stories[("VISCA", "Zoom_Tele")]["passed"] == 1
    features = {(r["protocol"], r["feature"]): r["total"] for r in data["by_feature"]}
    assert features[("VISCA", "Zoom")] == 2


def test_traceability_shows_verdicts_and_uncovered_requirements(planted_dir: Path) -> None:
    data = to_json(build_summary(load_results(planted_dir)))
    use_cases = {(u["id"] or u["title"]): u for u in data["ocpp_traceability"]}
    assert set(use_cases) == {"B01", "B02", "B03", "B05", "Part 4 §4.1.7 Message validity"}
    requirements = {r["id"]: r for u in use_cases.values() for r in u["requirements"]}
    assert requirements["B01.FR.01"]["verdict"] == "passed"
    assert requirements["B02.FR.04"]["verdict"] == "failed"
    assert requirements["B05.FR.01"]["verdict"] == "passed"  # the retry counts
    assert requirements["B01.FR.02"]["verdict"] == "uncovered"
    assert requirements["B01.FR.02"]["tests"] == []
    assert requirements["B01.FR.99"]["listed"] is False
    assert requirements["Part 4 §4.1.7"]["verdict"] == "passed"
    b01 = use_cases["B01"]
    spec = load_requirements()["B01"]
    assert b01["title"] == spec["title"] == "Cold Boot Charging Station"
    assert b01["uncovered"] == [r for r in spec["requirements"]
                                if r not in ("B01.FR.01", "B01.FR.09")]  # fmt: skip
    assert b01["covered"] == 3  # B01.FR.01, .09 and the unlisted .99
    failed = requirements["B02.FR.04"]["tests"]
    assert [t["name"] for t in failed] == ["test_b02[emu:ocpp]"]


def test_certification_profiles_count_covered_mandatory_cases(planted_dir: Path) -> None:
    data = to_json(build_summary(load_results(planted_dir)))
    profiles = {p["name"]: p for p in data["certification_profiles"]}
    assert list(profiles) == list(load_profiles())
    core = profiles["Core"]
    cases = {c["id"]: c for c in core["test_cases"]}
    assert (cases["TC_B_01"]["cs"], cases["TC_B_01"]["verdict"]) == ("M", "passed")
    assert cases["TC_B_02"]["verdict"] == "failed"
    assert cases["TC_B_30"]["verdict"] == "passed"  # from the description
    assert cases["TC_A_01"]["tests"] == [] and cases["TC_A_01"]["covered"] is False
    assert core["mandatory_covered"] == 3
    assert core["mandatory_passed"] == 2
    assert core["mandatory_total"] == sum(
        1 for c in load_profiles()["Core"]["test_cases"] if c["cs"] == "M"
    )
    assert profiles["Smart Charging"]["mandatory_covered"] == 0
    assert list(data["octt_not_in_profiles"]) == ["TC_Z_99"]


def test_profiles_are_left_out_without_a_charger(tmp_path: Path) -> None:
    results = write(tmp_path / "r", [result("test_power", epic="VISCA", story="Power_On")])
    summary = build_summary(load_results(results))
    assert summary.profiles == [] and summary.traceability == []
    assert 'id="certification"' not in render(summary)


def test_camera_matrix_compares_claims_with_observations(planted_dir: Path) -> None:
    data = to_json(build_summary(load_results(planted_dir)))["camera_matrix"]
    assert data["models"] == ["CAM520", "CAM520Pro2", "CAM520Pro3", "any"]
    rows = {r["name"]: {c["model"]: c for c in r["cells"]} for r in data["rows"]}
    tele = rows["Zoom_Tele"]
    assert (tele["CAM520Pro3"]["claim"], tele["CAM520Pro3"]["state"]) == ("claimed", "disagree")
    assert tele["CAM520Pro3"]["note"] == "claimed but failed"
    assert (tele["CAM520"]["claim"], tele["CAM520"]["state"]) == ("not claimed", "agree")
    pip = rows["CAM_PIP_Set_USB"]["CAM520"]
    assert (pip["state"], pip["note"]) == ("disagree", "not claimed, failed")
    gain = rows["Color_Gain"]["CAM520Pro2"]
    assert (gain["claim"], gain["state"]) == ("claimed, not over IP", "agree")
    assert rows["PT_Stop"]["any"]["state"] == "untested"
    assert rows["IF_Clear"]["any"]["state"] == "inconclusive"
    assert (rows["Zoom_Stop"]["CAM520"]["state"], rows["Zoom_Stop"]["CAM520"]["note"]) == (
        "untested",
        "no test",
    )
    assert [r["name"] for r in data["rows"]] == [r.name for r in visca_table.COMMANDS]


def test_pelco_rows_have_verdicts_per_protocol(planted_dir: Path) -> None:
    data = to_json(build_summary(load_results(planted_dir)))["pelco"]
    assert data["protocols"] == ["Pelco-D", "Pelco-P"]
    rows = {r["name"]: r["cells"] for r in data["rows"]}
    assert rows["Go To Preset"]["Pelco-D"]["verdict"] == "passed"
    assert rows["Track ON"]["Pelco-P"]["verdict"] == "failed"
    assert rows["Track ON"]["Pelco-D"]["verdict"] == "untested"


def test_failures_carry_finding_and_capped_transcript(planted_dir: Path) -> None:
    data = to_json(build_summary(load_results(planted_dir), max_transcript_lines=50))
    failures = {f["name"]: f for f in data["failures"]}
    assert set(failures) == {
        "test_zoom[CAM520Pro3-Zoom_Tele]", "test_refused[CAM520-CAM_PIP_Set_USB]",
        "test_track[pelco-p]", "test_b02[emu:ocpp]", "test_if_clear[tcp]", "test_version[emu]",
    }  # fmt: skip
    b02 = failures["test_b02[emu:ocpp]"]
    assert b02["finding"]["source"] == "attachment"
    assert b02["finding"]["received"]["decoded"] == "CALL BootNotification"
    assert b02["requirements"] == ["B02.FR.04"]
    (transcript,) = b02["transcripts"]
    assert len(transcript["lines"]) == 50
    assert transcript["more_lines"] == TRANSCRIPT_LINES + 2 - 50
    zoom = failures["test_zoom[CAM520Pro3-Zoom_Tele]"]["finding"]
    assert zoom["source"] == "message"
    assert zoom["requirement"] == ["VISCA §3.2.1 Zoom_Tele"]
    assert zoom["sent"] == {"hex": "81 01 04 07 23 FF"}
    assert zoom["received"] == {"hex": "90 60 02 FF"}
    assert zoom["expected"] == "ACK y0 4z FF"
    assert failures["test_if_clear[tcp]"]["category"] == "Device unreachable"
    assert failures["test_version[emu]"]["category"] == "Framework error"
    assert failures["test_version[emu]"]["finding"] is None
    assert data["failures_omitted"] == 0
    limited = to_json(build_summary(load_results(planted_dir), max_failures=2))
    assert (len(limited["failures"]), limited["failures_omitted"]) == (2, 4)


def test_message_that_is_no_finding_is_not_parsed_as_one() -> None:
    assert finding_from_message(FRAMEWORK) is None
    assert finding_from_message("") is None
    parsed = finding_from_message(VISCA_FINDING)
    assert parsed is not None and parsed["summary"] == "wrong reply"


# ------------------------------------------------------------------ the page


def test_page_shows_what_was_planted(planted_dir: Path, tmp_path: Path) -> None:
    page_path, json_path = write_summary(planted_dir, tmp_path / "report")
    text = page_path.read_text("utf-8")
    page = Page(text)
    assert totals_cells(page) == {**PLANTED_TOTALS, "total": 18}
    assert json.loads(json_path.read_text("utf-8"))["totals"] == totals_cells(page)
    assert page.one("td", data_category="device-unreachable")["text"] == "1"
    assert page.one("td", data_category="framework-error")["text"] == "1"
    assert page.one(id="invalid-files")["attrs"]["data-count"] == "2"
    # traceability: the failed requirement, an uncovered one
    assert page.one(data_requirement="B02.FR.04")["text"].strip().endswith("failed")
    assert page.one(data_requirement="B01.FR.02")["text"].strip().endswith("uncovered")
    assert "Not covered by any test: B01.FR.02" in text
    # the camera cell that disagrees is highlighted, the one that agrees is not
    cells = {e["attrs"]["data-model"]: e for e in page.inside(page.one(data_row="Zoom_Tele"))
             if "data-model" in e["attrs"]}  # fmt: skip
    assert cells["CAM520Pro3"]["attrs"]["class"] == "disagree"
    assert "claimed but failed" in cells["CAM520Pro3"]["text"]
    assert cells["CAM520"]["attrs"]["class"] == "agree"
    # certification figure and the failure details
    core = page.one(data_profile="Core")
    figure = page.elements[page.elements.index(core) :]
    covered = next(e for e in figure if e["attrs"].get("class") == "m-covered")
    mandatory = sum(1 for c in load_profiles()["Core"]["test_cases"] if c["cs"] == "M")
    assert covered["text"] == f"3 / {mandatory}"
    failure = page.find(data_status="failed", data_category="product-defect")
    assert len(failure) == 4
    assert f"… {TRANSCRIPT_LINES + 2 - 80} more lines" in text
    assert "sent</dt><dd><code>81 01 04 07 23 FF</code>" in text


def test_page_is_self_contained_and_escapes_test_text(tmp_path: Path) -> None:
    name = 'test_x[<script>alert("x")</script>] \ud800'  # a lone surrogate is valid JSON
    failed = result(name, "failed", epic="VISCA", message="<img src=x onerror=1>")
    page_path, _ = write_summary(write(tmp_path / "r", [failed]), tmp_path / "report")
    text = page_path.read_text("utf-8")
    page = Page(text)
    assert not [t for t, _ in page.tags if t in {"script", "img", "link", "iframe"}]
    for _, attrs in page.tags:
        for key in ("src", "href"):
            value = attrs.get(key) or ""
            assert not re.match(r"(?i)(https?:)?//", value), value
    assert "&lt;script&gt;" in text


def test_link_is_injected_once_after_body(tmp_path: Path) -> None:
    index = tmp_path / "index.html"
    index.write_text('<html><head></head><body class="x"><div id="app"></div></body></html>')
    assert inject_link(index)
    assert inject_link(index)  # a second call replaces the first link
    text = index.read_text()
    assert text.count(f'id="{LINK_ID}"') == 1
    assert text.index(f'href="{PAGE}"') > text.index("<body")
    no_body = tmp_path / "other.html"
    no_body.write_text("<html></html>")
    assert not inject_link(no_body)


# ------------------------------------------------------------------ the plugin


def test_failing_suite_test_writes_finding_and_decoded_transcript(
    pytester: pytest.Pytester,
) -> None:
    result = pytester.runpytest("--device=emu:visca?fault=wrong_reply_address", "-k",
                                "test_if_clear_is_answered")  # fmt: skip
    assert result.parseoutcomes()["failed"] == 1
    results_dir = pytester.path / "allure-results"
    (failed,) = [r for r in allure_results(results_dir) if r["status"] == "failed"]
    assert labels(failed, "requirement") == ["VISCA §3.2.1 IF_Clear"]
    by_name = {a["name"]: a for a in failed["attachments"]}
    finding = json.loads((results_dir / by_name["finding"]["source"]).read_text())
    assert finding["requirement"] == ["VISCA §3.2.1 IF_Clear"]
    assert finding["kind"] == "spec violation"
    assert finding["sent"]["hex"] == "81 01 00 01 FF"
    assert "IF_Clear" in finding["sent"]["decoded"]
    assert finding["received"]["hex"] == "A0 50 FF"
    assert finding["received"]["decoded"]
    assert finding["expected"] == "90 50 FF"
    transcript = next(a for name, a in by_name.items() if name.startswith("transcript"))
    text = (results_dir / transcript["source"]).read_text()
    assert re.search(r">  81 01 00 01 FF    IF_Clear", text)
    summary = to_json(build_summary(load_results(results_dir)))
    (shown,) = summary["failures"]
    assert shown["finding"]["source"] == "attachment"
    assert shown["transcripts"][0]["lines"]


def test_passing_suite_test_has_no_finding(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--device=emu:visca", "-k", "test_if_clear_is_answered")
    assert result.parseoutcomes()["passed"] == 1
    (passed,) = allure_results(pytester.path / "allure-results")
    assert "finding" not in [a["name"] for a in passed["attachments"]]


def test_octt_label_comes_from_the_docstring(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_tc='''
        def test_named():
            """Boot accepted (TC_B_01_CS), also TC_B_01_CSMS and TC_P_02_CSMS."""

        def test_unnamed():
            """No OCTT test case here."""
        '''
    )
    result = pytester.runpytest("--alluredir=out")
    assert result.parseoutcomes()["passed"] == 2
    by_name = {r["name"]: r for r in allure_results(pytester.path / "out")}
    assert sorted(labels(by_name["test_named"], "octt")) == ["TC_B_01", "TC_P_02"]
    assert labels(by_name["test_unnamed"], "octt") == []
