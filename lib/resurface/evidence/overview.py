"""Figure 1: the overview, made from the runs of the other figures (never from numbers typed in).

Panel A summarises Figures 2, 3, 5 and 10 as transfer per (student, source) pair; panel B the
proxies against utility (Figures 4, 6, 11); panel C capability against memorisation (Figures 7, 8);
and a pipeline diagram drawn with matplotlib. Every input comes from the artifact store through the
same calls the figure notebooks make, so on a warm store Figure 1 trains nothing.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from resurface.conditions import SOURCE_NAMES, condition_color
from resurface.evidence import findings
from resurface.evidence.claims import FINDINGS
from resurface.measures.memorization import extraction_table
from resurface.study import experiments, figures
from resurface.study.experiments import summary_table

PIPELINE = ("source model", "BOS-only\nsampling", "8-gram\ndecontamination", "training\nsubsets",
            "student\nfine-tuning", "lm-eval\nevery epoch")
KIND_ORDER = ("self", "lineage", "recipe", "cross", "replay")


def transfer_runs(P: dict, store=None) -> dict[str, pd.DataFrame]:
    """Results of the utility figures (2, 3, 5 and 10) keyed by student role (``main``, ``second``), from
    the same conditions the figure notebooks run (shared runs counted once)."""
    by_student: dict[str, dict] = {"main": {}, "second": {}}
    for fig in figures.utility():
        for c in experiments.figure_conditions(P, fig)[1]:
            by_student["main" if c.student == P["student"] else "second"].setdefault(c.name, c)
    # a run's key depends only on the common parameters and the condition, as in the figure notebooks
    return {role: experiments.run_conditions(P, list(conds.values()), store)
            for role, conds in by_student.items()}


def page_verdicts(P: dict, store=None) -> list[pd.DataFrame]:
    """Every registered figure's verdict tables, as the pages compute them (read from the store): each
    record's ``verdicts`` callable once, in figure order (:func:`resurface.study.figures.verdict_sources`)."""
    tables: list[pd.DataFrame] = []
    for ref, _ in figures.verdict_sources():
        tables += figures.resolve(ref)(P, store)
    return tables


def panel_metric(mode: str) -> str:
    """The one metric panel A and B use, so that no mean mixes units: the gold choice's normalised
    log-probability (nats) in the continuous mode, accuracy otherwise."""
    return "logp_gold_norm,none" if mode == "continuous" else "acc"


def _temperature(condition: str) -> float | None:
    return float(condition.split("@", 1)[1]) if "@" in condition else None


def matched_conditions(conditions) -> list[str]:
    """The conditions at the temperatures every source kind of one student ran (plus replay, which has
    none), so that self over three τ is never compared with cross-family at one τ."""
    from resurface.evidence.contrasts import kind_of

    by_kind: dict[str, set] = {}
    for c in conditions:
        if _temperature(c) is not None:
            by_kind.setdefault(kind_of(c), set()).add(_temperature(c))
    shared = set.intersection(*by_kind.values()) if by_kind else set()
    return [c for c in conditions if _temperature(c) is None or _temperature(c) in shared]


def transfer_table(runs: dict[str, pd.DataFrame], suite: str, mode: str = "paper") -> pd.DataFrame:
    """Per student role and source kind: the mean final-epoch Δ in ONE metric (:func:`panel_metric`:
    the same units in every bar) over the benchmarks that report it and over the matched temperatures
    (:func:`matched_conditions`), with the τ values and the number of conditions it averages."""
    from resurface.evidence.contrasts import kind_of, metric_rows

    unit = panel_metric(mode)
    rows = []
    for role, df in runs.items():
        d = metric_rows(df, suite, mode)
        d = d[d["metric"] == unit] if unit != "acc" else d[d["metric"].str.startswith("acc")]
        t = summary_table(d)
        if t.empty:
            continue
        t = t[t["condition"].isin(matched_conditions(list(dict.fromkeys(t["condition"]))))]
        t["kind"] = [kind_of(c) for c in t["condition"]]
        for kind, g in t.groupby("kind"):
            taus = sorted({_temperature(c) for c in g["condition"]} - {None})
            rows.append({"student": role, "source": kind, "mean_final_delta": float(g["final_delta"].mean()),
                         "conditions": int(g["condition"].nunique()), "metric": unit,
                         "temperatures": ", ".join(f"{x:g}" for x in taus) or "—"})
    t = pd.DataFrame(rows, columns=["student", "source", "mean_final_delta", "conditions", "metric", "temperatures"])
    t["order"] = t["source"].map({k: i for i, k in enumerate(KIND_ORDER)})
    return t.sort_values(["student", "order"]).drop(columns="order").reset_index(drop=True)


