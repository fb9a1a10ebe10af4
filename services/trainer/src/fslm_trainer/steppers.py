"""One decoder step with a KV cache, the same interface for PyTorch and ONNX Runtime, and the greedy loop.

A stepper takes the new tokens and the attention mask over everything so far (past + new), derives
position ids from the mask (left padding aware) and keeps its own cache.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def position_ids(attention_mask: np.ndarray, new: int) -> np.ndarray:
    pos = np.cumsum(attention_mask, axis=1) - 1
    return np.clip(pos, 0, None)[:, -new:].astype(np.int64)


def left_pad(prompts: list[list[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(p) for p in prompts)
    ids = np.full((len(prompts), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(prompts), width), dtype=np.int64)
    for row, p in enumerate(prompts):
        ids[row, width - len(p):] = p
        mask[row, width - len(p):] = 1
    return ids, mask


class TorchStepper:
    def __init__(self, model):
        self.model = model
        self.cache = None

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            out = self.model(
                input_ids=torch.from_numpy(input_ids),
                attention_mask=torch.from_numpy(attention_mask),
                position_ids=torch.from_numpy(position_ids(attention_mask, input_ids.shape[1])),
                past_key_values=self.cache,
                use_cache=True,
            )
        self.cache = out.past_key_values
        return out.logits.float().numpy()


class OrtStepper:
    """Runs an exported onnx/model.onnx; the first call feeds empty past tensors (past_len 0).

    A graph without a position_ids input (GroupQueryAttention with rotary inside) takes positions from
    the mask's row sums, which holds for right-aligned rows without padding (batch 1, or equal lengths)."""

    def __init__(self, path: Path | str, threads: int = 1, session=None):
        import onnxruntime as ort

        if session is None:
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.session = session
        pasts = [i for i in session.get_inputs() if i.name.startswith("past_key_values.")]
        self.past_names = [i.name for i in pasts]
        shape = pasts[0].shape  # [batch, kv_heads, past, head_dim]
        self.kv_heads, self.head_dim = int(shape[1]), int(shape[3])
        self.present_names = [o.name for o in session.get_outputs() if o.name.startswith("present.")]
        # Graphs with fused attention (GroupQueryAttention) derive positions from the mask instead.
        self.takes_positions = any(i.name == "position_ids" for i in session.get_inputs())
        self.past: list[np.ndarray] | None = None

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        batch = input_ids.shape[0]
        if self.past is None:
            empty = np.zeros((batch, self.kv_heads, 0, self.head_dim), dtype=np.float32)
            self.past = [empty] * len(self.past_names)
        feed = {
            "input_ids": input_ids.astype(np.int64),
            "attention_mask": attention_mask.astype(np.int64),
            **dict(zip(self.past_names, self.past)),
        }
        if self.takes_positions:
            feed["position_ids"] = position_ids(attention_mask, input_ids.shape[1])
        logits, *present = self.session.run(["logits", *self.present_names], feed)
        self.past = present
        return logits


def greedy(stepper, prompt: list[int], tokens: int) -> tuple[list[int], np.ndarray]:
    """Pure argmax for `tokens` steps with no EOS stop (EOS, if chosen, is kept and fed back).

    Returns the ids and tokens+1 logit rows: row 0 is the prefill's last position, row j the
    logits after feeding greedy token j-1 (so greedy id j = argmax of row j; the last row is spare).
    """
    ids = np.asarray([prompt], dtype=np.int64)
    mask = np.ones_like(ids)
    rows = [stepper(ids, mask)[0, -1]]
    out: list[int] = []
    for _ in range(tokens):
        tok = int(np.argmax(rows[-1]))
        out.append(tok)
        mask = np.concatenate([mask, np.ones((1, 1), dtype=np.int64)], axis=1)
        rows.append(stepper(np.asarray([[tok]], dtype=np.int64), mask)[0, -1])
    return out, np.stack(rows).astype(np.float32)
