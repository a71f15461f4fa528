"""Figure 13's evidence: K's probe scores with intervals, the verdict rows of the book's claims, and the
page prose, all computed from the study of :mod:`resurface.study.buried_skill` (its measures:
:mod:`resurface.measures.resurfacing`).

- Preconditions (``k_planted``, ``k_latent``): the planted and the buried model against the base, paired
  on the test probes. One model each, so the intervals carry item noise only (said on the page).
- Resurfacing (``k_self_resurfaces`` ... ``k_self_gt_cross``): Δ against the buried model (every run's
  epoch 0) at the last planned epoch, paired on the test probes and over the ``num_subsets`` runs of each
  condition (:func:`resurface.evidence.contrasts.window_contrast`). The two "brings K back" claims carry
  the smallest recovery of interest the register fixed before the runs (a share of what burial removed,
  :data:`resurface.evidence.claims.SESOI_SHARE`): an interval wholly below it is a decisive negative.
- The trace (``k_trace_predicts``): Spearman ρ over *corpora* of the share of a corpus's training samples
  that name a town against its Δ, each corpus's runs averaged first (:func:`corpus_trace`,
  :func:`resurface.evidence.ranks.spearman_ci`). The corpora are the units: the runs of one corpus draw
  their subsets from one sampled corpus (with replacement where it kept few samples), so runs are not
  independent draws of the naming rate; over runs, one corpus's three high runs made ρ "significant"
  with 11 of 15 runs tied at 0. With 5 corpora the exact permutation p is at least 2/120: the row can
  reach a word alone, but not after Holm over the page's rows unless every other row's p is tiny
  (the row's ``reachable`` and note say so).

All runs share one planted and one buried model: the variance of those two draws is in no interval
(the page says so), as for Figures 7–8's planted base.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from resurface.evaluate.items_skill import CHANCE_SHARE
from resurface.evidence import claims, contrasts, estimates, paired, ranks, verdicts
from resurface.evidence.findings import whose_label
from resurface.measures.resurfacing import LABELS, probe_items_of, trace_table
from resurface.study import buried_skill, experiments

SUITE = "skill-test"
TASK = "rs_skill_test"
METRIC = "logp_gold_norm,none"
FIGURE = "Fig 13"
RESURFACING_CLAIMS = ("k_self_resurfaces", "k_preburial_resurfaces", "k_self_gt_base", "k_self_gt_replay",
                      "k_self_gt_cross")


def label(cond: str) -> str:
    """'the buried model's own samples (τ = 1)'."""

    kind, _, t = cond.partition("@")
    return LABELS.get(kind, kind) + (f" (τ = {t})" if t else "")


def test_items(results: pd.DataFrame) -> pd.DataFrame:
    """The per-item test-probe values of every resurfacing run (primary metric)."""
    items = contrasts.run_items(results)
    return items[(items["suite"] == SUITE) & (items["task"] == TASK) & (items["metric"] == METRIC)]


def model_items(folder) -> pd.Series:
    """A stored model's per-item test-probe values (a ``skill-probe`` artifact), indexed by item."""

    d = probe_items_of(folder)
    d = d[(d["task"] == TASK) & (d["metric"] == METRIC)]
    return d.set_index("item")["value"].sort_index()


def buried_items(items: pd.DataFrame) -> pd.Series:
    """The buried model's per-item values: epoch 0 of the runs (one shared evaluation)."""
    return contrasts.base_values(items, SUITE, TASK, METRIC).sort_index()


def pair_estimate(a: pd.Series, b: pd.Series, level: float = 0.95) -> estimates.Estimate:
    """``mean(a − b)`` paired on items, one model each (item noise only)."""
    common = a.index.intersection(b.index)
    table = pd.concat([pd.DataFrame({"condition": "a", "subset": 0, "item": common, "value": a[common].to_numpy()}),
                       pd.DataFrame({"condition": "b", "subset": 0, "item": common, "value": b[common].to_numpy()})])
    return paired.paired_bootstrap(table, {"a": 1.0, "b": -1.0}, level=level)


def bands(items: pd.DataFrame, conditions) -> pd.DataFrame:
    """Δ against the buried model per condition and epoch, with 95% intervals."""
    return contrasts.delta_bands(items, SUITE, [(TASK, METRIC)], list(conditions))


def run_recovery(items: pd.DataFrame, epoch: int) -> pd.DataFrame:
    """Per run (condition, subset): the mean Δ over test probes at ``epoch`` against the buried model."""
    base = buried_items(items)
    d = items[items["epoch"] == epoch].copy()
    d["delta"] = d["value"].to_numpy() - base.reindex(d["item"]).to_numpy()
    return d.groupby(["condition", "subset"], as_index=False)["delta"].mean()


