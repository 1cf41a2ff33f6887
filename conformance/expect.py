"""Assertions that produce findings: each names the requirement, the bytes
sent and received, and what was expected."""

from __future__ import annotations

from conformance.errors import Finding, hexs


def expect_bytes(
    received: bytes,
    expected: bytes,
    *,
    requirement: str,
    sent: bytes | None = None,
    what: str = "reply",
) -> None:
    """The device's *what* must be exactly *expected*."""
    __tracebackhide__ = True
    if received != expected:
        raise Finding(
            f"wrong {what}",
            requirement=requirement,
            sent=sent,
            received=received,
            expected=hexs(expected),
        )


def expect_within(
    latency: float,
    bound: float,
    *,
    requirement: str,
    sent: bytes | None = None,
    received: bytes | None = None,
    what: str = "reply",
) -> None:
    """The *what* must arrive within *bound* seconds."""
    __tracebackhide__ = True
    if latency > bound:
        raise Finding(
            f"{what} took {latency * 1000:.0f} ms",
            requirement=requirement,
            sent=sent,
            received=received,
            expected=f"within {bound * 1000:.0f} ms",
        )


def expect(
    condition: bool,
    summary: str,
    *,
    requirement: str,
    sent: bytes | None = None,
    received: bytes | str | None = None,
    expected: str | None = None,
) -> None:
    """*condition* must hold, else *summary* is the finding."""
    __tracebackhide__ = True
    if not condition:
        raise Finding(
            summary, requirement=requirement, sent=sent, received=received, expected=expected
        )
