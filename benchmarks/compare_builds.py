"""Do two builds of the book agree within their intervals? (issue 29: a stand-in for another machine)

Two course books built with different seeds (every random stage drawn again: samples, subsets,
plantings, benchmark items, Figure 13's world) are two honest replications of the same study. If
each row's interval carries every random stage the row's runs share, then for a row measured with
similar precision in both builds:

- the two intervals overlap in about 99% of rows (two independent 95% intervals of equal width miss
  each other only when the estimates differ by more than 2 × 1.96 SE: P(|N(0, 1)| > 2.77) = 0.6%);
- each estimate lies inside the other build's interval in about 83% of rows (the estimates differ by
  N(0, 2 SE²): P(|N(0, 1)| < 1.96 / √2) = 0.83);
- the same verdict word is not expected row by row: an inconclusive row can tip either way.

Intervals that leave a shared stage out are too narrow for the spread between builds, and both rates
fall (the one-planting Figure 8 of two machines: 0.258 [0.212, 0.304] against 0.038 [0.014, 0.062]).

    python benchmarks/compare_builds.py A/book/_generated/course/verdicts.csv B/.../verdicts.csv

prints the rates with exact binomial intervals over the rows, the rows whose intervals miss each other,
and the verdict words side by side.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

KEY = ["figure", "claim_id", "metric"]
EXPECTED_OVERLAP = float(1 - 2 * stats.norm.sf(2 * stats.norm.ppf(0.975) / np.sqrt(2)))
EXPECTED_INSIDE = float(1 - 2 * stats.norm.sf(stats.norm.ppf(0.975) / np.sqrt(2)))


def paired_rows(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """The rows both builds have (matched on figure, claim and row label) with finite intervals."""
    m = a.merge(b, on=KEY, suffixes=("_a", "_b"))
    ok = np.isfinite(m[["estimate_a", "lo_a", "hi_a", "estimate_b", "lo_b", "hi_b"]].astype(float)).all(axis=1)
    return m[ok].reset_index(drop=True)


def agreement(m: pd.DataFrame) -> pd.DataFrame:
    """Per row: whether the intervals overlap and whether each estimate lies in the other's interval."""
    out = m.copy()
    out["overlap"] = (out["lo_a"] <= out["hi_b"]) & (out["lo_b"] <= out["hi_a"])
    out["b_in_a"] = out["estimate_b"].between(out["lo_a"], out["hi_a"])
    out["a_in_b"] = out["estimate_a"].between(out["lo_b"], out["hi_b"])
    return out


def rate(x: pd.Series) -> str:
    k, n = int(x.sum()), int(x.size)
    if n == 0:
        return "no rows"
    ci = stats.binomtest(k, n).proportion_ci(0.95)
    return f"{k}/{n} = {k / n:.1%} [{ci.low:.1%}, {ci.high:.1%}]"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    args = ap.parse_args()
    a, b = pd.read_csv(args.a), pd.read_csv(args.b)
    m = agreement(paired_rows(a, b))
    print(f"rows: {len(a)} in A, {len(b)} in B, {len(m)} in both with finite intervals")
    print(f"intervals overlap:            {rate(m['overlap'])}   (expected about {EXPECTED_OVERLAP:.1%})")
    inside = pd.concat([m["b_in_a"], m["a_in_b"]], ignore_index=True)
    print(f"estimate in the other's CI:   {rate(inside)}   (expected about {EXPECTED_INSIDE:.0%})")
    same = m["verdict_a"] == m["verdict_b"]
    print(f"same verdict word:            {rate(same)}")
    print("\nverdict words, A (rows) by B (columns):")
    print(pd.crosstab(m["verdict_a"], m["verdict_b"]).to_string())
    print("\nper figure: overlap, estimate in the other's CI")
    for fig, g in m.groupby("figure", sort=False):
        ins = pd.concat([g["b_in_a"], g["a_in_b"]], ignore_index=True)
        print(f"  {fig:7s} {rate(g['overlap']):32s} {rate(ins)}")
    miss = m[~m["overlap"]]
    if len(miss):
        print("\nrows whose intervals miss each other:")
        for r in miss.itertuples(index=False):
            print(f"  {r.figure} {r.claim_id} {r.metric}: A {r.estimate_a:+.3f} [{r.lo_a:+.3f}, {r.hi_a:+.3f}]"
                  f"  B {r.estimate_b:+.3f} [{r.lo_b:+.3f}, {r.hi_b:+.3f}]")
    f8 = m[m["figure"] == "Fig 8"]
    for r in f8.itertuples(index=False):
        print(f"\nFig 8 {r.metric}: A {r.estimate_a:.3f} [{r.lo_a:.3f}, {r.hi_a:.3f}] ({r.verdict_a}); "
              f"B {r.estimate_b:.3f} [{r.lo_b:.3f}, {r.hi_b:.3f}] ({r.verdict_b})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
