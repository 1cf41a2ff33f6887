"""AT-command client (serial or TCP) with the transcript checker running live.

Each command is sent, its lines are read until the final result, and every
line goes through :class:`~conformance.at.checker.DialogueChecker`: whatever it
finds (wrong form of answer, late final result, malformed URC, unexpected
line...) becomes a :class:`~conformance.errors.Finding` naming the manual
section.  URCs are collected as they come and can be waited for.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from conformance.at.checker import DialogueChecker, UrcSeen, Violation
from conformance.at.lines import HOST, MODULE, Line, LineSplitter
from conformance.devices.base import Device
from conformance.devices.uri import DeviceSpec
from conformance.errors import Finding, NoReply
from conformance.transports.base import Deadline, Transport
from dissectors import bc26

REPLY_MARGIN = 1.0  # seconds past a command's maximum response time before "no reply"


@dataclass(frozen=True)
class Answer:
    command: str
    lines: list[str]  # information lines, in order
    final: str
    elapsed: float  # seconds from the end of the command to the final result


class AtDevice(Device):
    protocol = "at"
    decoder = staticmethod(
        lambda data: repr(data.decode("latin-1") if isinstance(data, bytes) else data)
    )

    def __init__(self, spec: DeviceSpec, transport: Transport) -> None:
        super().__init__(spec, transport)
        self.splitter = LineSplitter()
        self.checker = DialogueChecker(async_timeout=self.async_timeout)
        self._number = 0
        self._seen_violations = 0
        self._backlog: list[str] = []

    @property
    def async_timeout(self) -> float:
        return float(self.spec.params.get("async_timeout", bc26.DEFAULT_ASYNC_TIMEOUT))

    def settle(self) -> None:
        super().settle()
        self.splitter = LineSplitter()
        self.checker = DialogueChecker(async_timeout=self.async_timeout)
        self._seen_violations = 0
        self._backlog.clear()

    # ------------------------------------------------------------ lines
    def _line(self, text: str, direction: str) -> Line:
        self._number += 1
        return Line(self._number, text, time.monotonic(), direction)

    def _read_line(self, deadline: Deadline) -> str | None:
        while not self._backlog:
            try:
                chunk = self.transport.recv(deadline.remaining())
            except NoReply:
                return None
            data = chunk.encode() if isinstance(chunk, str) else chunk
            self._backlog.extend(self.splitter.feed(data))
        return self._backlog.pop(0)

    def _feed(self, text: str) -> None:
        self.checker.feed(self._line(text, MODULE))
        self._raise_new_violations()

    def _raise_new_violations(self, sent: str | None = None) -> None:
        __tracebackhide__ = True
        new = [v for v in self.checker.violations[self._seen_violations :] if v.by == "module"]
        self._seen_violations = len(self.checker.violations)
        if new:
            raise _finding(new[0], sent)

    def after_test(self, quiet: float = 0.2) -> None:
        """Lines after the last final result must be URCs or awaited results;
        anything else (a second final result, a stray line) is a finding."""
        __tracebackhide__ = True
        deadline = Deadline(quiet)
        while (line := self._read_line(deadline)) is not None:
            self._feed(line)

    # ------------------------------------------------------------ verbs
    def command(self, text: str, *, timeout: float | None = None) -> Answer:
        """Send ``text`` and read up to its final result, checked as it comes."""
        __tracebackhide__ = True
        name = text[3:].split("=")[0].split("?")[0].upper() if text[:3].upper() == "AT+" else ""
        entry = bc26.COMMANDS.get(name)
        bound = timeout or (entry.max_time + REPLY_MARGIN if entry else self.reply_timeout)
        self.transport.send((text + "\r").encode())
        self.checker.feed(self._line(text, HOST))
        self._raise_new_violations(text)
        started = time.monotonic()
        deadline = Deadline(bound)
        info: list[str] = []
        while True:
            line = self._read_line(deadline)
            if line is None:
                ref = entry.ref if entry else "BC26 §1.2"
                raise NoReply(f"no final result within {bound:g} s", requirement=ref, sent=text,
                              expected="OK, ERROR or +CME ERROR: <n>")  # fmt: skip
            self._feed(line)
            if line in bc26.FINAL_RESULTS or line.startswith(bc26.CME_ERROR):
                return Answer(text, info, line, time.monotonic() - started)
            if line.strip() != text.strip() and not self._is_urc(line):
                info.append(line)

    def raw_exchange(self, text: str, *, timeout: float = 2.0) -> str:
        """Send *text* and return the raw characters up to its final result, echo
        included (for checks on framing and echo that lines would hide)."""
        self.transport.send((text + "\r").encode())
        deadline = Deadline(timeout)
        raw = ""
        while not any(f"\n{f}\r" in raw or raw.endswith(f"{f}\r\n") for f in ("OK", "ERROR")):
            try:
                chunk = self.transport.recv(deadline.remaining())
            except NoReply:
                raise NoReply(f"no final result within {timeout:g} s", sent=text,
                              received=raw, requirement="BC26 §1.2") from None  # fmt: skip
            raw += chunk.decode("latin-1") if isinstance(chunk, bytes) else chunk
        return raw

    def expect_final(self, text: str, final: str, *, ref: str | None = None) -> Answer:
        """``text`` must end in *final* (e.g. ERROR for an out-of-range parameter)."""
        __tracebackhide__ = True
        answer = self.command(text)
        if answer.final != final and not (final == "ERROR" and answer.final.startswith("+CME")):
            raise Finding(f"answered {answer.final}", requirement=ref or _ref(text), sent=text,
                          received=answer.final, expected=final)  # fmt: skip
        return answer

    def wait_for(self, results: tuple[str, ...], *, timeout: float | None = None,
                 ref: str = "BC26") -> str:  # fmt: skip
        """Read until one of *results* (an asynchronous result) arrives."""
        __tracebackhide__ = True
        bound = self.async_timeout if timeout is None else timeout
        deadline = Deadline(bound)
        while True:
            line = self._read_line(deadline)
            if line is None:
                raise NoReply(f"no {' or '.join(results)} within {bound:g} s", requirement=ref,
                              expected=" or ".join(results))  # fmt: skip
            self._feed(line)
            if line in results:
                return line

    def expect_urc(self, name: str, *, within: float, params: dict[str, str] | None = None,
                   ref: str | None = None) -> UrcSeen:  # fmt: skip
        """A URC ``+name`` (with these parameter values) seen already or within *within* s."""
        __tracebackhide__ = True
        deadline = Deadline(within)
        while True:
            for urc in self.checker.urcs:
                if urc.name == name and all(urc.params.get(k) == v for k, v in
                                            (params or {}).items()):  # fmt: skip
                    self.checker.urcs.remove(urc)
                    return urc
            line = self._read_line(deadline)
            if line is None:
                want = f"+{name}: " + ",".join((params or {}).values())
                raise NoReply(
                    f"no {want} within {within:g} s",
                    requirement=ref or bc26.URCS[name].ref,
                    expected=want,
                )
            self._feed(line)

    @staticmethod
    def _is_urc(line: str) -> bool:
        head = line.split(":", 1)[0].strip()
        return head.startswith("+") and head[1:] in bc26.URCS


def _ref(text: str) -> str:
    name = text[3:].split("=")[0].split("?")[0].upper()
    command = bc26.COMMANDS.get(name)
    return command.ref if command else "BC26 §1.2"


def _finding(v: Violation, sent: str | None) -> Finding:
    return Finding(f"line {v.line}: {v.message}", requirement=v.ref, sent=sent,
                   received=v.text, expected=v.expected)  # fmt: skip
