"""The greedy loop of the trainer (fslm_trainer.steppers: pure arg-max, no EOS stop) in onnxruntime's
Python API, on one ONNX file: what the stage engine must reproduce on the same file.

usage: ort_greedy.py --model FILE --prompts IDS.json --tokens N --out DIR
IDS.json holds a list of prompts (lists of token ids). DIR gets greedy.json ({"ids": [[...], ...]}) and
logits.f32 (little-endian float32, per prompt N + 1 rows x vocab: row 0 the prefill's last position,
row j the logits after feeding greedy token j - 1). Needs PYTHONPATH=services/trainer/src.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from fslm_trainer.steppers import OrtStepper, greedy


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--prompts", required=True)
    parser.add_argument("--tokens", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    prompts = json.loads(Path(args.prompts).read_text())
    session = OrtStepper(args.model).session
    ids, rows = [], []
    for prompt in prompts:
        out, logits = greedy(OrtStepper(None, session=session), prompt, args.tokens)
        ids.append(out)
        rows.append(logits)
    out_dir = Path(args.out)
    np.concatenate(rows).astype("<f4").tofile(out_dir / "logits.f32")
    (out_dir / "greedy.json").write_text(json.dumps({"ids": ids}))


if __name__ == "__main__":
    main()
