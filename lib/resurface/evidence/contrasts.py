"""Per-item evidence from training runs: Δ curves with 95% intervals, the paper's contrasts, verdict rows.

Every training run keeps lm-eval's per-item values (``items/epoch_XX.csv.gz``, read by
:func:`resurface.evaluate.evaluation.read_items`). This module turns them into

- **bands**: per condition and evaluated epoch, Δ against the base model with its 95% interval
  (:func:`resurface.evidence.paired.delta_ci`: paired on items, over training subsets when there are several);
- **contrasts**: a group of conditions against another, averaged over a claim's epoch window (fixed in
  the register, :mod:`resurface.evidence.claims`), paired on items;
- **verdict rows** (:mod:`resurface.evidence.verdicts`), one per registered claim and each benchmark it
  names, with Holm's correction over the rows of a page, annotated with the regime (:func:`annotate`).

Which metric a figure plots is the profile's ``evidence_metric``: ``continuous`` (the course and
smoke profiles: the gold answer's normalised log-probability for choice tasks, minus its bits per
byte for generation tasks) or ``paper`` (the paper's own metrics: accuracy, exact match, pass@1).
Computation only: :mod:`resurface.evidence.findings` writes the sentences.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from resurface.errors import ParameterError
from resurface.evaluate.evaluation import ITEM_COLUMNS, read_items
from resurface.evaluate.suites import get_suite
from resurface.evidence import claims, estimates, extraction, paired, plantings, verdicts
from resurface.paths import generated_dir
from resurface.study import experiments, figures, planted_memory
from resurface.study.regime import REPLAY_MARGIN_REL

CONTINUOUS_METRICS = ("logp_gold_norm,none", "neg_bpb,none")
METRIC_MODES = ("continuous", "paper")
AXIS_LABELS = {"logp_gold_norm,none": "Δ log p(gold), normalised over choices",
               "neg_bpb,none": "Δ −bits/byte of the gold answer"}


def panels(suite: str, mode: str, present: pd.DataFrame | None = None) -> list[tuple[str, str, str]]:
    """``(task, metric, title)`` of the metrics a figure plots for ``suite`` in ``mode``.

    ``continuous``: every continuous metric the suite's tasks report; ``paper``: each paper-metric
    task's primary metric. With ``present`` (tidy results), only the pairs that have rows there.
    """
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
    if "run_path" not in results.columns:
        raise ParameterError("results", "has no run_path column", "experiments.run_conditions(...) output")
    frames = []
    labels = ["condition", "subset", "student"] + (["planting"] if "planting" in results.columns else [])
    runs = results.drop_duplicates("run_path")[["run_path"] + labels]
    for r in runs.itertuples(index=False):
        items = read_items(Path(r.run_path))
        if items.empty:
            continue
        for k in labels:
            items[k] = getattr(r, k)
        frames.append(items)
    cols = ITEM_COLUMNS + labels
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


def on_own_base(items: pd.DataFrame) -> pd.DataFrame:
    """Per-item values moved so that each run's Δ is taken against *its own* base: ``value − base_run(i)
    + mean_runs base(i)``. Runs that start from one shared base are unchanged; runs with bases of their
    own (Figure 7's plantings) then give Δ = score − own base, and the between-run term of every interval
    carries the bases' variance, which averaging the bases first would leave out."""
    if items.empty:
        return items
    keys = ["suite", "task", "metric", "item"]
    run = ["condition", "subset"]
    base = items[items["epoch"] == 0].groupby(run + keys)["value"].first().rename("_own")
    mean = base.groupby(keys).mean().rename("_mean")
    out = items.join(base, on=run + keys).join(mean, on=keys)
    have = out["_own"].notna()
    out.loc[have, "value"] = out.loc[have, "value"] - out.loc[have, "_own"] + out.loc[have, "_mean"]
    return out.drop(columns=["_own", "_mean"])


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
                est = paired.delta_ci(table, cond, base, level=level)
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
             level: float = 0.95) -> estimates.Estimate:
    """``mean Δ(group_a) − mean Δ(group_b)`` at ``epoch`` (default: the last evaluated), paired on
    items; with ``group_b`` None, ``mean Δ(group_a)`` against the base model."""
    sel = _select(items, suite, task, metric)
    e = last_epoch(sel) if epoch is None else epoch
    table = epoch_table(items, suite, task, metric, e)
    if group_b:
        return paired.paired_bootstrap(table, group_weights(group_a, group_b), level=level)
    w = {c: 1.0 / len(group_a) for c in group_a}
    return paired.paired_bootstrap(table, w, base_values(items, suite, task, metric), level=level)


