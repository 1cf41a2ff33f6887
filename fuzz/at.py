"""Fuzz target for AT-command modules (``at+serial://...?module=bc26``, ``emu:bc26``).

Cases are built from the module's command table (:mod:`dissectors.bc26`, from
``quectel-bc26-lwm2m-at-commands.txt``): every form of every command with
boundary parameters, parameters out of the manual's ranges, of the wrong type,
with broken quotes or the wrong count, forms and names the manual does not
list, wrong case and stray spaces, bad terminators, over-long lines, several
lines at once, platform actions (§4 URCs) and random bytes.

The oracle is the transcript checker of :mod:`conformance.at.checker` (the
manual's rules, as the live :class:`~conformance.devices.at.AtDevice` applies
them), fed with exactly the lines the module executes: the target keeps a model
of how the module cuts the byte stream into command lines (V.250 §5.2.1: whether
LF ends a line and whether lines without AT are answered are learnt; the longest
line is known for the built-in emulator only), so a case without a terminator is
answered together with the next one and nothing is waited for in vain.  On top of the checker:

* ``no-response``: a command line got no final result within its "Maximum
  Response Time" (§3.x tables) plus :data:`REPLY_MARGIN`;
* ``error-reply``: ERROR where the manual demands success: test forms (§1.2),
  the read form of process state (§3.9), write forms taking only enumerated
  values (§3.11), and configuration writes (§3.1, §3.2) once the program is
  known not to have started a registration (§5.1: AT+QLWDEL first);
* ``accepted-invalid``: OK to a form the manual does not list, a parameter of
  the wrong type or count, or a value outside a range the manual states;
* ``state-corruption``: a read form (§3.1, §3.2, §3.9) answering other than
  the program's valid, acknowledged writes allow.

Only lines sent exactly as the case says ("strict": one clean line ending in
CR, nothing left over from the case before) carry the case's expectation; the
rest expect nothing but well-formed answers.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from conformance.at.checker import DialogueChecker, Violation, _match_params, split_command
from conformance.at.lines import HOST, MODULE, Line, LineSplitter
from conformance.devices.at import REPLY_MARGIN
from conformance.devices.base import Device
from conformance.errors import DeviceUnreachable, FrameworkError, NoReply
from conformance.transports.base import Deadline
from dissectors import bc26
from dissectors.bc26 import Command, Form, Param
from fuzz.case import Case, Expect, Observation
from fuzz.source import ByteSource
from fuzz.target import Target

#: module name (``module=`` in the device URI) -> its command table
MODULES: dict[str, ModuleType] = {"bc26": bc26}

FAMILIES = ("valid", "range", "type", "quotes", "count", "form", "name", "case", "terminator",
            "long", "interleave", "register", "control", "random")  # fmt: skip
KINDS = ("test", "read", "write", "exec")
SUFFIX = {"test": "=?", "read": "?", "exec": ""}
DELETE = "QLWDEL"  # §3.12: deletes the LwM2M context (platform, endpoint, objects)
REGISTERED = "CONNECT OK"  # §3.5: the result of a register request
FRAMING_REF = "BC26 §1.2 (V.250 command line)"
DEFAULT_MAX_TIME = 0.3  # a line outside the table: the manual's common maximum

#: seconds past a final result's maximum response time before it counts as late;
#: the host's own scheduling shows in every measurement
TIMING_TOLERANCE = 0.15
URC_WAIT = 2.0  # seconds for a URC a platform action must cause
ASYNC_SLACK = 0.5  # seconds added to an emulator's compressed asynchronous bound
QUIET = 0.3  # seconds of silence that end a resynchronisation (the manual's 300 ms)
POLL_LIMIT = 1 << 16  # bytes one non-blocking poll takes at most (a babbling module)
UNSURE_LENGTH = 256  # a real module's line buffer is unknown beyond this
OPEN_SPAN = 65535  # values tried above a parameter whose maximum the manual does not give
MAX_CASE = 4000  # characters of the longest case line

EXAMPLE_IP = "180.101.147.115"  # §3.1 example
EXAMPLE_ENDPOINT = "866971030001361"  # §3.2 example
SAFE = "0123456789ABCDEF"  # payload characters that cannot break a line, a URC or a final result
NAME_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
MODES16 = (f"0x{bc26.NON:04X}", f"0x{bc26.CON:04X}")  # §3.8 <mode>
#: a platform action per URC (§4.1, §4.2), as the emulator's control API names it
PLATFORM = {"QLWOBSERVE": "observe", "QLWDATARECV": "downlink"}

WRONG_TYPE: dict[str, tuple[str, ...]] = {
    "int": ("abc", "1a", "1.5", '"1"', "0x1", "--1", "1 2", "A"),
    "mode16": ("1", "256", "abc", '"0x0000"', "0x", "0x00G0", "NON"),
    "str": ("1", "abc", EXAMPLE_IP, "-1"),
    "literal": ("dataformat", '"format"', "1", '"data format"'),
}
EXTRA = ("0", "1", '"x"', "")
_MALFORMED = re.compile(
    r"^(wrong |information line|unexpected (information )?line|malformed URC|OK without|"
    r"a line with no command|no remain_length|\d+ characters of data)"
)
_SPACES = re.compile(r"\s*([:,])\s*")
_SHAPE = re.compile(r"'[^']*'|\"[^\"]*\"|-?\d+")


def command_line(name: str, kind: str, values: Sequence[str] = ()) -> str:
    """``AT+NAME`` in *kind*'s syntax (§1.2 Table 1)."""
    if kind == "write":
        return f"AT+{name}=" + ",".join(values)
    return f"AT+{name}{SUFFIX[kind]}"


def parse_line(text: str) -> tuple[str, str, str] | None:
    """(NAME, form, arguments) of an extended command line (the checker's own
    reading), None for anything else, a tail like ``?X`` included."""
    body = text.strip()
    if body[:3].upper() != "AT+":
        return None
    name, form, arguments = split_command(body)
    if form == "write" and body[3 + len(name) : 4 + len(name)] != "=":
        return None
    return name, form, arguments


def normalise(line: str) -> str:
    """An answer line without the spaces the manual's examples disagree on (§3.9)."""
    return _SPACES.sub(r"\1", line.strip())


