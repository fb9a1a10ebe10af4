"""PyTorch reference for log-probabilities: reads {"model": HF dir, "top": k, "cases": [...]} as JSON on
stdin and prints, per case, the continuations' token ids, log_softmax log-probabilities, top-k and
whether each token is the arg-max, computed in float32 on the model's own weights.

A case is {"prompt": str} or {"messages": [...]} (rendered with the chat template and the generation
prompt, tokenized without added special tokens) with "continuations": [str], split as lm-eval splits
a context and its continuation (the continuation's tokens are those of prompt + continuation beyond
the prompt's own tokens); or {"prompt_ids": [...], "continuation_ids": [...]} taken as they are."""

import json
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def main() -> None:
    req = json.load(sys.stdin)
    tok = AutoTokenizer.from_pretrained(req["model"])
    model = AutoModelForCausalLM.from_pretrained(req["model"], dtype=torch.float32).eval()
    top = int(req.get("top", 0))
    out = []
    for case in req["cases"]:
        if "prompt_ids" in case:
            pairs = [(list(case["prompt_ids"]), list(case["continuation_ids"]))]
        else:
            if "messages" in case:
                text = tok.apply_chat_template(case["messages"], tokenize=False, add_generation_prompt=True)
                enc = lambda s: tok(s, add_special_tokens=False)["input_ids"]  # noqa: E731
            else:
                text = case["prompt"]
                enc = lambda s: tok(s)["input_ids"]  # noqa: E731
            ctx = enc(text)
            pairs = [(ctx, enc(text + c)[len(ctx):]) for c in case["continuations"]]
        scored = []
        for ctx, cont in pairs:
            with torch.no_grad():
                logits = model(torch.tensor([ctx + cont])).logits[0].float()
            logp = torch.log_softmax(logits, dim=-1)
            rows = logp[len(ctx) - 1:len(ctx) + len(cont) - 1]
            ids = torch.tensor(cont)
            chosen = rows.gather(1, ids[:, None])[:, 0]
            tops = rows.topk(top, dim=-1) if top else None
            scored.append({
                "prompt_ids": ctx, "ids": cont, "logprobs": chosen.tolist(), "sum": float(chosen.sum()),
                "greedy": bool((rows.argmax(-1) == ids).all()),
                "top_ids": tops.indices.tolist() if tops else [], "top_logprobs": tops.values.tolist() if tops else [],
            })
        out.append(scored)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