def verdict_rows(P: dict, study, items: pd.DataFrame, traces: pd.DataFrame) -> contrasts.Rows:
    """Every Figure 13 claim that this run can test, as verdict rows (before Holm)."""
    out = contrasts.Rows([], [])
    base = model_items(study.probes["base"])
    planted = model_items(study.probes["planted"])
    buried = buried_items(items) if not items.empty else pd.Series(dtype=float)
    for cid, a, what in (("k_planted", planted, "planted − base"), ("k_latent", buried, "buried − base")):
        if a.empty:
            continue
        est = pair_estimate(a, base)
        out.rows.append(contrasts.row_from(claims.CLAIMS[cid], est, f"{what}: {METRIC.split(',')[0]}, test probes",
                                           figure=FIGURE, n_subsets=1))
        out.meta.append({"benchmark": "planted skill K", "task": TASK, "window": "before resurfacing"})
    if items.empty:
        return out
    conds = list(dict.fromkeys(items["condition"]))
    evaluated = items["epoch"].unique()
    # what burial removed (planted − buried, test probes), measured before any resurfacing run: the
    # reference of the smallest recovery of interest the register fixed (claims.SESOI_SHARE)
    common = planted.index.intersection(buried.index)
    lost = float((planted[common] - buried[common]).mean()) if len(common) else float("nan")
    for cid in RESURFACING_CLAIMS:
        c = claims.CLAIMS[cid]
        a = claims.select(c.side_a, conds)
        b = claims.select(c.side_b, conds, exclude=a or ())
        epochs = claims.window_epochs(c.window, P["epochs"], evaluated)
        if not a or (b is not None and not b) or not epochs:
            continue
        est = contrasts.window_contrast(items, SUITE, TASK, METRIC, a, b, epochs)
        window = claims.window_text(c.window, epochs)
        what = ", ".join(a) + (f" − {', '.join(b)}" if b else " vs buried")
        sesoi = c.sesoi_share * lost if c.sesoi_share and lost > 0 else None
        out.rows.append(contrasts.row_from(c, est, f"{what}: {METRIC.split(',')[0]}, {window}", figure=FIGURE,
                                           margin=sesoi))
        out.meta.append({"benchmark": "planted skill K", "task": TASK, "window": window})
    corr = trace_correlation(P, items, traces)
    if corr is not None:
        est, n = corr
        c = claims.CLAIMS["k_trace_predicts"]
        runs = int(items.groupby("condition")["subset"].nunique().sum())
        out.rows.append(contrasts.row_from(c, est, f"ρ(naming rate, Δ) over {n} corpora ({runs} runs averaged "
                                                   f"per corpus), epoch {P['epochs']}", figure=FIGURE, n_subsets=runs))
        out.meta.append({"benchmark": "planted skill K", "task": TASK, "window": f"epoch {P['epochs']} (last)"})
    return out


def corpus_trace(items: pd.DataFrame, traces: pd.DataFrame) -> pd.DataFrame:
    """Per corpus (condition): the mean naming rate of its runs' training text and the mean Δ of its runs
    at the last epoch against the buried model, with the number of runs (the units of ``k_trace_predicts``)."""
    last = int(items["epoch"].max()) if len(items) else 0
    if last == 0:
        return pd.DataFrame(columns=["condition", "naming_rate", "delta", "runs"])
    rec = run_recovery(items, last)
    per_run = traces[traces["subset"] >= 0][["condition", "subset", "naming_rate"]]
    d = rec.merge(per_run, on=["condition", "subset"])
    return (d.groupby("condition", sort=False)
             .agg(naming_rate=("naming_rate", "mean"), delta=("delta", "mean"), runs=("subset", "nunique"))
             .reset_index())


def trace_correlation(P: dict, items: pd.DataFrame, traces: pd.DataFrame):
    """(Spearman ρ over corpora of the mean naming rate vs the mean Δ at the last planned epoch, number of
    corpora), or None when there are fewer than 3 corpora (:func:`corpus_trace`)."""
    d = corpus_trace(items, traces)
    if len(d) < 3:
        return None
    if np.ptp(d["naming_rate"].to_numpy()) == 0 or np.ptp(d["delta"].to_numpy()) == 0:
        which = "names the towns equally often" if np.ptp(d["naming_rate"].to_numpy()) == 0 else "has the same Δ"
        return estimates.Estimate(np.nan, np.nan, np.nan, np.nan, np.nan, len(d), int(d["runs"].sum()), 0.95,
                                  "spearman", testable=False,
                                  note=f"every corpus's training text {which}: ρ is undefined"), len(d)
    return ranks.spearman_ci(d["naming_rate"].to_numpy(), d["delta"].to_numpy()), len(d)


