"""Verdict logic (resurface.evidence.verdicts): direction, equivalence, non-inferiority and threshold claims,
Holm across a page, and the claim registry. Fast: hand-made Estimates only."""

from __future__ import annotations

import math

import numpy as np
import pytest

from resurface.evidence.estimates import Estimate
from resurface.evidence.extraction import relative_drop_ci
from resurface.evidence.sizing import mde
from resurface.evidence.claims import CLAIMS, Claim
from resurface.evidence.verdicts import (AGREES, CONTRADICTS, INCONCLUSIVE, NOT_TESTABLE, VerdictRow, decide,
                                         format_interval, mde_text, make_row, verdict, verdict_table)


def est(e, lo, hi, *, se=None, p=0.5, null=0.0, df=math.inf, n_subsets=3, **kw):
    se = (hi - lo) / 3.92 if se is None else se
    return Estimate(e, lo, hi, se, p, 60, n_subsets, 0.95, "t", df=df, null=null, **kw)


def test_direction_claims():
    assert verdict(est(0.3, 0.1, 0.5), +1).label == AGREES
    assert verdict(est(-0.3, -0.5, -0.1), +1).label == CONTRADICTS
    assert verdict(est(-0.3, -0.5, -0.1), -1).label == AGREES
    v = verdict(est(0.1, -0.1, 0.3, se=0.1), +1)
    assert v.label == INCONCLUSIVE and f"{mde(0.1):.3g}" in v.note and "could still hide" in v.note
    v4 = verdict(est(0.1, -0.1, 0.3, se=0.1, df=4), +1)
    assert f"{mde(0.1, df=4):.3g}" in v4.note  # the MDE uses the estimate's df
    assert str(verdict(est(0.3, 0.1, 0.5), +1)) == AGREES


def test_equivalence_claims():
    assert verdict(est(0.01, -0.05, 0.07), kind="equivalence", margin=0.1).label == AGREES
    # small but non-zero, inside the margin: the margin defines "no difference"
    assert verdict(est(0.05, 0.02, 0.08), kind="equivalence", margin=0.1).label == AGREES
    assert verdict(est(0.3, 0.2, 0.4), kind="equivalence", margin=0.1).label == CONTRADICTS
    assert verdict(est(-0.3, -0.4, -0.2), kind="equivalence", margin=0.1).label == CONTRADICTS
    assert verdict(est(0.0, -0.3, 0.3), kind="equivalence", margin=0.1).label == INCONCLUSIVE
    with pytest.raises(ValueError, match="margin"):
        verdict(est(0.0, -0.3, 0.3), kind="equivalence")


def test_noninferiority_claims():
    assert verdict(est(0.5, 0.3, 0.7), kind="noninferiority", margin=0.01).label == AGREES  # improved
    assert verdict(est(-0.002, -0.008, 0.004), kind="noninferiority", margin=0.01).label == AGREES  # kept
    assert verdict(est(-0.1, -0.2, -0.05), kind="noninferiority", margin=0.01).label == CONTRADICTS
    assert verdict(est(0.0, -0.05, 0.05), kind="noninferiority", margin=0.01).label == INCONCLUSIVE


def test_extraction_drop_threshold_claim():
    c = CLAIMS["extraction_drop_95"]
    assert c.threshold == 0.95 and c.kind in ("direction", "threshold") and c.direction == 1
    ok = verdict(est(0.98, 0.96, 0.99, null=0.95), c.direction, threshold=c.threshold)
    assert ok.label == AGREES
    assert verdict(est(0.8, 0.7, 0.9, null=0.95), threshold=0.95).label == CONTRADICTS
    assert verdict(est(0.96, 0.93, 0.98, null=0.95), threshold=0.95).label == INCONCLUSIVE
    with pytest.raises(ValueError, match="threshold"):  # the p-value must test the same value
        verdict(est(0.98, 0.96, 0.99), threshold=0.95)
    # end to end from per-sequence booleans
    before = np.zeros(2000, bool)
    before[:600] = True
    after = before.copy()
    after[:600] = np.arange(600) < 6  # 1% left: a 99% drop
    row = make_row("extraction_drop_95", relative_drop_ci(before, after, null=0.95, B=500), "extracted")
    assert row.verdict == AGREES and row.estimate == pytest.approx(0.99)
    undefined = relative_drop_ci(np.zeros(10, bool), np.zeros(10, bool), null=0.95)
    assert verdict(undefined, threshold=0.95).label == NOT_TESTABLE


