"""Quectel BC26 LwM2M module emulator: the AT command set of
``quectel-bc26-lwm2m-at-commands.txt`` (BC26 LwM2M AT Commands Manual V1.0)
on a serial line (pty) or TCP, with the IoT platform's side as a control API.

Driven by the command table in :mod:`dissectors.bc26`: a command line is cut
into name, form and parameters (§1.2), matched to the table's form, every
parameter checked with :meth:`~dissectors.bc26.Param.check`, and only then
acted on by the command's handler (§3.1-§3.12).  A line that fails any of
these steps is answered ``ERROR``.  URCs follow §4.1-§4.2 and the flows of §5.

The IoT platform is played by the control API (plain methods; call them on
the host's loop, e.g. ``host.call(emulator.downlink, 19, 1, 0, b"\\xaa")`` or
through a device's ``control``): :meth:`Bc26Emulator.observe`,
:meth:`~Bc26Emulator.downlink`, :meth:`~Bc26Emulator.reject_registration`,
:meth:`~Bc26Emulator.reject_updates`, :meth:`~Bc26Emulator.reject_deregistration`,
:meth:`~Bc26Emulator.ack_delay`, :meth:`~Bc26Emulator.drop_ack`,
:meth:`~Bc26Emulator.reset_ack`; the read-only state is in properties
(``registered``, ``mode``, ``objects``, ``last_status``, ``buffered`` ...).
URCs a control call causes go to every link attached to the emulator;
asynchronous results go to the link whose command started them.

Choices where the manual is silent, documented here once:

* framing is V.250's: a command line ends in CR or LF (CR LF is one end and
  an empty line), responses are ``<CR><LF>text<CR><LF>``; one command per
  line (no ``;`` concatenation), no line editing, ``AT`` is case-insensitive;
  a line that does not start with ``AT`` is answered ERROR;
* echo is OFF at power-on (the manual does not say); ``ATE1``/``ATE0``
  (``ATE`` = ``ATE0``) switch it; the echo is the command line and a CR;
* besides the LwM2M set, only ``AT``, ``ATE`` and ``AT+CGPADDR`` (the PDN
  address the §5 flows start with) are known; everything else is ERROR;
* a line longer than ``MAX_LINE`` characters (the longest well-formed command,
  a 512-byte hex ``AT+QLWDATASEND``, is under 1 070) is answered ERROR once
  and discarded up to its end;
* the read forms of AT+QLWSERV/AT+QLWCONF answer ERROR while nothing is set;
  the platform address must be an IP address and the endpoint name not empty;
  both are refused (ERROR) while registered or registering (§5: AT+QLWDEL
  first to change platform);
* AT+QLWADDOBJ takes ``<res_num>`` and ``<res_id>`` together (§3.3 syntax);
  ``<res_id>`` lists exactly ``<res_num>`` resource ids separated by ``,`` or
  ``;``; the same object instance twice, or more than ``MAX_OBJECTS``, is ERROR;
  adding while registered is allowed and triggers no update (the table lists
  no asynchronous result for it);
* AT+QLWDELOBJ of an object never added is ERROR; when registered it is
  followed by UPDATE OK (UPDATE FAIL when the platform rejects updates, §3.4);
* AT+QLWOPEN answers OK and, ``REGISTER_DELAY_S`` emulated seconds later,
  CONNECT OK; CONNECT FAIL when the platform rejects or the platform address
  or endpoint name is missing; ERROR when already registered or while another
  register/update/deregister is in progress (one at a time);
* with ``auto_observe`` (default, as in the §5 examples) the platform observes
  every added object instance ``OBSERVE_DELAY_S`` after CONNECT OK
  (``+QLWOBSERVE: 0,<obj>,<ins or 0>,<first res_id or -1>``);
* AT+QLWUPDATE/AT+QLWCLOSE need registration (else ERROR) and answer
  UPDATE/CLOSE OK after ``UPDATE_DELAY_S``/``CLOSE_DELAY_S``; after CLOSE FAIL
  the module stays registered; a CON send still pending at CLOSE OK ends with
  SEND FAIL (status 2, sent failed) just before it;
* AT+QLWDATASEND: any send (NON too) while a CON awaits its result is ERROR
  (§3.8 note 1); so is a send while not registered or deregistering.
  ``<data>`` is taken literally: in text mode its length must equal
  ``<length>``, in hex mode it must be ``2 * <length>`` hex digits (the
  §3.8 example sends hex, i.e. after ``AT+QLWCFG="dataformat",1,...``).
  The data formats are text (0,0) at power-on.  The object named is not
  checked against the added ones.  A CON is acknowledged after the platform's
  ACK delay (SEND OK, status 4); a dropped ACK ends, after CoAP's
  MAX_TRANSMIT_WAIT of 93 s (``CON_TIMEOUT_S``, inside the manual's
  "about 128 s"), in SEND FAIL with status 3 (timeout); a platform RST in
  SEND FAIL with status 5;
* AT+QLWRD answers in any mode (outside buffer access mode the buffer is
  simply empty: ``+QLWRD: 0``).  One read never crosses a node (§3.10 note 2).
  In buffer access mode a downlink is announced when it arrives in an empty
  buffer; one arriving while data is unread is queued silently, and the next
  node is announced right after the OK of the read that drained the previous
  one (§3.10 note 1).  At most ``MAX_NODES`` nodes are kept; further downlinks
  are refused (the control call returns False);
* text-mode data (URC and AT+QLWRD) is written byte for byte (latin-1); a
  CR or LF in it breaks the line framing, a comma the URC's fields, as they
  would on the module;
* AT+QLWDEL forgets platform address, endpoint, objects, the data mode,
  buffered data and CON status, and deregisters; it answers OK at once when
  not registered, else after ``DEREGISTER_DELAY_S`` (within its 5 s maximum),
  lines arriving meanwhile are queued (at most ``MAX_QUEUED_LINES``).  It
  keeps the data formats and echo, which are not LwM2M context;
* :meth:`Emulator.reset` returns module and platform to power-on / defaults:
  nothing configured, not registered, text formats, echo off, platform
  accepting and acknowledging after ``ACK_DELAY_S``;
* a control call while the module is not registered is not delivered (the
  platform cannot reach it) and returns False; arguments outside the manual's
  ranges (a flag other than 0/1, a downlink of 0 or more than 512 bytes)
  raise ValueError.

Delays are in emulated seconds (time-compressed by ``speed``) except the
``late_reply`` fault's, which is real time.
"""

