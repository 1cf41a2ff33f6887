"""A fuzz case, what the oracle saw, and the finding kinds.

A *program* is a list of :class:`Case` run one after another from a known
starting state; findings carry the program that shows them, so a reproducer
file is plain data: the bytes (or text frames, or control actions) to send.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from conformance.errors import hexs

#: What a finding is, from the worst down.  The first five are the classes the
#: campaign reports; ``accepted-invalid`` is a success reply where the spec
#: demands an error, ``protocol-violation`` anything else the spec forbids that
#: the oracle saw (a reply's wrong sequence number, a frame that breaks a rule).
KINDS: dict[str, str] = {
    "crash": "the device stopped answering the liveness probe and did not come back",
    "hang": "the device stopped answering the liveness probe for a while, then came back",
    "no-response": "no answer where the spec demands one, while the device stayed alive",
    "malformed-reply": "an answer that does not decode as the protocol's message",
    "error-reply": "an error answer where the spec demands success",
    "accepted-invalid": "a success answer where the spec demands an error",
    "state-corruption": "a later inquiry shows state the program had no right to change",
    "protocol-violation": "an answer that breaks another rule of the spec",
}

#: The device went silent: a crash and a hang are the same finding shown again
#: (whether it comes back within the recovery window is not the program's doing).
LIVENESS = ("crash", "hang")

#: What the spec demands of a case's answer.
Expect = Literal["success", "error", "silence", "any"]
Channel = Literal["wire", "control"]


def _enc(data: bytes | str) -> dict[str, str]:
    if isinstance(data, str):
        return {"text": data}
    return {"hex": data.hex()}


def _dec(obj: dict[str, str]) -> bytes | str:
    if "text" in obj:
        return obj["text"]
    if "hex" in obj:
        return bytes.fromhex(obj["hex"])
    return base64.b64decode(obj["b64"])


@dataclass(frozen=True)
class Case:
    """One input to the device.

    ``family`` names the strategy that made it (``boundary``, ``unsupported``,
    ``broken:terminator``, ``random``, ``mutated:maxLength``...), ``label``
    says in a few words what it is (``PT_Up pan_speed=0x18``), ``ref`` the
    spec row or section it exercises.  ``channel`` is ``wire`` for bytes or
    text to send as they are, ``control`` for an action through the device's
    control API (``data`` is then the action's JSON, e.g.
    ``{"action": "plug", "evse": 1}``).  ``meta`` holds what the target's
    oracle needs (row name, sequence number policy, message id...), JSON only.
    """

    protocol: str
    family: str
    label: str
    data: bytes | str
    expect: Expect = "any"
    ref: str = ""
    channel: Channel = "wire"
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["data"] = _enc(self.data)
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Case:
        obj = dict(obj)
        obj["data"] = _dec(obj["data"])
        return cls(**obj)

    def describe(self) -> str:
        return f"{self.family} {self.label}: {hexs(self.data)}"


@dataclass(frozen=True)
class Observation:
    """Something the oracle saw that the spec does not allow.

    ``key`` tells findings of one kind apart (``PT_Up/Syntax_Error``); two
    observations with the same :attr:`signature` are the same finding.
    ``case`` is the index in the program of the case that showed it (None for
    the liveness probe or the state check).
    """

    kind: str
    summary: str
    key: str
    ref: str = ""
    expected: str = ""
    sent: bytes | str | None = None
    received: bytes | str | None = None
    case: int | None = None

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind

    @property
    def signature(self) -> str:
        return f"{self.kind}:{self.key}"

    def shows(self, signature: str) -> bool:
        """Whether this observation shows the finding *signature* again."""
        if self.signature == signature:
            return True
        return self.kind in LIVENESS and signature.split(":", 1)[0] in LIVENESS

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for name in ("sent", "received"):
            value = getattr(self, name)
            out[name] = None if value is None else _enc(value)
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Observation:
        obj = dict(obj)
        for name in ("sent", "received"):
            if obj.get(name) is not None:
                obj[name] = _dec(obj[name])
        return cls(**obj)

    def render(self) -> str:
        lines = [f"{self.kind}: {self.summary}"]
        if self.ref:
            lines.append(f"  requirement: {self.ref}")
        if self.sent is not None:
            lines.append(f"  sent:        {hexs(self.sent)}")
        if self.received is not None:
            lines.append(f"  received:    {hexs(self.received)}")
        if self.expected:
            lines.append(f"  expected:    {self.expected}")
        return "\n".join(lines)
