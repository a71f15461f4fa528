"""Per-item evidence from training runs: Δ curves with 95% intervals, the paper's contrasts, verdict rows.

Every training run keeps lm-eval's per-item values (``items/epoch_XX.csv.gz``, read by
:func:`resurface.evaluate.evaluation.read_items`). This module turns them into

- **bands**: per condition and evaluated epoch, Δ against the base model with its 95% interval
  (:func:`resurface.evidence.stats.delta_ci`: paired on items, over training subsets when there are several);
- **contrasts**: a group of conditions against another at the last evaluated epoch (e.g. the mean
  of the self-generated corpora minus the replay corpus), paired on items;
- **verdict rows** (:mod:`resurface.evidence.verdicts`), one per claim and benchmark, with Holm's correction
  over the rows of a page.

Which metric a figure plots is the profile's ``evidence_metric``: ``continuous`` (the course and
smoke profiles: the gold answer's normalised log-probability for choice tasks, minus its bits per
byte for generation tasks) or ``paper`` (the paper's own metrics: accuracy, exact match, pass@1).
Computation only: :mod:`resurface.evidence.findings` writes the sentences.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from resurface.evidence import claims, stats, verdicts
from resurface.errors import ParameterError

CONTINUOUS_METRICS = ("logp_gold_norm,none", "neg_bpb,none")
METRIC_MODES = ("continuous", "paper")
AXIS_LABELS = {"logp_gold_norm,none": "Δ log p(gold), normalised over choices",
               "neg_bpb,none": "Δ −bits/byte of the gold answer"}


def panels(suite: str, mode: str, present: pd.DataFrame | None = None) -> list[tuple[str, str, str]]:
    """``(task, metric, title)`` of the metrics a figure plots for ``suite`` in ``mode``.

    ``continuous``: every continuous metric the suite's tasks report; ``paper``: each paper-metric
    task's primary metric. With ``present`` (tidy results), only the pairs that have rows there.
    """
    from resurface.evaluate.suites import get_suite

    if mode not in METRIC_MODES:
        raise ParameterError("evidence_metric", f"unknown value {mode!r}", ", ".join(METRIC_MODES))
    out = []
    for t in get_suite(suite).tasks:
        title = f"{t.label.split(',')[0]} ({t.num_fewshot}-shot)"
        if mode == "continuous":
            out += [(t.task, m, title) for m in t.metrics if m in CONTINUOUS_METRICS]
        elif t.primary not in CONTINUOUS_METRICS:
            out.append((t.task, t.primary, title))
    if present is not None:
        have = set(zip(present["task"], present["metric"]))
        out = [p for p in out if (p[0], p[1]) in have]
    return out


def axis_labels() -> dict[str, str]:
    return dict(AXIS_LABELS)


# ------------------------------------------------------------------------------ per-item tables
def run_items(results: pd.DataFrame) -> pd.DataFrame:
    """The per-item values of every run in ``results`` (tidy results of
    :func:`resurface.study.experiments.run_conditions`, which carry each run's folder in ``run_path``),
    labelled with the run's condition, subset and student."""
    from resurface.evaluate.evaluation import ITEM_COLUMNS, read_items

    if "run_path" not in results.columns:
        raise ParameterError("results", "has no run_path column", "experiments.run_conditions(...) output")
    frames = []
    runs = results.drop_duplicates("run_path")[["run_path", "condition", "subset", "student"]]
    for r in runs.itertuples(index=False):
        items = read_items(Path(r.run_path))
        if items.empty:
            continue
        items["condition"], items["subset"], items["student"] = r.condition, r.subset, r.student
        frames.append(items)
    cols = ITEM_COLUMNS + ["condition", "subset", "student"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


def _select(items: pd.DataFrame, suite: str, task: str, metric: str) -> pd.DataFrame:
    d = items[(items["suite"] == suite) & (items["task"] == task) & (items["metric"] == metric)]
    return d[np.isfinite(d["value"].astype(float))]


def base_values(items: pd.DataFrame, suite: str, task: str, metric: str) -> pd.Series:
    """The base model's per-item values (epoch 0; the mean over runs, which share one base)."""
    d = _select(items, suite, task, metric)
    return d[d["epoch"] == 0].groupby("item")["value"].mean()


def epoch_table(items: pd.DataFrame, suite: str, task: str, metric: str, epoch: int) -> pd.DataFrame:
    """The per-item table (condition, subset, item, value) of one task, metric and epoch, limited to
    the items every run of that epoch has (an interrupted evaluation never leaves unpaired items)."""
    d = _select(items, suite, task, metric)
    d = d[d["epoch"] == epoch]
    runs = d.groupby(["condition", "subset"]).ngroups
    complete = d.groupby("item")["value"].size()
    keep = complete[complete == runs].index
    return d[d["item"].isin(keep)][["condition", "subset", "item", "value"]].reset_index(drop=True)


def last_epoch(items: pd.DataFrame) -> int:
    return int(items["epoch"].max()) if len(items) else 0


# ------------------------------------------------------------------------------ bands and contrasts
def delta_bands(items: pd.DataFrame, suite: str, pairs: Sequence[tuple[str, str]],
                conditions: Sequence[str], level: float = 0.95) -> pd.DataFrame:
    """Per (task, metric, condition, epoch): Δ against the base with its interval (columns estimate,
    lo, hi, se, n_items, n_subsets, item_noise_only). Epoch 0 is the base itself (Δ = 0, no width)."""
    rows = []
    for task, metric in pairs:
        base = base_values(items, suite, task, metric)
        if base.empty:
            continue
        epochs = sorted(e for e in _select(items, suite, task, metric)["epoch"].unique() if e > 0)
        for cond in conditions:
            rows.append({"task": task, "metric": metric, "condition": cond, "epoch": 0, "estimate": 0.0,
                         "lo": 0.0, "hi": 0.0, "se": 0.0, "n_items": len(base), "n_subsets": 0,
                         "item_noise_only": False})
        for e in epochs:
            table = epoch_table(items, suite, task, metric, e)
            for cond in conditions:
                if cond not in set(table["condition"]):
                    continue
                est = stats.delta_ci(table, cond, base, level=level)
                rows.append({"task": task, "metric": metric, "condition": cond, "epoch": int(e),
                             "estimate": est.estimate, "lo": est.lo, "hi": est.hi, "se": est.se,
                             "n_items": est.n_items, "n_subsets": est.n_subsets,
                             "item_noise_only": est.item_noise_only})
    return pd.DataFrame(rows)


def group_weights(group_a: Sequence[str], group_b: Sequence[str]) -> dict[str, float]:
    """Weights of ``mean(group_a) − mean(group_b)``."""
    if not group_a or not group_b:
        raise ParameterError("group", "both sides of a contrast need at least one condition")
    if set(group_a) & set(group_b):
        raise ParameterError("group", f"conditions on both sides: {sorted(set(group_a) & set(group_b))}")
    w = {c: 1.0 / len(group_a) for c in group_a}
    w.update({c: -1.0 / len(group_b) for c in group_b})
    return w


def contrast(items: pd.DataFrame, suite: str, task: str, metric: str, group_a: Sequence[str],
             group_b: Sequence[str] | None = None, epoch: int | None = None,
             level: float = 0.95) -> stats.Estimate:
    """``mean Δ(group_a) − mean Δ(group_b)`` at ``epoch`` (default: the last evaluated), paired on
    items; with ``group_b`` None, ``mean Δ(group_a)`` against the base model."""
    sel = _select(items, suite, task, metric)
    e = last_epoch(sel) if epoch is None else epoch
    table = epoch_table(items, suite, task, metric, e)
    if group_b:
        return stats.paired_bootstrap(table, group_weights(group_a, group_b), level=level)
    w = {c: 1.0 / len(group_a) for c in group_a}
    return stats.paired_bootstrap(table, w, base_values(items, suite, task, metric), level=level)


def claim_rows(items: pd.DataFrame, suite: str, pairs: Sequence[tuple[str, str, str]], claim: str,
               figure: str, group_a: Sequence[str], group_b: Sequence[str] | None = None,
               margin: float | None = None, level: float = 0.95) -> list[verdicts.VerdictRow]:
    """One verdict row per benchmark (``pairs``: task, metric, title) for a registered claim, from the
    contrast of ``group_a`` against ``group_b`` (or against the base) at the last evaluated epoch.
    Conditions without runs here are dropped; a side left empty gives no row."""
    have = set(items["condition"])
    a = [c for c in group_a if c in have]
    b = [c for c in group_b if c in have] if group_b is not None else None
    if not a or (b is not None and not b):
        return []
    rows = []
    for task, metric, title in pairs:
        if _select(items, suite, task, metric).empty:
            continue
        est = contrast(items, suite, task, metric, a, b, level=level)
        row = verdicts.make_row(claim, est, f"{title}: {metric.split(',')[0]}", margin=margin)
        rows.append(replace(row, figure=figure))
    return rows


def page_verdicts(rows: list[verdicts.VerdictRow]) -> pd.DataFrame:
    """The verdict table of one page (Holm over its rows)."""
    return verdicts.verdict_table(rows)


# ------------------------------------------------------------------------------ one figure's evidence
# figure -> the paper's claims it tests: (claim id, kind of the conditions on side A, kind on side B)
TRANSFER_CLAIMS: dict[str, list[tuple[str, str, str]]] = {
    "fig02": [("self_gt_replay", "self", "replay")],
    "fig03": [("self_gt_replay", "self", "replay")],
    "fig09": [("self_gt_replay", "self", "replay")],
    "fig05": [("self_gt_lineage", "self", "lineage"), ("self_gt_recipe", "self", "recipe"),
              ("self_gt_cross", "self", "cross")],
    "fig10": [("own_gt_cross_student", "self", "cross")],
}


def kind_of(condition: str) -> str:
    """``"self@1.25"`` -> ``"self"``; ``"replay"`` -> ``"replay"``."""
    return condition.split("@", 1)[0]


@dataclass
class FigureEvidence:
    """What a transfer figure draws and concludes: its suite, panels, bands and verdict table."""

    figure: str
    suite: str
    panels: list[tuple[str, str, str]]
    bands: pd.DataFrame
    verdicts: pd.DataFrame
    items: pd.DataFrame


def figure_suite(P: dict, fig: str) -> str:
    """The suite a transfer figure plots: the few-shot suite for Figure 9, the zero-shot one otherwise."""
    return P["eval_suite_few_shot"] if fig == "fig09" else P["eval_suite"]


def transfer_rows(fig: str, items: pd.DataFrame, suite: str, pairs, conditions: Sequence[str],
                  level: float = 0.95) -> list[verdicts.VerdictRow]:
    """The verdict rows of one transfer figure (:data:`TRANSFER_CLAIMS`); claims whose conditions did
    not run in this profile (e.g. no same-lineage source in the course) give no row."""
    rows = []
    for claim, kind_a, kind_b in TRANSFER_CLAIMS.get(fig, []):
        if claim not in claims.CLAIMS:
            continue
        a = [c for c in conditions if kind_of(c) == kind_a]
        b = [c for c in conditions if kind_of(c) == kind_b]
        rows += claim_rows(items, suite, pairs, claim, FIGURE_TITLES.get(fig, fig), a, b, level=level)
    return rows


FIGURE_TITLES = {f"fig{i:02d}": f"Fig {i}" for i in range(1, 13)}


def figure_evidence(P: dict, fig: str, results: pd.DataFrame, conditions: Sequence[str],
                    level: float = 0.95) -> FigureEvidence:
    """Bands and verdicts of a transfer figure (2, 3, 5, 9, 10) from its runs' per-item values."""
    suite = figure_suite(P, fig)
    items = run_items(results)
    items = items[items["suite"] == suite]
    pairs = panels(suite, P.get("evidence_metric", "continuous"), items)
    bands = delta_bands(items, suite, [(t, m) for t, m, _ in pairs], conditions, level=level)
    table = page_verdicts(transfer_rows(fig, items, suite, pairs, conditions, level=level))
    return FigureEvidence(fig, suite, pairs, bands, table, items)


# ------------------------------------------------------------------------------ Figures 7 and 8
# Non-inferiority margins of "capability is preserved", fixed before any run: one point of accuracy
# (the resolution of a 100-item benchmark); 0.05 nats of the gold choice's normalised log-probability
# (its probability share falls by under 5%); 0.02 bits per byte of the gold answer (under a tenth of
# what separates SmolLM2-135M's maths answers from chance-level text, about 0.3 bits per byte).
CAPABILITY_MARGINS = {"logp_gold_norm,none": 0.05, "neg_bpb,none": 0.02}
ACCURACY_MARGIN = 0.01


def capability_margin(metric: str) -> float:
    return CAPABILITY_MARGINS.get(metric, ACCURACY_MARGIN)


def capability_evidence(P: dict, results: pd.DataFrame, conditions: Sequence[str],
                        level: float = 0.95) -> FigureEvidence:
    """Figure 7: Δ bands of the benchmarks while the memorising base self-trains, and one
    non-inferiority row per benchmark (mean Δ over the τ conditions against the base model)."""
    suite = P["eval_suite"]
    items = run_items(results)
    items = items[items["suite"] == suite]
    pairs = panels(suite, P.get("evidence_metric", "continuous"), items)
    bands = delta_bands(items, suite, [(t, m) for t, m, _ in pairs], conditions, level=level)
    rows = []
    for task, metric, title in pairs:
        rows += claim_rows(items, suite, [(task, metric, title)], "capability_kept", "Fig 7", conditions,
                           None, margin=capability_margin(metric), level=level)
    return FigureEvidence("fig07", suite, pairs, bands, page_verdicts(rows), items)


def _sequences(items: pd.DataFrame) -> pd.DataFrame:
    return items[(items["suite"] == "memorization") & (items["metric"] == "extracted")]


def extraction_counts(items: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per condition, group and epoch: sequences extracted (summed over training runs), out of how
    many (sequences × runs), and the exact (Clopper-Pearson) interval of the extracted share."""
    d = _sequences(items)
    g = (d.groupby(["condition", "task", "epoch"])["value"].agg(["sum", "size"]).reset_index()
         .rename(columns={"task": "group", "sum": "extracted", "size": "trials"}))
    g["extracted"] = g["extracted"].round().astype(int)
    lo, hi = stats.clopper_pearson(g["extracted"].to_numpy(), g["trials"].to_numpy(), level)
    g["share"] = g["extracted"] / g["trials"]
    g["share_lo"], g["share_hi"] = lo, hi
    return g


def extraction_rows(items: pd.DataFrame, conditions: Sequence[str], level: float = 0.95,
                    seed: int = 0) -> list[verdicts.VerdictRow]:
    """Figure 8: per condition, the relative drop of extraction from the base to the last epoch on
    the same sequences (text and code together; every run's sequences, paired with the base's),
    bootstrapped over those pairs, tested against the paper's 95%."""
    from resurface.conditions import condition_label

    d = _sequences(items)
    if d.empty:
        return []
    last = int(d["epoch"].max())
    claim = claims.CLAIMS["extraction_drop_95"]
    rows = []
    for cond in conditions:
        c = d[d["condition"] == cond]
        base = c[c["epoch"] == 0].groupby(["task", "item"])["value"].first()
        after = c[c["epoch"] == last]
        if base.empty or after.empty or last == 0:
            continue
        before = base.reindex(pd.MultiIndex.from_frame(after[["task", "item"]])).to_numpy() > 0.5
        est = stats.relative_drop_ci(before, after["value"].to_numpy() > 0.5, level=level, seed=seed,
                                     null=claim.threshold)
        row = verdicts.make_row(claim, est, f"{condition_label(cond)}: text and code, epoch {last}")
        rows.append(replace(row, figure="Fig 8", n_subsets=int(after["subset"].nunique())))
    return rows


# ------------------------------------------------------------------------------ the whole book (Figure 1)
def metric_rows(results: pd.DataFrame, suite: str, mode: str) -> pd.DataFrame:
    """The tidy rows of ``suite`` in the metrics a figure plots in ``mode`` (:func:`panels`)."""
    wanted = {(t, m) for t, m, _ in panels(suite, mode)}
    d = results[results["suite"] == suite]
    return d[[(t, m) in wanted for t, m in zip(d["task"], d["metric"])]]


def transfer_verdicts(P: dict, store=None) -> list[pd.DataFrame]:
    """The verdict tables of Figures 2, 3, 5, 9 and 10, as their pages compute them (their runs are
    read from the store)."""
    from resurface.study.experiments import TRANSFER_FIGURES, figure_conditions, run_conditions

    tables = []
    for fig in TRANSFER_FIGURES:
        q, conds = figure_conditions(P, fig)
        names = [c.name for c in conds]
        tables.append(figure_evidence(q, fig, run_conditions(q, conds, store), names).verdicts)
    return tables


def memorization_verdicts(P: dict, store=None) -> list[pd.DataFrame]:
    """The verdict tables of Figures 7 and 8 (one memorisation study, read from the store)."""
    from resurface.study.experiments import figure_params
    from resurface.measures.memorization import run_study

    q = figure_params(P, "fig08")
    study = run_study(q, store)
    conditions = [f"self@{t:g}" for t in q["temperatures"]]
    cap = capability_evidence(q, study.benchmarks, conditions).verdicts
    ext = page_verdicts(extraction_rows(run_items(study.results), conditions))
    return [cap, ext]


def book_verdicts(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Every page's verdict rows in one table (each page's Holm correction kept as the page applied it)."""
    tables = [t for t in tables if t is not None and not t.empty]
    return pd.concat(tables, ignore_index=True) if tables else page_verdicts([])
