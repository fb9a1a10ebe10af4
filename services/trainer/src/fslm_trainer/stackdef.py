"""Stack definitions (stacks/*.yaml: apiVersion fslm.dev/v1alpha1, kind Stack), read the way the
router reads them (services/router/src/stack-loader.ts, template.ts): stages in order, each with a
system prompt and a template over {input} and {stages.<name>}, where {{ and }} are literal braces.
Only what the trainer needs is checked; problems are BadInput with their field path."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from .exitcodes import BadInput

API_VERSION, KIND = "fslm.dev/v1alpha1", "Stack"
_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_REFERENCE = re.compile(r"^(input|stages\.([a-z0-9][a-z0-9-]*))$")
DEFAULT_MAX_NEW_TOKENS = 256


@dataclass(frozen=True)
class Part:
    kind: str  # text | input | stage
    text: str = ""  # the text, or the stage name


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


def parse_template(source: str) -> tuple[Part, ...]:
    parts: list[Part] = []
    text, i = "", 0
    while i < len(source):
        c = source[i]
        if c in "{}" and source[i + 1:i + 2] == c:
            text += c
            i += 2
            continue
        if c == "}":
            raise ValueError(f'unmatched "}}" at column {i + 1} (write }}}} for a literal brace)')
        if c == "{":
            end = source.find("}", i)
            if end < 0:
                raise ValueError(f'unclosed "{{" at column {i + 1}')
            m = _REFERENCE.match(source[i + 1:end].strip())
            if not m:
                raise ValueError(f"unknown reference {{{source[i + 1:end]}}} at column {i + 1}: use {{input}} or {{stages.<name>}}")
            if text:
                parts.append(Part("text", text))
                text = ""
            parts.append(Part("stage", m.group(2)) if m.group(2) else Part("input"))
            i = end + 1
            continue
        text += c
        i += 1
    if text:
        parts.append(Part("text", text))
    return tuple(parts)


def load_stack(path: Path) -> Stack:
    if not path.is_file():
        raise BadInput(f"stack file {path} does not exist")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise BadInput(f"stack file {path} is not valid YAML: {e}") from e
    return parse_stack(doc, str(path))


def parse_stack(doc, source: str = "(stack)") -> Stack:
    problems: list[str] = []
    if not isinstance(doc, dict):
        raise BadInput(f"{source}: a stack definition must be a mapping")
    if doc.get("apiVersion") != API_VERSION:
        problems.append(f"apiVersion: must be {API_VERSION}")
    if doc.get("kind") != KIND:
        problems.append(f"kind: must be {KIND}")
    name = (doc.get("metadata") or {}).get("name") if isinstance(doc.get("metadata"), dict) else None
    if not isinstance(name, str) or not _NAME.match(name):
        problems.append("metadata.name: must be a lowercase DNS label")
    raw_stages = (doc.get("spec") or {}).get("stages") if isinstance(doc.get("spec"), dict) else None
    stages: list[Stage] = []
    if not isinstance(raw_stages, list) or not raw_stages:
        problems.append("spec.stages: must list at least one stage")
        raw_stages = []
    for i, raw in enumerate(raw_stages):
        stage = _stage(raw, f"spec.stages[{i}]", stages, problems)
        if stage:
            stages.append(stage)
    if problems:
        raise BadInput(f"{source}: invalid stack definition: " + "; ".join(problems))
    return Stack(name, tuple(stages), source)


def _stage(raw, path: str, earlier: list[Stage], problems: list[str]) -> Stage | None:
    if not isinstance(raw, dict):
        problems.append(f"{path}: must be a mapping")
        return None
    name, template, system = raw.get("name"), raw.get("template"), raw.get("system", "")
    before = len(problems)
    if not isinstance(name, str) or not _NAME.match(name):
        problems.append(f"{path}.name: must be a lowercase DNS label")
    elif any(s.name == name for s in earlier):
        problems.append(f"{path}.name: duplicate stage name {name!r}")
    if not isinstance(system, str):
        problems.append(f"{path}.system: must be a string")
    parts: tuple[Part, ...] = ()
    if not isinstance(template, str) or not template.strip():
        problems.append(f"{path}.template: must be a non-empty string")
    else:
        try:
            parts = parse_template(template)
        except ValueError as e:
            problems.append(f"{path}.template: {e}")
        for p in parts:
            if p.kind == "stage" and not any(s.name == p.text for s in earlier):
                problems.append(f"{path}.template: {{stages.{p.text}}} is not an earlier stage "
                                f"(earlier: {', '.join(s.name for s in earlier) or 'none'})")
    params = raw.get("params") or {}
    if not isinstance(params, dict):
        problems.append(f"{path}.params: must be a mapping")
        params = {}
    max_new = params.get("maxNewTokens", DEFAULT_MAX_NEW_TOKENS)
    if not isinstance(max_new, int) or max_new < 1:
        problems.append(f"{path}.params.maxNewTokens: must be a positive integer")
    stop = params.get("stop") or []
    if not isinstance(stop, list) or not all(isinstance(s, str) and s for s in stop):
        problems.append(f"{path}.params.stop: must be a list of non-empty strings")
    if len(problems) > before:
        return None
    return Stage(name, system, template, parts, max_new, tuple(stop))
