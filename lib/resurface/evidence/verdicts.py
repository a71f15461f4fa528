"""Verdicts on the paper's claims from intervals (computation and labels only; page prose lives in
:mod:`resurface.evidence.findings`).

Four kinds of claim (:class:`resurface.evidence.claims.Claim`); :func:`decide` holds the rules, with
``t`` the threshold, ``m`` the margin and ``[lo, hi]`` the interval, oriented so that the paper expects
the statistic on the ``direction`` side of ``t``:

==================  =============================================  ==========================================
kind                *agrees*                                       *contradicts*
==================  =============================================  ==========================================
``direction``       the interval excludes ``t`` on the paper's     it excludes ``t`` on the other side
                    side (usually ``t = 0``)
``threshold``       the interval lies wholly on the paper's side   it lies wholly on the other side
                    of ``t`` (e.g. "a drop of more than 95%")
``equivalence``     the whole interval lies inside ``t ± m``       the whole interval lies outside it
                                                                   (``lo > t + m`` or ``hi < t - m``)
``noninferiority``  the lower end is above ``t - m``               the whole interval lies below ``t - m``
==================  =============================================  ==========================================

Everything else is *inconclusive*, with the minimum detectable effect
(:func:`resurface.evidence.stats.mde`, t quantiles when the estimate has finite df; "undefined" when
the estimate has no positive standard error). An interval that merely excludes ``t`` but reaches
inside the margin does not contradict an equivalence or non-inferiority claim: the margin is what the
claim tolerates. The estimate's own interval is used (95%: a stricter test than TOST's 90% interval, so
at a true effect exactly on the margin a false *agrees* has probability at most 2.5%). An estimate that
cannot reach the level with any data (:attr:`Estimate.testable` False, e.g. Spearman's ρ over 3 corpora)
or has no interval is *not testable here*, with the reason.

Multiplicity (:func:`verdict_table`): Holm's step-down adjusted p-values over the rows of one page
(rows *not testable here* are left out of the count, as Tarone's correction for discrete tests does:
no result of theirs could have been significant, so they cost no error rate; their ``p_holm`` is NaN). By
default (``adjust=True``) a verdict that rests on the interval excluding the null (*agrees* for
direction and threshold claims, *contradicts* for any kind) also needs ``p_holm < 1 - level``;
otherwise it becomes *inconclusive* with a note. Equivalence/non-inferiority *agrees* rest on the
margin, not on a p-value, and are left as they are. ``adjust=False`` gives per-claim verdicts (then say
the intervals are per-claim).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from resurface.errors import ParameterError
from resurface.evidence.claims import CLAIMS, Claim
from resurface.evidence.stats import Estimate, holm, mde

AGREES = "agrees with the paper"
CONTRADICTS = "contradicts the paper"
INCONCLUSIVE = "inconclusive"
NOT_TESTABLE = "not testable here"
LABELS = (AGREES, CONTRADICTS, INCONCLUSIVE, NOT_TESTABLE)
KINDS = ("direction", "equivalence", "noninferiority", "threshold")


@dataclass(frozen=True)
class Verdict:
    """A label (one of :data:`LABELS`) and a short note (the MDE for an inconclusive one)."""

    label: str
    note: str = ""

    def __str__(self) -> str:
        return self.label


def _mde_of(est: Estimate, alpha: float) -> float:
    """The estimate's minimum detectable effect, NaN when undefined (no positive, finite SE: nothing
    varied, e.g. nothing extracted after training, or a degenerate resampling distribution)."""
    if not np.isfinite(est.se) or est.se <= 0:
        return math.nan
    return mde(est.se, alpha=alpha, df=est.df if np.isfinite(est.df) else None)


def mde_text(value: float, digits: int = 3) -> str:
    """How an MDE is printed: the number, or ``"undefined"`` (never 0)."""
    return f"{value:.{digits}g}" if np.isfinite(value) and value > 0 else "undefined"


def decide(lo: float, hi: float, *, kind: str = "direction", threshold: float = 0.0,
           margin: float | None = None, direction: int = 1) -> str:
    """The label of an interval ``[lo, hi]`` for a claim (the rules of the module docstring's table);
    :data:`NOT_TESTABLE` when an end is not finite. Pure: recompute a printed verdict from its row."""
    if kind not in KINDS:
        raise ParameterError("kind", f"unknown kind {kind!r}", ", ".join(KINDS))
    if direction not in (1, -1):
        raise ParameterError("direction", f"must be +1 or -1, got {direction!r}")
    if kind in ("equivalence", "noninferiority") and (margin is None or not np.isfinite(margin) or margin <= 0):
        raise ParameterError("margin", f"a {kind} claim needs a positive margin, got {margin!r}")
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return NOT_TESTABLE
    if lo > hi:
        raise ParameterError("lo", f"must not exceed hi, got [{lo}, {hi}]")
    t = float(threshold)
    # orient so that the paper expects large values
    a, b, tt = (lo, hi, t) if direction == 1 else (-hi, -lo, -t)
    if kind in ("direction", "threshold"):
        return AGREES if a > tt else CONTRADICTS if b < tt else INCONCLUSIVE
    if kind == "equivalence":
        if lo > t - margin and hi < t + margin:
            return AGREES
        return CONTRADICTS if (lo > t + margin or hi < t - margin) else INCONCLUSIVE
    # non-inferiority
    return AGREES if a > tt - margin else CONTRADICTS if b < tt - margin else INCONCLUSIVE


def verdict(est: Estimate, direction: int = 1, *, kind: str = "direction", threshold: float | None = None,
            margin: float | None = None) -> Verdict:
    """The verdict of one estimate on one claim (:func:`decide`, with a note). ``threshold`` defaults
    to the estimate's ``null``; when given it must equal it (the p-value tests that value)."""
    if not isinstance(est, Estimate):
        raise ParameterError("est", f"must be a resurface.evidence.stats.Estimate, got {type(est).__name__}")
    if direction not in (1, -1):
        raise ParameterError("direction", f"must be +1 or -1, got {direction!r}")
    if kind not in KINDS:
        raise ParameterError("kind", f"unknown kind {kind!r}", ", ".join(KINDS))
    t = est.null if threshold is None else float(threshold)
    if not math.isclose(t, est.null, abs_tol=1e-12):
        raise ParameterError("threshold", f"{t} differs from the estimate's null ({est.null}); compute the "
                                          "estimate with null=threshold so its p-value tests the same value")
    if kind in ("equivalence", "noninferiority"):
        if margin is None or not np.isfinite(margin) or margin <= 0:
            raise ParameterError("margin", f"a {kind} claim needs a positive margin, got {margin!r}")
    if not getattr(est, "testable", True):
        return Verdict(NOT_TESTABLE, est.note or "no result could reach the level with this design")
    if not (np.isfinite(est.lo) and np.isfinite(est.hi)):
        return Verdict(NOT_TESTABLE, est.note or "no interval could be computed")
    alpha = 1 - est.level
    hide = _mde_of(est, alpha)
    hide_note = (f"an effect smaller than {hide:.3g} could still hide here" if np.isfinite(hide) else
                 "the minimum detectable effect is undefined: the estimate has no positive standard error")
    label = decide(est.lo, est.hi, kind=kind, threshold=t, margin=margin, direction=direction)
    if kind in ("direction", "threshold"):
        side = ("above" if direction == 1 else "below") if kind == "threshold" else "in the paper's direction"
        if label == AGREES:
            return Verdict(AGREES, f"the interval lies wholly {side} {t:g}" if kind == "threshold"
                           else f"the interval excludes {t:g} in the paper's direction")
        if label == CONTRADICTS:
            return Verdict(CONTRADICTS, f"the interval lies wholly on the other side of {t:g}")
        return Verdict(INCONCLUSIVE, f"the interval covers {t:g}; {hide_note}")
    if kind == "equivalence":
        if label == AGREES:
            return Verdict(AGREES, f"the whole interval lies within {t:g} ± {margin:.3g}")
        if label == CONTRADICTS:
            return Verdict(CONTRADICTS, f"the whole interval lies outside {t:g} ± {margin:.3g}")
        return Verdict(INCONCLUSIVE, f"the interval reaches both inside and beyond {t:g} ± {margin:.3g}; {hide_note}")
    bound = t - direction * margin
    if label == AGREES:
        return Verdict(AGREES, f"the interval stays on the paper's side of {bound:g} (margin {margin:.3g})")
    if label == CONTRADICTS:
        return Verdict(CONTRADICTS, f"the whole interval lies beyond the tolerated loss ({bound:g}, margin {margin:.3g})")
    return Verdict(INCONCLUSIVE, f"the interval reaches beyond the tolerated loss ({bound:g}, margin {margin:.3g}); {hide_note}")


@dataclass(frozen=True)
class VerdictRow:
    """One row of a page's verdict table. ``model``: the model (alias) whose runs or scores the row is
    about, where it is not the figure's own (:func:`resurface.evidence.claims.regime`); empty: the figure's."""

    claim_id: str
    claim: str
    figure: str
    metric: str
    estimate: float
    lo: float
    hi: float
    mde: float
    n_items: int
    n_subsets: int
    p: float
    p_holm: float
    verdict: str
    note: str = ""
    kind: str = "direction"
    direction: int = 1
    threshold: float = 0.0
    margin: float | None = None
    level: float = 0.95
    item_noise_only: bool = False
    model: str = ""


def make_row(claim: str | Claim, est: Estimate, metric: str, *, margin: float | None = None,
             model: str = "") -> VerdictRow:
    """A :class:`VerdictRow` for a registered claim (id or :class:`Claim`) and its estimate; ``margin``
    overrides the claim's; ``model`` names the model whose runs the row is about (empty: the figure's).
    The verdict here is per-claim; :func:`verdict_table` applies Holm."""
    if isinstance(claim, str):
        if claim not in CLAIMS:
            raise ParameterError("claim", f"unknown claim id {claim!r}", ", ".join(CLAIMS))
        claim = CLAIMS[claim]
    m = claim.margin if margin is None else margin
    v = verdict(est, claim.direction, kind=claim.kind, threshold=claim.threshold, margin=m)
    note = v.note + ("; one training subset: the interval reflects item noise only" if est.item_noise_only else "")
    return VerdictRow(claim.id, claim.text, claim.figure, metric, est.estimate, est.lo, est.hi,
                      _mde_of(est, 1 - est.level), est.n_items, est.n_subsets, est.p, est.p, v.label, note,
                      claim.kind, claim.direction, claim.threshold, m, est.level, est.item_noise_only, model)


def verdict_table(rows: list[VerdictRow], *, adjust: bool = True) -> pd.DataFrame:
    """The rows of one page as a DataFrame, with Holm-adjusted p-values over the rows (``p_holm``). With
    ``adjust`` (default) a verdict resting on excluding the null must also survive Holm (see the
    module docstring); ``adjust=False`` keeps per-claim verdicts."""
    if not isinstance(rows, (list, tuple)) or not all(isinstance(r, VerdictRow) for r in rows):
        raise ParameterError("rows", "must be a list of VerdictRow")
    df = pd.DataFrame([asdict(r) for r in rows], columns=[f.name for f in VerdictRow.__dataclass_fields__.values()])
    if df.empty:
        return df
    # rows that no result could make significant (not testable here) do not count as tests (Tarone 1990)
    p = df["p"].to_numpy(dtype=float).copy()
    p[(df["verdict"] == NOT_TESTABLE).to_numpy()] = np.nan
    df["p_holm"] = holm(p)
    if adjust:
        m = int(np.isfinite(p).sum())
        for i, r in df.iterrows():
            rests_on_null = r["verdict"] == CONTRADICTS or (r["verdict"] == AGREES
                                                            and r["kind"] in ("direction", "threshold"))
            if rests_on_null and not (r["p_holm"] < 1 - r["level"]):
                df.at[i, "verdict"] = INCONCLUSIVE
                df.at[i, "note"] = (f"the interval excludes {r['threshold']:g}, but not after Holm's correction "
                                    f"over {m} claims (p_holm = {r['p_holm']:.3g})")
    return df


def format_interval(est: Estimate, digits: int = 3) -> str:
    """``+0.012 [−0.004, +0.028]`` with the level, and a marker when runs are missing from it."""
    if not np.isfinite(est.estimate):
        return "n/a"
    f = f"{{:+.{digits}f}}"
    s = f"{f.format(est.estimate)} [{f.format(est.lo)}, {f.format(est.hi)}] ({100 * est.level:g}%)"
    if est.item_noise_only:
        s += " (one subset: item noise only)"
    return s
