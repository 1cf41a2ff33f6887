"""``conformance``: run suites, start emulators, render reports, and (as they
land) decode, analyze captures, fuzz, replay findings and check transcripts."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from conformance import __version__, emulators
from conformance.devices.uri import DeviceSpec, parse_devices
from conformance.emulators.base import Emulator
from conformance.emulators.hosting import EmulatorHost, Listening
from conformance.errors import DeviceUnreachable, DeviceURIError, FrameworkError, UsageError

DEFAULT_RESULTS = "allure-results"
DEFAULT_REPORT = "allure-report"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _host_port(text: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = default_host, text
    host = host.strip("[]") or default_host
    try:
        number = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT") from None
    if not 0 <= number < 65536:
        raise argparse.ArgumentTypeError(f"port {number} is out of range 0..65535")
    return host, number


# ------------------------------------------------------------------ run
def cmd_run(args: argparse.Namespace) -> int:
    import pytest

    devices = args.device or ["emu"]
    try:
        parse_devices(devices, emulators.available())
    except DeviceURIError as exc:
        raise UsageError(f"conformance run: {exc}") from None
    argv = [f"--device={d}" for d in devices]
    argv += [f"--alluredir={args.results}"]
    if not args.keep_results:
        argv.append("--clean-alluredir")
    argv += args.pytest_args
    return int(pytest.main(argv))


# ------------------------------------------------------------------ emulate
def cmd_emulate(args: argparse.Namespace) -> int:
    name = args.name
    try:
        cls = emulators.emulator_class(name)
    except KeyError:
        known = sorted(set(emulators.EMULATORS) | set(emulators.ALIASES))
        raise UsageError(
            f"conformance emulate: unknown emulator {name!r} (known: {', '.join(known)})"
        ) from None
    if args.list_faults:
        for fault, what in sorted(cls.FAULTS.items()):
            print(f"{fault:<40} {what}")
        return 0
    if "ws-client" in {t for ts in cls.FACES.values() for t in ts}:
        return _emulate_dialing(cls, args)
    plan: list[tuple[str, str, str, int]] = []  # face, transport, host, port
    faces = cls.FACES
    for transport, where in (("tcp", args.tcp), ("udp", args.udp)):
        for host, port in where or []:
            face = _face_for(name, faces, transport)
            plan.append((face, transport, host, port))
    if args.pty:
        plan.append((_face_for(name, faces, "pty"), "pty", "", 0))
    if not plan:
        plan = _default_plan(name)
    options: dict[str, object] = {
        "faults": args.fault or [],
        "speed": args.speed or cls.DEFAULT_SPEED,
        "model": args.model,
    }
    if args.address is not None:
        options["address"] = args.address
    try:
        emulator = cls(**options)  # type: ignore[arg-type]
    except ValueError as exc:
        raise UsageError(f"conformance emulate: {exc}") from None
    host = EmulatorHost().start()
    try:
        listening = []
        for face, transport, bind, port in plan:
            try:
                listening.append(host.serve(emulator, face, transport, bind or "127.0.0.1", port))
            except OSError as exc:
                raise UsageError(
                    f"conformance emulate: cannot serve {face} on {transport} "
                    f"{bind}:{port}: {exc.strerror or exc}"
                ) from None
        _observe_pelco(host, emulator, listening)
        print(
            json.dumps(
                {
                    "event": "listening",
                    "emulator": cls.name,
                    "endpoints": [_endpoint_json(item, listening) for item in listening],
                }
            ),
            flush=True,
        )
        _wait_for_signal()
    finally:
        host.close()
    return 0


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass


def _emulate_dialing(cls: type[Emulator], args: argparse.Namespace) -> int:
    """An emulator that dials its peer (an OCPP charging station dialling its
    CSMS), with its control API on HTTP."""
    from urllib.parse import urlsplit

    from conformance.emulators.control_http import ControlServer
    from conformance.ocpp.security import SecurityConfig

    if not args.csms:
        raise UsageError(f"conformance emulate {args.name}: --csms ws://HOST:PORT/ is required")
    split = urlsplit(args.csms)
    if split.scheme not in ("ws", "wss") or not split.hostname:
        raise UsageError(f"conformance emulate: --csms {args.csms!r} is not a ws:// or wss:// URL")
    password = args.password or os.environ.get("CONFORMANCE_OCPP_PASSWORD")
    try:
        security = SecurityConfig(
            profile=args.profile,
            password=password,
            certfile=args.cert,
            keyfile=args.key,
            cafile=args.ca,
        )
        emulator = cls(  # type: ignore[call-arg]
            faults=args.fault or [],
            speed=args.speed or cls.DEFAULT_SPEED,
            model=args.model,
            version=args.ocpp_version,
            identity=args.id,
            evses=args.evses,
            security=security,
        )
    except ValueError as exc:
        raise UsageError(f"conformance emulate: {exc}") from None
    if (split.scheme == "wss") != (args.profile >= 2):
        raise UsageError("conformance emulate: use wss:// with --profile 2 or 3, ws:// otherwise")
    url = args.csms.rstrip("/") + "/" + args.id
    host = EmulatorHost().start()
    control = None
    try:
        if args.control:
            bind, port = args.control
            try:
                control = ControlServer(host, emulator, bind, port).start()
            except OSError as exc:
                raise UsageError(
                    f"conformance emulate: cannot serve the control API on {bind}:{port}: "
                    f"{exc.strerror or exc}"
                ) from None
        host.call(emulator.start, url)  # type: ignore[attr-defined]
        device = f"ocpp+listen://{split.hostname}:{split.port or 80}?id={args.id}"
        device += f"&version={args.ocpp_version}"
        if control is not None:
            device += f"&control=http://{control.address}"
        line = {"event": "dialing", "emulator": cls.name, "csms": url, "device": device}
        if control is not None:
            line["control"] = f"http://{control.address}"
        print(json.dumps(line), flush=True)
        _wait_for_signal()
    finally:
        if control is not None:
            control.close()
        with contextlib.suppress(Exception):
            host.call(emulator.stop)  # type: ignore[attr-defined]
        host.close()
    return 0


def _observe_pelco(host: EmulatorHost, emulator: Emulator, listening: list[Listening]) -> None:
    """Pelco has no replies: serve the same camera's VISCA face too, so the Pelco
    device URIs printed can carry ``observe=``."""
    if not any(item.face.startswith("pelco") for item in listening):
        return
    if not any(item.face == "visca" for item in listening):
        listening.append(host.serve(emulator, "visca", "pty"))


def _face_for(name: str, faces: dict[str, tuple[str, ...]], transport: str) -> str:
    if name in faces and transport in faces[name]:
        return name
    for face, transports in faces.items():
        if transport in transports:
            return face
    raise UsageError(f"conformance emulate: {name} cannot be served over {transport}")


def _default_plan(name: str) -> list[tuple[str, str, str, int]]:
    devices = [
        d for key, d in emulators.EMULATED_DEVICES.items() if key == name or (d.emulator == name)
    ]
    plan = []
    for dev in devices:
        port = 52381 if dev.face == "visca-ip" else 0
        plan.append((dev.face, dev.transport, "127.0.0.1", port))
    return plan


def _endpoint_json(item: Listening, listening: list[Listening]) -> dict[str, str]:
    out = item.as_json()
    for dev in emulators.EMULATED_DEVICES.values():
        if dev.face == item.face:
            scheme = (
                dev.scheme if item.transport != "tcp" else dev.scheme.replace("+serial", "+tcp")
            )
            out["device"] = f"{scheme}://{item.address}"
            break
    observer = next((i for i in listening if i.face == "visca"), None)
    if item.face.startswith("pelco") and observer is not None:
        out["device"] += f"?observe={_endpoint_json(observer, [])['device']}"
    return out


# ------------------------------------------------------------------ report
def cmd_check_transcript(args: argparse.Namespace) -> int:
    from conformance.at.check_log import MODULES, check_log, dumps

    if args.module not in MODULES:
        raise UsageError(f"conformance check-transcript: unknown module {args.module!r} "
                         f"(known: {', '.join(MODULES)})")  # fmt: skip
    path = Path(args.log)
    if not path.is_file():
        raise UsageError(f"conformance check-transcript: no log file {args.log}")
    report = check_log(path, module=args.module, async_timeout=args.async_timeout)
    print(dumps(report) if args.json else report.render())
    return 1 if report.violations else 0


def cmd_report(args: argparse.Namespace) -> int:
    from reports.allure_cli import generate

    index = generate(
        Path(args.results),
        Path(args.output),
        single_file=args.single_file,
        junit=Path(args.junit) if args.junit else None,
    )
    print(f"report: {index}")
    print(f"summary: {index.with_name('conformance-summary.html')}")
    return _check_in_browser(index.parent) if args.check else 0


def _check_in_browser(report: Path) -> int:
    """Open the report in headless Chromium: the numbers it shows must be the run's
    (those of the summary), no page may reach another host; a screenshot is kept."""
    from reports.browser import ChromiumMissing, check_report
    from reports.summary_page import DATA

    try:
        totals = json.loads((report / DATA).read_text(encoding="utf-8"))["totals"]
        check = check_report(report, expect=totals, screenshot=report / "screenshot.png")
    except ChromiumMissing as exc:
        print(f"browser check skipped: {exc}")
        return 0
    for problem in check.problems:
        print(f"browser check: {problem}", file=sys.stderr)
    if check.problems:
        return 1
    shown = ", ".join(f"{k} {v}" for k, v in check.report_counts.items())
    print(f"browser check: ok ({shown}); screenshots: {', '.join(map(str, check.screenshots))}")
    return 0


# ------------------------------------------------------------------ decode
def cmd_decode(args: argparse.Namespace) -> int:
    from conformance.decode import decode_hex, describe_line

    hex_args: list[str] = []
    for arg in args.hex:
        if arg == "-":  # one argument per line; blank lines and # comments skipped
            lines = (line.split("#", 1)[0] for line in sys.stdin.read().splitlines())
            hex_args += [line for line in lines if line.strip()]
        else:
            hex_args.append(arg)
    if not hex_args:
        raise UsageError("conformance decode: no hex on standard input")
    try:
        decoded = decode_hex(args.protocol, hex_args, model=args.model)
    except ValueError as exc:
        raise UsageError(f"conformance decode: {exc}") from None
    if args.json:
        print(json.dumps([item.to_json() for item in decoded], indent=2))
    else:
        for item in decoded:
            print(describe_line(item))
    return 0 if all(item.valid for item in decoded) else 1


def _add_decode_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    decode = sub.add_parser(
        "decode",
        help="decode protocol messages given as hex",
        description="Name and check each message: one line per message (its hex, then "
        "name, fields and problems), or a JSON array with --json.  HEX may be spaced "
        "or separated by : - , with optional 0x prefixes, and may hold a stream of "
        "several VISCA or Pelco messages; a VISCA-over-IP argument is one datagram.  "
        "A VISCA reply is named after the request before it.  HEX '-' reads one "
        "argument per line from standard input.  Exit status: 0 if every message is "
        "valid, 1 if any is not, 2 for bad input.",
    )
    decode.add_argument(
        "--protocol", required=True, choices=["visca", "visca-ip", "pelco-d", "pelco-p"]
    )
    decode.add_argument("--json", action="store_true", help="print a JSON array")
    decode.add_argument("--model", help="model profile, for rows that share bytes (VISCA)")
    decode.add_argument("hex", nargs="+", metavar="HEX", help="message bytes in hex, or -")
    decode.set_defaults(func=cmd_decode)


# ------------------------------------------------------------------ fuzz, replay
def _device_arg(command: str, uri: str | None) -> DeviceSpec:
    if not uri:
        raise UsageError(f"conformance {command}: --device URI is required")
    try:
        (spec,) = parse_devices([uri], emulators.available())
    except DeviceURIError as exc:
        raise UsageError(f"conformance {command}: {exc}") from None
    except ValueError:
        raise UsageError(
            f"conformance {command}: give one device (emu:NAME, not emu), e.g. emu:visca-ip"
        ) from None
    return spec


def cmd_fuzz(args: argparse.Namespace) -> int:
    from fuzz.campaign import CampaignConfig, parse_duration, run_campaign, summary
    from fuzz.database import DatabaseError, open_database
    from fuzz.target import TARGETS

    spec = _device_arg("fuzz", args.device)
    if args.protocol is not None and args.protocol not in TARGETS:
        raise UsageError(
            f"conformance fuzz: no fuzz target for protocol {args.protocol!r} "
            f"(known: {', '.join(sorted(TARGETS))})"
        )
    if args.protocol is not None and args.protocol not in spec.speaks:
        raise UsageError(f"conformance fuzz: {spec.masked} does not speak {args.protocol}")
    if args.max_cases is not None and args.duration is not None:
        raise UsageError("conformance fuzz: give --max-cases or --duration, not both")
    if args.max_cases is not None and args.max_cases < 1:
        raise UsageError("conformance fuzz: --max-cases must be at least 1")
    if args.workers < 1:
        raise UsageError("conformance fuzz: --workers must be at least 1")
    if args.workers > 1 and spec.link == "listen":
        raise UsageError("conformance fuzz: a station dials one CSMS; use --workers 1")
    try:
        duration = parse_duration(args.duration) if args.duration is not None else None
    except ValueError as exc:
        raise UsageError(f"conformance fuzz: --duration: {exc}") from None
    corpus = Path(args.corpus)
    if corpus.exists() and not corpus.is_dir():
        raise UsageError(f"conformance fuzz: --corpus {args.corpus} is not a directory")
    try:
        if args.db:
            open_database(args.db, corpus)
        corpus.mkdir(parents=True, exist_ok=True)
    except DatabaseError as exc:
        raise UsageError(f"conformance fuzz: {exc}") from None
    except OSError as exc:
        raise UsageError(f"conformance fuzz: --corpus {args.corpus}: {exc.strerror}") from None
    config = CampaignConfig(
        device=args.device,
        protocol=args.protocol,
        max_cases=args.max_cases,
        duration=duration,
        seed=args.seed,
        corpus=corpus,
        workers=args.workers,
        db=args.db,
        results=Path(args.results) if args.results else None,
        progress=not args.quiet,
        recovery=args.recovery,
        mode=args.mode,
    )

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)  # saved and resumable, like Ctrl-C
    result = run_campaign(config)
    info = summary(config, spec, result)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        resumed = " (resumed)" if result.resumed else ""
        print(
            f"{spec.masked}: {result.cases} cases in {result.seconds:.1f} s "
            f"({result.cases_per_second:.0f}/s){resumed}, seed {result.seed}, "
            f"{len(result.findings)} new finding(s), stopped: {result.stopped}"
            + (f" ({result.detail})" if result.detail else "")
        )
        for path in result.findings:
            print(f"  {path}   replay: conformance replay {path} --device {spec.masked}")
        if result.framework_errors:
            print(f"  {result.framework_errors} framework error(s): {corpus}/framework-errors.log")
    if result.stopped == "unreachable":
        return 3
    if result.stopped == "interrupted":
        return 130
    return 1 if result.findings or result.stopped == "device gone" else 0


def cmd_replay(args: argparse.Namespace) -> int:
    from fuzz.replay import replay
    from fuzz.store import BadFindingFile

    spec = _device_arg("replay", args.device)
    try:
        replayed = replay(Path(args.finding), args.device, recovery=args.recovery)
    except BadFindingFile as exc:
        raise UsageError(f"conformance replay: {exc}") from None
    except ValueError as exc:
        raise UsageError(f"conformance replay: {exc}") from None
    except DeviceUnreachable as exc:
        print(f"conformance replay: device unreachable: {exc}", file=sys.stderr)
        return 3
    finding = replayed.finding
    print(f"finding {finding.id}: {finding.observation.render()}")
    if replayed.reproduced:
        print(f"REPRODUCED (found on {finding.data['device']}, replayed on {spec.masked})")
    else:
        print("not reproduced")
    for observation in replayed.observations:
        print(observation.render())
    return 1 if replayed.reproduced else 0


def _add_fuzz_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fuzz = sub.add_parser(
        "fuzz",
        help="run a fuzzing campaign against a device",
        description="Fuzz a device with cases drawn from its protocol's command table or "
        "schemas, checking liveness after every program.  Each finding is written to "
        "--corpus as NNNN.json with a minimal reproducer before it is reported.  Running "
        "the same command again resumes the campaign.  Exit status: 0 no new finding, 1 "
        "new findings (or the device died), 2 bad input, 3 device unreachable.",
    )
    fuzz.add_argument("--device", metavar="URI", help="the device, e.g. visca-ip://10.0.0.5")
    fuzz.add_argument("--protocol", help="protocol to fuzz (default: the device's)")
    budget = fuzz.add_mutually_exclusive_group()
    budget.add_argument("--max-cases", type=int, metavar="N", help="stop after N cases")
    budget.add_argument("--duration", metavar="T", help="stop after T (90s, 15m, 2h; default 60s)")
    fuzz.add_argument("--seed", type=int, help="campaign seed (default: random, printed)")
    fuzz.add_argument("--corpus", default="fuzz-findings", metavar="DIR",
                      help="findings and campaign state (default: %(default)s)")  # fmt: skip
    fuzz.add_argument("--workers", type=int, default=1, metavar="N", help="parallel workers")
    fuzz.add_argument("--db", metavar="URL", help="shared example database: a directory or "
                      "redis://HOST:PORT/N (default: DIR/.hypothesis)")  # fmt: skip
    fuzz.add_argument("--results", metavar="DIR", help="also write Allure results here")
    fuzz.add_argument("--recovery", type=float, default=10.0, metavar="SECONDS",
                      help="how long a silent device gets to answer the probe again before "
                      "it counts as crashed (default: %(default)s)")  # fmt: skip
    fuzz.add_argument("--mode", choices=("programs", "stateful", "both"), default="both",
                      help="message programs, the protocol's state machine, or both")  # fmt: skip
    fuzz.add_argument("--json", action="store_true", help="print the summary as JSON")
    fuzz.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    fuzz.set_defaults(func=cmd_fuzz)

    replay = sub.add_parser(
        "replay",
        help="re-run one fuzz finding against a device",
        description="Send a finding's reproducer to the device, through the same checks.  "
        "Exit status: 1 reproduced, 0 not reproduced, 2 bad input, 3 device unreachable.",
    )
    replay.add_argument("finding", help="a finding file (NNNN.json)")
    replay.add_argument("--device", metavar="URI", help="the device")
    replay.add_argument("--recovery", type=float, default=10.0, metavar="SECONDS",
                        help="how long a silent device gets to answer the probe again")  # fmt: skip
    replay.set_defaults(func=cmd_replay)


# ------------------------------------------------------------------ not built yet
# ------------------------------------------------------------------ analyze
def cmd_analyze(args: argparse.Namespace) -> int:
    from conformance.analyze.command import run

    return run(
        args.capture,
        json_out=args.json,
        allure=args.allure,
        ports=args.port,
        protocol=args.protocol,
    )


def _add_analyze_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    analyze = sub.add_parser(
        "analyze",
        help="analyze a packet capture (pcap/pcapng) or a serial log",
        description="Read CAPTURE (pcap or pcapng, streamed; or a serial hex dump or "
        "timestamped byte log) and check every VISCA-over-IP, raw VISCA or Pelco and "
        "OCPP-J conversation in it: pairing, latency, sequence numbers, framing, "
        "checksums, schemas and the offline checks the suites make.  Prints a summary "
        "table (or JSON) and can write Allure results, so a capture shows up in the same "
        "report as live runs.  Exit status: 0 no violation, 1 violations, 2 bad input.",
    )
    analyze.add_argument("capture", help="pcap, pcapng, hex dump or timestamped byte log")
    analyze.add_argument("--json", action="store_true", help="JSON output")
    analyze.add_argument("--allure", metavar="DIR", help="also write Allure results to DIR")
    analyze.add_argument(
        "--port",
        metavar="P=N,...",
        help="protocol ports, added to the defaults visca-ip=52381,visca-tcp=5678,"
        "ocpp=9000 (also pelco-d-tcp=N, pelco-p-tcp=N); repeat a name for several ports",
    )
    analyze.add_argument(
        "--protocol",
        choices=("visca", "pelco-d", "pelco-p"),
        help="protocol of a serial log (default: guessed from the bytes)",
    )
    analyze.set_defaults(func=cmd_analyze)


# ------------------------------------------------------------------ parser
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="conformance",
        description="Protocol conformance and fuzz testing: "
        "run suites, start emulators, render reports, decode messages, analyze "
        "captures, fuzz devices and check AT-command transcripts.",
    )
    parser.add_argument("--version", action="version", version=f"conformance {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser(
        "run",
        help="run the conformance suites against devices (pytest with defaults)",
        description="Run the suites for every --device (default: emu, all built-in "
        "emulators).  Allure results go to ./allure-results, replacing the previous run "
        "unless --keep-results.  Any other argument goes to pytest (e.g. -k, -x).",
    )
    run.add_argument(
        "--device",
        action="append",
        metavar="URI",
        help="device URI (repeatable); see the README for the grammar",
    )
    run.add_argument(
        "--results",
        default=DEFAULT_RESULTS,
        metavar="DIR",
        help="Allure results directory (default: %(default)s)",
    )
    run.add_argument(
        "--keep-results",
        action="store_true",
        help="add to the results directory instead of replacing it",
    )
    run.set_defaults(func=cmd_run)

    emulate = sub.add_parser(
        "emulate",
        help="start a built-in emulator until interrupted",
        description="Start an emulator and print one JSON line saying where it listens "
        "(and the --device URI to reach it).  Runs until SIGINT or SIGTERM.",
    )
    emulate.add_argument(
        "name",
        help="emulator: " + ", ".join(sorted(set(emulators.EMULATORS) | set(emulators.ALIASES))),
    )
    emulate.add_argument(
        "--tcp",
        action="append",
        type=_host_port,
        metavar="HOST:PORT",
        help="serve the byte-stream protocol on TCP",
    )
    emulate.add_argument(
        "--udp",
        action="append",
        type=_host_port,
        metavar="HOST:PORT",
        help="serve the datagram protocol (VISCA over IP) on UDP",
    )
    emulate.add_argument("--pty", action="store_true", help="serve on a new pseudo-terminal")
    emulate.add_argument("--model", help="model profile to emulate")
    emulate.add_argument(
        "--fault",
        action="append",
        metavar="NAME",
        help="switch on a fault (repeatable); --list-faults shows them",
    )
    emulate.add_argument(
        "--list-faults",
        action="store_true",
        help="print the emulator's fault switches and what each breaks, then exit",
    )
    emulate.add_argument(
        "--speed",
        type=float,
        default=None,
        help="time compression: emulated seconds per real second (default: the "
        "emulator's own, 1 for cameras and modules, 50 for the OCPP station)",
    )
    emulate.add_argument("--address", type=int, help="device address")
    ocpp = emulate.add_argument_group("OCPP charging station (emulate ocpp)")
    ocpp.add_argument("--csms", metavar="URL", help="CSMS to dial, e.g. ws://127.0.0.1:9000/")
    ocpp.add_argument("--id", default="CS001", help="station identity (default: %(default)s)")
    ocpp.add_argument("--evses", type=int, default=2, help="EVSEs, one connector each")
    ocpp.add_argument(
        "--ocpp-version", choices=("2.1", "2.0.1"), default="2.1", help="OCPP version"
    )
    ocpp.add_argument(
        "--control",
        type=_host_port,
        metavar="HOST:PORT",
        help="serve the control API (plug, present_token, go_offline...) as JSON over HTTP",
    )
    ocpp.add_argument("--profile", type=int, choices=(0, 1, 2, 3), default=0,
                      help="security profile (OCPP 2.1 Part 2 A00)")  # fmt: skip
    ocpp.add_argument("--password", help="BasicAuthPassword (profiles 1, 2); or set "
                      "CONFORMANCE_OCPP_PASSWORD so it stays out of the process list")  # fmt: skip
    ocpp.add_argument("--cert", help="station certificate (PEM), profile 3")
    ocpp.add_argument("--key", help="station private key (PEM), profile 3")
    ocpp.add_argument("--ca", help="CA certificate that signed the CSMS certificate (PEM)")
    emulate.set_defaults(func=cmd_emulate)

    report = sub.add_parser(
        "report",
        help="render Allure results as an HTML report (Allure 3, offline)",
        description="Render RESULTS_DIR with Allure 3 into OUT, keeping the history of "
        "earlier runs beside it, with a conformance summary page (per protocol, model "
        "and use case; the OCPP requirement traceability matrix and certification "
        "profiles; the camera model support matrix) and JUnit XML.  Needs no network.",
    )
    report.add_argument("results", nargs="?", default=DEFAULT_RESULTS, metavar="RESULTS_DIR")
    report.add_argument("-o", "--output", default=DEFAULT_REPORT, metavar="OUT")
    report.add_argument(
        "--single-file",
        action="store_true",
        help="one self-contained HTML file that opens from disk",
    )
    report.add_argument(
        "--check",
        action="store_true",
        help="open the rendered report in headless Chromium and check that it shows the "
        "run's numbers and reaches no other host; keeps OUT/screenshot.png",
    )
    report.add_argument(
        "--junit",
        metavar="FILE",
        help="also write the JUnit XML for CI systems to FILE (OUT/junit.xml is always written)",
    )
    report.set_defaults(func=cmd_report)

    _add_decode_parser(sub)
    _add_fuzz_parsers(sub)

    check = sub.add_parser(
        "check-transcript",
        help="check a recorded AT-command log against a module's manual",
        description="Check a recorded AT log (plain lines, or lines with [12:00:01.123] or "
        "ISO timestamps, with or without > and < direction marks) against the module's "
        "manual: forms, parameters, responses, final and asynchronous results, URCs, and "
        "timing where timestamps allow.  Each violation names its line and the manual "
        "section; the exit status is 1 if there is any.",
    )
    check.add_argument("log", help="the log file")
    check.add_argument("--module", default="bc26", help="module manual (default: %(default)s)")
    check.add_argument("--json", action="store_true", help="JSON output")
    check.add_argument(
        "--async-timeout",
        type=float,
        metavar="SECONDS",
        help="bound on CONNECT/UPDATE/CLOSE/SEND results (default 128)",
    )
    check.set_defaults(func=cmd_check_transcript)

    _add_analyze_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra and getattr(args, "command", None) != "run":
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        if getattr(args, "command", None) == "run":
            args.pytest_args = [a for a in extra if a != "--"]
        if getattr(args, "func", None) is None:
            parser.print_help()
            return 2
        return int(args.func(args))
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except FrameworkError as exc:
        print(f"conformance: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
