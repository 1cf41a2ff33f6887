"""The Quectel BC26 LwM2M AT command set, written once.

Source: ``quectel-bc26-lwm2m-at-commands.txt`` (BC26 LwM2M AT Commands Manual
V1.0): §1.2 command forms, §3.1-§3.12 commands (forms, parameters, responses,
maximum response times, notes), §4.1-§4.2 URCs.  The transcript engine in
:mod:`conformance.at` checks dialogues against this table; the emulator and the
suites are driven by it too.  Adding a command is one entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

MANUAL = "quectel-bc26-lwm2m-at-commands.txt"
FormKind = Literal["test", "read", "write", "exec"]
ParamKind = Literal["int", "str", "data", "mode16", "literal"]

DEFAULT_ASYNC_TIMEOUT = 128.0  # §3.5-§3.8 notes: "about 128s" by default
NON, CON = 0x0000, 0x0100  # §3.8 <mode>


@dataclass(frozen=True)
class Param:
    """One parameter as the manual's "Parameter" table gives it."""

    name: str
    kind: ParamKind = "int"
    low: int | None = None
    high: int | None = None
    choices: tuple[int, ...] | None = None
    optional: bool = False
    literal: str | None = None  # the fixed text of a "literal" parameter

    def check(self, text: str) -> str | None:
        """A problem with *text* as this parameter, or None."""
        if self.kind == "literal":
            return None if text == self.literal else f"expected {self.literal}"
        if self.kind == "str":
            ok = len(text) >= 2 and text[0] == text[-1] == '"'
            return None if ok else "must be a string with double quotation marks"
        if self.kind == "data":
            return None if text else "must not be empty"
        if self.kind == "mode16":
            try:
                value = int(text, 16) if text.lower().startswith("0x") else None
            except ValueError:
                value = None
            return None if value in (NON, CON) else "must be 0x0000 (NON) or 0x0100 (CON)"
        try:
            value = int(text)
        except ValueError:
            return "must be an integer"
        if self.choices is not None and value not in self.choices:
            return f"must be one of {', '.join(map(str, self.choices))}"
        if self.low is not None and value < self.low:
            return f"must be at least {self.low}"
        if self.high is not None and value > self.high:
            return f"must be at most {self.high}"
        return None


@dataclass(frozen=True)
class Form:
    """One form of a command (§1.2) and what it answers."""

    kind: FormKind
    params: tuple[Param, ...] = ()
    #: information lines before the final result: "+NAME" = typed by ``info``,
    #: anything else is literal text
    info: tuple[str, ...] = ()
    info_params: tuple[Param, ...] = ()
    #: asynchronous results that may follow OK
    asynchronous: tuple[str, ...] = ()


@dataclass(frozen=True)
class Command:
    name: str  # without "AT+"
    title: str
    section: str
    forms: dict[str, Form]
    max_time: float = 0.3  # "Maximum Response Time"

    @property
    def ref(self) -> str:
        return f"BC26 {self.section} AT+{self.name}"


@dataclass(frozen=True)
class Urc:
    name: str  # without "+"
    section: str
    params: tuple[Param, ...]

    @property
    def ref(self) -> str:
        return f"BC26 {self.section} +{self.name}"


OBJ = Param("obj_id", low=0, high=65535)
INS = Param("ins_id", low=0)
RES = Param("res_id", low=0)
LENGTH = Param("length", low=0, high=512)


def _cmd(name: str, title: str, section: str, *forms: Form, max_time: float = 0.3) -> Command:
    return Command(name, title, section, {f.kind: f for f in forms}, max_time)


