"""export: HF causal-LM directory -> stage artifact (Optimum layout + fslm.json), checked in onnxruntime."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

from .base import base_provenance, check_causal_lm
from .config import ArtifactExtras, ExportConfig
from .exitcodes import TrainerError
from .log import log
from .manifest import build_manifest, write_manifest
from .onnx_export import export_decoder
from .outdir import staged_dir
from .prompts import render, usable
from .fidelity import fidelity
from .quantize import VARIANTS, build_variant
from .steppers import OrtStepper, TorchStepper, greedy
from .tokenizer_files import adds_bos, copy_tokenizer_files, finalize_tokenizer_dir

FP32 = "onnx/model.onnx"
PARITY_LIMIT = 1e-2  # max abs logit difference ORT vs PyTorch that still counts as a correct export
CHECK_STEPS = 8
FIDELITY_TOKENS = 32  # greedy steps per reference prompt when a quantized variant is compared with fp32


def _ids(value) -> list[int]:
    if value is None:
        return []
    return [int(v) for v in (value if isinstance(value, (list, tuple)) else [value])]


def decoder_facts(model, gen: GenerationConfig, geometry: dict) -> dict:
    text = model.config.get_text_config()
    bos = gen.bos_token_id if gen.bos_token_id is not None else getattr(text, "bos_token_id", None)
    pad = gen.pad_token_id if gen.pad_token_id is not None else getattr(text, "pad_token_id", None)
    return {
        "num_layers": geometry["num_layers"],
        "num_key_value_heads": geometry["num_key_value_heads"],
        "head_dim": geometry["head_dim"],
        "vocab_size": int(text.vocab_size),
        "eos_token_ids": _ids(gen.eos_token_id if gen.eos_token_id is not None else text.eos_token_id),
        "bos_token_id": None if bos is None else int(bos),
        "pad_token_id": None if pad is None else int(pad),
        "dtype": "float32",
        "max_position_embeddings": getattr(text, "max_position_embeddings", None),
        # How attention was exported: "grouped" (export_attention.py) or the model's own ("native").
        "attention": geometry.get("attention", "native"),
    }


def check_parity(model, onnx_path: Path, prompt: list[int]) -> float:
    """Greedy from past_len 0 at batch 1 (prefill, then seq-1 steps) in ORT and PyTorch; max abs
    logit difference. Also a 1-token prefill (batch 1, seq 1, empty past)."""
    session = OrtStepper(onnx_path).session  # one ORT session; each stepper keeps its own KV cache
    ids_t, rows_t = greedy(TorchStepper(model), prompt, CHECK_STEPS)
    ids_o, rows_o = greedy(OrtStepper(None, session=session), prompt, CHECK_STEPS)
    one = np.asarray([prompt[:1]], dtype=np.int64)
    single = np.abs(TorchStepper(model)(one, np.ones_like(one))
                    - OrtStepper(None, session=session)(one, np.ones_like(one))).max()
    diff = float(max(np.abs(rows_t - rows_o).max(), single))
    if not diff <= PARITY_LIMIT:
        raise TrainerError(f"ONNX export disagrees with PyTorch: max abs logit diff {diff} > {PARITY_LIMIT}")
    if ids_t != ids_o:
        log(f"warning: greedy ids differ ORT {ids_o} vs PyTorch {ids_t} (near-tie logits)")
    return diff


def _base_model(cfg: ExportConfig) -> str:
    if cfg.base_model:
        return cfg.base_model
    return base_provenance(cfg.model, cfg.model.resolve().name)


def export_artifact(cfg: ExportConfig, extras: ArtifactExtras | None = None) -> dict:
    """Writes the artifact; `extras` (from finetune) adds files (the adapter's), the adapter's
    description, the training run, its trace id and training metrics to it and to fslm.json."""
    extras = extras or ArtifactExtras()
    config = check_causal_lm(cfg.model)
    tokenizer = AutoTokenizer.from_pretrained(cfg.model)
    model = AutoModelForCausalLM.from_pretrained(cfg.model, dtype=torch.float32).eval()
    gen = model.generation_config
    prompts = {p.name: render(p, tokenizer)[1] for p in usable(tokenizer)}
    metrics: dict = dict(extras.metrics)
    with staged_dir(cfg.out) as tmp:
        for rel, src in extras.files.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, tmp / rel)
        shutil.copy2(cfg.model / "config.json", tmp / "config.json")
        gen.save_pretrained(tmp)
        copy_tokenizer_files(cfg.model, tmp)
        finalize_tokenizer_dir(tmp, add_bos_token=adds_bos(tokenizer))
        log("exporting onnx/model.onnx")
        geometry = export_decoder(model, tmp / FP32, opset=cfg.opset)
        diff = check_parity(model, tmp / FP32, next(iter(prompts.values())))
        metrics["onnx_fp32_max_abs_logit_diff"] = diff
        log(f"onnxruntime vs PyTorch: max abs logit diff {diff:.3g} (past_len 0 and seq 1 included)")
        onnx_files = {"fp32": FP32}
        variants = {"fp32": {
            "file": FP32, "bits": 32, "method": f"torch.onnx.export (dynamo, opset {cfg.opset}) of the float32 model",
            "attention": geometry["attention"], "kv_cache": "concat",
            "fidelity": {"onnxruntime_vs_pytorch_max_abs_logit_diff": diff},
        }}
        for precision in cfg.precisions:
            variant = VARIANTS[precision]
            log(f"building {variant.file} ({precision}) with onnxruntime-genai's model builder")
            info = build_variant(cfg.model, tmp / variant.file, variant)
            fid = fidelity(tmp / FP32, tmp / variant.file, prompts, FIDELITY_TOKENS)
            for name, d in fid["prompts"].items():
                log(f"{precision} vs fp32 {name}: first differing greedy token {d['first_divergence']} of {FIDELITY_TOKENS}, "
                    f"teacher-forced top-1 agreement {d['teacher_forced_agreement']:.2f}, prefill logit error "
                    f"max {d['prefill_max_abs_logit_error']:.3g} mean {d['prefill_mean_abs_logit_error']:.3g}")
            variants[precision] = {**info, "fidelity": fid}
            metrics[f"fidelity_{precision}"] = fid["summary"]
            onnx_files[precision] = variant.file
        manifest = build_manifest(
            tmp,
            name=cfg.name or cfg.out.name,
            stage=cfg.stage,
            base_model=_base_model(cfg),
            architecture=(config.architectures or [type(model).__name__])[0],
            decoder=decoder_facts(model, gen, geometry),
            onnx=onnx_files,
            variants=variants,
            adapter=extras.adapter,
            training_run=extras.training_run,
            trace_id=extras.trace_id,
            metrics=metrics,
        )
        write_manifest(tmp, manifest)
    return manifest