def test_registry():
    need = {"self_gt_replay", "self_gt_cross", "own_gt_cross_student", "similarity_equivalent",
            "nll_not_predictive", "capability_kept", "extraction_drop_95"}
    assert need <= set(CLAIMS)
    for c in CLAIMS.values():
        assert isinstance(c, Claim) and c.text and c.figure.startswith("Fig") and c.direction in (1, -1)
        assert c.kind in ("direction", "equivalence", "noninferiority", "threshold")
        if c.kind in ("equivalence", "noninferiority"):
            assert c.margin_note  # every margin is explained
    assert CLAIMS["similarity_equivalent"].kind == "equivalence"
    assert CLAIMS["capability_kept"].kind == "noninferiority"
    assert CLAIMS["nll_not_predictive"].margin == 0.5
    with pytest.raises(ValueError, match="margin"):  # metric-dependent margins must be passed
        make_row("capability_kept", est(0.0, -0.01, 0.01), "acc")
    assert make_row("capability_kept", est(0.0, -0.005, 0.01), "acc", margin=0.01).verdict == AGREES


def test_holm_on_a_page():
    rows = [make_row("self_gt_replay", est(0.3, 0.01, 0.6, p=0.04), "logp"),
            make_row("self_gt_cross", est(0.3, 0.2, 0.4, p=0.001), "logp"),
            make_row("self_gt_lineage", est(-0.3, -0.5, -0.02, p=0.03), "logp"),
            make_row("similarity_equivalent", est(0.01, -0.02, 0.04, p=0.6), "logp", margin=0.05)]
    assert [r.verdict for r in rows] == [AGREES, AGREES, CONTRADICTS, AGREES]
    t = verdict_table(rows)
    # the equivalence row enters Holm with its p at the margin (TOST on the interval's scale), not at 0
    from scipy.stats import norm
    p_eq = 2 * norm.sf(0.04 / (0.06 / 3.92))
    assert t.loc[3, "p_test"] == pytest.approx(p_eq) and t.loc[3, "p"] == 0.6
    assert list(t["p_holm"]) == pytest.approx([0.06, 0.004, 0.06, 3 * p_eq])
    assert list(t["verdict"]) == [INCONCLUSIVE, AGREES, INCONCLUSIVE, AGREES]
    assert "Holm" in t.loc[0, "note"]
    per_claim = verdict_table(rows, adjust=False)
    assert list(per_claim["verdict"]) == [AGREES, AGREES, CONTRADICTS, AGREES]
    for col in ("claim_id", "claim", "figure", "metric", "estimate", "lo", "hi", "mde", "n_items",
                "n_subsets", "p", "p_holm", "verdict"):
        assert col in t.columns
    assert verdict_table([]).empty


def test_format_interval_and_flags():
    s = format_interval(est(0.012, -0.004, 0.028))
    assert s == "+0.012 [-0.004, +0.028] (95%)"
    one = est(0.012, -0.004, 0.028, n_subsets=1, item_noise_only=True)
    assert "item noise only" in format_interval(one)
    assert "item noise only" in make_row("self_gt_replay", one, "logp").note


