"""Plain-words summaries computed from results, for the end of each figure notebook.

The one place that writes page prose. Nothing here states a result that was not computed: every
sentence is built from the table it describes, and a sentence that compares a run with the paper
comes from a verdict row (:mod:`resurface.evidence.verdicts`: an estimate, its 95% interval and the rule that
labels it), never from a point estimate alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from resurface.conditions import condition_label
from resurface.evaluate.suites import get_suite
from resurface.evidence.claims import CLAIMS, verdict_words
from resurface.evidence.verdicts import AGREES, CONTRADICTS, LABELS, NOT_TESTABLE
from resurface.measures.health import HEALTH_MARGIN_REL, HEALTH_MAX_TOKENS, HEALTH_TEXTS
from resurface.measures.memorization import extraction_drop
from resurface.study.experiments import summary_table
from resurface.study.regime import REPLAY_MARGIN_REL


def primary_rows(df: pd.DataFrame, suite: str) -> pd.DataFrame:
    """The rows of ``suite``'s primary paper metrics (accuracy, exact match, pass@1: the tables'
    metrics; the continuous ones are the figures' and the verdicts', see :mod:`resurface.evidence.contrasts`)."""
    from resurface.evidence.contrasts import CONTINUOUS_METRICS

    d = df[df["suite"] == suite]
    if "primary" in d.columns:
        d = d[d["primary"].astype(str).str.lower() == "true"]
    return d[~d["metric"].isin(CONTINUOUS_METRICS)]


def panels_for(df: pd.DataFrame, suite: str) -> list[tuple[str, str, str]]:
    """``(task, metric, label)`` of each primary metric of ``suite``, in suite order."""
    spec = get_suite(suite)
    return [(t.task, t.primary, f"{t.label} ({t.num_fewshot}-shot)") for t in spec.tasks
            if not df[(df["task"] == t.task) & (df["metric"] == t.primary)].empty]


def outcome_table(df: pd.DataFrame, suite: str) -> pd.DataFrame:
    """Per task and condition: final-epoch Δ (mean, std over subsets) and the best epoch's mean Δ."""
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
    lines = []
    for task, g in t.groupby("task", sort=False):
        g = g.set_index("condition")
        top = g["final_delta"].idxmax()
        line = (f"- **{g['benchmark'].iloc[0]}**: {condition_label(top)} ended highest, final Δ "
                f"{_fmt(g.loc[top, 'final_delta'])} {_spread(g.loc[top, 'final_std'], int(g.loc[top, 'subsets']))} "
                f"(its best epoch: {int(g.loc[top, 'best_epoch'])}, Δ {_fmt(g.loc[top, 'best_delta'])}).")
        a = g.loc[g.index.intersection(group_a), "final_delta"]
        b = g.loc[g.index.intersection(group_b), "final_delta"]
        if len(a) and len(b):
            line += f" Best {name_a}: {_fmt(a.max())}; best {name_b}: {_fmt(b.max())}."
        lines.append(line)
    head = "**The paper's metrics** (accuracy, exact match, pass@1; final epoch, mean over subsets):\n\n"
    if resolution := item_resolution(primary_rows(df, suite)):
        head += resolution + "\n\n"
    return head + "\n".join(lines)


def kind_means(df: pd.DataFrame, suite: str) -> pd.Series:
    """Mean final-epoch Δ over the suite's benchmarks and a kind's temperatures, per source kind
    (``self``, ``lineage``, ``recipe``, ``cross``, ``replay``), highest first."""
    from resurface.conditions import parse_condition

    t = outcome_table(df, suite)
    t["kind"] = [parse_condition(c)[0] for c in t["condition"]]
    return t.groupby("kind")["final_delta"].mean().sort_values(ascending=False)


def describe_preserved(df: pd.DataFrame, suite: str) -> str:
    """Markdown for Fig 7: per benchmark and condition the final-epoch Δ, and how many ended at or
    above the base score (the paper: capability is preserved or improved)."""
    t = outcome_table(df, suite)
    lines = [f"- **{r.benchmark}**, {condition_label(r.condition)}: final Δ {_fmt(r.final_delta)} "
             f"{_spread(r.final_std, int(r.subsets))} (best epoch {int(r.best_epoch)}, Δ {_fmt(r.best_delta)})"
             for r in t.itertuples()]
    kept = int((t["final_delta"] >= 0).sum())
    worst = t.loc[t["final_delta"].idxmin()]
    return (f"**The paper's metrics**, final epoch: {kept} of {len(t)} benchmark × temperature results ended at "
            f"or above the base score (largest drop: {_fmt(worst['final_delta'])} on {worst['benchmark']}). "
            "Whether that is a loss beyond noise is what the verdict rows above decide.\n\n" + "\n".join(lines))