from __future__ import annotations

import ipaddress
import re
import string
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conformance.at.lines import split_params
from conformance.emulators.base import Emulator, Endpoint, Link
from dissectors import bc26
from dissectors.bc26 import CON, Form, Param

MAX_LINE = 1152  # characters of one command line, terminator excluded
LATE_REPLY_S = 0.5  # real seconds every output is held under late_reply
REGISTER_DELAY_S = 2.0
UPDATE_DELAY_S = 1.0
CLOSE_DELAY_S = 1.0
DEREGISTER_DELAY_S = 1.0  # AT+QLWDEL while registered
OBSERVE_DELAY_S = 0.5  # auto_observe: after CONNECT OK
ACK_DELAY_S = 1.0  # the platform's ACK to a CON send
CON_TIMEOUT_S = 93.0  # CoAP MAX_TRANSMIT_WAIT: a CON whose ACK never comes
MAX_OBJECTS = 64
MAX_NODES = 64
MAX_QUEUED_LINES = 16
MAX_UPLINKS = 256
MAX_DATA = 512  # bytes of one downlink (§4.2 <length>)
PDN_ADDRESS = "10.52.241.198"  # what AT+CGPADDR answers for context 1

# §3.9 <status>
NOT_SENT, WAITING, SEND_FAILED, TIMEOUT, SUCCESS, GOT_RESET = range(6)

#: wrong_async: each asynchronous result is replaced by one nothing awaits then
WRONG_ASYNC = {"CONNECT": "UPDATE", "UPDATE": "CONNECT", "CLOSE": "CONNECT", "SEND": "CONNECT"}