def test_bad_inputs():
    with pytest.raises(ValueError, match="direction"):
        verdict(est(0.1, 0.0, 0.2), 0)
    with pytest.raises(ValueError, match="kind"):
        verdict(est(0.1, 0.0, 0.2), kind="superiority")
    with pytest.raises(ValueError, match="est"):
        verdict((0.1, 0.0, 0.2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="claim"):
        make_row("no_such_claim", est(0.1, 0.0, 0.2), "acc")
    with pytest.raises(ValueError, match="rows"):
        verdict_table([{"claim_id": "x"}])  # type: ignore[list-item]
    assert isinstance(make_row("self_gt_replay", est(0.1, 0.0, 0.2), "acc"), VerdictRow)


# ---------------------------------------------------------------------------------------------
# issue 29: the decision rules, hand-worked (each row's interval position against threshold/margin)
# ---------------------------------------------------------------------------------------------
RULES = [
    # kind, direction, threshold, margin, lo, hi, expected
    ("equivalence", 1, 0.0, 0.5, 0.02, 0.55, INCONCLUSIVE),   # issue 29 (1): excludes 0, mostly inside
    ("equivalence", 1, 0.0, 0.5, -0.55, -0.02, INCONCLUSIVE),
    ("equivalence", 1, 0.0, 0.5, 0.51, 0.90, CONTRADICTS),    # wholly beyond +margin
    ("equivalence", 1, 0.0, 0.5, -0.90, -0.51, CONTRADICTS),  # wholly beyond -margin
    ("equivalence", 1, 0.0, 0.5, -0.40, 0.45, AGREES),
    ("equivalence", 1, 0.0, 0.5, -0.60, 0.60, INCONCLUSIVE),  # covers the whole margin and more
    ("equivalence", 1, 1.0, 0.1, 1.12, 1.30, CONTRADICTS),    # threshold not zero
    ("equivalence", 1, 1.0, 0.1, 1.05, 1.15, INCONCLUSIVE),
    ("noninferiority", 1, 0.0, 0.05, -0.06, -0.01, INCONCLUSIVE),  # issue 29 (2): a tolerated loss
    ("noninferiority", 1, 0.0, 0.05, -0.04, 0.02, AGREES),
    ("noninferiority", 1, 0.0, 0.05, -0.20, -0.06, CONTRADICTS),   # wholly below -margin
    ("noninferiority", 1, 0.0, 0.05, 0.10, 0.30, AGREES),          # improved
    ("noninferiority", -1, 0.0, 0.05, 0.01, 0.06, INCONCLUSIVE),   # lower is better: mirror image
    ("noninferiority", -1, 0.0, 0.05, 0.06, 0.20, CONTRADICTS),
    ("noninferiority", -1, 0.0, 0.05, -0.30, 0.04, AGREES),
    ("threshold", 1, 0.95, None, 0.96, 0.99, AGREES),         # "falls by more than 95%"
    ("threshold", 1, 0.95, None, 0.943, 1.0, INCONCLUSIVE),   # issue 29 (3)'s cluster interval
    ("threshold", 1, 0.95, None, 0.70, 0.90, CONTRADICTS),
    ("threshold", -1, 0.05, None, 0.01, 0.04, AGREES),        # "less than 5% left"
    ("threshold", -1, 0.05, None, 0.06, 0.10, CONTRADICTS),
    ("direction", 1, 0.0, None, 0.01, 0.30, AGREES),
    ("direction", 1, 0.0, None, -0.30, -0.01, CONTRADICTS),
    ("direction", -1, 0.0, None, -0.30, -0.01, AGREES),
    ("direction", 1, 0.0, None, -0.01, 0.30, INCONCLUSIVE),
]


@pytest.mark.parametrize("kind,direction,t,m,lo,hi,expected", RULES,
                         ids=[f"{r[0]}{'+' if r[1] > 0 else '-'}[{r[4]},{r[5]}]" for r in RULES])
def test_decision_rules_table(kind, direction, t, m, lo, hi, expected):
    """Issue 29 (1)-(3): agrees / contradicts / inconclusive from the interval's position against the
    threshold and margin, for all four kinds (both through :func:`decide` and :func:`verdict`)."""
    assert decide(lo, hi, kind=kind, threshold=t, margin=m, direction=direction) == expected
    e = est((lo + hi) / 2, lo, hi, null=t)
    assert verdict(e, direction, kind=kind, threshold=t, margin=m).label == expected


def test_threshold_kind_is_accepted_and_survives_holm_like_direction():
    row = verdict(est(0.97, 0.96, 0.99, null=0.95, p=0.001), kind="threshold", threshold=0.95)
    assert row.label == AGREES and "above 0.95" in row.note
    assert decide(float("nan"), 1.0, kind="threshold", threshold=0.95) == NOT_TESTABLE
    with pytest.raises(ValueError, match="margin"):
        decide(0.0, 0.1, kind="equivalence")
    with pytest.raises(ValueError, match="kind"):
        decide(0.0, 0.1, kind="superiority")


def test_mde_is_never_zero():
    """Issue 29 (6): a zero SE (nothing extracted after training; a degenerate bootstrap) gives an
    undefined MDE, printed as "undefined", never 0."""
    flat = est(1.0, 0.94, 1.0, se=0.0, null=0.95)
    v = verdict(flat, kind="threshold", threshold=0.95)
    assert v.label == INCONCLUSIVE and "undefined" in v.note and "smaller than 0 " not in v.note
    row = make_row(Claim("x", "x", "Fig 8", "threshold", "drop", threshold=0.95), flat, "extracted")
    assert math.isnan(row.mde) and mde_text(row.mde) == "undefined"
    assert mde_text(0.0) == "undefined" and mde_text(0.1234) == "0.123"


def test_not_testable_estimate_gives_not_testable_with_its_reason():
    e = est(1.0, -1.0, 1.0, testable=False, note="with 3 corpora the smallest attainable p is 0.167")
    v = verdict(e, kind="equivalence", margin=0.5)
    assert v.label == NOT_TESTABLE and "0.167" in v.note


def test_not_testable_rows_do_not_count_in_holm():
    """A row that cannot reach the level (Spearman over 3 corpora, p = 0.33) is no test: counting it in
    Holm's m would halve what the other rows may reach (Tarone's correction for discrete tests)."""
    rows = [make_row("self_gt_replay", est(0.3, 0.01, 0.6, p=0.03), "logp"),
            make_row("nll_not_predictive", est(1.0, -1.0, 1.0, p=1 / 3, testable=False,
                                               note="with 3 corpora the smallest attainable p is 0.167"), "rho")]
    t = verdict_table(rows)
    assert t.loc[1, "verdict"] == NOT_TESTABLE and math.isnan(t.loc[1, "p_holm"])
    assert t.loc[0, "p_holm"] == pytest.approx(0.03) and t.loc[0, "verdict"] == AGREES
