"""Figure 12 (beyond the paper): does a *relational* measure of student–source compatibility predict
which corpora help, where the intrinsic proxies of Figures 4, 6 and 11 do not? Computation only; the
page prose is :mod:`resurface.evidence.findings`.

**Corpora.** Every corpus the main student (``student``) is trained on here has a measured utility:

- its own samples at every τ of ``temperatures`` and the human-text replay: Figure 2's conditions
  (:func:`resurface.study.experiments.figure_conditions` ``"fig02"``), so the store returns their runs;
- every source of Figure 5 at its ``source_temperatures`` (the same runs as Figure 5's), plus the
  cross-family source at ``cross_temperatures`` (new runs only for temperatures Figure 5 lacks);
- **same-lineage siblings** (:data:`SIBLING_KEYS`): the student itself after a short fine-tune
  (:func:`resurface.study.siblings.sibling_model`: a training run with the final model kept) on the replay corpus
  (``data: replay``) or on the cross-family source's corpus at ``sibling_temperature``
  (``data: cross``); the student is then trained on the sibling's samples at ``sibling_temperature``.
  A sibling shares the student's pretraining, tokenizer and architecture, and differs from it only by
  what it read last: it stands for "same lineage" (the paper's Qwen2.5-7B shares Qwen2.5-0.5B's
  pretraining data and recipe, not its size), at a cost the course can pay.

**Relational measures** (per student and corpus, before any training of the student on it):

- ``ce_gap``, the cross-entropy gap: per scored sample, the NLL of the text under the student minus
  its NLL under the corpus's source, in nats per UTF-8 byte of the text (both scored by the same
  stage, :func:`resurface.evidence.proxytables.corpus_nll`, on the same seeded samples; per byte because a
  student and a cross-family source tokenise differently, so their per-token NLLs are not on one
  scale), averaged over samples with a paired t interval. It estimates
  E_{x ~ q}[log p_source(x) − log p_student(x)] / bytes, q the source's sampling distribution at τ;
  at τ = 1 that is the KL divergence KL(source ‖ student) per byte. Exactly 0 for the student's own
  samples (the two scorings are one artifact). Samples truncated by ``nll_max_tokens`` under either
  scorer are left out (``n_truncated``). Cost: one forward pass of the source over
  ``nll_max_samples`` samples per corpus; the student's pass is Figure 11's.
- ``self_excess``: the student's mean per-token NLL on the corpus minus its mean NLL on its own
  samples at the same τ (Welch interval, :func:`resurface.evidence.proxytables.nll_gap`): how much less
  likely the corpus is to the student than what the student itself writes at that temperature. It
  takes out the temperature, which dominates the intrinsic NLL proxy. 0 for the student's own
  samples; costs nothing beyond the student's NLL of the corpora (Figure 6 and 11's scores).

For the **replay** corpus neither measure is defined (no source model to score with, no sampling
temperature): replay is left out of the relational correlations and of the paired comparisons
(``RELATIONAL`` values NaN), and the intrinsic proxies are correlated both with it (descriptive) and
without it (the paired comparison, on the same corpora).

**Utility** is :func:`resurface.evidence.proxytables.utility_outcomes` (final-epoch mean Δ over subsets in the
profile's ``evidence_metric``), the definition of Figure 11, so both figures rank the same numbers;
the figure's error bars are the evidence layer's Δ with its 95% interval at the last epoch
(:func:`resurface.evidence.contrasts.contrast`, paired on items, over subsets when there are several).

**Verdict** (claim ``relational_beats_intrinsic``): per benchmark, relational measure and intrinsic
proxy, D = |ρ_relational| − |ρ_intrinsic| (Spearman ρ with the final-epoch Δ, on the same corpora) with
a test of "both rank the corpora equally well" that keeps its level with 5 to 8 corpora: the larger of
an exact permutation p (every order of Δ against the two measures) and the largest p over copula models
on that null's boundary, an interval by inverting it, and *not testable here* where no order of Δ could
reach the level (:func:`compare_rho`).
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
import pandas as pd

from resurface import progress
from resurface.corpus.files import read_corpus
from resurface.evidence import estimates, ranks, verdicts
from resurface.measures.proxies import artifact_id, read_nll, read_similarity
from resurface.study import experiments, siblings
from resurface.study.experiments import Condition, corpus_for, sampled_corpus
from resurface.study.profiles import check_siblings

RELATIONAL = {"ce_gap": "cross-entropy gap, student − source (nats/byte)",
              "self_excess": "student NLL − its NLL on own samples at that τ (nats/token)"}
INTRINSIC = {"nll_mean": "mean NLL under the student (nats/token)",
             "max_cos_mean": "mean max-cosine to the benchmark"}
MEASURES = {**RELATIONAL, **INTRINSIC}
SHORT = {"ce_gap": "CE gap", "self_excess": "excess NLL over own samples", "nll_mean": "mean NLL",
         "max_cos_mean": "mean max-cosine"}
# the direction in which a measure would predict utility (+1: higher -> larger Δ)
SIGNS = {"ce_gap": -1, "self_excess": -1, "nll_mean": -1, "max_cos_mean": 1}
CLAIM = "relational_beats_intrinsic"
SIBLING_PREFIX = "sib-"


# ------------------------------------------------------------------------------ the plan
@dataclass(frozen=True)
class Corpus:
    """One training corpus of Figure 12: its condition, the parameters its runs use, and its kind."""

    condition: object  # resurface.study.experiments.Condition
    params: dict
    kind: str  # self | replay | lineage | recipe | cross | sibling


def _kind(name: str) -> str:
    k = name.split("@", 1)[0]
    return "sibling" if k.startswith(SIBLING_PREFIX) else k


def plan(P: dict, store=None, build_siblings: bool = True) -> list[Corpus]:
    """The corpora of Figure 12 (see the module docstring), the reused ones with the parameters of
    the figure that runs them. Building the siblings trains them (``build_siblings=False``: the
    sibling conditions carry the recipe name as their source, for counting)."""
    q2, c2 = experiments.figure_conditions(P, "fig02")
    q5, c5 = experiments.figure_conditions(P, "fig05")
    out, seen = [], set()

    def add(cond, q):
        if cond.name not in seen:
            seen.add(cond.name)
            out.append(Corpus(cond, q, _kind(cond.name)))

    for c in c2:
        add(c, q2)
    for c in c5:
        add(c, q5)
    cross = q5["sources"].get("cross")
    if cross:
        for t in P["cross_temperatures"]:
            add(Condition(f"cross@{t:g}", P["student"], cross, float(t)), P)
    t = P["sibling_temperature"]
    for r in check_siblings(P["siblings"]):
        src = str(siblings.sibling_model(P, r, store)) if build_siblings else r["name"]
        add(Condition(f"{r['name']}@{t:g}", P["student"], src, float(t)), P)
    return out


def run_plan(corpora: Sequence[Corpus], store=None) -> pd.DataFrame:
    """Train every corpus of the plan (the store returns the reused runs) and return one tidy table
    (``delta`` vs epoch 0; one run set per condition)."""
    frames, groups = [], {}
    for c in corpora:  # one call per parameter set, in plan order
        groups.setdefault(id(c.params), (c.params, []))[1].append(c.condition)
    for q, conds in groups.values():
        frames.append(experiments.run_conditions(q, conds, store))
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------------------ the measures
def _mean_ci(x: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float]:
    """Mean, t interval and se of ``x`` (a single value or no spread: a zero-width interval)."""
    from scipy import stats as st

    x = x[np.isfinite(x)]
    if len(x) == 0:
        return math.nan, math.nan, math.nan, math.nan
    m = float(x.mean())
    if len(x) < 2:
        return m, math.nan, math.nan, math.nan
    se = float(x.std(ddof=1) / math.sqrt(len(x)))
    q = float(st.t.ppf(0.5 + level / 2, len(x) - 1))
    return m, m - q * se, m + q * se, se


def ce_gap(student_nll: pd.DataFrame, source_nll: pd.DataFrame, texts: Sequence[str],
           level: float = 0.95) -> dict:
    """The cross-entropy gap of one corpus from the ``nll`` tables of the student and the source
    (:func:`resurface.measures.proxies.read_nll`) and the corpus's texts (indexed by the tables' ``index``):
    per sample (total NLL under the student − total NLL under the source) / UTF-8 bytes, averaged
    with a paired t interval. Samples truncated under either scorer, or scored by only one, are left
    out. Keys: ce_gap, ce_gap_lo, ce_gap_hi, ce_gap_se, n_samples, n_truncated."""
    cols = ["index", "mean_nll", "num_tokens", "truncated"]
    j = student_nll[cols].merge(source_nll[cols], on="index", suffixes=("_st", "_src"))
    trunc = j["truncated_st"].astype(bool) | j["truncated_src"].astype(bool)
    j = j[~trunc]
    nbytes = np.array([len(texts[int(i)].encode("utf-8")) for i in j["index"]], dtype=float)
    total_st = j["mean_nll_st"].to_numpy(float) * j["num_tokens_st"].to_numpy(float)
    total_src = j["mean_nll_src"].to_numpy(float) * j["num_tokens_src"].to_numpy(float)
    ok = nbytes > 0
    gaps = (total_st[ok] - total_src[ok]) / nbytes[ok]
    m, lo, hi, se = _mean_ci(gaps, level)
    if np.isfinite(m) and len(gaps) > 1 and np.ptp(gaps) == 0:
        lo = hi = m
        se = 0.0
    return {"ce_gap": m, "ce_gap_lo": lo, "ce_gap_hi": hi, "ce_gap_se": se, "n_samples": int(len(gaps)),
            "n_truncated": int(trunc.sum())}


def self_excess(corpus_nll: pd.DataFrame, own_nll: pd.DataFrame, level: float = 0.95) -> dict:
    """Mean per-token NLL of the corpus minus that of the student's own samples at the same τ (both
    under the student) with a Welch interval (:func:`resurface.evidence.proxytables.nll_gap`). Keys:
    self_excess, self_excess_lo, self_excess_hi."""
    from resurface.evidence.proxytables import nll_gap

    a, b = own_nll["mean_nll"].to_numpy(float), corpus_nll["mean_nll"].to_numpy(float)
    if len(a) == len(b) and np.array_equal(a, b):  # the student's own corpus: exactly 0
        return {"self_excess": 0.0, "self_excess_lo": 0.0, "self_excess_hi": 0.0}
    est = nll_gap(a, b, level)
    return {"self_excess": est.estimate, "self_excess_lo": est.lo, "self_excess_hi": est.hi}


def corpus_measures(P: dict, corpus: Corpus, store=None) -> dict:
    """Both intrinsic proxies and both relational measures of one corpus (NaN where undefined)."""
    from resurface.evidence.proxytables import corpus_nll, corpus_similarity

    cond, q = corpus.condition, corpus.params
    student = cond.student
    folder = corpus_for(q, cond, store)
    st = read_nll(corpus_nll(P, student, folder, store))
    sim = read_similarity(corpus_similarity(P, folder, store)).groupby("task")["max_cos"].mean()
    row = {"condition": cond.name, "kind": corpus.kind, "student": student, "source": cond.source or "replay",
           "temperature": cond.temperature, "nll_mean": float(st["mean_nll"].mean()),
           "max_cos": sim.to_dict(), "corpus": artifact_id(folder)}
    nan = {k: math.nan for k in ("ce_gap", "ce_gap_lo", "ce_gap_hi", "ce_gap_se", "self_excess",
                                 "self_excess_lo", "self_excess_hi")}
    if cond.source is None:
        return {**row, **nan, "n_samples": len(st), "n_truncated": 0}
    src = st if cond.source == student else read_nll(corpus_nll(P, cond.source, folder, store))
    row.update(ce_gap(st, src, [r["text"] for r in read_corpus(folder)]))
    own = st if corpus.kind == "self" else read_nll(corpus_nll(P, student, sampled_corpus(
        P, student, cond.temperature, store), store))
    row.update(self_excess(st, own))
    return row


def measure_table(P: dict, corpora: Sequence[Corpus], results: pd.DataFrame, store=None,
                  level: float = 0.95) -> pd.DataFrame:
    """One row per (corpus, benchmark): the four measures, the utility (:func:`resurface.evidence.proxytables.
    utility_outcomes`: final_delta, best_delta) and the evidence layer's Δ at the last epoch with its
    interval (delta, delta_lo, delta_hi)."""
    from resurface.evidence import contrasts
    from resurface.evidence.proxytables import utility_outcomes

    suite, mode = P["eval_suite"], P.get("evidence_metric", "continuous")
    outcome = utility_outcomes(results, suite, mode)
    items = contrasts.run_items(results)
    items = items[items["suite"] == suite]
    rows = []
    for k, c in enumerate(corpora):
        progress.report(f"measures of corpus {k + 1} of {len(corpora)}: {c.condition.name}")
        m = corpus_measures(P, c, store)
        sim = m.pop("max_cos")
        mine = outcome[outcome["condition"] == c.condition.name]
        for o in mine.itertuples(index=False):
            est = contrasts.contrast(items, suite, o.task, o.metric, [c.condition.name], level=level)
            rows.append({**m, "task": o.task, "metric": o.metric, "benchmark": o.benchmark, "label": o.label,
                         "max_cos_mean": float(sim.get(o.benchmark, np.nan)), "final_delta": o.final_delta,
                         "best_delta": o.best_delta, "delta": est.estimate, "delta_lo": est.lo,
                         "delta_hi": est.hi})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ correlations
def correlations(table: pd.DataFrame, outcome: str = "final_delta", level: float = 0.95, B: int = 2000,
                 seed: int = 0) -> pd.DataFrame:
    """Spearman ρ of every measure with ``outcome`` across corpora, per benchmark, with its interval and
    exact permutation p-value (:func:`resurface.evidence.ranks.spearman_ci`: test inversion up to 30
    corpora), on every corpus where the measure is defined (``n``)."""
    rows = []
    for (task, metric), g in table.groupby(["task", "metric"], sort=False):
        for measure in MEASURES:
            x, y = g[measure].to_numpy(float), g[outcome].to_numpy(float)
            ok = np.isfinite(x) & np.isfinite(y)
            if ok.sum() < 3:
                est = estimates.Estimate(*(math.nan,) * 5, int(ok.sum()), 0, level, "Spearman",
                                         note=f"{int(ok.sum())} corpora: a rank correlation needs at least 3")
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    est = ranks.spearman_ci(x[ok], y[ok], B=B, level=level, seed=seed)
            rows.append({"task": task, "metric": metric, "label": g["label"].iloc[0], "measure": measure,
                         "kind": "relational" if measure in RELATIONAL else "intrinsic", "n": int(ok.sum()),
                         "rho": est.estimate, "lo": est.lo, "hi": est.hi, "p": est.p, "note": est.note})
    return pd.DataFrame(rows)


# the null of compare_rho: the two measures rank the corpora equally well -----------------------
DIFF_STEP = 0.05  # grid of the population |ρ_S| (and of the interval's ends)
DIFF_PARTIAL = np.linspace(-1.0, 1.0, 9)  # partial correlation of the two measures given Δ
DIFF_DRAWS = 4000  # simulated studies per model
DIFF_COPULAS = ("gaussian", "t3")
_TAIL_STEP = 0.005  # tail probabilities of the difference are tabulated at multiples of this
_DIFF_SEED = 20260613


@functools.lru_cache(maxsize=1)
def _t3_grid() -> tuple[np.ndarray, np.ndarray]:
    """Latent correlation r on a grid and the population Spearman ρ_S of the bivariate t copula with
    3 df and that r (:func:`resurface.evidence.ranks.t3_spearman`: 20,000 pairs per r; made monotone,
    0 and 1 exact)."""
    r = np.linspace(0.0, 1.0, 101)
    rs = ranks.t3_spearman(r, _DIFF_SEED + 1)
    rs[0], rs[-1] = 0.0, 1.0
    return r, np.maximum.accumulate(np.clip(rs, 0.0, 1.0))


def _latent_r(rho_s: np.ndarray, copula: str) -> np.ndarray:
    """The latent correlation with population Spearman ``rho_s`` (in [0, 1]) under ``copula``."""
    if copula == "gaussian":
        return np.minimum(1.0, 2 * np.sin(np.pi * rho_s / 6))
    r, rs = _t3_grid()
    return np.interp(rho_s, rs, r)


def _ranks(a: np.ndarray) -> np.ndarray:
    """Ranks 0..n-1 along the last axis (no ties in continuous draws)."""
    return np.argsort(np.argsort(a, axis=-1), axis=-1).astype(float)


@functools.lru_cache(maxsize=16)
def _difference_null(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-favourable tails of D = |ρ̂(x, Δ)| − |ρ̂(z, Δ)| over ``n`` corpora.

    Models: (x, z, Δ) from a Gaussian or a t (3 df) copula (:data:`DIFF_COPULAS`; only ranks matter,
    so any monotone margins), with population Spearman |ρ_S(x, Δ)| and |ρ_S(z, Δ)| on the grid of step
    :data:`DIFF_STEP` in [0, 1] and the partial correlation of x and z given Δ on :data:`DIFF_PARTIAL`
    (it sets how the two sample ρ move together). For each δ = |ρ_S(x, Δ)| − |ρ_S(z, Δ)| on the grid:
    ``up[k, j]`` = the largest P(D ≥ v_j) and ``dn[k, j]`` = the largest P(D ≤ v_j) over the models with
    that δ, ``v_j = −1 + j·``:data:`_TAIL_STEP`, each from :data:`DIFF_DRAWS` simulated studies (common
    random numbers; the max over noisy estimates errs on the conservative side). Signs do not matter
    (D uses |ρ|), so x and z are associated with Δ positively. Deterministic; cached per n."""
    g = np.round(np.arange(0.0, 1.0 + 1e-9, DIFF_STEP), 10)
    G, T, M = g.size, DIFF_PARTIAL.size, DIFF_DRAWS
    deltas = np.round(np.arange(-(G - 1), G) * DIFF_STEP, 10)
    V = round(2 / _TAIL_STEP) + 1
    up, dn = np.zeros((deltas.size, V)), np.zeros((deltas.size, V))
    scale = 12.0 / (n * (n * n - 1))  # Spearman ρ of untied ranks: scale · Σ (r − c)(s − c)
    c = (n - 1) / 2
    t = DIFF_PARTIAL[:, None, None]
    st_ = np.sqrt(np.clip(1 - DIFF_PARTIAL ** 2, 0, None))[:, None, None]
    for copula in DIFF_COPULAS:
        rng = np.random.default_rng(_DIFF_SEED)
        w = rng.standard_normal((3, M, n))
        h = np.sqrt(rng.chisquare(3, (M, n)) / 3) if copula == "t3" else np.ones((M, n))
        ry = _ranks(w[0] / h) - c
        r = _latent_r(g, copula)[:, None, None]
        q = np.sqrt(np.clip(1 - r * r, 0, None))
        ax = np.abs(scale * ((_ranks((r * w[0] + q * w[1]) / h) - c) * ry).sum(-1))  # (G, M)
        az = np.empty((G, T, M))
        for j in range(G):  # z at grid j, every partial correlation
            az[j] = np.abs(scale * ((_ranks((r[j] * w[0] + q[j] * (t * w[1] + st_ * w[2])) / h) - c) * ry).sum(-1))
        off = np.arange(G * T)[:, None] * V
        for i in range(G):
            d = ax[i] - az  # (G, T, M): x at grid i, z at every grid point and partial correlation
            k_up = np.clip(np.floor((d + 1) / _TAIL_STEP + 1e-6).astype(int), 0, V - 1).reshape(G * T, M)
            k_dn = np.clip(np.ceil((d + 1) / _TAIL_STEP - 1e-6).astype(int), 0, V - 1).reshape(G * T, M)
            c_up = np.bincount((k_up + off).ravel(), minlength=G * T * V).reshape(G, T, V)
            c_dn = np.bincount((k_dn + off).ravel(), minlength=G * T * V).reshape(G, T, V)
            p_up = (np.cumsum(c_up[..., ::-1], axis=-1)[..., ::-1] / M).max(axis=1)  # P(D >= v_j), (G, V)
            p_dn = (np.cumsum(c_dn, axis=-1) / M).max(axis=1)  # P(D <= v_j)
            k = i - np.arange(G) + G - 1  # δ index of (x at i, z at j)
            up[k] = np.maximum(up[k], p_up)
            dn[k] = np.maximum(dn[k], p_dn)
    for a in (deltas, up, dn):
        a.setflags(write=False)
    return deltas, up, dn


