"""Programmatic checks of the held-out generation tasks (lm-eval process_results functions).

arithmetic: the answer's final number must be THE answer: the number after the last "answer is" /
"Answer:" when the text states one, else the last number in the text (a wrong last step or a
restated operand fails, even if the right number appears somewhere earlier).

instructions: each item's `check` (see fslm_trainer/heldout.py): contains / contains_word (whole word;
case-sensitive with "case"), letter (the first single letter standing alone), number (the final
number), min_words, in_order (the words appear in this order), comma_list_starting (at least `count`
comma-separated items, each starting with the letter).
"""

from __future__ import annotations

import re

# The trainer's sources are on PYTHONPATH wherever fslm eval runs: the same final-answer rule as the
# training data's checks (fslm_trainer/answers.py).
from fslm_trainer.answers import final_number


def arithmetic(doc: dict, results: list[str]) -> dict:
    got = final_number(results[0])
    return {"exact_match": float(got is not None and got == float(doc["answer"]))}


def _word(text: str, word: str, case: bool) -> bool:
    flags = 0 if case else re.IGNORECASE
    return re.search(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", text, flags) is not None


def passes(check: dict, text: str) -> bool:
    t = text.strip()
    if "contains" in check and check["contains"].lower() not in t.lower():
        return False
    if "contains_word" in check and not _word(t, check["contains_word"], bool(check.get("case"))):
        return False
    if "min_words" in check and len(t.split()) < check["min_words"]:
        return False
    if "letter" in check:
        alone = re.search(r"(?<![A-Za-z])([A-Za-z])(?![A-Za-z])", t)
        if not alone or alone.group(1).lower() != check["letter"].lower():
            return False
    if "number" in check:
        got = final_number(t)
        if got is None or got != float(check["number"]):
            return False
    if "in_order" in check:
        positions = [t.lower().find(w.lower()) for w in check["in_order"]]
        if min(positions) < 0 or positions != sorted(positions):
            return False
    if "comma_list_starting" in check:
        first_line = t.splitlines()[0] if t else ""
        items = [i.strip(" .\"'*") for i in first_line.split(",")]
        letter = check["comma_list_starting"].lower()
        good = [i for i in items if i and i.lower().startswith(letter)]
        if len(good) < check.get("count", 3) or len(good) < len([i for i in items if i]):
            return False
    return True


def instructions(doc: dict, results: list[str]) -> dict:
    return {"pass": float(passes(doc["check"], results[0]))}


def wordnet_answers(doc: dict) -> list[str]:
    """wordnet-mc-answer's choices: each gloss after the answer's lead-in, '"word" (pos) means: gloss',
    the form the default stack's final stage was trained to write. The lead-in is the same for every
    choice, so acc ranks the glosses by their likelihood given it."""
    return [f'"{doc["word"]}" ({doc["pos"]}) means: {choice}' for choice in doc["choices"]]