def verdict_table(P: dict, study, items: pd.DataFrame, traces: pd.DataFrame) -> pd.DataFrame:
    """The page's verdict table (Holm over its rows), annotated with whose claim and the regime."""
    rows = verdict_rows(P, study, items, traces)
    table = contrasts.annotate(contrasts.page_verdicts(rows.rows), P, rows.meta)
    if not table.empty:  # said on every row, where Figure 1 and verdicts.csv carry it too
        once = "K planted and buried once: the interval covers the runs and the probes, not that draw"
        table["note"] = [f"{n}; {once}" if n else once for n in table["note"]]
    return table


def page_verdicts(P: dict, store=None) -> list[pd.DataFrame]:
    """Figure 13's verdict table as its page computes it (for Figure 1 and ``verdicts.csv``; every
    stage is read from the store when the page ran first)."""

    q = experiments.figure_params(P, "fig13")
    study = buried_skill.run_study(q, store)
    return [verdict_table(q, study, test_items(study.results), trace_table(q, study, store))]


def recovery_table(study, items: pd.DataFrame, band: pd.DataFrame) -> pd.DataFrame:
    """Per condition at the last epoch: Δ against the buried model with its 95% interval, and the same
    as a share of what burial took away on the test probes (planted − buried)."""
    planted = model_items(study.probes["planted"])
    buried = buried_items(items)
    lost = float((planted.reindex(buried.index) - buried).mean())
    last = band[band["epoch"] == band["epoch"].max()]
    out = last[["condition", "estimate", "lo", "hi", "n_items", "n_subsets"]].copy()
    out.insert(1, "corpus", [label(c) for c in out["condition"]])
    for col in ("estimate", "lo", "hi"):
        out[f"{col}_share"] = out[col] / lost if lost > 0 else np.nan
    out["lost_by_burial"] = lost
    return out.reset_index(drop=True)


# ------------------------------------------------------------------------------ page prose
def _iv(est, lo, hi, digits: int = 3) -> str:
    f = f"{{:+.{digits}f}}"
    return f"{f.format(est)} [{f.format(lo)}, {f.format(hi)}]"


def _row(table: pd.DataFrame, cid: str):
    if table is None or table.empty:
        return None
    r = table[table["claim_id"] == cid]
    return None if r.empty else r.iloc[0]


def describe_preconditions(study, table: pd.DataFrame) -> str:
    """Markdown: chance level, the planted and buried scores, and the stopping rule as it ran."""

    base = model_items(study.probes["base"])
    planted = model_items(study.probes["planted"])
    b = study.burial
    stop = int(study.burial_info["stopped_at"])
    dev = b[b["split"] == "dev"].set_index("epoch")
    text = (f"**Chance.** With four choices a model without K gives the gold answer a share of {CHANCE_SHARE:.2f} "
            f"on average (log share {np.log(CHANCE_SHARE):+.3f}). The base model's mean gold share on the "
            f"{len(base)} test probes is {np.exp(base).mean():.3f}, the planted model's {np.exp(planted).mean():.3f}. ")
    for cid, name in (("k_planted", "Planted − base"), ("k_latent", "Buried − base")):
        r = _row(table, cid)
        if r is not None:
            text += (f"{name} (mean log share, paired on the test probes): {_iv(r.estimate, r.lo, r.hi)}, "
                     f"**{r.words}**. ")
    info = study.burial_info
    fraction = float(info["fraction"])
    if info.get("fixed", False):
        text += (f"\n\n**Burial of a length fixed in advance.** {int(info['max_epochs'])} burial epochs, a length "
                 "the burial pilot chose on other seeds before this book's runs (the fewest epochs after which K's "
                 f"dev gap stays at most {fraction:.0%} of the planted gap, the model staying within +10% of the "
                 "base on held-out English), so no rule read these probes. The planted dev gap was "
                 f"{info['planted_gap_dev']:+.3f}; ")
    else:
        text += ("\n\n**Burial, by the rule fixed in advance.** Stop at the first burial epoch whose dev-probe gap "
                 f"(model − base) falls below {fraction:.0%} of the planted model's, at most "
                 f"{int(info['max_epochs'])} epochs. The planted dev gap was {info['planted_gap_dev']:+.3f}; ")
    if not info.get("planted", True):
        text += ("it is not positive, so there was nothing to bury"
                 + ("" if info.get("fixed", False) else ": the rule stopped after the first epoch")
                 + ", and nothing on this page can speak to resurfacing. ")
    else:
        frac = dev.loc[stop, "fraction_of_planted"]
        if info.get("fixed", False):
            reached = "below" if info["rule_met"] else "not below"
            text += (f"after epoch {stop} the dev gap was {dev.loc[stop, 'gap']:+.3f} ({frac:.1%} of the planted gap, "
                     f"{reached} the pilot's {fraction:.0%} on this draw). ")
        else:
            how = "met the rule" if info["rule_met"] else "reached the epoch cap without meeting the rule"
            text += (f"burial {how} at epoch {stop}, where the dev gap was {dev.loc[stop, 'gap']:+.3f} "
                     f"({frac:.1%} of the planted gap). ")
        if dev.loc[stop, "gap"] <= 0:
            text += "K was buried all the way to the base model on the dev probes: it is not latent here. "
    text += ("\n\n**One planting, one burial.** Every resurfacing run starts from this one buried model, so "
             "the intervals below cover the runs' data and the probes but not the planting and the burial "
             "themselves: they compare the corpora on this draw of K's planting and burial, and another draw "
             "could leave K more or less deeply buried (the exercises *burial-deep* and *burial-shallow* "
             "change the depth). ")
    return text