def _count(x: float) -> str:
    """A sequence count, or a mean of counts over runs (one decimal)."""
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


def _a(n: int) -> str:
    """The article before a number read aloud: "an 8-word", "an 11-word", "a 13-word"."""
    return "an" if str(n).startswith("8") or n in (11, 18) else "a"


def describe_held_out(overlap: dict[str, dict[str, int]], ngram: int) -> str:
    """Markdown for Figs 7-8: whether each self-training corpus is free of the planted pool
    (``overlap``: corpus -> :func:`resurface.measures.memorization.pool_overlap`)."""
    total = sum(o["samples"] for o in overlap.values())
    leaked = {name: o for name, o in overlap.items() if o["sharing_ngram"] or o["containing_sequence"]}
    if not leaked:
        return (f"**Held out.** None of the {total} samples of the self-training corpora "
                f"({', '.join(overlap)}) shares {_a(ngram)} {ngram}-word sequence with a planted text, so whatever the "
                "student forgets or keeps of the pool, it did not see the pool again.")
    parts = [f"{name}: {o['sharing_ngram']} of {o['samples']} samples share {_a(ngram)} {ngram}-word sequence with the "
             f"pool, {o['containing_sequence']} contain a whole planted text" for name, o in leaked.items()]
    return "**Not held out.** " + "; ".join(parts) + "."


def describe_memorization(df: pd.DataFrame, paper_drop: float = 0.95) -> str:
    """Markdown for Fig 8: extracted sequences at the base and after the last epoch, the relative drop
    per group and in total, and the last epoch's log-prob shift, next to the paper's >95% drop."""
    t = extraction_drop(df)
    mem = df[(df["suite"] == "memorization") & (df["level"] == "group")]
    last = int(mem["epoch"].max())
    shift = (mem[(mem["metric"] == "logprob_shift_sum") & (mem["epoch"] == last)]
             .groupby(["condition", "task"])["value"].mean())
    lines = []
    for r in t.itertuples():
        drop = ("no sequence was extractable at the base, so there is nothing to drop" if r.base_extracted == 0
                else f"a relative drop of **{100 * r.relative_drop:.0f}%**")
        one = getattr(r, "plantings", 1) == 1
        pools = f"{r.sequences} sequences" if one else f"{r.sequences} sequences in each of {r.plantings} plantings"
        over = "mean over runs" if one else "mean over runs, each counted on its own planted base"
        lines.append(f"- **{r.group}**, {condition_label(r.condition)} ({pools}): "
                     f"{_count(r.base_extracted)} extracted at the base, {_count(r.last_extracted)} after epoch {r.last_epoch} "
                     f"({over}): {drop}. Mean log-prob shift of the true continuations after epoch "
                     f"{r.last_epoch}: {shift.get((r.condition, r.group), float('nan')):+.2f} nats.")
    heads = []
    for cond, g in t.groupby("condition", sort=False):
        first, final = g["base_extracted"].sum(), g["last_extracted"].sum()
        if first == 0:
            heads.append(f"With {condition_label(cond)} no pool sequence was extractable at the base, so the "
                         "drop cannot be compared with the paper's.")
            continue
        drop = (first - final) / first
        heads.append(f"With {condition_label(cond)}, extraction over text and code together fell from {_count(first)} "
                     f"to {_count(final)} sequences (mean over runs), a relative drop of {100 * drop:.0f}%; the paper "
                     f"reports more than {100 * paper_drop:.0f}%, and the verdict rows above say whether this "
                     "run's interval settles which side of that it lies.")
    return "\n\n".join(heads) + "\n\n" + "\n".join(lines)


