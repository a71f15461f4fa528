"""Per-item evidence of the transfer figures: bands and verdict rows from runs' per-item files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from resurface.evidence import claims, contrasts, findings
from resurface.errors import ParameterError
from fakes import item_runs

TASKS = [("rs_mc", "logp_gold_norm,none", "Multiple choice (0-shot)"), ("rs_math_bpb", "neg_bpb,none", "Math (0-shot)")]


def _runs(tmp_path, effect: dict[str, float], **kw) -> pd.DataFrame:
    return item_runs(tmp_path, effect, TASKS, **kw)


COURSE = {"profile": "course", "student": "smollm2-135m", "tokens_per_subset": 1024, "epochs": 2, "lr": 3e-4}


def _table(items, fig, conditions, P=COURSE):
    rows = contrasts.transfer_rows(fig, items, "course", TASKS, conditions, planned_epochs=P["epochs"])
    return contrasts.annotate(contrasts.page_verdicts(rows.rows), P, rows.meta)


def test_a_planted_gain_agrees_and_no_gain_is_inconclusive(tmp_path):
    results = _runs(tmp_path, {"self@0.75": 0.1, "self@1.25": 0.1, "replay": 0.0})
    items = contrasts.run_items(results)
    assert set(items["condition"]) == {"self@0.75", "self@1.25", "replay"}
    # 'transient' is a time course: testable only with the epochs that could show it fade
    four = dict(COURSE, epochs=claims.TIME_COURSE_EPOCHS)
    table = _table(items, "fig02", ["self@0.75", "self@1.25", "replay"], four)
    assert set(table["claim_id"]) == {"self_gain_transient", "self_gt_replay"} and len(table) == 4
    assert (table["verdict"] == "agrees with the paper").all()
    short = _table(items, "fig02", ["self@0.75", "self@1.25", "replay"])
    transient = short[short["claim_id"] == "self_gain_transient"]
    assert (transient["verdict"] == "not testable here").all() and transient["note"].str.contains("(2 epochs)").all()
    assert (table["window"] == "epoch 1 (early)").all()  # first quarter of 2 planned epochs, not the last
    assert table["estimate"].between(0.03, 0.07).all() and (table["n_subsets"] == 3).all()
    null = _runs(tmp_path / "null", {"self@1.25": 0.0, "replay": 0.0}, seed=1)
    t0 = _table(contrasts.run_items(null), "fig02", ["self@1.25", "replay"], four)
    assert (t0["verdict"] != "agrees with the paper").all()
    text = findings.verdict_section(table)
    assert text.count("2 agrees with the paper") == 2 and "| self gt replay | ARC-Challenge ← Multiple choice" in text
    assert "This book at course scale (SmolLM2-135M-Instruct, an instruction-tuned student, lr 3e-4, 1,024 tokens per run, 4 epochs, fp32)" in text
    assert "Verdict at course scale" in text and "| **agrees with the paper** [1] |" in text


def test_a_replay_win_contradicts(tmp_path):
    results = _runs(tmp_path, {"self@1.25": -0.1, "replay": 0.1})
    table = _table(contrasts.run_items(results), "fig02", ["self@1.25", "replay"])
    t = table[table["claim_id"] == "self_gt_replay"]
    assert len(t) == 2 and (t["verdict"] == "contradicts the paper").all()
    assert t["words"].str.startswith("contradicts the paper's claim at course scale (").all()


def _transient(n_items=60, subsets=3, epochs=4, seed=0):
    """Per-item values of a gain that appears early and is gone (below the replay) by the last epoch."""
    rng = np.random.default_rng(seed)
    base = rng.normal(-1, 0.5, n_items)
    move = {"self@1.25": [0, 0.1, 0.05, 0.0, -0.05], "replay": [0] * 5}
    rows = []
    for cond, m in move.items():
        for s in range(subsets):
            for e in range(epochs + 1):
                v = base + m[e] + (rng.normal(0, 0.01, n_items) if e else 0)
                rows += [{"suite": "course", "task": "rs_math_bpb", "metric": "neg_bpb,none", "item": i, "epoch": e,
                          "value": x, "condition": cond, "subset": s, "student": "smollm2-135m"}
                         for i, x in enumerate(v)]
    return pd.DataFrame(rows)


def test_a_transient_gain_is_tested_on_the_early_window_not_the_last_epoch():
    """Defect 8: contrasts used to be taken at the last epoch, after the paper says its gains faded."""
    items = _transient()
    pairs = [("rs_math_bpb", "neg_bpb,none", "Math")]
    rows = contrasts.transfer_rows("fig02", items, "course", pairs, ["self@1.25", "replay"], planned_epochs=4)
    t = contrasts.page_verdicts(rows.rows)
    assert (t["verdict"] == "agrees with the paper").all() and [m["window"] for m in rows.meta] == ["epoch 1 (early)"] * 2
    late = contrasts.window_contrast(items, "course", "rs_math_bpb", "neg_bpb,none", ["self@1.25"], ["replay"], [4])
    assert late.hi < 0  # at the last epoch the same runs would have 'contradicted'


def test_rows_only_for_the_benchmarks_a_claim_names(tmp_path):
    """Defect 8: rows were made for every benchmark of a suite; Fig 3's no-maths-gain claim names GSM8K
    and Minerva-MATH only (Minerva has no course stand-in), its code claim HumanEval only."""
    tasks = TASKS + [("rs_completion", "logp_gold_norm,none", "Completion"), ("rs_code_bpb", "neg_bpb,none", "Code")]
    items = contrasts.run_items(item_runs(tmp_path, {"self@1.25": 0.0, "replay": 0.0}, tasks))
    rows = contrasts.transfer_rows("fig03", items, "course", tasks, ["self@1.25", "replay"], planned_epochs=2)
    got = {(r.claim_id, m["task"]) for r, m in zip(rows.rows, rows.meta)}
    assert got == {("second_no_math_gain", "rs_math_bpb"), ("second_code_drop", "rs_code_bpb")} | set()
    assert sum(r.claim_id == "second_no_math_gain" for r in rows.rows) == 2  # one per condition
    assert not any(r.claim_id == "self_gt_replay" for r in rows.rows)  # Fig 2's claim is not Fig 3's


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
    assert {r.claim_id for r in rows.rows} == {"self_gt_cross"}  # no same-lineage or different-recipe source


def test_panels_follow_the_profile_metric():
    cont = contrasts.panels("course", "continuous")
    assert {m for _, m, _ in cont} == set(contrasts.CONTINUOUS_METRICS)
    paper = contrasts.panels("course", "paper")
    assert paper and not {m for _, m, _ in paper} & set(contrasts.CONTINUOUS_METRICS)
    with pytest.raises(ParameterError, match="evidence_metric"):
        contrasts.panels("course", "accuracy")
    with pytest.raises(ParameterError, match="run_path"):
        contrasts.run_items(pd.DataFrame({"condition": ["x"]}))


def _extraction_items(n_seq: int, runs: int, survivors: int, extracted_before: int) -> pd.DataFrame:
    """Figure 8's per-item rows: ``n_seq`` planted sequences, the same ones in every run; at the base
    ``extracted_before`` are extracted, after training ``survivors`` of them still are, in every run."""
    rows = []
    for s in range(runs):
        for i in range(n_seq):
            for epoch, value in ((0, i < extracted_before), (1, i < survivors)):
                rows.append({"condition": "self@1", "subset": s, "suite": "memorization", "task": "text",
                             "metric": "extracted", "epoch": epoch, "item": f"seq-{i}", "value": float(value)})
    return pd.DataFrame(rows)


def test_fig8_drop_counts_sequences_as_clusters_not_sequence_run_rows():
    """150 sequences x 3 runs, 3 that survive every run: the runs of one sequence are not independent
    trials, so the interval is wider than 450 independent rows would give ([0.959, 0.989]) and the row
    says 150 sequences and 3 runs."""
    row = contrasts.extraction_rows(_extraction_items(150, 3, 3, 150), ["self@1"])[0]
    assert (row.n_items, row.n_subsets) == (150, 3)
    assert row.estimate == pytest.approx(0.98)
    assert row.lo < 0.95 < row.hi  # 450 independent rows would put the whole interval above 0.95
    counts = contrasts.extraction_counts(_extraction_items(150, 3, 3, 150))
    last = counts[counts["epoch"] == 1].iloc[0]
    assert (last["sequences"], last["runs"], last["extracted"]) == (150, 3, 9)
    assert last["share_hi"] > 0.05  # Clopper-Pearson over 450 rows: 0.038


def _planting_items(survival: list[float], n_seq: int = 40) -> pd.DataFrame:
    """Figure 8's rows with one planting per run: planting p has its own ``n_seq`` sequences (item ids
    repeat across plantings, as each pool numbers its own), all extracted at its base, and the first
    ``survival[p] * n_seq`` still extracted after training."""
    rows = []
    for p, s in enumerate(survival):
        for i in range(n_seq):
            for epoch, value in ((0, True), (1, i < round(s * n_seq))):
                rows.append({"condition": "self@1", "subset": p, "planting": p, "suite": "memorization",
                             "task": "text", "metric": "extracted", "epoch": epoch, "item": i,
                             "value": float(value)})
    return pd.DataFrame(rows)


def test_fig8_with_plantings_takes_each_planting_as_a_cluster():
    """Three plantings whose drops differ (0.9, 0.5, 0.1): pooled as if every run tested the same
    sequences, the item ids would be paired across plantings and the interval would be that of 40
    sequences; with plantings as clusters it is wide, says '3 plantings × 40 sequences × 1 run', and
    cannot settle the 95% claim either way."""
    items = _planting_items([0.1, 0.5, 0.9])
    row = contrasts.extraction_rows(items, ["self@1"])[0]
    assert row.estimate == pytest.approx(0.5)
    assert (row.n_items, row.n_subsets) == (120, 3)
    assert row.lo < 0.2 and row.hi > 0.8
    counts = contrasts.extraction_counts(items)
    last = counts[counts["epoch"] == 1].iloc[0]
    assert (last["sequences"], last["runs"], last["extracted"]) == (120, 3, 60)
    assert last["design"] == "3 plantings × 40 sequences × 1 run"
    # the same counts with the planting column dropped: pooled on item ids, a far narrower interval
    pooled = contrasts.extraction_rows(items.drop(columns="planting"), ["self@1"])[0]
    assert pooled.hi - pooled.lo < row.hi - row.lo


def test_runs_with_own_bases_are_measured_against_them():
    """Figure 7 with plantings: run 0's base scores 1.0 on an item and run 1's 3.0; both runs end 0.5
    above their own base. Δ is +0.5 in both runs (no spread), not ±1 around a mean base of 2.0."""
    rows = []
    for run, base in ((0, 1.0), (1, 3.0)):
        for epoch, v in ((0, base), (1, base + 0.5)):
            rows.append({"condition": "self@1", "subset": run, "suite": "s", "task": "t", "metric": "m",
                         "item": 0, "epoch": epoch, "value": v})
    out = contrasts.on_own_base(pd.DataFrame(rows))
    base = contrasts.base_values(out, "s", "t", "m")
    last = out[out["epoch"] == 1]
    assert base.loc[0] == pytest.approx(2.0)
    assert (last["value"] - base.loc[0]).tolist() == pytest.approx([0.5, 0.5])
    shared = pd.DataFrame([{**r, "value": r["value"] - (2.0 if r["subset"] else 0.0)} for r in rows])
    assert contrasts.on_own_base(shared)["value"].tolist() == shared["value"].tolist()  # one base: unchanged


def test_the_replay_control_is_checked_against_the_regime_margin(tmp_path):
    """Replay's Δ against the base with ±5% of the base's score (base ≈ −1: margin ≈ 0.05)."""
    still = contrasts.run_items(_runs(tmp_path / "a", {"self@1.0": 0.1, "replay": 0.0}))
    check = contrasts.replay_check(still, "course", TASKS)
    assert list(check["task"]) == ["rs_mc", "rs_math_bpb"] and check["within"].all()
    assert check["margin"].between(0.03, 0.07).all()
    text = findings.describe_replay(check)
    assert "inside the margin on every task" in text and "| Multiple choice (0-shot) |" in text
    moved = contrasts.run_items(_runs(tmp_path / "b", {"self@1.0": 0.0, "replay": -0.3}, seed=2))
    check = contrasts.replay_check(moved, "course", TASKS)
    assert not check["within"].any() and (check["hi"] < -0.05).all()
    assert "not inside the margin on 2 of 2 tasks" in findings.describe_replay(check)
    none = contrasts.run_items(_runs(tmp_path / "c", {"self@1.0": 0.1}))
    assert contrasts.replay_check(none, "course", TASKS).empty and findings.describe_replay(
        contrasts.replay_check(none, "course", TASKS)) == ""
