"""The claim register: the paper's claims (and the book's own), figure by figure, as tests.

Each :class:`Claim` says what is claimed, whose claim it is, its kind, and a margin fixed before any
run. Decision rules live in :mod:`resurface.evidence.verdicts`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Claim:
    """One claim of the paper as a test. ``direction`` is the sign the paper predicts for the
    statistic minus ``threshold`` (+1 or -1). ``margin``: for equivalence / non-inferiority claims, in
    the statistic's units; None means the caller must pass one (its units depend on the metric),
    ``margin_note`` says how to choose it. ``statistic`` says what to compute."""

    id: str
    text: str
    figure: str
    kind: str
    statistic: str
    direction: int = 1
    threshold: float = 0.0
    margin: float | None = None
    margin_note: str = ""


CLAIMS: dict[str, Claim] = {c.id: c for c in [
    Claim("self_gt_replay",
          "Self-generated data gives transient gains on reasoning, math and code; generic replay does not.",
          "Fig 2", "direction", "Δ(self corpus) − Δ(Common Corpus replay), paired on items"),
    Claim("self_gt_lineage",
          "Transfer follows student–source compatibility: self > same-lineage.",
          "Fig 5", "direction", "Δ(self corpus) − Δ(Qwen2.5-7B corpus), paired on items"),
    Claim("self_gt_recipe",
          "Transfer follows student–source compatibility: self > the stronger different-recipe Qwen3.",
          "Fig 5", "direction", "Δ(self corpus) − Δ(Qwen3-8B-Base corpus), paired on items"),
    Claim("self_gt_cross",
          "Transfer follows student–source compatibility: self > cross-family.",
          "Fig 5", "direction", "Δ(self corpus) − Δ(Llama-3.2-1B corpus), paired on items"),
    Claim("own_gt_cross_student",
          "Qwen data is not a generic upgrade: Llama trained on Qwen data does not beat Llama trained on "
          "its own data.",
          "Fig 10", "direction", "Δ(Llama on its own corpus) − Δ(Llama on Qwen corpus), paired on items"),
    Claim("similarity_equivalent",
          "Subsets built only from samples below vs at or above max-cos 0.35 give about the same GSM8K "
          "gain, so the gain is not benchmark contamination.",
          "Fig 4", "equivalence", "Δ(below 0.35) − Δ(at or above 0.35), paired on items",
          margin=None,
          margin_note="half the below-threshold arm's own gain (relative_margin(Δ_below, 0.5)): a "
                      "difference smaller than half the effect itself leaves the effect in place"),
    Claim("nll_not_predictive",
          "Intrinsic proxies (mean likelihood under the student) fail to predict utility: corpora with "
          "almost the same mean NLL differ in downstream effect.",
          "Figs 6, 11", "equivalence", "Spearman ρ over corpora of mean NLL under the student vs Δ",
          margin=0.5,
          margin_note="|ρ| < 0.5: the NLL order explains less than a quarter of the utility order; with "
                      "a handful of corpora the interval is wide, so expect 'inconclusive'"),
    Claim("similarity_not_predictive",
          "Intrinsic proxies (benchmark proximity) fail to predict utility.",
          "Figs 1, 4, 11", "equivalence",
          "Spearman ρ over corpora of mean max-cosine to the benchmark's items vs Δ",
          margin=0.5,
          margin_note="|ρ| < 0.5, as for the NLL proxy: the proximity order explains less than a quarter "
                      "of the utility order; with a handful of corpora expect 'inconclusive'"),
    Claim("nll_means_close",
          "At τ = 1.25 the student's own corpora and the cross-family corpora have almost the same mean "
          "NLL under the student (about 9.10 vs 9.01 nats); under the second family the two converge at "
          "high τ.",
          "Figs 6, 11", "equivalence",
          "mean NLL(cross-family corpus) − mean NLL(own corpus) under the scorer at the highest τ, "
          "Welch t interval over samples",
          margin=None,
          margin_note="5% of the own corpus's mean NLL: five times the paper's own gap (0.09 of 9.1 "
                      "nats, 1%), so a reproduction is not failed for a gap the paper calls 'almost the "
                      "same', yet far below the change of mean NLL across τ"),
    Claim("capability_kept",
          "Pythia capability under self-training: scores are preserved or improved.",
          "Fig 7", "noninferiority", "Δ against the base model (final epoch)",
          margin=None,
          margin_note="in the metric's units: one point (0.01) on accuracy, the resolution of a "
                      "100-item benchmark; for a continuous metric choose it before looking"),
    Claim("relational_beats_intrinsic",
          "Transfer follows student–source compatibility, which the intrinsic proxies miss: a measure of "
          "compatibility ranks the corpora by utility better than an intrinsic proxy does (the paper names "
          "compatibility but does not measure it; this book's test).",
          "Fig 12", "direction",
          "|Spearman ρ| of a relational measure with Δ − |Spearman ρ| of an intrinsic proxy with Δ, "
          "bootstrap over corpora"),
    Claim("extraction_drop_95",
          "Held-out exact-match extraction falls by more than 95% without a forget set or an "
          "unlearning objective.",
          "Fig 8", "direction", "relative drop (k0 − k1)/k0 on the same sequences",
          threshold=0.95),
]}
