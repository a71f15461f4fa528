"""Extraction intervals when every run has its own planted base (Figures 7-8 in the course profile).

A planted base is one draw of a random stage: its pool, its anchors, the order of its passes, and
rounding on the machine that planted it decide which sequences stick and how easily they come loose.
With several plantings (:mod:`resurface.study.planted_memory`), each with its own pool and runs, the
plantings are the primary sampling units: sequences are nested in them, and any statistic summed over
sequences varies from planting to planting by more than the sequences alone explain (two builds of
the same one-planting study on two machines gave drops of 0.258 and 0.038).

Both statistics here are ratios of totals, ``ŝ = Σ_p k1_p / Σ_p k0_p`` (k over a planting's sequences
and runs). Their interval is Korn and Graubard's (1998) for a proportion from a clustered sample, with
the plantings as the clusters:

- the variance of ``ŝ`` is the ratio estimator's, linearised over the ``R`` plantings
  (``R / (R − 1) · Σ_p (k1_p − ŝ k0_p)² / (Σ_p k0_p)²``): it carries every source of variance the
  plantings replicate (which sequences, how firmly each was planted, each run's data);
- the design effect (that variance over the binomial one, at least 1) shrinks the ``n`` trials to
  ``n* = n / deff``, and the few plantings shrink it again by ``(t_{n−1} / t_{R−1})²`` (with 3 plantings,
  about a fifth): the interval knows that 2 degrees of freedom estimate its width;
- Clopper-Pearson on ``ŝ n*`` successes out of ``n*`` (beta quantiles), which keeps an interval near 0
  or 1 honest where a t interval on a skewed ratio is not (simulated at a true 95% drop, the t interval
  over plantings said "agrees" in 7.3% of studies, this one in none: `benchmarks/sim_plantings.py`).

Skewed survival between plantings (a few plantings keep far more than the others: a survival rate whose
SD between plantings exceeds its mean) breaks that interval once the design is large enough to reach a
95% drop: most samples of 3 plantings miss the rare high one, so the ratio and its spread are both
underestimated together (3 × 400 sequences, survival 0.05 ± 0.08: lower end above a true 95% drop in
11.8% of studies). :func:`relative_drop_plantings` therefore reports the hull of that interval and a t
interval on the log of the share still extracted (``R − 1`` df, delta-method SE: the log makes a
right-skewed ratio near 0 symmetric), with the larger of the two p-values, so a word needs both
(``benchmarks/sim_plantings.py``; RESULTS.md has the numbers and what is left: no interval from 3
clusters is safe against any skew).

Calibration by simulation with a planting-level random survival rate: ``tests/test_plantings.py``.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy import stats as _st

from resurface.errors import ParameterError
from resurface.evidence import estimates, extraction


def _blocks(blocks: Sequence, name: str) -> list[np.ndarray]:
    out = [extraction.extraction_matrix(b, name) for b in blocks]
    if len(out) < 2:
        raise ParameterError(name, f"needs at least 2 plantings, got {len(out)}",
                             "one (sequences × runs) matrix per planting; with one planting use "
                             "extraction.relative_drop_ci")
    if len({b.shape[1] for b in out}) != 1:
        raise ParameterError(name, "every planting must have the same number of runs",
                             "plantings × num_subsets runs, num_subsets per planting")
    return out


def ratio_var(num: np.ndarray, den: np.ndarray) -> tuple[float, float]:
    """Ratio of totals ``Σ num / Σ den`` over clusters and its linearised variance (NaN when
    ``Σ den`` is 0)."""
    num, den = np.asarray(num, float), np.asarray(den, float)
    R, total = num.size, float(den.sum())
    if total <= 0:
        return math.nan, math.nan
    r = float(num.sum()) / total
    z = num - r * den
    return r, R / (R - 1) * float((z ** 2).sum()) / total ** 2


def kg_share(k: np.ndarray, n: np.ndarray, level: float) -> tuple[float, float, float, float]:
    """Korn-Graubard interval of the share ``Σk / Σn`` with clusters ``k[p]`` of ``n[p]`` trials:
    ``(share, lo, hi, n*)`` (see the module; the share may exceed 1 when sequences extracted only after
    training are counted, and is clipped for the interval)."""
    share, var = ratio_var(k, n)
    total, R = float(np.sum(n)), len(n)
    s = min(max(share, 0.0), 1.0)
    binom = s * (1 - s) / total
    deff = max(1.0, var / binom) if binom > 0 and np.isfinite(var) else 1.0
    a = (1 - level) / 2
    adjust = (_st.t.ppf(1 - a, max(total - 1, 1)) / _st.t.ppf(1 - a, R - 1)) ** 2
    n_eff = total / deff * adjust
    kk = s * n_eff
    lo = 0.0 if kk <= 0 else float(_st.beta.ppf(a, kk, n_eff - kk + 1))
    hi = 1.0 if kk >= n_eff else float(_st.beta.isf(a, kk + 1, n_eff - kk))
    return share, lo, hi, n_eff


def log_share_interval(k1: np.ndarray, k0: np.ndarray, level: float, null: float
                       ) -> tuple[float, float, float] | None:
    """``(lo, hi, p)`` of the relative drop from a t interval on ``R − 1`` df for the log of the share
    still extracted, ``log(Σk1 / Σk0) ± t · SE`` with the delta-method SE ``sqrt(var) / share`` of the
    ratio estimator over plantings, and the matching two-sided p of ``drop == null``. None where the
    share is 0 (nothing left: the log is undefined, Korn-Graubard's exact end decides) or the variance
    is not positive."""
    share, var = ratio_var(k1, k0)
    R = len(k0)
    if not (np.isfinite(share) and share > 0 and np.isfinite(var) and var > 0) or R < 2:
        return None
    se = math.sqrt(var) / share
    q = float(_st.t.ppf(0.5 + level / 2, R - 1))
    lo_share, hi_share = share * math.exp(-q * se), share * math.exp(q * se)
    s0 = 1 - null
    p = 1.0 if s0 <= 0 else float(2 * _st.t.sf(abs(math.log(share) - math.log(s0)) / se, R - 1))
    return 1 - hi_share, 1 - lo_share, min(1.0, p)


def relative_drop_plantings(before: Sequence, after: Sequence, *, level: float = 0.95,
                            null: float = 0.0) -> estimates.Estimate:
    """Relative drop ``1 − Σk1 / Σk0`` of extraction over plantings: ``before[p]`` and ``after[p]`` are
    planting p's (sequences × runs) boolean matrices (each run's own base before, its trained model
    after), with the Korn-Graubard interval of the module and the matching binomial p of
    ``drop == null``. ``n_items`` is the number of sequences in all, ``n_subsets`` the runs in all,
    ``df`` the plantings less one, ``note`` the design."""
    level = estimates.check_level(level)
    b0, b1 = _blocks(before, "before"), _blocks(after, "after")
    if [b.shape for b in b0] != [b.shape for b in b1]:
        raise ParameterError("after", "each planting's matrix must match its 'before' matrix")
    R, runs = len(b0), b0[0].shape[1]
    n = sum(b.shape[0] for b in b0)
    label = extraction.design_label(n // R, runs, plantings=R)
    k0 = np.array([b.sum() for b in b0], float)
    k1 = np.array([b.sum() for b in b1], float)
    if k0.sum() == 0:
        nan = math.nan
        return estimates.Estimate(nan, nan, nan, nan, nan, n, R * runs, level, "relative drop", df=R - 1, null=null,
                                  note=f"no sequence was extracted before: the relative drop is undefined ({label})")
    share, s_lo, s_hi, n_eff = kg_share(k1, k0, level)
    est = 1 - share
    lo, hi = 1 - s_hi, 1 - s_lo
    p = extraction.cluster_share_p(1 - null, min(max(share, 0.0), 1.0), n_eff)
    log_iv = log_share_interval(k1, k0, level, null)
    method = "Korn-Graubard over plantings (clusters)"
    if log_iv is not None:  # the hull with the log-scale t interval; a word needs both
        # its lower end floored at KG's or 0: a negative drop needs more extractions after than before,
        # which the exact interval shows itself (the log scale with 2 df reaches far below 0 otherwise)
        lo, hi, p = min(lo, max(log_iv[0], min(lo, 0.0))), max(hi, log_iv[1]), max(p, log_iv[2])
        method += " ∪ log-scale t"
    z = _st.norm.ppf(0.5 + level / 2)
    return estimates.Estimate(est, lo, hi, (hi - lo) / (2 * z), p, n, R * runs, level,
                              method, df=R - 1, null=null, note=label,
                              reach=extraction.drop_reach(int(k0.sum()), level=level, plantings=R))


def extracted_share_plantings(blocks: Sequence, *, level: float = 0.95) -> estimates.Estimate:
    """Share of (sequence, run) pairs extracted over plantings (``blocks[p]``: planting p's sequences ×
    runs booleans), with the Korn-Graubard interval of the module."""
    level = estimates.check_level(level)
    b = _blocks(blocks, "extracted")
    R, runs = len(b), b[0].shape[1]
    n = sum(x.shape[0] for x in b)
    share, lo, hi, _ = kg_share(np.array([x.sum() for x in b], float), np.array([x.size for x in b], float), level)
    z = _st.norm.ppf(0.5 + level / 2)
    return estimates.Estimate(share, lo, hi, (hi - lo) / (2 * z), math.nan, n, R * runs, level,
                              "Korn-Graubard over plantings (clusters)", df=R - 1,
                              note=extraction.design_label(n // R, runs, plantings=R))
