"""Figure 14: the dose study's parameters and arms, its cost plan, and its verdict rows on synthetic runs
(the three claims per student and task, the replay margin the regime pilot's, the rows' regime without a
rate)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from resurface.errors import ParameterError
from resurface.evidence import claims, dose as ev
from resurface.evidence.verdicts import AGREES, INCONCLUSIVE
from resurface.study import dose, profiles
from resurface.study.regime import REPLAY_MARGIN_REL

SUITE, TASK, METRIC = "course-continuous", "rs_completion", "logp_gold_norm,none"


def test_a_rate_is_the_students_own_entry_and_the_recipe_is_figures_2_and_3s():
    P = profiles.load("course", "fig14")
    q = dose.dose_params(P, "gemma3-270m", 3e-5)
    assert profiles.lr_for(q, "gemma3-270m") == 3e-5 and profiles.lr_for(q, "smollm2-135m") == P["lr"]
    names = [c.name for c in dose.dose_conditions(q, "gemma3-270m")]
    assert names == [f"self@{P['dose_temperature']:g}", "replay"]
    assert dose.arm("replay", 3e-5) == "replay|3e-05"
    # the grid's ends are the regime pilot's: the chosen SmolLM2 rate and Gemma-3's kept rate
    assert set(P["dose_lrs"]) == {P["lr"], P["lr_by_model"]["gemma3-270m"]}


def test_a_grid_of_one_rate_is_refused_before_any_work():
    with pytest.raises(ParameterError, match="dose_lrs"):
        profiles.resolve("smoke", "fig14", {"dose_lrs": [1e-3]})
    with pytest.raises(ParameterError, match="dose_lrs"):
        profiles.resolve("smoke", "fig14", {"dose_lrs": [1e-3, 1e-3]})


def _items(rng, effects: dict[str, float], runs: int = 3, n_items: int = 30) -> pd.DataFrame:
    """Per-item values of one student's arms: ``effects`` maps an arm to its true Δ against the base."""
    base = rng.normal(-1.2, 0.2, n_items)
    rows = []
    for a, eff in effects.items():
        for r in range(runs):
            shift = eff + rng.normal(0, 0.005)
            for e, vals in ((0, base), (1, base + shift + rng.normal(0, 0.01, n_items))):
                rows += [{"run": f"{a}-{r}", "epoch": e, "suite": SUITE, "task": TASK, "item": i, "metric": METRIC,
                          "value": float(v), "condition": a, "subset": r, "student": "smollm2-135m",
                          "role": "student"} for i, v in enumerate(vals)]
    return pd.DataFrame(rows)


def test_the_three_claims_give_one_row_each_per_student_and_task():
    P = {**profiles.load("course", "fig14"), "epochs": 1}
    low, high = sorted(P["dose_lrs"])
    s = f"self@{P['dose_temperature']:g}"
    items = _items(np.random.default_rng(0), {dose.arm("replay", low): 0.0, dose.arm("replay", high): -0.3,
                                              dose.arm(s, low): 0.02, dose.arm(s, high): -0.25})
    pairs = [(TASK, METRIC, "Sentence completion")]
    table = ev.verdict_table(P, items, pairs)
    got = dict(zip(table["claim_id"], table["verdict"]))
    assert got == {"dose_replay_gentle": AGREES, "dose_replay_harm": AGREES, "dose_self_gentler": AGREES}
    gentle = table[table["claim_id"] == "dose_replay_gentle"].iloc[0]
    base = items[items["epoch"] == 0].groupby("item")["value"].mean().mean()
    assert gentle["margin"] == pytest.approx(REPLAY_MARGIN_REL * abs(base))
    assert all(" lr " not in r for r in table["regime"])  # the rate is in each row's label, not its regime
    assert all("SmolLM2" in m for m in table["metric"]) and all(claims.CLAIMS[c].whose == "book" for c in got)
    # a dose that does nothing: replay at the high rate stays at 0, so the harm row cannot agree
    flat = _items(np.random.default_rng(1), {dose.arm("replay", low): 0.0, dose.arm("replay", high): 0.0,
                                             dose.arm(s, low): 0.0, dose.arm(s, high): 0.0})
    flat_rows = ev.verdict_table(P, flat, pairs)
    assert set(flat_rows.loc[flat_rows["claim_id"] != "dose_replay_gentle", "verdict"]) == {INCONCLUSIVE}
