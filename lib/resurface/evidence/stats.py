"""Intervals, p-values and effect sizes for the figure pages (computation only; no prose).

Data model
----------
A **per-item table** is a tidy ``pandas.DataFrame`` with one row per evaluation item of one training
run, for one task, metric and epoch (filter those first), and the columns

- ``condition``: the corpus/temperature or replay condition (``str``);
- ``subset``: the training subset, i.e. the independent training run, *within* its condition (the
  same label in two conditions means nothing: each condition's subsets are its own runs);
- ``item``: the evaluation item id (the same id in every condition: contrasts are paired on items);
- ``value``: the per-item metric of the trained checkpoint (higher is better; flip the sign of
  bits-per-byte first).

The **base** is a ``pandas.Series`` of the frozen base model's per-item metric, indexed by item. The
per-item Δ is ``value - base[item]``. A contrast is a set of weights over conditions,
``sum_c w_c * Δ_c`` with ``Δ_c = mean over c's subsets of the mean over items of the per-item Δ``;
weights that sum to zero (``A - B``) do not need the base, because it cancels.

Intervals for contrasts (:func:`paired_bootstrap`)
-------------------------------------------------
The model behind them is the crossed random-effects one of the design note (EVIDENCE.md):
``Δ(c, s, i) = μ_c + u(c, i) + b(c, s) + e(c, s, i)``: an item effect ``u`` (shared by the runs of a
condition and correlated across conditions), a subset effect ``b`` (one per training run), and an
item-by-run residual ``e``. The target is ``sum_c w_c μ_c`` for items and runs drawn afresh.

Two methods:

``method="percentile"``: the note's two-level paired bootstrap. Per resample, each condition's
subsets are drawn with replacement independently, then the items with replacement, with **the same
item indices for every condition and subset**; the statistic is the mean over subsets of the mean over
items; the interval is the percentile interval of ``B`` resamples; the p-value is
``2 * min(P*(stat <= null), P*(stat >= null))`` floored at ``1 / (B + 1)``. It is vectorised: the
resampled mean is ``(subset counts / n_s) @ D @ (item counts / n_i)``, counts built from ``B x n``
index matrices. Known behaviour in a crossed design (measured in ``tests/test_stats.py``): it
counts the item-by-run residual twice (conservative when it dominates: ~99% coverage) and, with 3
subsets, underestimates the subset variance by ``(n_s - 1)/n_s`` and uses normal-like quantiles
where the subset variance has 2 degrees of freedom (anti-conservative when the subset effect
dominates: ~89-91% for a contrast of two conditions with 3 runs each).

``method="t"`` (the default): the same paired design, with the variance estimated without those two
biases and the quantile taken from the right distribution::

    SE^2 = sum_c w_c^2 var_s(run means of c) / n_c  +  max(0, V_items - sum_c w_c^2 MS_resid(c) / (n_i n_c))

The first term is the variance of each condition's run means (it carries the item-by-run residual
once); the second is the contrast's pure item part: ``V_items = var_i(sum_c w_c ᾱ(c, i)) / n_i``
(ᾱ(c, i): item i's mean over c's runs) minus the residual share already counted in the run term.
Both are unbiased moment (ANOVA) estimates under the crossed model; the item term is truncated at 0.
This is the variance a two-level paired bootstrap would have if its resampled run and item effects
were rescaled to those moment estimates, so no Monte-Carlo draws are needed. The interval is
``estimate ± t_ν · SE`` and the p-value the matching two-sided t p-value, so "the interval excludes the
null" and "p < 1 - level" agree exactly. ν is Welch-Satterthwaite's (``n_c - 1`` df per run term;
Satterthwaite's df for the item term's difference of mean squares), except that the run part enters
the df computation at the 75% upper confidence bound of its variance (``RUN_DF_QUANTILE``; the SE itself
is unchanged). Why: with 3 runs the run variance has 2 df, and plain Satterthwaite raises ν exactly when
that variance is underestimated (the item part's share then looks larger), so a single Δ from 3 runs x
12 items rejected 6.7-7.2% of true nulls when the run term dominated; now at most 5%
(``tests/test_stats.py``, ``tests/test_calibration.py``, ``benchmarks/sim_verdicts.py``). With no item
part, ν is plain Welch. With 3 runs the df are small (about 2-4), so intervals are wide and the minimum
detectable effect is about 3.8 SE or more, not 2.8 (:func:`mde` takes ``df``). With a single run in
some condition, its run variance cannot be estimated: the interval then reflects item noise only, and
:attr:`Estimate.item_noise_only` says so.

Other procedures: :func:`clopper_pearson` (counts); :func:`relative_drop_clustered` /
:func:`relative_drop_ci` (``(k0 - k1)/k0`` on the same sequences, sequences as clusters of runs,
Korn-Graubard Clopper-Pearson) and :func:`extracted_share_clustered`; :func:`spearman_ci` (exact
permutation p, "not testable" where no order reaches the level, interval by test inversion);
:func:`holm`, :func:`mde` and :func:`variance_components` (the pilot that sizes a study).
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as _st

from resurface.errors import ParameterError

TABLE_COLUMNS = ("condition", "subset", "item", "value")
METHODS = ("t", "percentile")
# the df of the t interval count the run variance at this lower chi-square quantile (its 75% upper bound)
RUN_DF_QUANTILE = 0.25


# ---------------------------------------------------------------------------------------------
# result type
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reach:
    """What a design can show before any data: ``intervals`` are the most extreme intervals its
    estimator can produce (at the outcomes that bound every other one, e.g. ρ = ±1 and the attainable ρ
    nearest 0 over ``size`` corpora, or nothing / everything still extracted after training); ``unit``
    names what ``size`` counts ("corpora"); ``at(size)`` gives the same intervals for another size, up to
    ``max_size`` (the search for the design that would reach a word). A verdict word no interval of
    ``intervals`` gives cannot be reached by this design whatever the data
    (:func:`resurface.evidence.verdicts.reachable_words`)."""

    intervals: tuple[tuple[float, float], ...]
    unit: str
    size: int
    at: Callable[[int], tuple[tuple[float, float], ...]] | None = field(default=None, compare=False, repr=False)
    max_size: int = 0


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its interval.

    ``n_items`` counts the resampled units (items; sequences for :func:`relative_drop_ci`; pairs,
    i.e. corpora, for :func:`spearman_ci`). ``n_subsets`` is the smallest number of training runs of
    the conditions involved (0 where runs do not apply). ``p`` tests ``estimate == null`` two-sided.
    ``df`` is the t degrees of freedom (``inf`` for resampling intervals). ``item_noise_only`` is True
    when some condition has a single run, so the interval cannot include run-to-run variance.
    ``n_dropped`` counts degenerate resamples left out (constant ranks, nothing extracted).
    ``testable`` is False when no data of this design could reach the level (e.g. Spearman's ρ over
    3 corpora); ``note`` then says why, and the verdict is "not testable here".
    """

    estimate: float
    lo: float
    hi: float
    se: float
    p: float
    n_items: int
    n_subsets: int
    level: float
    method: str
    df: float = math.inf
    null: float = 0.0
    item_noise_only: bool = False
    B: int = 0
    n_dropped: int = 0
    note: str = ""
    testable: bool = True
    reach: Reach | None = None

    @property
    def excludes_null(self) -> bool:
        """True when the interval lies wholly on one side of ``null``."""
        return bool(self.lo > self.null or self.hi < self.null)

    def p_at(self, value: float, side: int) -> float:
        """p of the one-sided hypothesis "the parameter lies at or beyond ``value`` on ``side``" (+1:
        at or above it, -1: at or below), doubled so that it is on the scale of the two-sided interval:
        ``p_at(v, -1) < 1 - level`` exactly when the interval lies wholly above ``v`` (for t intervals;
        normal with the interval's SE for the others, an approximation where the interval is not
        symmetric). What a margin claim's word rests on: TOST's p at each margin, on the interval's scale.
        NaN when the estimate has no positive SE."""
        if side not in (1, -1):
            raise ParameterError("side", f"must be +1 or -1, got {side!r}")
        if not (np.isfinite(self.se) and self.se > 0 and np.isfinite(self.estimate)):
            if np.isfinite(self.lo) and np.isfinite(self.hi) and self.lo == self.hi == self.estimate:
                beyond = self.estimate >= value if side == 1 else self.estimate <= value
                return 1.0 if beyond else 0.0  # a degenerate, exact interval
            return math.nan
        zstat = side * (value - self.estimate) / self.se  # large when the estimate lies far from that side
        tail = _st.t.sf(zstat, self.df) if np.isfinite(self.df) and self.df > 0 else _st.norm.sf(zstat)
        return float(min(1.0, 2 * tail))


