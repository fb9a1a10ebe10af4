"""Adapters as shipped files, apart from the models they were trained into.

- `adapter-pack`: a fine-tuned stage artifact (finetune's output) -> a small directory to keep in a
  repository: peft's `adapter_config.json` and `adapter_model.safetensors` (weights stored as float16,
  half the size of training's float32) and `training.json` (the adapter version, the LoRA settings,
  training metrics, seed, steps, data sha256, the base model and the sha256 of its weights, the
  trainer's version).
- `adapter-merge`: such a directory + its base -> a stage artifact: the adapter folded into the base
  (float32), exported as `export` does; `fslm.json` `adapter` carries training.json's record, with
  `version`, which the stage reports as the version of the adapter it serves.

The adapter version is the sha256 of the adapter's files: of the lines `<sha256>  <name>` of
adapter_config.json and adapter_model.safetensors, in that order (what `sha256sum` prints for them).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from .exitcodes import BadInput
from .log import log
from .manifest import read_manifest, sha256_file
from .outdir import staged_dir

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")  # as merge.save_adapter writes them
TRAINING = "training.json"
PACK_FORMAT = 1
TRAINER_SRC = Path(__file__).resolve().parent


def adapter_version(directory: Path) -> str:
    """sha256 over the adapter's files (module docstring); BadInput when one is missing."""
    lines = []
    for name in ADAPTER_FILES:
        path = directory / name
        if not path.is_file():
            raise BadInput(f"{directory} is not an adapter directory: {name} is missing")
        lines.append(f"{sha256_file(path)}  {name}\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def weights_sha256(base_dir: Path) -> dict[str, str]:
    """sha256 of each weights file (*.safetensors) of an HF directory, by file name."""
    files = sorted(base_dir.glob("*.safetensors"))
    if not files:
        raise BadInput(f"{base_dir} holds no *.safetensors weights")
    return {p.name: sha256_file(p) for p in files}


def trainer_version() -> dict:
    """The trainer package's version and the sha256 of its sources (sorted `<sha256>  <path>` lines)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        package = version("fslm-trainer")
    except PackageNotFoundError:  # run from the checkout's src/ (scripts/lib.sh), not installed
        package = "source"
    lines = [f"{sha256_file(p)}  {p.relative_to(TRAINER_SRC).as_posix()}\n"
             for p in sorted(TRAINER_SRC.rglob("*.py")) if "__pycache__" not in p.parts]
    return {"package": package, "sources_sha256": hashlib.sha256("".join(lines).encode()).hexdigest()}


def _float16(src: Path, dst: Path) -> None:
    from safetensors.torch import load_file, save_file
    import torch

    tensors = {k: (v.to(torch.float16) if v.is_floating_point() else v) for k, v in load_file(src).items()}
    save_file({k: v.contiguous() for k, v in tensors.items()}, dst, metadata={"format": "pt"})


def pack_adapter(artifact: Path, out: Path, base_model: str) -> dict:
    """Writes `out` (adapter files + training.json; an earlier pack there is replaced) from a finetune
    artifact and returns training.json's record. BadInput when the artifact holds no adapter."""
    from .base_source import resolve_base

    manifest = read_manifest(artifact)
    adapter = manifest.get("adapter")
    if not isinstance(adapter, dict) or not all((artifact / "adapter" / n).is_file() for n in ADAPTER_FILES):
        raise BadInput(f"{artifact} holds no LoRA adapter (adapter/ and fslm.json `adapter`): not a finetune output")
    base_dir, provenance = resolve_base(base_model)
    if out.is_dir() and (out / TRAINING).is_file():
        shutil.rmtree(out)  # an earlier pack: replaced (anything else non-empty is refused by staged_dir)
    with staged_dir(out) as tmp:
        shutil.copy2(artifact / "adapter" / "adapter_config.json", tmp / "adapter_config.json")
        _float16(artifact / "adapter" / "adapter_model.safetensors", tmp / "adapter_model.safetensors")
        record = {
            "format": PACK_FORMAT,
            "version": adapter_version(tmp),
            "stage": manifest.get("stage", ""),
            "training_run": manifest.get("training_run"),
            "storage": "float16",
            "base": {"name": Path(base_model).name,
                     "provenance": provenance, "weights_sha256": weights_sha256(base_dir)},
            "adapter": {k: v for k, v in adapter.items() if k not in ("files", "merged")},
            "metrics": {k: v for k, v in (manifest.get("metrics") or {}).items() if not k.startswith(("fidelity_", "onnx_"))},
            "trainer": trainer_version(),
            "source_artifact_version": sha256_file(artifact / "fslm.json"),
        }
        (tmp / TRAINING).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    log(f"adapter {record['version'][:12]} of stage {record['stage']!r} packed into {out}")
    return record


def read_pack(directory: Path) -> dict:
    """training.json of an adapter directory, checked against the files beside it."""
    path = directory / TRAINING
    if not path.is_file():
        raise BadInput(f"{directory} is not a packed adapter: {TRAINING} is missing (adapter-pack writes it)")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise BadInput(f"{path} is not valid JSON: {e}") from e
    if record.get("format") != PACK_FORMAT or not isinstance(record.get("base"), dict):
        raise BadInput(f"{path}: unsupported format {record.get('format')!r}")
    got = adapter_version(directory)
    if got != record.get("version"):
        raise BadInput(f"{directory}: the adapter files' version {got[:12]} is not the one {TRAINING} records "
                       f"({str(record.get('version'))[:12]}): the files changed after packing")
    return record


def merge_adapter(adapter_dir: Path, base_model: str, out: Path, *, name: str = "", stage: str = "",
                  int8: bool = False, int4: bool = False) -> dict:
    """The adapter folded into its base and exported (fslm.json `adapter.version` set); the manifest.
    BadInput when the adapter directory is incomplete or changed, or the base's weights are not the
    ones the adapter was trained on."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from .base_source import resolve_base
    from .config import ArtifactExtras
    from .merge import export_stage, save_merged

    record = read_pack(adapter_dir)
    base_dir, provenance = resolve_base(base_model)
    want = record["base"].get("weights_sha256")
    if want and weights_sha256(base_dir) != want:
        raise BadInput(f"base {base_model!r} is not the model adapter {record['version'][:12]} was trained on "
                       f"(its weights' sha256 differ from {TRAINING}'s base.weights_sha256)")
    log(f"merging adapter {record['version'][:12]} into {base_dir}")
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    peft_model = PeftModel.from_pretrained(model, adapter_dir, torch_dtype=torch.float32)
    merged = out.parent / f".{out.name}.merged"
    try:
        save_merged(peft_model, tokenizer, model.generation_config, base_dir, merged, provenance, None)
        info = {**record["adapter"], "version": record["version"], "storage": record.get("storage"),
                "base_weights_sha256": want, "trainer": record.get("trainer"), "merged": True,
                "files": [f"adapter/{n}" for n in (*ADAPTER_FILES, TRAINING)]}
        extras = ArtifactExtras(files={f"adapter/{n}": adapter_dir / n for n in (*ADAPTER_FILES, TRAINING)},
                                adapter=info, training_run=record.get("training_run"), metrics=record.get("metrics") or {})
        manifest = export_stage(merged, out, name=name or out.name, stage=stage or record.get("stage", ""),
                                base_model=provenance, int8=int8, int4=int4, extras=extras)
    finally:
        shutil.rmtree(merged, ignore_errors=True)
    return manifest