def extraction_counts_table(exact: pd.DataFrame, epochs=None) -> tuple[pd.DataFrame, str]:
    """Figure 8's counts in five narrow columns (condition, group, epoch, extracted of trials, share with
    its 95% interval) for ``epochs`` (default: the base and the last), and the design in one sentence
    beneath it (the design column repeated the same words on every row and ran past the text column)."""
    d = exact if epochs is None else exact[exact["epoch"].isin(list(epochs))]
    if epochs is None and len(exact):
        d = exact[exact["epoch"].isin([0, exact["epoch"].max()])]
    out = pd.DataFrame({
        "condition": [condition_label(c) for c in d["condition"]], "group": d["group"].to_numpy(),
        "epoch": d["epoch"].to_numpy(),
        "extracted": [f"{int(k)} / {int(n)}" for k, n in zip(d["extracted"], d["trials"])],
        "share [95% CI]": [f"{s:.3f} [{lo:.3f}, {hi:.3f}]" for s, lo, hi in zip(d["share"], d["share_lo"], d["share_hi"])]})
    designs = list(dict.fromkeys(str(x) for x in d.get("design", pd.Series(dtype=object)) if str(x)))
    how = ("Extracted: (sequence, run) pairs extracted of those tested; the interval treats "
           + ("the plantings as clusters" if any("planting" in x for x in designs) else "the sequences as clusters")
           + (f" ({'; '.join(designs)})." if designs else "."))
    return out.reset_index(drop=True), how


# ------------------------------------------------------------------------------ verdict rows
VERDICT_COLUMNS = ("Figure", "Claim", "Benchmark (task, metric, window)", "Estimate [95% CI]",
                   "Threshold ± margin", "MDE", "Items × runs", "Verdict")


def _num(x: float) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:+.3f}"


def _annotated(table: pd.DataFrame, P: dict | None) -> pd.DataFrame:
    from resurface.evidence.contrasts import annotate

    if P is None and "words" in table.columns:
        return table
    return annotate(table, P)


def _margin_cell(r) -> str:
    t = f"{r.threshold:g}"
    m = getattr(r, "margin", None)
    if not (m is not None and isinstance(m, (int, float)) and np.isfinite(m)):
        return t
    if getattr(r, "kind", "") == "direction":  # a direction claim's margin: its smallest effect of interest
        return f"{t}; smallest effect {m:.3g}"
    return f"{t} ± {m:.3g}"


def short_words(r) -> str:
    """A row's verdict with whose claim and the profile's scale, short enough for a table cell
    ("contradicts the paper's claim at course scale"); the regime in full is in the page's summary
    line above the table and in the row's ``words`` (verdicts.csv)."""
    profile = getattr(r, "profile", "") or ""
    if isinstance(profile, str) and profile:
        return verdict_words(r.verdict, r.whose, f"{profile} scale")
    return getattr(r, "words", None) or r.verdict


def verdict_markdown(table: pd.DataFrame, with_figure: bool = False, P: dict | None = None) -> str:
    """Markdown table of verdict rows: the claim (marked when it is the book's), the benchmark and its
    stand-in task, the estimate with its 95% interval, the threshold and margin, the minimum detectable
    effect (80% power), the items and training runs it rests on, and the verdict at the profile's scale;
    each row's note is a numbered footnote under the table, so the columns stay readable at page width.
    Empty -> a sentence."""
    if table is None or table.empty:
        return "_No registered claim could be tested with the runs of this profile._"
    t = _annotated(table, P)
    cols = list(VERDICT_COLUMNS) if with_figure else list(VERDICT_COLUMNS[1:])
    profiles = {p for p in t.get("profile", pd.Series(dtype=object)) if isinstance(p, str) and p}
    one_scale = len(profiles) == 1
    if one_scale:  # the scale once, in the header; each cell the word alone
        cols[-1] = f"Verdict at {profiles.pop()} scale"
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    notes: list[str] = []
    for r in t.itertuples(index=False):
        interval = (f"{_num(r.estimate)} [{_num(r.lo)}, {_num(r.hi)}]" if np.isfinite(r.estimate) else "n/a")
        runs = f"{int(r.n_items)} × {int(r.n_subsets)}" if r.n_subsets else f"{int(r.n_items)}"
        mde = f"{r.mde:.3f}" if r.mde is not None and np.isfinite(r.mde) else "—"  # shown where it means something
        verdict = f"**{whose_label(r.verdict, r.whose == 'book') if one_scale else short_words(r)}**"
        if r.note:
            if r.note not in notes:
                notes.append(r.note)
            verdict += f" [{notes.index(r.note) + 1}]"
        # the row's label names the stand-in task, its metric and window; the benchmark only where the
        # label does not already name it ("GSM8K ← Math word problems (GSM8K)..." said it twice)
        bench = r.metric if not r.benchmark or str(r.benchmark) in str(r.metric) else f"{r.benchmark} ← {r.metric}"
        claim = r.claim_id.replace("_", " ") + (" (the book's)" if r.whose == "book" else "")
        cells = [claim, bench, interval, _margin_cell(r), mde, runs, verdict]
        if with_figure:
            cells.insert(0, r.figure)
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    if notes:
        lines.append("")
        lines += [f"[{i}] {n}  " for i, n in enumerate(notes, 1)]
    return "\n".join(lines)


