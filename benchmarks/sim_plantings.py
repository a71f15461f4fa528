"""Figure 8 with plantings as clusters: coverage and false verdicts of the relative drop's interval
(`resurface.evidence.plantings.relative_drop_plantings`) by simulation, next to the two intervals it
replaced: a t interval over the plantings, and the one-planting interval (sequences as clusters) applied
to the plantings' sequences stacked as if every run tested the same pool.

Model: plantings × sequences × 1 run (default 3 × 51); each sequence is extractable at its planting's
base with probability 0.8; each planting draws its own survival rate from a Beta distribution (mean and
SD per row), and every sequence extracted at the base survives training with that rate. The true drop
is one minus the mean survival.

``--skewed`` runs the designs that can reach *agrees* with a 95% drop (3 plantings × 400 sequences and
10 × 51; :func:`resurface.evidence.extraction.drop_reach`) under survival that is skewed between plantings
(SD at and above the mean), and compares the interval the module reports (Korn-Graubard ∪ log-scale t)
with Korn-Graubard alone: coverage and false *agrees* (lower end above a true 95% drop).

    .venv/bin/python benchmarks/sim_plantings.py [--reps 2000]
    .venv/bin/python benchmarks/sim_plantings.py --skewed [--reps 2000]
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from scipy import stats as st

from resurface.evidence import extraction, plantings

REGIMES = ((0.6, 0.15), (0.3, 0.10), (0.05, 0.03), (0.05, 0.01))
SKEWED = ((0.05, 0.01), (0.05, 0.03), (0.05, 0.05), (0.05, 0.08), (0.3, 0.3))
DESIGNS = ((3, 400), (10, 51), (3, 51))


def tally(r: list, lo: float, hi: float, truth: float) -> None:
    """Add one interval to ``r`` = [covered, lower end above the truth, upper end below it, widths]."""
    r[0] += lo <= truth <= hi
    r[1] += lo > truth
    r[2] += hi < truth
    r[3].append(hi - lo)


def study(rng: np.random.Generator, mean: float, sd: float, R: int = 3, seqs: int = 51, p_base: float = 0.8):
    """One simulated study: per planting, (sequences × 1) booleans before and after training."""
    k = mean * (1 - mean) / sd ** 2 - 1
    before, after = [], []
    for _ in range(R):
        s = rng.beta(mean * k, (1 - mean) * k)
        b0 = rng.random((seqs, 1)) < p_base
        before.append(b0)
        after.append(b0 & (rng.random((seqs, 1)) < s))
    return before, after


def t_over_plantings(before, after, level: float = 0.95) -> tuple[float, float]:
    """The t interval on R − 1 df of the ratio estimator over plantings (what the module replaced)."""
    k0 = np.array([b.sum() for b in before], float)
    k1 = np.array([a.sum() for a in after], float)
    r, var = plantings.ratio_var(k1, k0)
    t = st.t.ppf(0.5 + level / 2, len(k0) - 1)
    return 1 - r - t * math.sqrt(var), 1 - r + t * math.sqrt(var)


def kg_only(before, after, level: float = 0.95) -> tuple[float, float]:
    """Korn-Graubard over plantings alone (what the module reported before the log-scale hull)."""
    k0 = np.array([b.sum() for b in before], float)
    k1 = np.array([a.sum() for a in after], float)
    _, s_lo, s_hi, _ = plantings.kg_share(k1, k0, level)
    return 1 - s_hi, 1 - s_lo


def skewed(reps: int) -> None:
    """Coverage and false *agrees* of the reported interval and of Korn-Graubard alone, skewed survival."""
    rng = np.random.default_rng(2)
    print("| design (plantings × sequences) | survival (mean ± SD) | true drop | interval | coverage (%) | "
          "lower end above the truth (%) | upper end below the truth (%) | mean width |")
    print("|---|---|---|---|---|---|---|---|")
    for R, seqs in DESIGNS:
        for mean, sd in SKEWED:
            truth = 1 - mean
            res = {name: [0, 0, 0, []] for name in ("reported (KG ∪ log-t)", "Korn-Graubard alone")}
            for _ in range(reps):
                b, a = study(rng, mean, sd, R=R, seqs=seqs)
                est = plantings.relative_drop_plantings(b, a, null=truth)
                for name, (lo, hi) in (("reported (KG ∪ log-t)", (est.lo, est.hi)),
                                       ("Korn-Graubard alone", kg_only(b, a))):
                    tally(res[name], lo, hi, truth)
            for name, (cov, above, below, width) in res.items():
                print(f"| {R} × {seqs} | {mean:.2f} ± {sd:.2f} | {truth:.2f} | {name} | {100 * cov / reps:.1f} | "
                      f"{100 * above / reps:.1f} | {100 * below / reps:.1f} | {np.mean(width):.3f} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--skewed", action="store_true", help="designs that reach agrees, skewed survival")
    args = ap.parse_args()
    if args.skewed:
        skewed(args.reps)
        return 0
    rng = np.random.default_rng(1)
    print("| survival (mean ± SD per planting) | true drop | interval | coverage (%) | lower end above the truth (%) "
          "| upper end below the truth (%) | mean width |")
    print("|---|---|---|---|---|---|---|")
    for mean, sd in REGIMES:
        truth = 1 - mean
        res = {name: [0, 0, 0, []] for name in ("reported (KG ∪ log-t)", "t over plantings",
                                                "sequences only (one-planting rule)")}
        for _ in range(args.reps):
            b, a = study(rng, mean, sd)
            kg = plantings.relative_drop_plantings(b, a, null=truth)
            seq = extraction.relative_drop_ci(np.vstack(b), np.vstack(a))
            for name, (lo, hi) in (("reported (KG ∪ log-t)", (kg.lo, kg.hi)),
                                   ("t over plantings", t_over_plantings(b, a)),
                                   ("sequences only (one-planting rule)", (seq.lo, seq.hi))):
                tally(res[name], lo, hi, truth)
        for name, (cov, above, below, width) in res.items():
            n = args.reps
            print(f"| {mean:.2f} ± {sd:.2f} | {truth:.2f} | {name} | {100 * cov / n:.1f} | {100 * above / n:.1f} | "
                  f"{100 * below / n:.1f} | {np.mean(width):.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
