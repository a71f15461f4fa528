"""The claim register: the paper's claims, and the book's own, figure by figure, as tests.

Read as the paper: for every figure (shared/paper/METHODS.md section b), the claims its caption or the
abstract makes, each paraphrased (:attr:`Claim.text`), with whose claim it is (``"paper"`` or
``"book"``), the benchmarks it names (rows are made only for those, through each profile's stand-in
task, :func:`stand_ins`), the epoch window it is about (:data:`WINDOWS`, fixed here before any run, with
its reason), its kind and a margin fixed in advance with its reason (never derived from the data under
test). The decision rules live in :mod:`resurface.evidence.verdicts`; the words that carry the regime
(:func:`verdict_words`, :func:`scale`) are built here from the profile's parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from resurface import aliases
from resurface.device import precision_words, resolve_device

WHOSE = ("paper", "book")
KINDS = ("direction", "equivalence", "noninferiority", "threshold")
ALL = "*"  # a claim about every benchmark of its figure

# the paper's benchmarks (canonical keys) and their names
BENCHMARKS = {"arc_c": "ARC-Challenge", "arc_e": "ARC-Easy", "mmlu": "MMLU", "truthfulqa": "TruthfulQA-MC2",
              "hellaswag": "HellaSwag", "winogrande": "WinoGrande", "gsm8k": "GSM8K",
              "minerva_math": "Minerva-MATH", "humaneval": "HumanEval"}

# evaluation task (without a profile's ``_smoke`` suffix) -> the paper benchmarks it stands for
TASK_BENCHMARKS: dict[str, tuple[str, ...]] = {
    "arc_challenge": ("arc_c",), "arc_easy": ("arc_e",), "mmlu": ("mmlu",), "truthfulqa_mc2": ("truthfulqa",),
    "hellaswag": ("hellaswag",), "winogrande": ("winogrande",), "gsm8k": ("gsm8k",),
    "minerva_math": ("minerva_math",), "rs_humaneval_paper": ("humaneval",),
    # course and smoke stand-ins (resurface.evaluate.coursetasks): one multiple-choice task for ARC and
    # MMLU, word problems for GSM8K (not competition maths: no Minerva-MATH stand-in), completion for
    # HellaSwag, code for HumanEval; nothing stands in for TruthfulQA or WinoGrande
    "rs_mc": ("arc_c", "arc_e", "mmlu"), "rs_completion": ("hellaswag",), "rs_math": ("gsm8k",),
    "rs_math_bpb": ("gsm8k",), "rs_code": ("humaneval",), "rs_code_bpb": ("humaneval",),
}

# epoch windows, as fractions of the profile's planned epochs (``P["epochs"]``, never the data)
WINDOWS = {
    "early": "the first quarter of the planned epochs (at least epoch 1)",
    "late": "the second half of the planned epochs (at least the last epoch)",
    "all": "every evaluated epoch after the base",
    "last": "the last planned epoch",
    "none": "no epoch: a property of the corpora, measured before training",
}

# margins fixed before any run, per metric family (the statistic's units)
METRIC_MARGINS = {"logp_gold_norm,none": 0.05, "neg_bpb,none": 0.02}
ACCURACY_MARGIN = 0.01
METRIC_MARGIN_REASON = ("per task (TASK_MARGINS): a fifth of what the base student holds above chance on the task, "
                        "0.06 nats of the gold choice's normalised log-probability on multiple choice and 0.02 on "
                        "sentence completion; 0.02 bits per byte of a gold answer (under a tenth of what separates "
                        "SmolLM2-135M's maths answers from chance-level text, about 0.3 bits per byte); elsewhere "
                        "0.05 nats (the gold's probability share moves by under 5%) and one point (0.01) of "
                        "accuracy, the resolution of a 100-item benchmark")

# margins per task (the stand-in task without ``_smoke``, metric), fixed before the course runs from the
# pilot's base model (benchmarks/pilot_course.json, 2026-11-29): one metric family is not one scale: the
# course base holds 0.33 nats above chance (log 1/4 = -1.386) on multiple choice but 0.11 on completion,
# so 0.05 nats was 15% of one and 44% of the other. Rule: a fifth of what the base student holds above
# chance on the task, rounded down to 0.01; bits per byte keep the family's 0.02. Simulated agrees at a
# true 0 and at the margin: benchmarks/sim_margins.py.
TASK_MARGINS: dict[tuple[str, str], tuple[float, str]] = {
    ("rs_mc", "logp_gold_norm,none"): (0.06, "0.06 nats of the gold choice's normalised log-probability: a fifth "
                                       "of the 0.33 nats the pilot's base student holds above chance (log 1/4) "
                                       "on multiple choice"),
    ("rs_completion", "logp_gold_norm,none"): (0.02, "0.02 nats: a fifth of the 0.11 nats the pilot's base "
                                               "student holds above chance (log 1/4) on sentence completion"),
    ("rs_math_bpb", "neg_bpb,none"): (0.02, "0.02 bits per byte of a gold answer: under a tenth of what separates "
                                      "the student's maths answers from chance-level text (about 0.3)"),
    ("rs_code_bpb", "neg_bpb,none"): (0.02, "0.02 bits per byte of a gold solution, as for maths"),
}


def task_margin(task: str | None, metric: str | None) -> tuple[float, str] | None:
    """The margin fixed for a stand-in task and metric, with its reason (None: the family's)."""
    if not task:
        return None
    return TASK_MARGINS.get((task.removesuffix("_smoke"), metric or ""))


# Figure 13: the smallest recovery of interest, registered before the runs as a share of what burial removed
# (planted − buried on the test probes, measured before any resurfacing run)
SESOI_SHARE = 0.25
SESOI_REASON = ("a quarter of what burial removed: recovery smaller than that would not make K usable again, and "
                "an interval wholly below it is a decisive negative rather than 'inconclusive'")


# Figure 14: the dose rows are read after the last planned epoch (what a run leaves), with replay's margin the
# regime pilot's (resurface.study.regime.REPLAY_MARGIN_REL of the base's score), fixed before that pilot ran
_DOSE_WINDOW = "the dose is judged by what a run leaves: the state after its last planned epoch"
DOSE_MARGIN_REASON = ("±5% of the base's score on the task, the margin the regime pilot's rule fixed for 'replay "
                      "stays near 0' before any pilot run (resurface.study.regime.REPLAY_MARGIN_REL)")


# Figures 6 and 11: the gap of two corpora's mean NLL under the student, in nats per token, fixed before
# any run from the paper's published means (never from the means under test)
NLL_GAP_MARGIN = 0.45
NLL_GAP_MARGIN_REASON = ("0.45 nats per token, fixed in advance as a fraction of a fixed published value, not of "
                         "the data under test: 5% of the paper's mean NLL at τ = 1.25 (Figure 6: 9.10 and 9.01 "
                         "nats per token, the caption not saying which corpus is which, so 9.0), five times the "
                         "0.09-nat gap the paper calls 'almost the same'. A difference of mean NLLs is a per-token "
                         "log-likelihood ratio, a unit that does not move with the scorer's own NLL level (the "
                         "course's scorers are not on the paper's 9 nats). The earlier margin, 5% of the own "
                         "corpus's measured mean, took its scale from the data under test")


@dataclass(frozen=True)
class Claim:
    """One claim as a test.

    ``side_a``/``side_b`` select the conditions compared (:func:`select`): the statistic is
    ``mean Δ(side_a) − mean Δ(side_b)`` over the ``window``'s epochs, paired on items (``side_b``
    None: against the base model); ``per_condition`` makes one row per condition of ``side_a``.
    ``direction`` is the sign the claim predicts for the statistic minus ``threshold``. ``margin`` is a
    fixed margin in the statistic's own units (for statistics with one unit whatever the metric: ρ,
    nats per token of mean NLL); otherwise the margin of a metric is :func:`margin_for`. ``testable`` False: registered, no row can be made (the
    reason in ``note``). ``min_epochs``: a claim about a time course (``time_course`` says which) can be
    tested only where the profile plans at least that many epochs; with fewer its rows are *not testable
    here* (the window's statistic is still shown). ``sesoi_share``: for a direction claim, the smallest
    effect of interest as a share of a reference measured before the runs (Figure 13: what burial removed);
    an interval wholly below it is a decisive negative (*contradicts*), registered here before any run."""

    id: str
    text: str
    figure: str
    kind: str
    statistic: str
    whose: str = "paper"
    benchmarks: tuple[str, ...] = ()
    window: str = "none"
    window_reason: str = ""
    direction: int = 1
    threshold: float = 0.0
    margin: float | None = None
    margin_note: str = ""
    side_a: str = ""
    side_b: str | None = None
    per_condition: bool = False
    testable: bool = True
    note: str = ""
    finding: str = ""
    min_epochs: int = 0
    time_course: str = ""
    sesoi_share: float = 0.0

    def margin_for(self, metric: str | None = None, task: str | None = None) -> float | None:
        """The margin fixed for this claim, task and metric (None for direction and threshold claims):
        the claim's own, else the task's (:data:`TASK_MARGINS`), else the metric family's."""
        if self.kind in ("direction", "threshold"):
            return None
        if self.margin is not None:
            return self.margin
        per_task = task_margin(task, metric)
        if per_task is not None:
            return per_task[0]
        return METRIC_MARGINS.get(metric or "", ACCURACY_MARGIN)


_EARLY = ("the paper calls these gains transient (they fade by epoch 40), so they are looked for in the first "
          "quarter of the planned epochs, not at the last epoch")
# a time course needs epochs on both sides of the change it describes: an early window (the first
# quarter) and the late one (the second half) share no epoch only from 4 planned epochs on
TIME_COURSE_EPOCHS = 4
_TRANSIENT = ("'transient' says the gain fades later, which needs an early window and later epochs apart from it "
              "(at one epoch the early window is the only epoch: a gain there may be lasting)")
_SUSTAINED = ("'sustained' says the gain remains after the early epochs, which needs a late window apart from the "
              "early one (at one epoch the late window is epoch 1 itself)")
_DECAY = "'later decay' needs epochs after the early window to decay in"

_ANY = ("'under any condition' and 'drops' describe the whole run, so the mean over every evaluated epoch")
_RANK = "the ranking is stated of the curves as a whole, not of one phase: the mean over every evaluated epoch"

def _c(id: str, figure: str, whose: str, text: str, kind: str, statistic: str, benchmarks: tuple = (),
       window: str = "none", window_reason: str = "", **kw) -> Claim:
    return Claim(id, text, figure, kind, statistic, whose, benchmarks, window, window_reason, **kw)


CLAIMS: dict[str, Claim] = {c.id: c for c in [
    # ---------------------------------------------------------------- Figure 2 (Qwen self-training)
    _c("self_gain_transient", "Fig 2", "paper",
          "Training the student on its own BOS samples lifts reasoning, maths and code for a while.",
          "direction", "mean Δ of the self-generated corpora (every τ) against the base model, window mean",
          ("arc_c", "gsm8k", "minerva_math", "humaneval"), "early", _EARLY, side_a="self", finding="A",
          min_epochs=TIME_COURSE_EPOCHS, time_course=_TRANSIENT),
    _c("self_gt_replay", "Fig 2", "paper",
          "Those early gains come from the model's own samples: human-written replay of the same size gives less.",
          "direction", "mean Δ(self corpora) − Δ(replay), paired on items, window mean",
          ("arc_c", "gsm8k", "minerva_math", "humaneval"), "early", _EARLY, side_a="self", side_b="replay",
          finding="A"),
    # ---------------------------------------------------------------- Figure 3 (Llama self-training)
    _c("second_narrow_gains", "Fig 3", "paper",
          "The second family (Llama-3.2-1B) gains only on narrow comprehension tasks.",
          "direction", "—", (), "all", _ANY, testable=False, finding="A",
          note="the caption does not say which benchmarks are 'narrow comprehension', so no row is made"),
    _c("second_no_math_gain", "Fig 3", "paper",
          "Self-training the second family brings no GSM8K or Minerva-MATH gain under any condition.",
          "noninferiority", "Δ of one condition against the base model, window mean (no gain: below +margin)",
          ("gsm8k", "minerva_math"), "all", _ANY, direction=-1, side_a="all", per_condition=True,
          margin_note="'no gain' tolerates a gain smaller than the metric's margin: " + METRIC_MARGIN_REASON,
          finding="A"),
    _c("second_code_drop", "Fig 3", "paper",
          "Self-training the second family costs a lot of HumanEval.",
          "direction", "mean Δ of every condition against the base model, window mean",
          ("humaneval",), "all", _ANY, direction=-1, side_a="all", finding="A"),
    # ---------------------------------------------------------------- Figure 4 (similarity split)
    _c("similarity_equivalent", "Fig 4", "paper",
          "Training only on samples far from the benchmark (max-cos below 0.35) or only on close ones gives "
          "about the same GSM8K gain, so the gain is not contamination.",
          "equivalence", "Δ(below the split) − Δ(at or above), paired on items, last epoch",
          ("gsm8k",), "last", "the paper compares the two curves as wholes; the last planned epoch is where "
          "the two subsets have had the same training", side_a="below", side_b="above",
          margin_note="fixed before any run, never from the arms' own gains (half the below arm's estimated "
                      "gain gave up to 12% false 'agrees'): " + METRIC_MARGIN_REASON, finding="B"),
    # ---------------------------------------------------------------- Figure 5 (source swap)
    _c("self_gt_lineage", "Fig 5", "paper",
          "The student learns more from its own samples than from a bigger model of its lineage (Qwen2.5-7B).",
          "direction", "mean Δ(self) − mean Δ(same-lineage source), paired on items, window mean",
          (ALL,), "all", _RANK, side_a="self", side_b="lineage", finding="A"),
    _c("self_gt_recipe", "Fig 5", "paper",
          "The student learns more from its own samples than from the stronger, differently trained Qwen3-8B-Base.",
          "direction", "mean Δ(self) − mean Δ(different-recipe source), paired on items, window mean",
          (ALL,), "all", _RANK, side_a="self", side_b="recipe", finding="A"),
    _c("self_gt_cross", "Fig 5", "paper",
          "The student learns more from its own samples than from another family's (Llama-3.2-1B).",
          "direction", "mean Δ(self) − mean Δ(cross-family source), paired on items, window mean",
          (ALL,), "all", _RANK, side_a="self", side_b="cross", finding="A"),
    # ---------------------------------------------------------------- Figures 6 and 11 (NLL)
    _c("nll_means_close", "Figs 6, 11", "paper",
          "At τ = 1.25 the student's own corpus and the other family's have almost the same mean NLL under the "
          "student (about 9.10 vs 9.01 nats), yet only the own corpus helps.",
          "equivalence", "mean NLL(cross corpus) − mean NLL(own corpus) under the scorer at the highest τ, "
          "Welch t interval over samples", (), "none", WINDOWS["none"],
          margin=NLL_GAP_MARGIN, margin_note=NLL_GAP_MARGIN_REASON, finding="B"),
    _c("nll_not_predictive", "Figs 6, 11", "paper",
          "Mean likelihood under the student does not predict which corpus helps.",
          "equivalence", "Spearman ρ over corpora of mean NLL under the student vs final-epoch Δ",
          (ALL,), "last", "the proxy table ranks corpora by their final-epoch Δ", margin=0.5,
          margin_note="|ρ| < 0.5: the NLL order explains less than a quarter of the utility order", finding="B"),
    _c("similarity_not_predictive", "Fig 4", "paper",
          "Closeness to the benchmark (max-cosine) does not predict which corpus helps.",
          "equivalence", "Spearman ρ over corpora of mean max-cosine to the benchmark's items vs final-epoch Δ",
          (ALL,), "last", "the proxy table ranks corpora by their final-epoch Δ", margin=0.5,
          margin_note="|ρ| < 0.5, as for the NLL proxy", finding="B"),
    # ---------------------------------------------------------------- Figure 7 (Pythia capability)
    _c("capability_kept", "Fig 7", "paper",
          "While the memorising model self-trains, its benchmark scores stay level or rise.",
          "noninferiority", "mean Δ over the τ conditions against the base model, last epoch",
          ("arc_c", "hellaswag", "arc_e", "winogrande"), "last",
          "a loss accumulates over training, so it is largest and most telling at the last planned epoch",
          margin_note=METRIC_MARGIN_REASON, side_a="all", finding="C"),
    # ---------------------------------------------------------------- Figure 8 (extraction)
    _c("extraction_drop_95", "Fig 8", "paper",
          "Exact-match extraction of held-out training text falls by more than 95% with no forget set and no "
          "unlearning objective.",
          "threshold", "relative drop (k0 − k1)/k0 on the same sequences, base to last epoch", (), "last",
          "the abstract states the drop at the end of self-training", threshold=0.95, finding="C"),
    # ---------------------------------------------------------------- Figure 9 (few-shot)
    _c("tau125_sustained", "Fig 9", "paper",
          "Few-shot, the τ = 1.25 corpus gives the largest sustained gains on ARC-Challenge and HellaSwag.",
          "direction", "Δ(self@1.25) − mean Δ(every other condition), paired on items, window mean",
          ("arc_c", "hellaswag"), "late", "'sustained' is about the gains that remain: the second half of the "
          "planned epochs", side_a="self@1.25", side_b="rest", finding="A",
          min_epochs=TIME_COURSE_EPOCHS, time_course=_SUSTAINED),
    _c("gsm8k_early_low_tau", "Fig 9", "paper",
          "Few-shot, τ = 0.75 and τ = 1.0 give early GSM8K gains that later decay.",
          "direction", "mean Δ of the τ = 0.75 and 1.0 corpora against the base model, window mean",
          ("gsm8k",), "early", _EARLY, side_a="self@0.75,self@1", finding="A",
          min_epochs=TIME_COURSE_EPOCHS, time_course=_DECAY),
    # ---------------------------------------------------------------- Figure 10 (cross student)
    _c("own_gt_cross_student", "Fig 10", "paper",
          "Qwen's samples are no general upgrade: Llama trained on them does not beat Llama trained on its own.",
          "noninferiority", "mean Δ(own corpus) − mean Δ(other family's corpora), paired on items, window mean",
          (ALL,), "all", _RANK, side_a="self", side_b="cross",
          margin_note="'does not beat' tolerates the other corpus being better by less than the metric's "
                      "margin: " + METRIC_MARGIN_REASON, finding="A"),
    # ---------------------------------------------------------------- Figure 12 (the book's own)
    _c("relational_beats_intrinsic", "Fig 12", "book",
          "A measure of student–source compatibility orders the corpora by utility better than an intrinsic "
          "proxy does (the paper names compatibility but never measures it: this claim is the book's).",
          "direction", "|Spearman ρ| of a relational measure with Δ − |ρ| of an intrinsic proxy: exact "
          "permutation and least-favourable copula p, interval by test inversion", (ALL,), "last", "the corpora are ranked by their final-epoch Δ", finding="B"),
    # ---------------------------------------------------------------- Figure 13 (the book's own)
    # A planted skill K, buried under human text, then resurfaced (resurface.study.buried_skill); the
    # claims are the book's, derived from the paper's latent capability resurfacing hypothesis. Statistic:
    # K's test probes, mean logp_gold_norm, paired on probe items (resurface.evidence.resurfacing).
    _c("k_planted", "Fig 13", "book",
          "Planting puts the skill K into the student: the planted model scores above the base model on probes "
          "in question forms the planting documents never used (a precondition of the experiment).",
          "direction", "probe score(planted) − probe score(base), paired on test probes, the plantings as runs "
          "(one planting: item noise only)", (), "none", WINDOWS["none"], side_a="planted", side_b="base",
          finding="D"),
    _c("k_latent", "Fig 13", "book",
          "After burial K is latent, not gone: the buried model still scores above the base model (the "
          "second precondition).",
          "direction", "probe score(buried) − probe score(base), paired on test probes, the plantings as runs "
          "(one planting: item noise only)", (), "none", WINDOWS["none"], side_a="buried", side_b="base",
          finding="D"),
    _c("k_self_resurfaces", "Fig 13", "book",
          "Training the buried model on its own BOS samples brings part of K back (the hypothesis: self-training "
          "amplifies what the model already has).",
          "direction", "Δ probe score of the self corpus against the buried model, paired on test probes, last "
          "epoch", (), "last", "recovery is the state after the resurfacing run", side_a="self", finding="D",
          sesoi_share=SESOI_SHARE, margin_note=SESOI_REASON),
    _c("k_preburial_resurfaces", "Fig 13", "book",
          "Training the buried model on samples of the model before burial brings part of K back.",
          "direction", "Δ probe score of the pre-burial corpus against the buried model, paired on test probes, "
          "last epoch", (), "last", "recovery is the state after the resurfacing run", side_a="preburial",
          finding="D",
          sesoi_share=SESOI_SHARE, margin_note=SESOI_REASON),
    _c("k_self_gt_base", "Fig 13", "book",
          "The buried model's own samples bring back more of K than the base model's samples do.",
          "direction", "Δ(self) − Δ(base samples), paired on test probes, last epoch", (), "last",
          "recovery is the state after the resurfacing run", side_a="self", side_b="base", finding="D"),
    _c("k_self_gt_replay", "Fig 13", "book",
          "The buried model's own samples bring back more of K than human-written text of the same size.",
          "direction", "Δ(self) − Δ(replay), paired on test probes, last epoch", (), "last",
          "recovery is the state after the resurfacing run", side_a="self", side_b="replay", finding="D"),
    _c("k_self_gt_cross", "Fig 13", "book",
          "The buried model's own samples bring back more of K than another family's samples.",
          "direction", "Δ(self) − Δ(cross-family), paired on test probes, last epoch", (), "last",
          "recovery is the state after the resurfacing run", side_a="self", side_b="cross", finding="D"),
    _c("k_trace_predicts", "Fig 13", "book",
          "The more a corpus's training text names K's towns, the more of K comes back.",
          "direction", "Spearman ρ over corpora (the units: a corpus's runs share its sampled text, so each "
          "corpus's runs are averaged first) of the share of samples naming a town vs the Δ probe score, last "
          "epoch", (), "last", "recovery is the state after the resurfacing run",
          finding="D"),
    # ---------------------------------------------------------------- Figure 14 (the book's own: the dose)
    _c("dose_replay_gentle", "Fig 14", "book",
          "At the gentlest dose of the grid, training on human text leaves the student where it was (the "
          "paper's replay curve stays near 0).",
          "equivalence", "Δ(replay) against the base at the lowest learning rate, last epoch, within ±5% of the "
          "base's score (the regime pilot's margin)", (), "last", _DOSE_WINDOW, finding="E",
          margin_note=DOSE_MARGIN_REASON),
    _c("dose_replay_harm", "Fig 14", "book",
          "At the strongest dose of the grid, training on human text moves the student below its base: the "
          "dose, not the text, does the damage.",
          "direction", "Δ(replay) against the base at the highest learning rate, last epoch", (), "last",
          _DOSE_WINDOW, direction=-1, finding="E"),
    _c("dose_self_gentler", "Fig 14", "book",
          "Self-training leaves the student better off at the gentlest dose than at the strongest.",
          "direction", "Δ(self, lowest learning rate) − Δ(self, highest), paired on items, last epoch", (),
          "last", _DOSE_WINDOW, finding="E"),
]}

FINDINGS = {"A": "A · transfer follows who wrote the data", "B": "B · proxies and compatibility",
            "C": "C · capability and memorisation", "D": "D · beyond the paper: a buried skill (the book's claims)",
            "E": "E · beyond the paper: the dose (the book's claims)"}


def claims_of(figure: str) -> list[Claim]:
    """The claims registered for a figure (``"Fig 3"`` or ``"fig03"``)."""
    fig = figure if figure.startswith("Fig") else f"Fig {int(figure[3:])}"
    return [c for c in CLAIMS.values() if fig == c.figure or fig in [f"Fig {x.strip()}" for x in
                                                                     c.figure.removeprefix("Figs ").split(",")]]


def task_benchmarks(task: str) -> tuple[str, ...]:
    """The paper benchmarks an evaluation task stands for (``()`` for none)."""
    return TASK_BENCHMARKS.get(task.removesuffix("_smoke"), ())


def stand_ins(claim: Claim, tasks) -> dict[str, list[str]]:
    """Per benchmark the claim names: the tasks of ``tasks`` that stand in for it (``[]``: no stand-in)."""
    names = list(BENCHMARKS) if ALL in claim.benchmarks else list(claim.benchmarks)
    out = {b: [t for t in tasks if b in task_benchmarks(t)] for b in names}
    if ALL in claim.benchmarks:  # every benchmark of the figure: only those the figure evaluates
        out = {b: ts for b, ts in out.items() if ts}
    return out


def claim_tasks(claim: Claim, tasks) -> list[str]:
    """The tasks (in the given order) that stand in for a benchmark the claim names: rows are made
    only for these."""
    keep = {t for ts in stand_ins(claim, tasks).values() for t in ts}
    return [t for t in tasks if t in keep]


def benchmark_names(claim: Claim, task: str) -> str:
    """'ARC-Challenge, MMLU': the benchmarks the claim names that ``task`` stands in for."""
    names = list(BENCHMARKS) if ALL in claim.benchmarks else claim.benchmarks
    return ", ".join(BENCHMARKS[b] for b in names if b in task_benchmarks(task))


def stand_in_text(claim: Claim, tasks) -> str:
    """'GSM8K → rs_math_bpb; Minerva-MATH: no stand-in'."""
    parts = []
    for b, ts in stand_ins(claim, tasks).items():
        parts.append(f"{BENCHMARKS[b]} → {', '.join(ts)}" if ts else f"{BENCHMARKS[b]}: no stand-in")
    return "; ".join(parts)


def window_epochs(window: str, planned: int, evaluated) -> list[int]:
    """The evaluated epochs (> 0) inside a window of ``planned`` epochs (the profile's, fixed in advance)."""
    ev = sorted(int(e) for e in evaluated if int(e) > 0)
    if not ev or window == "none":
        return []
    planned = max(int(planned), 1)
    if window == "early":
        hi = max(1, math.ceil(planned / 4))
        return [e for e in ev if e <= hi]
    if window == "late":
        lo = min(planned // 2 + 1, planned)
        return [e for e in ev if e >= lo]
    if window == "last":
        return [e for e in ev if e == planned] or [ev[-1]]
    return ev


def window_text(window: str, epochs) -> str:
    """'epochs 1–10 (the first quarter of the planned epochs ...)'."""
    ep = sorted(epochs)
    if not ep:
        return WINDOWS.get(window, window)
    span = f"epoch {ep[0]}" if len(ep) == 1 else f"epochs {ep[0]}–{ep[-1]}"
    return f"{span} ({window})"


def select(side: str | None, conditions, exclude=()) -> list[str] | None:
    """Conditions named by a side: ``"self"`` (every τ), ``"self@1.25"``, a comma list, ``"all"``,
    ``"rest"`` (all but ``exclude``), a source kind (``"replay"``, ``"cross"``...). None -> None."""
    if side is None:
        return None
    conds = list(conditions)
    if side == "all":
        return conds
    if side == "rest":
        return [c for c in conds if c not in set(exclude)]
    out = []
    for part in side.split(","):
        if "@" in part:
            out += [c for c in conds if c.split("@")[0] == part.split("@")[0] and "@" in c
                    and math.isclose(float(c.split("@")[1]), float(part.split("@")[1]))]
        else:
            out += [c for c in conds if c.split("@", 1)[0] == part]
    return list(dict.fromkeys(out))


# ------------------------------------------------------------------------------ the regime in words
def model_name(alias: str) -> str:
    """A model's own name: the Hub id's last part, the shipped GGUF file's stem, else the alias."""
    spec = aliases.ALIASES.get(alias)
    if spec is not None and spec.hub_id:
        return spec.hub_id.split("/")[-1]
    if alias == "smollm2-135m":
        return aliases.SMOLLM2_FILE.split(".")[0]
    if alias == "gemma3-270m":  # the package re-assembles gemma-3-270m-q4_k_m.gguf
        return "Gemma-3-270M (Q4_K_M)"
    return alias


FIGURE_MODELS = {"Fig 3": "second_student", "Fig 10": "second_student", "Fig 11": "second_student",
                 "Fig 7": "memorization_model", "Fig 8": "memorization_model"}


def model_key(figure: str) -> str:
    """The parameter naming the model a figure's rows are about (its student, scorer or memorising model)."""
    return FIGURE_MODELS.get(figure, "student")


def is_instruction_tuned(alias: str) -> bool:
    """Whether the alias names an instruction-tuned model (the alias table says)."""
    spec = aliases.ALIASES.get(alias)
    return bool(spec is not None and spec.instruction_tuned)


def scale(P: dict, model_key: str = "student", model: str | None = None) -> str:
    """'course scale (SmolLM2-135M-Instruct, an instruction-tuned student, lr 3e-4, 1,024 tokens per run,
    1 epoch, fp32)', from the parameters; the model is ``model`` (an alias) where given, else the parameter
    ``model_key`` names it."""
    model = model or P.get(model_key) or P.get("student", "?")
    tokens = int(P.get("tokens_per_subset", 0))
    epochs = int(P.get("epochs", 0))
    planted = ""
    if model_key == "memorization_model" and P.get("plant_epochs"):
        k = int(P.get("plantings", 1))
        planted = f" planted {'once' if k == 1 else f'{k} times'},"
    elif model_key == "student" and P.get("skill_plant_epochs"):  # Figure 13
        k = int(P.get("plantings", 1))
        planted = f" K planted and buried {'once' if k == 1 else f'{k} times'},"
    tuned = ""
    if is_instruction_tuned(str(model)):  # the paper's students are all base models: say where ours is not
        tuned = " an instruction-tuned " + ("student" if model_key in ("student", "second_student") else "model") + ","
    rate = learning_rate(P, str(model), model_key)
    return (f"{P.get('profile', '?')} scale ({model_name(str(model))},{tuned}{planted}{rate} {tokens:,} tokens per run, "
            f"{epochs} epoch{'s' if epochs != 1 else ''}, {precision(P)})")


def learning_rate(P: dict, model: str, model_key: str = "student") -> str:
    """' lr 3e-5,' for the runs of ``model`` (its ``lr_by_model`` entry, else ``lr``; a planted model's
    runs use ``lr``), or '' where the parameters name no learning rate."""
    if "lr" not in P:
        return ""
    lr = float(P["lr"]) if model_key == "memorization_model" else \
        float((P.get("lr_by_model") or {}).get(model, P["lr"]))
    return f" lr {lr:.0e},".replace("e-0", "e-")


def precision(P: dict) -> str:
    """The compute precision the parameters choose on this machine: 'bf16 on the CPU's matrix units',
    'fp32', 'bf16 on the GPU' (:func:`resurface.device.precision_words`)."""
    device = str(P.get("device", "auto"))
    try:
        device = resolve_device(device)
    except Exception:  # a page rendered where the run's device is absent: say what was asked
        device = "cuda" if device.startswith("cuda") else "cpu"
    return precision_words(str(P.get("dtype", "auto")), device)


def regime(P: dict, figure: str, model: str | None = None) -> str:
    """The regime of one verdict row: :func:`scale` for the model whose runs (or scores) the row is
    about. That is the row's own ``model`` where it names one (Figure 11's proxy rows are per student:
    a row about the main student's runs sits on the second student's page), else the figure's model
    (:func:`model_key`). The one place a row's regime is decided (:func:`resurface.evidence.contrasts.annotate`)."""
    return scale(P, model_key(figure), model=model or None)


def verdict_words(label: str, whose: str, regime: str) -> str:
    """The verdict with whose claim it judges and the regime it was reached in."""
    owner = "the book's claim" if whose == "book" else "the paper's claim"
    if label.startswith("agrees"):  # the labels of resurface.evidence.verdicts (which imports this module)
        return f"agrees with {owner} at {regime}"
    if label.startswith("contradicts"):
        return f"contradicts {owner} at {regime}"
    if label.startswith("inconclusive"):
        return f"inconclusive at {regime}"
    return f"not testable at {regime}"