def _tail_index(d: float) -> tuple[int, int]:
    """Indices of the tabulated values just below (for P(D ≥ d)) and just above (P(D ≤ d)) ``d``."""
    V = round(2 / _TAIL_STEP) + 1
    lo = int(np.clip(math.floor((d + 1) / _TAIL_STEP + 1e-6), 0, V - 1))
    hi = int(np.clip(math.ceil((d + 1) / _TAIL_STEP - 1e-6), 0, V - 1))
    return lo, hi


@functools.lru_cache(maxsize=4)
def _all_orders(n: int) -> np.ndarray:
    orders = np.array(list(itertools.permutations(range(n))), dtype=np.intp)
    orders.setflags(write=False)
    return orders


def _permuted_difference(rx: np.ndarray, rz: np.ndarray, ry: np.ndarray, rng: np.random.Generator,
                         permutations: int) -> tuple[np.ndarray, bool]:
    """D = |ρ(x, Δ)| − |ρ(z, Δ)| for every order of Δ's ranks against the observed (x, z) pairs (all n!
    for n <= 8, else ``permutations`` random ones); second value: whether exact."""
    n = ry.size
    exact = n <= ranks.SPEARMAN_EXACT_MAX
    orders = _all_orders(n) if exact else np.argsort(rng.random((permutations, n)), axis=1)
    yc = ry - ry.mean()
    yp = yc[orders]
    den = math.sqrt(float((yc ** 2).sum()))
    out = []
    for r in (rx, rz):
        rc = r - r.mean()
        out.append(np.abs(yp @ rc) / (den * math.sqrt(float((rc ** 2).sum()))))
    return out[0] - out[1], exact