def stated(param: Param) -> bool:
    """Whether the manual states this parameter's allowed values (a range with a
    maximum, a list of values, or §3.8's two modes)."""
    return param.kind == "mode16" or (
        param.kind == "int" and (param.choices is not None or param.high is not None)
    )


def _shape(message: str) -> str:
    """A violation message without its values, so one fault gives one key."""
    return _SHAPE.sub("#", message)[:100]


# ---------------------------------------------------------------- line framing


class Framing:
    """How the module cuts the byte stream into command lines.

    A line ends in CR (V.250 S3), and in LF too when *lf_ends_line*; blank
    lines are ignored.  With *max_line*, a line that grows beyond it is
    answered once (ERROR) and the rest of it up to its end discarded.  The
    built-in emulator documents these choices; for a real module they are
    learnt (:meth:`AtTarget.start`), and *max_line* stays unknown.
    """

    def __init__(self, *, lf_ends_line: bool = True, max_line: int | None = None) -> None:
        self.lf_ends_line = lf_ends_line
        self.max_line = max_line
        self._end = re.compile(b"[\r\n]" if lf_ends_line else b"\r")
        self._buffer = bytearray()
        self._discarding = False

    @property
    def partial(self) -> bool:
        """Bytes of an unfinished line are waiting for their end."""
        return bool(self._buffer) or self._discarding

    def clear(self) -> None:
        self._buffer.clear()
        self._discarding = False

    def feed(self, data: bytes) -> list[tuple[str, bool]]:
        """The lines *data* completes: (text, True for an over-long line's answer)."""
        out: list[tuple[str, bool]] = []
        buffer = self._buffer
        buffer += data
        while buffer:
            if self._discarding:
                found = self._end.search(buffer)
                if found is None:
                    buffer.clear()
                    break
                del buffer[: found.start() + 1]
                self._discarding = False
                continue
            stop = len(buffer) if self.max_line is None else self.max_line + 1
            found = self._end.search(buffer, 0, stop)
            if found is None:
                if self.max_line is None or len(buffer) <= self.max_line:
                    break
                out.append((bytes(buffer[:stop]).decode("latin-1"), True))
                del buffer[:stop]
                self._discarding = True
                continue
            text = bytes(buffer[: found.start()]).decode("latin-1")
            del buffer[: found.start() + 1]
            if text.strip():
                out.append((text, False))
        return out


# ---------------------------------------------------------------- the checker, live


@dataclass
class _Checker(DialogueChecker):
    """:class:`DialogueChecker` plus what a live dialogue needs: whether a final
    result is still due, giving up on one that never came, AT+QLWDEL (§3.12)
    taking the LwM2M context with it (asynchronous results of operations it
    cancels are no longer awaited, but tolerated if they still come), and a
    result nothing awaits taken as the oldest operation's, misnamed."""

    voided: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def waiting(self) -> bool:
        return self._pending is not None

    @property
    def awaiting(self) -> tuple[str, ...]:
        return tuple(r for a in self._awaited for r in a.results)

    def abandon(self) -> None:
        self._pending = None

    def carry(self) -> list[tuple[str, ...]]:
        """Results still due, for the next program's checker to tolerate."""
        return [*self.voided, *(a.results for a in self._awaited)]

    def _after_ok(self, p: Any) -> None:
        super()._after_ok(p)
        if p.name == DELETE:
            self.voided.extend(a.results for a in self._awaited)
            self._awaited.clear()
            self.state = bc26.ModuleState(hex_recv=self.state.hex_recv)

    def _async(self, line: Line, text: str) -> None:
        if any(text in a.results for a in self._awaited):
            super()._async(line, text)
            return
        for results in self.voided:
            if text in results:
                self.voided.remove(results)
                return
        super()._async(line, text)  # a violation: nothing awaits it
        if self._awaited:  # the oldest operation's one result came, misnamed
            self._awaited.pop(0)


@dataclass
class Exec:
    """One line the module executes."""

    text: str
    case: int | None
    strict: bool = False  # exactly the case's own line: its expectation applies
    answered: bool = True  # a final result is due
    certain: bool = True  # the framing model is sure of the line (else: anything goes)
    overflow: bool = False


@dataclass
class Answer:
    """What came back for one :class:`Exec`."""

    exec: Exec
    final: str | None
    info: list[str]
    elapsed: float | None = None
    async_result: str | None = None


# ---------------------------------------------------------------- case builders


