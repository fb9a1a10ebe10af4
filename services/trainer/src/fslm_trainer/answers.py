"""The final answer a text gives, for checks where the answer is known (quality.py for teacher texts,
evals/tasks/checks.py for evaluation): the number after the last "answer is" / "Answer:" when the text
states one, else the last number in the text. A number that merely appears somewhere earlier (an
operand, an intermediate sum) is not the answer."""

from __future__ import annotations

import re

NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_STATED = re.compile(r"answer\s*(?:is|:|=)\s*\**\s*(-?\d[\d,]*(?:\.\d+)?)", re.IGNORECASE)


def as_number(text: str) -> float:
    """'1,234.50' -> 1234.5."""
    return float(text.replace(",", ""))


def final_number(text: str) -> float | None:
    stated = _STATED.findall(text)
    if stated:
        return as_number(stated[-1])
    numbers = NUMBER.findall(text)
    return as_number(numbers[-1]) if numbers else None
