"""Word n-grams under the paper's normalisation (METHODS.md c.2, the reference code's ``audit.py``).

Lowercase, delete every character matching ``[^\\w\\s]`` (deleted, not replaced by a space: "don't"
-> "dont"), split on runs of whitespace. The corpus audit (:mod:`resurface.corpus.decontam`) and the
course item generator (:mod:`resurface.evaluate.itemgen`) both apply this rule, so it lives in the core.
"""

from __future__ import annotations

import re
from typing import Iterator

_PUNCT = re.compile(r"[^\w\s]")


def normalize(text: str) -> list[str]:
    """Lowercase, delete ``[^\\w\\s]`` characters, and split on (any run of) whitespace."""
    return _PUNCT.sub("", text.lower()).split()


def ngrams(words: list[str], n: int) -> Iterator[str]:
    """The word n-grams of ``words`` as space-joined strings (none when there are fewer than n words)."""
    for i in range(len(words) - n + 1):
        yield " ".join(words[i:i + n])
