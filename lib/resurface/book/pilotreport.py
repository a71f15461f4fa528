"""Tables of the course-study pilot (``benchmarks/pilot_course.py``) for the book page that sizes the study.

The pilot's measurements live in one file, ``benchmarks/pilot_course.json`` (written by the script, with
the command in ``benchmarks/RESULTS.md``); :func:`write_tables` turns them into the markdown the page
includes, so the page shows exactly what was measured.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Callable

from resurface.evaluate.itemgen import POOL_SIZE
from resurface.paths import generated_dir, repo_root
from resurface.study.profiles import load

PILOT_FILE = Path("benchmarks") / "pilot_course.json"


def _f(x: float, digits: int = 4) -> str:
    return f"{x:+.{digits}f}"


def tables(report: dict) -> str:
    """Markdown: evaluation cost, dose-response, subset spread and the candidate designs."""
    out = [f"Measured on `{report['student']}`, {report['items']} items per task of the suite "
           f"`{report['suite']}` ({report['started']} to {report['finished']}).", "",
           f"**One evaluation** of the suite (the base model, computed afresh in every pilot run): "
           f"{report['eval_seconds']:.0f} s ({report['eval_items_per_s']:.1f} items/s)"
           + (f"; {report['conditions']}" if report.get("conditions") else "") + ".", "",
           "**Dose-response** (one epoch on the student's own τ = 1 samples, one run per row; Δ against the "
           "base with its 95% interval over items):", ""]
    runs = report["dose_response"]
    tasks = list(dict.fromkeys(t["task"] for r in runs for t in r["tasks"]))
    out += ["| tokens | learning rate | " + " | ".join(f"`{t}`" for t in tasks) + " |",
            "|---|---|" + "---|" * len(tasks)]
    for run in sorted(runs, key=lambda r: (r["lr"], r["tokens"])):
        by = {t["task"]: t for t in run["tasks"]}
        cells = [f"{_f(by[t]['delta'])} [{_f(by[t]['lo'])}, {_f(by[t]['hi'])}]" if t in by else "" for t in tasks]
        out.append(f"| {run['tokens']} | {run['lr']:g} | " + " | ".join(cells) + " |")
    n = report.get("subsets", "several")
    tok = report.get("subset_tokens")
    out += ["", f"**Between training subsets** ({n} subsets each of self and replay"
            + (f", {tok} tokens each" if tok else "") + ", one epoch; the self − replay contrast and its "
            "variance components):", "",
            "| benchmark | self Δ [95% CI] | self − replay [95% CI] | σ² subset | σ² item | σ² residual |",
            "|---|---|---|---|---|---|"]
    comps = {c["task"]: c for c in report["variance_components"]}
    for c in report["self_vs_replay"]:
        v = comps[c["task"]]
        out.append(f"| `{c['task']}` | {_f(c['self_delta'])} [{_f(c['self_lo'])}, {_f(c['self_hi'])}] "
                   f"| {_f(c['self_minus_replay'])} [{_f(c['lo'])}, {_f(c['hi'])}] "
                   f"| {v['sigma2_subset']:.2e} | {v['sigma2_item']:.2e} | {v['sigma2_residual']:.2e} |")
    out += seed_table(report.get("seed_spread"))
    out += ["", "**Candidate designs**: the minimum detectable self − replay effect (80% power, 5% level) "
            "projected from those components, per benchmark:", ""]
    designs = report["designs"]
    tasks = list(dict.fromkeys(d["task"] for d in designs))
    subsets = sorted({d["design_subsets"] for d in designs})
    items = sorted({d["design_items"] for d in designs})
    for task in tasks:
        out += [f"`{task}`:", "", "| subsets \\ items | " + " | ".join(map(str, items)) + " |",
                "|---|" + "---|" * len(items)]
        for s in subsets:
            cells = [next(d for d in designs if d["task"] == task and d["design_subsets"] == s
                          and d["design_items"] == i)["mde"] for i in items]
            out.append(f"| {s} | " + " | ".join(f"{c:.4f}" for c in cells) + " |")
        out.append("")
    return "\n".join(out)


def seed_table(spread: dict | None) -> list[str]:
    """Markdown lines: the seed-to-seed against subset-to-subset spread (``benchmarks/pilot_seeds.py``);
    none when that script has not been run."""
    if not spread:
        return []
    out = ["", f"**Seeds against subsets** (`{spread['condition']}` at the course design: {spread['subsets']} "
           f"subsets x {len(spread['seeds'])} seeds, {spread['items']} items per task, "
           f"{spread['tokens_per_subset']} tokens, learning rate {spread['lr']:g}): the standard deviation of a "
           "run's mean Δ between seeds on the same subset, the extra between subsets, and the F test of "
           "\"no subset effect\":", "",
           "| suite | benchmark | SD between seeds | SD between subsets | F | p |", "|---|---|---|---|---|---|"]
    for t in spread["tasks"]:
        out.append(f"| `{t['suite']}` | `{t['task']}` | {math.sqrt(t['sigma2_seed']):.4f} "
                   f"| {math.sqrt(t['sigma2_subset']):.4f} | {t['f']:.2f} | {t['p']:.3f} |")
    return out


def projected_se(component: dict, subsets: int, items: int) -> float:
    """The self − replay contrast's SE at ``subsets`` runs per condition and ``items`` items per task,
    from the pilot's variance components (the formula on the page; a NaN component counts as 0)."""
    def c(k: str) -> float:
        v = component.get(k)
        return 0.0 if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)

    return math.sqrt(c("sigma2_subset") / subsets + c("sigma2_item") / items
                     + c("sigma2_residual") / (subsets * items))


