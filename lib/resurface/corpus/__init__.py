"""Corpus: the text the students train on.

Takes a source model, a replay source or a sequence pool; gives corpus folders (``corpus.jsonl`` +
``meta.json``): BOS-only samples, the 8-gram audit against the evaluation suites, token-budget
training subsets, human-text replay, and the memorization pools.
"""