def page_verdicts(rows: list[verdicts.VerdictRow]) -> pd.DataFrame:
    """The verdict table of one page (Holm over its rows)."""
    return verdicts.verdict_table(rows)


# ------------------------------------------------------------------------------ one figure's evidence
def window_table(items: pd.DataFrame, suite: str, task: str, metric: str, epochs: Sequence[int]) -> pd.DataFrame:
    """Per (condition, subset, item): the value averaged over ``epochs`` (a claim's window), on the items
    every run has at every one of those epochs."""
    frames = [epoch_table(items, suite, task, metric, e) for e in epochs]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=["condition", "subset", "item", "value"])
    d = pd.concat(frames, ignore_index=True)
    n = d.groupby(["condition", "subset", "item"])["value"].transform("size")
    d = d[n == len(frames)]
    return d.groupby(["condition", "subset", "item"], as_index=False)["value"].mean()


def window_contrast(items: pd.DataFrame, suite: str, task: str, metric: str, group_a: Sequence[str],
                    group_b: Sequence[str] | None, epochs: Sequence[int], level: float = 0.95) -> estimates.Estimate:
    """``mean Δ(group_a) − mean Δ(group_b)`` averaged over ``epochs``, paired on items (``group_b`` None:
    against the base model)."""
    table = window_table(items, suite, task, metric, epochs)
    if group_b:
        return paired.paired_bootstrap(table, group_weights(group_a, group_b), level=level)
    w = {c: 1.0 / len(group_a) for c in group_a}
    return paired.paired_bootstrap(table, w, base_values(items, suite, task, metric), level=level)


def row_from(claim: claims.Claim, est: estimates.Estimate, label: str, *, figure: str | None = None,
             margin: float | None = None, n_subsets: int | None = None,
             planned_epochs: int | None = None) -> verdicts.VerdictRow:
    """A verdict row of a registered claim: the rule of its kind with its fixed margin (``margin``
    overrides it) and the reachability of its words (:func:`resurface.evidence.verdicts.make_row`)."""
    m = claim.margin_for(None) if margin is None else margin
    return verdicts.make_row(claim, est, label, margin=m, figure=figure, n_subsets=n_subsets,
                             planned_epochs=planned_epochs)


@dataclass
class Rows:
    """Verdict rows with, per row, what the register says about it (benchmark, task, window)."""

    rows: list
    meta: list

    def __add__(self, other: "Rows") -> "Rows":
        return Rows(self.rows + other.rows, self.meta + other.meta)


def claim_window_rows(claim: claims.Claim, items: pd.DataFrame, suite: str, pairs, conditions: Sequence[str],
                      planned_epochs: int | None = None, level: float = 0.95, figure: str | None = None) -> Rows:
    """The rows of one registered claim: one per task that stands in for a benchmark the claim names
    (never for the others), on the claim's epoch window of the planned epochs (fixed in advance), from
    the contrast of its sides; conditions without runs are dropped, a side left empty gives no row."""
    out = Rows([], [])
    if not claim.testable or items.empty:
        return out
    have = [c for c in conditions if c in set(items["condition"])]
    a = claims.select(claim.side_a, have)
    b = claims.select(claim.side_b, have, exclude=a or ())
    if not a or (b is not None and not b):
        return out
    groups = [([c], None) for c in a] if claim.per_condition else [(a, b)]
    planned = planned_epochs if planned_epochs is not None else last_epoch(items)
    tasks = claims.claim_tasks(claim, list(dict.fromkeys(t for t, _, _ in pairs)))
    for task, metric, title in pairs:
        if task not in tasks:
            continue
        sel = _select(items, suite, task, metric)
        epochs = claims.window_epochs(claim.window, planned, sel["epoch"].unique())
        if not epochs:
            continue
        window = claims.window_text(claim.window, epochs)
        task_rows = []
        for ga, gb in groups:
            est = window_contrast(items, suite, task, metric, ga, gb, epochs, level=level)
            which = f", {', '.join(ga)}" if claim.per_condition else ""
            label = f"{title}: {metric.split(',')[0]}{which}, {window}"
            task_rows.append((ga, row_from(claim, est, label, figure=figure, margin=claim.margin_for(metric, task),
                                           planned_epochs=planned)))
        out.rows.extend(_beside_replay(task_rows))
        out.meta.extend({"benchmark": claims.benchmark_names(claim, task), "task": task, "window": window}
                        for _ in task_rows)
    return out


