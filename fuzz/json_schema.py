"""JSON instances from a JSON schema, every decision read from a :class:`ByteSource`.

The OCPP schemas (OCPP 2.1 Part 3, the 2.0.1 set likewise) are draft-06 and use a
small vocabulary: ``$ref`` into ``definitions``, ``type``, ``enum``,
``properties``/``required``/``additionalProperties``, ``maxLength``,
``format: date-time``, ``minimum``/``maximum``, ``items``/``minItems``/``maxItems``
and the open ``CustomDataType`` (Part 4 chapter 9).  :func:`generate` builds a
valid instance from them (``anyOf``/``oneOf``/``const``/``minLength`` are
handled too); zero bytes give the minimal one: required properties only, the
first enum value, the low end of every range, empty strings, ``minItems`` items.
Other choices pick boundary values: the limits themselves, one inside them, the
middle, or any value in range.

:func:`mutate` breaks exactly one constraint of a valid instance (drop a required
property, a value of the wrong JSON type, a value outside its enum, a string over
``maxLength``, a number under ``minimum`` or over ``maximum``, a property where
``additionalProperties`` is false, too many or too few items, a bad date-time)
and says which constraint and where (the path in the notation of
``conformance.ocpp.schemas.check``: ``a.b[0].c``, "" for the root).  A value of
the wrong type for an enum property necessarily leaves its enum too.
"""

from __future__ import annotations

import copy
import math
import string
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from conformance.ocpp.schemas import format_path
from fuzz.source import ByteSource

Schema = dict[str, Any]
Path = tuple[str | int, ...]

#: characters of generated strings (ASCII only: Part 4 §4.1.2 keeps non-ASCII for
#: natural-language text, so a station may refuse it elsewhere)
ALPHABET = string.ascii_letters + string.digits
#: strings with no maxLength are kept at most this long
MAX_UNBOUNDED_STRING = 64
#: arrays get at most this many items above minItems
EXTRA_ITEMS = 2
#: below this depth every object gets its required properties only
MAX_DEPTH = 24
INT32 = (-(2**31), 2**31 - 1)
#: valid RFC 3339 date-times (the "date-time" format of draft-06), with at most three
#: fractional digits (OCPP 2.1 Part 2 §2.1.4 dateTime, §3.1)
DATE_TIMES = (
    "2025-01-01T00:00:00Z",
    "2025-01-01T00:00:00.000Z",
    "1970-01-01T00:00:00Z",
    "2099-12-31T23:59:59.999Z",
    "2024-02-29T12:30:45+01:00",
    "2025-06-30T23:59:59-12:00",
    "2000-01-01T00:00:00.5+14:00",
)
#: strings that are not RFC 3339 date-times
BAD_DATE_TIMES = (
    "2025-01-01 00:00:00",
    "2025-01-01T00:00:00",
    "2025-13-01T00:00:00Z",
    "2025-02-30T00:00:00Z",
    "2025-01-01T24:00:00Z",
    "01/01/2025 00:00",
    "now",
    "",
)
#: the keywords :func:`mutate` breaks, in the order a zero byte picks them
KINDS = (
    "required",
    "type",
    "enum",
    "maxLength",
    "minLength",
    "minimum",
    "maximum",
    "additionalProperties",
    "maxItems",
    "minItems",
    "format",
)
#: name of the property added where additionalProperties is false
EXTRA_PROPERTY = "conformanceExtra"


class NoMutation(ValueError):
    """The instance has no place where a constraint of the wanted kinds can break."""


class Mutation(NamedTuple):
    """A mutated instance, the constraint it breaks (``keyword: what``) and where."""

    instance: Any
    constraint: str
    path: str

    @property
    def keyword(self) -> str:
        return self.constraint.partition(":")[0]


# ---------------------------------------------------------------- helpers
def resolve(node: Schema, root: Schema) -> Schema:
    """*node* with its ``$ref`` (``#/definitions/...``, chains too) followed."""
    seen = 0
    while "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported, not {ref!r}")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
        seen += 1
        if seen > 64:
            raise ValueError(f"reference loop at {ref!r}")
    return node


def _types(node: Schema) -> tuple[str, ...]:
    kind = node.get("type")
    if kind is None:
        return ()
    return (kind,) if isinstance(kind, str) else tuple(kind)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_ok(value: Any, allowed: tuple[str, ...]) -> bool:
    kind = json_type(value)
    return kind in allowed or (kind == "integer" and "number" in allowed)


