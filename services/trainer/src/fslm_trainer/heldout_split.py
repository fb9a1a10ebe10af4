"""Which items are held out for evaluation and never used in training: a stable hash of an item's key
(sha256, so it is the same on every machine and Python version) puts HELD_OUT_PERCENT of all keys in
the held-out part. The training recipes skip held-out keys; `fslm trainer heldout` builds the
evaluation sets from held-out keys only.

Keys name what an item is about, not its wording, so that no phrasing of it reaches training:
    wordnet:<word>                       a WordNet word (its meaning, usage, synonyms)
    arith:<structure>:<n1>,<n2>,...      an arithmetic problem's structure and operands
    instr:<kind>:<material>              a short instruction and what it works on
"""

from __future__ import annotations

import hashlib

SALT = "fslm-heldout-v1"
HELD_OUT_PERCENT = 10


def bucket(key: str) -> int:
    """0-99, the same for a key on every machine."""
    return int.from_bytes(hashlib.sha256(f"{SALT}:{key}".encode("utf-8")).digest()[:8], "big") % 100


def is_held_out(key: str) -> bool:
    return bucket(key) < HELD_OUT_PERCENT


def wordnet_key(word: str) -> str:
    return f"wordnet:{word.lower()}"


def arith_key(structure: str, operands: tuple[int, ...]) -> str:
    return f"arith:{structure}:{','.join(str(n) for n in operands)}"


def instruction_key(kind: str, material: str) -> str:
    return f"instr:{kind}:{material}"
