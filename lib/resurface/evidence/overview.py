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

from resurface.study import experiments
from resurface.evidence import findings
from resurface.conditions import SOURCE_NAMES, condition_color

PIPELINE = ("source model", "BOS-only\nsampling", "8-gram\ndecontamination", "training\nsubsets",
            "student\nfine-tuning", "lm-eval\nevery epoch")
KIND_ORDER = ("self", "lineage", "recipe", "cross", "replay")


def transfer_runs(P: dict, store=None) -> dict[str, pd.DataFrame]:
    """Results of Figures 2, 3, 5 and 10 keyed by student role (``main``, ``second``), from the
    same conditions the figure notebooks run (shared runs counted once)."""
    by_student: dict[str, dict] = {"main": {}, "second": {}}
    for fig in ("fig02", "fig03", "fig05", "fig10"):
        for c in experiments.figure_conditions(P, fig)[1]:
            by_student["main" if c.student == P["student"] else "second"].setdefault(c.name, c)
    # a run's key depends only on the common parameters and the condition, as in the figure notebooks
    return {role: experiments.run_conditions(P, list(conds.values()), store)
            for role, conds in by_student.items()}


def transfer_table(runs: dict[str, pd.DataFrame], suite: str, mode: str = "paper") -> pd.DataFrame:
    """Mean final-epoch Δ over the suite's benchmarks and each source's temperatures, per student
    role and source kind (rows), in the metrics the figures plot in ``mode`` (``evidence_metric``),
    with the number of conditions it averages."""
    from resurface.evidence.contrasts import kind_of, metric_rows
    from resurface.study.experiments import summary_table

    rows = []
    for role, df in runs.items():
        t = summary_table(metric_rows(df, suite, mode))
        t["kind"] = [kind_of(c) for c in t["condition"]]
        for kind, g in t.groupby("kind"):
            rows.append({"student": role, "source": kind, "mean_final_delta": float(g["final_delta"].mean()),
                         "conditions": int(g["condition"].nunique())})
    t = pd.DataFrame(rows)
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
    ax.set_ylabel("mean final Δ (the figures' metric)")
    ax.set_title("A  transfer depends on who wrote the data", fontsize=10, loc="left")
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


def proxy_panel(ax, table: pd.DataFrame, proxy: str = "nll_mean") -> float:
    """Fig 1B: each trained corpus's proxy (x) against the Δ it produced (y), averaged over the
    benchmarks; returns the Spearman ρ across corpora (NaN when undefined)."""
    from scipy.stats import spearmanr

    from resurface.evidence.proxytables import PROXY_NAMES

    per = table.groupby(["student", "condition"]).agg(x=(proxy, "mean"), y=("final_delta", "mean")).reset_index()
    students = list(dict.fromkeys(per["student"]))
    for st, marker in zip(students, "os^D"):
        g = per[per["student"] == st]
        ax.scatter(g["x"], g["y"], c=[condition_color(c) for c in g["condition"]], marker=marker,
                   edgecolor="black", lw=0.5, s=40, label=f"student {st}")
    rho = float("nan")
    if len(per) >= 3 and np.ptp(per["x"]) > 0 and np.ptp(per["y"]) > 0:
        rho = float(spearmanr(per["x"], per["y"]).statistic)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel(PROXY_NAMES[proxy])
    ax.set_ylabel("mean final Δ")
    shown = f"ρ = {rho:+.2f}" if np.isfinite(rho) else "ρ undefined"
    ax.set_title(f"B  a proxy vs the utility it should predict ({shown})", fontsize=10, loc="left")
    ax.legend(fontsize=7, frameon=False)
    ax.grid(alpha=0.3)
    return rho


def memory_table(results: pd.DataFrame, suite: str) -> pd.DataFrame:
    """Fig 1C data per epoch: mean Δ over the suite's primary metrics, and the extracted pool
    sequences (all groups) as a fraction of the base's, mean over conditions and subsets."""
    from resurface.measures.memorization import extraction_table

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
                    names: dict[str, str], title: str, profile: str):
    """Figure 1: the pipeline on top, panels A (transfer), B (proxies), C (memorisation) below."""
    fig = plt.figure(figsize=(13, 5.4))
    grid = fig.add_gridspec(2, 3, height_ratios=(0.55, 2.2))
    pipeline_panel(fig.add_subplot(grid[0, :]))
    transfer_panel(fig.add_subplot(grid[1, 0]), transfer, names)
    rho = proxy_panel(fig.add_subplot(grid[1, 1]), proxy) if proxy is not None else float("nan")
    if memory is not None:
        memory_panel(fig.add_subplot(grid[1, 2]), memory)
    fig.suptitle(f"{title}  [{profile} profile]", fontsize=11)
    fig.tight_layout()
    fig.rho = rho
    return fig


def describe(transfer: pd.DataFrame, rho: float, memory: pd.DataFrame | None, names: dict[str, str]) -> str:
    """Markdown: the three findings as this run shows them, computed from the tables above."""
    lines = []
    for st, g in transfer.groupby("student", sort=False):
        g = g.set_index("source")["mean_final_delta"]
        top = g.idxmax()
        if (np.isclose(g, g.max())).sum() > 1:
            verdict = "several sources tied for the largest Δ"
        elif top == "self":
            verdict = "its own samples helped most"
        else:
            verdict = f"{SOURCE_NAMES[top]} helped most, not its own samples"
        who = names.get(st, st).replace("\n", " ")
        lines.append(f"- **A, {who}**: {verdict} (mean final Δ: "
                     + ", ".join(f"{SOURCE_NAMES[k]} {v:+.3f}" for k, v in g.items()) + ").")
    if np.isfinite(rho):
        lines.append(f"- **B**: across the trained corpora, Spearman ρ between mean NLL under the student and "
                     f"mean final Δ is {rho:+.2f} (a useful likelihood proxy would give a clearly negative ρ).")
    else:
        lines.append("- **B**: too few corpora with distinct values for a rank correlation.")
    if memory is not None and len(memory) > 1:
        last = memory.iloc[-1]
        rel = last["extracted_vs_base"]
        ext = (f"extraction is at {rel:.0%} of the base's" if np.isfinite(rel)
               else "the base had no extractable sequence")
        lines.append(f"- **C**: after {int(last['epoch'])} self-training epochs the mean benchmark Δ is "
                     f"{last['capability_delta']:+.3f} and {ext} (the paper: capability kept, extraction "
                     f"down by more than 95 %).")
    return "\n".join(lines)
