"""Reachability of verdict words before the data, over the whole claim register; p at the margin under
Holm; the book-wide Benjamini-Hochberg step; time-course claims and collapses (resurface.evidence.verdicts)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from resurface.evidence import claims, contrasts, estimates, extraction, multiplicity, ranks, verdicts
from resurface.evidence.claims import CLAIMS
from resurface.evidence.verdicts import AGREES, BOTH, CONTRADICTS, INCONCLUSIVE, NOT_TESTABLE, make_row


def t_est(e, half, *, null=0.0, df=8.0, n_subsets=3, **kw):
    se = half / st.t.ppf(0.975, df)
    p = 2 * st.t.sf(abs(e - null) / se, df)
    return estimates.Estimate(e, e - half, e + half, se, p, 60, n_subsets, 0.95, "t", df=df, null=null, **kw)


def spearman_est(rho, lo, hi, n, p=0.5):
    """A Spearman row as proxytables rebuilds it from its table (method and n only: no Reach attached)."""
    return estimates.Estimate(rho, lo, hi, (hi - lo) / 3.92, p, n, 0, 0.95,
                              "Spearman, exact permutation p, interval by test inversion")


def test_bh_matches_the_step_up_definition_and_ignores_nan():
    p = np.array([0.01, 0.04, np.nan, 0.03, 0.2])
    got = multiplicity.bh(p)
    q = np.array([0.01, 0.04, 0.03, 0.2])
    m = q.size
    want = [min(1, min(q[j] * m / (np.sum(q <= q[j])) for j in range(m) if q[j] >= q[i])) for i in range(m)]
    assert np.isnan(got[2]) and np.allclose(got[[0, 1, 3, 4]], want)
    assert np.all(multiplicity.bh(p)[[0, 1, 3, 4]] <= multiplicity.holm(p)[[0, 1, 3, 4]] + 1e-12)  # BH is never stricter
    with pytest.raises(ValueError, match="pvalues"):
        multiplicity.bh([1.5])


def test_spearman_equivalence_needs_18_corpora():
    """|ρ| < 0.5 can be reached only where the interval at the most central attainable ρ lies inside ±0.5."""
    rule = dict(kind="equivalence", margin=0.5)
    for n, want in ((17, False), (18, True)):
        words = {verdicts.decide(lo, hi, **rule) for lo, hi in ranks.spearman_reach(n).intervals}
        assert (AGREES in words) is want, n
    row = make_row("nll_not_predictive", spearman_est(0.1, -0.8, 0.9, 5), "logp")
    assert row.reachable == "neither" and row.verdict == NOT_TESTABLE
    assert "*agrees* cannot be reached with 5 corpora whatever the data; 18 corpora would reach it" in row.note
    assert not np.isfinite(row.mde)  # no MDE on an equivalence row


def test_extraction_drop_reach_counts_extracted_base_sequences():
    """A drop 'of more than 95%': 72 extracted base sequences with one base, 345 extractions over 3 plantings."""
    for size, plantings, want in ((71, 1, False), (72, 1, True), (344, 3, False), (345, 3, True)):
        lo = extraction.drop_reach(size, plantings=plantings).intervals[0][0]
        assert (lo > 0.95) is want, (size, plantings, lo)
    r = extraction.drop_reach(300, plantings=3)
    assert verdicts.design_to_reach(r, AGREES, kind="threshold", threshold=0.95).startswith("345 ")
    # end to end: nothing left after training over 3 plantings of 40 base extractions each
    from resurface.evidence import plantings
    before = [np.ones((40, 1), bool)] * 3
    after = [np.zeros((40, 1), bool)] * 3
    est = plantings.relative_drop_plantings(before, after, null=0.95)
    row = make_row("extraction_drop_95", est, "extracted")
    assert est.lo < 0.95 and row.reachable == "contradicts only" and row.verdict == NOT_TESTABLE
    assert "345 extractions before training" in row.note


def test_design_search_is_exact_on_a_known_design():
    reach = estimates.Reach(((0.0, 1.0),), "items", 3, at=lambda n: ((1.0 - 1.0 / n, 1.0),), max_size=1000)
    assert verdicts.design_to_reach(reach, AGREES, kind="threshold", threshold=0.99) == "101 items"
    assert verdicts.design_to_reach(reach, AGREES, kind="threshold", threshold=0.9999) == "more than 1,000 items"


def _designs(claim):
    """Estimates of the designs a claim meets in the book: t contrasts, Spearman over 3-8 corpora, drops."""
    if claim.kind == "threshold":
        out = []
        for k0, left in ((40, 0), (40, 2), (400, 0), (400, 4), (400, 40)):
            b0 = np.ones((k0, 1), bool)
            b1 = np.zeros((k0, 1), bool)
            b1[:left] = True
            out.append(extraction.relative_drop_ci(b0[:, 0], b1, null=claim.threshold))
        return out
    if "Spearman" in claim.statistic and "|Spearman" not in claim.statistic:
        return [spearman_est(r, lo, hi, n) for n in (3, 5, 8) for r, lo, hi in
                ((0.0, -0.7, 0.7), (0.9, 0.3, 1.0), (-0.9, -1.0, -0.6))]
    m = claim.margin_for("logp_gold_norm,none") or 0.05
    return [t_est(e, h) for e in (-3 * m, -m, 0.0, m / 3, m, 3 * m) for h in (m / 4, m, 4 * m)]


@pytest.mark.parametrize("cid", [c.id for c in CLAIMS.values() if c.testable and c.id != "relational_beats_intrinsic"])
def test_no_register_row_prints_inconclusive_with_a_word_out_of_reach(cid):
    """Over the register: every row's word is recomputed from the row alone, and no row prints
    *inconclusive* where a word is out of reach (it says *not testable here* and the design instead)."""
    claim = CLAIMS[cid]
    margin = claim.margin_for("logp_gold_norm,none")
    rows = [make_row(claim, e, "logp", margin=margin, planned_epochs=1) for e in _designs(claim)]
    table = contrasts.annotate(verdicts.verdict_table(rows), None)
    table["p_bh"], table["survives"] = np.nan, ""
    csv = contrasts.verdict_csv(table)
    assert (contrasts.recompute_verdicts(csv) == csv["verdict"]).all()
    assert set(csv["reachable"]) <= set(verdicts.REACHABLE.values())
    assert not ((csv["verdict"] == INCONCLUSIVE) & (csv["reachable"] != BOTH)).any()
    for r in csv.itertuples():
        if r.verdict == NOT_TESTABLE and r.reachable not in (BOTH, "neither"):
            assert "would reach it" in r.note
        if claim.kind in ("equivalence", "threshold"):
            assert not np.isfinite(r.mde)
    if claim.min_epochs:  # one planned epoch: a time course cannot be shown
        assert set(csv["verdict"]) == {NOT_TESTABLE} and all("not testable here (1 epoch)" in n for n in csv["note"])


def test_time_course_claims_are_testable_with_enough_planned_epochs():
    c = CLAIMS["self_gain_transient"]
    assert c.min_epochs == claims.TIME_COURSE_EPOCHS and "transient" in c.time_course
    est = t_est(0.3, 0.1)
    assert make_row(c, est, "logp", planned_epochs=1).verdict == NOT_TESTABLE
    assert make_row(c, est, "logp", planned_epochs=c.min_epochs).verdict == AGREES
    assert {x.id for x in CLAIMS.values() if x.min_epochs} == {"self_gain_transient", "tau125_sustained",
                                                               "gsm8k_early_low_tau"}


def test_a_collapse_is_not_no_gain():
    c = CLAIMS["second_no_math_gain"]
    m = c.margin_for("neg_bpb,none")
    collapsed = make_row(c, t_est(-1.01, 0.52), "neg_bpb", margin=m)
    assert collapsed.verdict == INCONCLUSIVE and collapsed.note.startswith("collapsed")
    assert make_row(c, t_est(0.0, m / 2), "neg_bpb", margin=m).verdict == AGREES
    assert make_row(c, t_est(1.0, 0.2), "neg_bpb", margin=m).verdict == CONTRADICTS
    assert verdicts.decide(-1.53, -0.49, kind="noninferiority", margin=m, direction=-1) == INCONCLUSIVE
    # kept-or-improved (upwards) claims still agree with a large gain
    assert verdicts.decide(0.49, 1.53, kind="noninferiority", margin=m, direction=1) == AGREES


def test_margin_claims_enter_holm_with_the_p_at_the_margin():
    """The audit's hand case: [−0.233, −0.067] against a non-inferiority margin of 0.05 was kept by the p
    against 0 (Holm p 0.015); at the margin it is 0.058 and the row is inconclusive."""
    e = t_est(-0.15, 0.083, df=math.inf)
    rule = dict(kind="noninferiority", direction=1, threshold=0.0, margin=0.05)
    assert verdicts.decide(e.lo, e.hi, **rule) == CONTRADICTS
    p_margin = verdicts.p_test(e, word=CONTRADICTS, **rule)
    assert p_margin == pytest.approx(2 * st.norm.sf(0.1 / e.se), rel=1e-9) and e.p < 0.001 < p_margin < 0.05
    others = [make_row("self_gt_cross", t_est(0.05, 0.2, df=math.inf), "logp") for _ in range(3)]  # p ≈ 0.6
    row = make_row("own_gt_cross_student", e, "logp", margin=0.05)
    t = verdicts.verdict_table([row] + others)
    assert t.loc[0, "p_holm"] == pytest.approx(4 * p_margin) and t.loc[0, "verdict"] == INCONCLUSIVE
    assert 4 * e.p < 0.05  # against 0 it would have been kept
    assert verdicts.verdict_table([row] + others, adjust=False).loc[0, "verdict"] == CONTRADICTS
    # an equivalence agrees is under Holm too (it skipped it before)
    eq = make_row("similarity_equivalent", t_est(0.0, 0.049, df=math.inf), "logp", margin=0.05)
    assert eq.verdict == AGREES
    assert verdicts.verdict_table([eq] + others).loc[0, "verdict"] == INCONCLUSIVE


def _page(e, half):
    return verdicts.verdict_table([make_row("self_gt_cross", t_est(e, half, df=math.inf), "logp")])


def test_book_fdr_marks_rows_surviving_both():
    """One strong row, 20 pages whose single row just passes its page (p ≈ 0.045) and 20 null rows: BH over
    the book keeps the strong one only; every page's word stays as its Holm step printed it."""
    pages = [_page(5.0, 1.96)] + [_page(2.005, 1.96) for _ in range(20)] + [_page(0.6, 1.96) for _ in range(20)]
    book = contrasts.book_verdicts(pages)
    assert np.allclose(book["p_bh"], multiplicity.bh(book["p_test"]), equal_nan=True)
    assert list(book["verdict"][:21]) == [AGREES] * 21 and (book["verdict"][21:] == INCONCLUSIVE).all()
    assert book.loc[0, "survives"] == "both" and (book["survives"][1:21] == "page Holm only").all()
    assert (book["survives"][21:] == "").all()
    from resurface.evidence import overview
    text = overview.multiplicity_text(book)
    assert "Benjamini" in text and "Holm" in text and "Of the 21 rows" in text and "1 survive both" in text
    assert "20 hold on their page but not under the book-wide control" in text


