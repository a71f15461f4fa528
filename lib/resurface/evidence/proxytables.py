"""The figure-level tables of Figures 4, 6 and 11: proxy scores per τ, the threshold split, the
proxies of every trained corpus next to its Δ, and their verdict rows (computation only; the page
prose is :mod:`resurface.evidence.findings`).

The stages themselves (per-sample NLL and max-cosine, item embeddings, the split corpora) are in
:mod:`resurface.measures.proxies`; this module runs them on a profile's parameters ``P``.

**Figure 4 (right).** The student's τ = ``split_temperature`` corpus is split at the threshold on
``split_task`` and the student trains on subsets of each side (conditions ``below@τ``, ``above@τ``).
The split benchmark is read in the profile's ``evidence_metric``: in ``continuous`` mode the maths
task's continuous metric lives on its companion task (``rs_math_bpb``: ``neg_bpb``), so a panel task
maps to its benchmark by ``task.replace("_bpb", "")``. The verdict row (claim
``similarity_equivalent``, equivalence) is the contrast Δ(below) − Δ(above) on the claim's window,
paired on items (:func:`resurface.evidence.contrasts.claim_window_rows`), with the metric's margin fixed
in the claim register before any run (never from the arms' own gains).

**Figures 6 and 11 (own vs cross mean NLL).** The gap mean NLL(cross) − mean NLL(own) per τ gets a
Welch t interval over the scored samples (the two corpora are independent samples). At the highest
τ of the profile (the paper's τ = 1.25) it is one equivalence row (claim ``nll_means_close``) with
the margin fixed in the claim register in nats per token
(:data:`resurface.evidence.claims.NLL_GAP_MARGIN`, from the paper's published means, never from the
means under test); the trend over τ is descriptive only.

**The proxy table (Figure 11).** One row per (student, trained corpus, benchmark): the corpus's mean
max-cosine to the benchmark, its mean NLL under the student that trained on it, and the Δ it
produced in the profile's ``evidence_metric`` (last-epoch and best-epoch mean over subsets).
:func:`proxy_correlations` gives Spearman ρ with an interval by test inversion and an exact permutation
p-value (:func:`resurface.evidence.ranks.spearman_ci`). The verdict rows (claims ``nll_not_predictive`` and
``similarity_not_predictive``: equivalence of ρ with 0, margin 0.5) are per student, benchmark and
proxy on the final-epoch Δ: NLLs under two students are on different scales (different
tokenizers), so a pooled ranking would rank scorers, not corpora.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from resurface.evidence import claims, contrasts, estimates, ranks, verdicts
from resurface.errors import ParameterError
from resurface.conditions import deltas
from resurface.evaluate.suites import get_suite
from resurface.study import experiments
from resurface.study import figures as registry
from resurface.study import profiles
from resurface.measures.proxies import (SIDES, THRESHOLD_RULES, artifact_id, nll, read_nll, read_similarity, similarity,
                      split_by_similarity)


# ------------------------------------------------------------------------------ profile settings
def corpus_nll(P: dict, scorer: str, corpus: str | Path, store=None) -> Path:
    """:func:`resurface.measures.proxies.nll` of a corpus under ``scorer`` with the profile's settings."""
    return nll(corpus, scorer, max_tokens=P["nll_max_tokens"], max_samples=P["nll_max_samples"] or None,
               seed=P["seed"], device=P["device"], dtype=P["dtype"], allow_hub=profiles.allow_hub(P), store=store)


def corpus_similarity(P: dict, corpus: str | Path, store=None) -> Path:
    """:func:`resurface.measures.proxies.similarity` of every sample of a corpus to the profile's evaluation
    suite (the benchmarks whose Δ the figures plot)."""
    return similarity(corpus, P["eval_suite"], P["embedder"], max_tokens=P["embed_max_tokens"] or None,
                      seed=P["seed"], device=P["device"], allow_hub=profiles.allow_hub(P), store=store)


def check_tasks(P: dict, names: Iterable[str], parameter: str) -> None:
    """ParameterError unless every task is in the profile's evaluation suite, or is the benchmark a
    ``_bpb`` companion of it scores (``rs_math`` for ``rs_math_bpb``)."""

    names = get_suite(P["eval_suite"]).task_names
    known = list(dict.fromkeys(list(names) + [benchmark_of(t) for t in names]))
    for t in names:
        if t not in known:
            raise ParameterError(parameter, f"{t!r} is not a task of eval_suite {P['eval_suite']!r}",
                                 ", ".join(known))


