"""Check a rendered Allure report the way a reader sees it: in a real headless Chromium.

Finds and runs Chromium and puts the check together.  The report directory is
served on 127.0.0.1 by :mod:`reports.report_server`, which is also Chromium's proxy
and refuses every request for another host; every host name but 127.0.0.1 is made
unresolvable.  Chromium asks Google hosts for updates and sign-in by itself whatever
the flags say, so the requests a *page* made are told apart with Chromium's network
log (``--log-net-log``): those carry the page's origin as their initiator.  The DOM
Chromium holds after the pages rendered is read by :mod:`reports.page_checks`; the
screenshots must be PNGs of the window size that are not blank.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

from conformance.errors import FrameworkError
from reports.page_checks import (
    SUMMARY_PAGE,
    BrowserCheck,
    check_report_dom,
    check_summary_dom,
    expected_counts,
    links_to,
)
from reports.report_server import LOCAL_HOST, serve_report

ENV_VAR = "CONFORMANCE_CHROMIUM"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = f"install Debian's `chromium` package or set {ENV_VAR}"
WINDOW = (1400, 1000)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MIN_PNG_BYTES = 8_000  # a blank 1400x1000 page is about 6 kB
VIRTUAL_TIME_MS = 15_000  # virtual time: an idle page fast-forwards through it
STOP_TIMEOUT = 10.0  # seconds to wait for a killed Chromium to end

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {LOCAL_HOST}",
)


class ChromiumMissing(FrameworkError):
    """No Chromium to run; the message says how to get one."""


def find_chromium() -> str | None:
    """``$CONFORMANCE_CHROMIUM`` if set (no fallback), else the first Chromium on PATH."""
    override = os.environ.get(ENV_VAR)
    if override:
        return shutil.which(override)
    for name in CANDIDATES:
        exe = shutil.which(name)
        if exe:
            return exe
    return None


def require_chromium() -> str:
    """The Chromium to run, or :class:`ChromiumMissing` saying how to get one."""
    exe = find_chromium()
    if exe is None:
        override = os.environ.get(ENV_VAR)
        detail = f" ({ENV_VAR}={override} is not executable)" if override else ""
        raise ChromiumMissing(f"Chromium not found{detail}: {INSTALL_HINT}")
    return exe


def png_problems(path: Path, size: tuple[int, int] = WINDOW) -> list[str]:
    """A screenshot must be a PNG of the window size and not (nearly) blank."""
    if not path.is_file():
        return [f"no screenshot was written to {path.name}"]
    head = path.read_bytes()[:24]
    if not head.startswith(PNG_SIGNATURE) or head[12:16] != b"IHDR":
        return [f"{path.name} is not a PNG file"]
    width, height = struct.unpack(">II", head[16:24])
    problems = []
    if (width, height) != size:
        problems.append(f"{path.name} is {width}x{height}, not {size[0]}x{size[1]}")
    if path.stat().st_size < MIN_PNG_BYTES:
        problems.append(f"{path.name} has only {path.stat().st_size} bytes: a blank page?")
    return problems


# --- running Chromium ---------------------------------------------------------


def netlog_requests(path: Path) -> list[tuple[str, str]]:
    """``(url, initiator)`` of every URL request in a Chromium NetLog JSON file.

    The initiator is the origin of the page that caused the request, or
    ``"not an origin"`` for the browser's own requests.
    """
    try:
        log = json.loads(path.read_text(encoding="utf-8", errors="replace"))
        start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        events = log["events"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FrameworkError(f"cannot read Chromium's network log: {exc}") from exc
    requests = []
    for event in events:
        params = event.get("params") if isinstance(event, dict) else None
        if event.get("type") == start_job and isinstance(params, dict) and "url" in params:
            requests.append((str(params["url"]), str(params.get("initiator", "not an origin"))))
    return requests


def foreign_page_requests(requests: Sequence[tuple[str, str]], origin: str) -> list[str]:
    """URLs on another host than ``origin``'s that a page (not the browser) asked for."""
    own = urlsplit(origin).hostname
    found = []
    for url, initiator in requests:
        parts = urlsplit(url)
        by_page = urlsplit(initiator).scheme in {"http", "https"}
        if by_page and parts.scheme not in {"data", "blob"} and parts.hostname != own:
            found.append(url)
    return found


def _tail(data: bytes, lines: int = 6) -> str:
    kept = [ln.rstrip() for ln in data.decode("utf-8", "replace").splitlines() if ln.strip()]
    return "\n".join(kept[-lines:]) or "(no output)"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill Chromium and the helpers it started (its own process group)."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        proc.kill()
    with suppress(subprocess.TimeoutExpired):
        proc.communicate(timeout=STOP_TIMEOUT)


