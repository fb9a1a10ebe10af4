"""The Stack CRD's CEL rules (x-kubernetes-validations), which the API server evaluates and a JSON
Schema validator cannot, mirrored in code exactly as the router mirrors them
(services/router/src/stack-rules.ts): each keyed by its rule's message, reported at the field it
concerns; a test checks both cover every rule of the CRD."""

from __future__ import annotations

from collections.abc import Callable

from .stackschema import join_path, stack_schema
from .template import Part, parse_template


def _stages(doc) -> list:
    spec = doc.get("spec") if isinstance(doc, dict) else None
    stages = spec.get("stages") if isinstance(spec, dict) else None
    return [s if isinstance(s, dict) else None for s in stages] if isinstance(stages, list) else []


def _template(stage) -> tuple[Part, ...] | None:
    if not isinstance(stage, dict) or not isinstance(stage.get("template"), str):
        return None
    try:
        return parse_template(stage["template"])
    except ValueError:
        return None


def _at(i: int, field: str) -> str:
    return join_path(join_path("spec.stages", i), field)


def _model(doc) -> list[str]:
    spec = doc.get("spec")
    defaults = spec.get("defaults") if isinstance(spec, dict) else None
    if isinstance(defaults, dict) and "model" in defaults:
        return []
    return [_at(i, "model") for i, s in enumerate(_stages(doc)) if s is not None and "model" not in s]


def _syntax(doc) -> list[str]:
    return [_at(i, "template") for i, s in enumerate(_stages(doc))
            if isinstance(s, dict) and isinstance(s.get("template"), str) and _template(s) is None]


def _earlier(doc) -> list[str]:
    stages = _stages(doc)
    out = []
    for i, s in enumerate(stages):
        parts = _template(s)
        if parts is None:
            continue
        earlier = {o.get("name") for o in stages[:i] if isinstance(o, dict)}
        if any(p.kind == "stage" and p.text not in earlier for p in parts):
            out.append(_at(i, "template"))
    return out


RULE_MIRRORS: dict[str, Callable[[dict], list[str]]] = {
    "every stage needs a model (set it on the stage, or spec.defaults.model for all)": _model,
    "template: write {input} or {stages.<name>} for a text, {{ and }} for literal braces": _syntax,
    "a template may only use {stages.<name>} of a stage listed before it": _earlier,
}


def cel_rule_messages(schema: dict | None = None) -> list[str]:
    """The messages of every CEL rule in the schema, in schema order."""
    out: list[str] = []

    def walk(s):
        if not isinstance(s, dict):
            return
        out.extend(r["message"] for r in s.get("x-kubernetes-validations", []))
        for sub in s.get("properties", {}).values():
            walk(sub)
        walk(s.get("items"))
        if isinstance(s.get("additionalProperties"), dict):
            walk(s["additionalProperties"])

    walk(stack_schema()[0] if schema is None else schema)
    return out


def rule_problems(doc) -> list[tuple[str, str]]:
    """Every CEL rule of the schema that the document breaks, each at the field it concerns."""
    if not isinstance(doc, dict):
        return []
    out = []
    for message in cel_rule_messages():
        mirror = RULE_MIRRORS.get(message)
        if mirror is None:
            raise RuntimeError(f"the Stack CRD has a CEL rule with no mirror in stackrules.py: {message}")
        out.extend((path, message) for path in mirror(doc))
    return out
