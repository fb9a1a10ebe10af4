"""Stack definitions (stacks/*.yaml: apiVersion fslm.dev/v1alpha1, kind Stack), checked against the
Stack CRD's schema and its CEL rules exactly as the router checks them (stackschema.py,
stackrules.py; the same problems with the same messages), then read the way the router reads them:
stages in order, each with a system prompt and a template over {input} and {stages.<name>}.
Problems are BadInput listing every field path."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from .exitcodes import BadInput
from .stackrules import rule_problems
from .stackschema import schema_problems, sort_problems
from .template import Part, parse_template

__all__ = ["Part", "Stack", "Stage", "load_stack", "parse_stack", "parse_template", "stack_problems"]

DEFAULT_MAX_NEW_TOKENS = 256


@dataclass(frozen=True)
class Stage:
    name: str
    system: str
    template: str
    parts: tuple[Part, ...]
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    stop: tuple[str, ...] = ()

    @property
    def prompt_version(self) -> str:
        """Identifies what this stage is asked: a hash of its system prompt and template."""
        return hashlib.sha256(f"{self.system}\0{self.template}".encode()).hexdigest()[:12]

    def render(self, user_input: str, texts: dict[str, str]) -> str:
        out = []
        for p in self.parts:
            out.append(p.text if p.kind == "text" else user_input if p.kind == "input" else texts[p.text])
        return "".join(out)

    def messages(self, user_input: str, texts: dict[str, str]) -> list[dict[str, str]]:
        """What the router sends this stage: its system prompt, then the rendered template as the user turn."""
        msgs = [{"role": "system", "content": self.system}] if self.system else []
        return msgs + [{"role": "user", "content": self.render(user_input, texts)}]


@dataclass(frozen=True)
class Stack:
    name: str
    stages: tuple[Stage, ...]
    source: str = ""

    def stage(self, name: str) -> Stage:
        for s in self.stages:
            if s.name == name:
                return s
        raise BadInput(f"stage {name!r} is not in stack {self.name!r} ({self.source}); "
                       f"its stages are {', '.join(s.name for s in self.stages)}")


def load_stack(path: Path) -> Stack:
    if not path.is_file():
        raise BadInput(f"stack file {path} does not exist")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise BadInput(f"stack file {path} is not valid YAML: {e}") from e
    return parse_stack(doc, str(path))


def stack_problems(doc) -> list[tuple[str, str]]:
    """Every problem of a parsed stack document as (field path, message), sorted; empty when valid."""
    return sort_problems(schema_problems(doc) + rule_problems(doc))


def parse_stack(doc, source: str = "(stack)") -> Stack:
    problems = stack_problems(doc)
    if problems:
        raise BadInput(f"{source}: invalid stack definition\n" + "\n".join(f"  {p}: {m}" for p, m in problems))
    stages = []
    for raw in doc["spec"]["stages"]:
        params = raw.get("params", {})
        stages.append(Stage(raw["name"], raw.get("system", ""), raw["template"], parse_template(raw["template"]),
                            params.get("maxNewTokens", DEFAULT_MAX_NEW_TOKENS), tuple(params.get("stop", ()))))
    return Stack(doc["metadata"]["name"], tuple(stages), source)
