"""Payload validation against the official OCPP 2.0.1 and 2.1 JSON schemas.

The schemas (OCPP 2.1 Part 3; the 2.0.1 set likewise) are the unmodified files the
``ocpp`` package ships under ``ocpp/v21/schemas`` and ``ocpp/v201/schemas``.  A
CALL's payload is checked against ``<Action>Request``, a CALLRESULT's against
``<Action>Response`` and a SEND's against ``<Action>`` (Part 4 §4.1.6, §4.2.4).
Each violation is mapped to the Part 4 §4.3 Table 9 error code a receiver
answers with (Part 4 §4.1.7: an invalid message gets a CALLERROR).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

from jsonschema import Draft6Validator, ValidationError

from conformance.ocpp import rpc

#: OCPP version -> WebSocket subprotocol name (Part 4 §3.1.2 Table 1).
SUBPROTOCOLS: dict[str, str] = {"2.1": "ocpp2.1", "2.0.1": "ocpp2.0.1"}
#: WebSocket subprotocol name -> OCPP version.
VERSIONS_BY_SUBPROTOCOL: dict[str, str] = {sub: ver for ver, sub in SUBPROTOCOLS.items()}
#: Which schema a payload is checked against: <Action>Request, <Action>Response, <Action>.
KINDS = ("Request", "Response", "Send")

_PACKAGE_DIRS = {"2.1": "v21", "2.0.1": "v201"}

# jsonschema keyword -> Table 9 code.  The 2.0.1 Part 6 test cases name no
# constraint-violation code, so the mapping follows the Table 9 definitions:
# a wrong JSON type is a data type violation; a missing field or a wrong number
# of array items an occurrence violation; a value outside an enum, a length,
# a numeric range or a format an invalid value (string[n] lengths are read as
# a value constraint, not as part of the type).  A property the schema does not
# define (every OCPP class has "additionalProperties": false, Part 4 chapter 9)
# means the payload is not the action's syntax at all: FormatViolation, which is
# also what the reference OCPP implementations answer.
_CODES = {
    "type": "TypeConstraintViolation",
    "required": "OccurrenceConstraintViolation",
    "minItems": "OccurrenceConstraintViolation",
    "maxItems": "OccurrenceConstraintViolation",
    "additionalProperties": "FormatViolation",
    "additionalItems": "FormatViolation",
    "enum": "PropertyConstraintViolation",
    "const": "PropertyConstraintViolation",
    "minLength": "PropertyConstraintViolation",
    "maxLength": "PropertyConstraintViolation",
    "minimum": "PropertyConstraintViolation",
    "maximum": "PropertyConstraintViolation",
    "exclusiveMinimum": "PropertyConstraintViolation",
    "exclusiveMaximum": "PropertyConstraintViolation",
    "multipleOf": "PropertyConstraintViolation",
    "format": "PropertyConstraintViolation",
    "pattern": "PropertyConstraintViolation",
}
# When a payload has several problems, the CALLERROR carries the coarsest one.
_PRECEDENCE = (
    "NotImplemented",
    "FormatViolation",
    "OccurrenceConstraintViolation",
    "TypeConstraintViolation",
    "PropertyConstraintViolation",
)
# At most this many problems are listed in a CALLERROR's errorDetails.
_MAX_DETAILS = 20


@dataclass(frozen=True)
class SchemaProblem:
    """One schema violation: where (``a.b[0].c``, "" for the payload), what, and its code."""

    path: str
    message: str
    code: str


def _directory(version: str) -> Traversable:
    try:
        return files("ocpp") / _PACKAGE_DIRS[version] / "schemas"
    except KeyError:
        raise ValueError(f"unknown OCPP version {version!r}") from None


@cache
def _schema_names(version: str) -> frozenset[str]:
    return frozenset(
        entry.name.removesuffix(".json")
        for entry in _directory(version).iterdir()
        if entry.name.endswith(".json")
    )


@cache
def _validator(version: str, name: str) -> Draft6Validator:
    schema = json.loads((_directory(version) / f"{name}.json").read_text(encoding="utf-8-sig"))
    # The "urn:OCPP:..." $id would become the base URI for "#/definitions/..."
    # references, which jsonschema cannot resolve; the schemas are self-contained.
    schema.pop("$id", None)
    return Draft6Validator(schema, format_checker=Draft6Validator.FORMAT_CHECKER)


def actions(version: str) -> frozenset[str]:
    """Every action of *version*: CALL actions (from ``*Request``) and SEND actions."""
    return frozenset(
        name.removesuffix("Request")
        for name in _schema_names(version)
        if not name.endswith("Response")
    )


def _schema_name(action: str, kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if kind == "Send":
        # A SEND schema has no suffix; never let "XRequest" pass as a SEND name.
        return "" if action.endswith(("Request", "Response")) else action
    return action + kind


def _short(value: Any, limit: int = 40) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_path(parts: Sequence[str | int]) -> str:
    """``("a", 0, "b")`` -> ``a[0].b``, the path notation of :class:`SchemaProblem`."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _message(error: ValidationError) -> str:
    keyword, limit, value = error.validator, error.validator_value, error.instance
    if keyword == "type":
        expected = limit if isinstance(limit, str) else " or ".join(limit)
        return f"expected {expected}, got {rpc.json_type(value)}"
    if keyword == "enum":
        return f"{_short(value)} is not one of {', '.join(map(str, limit))}"
    if keyword in ("maxLength", "minLength"):
        bound = "longer than the maximum" if keyword == "maxLength" else "shorter than the minimum"
        return f"{len(value)} characters, {bound} {limit}"
    if keyword in ("maxItems", "minItems"):
        bound = "more than the maximum" if keyword == "maxItems" else "fewer than the minimum"
        return f"{len(value)} items, {bound} {limit}"
    if keyword in ("minimum", "maximum"):
        bound = "below the minimum" if keyword == "minimum" else "above the maximum"
        return f"{_short(value)} is {bound} {limit}"
    if keyword == "format":
        return f"{_short(value)} is not a valid {limit}"
    return error.message[:200]


