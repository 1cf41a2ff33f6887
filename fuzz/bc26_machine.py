"""Stateful fuzzing of the BC26 LwM2M life cycle (``quectel-bc26-lwm2m-at-commands.txt``).

A :class:`~hypothesis.stateful.RuleBasedStateMachine` walks the flows of §5:
configure the platform and endpoint (§3.1, §3.2), add and delete objects
(§3.3, §3.4), register (§3.5), update (§3.6), send NON and CON data (§3.8,
§3.9), receive downlinks in direct push or buffer access mode (§4.2, §3.10),
observe (§4.1), deregister (§3.7) and delete the context (§3.12); invalid lines
from the target's families come in between and must change nothing.

It keeps the manual's model of the module and puts what the model demands into
each case (``expect``, and the ``await``/``urc``/``lines`` meta that
:class:`~fuzz.at.AtTarget` checks), so the cases of a failing run replayed from
:meth:`~fuzz.at.AtTarget.begin` show the same finding.  The checker's own rules
(§3.10 notes 1 and 2, URC formats, asynchronous results) run underneath.
Platform actions (observe, downlink) need the device's control API (the
emulator's IoT platform); without one those rules never run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from dissectors import bc26
from fuzz.at import EXAMPLE_ENDPOINT, EXAMPLE_IP, NAME_CHARS, SAFE, AtTarget
from fuzz.case import Case, Expect

INVALID_FAMILIES = ("range", "type", "quotes", "count", "form", "name")
MAX_OBJECTS = 4  # the machine adds at most this many object instances
MAX_NODES = 8  # downlinks it lets wait in the buffer
STATUS_SUCCESS = 4  # §3.9 <status>: 4 success

ports = st.sampled_from((0, 5683, 65535)) | st.integers(0, 65535)
addresses = st.sampled_from((EXAMPLE_IP, "10.0.0.1")) | st.tuples(*[st.integers(0, 255)] * 4).map(
    lambda quad: ".".join(map(str, quad))
)
names = st.sampled_from((EXAMPLE_ENDPOINT,)) | st.text(NAME_CHARS, min_size=1, max_size=16)
payloads = st.text(SAFE, min_size=1, max_size=32)
read_lengths = st.sampled_from((1, 2, 512)) | st.integers(1, 512)


@dataclass
class Node:
    """One downlink waiting in the buffer (§3.10)."""

    obj: int
    ins: int
    res: int
    data: str  # SAFE characters: text as sent, one byte each


@dataclass
class Model:
    """What the manual lets the host know about the module."""

    server: bool = False
    endpoint: bool = False
    objects: list[tuple[int, int]] = field(default_factory=list)
    opened: bool = False  # a register request since the context was created (§5.1 note)
    registered: bool = False
    mode: int | None = None  # <mode> of the last successful AT+QLWOPEN (§3.5)
    send_hex: bool | None = False  # None: unknown (§3.11 after AT+QLWDEL)
    recv_hex: bool | None = False
    status: str | None = None  # the §3.9 line AT+QLWDATASTATUS? must give, if known
    nodes: list[Node] = field(default_factory=list)


def ref(name: str) -> str:
    return bc26.COMMANDS[name].ref


class Bc26Machine(RuleBasedStateMachine):
    """The life cycle against ``target`` (bound by :func:`machine_for`)."""

    target: ClassVar[AtTarget]

    def __init__(self) -> None:
        super().__init__()
        self.cases: list[Case] = []
        self.target.begin()
        self.platform = self.target.device.control is not None
        base = self.target.baseline.get("QLWDATASTATUS")
        status = base[1][0] if base and base[0] == "OK" and len(base[1]) == 1 else None
        self.model = Model(status=status)

    # ------------------------------------------------------------ running
    def step(self, case: Case) -> Any:
        """Run one case, raise what the oracle saw, return the last answer."""
        self.cases.append(case)
        observations = self.target.run([case])
        self.target.raise_new(observations, self.cases)
        answers = self.target.answers
        return answers[-1] if answers else None

    def command(self, name: str, kind: str, line: str, expect: Expect = "success",
                **meta: Any) -> Any:  # fmt: skip
        case = Case("at", "machine", line, line + "\r", expect, ref(name),
                    meta={"command": name, "form": kind, **meta})  # fmt: skip
        return self.step(case)

    def platform_action(self, action: str, urc: str, expected: dict[str, Any] | None,
                        **args: Any) -> None:  # fmt: skip
        meta: dict[str, Any] = {"platform": urc}
        if expected is not None:
            meta["urc"] = {"name": urc, "params": expected}
        spec = {"action": action, "args": args}
        self.step(Case("at", "machine", f"{action} {args}", json.dumps(spec), "any",
                       bc26.URCS[urc].ref, "control", meta))  # fmt: skip

    def form(self, text: str) -> str:
        """*text* (SAFE characters) as <data> in the receive format (§3.11)."""
        return text.encode("latin-1").hex().upper() if self.model.recv_hex else text

    def ok(self, answer: Any) -> bool:
        return answer is not None and answer.final == "OK"

    # ------------------------------------------------------------ §3.1-§3.3
    @initialize(configure=st.integers(0, 3).map(bool))
    def start(self, configure: bool) -> None:
        """Most runs start as the §5 flows do: platform, endpoint and object /19/0/0."""
        if configure:
            self.set_server(EXAMPLE_IP, 5683)
            self.set_endpoint(EXAMPLE_ENDPOINT)
            self.add_object(19, 0)

    def demand(self) -> Expect:
        """§3.1/§3.2 with the §5.1 note: configuring is sure to work only while no
        register request was made since the context was created."""
        return "any" if self.model.opened else "success"

    @precondition(lambda self: not self.model.registered)
    @rule(address=addresses, port=ports)
    def set_server(self, address: str, port: int) -> None:
        line = f'AT+QLWSERV="{address}",{port}'
        if self.ok(self.command("QLWSERV", "write", line, self.demand())):
            self.model.server = True

    @precondition(lambda self: not self.model.registered)
    @rule(name=names)
    def set_endpoint(self, name: str) -> None:
        if self.ok(self.command("QLWCONF", "write", f'AT+QLWCONF="{name}"', self.demand())):
            self.model.endpoint = True

    @precondition(lambda self: not self.model.registered and len(self.model.objects) < MAX_OBJECTS)
    @rule(obj=st.sampled_from((19, 0, 65535)) | st.integers(0, 65535), ins=st.integers(0, 3))
    def add_object(self, obj: int, ins: int) -> None:
        if (obj, ins) in self.model.objects:
            return
        if self.ok(self.command("QLWADDOBJ", "write", f'AT+QLWADDOBJ={obj},{ins},1,"0"')):
            self.model.objects.append((obj, ins))

    @precondition(lambda self: bool(self.model.objects))
    @rule(data=st.data())
    def delete_object(self, data: st.DataObject) -> None:
        obj, _ = data.draw(st.sampled_from(self.model.objects))
        results = bc26.COMMANDS["QLWDELOBJ"].forms["write"].asynchronous
        meta = {"await": list(results)} if self.model.registered else {}
        if self.ok(self.command("QLWDELOBJ", "write", f"AT+QLWDELOBJ={obj}", **meta)):
            self.model.objects = [o for o in self.model.objects if o[0] != obj]

    # ------------------------------------------------------------ §3.5-§3.7
    @precondition(lambda self: not self.model.registered)
    @rule(mode=st.sampled_from((0, 1)))
    def open(self, mode: int) -> None:
        results = bc26.COMMANDS["QLWOPEN"].forms["write"].asynchronous
        answer = self.command("QLWOPEN", "write", f"AT+QLWOPEN={mode}", **{"await": list(results)})
        if self.ok(answer):
            self.model.opened = True
            if answer.async_result == "CONNECT OK":
                self.model.registered = True
                self.model.mode = mode

    @precondition(lambda self: self.model.registered)
    @rule()
    def update(self) -> None:
        results = bc26.COMMANDS["QLWUPDATE"].forms["exec"].asynchronous
        self.command("QLWUPDATE", "exec", "AT+QLWUPDATE", **{"await": list(results)})

    @precondition(lambda self: self.model.registered)
    @rule()
    def close(self) -> None:
        results = bc26.COMMANDS["QLWCLOSE"].forms["exec"].asynchronous
        answer = self.command("QLWCLOSE", "exec", "AT+QLWCLOSE", **{"await": list(results)})
        if self.ok(answer) and answer.async_result == "CLOSE OK":
            self.model.registered = False

    # ------------------------------------------------------------ §3.8-§3.9
    @precondition(lambda self: self.model.registered and self.model.send_hex is not None)
    @rule(payload=payloads, confirmable=st.booleans())
    def send(self, payload: str, confirmable: bool) -> None:
        data = payload.encode("latin-1").hex().upper() if self.model.send_hex else payload
        mode = f"0x{bc26.CON if confirmable else bc26.NON:04X}"
        line = f"AT+QLWDATASEND=19,0,0,{len(payload)},{data},{mode}"
        if not confirmable:
            self.command("QLWDATASEND", "write", line)
            return
        results = bc26.COMMANDS["QLWDATASEND"].forms["write"].asynchronous
        answer = self.command("QLWDATASEND", "write", line, **{"await": list(results)})
        if self.ok(answer):
            success = answer.async_result == "SEND OK"
            self.model.status = f"+QLWDATASTATUS: {STATUS_SUCCESS}" if success else None

    @rule()
    def status(self) -> None:
        meta = {"lines": [self.model.status]} if self.model.status is not None else {}
        self.command("QLWDATASTATUS", "read", "AT+QLWDATASTATUS?", **meta)

    # ------------------------------------------------------------ §3.10-§3.12
    @precondition(lambda self: not self.model.nodes)
    @rule(send=st.sampled_from((0, 1)), recv=st.sampled_from((0, 1)))
    def set_format(self, send: int, recv: int) -> None:
        line = f'AT+QLWCFG="dataformat",{send},{recv}'
        if self.ok(self.command("QLWCFG", "write", line)):
            self.model.send_hex, self.model.recv_hex = bool(send), bool(recv)

    @precondition(lambda self: self.model.mode == 1 and self.model.recv_hex is not None)
    @rule(length=read_lengths)
    def read(self, length: int) -> None:
        nodes = self.model.nodes
        meta: dict[str, Any] = {"lines": ["+QLWRD: 0"]}
        if nodes:
            node = nodes[0]
            chunk, rest = node.data[:length], node.data[length:]
            meta["lines"] = [f"+QLWRD: {len(chunk)},{len(rest)}", self.form(chunk)]
            if not rest and len(nodes) > 1:  # §3.10 note 1: the next one is announced now
                following = nodes[1]
                meta["urc"] = {"name": "QLWDATARECV", "params": {
                    "obj_id": following.obj, "ins_id": following.ins, "res_id": following.res,
                    "length": len(following.data)}}  # fmt: skip
        answer = self.command("QLWRD", "write", f"AT+QLWRD={length}", **meta)
        if self.ok(answer) and nodes:
            nodes[0].data = nodes[0].data[length:]
            if not nodes[0].data:
                nodes.pop(0)

    @precondition(lambda self: self.model.opened or self.model.server or self.model.objects)
    @rule()
    def delete(self) -> None:
        if self.ok(self.command("QLWDEL", "exec", "AT+QLWDEL")):
            # §3.12: the LwM2M context goes; the options (§3.11) are not said to
            self.model = Model(send_hex=None, recv_hex=None)

    # ------------------------------------------------------------ the platform (§4)
    @precondition(
        lambda self: (
            self.platform
            and self.model.registered
            and self.model.recv_hex is not None
            and len(self.model.nodes) < MAX_NODES
        )
    )
    @rule(payload=payloads, ins=st.integers(0, 1))
    def downlink(self, payload: str, ins: int) -> None:
        expected: dict[str, Any] | None = {"obj_id": 19, "ins_id": ins, "res_id": 0,
                                           "length": len(payload)}  # fmt: skip
        if self.model.mode == 1:
            if self.model.nodes:
                expected = None  # §3.10 note 1: no URC while data is unread
            self.model.nodes.append(Node(19, ins, 0, payload))
        else:
            assert expected is not None
            expected["data"] = self.form(payload)
        self.platform_action("downlink", "QLWDATARECV", expected, obj=19, ins=ins, res=0,
                             data=payload)  # fmt: skip

    @precondition(lambda self: self.platform and self.model.registered)
    @rule(flag=st.sampled_from((0, 1)), ins=st.integers(0, 1), res=st.sampled_from((0, -1)))
    def observe(self, flag: int, ins: int, res: int) -> None:
        expected = {"flag": flag, "obj_id": 19, "ins_id": ins, "res_id": res}
        self.platform_action("observe", "QLWOBSERVE", expected, obj=19, ins=ins, res=res,
                             flag=flag)  # fmt: skip

    # ------------------------------------------------------------ invalid lines in between
    @rule(family=st.sampled_from(INVALID_FAMILIES), data=st.binary(min_size=1, max_size=24))
    def invalid(self, family: str, data: bytes) -> None:
        """A line the manual makes an error: it must be answered ERROR and change
        nothing the model knows."""
        case = self.target.case_of(family, data)
        if case.expect == "error":
            self.step(case)


def machine_for(target: AtTarget) -> type[RuleBasedStateMachine]:
    """:class:`Bc26Machine` bound to *target*."""
    return type("Bc26LifeCycle", (Bc26Machine,), {"target": target})
