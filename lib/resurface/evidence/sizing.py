"""How big a study must be: the variance components of a contrast from a pilot (:func:`variance_components`:
once items are plentiful, more runs buy more than more items), the split of run-to-run spread into
training subsets and seeds (:func:`nested_spread`), and the minimum detectable effect of a two-sided
test (:func:`mde`) (computation only; no prose).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd
from scipy import stats as _st

from resurface.errors import ParameterError
from resurface.evidence.estimates import check_level
from resurface.evidence.paired import check_table, check_weights, delta_matrices


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
    w = check_weights(weights)
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


def mde(se: float, alpha: float = 0.05, power: float = 0.8, df: float | None = None) -> float:
    """Minimum detectable effect of a two-sided test: ``(q(1 - alpha/2) + q(power)) * se`` with normal
    quantiles (≈ 2.8 se at the defaults), or t quantiles with ``df`` degrees of freedom."""
    if not np.isfinite(se) or se < 0:
        raise ParameterError("se", f"must be a finite non-negative number, got {se!r}")
    check_level(alpha, "alpha")
    check_level(power, "power")
    if df is None or not np.isfinite(df):
        return float((_st.norm.ppf(1 - alpha / 2) + _st.norm.ppf(power)) * se)
    if df <= 0:
        raise ParameterError("df", f"must be positive, got {df!r}")
    return float((_st.t.ppf(1 - alpha / 2, df) + _st.t.ppf(power, df)) * se)
