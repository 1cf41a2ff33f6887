"""The three kinds of failure a run can end in, kept apart on purpose.

* :class:`Finding` -- the device violated the spec.  It is an ``AssertionError``
  so pytest and Allure mark the test *failed* (a product defect).
* :class:`DeviceUnreachable` -- the device could not be opened, or the link to it
  was lost.  Allure marks the test *broken*; ``categories.json`` files it under
  "Device unreachable".
* anything else (including :class:`FrameworkError`) -- a bug in the framework or
  in a suite, filed under "Framework error".

:class:`DeviceURIError` is bad user input: the CLI and the pytest plugin turn it
into a single usage line, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable


def hexs(data: bytes | str | None) -> str:
    """Bytes as spaced upper-case hex (``81 09 00 02 FF``); text is quoted."""
    if data is None:
        return "nothing"
    if isinstance(data, str):
        return repr(data)
    return data.hex(" ").upper() if data else "(0 bytes)"


class Finding(AssertionError):
    """The device did something the spec forbids, or failed to do what it demands.

    A finding names the requirement (spec section, table row or requirement ID),
    what was sent, what came back and what was expected.
    """

    kind = "spec violation"

    def __init__(
        self,
        summary: str,
        *,
        requirement: str | Iterable[str] | None = None,
        sent: bytes | str | None = None,
        received: bytes | str | None = None,
        expected: str | None = None,
    ) -> None:
        if isinstance(requirement, str):
            requirement = (requirement,)
        self.requirement: tuple[str, ...] = tuple(requirement or ())
        self.summary = summary
        self.sent = sent
        self.received = received
        self.expected = expected
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"[{', '.join(self.requirement)}] " if self.requirement else ""
        lines = [f"{head}{self.summary}"]
        if self.sent is not None:
            lines.append(f"  sent:     {hexs(self.sent)}")
        if self.received is not None:
            lines.append(f"  received: {hexs(self.received)}")
        if self.expected is not None:
            lines.append(f"  expected: {self.expected}")
        return "\n".join(lines)

    def with_context(
        self,
        *,
        requirement: str | Iterable[str] | None = None,
        sent: bytes | str | None = None,
        expected: str | None = None,
    ) -> Finding:
        """A copy of this finding with the caller's requirement and expectation."""
        return type(self)(
            self.summary,
            requirement=requirement if requirement is not None else self.requirement,
            sent=sent if sent is not None else self.sent,
            received=self.received,
            expected=expected if expected is not None else self.expected,
        )


class NoReply(Finding):
    """Nothing (or only part of a message) arrived before the deadline."""

    kind = "no reply"


class MalformedReply(Finding):
    """Bytes arrived that do not form a valid message (babbling, bad framing)."""

    kind = "malformed reply"


class DeviceUnreachable(Exception):
    """The device could not be opened or connected, or the link went away."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class FrameworkError(Exception):
    """The framework itself is at fault (a bug, a missing tool, bad set-up)."""


class UsageError(Exception):
    """Bad command-line input: the CLI reports it as one line, exit status 2."""


class DeviceURIError(ValueError):
    """A ``--device`` URI that cannot be used; the message is one line for the user."""