def transfer_panel(ax, table: pd.DataFrame, names: dict[str, str]) -> None:
    """Grouped bars: per student, the mean final Δ of each source kind (Fig 1A)."""
    students = list(dict.fromkeys(table["student"]))
    kinds = [k for k in KIND_ORDER if k in set(table["source"])]
    width = 0.8 / max(len(kinds), 1)
    for j, kind in enumerate(kinds):
        color = condition_color("replay" if kind == "replay" else f"{kind}@1.25")
        for i, st in enumerate(students):
            row = table[(table["student"] == st) & (table["source"] == kind)]
            if not row.empty:
                ax.bar(i + (j - (len(kinds) - 1) / 2) * width, row["mean_final_delta"].iloc[0], width,
                       color=color, label=SOURCE_NAMES[kind])
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(range(len(students)), [names.get(s, s) for s in students])
    unit = table["metric"].iloc[0] if len(table) else ""
    ax.set_ylabel("mean final Δ, " + ("log p(gold), nats" if unit.startswith("logp") else "accuracy"))
    taus = ", ".join(sorted(set(table["temperatures"]) - {"—"})) if len(table) else ""
    ax.set_title(f"A  transfer by source (matched τ = {taus}; descriptive)", fontsize=10, loc="left")
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles))
    ax.legend(uniq.values(), uniq.keys(), fontsize=7, frameon=False)
    ax.grid(alpha=0.3, axis="y")


def pipeline_panel(ax) -> None:
    """The pipeline as boxes and arrows (Fig 1, top)."""
    ax.set_axis_off()
    n = len(PIPELINE)
    xs = np.linspace(0.07, 0.93, n)
    for i, (x, label) in enumerate(zip(xs, PIPELINE)):
        ax.text(x, 0.5, label, ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle="round,pad=0.4", fc="#eef3fb", ec="#4c72b0"))
        if i < n - 1:
            ax.annotate("", xy=(xs[i + 1] - 0.06, 0.5), xytext=(x + 0.06, 0.5),
                        arrowprops=dict(arrowstyle="->", color="#333333"))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)


def proxy_panel(ax, table: pd.DataFrame, proxy: str = "nll_mean", metric: str | None = None) -> dict[str, float]:
    """Fig 1B: each trained corpus's proxy (x) against the final Δ it produced (y) in one metric, one
    marker per student; the Spearman ρ is computed per student (each student scores with its own
    tokenizer, so NLLs of two students never share one ranking). Returns student -> ρ (NaN when
    undefined)."""
    from scipy.stats import spearmanr

    from resurface.evidence.proxytables import PROXY_NAMES

    d = table if metric is None else table[table["metric"] == metric]
    per = d.groupby(["student", "condition"]).agg(x=(proxy, "mean"), y=("final_delta", "mean")).reset_index()
    rhos: dict[str, float] = {}
    for st, marker in zip(dict.fromkeys(per["student"]), "os^D"):
        g = per[per["student"] == st]
        rho = float("nan")
        if len(g) >= 3 and np.ptp(g["x"]) > 0 and np.ptp(g["y"]) > 0:
            rho = float(spearmanr(g["x"], g["y"]).statistic)
        rhos[st] = rho
        ax.scatter(g["x"], g["y"], c=[condition_color(c) for c in g["condition"]], marker=marker,
                   edgecolor="black", lw=0.5, s=40,
                   label=f"student {st} (ρ {rho:+.2f}, n = {len(g)})" if np.isfinite(rho) else f"student {st}")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel(PROXY_NAMES[proxy] + " (per student's own tokenizer)")
    ax.set_ylabel("final Δ" + (", log p(gold), nats" if metric and metric.startswith("logp") else ""))
    ax.set_title("B  a proxy vs the utility it should predict (ρ per student)", fontsize=10, loc="left")
    ax.legend(fontsize=7, frameon=False)
    ax.grid(alpha=0.3)
    return rhos


def memory_table(results: pd.DataFrame, suite: str) -> pd.DataFrame:
    """Fig 1C data per epoch: mean Δ over the suite's primary metrics, and the extracted pool
    sequences (all groups) as a fraction of the base's, mean over conditions and subsets."""
    cap = findings.primary_rows(results, suite).groupby("epoch")["delta"].mean()
    ext = extraction_table(results).groupby(["epoch", "group"])["mean"].mean().groupby("epoch").sum()
    base = ext.loc[0] if 0 in ext.index else np.nan
    return pd.DataFrame({"capability_delta": cap, "extracted": ext,
                         "extracted_vs_base": ext / base if base else np.nan}).reset_index()


