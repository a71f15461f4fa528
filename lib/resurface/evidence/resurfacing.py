"""Figure 13's evidence: K's probe scores with intervals, the verdict rows of the book's claims, and the
page prose, all computed from the study of :mod:`resurface.study.buried_skill` (its measures:
:mod:`resurface.measures.resurfacing`).

- Preconditions (``k_planted``, ``k_latent``): each planting's planted and buried model against the base,
  paired on the test probes, the plantings as runs (:func:`precondition`; one planting: item noise only,
  said on the page).
- Resurfacing (``k_self_resurfaces`` ... ``k_self_gt_cross``): Δ against the run's own buried model (its
  epoch 0) at the last planned epoch, paired on the test probes and over runs
  (:func:`resurface.evidence.contrasts.window_contrast`). With several plantings the units are the
  plantings: the runs of one planting start from one buried model, so they are averaged first
  (:func:`relative`), and the spread of plantings and burials is in every interval. The two "brings K back" claims carry
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

With one planting, all runs share one planted and one buried model: the variance of those two draws is
in no interval (the page says so).
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
    """The per-item test-probe values of every resurfacing run (primary metric), as scored: epoch 0 is the
    run's own buried model (its planting's)."""
    items = contrasts.run_items(results)
    items = items[(items["suite"] == SUITE) & (items["task"] == TASK) & (items["metric"] == METRIC)]
    if "planting" not in items.columns:
        items = items.assign(planting=0)
    return items


def relative(items: pd.DataFrame) -> pd.DataFrame:
    """The per-item table the intervals use: each run against its own buried model
    (:func:`resurface.evidence.contrasts.on_own_base`), then, where a planting has several runs, their mean
    per planting (``subset`` = the planting): runs of one planting share its planted and buried model, so
    the plantings, not the runs, are the independent units."""
    d = contrasts.on_own_base(items)
    if d.empty or d.groupby(["condition", "planting"])["subset"].nunique().max() <= 1:
        return d
    keys = ["suite", "task", "metric", "item", "epoch", "condition", "planting"]
    out = d.groupby(keys, as_index=False)["value"].mean()
    out["subset"] = out["planting"]
    return out


def n_plantings(study) -> int:
    return len(study.plantings)


def model_items(folder) -> pd.Series:
    """A stored model's per-item test-probe values (a ``skill-probe`` artifact), indexed by item."""

    d = probe_items_of(folder)
    d = d[(d["task"] == TASK) & (d["metric"] == METRIC)]
    return d.set_index("item")["value"].sort_index()


def buried_items(items: pd.DataFrame) -> pd.Series:
    """The buried models' per-item values, averaged over plantings (epoch 0 of the runs)."""
    return buried_by_planting(items).mean(axis=0).sort_index()


def buried_by_planting(items: pd.DataFrame) -> pd.DataFrame:
    """Planting × item: each planting's buried model (epoch 0 of its runs, one shared evaluation)."""
    d = items[items["epoch"] == 0]
    return d.groupby(["planting", "item"])["value"].mean().unstack("item").sort_index()


def planted_by_planting(study) -> pd.DataFrame:
    """Planting × item: each planting's planted model on the test probes."""
    return pd.DataFrame({b.index: model_items(b.probes) for b in study.plantings}).T.sort_index()


def precondition(models: pd.DataFrame, base: pd.Series, level: float = 0.95) -> estimates.Estimate:
    """``mean(model − base)`` over plantings and test probes, paired on probes, the plantings as runs
    (:func:`resurface.evidence.paired.contrast_arrays`: a planting term and an item term; one planting:
    item noise only)."""
    common = models.columns.intersection(base.index)
    diff = models[common].to_numpy(dtype=float) - base[common].to_numpy(dtype=float)[None, :]
    return paired.contrast_arrays({"a": diff}, {"a": 1.0}, level=level)


def lost_by_burial(study, items: pd.DataFrame) -> float:
    """What burial took away on the test probes (planted − buried, the mean over plantings and probes),
    measured before any resurfacing run: the reference of the smallest recovery of interest."""
    planted, buried = planted_by_planting(study), buried_by_planting(items)
    both = planted.index.intersection(buried.index)
    common = planted.columns.intersection(buried.columns)
    if not len(both) or not len(common):
        return float("nan")
    return float((planted.loc[both, common] - buried.loc[both, common]).to_numpy().mean())


