"""Calibration of the verdict procedures by simulation (issue 29): per claim kind, design and noise
regime, how often the interval excludes a true null (size), how often it covers the truth (coverage),
and, for equivalence and non-inferiority, how often a true effect exactly on the margin is called
*agrees* (must be at most 2.5%) or *contradicts*.

    .venv/bin/python benchmarks/sim_verdicts.py --reps 4000          # the table in benchmarks/RESULTS.md
    .venv/bin/python benchmarks/sim_verdicts.py --reps 300 --only direction

``tests/test_calibration.py`` runs the same cells with fewer replications. Everything is seeded.

Models (EVIDENCE.md's crossed design). Per-item Δ of condition c, run s, item i:
``μ_c + u(c, i) + b(c, s) + e(c, s, i)``, items drawn afresh in every study, item effects correlated
0.7 across conditions. A regime fixes each term's share of the estimate's variance at the design
(3 runs x 12 items for the course, 3 runs x 1,000 items for the paper) and the noise family (normal, or
Student t with 3 df scaled to unit variance). Figure 8's drop: 120 extracted sequences of 150 (course)
or 800 of 1,000 (paper), 3 runs, each sequence surviving a run with probability p_j, p_j equal for all
(independent) or Beta-distributed with mean 0.05 (clustered: a sequence that survives once tends to
survive again). Spearman: 5 or 8 corpora from a Gaussian copula, or a bivariate t (3 df) copula.
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from resurface.evidence.extraction import relative_drop_clustered  # noqa: E402
from resurface.evidence.paired import contrast_arrays  # noqa: E402
from resurface.evidence.ranks import spearman_ci  # noqa: E402
from resurface.evidence.verdicts import AGREES, CONTRADICTS, decide  # noqa: E402

RHO_U = 0.7
DESIGNS = {"course": (3, 12), "paper": (3, 1000)}
# regime -> ((share of SE^2 from runs, items, residual), noise family)
REGIMES = {
    "run-dominated": ((0.80, 0.15, 0.05), "normal"),
    "item-dominated": ((0.05, 0.80, 0.15), "normal"),
    "heavy-tailed": ((0.60, 0.30, 0.10), "t3"),
}
SEQUENCES = {"course": (150, 120), "paper": (1000, 800)}
DROP_REGIMES = {"independent": None, "clustered": 1.0}  # Beta concentration a + b (None: no spread)
SPEARMAN = {"course": 5, "paper": 8}
COPULAS = ("gaussian", "t3")


@dataclass(frozen=True)
class Cell:
    """One row of the calibration table (rates in [0, 1]; NaN where a column does not apply)."""

    kind: str
    statistic: str
    design: str
    regime: str
    reps: int
    size: float  # the interval excludes the true null (agrees + contradicts at zero effect)
    coverage: float  # the interval covers the true value (at the effect the row states)
    agrees_at_margin: float = math.nan
    contradicts_at_margin: float = math.nan

    @property
    def mc_se(self) -> float:
        """Monte-Carlo SE of a 5% rate with this many replications."""
        return math.sqrt(0.05 * 0.95 / self.reps)


def _noise(rng: np.random.Generator, shape, family: str) -> np.ndarray:
    if family == "normal":
        return rng.standard_normal(shape)
    return rng.standard_t(3, shape) / math.sqrt(3.0)  # unit variance


def _sigmas(shares, n_s: int, n_i: int, contrast: bool) -> tuple[float, float, float]:
    """Per-term SDs that give the estimate a variance of 1 split by ``shares``."""
    fb, fu, fe = shares
    k = 2.0 if contrast else 1.0
    item_factor = k * (1 - RHO_U) if contrast else 1.0
    return math.sqrt(fb * n_s / k), math.sqrt(fu * n_i / item_factor), math.sqrt(fe * n_s * n_i / k)


def _mats(rng, sig, n_s: int, n_i: int, family: str, effect: float, contrast: bool) -> dict[str, np.ndarray]:
    sb, su, se = sig
    if not contrast:
        D = effect + su * _noise(rng, (1, n_i), family) + sb * _noise(rng, (n_s, 1), family) \
            + se * _noise(rng, (n_s, n_i), family)
        return {"A": D}
    z = _noise(rng, (2, n_i), family)
    u = {"A": su * z[0], "B": su * (RHO_U * z[0] + math.sqrt(1 - RHO_U ** 2) * z[1])}
    mu = {"A": effect, "B": 0.0}
    return {c: mu[c] + u[c][None, :] + sb * _noise(rng, (n_s, 1), family) + se * _noise(rng, (n_s, n_i), family)
            for c in ("A", "B")}


def per_item_cell(kind: str, design: str, regime: str, reps: int, seed: int = 0) -> Cell:
    """A direction, equivalence or non-inferiority claim on the per-item t interval. Equivalence and
    direction test a contrast A − B; non-inferiority a single Δ against the base (Figure 7). The margin
    is 2 true SEs; the true SE is 1 by construction."""
    n_s, n_i = DESIGNS[design]
    shares, family = REGIMES[regime]
    contrast = kind != "noninferiority"
    sig = _sigmas(shares, n_s, n_i, contrast)
    w = {"A": 1.0, "B": -1.0} if contrast else {"A": 1.0}
    margin = 2.0
    rng = np.random.default_rng(seed)
    excl = cov = ag = co = 0
    for _ in range(reps):
        e0 = contrast_arrays(_mats(rng, sig, n_s, n_i, family, 0.0, contrast), w)
        excl += e0.excludes_null
        if kind == "direction":  # coverage at a planted effect of 2 SE
            e1 = contrast_arrays(_mats(rng, sig, n_s, n_i, family, 2.0, contrast), w)
            cov += e1.lo <= 2.0 <= e1.hi
            continue
        truth = margin if kind == "equivalence" else -margin
        e1 = contrast_arrays(_mats(rng, sig, n_s, n_i, family, truth, contrast), w)
        cov += e1.lo <= truth <= e1.hi
        label = decide(e1.lo, e1.hi, kind=kind, threshold=0.0, margin=margin)
        ag += label == AGREES
        co += label == CONTRADICTS
    stat = "Δ_A − Δ_B" if contrast else "Δ vs base"
    return Cell(kind, f"{stat}, t interval", design, regime, reps, excl / reps, cov / reps,
                ag / reps if kind != "direction" else math.nan, co / reps if kind != "direction" else math.nan)


def drop_cell(design: str, regime: str, reps: int, seed: int = 0, truth: float = 0.95,
              method: str = "exact", B: int = 1000) -> Cell:
    """The threshold claim of Figure 8 (drop > 95%) at a true drop of exactly 95%: "agrees" or
    "contradicts" is a false positive; coverage of the true drop by the clustered bootstrap."""
    n, k0 = SEQUENCES[design]
    runs = 3
    conc = DROP_REGIMES[regime]
    before = np.zeros(n, bool)
    before[:k0] = True
    rng = np.random.default_rng(seed)
    fired = cov = 0
    for r in range(reps):
        p = np.full(k0, 1 - truth) if conc is None else rng.beta((1 - truth) * conc, truth * conc, k0)
        after = np.zeros((n, runs), bool)
        after[:k0] = rng.random((k0, runs)) < p[:, None]
        e = relative_drop_clustered(before, after, null=truth, method=method, B=B, seed=r)
        label = decide(e.lo, e.hi, kind="threshold", threshold=truth)
        fired += label in (AGREES, CONTRADICTS)
        cov += e.lo <= truth <= e.hi
    how = "Korn-Graubard CP" if method == "exact" else "bootstrap over sequences"
    return Cell("threshold", f"Fig 8 drop, {how}", design, regime, reps, fired / reps, cov / reps)


def _pairs(rng, n: int, rho_s: float, copula: str) -> tuple[np.ndarray, np.ndarray]:
    if copula == "gaussian":
        r = 2 * math.sin(math.pi * rho_s / 6)  # Pearson r of the Gaussian copula with Spearman rho_s
        z = rng.standard_normal((2, n))
        return z[0], r * z[0] + math.sqrt(1 - r * r) * z[1]
    # bivariate t (3 df) with the same Pearson r: heavier joint tails, a different copula; its
    # Spearman rho is computed by simulation in spearman_truth()
    r = 2 * math.sin(math.pi * rho_s / 6)
    z = rng.standard_normal((2, n))
    g = np.sqrt(rng.chisquare(3, n) / 3)
    return z[0] / g, (r * z[0] + math.sqrt(1 - r * r) * z[1]) / g


def spearman_truth(rho_s: float, copula: str, n_draws: int = 400_000, seed: int = 99) -> float:
    """The population Spearman ρ of :func:`_pairs` (exact for the Gaussian copula)."""
    if copula == "gaussian" or rho_s == 0:
        return rho_s
    from scipy import stats as st

    x, y = _pairs(np.random.default_rng(seed), n_draws, rho_s, copula)
    return float(st.spearmanr(x, y).statistic)


@functools.lru_cache(maxsize=8)
def _param_for(target: float, copula: str) -> float:
    """The :func:`_pairs` parameter whose population Spearman ρ is ``target`` (bisection)."""
    if copula == "gaussian":
        return target
    lo, hi = 0.0, 0.99
    for _ in range(14):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if spearman_truth(mid, copula, 200_000) < target else (lo, mid)
    return (lo + hi) / 2


def spearman_cell(design: str, copula: str, reps: int, seed: int = 0, margin: float = 0.5) -> Cell:
    """The proxy claims (equivalence of Spearman ρ with 0, margin 0.5) over 5 or 8 corpora: size at
    ρ = 0, coverage and false *agrees* at a true ρ exactly on the margin."""
    n = SPEARMAN[design]
    rng = np.random.default_rng(seed)
    param = _param_for(margin, copula)  # the t copula's parameter is not its Spearman ρ: aim at the margin
    excl = cov = ag = co = 0
    for _ in range(reps):
        e0 = spearman_ci(*_pairs(rng, n, 0.0, copula))
        excl += e0.excludes_null
        e1 = spearman_ci(*_pairs(rng, n, param, copula))
        cov += e1.lo <= margin <= e1.hi
        label = decide(e1.lo, e1.hi, kind="equivalence", threshold=0.0, margin=margin)
        ag += label == AGREES
        co += label == CONTRADICTS
    return Cell("equivalence", f"Spearman ρ, {n} corpora", design, f"{copula} copula", reps, excl / reps,
                cov / reps, ag / reps, co / reps)


def run_all(reps: int, only: str | None = None, seed: int = 0) -> list[Cell]:
    """Every cell of the table (``only``: one kind, or "spearman")."""
    cells: list[Cell] = []
    for kind in ("direction", "equivalence", "noninferiority"):
        if only in (None, kind):
            for design in DESIGNS:
                for regime in REGIMES:
                    cells.append(per_item_cell(kind, design, regime, reps, seed))
    if only in (None, "threshold"):
        for design in SEQUENCES:
            for regime in DROP_REGIMES:
                for method in ("exact", "bootstrap"):
                    cells.append(drop_cell(design, regime, max(reps // 4, 50), seed, method=method))
    if only in (None, "spearman"):
        for design in SPEARMAN:
            for cop in COPULAS:
                cells.append(spearman_cell(design, cop, max(reps // 4, 50), seed))
    return cells


def table(cells: list[Cell]) -> str:
    """A markdown table of the cells (percentages)."""
    def pct(x: float) -> str:
        return "–" if math.isnan(x) else f"{100 * x:.1f}"

    head = ("| kind | statistic | design | regime | studies | size at zero effect (%) | coverage (%) "
            "| agrees at margin (%) | contradicts at margin (%) | MC SE of 5% |\n"
            "|---|---|---|---|---|---|---|---|---|---|")
    rows = [f"| {c.kind} | {c.statistic} | {c.design} | {c.regime} | {c.reps} | {pct(c.size)} | {pct(c.coverage)} "
            f"| {pct(c.agrees_at_margin)} | {pct(c.contradicts_at_margin)} | {100 * c.mc_se:.1f} |" for c in cells]
    return "\n".join([head, *rows])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=2000, help="simulated studies per per-item cell "
                                                          "(a quarter of them for the drop and Spearman cells)")
    ap.add_argument("--only", choices=["direction", "equivalence", "noninferiority", "threshold", "spearman"])
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    print(table(run_all(a.reps, a.only, a.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
