"""Margins per task: how often a non-inferiority or equivalence row says *agrees* at a true difference of 0
(what the margin lets the design confirm) and at a true difference exactly on the margin (a false
*agrees*: at most 2.5% allowed), per course stand-in task, with the metric family's single margin and
with the per-task margin of the claim register (:data:`resurface.evidence.claims.TASK_MARGINS`).

Model: the crossed random-effects design of EVIDENCE.md with the variance components the pilot measured
per task (``benchmarks/pilot_course.json``: run, item and residual variances of one condition's Δ),
normal noise, the course design (3 runs per condition, 12 items). Statistics: Figure 7's single Δ
against the base (non-inferiority, "kept or improved") and Figure 10's contrast of two conditions
(non-inferiority) and Figure 4's (equivalence), item effects correlated 0.7 across conditions; the t
interval of :func:`resurface.evidence.paired.contrast_arrays`. Seeded.

    .venv/bin/python benchmarks/sim_margins.py [--reps 2000]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from resurface.evidence import claims  # noqa: E402
from resurface.evidence.paired import contrast_arrays  # noqa: E402
from resurface.evidence.verdicts import AGREES, decide  # noqa: E402

RHO_U = 0.7
PILOT = Path(__file__).resolve().parent / "pilot_course.json"


def components() -> dict[tuple[str, str], tuple[float, float, float]]:
    """(task, metric) -> (σ²_run, σ²_item, σ²_residual) of one condition's Δ, from the pilot."""
    d = json.loads(PILOT.read_text())
    return {(c["task"], c["metric"]): (c["sigma2_subset"], c["sigma2_item"], c["sigma2_residual"])
            for c in d["variance_components"]}


def draw(rng: np.random.Generator, comp, n_s: int, n_i: int, effect: float, contrast: bool) -> dict[str, np.ndarray]:
    """Per-item Δ matrices (runs × items) of condition A (and B for a contrast)."""
    sb, su, se = (math.sqrt(v) for v in comp)
    if not contrast:
        return {"A": effect + su * rng.standard_normal((1, n_i)) + sb * rng.standard_normal((n_s, 1))
                + se * rng.standard_normal((n_s, n_i))}
    z = rng.standard_normal((2, n_i))
    u = {"A": su * z[0], "B": su * (RHO_U * z[0] + math.sqrt(1 - RHO_U ** 2) * z[1])}
    mu = {"A": effect, "B": 0.0}
    return {c: mu[c] + u[c][None, :] + sb * rng.standard_normal((n_s, 1)) + se * rng.standard_normal((n_s, n_i))
            for c in ("A", "B")}


def rates(comp, margin: float, kind: str, contrast: bool, reps: int, rng, n_s: int = 3, n_i: int = 12):
    """(P(agrees | true 0), P(agrees | true on the margin)) of one claim kind and statistic."""
    w = {"A": 1.0, "B": -1.0} if contrast else {"A": 1.0}
    at_zero = at_margin = 0
    edge = margin if kind == "equivalence" else -margin  # the value the claim must exclude
    for _ in range(reps):
        e0 = contrast_arrays(draw(rng, comp, n_s, n_i, 0.0, contrast), w)
        at_zero += decide(e0.lo, e0.hi, kind=kind, margin=margin) == AGREES
        e1 = contrast_arrays(draw(rng, comp, n_s, n_i, edge, contrast), w)
        at_margin += decide(e1.lo, e1.hi, kind=kind, margin=margin) == AGREES
    return at_zero / reps, at_margin / reps


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=2000)
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    cases = (("noninferiority", False, "Δ vs base (Fig 7)"), ("noninferiority", True, "Δ_A − Δ_B (Fig 10)"),
             ("equivalence", True, "Δ_A − Δ_B (Fig 4)"))
    print("| task | metric | statistic | margin | which | agrees at a true 0 (%) | agrees on the margin (%) |")
    print("|---|---|---|---|---|---|---|")
    for (task, metric), comp in components().items():
        family = claims.METRIC_MARGINS[metric]
        own = claims.task_margin(task, metric)
        for kind, contrast, what in cases:
            for which, m in (("family", family), ("per task", own[0] if own else family)):
                if which == "per task" and m == family:
                    continue
                z, e = rates(comp, m, kind, contrast, args.reps, rng)
                print(f"| {task} | {metric.split(',')[0]} | {kind}, {what} | {m:g} | {which} | {100 * z:.1f} | "
                      f"{100 * e:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
