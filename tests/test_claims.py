"""The claim register (resurface.evidence.claims), the regime in the verdict words, the machine-readable
verdict table and Figure 1's comparable panels (issue 29)."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from resurface.evidence import claims, contrasts, findings, overview
from resurface.evidence.claims import CLAIMS
from resurface.evidence.verdicts import AGREES, CONTRADICTS
from resurface.study import profiles
from fakes import item_runs

TASKS = [("rs_mc", "logp_gold_norm,none", "Multiple choice"), ("rs_math_bpb", "neg_bpb,none", "Math")]


def test_every_figure_has_its_own_claims_with_fixed_windows_and_margins():
    figures = {f for c in CLAIMS.values() for f in [c.figure]}
    for n in (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12):
        assert claims.claims_of(f"fig{n:02d}"), f"Fig {n} has no claim"
    for c in CLAIMS.values():
        assert c.whose in claims.WHOSE and c.kind in claims.KINDS and c.window in claims.WINDOWS
        assert c.text and c.statistic and c.window_reason, c.id
        assert all(b == claims.ALL or b in claims.BENCHMARKS for b in c.benchmarks), c.id
        if c.kind in ("equivalence", "noninferiority"):
            assert c.margin_note and (c.margin is not None or c.margin_for("neg_bpb,none") > 0), c.id
    assert CLAIMS["relational_beats_intrinsic"].whose == "book" and figures
    # the book's own claims are those of its "Beyond the paper" figures (12 and 13), every other is the paper's
    assert all((c.whose == "book") == (c.figure in ("Fig 12", "Fig 13", "Fig 14")) for c in CLAIMS.values())
    # Figures 3, 9 and 10 test what their captions say, not Figure 2's claim
    assert {c.id for c in claims.claims_of("fig03")} == {"second_narrow_gains", "second_no_math_gain", "second_code_drop"}
    assert {c.id for c in claims.claims_of("fig09")} == {"tau125_sustained", "gsm8k_early_low_tau"}
    assert {c.id for c in claims.claims_of("fig10")} == {"own_gt_cross_student"}
    assert CLAIMS["second_no_math_gain"].benchmarks == ("gsm8k", "minerva_math")
    assert CLAIMS["second_code_drop"].direction == -1 and CLAIMS["tau125_sustained"].window == "late"
    assert CLAIMS["self_gt_replay"].window == "early" and CLAIMS["gsm8k_early_low_tau"].window == "early"


def test_epoch_windows_come_from_the_planned_epochs():
    """Defect 8: the paper profile's last epoch (40) is after the paper's gains faded."""
    paper = profiles.load("paper")
    assert claims.window_epochs("early", paper["epochs"], range(41)) == list(range(1, 11))
    assert claims.window_epochs("late", 40, range(41)) == list(range(21, 41))
    assert claims.window_epochs("early", 1, [0, 1]) == [1] and claims.window_epochs("last", 40, range(41)) == [40]


def test_stand_ins_per_profile_and_no_stand_in():
    course = ["rs_math_bpb", "rs_mc", "rs_completion", "rs_code_bpb"]
    c = CLAIMS["second_no_math_gain"]
    assert claims.stand_in_text(c, course) == "GSM8K → rs_math_bpb; Minerva-MATH: no stand-in"
    paper = ["arc_challenge", "mmlu", "truthfulqa_mc2", "hellaswag", "gsm8k", "minerva_math", "rs_humaneval_paper"]
    assert claims.claim_tasks(c, paper) == ["gsm8k", "minerva_math"]
    assert claims.claim_tasks(CLAIMS["capability_kept"], ["arc_challenge", "hellaswag", "arc_easy", "winogrande"]) \
        == ["arc_challenge", "hellaswag", "arc_easy", "winogrande"]
    assert claims.claim_tasks(CLAIMS["second_code_drop"], [t + "_smoke" for t in ("rs_code", "rs_mc")]) == ["rs_code_smoke"]


def test_the_regime_is_read_from_the_profile_parameters():
    """Defect 10: 'contradicts the paper' was printed with no regime."""
    P = profiles.load("course")
    s = claims.scale(P)
    lr = f"{P['lr']:.0e}".replace("e-0", "e-")
    assert s == (f"course scale (SmolLM2-135M-Instruct, an instruction-tuned student, lr {lr}, {P['tokens_per_subset']:,} tokens per run, "
                 f"{P['epochs']} epoch{'s' if P['epochs'] != 1 else ''}, {claims.precision(P)})")
    assert "Qwen2.5-0.5B, lr 1e-6, 5,000,000 tokens per run, 40 epochs" in claims.scale(profiles.load("paper"))
    # a student trained at its own rate (lr_by_model) says so; a planted model's runs use lr
    Q = {**P, "lr": 3e-5, "lr_by_model": {"gemma3-270m": 3e-4}}
    assert "lr 3e-4," in claims.scale(Q, "second_student") and "lr 3e-5," in claims.scale(Q, "student")
    assert "lr 3e-5," in claims.scale({**Q, "memorization_model": "gemma3-270m", "plant_epochs": 1}, "memorization_model")
    # issue 39: rows about an instruction-tuned model say so; base models are not labelled
    assert "instruction-tuned" not in claims.scale(P, "second_student")
    assert "an instruction-tuned model, planted" in claims.scale(profiles.load("course", "fig07"), "memorization_model")
    assert claims.verdict_words(CONTRADICTS, "paper", s) == f"contradicts the paper's claim at {s}"
    assert claims.verdict_words(AGREES, "book", s) == f"agrees with the book's claim at {s}"
    assert claims.model_key("Fig 8") == "memorization_model" and claims.model_key("Fig 3") == "second_student"


def test_figure_11_rows_carry_the_regime_of_the_student_whose_runs_they_are_about():
    """Issue 29: Figure 11 is the second student's page, but its proxy rows about the main student's runs
    (and corpora) were labelled with the second student's regime."""
    from resurface.evidence import proxytables

    P = {"profile": "course", "student": "smollm2-135m", "second_student": "gemma3-270m",
         "tokens_per_subset": 1024, "epochs": 1}
    main, second = claims.scale(P, "student"), claims.scale(P, "second_student")
    assert "SmolLM2-135M-Instruct" in main and "Gemma-3-270M" in second and main != second
    n = 6
    proxy = pd.concat([pd.DataFrame({"student": s, "condition": [f"c{i}" for i in range(n)], "task": "rs_math_bpb",
                                     "metric": "neg_bpb,none", "benchmark": "rs_math", "label": "Math",
                                     "max_cos_mean": np.linspace(0.1, 0.2, n), "nll_mean": 5.0 + np.arange(n),
                                     "final_delta": 0.01 * np.arange(n), "best_delta": 0.02})
                       for s in ("smollm2-135m", "gemma3-270m")], ignore_index=True)
    rng = np.random.default_rng(0)
    nll = pd.DataFrame([{"panel": panel, "temperature": 1.25, "mean_nll": v}
                        for panel in ("own", "cross") for v in 4.0 + 0.3 * rng.standard_normal(20)])
    rows = (proxytables.nll_gap_rows(nll, P["second_student"], "Fig 11")
            + proxytables.proxy_rows(proxytables.proxy_correlations(proxy)))
    t = contrasts.annotate(contrasts.page_verdicts(rows), P)  # as the page and Figure 1 annotate it
    about_main = t["metric"].str.endswith("(smollm2-135m)")
    assert about_main.sum() == 2 and t["metric"].str.endswith("(gemma3-270m)").sum() == 2
    assert (t.loc[about_main, "regime"] == main).all()
    assert (t.loc[~about_main, "regime"] == second).all()  # the page's student: its proxy rows and the NLL gap
    assert all(r in w for r, w in zip(t["regime"], t["words"]))
    # a row that names no model keeps its figure's model (claims.model_key)
    assert claims.regime(P, "Fig 11") == second and claims.regime(P, "Fig 6") == main
    assert claims.regime(P, "Fig 11", "smollm2-135m") == main == claims.scale(P, model="smollm2-135m")