def compare_rho(relational, intrinsic, utility, *, B: int = 2000, level: float = 0.95, seed: int = 0,
                permutations: int = 10000) -> estimates.Estimate:
    """D = |ρ(relational, utility)| − |ρ(intrinsic, utility)| (Spearman) over the corpora where all three
    are finite, with a p-value and an interval that keep their level with a handful of corpora.

    The test's null is the claim's boundary, "both measures rank the corpora equally well" (population
    |ρ_S| equal). Its one-sided p at δ = 0 is the larger of (a) the exact permutation p of D (every order
    of Δ's ranks against the observed pairs of measure ranks: all n! for n <= 8, else ``permutations``
    random ones), valid for any dependence between the measures when Δ is unrelated to both, and (b) the
    largest p over the models on that boundary (:func:`_difference_null`: Gaussian and t3 copulas, any
    common |ρ_S|, any partial correlation of the two measures). Why both: the null is composite and has
    no exchangeability, so (a) alone tests only "Δ is unrelated to both", and read as a direction test it
    called two equally good measures different in 8–14% of studies of 6–8 corpora (Δ = x + z, x and z
    independent); (b) holds the level over the whole boundary (``tests/test_compare_rho.py``). The
    percentile bootstrap over corpora it replaces degenerated at these n (resamples repeat corpora, and
    over two distinct corpora both |ρ| are 1): its lower end sat at 0 even for D = 1 over 8 corpora, and
    with 3 corpora it gave [0, 0.5] with p = 1.

    Interval: the least-favourable test inverted at every δ on a grid of step 0.05 (a Neyman
    construction; at δ = 0 with (a) too, so it excludes 0 exactly when p <= 1 - level), plus the estimate
    itself; outside those models, off the grid or with ties (average ranks) its level is not guaranteed.
    p: twice the smaller one-sided p. SE: the interval's half-width over z (for the MDE). ``B`` is kept
    for the callers and unused: nothing is resampled.

    *Not testable here* (``testable=False``, the reason in ``note``, no SE, so the MDE is undefined):
    when not even the most extreme order of Δ against these two measures could reach ``(1 - level) / 2``
    on either side: always with 3 or 4 corpora, and with 5 to 8 when the two measures rank the corpora
    too alike for their |ρ| to differ by enough (about |ρ| > 0.5 between them at 8 corpora, less at 5-6;
    identical or reversed ranks: always)."""
    from scipy.stats import norm

    x, z, y = (np.asarray(v, dtype=float) for v in (relational, intrinsic, utility))
    ok = np.isfinite(x) & np.isfinite(z) & np.isfinite(y)
    x, z, y = x[ok], z[ok], y[ok]
    n = int(ok.sum())
    level = estimates.check_level(level)
    alpha = 1 - level
    method = ("|Spearman ρ| difference: the larger of an exact permutation p and a least-favourable copula p; "
              f"interval by test inversion, n = {n}")
    nan = math.nan
    if n < 3:
        return estimates.Estimate(nan, nan, nan, nan, nan, n, 0, level, method, testable=False,
                                  note=f"{n} corpora: a rank correlation needs at least 3")
    rx, rz, ry = (ranks.rank_rows(v[None])[0] for v in (x, z, y))
    if min(np.ptp(rx), np.ptp(rz), np.ptp(ry)) == 0:
        return estimates.Estimate(nan, nan, nan, nan, nan, n, 0, level, method, testable=False,
                                  note="a measure or Δ is constant")
    rho_x = float(ranks.row_corr(rx[None], ry[None])[0])
    rho_z = float(ranks.row_corr(rz[None], ry[None])[0])
    d0 = abs(rho_x) - abs(rho_z)
    eps = 1e-9
    rng = np.random.default_rng(seed)
    dp, exact = _permuted_difference(rx, rz, ry, rng, permutations)

    def perm_p(v: float, upper: bool) -> float:
        k, m = (int(np.sum(dp >= v - eps)) if upper else int(np.sum(dp <= v + eps))), dp.size
        return k / m if exact else (k + 1) / (m + 1)

    deltas, up, dn = _difference_null(n)
    k0 = int(np.argmin(np.abs(deltas)))

    def p_zero(v: float) -> tuple[float, float]:  # one-sided p of δ = 0, upper and lower
        i_up, i_dn = _tail_index(v)
        return max(perm_p(v, True), float(up[k0, i_up])), max(perm_p(v, False), float(dn[k0, i_dn]))

    p_up, p_dn = p_zero(d0)
    p = float(min(1.0, 2 * min(p_up, p_dn)))
    best_up, best_dn = p_zero(float(dp.max()))[0], p_zero(float(dp.min()))[1]
    if min(best_up, best_dn) > alpha / 2:
        why = ("the two measures rank them alike (or exactly reversed): their |ρ| with Δ are equal "
               "whatever Δ is" if np.ptp(dp) < eps else
               f"the smallest attainable one-sided p is {min(best_up, best_dn):.3f} (the most extreme order of "
               f"Δ), above the {alpha / 2:g} a {100 * level:g}% interval needs on each side")
        return estimates.Estimate(d0, -1.0, 1.0, nan, p, n, 0, level, method, testable=False,
                                  note=f"not testable here: with these {n} corpora {why}; the minimum detectable "
                                   "difference is undefined")
    i_up, i_dn = _tail_index(d0)
    keep = (up[:, i_up] > alpha / 2) & (dn[:, i_dn] > alpha / 2)
    keep[k0] = min(p_up, p_dn) > alpha / 2
    kept = deltas[keep]
    if not keep[k0]:  # δ = 0 is rejected: keep the side of the estimate
        kept = kept[kept > 0] if d0 > 0 else kept[kept < 0]
    # the estimate itself stays in (a superset keeps the level): with δ = ±1 only one model is left, and
    # the most extreme D can be rare under it although no other δ explains it better
    lo, hi = (min(float(kept.min()), d0), max(float(kept.max()), d0)) if kept.size else (d0, d0)
    z_ = float(norm.ppf(0.5 + level / 2))
    se = (hi - lo) / (2 * z_) if hi > lo else nan
    side = "" if exact else f", {dp.size} random orders"
    return estimates.Estimate(d0, lo, hi, se, p, n, 0, level, method,
                              note=f"{n} corpora (ρ {rho_x:+.2f} vs {rho_z:+.2f}{side})")


