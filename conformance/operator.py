"""Manual actions asked of a person at the device (``--operator=prompt``).

A suite step that needs a cable plugged or a card presented goes through the
device's control API when there is one.  On a real device it asks the
operator on the terminal and waits, with a deadline, for Enter; with
``--operator=skip`` (the default) the test is skipped naming the action, so
an unattended run never hangs.
"""

from __future__ import annotations

import select
import sys
from typing import Any

import pytest

ANSWER_TIMEOUT = 600.0


class Operator:
    def __init__(self, config: pytest.Config | None, *, timeout: float = ANSWER_TIMEOUT) -> None:
        self.config = config
        self.timeout = timeout

    def ask(self, text: str) -> None:
        """Show *text*, wait for Enter; "s" + Enter, EOF or the deadline skip the test."""
        capture: Any = None
        if self.config is not None:
            capture = self.config.pluginmanager.getplugin("capturemanager")
        manager = capture.global_and_fixture_disabled() if capture else _null()
        with manager:
            sys.stdout.write(f"\nOPERATOR: {text}\n  press Enter when done, s + Enter to skip: ")
            sys.stdout.flush()
            answer = _read_line(self.timeout)
        if answer is None:
            pytest.skip(f"needs operator action: {text} (no answer within {self.timeout:.0f} s)")
        if answer.strip().lower().startswith("s"):
            pytest.skip(f"operator skipped: {text}")


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_exc: object) -> None:
        return None


def _read_line(timeout: float) -> str | None:
    try:
        ready, _, _ = select.select([sys.stdin], [], [], timeout)
    except (OSError, ValueError):  # no usable stdin (e.g. captured or closed)
        return None
    if not ready:
        return None
    line = sys.stdin.readline()
    return line if line else None
