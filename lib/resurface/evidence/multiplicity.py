"""Multiplicity adjustments of p-values over a verdict table's rows: :func:`holm` (family-wise) and
:func:`bh` (false-discovery rate) (computation only; no prose).
"""

from __future__ import annotations

import numpy as np

from resurface.errors import ParameterError


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

