"""finetune on the tiny model: the loss falls, a killed run resumes from its checkpoint at the same
step with the same numbers, and the merged export loads in the TypeScript stage and generates."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys

import pytest

from conftest import json_lines, run_cli, serve_and_generate, write_jsonl
from support.processes import EventReader, stop, stopped_at_exit
from fslm_trainer.manifest import verify_artifact

SYSTEM = "You add numbers."


def sums(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        a, b = rng.randint(2, 40), rng.randint(2, 40)
        rows.append({"stage": "final", "system": SYSTEM, "prompt": f"What is {a} plus {b}?",
                     "completion": f"{a} plus {b} is {a + b}."})
    return rows


def args(data, base, out, steps, *extra):
    return ["finetune", "--data", data, "--base-model", base, "--out", out, "--stage", "final",
            "--max-steps", str(steps), "--checkpoint-every", "2", "--batch-size", "4", "--lr", "1e-2",
            "--max-length", "64", "--eval-fraction", "0.2", "--threads", "1", *map(str, extra)]


def steps_of(lines):
    return {r["step"]: r["loss"] for r in lines if r.get("event") == "step"}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_jsonl(tmp_path_factory.mktemp("data") / "final.jsonl", sums(48))


@pytest.fixture(scope="module")
def uninterrupted(models, data, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "art"
    run = run_cli(*args(data, models["tiny"], out, 30))
    assert run.returncode == 0, run.stderr[-3000:]
    return out, json_lines(run.stdout)


def test_the_loss_falls_and_the_artifact_records_the_adapter_metrics_and_trace(uninterrupted):
    out, lines = uninterrupted
    losses = steps_of(lines)
    assert sorted(losses) == list(range(1, 31))
    assert sum(losses[s] for s in range(26, 31)) / 5 < 0.8 * sum(losses[s] for s in range(1, 6)) / 5
    done = lines[-1]
    assert done["event"] == "done" and done["resumed_from"] == 0
    m = verify_artifact(out)
    assert m["stage"] == "final"
    assert m["metrics"]["eval_loss"] < m["metrics"]["eval_loss_initial"]
    assert m["metrics"]["steps"] == 30 and m["metrics"]["eval_rows"] == 10
    assert m["adapter"]["rank"] == 8 and m["adapter"]["target_spec"] == "all-linear"
    assert set(m["adapter"]["target_modules"]) == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
    assert {"adapter/adapter_config.json", "adapter/adapter_model.safetensors"} <= set(m["files"])
    assert m["trace_id"] == done["trace_id"] and len(m["trace_id"]) == 32


def test_progress_lines_carry_step_loss_learning_rate_throughput_and_eta(uninterrupted):
    _, lines = uninterrupted
    step = next(r for r in lines if r.get("event") == "step" and r["step"] == 10)
    assert step["total"] == 30 and step["lr"] > 0 and step["tokens_per_s"] > 0 and step["eta_s"] >= 0
    assert step["eval_loss"] is not None and step["trace_id"]


def test_a_killed_run_resumes_from_its_latest_checkpoint_with_identical_losses(models, data, uninterrupted, tmp_path):
    _, ref_lines = uninterrupted
    ref = steps_of(ref_lines)
    out = tmp_path / "art"
    cmd = [sys.executable, "-m", "fslm_trainer", *map(str, args(data, models["tiny"], out, 30))]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    with stopped_at_exit(proc, grace_s=5):
        EventReader(proc).wait_for(lambda e: e.get("event") == "checkpoint" and e["step"] >= 6, 300,
                                   "a checkpoint at step 6 or later")
        stop(proc, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    ckpts = sorted((tmp_path / ".art.work" / "checkpoints").glob("step-*.pt"))
    latest = int(ckpts[-1].stem.split("-")[1])
    assert 6 <= latest < 30

    again = run_cli(*args(data, models["tiny"], out, 30))
    assert again.returncode == 0, again.stderr[-3000:]
    lines = json_lines(again.stdout)
    assert [r["step"] for r in lines if r["event"] == "resumed"] == [latest]
    resumed = steps_of(lines)
    assert min(resumed) == latest + 1 and max(resumed) == 30
    for s, loss in resumed.items():
        assert loss == pytest.approx(ref[s], rel=1e-5, abs=1e-6), s
    assert lines[-1]["resumed_from"] == latest
    assert not (tmp_path / ".art.work" / "checkpoints").exists()  # cleaned up once the artifact is written

    # A third run finds the finished artifact and returns it without training.
    third = run_cli(*args(data, models["tiny"], out, 30))
    assert third.returncode == 0 and json_lines(third.stdout)[-1]["cached"] is True


def test_the_merged_export_loads_in_the_typescript_stage_and_generates(uninterrupted, tmp_path):
    out, lines = uninterrupted
    asks = [{"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "What is 3 plus 4?"}],
             "max_new_tokens": 8}]
    served = serve_and_generate(out, asks, tmp_path)
    assert served["describe"]["stage"] == "final"
    assert served["describe"]["trace_id"] == lines[-1]["trace_id"]
    assert served["describe"]["metrics"]["steps"] == 30
    assert served["results"][0]["completion_tokens"] >= 1 and served["results"][0]["text"]


def test_a_base_without_a_chat_template_gets_one_that_the_stage_renders_the_same_way(models, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, GPTNeoXConfig

    from fslm_trainer.tokenizer_files import copy_tokenizer_files

    config = GPTNeoXConfig(vocab_size=49152, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                           num_attention_heads=4, max_position_embeddings=256, rotary_pct=0.25,
                           architectures=["GPTNeoXForCausalLM"], bos_token_id=1, eos_token_id=2, pad_token_id=2)
    torch.manual_seed(0)
    base = tmp_path / "neox"
    AutoModelForCausalLM.from_config(config).save_pretrained(base)
    copy_tokenizer_files(models["tiny"], base)
    (base / "chat_template.jinja").unlink(missing_ok=True)
    cfg = json.loads((base / "tokenizer_config.json").read_text())
    cfg.pop("chat_template", None)
    (base / "tokenizer_config.json").write_text(json.dumps(cfg))

    data = write_jsonl(tmp_path / "final.jsonl", sums(8))
    run = run_cli("finetune", "--data", data, "--base-model", base, "--out", tmp_path / "art", "--max-steps", "2",
                  "--lora-targets", "auto", "--max-length", "64", "--threads", "1")
    assert run.returncode == 0, run.stderr[-3000:]
    manifest = verify_artifact(tmp_path / "art")
    assert manifest["adapter"]["target_modules"] == ["query_key_value"]
    assert manifest["adapter"]["training"]["chat_template"] == "fallback"
    assert "### Instruction:" in json.loads((tmp_path / "art/tokenizer_config.json").read_text())["chat_template"]
    asks = [{"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "What is 3 plus 4?"}],
             "max_new_tokens": 4}]
    served = serve_and_generate(tmp_path / "art", asks, tmp_path)
    assert served["results"][0]["completion_tokens"] >= 1
