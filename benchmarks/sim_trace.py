"""Figure 13's trace-vs-recovery row (``k_trace_predicts``): runs or corpora as the units.

Model: 5 corpora × 3 runs. A corpus has its own naming rate ``x_c`` and its own recovery effect ``u_c``,
drawn independently (no relation between naming and recovery: the claim is false, its *agrees* a false
positive); a run's naming rate is ``x_c`` plus a little noise of its own subset, its Δ is ``u_c`` plus run
noise, the corpus effect carrying a share of Δ's variance (50/80/95%). Spearman ρ over the 15 runs (the
row before) against ρ over the 5 corpus means (the row now, :func:`resurface.evidence.resurfacing.corpus_trace`),
both by :func:`resurface.evidence.ranks.spearman_ci`; *agrees* is a lower end above 0 (2.5% allowed).
Also the row's reachability at 5 corpora. Seeded.

    .venv/bin/python benchmarks/sim_trace.py [--reps 1000]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from resurface.evidence import ranks, verdicts  # noqa: E402


def study(rng: np.random.Generator, share: float, corpora: int = 5, runs: int = 3, naming_noise: float = 0.2):
    """(run naming rates, run Δ, corpus of each run) of one simulated study under no relation."""
    x_c = rng.standard_normal(corpora)
    u_c = math.sqrt(share) * rng.standard_normal(corpora)
    corpus = np.repeat(np.arange(corpora), runs)
    x = x_c[corpus] + naming_noise * rng.standard_normal(corpus.size)
    d = u_c[corpus] + math.sqrt(1 - share) * rng.standard_normal(corpus.size)
    return x, d, corpus


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=1000)
    args = ap.parse_args()
    rng = np.random.default_rng(13)
    print("| corpus share of Δ's variance | units | false *agrees* (%) | false *contradicts* (%) |")
    print("|---|---|---|---|")
    for share in (0.5, 0.8, 0.95):
        hits = {"15 runs": [0, 0], "5 corpora (runs averaged)": [0, 0]}
        for _ in range(args.reps):
            x, d, corpus = study(rng, share)
            xs = np.array([x[corpus == c].mean() for c in range(corpus.max() + 1)])
            ds = np.array([d[corpus == c].mean() for c in range(corpus.max() + 1)])
            for name, (a, b) in (("15 runs", (x, d)), ("5 corpora (runs averaged)", (xs, ds))):
                est = ranks.spearman_ci(a, b)
                hits[name][0] += est.lo > 0
                hits[name][1] += est.hi < 0
        for name, (ag, co) in hits.items():
            print(f"| {100 * share:.0f}% | {name} | {100 * ag / args.reps:.1f} | {100 * co / args.reps:.1f} |")
    claim = dict(kind="direction", direction=1, threshold=0.0, margin=None)
    words = {verdicts.decide(lo, hi, **claim) for lo, hi in ranks.spearman_reach(5).intervals}
    null = ranks._untied_null(5)
    print(f"\nReach at 5 corpora: {sorted(words)}; smallest two-sided p = {2 * np.mean(null >= null.max() - 1e-9):.4f}"
          f" (Holm over a page of 7 rows needs it below 0.05 / 7 = {0.05 / 7:.4f} when it ranks first)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
