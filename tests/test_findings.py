"""Δ tables and the computed sentences of the figure pages, on small hand-made results."""

from __future__ import annotations

import pandas as pd
import pytest

from resurface.evidence import findings
from resurface.conditions import deltas


def _rows(suite: str, base: float, after: list[float], cond="self@1", subset=0, task="rs_math", n=8):
    return [{"condition": cond, "subset": subset, "suite": suite, "task": task, "metric": "acc,none",
             "label": "Maths", "primary": True, "epoch": e, "value": v, "n": n}
            for e, v in enumerate([base, *after])]


def test_delta_is_per_suite_when_two_suites_share_task_names():
    df = pd.DataFrame(_rows("course", 0.25, [0.5]) + _rows("course-few-shot", 0.75, [0.5]))
    out = deltas(df)
    assert len(out) == len(df)  # no cross product of the two suites' epoch-0 rows
    assert (out.loc[out.epoch == 0, "delta"] == 0).all()
    got = out[out.epoch == 1].set_index("suite")["delta"].to_dict()
    assert got == pytest.approx({"course": 0.25, "course-few-shot": -0.25})


def test_summary_counts_subsets_and_the_text_says_when_there_is_no_spread():
    one = deltas(pd.DataFrame(_rows("course", 0.25, [0.5]) + _rows("course", 0.25, [0.375], cond="replay")))
    text = findings.describe_transfer(one, "course", ["self@1"], ["replay"], "self", "replay")
    assert "one training subset: no spread" in text and "±" not in text
    assert "rests on 8 items" in text and "0.125" in text
    two = deltas(pd.DataFrame(_rows("course", 0.25, [0.5]) + _rows("course", 0.25, [0.25], subset=1)))
    t = findings.outcome_table(two, "course")
    assert int(t["subsets"].iloc[0]) == 2 and t["final_delta"].iloc[0] == pytest.approx(0.125)
    assert "std over 2 subsets" in findings.describe_transfer(two, "course", ["self@1"], [], "self", "none")


def test_sequence_counts_are_whole_or_one_decimal():
    assert findings._count(36.0) == "36" and findings._count(21.666667) == "21.7"


def test_held_out_sentence_names_leaks_and_states_a_clean_pool():
    clean = {"self@1": {"samples": 40, "sharing_ngram": 0, "containing_sequence": 0},
             "self@1.25": {"samples": 24, "sharing_ngram": 0, "containing_sequence": 0}}
    text = findings.describe_held_out(clean, 8)
    assert text.startswith("**Held out.**") and "64 samples" in text and "an 8-word" in text
    assert "a 13-word" in findings.describe_held_out(clean, 13)
    leaky = {**clean, "self@1.25": {"samples": 24, "sharing_ngram": 3, "containing_sequence": 1}}
    text = findings.describe_held_out(leaky, 8)
    assert text.startswith("**Not held out.**") and "self@1.25: 3 of 24" in text and "1 contain" in text
    assert "self@1:" not in text


def test_relational_prose_says_not_testable_when_every_row_is():
    """A page whose comparison rows are all 'not testable here' (3 corpora) must not say that 'no row
    settles the comparison either way' as if a test had run and come out inconclusive."""
    from resurface.evidence import findings as f
    from resurface.evidence.verdicts import NOT_TESTABLE

    corr = pd.DataFrame([{"task": "t", "metric": "m,none", "label": "Maths", "measure": "ce_gap", "rho": 0.5,
                          "lo": -1.0, "hi": 1.0, "n": 3}])
    table = pd.DataFrame([{"verdict": NOT_TESTABLE, "estimate": 0.2, "lo": float("nan"), "hi": float("nan"),
                           "mde": float("nan"), "n_items": 3, "metric": "m"}] * 2)
    corpora = pd.DataFrame({"condition": ["self@1", "cross@1", "replay"], "student": "s",
                            "ce_gap": [0.1, 0.2, 0.3]})
    text = f.describe_relational(corpora, corr, table)
    assert "not testable here" in text and "either way" not in text and "with 3 corpora" in text


def test_summary_gives_a_line_per_claim_and_regime():
    """Figure 11's proxy rows are about two students: the summary said '8 rows' under the first row's
    regime (SmolLM2) although half were Gemma-3's."""
    from resurface.evidence.verdicts import INCONCLUSIVE, NOT_TESTABLE

    rows = [{"claim_id": "nll_not_predictive", "whose": "paper", "figure": "Fig 11", "verdict": v, "regime": r,
             "item_noise_only": False, "words": v}
            for v, r in ((INCONCLUSIVE, "course scale (A)"), (INCONCLUSIVE, "course scale (A)"),
                         (NOT_TESTABLE, "course scale (B)"))]
    text = findings.verdict_summary(pd.DataFrame(rows))
    assert "course scale (A)**, 2 row(s): 2 inconclusive" in text
    assert "course scale (B)**, 1 row(s): 1 not testable here" in text
