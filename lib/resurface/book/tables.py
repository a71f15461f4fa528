"""Tables on figure pages, formatted for reading: labels instead of column names, no index column,
rounded numbers with their units, an estimate and its interval in one cell.

``show_table(df)`` displays a DataFrame as a Markdown table (the book renders Markdown outputs as MyST,
which has tables: no truncated headers, no pandas index). Columns named ``X``, ``X_lo`` and ``X_hi``
become one column, ``X [lo, hi]``. Column names not in :data:`LABELS` are shown with spaces for
underscores.
"""

from __future__ import annotations

import math

import pandas as pd

# column name -> (label, unit or "", digits)
LABELS: dict[str, tuple[str, str, int]] = {
    "benchmark": ("Benchmark", "", 0),
    "task": ("Task", "", 0),
    "condition": ("Training data", "", 0),
    "label": ("Benchmark", "", 0),
    "kind": ("Kind", "", 0),
    "metric": ("Metric", "", 0),
    "temperature": ("Sampling τ", "", 2),
    "final_delta": ("Δ after the last epoch", "", 3),
    "final_std": ("± std over subsets", "", 3),
    "best_delta": ("Best epoch's Δ", "", 3),
    "best_epoch": ("Best epoch", "", 0),
    "subsets": ("Training subsets", "", 0),
    "delta": ("Δ", "", 3),
    "ce_gap": ("Cross-entropy gap", "nats/token", 3),
    "self_excess": ("Self-preference excess", "nats/token", 3),
    "nll_mean": ("Mean NLL", "nats/token", 3),
    "n_samples": ("Samples", "", 0),
    "n_truncated": ("Truncated samples", "", 0),
    "max_cos_mean": ("Mean max-cosine to the benchmark", "", 3),
    "rho": ("Spearman ρ", "", 2),
    "spearman": ("Spearman ρ", "", 2),
    "pearson": ("Pearson r", "", 2),
    "n": ("n", "", 0),
    "p": ("p", "", 3),
    "group": ("Pool group", "", 0),
    "epoch": ("Epoch", "", 0),
    "extracted": ("Extracted", "", 0),
    "trials": ("Sequence × run pairs", "", 0),
    "sequences": ("Sequences", "", 0),
    "runs": ("Runs", "", 0),
    "share": ("Share extracted", "", 3),
    "design": ("Design (clusters)", "", 0),
}


def _label(col: str) -> str:
    label, unit, _ = LABELS.get(col, (col.replace("_", " ").strip().capitalize(), "", 3))
    return f"{label} ({unit})" if unit else label


def _digits(col: str) -> int:
    return LABELS.get(col, ("", "", 3))[2]


def _fmt(x, digits: int, signed: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, (int,)) or (hasattr(x, "is_integer") and digits == 0 and float(x).is_integer()):
        return f"{int(x):,}"
    if isinstance(x, float) or hasattr(x, "dtype"):
        try:
            return (f"{float(x):{'+' if signed else ''}.{digits}f}" if digits else f"{float(x):,.0f}")
        except (TypeError, ValueError):
            pass
    return str(x).replace("|", "/")


def format_table(df: pd.DataFrame, labels: dict[str, str] | None = None) -> str:
    """Markdown for ``df`` as a reader should see it (see the module docstring)."""
    df = df.reset_index(drop=True)
    cols = list(df.columns)
    if "benchmark" in cols and "task" in cols:
        cols.remove("task")  # the label says it
    headers, cells = [], []
    skip = {f"{c}_{end}" for c in cols for end in ("lo", "hi") if f"{c}_lo" in cols and f"{c}_hi" in cols}
    for c in cols:
        if c in skip:
            continue
        d = _digits(c)
        if c in {s[:-3] for s in skip}:
            label = (labels or {}).get(c) or _label(c)
            headers.append(label.replace(" (", " [95% CI] (", 1) if "(" in label else label + " [95% CI]")
            signed = "delta" in c or "excess" in c or "gap" in c
            cells.append([f"{_fmt(v, d, signed)} [{_fmt(lo, d, signed)}, {_fmt(hi, d, signed)}]"
                          for v, lo, hi in zip(df[c], df[f"{c}_lo"], df[f"{c}_hi"])])
        else:
            headers.append((labels or {}).get(c) or _label(c))
            signed = "delta" in c or "excess" in c
            cells.append([_fmt(v, d, signed) for v in df[c]])
    numeric = [not h.startswith(("Benchmark", "Task", "Training data", "Kind", "Metric")) for h in headers]
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "".join("---:|" if n else "---|" for n in numeric)]
    for row in zip(*cells) if cells else []:
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def show_table(df: pd.DataFrame, labels: dict[str, str] | None = None):
    """Display ``df`` on the page as a formatted Markdown table (returns None: nothing echoed twice)."""
    from IPython.display import Markdown, display

    display(Markdown(format_table(df, labels)))
