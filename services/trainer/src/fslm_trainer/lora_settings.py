"""LoRA settings checks that need no peft import."""

from __future__ import annotations

from .config import LoraSettings
from .exitcodes import BadInput


def check_settings(s: LoraSettings) -> None:
    if s.rank < 1:
        raise BadInput(f"LoRA rank must be a positive integer, got {s.rank}")
    if s.alpha <= 0:
        raise BadInput(f"LoRA alpha must be positive, got {s.alpha}")
    if not 0 <= s.dropout < 1:
        raise BadInput(f"LoRA dropout must be in [0, 1), got {s.dropout}")