def verdict_summary(table: pd.DataFrame, with_figure: bool = False, P: dict | None = None) -> str:
    """Per claim on the page: what the paper (or the book) claims, in the register's words, next to the
    verdicts of its rows in this regime (computed, never typed in)."""
    if table is None or table.empty:
        return "No registered claim could be tested with the runs of this profile."
    t = _annotated(table, P)
    out = []
    # one line per claim and regime: Figure 11's proxy rows are about two students' runs
    for (cid, _), g in t.groupby([t["claim_id"], t["regime"].fillna("")], sort=False):
        c = CLAIMS.get(cid)
        owner = "The book's own claim" if g["whose"].iloc[0] == "book" else "The paper reports"
        text = c.text if c else cid
        counts = g["verdict"].value_counts()
        book = g["whose"].iloc[0] == "book"
        parts = [f"{int(counts[label])} {whose_label(label, book)}" for label in LABELS if label in counts]
        regime = g["regime"].iloc[0]
        where = f" at {regime}" if regime else ""
        fig = f" ({g['figure'].iloc[0]})" if with_figure else ""
        out.append(f"- **{owner}{fig}:** {text} **This book{where}**, {len(g)} row(s): {'; '.join(parts)}.")
    if with_figure:
        held = ("Each figure's rows carry Holm's correction as that figure's page applied it (over the rows "
                "of that page, not over this table).")
    else:
        held = (f"Holm's correction is applied over the {len(t)} row(s) of this page; a row whose interval "
                "excludes the threshold only before it is reported as inconclusive.")
    noise = (" Some rows rest on one training run per condition, so their interval reflects item noise only."
             if t["item_noise_only"].astype(bool).any() else "")
    return "\n".join(out) + f"\n\n{held}{noise}"


def verdict_section(table: pd.DataFrame, P: dict | None = None, with_figure: bool = False) -> str:
    """The end of a figure page: the claims with their verdicts in this regime, and the verdict rows."""
    return verdict_summary(table, with_figure, P) + "\n\n" + verdict_markdown(table, with_figure, P)


# ------------------------------------------------------------------------------ Figures 4, 6 and 11
def _interval(est: float, lo: float, hi: float, digits: int = 3) -> str:
    if est is None or not np.isfinite(est):
        return "n/a"
    f = f"{{:+.{digits}f}}"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return f"{f.format(est)} (no interval)"
    return f"{f.format(est)} [{f.format(lo)}, {f.format(hi)}]"


def _row_verdict(r) -> str:
    words = getattr(r, "words", None) or r.verdict
    return f"**{words}**" + (f" ({r.note})" if r.note else "")


def whose_label(label: str, book: bool) -> str:
    """A verdict word as it reads for the book's own claims ("agrees with the book's claim")."""
    return label.replace("the paper", "the book's claim") if book else label


def _verdict_counts(rows: pd.DataFrame) -> str:
    """'3 inconclusive; 1 contradicts the book's claim': each word as it reads for the rows' owner."""
    counts = rows["verdict"].value_counts()
    book = "whose" in rows.columns and (rows["whose"] == "book").all() or \
        ("claim_id" in rows.columns and all(CLAIMS.get(c) is not None and CLAIMS[c].whose == "book"
                                            for c in rows["claim_id"]))
    return "; ".join(f"{int(counts[label])} {whose_label(label, book)}" for label in LABELS if label in counts)


