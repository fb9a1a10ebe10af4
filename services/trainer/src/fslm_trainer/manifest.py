"""The stage artifact's manifest, fslm.json: file hashes, model facts, provenance; and its check."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from pathlib import Path
from typing import Any

from .exitcodes import BadInput
from .outdir import atomic_write_text

MANIFEST = "fslm.json"
FORMAT = 1


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def hash_tree(root: Path) -> dict[str, str]:
    """sha256 of every file under root except the manifest, keyed by '/'-separated relative path."""
    out: dict[str, str] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel != MANIFEST:
            out[rel] = sha256_file(path)
    return out


def build_manifest(
    root: Path,
    *,
    name: str,
    base_model: str,
    architecture: str,
    decoder: dict[str, Any],
    onnx: dict[str, str],
    variants: dict[str, Any] | None = None,
    stage: str = "",
    adapter: Any = None,
    training_run: Any = None,
    trace_id: str | None = None,
    metrics: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "name": name,
        "stage": stage,
        "base_model": base_model,
        "architecture": architecture,
        "adapter": adapter,
        "training_run": training_run,
        "trace_id": trace_id,
        "decoder": decoder,
        "onnx": onnx,
        # Per precision: how its file was made (method, bits, block size, attention, cache layout) and its
        # fidelity to fp32 on the reference prompts.
        "variants": variants or {},
        "files": hash_tree(root),
        "metrics": metrics or {},
        "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def write_manifest(root: Path, manifest: dict[str, Any]) -> Path:
    """Writes fslm.json atomically. Call it last: its presence marks the artifact complete."""
    atomic_write_text(root / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return root / MANIFEST


def read_manifest(root: Path) -> dict[str, Any]:
    path = root / MANIFEST
    if not path.is_file():
        raise BadInput(f"{root} has no {MANIFEST}: not a complete fslm artifact")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise BadInput(f"{path} is not valid JSON: {e}") from e
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise BadInput(f"{path}: unsupported manifest (format {manifest.get('format')!r})")
    return manifest


def verify_artifact(root: Path) -> dict[str, Any]:
    """Raises BadInput naming the first file that is missing, changed or not listed."""
    manifest = read_manifest(root)
    listed: dict[str, str] = manifest["files"]
    for rel, want in sorted(listed.items()):
        path = root / rel
        if not path.is_file():
            raise BadInput(f"{rel}: listed in {MANIFEST} but missing")
        got = sha256_file(path)
        if got != want:
            raise BadInput(f"{rel}: sha256 {got} does not match {MANIFEST} ({want})")
    extra = sorted(set(hash_tree(root)) - set(listed))
    if extra:
        raise BadInput(f"{extra[0]}: present but not listed in {MANIFEST}")
    return manifest
