"""Checks of teacher texts where the answer is known are exact: the final answer must be THE answer,
not a number that appears somewhere in the text; the held-out arithmetic task scores generations by
the same rule (evals/tasks/checks.py)."""

from __future__ import annotations

import importlib.util

import pytest

from conftest import ROOT
from fslm_trainer.answers import final_number
from fslm_trainer.quality import failed_check, passes

pytestmark = pytest.mark.timeout(60)


def test_the_final_answer_must_be_the_answer():
    check = {"stage": "final", "answer": "24"}
    wrong = ["Step 1: 11 + 24 = 36 books.", "There are 24 books and 11 more, so 35 in all.", "no number at all"]
    right = ["Step 1: 11 + 13 = 24 books.", "Answer: 24.", "The answer is 24, since 11 + 13 = 24.",
             "Answer: 24 books (11 + 13, minus nothing else: 7 + 6)", "**Answer: 24**"]
    for text in wrong:
        assert not passes(check, text), text
    for text in right:
        assert passes(check, text), text
    row = {"fslm_check": [check]}
    assert failed_check(row, "final", "final", "…11 + 24 = 36 books…") == "wrong_answer"
    assert passes({"answer": "1,250"}, "In total 1250 dollars.") and not passes({"answer": "1250"}, "1250 - 50 = 1200")
    assert passes({"answer": "Paris"}, "The capital is Paris.") and not passes({"answer": "Paris"}, "Parisian food")


def test_final_number_rule():
    assert final_number("Answer: 7. Then 3 more") == 7
    assert final_number("3 + 4 = 7") == 7 and final_number("-3 degrees") == -3 and final_number("none") is None


def test_the_arithmetic_task_uses_the_same_rule():
    spec = importlib.util.spec_from_file_location("fslm_eval_checks", ROOT / "evals/tasks/checks.py")
    checks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checks)
    doc = {"answer": 24}
    assert checks.arithmetic(doc, ["Step 1: 11 + 24 = 36 books."]) == {"exact_match": 0.0}
    assert checks.arithmetic(doc, ["11 + 13 = 24. Answer: 24"]) == {"exact_match": 1.0}
    cases = [({"contains_word": "CANOE", "case": True}, "Here: CANOE.", "canoe"),
             ({"letter": "t"}, "The letter is t.", "It is s, I think"),
             ({"number": 10}, "It has 10 letters.", "10 or 11"),
             ({"in_order": ["apple", "banana", "cherry"]}, "apple, banana, cherry", "banana, apple, cherry"),
             ({"comma_list_starting": "d", "count": 3}, "dog, door, dust", "dog, cat, dust"),
             ({"contains_word": "river", "min_words": 4}, "We swam in the river.", "river")]
    for check, good, bad in cases:
        assert checks.passes(check, good), (check, good)
        assert not checks.passes(check, bad), (check, bad)
