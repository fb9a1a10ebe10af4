"""Stage prompt templates, parsed the way the router parses them (services/router/src/template.ts):
text with {input} and {stages.<name>} references, where {{ and }} are literal braces."""

from __future__ import annotations

import re
from dataclasses import dataclass

_REFERENCE = re.compile(r"^(input|stages\.([a-z0-9][a-z0-9-]*))\Z")
# Only the white space the Stack CRD's template rule allows (RE2's \s), not all of Unicode's.
_SPACE = " \t\n\r\f"


@dataclass(frozen=True)
class Part:
    kind: str  # text | input | stage
    text: str = ""  # the text, or the stage name


def parse_template(source: str) -> tuple[Part, ...]:
    """The template's parts; ValueError (with the 1-based column) when it is malformed."""
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
            m = _REFERENCE.match(source[i + 1:end].strip(_SPACE))
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