_LINE_END = re.compile(rb"[\r\n]")
_HEX = frozenset(string.hexdigits)


@dataclass(frozen=True)
class LwObject:
    """One AT+QLWADDOBJ: an object, optionally an instance and its resources."""

    obj: int
    ins: int | None
    res: tuple[int, ...] = ()


@dataclass
class Node:
    """One downlink buffered in buffer access mode (§3.10)."""

    obj: int
    ins: int
    res: int
    data: bytearray
    announced: bool = False


@dataclass(frozen=True)
class Uplink:
    """What the platform received from one AT+QLWDATASEND."""

    obj: int
    ins: int
    res: int
    data: bytes
    confirmable: bool


@dataclass
class _Platform:
    """The IoT platform's behaviour, set by the control API."""

    reject_registration: bool = False
    reject_updates: bool = False
    reject_deregistration: bool = False
    ack_delay: float = ACK_DELAY_S
    drop_ack: bool = False
    reset_ack: bool = False
    auto_observe: bool = True


@dataclass
class _Module:
    """The module's state from power-on."""

    server: tuple[str, int] | None = None
    endpoint: str | None = None
    objects: list[LwObject] = field(default_factory=list)
    mode: int | None = None  # of the last AT+QLWOPEN
    registered: bool = False
    operation: str | None = None  # register | update | close, in flight
    con: object | None = None  # token of the CON send awaiting its result
    status: int = NOT_SENT
    send_hex: bool = False
    recv_hex: bool = False
    echo: bool = False
    nodes: deque[Node] = field(default_factory=deque)
    observed: set[tuple[int, int, int]] = field(default_factory=set)
    uplinks: deque[Uplink] = field(default_factory=lambda: deque(maxlen=MAX_UPLINKS))


#: a handler's outcome: True (OK), False (ERROR) or None (final result sent later)
Outcome = bool | None
Handler = Callable[[Link, dict[str, str]], Outcome]


def _well_typed(param: Param, text: str) -> bool:
    """Whether *text* has the parameter's type, whatever its range."""
    if param.kind in ("str", "data", "literal"):
        return param.check(text) is None
    try:
        if param.kind == "mode16":
            return text.lower().startswith("0x") and int(text, 16) >= 0
        int(text)
    except ValueError:
        return False
    return True


def _inner(quoted: str) -> str:
    return quoted[1:-1]


def _malformed(text: str) -> str:
    """wrong_urc_format: the URC with one field missing."""
    head, _, body = text.partition(":")
    fields = body.strip().split(",")
    if head == "+QLWDATARECV" and len(fields) >= 4:
        del fields[3]  # <length>
    else:
        fields = fields[:-1]
    return f"{head}: {','.join(fields)}"


