"""Coverage of Figure 13's resurfacing interval when the planting draw dominates: plantings as units
(:func:`resurface.evidence.resurfacing.relative`, the book's) against runs as units (each run against its
own buried model, runs pooled), for 3 plantings x 3 runs x 12 probes, a true Δ of 0 and a planting effect
with SD 0.1 against a run effect of 0.01. Prints both coverages with their Wilson 95% intervals.

    .venv/bin/python benchmarks/sim_plantings.py --reps 1000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scipy.stats import binomtest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_resurfacing_plantings import _coverage  # noqa: E402  (the test's simulated design)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=300)
    ap.add_argument("--seed", type=int, default=11)
    a = ap.parse_args()
    for clustered in (True, False):
        c = _coverage(a.reps, clustered, seed=a.seed)
        ci = binomtest(round(c * a.reps), a.reps).proportion_ci(method="wilson")
        lo, hi = ci.low, ci.high
        print(f"{'plantings' if clustered else 'runs':>9} as units: coverage {c:.3f} [{lo:.3f}, {hi:.3f}] "
              f"over {a.reps} studies")


if __name__ == "__main__":
    main()
