"""Hypothesis strategies over the targets' table-driven case builders.

A program is one byte string decoded by :meth:`Target.program`; see
:mod:`fuzz.source` for why.  The same strategies drive ``conformance fuzz``,
``pytest fuzz/`` and the stateful machines.
"""

from __future__ import annotations

from hypothesis import strategies as st

from fuzz.case import Case
from fuzz.target import Target


def program_bytes(target: Target) -> st.SearchStrategy[bytes]:
    """Bytes for a full window of cases: a program of one or two cases would
    spend most of its time on the probe and the engine.  Shrinking turns the
    bytes to zeros (plain cases); the campaign then drops the cases a finding
    does not need (:meth:`fuzz.runner.Runner.minimize`)."""
    most = target.max_program * target.case_bytes
    # A fixed size: Hypothesis draws a variable-size byte string one "more?"
    # decision per byte, which costs more than running the program.
    return st.binary(min_size=most, max_size=most)


def programs(target: Target) -> st.SearchStrategy[list[Case]]:
    """Programs of 1..``max_program`` cases."""
    return program_bytes(target).map(target.program)


def cases(target: Target) -> st.SearchStrategy[Case]:
    """Single cases (for stateful rules)."""
    return st.binary(min_size=1, max_size=4 * target.case_bytes).map(
        lambda data: target.program(data)[0]
    )