class Bc26Emulator(Emulator):
    """One BC26 module and the IoT platform it registers with."""

    name = "bc26"
    #: registration, update and CON timeouts are tens of seconds: run them 50x
    #: faster in the suites unless the URI says ``speed=``
    DEFAULT_SPEED = 50.0
    FACES = {"at": ("pty", "tcp")}
    FAULTS = {
        "missing_ok": "final OK results are never sent (no final result)",
        "ok_and_error": "every final result is sent as OK followed by ERROR",
        "late_reply": f"everything is sent {LATE_REPLY_S} s late (beyond the 300 ms maximum)",
        "wrong_urc_format": "URCs lack a field: +QLWOBSERVE its <res_id>, "
        "+QLWDATARECV its <length>",
        "qlwrd_mismatch": "AT+QLWRD reports <remain_length> one more than remains in the node",
        "urc_while_buffered": "buffer access mode announces every downlink at once, "
        "though the buffer is not drained (§3.10 note 1)",
        "wrong_async": "asynchronous results name the wrong operation "
        "(UPDATE OK where CONNECT OK is due, CONNECT ... for the others)",
        "accepts_malformed": "forms the manual does not list, and parameters of the wrong "
        "type or count, are answered OK (and ignored) instead of ERROR",
        "accepts_out_of_range": "integer parameters outside the manual's ranges are "
        "answered OK and used",
        "no_echo_control": "ATE0/ATE1 are answered OK but leave echo as it was",
    }

    def __init__(self, *, auto_observe: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.model is not None:
            raise ValueError("the bc26 emulator has no model profiles")
        self._auto_observe_default = auto_observe
        self._epoch = 0
        self._then: list[Callable[[], None]] = []
        self._busy = False  # AT+QLWDEL deregistering: lines wait in _queued
        self._queued: deque[tuple[Link, str]] = deque()
        self.m = _Module()
        self.platform = _Platform(auto_observe=auto_observe)

    # ------------------------------------------------------------ lifecycle
    def reset_state(self) -> None:
        self._epoch += 1
        self._then = []
        self._busy = False
        self._queued.clear()
        self.m = _Module()
        self.platform = _Platform(auto_observe=self._auto_observe_default)

    def endpoint(self, face: str) -> Endpoint:
        if face == "at":
            return Bc26Endpoint(self)
        raise ValueError(f"bc26 has no face {face!r}")

    # ------------------------------------------------------------ read-only state
    @property
    def registered(self) -> bool:
        return self.m.registered

    @property
    def mode(self) -> int | None:
        """<mode> of the last AT+QLWOPEN (0 direct push, 1 buffer access), None after
        AT+QLWDEL or reset."""
        return self.m.mode

    @property
    def objects(self) -> list[LwObject]:
        return list(self.m.objects)

    @property
    def last_status(self) -> int:
        """What AT+QLWDATASTATUS? answers (§3.9)."""
        return self.m.status

    @property
    def buffered(self) -> list[tuple[int, int, int, int]]:
        """(obj, ins, res, unread bytes) of each buffered node, oldest first."""
        return [(n.obj, n.ins, n.res, len(n.data)) for n in self.m.nodes]

    @property
    def observed(self) -> set[tuple[int, int, int]]:
        return set(self.m.observed)

    @property
    def uplinks(self) -> list[Uplink]:
        """What the platform received, oldest first (the last ``MAX_UPLINKS``)."""
        return list(self.m.uplinks)

    @property
    def server(self) -> tuple[str, int] | None:
        return self.m.server

    @property
    def endpoint_name(self) -> str | None:
        return self.m.endpoint

    @property
    def data_format(self) -> tuple[int, int]:
        """(send, recv): 0 text, 1 hex (§3.11)."""
        return int(self.m.send_hex), int(self.m.recv_hex)

    @property
    def echo(self) -> bool:
        return self.m.echo

    # ------------------------------------------------------------ control: the platform
    def observe(self, obj: int, ins: int, res: int, flag: int = 0) -> bool:
        """The platform observes (flag 0) or cancels (1) /obj/ins/res (§4.1);
        False when the module is not registered."""
        if flag not in (0, 1):
            raise ValueError("flag is 0 (observe) or 1 (cancel) (§4.1)")
        if not self.m.registered:
            return False
        key = (obj, ins, res)
        if flag == 0:
            self.m.observed.add(key)
        else:
            self.m.observed.discard(key)
        self._broadcast(f"+QLWOBSERVE: {flag},{obj},{ins},{res}")
        return True

    def downlink(self, obj: int, ins: int, res: int, data: bytes) -> bool:
        """The platform writes *data* to /obj/ins/res (§4.2); False when not delivered
        (not registered, or the buffer holds ``MAX_NODES`` nodes)."""
        data = bytes(data)
        if not 1 <= len(data) <= MAX_DATA:
            raise ValueError(f"a downlink carries 1..{MAX_DATA} bytes (§4.2)")
        m = self.m
        if not m.registered:
            return False
        if m.mode != 1:
            self._broadcast(f"+QLWDATARECV: {obj},{ins},{res},{len(data)},{self._recv(data)}")
            return True
        if len(m.nodes) >= MAX_NODES:
            return False
        node = Node(obj, ins, res, bytearray(data))
        announce = not m.nodes or self.fault("urc_while_buffered")
        m.nodes.append(node)
        if announce:
            self._announce(node)
        return True

    def reject_registration(self, on: bool = True) -> None:
        """AT+QLWOPEN ends in CONNECT FAIL while on."""
        self.platform.reject_registration = bool(on)

    def reject_updates(self, on: bool = True) -> None:
        """AT+QLWUPDATE and AT+QLWDELOBJ end in UPDATE FAIL while on."""
        self.platform.reject_updates = bool(on)

    def reject_deregistration(self, on: bool = True) -> None:
        """AT+QLWCLOSE ends in CLOSE FAIL while on."""
        self.platform.reject_deregistration = bool(on)

    def ack_delay(self, seconds: float) -> None:
        """Emulated seconds before the platform acknowledges a CON send."""
        if not seconds >= 0:
            raise ValueError("the ACK delay is zero or more seconds")
        self.platform.ack_delay = float(seconds)

    def drop_ack(self, on: bool = True) -> None:
        """CON sends are never acknowledged: SEND FAIL, status 3 after ``CON_TIMEOUT_S``."""
        self.platform.drop_ack = bool(on)

    def reset_ack(self, on: bool = True) -> None:
        """CON sends are answered with RST: SEND FAIL, status 5."""
        self.platform.reset_ack = bool(on)

    @property
    def auto_observe(self) -> bool:
        return self.platform.auto_observe

    @auto_observe.setter
    def auto_observe(self, on: bool) -> None:
        self.platform.auto_observe = bool(on)

    # ------------------------------------------------------------ output
    def emit(self, link: Link, text: str, kind: str) -> None:
        """Everything the module sends passes here (*kind*: echo, info, final, async
        or urc), so the output faults apply to every line alike."""
        if kind == "final":
            if self.fault("ok_and_error"):
                self._write(link, b"\r\nOK\r\n\r\nERROR\r\n")
                return
            if text == "OK" and self.fault("missing_ok"):
                return
        elif kind == "urc" and self.fault("wrong_urc_format"):
            text = _malformed(text)
        elif kind == "async" and self.fault("wrong_async"):
            word, _, result = text.partition(" ")
            text = f"{WRONG_ASYNC.get(word, word)} {result}"
        data = (text + "\r" if kind == "echo" else f"\r\n{text}\r\n").encode("latin-1")
        self._write(link, data)

    def _write(self, link: Link, data: bytes) -> None:
        if not self.fault("late_reply"):
            link.send(data)
            return
        queue: deque[tuple[float, bytes]] = link.state.setdefault("late", deque())
        queue.append((time.monotonic() + LATE_REPLY_S, data))
        if len(queue) == 1:
            link.later(LATE_REPLY_S, lambda: self._drain_late(link), emulated=False)

    def _drain_late(self, link: Link) -> None:
        """Send, in order, what late_reply held back and is due."""
        queue: deque[tuple[float, bytes]] = link.state.get("late", deque())
        now = time.monotonic()
        while queue and queue[0][0] <= now + 0.001:
            link.send(queue.popleft()[1])
        if queue:
            link.later(max(0.0, queue[0][0] - now), lambda: self._drain_late(link),
                       emulated=False)  # fmt: skip

    def _broadcast(self, text: str) -> None:
        """A URC to every attached link."""
        for link in [link for link in self.links if not link.closed]:
            self.emit(link, text, "urc")

    def _final(self, link: Link, ok: bool) -> None:
        self.emit(link, "OK" if ok else "ERROR", "final")

    def _later(self, link: Link, seconds: float, fn: Callable[[], None]) -> None:
        """*fn* after *seconds*, unless AT+QLWDEL or a reset came in between."""
        epoch = self._epoch

        def run() -> None:
            if self._epoch == epoch:
                fn()

        link.later(seconds, run)

    # ------------------------------------------------------------ input
    def line(self, link: Link, raw: str) -> None:
        """One command line (terminator removed)."""
        if not raw.strip():
            return
        if self._busy:
            if len(self._queued) < MAX_QUEUED_LINES:
                self._queued.append((link, raw))
            return
        self._execute(link, raw)

    def overflow(self, link: Link) -> None:
        """A line longer than ``MAX_LINE``."""
        self._final(link, False)

    def _execute(self, link: Link, raw: str) -> None:
        if self.m.echo:
            self.emit(link, raw, "echo")
        self._then = []
        outcome = self._dispatch(link, raw.strip())
        if outcome is not None:
            self._final(link, outcome)
        then, self._then = self._then, []
        for fn in then:
            fn()

    def _dispatch(self, link: Link, text: str) -> Outcome:
        if text[:2].upper() != "AT":
            return False
        body = text[2:]
        if not body:
            return True
        if body[0] != "+":
            return self._basic(body.upper())
        rest = body[1:]
        cut = next((i for i, ch in enumerate(rest) if ch in "=?"), len(rest))
        name, tail = rest[:cut].upper(), rest[cut:]
        args = ""
        if tail == "":
            kind = "exec"
        elif tail == "=?":
            kind = "test"
        elif tail == "?":
            kind = "read"
        elif tail.startswith("="):
            kind, args = "write", tail[1:]
        else:
            return False
        if name == "CGPADDR":
            return self._cgpaddr(link, kind, args)
        command = bc26.COMMANDS.get(name)
        form = command.forms.get(kind) if command is not None else None
        if form is None:
            return command is not None and self.fault("accepts_malformed")
        params = self._match(form, args)
        if params is None:
            # accepts_malformed: OK to what it cannot parse, and nothing done
            return self.fault("accepts_malformed")
        if kind == "test":  # the table gives test answers literally
            for info in form.info:
                self.emit(link, info, "info")
            return True
        handler: Handler = getattr(self, f"_{name.lower()}_{kind}")
        return handler(link, params)

    def _match(self, form: Form, args: str) -> dict[str, str] | None:
        values = split_params(args) if args else []
        required = sum(1 for p in form.params if not p.optional)
        if not required <= len(values) <= len(form.params):
            return None
        out: dict[str, str] = {}
        for param, value in zip(form.params, values, strict=False):
            if param.check(value) is not None and not (
                self.fault("accepts_out_of_range") and _well_typed(param, value)
            ):
                return None
            out[param.name] = value
        return out

    def _basic(self, body: str) -> Outcome:
        if body in ("E", "E0", "E1"):
            if not self.fault("no_echo_control"):
                self.m.echo = body == "E1"
            return True
        return False

    def _cgpaddr(self, link: Link, kind: str, args: str) -> Outcome:
        if kind == "test":
            self.emit(link, "+CGPADDR: (1)", "info")
            return True
        if kind == "exec" or (kind == "write" and args.strip() == "1"):
            self.emit(link, f"+CGPADDR: 1,{PDN_ADDRESS}", "info")
            return True
        return False

    # ------------------------------------------------------------ §3.1-§3.2
    def _qlwserv_write(self, link: Link, p: dict[str, str]) -> Outcome:
        address = _inner(p["ip_address"])
        try:
            ipaddress.ip_address(address)
        except ValueError:
            return False
        if self.m.registered or self.m.operation is not None:
            return False
        self.m.server = (address, int(p["port"]))
        return True

    def _qlwserv_read(self, link: Link, p: dict[str, str]) -> Outcome:
        if self.m.server is None:
            return False
        address, port = self.m.server
        self.emit(link, f'+QLWSERV: "{address}",{port}', "info")
        return True

    def _qlwconf_write(self, link: Link, p: dict[str, str]) -> Outcome:
        name = _inner(p["endpointname"])
        if not name or self.m.registered or self.m.operation is not None:
            return False
        self.m.endpoint = name
        return True

    def _qlwconf_read(self, link: Link, p: dict[str, str]) -> Outcome:
        if self.m.endpoint is None:
            return False
        self.emit(link, f'+QLWCONF: "{self.m.endpoint}"', "info")
        return True

    # ------------------------------------------------------------ §3.3-§3.4
    def _qlwaddobj_write(self, link: Link, p: dict[str, str]) -> Outcome:
        obj = int(p["obj_id"])
        ins = int(p["ins_id"]) if "ins_id" in p else None
        if ("res_num" in p) != ("res_id" in p):
            return False
        resources: tuple[int, ...] = ()
        if "res_id" in p:
            listed = _inner(p["res_id"]).strip()
            parts = [part.strip() for part in re.split(r"[,;]", listed)] if listed else []
            if not all(part.isascii() and part.isdigit() for part in parts):
                return False
            if len(parts) != int(p["res_num"]):
                return False
            resources = tuple(int(part) for part in parts)
        if len(self.m.objects) >= MAX_OBJECTS:
            return False
        if any(o.obj == obj and o.ins == ins for o in self.m.objects):
            return False
        self.m.objects.append(LwObject(obj, ins, resources))
        return True

    def _qlwdelobj_write(self, link: Link, p: dict[str, str]) -> Outcome:
        obj = int(p["obj_id"])
        m = self.m
        if m.operation is not None or not any(o.obj == obj for o in m.objects):
            return False
        m.objects = [o for o in m.objects if o.obj != obj]
        m.observed = {key for key in m.observed if key[0] != obj}
        if m.registered:
            self._start(link, "update", UPDATE_DELAY_S, self._updated)
        return True

    # ------------------------------------------------------------ §3.5-§3.7
    def _start(self, link: Link, operation: str, seconds: float,
               done: Callable[[Link], None]) -> None:  # fmt: skip
        self.m.operation = operation
        self._later(link, seconds, lambda: done(link))

    def _qlwopen_write(self, link: Link, p: dict[str, str]) -> Outcome:
        if self.m.registered or self.m.operation is not None:
            return False
        self.m.mode = 1 if int(p["mode"]) == 1 else 0
        self._start(link, "register", REGISTER_DELAY_S, self._opened)
        return True

    def _opened(self, link: Link) -> None:
        m = self.m
        m.operation = None
        if m.server is None or m.endpoint is None or self.platform.reject_registration:
            self.emit(link, "CONNECT FAIL", "async")
            return
        m.registered = True
        self.emit(link, "CONNECT OK", "async")
        if self.platform.auto_observe:
            self._later(link, OBSERVE_DELAY_S, self._observe_all)

    def _observe_all(self) -> None:
        for o in list(self.m.objects):
            self.observe(o.obj, o.ins or 0, o.res[0] if o.res else -1)

    def _qlwupdate_exec(self, link: Link, p: dict[str, str]) -> Outcome:
        if not self.m.registered or self.m.operation is not None:
            return False
        self._start(link, "update", UPDATE_DELAY_S, self._updated)
        return True

    def _updated(self, link: Link) -> None:
        self.m.operation = None
        failed = self.platform.reject_updates
        self.emit(link, "UPDATE FAIL" if failed else "UPDATE OK", "async")

    def _qlwclose_exec(self, link: Link, p: dict[str, str]) -> Outcome:
        if not self.m.registered or self.m.operation is not None:
            return False
        self._start(link, "close", CLOSE_DELAY_S, self._closed)
        return True

    def _closed(self, link: Link) -> None:
        m = self.m
        m.operation = None
        if self.platform.reject_deregistration:
            self.emit(link, "CLOSE FAIL", "async")
            return
        if m.con is not None:
            m.con, m.status = None, SEND_FAILED
            self.emit(link, "SEND FAIL", "async")
        m.registered = False
        m.observed.clear()
        self.emit(link, "CLOSE OK", "async")

    # ------------------------------------------------------------ §3.8-§3.9
    def _payload(self, data: str, length: int) -> bytes | None:
        """The bytes *data* stands for in the send format, if it matches *length*."""
        if self.m.send_hex:
            if len(data) != 2 * length or not set(data) <= _HEX:
                return None
            return bytes.fromhex(data)
        return data.encode("latin-1") if len(data) == length else None

    def _qlwdatasend_write(self, link: Link, p: dict[str, str]) -> Outcome:
        m = self.m
        if not m.registered or m.operation == "close" or m.con is not None:
            return False
        payload = self._payload(p["data"], int(p["length"]))
        if payload is None:
            return False
        confirmable = int(p["mode"], 16) == CON
        obj, ins, res = int(p["obj_id"]), int(p["ins_id"]), int(p["res_id"])
        m.uplinks.append(Uplink(obj, ins, res, payload, confirmable))
        if not confirmable:
            return True
        token = m.con = object()
        m.status = WAITING
        platform = self.platform
        if platform.drop_ack:
            seconds, result, status = CON_TIMEOUT_S, "SEND FAIL", TIMEOUT
        elif platform.reset_ack:
            seconds, result, status = platform.ack_delay, "SEND FAIL", GOT_RESET
        else:
            seconds, result, status = platform.ack_delay, "SEND OK", SUCCESS

        def done() -> None:
            if m.con is token:
                m.con, m.status = None, status
                self.emit(link, result, "async")

        self._later(link, seconds, done)
        return True

    def _qlwdatastatus_read(self, link: Link, p: dict[str, str]) -> Outcome:
        self.emit(link, f"+QLWDATASTATUS: {self.m.status}", "info")
        return True

    # ------------------------------------------------------------ §3.10-§3.12
    def _recv(self, data: bytes) -> str:
        return data.hex().upper() if self.m.recv_hex else data.decode("latin-1")

    def _announce(self, node: Node) -> None:
        node.announced = True
        self._broadcast(f"+QLWDATARECV: {node.obj},{node.ins},{node.res},{len(node.data)}")

    def _qlwrd_write(self, link: Link, p: dict[str, str]) -> Outcome:
        nodes = self.m.nodes
        wanted = max(0, int(p["read_length"]))
        if not nodes or wanted == 0:
            self.emit(link, "+QLWRD: 0", "info")
            return True
        node = nodes[0]
        chunk = bytes(node.data[:wanted])
        del node.data[:wanted]
        remain = len(node.data)
        reported = remain + 1 if self.fault("qlwrd_mismatch") else remain
        self.emit(link, f"+QLWRD: {len(chunk)},{reported}", "info")
        self.emit(link, self._recv(chunk), "info")
        if remain == 0:
            nodes.popleft()
            if nodes and not nodes[0].announced:
                following = nodes[0]
                self._then.append(lambda: self._announce(following))
        return True

    def _qlwcfg_write(self, link: Link, p: dict[str, str]) -> Outcome:
        self.m.send_hex = int(p["send_data_format"]) != 0
        self.m.recv_hex = int(p["recv_data_format"]) != 0
        return True

    def _qlwdel_exec(self, link: Link, p: dict[str, str]) -> Outcome:
        m = self.m
        was_registered = m.registered or m.operation is not None
        self._epoch += 1  # pending register/update/close/CON results are void
        self.m = _Module(send_hex=m.send_hex, recv_hex=m.recv_hex, echo=m.echo,
                         uplinks=m.uplinks)  # fmt: skip
        if not was_registered:
            return True
        self._busy = True
        self._later(link, DEREGISTER_DELAY_S, lambda: self._deleted(link))
        return None

    def _deleted(self, link: Link) -> None:
        self._busy = False
        self._final(link, True)
        while self._queued and not self._busy:
            queued_link, raw = self._queued.popleft()
            self._execute(queued_link, raw)


class Bc26Endpoint(Endpoint):
    """AT commands on a byte stream (pty or TCP), cut into lines on CR or LF."""

    emulator: Bc26Emulator

    def on_data(self, link: Link, data: bytes) -> None:
        emu = self.emulator
        state = link.state
        buffer: bytearray = state.setdefault("buffer", bytearray())
        buffer += data
        while buffer:
            if state.get("discarding"):  # the rest of an over-long line
                end = _LINE_END.search(buffer)
                if end is None:
                    buffer.clear()
                    return
                del buffer[: end.start() + 1]
                state["discarding"] = False
                continue
            # Only the first MAX_LINE + 1 bytes are looked at, so that how the
            # stream was chunked never changes the answer.
            end = _LINE_END.search(buffer, 0, MAX_LINE + 1)
            if end is None:
                if len(buffer) <= MAX_LINE:
                    return
                del buffer[: MAX_LINE + 1]
                state["discarding"] = True
                emu.overflow(link)
                continue
            raw = bytes(buffer[: end.start()]).decode("latin-1")
            del buffer[: end.start() + 1]
            emu.line(link, raw)
