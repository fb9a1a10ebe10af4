"""Prompt token ids exactly as a stage serving this model computes them (services/stage/src/text-codec.ts,
prompt-pieces.ts): the chat template is rendered with stand-ins for the message contents to learn which
text is the template's markup; special tokens (<|im_start|>, ...) are recognised in markup only; the
text between them, content included, is tokenized as plain text, so a special token's text typed in a
message (or a completion) is ordinary tokens, never the control token. The trainer trains on these ids,
and a test holds them to `fslm render-prompts` (the stage's own code) token for token."""

from __future__ import annotations

import secrets

from .exitcodes import BadInput

MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"


class PromptTokenizer:
    """A HF tokenizer used as the stage uses its tokenizer.json: markup with specials, content as plain text."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        added = tokenizer.backend_tokenizer.get_added_tokens_decoder() if hasattr(tokenizer, "backend_tokenizer") else {}
        self.specials = sorted(((t.content, i, bool(t.lstrip), bool(t.rstrip)) for i, t in added.items() if t.special),
                               key=lambda s: -len(s[0]))
        self.marker = secrets.token_hex(6)

    def plain(self, text: str) -> list[int]:
        """Ids of text with no special token recognised in it."""
        if not text:
            return []
        return list(self.tokenizer(text, add_special_tokens=False, split_special_tokens=True)["input_ids"])

    def pieces(self, messages: list[dict]) -> list[tuple[str, bool]]:
        """(text, is_markup) pieces of the rendered prompt, with the generation prompt."""
        render = lambda msgs: self.tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)  # noqa: E731
        canonical = render(messages)
        stand_in = lambda i: f"{MARK_OPEN}{self.marker}:{i}{MARK_CLOSE}"  # noqa: E731
        marked = render([{"role": m["role"], "content": stand_in(i)} for i, m in enumerate(messages)])
        out: list[tuple[str, bool]] = []
        rest = marked
        for i, m in enumerate(messages):
            at = rest.find(stand_in(i))
            if at < 0:
                break
            out += [(rest[:at], True), (m["content"], False)]
            rest = rest[at + len(stand_in(i)):]
        out.append((rest, True))
        if "".join(t for t, _ in out) == canonical:
            return [(t, markup) for t, markup in out if t]
        for i, m in enumerate(messages):
            for content, *_ in self.specials:
                if content in m["content"]:
                    raise BadInput(f"messages[{i}].content holds the special token {content}; this model's chat template "
                                   "rewrites message text, so it cannot be kept as plain text")
        return [(canonical, True)]

    def sections(self, pieces: list[tuple[str, bool]]) -> list[str | int]:
        """Plain text sections and special token ids, as prompt-pieces.ts sectionsOf cuts them."""
        merged: list[list] = []
        for text, markup in pieces:
            if merged and merged[-1][1] == markup:
                merged[-1][0] += text
            else:
                merged.append([text, markup])
        sections: list[list] = []  # [text] or [special tuple]
        text = ""
        for piece, markup in merged:
            if not markup:
                text += piece
                continue
            start = i = 0
            while i < len(piece):
                match = next((s for s in self.specials if piece.startswith(s[0], i)), None)
                if match is None:
                    i += 1
                    continue
                text += piece[start:i]
                sections += [["text", text], ["special", match]]
                text = ""
                i += len(match[0])
                start = i
            text += piece[start:]
        sections.append(["text", text])
        for k, (kind, value) in enumerate(sections):
            if kind != "special":
                continue
            _, _, lstrip, rstrip = value
            if lstrip and k > 0 and sections[k - 1][0] == "text":
                sections[k - 1][1] = sections[k - 1][1].rstrip()
            if rstrip and k + 1 < len(sections) and sections[k + 1][0] == "text":
                sections[k + 1][1] = sections[k + 1][1].lstrip()
        return [v[1] if kind == "special" else v for kind, v in sections if kind == "special" or v]

    def prompt_ids(self, messages: list[dict]) -> list[int]:
        ids: list[int] = []
        for section in self.sections(self.pieces(messages)):
            ids += [section] if isinstance(section, int) else self.plain(section)
        return ids
