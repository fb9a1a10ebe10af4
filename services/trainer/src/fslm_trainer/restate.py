"""Reference texts for the `understand` stage: a one-sentence restatement of each recipe instruction.

The recipe knows what every instruction asks (the word and the kind of question, or the arithmetic
problem's goal), so the restatement is written from templates instead of by a model. Each kind has a
few wordings; which one a row gets is fixed by the recipe's seed and the row's key (sha256), so the same
seed gives the same texts and different rows read differently."""

from __future__ import annotations

import hashlib

WORDNET: dict[str, tuple[str, ...]] = {
    "definition": (
        'The request asks for the meaning of the word "{word}".',
        'It asks what the word "{word}" means.',
        'The user wants a definition of the word "{word}".',
        'The request is to explain what "{word}" means.',
    ),
    "usage": (
        'The request asks how the word "{word}" is used, with a short example sentence.',
        'It asks for a short example that shows the word "{word}" in use.',
        'The user wants to see the word "{word}" used in a sentence.',
        'The request is to show the use of "{word}" with an example.',
    ),
    "synonym": (
        'The request asks for a synonym of the word "{word}".',
        'It asks for another word that means the same as "{word}".',
        'The user wants a word with the same meaning as "{word}".',
        'The request is to name a synonym of "{word}".',
    ),
}

ARITHMETIC: tuple[str, ...] = (
    "The request asks {goal}, a word problem solved with {operations}.",
    "It is a word problem: find {goal}, using {operations}.",
    "The user wants to know {goal}; the steps need {operations}.",
    "The request is to work out {goal} ({operations}).",
)


def pick(wordings: tuple[str, ...], seed: int, key: str) -> str:
    """One of `wordings`, chosen by sha256 of the seed and the row's key (stable across runs and Pythons)."""
    digest = hashlib.sha256(f"fslm-restate-{seed}:{key}".encode()).digest()
    return wordings[int.from_bytes(digest[:8], "big") % len(wordings)]


def wordnet(kind: str, word: str, seed: int, key: str) -> str:
    """The restatement of a WordNet question of `kind` (definition, usage, synonym) about `word`.
    KeyError for an unknown kind."""
    return pick(WORDNET[kind], seed, key).format(word=word)


def arithmetic(goal: str, operations: str, seed: int, key: str) -> str:
    """The restatement of a word problem whose question is `goal` ("how many apples Ana has now") and
    whose steps use `operations` ("addition, subtraction", said "addition and subtraction")."""
    head, _, tail = operations.rpartition(", ")
    spoken = f"{head} and {tail}" if head else tail
    return pick(ARITHMETIC, seed, key).format(goal=goal, operations=spoken)
