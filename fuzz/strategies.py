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
    """Enough bytes for about half a window of cases at least: Hypothesis
    keeps byte strings short when left alone, and a program of one or two
    cases would spend most of its time on the probe and the engine.  The
    campaign drops the cases a finding does not need after shrinking."""
    most = target.max_program * target.case_bytes
    return st.binary(min_size=most // 2, max_size=most)


def programs(target: Target) -> st.SearchStrategy[list[Case]]:
    """Programs of 1..``max_program`` cases."""
    return program_bytes(target).map(target.program)


def cases(target: Target) -> st.SearchStrategy[Case]:
    """Single cases (for stateful rules)."""
    return st.binary(min_size=1, max_size=4 * target.case_bytes).map(
        lambda data: target.program(data)[0]
    )
