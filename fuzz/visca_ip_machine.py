"""Stateful fuzzing of VISCA-over-IP sequence numbers and RESET (AVer VISCA spec
rev 3.4 ``aver-visca-pelco-spec.txt`` §3.2.4; the control payloads of the Sony
VISCA-over-IP protocol, as ``suites/visca_ip/test_sequence.py`` demands them).

The rules send one datagram each through :meth:`ViscaIpTarget.run`: an
in-order command or inquiry, a retry of the previous number, an out-of-order
number, a RESET.  The target numbers each case from its model of the device's
numbering (:class:`fuzz.visca.SeqModel`) and its oracle checks the rules of
§3.2.4 on every answer, which are this machine's invariants:

* an answer is payload type 0111 (0200/0201 for control replies) and carries
  the sequence number of the datagram it answers;
* the number after the last one is answered, the last one again (a retry) is
  answered again, any other number gets the control reply 0F 01;
* RESET is acknowledged (0201, payload 01) and numbering restarts at 0.

Each case carries its numbering policy in ``meta["seq"]``, so the machine's
cases replayed from :meth:`ViscaIpTarget.begin` show a finding again.
"""

from __future__ import annotations

from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from dissectors import visca_ip
from fuzz.case import Case, Observation
from fuzz.source import ByteSource
from fuzz.visca import ViscaIpTarget, build

MESSAGES = st.binary(min_size=0, max_size=8)


class ViscaIpSequence(RuleBasedStateMachine):
    """The machine; :func:`machine_for` binds it to a target."""

    target: ClassVar[ViscaIpTarget]

    def __init__(self) -> None:
        super().__init__()
        self.cases: list[Case] = []
        self.seen: list[Observation] = []
        self.target.begin()

    def _send(self, case: Case) -> None:
        self.cases.append(case)
        self.seen = self.target.run([case])

    def _message(self, data: bytes, inquiry: bool = False) -> bytes:
        """A message of a row the model claims (an inquiry if *inquiry*)."""
        target = self.target
        rows = [r for r in target.claimed if (r.kind == "inquiry") == inquiry] or list(
            target.claimed
        )
        src = ByteSource(data)
        row = src.choice(rows)
        return build(row, target.address, target._values(src, row, "valid"))

    @rule(data=MESSAGES)
    def command_in_order(self, data: bytes) -> None:
        message = self._message(data)
        self._send(self.target._ip_case("ip:sequence", "in order", message))

    @rule(data=MESSAGES)
    def inquiry_in_order(self, data: bytes) -> None:
        message = self._message(data, inquiry=True)
        self._send(self.target._ip_case("ip:sequence", "inquiry in order", message))

    @rule(data=MESSAGES)
    def retry_of_the_last_number(self, data: bytes) -> None:
        message = self._message(data)
        self._send(self.target._ip_case("ip:sequence", "retry", message, policy="retry"))

    @rule(data=MESSAGES, jump=st.sampled_from(ViscaIpTarget.JUMPS))
    def out_of_order_number(self, data: bytes, jump: int) -> None:
        message = self._message(data)
        label = f"number {jump:+d} from the expected one"
        self._send(self.target._ip_case("ip:sequence", label, message, policy=f"jump:{jump}"))

    @rule(number=st.one_of(st.sampled_from(["zero", "expected"]), st.integers(0, 0xFFFFFFFF)))
    def reset(self, number: Any) -> None:
        self._send(
            self.target._ip_case(
                "ip:reset",
                f"RESET numbered {number}",
                visca_ip.RESET,
                ptype=visca_ip.CONTROL,
                policy="reset",
                extra={"reset_seq": str(number)},
            )
        )

    @invariant()
    def answers_follow_the_numbering_rules(self) -> None:
        """Every answer so far kept §3.2.4's rules (the target's oracle saw to it)."""
        self.target.raise_new(self.seen, self.cases)


def machine_for(target: ViscaIpTarget) -> type[RuleBasedStateMachine]:
    """:class:`ViscaIpSequence` bound to *target* (started by the caller)."""
    return type("ViscaIpSequenceMachine", (ViscaIpSequence,), {"target": target})
