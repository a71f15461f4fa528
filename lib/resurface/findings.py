"""Plain-words summaries computed from results, for the end of each figure notebook.

Nothing here states a result that was not computed: every sentence is built from the table it
describes, and the comparison with the paper says "matches" or "does not match" from the numbers.
"""

from __future__ import annotations

import pandas as pd

from .plots import condition_label


def primary_rows(df: pd.DataFrame, suite: str) -> pd.DataFrame:
    """The rows of ``suite``'s primary metrics (the ones the figures plot)."""
    d = df[df["suite"] == suite]
    if "primary" in d.columns:
        d = d[d["primary"].astype(str).str.lower() == "true"]
    return d


def panels_for(df: pd.DataFrame, suite: str) -> list[tuple[str, str, str]]:
    """``(task, metric, label)`` of each primary metric of ``suite``, in suite order."""
    from .suites import get_suite

    spec = get_suite(suite)
    return [(t.task, t.primary, f"{t.label} ({t.num_fewshot}-shot)") for t in spec.tasks
            if not df[(df["task"] == t.task) & (df["metric"] == t.primary)].empty]


def outcome_table(df: pd.DataFrame, suite: str) -> pd.DataFrame:
    """Per task and condition: final-epoch Δ (mean, std over subsets) and the best epoch's mean Δ."""
    from .experiments import summary_table

    d = primary_rows(df, suite)
    t = summary_table(d)
    labels = d.drop_duplicates("task").set_index("task")["label"]
    t.insert(0, "benchmark", t["task"].map(labels))
    return t.drop(columns=["metric"]).sort_values(["task", "final_delta"], ascending=[True, False])


def _fmt(x: float) -> str:
    return f"{x:+.3f}"


def describe_transfer(df: pd.DataFrame, suite: str, group_a: list[str], group_b: list[str],
                      name_a: str, name_b: str) -> str:
    """Markdown: per benchmark, which condition ended highest, and whether the best of ``group_a``
    ended above the best of ``group_b`` (final epoch, mean over subsets)."""
    t = outcome_table(df, suite)
    lines, wins, compared = [], 0, 0
    for task, g in t.groupby("task", sort=False):
        g = g.set_index("condition")
        top = g["final_delta"].idxmax()
        line = (f"- **{g['benchmark'].iloc[0]}**: {condition_label(top)} ended highest, final Δ "
                f"{_fmt(g.loc[top, 'final_delta'])} ± {g.loc[top, 'final_std']:.3f} "
                f"(its best epoch: {int(g.loc[top, 'best_epoch'])}, Δ {_fmt(g.loc[top, 'best_delta'])}).")
        a = g.loc[g.index.intersection(group_a), "final_delta"]
        b = g.loc[g.index.intersection(group_b), "final_delta"]
        if len(a) and len(b):
            compared += 1
            wins += int(a.max() > b.max())
            line += f" Best {name_a}: {_fmt(a.max())}; best {name_b}: {_fmt(b.max())}."
        lines.append(line)
    head = ""
    if compared:
        head = (f"On **{wins} of {compared}** benchmarks the best {name_a} corpus ended above the best "
                f"{name_b} corpus after the last epoch.\n\n")
    return head + "\n".join(lines)
