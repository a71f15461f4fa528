"""Figure 12 (beyond the paper): does a *relational* measure of student–source compatibility predict
which corpora help, where the intrinsic proxies of Figures 4, 6 and 11 do not? Computation only; the
page prose is :mod:`resurface.evidence.findings`.

**Corpora.** Every corpus the main student (``student``) is trained on here has a measured utility:

- its own samples at every τ of ``temperatures`` and the human-text replay: Figure 2's conditions
  (:func:`resurface.study.experiments.figure_conditions` ``"fig02"``), so the store returns their runs;
- every source of Figure 5 at its ``source_temperatures`` (the same runs as Figure 5's), plus the
  cross-family source at ``cross_temperatures`` (new runs only for temperatures Figure 5 lacks);
- **same-lineage siblings** (:data:`SIBLING_KEYS`): the student itself after a short fine-tune
  (:func:`resurface.train.training.train_run` with the final model kept) on the replay corpus
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
proxy, |ρ_relational| − |ρ_intrinsic| (Spearman ρ with the final-epoch Δ) with a percentile bootstrap
interval over corpora, both ρ computed on the same resampled corpora (:func:`compare_rho`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from resurface import progress
from resurface.evidence import stats, verdicts
from resurface.errors import ParameterError
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


def sibling_data(P: dict, recipe: dict, store=None) -> Path:
    """The corpus a sibling is fine-tuned on: the replay corpus, or the cross-family source's corpus
    at ``sibling_temperature``."""
    from resurface.study.experiments import figure_params, replay_corpus, sampled_corpus

    if recipe["data"] == "replay":
        return replay_corpus(P, P["student"], store)
    sources = figure_params(P, "fig05")["sources"]
    if "cross" not in sources:
        raise ParameterError("siblings", f"recipe {recipe['name']!r} fine-tunes on the cross-family corpus, but "
                             "fig05's sources have no 'cross' role", "data: replay, or a cross source in fig05.yaml")
    return sampled_corpus(P, sources["cross"], P["sibling_temperature"], store)


def sibling_model(P: dict, recipe: dict, store=None) -> Path:
    """The student after a short fine-tune on the recipe's data: ``recipe["tokens"]`` tokens (one seeded
    subset, drawn as every training subset is), ``epochs`` and ``lr`` from the recipe, the rest of the
    training settings from the profile; no evaluation. Returns the run's ``final_model/`` folder."""
    from resurface.study.experiments import allow_hub
    from resurface.corpus.subsets import make_subsets, subset_dirs
    from resurface.train.training import train_run

    progress.report(f"sibling {recipe['name']}: fine-tune of {P['student']} on {recipe['data']}")
    data = sibling_data(P, recipe, store)
    sub = subset_dirs(make_subsets(data, 1, recipe["tokens"], seed=P["seed"], store=store))[0]
    run = train_run(P["student"], sub, epochs=recipe["epochs"], lr=recipe["lr"], warmup_ratio=P["warmup_ratio"],
                    block_size=P["block_size"], batch_size=P["batch_size"], effective_batch=P["effective_batch"],
                    weight_decay=P["weight_decay"], seed=P["seed"], eval_suites=[], device=P["device"],
                    dtype=P["dtype"], allow_hub=allow_hub(P), save_checkpoints=True, store=store)
    return Path(run) / "final_model"


def plan(P: dict, store=None, build_siblings: bool = True) -> list[Corpus]:
    """The corpora of Figure 12 (see the module docstring), the reused ones with the parameters of
    the figure that runs them. Building the siblings trains them (``build_siblings=False``: the
    sibling conditions carry the recipe name as their source, for counting)."""
    from resurface.study.experiments import Condition, figure_conditions

    q2, c2 = figure_conditions(P, "fig02")
    q5, c5 = figure_conditions(P, "fig05")
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
        src = str(sibling_model(P, r, store)) if build_siblings else r["name"]
        add(Condition(f"{r['name']}@{t:g}", P["student"], src, float(t)), P)
    return out