def _pick(src: ByteSource, low: int, high: int) -> int:
    """A boundary-biased integer in ``low..high``: low, low+1, high, high-1, middle, any."""
    if high <= low:
        return low
    how = src.integer(0, 5)
    if how == 0:
        return low
    if how == 1:
        return low + 1
    if how == 2:
        return high
    if how == 3:
        return high - 1
    if how == 4:
        return (low + high) // 2
    return src.integer(low, high)


def _fill(src: ByteSource, length: int) -> str:
    """*length* characters from one or two bytes (never one byte per character)."""
    if length <= 0:
        return ""
    first = src.integer(0, len(ALPHABET) - 1)
    if not src.boolean():
        return ALPHABET[first] * length
    cycle = ALPHABET[first:] + ALPHABET[:first]
    return (cycle * (length // len(cycle) + 1))[:length]


# ---------------------------------------------------------------- generation
def generate(src: ByteSource, schema: Schema, *, root: Schema | None = None) -> Any:
    """A valid instance of *schema* (references resolve against *root*, default
    *schema* itself), every decision from *src*; zero bytes give the minimal one."""
    return _Generator(src, schema if root is None else root).value(schema, 0)


class _Generator:
    def __init__(self, src: ByteSource, root: Schema) -> None:
        self.src = src
        self.root = root

    def value(self, node: Schema, depth: int) -> Any:
        node = resolve(node, self.root)
        src = self.src
        if "const" in node:
            return copy.deepcopy(node["const"])
        if "enum" in node:
            return copy.deepcopy(src.choice(node["enum"]))
        for key in ("oneOf", "anyOf"):
            if key in node:
                return self.value(src.choice(node[key]), depth + 1)
        types = _types(node)
        if not types:
            return self.any_value(depth)
        kind = types[0] if len(types) == 1 else src.choice(types)
        if kind == "object":
            return self.object(node, depth)
        if kind == "array":
            return self.array(node, depth)
        if kind == "string":
            return self.string(node)
        if kind == "integer":
            return self.integer(node)
        if kind == "number":
            return self.number(node)
        if kind == "boolean":
            return src.boolean()
        return None

    def any_value(self, depth: int) -> Any:
        """A value for a schema without a type (e.g. DataTransfer's data); never null
        (Part 4 §4.1.5 keeps null out of payloads)."""
        src = self.src
        how = src.integer(0, 5)
        if how == 0:
            return ""
        if how == 1:
            return _fill(src, _pick(src, 1, MAX_UNBOUNDED_STRING))
        if how == 2:
            return _pick(src, 0, INT32[1])
        if how == 3:
            return src.boolean()
        if how == 4 and depth < MAX_DEPTH:
            return {"key": self.any_value(depth + 1)}
        return [self.any_value(depth + 1)] if depth < MAX_DEPTH else []

    def object(self, node: Schema, depth: int) -> dict[str, Any]:
        src = self.src
        out: dict[str, Any] = {}
        required = set(node.get("required", ()))
        for name, sub in node.get("properties", {}).items():
            if name in required or (
                depth < MAX_DEPTH and (src.chance(15) if name == "customData" else src.boolean())
            ):
                out[name] = self.value(sub, depth + 1)
        for name in node.get("required", ()):  # required but not described
            if name not in out:
                out[name] = ""
        extra = node.get("additionalProperties", True)
        if extra is not False and node.get("properties") is not None and src.chance(10):
            key = EXTRA_PROPERTY
            if isinstance(extra, dict):
                out[key] = self.value(extra, depth + 1)
            elif key not in node.get("properties", {}):
                out[key] = "x"
        return out

    def array(self, node: Schema, depth: int) -> list[Any]:
        low = int(node.get("minItems", 0))
        high = int(node.get("maxItems", low + EXTRA_ITEMS))
        high = min(high, low + EXTRA_ITEMS)
        count = low if depth >= MAX_DEPTH else low + self.src.integer(0, max(0, high - low))
        items = node.get("items", {})
        if isinstance(items, list):  # tuple form
            out = [self.value(sub, depth + 1) for sub in items[:count]]
            more = node.get("additionalItems", {})
            while len(out) < count and isinstance(more, dict):
                out.append(self.value(more, depth + 1))
            return out
        return [self.value(items, depth + 1) for _ in range(count)]

    def string(self, node: Schema) -> str:
        src = self.src
        if node.get("format") == "date-time":
            return src.choice(DATE_TIMES)
        low = int(node.get("minLength", 0))
        high = int(node.get("maxLength", max(low, MAX_UNBOUNDED_STRING)))
        return _fill(src, _pick(src, low, high))

    def integer(self, node: Schema) -> int:
        low, high = _int_bounds(node)
        src = self.src
        how = src.integer(0, 6)
        start = min(max(0, low), high)
        if how == 0:
            return start
        if how == 1:
            return min(start + 1, high)
        if how == 2:
            return high
        if how == 3:
            return low
        if how == 4:
            return max(min(-1, high), low)
        if how == 5:
            return max(high - 1, low)
        return src.integer(low, high)

    def number(self, node: Schema) -> float | int:
        low = float(node.get("minimum", -1e9))
        high = float(node.get("maximum", 1e9))
        start = min(max(0.0, low), high)
        choices = (start, low, high, start + 0.5, 0.1, -1.5, 123.456, (low + high) / 2)
        value = self.src.choice(choices)
        value = min(max(value, low), high)
        if math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
            return int(value) if self.src.boolean() else value
        return value


def _int_bounds(node: Schema) -> tuple[int, int]:
    low = math.ceil(node["minimum"]) if "minimum" in node else INT32[0]
    high = math.floor(node["maximum"]) if "maximum" in node else INT32[1]
    return low, max(low, high)


# ---------------------------------------------------------------- mutation
@dataclass
class _Site:
    path: Path
    node: Schema  # resolved
    value: Any
    #: the types every branch of an enclosing oneOf/anyOf allows: a wrong type
    #: must be wrong for all of them, or the value just fits another branch
    branch_types: tuple[str, ...] = ()


def _sites(
    node: Schema, value: Any, root: Schema, path: Path = (), branch_types: tuple[str, ...] = ()
) -> Iterator[_Site]:
    """Every value of the instance with the (resolved) schema node describing it."""
    node = resolve(node, root)
    for key in ("oneOf", "anyOf"):
        if key in node:
            branches = [resolve(branch, root) for branch in node[key]]
            every = tuple(t for branch in branches for t in _types(branch))
            # the first branch the value fits (by type) describes it
            for resolved in branches:
                if not _types(resolved) or _type_ok(value, _types(resolved)):
                    yield from _sites(resolved, value, root, path, (*branch_types, *every))
                    return
            return
    yield _Site(path, node, value, branch_types)
    if isinstance(value, dict):
        props = node.get("properties", {})
        extra = node.get("additionalProperties", True)
        for name, sub in value.items():
            if name in props:
                yield from _sites(props[name], sub, root, (*path, name))
            elif isinstance(extra, dict):
                yield from _sites(extra, sub, root, (*path, name))
    elif isinstance(value, list):
        items = node.get("items", {})
        for index, sub in enumerate(value):
            if isinstance(items, list):
                item = items[index] if index < len(items) else node.get("additionalItems", {})
                if not isinstance(item, dict):
                    continue
            else:
                item = items
            yield from _sites(item, sub, root, (*path, index))


#: one value of every JSON type
TYPE_SAMPLES: tuple[Any, ...] = ("1", 1.5, True, None, [], {}, 0)


def _wrong_type_values(site: _Site) -> list[Any]:
    allowed = (*_types(site.node), *site.branch_types)
    return [c for c in TYPE_SAMPLES if not _type_ok(c, allowed)]


def _applies(kind: str, site: _Site) -> bool:
    node, value = site.node, site.value
    if kind == "required":
        return isinstance(value, dict) and any(n in value for n in node.get("required", ()))
    if kind == "type":
        return bool(_types(node)) and bool(_wrong_type_values(site))
    if kind == "enum":
        return "enum" in node and isinstance(value, str)
    if kind == "maxLength":
        return isinstance(value, str) and "maxLength" in node and "enum" not in node
    if kind == "minLength":
        return isinstance(value, str) and int(node.get("minLength", 0)) > 0 and "enum" not in node
    if kind in ("minimum", "maximum"):
        return kind in node and json_type(value) in ("integer", "number")
    if kind == "additionalProperties":
        return isinstance(value, dict) and node.get("additionalProperties", True) is False
    if kind == "maxItems":
        return isinstance(value, list) and "maxItems" in node
    if kind == "minItems":
        return isinstance(value, list) and int(node.get("minItems", 0)) > 0
    if kind == "format":
        return isinstance(value, str) and node.get("format") == "date-time"
    return False


def _broken(src: ByteSource, kind: str, site: _Site, root: Schema) -> tuple[Any, str, Path]:
    """(new value at the site's path, constraint text, path of the problem)."""
    node, value, path = site.node, site.value, site.path
    if kind == "required":
        names = [n for n in node["required"] if n in value]
        name = src.choice(names)
        out = {k: v for k, v in value.items() if k != name}
        return out, f"required: property {name!r} missing", (*path, name)
    if kind == "type":
        wrong = copy.deepcopy(src.choice(_wrong_type_values(site)))
        allowed = "/".join(dict.fromkeys((*_types(node), *site.branch_types)))
        return wrong, f"type: {json_type(wrong)} where {allowed} is required", path
    if kind == "enum":
        members = set(node["enum"])
        candidates = [value.lower(), value.upper(), value + "X", "", "NotAnEnumValue", " " + value]
        wrong = src.choice([c for c in candidates if c not in members] or ["NotAnEnumValue"])
        return wrong, f"enum: {wrong!r} is not one of {len(members)} values", path
    if kind == "maxLength":
        limit = int(node["maxLength"])
        length = limit + 1 + src.integer(0, 7)
        return _fill(src, length), f"maxLength: {length} characters, limit {limit}", path
    if kind == "minLength":
        limit = int(node["minLength"])
        length = src.integer(0, limit - 1)
        return _fill(src, length), f"minLength: {length} characters, minimum {limit}", path
    if kind in ("minimum", "maximum"):
        limit = node[kind]
        step: float = 1 if "integer" in _types(node) else 0.5
        step *= 1 + src.integer(0, 3)
        wrong = limit - step if kind == "minimum" else limit + step
        if "integer" in _types(node):
            wrong = int(wrong)
        text = "under the minimum" if kind == "minimum" else "over the maximum"
        return wrong, f"{kind}: {wrong} is {text} {limit}", path
    if kind == "additionalProperties":
        name = EXTRA_PROPERTY
        while name in node.get("properties", {}) or name in value:
            name += "X"
        extra = src.choice(("x", 1, True, {}, []))
        out = {**value, name: copy.deepcopy(extra)}
        return out, f"additionalProperties: property {name!r} not defined", (*path, name)
    if kind == "maxItems":
        limit = int(node["maxItems"])
        items = list(value) or [_Generator(src, root).value(node.get("items", {}), MAX_DEPTH)]
        out = [items[i % len(items)] for i in range(limit + 1)]
        return out, f"maxItems: {limit + 1} items, limit {limit}", path
    if kind == "minItems":
        limit = int(node["minItems"])
        out = list(value)[: limit - 1]
        return out, f"minItems: {len(out)} items, minimum {limit}", path
    if kind == "format":
        wrong = src.choice(BAD_DATE_TIMES)
        return wrong, f"format: {wrong!r} is not an RFC 3339 date-time", path
    raise ValueError(kind)


def _replace(instance: Any, path: Path, value: Any) -> Any:
    if not path:
        return value
    out = copy.deepcopy(instance)
    parent = out
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return out


def mutate(
    src: ByteSource,
    schema: Schema,
    instance: Any,
    *,
    root: Schema | None = None,
    kinds: Collection[str] = KINDS,
) -> Mutation:
    """*instance* (valid against *schema*) with exactly one constraint of *kinds*
    broken; *instance* itself is left as it was.  Raises :class:`NoMutation` when
    no constraint of those kinds can be broken."""
    root = schema if root is None else root
    sites = list(_sites(schema, instance, root))
    available = [(k, [s for s in sites if _applies(k, s)]) for k in KINDS if k in kinds]
    available = [(k, s) for k, s in available if s]
    if not available:
        raise NoMutation(f"no constraint of {sorted(kinds)} to break")
    kind, candidates = src.choice(available)
    site = src.choice(candidates)
    # "required" and "additionalProperties" replace the object holding the property
    value, constraint, problem_path = _broken(src, kind, site, root)
    return Mutation(_replace(instance, site.path, value), constraint, format_path(problem_path))