# ---------------------------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------------------------
def _check_level(level: float, name: str = "level") -> float:
    if not isinstance(level, (int, float)) or isinstance(level, bool) or not 0 < level < 1:
        raise ParameterError(name, f"must be a number strictly between 0 and 1, got {level!r}")
    return float(level)


def _check_B(B: int) -> int:
    if isinstance(B, bool) or not isinstance(B, (int, np.integer)) or B < 1:
        raise ParameterError("B", f"must be a positive integer (number of resamples), got {B!r}")
    return int(B)


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError("seed", f"must be a non-negative integer or a numpy Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise ParameterError("method", f"unknown method {method!r}", ", ".join(METHODS))
    return method


def _percentile_p(draws: np.ndarray, null: float) -> float:
    """Two-sided bootstrap p-value ``2 min(P(d <= null), P(d >= null))``, floored at 1/(B+1)."""
    B = draws.size
    p = 2 * min(np.mean(draws <= null), np.mean(draws >= null))
    return float(min(1.0, max(p, 1.0 / (B + 1))))


# ---------------------------------------------------------------------------------------------
# per-item tables
# ---------------------------------------------------------------------------------------------
def check_table(table: pd.DataFrame) -> pd.DataFrame:
    """Validate a per-item table (columns, no missing values, one row per condition/subset/item);
    return it unchanged. Raises :class:`ParameterError` (a ValueError) naming ``table``."""
    if not isinstance(table, pd.DataFrame):
        raise ParameterError("table", f"must be a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in TABLE_COLUMNS if c not in table.columns]
    if missing:
        raise ParameterError("table", f"missing column(s) {missing}", ", ".join(TABLE_COLUMNS))
    if table.empty:
        raise ParameterError("table", "has no rows")
    if table[list(TABLE_COLUMNS)].isna().any().any():
        raise ParameterError("table", "has missing values in condition/subset/item/value")
    if not np.isfinite(table["value"].to_numpy(dtype=float)).all():
        raise ParameterError("table", "has non-finite values in 'value'")
    if table.duplicated(["condition", "subset", "item"]).any():
        raise ParameterError("table", "has more than one row for some (condition, subset, item); "
                                      "filter one task, metric and epoch first")
    return table


def delta_matrices(table: pd.DataFrame, conditions: Sequence[str], base: pd.Series | None = None
                   ) -> tuple[pd.Index, dict[str, np.ndarray]]:
    """The per-item Δ (or raw value when ``base`` is None) of each condition as an
    ``n_subsets x n_items`` array, items in one shared order; checks that every run of every listed
    condition has the same items (and that ``base`` covers them)."""
    check_table(table)
    present = set(table["condition"].unique())
    unknown = [c for c in conditions if c not in present]
    if unknown:
        raise ParameterError("weights", f"condition(s) {unknown} not in the table",
                             ", ".join(map(str, sorted(present, key=str))))
    items: pd.Index | None = None
    mats: dict[str, np.ndarray] = {}
    for c in conditions:
        wide = table[table["condition"] == c].pivot(index="subset", columns="item", values="value")
        if wide.isna().any().any():
            raise ParameterError("table", f"the runs of condition {c!r} do not all have the same items")
        if items is None:
            items = wide.columns.sort_values()
        elif len(wide.columns) != len(items) or not wide.columns.isin(items).all():
            raise ParameterError("table", f"condition {c!r} has other items than {conditions[0]!r}; "
                                          "a paired contrast needs the same items in every condition")
        mats[c] = wide[items].to_numpy(dtype=float)
    assert items is not None
    if base is not None:
        if not isinstance(base, pd.Series):
            raise ParameterError("base", f"must be a pandas Series indexed by item, got {type(base).__name__}")
        if base.index.duplicated().any():
            raise ParameterError("base", "has duplicate items in its index")
        lacking = items.difference(base.index)
        if len(lacking):
            raise ParameterError("base", f"has no value for {len(lacking)} item(s), e.g. {list(lacking[:3])}")
        b = base.reindex(items).to_numpy(dtype=float)
        if not np.isfinite(b).all():
            raise ParameterError("base", "has missing or non-finite values")
        mats = {c: m - b[None, :] for c, m in mats.items()}
    return items, mats


def _check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    if not isinstance(weights, Mapping) or not weights:
        raise ParameterError("weights", "must be a non-empty mapping {condition: weight}")
    w = {}
    for c, v in weights.items():
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not np.isfinite(v):
            raise ParameterError("weights", f"weight of {c!r} must be a finite number, got {v!r}")
        if v != 0:
            w[c] = float(v)
    if not w:
        raise ParameterError("weights", "all weights are zero")
    return w


# ---------------------------------------------------------------------------------------------
# the contrast engine
# ---------------------------------------------------------------------------------------------
def _t_interval(mats: dict[str, np.ndarray], w: dict[str, float], level: float, null: float
                ) -> tuple[float, float, float, float, float, float]:
    """(estimate, lo, hi, se, p, df) of the paired crossed design (see the module docstring).

    ``SE^2 = sum_c w_c^2 MS_subset(c) / (n_i n_c) + max(0, V_items - sum_c w_c^2 MS_resid(c) / (n_i n_c))``:
    the variance of each condition's run means (which carries the run-by-item residual once), plus the
    pure item part of the contrast (variance of the item means minus their residual share).
    Welch-Satterthwaite df: ``n_c - 1`` per run term; the item term is a difference of mean squares
    (``n_i - 1`` and ``(n_c - 1)(n_i - 1)`` df), and its df are Satterthwaite's for that difference
    (counting it as ``n_i - 1`` made a single Δ cover only ~93%). A condition with one run contributes
    no run term (item noise only).
    """
    n_i = next(iter(mats.values())).shape[1]
    est = 0.0
    a = np.zeros(n_i)
    v_runs, resid_share, half_var, resid_half_var = 0.0, 0.0, 0.0, 0.0  # half_var: sum of v_k^2/df_k
    for c, wc in w.items():
        D = mats[c]
        n_c = D.shape[0]
        m = D.mean()
        est += wc * m
        col = D.mean(axis=0)
        a += wc * (col - m)
        if n_c >= 2:
            row = D.mean(axis=1)
            v = wc ** 2 * np.sum((row - m) ** 2) / ((n_c - 1) * n_c)  # = w^2 MS_S / (n_i n_c)
            v_runs += v
            half_var += v ** 2 / (n_c - 1)
            if n_i >= 2:
                resid = D - row[:, None] - col[None, :] + m
                r = wc ** 2 * np.sum(resid ** 2) / ((n_c - 1) * (n_i - 1)) / (n_i * n_c)
                resid_share += r
                resid_half_var += r ** 2 / ((n_c - 1) * (n_i - 1))
    # floor for a df estimate: the smallest df of a term present (n_c - 1 of a run term, else n_i - 1)
    floors = [mats[c].shape[0] - 1 for c in w if mats[c].shape[0] >= 2] or [n_i - 1]
    floor = float(max(min(floors), 1))
    v_item, df_item = 0.0, math.inf
    if n_i >= 2:
        v_all = float(np.sum(a ** 2) / (n_i * (n_i - 1)))  # item means: item effect + residual share
        v_item = max(0.0, v_all - resid_share)
        if v_item > 0:  # Satterthwaite for the difference of the two mean squares, floored (it can
            # fall towards 0 when the difference nearly cancels and the interval would explode)
            df_item = max(v_item ** 2 / (v_all ** 2 / (n_i - 1) + resid_half_var), floor)
    var = v_runs + v_item
    se = math.sqrt(var)
    if se == 0:
        p = 1.0 if est == null else 0.0
        return est, est, est, 0.0, p, math.inf
    # Welch-Satterthwaite df, with the run part counted at the 75% upper confidence bound of its
    # variance (for the df only; the SE is unchanged). With 3 runs the run variance has 2 df; where it
    # is underestimated, plain Satterthwaite also raised the df (the item part's share looks larger),
    # a double discount that let a single Δ with 3 runs x 12 items reject 6-7% of true nulls when the
    # run term dominated (tests/test_calibration.py). With no item part this is plain Welch.
    df_item_half = v_item ** 2 / df_item if v_item > 0 else 0.0
    if v_runs > 0:
        df_runs = max(v_runs ** 2 / half_var, floor)
        inflate = df_runs / _st.chi2.ppf(RUN_DF_QUANTILE, df_runs)
        df = (inflate * v_runs + v_item) ** 2 / (inflate ** 2 * half_var + df_item_half)
    else:
        df = df_item
    df = max(df, floor)
    q = _st.t.ppf(0.5 + level / 2, df)
    p = float(2 * _st.t.sf(abs(est - null) / se, df))
    return est, est - q * se, est + q * se, se, p, float(df)


def _counts(rng: np.random.Generator, b: int, n: int) -> np.ndarray:
    """``b x n`` counts of each unit in ``b`` resamples with replacement of ``n`` units, built from a
    ``b x n`` index matrix."""
    idx = rng.integers(0, n, size=(b, n))
    flat = (np.arange(b)[:, None] * n + idx).ravel()
    return np.bincount(flat, minlength=b * n).reshape(b, n).astype(float)


def _bootstrap_draws(mats: dict[str, np.ndarray], w: dict[str, float], B: int,
                     rng: np.random.Generator, chunk: int = 512) -> np.ndarray:
    """``B`` draws of ``sum_c w_c * mean_s* mean_i* D_c[s*, i*]``: subsets resampled independently per
    condition, items with the same indices for every condition and subset."""
    n_i = next(iter(mats.values())).shape[1]
    out = np.empty(B)
    for start in range(0, B, chunk):
        b = min(chunk, B - start)
        ci = _counts(rng, b, n_i) / n_i  # shared item resample
        tot = np.zeros(b)
        for c, wc in w.items():
            D = mats[c]
            cs = _counts(rng, b, D.shape[0]) / D.shape[0]  # this condition's own runs
            tot += wc * np.einsum("bs,bs->b", cs, ci @ D.T)
        out[start:start + b] = tot
    return out


def contrast_arrays(mats: Mapping[str, np.ndarray], weights: Mapping[str, float], *, method: str = "t",
                    B: int = 2000, level: float = 0.95, seed=0, null: float = 0.0) -> Estimate:
    """:func:`paired_bootstrap` on arrays: ``mats[c]`` is condition c's ``n_subsets x n_items`` per-item
    Δ (items in the same order in every array). For simulations and callers that hold arrays."""
    w = _check_weights(weights)
    _check_method(method)
    level = _check_level(level)
    if not isinstance(null, (int, float)) or not np.isfinite(null):
        raise ParameterError("null", f"must be a finite number, got {null!r}")
    arrs = {}
    for c in w:
        if c not in mats:
            raise ParameterError("weights", f"condition {c!r} has no array", ", ".join(map(str, mats)))
        a = np.asarray(mats[c], dtype=float)
        if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
            raise ParameterError("mats", f"{c!r} must be a non-empty 2-d array (subsets x items)")
        if not np.isfinite(a).all():
            raise ParameterError("mats", f"{c!r} has missing or non-finite values")
        arrs[c] = a
    n_items = {a.shape[1] for a in arrs.values()}
    if len(n_items) != 1:
        raise ParameterError("mats", f"conditions have different numbers of items: {sorted(n_items)}")
    n_i = n_items.pop()
    n_sub = {c: arrs[c].shape[0] for c in w}
    noise_only = min(n_sub.values()) < 2
    note = ("one training subset in some condition: the interval reflects item noise only"
            if noise_only else "")
    if method == "t":
        est, lo, hi, se, p, df = _t_interval(arrs, w, level, null)
        return Estimate(est, lo, hi, se, p, n_i, min(n_sub.values()), level, "t", df=df, null=float(null),
                        item_noise_only=noise_only, note=note)
    B = _check_B(B)
    rng = _rng(seed)
    est = float(sum(wc * arrs[c].mean() for c, wc in w.items()))
    draws = _bootstrap_draws(arrs, w, B, rng)
    lo, hi = np.quantile(draws, [0.5 - level / 2, 0.5 + level / 2])
    return Estimate(est, float(lo), float(hi), float(draws.std(ddof=1)) if B > 1 else 0.0,
                    _percentile_p(draws, null), n_i, min(n_sub.values()), level, "percentile",
                    null=float(null), item_noise_only=noise_only, B=B, note=note)


def paired_bootstrap(table: pd.DataFrame, weights: Mapping[str, float], base: pd.Series | None = None,
                     *, method: str = "t", B: int = 2000, level: float = 0.95, seed=0,
                     null: float = 0.0) -> Estimate:
    """Interval for the linear contrast ``sum_c weights[c] * Δ_c`` (paired on items).

    ``method="t"`` (default) is the moment-corrected paired design with a Satterthwaite t interval;
    ``method="percentile"`` the plain two-level paired bootstrap of EVIDENCE.md with ``B`` resamples
    and generator ``seed`` (see the module docstring for why the default is ``"t"``). ``base`` is needed
    when the weights do not sum to zero. ``null`` is the value the p-value tests.
    """
    w = _check_weights(weights)
    _check_method(method)
    _check_level(level)
    if base is None and abs(sum(w.values())) > 1e-12:
        raise ParameterError("base", "is needed when the weights do not sum to zero "
                                     "(a Δ against the base model, not a difference of conditions)")
    _, mats = delta_matrices(table, list(w), base)
    return contrast_arrays(mats, w, method=method, B=B, level=level, seed=seed, null=null)


def delta_ci(table: pd.DataFrame, condition: str, base: pd.Series, **kwargs) -> Estimate:
    """Δ of one condition against the base model (see :func:`paired_bootstrap` for ``kwargs``)."""
    if base is None:
        raise ParameterError("base", "is needed for a Δ against the base model")
    return paired_bootstrap(table, {condition: 1.0}, base, **kwargs)


def contrast_ci(table: pd.DataFrame, a: str, b: str, base: pd.Series | None = None, **kwargs) -> Estimate:
    """``Δ_a - Δ_b``, paired on items (the base cancels; see :func:`paired_bootstrap`)."""
    if a == b:
        raise ParameterError("b", f"must differ from a ({a!r})")
    return paired_bootstrap(table, {a: 1.0, b: -1.0}, base, **kwargs)


# ---------------------------------------------------------------------------------------------
# variance components (the pilot)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VarianceComponents:
    """Moment estimates for the contrast's crossed design, per condition run and item.

    ``sigma2_subset``: ``sum_c w_c^2 σ²_b(c)`` (run-to-run variance of a run's mean);
    ``sigma2_item``: variance of the contrast's item effect ``sum_c w_c u(c, i)`` (does not shrink with
    more runs); ``sigma2_residual``: ``sum_c w_c^2 σ²_e(c)`` (item-by-run noise). NaN where a condition
    has a single run (then only ``sigma2_item + sigma2_residual`` is identified, reported as
    ``sigma2_item`` with ``sigma2_residual`` NaN).
    """

    sigma2_subset: float
    sigma2_item: float
    sigma2_residual: float
    n_subsets: int
    n_items: int

    def se(self, n_subsets: int | None = None, n_items: int | None = None) -> float:
        """Predicted SE of the contrast with ``n_subsets`` runs per condition and ``n_items`` items:
        ``sqrt(σ²_subset/n_s + σ²_item/n_i + σ²_residual/(n_s n_i))`` (EVIDENCE.md's formula plus the
        crossed item term). Defaults: the pilot's own sizes."""
        n_s = self.n_subsets if n_subsets is None else n_subsets
        n_i = self.n_items if n_items is None else n_items
        if n_s < 1 or n_i < 1:
            raise ParameterError("n_subsets" if n_s < 1 else "n_items", "must be at least 1")
        return math.sqrt(self.sigma2_subset / n_s + self.sigma2_item / n_i
                         + self.sigma2_residual / (n_s * n_i))


def variance_components(table: pd.DataFrame, weights: Mapping[str, float] | None = None,
                        base: pd.Series | None = None) -> VarianceComponents:
    """ANOVA (method-of-moments, truncated at 0) variance components of a contrast (default: the
    single condition of the table, raw values). Use them in :meth:`VarianceComponents.se` to size a
    study: once items are plentiful, more subsets buy more than more items."""
    check_table(table)
    if weights is None:
        conds = table["condition"].unique()
        if len(conds) != 1:
            raise ParameterError("weights", "needed when the table has more than one condition")
        weights = {conds[0]: 1.0}
    w = _check_weights(weights)
    _, mats = delta_matrices(table, list(w), base)
    n_i = next(iter(mats.values())).shape[1]
    if n_i < 2:
        raise ParameterError("table", "needs at least 2 items for variance components")
    a = np.zeros(n_i)
    s2_sub, res_in_items, single = 0.0, 0.0, False
    for c, wc in w.items():
        D = mats[c]
        n_c = D.shape[0]
        m, col = D.mean(), D.mean(axis=0)
        a += wc * (col - m)
        if n_c < 2:
            single = True
            continue
        row = D.mean(axis=1)
        ms_s = n_i * np.sum((row - m) ** 2) / (n_c - 1)
        ms_e = np.sum((D - row[:, None] - col[None, :] + m) ** 2) / ((n_c - 1) * (n_i - 1))
        s2_sub += wc ** 2 * max(0.0, (ms_s - ms_e) / n_i)
        res_in_items += wc ** 2 * ms_e / n_c  # the residual's share in the item means
    var_a = float(np.sum(a ** 2) / (n_i - 1))
    n_s = min(m.shape[0] for m in mats.values())
    if single:
        return VarianceComponents(math.nan, var_a, math.nan, n_s, n_i)
    # var_a estimates σ²_item + sum w² σ²_e / n_c; back out σ²_e (per run) with the runs' own n_c
    s2_e = sum(wc ** 2 * _ms_e(mats[c]) for c, wc in w.items())
    return VarianceComponents(s2_sub, max(0.0, var_a - res_in_items), s2_e, n_s, n_i)


def _ms_e(D: np.ndarray) -> float:
    n_c, n_i = D.shape
    m, row, col = D.mean(), D.mean(axis=1), D.mean(axis=0)
    return float(np.sum((D - row[:, None] - col[None, :] + m) ** 2) / ((n_c - 1) * (n_i - 1)))


@dataclass(frozen=True)
class NestedSpread:
    """Run-to-run spread split into training subsets and seeds within a subset (:func:`nested_spread`).

    ``sigma2_seed``: variance of a run's mean between seeds on the same subset (it includes the run's
    item-by-run noise); ``sigma2_subset``: the extra variance between subsets (moment estimate,
    truncated at 0); ``f``, ``p``: the F test of "no subset effect" (S − 1 and S(R − 1) df).
    """

    sigma2_subset: float
    sigma2_seed: float
    f: float
    p: float
    subsets: int
    seeds: int


def nested_spread(means) -> NestedSpread:
    """One-way ANOVA of run means ``means[s, r]`` (subset ``s``, seed ``r``; balanced, R >= 2 seeds,
    S >= 2 subsets): how much of the between-run spread the training data makes beyond the seed."""
    m = np.asarray(means, dtype=float)
    if m.ndim != 2 or m.shape[0] < 2 or m.shape[1] < 2 or not np.isfinite(m).all():
        raise ParameterError("means", f"got shape {m.shape}", "a finite (subsets x seeds) array, both at least 2")
    S, R = m.shape
    row = m.mean(axis=1)
    ms_between = R * float(np.sum((row - m.mean()) ** 2)) / (S - 1)
    ms_within = float(np.sum((m - row[:, None]) ** 2)) / (S * (R - 1))
    f = ms_between / ms_within if ms_within > 0 else math.inf
    p = float(_st.f.sf(f, S - 1, S * (R - 1))) if math.isfinite(f) else 0.0
    return NestedSpread(max(0.0, (ms_between - ms_within) / R), ms_within, f, p, S, R)


# ---------------------------------------------------------------------------------------------
# counts and relative drops
# ---------------------------------------------------------------------------------------------
def clopper_pearson(k, n, level: float = 0.95):
    """Exact (Clopper-Pearson) interval for a binomial proportion ``k/n``; the same as
    ``scipy.stats.binomtest(k, n).proportion_ci(level, method='exact')``, vectorised over arrays.
    Returns ``(lo, hi)`` (floats, or arrays for array input)."""
    level = _check_level(level)
    k_arr, n_arr = np.asarray(k), np.asarray(n)
    if not (np.issubdtype(k_arr.dtype, np.integer) or np.all(np.mod(k_arr, 1) == 0)):
        raise ParameterError("k", f"must be whole counts, got {k!r}")
    if not (np.issubdtype(n_arr.dtype, np.integer) or np.all(np.mod(n_arr, 1) == 0)) or np.any(n_arr < 1):
        raise ParameterError("n", f"must be positive whole counts, got {n!r}")
    if np.any(k_arr < 0) or np.any(k_arr > n_arr):
        raise ParameterError("k", f"must lie between 0 and n, got k={k!r}, n={n!r}")
    a = (1 - level) / 2
    kf, nf = k_arr.astype(float), n_arr.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(kf == 0, 0.0, _st.beta.ppf(a, kf, nf - kf + 1))
        hi = np.where(kf == nf, 1.0, _st.beta.isf(a, kf + 1, nf - kf))
    if lo.ndim == 0:
        return float(lo), float(hi)
    return lo, hi


def _bool_array(x, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 1 or arr.size == 0:
        raise ParameterError(name, "must be a non-empty 1-d array of booleans (one per sequence)")
    if arr.dtype != bool:
        if not np.isin(arr, [0, 1]).all():
            raise ParameterError(name, "must hold booleans (extracted or not) per sequence")
        arr = arr.astype(bool)
    return arr


def _extraction_matrix(x, name: str) -> np.ndarray:
    """A (sequences x runs) boolean matrix from booleans or 0/1 values (2-d)."""
    arr = np.asarray(x)
    if arr.ndim != 2 or arr.size == 0:
        raise ParameterError(name, "must be a non-empty 2-d array of booleans (sequences x runs)")
    if arr.dtype != bool:
        if not np.isin(arr, [0, 1]).all():
            raise ParameterError(name, "must hold booleans (extracted or not) per sequence and run")
        arr = arr.astype(bool)
    return arr


def design_label(n_sequences: int, n_runs: int) -> str:
    """How a clustered extraction count is described: ``"150 sequences × 3 runs"``."""
    return f"{n_sequences} sequences × {n_runs} run{'s' if n_runs != 1 else ''}"


def _cluster_share(y: np.ndarray, runs: int, level: float) -> tuple[float, float, float, float]:
    """Korn-Graubard interval for a share observed on clusters: ``y`` holds each cluster's share
    (successes over its ``runs`` trials). Effective sample size ``n* = s(1 - s) / var(s)`` with the
    variance between clusters, kept between the number of clusters (perfectly clustered runs) and the
    number of trials (independent runs); then Clopper-Pearson with ``k* = s n*`` (beta quantiles, so a
    fractional k is fine). Returns ``(share, lo, hi, n*)``."""
    m = y.size
    s = float(y.mean())
    var = float(y.var(ddof=1)) / m if m > 1 else math.nan
    n_eff = float(m) if not (0 < s < 1 and var > 0) else min(max(s * (1 - s) / var, m), m * runs)
    a = (1 - level) / 2
    k = s * n_eff
    lo = 0.0 if k <= 0 else float(_st.beta.ppf(a, k, n_eff - k + 1))
    hi = 1.0 if k >= n_eff else float(_st.beta.isf(a, k + 1, n_eff - k))
    return s, lo, hi, n_eff


def _cluster_share_p(s0: float, share: float, n_eff: float) -> float:
    """Two-sided p of "the share is ``s0``" matching :func:`_cluster_share`'s Clopper-Pearson interval."""
    if s0 <= 0:
        return 1.0 if share <= 0 else 0.0
    if s0 >= 1:
        return 1.0 if share >= 1 else 0.0
    k = share * n_eff
    ge = 1.0 if k <= 0 else float(_st.beta.cdf(s0, k, n_eff - k + 1))  # P(Bin(n*, s0) >= k)
    le = 1.0 if k >= n_eff else float(_st.beta.sf(s0, k + 1, n_eff - k))  # P(Bin(n*, s0) <= k)
    return float(min(1.0, 2 * min(ge, le)))


def _drop_extremes(size: int, level: float, plantings: int) -> tuple[tuple[float, float], ...]:
    """The intervals of the relative drop when nothing is still extracted after training (the highest
    lower end any data can give) and when everything is (the lowest upper end), with ``size`` effective
    clusters before any design effect: sequences extracted before (one shared base), or extractions
    before (sequence × run pairs) over ``plantings`` plantings, shrunk by their t ratio as
    :func:`resurface.evidence.plantings.kg_share` does."""
    a = (1 - level) / 2
    n_eff = float(size)
    if plantings >= 2:
        n_eff *= (_st.t.ppf(1 - a, max(size - 1, 1)) / _st.t.ppf(1 - a, plantings - 1)) ** 2
    if n_eff <= 0:
        return ((-math.inf, 1.0),)
    none_left = float(_st.beta.isf(a, 1, n_eff))  # upper end of the share still extracted, 0 observed
    all_left = float(_st.beta.ppf(a, n_eff, 1))  # lower end of the share, all observed
    return ((1 - none_left, 1.0), (0.0, 1 - all_left))


def drop_reach(size: int, *, level: float = 0.95, plantings: int = 1) -> Reach:
    """What a relative drop of extraction can show at all (:class:`Reach`): with one shared base,
    ``size`` is the number of sequences extracted before training (the clusters); with plantings, the
    extractions before training summed over them. A drop "of more than 95%" needs about 72 sequences
    with one base, and with 3 plantings (2 df) about 345 extractions, even when nothing is left after."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
        raise ParameterError("size", f"must be a non-negative integer, got {size!r}")
    level = _check_level(level)
    unit = ("sequences extracted before training" if plantings < 2 else
            f"extractions before training (sequence × run, over {plantings} plantings)")
    return Reach(_drop_extremes(int(size), level, int(plantings)), unit, int(size),
                 at=functools.partial(_drop_at, level=level, plantings=int(plantings)), max_size=10 ** 6)


def _drop_at(size: int, *, level: float, plantings: int) -> tuple[tuple[float, float], ...]:
    return _drop_extremes(int(size), level, plantings)


def relative_drop_clustered(before, after, *, level: float = 0.95, null: float = 0.0, method: str = "exact",
                            B: int = 2000, seed=0) -> Estimate:
    """Relative drop ``(k0 - k1) / k0`` of extraction when every run plants the **same** sequences.

    ``after`` is a ``(n_sequences, n_runs)`` boolean matrix (extracted by run r's trained model);
    ``before`` is the same shape (each run's own starting model) or ``(n_sequences,)`` (one base model
    shared by the runs, counted once per run). ``k0``, ``k1`` sum over sequences and runs; the drop is
    one minus the share still extracted, ``k1 / k0``. Sequences are the clusters: a sequence that
    survives one run tends to survive the others, so sequence × run rows are not independent trials
    (treating 150 sequences × 3 runs with 3 sequences surviving every run as 450 trials gave
    0.975 [0.959, 0.989]). ``n_items`` is the number of sequences, ``n_subsets`` the number of runs,
    ``note`` says "150 sequences × 3 runs".

    ``method="exact"`` (default): Korn-Graubard's design-effect-adjusted Clopper-Pearson interval on the
    share still extracted, over the sequences extracted before (effective trials between their number
    and sequences × runs; :func:`_cluster_share`), and the matching binomial p-value of ``drop == null``.
    ``method="bootstrap"``: percentile interval of ``B`` resamples of whole sequences (the issue's
    example gives about [0.943, 1.000]); simulated with strongly clustered survival (Beta-distributed
    per-sequence survival, 120 sequences, 3 runs) it excluded a true drop of 95% 6% of the time, the
    exact interval 3.75% (benchmarks/sim_verdicts.py), hence the default.

    ``k0 == 0``: undefined (all-NaN, with a note). ``k1 == 0``: the lower end is
    ``1 - CP_hi(0, sequences extracted before)`` (a sequence counts once however many runs it was
    tested in). The SE is the half-width over z, so the MDE is never 0.
    """
    b1 = _extraction_matrix(after, "after")
    b0 = np.asarray(before)
    if b0.ndim == 1:
        b0 = np.repeat(_bool_array(b0, "before")[:, None], b1.shape[1], axis=1)
    else:
        b0 = _extraction_matrix(b0, "before")
    if b0.shape != b1.shape:
        raise ParameterError("after", f"must be (sequences x runs) matching 'before' {b0.shape}, got {b1.shape}")
    if method not in ("exact", "bootstrap"):
        raise ParameterError("method", f"unknown method {method!r}", "exact, bootstrap")
    level = _check_level(level)
    B = _check_B(B)
    n, runs = b1.shape
    label = design_label(n, runs)
    z = _st.norm.ppf(0.5 + level / 2)
    per0, per1 = b0.sum(axis=1).astype(float), b1.sum(axis=1).astype(float)
    k0, k1 = float(per0.sum()), float(per1.sum())
    if k0 == 0:
        nan = math.nan
        return Estimate(nan, nan, nan, nan, nan, n, runs, level, "relative drop", null=null,
                        note=f"no sequence was extracted before: the relative drop is undefined ({label})")
    est = (k0 - k1) / k0
    if method == "exact" or k1 == 0:
        src = per0 > 0
        # the share still extracted, per sequence extracted before (its runs' survivals over its tries);
        # sequences first extracted after training count in k1 as in the drop's own definition
        y = per1[src] / per0[src]
        extra = float(per1[~src].sum())
        share, s_lo, s_hi, n_eff = _cluster_share(y, runs, level)
        share = 1 - est  # exact k1 / k0 (equal to the mean of y when no sequence is new after training)
        if extra > 0:
            s_hi = min(1.0, s_hi + extra / k0)
        lo, hi = 1 - s_hi, 1 - s_lo
        p = _cluster_share_p(1 - null, share, n_eff)
        how = "exact (Korn-Graubard Clopper-Pearson over sequences)" + (", k1 = 0" if k1 == 0 else "")
        return Estimate(est, lo, hi, (hi - lo) / (2 * z), p, n, runs, level, how, null=null,
                        reach=drop_reach(int(src.sum()), level=level),
                        note=label if k1 else f"nothing extracted after: exact bound on the share still extracted ({label})")
    rng = _rng(seed)
    draws, dropped = [], 0
    for start in range(0, B, 512):
        b = min(512, B - start)
        c = _counts(rng, b, n)
        k0s, k1s = c @ per0, c @ per1
        ok = k0s > 0
        dropped += int((~ok).sum())
        draws.append((k0s[ok] - k1s[ok]) / k0s[ok])
    d = np.concatenate(draws)
    if d.size == 0:
        raise ParameterError("before", "every resample had no extracted sequence; too few extractions")
    lo, hi = np.quantile(d, [0.5 - level / 2, 0.5 + level / 2])
    return Estimate(est, float(lo), float(hi), float(d.std(ddof=1)) if d.size > 1 else 0.0,
                    _percentile_p(d, null), n, runs, level, "bootstrap over sequences (clusters of runs)",
                    null=null, B=B, n_dropped=dropped, note=label, reach=drop_reach(int((per0 > 0).sum()), level=level))


def extracted_share_clustered(extracted, *, level: float = 0.95) -> Estimate:
    """Share of (sequence, run) pairs extracted, from a ``(n_sequences, n_runs)`` boolean matrix, with
    Korn-Graubard's design-effect-adjusted Clopper-Pearson interval (sequences as clusters: every run
    plants the same sequences, so the runs of one sequence are not independent trials; effective trials
    between the number of sequences and sequences × runs). ``note``: "150 sequences × 3 runs"."""
    x = _extraction_matrix(extracted, "extracted")
    level = _check_level(level)
    n, runs = x.shape
    share, lo, hi, _ = _cluster_share(x.mean(axis=1), runs, level)
    se = (hi - lo) / (2 * _st.norm.ppf(0.5 + level / 2))
    return Estimate(share, lo, hi, se, math.nan, n, runs, level,
                    "exact (Korn-Graubard Clopper-Pearson over sequences)", note=design_label(n, runs))


def relative_drop_ci(before, after, *, B: int = 2000, level: float = 0.95, seed=0,
                     null: float = 0.0, method: str = "exact") -> Estimate:
    """Relative drop ``(k0 - k1) / k0`` of extracted sequences on the **same** sequences:
    :func:`relative_drop_clustered` (see there). ``after`` is per-sequence booleans of one run, or a
    (sequences x runs) matrix when several runs plant the same sequences (never flatten runs into extra
    sequences: they are not independent). ``null`` is the value the p-value tests (e.g. 0.95 for "falls
    by more than 95%"). ``B`` and ``seed`` serve ``method="bootstrap"`` only."""
    after_arr = np.asarray(after)
    if after_arr.ndim == 1:
        b0, b1 = _bool_array(before, "before"), _bool_array(after_arr, "after")
        if b0.shape != b1.shape:
            raise ParameterError("after", f"must have one value per sequence of 'before' ({b0.size}), got {b1.size}")
        before, after_arr = b0, b1[:, None]
    return relative_drop_clustered(before, after_arr, level=level, null=null, method=method, B=B, seed=seed)


# ---------------------------------------------------------------------------------------------
# rank correlation over a handful of corpora
# ---------------------------------------------------------------------------------------------
def _rank_rows(a: np.ndarray) -> np.ndarray:
    return _st.rankdata(a, axis=1)  # average ranks for ties


def _row_corr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    den = np.sqrt((xc ** 2).sum(axis=1) * (yc ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xc * yc).sum(axis=1) / den
    return np.where(den > 1e-12, r, np.nan)


def spearman_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman ρ of each row of ``x`` with the same row of ``y`` (B x n arrays; average ranks for ties);
    NaN where a row is constant."""
    return _row_corr(_rank_rows(np.asarray(x, float)), _rank_rows(np.asarray(y, float)))


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
    rx = _rank_rows(z1 / g)
    out = np.empty((grid.size, draws))
    for j, rj in enumerate(r):
        y = (rj * z1 + math.sqrt(max(0.0, 1 - rj * rj)) * z2) / g
        out[j] = np.sort(_row_corr(rx, _rank_rows(y)))
    if copula == "gaussian":
        return grid, out
    big = np.random.default_rng(seed + 1)
    w1, w2 = big.standard_normal(20_000), big.standard_normal(20_000)
    h = np.sqrt(big.chisquare(3, 20_000) / 3)
    ranks1 = _st.rankdata(w1 / h)
    rho_s = np.array([_row_corr(ranks1[None], _st.rankdata((rj * w1 + math.sqrt(max(0.0, 1 - rj * rj)) * w2)
                                                             / h)[None])[0] for rj in r])
    return np.maximum.accumulate(rho_s), out  # monotone in r


def _permutation_null(rx: np.ndarray, ry: np.ndarray, n: int, rng: np.random.Generator,
                      permutations: int) -> tuple[np.ndarray, bool]:
    """ρ of ``rx`` with every order of ``ry`` (all ``n!`` when ``n <= SPEARMAN_EXACT_MAX``, else
    ``permutations`` random ones); second value: whether it is exact."""
    exact = n <= SPEARMAN_EXACT_MAX
    if exact and _no_ties(rx) and _no_ties(ry):
        return _untied_null(n), True  # depends on n only
    perms = (np.array(list(itertools.permutations(range(n)))) if exact
             else np.argsort(rng.random((permutations, n)), axis=1))
    return _row_corr(np.broadcast_to(rx, perms.shape), ry[0][perms]), exact


def _no_ties(r: np.ndarray) -> bool:
    return bool(np.unique(r).size == r.size)


@functools.lru_cache(maxsize=16)
def _untied_null(n: int) -> np.ndarray:
    """ρ of ranks 1..n with each of their n! orders (read-only, cached)."""
    perms = np.array(list(itertools.permutations(range(n))))
    base = np.arange(n, dtype=float)[None]
    out = _row_corr(np.broadcast_to(base, perms.shape), perms.astype(float))
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
    level = _check_level(level)
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
    level = _check_level(level)
    B = _check_B(B)
    rng = _rng(seed)
    n = xa.size
    alpha = 1 - level
    z = _st.norm.ppf(0.5 + level / 2)
    rx, ry = _rank_rows(xa[None]), _rank_rows(ya[None])
    rho = float(_row_corr(rx, ry)[0])
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
                        note=f"not testable here: with {n} corpora the smallest attainable p is {p_min:.3f} "
                             f"(one-sided, the most extreme order), above the {alpha / 2:g} a "
                             f"{100 * level:g}% interval needs on each side")
    if n > SPEARMAN_INVERSION_MAX:
        idx = rng.integers(0, n, size=(B, n))
        r = _row_corr(_rank_rows(xa[idx]), _rank_rows(ya[idx]))
        ok = np.isfinite(r)
        d = r[ok]
        lo, hi = np.quantile(d, [0.5 - level / 2, 0.5 + level / 2])
        return Estimate(rho, float(lo), float(hi), float(d.std(ddof=1)), p, n, 0, level,
                        "Spearman, bootstrap over pairs; permutation p", B=B, n_dropped=int((~ok).sum()))
    lo, hi = _inversion_interval(rho, n, alpha, ge, le, int(draws))
    return Estimate(rho, lo, hi, (hi - lo) / (2 * z), p, n, 0, level, method, note=f"{n} corpora",
                    reach=spearman_reach(n, level=level, draws=int(draws)))


# ---------------------------------------------------------------------------------------------
# multiplicity and power
# ---------------------------------------------------------------------------------------------
def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjusted p-values (monotone in the raw order, capped at 1). NaN entries stay
    NaN and do not count towards the number of tests."""
    def adjust(q: np.ndarray) -> np.ndarray:
        m = q.size
        order = np.argsort(q, kind="stable")
        res = np.empty(m)
        res[order] = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * q[order]))
        return res

    return _adjusted(pvalues, adjust)


def bh(pvalues) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (step-up; monotone, capped at 1): rejecting where they are
    below q controls the false-discovery rate at q for independent or positively dependent tests. NaN
    entries stay NaN and do not count towards the number of tests."""
    def adjust(q: np.ndarray) -> np.ndarray:
        m = q.size
        order = np.argsort(q, kind="stable")[::-1]  # largest first
        res = np.empty(m)
        res[order] = np.minimum(1.0, np.minimum.accumulate(q[order] * m / np.arange(m, 0, -1)))
        return res

    return _adjusted(pvalues, adjust)


def _adjusted(pvalues, adjust) -> np.ndarray:
    """Check 1-d p-values in [0, 1] and apply ``adjust`` to the non-NaN ones (NaN stays NaN, uncounted)."""
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1:
        raise ParameterError("pvalues", "must be 1-d")
    ok = ~np.isnan(p)
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        raise ParameterError("pvalues", "must lie in [0, 1]")
    out = np.full(p.shape, np.nan)
    if ok.any():
        out[ok] = adjust(p[ok])
    return out


def mde(se: float, alpha: float = 0.05, power: float = 0.8, df: float | None = None) -> float:
    """Minimum detectable effect of a two-sided test: ``(q(1 - alpha/2) + q(power)) * se`` with normal
    quantiles (≈ 2.8 se at the defaults), or t quantiles with ``df`` degrees of freedom."""
    if not np.isfinite(se) or se < 0:
        raise ParameterError("se", f"must be a finite non-negative number, got {se!r}")
    _check_level(alpha, "alpha")
    _check_level(power, "power")
    if df is None or not np.isfinite(df):
        return float((_st.norm.ppf(1 - alpha / 2) + _st.norm.ppf(power)) * se)
    if df <= 0:
        raise ParameterError("df", f"must be positive, got {df!r}")
    return float((_st.t.ppf(1 - alpha / 2, df) + _st.t.ppf(power, df)) * se)