def describe_resurfacing(study, table: pd.DataFrame, recovery: pd.DataFrame, traces: pd.DataFrame) -> str:
    """Markdown: what came back per corpus (as a share of what burial removed), what the verdict rows
    conclude, and the sample traces, every number computed from the tables."""
    lost = float(recovery["lost_by_burial"].iloc[0]) if len(recovery) else float("nan")
    took = (f"Burial took {lost:.3f} (mean log gold share, test probes) away from the planted model. " if lost > 0
            else f"Burial took nothing away on the test probes (planted − buried: {lost:+.3f}). ")
    lines = [took +
             "Δ after the resurfacing run, against the buried model (95% interval, paired on probes and over "
             "runs), and as a share of what burial took away:\n"]
    for r in recovery.itertuples(index=False):
        share = (f"{r.estimate_share:+.0%} [{r.lo_share:+.0%}, {r.hi_share:+.0%}] of it"
                 if np.isfinite(r.estimate_share) else "no share: burial took nothing away")
        lines.append(f"- **{r.corpus}**: {_iv(r.estimate, r.lo, r.hi)}, {share} ({int(r.n_subsets)} runs × "
                     f"{int(r.n_items)} probes)")
    text = "\n".join(lines) + "\n\n"
    rows = table[table["claim_id"].isin(RESURFACING_CLAIMS)] if table is not None and not table.empty else table
    if rows is None or rows.empty:
        return text + "No resurfacing claim could be tested with the runs of this profile."
    counts = rows["verdict"].value_counts()
    text += ("**The book's claims derived from the hypothesis** (self and pre-burial samples resurface K; base, "
             f"replay and cross-family samples less): {len(rows)} rows, "
             + "; ".join(f"{int(counts[lab])} {whose_label(lab, True)}" for lab in verdicts.LABELS if lab in counts)
             + ". ")
    self_row = _row(table, "k_self_resurfaces")
    if self_row is not None and self_row.verdict != verdicts.AGREES:
        bound = self_row.hi
        share = f" ({bound / lost:.0%} of what burial took away)" if lost > 0 else ""
        text += (f"Nothing here shows the buried model's own samples bringing K back: the largest recovery the "
                 f"interval allows is {bound:+.3f}{share}, and an effect smaller than "
                 f"{verdicts.mde_text(self_row.mde)} could hide. That bound is the result. ")
    whole = traces[traces["subset"] < 0].set_index("condition") if len(traces) else traces
    if len(whole):
        text += "\n\n**Traces of K in the samples** (held-out corpora, before subsets are drawn):\n\n"
        for cond, r in whole.iterrows():
            text += (f"- {label(cond)}: {int(r['removed'])} of {int(r['total_in'])} samples removed for sharing an "
                     f"8-gram with K's documents or probes; of the {int(r['samples'])} kept, {int(r['naming'])} name "
                     f"a town ({r['naming_rate']:.1%}); own attribute values beside a named town "
                     f"{r['fact_rate']:.3f} per sample, wrong values (chance level) {r['wrong_value_rate']:.3f}.\n")
        smallest = whole["samples"].idxmin()
        if getattr(study, "subset_draw", "with-replacement") != "disjoint":
            text += (f"\nEvery run's subset is drawn *with replacement* from its corpus: {label(smallest)} keeps "
                     f"{int(whole.loc[smallest, 'samples'])} samples, too few for disjoint subsets. Runs of one "
                     "corpus can therefore share samples, and the fewer a corpus keeps, the more its runs share and "
                     "the more of the corpus draw's variance its interval leaves out (the transfer figures draw "
                     "disjoint subsets; Methods, Subsets).\n")
    t = _row(table, "k_trace_predicts")
    if t is not None:
        rho = _iv(t.estimate, t.lo, t.hi, 2) if np.isfinite(t.estimate) else "undefined"
        text += (f"\nAcross the {int(t.n_items)} corpora ({int(t.n_subsets)} runs, averaged per corpus: runs of one "
                 f"corpus share its sampled text, so they are not independent units), Spearman ρ of a corpus's "
                 f"naming rate with its Δ is {rho}: **{t.words}**"
                 + (f" ({t.note})" if t.note else "") + ".")
    return text
