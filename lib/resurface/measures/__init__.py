"""Measures: what the paper computes besides benchmark scores.

Takes corpora and trained runs; gives the intrinsic proxies (embedding similarity to benchmark items,
per-token NLL under a scorer), the extraction attack with its log-prob shift, and the memorization
study of Figures 7 and 8.
"""