def test_a_tight_null_below_the_smallest_effect_of_interest_is_a_decisive_negative():
    c = CLAIMS["k_self_resurfaces"]
    assert c.sesoi_share == claims.SESOI_SHARE and c.margin_note == claims.SESOI_REASON
    lost = 0.4  # what burial removed: the smallest recovery of interest is a quarter of it, 0.1
    sesoi = c.sesoi_share * lost
    tight = make_row(c, t_est(0.01, 0.03, df=math.inf), "logp", margin=sesoi)
    assert tight.verdict == CONTRADICTS and "decisive negative" in tight.note
    wide = make_row(c, t_est(0.01, 0.2, df=math.inf), "logp", margin=sesoi)
    assert wide.verdict == INCONCLUSIVE
    assert make_row(c, t_est(0.05, 0.03, df=math.inf), "logp", margin=sesoi).verdict == AGREES  # some came back
    assert make_row(c, t_est(0.01, 0.03, df=math.inf), "logp").verdict == INCONCLUSIVE  # without it: inconclusive
    # Holm uses the p below the smallest effect, and the row recomputes from its CSV line
    p = verdicts.p_test(tight_est := t_est(0.01, 0.03, df=math.inf), kind="direction", direction=1, threshold=0.0,
                        margin=sesoi, word=CONTRADICTS)
    assert p == pytest.approx(tight_est.p_at(sesoi, 1)) and p < 0.05
    table = contrasts.annotate(verdicts.verdict_table([tight, wide]), None)
    table["p_bh"], table["survives"] = np.nan, ""
    csv = contrasts.verdict_csv(table)
    assert (contrasts.recompute_verdicts(csv) == csv["verdict"]).all()