COMMANDS: dict[str, Command] = {c.name: c for c in (
    _cmd("QLWSERV", "Configure the IoT Platform Address and Port", "§3.1",
         Form("test", info=('+QLWSERV: "IP_address",(0-65535)',)),
         Form("read", info=("+QLWSERV",),
              info_params=(Param("ip_address", "str"), Param("port", low=0, high=65535))),
         Form("write", (Param("ip_address", "str"), Param("port", low=0, high=65535)))),
    _cmd("QLWCONF", "Configure the IoT Platform Parameters", "§3.2",
         Form("test", info=('+QLWCONF: "endpointname"',)),
         Form("read", info=("+QLWCONF",), info_params=(Param("endpointname", "str"),)),
         Form("write", (Param("endpointname", "str"),))),
    _cmd("QLWADDOBJ", "Add a LwM2M Object", "§3.3",
         Form("write", (OBJ, Param("ins_id", low=0, optional=True),
                        Param("res_num", low=0, optional=True),
                        Param("res_id", "str", optional=True)))),
    _cmd("QLWDELOBJ", "Delete a LwM2M Object", "§3.4",
         Form("write", (OBJ,), asynchronous=("UPDATE OK", "UPDATE FAIL"))),
    _cmd("QLWOPEN", "Send a Register Request to IoT Platform", "§3.5",
         Form("write", (Param("mode", choices=(0, 1)),),
              asynchronous=("CONNECT OK", "CONNECT FAIL"))),
    _cmd("QLWUPDATE", "Send an Update Request", "§3.6",
         Form("exec", asynchronous=("UPDATE OK", "UPDATE FAIL"))),
    _cmd("QLWCLOSE", "Send a Deregister Request", "§3.7",
         Form("exec", asynchronous=("CLOSE OK", "CLOSE FAIL"))),
    _cmd("QLWDATASEND", "Send Data to IoT Platform", "§3.8",
         Form("write", (OBJ, INS, RES, LENGTH, Param("data", "data"), Param("mode", "mode16")),
              asynchronous=("SEND OK", "SEND FAIL"))),
    _cmd("QLWDATASTATUS", "Query CON Message Sent Status", "§3.9",
         Form("read", info=("+QLWDATASTATUS",),
              info_params=(Param("status", low=0, high=5),))),
    _cmd("QLWRD", "Retrieve the Received Data", "§3.10",
         Form("test", info=("+QLWRD: (1-512)",)),
         Form("write", (Param("read_length", low=1, high=512),), info=("+QLWRD",),
              info_params=(Param("read_actual_length", low=0, high=512),
                           Param("remain_length", low=0, optional=True)))),
    _cmd("QLWCFG", "Configure Optional Parameters", "§3.11",
         Form("test", info=('+QLWCFG: "dataformat",(0,1),(0,1)',)),
         Form("write", (Param("option", "literal", literal='"dataformat"'),
                        Param("send_data_format", choices=(0, 1)),
                        Param("recv_data_format", choices=(0, 1))))),
    _cmd("QLWDEL", "Delete the LwM2M Context", "§3.12", Form("exec"), max_time=5.0),
)}  # fmt: skip

URCS: dict[str, Urc] = {u.name: u for u in (
    Urc("QLWOBSERVE", "§4.1", (Param("flag", choices=(0, 1)), OBJ, INS,
                               Param("res_id", low=-1))),
    Urc("QLWDATARECV", "§4.2", (OBJ, INS, RES, LENGTH, Param("data", "data", optional=True))),
)}  # fmt: skip

FINAL_RESULTS = ("OK", "ERROR")
CME_ERROR = "+CME ERROR:"
ASYNC_RESULTS = frozenset(r for c in COMMANDS.values() for f in c.forms.values()
                          for r in f.asynchronous)  # fmt: skip


@dataclass
class ModuleState:
    """What a dialogue has set up so far, for the rules that depend on it."""

    registered: bool = False
    buffer_mode: bool = False
    con_pending_since: int | None = None  # line of the CON send awaiting its result
    #: unread bytes of each buffered node, oldest first (buffer access mode)
    nodes: list[int] = field(default_factory=list)
    hex_recv: bool = False
    notes: list[str] = field(default_factory=list)