def describe_split(table: pd.DataFrame, info: dict) -> str:
    """Markdown for Fig 4 (right): the split (threshold, sizes), and per split panel the contrast
    Δ(below) − Δ(above) with its interval and the verdict row that compares it with the paper
    (claim ``similarity_equivalent``, :func:`resurface.evidence.proxytables.split_rows`)."""
    how = "the median max-cosine of this corpus" if info["rule"] == "median" else "the fixed threshold"
    text = (f"The τ = {info['temperature']:g} corpus was split at max-cosine {info['threshold']:.3f} ({how}) to "
            f"the {info['task']} items: {info['sizes']['below']} samples below, {info['sizes']['above']} at or "
            "above. ")
    rows = table[table["claim_id"] == "similarity_equivalent"] if table is not None and not table.empty else None
    if rows is None or rows.empty:
        return text + ("No split benchmark has per-item values in this run, so the paper's claim that both "
                       "sides give about the same gain could not be tested here.")
    parts = []
    for r in rows.itertuples(index=False):
        parts.append(f"On {r.metric}, Δ(below) − Δ(above) after the last epoch is "
                     f"{_interval(r.estimate, r.lo, r.hi)} (95%, paired on items"
                     f"{', over training subsets' if r.n_subsets > 1 else ''}). The paper finds both sides give "
                     f"about the same GSM8K gain; tested as equivalence within ± {r.margin:.3g} (a margin fixed "
                     f"in the claim register before any run), the verdict is {_row_verdict(r)}.")
    return text + " ".join(parts)


def describe_nll(gaps: pd.DataFrame, scorer: str, table: pd.DataFrame) -> str:
    """Markdown for Figs 6/11: own vs cross-family mean NLL at every τ with the gap's 95% Welch
    interval (descriptive), and the comparison with the paper from the ``nll_means_close`` verdict
    row (:func:`resurface.evidence.proxytables.nll_gap_rows`)."""
    lines = []
    for r in gaps.itertuples(index=False):
        rel = f", {100 * r.rel_gap:+.1f}% of the own mean" if np.isfinite(r.rel_gap) else ""
        lines.append(f"- τ = {r.temperature:g}: own corpora {r.own_mean:.3f}, cross-family corpora "
                     f"{r.cross_mean:.3f}; gap cross − own {_interval(r.gap, r.lo, r.hi)} nats/token "
                     f"(95% Welch interval over {r.n_own} + {r.n_cross} scored samples{rel})")
    text = f"Mean per-token NLL under **{scorer}**:\n\n" + "\n".join(lines) + "\n\n"
    if len(gaps) > 1:
        lo, hi = gaps.iloc[0], gaps.iloc[-1]
        text += (f"From τ = {lo['temperature']:g} to τ = {hi['temperature']:g} the gap's point estimate goes "
                 f"from {abs(lo['gap']):.3f} to {abs(hi['gap']):.3f} nats/token in size. This is descriptive: "
                 "the intervals above show how well each τ's gap is pinned down, and no verdict row tests the "
                 "trend. ")
    else:
        text += (f"This profile samples at τ = {gaps['temperature'].iloc[0]:g} only, so whether the gap "
                 "shrinks with τ is not shown. ")
    rows = table[table["claim_id"] == "nll_means_close"] if table is not None and not table.empty else None
    if rows is None or rows.empty:
        return text + "No verdict row compares the means with the paper in this run."
    for r in rows.itertuples(index=False):
        margin = f"± {r.margin:.3f} nats" if r.margin is not None and np.isfinite(r.margin) else "a margin"
        text += (f"The paper finds the two means almost equal at τ = 1.25 (about 9.10 vs 9.01 nats, 1%). "
                 f"Tested as equivalence of the gap at the highest τ with 0 within {margin} per token (fixed "
                 f"in the claim register before any run from the paper's published means, not from this "
                 f"run's), the verdict is {_row_verdict(r)}.")
    return text


