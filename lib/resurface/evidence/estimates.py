"""The result type of every interval of the evidence layer (:class:`Estimate`, and :class:`Reach`: what
a design can show before any data), with the argument checks and resampling helpers the procedures
share (computation only; no prose).

The procedures live by what they estimate: :mod:`resurface.evidence.paired` (contrasts of per-item
Δ, paired on items, over training runs), :mod:`resurface.evidence.sizing` (variance components, nested
spread, minimum detectable effect), :mod:`resurface.evidence.extraction` (counts and relative drops of
extraction, sequences as clusters of runs), :mod:`resurface.evidence.ranks` (Spearman ρ over a handful
of corpora) and :mod:`resurface.evidence.multiplicity` (Holm, Benjamini-Hochberg).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy import stats as _st

from resurface.errors import ParameterError


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

    ``n_items`` counts the resampled units (items; sequences for
    :func:`resurface.evidence.extraction.relative_drop_ci`; pairs, i.e. corpora, for
    :func:`resurface.evidence.ranks.spearman_ci`). ``n_subsets`` is the smallest number of training runs of
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
# argument checks and resampling
# ---------------------------------------------------------------------------------------------
def check_level(level: float, name: str = "level") -> float:
    """``level`` (a confidence level, or the parameter ``name``) as a float strictly between 0 and 1, else ParameterError."""
    if not isinstance(level, (int, float)) or isinstance(level, bool) or not 0 < level < 1:
        raise ParameterError(name, f"must be a number strictly between 0 and 1, got {level!r}")
    return float(level)


def check_resamples(B: int) -> int:
    """``B``, the number of bootstrap resamples, as a positive int, else ParameterError."""
    if isinstance(B, bool) or not isinstance(B, (int, np.integer)) or B < 1:
        raise ParameterError("B", f"must be a positive integer (number of resamples), got {B!r}")
    return int(B)


def make_rng(seed) -> np.random.Generator:
    """A numpy Generator from ``seed`` (a non-negative integer; a Generator is returned as it is)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError("seed", f"must be a non-negative integer or a numpy Generator, got {seed!r}")
    return np.random.default_rng(int(seed))



def percentile_p(draws: np.ndarray, null: float) -> float:
    """Two-sided bootstrap p-value ``2 min(P(d <= null), P(d >= null))``, floored at 1/(B+1)."""
    B = draws.size
    p = 2 * min(np.mean(draws <= null), np.mean(draws >= null))
    return float(min(1.0, max(p, 1.0 / (B + 1))))



def resample_counts(rng: np.random.Generator, b: int, n: int) -> np.ndarray:
    """``b x n`` counts of each unit in ``b`` resamples with replacement of ``n`` units, built from a
    ``b x n`` index matrix."""
    idx = rng.integers(0, n, size=(b, n))
    flat = (np.arange(b)[:, None] * n + idx).ravel()
    return np.bincount(flat, minlength=b * n).reshape(b, n).astype(float)