def _beside_replay(task_rows: list) -> list[verdicts.VerdictRow]:
    """Rows of one task; a row whose condition collapsed (its note starts "collapsed") gets the replay
    arm's Δ beside it, so the reader sees whether training on human text of the same size did the same."""
    from dataclasses import replace

    replay = next((r for ga, r in task_rows if list(ga) == ["replay"]), None)
    out = []
    for ga, r in task_rows:
        if r.note.startswith("collapsed") and replay is not None and r is not replay:
            r = replace(r, note=f"{r.note}; the replay arm beside it: Δ {replay.estimate:+.3f} "
                                f"[{replay.lo:+.3f}, {replay.hi:+.3f}]")
        out.append(r)
    return out


def annotate(table: pd.DataFrame, P: dict | None, meta: Sequence[dict] | None = None) -> pd.DataFrame:
    """Add what the register and the profile say to a page's verdict table: whose claim, its kind, the
    epoch window, the benchmark and task, the paper's (or book's) claim in words, the regime
    (:func:`resurface.evidence.claims.regime`, from ``P``: of the model whose runs each row is about, its
    ``model`` where the row names one, else the figure's) and the verdict in words that carry it."""
    t = table.copy()
    if t.empty:
        for c in ANNOTATIONS:
            t[c] = pd.Series(dtype=object)
        return t
    if meta is not None:
        for key in ("benchmark", "task", "window"):
            t[key] = [m.get(key, "") for m in meta]
    reg = [claims.CLAIMS.get(c) for c in t["claim_id"]]
    for key, default in (("benchmark", ""), ("task", ""), ("window", None)):
        if key not in t.columns:
            t[key] = default
    t["window"] = [w if isinstance(w, str) and w else (claims.WINDOWS[c.window] if c else "")
                   for w, c in zip(t["window"], reg)]
    t["whose"] = [c.whose if c else "paper" for c in reg]
    t["claim_kind"] = [c.kind if c else k for c, k in zip(reg, t["kind"])]
    t["finding"] = [c.finding if c else "" for c in reg]
    t["reports"] = [c.text if c else "" for c in reg]
    if P is not None:
        models = t["model"] if "model" in t.columns else [""] * len(t)
        t["regime"] = [claims.regime(P, f, m if isinstance(m, str) else None) for f, m in zip(t["figure"], models)]
        t["profile"] = P.get("profile", "")
    elif "regime" not in t.columns:
        t["regime"], t["profile"] = "", ""
    t["words"] = [claims.verdict_words(v, w, r) if r else v for v, w, r in zip(t["verdict"], t["whose"], t["regime"])]
    return t


ANNOTATIONS = ("benchmark", "task", "window", "whose", "claim_kind", "finding", "reports", "regime", "profile", "words")


def transfer_rows(fig: str, items: pd.DataFrame, suite: str, pairs, conditions: Sequence[str],
                  level: float = 0.95, planned_epochs: int | None = None) -> Rows:
    """The verdict rows of one transfer figure: every claim the register holds for it
    (:func:`resurface.evidence.claims.claims_of`), only on the benchmarks each names; claims whose
    conditions did not run in this profile (e.g. no same-lineage source in the course) give no row."""
    out = Rows([], [])
    for claim in claims.claims_of(fig):
        out = out + claim_window_rows(claim, items, suite, pairs, conditions, planned_epochs, level,
                                      figure=figures.label(fig))
    return out


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
    replay: pd.DataFrame | None = None  # replay's Δ against the base with the regime margin (replay_check)


