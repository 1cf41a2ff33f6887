"""Holds an AT dialogue against a module's command table, line by line.

It works the same on a recorded log and on live lines: feed :class:`Line`
objects, then call :meth:`DialogueChecker.finish`.  Every violation names the
line, the manual section and what was expected; unexpected lines are
violations, never skipped.  URCs may come anywhere and are typed and kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.at.lines import HOST, MODULE, Line, split_params
from dissectors import bc26
from dissectors.bc26 import CON, Command, Form, Param


@dataclass(frozen=True)
class Violation:
    line: int
    ref: str  # manual section (and command)
    message: str
    text: str = ""
    expected: str | None = None
    by: str = "module"  # who broke the rule: "module" or "host"

    def __str__(self) -> str:
        tail = f" (expected {self.expected})" if self.expected else ""
        return f"line {self.line}: [{self.ref}] {self.message}{tail}"

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "ref": self.ref, "message": self.message, "text": self.text,
                "expected": self.expected, "by": self.by}  # fmt: skip


@dataclass(frozen=True)
class UrcSeen:
    line: int
    name: str
    params: dict[str, str]
    time: float | None


@dataclass
class _Pending:
    line: Line
    command: Command | None  # None: a command outside the table (not checked)
    name: str
    form: Form | None
    params: dict[str, str]
    invalid: str | None  # why the module must answer ERROR
    echo_seen: bool = False
    info_seen: int = 0
    data_len: int | None = None  # QLWRD: length of the data line that must follow


@dataclass
class _Awaited:
    line: Line
    results: tuple[str, ...]
    ref: str


@dataclass
class DialogueChecker:
    async_timeout: float = bc26.DEFAULT_ASYNC_TIMEOUT
    violations: list[Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    urcs: list[UrcSeen] = field(default_factory=list)
    state: bc26.ModuleState = field(default_factory=bc26.ModuleState)
    _pending: _Pending | None = None
    _awaited: list[_Awaited] = field(default_factory=list)
    _last_time: float | None = None
    _response_times: list[tuple[str, float]] = field(default_factory=list)

    # ------------------------------------------------------------ input
    def feed(self, line: Line) -> None:
        text = line.text.strip()
        if not text:
            return
        if line.time is not None:
            self._last_time = line.time
            self._check_async_deadlines(line)
        pending = self._pending
        echo = pending is not None and not pending.echo_seen and text == pending.line.text.strip()
        if echo and pending is not None and line.direction in (MODULE, None):
            pending.echo_seen = True  # ATE1: the command comes back first
            return
        is_command = line.direction == HOST or (line.direction is None and text[:2].upper() == "AT")
        if is_command:
            self._command(line, text)
        else:
            self._response(line, text)

    def finish(self) -> list[Violation]:
        if self._pending is not None:
            p = self._pending
            self._violate(p.line, self._ref(p), "no final result (OK, ERROR or +CME ERROR)",
                          expected="OK, ERROR or +CME ERROR: <n>")  # fmt: skip
            self._pending = None
        for awaited in self._awaited:
            self.notes.append(f"line {awaited.line.number}: the log ends before "
                              f"{' or '.join(awaited.results)} ({awaited.ref})")  # fmt: skip
        self._awaited = []
        return self.violations

    @property
    def response_times(self) -> list[tuple[str, float]]:
        """(command, seconds to its final result) where timestamps allowed it."""
        return list(self._response_times)

    # ------------------------------------------------------------ commands
    def _command(self, line: Line, text: str) -> None:
        if self._pending is not None:
            p = self._pending
            self._violate(
                p.line,
                self._ref(p),
                f"no final result before the next command (line {line.number})",
                expected="OK, ERROR or +CME ERROR: <n>",
            )
        upper = text.upper()
        name, kind, args = split_command(text)
        command = bc26.COMMANDS.get(name)
        if command is None:
            self._pending = _Pending(line, None, name, None, {}, None)
            if upper.startswith("AT+QLW"):
                self._pending.invalid = f"AT+{name} is not a command of the manual"
            return
        form = command.forms.get(kind)
        params: dict[str, str] = {}
        invalid = None
        if form is None:
            listed = ", ".join(_FORM_TEXT[k].format(name) for k in command.forms)
            invalid = f"{_FORM_TEXT[kind].format(name)} is not a form of AT+{name} ({listed})"
        else:
            params, invalid = _match_params(form.params, args)
        self._pending = _Pending(line, command, name, form, params, invalid)
        con = name == "QLWDATASEND" and invalid is None and int(params["mode"], 16) == CON
        if con and self.state.con_pending_since is not None:
            self._violate(line, f"BC26 {command.section} note 1",
                              "a CON send before the previous CON's result (line "
                              f"{self.state.con_pending_since})",
                              expected="SEND OK or SEND FAIL first", by="host")  # fmt: skip

    # ------------------------------------------------------------ responses
    def _response(self, line: Line, text: str) -> None:
        pending = self._pending
        if pending is not None and pending.data_len is not None:
            self._qlwrd_data(line, text, pending)
            return
        head = text.split(":", 1)[0].strip()
        if head.startswith("+") and head[1:] in bc26.URCS:
            self._urc(line, text, bc26.URCS[head[1:]])
            return
        if text in bc26.ASYNC_RESULTS:
            self._async(line, text)
            return
        if text in bc26.FINAL_RESULTS or text.startswith(bc26.CME_ERROR):
            self._final(line, text)
            return
        if pending is not None:
            self._info(line, text, pending)
            return
        self._violate(line, "BC26 §1.2", "a line with no command to answer it",
                      expected="URC or nothing")  # fmt: skip

    def _info(self, line: Line, text: str, p: _Pending) -> None:
        if p.command is None:  # outside the table: accept its own +NAME lines
            if text.startswith(f"+{p.name}") or not p.name:
                return
            self._violate(line, "BC26 §1.2", f"unexpected line after AT+{p.name}")
            return
        form = p.form
        expected = ", ".join(form.info) if form and form.info else "no information line"
        if form is None or p.info_seen >= len(form.info):
            self._violate(line, self._ref(p), "unexpected information line", text, expected)
            return
        template = form.info[p.info_seen]
        p.info_seen += 1
        if not template.startswith("+") or ":" in template:  # literal text (test forms)
            if text != template:
                self._violate(line, self._ref(p), "wrong test response", text, template)
            return
        prefix = f"{template}:"
        if not text.startswith(prefix):
            self._violate(
                line,
                self._ref(p),
                "wrong information line",
                text,
                f"{template}: <{'>,<'.join(q.name for q in form.info_params)}>",
            )
            return
        values, problem = _match_params(form.info_params, text[len(prefix) :].strip())
        if problem:
            self._violate(line, self._ref(p), f"information line: {problem}", text)
            return
        if p.name == "QLWRD":
            self._qlwrd_info(line, text, p, values)

    def _qlwrd_info(self, line: Line, text: str, p: _Pending, values: dict[str, str]) -> None:
        actual = int(values["read_actual_length"])
        asked = int(p.params.get("read_length", "0") or 0)
        if actual > asked:
            self._violate(line, self._ref(p), f"read {actual} bytes when {asked} were asked",
                          text, f"read_actual_length <= {asked}")  # fmt: skip
        nodes = self.state.nodes
        if actual > 0:
            if "remain_length" not in values:
                self._violate(line, self._ref(p), "no remain_length", text,
                              "+QLWRD: <read_actual_length>,<remain_length>")  # fmt: skip
            p.data_len = actual
            if nodes:
                want = max(0, nodes[0] - actual)
                remain = int(values.get("remain_length", want))
                if remain != want:
                    self._violate(line, "BC26 §3.10 note 2",
                                  f"remain_length {remain} after reading {actual} of a "
                                  f"{nodes[0]}-byte node", text, str(want))  # fmt: skip
                nodes[0] = want
                if want == 0:
                    nodes.pop(0)
        else:
            nodes.clear()

    def _qlwrd_data(self, line: Line, text: str, p: _Pending) -> None:
        want = p.data_len or 0
        p.data_len = None
        fits = len(text) == 2 * want if self.state.hex_recv else len(text) in (want, 2 * want)
        if not fits:
            self._violate(line, f"{self._ref(p)} <data>",
                          f"{len(text)} characters of data for read_actual_length {want}",
                          text, f"{want} bytes")  # fmt: skip

    def _final(self, line: Line, text: str) -> None:
        p = self._pending
        if p is None:
            self._violate(line, "BC26 §1.2", f"{text} with no command pending", text)
            return
        self._pending = None
        ref = self._ref(p)
        if p.line.time is not None and line.time is not None and p.command is not None:
            elapsed = line.time - p.line.time
            self._response_times.append((p.name, elapsed))
            if elapsed > p.command.max_time:
                self._violate(line, f"{ref} Maximum Response Time",
                              f"final result after {elapsed * 1000:.0f} ms", text,
                              f"within {p.command.max_time * 1000:.0f} ms")  # fmt: skip
        ok = text == "OK"
        if p.invalid is not None:
            if ok:
                self._violate(line, ref, f"OK to an invalid command: {p.invalid}", text,
                              "ERROR")  # fmt: skip
            return
        if not ok or p.command is None or p.form is None:
            return
        if p.form.info and p.info_seen < len(p.form.info):
            self._violate(line, ref, "OK without the information line", text,
                          ", ".join(p.form.info))  # fmt: skip
        if p.data_len is not None:
            self._violate(line, f"{ref} <data>", "OK without the data line", text)
        self._after_ok(p)

    def _after_ok(self, p: _Pending) -> None:
        assert p.command is not None and p.form is not None
        s = self.state
        name, ref = p.name, p.command.ref
        expects: tuple[str, ...] = p.form.asynchronous
        if name == "QLWOPEN":
            s.buffer_mode = p.params.get("mode") == "1"
        elif name == "QLWDATASEND":
            if int(p.params["mode"], 16) == CON:
                s.con_pending_since = p.line.number
            else:
                expects = ()
        elif name == "QLWDELOBJ" and not s.registered:
            expects = ()  # §3.4: no UPDATE OK when not registered
        elif name == "QLWDEL":
            s.registered = False
        elif name == "QLWCFG":
            s.hex_recv = p.params.get("recv_data_format") == "1"
        if expects:
            self._awaited.append(_Awaited(p.line, expects, ref))

    def _async(self, line: Line, text: str) -> None:
        for awaited in self._awaited:
            if text in awaited.results:
                self._awaited.remove(awaited)
                if text == "CONNECT OK":
                    self.state.registered = True
                elif text == "CLOSE OK":
                    self.state.registered = False
                elif text.startswith("SEND "):
                    self.state.con_pending_since = None
                return
        self._violate(
            line,
            "BC26 §3.4-§3.8",
            f"{text} with no command awaiting it",
            text,
            " or ".join(r for a in self._awaited for r in a.results) or "nothing",
        )

    def _check_async_deadlines(self, line: Line) -> None:
        for awaited in list(self._awaited):
            start = awaited.line.time
            if (
                start is not None
                and line.time is not None
                and line.time - start > self.async_timeout
            ):
                self._awaited.remove(awaited)
                self._violate(awaited.line, awaited.ref,
                                  f"no {' or '.join(awaited.results)} within "
                                  f"{self.async_timeout:g} s", awaited.line.text)  # fmt: skip

    def _urc(self, line: Line, text: str, urc: bc26.Urc) -> None:
        body = text.split(":", 1)[1].strip() if ":" in text else ""
        values, problem = _match_params(urc.params, body)
        if problem:
            self._violate(
                line,
                urc.ref,
                f"malformed URC: {problem}",
                text,
                f"+{urc.name}: <{'>,<'.join(p.name for p in urc.params)}>",
            )
            return
        self.urcs.append(UrcSeen(line.number, urc.name, values, line.time))
        if urc.name == "QLWDATARECV":
            s = self.state
            has_data = "data" in values
            if s.buffer_mode and has_data:
                self._violate(
                    line,
                    urc.ref,
                    "data in the URC in buffer access mode",
                    text,
                    "+QLWDATARECV: <obj_id>,<ins_id>,<res_id>,<length>",
                )
            if s.buffer_mode and sum(s.nodes) > 0:
                self._violate(line, "BC26 §3.10 note 1",
                              f"a new +QLWDATARECV while {sum(s.nodes)} bytes are unread", text,
                              "no URC until the buffer is drained with AT+QLWRD")  # fmt: skip
            if s.buffer_mode:
                s.nodes.append(int(values["length"]))

    # ------------------------------------------------------------ helpers
    def _ref(self, p: _Pending) -> str:
        return p.command.ref if p.command is not None else f"BC26 §1.2 AT+{p.name}"

    def _violate(self, line: Line, ref: str, message: str, text: str | None = None,
                 expected: str | None = None, by: str = "module") -> None:  # fmt: skip
        self.violations.append(
            Violation(line.number, ref, message, text or line.text, expected, by)
        )


_FORM_TEXT = {"test": "AT+{}=?", "read": "AT+{}?", "write": "AT+{}=<...>", "exec": "AT+{}"}


def split_command(text: str) -> tuple[str, str, str]:
    """(name, form, arguments) of ``AT+NAME...``; basic commands get their letters."""
    body = text.strip()[2:]
    if not body.startswith("+"):
        return body.upper(), "exec", ""
    body = body[1:]
    for i, ch in enumerate(body):
        if ch in "=?":
            name, rest = body[:i].upper(), body[i:]
            if rest == "=?":
                return name, "test", ""
            if rest == "?":
                return name, "read", ""
            return name, "write", rest[1:]
    return body.upper(), "exec", ""


def _match_params(params: tuple[Param, ...], text: str) -> tuple[dict[str, str], str | None]:
    values = split_params(text) if text else []
    required = sum(1 for p in params if not p.optional)
    if not required <= len(values) <= len(params):
        names = ",".join(f"<{p.name}>" for p in params)
        return {}, f"{len(values)} parameters where {names} are expected"
    out: dict[str, str] = {}
    for param, value in zip(params, values, strict=False):
        problem = param.check(value)
        if problem:
            return out, f"<{param.name}> {value!r} {problem}"
        out[param.name] = value
    return out, None
