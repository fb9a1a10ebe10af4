"""Checks a stack document against stacks/stack.schema.json (rendered from the Stack CRD,
k8s/base/crd/stacks.fslm.dev.yaml, the one definition of the format) with jsonschema, and words each
failure exactly as the router's check does (services/shared/stack-schema.ts): a field path such as
spec.stages[1].params.topP and a message. The list-map keys the API server enforces (no two stages
with one name) are checked here too; the CEL rules are mirrored in stackrules.py."""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path

import jsonschema

# In a checkout the schema sits in stacks/; an installed trainer (its image) names it in FSLM_STACK_SCHEMA.
_CHECKOUT_SCHEMA = Path(__file__).resolve().parents[4] / "stacks" / "stack.schema.json"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
_TYPE_NAMES = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer",
               "number": "a number", "boolean": "a boolean", "null": "null"}


def schema_file() -> Path:
    return Path(os.environ.get("FSLM_STACK_SCHEMA") or _CHECKOUT_SCHEMA)


def join_path(parent: str, key: str | int) -> str:
    """`a.b`, `a[0]`, `a["x/y"]`: identifiers join with a dot, other keys are quoted."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if _IDENT.match(key):
        return f"{parent}.{key}" if parent else key
    return f"{parent}[{json.dumps(key, ensure_ascii=False)}]"


def _show(v) -> str:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def _number(v) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() and abs(v) < 2**53 else str(v)


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _pattern(validator, pattern, instance, schema):
    # JSON Schema patterns are ECMA regexes, searched; anchor `$` at the very end as ECMA and RE2 do
    # (Python's `$` also matches before a final newline).
    if validator.is_type(instance, "string"):
        anchored = re.sub(r"(?<!\\)\$$", r"\\Z", pattern)
        if not re.search(anchored, instance):
            yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


@lru_cache(maxsize=1)
def stack_schema() -> tuple[dict, jsonschema.protocols.Validator]:
    path = schema_file()
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise RuntimeError(f"cannot read the stack schema {path} (set FSLM_STACK_SCHEMA): {e}") from e
    cls = jsonschema.validators.extend(jsonschema.Draft7Validator, {"pattern": _pattern})
    return schema, cls(schema)


def _problems_of(error: jsonschema.ValidationError) -> list[tuple[str, str]]:
    at = ""
    for key in error.absolute_path:
        at = join_path(at, key)
    here = at or "(root)"
    kw, value, inst, sch = error.validator, error.validator_value, error.instance, error.schema
    if kw == "required":
        return [(join_path(at, p), "is required") for p in value if isinstance(inst, dict) and p not in inst]
    if kw == "additionalProperties":
        known = ", ".join(sch.get("properties", {}))
        return [(join_path(at, k), f"unknown field (known: {known})") for k in inst if k not in sch.get("properties", {})]
    messages = {
        "type": lambda: f"must be {_TYPE_NAMES.get(value, value)}",
        "anyOf": lambda: "must be " + " or ".join(_TYPE_NAMES.get(s.get("type"), s.get("type")) for s in value),
        "const": lambda: f"must be {_show(value)}",
        "enum": lambda: "must be one of " + ", ".join(_show(v) for v in value),
        "pattern": lambda: f"must match {value}",
        "minLength": lambda: f"must be at least {_plural(value, 'character')}",
        "maxLength": lambda: f"must be at most {_plural(value, 'character')}",
        "minimum": lambda: f"must be at least {_number(value)}",
        "maximum": lambda: f"must be at most {_number(value)}",
        "exclusiveMinimum": lambda: f"must be greater than {_number(value)}",
        "exclusiveMaximum": lambda: f"must be less than {_number(value)}",
        "minItems": lambda: f"must have at least {_plural(value, 'item')}",
        "maxItems": lambda: f"must have at most {_plural(value, 'item')}",
        "minProperties": lambda: f"must have at least {_plural(value, 'entry', 'entries')}",
        "maxProperties": lambda: f"must have at most {_plural(value, 'entry', 'entries')}",
    }
    return [(here, messages[kw]() if kw in messages else error.message)]


def list_key_problems(value, schema: dict, path: str, out: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Two items of a list-map with the same key, as the API server refuses them."""
    if isinstance(value, list):
        keys = schema.get("x-kubernetes-list-map-keys")
        if schema.get("x-kubernetes-list-type") == "map" and keys:
            seen: dict[str, int] = {}
            for i, item in enumerate(value):
                if not isinstance(item, dict) or any(k not in item for k in keys):
                    continue
                values = [item[k] for k in keys]
                ident = json.dumps(values)
                if ident not in seen:
                    seen[ident] = i
                else:
                    what = ", ".join(f"{k} {json.dumps(v, ensure_ascii=False)}" for k, v in zip(keys, values))
                    out.append((join_path(path, i), f"duplicate {what} (also at [{seen[ident]}])"))
        if "items" in schema:
            for i, item in enumerate(value):
                list_key_problems(item, schema["items"], join_path(path, i), out)
    elif isinstance(value, dict) and "properties" in schema:
        for k, v in value.items():
            if k in schema["properties"]:
                list_key_problems(v, schema["properties"][k], join_path(path, k), out)
    return out


def schema_problems(doc) -> list[tuple[str, str]]:
    """Every schema problem of a parsed stack document (not yet the CEL rules), as (path, message)."""
    schema, validator = stack_schema()
    out: list[tuple[str, str]] = []
    for error in validator.iter_errors(doc):
        out.extend(_problems_of(error))
    return list_key_problems(doc, schema, "", out)


def sort_problems(problems: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Sorted by path, then message, without repeats: the order both languages report in."""
    return sorted(set(problems))
