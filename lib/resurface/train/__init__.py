"""Train: full fine-tuning of a student on one training subset.

Takes a student and a corpus folder; gives a run artifact with per-epoch losses and evaluation rows
(in process, or one checkpoint per epoch scored by its own process), resumable after a kill. Planting
(:mod:`resurface.train.planting`) trains a model on a pool until part of it is memorised.
"""
