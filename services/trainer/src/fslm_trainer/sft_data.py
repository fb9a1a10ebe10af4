"""One stage's training rows -> token ids with the loss on the completion only, a held-out slice,
and a deterministic batch order (a function of the seed and the step, so a restart resumes it).

A row is tokenized exactly as the stage engine will see it at serving time: its messages (sft_rows.py:
what the stage is asked) through the chat template with the generation prompt, tokenized as the stage
tokenizes them (chat_render.py: special tokens from the template's markup only, message text as plain
text), then the completion (plain text too) and the end-of-turn token.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .chat_render import PromptTokenizer
from .exitcodes import BadInput

IGNORE = -100
# For bases without a chat template (Pythia, GPT-2): a plain one, written into the artifact too, so
# the stage renders messages exactly as they were trained.
FALLBACK_CHAT_TEMPLATE = (
    "{% for m in messages %}{% if m['role'] == 'system' %}{{ m['content'] }}\n\n"
    "{% elif m['role'] == 'user' %}### Instruction:\n{{ m['content'] }}\n\n"
    "{% else %}### Response:\n{{ m['content'] }}{{ eos_token }}\n\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}### Response:\n{% endif %}"
)


@dataclass(frozen=True)
class Example:
    input_ids: list[int]
    labels: list[int]

    @property
    def tokens(self) -> int:
        return len(self.input_ids)


@dataclass(frozen=True)
class Dataset:
    train: list[Example]
    eval: list[Example]
    rows: int
    dropped_too_long: int
    truncated: int


def eos_id(tokenizer, generation_config) -> int:
    eos = generation_config.eos_token_id if generation_config.eos_token_id is not None else tokenizer.eos_token_id
    if isinstance(eos, (list, tuple)):
        eos = eos[0] if eos else None
    if eos is None:
        raise BadInput("the base model has no end-of-sequence token (generation_config / tokenizer eos_token_id)")
    return int(eos)


def ensure_chat_template(tokenizer) -> bool:
    """Installs the fallback template when the tokenizer has none; True when it did."""
    if getattr(tokenizer, "chat_template", None):
        return False
    tokenizer.chat_template = FALLBACK_CHAT_TEMPLATE
    return True


def encode(row: dict, tokenizer: PromptTokenizer, eos: int, max_length: int) -> tuple[Example | None, bool]:
    """(example, truncated) for a row with "messages" (sft_rows.load_rows); None when the prompt alone
    leaves no room for a completion."""
    prompt = tokenizer.prompt_ids(row["messages"])
    completion = tokenizer.plain(row["completion"]) + [eos]
    room = max_length - len(prompt)
    if room < min(8, len(completion)):
        return None, False
    truncated = len(completion) > room
    completion = completion[:room]
    return Example(prompt + completion, [IGNORE] * len(prompt) + completion), truncated


def build_dataset(rows: list[dict], tokenizer, eos: int, max_length: int, eval_fraction: float,
                  eval_max_rows: int, seed: int) -> Dataset:
    examples: list[Example] = []
    dropped = truncated = 0
    prompts = PromptTokenizer(tokenizer)
    for row in rows:
        ex, cut = encode(row, prompts, eos, max_length)
        if ex is None:
            dropped += 1
            continue
        truncated += cut
        examples.append(ex)
    if not examples:
        raise BadInput(f"no training row fits max_length {max_length} tokens ({dropped} prompts are longer)")
    order = np.random.default_rng(seed).permutation(len(examples))
    n_eval = 0 if len(examples) < 2 else min(eval_max_rows, max(1, round(len(examples) * eval_fraction)))
    n_eval = min(n_eval, len(examples) - 1) if eval_fraction > 0 else 0
    held = [examples[i] for i in order[:n_eval]]
    train = [examples[i] for i in order[n_eval:]]
    return Dataset(train, held, len(rows), dropped, truncated)


def micro_batch(ds: Dataset, seed: int, batch_size: int, index: int) -> list[Example]:
    """The index-th micro-batch of an endless sequence of epochs, each a fresh seeded permutation."""
    n = len(ds.train)
    per_epoch = max(1, -(-n // batch_size))
    epoch, k = divmod(index, per_epoch)
    order = np.random.default_rng([seed, epoch]).permutation(n)
    picked = order[k * batch_size:(k + 1) * batch_size]
    return [ds.train[i] for i in picked]


def collate(batch: list[Example], pad_id: int, device) -> dict[str, torch.Tensor]:
    width = max(e.tokens for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for r, e in enumerate(batch):
        ids[r, :e.tokens] = torch.tensor(e.input_ids)
        labels[r, :e.tokens] = torch.tensor(e.labels)
        mask[r, :e.tokens] = 1
    return {"input_ids": ids.to(device), "attention_mask": mask.to(device), "labels": labels.to(device)}
