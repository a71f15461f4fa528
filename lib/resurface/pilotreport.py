"""Tables of the course-study pilot (``benchmarks/pilot_course.py``) for the book page that sizes the study.

The pilot's measurements live in one file, ``benchmarks/pilot_course.json`` (written by the script, with
the command in ``benchmarks/RESULTS.md``); :func:`write_tables` turns them into the markdown the page
includes, so the page shows exactly what was measured.
"""

from __future__ import annotations

import json
from pathlib import Path

from .paths import generated_dir, repo_root

PILOT_FILE = Path("benchmarks") / "pilot_course.json"


def _f(x: float, digits: int = 4) -> str:
    return f"{x:+.{digits}f}"


def tables(report: dict) -> str:
    """Markdown: evaluation cost, dose-response, subset spread and the candidate designs."""
    out = [f"Measured on `{report['student']}`, {report['items']} items per task of the suite "
           f"`{report['suite']}` ({report['started']} to {report['finished']}).", "",
           f"**One evaluation** of the suite: {report['eval_seconds']:.0f} s "
           f"({report['eval_items_per_s']:.1f} items/s); sampling the pilot's corpus: "
           f"{report['sample_seconds']:.0f} s; one training run with its evaluation: "
           f"{report['run_seconds_mean']:.0f} s on average.", "",
           "**Dose-response** (one epoch on the student's own τ = 1 samples; Δ against the base with its "
           "95% interval over items):", "",
           "| tokens | learning rate | run (s) | benchmark | Δ [95% CI] |", "|---|---|---|---|---|"]
    for run in report["dose_response"]:
        for t in run["tasks"]:
            out.append(f"| {run['tokens']} | {run['lr']:g} | {run['seconds']:.0f} | `{t['task']}` "
                       f"| {_f(t['delta'])} [{_f(t['lo'])}, {_f(t['hi'])}] |")
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


def write_tables(path: Path | None = None, source: Path | None = None) -> Path:
    """Write the pilot's tables for the book (a note instead when the pilot has not been run)."""
    source = Path(source or repo_root() / PILOT_FILE)
    path = Path(path or generated_dir() / "pilot_tables.md")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not source.exists():
        path.write_text(f"_The pilot has not been run in this checkout: `{PILOT_FILE}` is missing (see "
                        "`benchmarks/pilot_course.py`)._\n")
        return path
    path.write_text(tables(json.loads(source.read_text())) + "\n")
    return path