def benchmark_of(task: str) -> str:
    """The benchmark a panel task measures: ``rs_math_bpb`` -> ``rs_math`` (``rs_math_bpb_smoke`` ->
    ``rs_math_smoke``); other tasks are their own benchmark."""
    return task.replace("_bpb", "")


def benchmark_label(suite, task: str) -> str:
    """The label of benchmark ``task`` in ``suite``: its own, or that of the ``_bpb`` companion that scores
    its items (cut before the metric's description) when the suite has only the companion."""
    if task in suite.task_names:
        return suite.spec(task).label
    for t in suite.tasks:
        if benchmark_of(t.task) == task:
            return t.label.split(",")[0]
    return suite.spec(task).label  # ParameterError naming the suite's tasks


# ------------------------------------------------------------------------------ per-τ score tables
def nll_table(P: dict, scorer: str, other: str, store=None) -> pd.DataFrame:
    """Figs 6/11: per-sample NLL under ``scorer`` of its own corpora (panel ``own``, conditions
    ``self@τ``) and of ``other``'s corpora (panel ``cross``, ``cross@τ``), at every τ of the profile."""

    frames = []
    for panel, source, kind in (("own", scorer, "self"), ("cross", other, "cross")):
        for t in P["temperatures"]:
            folder = corpus_nll(P, scorer, experiments.sampled_corpus(P, source, t, store), store)
            df = read_nll(folder)
            df.insert(0, "panel", panel)
            df.insert(1, "condition", f"{kind}@{t:g}")
            df.insert(2, "source", source)
            df.insert(3, "temperature", t)
            df["scorer"] = scorer
            df["artifact"] = artifact_id(folder)
            frames.append(df)
    return pd.concat(frames, ignore_index=True)


def similarity_table(P: dict, student: str, store=None) -> pd.DataFrame:
    """Fig 4 (left): per-sample max-cosines of ``student``'s own corpora (``self@τ``) at every τ."""

    frames = []
    for t in P["temperatures"]:
        folder = corpus_similarity(P, experiments.sampled_corpus(P, student, t, store), store)
        df = read_similarity(folder)
        df.insert(0, "condition", f"self@{t:g}")
        df.insert(1, "temperature", t)
        df["artifact"] = artifact_id(folder)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def similarity_panels(P: dict, sim: pd.DataFrame) -> list[tuple[str, dict[str, np.ndarray]]]:
    """Fig 4 (left): per benchmark of ``similarity_tasks``, the max-cosines by condition (τ)."""

    suite = get_suite(P["eval_suite"])
    out = []
    for task in P["similarity_tasks"]:
        d = sim[sim["task"] == task]
        out.append((benchmark_label(suite, task), {c: g["max_cos"].to_numpy() for c, g in d.groupby("condition", sort=False)}))
    return out


def nll_panels(df: pd.DataFrame) -> list[tuple[str, dict[str, np.ndarray]]]:
    """Figs 6/11: the own and the cross-family panel, NLLs by condition (τ)."""
    out = []
    for panel in ("own", "cross"):
        d = df[df["panel"] == panel]
        source = d["source"].iloc[0]
        title = f"{'own' if panel == 'own' else 'cross-family'} corpora ({source}'s samples)"
        out.append((title, {c: g["mean_nll"].to_numpy() for c, g in d.groupby("condition", sort=False)}))
    return out


def similarity_means(sim: pd.DataFrame, P: dict) -> pd.DataFrame:
    """Mean max-cosine per benchmark (rows) and τ (columns), benchmarks labelled as in the figure."""

    suite = get_suite(P["eval_suite"])
    t = sim.groupby(["task", "temperature"])["max_cos"].mean().unstack("temperature")
    t.index = [benchmark_label(suite, task) for task in t.index]
    t.columns = [f"τ={c:g}" for c in t.columns]
    return t