def describe_proxy_utility(corr: pd.DataFrame, table: pd.DataFrame) -> str:
    """Markdown for the proxy table: Spearman ρ of each proxy with Δ across corpora with its 95%
    interval (descriptive), and per proxy the count of the verdict rows that compare it with the
    paper (claims ``nll_not_predictive``, ``similarity_not_predictive``: |ρ| < 0.5)."""
    from resurface.evidence.proxytables import OUTCOMES, PROXY_CLAIMS, PROXY_NAMES, PROXY_SIGNS

    if corr.empty:
        return "_No training corpus could be ranked in this run._"
    n_min, n_max = int(corr["n"].min()), int(corr["n"].max())
    span = f"{n_min}" if n_min == n_max else f"{n_min}–{n_max}"
    head = (f"Each correlation ranks the training corpora of one benchmark (n = {span} corpora; ρ with its 95% "
            "interval from inverting the rank test, p from the exact permutation test of ρ = 0). With a "
            "handful of corpora the intervals are wide, and with 3 or 4 no order of the corpora could reach "
            "the level.\n\n")
    lines = []
    for proxy, name in PROXY_NAMES.items():
        sign = "higher" if PROXY_SIGNS[proxy] > 0 else "lower"
        c = corr[corr["proxy"] == proxy]
        parts = []
        for (group, label), g in c.groupby(["students", "label"], sort=False):
            cells = []
            for outcome, oname in OUTCOMES.items():
                o = g[g["outcome"] == outcome]
                if o.empty:
                    continue
                o = o.iloc[0]
                cells.append(f"{oname} ρ = {_interval(o['rho'], o['lo'], o['hi'], 2)}, n = {int(o['n'])}"
                             + (f", p = {o['p']:.3g}" if np.isfinite(o["p"]) else ""))
            parts.append(f"  - {label} ({group}): " + "; ".join(cells))
        lines.append(f"- **{name}** ({sign} would mean more useful):\n" + "\n".join(parts))
    tail = []
    for proxy, claim in PROXY_CLAIMS.items():
        name = PROXY_NAMES[proxy]
        rows = table[table["claim_id"] == claim] if table is not None and not table.empty else pd.DataFrame()
        if rows.empty:
            tail.append(f"No verdict row tests the {name} in this run.")
            continue
        tail.append(f"Against the paper's finding that the {name} does not predict utility (tested as |ρ| < "
                    f"0.5 on the final-epoch Δ, per student and benchmark), the {len(rows)} verdict row(s) "
                    f"give: {_verdict_counts(rows)}.")
    return head + "\n".join(lines) + "\n\n" + " ".join(tail)


# ------------------------------------------------------------------------------ Figure 12
def describe_relational(table: pd.DataFrame, corr: pd.DataFrame, verdicts_table: pd.DataFrame) -> str:
    """Markdown for Figure 12: the corpora, each measure's Spearman ρ with the final-epoch Δ per
    benchmark (descriptive, with its 95% interval), and what the ``relational_beats_intrinsic``
    rows conclude, with the largest difference that could still hide when they are inconclusive."""
    from resurface.evidence.relational import INTRINSIC, RELATIONAL, SHORT

    if table.empty:
        return "_No corpus with a measured utility in this run._"
    corpora = table.drop_duplicates("condition")
    undefined = corpora[~np.isfinite(corpora["ce_gap"].astype(float))]["condition"].tolist()
    text = (f"{len(corpora)} corpora were trained on by {corpora['student'].iloc[0]} and scored here "
            f"({', '.join(condition_label(c) for c in corpora['condition'])}). ")
    if undefined:
        text += (f"The relational measures are not defined for {', '.join(condition_label(c) for c in undefined)} "
                 "(no source model), which is left out of their correlations and of the paired comparisons; "
                 "the intrinsic proxies' ρ below include it. ")
    text += ("Spearman ρ with the final-epoch Δ (95% interval by inverting the rank test); a useful measure has "
             "ρ < 0 for the relational measures and the NLL (lower means more useful), ρ > 0 for the "
             "max-cosine:\n\n")
    lines = []
    for (_, metric), g in corr.groupby(["task", "metric"], sort=False):
        cells = []
        for r in g.itertuples(index=False):
            cells.append(f"{SHORT[r.measure]} {_interval(r.rho, r.lo, r.hi, 2)} (n = {r.n})")
        lines.append(f"- **{g['label'].iloc[0]}** ({metric.split(',')[0]}): " + "; ".join(cells))
    text += "\n".join(lines) + "\n\n"
    if verdicts_table is None or verdicts_table.empty:
        return text + "No comparison of the measures could be computed in this run."
    counts = _verdict_counts(verdicts_table)
    text += (f"**The book's own claim** (the paper names compatibility but never measures it): a relational "
             f"measure orders the corpora by utility better than an intrinsic proxy. Tested as "
             f"|ρ_relational| − |ρ_intrinsic| > 0 on the same corpora ({len(RELATIONAL)} relational × "
             f"{len(INTRINSIC)} intrinsic measures per benchmark, {len(verdicts_table)} rows, Holm's correction "
             f"over them): {counts}. ")
    v = verdicts_table["verdict"]
    agrees, contra = verdicts_table[v == AGREES], verdicts_table[v == CONTRADICTS]
    if len(agrees):
        best = agrees.sort_values("estimate", ascending=False).iloc[0]
        text += (f"{len(agrees)} row(s) show a relational measure ranking the corpora better than an intrinsic "
                 f"proxy; the largest difference is {_interval(best['estimate'], best['lo'], best['hi'], 2)} "
                 f"({best['metric']}). ")
    if len(contra):
        worst = contra.sort_values("estimate").iloc[0]
        text += (f"{len(contra)} row(s) show the opposite, an intrinsic proxy ranking the corpora better than a "
                 f"relational measure; the largest such difference is "
                 f"{_interval(worst['estimate'], worst['lo'], worst['hi'], 2)} ({worst['metric']}). ")
    if not len(agrees) and not len(contra):
        testable = verdicts_table[verdicts_table["verdict"] != NOT_TESTABLE]
        if testable.empty:
            n = int(verdicts_table["n_items"].max())
            text += (f"No row can settle the comparison here: with {n} corpora no ordering of their utilities "
                     "could reach the level, so every row is not testable here. ")
        else:
            mde = testable["mde"].astype(float)
            mde = mde[np.isfinite(mde) & (mde > 0)]
            text += "No testable row settles the comparison either way"
            if not len(mde) or mde.min() >= 1:  # MDEs beyond the range of |ρ| differences are not shown
                text += (": even a difference of 1 in |ρ| (one measure ranking the corpora perfectly, the other "
                         "not at all) would be missed more often than one time in five")
            elif len(mde):
                text += (f": a difference in |ρ| smaller than {mde.min():.2f} to {min(mde.max(), 1):.2f} (the rows' "
                         "minimum detectable effects, 80% power) could hide here")
            text += ". "
        text += "More corpora (more temperatures, sources or siblings) would make the comparison decidable."
    return text