def comparison_rows(table: pd.DataFrame, outcome: str = "final_delta", figure: str = "Fig 12",
                    level: float = 0.95, B: int = 2000, seed: int = 0) -> list[verdicts.VerdictRow]:
    """One ``relational_beats_intrinsic`` row per benchmark, relational measure and intrinsic proxy
    (:func:`compare_rho` on the corpora where the relational measure is defined)."""
    rows = []
    for (task, metric), g in table.groupby(["task", "metric"], sort=False):
        for rel in RELATIONAL:
            for intr in INTRINSIC:
                est = compare_rho(g[rel], g[intr], g[outcome], B=B, level=level, seed=seed)
                label = (f"{g['label'].iloc[0]}: {metric.split(',')[0]}, size of ρ: {SHORT[rel]} minus "
                         f"{SHORT[intr]}")
                row = verdicts.make_row(CLAIM, est, label)
                note = row.note if not est.note or est.note in row.note else f"{row.note}; {est.note}"
                rows.append(replace(row, figure=figure, n_subsets=0, note=note))
    return rows


def verdict_table(table: pd.DataFrame, outcome: str = "final_delta", level: float = 0.95, B: int = 2000,
                  seed: int = 0) -> pd.DataFrame:
    """The verdict table of Figure 12 (Holm over its rows, :func:`resurface.evidence.verdicts.verdict_table`)."""
    return verdicts.verdict_table(comparison_rows(table, outcome, level=level, B=B, seed=seed))