def run_plan(corpora: Sequence[Corpus], store=None) -> pd.DataFrame:
    """Train every corpus of the plan (the store returns the reused runs) and return one tidy table
    (``delta`` vs epoch 0; one run set per condition)."""
    from resurface.study.experiments import run_conditions

    frames, groups = [], {}
    for c in corpora:  # one call per parameter set, in plan order
        groups.setdefault(id(c.params), (c.params, []))[1].append(c.condition)
    for q, conds in groups.values():
        frames.append(run_conditions(q, conds, store))
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
    from resurface.corpus.files import read_corpus
    from resurface.study.experiments import corpus_for, sampled_corpus
    from resurface.measures.proxies import artifact_id, read_nll, read_similarity
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
    """Spearman ρ of every measure with ``outcome`` across corpora, per benchmark, with its bootstrap
    interval and permutation p-value (:func:`resurface.evidence.stats.spearman_ci`), on every corpus where the
    measure is defined (``n``)."""
    rows = []
    for (task, metric), g in table.groupby(["task", "metric"], sort=False):
        for measure in MEASURES:
            x, y = g[measure].to_numpy(float), g[outcome].to_numpy(float)
            ok = np.isfinite(x) & np.isfinite(y)
            if ok.sum() < 3:
                est = stats.Estimate(*(math.nan,) * 5, int(ok.sum()), 0, level, "Spearman",
                                     note=f"{int(ok.sum())} corpora: a rank correlation needs at least 3")
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    est = stats.spearman_ci(x[ok], y[ok], B=B, level=level, seed=seed)
            rows.append({"task": task, "metric": metric, "label": g["label"].iloc[0], "measure": measure,
                         "kind": "relational" if measure in RELATIONAL else "intrinsic", "n": int(ok.sum()),
                         "rho": est.estimate, "lo": est.lo, "hi": est.hi, "p": est.p, "note": est.note})
    return pd.DataFrame(rows)


def compare_rho(relational, intrinsic, utility, *, B: int = 2000, level: float = 0.95, seed: int = 0) -> stats.Estimate:
    """|ρ(relational, utility)| − |ρ(intrinsic, utility)| over the corpora where all three are finite,
    with a percentile bootstrap interval over corpora (both ρ on the same resample; resamples where
    any of the three is constant are dropped, ``n_dropped``) and the bootstrap's two-sided p-value."""
    x, z, y = (np.asarray(v, dtype=float) for v in (relational, intrinsic, utility))
    ok = np.isfinite(x) & np.isfinite(z) & np.isfinite(y)
    x, z, y = x[ok], z[ok], y[ok]
    n = int(ok.sum())
    method = "|Spearman ρ| difference, bootstrap over corpora"
    nan = math.nan
    if n < 3:
        return stats.Estimate(nan, nan, nan, nan, nan, n, 0, level, method,
                              note=f"{n} corpora: a rank correlation needs at least 3")
    point = stats.spearman_rows(x[None], y[None])[0], stats.spearman_rows(z[None], y[None])[0]
    if not np.all(np.isfinite(point)):
        return stats.Estimate(nan, nan, nan, nan, nan, n, 0, level, method, note="a measure or Δ is constant")
    d0 = float(abs(point[0]) - abs(point[1]))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(B, n))
    d = np.abs(stats.spearman_rows(x[idx], y[idx])) - np.abs(stats.spearman_rows(z[idx], y[idx]))
    good = np.isfinite(d)
    d = d[good]
    if d.size < 2:
        return stats.Estimate(d0, nan, nan, nan, nan, n, 0, level, method, B=B, n_dropped=int((~good).sum()),
                              note="every resample was degenerate")
    if np.ptp(d) == 0:  # e.g. both measures rank every resample of these corpora alike
        return stats.Estimate(d0, nan, nan, nan, nan, n, 0, level, method, B=B, n_dropped=int((~good).sum()),
                              note=f"every resample gives the same difference ({d0:+.2f}): no interval")
    lo, hi = np.quantile(d, [0.5 - level / 2, 0.5 + level / 2])
    p = 2 * min(np.mean(d <= 0), np.mean(d >= 0))
    p = float(min(1.0, max(p, 1.0 / (d.size + 1))))
    return stats.Estimate(d0, float(lo), float(hi), float(d.std(ddof=1)), p, n, 0, level, method, B=B,
                          n_dropped=int((~good).sum()))


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
    from resurface.study.experiments import figure_params

    q = figure_params(P, "fig12")
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
