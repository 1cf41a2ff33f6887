"""The JSON-schema instance generator and mutator of the fuzzers: every OCPP 2.1 and
2.0.1 request schema gives valid instances (checked by ``schemas.check``, i.e.
jsonschema with the date-time format), the minimal one from zero bytes, and every
mutation breaks validation at the path it names."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft6Validator

from conformance.ocpp import schemas
from fuzz import json_schema
from fuzz.json_schema import KINDS, NoMutation, generate, mutate, resolve
from fuzz.ocpp import schema
from fuzz.source import ByteSource

REQUESTS = [
    (version, action)
    for version in ("2.1", "2.0.1")
    for action in sorted(schemas.actions(version))
    if schema(version, f"{action}Request") is not None
]


def request(version: str, action: str) -> dict[str, Any]:
    found = schema(version, f"{action}Request")
    assert found is not None
    return found


def check_instance(version: str, action: str, data: bytes) -> None:
    src = ByteSource(data)
    root = request(version, action)
    instance = generate(src, root)
    problems = schemas.check(version, action, "Request", instance)
    assert problems == [], f"{action} ({version}): {schemas.describe(problems)}"
    before = copy.deepcopy(instance)
    mutation = mutate(src, root, instance)
    assert instance == before, "mutate changed its input"
    problems = schemas.check(version, action, "Request", mutation.instance)
    paths = [p.path for p in problems]
    assert mutation.path in paths, (
        f"{action} ({version}) {mutation.constraint} at {mutation.path!r}: "
        f"problems at {paths} in {json.dumps(mutation.instance)[:300]}"
    )
    assert mutation.keyword in KINDS


def test_there_are_request_schemas_of_both_versions() -> None:
    versions = {v for v, _ in REQUESTS}
    assert versions == {"2.1", "2.0.1"}
    assert len(REQUESTS) > 120


@pytest.mark.parametrize(("version", "action"), REQUESTS, ids=[f"{v}-{a}" for v, a in REQUESTS])
def test_every_request_schema_generates_and_mutates(version: str, action: str) -> None:
    """Zero bytes and a dozen random byte strings per schema."""
    rng = random.Random(f"{version}/{action}")
    check_instance(version, action, b"")
    for _ in range(12):
        check_instance(version, action, rng.randbytes(rng.randrange(1, 240)))


@settings(max_examples=400)
@given(st.sampled_from(REQUESTS), st.binary(max_size=300))
def test_generated_instances_are_valid_and_mutations_are_not(
    which: tuple[str, str], data: bytes
) -> None:
    check_instance(*which, data)


def _required_only(node: dict[str, Any], value: Any, root: dict[str, Any]) -> None:
    node = resolve(node, root)
    if isinstance(value, dict) and "properties" in node:
        assert set(value) == set(node.get("required", ())), (set(value), node.get("required"))
        for name, sub in value.items():
            _required_only(node["properties"][name], sub, root)
    elif isinstance(value, list):
        assert len(value) == node.get("minItems", 0)
        for item in value:
            _required_only(node.get("items", {}), item, root)


@pytest.mark.parametrize("version", ["2.1", "2.0.1"])
def test_zero_bytes_give_the_minimal_instance(version: str) -> None:
    """Required properties only, minItems items, first enum values, low ends."""
    for v, action in REQUESTS:
        if v != version:
            continue
        root = request(version, action)
        instance = generate(ByteSource(b""), root)
        _required_only(root, instance, root)
        assert generate(ByteSource(bytes(64)), root) == instance
    reset = generate(ByteSource(b""), request(version, "Reset"))
    assert reset == {"type": "Immediate"}
    variables = generate(ByteSource(b""), request(version, "GetVariables"))
    assert variables == {"getVariableData": [{"component": {"name": ""}, "variable": {"name": ""}}]}


def test_the_same_bytes_give_the_same_instance() -> None:
    root = request("2.1", "SetChargingProfile")
    data = random.Random(7).randbytes(200)
    assert generate(ByteSource(data), root) == generate(ByteSource(data), root)


def test_zero_bytes_break_the_first_required_property() -> None:
    root = request("2.1", "GetVariables")
    instance = generate(ByteSource(b""), root)
    mutation = mutate(ByteSource(b""), root, instance)
    assert mutation.keyword == "required"
    assert mutation.path == "getVariableData"
    assert mutation.instance == {}


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_breaks_its_keyword(kind: str) -> None:
    """Some request schema offers each kind; the validator names that keyword."""
    rng = random.Random(kind)
    for _ in range(400):
        version, action = rng.choice(REQUESTS)
        root = request(version, action)
        src = ByteSource(rng.randbytes(200))
        instance = generate(src, root)
        try:
            mutation = mutate(src, root, instance, kinds=(kind,))
        except NoMutation:
            continue
        assert mutation.keyword == kind
        validator = Draft6Validator(root, format_checker=Draft6Validator.FORMAT_CHECKER)
        keywords = {e.validator for e in validator.iter_errors(mutation.instance)}
        assert kind in keywords or (kind == "required" and "required" in keywords), keywords
        return
    if kind != "minLength":  # no OCPP schema has a minLength
        pytest.fail(f"no request schema offered a {kind} mutation")


def test_kinds_limit_the_mutations() -> None:
    root = request("2.1", "Reset")
    rng = random.Random(3)
    for _ in range(200):
        src = ByteSource(rng.randbytes(64))
        mutation = mutate(src, root, generate(src, root), kinds=("required", "type"))
        assert mutation.keyword in ("required", "type")


def test_no_mutation_where_nothing_applies() -> None:
    with pytest.raises(NoMutation):
        mutate(ByteSource(b""), {"type": "object"}, {}, kinds=("maxLength", "enum"))


def test_date_times_are_rfc3339_and_the_bad_ones_are_not() -> None:
    checker = Draft6Validator.FORMAT_CHECKER
    for text in json_schema.DATE_TIMES:
        assert checker.conforms(text, "date-time"), text
    for text in json_schema.BAD_DATE_TIMES:
        assert not checker.conforms(text, "date-time"), text


GENERIC: dict[str, Any] = {
    "definitions": {
        "Leaf": {"type": "string", "minLength": 2, "maxLength": 4},
        "Alias": {"$ref": "#/definitions/Leaf"},
    },
    "type": "object",
    "additionalProperties": False,
    "required": ["choice", "fixed", "leaf", "pair", "any"],
    "properties": {
        "choice": {"oneOf": [{"type": "integer", "maximum": -5}, {"type": "boolean"}]},
        "fixed": {"const": "x"},
        "leaf": {"$ref": "#/definitions/Alias"},
        "pair": {"type": "array", "items": [{"type": "integer"}, {"type": "string"}]},
        "any": {},
        "number": {"type": "number", "minimum": 1.5, "maximum": 2.5},
        "maybe": {"anyOf": [{"type": "string", "enum": ["a", "b"]}, {"type": "null"}]},
    },
}


@settings(max_examples=300)
@given(st.binary(max_size=80))
def test_other_keywords_generate_valid_instances(data: bytes) -> None:
    validator = Draft6Validator(GENERIC)
    src = ByteSource(data)
    instance = generate(src, GENERIC)
    assert list(validator.iter_errors(instance)) == []
    assert 2 <= len(instance["leaf"]) <= 4
    mutation = mutate(src, GENERIC, instance)
    assert list(validator.iter_errors(mutation.instance)), mutation


def test_min_length_is_broken_too() -> None:
    instance = generate(ByteSource(b""), GENERIC)
    assert instance["leaf"] == "aa"
    mutation = mutate(ByteSource(b""), GENERIC, instance, kinds=("minLength",))
    assert mutation.path == "leaf" and len(mutation.instance["leaf"]) < 2
