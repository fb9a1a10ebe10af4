"""Multi-step arithmetic word problems, generated with their worked steps and answers, so every
teacher text can be checked (quality.py) and replaced by the worked steps when it is wrong."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Callable

from . import restate
from .heldout_split import arith_key, is_held_out

NAMES = [("Ana", "she"), ("Ben", "he"), ("Chen", "he"), ("Dalia", "she"), ("Emil", "he"), ("Fatima", "she"),
         ("Goran", "he"), ("Hana", "she"), ("Ivo", "he"), ("Jun", "she"), ("Kofi", "he"), ("Lena", "she")]
ITEMS = ["apples", "stickers", "marbles", "pencils", "cookies", "stamps", "shells", "books", "cards", "eggs"]


@dataclass(frozen=True)
class Problem:
    text: str
    steps: list[str]
    answer: int
    operations: str
    item: str
    # The arithmetic it asks for, whatever its wording: the held-out split's key (heldout_split.arith_key).
    structure: str = ""
    operands: tuple[int, ...] = ()
    # What the question asks, as an indirect clause ("how many apples Ana has now"): the understand
    # stage's reference restates it (restate.py).
    goal: str = ""

    @property
    def key(self) -> str:
        return arith_key(self.structure, self.operands)


def _add_sub(r: random.Random) -> Problem:
    (name, he), item = r.choice(NAMES), r.choice(ITEMS)
    a, b = r.randint(5, 60), r.randint(5, 60)
    c = r.randint(1, a + b - 1)
    s1 = a + b
    return Problem(f"{name} has {a} {item}. {he.capitalize()} gets {b} more and then gives {c} to a friend. "
                   f"How many {item} does {name} have now?",
                   [f"{a} + {b} = {s1} {item} after getting more.", f"{s1} - {c} = {s1 - c} {item} left."],
                   s1 - c, "addition, subtraction", item, "a+b-c", (a, b, c), f"how many {item} {name} has now")


def _mul_sub(r: random.Random) -> Problem:
    (name, he), item = r.choice(NAMES), r.choice(ITEMS)
    a, b = r.randint(3, 12), r.randint(2, 9)
    c = r.randint(1, a * b - 1)
    return Problem(f"A box holds {a} {item}. {name} fills {b} boxes and then uses {c} of the {item}. "
                   f"How many {item} are left?",
                   [f"{b} x {a} = {a * b} {item} in the boxes.", f"{a * b} - {c} = {a * b - c} {item} left."],
                   a * b - c, "multiplication, subtraction", item, "a*b-c", (a, b, c), f"how many {item} are left")


def _div_add(r: random.Random) -> Problem:
    (name, he), item = r.choice(NAMES), r.choice(ITEMS)
    each, bags, extra = r.randint(2, 15), r.randint(2, 8), r.randint(1, 10)
    total = each * bags
    return Problem(f"{name} puts {total} {item} equally into {bags} bags. Then {he} adds {extra} more {item} "
                   f"to each bag. How many {item} are in each bag now?",
                   [f"{total} / {bags} = {each} {item} per bag.", f"{each} + {extra} = {each + extra} {item} per bag."],
                   each + extra, "division, addition", item, "a/b+c", (total, bags, extra),
                   f"how many {item} are in each bag now")


def _change(r: random.Random) -> Problem:
    (name, he), item = r.choice(NAMES), r.choice(ITEMS)
    price, count = r.randint(2, 9), r.randint(2, 8)
    cost = price * count
    bill = next(b for b in (20, 50, 100) if b > cost)
    return Problem(f"A shop sells {item} for {price} dollars each. {name} buys {count} of them and pays with a "
                   f"{bill}-dollar bill. How much change does {he} get, in dollars?",
                   [f"{count} x {price} = {cost} dollars.", f"{bill} - {cost} = {bill - cost} dollars of change."],
                   bill - cost, "multiplication, subtraction, money", item, "d-a*b", (price, count, bill),
                   f"how much change {name} gets, in dollars")


def _three_days(r: random.Random) -> Problem:
    (name, he) = r.choice(NAMES)
    a, c = r.randint(4, 40), r.randint(1, 30)
    return Problem(f"{name} reads {a} pages on Monday, twice as many pages on Tuesday, and {c} pages on Wednesday. "
                   f"How many pages did {he} read in the three days?",
                   [f"Tuesday: 2 x {a} = {2 * a} pages.", f"Monday and Tuesday: {a} + {2 * a} = {3 * a} pages.",
                    f"All three days: {3 * a} + {c} = {3 * a + c} pages."],
                   3 * a + c, "multiplication, addition", "pages", "a+2a+c", (a, c),
                   f"how many pages {name} read in the three days")


KINDS: list[Callable[[random.Random], Problem]] = [_add_sub, _mul_sub, _div_add, _change, _three_days]


def rows(n: int, seed: int) -> list[dict]:
    r = random.Random(f"fslm-arithmetic-{seed}")
    out = []
    for i in range(n):
        p = KINDS[i % len(KINDS)](r)
        # An answer copied from the question proves nothing; a held-out problem is for evaluation only.
        while str(p.answer) in re.findall(r"\d+", p.text) or is_held_out(p.key):
            p = KINDS[i % len(KINDS)](r)
        worked = " ".join(f"Step {k}: {s}" for k, s in enumerate(p.steps, 1))
        answer = f"{worked} Answer: {p.answer}."
        out.append({
            "instruction": p.text, "input": "", "output": answer,
            "fslm_check": [{"stage": "keywords", "contains_any": [p.item], "comma_list": True},
                           {"stage": "intermediate", "answer": str(p.answer)}, {"stage": "@last", "answer": str(p.answer)}],
            "fslm_reference": {"understand": restate.arithmetic(p.goal, p.operations, seed, p.key),
                               "keywords": f"{p.item}, {p.operations}, word problem",
                               "intermediate": worked, "@last": answer},
            "fslm_source": f"arithmetic:seed={seed}:{i}", "fslm_key": p.key,
        })
    return out
