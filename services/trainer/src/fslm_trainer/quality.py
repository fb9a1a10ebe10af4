"""Is a teacher's stage text usable? Generic filters for empty or degenerate text, and the checks a
row may carry where its answer is known (`fslm_check`):

    {"fslm_check": [{"stage": "final", "answer": "42"},
                    {"stage": "keywords", "contains_any": ["dog", "canine"]}]}

`answer` needs the text's final answer to be that number (answers.final_number: the number after the
last "Answer:" / "answer is", else the last number; one that merely appears earlier fails) or, if not
numeric, that phrase as whole words; `contains_any` needs one of
the terms (case-insensitive, whole words); `comma_list: true` needs a short list ("a, b, c": at least
three items of at most four words each, no sentence). A stage name of "@last" means the stack's
last stage.
"""

from __future__ import annotations

import re
from collections import Counter

from .answers import NUMBER, as_number, final_number

MIN_CHARS = 2
MIN_WORDS_FOR_REPEAT_CHECK = 12
MIN_DISTINCT_TRIGRAMS = 0.35  # share of distinct word trigrams below which a text is a loop
MAX_LINE_REPEATS = 3
_LEAK = re.compile(r"\{stages\.[a-z0-9-]+\}|\{input\}|<\|im_(start|end)\|>")


def degenerate(text: str, prompt: str) -> str | None:
    """The reason a text is unusable, or None."""
    t = text.strip()
    if not t:
        return "empty_output"
    if len(t) < MIN_CHARS or not re.search(r"\w", t):
        return "too_short"
    if _LEAK.search(t):
        return "template_leak"
    if t == prompt.strip():
        return "echo_of_prompt"
    words = t.lower().split()
    if len(words) >= MIN_WORDS_FOR_REPEAT_CHECK:
        trigrams = list(zip(words, words[1:], words[2:]))
        if len(set(trigrams)) / len(trigrams) < MIN_DISTINCT_TRIGRAMS:
            return "degenerate_repetition"
    lines = [ln.strip() for ln in t.splitlines() if ln.strip()]
    if lines and Counter(lines).most_common(1)[0][1] > MAX_LINE_REPEATS:
        return "degenerate_repetition"
    return None


def passes(check: dict, text: str) -> bool:
    if "answer" in check:
        want = str(check["answer"]).strip()
        if NUMBER.fullmatch(want):
            return final_number(text) == as_number(want)
        return re.search(rf"(?<!\w){re.escape(want.lower())}(?!\w)", text.lower()) is not None
    ok = True
    if "contains_any" in check:
        low = text.lower()
        ok = any(re.search(rf"(?<!\w){re.escape(str(term).lower())}(?!\w)", low) for term in check["contains_any"])
    if ok and check.get("comma_list"):
        items = [i.strip() for i in text.strip().rstrip(".").split(",")]
        ok = len(items) >= 3 and all(0 < len(i.split()) <= 4 for i in items)
    return ok


def checks_for(row: dict, stage: str, last_stage: str) -> list[dict]:
    checks = row.get("fslm_check") or []
    if isinstance(checks, dict):
        checks = [checks]
    return [c for c in checks if isinstance(c, dict) and c.get("stage") in (stage, "@last" if stage == last_stage else None)]


def failed_check(row: dict, stage: str, last_stage: str, text: str) -> str | None:
    for c in checks_for(row, stage, last_stage):
        if not passes(c, text):
            return "wrong_answer" if "answer" in c else "not_a_list" if c.get("comma_list") else "failed_check"
    return None