def replay_check(items: pd.DataFrame, suite: str, pairs, level: float = 0.95) -> pd.DataFrame:
    """Replay's Δ against the base at the last epoch, per panel task, next to the margin the regime rule
    uses (:data:`resurface.study.regime.REPLAY_MARGIN_REL` of the base's score): does training on human
    text of the same size leave the student where it was, as the paper's replay does? Empty without a
    replay arm."""
    epoch = last_epoch(items)
    rows = []
    for task, metric, title in pairs:
        table = epoch_table(items, suite, task, metric, epoch)
        if "replay" not in set(table["condition"]) or epoch == 0:
            continue
        base = base_values(items, suite, task, metric)
        est = paired.delta_ci(table, "replay", base, level=level)
        margin = REPLAY_MARGIN_REL * abs(float(base.mean()))
        rows.append({"task": task, "metric": metric, "title": title, "epoch": epoch, "base": float(base.mean()),
                     "estimate": est.estimate, "lo": est.lo, "hi": est.hi, "margin": margin,
                     "within": bool(-margin <= est.lo and est.hi <= margin)})
    return pd.DataFrame(rows)


def figure_suite(P: dict, fig: str) -> str:
    """The suite a transfer figure plots: the few-shot suite for Figure 9, the zero-shot one otherwise."""
    return P["eval_suite_few_shot"] if fig == "fig09" else P["eval_suite"]


def figure_evidence(P: dict, fig: str, results: pd.DataFrame, conditions: Sequence[str],
                    level: float = 0.95) -> FigureEvidence:
    """Bands and verdicts of a transfer figure (2, 3, 5, 9, 10) from its runs' per-item values."""
    suite = figure_suite(P, fig)
    items = run_items(results)
    items = items[items["suite"] == suite]
    pairs = panels(suite, P.get("evidence_metric", "continuous"), items)
    bands = delta_bands(items, suite, [(t, m) for t, m, _ in pairs], conditions, level=level)
    rows = transfer_rows(fig, items, suite, pairs, conditions, level=level, planned_epochs=P.get("epochs"))
    table = annotate(page_verdicts(rows.rows), P, rows.meta)
    return FigureEvidence(fig, suite, pairs, bands, table, items, replay_check(items, suite, pairs, level))


# ------------------------------------------------------------------------------ Figures 7 and 8
def capability_evidence(P: dict, results: pd.DataFrame, conditions: Sequence[str],
                        level: float = 0.95) -> FigureEvidence:
    """Figure 7: Δ bands of the benchmarks while the memorising base self-trains, and the
    ``capability_kept`` rows (mean Δ over the τ conditions against the base model at the last planned
    epoch, non-inferiority with the metric's fixed margin) on the benchmarks the claim names."""
    suite = P["eval_suite"]
    items = run_items(results)
    items = on_own_base(items[items["suite"] == suite])  # each planting's runs against their own base
    pairs = panels(suite, P.get("evidence_metric", "continuous"), items)
    bands = delta_bands(items, suite, [(t, m) for t, m, _ in pairs], conditions, level=level)
    rows = claim_window_rows(claims.CLAIMS["capability_kept"], items, suite, pairs, conditions,
                             P.get("epochs"), level)
    return FigureEvidence("fig07", suite, pairs, bands, annotate(page_verdicts(rows.rows), P, rows.meta), items)


def _sequences(items: pd.DataFrame) -> pd.DataFrame:
    return items[(items["suite"] == "memorization") & (items["metric"] == "extracted")]


def _sequence_matrix(d: pd.DataFrame) -> pd.DataFrame:
    """Extracted (True/False) per sequence (rows: task, item) and training run (columns: subset)."""
    return d.pivot_table(index=["task", "item"], columns="subset", values="value", aggfunc="first") > 0.5


def _planting_blocks(d: pd.DataFrame) -> list[pd.DataFrame]:
    """Sequence matrices (:func:`_sequence_matrix`), one per planting (one in all without plantings:
    every run then tests the same sequences)."""
    if "planting" not in d.columns or d["planting"].nunique() < 2:
        return [_sequence_matrix(d)]
    return [_sequence_matrix(g) for _, g in d.groupby("planting", sort=True)]


