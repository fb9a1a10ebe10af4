"""Where the checkout's parts are: the repository root, the wire definitions and the fslm command."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[4]
PROTO_DIR = REPO_ROOT / "proto"
FSLM_BIN = REPO_ROOT / "bin" / "fslm.js"
HELD_OUT_TASKS = REPO_ROOT / "evals" / "tasks"


def node() -> str:
    """The Node.js that runs fslm (FSLM_NODE, set by `fslm eval`; else `node` on PATH)."""
    return os.environ.get("FSLM_NODE") or "node"
