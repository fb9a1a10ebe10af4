"""Where a fine-tune's base model comes from: an HF directory (path or file:// URI), a known base
(`smollm2-135m`, fetched once into $FSLM_CACHE/bases), or a Hugging Face hub id (`org/name`,
downloaded into the HF cache; needs network). Returns a local directory and a provenance string."""

from __future__ import annotations

import fcntl
import re
from pathlib import Path

from .base import base_provenance, check_causal_lm, fetch_known
from .config import KNOWN_BASES, cache_dir
from .exitcodes import BadInput, Unavailable
from .log import log
from .uri import local_path, scheme_of

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
HUB_FILES = ["*.json", "*.safetensors", "*.jinja", "tokenizer*", "*.txt", "*.model"]


def _known(name: str) -> Path:
    out = cache_dir() / "bases" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another job on this machine may be fetching it
        if not (out / "config.json").is_file():
            log(f"fetching base {name} into {out}")
            fetch_known(name, out)
    return out


def _hub(repo_id: str) -> Path:
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError
    except ImportError as e:  # pragma: no cover - transformers depends on it
        raise BadInput(f"base model {repo_id!r} is a hub id, but huggingface_hub is not installed") from e
    try:
        return Path(snapshot_download(repo_id, allow_patterns=HUB_FILES))
    except (RepositoryNotFoundError, GatedRepoError) as e:
        raise BadInput(f"base model {repo_id!r}: not found or not accessible on the Hugging Face hub ({e})") from e
    except Exception as e:  # connection refused, timeouts, offline mode without a cached copy
        raise Unavailable(f"base model {repo_id!r}: the Hugging Face hub cannot be reached ({e})") from e


def resolve_base(spec: str) -> tuple[Path, str]:
    """(local HF directory, provenance) of a base model; BadInput when it is not a causal LM."""
    if not spec:
        raise BadInput("no base model given")
    if spec in KNOWN_BASES:
        directory = _known(spec)
    elif scheme_of(spec) == "hf":
        directory = _hub(spec.split("://", 1)[1])
    else:
        directory = local_path(spec, "base model")
        if not directory.exists():
            if scheme_of(spec) == "" and _HUB_ID.match(spec):
                directory = _hub(spec)
            else:
                raise BadInput(f"base model {spec!r}: {directory} does not exist (nor is it a known base: "
                               f"{', '.join(KNOWN_BASES)})")
        elif not directory.is_dir():
            raise BadInput(f"base model {spec!r}: {directory} is not a directory")
    check_causal_lm(directory)
    return directory, base_provenance(directory, spec)