# ------------------------------------------------------------------------------ Fig 4: the split
def split_threshold(P: dict, values: np.ndarray) -> float:
    """The Fig 4 threshold: ``similarity_threshold`` (rule ``fixed``) or the median of ``values``."""
    rule = P["similarity_threshold_rule"]
    if rule not in THRESHOLD_RULES:
        raise ParameterError("similarity_threshold_rule", f"unknown rule {rule!r}", ", ".join(THRESHOLD_RULES))
    return float(P["similarity_threshold"]) if rule == "fixed" else float(np.median(values))


def split_conditions(temperature: float) -> list[str]:
    """The condition names of the two sides: ``below@τ``, ``above@τ``."""
    return [f"{side}@{temperature:g}" for side in SIDES]


def similarity_split_runs(P: dict, store=None) -> tuple[pd.DataFrame, dict]:
    """Fig 4 (right): split the student's τ = ``split_temperature`` corpus at the threshold on
    ``split_task`` and train the student on every subset of each side (evaluating ``eval_suite``).

    Returns the tidy results of all runs (with ``delta`` and ``run_path``) and a record of the split.
    """

    check_tasks(P, [P["split_task"]], "split_task")
    t, task, student = P["split_temperature"], P["split_task"], P["student"]
    corpus = experiments.sampled_corpus(P, student, t, store)
    sim_dir = corpus_similarity(P, corpus, store)
    sim = read_similarity(sim_dir)
    values = sim.loc[sim["task"] == task, "max_cos"].to_numpy()
    threshold = split_threshold(P, values)
    sides = split_by_similarity(corpus, sim_dir, task, threshold, store)
    frames = [experiments.train_corpus(P, f"{side}@{t:g}", student, sides[side], student, [P["eval_suite"]], store)
              for side in SIDES]
    info = {"task": task, "temperature": t, "threshold": threshold, "rule": P["similarity_threshold_rule"],
            "corpus": artifact_id(Path(corpus)), "similarity": artifact_id(sim_dir),
            "split_artifacts": {s: artifact_id(p) for s, p in sides.items()},
            "sizes": {s: int(v) for s, v in (("below", (values < threshold).sum()),
                                             ("above", (values >= threshold).sum()))}}
    return deltas(pd.concat(frames, ignore_index=True)), info


def split_pairs(suite: str, mode: str, task: str, items: pd.DataFrame | None = None) -> list[tuple[str, str, str]]:
    """``(task, metric, title)`` of the split benchmark ``task`` in ``mode`` (its companion ``_bpb``
    task in continuous mode); with ``items``, only the pairs that have per-item values there."""
    return [p for p in contrasts.panels(suite, mode, items) if benchmark_of(p[0]) == task]


def _nan_estimate(n: int, method: str, note: str, level: float = 0.95) -> estimates.Estimate:
    nan = math.nan
    return estimates.Estimate(nan, nan, nan, nan, nan, n, 0, level, method, note=note)


def split_rows(items: pd.DataFrame, suite: str, pairs: Sequence[tuple[str, str, str]], temperature: float,
               figure: str = "Fig 4", level: float = 0.95, planned_epochs: int | None = None) -> contrasts.Rows:
    """The ``similarity_equivalent`` rows: Δ(below) − Δ(above) on the claim's window, paired on items,
    tested for equivalence within the metric's margin fixed in the register before any run
    (:meth:`resurface.evidence.claims.Claim.margin_for`), never from the arms' own gains."""
    claim = claims.CLAIMS["similarity_equivalent"]
    conds = split_conditions(temperature)
    if not set(conds) <= set(items["condition"]):
        return contrasts.Rows([], [])
    labelled = [(t, m, f"{title}, τ={temperature:g} split") for t, m, title in pairs]
    return contrasts.claim_window_rows(claim, items, suite, labelled, conds, planned_epochs, level, figure=figure)


def split_evidence(P: dict, results: pd.DataFrame, info: dict, level: float = 0.95) -> contrasts.FigureEvidence:
    """Fig 4 (right): Δ bands of the split benchmark for both sides and the equivalence verdict rows,
    from the split runs' per-item values."""
    suite = P["eval_suite"]
    items = contrasts.run_items(results)
    items = items[items["suite"] == suite]
    pairs = split_pairs(suite, P.get("evidence_metric", "continuous"), info["task"], items)
    conds = split_conditions(info["temperature"])
    bands = contrasts.delta_bands(items, suite, [(t, m) for t, m, _ in pairs], conds, level=level)
    rows = split_rows(items, suite, pairs, info["temperature"], level=level, planned_epochs=P.get("epochs"))
    table = contrasts.annotate(contrasts.page_verdicts(rows.rows), P, rows.meta)
    return contrasts.FigureEvidence("fig04", suite, pairs, bands, table, items)