def run_chromium(
    exe: str, url: str, port: int, extra: Sequence[str], *, timeout: float, what: str
) -> tuple[str, list[tuple[str, str]] | None]:
    """Load ``url`` in headless Chromium with a fresh profile.

    Returns its stdout and the requests of its network log (see :func:`netlog_requests`),
    or None for the requests if Chromium wrote no network log.
    """
    with tempfile.TemporaryDirectory(
        prefix="conformance-chromium-", ignore_cleanup_errors=True
    ) as tmp:
        netlog = Path(tmp) / "netlog.json"
        argv = [
            exe,
            *CHROMIUM_FLAGS,
            f"--proxy-server=http://{LOCAL_HOST}:{port}",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            f"--log-net-log={netlog}",
            f"--virtual-time-budget={VIRTUAL_TIME_MS}",
            *extra,
            url,
        ]
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise FrameworkError(f"cannot run Chromium ({exc}): {INSTALL_HINT}") from exc
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(proc)
            raise FrameworkError(f"Chromium took longer than {timeout:.3g} s to {what}") from None
        except BaseException:
            _stop(proc)
            raise
        if proc.returncode != 0:
            rc, detail = proc.returncode, _tail(err)
            raise FrameworkError(f"Chromium exited with {rc} trying to {what}:\n{detail}")
        requests = netlog_requests(netlog) if netlog.exists() else None
    return out.decode("utf-8", "replace"), requests


def _left(deadline: float, what: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FrameworkError(f"the browser check ran out of time before it could {what}")
    return left


def _summary_shot(screenshot: Path) -> Path:
    return screenshot.with_name(f"{screenshot.stem}-summary{screenshot.suffix or '.png'}")


def _load(
    exe: str, url: str, port: int, shot: Path | None, deadline: float, what: str
) -> tuple[str, list[str], list[str]]:
    """The DOM of ``url`` after it rendered (and its screenshot in ``shot`` if asked).

    Also returns the URLs on other hosts the page asked for, and problems met.
    """
    extra = ["--dump-dom"]
    if shot is not None:
        shot.parent.mkdir(parents=True, exist_ok=True)
        shot.unlink(missing_ok=True)
        extra += [f"--screenshot={shot}", f"--window-size={WINDOW[0]},{WINDOW[1]}"]
    runs = [run_chromium(exe, url, port, extra, timeout=_left(deadline, what), what=what)]
    if shot is not None and not shot.is_file():
        # Builds that do one thing per run get a second run for the screenshot.
        left = _left(deadline, what)
        runs.append(run_chromium(exe, url, port, extra[1:], timeout=left, what=what))
    external: list[str] = []
    problems: list[str] = []
    for _, requests in runs:
        if requests is None:
            problems.append(
                f"Chromium wrote no network log to {what}: the requests of the page are unknown"
            )
        else:
            external += foreign_page_requests(requests, url)
    dom = runs[0][0]
    if not dom.strip():
        raise FrameworkError(f"Chromium printed no DOM to {what}")
    return dom, external, problems


def check_report(
    report_dir: Path,
    *,
    expect: Mapping[str, int] | None = None,
    screenshot: Path | None = None,
    timeout: float = 60,
) -> BrowserCheck:
    """Open ``report_dir`` in headless Chromium and check what it shows.

    ``expect`` maps statuses (and optionally ``total``) to counts; statuses left out
    are expected to be 0.  Without it the pages are only checked against each other.
    ``screenshot`` is where the PNG of ``index.html`` goes (the summary page's goes
    beside it, ``<stem>-summary.png``).  ``timeout`` bounds the whole check.  Raises
    :class:`ChromiumMissing` without a Chromium and :class:`FrameworkError` when the
    check cannot be run (no report, Chromium failing or too slow).
    """
    report_dir = Path(report_dir).resolve()
    screenshot = Path(screenshot).resolve() if screenshot is not None else None
    if not (report_dir / "index.html").is_file():
        raise FrameworkError(f"no index.html in {report_dir}: not a rendered report")
    expected_counts(expect)  # bad expectations fail before Chromium starts
    exe = require_chromium()

    deadline = time.monotonic() + timeout
    check = BrowserCheck()
    has_summary = (report_dir / SUMMARY_PAGE).is_file()
    pages: dict[str, Path | None] = {"index.html": screenshot}
    if has_summary:
        pages[SUMMARY_PAGE] = _summary_shot(screenshot) if screenshot is not None else None
    with serve_report(report_dir, check) as port:
        urls = {page: f"http://{LOCAL_HOST}:{port}/{page}" for page in pages}
        # The pages load side by side: each Chromium mostly waits for the page.
        with ThreadPoolExecutor(max_workers=len(pages)) as pool:
            loads = {
                page: pool.submit(_load, exe, urls[page], port, shot, deadline, f"render {page}")
                for page, shot in pages.items()
            }
            doms = {page: load.result() for page, load in loads.items()}
    for _, external, problems in doms.values():
        check.external += external
        check.problems += problems
    dom = doms["index.html"][0]
    check_report_dom(dom, urls["index.html"], expect, check)
    if has_summary:
        if not links_to(dom, urls["index.html"], SUMMARY_PAGE):
            check.problems.append(f"index.html: no link to {SUMMARY_PAGE}")
        check_summary_dom(doms[SUMMARY_PAGE][0], urls[SUMMARY_PAGE], expect, check)
    else:
        check.problems.append(f"{SUMMARY_PAGE} is missing from the report")
    for page in pages:
        statuses = [code for path, code in check.fetched if path == f"/{page}"]
        if HTTPStatus.OK not in statuses:
            check.problems.append(f"{page} was not served (HTTP {statuses or 'no request'})")
    check.problems += [f"a page asked another host for {url}" for url in check.external]
    shots = [shot for shot in pages.values() if shot is not None]
    for shot in shots:
        check.problems += png_problems(shot)
    check.screenshots = [shot for shot in shots if shot.is_file()]
    return check
