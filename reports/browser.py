"""Check a rendered Allure report the way a reader sees it: in a real headless Chromium.

The report directory is served over HTTP on 127.0.0.1 (the awesome app fetches its
data files, which ``file://`` pages may not do) and opened with headless Chromium.
Every host name but 127.0.0.1 is made unresolvable and every request for another host
is sent to the same server as a proxy, which refuses and records it, so nothing leaves
the machine.  Chromium asks Google hosts for updates and sign-in by itself whatever
the flags say, so the requests a *page* made are told apart with Chromium's network
log (``--log-net-log``): those carry the page's origin as their initiator.

The DOM Chromium holds after the app rendered is read for the numbers the report shows
(the awesome app's ``data-testid`` markers: the ``metadata-item-*`` header and the
``tab-*`` counters above the test tree); ``conformance-summary.html`` is read for its
``<table id="totals">`` cells (``data-status`` = status or ``total``, the count as text).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from html.parser import HTMLParser
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from conformance.errors import FrameworkError
from reports.allure_cli import is_inline_tracker
from reports.summary_page import PAGE

ENV_VAR = "CONFORMANCE_CHROMIUM"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = f"install Debian's `chromium` package or set {ENV_VAR}"
SUMMARY_PAGE = PAGE
STATUSES = ("passed", "failed", "broken", "skipped", "unknown")
KEYS = (*STATUSES, "total")
WINDOW = (1400, 1000)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MIN_PNG_BYTES = 8_000  # a blank 1400x1000 page is about 6 kB
VIRTUAL_TIME_MS = 15_000  # virtual time: an idle page fast-forwards through it
IO_TIMEOUT = 10.0  # seconds, for each socket of the report server

LOCAL_HOST = "127.0.0.1"
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
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
    | {"source", "track", "wbr"}
)


class ChromiumMissing(FrameworkError):
    """No Chromium to run; the message says how to get one."""


@dataclass
class BrowserCheck:
    """What headless Chromium showed; ``problems == []`` means the report passed."""

    report_counts: dict[str, int] = field(default_factory=dict)  # header: total and statuses
    tab_counts: dict[str, int] = field(default_factory=dict)  # counters above the tree
    tree_leaves: int = 0  # test rows rendered in the tree
    summary_counts: dict[str, int] | None = None  # conformance-summary.html #totals
    screenshots: list[Path] = field(default_factory=list)
    fetched: list[tuple[str, int]] = field(default_factory=list)  # (served path, HTTP status)
    external: list[str] = field(default_factory=list)  # URLs on other hosts the pages asked for
    blocked: list[str] = field(default_factory=list)  # all refused proxy requests, Chromium's too
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


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


# --- a minimal DOM ------------------------------------------------------------


@dataclass
class Node:
    """An element of a serialised DOM, enough to find markers and read their text."""

    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def iter(self) -> Iterator[Node]:
        """This element and every element below it, in document order."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed([c for c in node.children if isinstance(c, Node)]))

    def text(self) -> str:
        parts: list[str] = []
        stack: list[Node | str] = [self]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                parts.append(item)
            else:
                stack.extend(reversed(item.children))
        return "".join(parts)

    def find_all(self, attr: str, value: str | re.Pattern[str] | None = None) -> list[Node]:
        """Elements carrying ``attr`` (equal to, or fully matching, ``value`` if given)."""
        found = []
        for node in self.iter():
            got = node.attrs.get(attr)
            if got is None:
                continue
            if value is None or (
                got == value if isinstance(value, str) else value.fullmatch(got) is not None
            ):
                found.append(node)
        return found

    def find(self, attr: str, value: str | re.Pattern[str] | None = None) -> Node | None:
        found = self.find_all(attr, value)
        return found[0] if found else None


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self._stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self._stack[-1].children.append(node)
        if tag not in _VOID:
            self._stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._stack) - 1, 0, -1):
            if self._stack[depth].tag == tag:
                del self._stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self._stack[-1].children.append(data)