def test_nll_means_close_has_a_margin_fixed_in_the_register_in_nats_per_token():
    """Issue 29: the margin was 5% of the own corpus's mean NLL, a scale estimated from the data under test."""
    import inspect

    from resurface.evidence import proxytables, verdicts

    c = CLAIMS["nll_means_close"]
    assert c.kind == "equivalence" and c.margin == claims.NLL_GAP_MARGIN == 0.45 and c.margin_for() == 0.45
    assert c.margin_note == claims.NLL_GAP_MARGIN_REASON
    for words in ("nats per token", "published value, not of the data under test", "9.10 and 9.01"):
        assert words in c.margin_note
    assert not hasattr(proxytables, "NLL_GAP_FRACTION") and not hasattr(verdicts, "relative_margin")
    assert "fraction" not in inspect.signature(proxytables.nll_gap_rows).parameters


def _planned_table(tmp_path, effect, fig="fig02", P=None):
    P = P or {"profile": "course", "student": "smollm2-135m", "tokens_per_subset": 1024, "epochs": 2}
    items = contrasts.run_items(item_runs(tmp_path, effect, TASKS))
    rows = contrasts.transfer_rows(fig, items, "course", TASKS, list(effect), planned_epochs=P["epochs"])
    return contrasts.annotate(contrasts.page_verdicts(rows.rows), P, rows.meta)