def design_table(report: dict, design: dict) -> str:
    """Markdown: the projected SE and MDE of the self − replay contrast at the course's own design
    (``design``: the course profile's ``num_subsets`` and ``eval_limit``), next to what the pilot
    measured for that contrast. The MDE uses t quantiles with 2(n − 1) degrees of freedom (two
    conditions of n runs each), the conservative case where the subset term dominates."""
    from resurface.evidence.sizing import mde

    n_s, n_i = int(design["num_subsets"]), int(design["eval_limit"] or POOL_SIZE)
    df = max(2 * (n_s - 1), 1)
    measured = {c["task"]: c for c in report["self_vs_replay"]}
    out = [f"**The course's design** ({n_s} subsets per condition, {n_i} items per task; "
           f"{design['tokens_per_subset']} tokens per subset, {design['epochs']} epoch(s) at learning rate "
           f"{design['lr']:g}): the self − replay contrast's projected standard error and minimum detectable "
           f"effect (80% power, 5% level, t with {df} df), beside the contrast the pilot measured:", "",
           f"| benchmark | projected SE | projected MDE | MDE at {2 * n_i} items | pilot self − replay | resolvable? |",
           "|---|---|---|---|---|---|"]
    for comp in report["variance_components"]:
        se = projected_se(comp, n_s, n_i)
        m = mde(se, df=df)
        got = measured.get(comp["task"])
        shown = f"{_f(got['self_minus_replay'])}" if got else "n/a"
        ok = "yes" if got and abs(got["self_minus_replay"]) >= m else "no: smaller than the MDE"
        m2 = mde(projected_se(comp, n_s, 2 * n_i), df=df)
        out.append(f"| `{comp['task']}` | {se:.4f} | {m:.4f} | {m2:.4f} | {shown} | {ok} |")
    return "\n".join(out)


def course_design() -> dict:
    """The course profile's values that set the study's size (one source: its parameter files)."""
    P = load("course", "fig02")
    return {k: P[k] for k in ("num_subsets", "eval_limit", "tokens_per_subset", "epochs", "lr")}


def write_tables(path: Path | None = None, source: Path | None = None) -> Path:
    """Write the pilot's tables for the book (a note instead when the pilot has not been run)."""
    return write_report(path or generated_dir() / "pilot_tables.md", source or repo_root() / PILOT_FILE,
                        lambda report: tables(report) + "\n\n" + design_table(report, course_design()),
                        f"_The pilot has not been run in this checkout: `{PILOT_FILE}` is missing (see "
                        "`benchmarks/pilot_course.py`)._")


def write_report(path: Path, source: Path, render: Callable[[dict], str], missing: str) -> Path:
    """Write ``render(the JSON at source)`` to ``path`` for a page to include, or ``missing`` when the
    measurement has not been run in this checkout."""
    path, source = Path(path), Path(source)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text((render(json.loads(source.read_text())) if source.exists() else missing) + "\n")
    return path