def bands(items: pd.DataFrame, conditions) -> pd.DataFrame:
    """Δ against the buried model per condition and epoch, with 95% intervals (units: :func:`relative`)."""
    return contrasts.delta_bands(relative(items), SUITE, [(TASK, METRIC)], list(conditions))


def run_recovery(items: pd.DataFrame, epoch: int) -> pd.DataFrame:
    """Per run (condition, subset): the mean Δ over test probes at ``epoch`` against its own buried model."""
    items = contrasts.on_own_base(items)
    base = buried_items(items)
    d = items[items["epoch"] == epoch].copy()
    d["delta"] = d["value"].to_numpy() - base.reindex(d["item"]).to_numpy()
    return d.groupby(["condition", "subset"], as_index=False)["delta"].mean()


def verdict_rows(P: dict, study, items: pd.DataFrame, traces: pd.DataFrame) -> contrasts.Rows:
    """Every Figure 13 claim that this run can test, as verdict rows (before Holm)."""
    out = contrasts.Rows([], [])
    base = model_items(study.probes["base"])
    n = n_plantings(study)
    models = {"planted": planted_by_planting(study),
              "buried": buried_by_planting(items) if not items.empty else pd.DataFrame()}
    over = f", {n} plantings" if n > 1 else ""
    for cid, which in (("k_planted", "planted"), ("k_latent", "buried")):
        if models[which].empty:
            continue
        est = precondition(models[which], base)
        out.rows.append(contrasts.row_from(claims.CLAIMS[cid], est,
                                           f"{which} − base: {METRIC.split(',')[0]}, test probes{over}",
                                           figure=FIGURE, n_subsets=n))
        out.meta.append({"benchmark": "planted skill K", "task": TASK, "window": "before resurfacing"})
    if items.empty:
        return out
    conds = list(dict.fromkeys(items["condition"]))
    evaluated = items["epoch"].unique()
    # what burial removed (planted − buried, test probes), measured before any resurfacing run: the
    # reference of the smallest recovery of interest the register fixed (claims.SESOI_SHARE)
    lost = lost_by_burial(study, items)
    rel = relative(items)
    for cid in RESURFACING_CLAIMS:
        c = claims.CLAIMS[cid]
        a = claims.select(c.side_a, conds)
        b = claims.select(c.side_b, conds, exclude=a or ())
        epochs = claims.window_epochs(c.window, P["epochs"], evaluated)
        if not a or (b is not None and not b) or not epochs:
            continue
        est = contrasts.window_contrast(rel, SUITE, TASK, METRIC, a, b, epochs)
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
    if not table.empty and n_plantings(study) == 1:  # said on every row, where Figure 1 and verdicts.csv carry it
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
    as a share of what burial took away on the test probes (planted − buried, :func:`lost_by_burial`)."""
    lost = lost_by_burial(study, items)
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


def burial_sentence(b) -> str:
    """One planting's burial as it ran: the planted dev gap and where the burial ended (a :class:`Burial`
    of :mod:`resurface.study.buried_skill`)."""
    info = b.info
    fraction = float(info["fraction"])
    dev = b.burial[b.burial["split"] == "dev"].set_index("epoch")
    stop = int(info["stopped_at"])
    text = f"the planted dev gap was {info['planted_gap_dev']:+.3f}; "
    if not info.get("planted", True):
        return text + ("it is not positive, so there was nothing to bury"
                       + ("" if info.get("fixed", False) else ": the rule stopped after the first epoch") + ".")
    frac = dev.loc[stop, "fraction_of_planted"]
    if info.get("fixed", False):
        reached = "below" if info["rule_met"] else "not below"
        text += (f"after epoch {stop} the dev gap was {dev.loc[stop, 'gap']:+.3f} ({frac:.1%} of the planted gap, "
                 f"{reached} the pilot's {fraction:.0%} on this draw).")
    else:
        how = "met the rule" if info["rule_met"] else "reached the epoch cap without meeting the rule"
        text += (f"the burial {how} at epoch {stop}, where the dev gap was {dev.loc[stop, 'gap']:+.3f} "
                 f"({frac:.1%} of the planted gap).")
    if dev.loc[stop, "gap"] <= 0:
        text += " K was buried all the way to the base model on the dev probes: it is not latent here."
    return text


def describe_preconditions(study, table: pd.DataFrame) -> str:
    """Markdown: chance level, the planted and buried scores, and each planting's burial as it ran."""

    base = model_items(study.probes["base"])
    planted = planted_by_planting(study)
    n = n_plantings(study)
    whose = "the planted model's" if n == 1 else f"the {n} planted models' (mean)"
    text = (f"**Chance.** With four choices a model without K gives the gold answer a share of {CHANCE_SHARE:.2f} "
            f"on average (log share {np.log(CHANCE_SHARE):+.3f}). The base model's mean gold share on the "
            f"{len(base)} test probes is {np.exp(base).mean():.3f}, {whose} {np.exp(planted.to_numpy()).mean():.3f}. ")
    over = "" if n == 1 else f", the {n} plantings as units"
    for cid, name in (("k_planted", "Planted − base"), ("k_latent", "Buried − base")):
        r = _row(table, cid)
        if r is not None:
            text += (f"{name} (mean log share, paired on the test probes{over}): {_iv(r.estimate, r.lo, r.hi)}, "
                     f"**{r.words}**. ")
    info = study.plantings[0].info
    fraction = float(info["fraction"])
    if info.get("fixed", False):
        text += (f"\n\n**Burial of a length fixed in advance.** {int(info['max_epochs'])} burial epochs of "
                 f"{int(info.get('tokens_per_epoch', 0)):,} replay tokens, a length "
                 "the burial pilot chose on other seeds before this book's runs (the fewest epochs after which K's "
                 f"dev gap stays at most {fraction:.0%} of the planted gap, the model staying within +10% of the "
                 "base on held-out English), so no rule read these probes. ")
    else:
        text += ("\n\n**Burial, by the rule fixed in advance.** Stop at the first burial epoch whose dev-probe gap "
                 f"(model − base) falls below {fraction:.0%} of the planted model's, at most "
                 f"{int(info['max_epochs'])} epochs. The rule stops where the dev gap dips, and dev and test probes "
                 "move together, so any later score of the buried model can rise a little by regression alone: the "
                 "rows against the buried model carry that selection; *self − replay* does not, because replay "
                 "continues the burial on human text from the same stopping point. ")
    if n == 1:
        text += burial_sentence(study.plantings[0])[0].upper() + burial_sentence(study.plantings[0])[1:]
        text += ("\n\n**One planting, one burial.** Every resurfacing run starts from this one buried model, so "
                 "the intervals below cover the runs' data and the probes but not the planting and the burial "
                 "themselves: they compare the corpora on this draw of K's planting and burial, and another draw "
                 "could leave K more or less deeply buried (`plantings` repeats them; the exercises *burial-deep* "
                 "and *burial-shallow* change the depth). ")
        return text
    text += "\n\n" + "\n".join(f"- Planting {b.index + 1}: {burial_sentence(b)}" for b in study.plantings)
    text += (f"\n\n**{n} plantings, {n} burials.** K is planted and buried {n} times, each from its own seed "
             "(its own planting order and mixed-in text, burial text, samples and training order); every "
             "resurfacing run starts from its own planting's buried model and is compared with it. The plantings "
             "are the units of every interval below, so a planting or burial that happened to leave K deeper or "
             "shallower widens the interval instead of deciding the verdict. ")
    return text