def page_verdicts(P: dict, store=None) -> list[pd.DataFrame]:
    """Figure 12's verdict table as its page computes it, annotated with the regime (for Figure 1; every
    run and score is read from the store when the page ran first)."""
    from resurface.evidence.contrasts import annotate

    q = experiments.figure_params(P, "fig12")
    corpora = plan(q, store)
    table = measure_table(q, corpora, run_plan(corpora, store), store)
    return [annotate(verdict_table(table), q)]


# ------------------------------------------------------------------------------ the figure
def scatter_panels(table: pd.DataFrame, corr: pd.DataFrame, title: str = "", profile: str = ""):
    """Utility (Δ with its 95% interval) against each measure, one panel per benchmark and measure
    (relational first), two panels a row so that each stays readable at a book page's width; one point
    per corpus in its condition's colour; ρ in each title."""
    import matplotlib.pyplot as plt

    from resurface.conditions import condition_color, condition_label

    pairs = list(table.groupby(["task", "metric"], sort=False).groups)
    measures = list(MEASURES)
    cols = 2
    rows = math.ceil(len(pairs) * len(measures) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.1 * rows), squeeze=False)
    handles = {}
    for i, (task, metric) in enumerate(pairs):
        g = table[(table["task"] == task) & (table["metric"] == metric)]
        for j, m in enumerate(measures):
            ax = axes.flat[i * len(measures) + j]
            for r in g.itertuples(index=False):
                x = getattr(r, m)
                if not np.isfinite(x):
                    continue
                yerr = [[r.delta - r.delta_lo], [r.delta_hi - r.delta]] if np.isfinite(r.delta_lo) else None
                h = ax.errorbar(x, r.delta, yerr=yerr, fmt="o", ms=5, color=condition_color(r.condition),
                                ecolor=condition_color(r.condition), elinewidth=1, capsize=2)
                handles.setdefault(condition_label(r.condition), h)
            c = corr[(corr["task"] == task) & (corr["metric"] == metric) & (corr["measure"] == m)]
            rho = ""
            if len(c) and np.isfinite(c["rho"].iloc[0]):
                rho = f"ρ = {c['rho'].iloc[0]:+.2f}, n = {int(c['n'].iloc[0])}"
            ax.set_title(f"{g['label'].iloc[0]}\n{rho}", fontsize=8)
            ax.axhline(0, color="black", lw=0.8)
            ax.set_xlabel(MEASURES[m], fontsize=8)
            if (i * len(measures) + j) % cols == 0:
                ax.set_ylabel(f"Δ {metric.split(',')[0]}", fontsize=8)
            ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(pairs) * len(measures):]:
        ax.set_visible(False)
    h = fig.get_figheight()  # title and legend above the panels, sized in inches
    fig.suptitle(title + (f"  [{profile} profile]" if profile else ""), fontsize=11, y=1 - 0.05 / h, va="top")
    fig.legend(list(handles.values()), list(handles), loc="upper center", ncol=min(len(handles), 2),
               frameon=False, fontsize=8, bbox_to_anchor=(0.5, 1 - 0.35 / h))
    fig.tight_layout(rect=(0, 0, 1, 1 - (0.45 + 0.2 * ((len(handles) + 1) // 2)) / h))
    return fig