def parse_dom(html: str) -> Node:
    """The element tree of ``html`` (as Chromium's ``--dump-dom`` serialises it)."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


# --- what the pages must show -------------------------------------------------


def _count(text: str) -> int | None:
    text = text.strip().replace(",", "").replace("\u00a0", "")
    return int(text) if text.isdigit() else None


def _expected(expect: Mapping[str, int] | None) -> dict[str, int] | None:
    """``expect`` completed: statuses left out are 0, ``total`` defaults to their sum."""
    if expect is None:
        return None
    unknown = sorted(set(expect) - set(KEYS))
    if unknown:
        raise FrameworkError(f"unknown keys in expect: {', '.join(unknown)} (use {KEYS})")
    if any(not isinstance(v, int) or v < 0 for v in expect.values()):
        raise FrameworkError(f"expect needs counts >= 0, not {dict(expect)}")
    full = {status: expect.get(status, 0) for status in STATUSES}
    full["total"] = expect.get("total", sum(full.values()))
    return full


def _consistency(counts: Mapping[str, int], where: str) -> list[str]:
    shown = [counts[s] for s in STATUSES if s in counts]
    if "total" in counts and shown and sum(shown) != counts["total"]:
        return [f"{where}: the statuses add up to {sum(shown)}, not the total {counts['total']}"]
    return []


def tracker_problems(root: Node, page_url: str, page: str) -> list[str]:
    """Scripts from another host and inline analytics snippets left in a page."""
    problems = []
    own_host = urlsplit(page_url).hostname
    for node in root.iter():
        if node.tag != "script":
            continue
        src = node.attrs.get("src")
        if src:
            url = urljoin(page_url, src)
            host = urlsplit(url).hostname
            if urlsplit(url).scheme != "data" and host != own_host:
                problems.append(f"{page}: script from another host remains: {url}")
            continue
        body = node.text()
        if is_inline_tracker(body):
            problems.append(f"{page}: inline analytics script remains: {body.strip()[:80]!r}")
    return problems


def _app_numbers(root: Node, check: BrowserCheck) -> None:
    for item in root.find_all("data-testid", re.compile(r"metadata-item-[\w-]+")):
        key = item.attrs["data-testid"].removeprefix("metadata-item-")
        value = item.find("data-testid", "metadata-value")
        count = _count(value.text()) if value is not None else None
        if key in KEYS and count is not None:
            check.report_counts[key] = count
    for tab in root.find_all("data-testid", re.compile(r"tab-[\w-]+")):
        key = tab.attrs["data-testid"].removeprefix("tab-")
        key = "total" if key == "all" else key
        counter = tab.find("data-testid", "counter")
        count = _count(counter.text()) if counter is not None else None
        if key in KEYS and count is not None:
            check.tab_counts[key] = count
    check.tree_leaves = len(root.find_all("data-testid", "tree-leaf"))


def check_report_dom(
    html: str, page_url: str, expect: Mapping[str, int] | None, check: BrowserCheck
) -> None:
    """Read the rendered awesome app into ``check`` and add what is wrong to its problems."""
    root = parse_dom(html)
    check.problems += tracker_problems(root, page_url, "index.html")
    app = root.find("id", "app")
    if app is None or not any(isinstance(c, Node) for c in app.children):
        check.problems.append("index.html: the Allure app did not render (#app is empty)")
        return
    missing = [
        marker
        for marker in ("report-header", "tree-content")
        if root.find("data-testid", marker) is None
    ]
    if root.find("id", "allure-app-loader") is not None:
        missing.append("(the loading screen is still up)")
    if missing:
        check.problems.append(f"index.html: the report did not finish rendering: {missing}")
        return
    _app_numbers(root, check)
    shown = check.report_counts
    if "total" not in shown:
        check.problems.append("index.html: the report shows no total test count")
    check.problems += _consistency(shown, "index.html")
    for key, count in check.tab_counts.items():
        if key in shown and shown[key] != count:
            check.problems.append(
                f"index.html: the {key} tab counts {count} but the header shows {shown[key]}"
            )
    expected = _expected(expect)
    for key, want in (expected or {}).items():
        got = shown.get(key, 0)  # the app leaves statuses without tests out
        if got != want:
            check.problems.append(f"index.html: the report shows {key} = {got}, expected {want}")


def check_summary_dom(
    html: str, page_url: str, expect: Mapping[str, int] | None, check: BrowserCheck
) -> None:
    """Read ``#totals`` of the summary page into ``check`` and add what is wrong."""
    root = parse_dom(html)
    check.problems += tracker_problems(root, page_url, SUMMARY_PAGE)
    table = root.find("id", "totals")
    if table is None:
        check.problems.append(f'{SUMMARY_PAGE}: no <table id="totals">')
        return
    counts: dict[str, int] = {}
    for cell in table.find_all("data-status"):
        key, count = cell.attrs["data-status"], _count(cell.text())
        if key not in KEYS:
            check.problems.append(f"{SUMMARY_PAGE}: unknown data-status {key!r}")
        elif count is None:
            check.problems.append(f"{SUMMARY_PAGE}: the {key} cell is not a count: {cell.text()!r}")
        else:
            counts[key] = count
    check.summary_counts = counts
    if "total" not in counts:
        check.problems.append(f"{SUMMARY_PAGE}: #totals has no total cell")
    check.problems += _consistency(counts, SUMMARY_PAGE)
    expected = _expected(expect)
    if expected is None:  # no numbers given: the summary must agree with the report
        expected = {k: check.report_counts.get(k, 0) for k in counts}
        source = "the report shows"
    else:
        source = "expected"
    for key, want in expected.items():
        got = counts.get(key)
        if got is None and want:
            check.problems.append(f"{SUMMARY_PAGE}: no {key} cell, {source} {want}")
        elif got is not None and got != want:
            check.problems.append(f"{SUMMARY_PAGE}: {key} = {got}, {source} {want}")


