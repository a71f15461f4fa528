"""Shared rules of the course item generators: shuffled choices, and few-shot pools kept disjoint from
the test items in exact text and in word 8-grams (the decontamination rule, :mod:`resurface.ngrams`).
"""

from __future__ import annotations

import random

from resurface.ngrams import ngrams, normalize

NGRAM = 8  # the decontamination n-gram (resurface.corpus.decontam, METHODS.md c.2)


def item_ngrams(text: str) -> set[str]:
    """The word 8-grams of ``text`` under the audit's normalisation."""
    return set(ngrams(normalize(text), NGRAM))


def shuffle_choices(rng: random.Random, gold: str, distractors: list[str]) -> tuple[list[str], int]:
    """The gold answer and its distractors in a seeded random order, and the gold's index."""
    choices = [gold, *distractors]
    rng.shuffle(choices)
    return choices, choices.index(gold)


def disjoint_pool(candidates, n: int, test_rows: list[dict], text_of, key_of) -> list[dict]:
    """The first ``n`` candidates that share neither key (exact text) nor a word 8-gram with a test row."""
    keys = {key_of(r) for r in test_rows}
    grams: set[str] = set()
    for r in test_rows:
        grams |= item_ngrams(text_of(r))
    out = []
    for row in candidates:
        if key_of(row) in keys or item_ngrams(text_of(row)) & grams:
            continue
        keys.add(key_of(row))
        out.append(row)
        if len(out) == n:
            return out
    raise RuntimeError(f"only {len(out)} of {n} disjoint few-shot items could be generated")