def _and(names: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def describe_health(table: pd.DataFrame) -> str:
    """One paragraph for a page: each trained or planted model's general held-out NLL per token next to
    its base's (:func:`resurface.measures.health.general_nll`), and the book's margin for a healthy model."""
    base = table.iloc[0]
    parts = [f"{r['model']} {r['nll_per_token']:.2f} ({r['relative']:+.0%})" for _, r in table.iloc[1:].iterrows()]
    bad = [r["model"] for _, r in table.iloc[1:].iterrows() if not r["within_margin"]]
    verdict = ("every model is within" if not bad else
               f"{_and(bad)} {'is' if len(bad) == 1 else 'are'} outside")
    return (f"General held-out English ({HEALTH_TEXTS} standard-library docstrings no stage trains on, at most "
            f"{HEALTH_MAX_TOKENS} tokens each): the base scores {base['nll_per_token']:.2f} nats per token; "
            + "; ".join(parts) + f". The book's margin for a healthy model is +{HEALTH_MARGIN_REL:.0%}: "
            f"{verdict} it.")


def describe_replay(check: pd.DataFrame) -> str:
    """The replay control in words and a table (:func:`resurface.evidence.contrasts.replay_check`):
    where replay leaves the student inside the margin, and where the dose moves it whatever it reads."""
    if check.empty:
        return ""

    lines = [f"**Replay, the control.** In the paper, training on human text leaves the student near where it "
             f"started. Here, replay's Δ against the base after the last epoch, with the margin the regime rule "
             f"uses (±{REPLAY_MARGIN_REL:.0%} of the base's score; 95% intervals over items and runs):", "",
             "| task | base | replay Δ [95% CI] | margin | inside |", "|---|---|---|---|---|"]
    for r in check.itertuples():
        lines.append(f"| {r.title} | {r.base:+.3f} | {_interval(r.estimate, r.lo, r.hi)} | ±{r.margin:.3f} | "
                     f"{'yes' if r.within else 'no'} |")
    out = [t for t in check.itertuples() if not t.within]
    lines.append("")
    if not out:
        lines.append("Replay stays inside the margin on every task: the dose by itself does not move the student "
                     "there, so a self-training Δ is the corpus's, not the dose's.")
    else:
        lines.append(f"Replay is not inside the margin on {len(out)} of {len(check)} tasks ("
                     + ", ".join(t.title for t in out) + "): there the dose moves the student whatever it reads "
                     "(or the interval is too wide to tell), so read self-training's Δ against replay's, not "
                     "against 0.")
    return "\n".join(lines)
