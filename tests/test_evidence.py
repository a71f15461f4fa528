"""Per-item evidence of the transfer figures: bands and verdict rows from runs' per-item files."""

from __future__ import annotations

import pandas as pd
import pytest

from resurface.evidence import contrasts, findings
from resurface.errors import ParameterError
from fakes import item_runs

TASKS = [("rs_mc", "logp_gold_norm,none", "Multiple choice (0-shot)"), ("rs_math_bpb", "neg_bpb,none", "Math (0-shot)")]


def _runs(tmp_path, effect: dict[str, float], **kw) -> pd.DataFrame:
    return item_runs(tmp_path, effect, TASKS, **kw)


def test_a_planted_gain_agrees_and_no_gain_is_inconclusive(tmp_path):
    results = _runs(tmp_path, {"self@0.75": 0.05, "self@1.25": 0.05, "replay": 0.0})
    items = contrasts.run_items(results)
    assert set(items["condition"]) == {"self@0.75", "self@1.25", "replay"}
    rows = contrasts.transfer_rows("fig02", items, "course", TASKS, ["self@0.75", "self@1.25", "replay"])
    table = contrasts.page_verdicts(rows)
    assert len(table) == 2 and (table["verdict"] == "agrees with the paper").all()
    assert table["estimate"].between(0.03, 0.07).all() and (table["n_subsets"] == 3).all()
    null = _runs(tmp_path / "null", {"self@1.25": 0.0, "replay": 0.0}, seed=1)
    t0 = contrasts.page_verdicts(contrasts.transfer_rows("fig02", contrasts.run_items(null), "course", TASKS,
                                                       ["self@1.25", "replay"]))
    assert (t0["verdict"] != "agrees with the paper").all()
    text = findings.verdict_section(table)
    assert "2 agrees with the paper" in text and "| self gt replay | Multiple choice" in text


def test_a_replay_win_contradicts(tmp_path):
    results = _runs(tmp_path, {"self@1.25": -0.05, "replay": 0.05})
    table = contrasts.page_verdicts(contrasts.transfer_rows("fig02", contrasts.run_items(results), "course", TASKS,
                                                          ["self@1.25", "replay"]))
    assert (table["verdict"] == "contradicts the paper").all()


def test_bands_start_at_zero_and_bracket_the_estimate(tmp_path):
    results = _runs(tmp_path, {"self@1.25": 0.05, "replay": 0.0}, epochs=3)
    items = contrasts.run_items(results)
    bands = contrasts.delta_bands(items, "course", [(t, m) for t, m, _ in TASKS], ["self@1.25", "replay"])
    assert len(bands) == 2 * 2 * 4  # tasks x conditions x epochs 0-3
    zero = bands[bands["epoch"] == 0]
    assert (zero[["estimate", "lo", "hi"]] == 0).all().all()
    later = bands[bands["epoch"] > 0]
    assert ((later["lo"] < later["estimate"]) & (later["estimate"] < later["hi"])).all()
    top = later[(later["condition"] == "self@1.25") & (later["epoch"] == 3)]
    assert (top["lo"] > 0).all()


def test_a_claim_whose_conditions_did_not_run_gives_no_row(tmp_path):
    items = contrasts.run_items(_runs(tmp_path, {"self@1": 0.0, "cross@1": 0.0}, n_items=20))
    rows = contrasts.transfer_rows("fig05", items, "course", TASKS, ["self@1", "cross@1"])
    assert {r.claim_id for r in rows} == {"self_gt_cross"}  # no same-lineage or different-recipe source


def test_panels_follow_the_profile_metric():
    cont = contrasts.panels("course", "continuous")
    assert {m for _, m, _ in cont} == set(contrasts.CONTINUOUS_METRICS)
    paper = contrasts.panels("course", "paper")
    assert paper and not {m for _, m, _ in paper} & set(contrasts.CONTINUOUS_METRICS)
    with pytest.raises(ParameterError, match="evidence_metric"):
        contrasts.panels("course", "accuracy")
    with pytest.raises(ParameterError, match="run_path"):
        contrasts.run_items(pd.DataFrame({"condition": ["x"]}))
