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


def _spread(std: float, subsets: int) -> str:
    """'± 0.031 (std over 3 subsets)', or a plain statement that one subset gives no spread."""
    if subsets > 1:
        return f"± {std:.3f} (std over {subsets} subsets)"
    return "(one training subset: no spread)"


def item_resolution(df: pd.DataFrame) -> str:
    """Markdown: how many items each benchmark score rests on and what one item is worth, so that a
    reader can tell a Δ from the noise of a small evaluation."""
    if "n" not in df.columns or df["n"].isna().all():
        return ""
    n = df.groupby("task")["n"].max().dropna().astype(int)
    if n.empty:
        return ""
    lo, hi = int(n.min()), int(n.max())
    items = f"{lo}" if lo == hi else f"{lo}-{hi}"
    return (f"Each benchmark score here rests on {items} items, so one item answered differently moves a "
            f"score by {1 / hi:.3f}{'' if lo == hi else f' to {1 / lo:.3f}'}; a Δ of that size is one item.")


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
                f"{_fmt(g.loc[top, 'final_delta'])} {_spread(g.loc[top, 'final_std'], int(g.loc[top, 'subsets']))} "
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
    if resolution := item_resolution(primary_rows(df, suite)):
        head += resolution + "\n\n"
    return head + "\n".join(lines)


def kind_means(df: pd.DataFrame, suite: str) -> pd.Series:
    """Mean final-epoch Δ over the suite's benchmarks and a kind's temperatures, per source kind
    (``self``, ``lineage``, ``recipe``, ``cross``, ``replay``), highest first."""
    from .plots import parse_condition

    t = outcome_table(df, suite)
    t["kind"] = [parse_condition(c)[0] for c in t["condition"]]
    return t.groupby("kind")["final_delta"].mean().sort_values(ascending=False)


def describe_ranking(df: pd.DataFrame, suite: str, paper_order: list[str]) -> str:
    """Markdown: the source kinds ranked by mean final Δ, compared with the paper's order.

    ``paper_order`` lists kinds best first (e.g. ``["self", "lineage", "recipe", "cross"]``); kinds
    without runs here are named as missing, and only the kinds present are compared.
    """
    from .plots import SOURCE_NAMES

    means = kind_means(df, suite)
    present = [k for k in paper_order if k in means.index]
    missing = [SOURCE_NAMES.get(k, k) for k in paper_order if k not in means.index]
    ranked = ", ".join(f"{SOURCE_NAMES.get(k, k)} {_fmt(v)}" for k, v in means.items())
    observed = [k for k in means.index if k in present]
    agree = observed == present
    text = (f"Mean final Δ over the benchmarks (and over each source's temperatures): {ranked}. "
            f"The paper ranks {' > '.join(SOURCE_NAMES.get(k, k) for k in paper_order)}. ")
    if len(present) < 2:
        text += "Fewer than two of those sources ran here, so the order cannot be compared."
    else:
        text += (f"Among the sources that ran here the observed order "
                 f"{'**matches**' if agree else '**does not match**'} the paper's.")
    if missing:
        text += f" Not run in this profile: {', '.join(missing)}."
    return text


def describe_preserved(df: pd.DataFrame, suite: str) -> str:
    """Markdown for Fig 7: per benchmark and condition the final-epoch Δ, and how many ended at or
    above the base score (the paper: capability is preserved or improved)."""
    t = outcome_table(df, suite)
    lines = [f"- **{r.benchmark}**, {condition_label(r.condition)}: final Δ {_fmt(r.final_delta)} "
             f"{_spread(r.final_std, int(r.subsets))} (best epoch {int(r.best_epoch)}, Δ {_fmt(r.best_delta)})"
             for r in t.itertuples()]
    kept = int((t["final_delta"] >= 0).sum())
    worst = t.loc[t["final_delta"].idxmin()]
    verdict = "**matches**" if kept == len(t) else "**does not fully match**"
    return (f"**{kept} of {len(t)}** benchmark × temperature results ended at or above the base score after the "
            f"last epoch (largest drop: {_fmt(worst['final_delta'])} on {worst['benchmark']}). The paper reports "
            f"scores preserved or improved; this run {verdict} that.\n\n" + "\n".join(lines))


def describe_memorization(df: pd.DataFrame, paper_drop: float = 0.95) -> str:
    """Markdown for Fig 8: extracted sequences at the base and after the last epoch, the relative drop
    per group and in total, and the last epoch's log-prob shift, next to the paper's >95% drop."""
    from .memorization import extraction_drop

    t = extraction_drop(df)
    mem = df[(df["suite"] == "memorization") & (df["level"] == "group")]
    last = int(mem["epoch"].max())
    shift = (mem[(mem["metric"] == "logprob_shift_sum") & (mem["epoch"] == last)]
             .groupby(["condition", "task"])["value"].mean())
    lines = []
    for r in t.itertuples():
        drop = ("no sequence was extractable at the base, so there is nothing to drop" if r.base_extracted == 0
                else f"a relative drop of **{100 * r.relative_drop:.0f}%**")
        lines.append(f"- **{r.group}**, {condition_label(r.condition)} ({r.sequences} sequences): "
                     f"{r.base_extracted:g} extracted at the base, {r.last_extracted:g} after epoch {r.last_epoch} "
                     f"(mean over subsets): {drop}. Mean log-prob shift of the true continuations after epoch "
                     f"{r.last_epoch}: {shift.get((r.condition, r.group), float('nan')):+.2f} nats.")
    heads = []
    for cond, g in t.groupby("condition", sort=False):
        first, final = g["base_extracted"].sum(), g["last_extracted"].sum()
        if first == 0:
            heads.append(f"With {condition_label(cond)} no pool sequence was extractable at the base, so the "
                         "drop cannot be compared with the paper's.")
            continue
        drop = (first - final) / first
        verdict = "**matches**" if drop > paper_drop else "**does not match**"
        heads.append(f"With {condition_label(cond)}, extraction over text and code together fell from {first:g} "
                     f"to {final:g} sequences, a relative drop of **{100 * drop:.0f}%**. The paper reports a drop "
                     f"of more than {100 * paper_drop:.0f}%: this run {verdict} that figure.")
    return "\n\n".join(heads) + "\n\n" + "\n".join(lines)
