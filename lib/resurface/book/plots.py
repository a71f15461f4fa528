"""One figure style for the whole book: Δ-vs-epoch panels with bands, KDE panels, Δ = 0 lines, and
figures saved with their provenance. Condition names, labels and colours come from
:mod:`resurface.conditions`, so every figure uses the same colour for the same condition.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator
import numpy as np
import pandas as pd
import seaborn as sns

from resurface.artifacts import environment_versions
from resurface.conditions import condition_color, condition_label
from resurface.paths import generated_dir

def delta_panels(df: pd.DataFrame, panels: list[tuple[str, str, str]], conditions: list[str],
                 reference: str | None = None, title: str = "", profile: str = "",
                 ncols: int | None = None, column: str = "delta", ylabels: dict[str, str] | None = None,
                 bands: pd.DataFrame | None = None):
    """Δ vs epoch; one panel per ``(task, metric, panel title)``, at most two panels a row (readable
    at a book page's width).

    With ``bands`` (:func:`resurface.evidence.contrasts.delta_bands`: per task, metric, condition and epoch an
    ``estimate`` and its 95% interval ``lo``–``hi``) each curve is the estimate with its interval
    shaded. Without, ``df`` (tidy: condition, subset, epoch, task, metric, delta) gives the mean over
    subsets with a ±1 std band. ``reference`` (e.g. the student's own data) is drawn dashed, as in the
    paper's Figs 5 and 10. ``column`` plots another column (e.g. ``value``: raw counts, Fig 8) and
    ``ylabels`` maps a metric to its axis label.
    """
    n = len(panels)
    ncols = ncols or min(n, 2)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.2 * nrows), squeeze=False)
    for ax, (task, metric, name) in zip(axes.flat, panels):
        if bands is not None:
            band_axis(ax, bands, task, metric, conditions, name, reference, (ylabels or {}).get(metric))
        else:
            delta_axis(ax, df, task, metric, conditions, name, reference, column, (ylabels or {}).get(metric))
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 3), frameon=False,
               bbox_to_anchor=(0.5, -0.02 - 0.04 * ((len(labels) - 1) // 3)))
    sup = title + (f"  [{profile} profile]" if profile else "")
    fig.suptitle(sup, fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def delta_axis(ax, df: pd.DataFrame, task: str, metric: str, conditions: list[str], title: str = "",
               reference: str | None = None, column: str = "delta", ylabel: str | None = None):
    """One Δ-vs-epoch panel on ``ax``: per condition the mean over subsets and a ±1 std band.

    ``column`` plots another column than ``delta`` (e.g. ``value`` for raw counts) and ``ylabel``
    replaces the default axis label."""
    sub = df[(df["task"] == task) & (df["metric"] == metric)]
    for cond in conditions:
        c = sub[sub["condition"] == cond]
        if c.empty:
            continue
        g = c.groupby("epoch")[column]
        mean, std = g.mean(), g.std(ddof=0).fillna(0.0)
        style = "--" if cond == reference else "-"
        ax.plot(mean.index, mean.values, style, color=condition_color(cond), label=condition_label(cond),
                lw=1.8, marker="o", ms=3)
        ax.fill_between(mean.index, mean - std, mean + std, color=condition_color(cond), alpha=0.18, lw=0)
    ax.axhline(0, color="black", lw=0.8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel or f"Δ {metric.split(',')[0]}")
    ax.grid(alpha=0.3)
    return ax


def band_axis(ax, bands: pd.DataFrame, task: str, metric: str, conditions: list[str], title: str = "",
              reference: str | None = None, ylabel: str | None = None):
    """One Δ-vs-epoch panel from :func:`resurface.evidence.contrasts.delta_bands`: per condition the estimate
    and its 95% interval (paired over items, and over training subsets when there are several)."""
    sub = bands[(bands["task"] == task) & (bands["metric"] == metric)]
    for cond in conditions:
        c = sub[sub["condition"] == cond].sort_values("epoch")
        if c.empty:
            continue
        color = condition_color(cond)
        ax.plot(c["epoch"], c["estimate"], "--" if cond == reference else "-", color=color,
                label=condition_label(cond), lw=1.8, marker="o", ms=3)
        ax.fill_between(c["epoch"], c["lo"], c["hi"], color=color, alpha=0.16, lw=0)
    ax.axhline(0, color="black", lw=0.8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel or f"Δ {metric.split(',')[0]}", fontsize=9)
    ax.grid(alpha=0.3)
    return ax


def kde_panels(panels: list[tuple[str, dict[str, np.ndarray]]], xlabel: str, title: str = "",
               profile: str = "", extra: int = 0):
    """A row of :func:`kde_panel` plots, one per ``(panel title, values by condition)``, plus
    ``extra`` empty axes on the right for the caller; returns ``(fig, axes)``."""
    n = len(panels) + extra
    fig, axes = plt.subplots(1, n, figsize=(3.9 * n, 3.3), squeeze=False)
    axes = list(axes.flat)
    for ax, (name, values) in zip(axes, panels):
        kde_panel(ax, values, xlabel, name)
    fig.suptitle(title + (f"  [{profile} profile]" if profile else ""), fontsize=11)
    fig.tight_layout()
    return fig, axes


def kde_panel(ax, values_by_condition: dict[str, np.ndarray], xlabel: str, title: str = ""):
    """Kernel density per condition with a dashed line at each mean (mean in the legend)."""
    for cond, vals in values_by_condition.items():
        vals = np.asarray(vals, dtype=float)
        vals = vals[np.isfinite(vals)]
        if len(vals) == 0:
            continue
        color = condition_color(cond)
        label = f"{condition_label(cond)} (μ={vals.mean():.2f})"
        if len(vals) > 1 and np.ptp(vals) > 0:
            sns.kdeplot(vals, ax=ax, color=color, label=label, fill=True, alpha=0.15, lw=1.6, warn_singular=False)
        else:
            ax.axvline(vals[0], color=color, label=label)
        ax.axvline(vals.mean(), color=color, ls="--", lw=1.2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, frameon=False)
    ax.grid(alpha=0.3)
    return ax


def save_figure(fig, name: str, provenance: dict, out_dir: Path | None = None) -> dict[str, Path]:
    """Save ``fig`` as PNG and PDF with a JSON provenance record (profile, artifact keys, versions)."""
    out_dir = Path(out_dir) if out_dir else generated_dir() / "figures"
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {ext: out_dir / f"{name}.{ext}" for ext in ("png", "pdf")}
    fig.savefig(paths["png"], dpi=150, bbox_inches="tight")
    fig.savefig(paths["pdf"], bbox_inches="tight")
    record = {"figure": name, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "versions": environment_versions(), **provenance}
    paths["json"] = out_dir / f"{name}.provenance.json"
    paths["json"].write_text(json.dumps(record, indent=2, default=str))
    return paths