def test_verdicts_csv_rows_recompute_to_the_printed_word(tmp_path):
    table = pd.concat([_planned_table(tmp_path / "a", {"self@1.25": 0.1, "replay": 0.0}),
                       _planned_table(tmp_path / "b", {"self@1.25": -0.1, "replay": 0.1}),
                       _planned_table(tmp_path / "c", {"self@1": 0.0, "cross@1": 0.0}, "fig10")], ignore_index=True)
    path = contrasts.write_verdicts_csv(table, tmp_path / "course" / "verdicts.csv")
    csv = pd.read_csv(path)
    assert list(csv.columns) == list(contrasts.CSV_COLUMNS) and len(csv) == len(table)
    assert set(csv["verdict"]) >= {AGREES, CONTRADICTS}
    printed = findings.verdict_markdown(table)
    assert (contrasts.recompute_verdicts(csv) == csv["verdict"]).all()
    flipped = csv.assign(lo=csv["hi"] + 1, hi=csv["hi"] + 2)  # every interval moved above its threshold
    assert (contrasts.recompute_verdicts(flipped) != csv["verdict"]).any()
    for r in csv.itertuples(index=False):
        assert r.words == claims.verdict_words(r.verdict, r.whose, r.regime)
        assert f"**{findings.whose_label(r.verdict, r.whose == 'book')}**" in printed  # the cell: the word
        assert r.profile == "course" and r.regime.startswith("course scale (")
    assert "Verdict at course scale" in printed  # the scale, once, in the header


def test_figure_4_margin_is_fixed_not_half_the_below_gain(tmp_path):
    """Defect 4: the margin was 0.5 × the below arm's estimated gain (false 'agrees' up to 12%)."""
    from resurface.evidence import proxytables

    for k, gain in enumerate((0.02, 0.2)):
        items = contrasts.run_items(item_runs(tmp_path / str(k), {"below@1.25": gain, "above@1.25": gain},
                                              [("rs_math_bpb", "neg_bpb,none", "Math")]))
        rows = proxytables.split_rows(items, "course", [("rs_math_bpb", "neg_bpb,none", "Math")], 1.25,
                                      planned_epochs=2)
        assert [r.margin for r in rows.rows] == [claims.METRIC_MARGINS["neg_bpb,none"]]
    assert not hasattr(proxytables, "SPLIT_MARGIN_FRACTION")


def _row(cid, est, lo, hi, v, fig="Fig 12"):
    return {"claim_id": cid, "figure": fig, "metric": "ARC: CE gap vs mean NLL", "estimate": est, "lo": lo, "hi": hi,
            "mde": 0.3, "n_items": 6, "n_subsets": 0, "p": 0.01, "p_holm": 0.01, "verdict": v, "note": "",
            "kind": "direction", "direction": 1, "threshold": 0.0, "margin": None, "level": 0.95,
            "item_noise_only": False}


def test_figure_12_prose_follows_its_rows_and_names_the_book():
    """Defect 9: 'nor does it show the opposite' under a contradicting row, and 'the paper' for the book's claim."""
    table = pd.DataFrame({"condition": ["self@1", "cross@1", "replay"], "student": "s", "ce_gap": [0.0, 0.1, np.nan]})
    corr = pd.DataFrame(columns=["task", "metric", "measure", "rho", "lo", "hi", "n", "label"])
    rows = pd.DataFrame([_row("relational_beats_intrinsic", -0.5, -0.8, -0.2, CONTRADICTS)])
    text = findings.describe_relational(table, corr, rows)
    assert "nor does it show the opposite" not in text and "show the opposite" in text
    assert "The book's own claim" in text
    t = contrasts.annotate(rows, {"profile": "course", "student": "smollm2-135m", "tokens_per_subset": 1024, "epochs": 1})
    assert t["words"].iloc[0].startswith("contradicts the book's claim at course scale")
    assert "The book's own claim" in findings.verdict_summary(t) and "The paper reports" not in findings.verdict_summary(t)