# ------------------------------------------------------------------------------ Figs 6/11: own vs cross NLL
def nll_gap(own, cross, level: float = 0.95) -> estimates.Estimate:
    """mean(cross) − mean(own) of per-sample NLLs with a Welch t interval (two independent samples;
    Welch–Satterthwaite df) and the matching two-sided p-value of a zero gap. ``n_items`` counts the
    samples of both corpora; fewer than two finite values on a side give an all-NaN estimate."""
    from scipy import stats as st

    a = np.asarray(own, dtype=float)
    b = np.asarray(cross, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    method = "Welch t over samples"
    if not 0 < level < 1:
        raise ParameterError("level", f"must lie in (0, 1), got {level!r}")
    if len(a) < 2 or len(b) < 2:
        return _nan_estimate(len(a) + len(b), method, "fewer than two scored samples on a side", level)
    gap = float(b.mean() - a.mean())
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return estimates.Estimate(gap, gap, gap, 0.0, 1.0 if gap == 0 else 0.0, len(a) + len(b), 0, level, method,
                                  df=math.inf)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    q = float(st.t.ppf(0.5 + level / 2, df))
    p = float(2 * st.t.sf(abs(gap) / se, df))
    return estimates.Estimate(gap, gap - q * se, gap + q * se, se, p, len(a) + len(b), 0, level, method, df=float(df))


def nll_gaps(df: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per τ: own and cross-family mean NLL, the gap cross − own with its Welch interval, the gap
    relative to the own mean, and how many samples each side scored."""
    rows = []
    for t, g in df.groupby("temperature"):
        own = g.loc[g["panel"] == "own", "mean_nll"].to_numpy(float)
        cross = g.loc[g["panel"] == "cross", "mean_nll"].to_numpy(float)
        est = nll_gap(own, cross, level)
        own_mean = float(np.nanmean(own)) if len(own) else math.nan
        rows.append({"temperature": float(t), "own_mean": own_mean,
                     "cross_mean": float(np.nanmean(cross)) if len(cross) else math.nan,
                     "gap": est.estimate, "lo": est.lo, "hi": est.hi, "se": est.se, "df": est.df, "p": est.p,
                     "rel_gap": est.estimate / abs(own_mean) if own_mean else math.nan,
                     "n_own": int(np.isfinite(own).sum()), "n_cross": int(np.isfinite(cross).sum())})
    return pd.DataFrame(rows)


def nll_gap_rows(df: pd.DataFrame, scorer: str, figure: str, level: float = 0.95) -> list[verdicts.VerdictRow]:
    """The ``nll_means_close`` row: the gap at the profile's highest τ (the paper's τ = 1.25), with the
    margin the claim register fixed in nats per token (:data:`resurface.evidence.claims.NLL_GAP_MARGIN`;
    never a share of the means under test). The row is about ``scorer``'s scores (its regime)."""
    if df.empty:
        return []
    t = float(df["temperature"].max())
    g = df[df["temperature"] == t]
    own = g.loc[g["panel"] == "own", "mean_nll"].to_numpy(float)
    cross = g.loc[g["panel"] == "cross", "mean_nll"].to_numpy(float)
    est = nll_gap(own, cross, level)
    label = f"mean NLL under {scorer}, τ={t:g}: cross − own (nats/token)"
    row = verdicts.make_row("nll_means_close", est, label, model=scorer)
    return [replace(row, figure=figure, note=f"{row.note}; margin {row.margin:g} nats/token, fixed in the claim "
                                             "register from the paper's published means")]


# ------------------------------------------------------------------------------ proxies vs utility
def trained_conditions(P: dict, figures: Sequence[str] | None = None) -> dict[str, tuple[dict, list]]:
    """Figure -> (its parameters, the training conditions its notebook runs), for the utility figures of
    the registry (2, 3, 5, 10; :func:`resurface.study.experiments.figure_conditions`, the definition the
    notebooks use)."""

    known = registry.utility()
    figures = list(known if figures is None else figures)
    unknown = [f for f in figures if f not in known]
    if unknown or not figures:
        raise ParameterError("utility_figures", f"unknown or no figures {unknown or figures!r}", ", ".join(known))
    return {f: experiments.figure_conditions(P, f) for f in figures}


def utility_outcomes(results: pd.DataFrame, suite: str, mode: str) -> pd.DataFrame:
    """Per condition, student and benchmark: the last-epoch and best-epoch mean Δ over subsets of
    the metric that :func:`resurface.evidence.contrasts.panels` gives for that benchmark in ``mode`` (columns
    condition, student, task, metric, benchmark, label, final_delta, best_delta, best_epoch)."""
    d = results[results["suite"] == suite] if "suite" in results.columns else results
    rows = []
    for task, metric, title in contrasts.panels(suite, mode, d):
        dm = d[(d["task"] == task) & (d["metric"] == metric) & (d["epoch"] > 0)]
        for (cond, student), g in dm.groupby(["condition", "student"], sort=False):
            per_epoch = g.groupby("epoch")["delta"].mean()
            rows.append({"condition": cond, "student": student, "task": task, "metric": metric,
                         "benchmark": benchmark_of(task), "label": title,
                         "final_delta": float(per_epoch.loc[per_epoch.index.max()]),
                         "best_delta": float(per_epoch.max()), "best_epoch": int(per_epoch.idxmax())})
    return pd.DataFrame(rows, columns=["condition", "student", "task", "metric", "benchmark", "label",
                                       "final_delta", "best_delta", "best_epoch"])


def proxy_utility_table(P: dict, figures: Sequence[str] | None = None, store=None) -> pd.DataFrame:
    """One row per (student, training corpus, benchmark): the corpus's mean max-cosine to that
    benchmark, its mean NLL under the student that trained on it, and the Δ it produced (final and
    best epoch, mean over subsets) in the profile's ``evidence_metric`` (:func:`utility_outcomes`).

    The training results come from :func:`resurface.study.experiments.run_conditions` on the conditions
    each figure's notebook runs (:func:`trained_conditions`), so in the book they are read from the
    store; replay corpora are included.
    """

    suite, mode = P["eval_suite"], P.get("evidence_metric", "continuous")
    rows, seen = [], set()
    for fig, (q, conds) in trained_conditions(P, figures).items():
        outcome = utility_outcomes(experiments.run_conditions(q, conds, store), suite, mode)
        for cond in conds:
            if (cond.student, cond.name) in seen:
                continue
            seen.add((cond.student, cond.name))
            corpus = experiments.corpus_for(q, cond, store)
            nll_mean = float(read_nll(corpus_nll(P, cond.student, corpus, store))["mean_nll"].mean())
            sim = read_similarity(corpus_similarity(P, corpus, store)).groupby("task")["max_cos"].mean()
            mine = outcome[(outcome["condition"] == cond.name) & (outcome["student"] == cond.student)]
            for o in mine.itertuples(index=False):
                rows.append({"figure": fig, "student": cond.student, "condition": cond.name,
                             "source": cond.source or "replay", "temperature": cond.temperature,
                             "task": o.task, "metric": o.metric, "benchmark": o.benchmark, "label": o.label,
                             "max_cos_mean": float(sim.get(o.benchmark, np.nan)), "nll_mean": nll_mean,
                             "final_delta": o.final_delta, "best_delta": o.best_delta,
                             "best_epoch": o.best_epoch, "corpus": artifact_id(corpus)})
    if not rows:
        raise ParameterError("utility_figures", "no training results to compare with")
    return pd.DataFrame(rows)


# the direction in which a proxy would "predict" utility: closer to the benchmark -> larger Δ;
# more likely under the student (lower NLL) -> larger Δ
PROXY_SIGNS = {"max_cos_mean": 1, "nll_mean": -1}
PROXY_NAMES = {"max_cos_mean": "mean max-cosine to the benchmark", "nll_mean": "mean NLL under the student"}
PROXY_CLAIMS = {"max_cos_mean": "similarity_not_predictive", "nll_mean": "nll_not_predictive"}
OUTCOMES = {"final_delta": "final-epoch Δ", "best_delta": "best-epoch Δ"}
POOLED = "all students"


def proxy_correlations(table: pd.DataFrame, level: float = 0.95, B: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Spearman ρ of each proxy with each Δ across corpora, per benchmark, for each student and for
    both students pooled (descriptive: NLLs of two scorers are on different scales), with an
    interval by test inversion and an exact permutation p-value (:func:`resurface.evidence.ranks.spearman_ci`). Columns:
    students, task, metric, benchmark, label, proxy, outcome, n, rho, lo, hi, se, p, note."""
    groups = [(s, table[table["student"] == s]) for s in table["student"].unique()]
    if len(groups) > 1:
        groups.append((POOLED, table))
    rows = []
    for group, g in groups:
        for (task, metric), gt in g.groupby(["task", "metric"], sort=False):
            for proxy in PROXY_SIGNS:
                for outcome in OUTCOMES:
                    x, y = gt[proxy].to_numpy(float), gt[outcome].to_numpy(float)
                    ok = np.isfinite(x) & np.isfinite(y)
                    if ok.sum() < 3:
                        est = _nan_estimate(int(ok.sum()), "Spearman", f"{int(ok.sum())} corpora: a rank "
                                            "correlation needs at least 3", level)
                    else:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            est = ranks.spearman_ci(x[ok], y[ok], B=B, level=level, seed=seed)
                    rows.append({"students": group, "task": task, "metric": metric,
                                 "benchmark": gt["benchmark"].iloc[0],
                                 "label": gt["label"].iloc[0] if "label" in gt.columns else gt["benchmark"].iloc[0],
                                 "proxy": proxy, "outcome": outcome, "n": int(ok.sum()), "rho": est.estimate,
                                 "lo": est.lo, "hi": est.hi, "se": est.se, "p": est.p, "level": est.level,
                                 "testable": bool(getattr(est, "testable", True)), "note": est.note})
    return pd.DataFrame(rows)


def proxy_rows(corr: pd.DataFrame, figure: str = "Fig 11", outcome: str = "final_delta") -> list[verdicts.VerdictRow]:
    """Verdict rows of the proxy table: per student, benchmark and proxy, the equivalence of ρ with 0
    (margin 0.5 from the registry; claims :data:`PROXY_CLAIMS`) on ``outcome``. The pooled group is
    left out (two scorers' NLLs do not rank on one scale). Each row names its student (``model``), so
    its regime is that student's, not the page's (Figure 11 is the second student's page)."""
    rows = []
    d = corr[(corr["students"] != POOLED) & (corr["outcome"] == outcome)]
    for r in d.itertuples(index=False):
        est = estimates.Estimate(r.rho, r.lo, r.hi, r.se, r.p, int(r.n), 0, r.level,
                                 "Spearman, exact permutation p, interval by test inversion",
                                 note=r.note if isinstance(r.note, str) else "",
                                 testable=bool(getattr(r, "testable", True)))
        label = f"{r.label}: {r.metric.split(',')[0]}, {PROXY_NAMES[r.proxy]} vs {OUTCOMES[outcome]} ({r.students})"
        row = verdicts.make_row(PROXY_CLAIMS[r.proxy], est, label, model=r.students)
        rows.append(replace(row, figure=figure))
    return rows


def page_verdicts(P: dict, store=None) -> list[pd.DataFrame]:
    """The verdict tables of Figures 4, 6 and 11 as their pages compute them (for Figure 1; every run
    and score is read from the store when the pages ran first)."""

    q4 = experiments.figure_params(P, "fig04")
    results, split = similarity_split_runs(q4, store)
    tables = [split_evidence(q4, results, split).verdicts]
    q6 = experiments.figure_params(P, "fig06")
    tables.append(contrasts.annotate(contrasts.page_verdicts(nll_gap_rows(nll_table(q6, q6["student"], q6["second_student"],
                                                                       store), q6["student"], "Fig 6")), q6))
    q11 = experiments.figure_params(P, "fig11")
    nll11 = nll_table(q11, q11["second_student"], q11["student"], store)
    corr = proxy_correlations(proxy_utility_table(q11, q11["utility_figures"], store))
    tables.append(contrasts.annotate(contrasts.page_verdicts(nll_gap_rows(nll11, q11["second_student"], "Fig 11")
                                                + proxy_rows(corr)), q11))
    return tables
