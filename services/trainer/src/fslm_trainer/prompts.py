"""The fixed prompts for reference outputs and int8 checks, rendered exactly as fed to the tokenizer."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Prompt:
    name: str
    text: str = ""
    messages: list[dict] = field(default_factory=list)  # when set, text is rendered by the chat template

    @property
    def chat(self) -> bool:
        return bool(self.messages)


PROMPTS = [
    Prompt("plain", text="The three primary colors are"),
    Prompt("chat", messages=[{"role": "user", "content": "What is the capital of France? Answer in one sentence."}]),
    Prompt("digits_spaces", text="Invoice 20240715:  3 items x 12.50 =    37.50 EUR\n\n    total   1234567 units"),
    Prompt("unicode", text="Café déjà vu — naïve Zürich, 日本語のテキスト, emoji 🚀🎉👩‍💻 and “quotes”:"),
]


def render(prompt: Prompt, tokenizer) -> tuple[str, list[int], bool]:
    """(text, input_ids, add_special_tokens). Plain text takes the tokenizer's own special-token
    policy (add_special_tokens=True adds BOS iff add_bos_token); a rendered chat template already
    holds its special tokens, so it is tokenized with add_special_tokens=False, as
    apply_chat_template(tokenize=True) does."""
    if prompt.chat:
        text = tokenizer.apply_chat_template(prompt.messages, tokenize=False, add_generation_prompt=True)
        add_special = False
    else:
        text, add_special = prompt.text, True
    ids = tokenizer(text, add_special_tokens=add_special)["input_ids"]
    return text, list(ids), add_special


def usable(tokenizer) -> list[Prompt]:
    """The prompts this tokenizer can render (no chat prompt without a chat template)."""
    return [p for p in PROMPTS if not p.chat or tokenizer.chat_template]