def corpus_totals(study, traces: pd.DataFrame) -> pd.DataFrame:
    """Per condition, indexed by it: the trace counts of its whole held-out corpora (``subset`` −1 rows of
    :func:`resurface.measures.resurfacing.trace_table`), added up over the plantings that drew their own
    corpus and counted once where the plantings share one (base, replay, cross-family); rates recomputed
    from the sums, ``corpora`` the number of distinct corpora."""
    cols = ["samples", "naming", "fact_traces", "removed", "total_in"]
    if traces is None or not len(traces):
        return pd.DataFrame(columns=cols + ["naming_rate", "fact_rate", "wrong_value_rate", "corpora"])
    whole = traces[traces["subset"] < 0].copy()
    if "planting" not in whole.columns:
        whole["planting"] = 0
    folders = {(b.index, c): str(b.folders.get(c, "")) for b in study.plantings for c in getattr(b, "folders", {})}
    whole["_folder"] = [folders.get((int(p), c), f"{p}/{c}") for p, c in zip(whole["planting"], whole["condition"])]
    whole = whole.drop_duplicates(["condition", "_folder"])
    whole["_wrong"] = whole["wrong_value_rate"] * whole["samples"]
    out = whole.groupby("condition", sort=False).agg(**{c: (c, "sum") for c in cols}, _wrong=("_wrong", "sum"),
                                                     corpora=("_folder", "nunique"))
    n = out["samples"].where(out["samples"] > 0)
    out["naming_rate"] = out["naming"] / n
    out["fact_rate"] = out["fact_traces"] / n
    out["wrong_value_rate"] = out["_wrong"] / n
    return out.drop(columns=["_wrong"])


