"""Calibration of the verdicts by simulation (issue 29), the fast version of benchmarks/sim_verdicts.py:
per claim kind, at the course design (3 runs x 12 items) and a paper-like one (3 runs x 1,000 items),
under run-dominated, item-dominated and heavy-tailed (t, 3 df) noise:

- size: a true null is called *agrees* or *contradicts* at most 5% of the time (plus Monte-Carlo error);
- coverage of the 95% interval: 93-97% (plus Monte-Carlo error); the Spearman and extraction intervals
  are exact-type intervals of a discrete statistic, conservative by construction, so only their lower
  bound is held;
- equivalence and non-inferiority: a true effect exactly on the margin is called *agrees* at most 2.5%
  of the time (plus Monte-Carlo error).

Seeded; the tolerances are the targets plus 2.5 Monte-Carlo standard errors of the rate being checked.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import zlib
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "sim_verdicts", Path(__file__).resolve().parents[1] / "benchmarks" / "sim_verdicts.py")
sim = importlib.util.module_from_spec(_spec)
sys.modules["sim_verdicts"] = sim
_spec.loader.exec_module(sim)

REPS = 300  # per-item cells
REPS_SMALL = 200  # Spearman and extraction cells (each study is dearer)


def mc(rate: float, reps: int) -> float:
    """2.5 Monte-Carlo standard errors of a rate."""
    return 2.5 * math.sqrt(rate * (1 - rate) / reps)


def check(cell, *, coverage_upper: bool = True) -> None:
    r = cell.reps
    assert cell.size <= 0.05 + mc(0.05, r), f"size {cell}"
    assert cell.coverage >= 0.93 - mc(0.07, r), f"coverage {cell}"
    if coverage_upper:
        assert cell.coverage <= 0.97 + mc(0.03, r), f"over-coverage {cell}"
    if not math.isnan(cell.agrees_at_margin):
        assert cell.agrees_at_margin <= 0.025 + mc(0.025, r), f"false agrees at the margin {cell}"
        assert cell.contradicts_at_margin <= 0.025 + mc(0.025, r), f"false contradicts at the margin {cell}"


@pytest.mark.parametrize("design", list(sim.DESIGNS))
@pytest.mark.parametrize("regime", list(sim.REGIMES))
@pytest.mark.parametrize("kind", ["direction", "equivalence", "noninferiority"])
def test_per_item_verdicts_are_calibrated(kind, regime, design):
    check(sim.per_item_cell(kind, design, regime, REPS, seed=zlib.crc32(f"{kind}|{regime}|{design}".encode())))


@pytest.mark.parametrize("design", list(sim.SEQUENCES))
@pytest.mark.parametrize("regime", list(sim.DROP_REGIMES))
def test_extraction_threshold_verdict_is_calibrated(regime, design):
    """Figure 8's "drop > 95%" at a true drop of exactly 95%, sequences as clusters of runs."""
    check(sim.drop_cell(design, regime, REPS_SMALL, seed=7), coverage_upper=False)


@pytest.mark.parametrize("design", list(sim.SPEARMAN))
@pytest.mark.parametrize("copula", sim.COPULAS)
def test_spearman_equivalence_is_calibrated(design, copula):
    """The proxy claims (|ρ| < 0.5) over 5 or 8 corpora: size at ρ = 0, coverage and false agrees at
    ρ = 0.5."""
    check(sim.spearman_cell(design, copula, REPS_SMALL, seed=11), coverage_upper=False)
