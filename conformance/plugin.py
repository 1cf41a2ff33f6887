"""The pytest plugin: ``pytest --device=URI``.

* ``--device`` (repeatable) names the devices under test; ``emu`` means every
  built-in emulator.  Bad URIs are a one-line usage error.
* With a device and no test paths, the installed suites are run.
* A suite marks the protocol it tests (``@pytest.mark.protocol("visca")``) and
  takes the ``device`` fixture; it runs once per matching device and is skipped,
  with the URI it would need, when none matches.
* ``emu:NAME`` starts the emulator in-process once per run and resets it
  before every test.
* Every test gets a fresh transcript per device, attached to its Allure result;
  Allure results go to ``./allure-results`` unless ``--alluredir`` says otherwise.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import pkgutil
from collections.abc import Generator, Iterator
from pathlib import Path

import allure
import pytest

from conformance import emulators
from conformance.allure_support import (
    FINDING_ATTACHMENT,
    finding_record,
    label_item,
    write_categories,
    write_environment,
)
from conformance.devices.base import Device
from conformance.devices.pool import DevicePool
from conformance.devices.uri import EXAMPLES, DeviceSpec, parse_devices
from conformance.errors import DeviceURIError, Finding, FrameworkError
from conformance.transcript import Transcript

DEFAULT_RESULTS = "allure-results"

specs_key = pytest.StashKey[list[DeviceSpec]]()
pool_key = pytest.StashKey[DevicePool]()
transcripts_key = pytest.StashKey[list[Transcript]]()
devices_key = pytest.StashKey[list[Device]]()


def suites_dir() -> Path:
    import suites

    return Path(suites.__file__).parent


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "protocol conformance testing")
    group.addoption(
        "--device",
        action="append",
        default=[],
        metavar="URI",
        help="device under test, e.g. visca+serial:///dev/ttyUSB0?address=1, "
        "visca-ip://HOST, ocpp+listen://0.0.0.0:9000?id=CS001, emu (every built-in "
        "emulator) or emu:NAME.  May be given several times.",
    )
    group.addoption(
        "--operator",
        choices=("skip", "prompt"),
        default="skip",
        help="steps that need a person at a real device (plug a cable, present a card): "
        "'prompt' asks on the terminal and waits for Enter; 'skip' (default) skips "
        "those tests, naming the action.  Devices with a control API never ask.",
    )
    group.addoption(
        "--fuzz-examples",
        type=int,
        default=100,
        metavar="N",
        help="programs each fuzz test (pytest fuzz/) runs (default: %(default)s)",
    )
    group.addoption(
        "--fuzz-corpus",
        default="fuzz-findings",
        metavar="DIR",
        help="where fuzz tests write findings as reproducer files (default: %(default)s)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, args: list[str]) -> None:
    """``pytest --device=...`` with no test paths runs the installed suites."""
    namespace = early_config.known_args_namespace
    if getattr(namespace, "device", None) and not getattr(namespace, "file_or_dir", None):
        args.append(str(suites_dir()))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "protocol(name): the protocol a suite tests")
    config.addinivalue_line("markers", "feature(name): command group or functional block")
    config.addinivalue_line("markers", "story(name): command or use case")
    config.addinivalue_line("markers", "requirement(*ids): spec rows or requirement IDs")
    try:
        specs = parse_devices(config.getoption("device"), emulators.available())
        for spec in specs:
            _check_emulated(spec)
    except DeviceURIError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[specs_key] = specs
    config.stash[pool_key] = DevicePool()
    _register_states(config)
    if specs and hasattr(config.option, "allure_report_dir"):
        if not config.option.allure_report_dir:
            config.option.allure_report_dir = DEFAULT_RESULTS
        results = Path(config.option.allure_report_dir)
        write_categories(results)
        write_environment(results, specs, {})


def _register_states(config: pytest.Config) -> None:
    """Each suite package's ``states`` module holds its reusable states
    (configured, registered, Booted...) as fixtures for all its test modules."""
    import suites

    for info in pkgutil.iter_modules(suites.__path__):
        name = f"suites.{info.name}.states"
        if info.ispkg and importlib.util.find_spec(name) is not None:
            module = importlib.import_module(name)
            if not config.pluginmanager.is_registered(module):
                config.pluginmanager.register(module, name)


def _check_emulated(spec: DeviceSpec) -> None:
    if spec.emulator is None:
        return
    how = emulators.EMULATED_DEVICES.get(spec.emulator)
    if how is None:
        raise DeviceURIError(
            f"--device {spec.masked!r}: the {spec.emulator} emulator is not built yet "
            f"(available: {', '.join(emulators.available())})"
        )
    cls = emulators.EMULATORS[how.emulator]
    if spec.model is not None and spec.model not in (cls.MODELS or ()):
        raise DeviceURIError(
            f"--device {spec.masked!r}: the {spec.emulator} emulator has no model {spec.model} "
            f"(known: {', '.join(cls.MODELS or ()) or 'none'})"
        )
    known = cls.FAULTS
    unknown = [f for f in spec.faults if f not in known]
    if unknown:
        raise DeviceURIError(
            f"--device {spec.masked!r}: unknown fault {', '.join(unknown)} "
            f"(known: {', '.join(sorted(known))})"
        )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "device" not in metafunc.fixturenames:
        return
    mark = metafunc.definition.get_closest_marker("protocol")
    if mark is None or not mark.args:
        raise FrameworkError(
            f"{metafunc.definition.nodeid} uses the device fixture without a protocol mark"
        )
    protocol = mark.args[0]
    specs = [s for s in metafunc.config.stash[specs_key] if protocol in s.speaks]
    if specs:
        metafunc.parametrize("device", specs, ids=[s.id for s in specs], indirect=True)
    else:
        reason = (
            f"no --device for protocol {protocol!r}: give "
            f"{EXAMPLES.get(protocol, 'a matching device URI')}"
        )
        metafunc.parametrize(
            "device",
            [pytest.param(None, marks=pytest.mark.skip(reason=reason))],
            ids=[f"no-{protocol}-device"],
            indirect=True,
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        spec = None
        callspec = getattr(item, "callspec", None)
        if callspec is not None and isinstance(callspec.params.get("device"), DeviceSpec):
            spec = callspec.params["device"]
        label_item(item, spec)


@pytest.fixture
def device(request: pytest.FixtureRequest) -> Iterator[Device]:
    """The device under test, opened once per run and settled before each test."""
    spec: DeviceSpec | None = getattr(request, "param", None)
    if spec is None:
        pytest.skip("no device")
    opened = request.config.stash[pool_key].get(spec)
    transcript = Transcript(spec.masked)
    request.node.stash.setdefault(transcripts_key, []).append(transcript)
    dev = opened.device
    dev.use_transcript(transcript)
    if opened.emulator is not None:
        pool = request.config.stash[pool_key]
        assert pool.host is not None
        pool.host.call(opened.emulator.reset)
    dev.settle()
    request.node.stash.setdefault(devices_key, []).append(dev)
    transcript.note("test starts")
    yield dev
    if opened.emulator is not None and len(opened.emulator.internal_errors) > opened.errors_seen:
        new = opened.emulator.internal_errors[opened.errors_seen :]
        opened.errors_seen = len(opened.emulator.internal_errors)
        raise FrameworkError(f"emulator {spec.emulator} failed internally:\n" + new[-1])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """After a test's own steps pass, each device gets its say (stray lines...)."""
    result = yield
    for dev in item.stash.get(devices_key, []):
        dev.after_test()
    return result


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" or (report.when == "setup" and report.failed):
        error = call.excinfo.value if call.excinfo is not None else None
        if report.failed and isinstance(error, Finding):
            allure.attach(
                json.dumps(finding_record(error, item.stash.get(transcripts_key, [])), indent=2),
                name=FINDING_ATTACHMENT,
                attachment_type=allure.attachment_type.JSON,
            )
        for transcript in item.stash.get(transcripts_key, []):
            if len(transcript):
                allure.attach(
                    transcript.render(),
                    name=f"transcript {transcript.name}",
                    attachment_type=allure.attachment_type.TEXT,
                )
                if report.failed:
                    report.sections.append((f"transcript {transcript.name}", transcript.render()))


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    pool = config.stash.get(pool_key, None)
    if pool is None:
        return
    info = {uri: opened.device.info for uri, opened in pool.opened.items()}
    results = getattr(config.option, "allure_report_dir", None)
    if results and config.stash.get(specs_key, []):
        write_environment(Path(results), config.stash[specs_key], info)
    pool.close()
