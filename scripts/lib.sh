# Shared paths for fslm's scripts. Source it; it sets no options of its own.
FSLM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FSLM_CACHE="${FSLM_CACHE:-$HOME/.cache/fslm}"
FSLM_PY_REQ="$FSLM_ROOT/services/trainer/requirements.txt"
FSLM_VENV="$FSLM_CACHE/venv/$(cat "$FSLM_PY_REQ" "$FSLM_ROOT/services/trainer/pyproject.toml" | sha256sum | cut -c1-16)"
FSLM_PY="$FSLM_VENV/bin/python"
# The venv holds only third-party packages (it is shared by every checkout with the same pins); the
# trainer itself always runs from this checkout's sources.
FSLM_TRAINER_SRC="$FSLM_ROOT/services/trainer/src"
case ":${PYTHONPATH:-}:" in *":$FSLM_TRAINER_SRC:"*) ;; *) PYTHONPATH="$FSLM_TRAINER_SRC${PYTHONPATH:+:$PYTHONPATH}" ;; esac
export FSLM_ROOT FSLM_CACHE FSLM_VENV FSLM_PY FSLM_TRAINER_SRC PYTHONPATH
