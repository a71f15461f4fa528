"""Figure 8 with several plantings: the planting is the cluster (issue 29, defect 11)."""

from __future__ import annotations

import numpy as np
import pytest

from resurface.errors import ParameterError
from resurface.evidence import plantings, stats


def _study(rng, R: int, seqs: int, runs: int, mean_survival: float, sd: float, p_base: float = 0.8):
    """One simulated study: each planting draws its own survival rate (Beta around the mean), each
    sequence extracted at its base with ``p_base`` survives each run with its planting's rate."""
    a = mean_survival * (mean_survival * (1 - mean_survival) / sd ** 2 - 1)
    b = (1 - mean_survival) * (mean_survival * (1 - mean_survival) / sd ** 2 - 1)
    before, after = [], []
    for _ in range(R):
        s = rng.beta(a, b)
        b0 = rng.random((seqs, 1)) < p_base
        b0 = np.repeat(b0, runs, axis=1)
        after.append(b0 & (rng.random((seqs, runs)) < s))
        before.append(b0)
    return before, after


def _coverage(method, reps: int, truth: float, **kw) -> float:
    rng = np.random.default_rng(7)
    hit = 0
    for _ in range(reps):
        before, after = _study(rng, **kw)
        est = method(before, after)
        hit += est.lo <= truth <= est.hi
    return hit / reps


def test_planting_clusters_cover_a_drop_that_varies_between_plantings():
    # planting-level survival 0.6 ± 0.15 (the spread two machines showed), 3 plantings of 51 sequences
    kw = dict(R=3, seqs=51, runs=1, mean_survival=0.6, sd=0.15)
    cov = _coverage(lambda b, a: plantings.relative_drop_plantings(b, a), 600, 0.4, **kw)
    assert cov >= 0.93, cov


def test_sequences_alone_miss_the_planting_variance():
    """What the one-planting procedure gives on the same studies (sequences stacked as one pool): its
    interval leaves the planting's variance out and covers far less than 95%."""
    kw = dict(R=3, seqs=51, runs=1, mean_survival=0.6, sd=0.15)
    cov = _coverage(lambda b, a: stats.relative_drop_ci(np.vstack(b), np.vstack(a)), 600, 0.4, **kw)
    assert cov < 0.85, cov


def test_false_agrees_at_the_threshold_stay_under_the_level():
    """A true drop of exactly 95%: "agrees" (lower end above 0.95) must fire at most 2.5% (+ MC error)."""
    rng = np.random.default_rng(11)
    agrees = 0
    reps = 600
    for _ in range(reps):
        before, after = _study(rng, R=3, seqs=51, runs=1, mean_survival=0.05, sd=0.03)
        agrees += plantings.relative_drop_plantings(before, after, null=0.95).lo > 0.95
    assert agrees / reps <= 0.025 + 2 * np.sqrt(0.025 * 0.975 / reps)


def test_identical_plantings_keep_binomial_width():
    b = [np.ones((40, 1), bool)] * 3
    a = [np.zeros((40, 1), bool)] * 3
    est = plantings.relative_drop_plantings(b, a, null=0.95)
    assert est.estimate == 1.0 and est.hi == 1.0 and 0.8 < est.lo < 1.0 and est.se > 0
    assert est.note == "3 plantings × 40 sequences × 1 run" and est.df == 2


def test_share_over_plantings_lies_in_0_1_and_is_wider_than_sequences_alone():
    rng = np.random.default_rng(3)
    _, after = _study(rng, R=3, seqs=51, runs=1, mean_survival=0.5, sd=0.2)
    est = plantings.extracted_share_plantings(after)
    alone = stats.extracted_share_clustered(np.vstack(after))
    assert 0 <= est.lo <= est.estimate <= est.hi <= 1
    assert est.hi - est.lo >= alone.hi - alone.lo


def test_one_planting_is_refused_with_the_fix():
    with pytest.raises(ParameterError, match="relative_drop_ci"):
        plantings.relative_drop_plantings([np.ones((3, 1), bool)], [np.ones((3, 1), bool)])