def extraction_counts(items: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per condition, group and epoch: sequences extracted (summed over training runs), out of how
    many (sequences × runs), and the interval of the extracted share: sequences as clusters when every
    run tests the same sequences (:func:`resurface.evidence.extraction.extracted_share_clustered`), plantings
    as clusters when each has its own (:func:`resurface.evidence.plantings.extracted_share_plantings`)."""
    d = _sequences(items)
    out = []
    for (cond, task, epoch), g in d.groupby(["condition", "task", "epoch"]):
        blocks = [m.to_numpy() for m in _planting_blocks(g)]
        est = (extraction.extracted_share_clustered(blocks[0], level=level) if len(blocks) == 1
               else plantings.extracted_share_plantings(blocks, level=level))
        out.append({"condition": cond, "group": task, "epoch": epoch, "extracted": int(sum(b.sum() for b in blocks)),
                    "trials": int(sum(b.size for b in blocks)), "sequences": int(sum(b.shape[0] for b in blocks)),
                    "runs": int(sum(b.shape[1] for b in blocks)),
                    "share": est.estimate, "share_lo": est.lo, "share_hi": est.hi, "design": est.note})
    cols = ["condition", "group", "epoch", "extracted", "trials", "sequences", "runs", "share", "share_lo",
            "share_hi", "design"]
    return pd.DataFrame(out, columns=cols)


def extraction_rows(items: pd.DataFrame, conditions: Sequence[str], level: float = 0.95,
                    seed: int = 0) -> list[verdicts.VerdictRow]:
    """Figure 8: per condition, the relative drop of extraction from the base to the last epoch on
    the same sequences (text and code together), tested against the paper's 95%: with sequences as
    clusters and the runs within them when every run tests the same sequences
    (:func:`resurface.evidence.extraction.relative_drop_ci` on the sequences × runs matrix), with plantings as
    clusters when each has its own base and pool (:func:`resurface.evidence.plantings.relative_drop_plantings`)."""
    from resurface.conditions import condition_label

    d = _sequences(items)
    if d.empty:
        return []
    last = int(d["epoch"].max())
    claim = claims.CLAIMS["extraction_drop_95"]
    rows = []
    for cond in conditions:
        c = d[d["condition"] == cond]
        if c[c["epoch"] == 0].empty or last == 0 or c[c["epoch"] == last].empty:
            continue
        b1 = _planting_blocks(c[c["epoch"] == last])
        # each run's base, on the same sequences and runs as after training (missing: not extracted)
        b0 = [m0.reindex(index=m1.index, columns=m1.columns).fillna(False).astype(bool)
              for m0, m1 in zip(_planting_blocks(c[c["epoch"] == 0]), b1)]
        if len(b1) == 1:
            before = b0[0].any(axis=1).to_numpy()  # one shared base: its per-sequence state
            est = extraction.relative_drop_ci(before, b1[0].to_numpy(), level=level, seed=seed, null=claim.threshold)
        else:
            est = plantings.relative_drop_plantings([m.to_numpy() for m in b0], [m.to_numpy() for m in b1],
                                                    level=level, null=claim.threshold)
        rows.append(row_from(claim, est, f"{condition_label(cond)}: text and code, epoch {last}", figure="Fig 8",
                             n_subsets=int(sum(m.shape[1] for m in b1))))
    return rows


# ------------------------------------------------------------------------------ the whole book (Figure 1)
def metric_rows(results: pd.DataFrame, suite: str, mode: str) -> pd.DataFrame:
    """The tidy rows of ``suite`` in the metrics a figure plots in ``mode`` (:func:`panels`)."""
    wanted = {(t, m) for t, m, _ in panels(suite, mode)}
    d = results[results["suite"] == suite]
    return d[[(t, m) in wanted for t, m in zip(d["task"], d["metric"])]]


def transfer_verdicts(P: dict, store=None) -> list[pd.DataFrame]:
    """The verdict tables of the transfer figures (2, 3, 5, 9 and 10), as their pages compute them (their
    runs are read from the store)."""
    tables = []
    for fig in figures.transfer():
        q, conds = experiments.figure_conditions(P, fig)
        names = [c.name for c in conds]
        tables.append(figure_evidence(q, fig, experiments.run_conditions(q, conds, store), names).verdicts)
    return tables


def memorization_verdicts(P: dict, store=None) -> list[pd.DataFrame]:
    """The verdict tables of Figures 7 and 8 (one memorisation study, read from the store)."""
    q = experiments.figure_params(P, "fig08")
    study = planted_memory.run_study(q, store)
    conditions = [f"self@{t:g}" for t in q["temperatures"]]
    cap = capability_evidence(q, study.benchmarks, conditions).verdicts
    ext = annotate(page_verdicts(extraction_rows(run_items(study.results), conditions)), q)
    return [cap, ext]


def book_verdicts(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Every page's verdict rows in one table (each page's Holm correction kept as the page applied it),
    with the book-wide Benjamini-Hochberg step beside it (:func:`resurface.evidence.verdicts.book_fdr`:
    ``p_bh`` and ``survives``)."""
    tables = [t for t in tables if t is not None and not t.empty]
    return verdicts.book_fdr(pd.concat(tables, ignore_index=True) if tables else page_verdicts([]))


# ------------------------------------------------------------------------------ the machine-readable table
CSV_COLUMNS = ("figure", "claim_id", "whose", "kind", "benchmark", "task", "metric", "window", "estimate", "lo",
               "hi", "threshold", "margin", "direction", "level", "p", "p_test", "p_holm", "p_bh", "survives",
               "mde", "n_items", "n_runs", "reachable", "verdict", "words", "note", "regime", "profile")


def verdict_csv(table: pd.DataFrame) -> pd.DataFrame:
    """Every verdict row in :data:`CSV_COLUMNS` (``kind`` is the claim's kind, ``n_runs`` the training
    runs per condition, ``p_test`` the p the page's Holm adjusts (at the margin for margin claims),
    ``p_bh``/``survives`` the book-wide Benjamini-Hochberg step (empty on a single page's table),
    ``reachable`` the words the design can reach at all, ``verdict`` the rule's label after the page's
    Holm step, ``words`` as printed)."""
    if table is None or table.empty:
        return pd.DataFrame(columns=list(CSV_COLUMNS))
    t = table if "words" in table.columns else annotate(table, None)
    out = pd.DataFrame({
        "figure": t["figure"], "claim_id": t["claim_id"], "whose": t["whose"], "kind": t["claim_kind"],
        "benchmark": t["benchmark"], "task": t["task"], "metric": t["metric"], "window": t["window"],
        "estimate": t["estimate"], "lo": t["lo"], "hi": t["hi"], "threshold": t["threshold"],
        "margin": t["margin"], "direction": t["direction"], "level": t["level"], "p": t["p"],
        "p_test": t["p_test"], "p_holm": t["p_holm"],
        "p_bh": t["p_bh"] if "p_bh" in t.columns else np.nan,
        "survives": t["survives"] if "survives" in t.columns else "",
        "mde": t["mde"], "n_items": t["n_items"], "n_runs": t["n_subsets"],
        "reachable": t["reachable"], "verdict": t["verdict"], "words": t["words"], "note": t["note"], "regime": t["regime"],
        "profile": t["profile"]})
    return out.reset_index(drop=True)


def recompute_verdicts(csv: pd.DataFrame) -> pd.Series:
    """The verdict of every row of a ``verdicts.csv`` recomputed from the row alone, by the stated rules:
    :func:`resurface.evidence.verdicts.decide` on its interval, kind, direction, threshold and margin;
    *not testable here* where its ``reachable`` is "neither"; an *agrees* or *contradicts* that does not
    survive the page's Holm step (its ``p_holm``) is *inconclusive*; and an *inconclusive* row with a
    word out of reach (``reachable`` not both) is *not testable here*."""
    out = []
    for r in csv.itertuples(index=False):
        reach = str(r.reachable)
        if reach not in verdicts.REACHABLE.values():
            raise ParameterError("csv", f"row of {r.claim_id!r} has reachable = {reach!r}",
                                 ", ".join(verdicts.REACHABLE.values()))
        margin = None if pd.isna(r.margin) else float(r.margin)
        word = verdicts.decide(float(r.lo), float(r.hi), kind=r.kind, threshold=float(r.threshold),
                               margin=margin, direction=int(r.direction))
        if reach == verdicts.REACHABLE[(False, False)]:
            word = verdicts.NOT_TESTABLE
        if word in (verdicts.AGREES, verdicts.CONTRADICTS) and not float(r.p_holm) < 1 - float(r.level):
            word = verdicts.INCONCLUSIVE
        if word == verdicts.INCONCLUSIVE and reach != verdicts.BOTH:
            word = verdicts.NOT_TESTABLE
        out.append(word)
    return pd.Series(out, index=csv.index, name="recomputed")


def write_verdicts_csv(table: pd.DataFrame, path: Path) -> Path:
    """Write :func:`verdict_csv` of ``table`` to ``path`` (``book/_generated/<profile>/verdicts.csv``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    verdict_csv(table).to_csv(path, index=False)
    return path


def verdicts_csv_path(profile: str) -> Path:
    """``book/_generated/<profile>/verdicts.csv``."""
    return generated_dir() / profile / "verdicts.csv"