def test_a_decisive_negative_lost_to_holm_says_so_at_the_smallest_effect():
    """A row below its smallest effect of interest that Holm takes back names that effect, not the null."""
    c = CLAIMS["k_self_resurfaces"]
    near = make_row(c, t_est(0.02, 0.075, df=math.inf), "logp", margin=0.1)  # hi 0.095: just below 0.1
    assert near.verdict == CONTRADICTS
    others = [make_row(c, t_est(0.0, 0.5, df=math.inf), "logp") for _ in range(6)]
    table = verdicts.verdict_table([near, *others])
    row = table.iloc[0]
    assert row["verdict"] == INCONCLUSIVE
    assert "rules out the smallest effect of interest (0.1)" in row["note"] and "p at the smallest effect" in row["note"]
    assert "excludes 0" not in row["note"]


def test_ties_not_the_number_of_corpora_can_block_a_spearman_word():
    """Five corpora reach a word when every naming rate differs; three tied at 0 do not, and the row says the
    ties (not the design) are why."""
    x = np.array([0.0, 0.0, 0.0, 0.016, 0.05])
    y = np.array([0.0031, 0.0022, 0.0035, 0.0012, 0.0027])
    est = ranks.spearman_ci(x, y)
    assert not est.testable and "tied (3 distinct values of 5)" in est.note
    row = make_row("k_trace_predicts", est, "naming rate vs Δ")
    assert row.verdict == NOT_TESTABLE and "cannot be reached with these data's ties" in row.note
    assert "whatever the data" not in row.note and row.note.count("not testable here") == 1
    free = ranks.spearman_ci(np.array([0.0, 0.01, 0.02, 0.03, 0.05]), y)
    assert free.testable