def _problems(error: ValidationError) -> Iterator[tuple[tuple[str | int, ...], str, str]]:
    """(path parts, message, code) for one jsonschema error."""
    parts = tuple(error.absolute_path)
    code = _CODES.get(str(error.validator), "FormatViolation")
    if error.validator == "required":
        # One problem per missing property, located at the property itself.
        for name in error.validator_value:
            if isinstance(error.instance, dict) and name not in error.instance:
                yield (*parts, name), "required property is missing", code
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        for name in error.instance:
            if name not in known:
                yield (*parts, name), "property is not defined by the schema", code
    else:
        yield parts, _message(error), code


def _sort_key(parts: tuple[str | int, ...]) -> tuple[tuple[int, int, str], ...]:
    return tuple((1, 0, p) if isinstance(p, str) else (0, p, "") for p in parts)


def check(version: str, action: str, kind: str, payload: Any) -> list[SchemaProblem]:
    """Problems of *payload* as the *kind* ("Request", "Response", "Send") of *action*.

    ``[]`` when valid; an action without that schema in *version* gives one
    NotImplemented problem (Table 9).  Problems are sorted by path.
    """
    name = _schema_name(action, kind)
    if name not in _schema_names(version):
        what = f"{action}{'' if kind == 'Send' else kind}"
        return [SchemaProblem("", f"OCPP {version} has no message {what}", "NotImplemented")]
    found: dict[tuple[tuple[str | int, ...], str, str], None] = {}
    for error in _validator(version, name).iter_errors(payload):
        for problem in _problems(error):
            found[problem] = None  # "required" errors repeat per missing property
    ordered = sorted(found, key=lambda p: (_sort_key(p[0]), p[2], p[1]))
    return [SchemaProblem(format_path(parts), message, code) for parts, message, code in ordered]


def error_for(version: str, call: rpc.Call) -> rpc.CallError | None:
    """The CALLERROR a receiver answers *call* with (Part 4 §4.1.7), None if it is valid.

    Its code is the coarsest problem's (NotImplemented, FormatViolation,
    OccurrenceConstraintViolation, TypeConstraintViolation, then
    PropertyConstraintViolation); its description lists the problems and its
    errorDetails holds them as ``{"problems": [{"path", "message", "code"}...]}``.
    """
    problems = check(version, call.action, "Request", call.payload)
    if not problems:
        return None

    def rank(problem: SchemaProblem) -> int:
        code = problem.code
        return _PRECEDENCE.index(code) if code in _PRECEDENCE else len(_PRECEDENCE)

    code = min(problems, key=rank).code
    description = "; ".join(_line(p) for p in problems)[: rpc.MAX_DESCRIPTION_LENGTH]
    details = {
        "problems": [
            {"path": p.path, "message": p.message, "code": p.code} for p in problems[:_MAX_DETAILS]
        ]
    }
    return rpc.CallError(call.message_id, code, description, details)


def _line(problem: SchemaProblem) -> str:
    return f"{problem.path or '(payload)'}: {problem.message}"


def describe(problems: list[SchemaProblem]) -> str:
    """One ``path: message`` line per problem ("(payload)" stands for the root)."""
    return "\n".join(_line(p) for p in problems)