def describe_resurfacing(study, table: pd.DataFrame, recovery: pd.DataFrame, traces: pd.DataFrame) -> str:
    """Markdown: what came back per corpus (as a share of what burial removed), what the verdict rows
    conclude, and the sample traces, every number computed from the tables."""
    lost = float(recovery["lost_by_burial"].iloc[0]) if len(recovery) else float("nan")
    n = n_plantings(study)
    models = "the planted model" if n == 1 else f"the planted models (mean over the {n} plantings)"
    unit = "runs" if n == 1 else "plantings"
    took = (f"Burial took {lost:.3f} (mean log gold share, test probes) away from {models}. " if lost > 0
            else f"Burial took nothing away on the test probes (planted − buried: {lost:+.3f}). ")
    lines = [took +
             "Δ after the resurfacing run, against the buried model (95% interval, paired on probes and over "
             "runs), and as a share of what burial took away:\n"]
    for r in recovery.itertuples(index=False):
        share = (f"{r.estimate_share:+.0%} [{r.lo_share:+.0%}, {r.hi_share:+.0%}] of it"
                 if np.isfinite(r.estimate_share) else "no share: burial took nothing away")
        lines.append(f"- **{r.corpus}**: {_iv(r.estimate, r.lo, r.hi)}, {share} ({int(r.n_subsets)} {unit} × "
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
        hide = (f", and an effect smaller than {verdicts.mde_text(self_row.mde)} could hide"
                if np.isfinite(self_row.mde) and self_row.mde > 0 else "")
        text += (f"Nothing here shows the buried model's own samples bringing K back: the largest recovery the "
                 f"interval allows is {bound:+.3f}{share}{hide}. That bound is the result. ")
    whole = corpus_totals(study, traces)
    if len(whole):
        text += ("\n\n**Traces of K in the samples** (held-out corpora, before subsets are drawn"
                 + ("" if n_plantings(study) == 1 else "; the self and pre-burial corpora of every planting added "
                    "up, the shared base, replay and cross-family corpora once") + "):\n\n")
        for cond, r in whole.iterrows():
            text += (f"- {label(cond)}: {int(r['removed'])} of {int(r['total_in'])} samples removed for sharing an "
                     f"8-gram with K's documents or probes; of the {int(r['samples'])} kept, {int(r['naming'])} name "
                     f"a town ({r['naming_rate']:.1%}); own attribute values beside a named town "
                     f"{r['fact_rate']:.3f} per sample, wrong values (chance level) {r['wrong_value_rate']:.3f}.\n")
        per = traces[traces["subset"] < 0]
        smallest = per.loc[per["samples"].idxmin()]
        if getattr(study, "subset_draw", "with-replacement") != "disjoint":
            where = "" if n == 1 else f" (planting {int(smallest.get('planting', 0)) + 1})"
            text += (f"\nEvery run's subset is drawn *with replacement* from its corpus: {label(smallest['condition'])}"
                     f"{where} keeps {int(smallest['samples'])} samples, too few for disjoint subsets. Runs of one "
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
