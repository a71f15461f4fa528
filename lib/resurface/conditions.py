"""Conditions by name: how a condition is written (``<source>@<τ>`` or ``replay``), its label, its
colour (the same in every figure), and the Δ of a tidy result table against its run's epoch 0.

Shared by the stages that build tables and the pages that draw them, so it sits in the core.
"""

from __future__ import annotations

import pandas as pd
import seaborn as sns

# source kind -> seaborn palette name; shades are picked by temperature rank
_SOURCE_PALETTES = {"self": "Blues", "lineage": "Greens", "recipe": "Purples", "cross": "Oranges",
                    "below": "Blues", "above": "Reds", "own": "Blues",
                    "sib-human": "BuGn", "sib-cross": "RdPu"}  # Figure 12's same-lineage siblings
_FIXED = {"replay": "#6b6b6b", "base": "#000000"}
TEMPERATURES = (0.75, 1.0, 1.25)
SOURCE_NAMES = {"self": "self-generated", "lineage": "same lineage", "recipe": "different recipe",
                "cross": "cross-family", "replay": "human-text replay", "below": "max-cos below threshold",
                "above": "max-cos at/above threshold", "sib-human": "sibling tuned on human text",
                "sib-cross": "sibling tuned on cross-family text"}


def parse_condition(cond: str) -> tuple[str, float | None]:
    """``"self@1.25"`` -> ``("self", 1.25)``; ``"replay"`` -> ``("replay", None)``."""
    if "@" in cond:
        src, t = cond.split("@", 1)
        return src, float(t)
    return cond, None


def condition_color(cond: str):
    """The colour of a condition, identical in every figure."""
    src, t = parse_condition(cond)
    if src in _FIXED:
        return _FIXED[src]
    palette = _SOURCE_PALETTES.get(src, "PuBuGn" if src.startswith("sib-") else "Greys")
    shades = sns.color_palette(palette, 6)
    rank = {0.75: 2, 1.0: 3, 1.25: 5}.get(t, 4)
    return shades[rank]


def condition_label(cond: str) -> str:
    src, t = parse_condition(cond)
    name = SOURCE_NAMES.get(src, src)
    return f"{name}, τ={t:g}" if t is not None else name


def deltas(results: pd.DataFrame, keys=("condition", "subset", "suite", "task", "metric")) -> pd.DataFrame:
    """Add ``delta`` = value − value at epoch 0 of the same run (same condition, subset, suite, task,
    metric; the suite matters: a 0-shot and a few-shot suite share task and metric names)."""
    keys = [k for k in keys if k in results.columns]
    base = results[results["epoch"] == 0].set_index(keys)["value"].rename("base")
    out = results.join(base, on=keys)
    out["delta"] = out["value"] - out["base"]
    return out
