"""Intervals for contrasts of per-item Δ, paired on items, over training runs (computation only; no
prose).

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
detectable effect is about 3.8 SE or more, not 2.8 (:func:`resurface.evidence.sizing.mde` takes ``df``).
With a single run in some condition, its run variance cannot be estimated: the interval then reflects
item noise only, and :attr:`Estimate.item_noise_only` says so.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as _st

from resurface.errors import ParameterError
from resurface.evidence.estimates import Estimate, check_level, check_resamples, make_rng, percentile_p, resample_counts

TABLE_COLUMNS = ("condition", "subset", "item", "value")
METHODS = ("t", "percentile")
# the df of the t interval count the run variance at this lower chi-square quantile (its 75% upper bound)
RUN_DF_QUANTILE = 0.25


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise ParameterError("method", f"unknown method {method!r}", ", ".join(METHODS))
    return method




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


def check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """The non-zero weights of ``{condition: weight}`` as floats; ParameterError unless finite and not all zero."""
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



def _bootstrap_draws(mats: dict[str, np.ndarray], w: dict[str, float], B: int,
                     rng: np.random.Generator, chunk: int = 512) -> np.ndarray:
    """``B`` draws of ``sum_c w_c * mean_s* mean_i* D_c[s*, i*]``: subsets resampled independently per
    condition, items with the same indices for every condition and subset."""
    n_i = next(iter(mats.values())).shape[1]
    out = np.empty(B)
    for start in range(0, B, chunk):
        b = min(chunk, B - start)
        ci = resample_counts(rng, b, n_i) / n_i  # shared item resample
        tot = np.zeros(b)
        for c, wc in w.items():
            D = mats[c]
            cs = resample_counts(rng, b, D.shape[0]) / D.shape[0]  # this condition's own runs
            tot += wc * np.einsum("bs,bs->b", cs, ci @ D.T)
        out[start:start + b] = tot
    return out


def contrast_arrays(mats: Mapping[str, np.ndarray], weights: Mapping[str, float], *, method: str = "t",
                    B: int = 2000, level: float = 0.95, seed=0, null: float = 0.0) -> Estimate:
    """:func:`paired_bootstrap` on arrays: ``mats[c]`` is condition c's ``n_subsets x n_items`` per-item
    Δ (items in the same order in every array). For simulations and callers that hold arrays."""
    w = check_weights(weights)
    _check_method(method)
    level = check_level(level)
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
    B = check_resamples(B)
    rng = make_rng(seed)
    est = float(sum(wc * arrs[c].mean() for c, wc in w.items()))
    draws = _bootstrap_draws(arrs, w, B, rng)
    lo, hi = np.quantile(draws, [0.5 - level / 2, 0.5 + level / 2])
    return Estimate(est, float(lo), float(hi), float(draws.std(ddof=1)) if B > 1 else 0.0,
                    percentile_p(draws, null), n_i, min(n_sub.values()), level, "percentile",
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
    w = check_weights(weights)
    _check_method(method)
    check_level(level)
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