def memory_panel(ax, table: pd.DataFrame) -> None:
    """Fig 1C: capability Δ (left axis) and extraction relative to the base (right axis) vs epoch."""
    ax.plot(table["epoch"], table["capability_delta"], "-o", color=condition_color("self@1.25"), ms=3,
            label="mean Δ on benchmarks")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("self-training epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("mean Δ (primary metrics)")
    twin = ax.twinx()
    twin.plot(table["epoch"], table["extracted_vs_base"], "--s", color="#c44e52", ms=3,
              label="extracted / base")
    twin.set_ylabel("extracted sequences / base")
    twin.set_ylim(bottom=0)
    lines = ax.get_lines()[:1] + twin.get_lines()[:1]
    ax.legend(lines, [ln.get_label() for ln in lines], fontsize=7, frameon=False)
    ax.set_title("C  capability vs verbatim memory", fontsize=10, loc="left")
    ax.grid(alpha=0.3)


def overview_figure(transfer: pd.DataFrame, proxy: pd.DataFrame | None, memory: pd.DataFrame | None,
                    names: dict[str, str], title: str, profile: str, metric: str | None = None):
    """Figure 1's descriptive panels: the pipeline on top, A (transfer at matched τ, one unit),
    B (a proxy vs utility, ρ per student), C (memorisation). The verdicts are :func:`forest_plot`."""
    fig = plt.figure(figsize=(13, 5.4))
    grid = fig.add_gridspec(2, 3, height_ratios=(0.55, 2.2))
    pipeline_panel(fig.add_subplot(grid[0, :]))
    transfer_panel(fig.add_subplot(grid[1, 0]), transfer, names)
    rhos = proxy_panel(fig.add_subplot(grid[1, 1]), proxy, metric=metric) if proxy is not None else {}
    if memory is not None:
        memory_panel(fig.add_subplot(grid[1, 2]), memory)
    fig.suptitle(f"{title}  [{profile} profile]", fontsize=11)
    fig.tight_layout()
    fig.rho = rhos
    return fig


VERDICT_COLORS = {"agrees with the paper": "#2a9d4b", "contradicts the paper": "#c0392b",
                  "inconclusive": "#7f7f7f", "not testable here": "#c8a400"}


def _unit(metric: str, claim_id: str) -> str:
    """The units a verdict row's estimate is in (rows are plotted on one axis per unit)."""
    m = str(metric)
    if claim_id in ("nll_not_predictive", "similarity_not_predictive"):
        return "Spearman ρ"
    if claim_id == "relational_beats_intrinsic":
        return "|ρ| difference"
    if claim_id == "extraction_drop_95":
        return "relative drop of extraction"
    if claim_id == "nll_means_close":
        return "NLL gap, nats/token"
    if "logp_gold_norm" in m:
        return "Δ log p(gold), nats"
    if "neg_bpb" in m:
        return "Δ −bits/byte"
    return "Δ accuracy / pass rate"


def forest_plot(table: pd.DataFrame, title: str = "", regime: str = ""):
    """Every verdict row as a point with its 95% interval against its claim's threshold (line) and
    margin (shaded), grouped by finding (A, B, C) and, within a finding, by the units of the estimate
    (one axis each: rows in nats are never drawn on a ρ axis); coloured by verdict."""
    t = table.copy()
    if t.empty:
        fig, ax = plt.subplots(figsize=(10, 1.5))
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no verdict row in this profile", ha="center")
        return fig
    t["unit"] = [_unit(m, c) for m, c in zip(t["metric"], t["claim_id"])]
    t["finding"] = t.get("finding", pd.Series([""] * len(t))).replace("", "?")
    groups = [(f, u) for f in sorted(t["finding"].unique()) for u in dict.fromkeys(t.loc[t["finding"] == f, "unit"])]
    heights = [max(len(t[(t["finding"] == f) & (t["unit"] == u)]), 1) * 0.32 + 0.9 for f, u in groups]
    height = sum(heights) + 1.4  # inches: the panels, 0.8 in for the two-line title, 0.6 in for the legend
    fig, axes = plt.subplots(len(groups), 1, figsize=(10, height), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for ax, (f, u) in zip(axes[:, 0], groups):
        g = t[(t["finding"] == f) & (t["unit"] == u)].reset_index(drop=True)
        ys = np.arange(len(g))[::-1]
        for y, r in zip(ys, g.itertuples(index=False)):
            color = VERDICT_COLORS.get(r.verdict, "black")
            m = r.margin if r.margin is not None and np.isfinite(r.margin) else None
            if m and getattr(r, "kind", "") == "direction":  # a smallest effect of interest: one side only
                lo_m = min(r.threshold, r.threshold + r.direction * m)
                ax.add_patch(plt.Rectangle((lo_m, y - 0.4), m, 0.8, color="#dbe9f6", lw=0, zorder=0))
            elif m:
                ax.add_patch(plt.Rectangle((r.threshold - m, y - 0.4), 2 * m, 0.8, color="#dbe9f6", lw=0, zorder=0))
            ax.plot([r.threshold, r.threshold], [y - 0.45, y + 0.45], color="black", lw=0.8, zorder=1)
            if np.isfinite(r.lo) and np.isfinite(r.hi):
                ax.plot([r.lo, r.hi], [y, y], color=color, lw=2, zorder=2)
            if np.isfinite(r.estimate):
                ax.plot(r.estimate, y, "o", color=color, ms=5, zorder=3)
        labels = [f"{r.figure} · {r.claim_id.replace('_', ' ')} · {(r.benchmark or r.metric)[:34]}"
                  for r in g.itertuples(index=False)]
        ax.set_yticks(ys, labels, fontsize=7)
        ax.set_ylim(-0.7, len(g) - 0.3)
        ax.set_title(f"{FINDINGS.get(f, f)} — {u}", fontsize=9, loc="left")
        ax.grid(alpha=0.3, axis="x")
        ax.tick_params(axis="x", labelsize=7)
    handles = [plt.Line2D([], [], color=c, marker="o", lw=2, label=k) for k, c in VERDICT_COLORS.items()
               if k in set(t["verdict"])]
    handles.append(plt.Rectangle((0, 0), 1, 1, color="#dbe9f6", label="margin around the threshold (line)"))
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle(f"{title}\n{regime}" if regime else title, fontsize=10)
    fig.tight_layout(rect=(0, 0.6 / height, 1, 1 - 0.8 / height))
    return fig


def describe(transfer: pd.DataFrame, rhos: dict[str, float], memory: pd.DataFrame | None,
             names: dict[str, str]) -> str:
    """Markdown: the descriptive panels in numbers. No ranking is stated from point estimates: which
    source helps more is what the verdict rows (with intervals) decide."""
    lines = []
    for st, g in transfer.groupby("student", sort=False):
        who = names.get(st, st).replace("\n", " ")
        unit = "nats" if str(g["metric"].iloc[0]).startswith("logp") else "accuracy"
        lines.append(f"- **A, {who}** (mean final Δ in {unit}, τ = {', '.join(sorted(set(g['temperatures'])))}; "
                     "point estimates without intervals): "
                     + ", ".join(f"{SOURCE_NAMES[k]} {v:+.3f}" for k, v in g.set_index("source")["mean_final_delta"].items())
                     + ".")
    for st, rho in rhos.items():
        lines.append(f"- **B, student {st}**: Spearman ρ between mean NLL under this student and final Δ "
                     + (f"is {rho:+.2f} (descriptive; the proxy table's rows test it)." if np.isfinite(rho)
                        else "is undefined (too few corpora with distinct values)."))
    if memory is not None and len(memory) > 1:
        last = memory.iloc[-1]
        rel = last["extracted_vs_base"]
        ext = (f"extraction is at {rel:.0%} of the base's" if np.isfinite(rel)
               else "the base had no extractable sequence")
        lines.append(f"- **C**: after {int(last['epoch'])} self-training epochs the mean accuracy Δ is "
                     f"{last['capability_delta']:+.3f} and {ext} (descriptive; Figures 7 and 8's rows test it).")
    return "\n".join(lines)


def multiplicity_text(table: pd.DataFrame, q: float = 0.05) -> str:
    """Markdown for Figure 1: the book-wide false-discovery control beside each page's Holm step. Every
    row that rests on a null (a finite ``p_test``: agrees and contradicts of every kind, at the margin for
    margin claims) enters Benjamini-Hochberg over the whole book (``p_bh`` of
    :func:`resurface.evidence.verdicts.book_fdr`); the rows printed *agrees* or *contradicts* that survive
    both are named. The printed words stay the pages' (Holm per page controls each page's chance of any
    false word; BH bounds the expected share of false words among the book's)."""
    from resurface.evidence.verdicts import book_fdr

    t = table if "survives" in table.columns else book_fdr(table, q)
    tested = t[np.isfinite(pd.to_numeric(t["p_bh"], errors="coerce"))]
    reached = t[t["survives"] != ""]
    both = t[t["survives"] == "both"]
    text = (f"**Multiplicity.** Each page applies Holm's correction to its own rows (its chance of printing any "
            f"false *agrees* or *contradicts* is at most 5%). Across the book, {len(tested)} rows rest on a null (a "
            f"p-value at 0, at a threshold, or at a margin); Benjamini–Hochberg over all of them at q = {q:g} bounds "
            f"the expected share of false words among those the book prints. Of the {len(reached)} rows printed "
            f"*agrees* or *contradicts* after their page's Holm step, {len(both)} survive both")
    if len(both):
        names = [f"{r.figure} {r.claim_id.replace('_', ' ')}" for r in both.itertuples(index=False)]
        text += ": " + "; ".join(dict.fromkeys(names))
    rest = len(reached) - len(both)
    if rest:
        text += (f". {rest} hold on their page but not under the book-wide control: read them as that page's "
                 "finding, not the book's")
    return text + "."
