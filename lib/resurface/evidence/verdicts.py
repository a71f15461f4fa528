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

(columns oriented by ``direction``). A non-inferiority claim in the downward direction (``direction =
-1``) is a claim of *no gain*: its *agrees* needs the interval below ``t + m``, and an interval wholly
below ``t - m`` is a collapse, not "no gain": *inconclusive*, with the note saying the model collapsed.
A direction claim may carry a margin: its smallest effect of interest, registered before the runs; an
interval wholly below ``t + m`` (oriented) then *contradicts* it, a decisive negative.

Everything else is *inconclusive*, with the minimum detectable effect
(:func:`resurface.evidence.sizing.mde`, t quantiles when the estimate has finite df; "undefined" when
the estimate has no positive standard error). An interval that merely excludes ``t`` but reaches
inside the margin does not contradict an equivalence or non-inferiority claim: the margin is what the
claim tolerates. The estimate's own interval is used (95%: a stricter test than TOST's 90% interval, so
at a true effect exactly on the margin a false *agrees* has probability at most 2.5%). An estimate that
cannot reach the level with any data (:attr:`Estimate.testable` False, e.g. Spearman's ρ over 3 corpora)
or has no interval is *not testable here*, with the reason.

Reachability (:func:`reachable_words`, before the data): a design bounds what its estimator can show
(:class:`resurface.evidence.estimates.Reach`: the intervals at the most extreme outcomes, e.g. ρ = ±1 and the
attainable ρ nearest 0 over 5 corpora, or nothing left after training). A word none of those intervals
gives cannot be reached whatever the data: the row's ``reachable`` says which words can be
(:data:`REACHABLE`). A row with an unreachable word that would print *inconclusive* prints *not testable
here* instead, naming the design that would reach the word (:func:`design_to_reach`: e.g. 18 corpora
for |ρ| < 0.5); a word reached is kept. A claim about a time course ("transient", "later decay",
"sustained") is *not testable here (one epoch)* when the profile plans fewer epochs than the claim's
``min_epochs``. An MDE is shown only where it means something (:func:`mde_meaningful`).

Multiplicity (:func:`verdict_table`): Holm's step-down adjusted p-values over the rows of one page,
on each row's ``p_test`` (:func:`p_test`): the p at the null for direction and threshold claims, at
the margin for equivalence and non-inferiority claims (TOST's p on the interval's two-sided scale, the
smaller of the *agrees* and *contradicts* one). Rows *not testable here* are left out of the count, as
Tarone's correction for discrete tests does: no result of theirs could have been significant, so they
cost no error rate; their ``p_holm`` is NaN. By default (``adjust=True``) an *agrees* or *contradicts*
of any kind also needs ``p_holm < 1 - level``; otherwise it becomes *inconclusive* with a note.
``adjust=False`` gives per-claim verdicts (then say the intervals are per-claim). Across pages,
:func:`book_fdr` adds Benjamini-Hochberg over every row of the book that rests on a null.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from resurface.errors import ParameterError
from resurface.evidence.claims import CLAIMS, Claim
from resurface.evidence.estimates import Estimate, Reach
from resurface.evidence.multiplicity import bh, holm
from resurface.evidence.ranks import reach_of
from resurface.evidence.sizing import mde

AGREES = "agrees with the paper"
CONTRADICTS = "contradicts the paper"
INCONCLUSIVE = "inconclusive"
NOT_TESTABLE = "not testable here"
LABELS = (AGREES, CONTRADICTS, INCONCLUSIVE, NOT_TESTABLE)
KINDS = ("direction", "equivalence", "noninferiority", "threshold")
# (agrees reachable, contradicts reachable) -> the row's ``reachable``
REACHABLE = {(True, True): "agrees, contradicts", (True, False): "agrees only",
             (False, True): "contradicts only", (False, False): "neither"}
BOTH = REACHABLE[(True, True)]


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


def _has_sesoi(margin) -> bool:
    """A direction claim's margin is its smallest effect of interest (None or 0: none registered)."""
    return margin is not None and np.isfinite(margin) and margin > 0


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
        floor = tt + (margin if kind == "direction" and _has_sesoi(margin) else 0.0)
        return AGREES if a > tt else CONTRADICTS if b < floor else INCONCLUSIVE
    if kind == "equivalence":
        if lo > t - margin and hi < t + margin:
            return AGREES
        return CONTRADICTS if (lo > t + margin or hi < t - margin) else INCONCLUSIVE
    # non-inferiority; downwards ("no gain"), an interval wholly below t - m is a collapse, not agreement
    if direction == -1 and hi < t - margin:
        return INCONCLUSIVE
    return AGREES if a > tt - margin else CONTRADICTS if b < tt - margin else INCONCLUSIVE


def verdict(est: Estimate, direction: int = 1, *, kind: str = "direction", threshold: float | None = None,
            margin: float | None = None, show_mde: bool = True) -> Verdict:
    """The verdict of one estimate on one claim (:func:`decide`, with a note). ``threshold`` defaults
    to the estimate's ``null``; when given it must equal it (the p-value tests that value)."""
    if not isinstance(est, Estimate):
        raise ParameterError("est", f"must be a resurface.evidence.estimates.Estimate, got {type(est).__name__}")
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
    tail = f"; {hide_note}" if show_mde else ""
    label = decide(est.lo, est.hi, kind=kind, threshold=t, margin=margin, direction=direction)
    if kind in ("direction", "threshold"):
        side = ("above" if direction == 1 else "below") if kind == "threshold" else "in the claimed direction"
        if label == AGREES:
            return Verdict(AGREES, f"the interval lies wholly {side} {t:g}" if kind == "threshold"
                           else f"the interval excludes {t:g} in the claimed direction")
        beyond_t = (est.hi if direction == 1 else -est.lo) < direction * t  # wholly on the other side of t
        if label == CONTRADICTS and kind == "direction" and _has_sesoi(margin) and not beyond_t:
            return Verdict(CONTRADICTS, f"the whole interval lies below the smallest effect of interest "
                                        f"({t + direction * margin:+.3g}, registered before the runs): a decisive negative")
        if label == CONTRADICTS:
            return Verdict(CONTRADICTS, f"the interval lies wholly on the other side of {t:g}")
        return Verdict(INCONCLUSIVE, f"the interval covers {t:g}{tail}")
    if kind == "equivalence":
        if label == AGREES:
            return Verdict(AGREES, f"the whole interval lies within {t:g} ± {margin:.3g}")
        if label == CONTRADICTS:
            return Verdict(CONTRADICTS, f"the whole interval lies outside {t:g} ± {margin:.3g}")
        return Verdict(INCONCLUSIVE, f"the interval reaches both inside and beyond {t:g} ± {margin:.3g}{tail}")
    bound = t - direction * margin
    if direction == -1 and est.hi < t - margin:
        return Verdict(INCONCLUSIVE, f"collapsed: the whole interval lies below {t - margin:g}, a loss beyond the "
                                     f"margin ({margin:.3g}), which is not 'no gain'")
    if label == AGREES:
        return Verdict(AGREES, f"the interval stays on the paper's side of {bound:g} (margin {margin:.3g})")
    if label == CONTRADICTS:
        return Verdict(CONTRADICTS, f"the whole interval lies beyond the tolerated loss ({bound:g}, margin {margin:.3g})")
    return Verdict(INCONCLUSIVE, f"the interval reaches beyond the tolerated loss ({bound:g}, margin {margin:.3g}){tail}")


def reachable_words(est: Estimate, *, kind: str = "direction", direction: int = 1, threshold: float = 0.0,
                    margin: float | None = None) -> tuple[bool, bool]:
    """(agrees reachable, contradicts reachable) for this estimate's design, before its data: the words
    :func:`decide` gives on the most extreme intervals the design can produce
    (:func:`resurface.evidence.ranks.reach_of`); both where the design bounds no word (an interval on
    a mean narrows with the data), neither where the estimate is not testable."""
    if not getattr(est, "testable", True):
        return False, False
    reach = reach_of(est)
    if reach is None:
        return True, True
    words = {decide(lo, hi, kind=kind, threshold=threshold, margin=margin, direction=direction)
             for lo, hi in reach.intervals}
    return AGREES in words, CONTRADICTS in words


def design_to_reach(reach: Reach, word: str, *, kind: str = "direction", direction: int = 1,
                    threshold: float = 0.0, margin: float | None = None) -> str:
    """The smallest design of the same kind that reaches ``word`` ("18 corpora"), searched upwards from
    ``reach.size`` (doubling, then bisecting; reachability grows with the design), or "more than N ..."."""
    if word not in (AGREES, CONTRADICTS):
        raise ParameterError("word", f"must be {AGREES!r} or {CONTRADICTS!r}, got {word!r}")
    if reach.at is None or reach.max_size <= reach.size:
        return f"no larger design of this kind ({reach.unit}) is defined"

    def ok(n: int) -> bool:
        return any(decide(lo, hi, kind=kind, threshold=threshold, margin=margin, direction=direction) == word
                   for lo, hi in reach.at(n))

    if ok(reach.size):
        return f"this design ({reach.size:,} {reach.unit})"
    lo, hi = reach.size, max(reach.size + 1, 1)
    while not ok(hi):
        if hi >= reach.max_size:
            return f"more than {reach.max_size:,} {reach.unit}"
        lo, hi = hi, min(reach.max_size, 2 * hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return f"{hi:,} {reach.unit}"


def mde_meaningful(est: Estimate, kind: str, value: float) -> bool:
    """Whether an MDE says anything for this row: not for equivalence or threshold claims (what
    would settle them is a narrower interval, not a larger effect), not where it is undefined, and not
    where it exceeds the range of a bounded statistic (a rank correlation's MDE above 1)."""
    if kind in ("equivalence", "threshold") or not (np.isfinite(value) and value > 0):
        return False
    return not ("Spearman" in (est.method or "") and value > 1)


def p_test(est: Estimate, *, kind: str, direction: int, threshold: float, margin: float | None,
           word: str) -> float:
    """The p a row's word rests on, adjusted for multiplicity (:func:`verdict_table`): the estimate's p
    at the null for direction and threshold claims; for equivalence and non-inferiority claims the p at
    the margin (:meth:`resurface.evidence.estimates.Estimate.p_at`, on the two-sided interval's scale), the
    smaller of the one for *agrees* (every margin the claim needs excluded: TOST's larger p) and the
    one for *contradicts* (the margin the interval must lie beyond). Where the interval itself reaches
    ``word`` the p is never above ``1 - level`` (a non-t interval's p is a normal approximation)."""
    if kind == "direction" and _has_sesoi(margin):  # contradicts: below the smallest effect of interest
        contra = est.p_at(float(threshold) + direction * float(margin), direction)
        p = float(np.nanmin([est.p, contra])) if np.isfinite([est.p, contra]).any() else math.nan
        return float(np.nextafter(1 - est.level, 0)) if word in (AGREES, CONTRADICTS) and not p < 1 - est.level else p
    if kind in ("direction", "threshold"):
        return float(est.p)
    t, m = float(threshold), float(margin)
    if kind == "equivalence":
        agree = max(est.p_at(t - m, -1), est.p_at(t + m, 1))
        contra = min(est.p_at(t + m, -1), est.p_at(t - m, 1))
    else:  # non-inferiority: agrees excludes the tolerated loss, contradicts lies beyond it
        bound = t - direction * m
        agree, contra = est.p_at(bound, -direction), est.p_at(bound, direction)
    p = float(np.nanmin([agree, contra])) if np.isfinite([agree, contra]).any() else math.nan
    if word in (AGREES, CONTRADICTS) and not p < 1 - est.level:
        p = float(np.nextafter(1 - est.level, 0))
    return p


@dataclass(frozen=True)
class VerdictRow:
    """One row of a page's verdict table. ``model``: the model (alias) whose runs or scores the row is
    about, where it is not the figure's own (:func:`resurface.evidence.claims.regime`); empty: the figure's.
    ``reachable``: the words this design can reach at all (:data:`REACHABLE`); ``p_test``: the p that
    Holm adjusts (:func:`p_test`)."""

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
    reachable: str = BOTH
    p_test: float = math.nan


def make_row(claim: str | Claim, est: Estimate, metric: str, *, margin: float | None = None,
             model: str = "", figure: str | None = None, n_subsets: int | None = None,
             planned_epochs: int | None = None) -> VerdictRow:
    """A :class:`VerdictRow` for a registered claim (id or :class:`Claim`) and its estimate; ``margin``
    overrides the claim's; ``model`` names the model whose runs the row is about (empty: the figure's);
    ``figure`` and ``n_subsets`` override the claim's figure and the estimate's runs; ``planned_epochs``
    (the profile's) decides whether a time-course claim can be tested. The verdict here is per-claim, with
    the reachability of its words (module docstring); :func:`verdict_table` applies Holm."""
    if isinstance(claim, str):
        if claim not in CLAIMS:
            raise ParameterError("claim", f"unknown claim id {claim!r}", ", ".join(CLAIMS))
        claim = CLAIMS[claim]
    m = claim.margin if margin is None else margin
    rule = dict(kind=claim.kind, direction=claim.direction, threshold=claim.threshold, margin=m)
    value = _mde_of(est, 1 - est.level)
    show = mde_meaningful(est, claim.kind, value)
    v = verdict(est, claim.direction, kind=claim.kind, threshold=claim.threshold, margin=m, show_mde=show)
    label, note = v.label, v.note
    agrees_ok, contra_ok = reachable_words(est, **rule)
    short = (claim.min_epochs and planned_epochs is not None and int(planned_epochs) < claim.min_epochs)
    if short:
        agrees_ok = contra_ok = False
        note = (f"not testable here ({int(planned_epochs)} epoch{'s' if int(planned_epochs) != 1 else ''}): "
                f"{claim.time_course}; the profile would need {claim.min_epochs} planned epochs or more")
        label = NOT_TESTABLE
    elif not (agrees_ok or contra_ok):
        label = NOT_TESTABLE
        why = (est.note if not est.testable and est.note else v.note).removeprefix("not testable here: ")
        note = unreachable_note(est, False, False, **rule) + (f" ({why})" if why else "")
    elif label == INCONCLUSIVE and not (agrees_ok and contra_ok):
        label, note = NOT_TESTABLE, unreachable_note(est, agrees_ok, contra_ok, **rule) + f" ({v.note})"
    elif not (agrees_ok and contra_ok):
        note += "; " + unreachable_note(est, agrees_ok, contra_ok, **rule).removeprefix("not testable here: ")
    note += "; one training subset: the interval reflects item noise only" if est.item_noise_only else ""
    return VerdictRow(claim.id, claim.text, figure or claim.figure, metric, est.estimate, est.lo, est.hi,
                      value if show else math.nan, est.n_items, est.n_subsets if n_subsets is None else n_subsets,
                      est.p, est.p, label, note, claim.kind, claim.direction, claim.threshold, m, est.level,
                      est.item_noise_only, model, REACHABLE[(bool(agrees_ok), bool(contra_ok))],
                      p_test(est, word=label, **rule))


def unreachable_note(est: Estimate, agrees_ok: bool, contra_ok: bool, **rule) -> str:
    """'not testable here: agrees cannot be reached with 5 corpora whatever the data; 18 corpora would reach it'."""
    reach = reach_of(est)
    parts = []
    for word, ok in (("agrees", agrees_ok), ("contradicts", contra_ok)):
        if ok:
            continue
        if reach is None:
            parts.append(f"*{word}* cannot be reached whatever the data")
            continue
        design = design_to_reach(reach, AGREES if word == "agrees" else CONTRADICTS, **rule)
        if design.startswith("this design"):  # the design reaches it; these data (their ties) do not
            parts.append(f"*{word}* cannot be reached with these data's ties ({reach.size:,} {reach.unit} "
                         "whose values all differ would reach it)")
        else:
            parts.append(f"*{word}* cannot be reached with {reach.size:,} {reach.unit} whatever the data; "
                         f"{design} would reach it")
    return "not testable here: " + "; ".join(parts)


def verdict_table(rows: list[VerdictRow], *, adjust: bool = True) -> pd.DataFrame:
    """The rows of one page as a DataFrame, with Holm-adjusted p-values over the rows (``p_holm``, on
    each row's ``p_test``). With ``adjust`` (default) an *agrees* or *contradicts* must also survive Holm
    (see the module docstring); ``adjust=False`` keeps per-claim verdicts."""
    if not isinstance(rows, (list, tuple)) or not all(isinstance(r, VerdictRow) for r in rows):
        raise ParameterError("rows", "must be a list of VerdictRow")
    df = pd.DataFrame([asdict(r) for r in rows], columns=[f.name for f in VerdictRow.__dataclass_fields__.values()])
    if df.empty:
        return df
    # rows that no result could make significant (not testable here) do not count as tests (Tarone 1990)
    p = df["p_test"].to_numpy(dtype=float).copy()
    p[((df["verdict"] == NOT_TESTABLE) & (df["reachable"] == REACHABLE[(False, False)])).to_numpy()] = np.nan
    p[(df["verdict"] == NOT_TESTABLE).to_numpy() & ~np.isfinite(df["lo"].to_numpy(dtype=float))] = np.nan
    df["p_holm"] = holm(p)
    if adjust:
        m = int(np.isfinite(p).sum())
        for i, r in df.iterrows():
            if r["verdict"] in (AGREES, CONTRADICTS) and not (r["p_holm"] < 1 - r["level"]):
                sesoi = (r["kind"] == "direction" and r["verdict"] == CONTRADICTS and _has_sesoi(r["margin"]))
                if sesoi:
                    at, where = (f"the interval rules out the smallest effect of interest ({r['margin']:.3g})",
                                 "the smallest effect")
                elif r["kind"] in ("direction", "threshold"):
                    at, where = f"the interval excludes {r['threshold']:g}", "the null"
                else:
                    at, where = f"the interval settles the margin ({r['margin']:.3g})", "the margin"
                reached = r["verdict"]
                df.at[i, "verdict"] = INCONCLUSIVE
                df.at[i, "note"] = (f"{at}, but not after Holm's correction over {m} claims (p_holm = "
                                    f"{r['p_holm']:.3g}, p at {where})")
                if r["reachable"] != BOTH:  # the other word was out of reach: no word can be printed
                    df.at[i, "verdict"] = NOT_TESTABLE
                    df.at[i, "note"] += f"; it {reached.split()[0]} only by its interval and the other word is out of reach"
    return df


def book_fdr(table: pd.DataFrame, q: float = 0.05) -> pd.DataFrame:
    """The book-wide false-discovery control beside each page's Holm: Benjamini-Hochberg over every row
    of ``table`` (all pages) that rests on a null (a finite ``p_test``: rows not testable here are not
    tests), as ``p_bh``; ``survives`` says, for a row printed *agrees* or *contradicts*, whether it
    survives the page's Holm and the book's BH at ``q`` ("both", "page Holm only"), else "" (nothing
    reached). The printed words are not changed: they hold per page, and Figure 1 says both."""
    if not 0 < q < 1:
        raise ParameterError("q", f"must lie strictly between 0 and 1, got {q!r}")
    t = table.copy()
    if t.empty:
        t["p_bh"], t["survives"] = pd.Series(dtype=float), pd.Series(dtype=object)
        return t
    p = pd.to_numeric(t["p_test"] if "p_test" in t.columns else t["p"], errors="coerce").to_numpy(dtype=float)
    p = np.where(np.isfinite(t["p_holm"].to_numpy(dtype=float)), p, np.nan)
    t["p_bh"] = bh(p)
    reached = t["verdict"].isin([AGREES, CONTRADICTS]).to_numpy()
    t["survives"] = np.where(reached, np.where(t["p_bh"].to_numpy() < q, "both", "page Holm only"), "")
    return t


def format_interval(est: Estimate, digits: int = 3) -> str:
    """``+0.012 [−0.004, +0.028]`` with the level, and a marker when runs are missing from it."""
    if not np.isfinite(est.estimate):
        return "n/a"
    f = f"{{:+.{digits}f}}"
    s = f"{f.format(est.estimate)} [{f.format(est.lo)}, {f.format(est.hi)}] ({100 * est.level:g}%)"
    if est.item_noise_only:
        s += " (one subset: item noise only)"
    return s