def links_to(html: str, page_url: str, target: str) -> bool:
    """Whether the page has an ``<a href>`` to ``target`` (a path on the same server)."""
    wanted = urlsplit(urljoin(page_url, target)).path
    return any(
        urlsplit(urljoin(page_url, a.attrs["href"])).path == wanted
        for a in parse_dom(html).find_all("href")
        if a.tag == "a"
    )


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


# --- serving the report -------------------------------------------------------


class _Handler(SimpleHTTPRequestHandler):
    """Serves the report quietly; refuses and records requests meant for other hosts."""

    timeout = IO_TIMEOUT
    check: BrowserCheck
    lock: threading.Lock
    _proxied = False

    def log_message(self, format: str, *args: object) -> None:
        pass

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if not self._proxied:
            with self.lock:
                self.check.fetched.append((urlsplit(self.path).path, int(code)))

    def _refuse_proxied(self) -> bool:
        absolute = self.path.startswith(("http://", "https://", "ws://", "wss://"))
        self._proxied = self.command == "CONNECT" or absolute
        if not self._proxied:
            return False
        with self.lock:
            self.check.blocked.append(f"{self.command} {self.path}")
        self.send_error(HTTPStatus.FORBIDDEN, "no request leaves this machine")
        return True

    def do_GET(self) -> None:
        if not self._refuse_proxied():
            super().do_GET()

    def do_HEAD(self) -> None:
        if not self._refuse_proxied():
            super().do_HEAD()

    def _other(self) -> None:
        if not self._refuse_proxied():
            self.send_error(HTTPStatus.METHOD_NOT_ALLOWED)

    do_CONNECT = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _other


@contextmanager
def serve_report(directory: Path, check: BrowserCheck) -> Iterator[int]:
    """Serve ``directory`` on 127.0.0.1 from a thread; yields the port."""
    handler = type("Handler", (_Handler,), {"check": check, "lock": threading.Lock()})
    server = ThreadingHTTPServer((LOCAL_HOST, 0), partial(handler, directory=str(directory)))
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=IO_TIMEOUT)


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
        proc.communicate(timeout=IO_TIMEOUT)


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
    _expected(expect)  # bad expectations fail before Chromium starts
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
