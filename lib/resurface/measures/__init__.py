"""Measures: what the paper computes besides benchmark scores.

Takes corpora and trained runs; gives the intrinsic proxies (embedding similarity to benchmark items,
per-token NLL under a scorer), the extraction attack with its log-prob shift, and what the memorization
study (Figures 7 and 8) and the planted-skill study (Figure 13) measure. Nothing here trains a model or
chooses a study's corpora: that is :mod:`resurface.study`, one package up.
"""