class Builder:
    """Cases from a command table, every decision read from a :class:`ByteSource`."""

    def __init__(self, table: ModuleType) -> None:
        self.table = table
        self.commands: tuple[Command, ...] = tuple(table.COMMANDS.values())
        self.urcs = tuple(table.URCS.values())
        writes = [(c, f) for c in self.commands for f in c.forms.values() if f.kind == "write"]
        self.writes = tuple(writes)
        self.range_slots = tuple(
            (c, f, i) for c, f in writes for i, p in enumerate(f.params) if stated(p)
        )
        self.type_slots = tuple(
            (c, f, i) for c, f in writes for i, p in enumerate(f.params) if p.kind in WRONG_TYPE
        )
        self.quote_slots = tuple(
            (c, f, i)
            for c, f in writes
            for i, p in enumerate(f.params)
            if p.kind in ("str", "literal")
        )
        self.data_slots = tuple(
            (c, f, i) for c, f in writes for i, p in enumerate(f.params) if p.kind == "data"
        )
        self.unlisted = tuple((c, k) for c in self.commands for k in KINDS if k not in c.forms)
        self.urc_sources = tuple(u for u in self.urcs if u.name in PLATFORM)
        #: §5.1: platform and endpoint (the commands with a read form to check them),
        #: the objects (a command that is nothing but a write), then the register
        #: request (the write whose asynchronous results say CONNECT)
        self.register = next((c for c, f in writes if REGISTERED in f.asynchronous), None)
        self.setup = tuple(
            (c, f)
            for c, f in writes
            if not f.asynchronous and ("read" in c.forms or len(c.forms) == 1)
        )
        self.build: dict[str, Callable[[ByteSource], Case]] = {
            name: getattr(self, f"_{name}") for name in FAMILIES
        }

    # ------------------------------------------------------------ values
    def values(
        self, src: ByteSource, form: Form, count: int | None = None
    ) -> tuple[list[str], bool]:
        """Valid parameters for *form* (boundary values first), and whether every
        string has a shape the manual's examples show (an IP address, a name)."""
        params = form.params
        required = sum(not p.optional for p in params)
        if count is None:
            count = src.integer(required, len(params))
        ctx: dict[str, str] = {}
        shaped = True
        out = []
        for param in params[:count]:
            value, known = self.value(src, param, ctx)
            ctx[param.name] = value
            shaped = shaped and known
            out.append(value)
        return out, shaped

    def value(self, src: ByteSource, param: Param, ctx: dict[str, str]) -> tuple[str, bool]:
        if param.kind == "literal":
            return param.literal or '""', True
        if param.kind == "mode16":
            return src.choice(MODES16), True
        if param.kind == "int":
            return str(self.integer(src, param)), True
        if param.kind == "data":
            return self.data(src, _int(ctx.get("length"), 1)), True
        if param.name == "ip_address":  # §3.1
            if not src.boolean():
                return f'"{EXAMPLE_IP}"', True
            quad = src.raw(4)
            unicast = 1 <= quad[0] <= 223 and quad[0] != 127  # an address a platform can have
            return '"' + ".".join(map(str, quad)) + '"', unicast
        if param.name == "endpointname":  # §3.2
            if not src.boolean():
                return f'"{EXAMPLE_ENDPOINT}"', True
            return '"' + self.word(src, src.integer(1, 16)) + '"', True
        if param.name == "res_id":  # §3.3: one id per <res_num>
            ids = [str(src.integer(0, 15)) for _ in range(min(_int(ctx.get("res_num"), 1), 8))]
            return '"' + ",".join(ids) + '"', True
        return '"' + self.word(src, src.integer(1, 8)) + '"', False

    @staticmethod
    def integer(src: ByteSource, param: Param) -> int:
        if param.choices is not None:
            return src.choice(param.choices)
        low = param.low if param.low is not None else 0
        high = param.high if param.high is not None else low + OPEN_SPAN
        pick = src.integer(0, 4)
        if pick == 4:
            return src.integer(low, high)
        return (low, high, min(low + 1, high), max(high - 1, low))[pick]

    @staticmethod
    def word(src: ByteSource, size: int) -> str:
        return "".join(NAME_CHARS[src.byte() % len(NAME_CHARS)] for _ in range(size))

    @staticmethod
    def data(src: ByteSource, length: int) -> str:
        """<data> of *length* bytes, as text or hex (§3.8, §3.11); one byte of source."""
        seed = src.byte()
        length = max(0, min(length, 512))
        if seed & 1:
            return bytes((seed + i) & 0xFF for i in range(length)).hex().upper()
        return "".join(SAFE[(seed + i) % len(SAFE)] for i in range(length))

    @staticmethod
    def demand(command: Command, form: Form, shaped: bool) -> tuple[Expect, dict[str, Any]]:
        """What the manual demands of a valid line, whatever the state it meets."""
        if form.kind == "test":  # §1.2: lists the ranges; no error response given
            return "success", {}
        if form.kind == "read" and "write" not in command.forms:  # §3.9: status 0 exists
            return "success", {}
        if form.kind == "write" and not form.asynchronous:
            if all(p.kind == "literal" or p.choices is not None for p in form.params):
                return "success", {}  # §3.11: module options, no state needed
            if "read" in command.forms and shaped:  # §3.1/§3.2 + §5.1 note
                return "success", {"needs": "unregistered"}
        return "any", {}

    # ------------------------------------------------------------ helpers
    def _make(self, family: str, label: str, data: str | bytes, expect: Expect = "any",
              ref: str = FRAMING_REF, **meta: Any) -> Case:  # fmt: skip
        return Case("at", family, label[:80], data, expect, ref, meta=meta)

    def _line(self, src: ByteSource) -> tuple[Command, str, str, list[str], bool]:
        """A valid line: (command, form, text, values, shaped)."""
        command = src.choice(self.commands)
        kind = src.choice(tuple(command.forms))
        values, shaped = self.values(src, command.forms[kind])
        return command, kind, command_line(command.name, kind, values), values, shaped

    def _invalid(self, family: str, command: Command, form: Form, values: list[str],
                 why: str, param: str) -> Case:  # fmt: skip
        """A write line that the checker must find invalid to demand ERROR."""
        args = ",".join(values)
        _, problem = _match_params(form.params, args) if values else ({}, None)
        text = command_line(command.name, "write", values)
        expect: Expect = "error" if problem else "any"
        label = f"AT+{command.name} {why} <{param}>: {args}"
        return self._make(family, label, text + "\r", expect, command.ref, command=command.name,
                          form="write", invalid={"why": why, "param": param})  # fmt: skip

    # ------------------------------------------------------------ families
    def _valid(self, src: ByteSource) -> Case:
        command, kind, text, _, shaped = self._line(src)
        expect, meta = self.demand(command, command.forms[kind], shaped)
        label = f"{text[:60]}"
        return self._make("valid", label, text + "\r", expect, command.ref,
                          command=command.name, form=kind, **meta)  # fmt: skip

    def _range(self, src: ByteSource) -> Case:
        if not self.range_slots:
            return self._valid(src)
        command, form, index = src.choice(self.range_slots)
        required = sum(not p.optional for p in form.params)
        values, _ = self.values(src, form, max(required, index + 1))
        param = form.params[index]
        if param.kind == "mode16":
            bad = src.choice(("0x0001", "0x0200", "0x1000", "0xFFFF", "0x0010", "0x00FF"))
        elif param.choices is not None:
            top, bottom = max(param.choices), min(param.choices)
            bad = str(src.choice((top + 1, bottom - 1, top + 2, 255, 65536, -1)))
        else:
            high = param.high if param.high is not None else 0
            low = param.low if param.low is not None else 0
            bad = str(
                src.choice((high + 1, low - 1, high + 2, 2 * high + 1, 2**31, 2**32, -(2**31)))
            )
        values[index] = bad
        return self._invalid("range", command, form, values, "range", param.name)

    def _type(self, src: ByteSource) -> Case:
        if not self.type_slots:
            return self._valid(src)
        command, form, index = src.choice(self.type_slots)
        required = sum(not p.optional for p in form.params)
        values, _ = self.values(src, form, max(required, index + 1))
        param = form.params[index]
        values[index] = src.choice(WRONG_TYPE[param.kind])
        return self._invalid("type", command, form, values, "type", param.name)

    def _quotes(self, src: ByteSource) -> Case:
        if not self.quote_slots:
            return self._valid(src)
        command, form, index = src.choice(self.quote_slots)
        required = sum(not p.optional for p in form.params)
        values, _ = self.values(src, form, max(required, index + 1))
        inner = values[index].strip('"')
        values[index] = src.choice((inner, '"' + inner, inner + '"', f"'{inner}'"))
        return self._invalid("quotes", command, form, values, "quotes", form.params[index].name)

    def _count(self, src: ByteSource) -> Case:
        if not self.writes:
            return self._valid(src)
        command, form = src.choice(self.writes)
        values, _ = self.values(src, form, len(form.params))
        required = sum(not p.optional for p in form.params)
        how = src.integer(0, 2)
        if how == 0 and required > 1:
            values = values[: src.integer(1, required - 1)]
            why = "missing"
        elif how == 1 or required <= 1:
            values = values + [src.choice(EXTRA) for _ in range(src.integer(1, 3))]
            why = "extra"
        else:
            values.insert(src.integer(0, len(values)), "")
            why = "empty"
        return self._invalid("count", command, form, values, "count", why)

    def _form(self, src: ByteSource) -> Case:
        if not self.unlisted:
            return self._valid(src)
        command, kind = src.choice(self.unlisted)
        text = command_line(command.name, kind, [src.choice(("0", "1", '"x"'))])
        # V.250 lets AT+NAME of a parameter command mean "defaults": no demand there
        expect: Expect = "any" if kind == "exec" and "write" in command.forms else "error"
        return self._make("form", f"{text} (unlisted {kind} form)", text + "\r", expect,
                          command.ref, command=command.name, form=kind,
                          invalid={"why": "form", "param": kind})  # fmt: skip

    def _name(self, src: ByteSource) -> Case:
        command, kind, _, values, _ = self._line(src)
        how = src.integer(0, 2)
        name = (command.name + "X", command.name[:-1], command.name + command.name[-1])[how]
        line = command_line(name, kind, values)
        unknown = name not in self.table.COMMANDS and name.startswith("QLW")
        return self._make("name", f"{line[:60]} (unknown command)", line + "\r",
                          "error" if unknown else "any", FRAMING_REF, command=command.name,
                          form=kind, invalid={"why": "name", "param": name})  # fmt: skip

    def _case(self, src: ByteSource) -> Case:
        command, kind, text, _, _ = self._line(src)
        how = src.integer(0, 6)
        if how == 0:
            out = text.lower()
        elif how == 1:
            out = "at" + text[2:]
        elif how == 2:
            out = text.swapcase()
        elif how == 3:
            out = "AT " + text[2:]
        elif how == 4:
            out = re.sub(r"([=,])", r" \1 ", text)
        elif how == 5:
            out = src.choice((" ", "\t", "  ")) + text + src.choice((" ", "\t", "  "))
        else:
            out = "".join(ch.swapcase() if src.boolean() else ch for ch in text)
        return self._make("case", f"{out[:60]!r}", out + "\r", "any", FRAMING_REF,
                          command=command.name, form=kind)  # fmt: skip

    def _terminator(self, src: ByteSource) -> Case:
        command, kind, text, _, _ = self._line(src)
        how = src.integer(0, 8)
        cut = src.integer(1, max(1, len(text) - 1))
        out = (
            text,
            text + "\n",
            text + "\r\n",
            text + "\n\r",
            text + "\r\r",
            text[:cut] + "\r" + text[cut:] + "\r",
            text + "\x00\r",
            text + "\x1b\r",
            text[:cut] + "\x08" + text[cut:] + "\r",
        )[how]
        return self._make("terminator", f"{out[:60]!r}", out, "any", FRAMING_REF,
                          command=command.name, form=kind)  # fmt: skip

    def _long(self, src: ByteSource) -> Case:
        size = src.integer(200, MAX_CASE)
        how = src.integer(0, 3)
        command: Command | None = None
        if how == 0 and self.quote_slots:
            command, form, index = src.choice(self.quote_slots)
            values, _ = self.values(src, form, len(form.params))
            values[index] = '"' + (NAME_CHARS * (size // len(NAME_CHARS) + 1))[:size] + '"'
            text = command_line(command.name, "write", values)
        elif how == 1 and self.data_slots:
            command, form, index = src.choice(self.data_slots)
            values, _ = self.values(src, form, len(form.params))
            values[index] = (SAFE * (size // len(SAFE) + 1))[:size]
            text = command_line(command.name, "write", values)
        elif how == 2:
            command, _, text, _, _ = self._line(src)
            text = (text + ",0" * (size // 2))[:MAX_CASE]
        else:
            text = "AT" + "A" * size
        return self._make("long", f"{len(text)} characters: {text[:40]}...", text + "\r", "any",
                          FRAMING_REF, command=command.name if command else "")  # fmt: skip

    def _interleave(self, src: ByteSource) -> Case:
        lines = [self._line(src) for _ in range(src.integer(2, 3))]
        data = "".join(text + "\r" for _, _, text, _, _ in lines)
        label = " + ".join(text[:24] for _, _, text, _, _ in lines)
        return self._make("interleave", label, data, "any", FRAMING_REF,
                          command=lines[0][0].name, form=lines[0][1])  # fmt: skip

    def _register(self, src: ByteSource) -> Case:
        """The §5.1 flow as one case: configure, add objects, register; waits for
        the registration's result, so later cases meet a registered module."""
        if self.register is None:
            return self._valid(src)
        lines = [command_line(c.name, "write", self.values(src, f, len(f.params))[0])
                 for c, f in self.setup]  # fmt: skip
        form = self.register.forms["write"]
        lines.append(command_line(self.register.name, "write", self.values(src, form)[0]))
        return self._make("register", " + ".join(line[3:20] for line in lines),
                          "".join(line + "\r" for line in lines), "any", "BC26 §5.1",
                          command=self.register.name, form="write",
                          **{"await": list(form.asynchronous)})  # fmt: skip

    def _control(self, src: ByteSource) -> Case:
        if not self.urc_sources:
            return self._random(src)
        urc = src.choice(self.urc_sources)
        args: dict[str, Any] = {}
        length = 1
        for param in urc.params:
            if param.name == "length":
                length = src.integer(1, 16)
            elif param.kind == "data":
                seed = src.byte()
                args["data"] = "".join(SAFE[(seed + i) % len(SAFE)] for i in range(length))
            else:
                args[param.name.removesuffix("_id")] = self.integer(src, param)
        spec: dict[str, Any] = {"action": PLATFORM[urc.name], "args": args}
        if src.boolean():
            spec["line"] = self._line(src)[2]
        label = f"{spec['action']} {args}"
        if "line" in spec:
            label += f" during {spec['line'][:30]}"
        return Case("at", "control", label[:80], json.dumps(spec), "any", urc.ref, "control",
                    {"platform": urc.name})  # fmt: skip

    def _random(self, src: ByteSource) -> Case:
        how = src.integer(0, 2)
        if how == 0:
            blob = src.blob(48) + (b"\r" if src.boolean() else b"")
            return self._make("random", f"{len(blob)} random bytes", blob)
        tail = "".join(chr(0x20 + src.byte() % 0x5F) for _ in range(src.integer(0, 24)))
        head = "AT" if how == 1 else f"AT+{src.choice(self.commands).name}"
        text = head + tail
        return self._make("random", f"{text[:60]!r}", text + "\r")


# ---------------------------------------------------------------- the target


@dataclass
class _Marks:
    asyncs: int
    urcs: int
    strays: int


class AtTarget(Target):
    """An AT-command module (the command table from ``module=`` in the URI)."""

    protocol = "at"
    max_program = 16
    case_bytes = 10
    families = FAMILIES
    probe_name = "AT"

    def __init__(self, device: Device) -> None:
        super().__init__(device)
        module = device.spec.params.get("module", "bc26")
        if module not in MODULES:
            known = ", ".join(sorted(MODULES))
            raise FrameworkError(f"no AT command table for module {module!r} (known: {known})")
        self.module = module
        self.table = MODULES[module]
        self.builder = Builder(self.table)
        #: the built-in emulator of this module, whose framing choices are documented
        self.emulated = device.spec.emulator == module
        self.margin = REPLY_MARGIN
        self.speed: float | None = None  # the emulator's time compression
        self.answers_non_at = True
        self.framing = Framing()
        self.checker = _Checker()
        #: what each read form answered at the start of the program (final, lines)
        self.baseline: dict[str, tuple[str | None, tuple[str, ...]]] = {}
        #: the answers of the last :meth:`run`
        self.answers: list[Answer] = []
        self.reads = tuple(c for c in self.builder.commands if "read" in c.forms)
        self._register = self.builder.register.name if self.builder.register else None
        self.options = tuple(
            command_line(c.name, "write", self.builder.values(ByteSource(b""), f, len(f.params))[0])
            for c, f in self.builder.writes
            if not f.asynchronous
            and f.params
            and all(p.kind == "literal" or p.choices is not None for p in f.params)
        )
        self._outcomes: list[Answer] = []
        self._splitter = LineSplitter()
        self._backlog: deque[str] = deque()
        self._number = 0
        self._seen = 0
        self._obs: list[Observation] = []
        self._current: tuple[Exec | None, Case | None, int | None] = (None, None, None)
        self._loose = False
        self._may_register = False
        self._asyncs: list[str] = []
        self._strays = 0  # asynchronous results that arrived with nothing awaiting them
        self._started = False

    # ------------------------------------------------------------ cases
    def draw(self, src: ByteSource) -> Case:
        return self.builder.build[src.choice(FAMILIES)](src)

    def case_of(self, family: str, data: bytes) -> Case:
        """One case of *family* from *data* (for stateful rules)."""
        return self.builder.build[family](ByteSource(data))

    # ------------------------------------------------------------ programs
    def start(self) -> None:
        """Learn how the module frames lines (LF, lines that are not commands);
        the built-in emulator documents its choices."""
        if self.emulated:
            from conformance.emulators import bc26 as emulator

            self.framing = Framing(lf_ends_line=True, max_line=emulator.MAX_LINE)
            self.answers_non_at = True
            self.speed = self._speed()
        else:
            self._resync()
            self._raw_final(b"ATE0\r")  # V.250 E0: no echo
            lf = self._raw_final(b"AT\n") is not None
            if not lf:
                self._raw_final(b"\r")
            self.answers_non_at = self._raw_final(b"Z\r") is not None
            self.framing = Framing(lf_ends_line=lf)
            self._drain_quiet()
        self._started = True

    def begin(self) -> None:
        """Power-on state through the emulator's reset; on a real module: a CR to
        end whatever line is open, ATE0, AT+QLWDEL (§3.12) and the options
        (§3.11) at their first values.  Then the read forms' baselines."""
        if not self._started:
            self.start()
        carried: list[tuple[str, ...]] = []
        control = self.device.control
        reset = getattr(control, "reset", None) if control is not None and self.emulated else None
        if reset is not None:
            reset()
            self.framing.clear()
            self._drop()
        else:
            carried = self.checker.carry()
            self._resync()
            for text in ("ATE0", f"AT+{DELETE}", *self.options):
                self._plain(text)
        self.baseline = {}
        for command in self.reads:
            final, info = self._plain(f"AT+{command.name}?")
            self.baseline[command.name] = (final, tuple(normalise(i) for i in info))
        self.checker = _Checker(voided=carried)
        self._seen = 0
        self._outcomes = []
        self.answers = []
        self._asyncs = []
        self._strays = 0
        self._loose = False
        self._may_register = False

    def run(self, cases: Sequence[Case]) -> list[Observation]:
        self._obs = []
        self.answers = []
        for index, case in enumerate(cases):
            self._current = (None, None, max(index - 1, 0))
            self._poll()
            marks = _Marks(len(self._asyncs), len(self.checker.urcs), self._strays)
            if case.channel == "control":
                self._control(case, index)
            else:
                self._wire(case, index, _bytes(case.data))
            self._follow(case, index, marks)
        if cases:
            self._finish(cases[-1], len(cases) - 1)
        return self._obs

    def probe(self) -> str | None:
        final, _ = self._plain("AT")
        if final == "OK":
            return None
        if final is None:
            return f"no answer to AT within {self._bound('AT'):g} s"
        return f"AT answered {final}"

    def check_state(self, cases: Sequence[Case]) -> list[Observation]:
        """Each read form (§3.1, §3.2, §3.9) against what the program may have
        changed: a valid write answered OK sets the value, AT+QLWDEL (§3.12)
        restores the start, a line answered ERROR or invalid changes nothing."""
        out = []
        for command in self.reads:
            want = self._expected_read(command)
            base = self.baseline.get(command.name)
            if want is None or base is None or base[0] is None:
                continue
            final, info = self._plain(f"AT+{command.name}?")
            if final is None:
                continue
            got = (final, tuple(normalise(i) for i in info))
            if want == "baseline":
                ok, expected = got == base, " / ".join([*base[1], str(base[0])])
            else:
                ok = final == "OK" and self._holds(command, info, want)
                expected = f"+{command.name}: " + ",".join(want.values()) + " / OK"
            if not ok:
                out.append(Observation(
                    "state-corruption",
                    f"AT+{command.name}? shows a value the program did not set",
                    f"{command.name}?", command.ref, expected, f"AT+{command.name}?",
                    " / ".join([*info, final]),
                ))  # fmt: skip
        return out

    def close(self) -> None:
        """Leave the module quiet: operations the programs started are cancelled
        (the emulator's reset; AT+QLWDEL on a module) and their lines drained."""
        if not self._started:
            return
        self.begin()
        self.device.settle()

    # ------------------------------------------------------------ running cases
    def _wire(self, case: Case, index: int, data: bytes,
              during: Callable[[], None] | None = None) -> None:  # fmt: skip
        had_partial = self.framing.partial
        events = self.framing.feed(data)
        self._send(data)
        sent_at = time.monotonic()
        if during is not None:
            during()
        clean = (
            not had_partial
            and len(events) == 1
            and not events[0][1]
            and data == events[0][0].encode("latin-1") + b"\r"
        )
        for position, (text, overflow) in enumerate(events):
            answered = overflow or self._answered(text)
            certain = self.emulated or (
                not overflow and len(text) <= UNSURE_LENGTH and text.isprintable()
            )
            ex = Exec(text, index, clean, answered, certain, overflow)
            self._execute(ex, case, index, sent_at if position == 0 else None)

    def _execute(self, ex: Exec, case: Case, index: int, sent_at: float | None) -> None:
        self._current = (ex, case, index)
        if not ex.answered:  # a line the module does not answer (learnt)
            self._loose = True
            self._record(Answer(ex, None, []))
            return
        self._host(ex.text)
        bound = self._bound(ex.text)
        deadline = Deadline(bound)
        final: str | None = None
        info: list[str] = []
        echo = False
        while final is None:
            line = self._next(deadline)
            if line is None:
                break
            waiting = self.checker.waiting
            self._module(line)
            if waiting and not self.checker.waiting:
                final = line
            elif waiting and not self._typed(line):
                if not echo and line.strip() == ex.text.strip():
                    echo = True
                else:
                    info.append(line)
        elapsed = None if sent_at is None or final is None else time.monotonic() - sent_at
        if final is None:
            self.checker.abandon()
            self._loose = True
            if ex.certain and ex.text.strip()[:2].upper() == "AT":
                self._no_response(ex, index, bound)
        elif ex.certain:
            self._loose = False
        answer = Answer(ex, final, info, elapsed)
        if ex.strict:
            self._judge(answer, case, index)
        self._record(answer)

    def _judge(self, answer: Answer, case: Case, index: int) -> None:
        """The case's own expectation (strict lines only)."""
        ex, final = answer.exec, answer.final
        if final is None:
            return
        parsed = parse_line(ex.text)
        name = str(case.meta.get("command") or (parsed[0] if parsed else ""))
        command = self.table.COMMANDS.get(name)
        needs = case.meta.get("needs")
        excused = needs == "unregistered" and self._may_register
        if case.expect == "success" and final != "OK" and not excused:
            expected = "OK" + (" (no registration started since AT+QLWDEL)" if needs else "")
            self._obs.append(Observation(
                "error-reply", f"{final} to {ex.text.strip()[:60]!r}",
                f"{name}/{case.meta.get('form', '')}", case.ref, expected, ex.text, final, index,
            ))  # fmt: skip
        limit = None if command is None else command.max_time + TIMING_TOLERANCE
        if limit is not None and answer.elapsed is not None and answer.elapsed > limit:
            assert command is not None
            self._obs.append(Observation(
                "protocol-violation",
                f"final result to {ex.text.strip()[:40]!r} after {answer.elapsed * 1000:.0f} ms",
                f"{name}: maximum response time", f"{command.ref} Maximum Response Time",
                f"within {command.max_time * 1000:.0f} ms", ex.text, final, index,
            ))  # fmt: skip
        want = case.meta.get("lines")
        if final == "OK" and want is not None:
            got = [normalise(i).upper() for i in answer.info]
            if got != [normalise(w).upper() for w in want]:
                self._obs.append(Observation(
                    "protocol-violation", f"{ex.text.strip()[:40]!r} answered {answer.info}",
                    f"{name}: information lines", case.ref, " / ".join(want), ex.text,
                    " / ".join(answer.info), index,
                ))  # fmt: skip

    def _follow(self, case: Case, index: int, marks: _Marks) -> None:
        """Results a case's ``await``/``urc`` meta demand after its final result."""
        meta = case.meta
        last = self.answers[-1] if self.answers and self.answers[-1].exec.case == index else None
        results = tuple(meta.get("await", ()))
        if results and last is not None and last.final == "OK":
            got = self._wait(
                lambda: (
                    next((a for a in self._asyncs[marks.asyncs :] if a in results), None)
                    or self._strays > marks.strays
                ),
                self._async_bound(),
            )
            if isinstance(got, str):
                last.async_result = got
            elif not got:  # (True: its result came under another name, reported as such)
                name = str(meta.get("command", ""))
                command = self.table.COMMANDS.get(name)
                self._obs.append(Observation(
                    "no-response", f"no {' or '.join(results)} after {last.exec.text.strip()!r}",
                    f"{name}: {'/'.join(results)}", command.ref if command else case.ref,
                    " or ".join(results), last.exec.text, None, index,
                ))  # fmt: skip
        want = meta.get("urc")
        if want and (case.channel != "control" or self.device.control is not None):
            name = want["name"]
            params = {k: str(v).upper() for k, v in want.get("params", {}).items()}

            def seen() -> bool:
                return any(
                    u.name == name and all(u.params.get(k, "").upper() == v
                                           for k, v in params.items())
                    for u in self.checker.urcs[marks.urcs :]
                )  # fmt: skip

            if not self._wait(seen, URC_WAIT):
                urc = self.table.URCS.get(name)
                self._obs.append(Observation(
                    "no-response", f"no +{name} after {case.label}", f"+{name}",
                    urc.ref if urc else case.ref, f"+{name}: " + ",".join(params.values()),
                    case.data, None, index,
                ))  # fmt: skip

    def _control(self, case: Case, index: int) -> None:
        """A platform action through the device's control API (none: skipped)."""
        try:
            spec = json.loads(case.data)
        except ValueError:
            return
        if not isinstance(spec, dict):
            return
        control = self.device.control
        action = getattr(control, str(spec.get("action", "")), None) if control else None

        def act() -> None:
            if action is None:
                return
            args = dict(spec.get("args", {}))
            if "data" in args:
                args["data"] = str(args["data"]).encode("latin-1", "replace")
            # the platform refusing an action sends nothing to the module
            with contextlib.suppress(ValueError, TypeError, FrameworkError):
                action(**args)

        line = spec.get("line")
        if line:
            self._wire(case, index, _bytes(str(line) + "\r"), during=act)
        else:
            act()

    def _finish(self, case: Case, index: int) -> None:
        """End a line left open, wait for results due (emulated time only), and
        take what is still arriving."""
        if self.framing.partial:
            self._wire(case, index, b"\r")
        self._current = (None, None, index)
        if self.speed:
            strays = self._strays
            self._wait(lambda: not self.checker.awaiting or self._strays > strays,
                       self._async_bound())  # fmt: skip
        self._poll()

    def _record(self, answer: Answer) -> None:
        self.answers.append(answer)
        self._outcomes.append(answer)
        ex = answer.exec
        upper = ex.text.upper()
        acknowledged = answer.final == "OK" or (answer.final is None and ex.answered)
        if acknowledged and self._register is not None and self._register in upper:
            self._may_register = True
        parsed = parse_line(ex.text) if ex.strict else None
        if answer.final == "OK" and parsed is not None and parsed[:2] == (DELETE, "exec"):
            self._may_register = False

    def _no_response(self, ex: Exec, index: int, bound: float) -> None:
        parsed = parse_line(ex.text)
        command = self.table.COMMANDS.get(parsed[0]) if parsed else None
        name = command.name if command else "AT"
        ref = f"{command.ref} Maximum Response Time" if command else FRAMING_REF
        self._obs.append(Observation(
            "no-response", f"no final result to {ex.text.strip()[:60]!r} within {bound:g} s",
            name, ref, "OK, ERROR or +CME ERROR: <n>", ex.text, None, index,
        ))  # fmt: skip

    # ------------------------------------------------------------ the checker
    def _host(self, text: str) -> None:
        self._number += 1
        self.checker.feed(Line(self._number, text, None, HOST))
        self._collect()

    def _module(self, line: str) -> None:
        if self._loose and not self.checker.waiting and not self._typed(line):
            return  # a late answer to a line the framing model was unsure of
        self._number += 1
        before = len(self.checker.violations)
        self.checker.feed(Line(self._number, line, None, MODULE))
        if line in self.table.ASYNC_RESULTS:
            self._asyncs.append(line)
            new = self.checker.violations[before:]
            if any(v.message.endswith("with no command awaiting it") for v in new):
                self._strays += 1
        self._collect()

    def _collect(self) -> None:
        new = self.checker.violations[self._seen :]
        self._seen = len(self.checker.violations)
        for violation in new:
            observation = self._observe(violation)
            if observation is not None:
                self._obs.append(observation)

    def _observe(self, v: Violation) -> Observation | None:
        """A checker violation as an observation, or None where the case asks
        nothing of it (no-response is judged on the deadline instead)."""
        if v.by != "module" or v.message.startswith("no final result"):
            return None
        ex, case, index = self._current
        typed = self._typed(v.text)
        if ex is not None and not ex.certain and not typed:
            return None  # the module may have cut or edited the line: its answer is its own
        sent = ex.text if ex is not None and not typed else None
        if v.message.startswith("OK to an invalid command"):
            if ex is None or case is None or not ex.strict or case.expect != "error":
                return None
            invalid = case.meta.get("invalid") or {}
            key = (f"{case.meta.get('command', '')}/{invalid.get('why', 'invalid')}:"
                   f"{invalid.get('param', '')}")  # fmt: skip
            why = v.message.split(": ", 1)[-1]
            return Observation("accepted-invalid", f"OK to {ex.text.strip()[:60]!r}: {why}", key,
                               case.ref or v.ref, "ERROR", sent, v.text, index)  # fmt: skip
        stray = "no command pending" in v.message or "no command to answer" in v.message
        if stray and self._loose:
            return None
        kind = "malformed-reply" if _MALFORMED.match(v.message) else "protocol-violation"
        return Observation(kind, f"{v.message}", f"{v.ref}: {_shape(v.message)}", v.ref,
                           v.expected or "", sent, v.text, index)  # fmt: skip

    def _typed(self, line: str) -> bool:
        """A URC or an asynchronous result: allowed at any time."""
        head = line.split(":", 1)[0].strip()
        return line in self.table.ASYNC_RESULTS or (
            head.startswith("+") and head[1:] in self.table.URCS
        )

    def _final(self, line: str) -> bool:
        return line in self.table.FINAL_RESULTS or line.startswith(self.table.CME_ERROR)

    # ------------------------------------------------------------ state
    def _expected_read(self, command: Command) -> str | dict[str, str] | None:
        """What *command*'s read form must show after the program: "baseline", the
        values of the last valid write answered OK, or None when unknown."""
        configurable = "write" in command.forms
        state: str | dict[str, str] = "baseline"
        for answer in self._outcomes:
            ex = answer.exec
            if not (answer.final == "OK" or (answer.final is None and ex.answered)):
                continue  # answered ERROR: it changed nothing
            parsed = parse_line(ex.text) if ex.strict else None
            if parsed is not None and parsed[1] in ("test", "read"):
                continue
            if not configurable:
                return None  # process state: anything acknowledged may change it
            if parsed is None:
                upper = ex.text.upper()
                if command.name in upper or DELETE in upper:
                    return None
                continue
            name, kind, args = parsed
            if name not in (command.name, DELETE):
                continue
            if answer.final is None:
                return None
            if name == DELETE and kind == "exec":
                state = "baseline"
            elif name == command.name and kind == "write":
                values, problem = _match_params(command.forms["write"].params, args)
                if problem is None:  # an invalid write must not change anything
                    state = values
        return state

    @staticmethod
    def _holds(command: Command, info: Sequence[str], values: dict[str, str]) -> bool:
        form = command.forms["read"]
        prefix = f"+{command.name}:"
        lines = [i.strip() for i in info if i.strip().startswith(prefix)]
        if len(lines) != 1:
            return False
        got, problem = _match_params(form.info_params, lines[0][len(prefix) :].strip())
        if problem is not None:
            return False
        for param in form.info_params:
            if param.name not in values or param.name not in got:
                continue
            mine, theirs = values[param.name], got[param.name]
            if param.kind == "int":
                if _int(mine, -1) != _int(theirs, -2):
                    return False
            elif mine != theirs:
                return False
        return True

    # ------------------------------------------------------------ I/O
    def _send(self, data: bytes) -> None:
        self.device.transport.send(data)

    def _next(self, deadline: Deadline) -> str | None:
        transport = self.device.transport
        while not self._backlog:
            try:
                chunk = transport.recv(deadline.remaining())
            except NoReply:
                return None
            self._backlog.extend(self._splitter.feed(_bytes(chunk)))
            if not self._backlog and deadline.expired():
                return None
        return self._backlog.popleft()

    def _wait(self, predicate: Callable[[], Any], bound: float) -> Any:
        deadline = Deadline(bound)
        while not (result := predicate()):
            line = self._next(deadline)
            if line is None:
                return predicate()
            self._module(line)
        return result

    def _poll(self) -> None:
        """Take, without waiting, whatever has arrived (strays, URCs, results)."""
        transport = self.device.transport
        taken = 0
        while taken < POLL_LIMIT:
            try:
                chunk = transport.recv(0)
            except NoReply:
                break
            data = _bytes(chunk)
            taken += len(data)
            self._backlog.extend(self._splitter.feed(data))
        while self._backlog:
            self._module(self._backlog.popleft())

    def _drop(self) -> None:
        """Discard whatever has arrived."""
        transport = self.device.transport
        taken = 0
        while taken < POLL_LIMIT:
            try:
                taken += len(_bytes(transport.recv(0)))
            except NoReply:
                break
        self._splitter = LineSplitter()
        self._backlog.clear()

    def _drain_quiet(self, limit: float = 6.0) -> None:
        """Discard what arrives until the line is quiet (at most *limit* s: the
        longest maximum response time, §3.12, and a margin)."""
        transport = self.device.transport
        deadline = Deadline(limit)
        while not deadline.expired():
            try:
                transport.recv(min(QUIET, deadline.remaining()))
            except NoReply:
                break
        self._splitter = LineSplitter()
        self._backlog.clear()

    def _resync(self) -> None:
        """End whatever line the module holds, and let its answers pass."""
        self._send(b"\r")
        self._drain_quiet()
        self.framing.clear()

    def _raw_final(self, data: bytes) -> str | None:
        """Send *data* and return the first final result (framing not yet known)."""
        self._send(data)
        deadline = Deadline(self._bound("AT"))
        while (line := self._next(deadline)) is not None:
            if self._final(line):
                return line
        return None

    def _plain(self, text: str) -> tuple[str | None, tuple[str, ...]]:
        """One command outside the program: its final result and information lines."""
        self._drop()
        data = (b"\r" if self.framing.partial else b"") + _bytes(text + "\r")
        events = self.framing.feed(data)
        self._send(data)
        result: tuple[str | None, tuple[str, ...]] = (None, ())
        for line_text, overflow in events:
            if not (overflow or self._answered(line_text)):
                continue
            deadline = Deadline(self._bound(line_text))
            info: list[str] = []
            echo = False
            result = (None, ())
            while (line := self._next(deadline)) is not None:
                if self._final(line):
                    result = (line, tuple(info))
                    break
                if self._typed(line):
                    continue
                if not echo and line.strip() == line_text.strip():
                    echo = True
                else:
                    info.append(line)
            else:
                result = (None, tuple(info))
        return result

    def _answered(self, text: str) -> bool:
        return text.strip()[:2].upper() == "AT" or self.answers_non_at

    def _bound(self, text: str) -> float:
        parsed = parse_line(text)
        command = self.table.COMMANDS.get(parsed[0]) if parsed else None
        return (command.max_time if command else DEFAULT_MAX_TIME) + self.margin

    def _async_bound(self) -> float:
        timeout = float(getattr(self.device, "async_timeout", bc26.DEFAULT_ASYNC_TIMEOUT))
        return timeout / self.speed + ASYNC_SLACK if self.speed else timeout

    def _speed(self) -> float | None:
        try:
            return float(self.device.control.clock.speed)
        except (AttributeError, TypeError, ValueError, FrameworkError, DeviceUnreachable):
            return None


def _bytes(data: bytes | str) -> bytes:
    return data.encode("latin-1", "replace") if isinstance(data, str) else data


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default
