# Shared paths for fslm's scripts. Source it; it sets no options of its own.
FSLM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FSLM_CACHE="${FSLM_CACHE:-$HOME/.cache/fslm}"
FSLM_PY_REQ="$FSLM_ROOT/services/trainer/requirements.txt"
FSLM_VENV="$FSLM_CACHE/venv/$(cat "$FSLM_PY_REQ" "$FSLM_ROOT/services/trainer/pyproject.toml" | sha256sum | cut -c1-16)"
FSLM_PY="$FSLM_VENV/bin/python"
# The venv holds only third-party packages (it is shared by every checkout with the same pins); the
# trainer and the evaluation harness always run from this checkout's sources.
FSLM_TRAINER_SRC="$FSLM_ROOT/services/trainer/src"
FSLM_EVAL_SRC="$FSLM_ROOT/services/eval/src"
for src in "$FSLM_EVAL_SRC" "$FSLM_TRAINER_SRC"; do
  case ":${PYTHONPATH:-}:" in *":$src:"*) ;; *) PYTHONPATH="$src${PYTHONPATH:+:$PYTHONPATH}" ;; esac
done
export FSLM_ROOT FSLM_CACHE FSLM_VENV FSLM_PY FSLM_TRAINER_SRC FSLM_EVAL_SRC PYTHONPATH
