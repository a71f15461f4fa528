"""Spearman's rank correlation over a handful of corpora (computation only; no prose): :func:`spearman_ci`
(exact permutation p, "not testable" where no order reaches the level, interval by test inversion under
Gaussian and t (3 df) copulas), :func:`spearman_reach` (what ρ over n corpora can show before any data)
and :func:`reach_of`; the row-wise ranks and correlations, and the t3 copula's population Spearman ρ
(:func:`t3_spearman`), that :mod:`resurface.evidence.relational` shares.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
from scipy import stats as _st

from resurface.errors import ParameterError
from resurface.evidence.estimates import Estimate, Reach, check_level, check_resamples, make_rng


def rank_rows(a: np.ndarray) -> np.ndarray:
    """The ranks within each row of ``a`` (ties get their average rank)."""
    return _st.rankdata(a, axis=1)  # average ranks for ties


def row_corr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation of each row of ``x`` with the same row of ``y`` (NaN for a constant row)."""
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    den = np.sqrt((xc ** 2).sum(axis=1) * (yc ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xc * yc).sum(axis=1) / den
    return np.where(den > 1e-12, r, np.nan)


def spearman_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman ρ of each row of ``x`` with the same row of ``y`` (B x n arrays; average ranks for ties);
    NaN where a row is constant."""
    return row_corr(rank_rows(np.asarray(x, float)), rank_rows(np.asarray(y, float)))


SPEARMAN_EXACT_MAX = 8  # enumerate all n! orders up to here
SPEARMAN_INVERSION_MAX = 30  # Neyman interval up to here; bootstrap over pairs above


SPEARMAN_COPULAS = ("gaussian", "t3")  # the interval holds its level under each of these models


@functools.lru_cache(maxsize=32)
def _copula_table(n: int, draws: int, seed: int, copula: str = "gaussian") -> tuple[np.ndarray, np.ndarray]:
    """Sampling distributions of the sample Spearman ρ of ``n`` pairs: for each of 201 copula
    parameters, the population Spearman ρ_S it has and ``draws`` sorted sample ρ (common random numbers
    across the grid). ``"gaussian"``: ρ_S from -1 to 1 in steps of 0.01 (Pearson ``r = 2 sin(π ρ_S/6)``,
    exact); ``"t3"``: the bivariate t copula with 3 df and the same ``r`` (heavier joint tails), its ρ_S
    estimated from 20,000 pairs per parameter. Deterministic per arguments; cached."""
    grid = np.round(np.linspace(-1, 1, 201), 10)
    r = 2 * np.sin(np.pi * grid / 6)
    rng = np.random.default_rng(seed)
    z1, z2 = rng.standard_normal((draws, n)), rng.standard_normal((draws, n))
    g = np.sqrt(rng.chisquare(3, (draws, n)) / 3) if copula == "t3" else np.ones((draws, n))  # per pair
    rx = rank_rows(z1 / g)
    out = np.empty((grid.size, draws))
    for j, rj in enumerate(r):
        y = (rj * z1 + math.sqrt(max(0.0, 1 - rj * rj)) * z2) / g
        out[j] = np.sort(row_corr(rx, rank_rows(y)))
    if copula == "gaussian":
        return grid, out
    return np.maximum.accumulate(t3_spearman(r, seed + 1)), out  # monotone in r


def t3_spearman(r: np.ndarray, seed: int, pairs: int = 20_000) -> np.ndarray:
    """The population Spearman ρ_S of the bivariate t copula with 3 df at each latent correlation of
    ``r``, estimated from ``pairs`` pairs drawn with generator ``seed`` (the same draws for every r;
    not made monotone). Shared by :func:`_copula_table` and :mod:`resurface.evidence.relational`."""
    rng = np.random.default_rng(seed)
    w1, w2 = rng.standard_normal(pairs), rng.standard_normal(pairs)
    h = np.sqrt(rng.chisquare(3, pairs) / 3)
    ranks1 = _st.rankdata(w1 / h)
    return np.array([row_corr(ranks1[None], _st.rankdata((rj * w1 + math.sqrt(max(0.0, 1 - rj * rj)) * w2)
                                                            / h)[None])[0] for rj in r])


def _permutation_null(rx: np.ndarray, ry: np.ndarray, n: int, rng: np.random.Generator,
                      permutations: int) -> tuple[np.ndarray, bool]:
    """ρ of ``rx`` with every order of ``ry`` (all ``n!`` when ``n <= SPEARMAN_EXACT_MAX``, else
    ``permutations`` random ones); second value: whether it is exact."""
    exact = n <= SPEARMAN_EXACT_MAX
    if exact and _no_ties(rx) and _no_ties(ry):
        return _untied_null(n), True  # depends on n only
    perms = (np.array(list(itertools.permutations(range(n)))) if exact
             else np.argsort(rng.random((permutations, n)), axis=1))
    return row_corr(np.broadcast_to(rx, perms.shape), ry[0][perms]), exact


def _no_ties(r: np.ndarray) -> bool:
    return bool(np.unique(r).size == r.size)


@functools.lru_cache(maxsize=16)
def _untied_null(n: int) -> np.ndarray:
    """ρ of ranks 1..n with each of their n! orders (read-only, cached)."""
    perms = np.array(list(itertools.permutations(range(n))))
    base = np.arange(n, dtype=float)[None]
    out = row_corr(np.broadcast_to(base, perms.shape), perms.astype(float))
    out.setflags(write=False)
    return out


def _inversion_interval(rho: float, n: int, alpha: float, ge: float, le: float, draws: int) -> tuple[float, float]:
    """The Neyman interval of :func:`spearman_ci` at the sample ρ ``rho`` of ``n`` pairs: every ρ0 of the
    grid that neither tail rejects under some copula of :data:`SPEARMAN_COPULAS`; at ρ0 = 0 the exact
    permutation tails ``ge`` (P(ρ* >= ρ)) and ``le`` (P(ρ* <= ρ)) decide instead."""
    eps = 1e-9
    kept_all = []
    for copula in SPEARMAN_COPULAS:  # a value of ρ stays when some model cannot reject it
        grid, table = _copula_table(n, draws, 20260512, copula)
        M = table.shape[1]
        upper = 1 - np.array([np.searchsorted(t, rho - eps, "left") for t in table]) / M  # P(ρ* >= ρ)
        lower = np.array([np.searchsorted(t, rho + eps, "right") for t in table]) / M  # P(ρ* <= ρ)
        kept_all.append(grid[(upper > alpha / 2) & (lower > alpha / 2)])
    kept = np.concatenate(kept_all)
    if kept.size == 0:
        kept = np.array([rho])
    lo, hi = float(kept.min()), float(kept.max())
    if min(ge, le) > alpha / 2:  # the exact permutation test decides ρ0 = 0
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    elif lo <= 0 <= hi:  # it rejects 0: keep the side of the estimate
        lo, hi = (max(float(kept[kept > 0].min(initial=1.0)), 0.005), hi) if rho > 0 else \
            (lo, min(float(kept[kept < 0].max(initial=-1.0)), -0.005))
    return lo, hi


@functools.lru_cache(maxsize=64)
def _spearman_extremes(n: int, level: float, draws: int) -> tuple[tuple[float, float], ...]:
    """The intervals :func:`spearman_ci` gives over ``n`` untied pairs at ρ = -1, at the attainable ρ
    nearest 0 on each side, and at ρ = +1 (every other attainable ρ gives an interval between these:
    its ends move monotonely with ρ). ``((-1, 1),)`` when no order reaches the level."""
    alpha = 1 - level
    if n < 3 or 1.0 / math.factorial(min(n, 20)) > alpha / 2:
        return ((-1.0, 1.0),)
    span = n ** 3 - n  # rho = 1 - 6 S / span, S = sum of squared rank differences (even, 0 .. span / 3)
    mid = span / 6
    s_lo, s_hi = 2 * math.floor(mid / 2), 2 * math.ceil(mid / 2)
    rhos = sorted({-1.0, 1 - 6 * s_hi / span, 1 - 6 * s_lo / span, 1.0})
    if n <= SPEARMAN_EXACT_MAX:
        null = _untied_null(n)
    else:  # independence: the Gaussian copula at ρ_S = 0 (its row of the table)
        grid, table = _copula_table(n, draws, 20260512, "gaussian")
        null = table[int(np.argmin(np.abs(grid)))]
    out = []
    for r in rhos:
        ge, le = float(np.mean(null >= r - 1e-9)), float(np.mean(null <= r + 1e-9))
        out.append(_inversion_interval(r, n, alpha, ge, le, draws))
    return tuple(out)


def spearman_reach(n: int, *, level: float = 0.95, draws: int = 4000) -> Reach:
    """What Spearman's ρ over ``n`` corpora can show at all (:class:`Reach`): the intervals of
    :func:`spearman_ci` at the most extreme and the most central attainable ρ. E.g. an equivalence
    |ρ| < 0.5 can be reached only where the central interval lies inside (-0.5, 0.5)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterError("n", f"must be a positive integer (corpora), got {n!r}")
    level = check_level(level)
    return Reach(_spearman_extremes(int(n), level, int(draws)), "corpora", int(n),
                 at=functools.partial(_spearman_at, level=level, draws=int(draws)),
                 max_size=SPEARMAN_INVERSION_MAX)


def _spearman_at(n: int, *, level: float, draws: int) -> tuple[tuple[float, float], ...]:
    return _spearman_extremes(int(n), level, draws)


def reach_of(est: Estimate) -> Reach | None:
    """The estimate's :class:`Reach`: its own, or for a Spearman ρ by test inversion (3 to 30 corpora)
    rebuilt from its size (a row read back from a table keeps its method and n); None where the design
    bounds no word (an interval on a mean can be as narrow as the data make it)."""
    if est.reach is not None:
        return est.reach
    m = est.method or ""
    if m.startswith("Spearman") and "bootstrap" not in m and 3 <= est.n_items <= SPEARMAN_INVERSION_MAX:
        return spearman_reach(int(est.n_items), level=est.level)
    return None


def _ties(x: np.ndarray, y: np.ndarray) -> str:
    """', tied (3 distinct values of 5)': where ties, not only the number of corpora, limit the attainable p."""
    k = min(len(np.unique(x)), len(np.unique(y)))
    return f", tied ({k} distinct values of {x.size})" if k < x.size else ""


def spearman_ci(x, y, *, B: int = 2000, level: float = 0.95, seed=0, permutations: int = 10000,
                draws: int = 4000) -> Estimate:
    """Spearman ρ of ``x`` and ``y`` (one pair per corpus), an exact permutation p-value of ρ = 0 and
    an interval that keeps its level with a handful of corpora.

    p-value: all ``n!`` orders for n <= 8 (else ``permutations`` random ones), two-sided as twice the
    smaller one-sided tail, so that "p < 1 - level" and "the interval excludes 0" agree.

    *Not testable here* (``testable=False``, with the reason in ``note``): when even the most extreme
    order cannot reach the level, i.e. the smallest attainable one-sided p exceeds ``(1 - level) / 2``
    (n = 3: 1/6 = 0.167; n = 4: 1/24 = 0.042 > 0.025). No data of that size could give a verdict.

    Interval (n <= 30): a Neyman construction, i.e. inverting the test of ``ρ_S = ρ0`` for ρ0 on a
    grid of step 0.01. Under a copula model (any monotone margins; only ranks matter) the sampling
    distribution of the sample ρ at ``ρ0`` is simulated once per n (``draws``, cached); ρ0 is kept when
    neither tail beyond the observed ρ is below ``(1 - level) / 2`` under the Gaussian copula *or* the
    bivariate t (3 df) copula (:data:`SPEARMAN_COPULAS`: with the Gaussian one alone, 8 corpora from a t
    copula put the whole interval above a true ρ of 0.5 in 4.2% of studies, where 2.5% is allowed). At
    ρ0 = 0 the exact permutation test decides instead, so the interval and p agree (it tests
    independence: uncorrelated but dependent data, e.g. a t copula with r = 0, exclude 0 somewhat more
    often than 5%; benchmarks/RESULTS.md). Why not the bootstrap over corpora: with 3
    corpora it gave [1, 1] while p was 0.33, and with 5 corpora and ρ = 0 it excluded 0 in 15% of
    studies; resampling 5 pairs mostly repeats them. The interval covers at least ``level`` by
    construction under those models (conservative, the sample ρ being discrete), checked in
    ``tests/test_calibration.py``; it is wide with few corpora, as it should be. Ties are ranked by
    average rank (the construction assumes none). SE: the half-width over z (for the MDE). n > 30:
    percentile bootstrap over pairs (``B``), as before.
    """
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xa.ndim != 1:
        raise ParameterError("x", "must be 1-d")
    if ya.shape != xa.shape:
        raise ParameterError("y", f"must have the same length as x ({xa.size}), got {ya.size}")
    if xa.size < 3:
        raise ParameterError("x", f"needs at least 3 pairs for a rank correlation, got {xa.size}")
    if not (np.isfinite(xa).all() and np.isfinite(ya).all()):
        raise ParameterError("x" if not np.isfinite(xa).all() else "y", "has missing or non-finite values")
    level = check_level(level)
    B = check_resamples(B)
    rng = make_rng(seed)
    n = xa.size
    alpha = 1 - level
    z = _st.norm.ppf(0.5 + level / 2)
    rx, ry = rank_rows(xa[None]), rank_rows(ya[None])
    rho = float(row_corr(rx, ry)[0])
    method = f"Spearman, exact permutation p; interval by test inversion (Gaussian copula), n = {n}"
    if not np.isfinite(rho):
        nan = math.nan
        return Estimate(nan, nan, nan, nan, nan, n, 0, level, method, note="x or y is constant: no rank correlation")
    rp, exact = _permutation_null(rx, ry, n, rng, permutations)
    eps = 1e-9
    ge, le = float(np.mean(rp >= rho - eps)), float(np.mean(rp <= rho + eps))
    if not exact:
        m = rp.size
        ge, le = (ge * m + 1) / (m + 1), (le * m + 1) / (m + 1)
    p = float(min(1.0, 2 * min(ge, le)))
    p_min = float(np.mean(rp >= rp.max() - eps)) if exact else 1.0 / math.factorial(n)
    if p_min > alpha / 2:
        return Estimate(rho, -1.0, 1.0, math.nan, p, n, 0, level, method, testable=False,
                        reach=spearman_reach(n, level=level, draws=int(draws)),
                        note=f"not testable here: with {n} corpora{_ties(xa, ya)} the smallest attainable p is "
                             f"{p_min:.3f} (one-sided, the most extreme order), above the {alpha / 2:g} a "
                             f"{100 * level:g}% interval needs on each side")
    if n > SPEARMAN_INVERSION_MAX:
        idx = rng.integers(0, n, size=(B, n))
        r = row_corr(rank_rows(xa[idx]), rank_rows(ya[idx]))
        ok = np.isfinite(r)
        d = r[ok]
        lo, hi = np.quantile(d, [0.5 - level / 2, 0.5 + level / 2])
        return Estimate(rho, float(lo), float(hi), float(d.std(ddof=1)), p, n, 0, level,
                        "Spearman, bootstrap over pairs; permutation p", B=B, n_dropped=int((~ok).sum()))
    lo, hi = _inversion_interval(rho, n, alpha, ge, le, int(draws))
    return Estimate(rho, lo, hi, (hi - lo) / (2 * z), p, n, 0, level, method, note=f"{n} corpora",
                    reach=spearman_reach(n, level=level, draws=int(draws)))
