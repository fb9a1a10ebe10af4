"""Adapters apart from their models: adapter-pack keeps a fine-tune's LoRA adapter as float16 files with
its training record, adapter-merge folds it into its base and exports a stage artifact whose fslm.json
and `fslm stage` Describe carry the adapter's version; a changed file or another base is refused."""

from __future__ import annotations

import hashlib
import json

import pytest

from conftest import json_lines, run_cli, serve_and_generate, write_jsonl
from fslm_trainer.manifest import sha256_file, verify_artifact
from test_finetune_tiny import SYSTEM, args, sums


def version_of(directory) -> str:
    """What `sha256sum adapter_config.json adapter_model.safetensors | sha256sum` prints."""
    lines = "".join(f"{sha256_file(directory / n)}  {n}\n" for n in ("adapter_config.json", "adapter_model.safetensors"))
    return hashlib.sha256(lines.encode()).hexdigest()


@pytest.fixture(scope="module")
def trained(models, tmp_path_factory):
    root = tmp_path_factory.mktemp("adapters")
    data = write_jsonl(root / "final.jsonl", sums(16))
    run = run_cli(*args(data, models["tiny"], root / "art", 4, "--seed", "7"))
    assert run.returncode == 0, run.stderr[-3000:]
    return root / "art", data


@pytest.fixture(scope="module")
def packed(models, trained):
    art, _ = trained
    out = art.parent / "packed"
    run = run_cli("adapter-pack", "--artifact", art, "--out", out, "--base-model", models["tiny"])
    assert run.returncode == 0, run.stderr[-3000:]
    return out, json_lines(run.stdout)[-1]


def test_finetune_records_its_adapters_version(trained):
    art, _ = trained
    manifest = verify_artifact(art)
    assert manifest["adapter"]["version"] == version_of(art / "adapter")


def test_a_packed_adapter_is_float16_with_its_training_record(models, trained, packed):
    from safetensors.torch import load_file

    art, data = trained
    out, result = packed
    record = json.loads((out / "training.json").read_text())
    assert result["version"] == record["version"] == version_of(out)
    tensors = load_file(out / "adapter_model.safetensors")
    assert tensors and all(str(t.dtype) == "torch.float16" for t in tensors.values())
    assert (out / "adapter_model.safetensors").stat().st_size < 0.6 * (art / "adapter/adapter_model.safetensors").stat().st_size
    training = record["adapter"]["training"]
    assert (training["seed"], training["max_steps"], training["data_sha256"]) == (7, 4, sha256_file(data))
    assert record["metrics"]["steps"] == 4 and record["metrics"]["train_loss"] > 0
    assert record["base"]["weights_sha256"] == {"model.safetensors": sha256_file(models["tiny"] / "model.safetensors")}
    assert record["stage"] == "final" and record["storage"] == "float16"
    assert len(record["trainer"]["sources_sha256"]) == 64
    again = run_cli("adapter-pack", "--artifact", art, "--out", out, "--base-model", models["tiny"])
    assert again.returncode == 0 and json_lines(again.stdout)[-1]["version"] == record["version"]  # replaced, same bytes


def test_the_merged_artifact_serves_and_its_stage_reports_the_adapter_version(models, packed, tmp_path):
    out, record = packed
    art = tmp_path / "merged"
    run = run_cli("adapter-merge", "--adapter", out, "--base-model", models["tiny"], "--out", art, "--name", "t-final")
    assert run.returncode == 0, run.stderr[-3000:]
    assert json_lines(run.stdout)[-1]["adapter_version"] == record["version"]
    manifest = verify_artifact(art)
    assert manifest["adapter"]["version"] == record["version"] and manifest["stage"] == "final"
    assert manifest["metrics"]["steps"] == 4
    assert sha256_file(art / "adapter/adapter_model.safetensors") == sha256_file(out / "adapter_model.safetensors")
    asks = [{"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "What is 3 plus 4?"}],
             "max_new_tokens": 4}]
    served = serve_and_generate(art, asks, tmp_path)
    assert served["describe"]["adapter_version"] == record["version"]
    assert served["results"][0]["completion_tokens"] >= 1


def test_a_changed_adapter_file_or_another_base_is_refused(models, packed, tmp_path):
    out, _ = packed
    other = tmp_path / "other-tiny"
    made = run_cli("make-tiny", "--tokenizer-from", models["smollm2-135m"], "--out", other, "--seed", "1")
    assert made.returncode == 0, made.stderr[-2000:]
    run = run_cli("adapter-merge", "--adapter", out, "--base-model", other, "--out", tmp_path / "a")
    assert run.returncode == 2 and "weights' sha256 differ" in run.stderr

    changed = tmp_path / "changed"
    changed.mkdir()
    for f in out.iterdir():
        changed.joinpath(f.name).write_bytes(f.read_bytes())
    cfg = json.loads((changed / "adapter_config.json").read_text())
    (changed / "adapter_config.json").write_text(json.dumps({**cfg, "r": 4}))
    run = run_cli("adapter-merge", "--adapter", changed, "--base-model", models["tiny"], "--out", tmp_path / "b")
    assert run.returncode == 2 and "the files changed after packing" in run.stderr
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_packing_something_that_is_not_a_finetune_output_exits_2(models, tmp_path):
    run = run_cli("adapter-pack", "--artifact", models["tiny-onnx"], "--out", tmp_path / "p", "--base-model", models["tiny"])
    assert run.returncode == 2 and "holds no LoRA adapter" in run.stderr