def test_figure_1_says_where_holm_runs():
    """Defect 9: Figure 1 said Holm runs 'over the rows of this page'."""
    t = contrasts.annotate(pd.DataFrame([_row("self_gt_cross", 0.1, 0.05, 0.2, AGREES, "Fig 5")]), None)
    assert "over the rows of this page" not in findings.verdict_summary(t, with_figure=True)
    assert "not over this table" in findings.verdict_summary(t, with_figure=True)


def test_figure_1_panels_pool_only_comparable_numbers():
    """Defect 7: panel A averaged nats with bits per byte and self over 3 τ with cross at 1 τ; panel B
    ranked two students' NLLs in one ρ; a sentence said 'its own samples helped most'."""
    assert overview.matched_conditions(["self@0.75", "self@1", "self@1.25", "cross@1.25", "replay"]) == \
        ["self@1.25", "cross@1.25", "replay"]
    rows = []
    for cond, d in {"self@0.75": 0.5, "self@1.25": 0.1, "cross@1.25": 0.2, "replay": 0.0}.items():
        for task, metric, extra in (("rs_mc", "logp_gold_norm,none", 0.0), ("rs_math_bpb", "neg_bpb,none", 9.0)):
            for e in (0, 1):
                rows.append({"condition": cond, "subset": 0, "suite": "course-continuous", "task": task,
                             "metric": metric, "epoch": e, "delta": (d + extra) * e})
    t = overview.transfer_table({"main": pd.DataFrame(rows)}, "course-continuous", "continuous")
    assert set(t["metric"]) == {"logp_gold_norm,none"}  # no bits per byte in the mean
    got = t.set_index("source")["mean_final_delta"].to_dict()
    assert got == pytest.approx({"self": 0.1, "cross": 0.2, "replay": 0.0})  # self at τ 1.25 only
    text = overview.describe(t, {}, None, {"main": "main"})
    assert "helped most" not in text
    proxy = pd.DataFrame({"student": ["a"] * 3 + ["b"] * 3, "condition": ["x", "y", "z"] * 2,
                          "nll_mean": [1, 2, 3, 10, 20, 30], "final_delta": [3, 2, 1, 1, 2, 3],
                          "metric": "logp_gold_norm,none"})
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    rhos = overview.proxy_panel(ax, proxy, metric="logp_gold_norm,none")
    plt.close(fig)
    assert rhos == pytest.approx({"a": -1.0, "b": 1.0})  # per student, never one pooled ρ


def test_forest_plot_draws_every_row(tmp_path):
    import matplotlib.pyplot as plt

    table = _planned_table(tmp_path, {"self@1.25": 0.1, "replay": 0.0})
    fig = overview.forest_plot(table, "t", "course scale")
    n = sum(len(ax.get_yticks()) for ax in fig.axes)
    plt.close(fig)
    assert n == len(table)


def test_page_verdict_table_is_narrow_notes_are_footnotes_and_the_regime_is_above_it(tmp_path):
    """#33: eight wordy columns squeezed the verdict to a strip at page width. The page table has seven
    columns, a short verdict with the scale, each note once as a footnote, the full regime above."""
    table = _planned_table(tmp_path / "a", {"self@1.25": 0.1, "replay": 0.0})
    P = {**profiles.load("course", "fig02")}
    section = findings.verdict_section(table, P)
    head = [l for l in section.splitlines() if l.startswith("| Claim")][0]
    assert head.count("|") == 8 and "Whose" not in head and "Verdict at course scale" in head
    rows = [l for l in section.splitlines() if l.startswith("| ") and not l.startswith("| Claim")]
    assert all(any(f"**{w}**" in r for w in (AGREES, CONTRADICTS, "inconclusive", "not testable here"))
               for r in rows) and all("SmolLM2" not in r for r in rows)
    assert "course scale (" in section.split("| Claim")[0]  # the regime in full, above the table
    notes = [n for n in table["note"] if n]
    for i, n in enumerate(dict.fromkeys(notes), 1):
        assert f"[{i}] {n}" in section
