"""P9 peer: HF transformers generate() on PyTorch CPU with the same weights; prints per-token decode ms as JSON."""
import argparse
import json
import statistics
import time

import torch
from transformers import AutoModelForCausalLM


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--ids", required=True, help="JSON list of prompt token ids")
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32).eval()
    ids = torch.tensor([json.loads(args.ids)], dtype=torch.long)

    def generate(n: int) -> tuple[float, list[int]]:
        start = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=n, min_new_tokens=n,
                                 do_sample=False, pad_token_id=0)
        return (time.perf_counter() - start) * 1000, out[0, ids.shape[1]:].tolist()

    generate(2)
    samples = []
    tokens: list[int] = []
    for _ in range(args.rounds):
        one, _ = generate(1)
        many, tokens = generate(args.tokens)
        samples.append((many - one) / (args.tokens - 1))
    print(json.dumps({"ms_per_token": statistics.median(samples), "samples": samples, "ids": tokens,
                      "torch": torch.__version__, "threads": args.threads}))


if __name__ == "__main__":
    main()
