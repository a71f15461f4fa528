"""Figure 8 with several plantings: the planting is the cluster (issue 29, defect 11)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from resurface.errors import ParameterError
from resurface.evidence import extraction, plantings


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
    cov = _coverage(lambda b, a: extraction.relative_drop_ci(np.vstack(b), np.vstack(a)), 600, 0.4, **kw)
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
    alone = extraction.extracted_share_clustered(np.vstack(after))
    assert 0 <= est.lo <= est.estimate <= est.hi <= 1
    assert est.hi - est.lo >= alone.hi - alone.lo


def test_one_planting_is_refused_with_the_fix():
    with pytest.raises(ParameterError, match="relative_drop_ci"):
        plantings.relative_drop_plantings([np.ones((3, 1), bool)], [np.ones((3, 1), bool)])


def test_log_scale_interval_matches_its_p_and_the_hull_needs_both():
    k0, k1 = np.array([300.0, 320.0, 280.0]), np.array([6.0, 30.0, 9.0])
    lo, hi, p = plantings.log_share_interval(k1, k0, 0.95, 0.95)
    share = k1.sum() / k0.sum()
    assert lo < 1 - share < hi and math.isclose(math.log(1 - lo) + math.log(1 - hi), 2 * math.log(share))
    for null in (lo - 1e-6, hi + 1e-6, (lo + hi) / 2):  # the p of a value just outside is just below 0.05
        assert (plantings.log_share_interval(k1, k0, 0.95, null)[2] < 0.05) == (not lo <= null <= hi)
    assert plantings.log_share_interval(np.zeros(3), k0, 0.95, 0.95) is None  # nothing left: KG decides
    b0 = [np.ones((int(k), 1), bool) for k in k0]
    b1 = [np.arange(int(k))[:, None] < int(j) for k, j in zip(k0, k1)]
    est = plantings.relative_drop_plantings(b0, b1, null=0.95)
    assert est.lo <= max(lo, 0.0) and est.hi >= hi and "log-scale t" in est.method
    assert (est.p < 0.05) == (not est.lo <= 0.95 <= est.hi)


def test_skewed_survival_between_plantings_says_agrees_less_often():
    """3 plantings × 400 sequences, survival 0.05 ± 0.08 between plantings (SD above the mean): Korn-Graubard
    alone put the lower end above the true 95% drop in about 11% of studies; the hull in about 7%
    (benchmarks/sim_plantings.py --skewed has the full table)."""
    rng = np.random.default_rng(5)
    mean, sd, reps = 0.05, 0.08, 400
    k = mean * (1 - mean) / sd ** 2 - 1
    hull = kg = 0
    for _ in range(reps):
        b0 = [rng.random((400, 1)) < 0.8 for _ in range(3)]
        b1 = [b & (rng.random((400, 1)) < rng.beta(mean * k, (1 - mean) * k)) for b in b0]
        est = plantings.relative_drop_plantings(b0, b1, null=0.95)
        k0 = np.array([b.sum() for b in b0], float)
        k1 = np.array([b.sum() for b in b1], float)
        kg += 1 - plantings.kg_share(k1, k0, 0.95)[2] > 0.95
        hull += est.lo > 0.95
    assert hull < kg and hull / reps < 0.1
