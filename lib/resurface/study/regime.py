"""The course regime's choice: a rule written before the pilot runs, applied to what the pilot measured.

The course cannot train as the paper does (about 5M tokens, 40 epochs, lr 1e-6); it trains a short dose.
A dose that damages the student whatever it reads would test the dose, not the paper, so the regime is
chosen by :func:`choose` from the grid of ``benchmarks/pilot_regime.py``, which runs on seeds the book
never uses (:data:`PILOT_SEEDS`). The self-versus-base claims play no part in the choice.

A grid point (student, learning rate, tokens per run, epochs) qualifies when

1. replay leaves the student where it was: on every course task, the 95% interval of replay's Δ
   against the base lies inside ± :data:`REPLAY_MARGIN_REL` × |the base's score| (the paper's replay
   curve stays near 0);
2. training moves the student at all: the replay runs' mean NLL of held-out English (the share of the
   standard-library docstrings no replay pool holds, :func:`resurface.corpus.replay.is_held_out`: text
   of the kind they trained on that they never saw) falls, its 95% interval below 0;
3. self-training keeps the student near its own distribution: the self runs' mean NLL of held-out own
   samples rises by at most :data:`REPLAY_MARGIN_REL` of the base's;
4. it fits the cold book: a run costs at most :data:`BUDGET_RATIO` times a run of the current regime.

Among qualifying points the rule takes the one whose median minimum detectable effect of the
self − replay contrast (the book's design: its subsets and items) is smallest, the cheaper on a tie.
With no qualifying point the book keeps its regime and says so with the damage on every page. The main
student is the base model (Gemma-3-270M) when it has a qualifying point, else the instruction-tuned one.

This is the rule's second version (:data:`RULE_VERSION`, history in :data:`RULE_HISTORY`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import median

# Seeds of the pilot: sampling, subsets and training. The book's runs use the profile's seed (42) and
# seeds derived from it by small offsets; tests/test_regime.py checks these are disjoint from them.
PILOT_SEEDS = (7919, 7927)
REPLAY_MARGIN_REL = 0.05  # replay's Δ within 5% of the base's score on every task
BUDGET_RATIO = 2.0  # a run may cost twice today's: bf16 on the CPU's matrix units pays for it
BASE_MODEL_STUDENT = "gemma3-270m"
INSTRUCT_STUDENT = "smollm2-135m"

RULE_VERSION = 2
RULE_TEXT = (
    f"A grid point qualifies when (1) on every course task the 95% interval of replay's Δ against the base "
    f"lies within ±{REPLAY_MARGIN_REL:.0%} of the base's score, (2) the replay runs' NLL of held-out English "
    f"(docstrings no replay pool holds) falls (interval below 0), (3) the self runs' NLL of held-out own "
    f"samples rises by at most {REPLAY_MARGIN_REL:.0%} of the base's, and (4) a run costs at most "
    f"{BUDGET_RATIO:g}× a run of the current regime. Among qualifying points the one with the smallest median "
    "MDE of self − replay at the book's design is chosen (the cheaper on a tie); with none, the book keeps "
    "its regime and states the damage. The base model is the main student when it has a qualifying point. "
    "Self-versus-base results play no part in the choice.")
RULE_HISTORY = (
    "The first version asked, as its test that training moves the student, that the self runs' NLL of "
    "held-out own samples fall. A student's own distribution minimises the expected NLL of its own samples "
    "(Gibbs' inequality), so no training can lower it in expectation: the test could not pass, and on the "
    "SmolLM2 grid it did not (upper ends +0.008 to +0.20 nats/token). The second version, written after the "
    "SmolLM2 grid and before any Gemma-3 point, tests movement where it can happen (replay's NLL of held-out "
    "English, text of the kind it trained on) and keeps the own-sample NLL as a bound on drift, with the "
    "replay criterion's 5% margin. Every point was run again under it.")


@dataclass(frozen=True)
class TaskResult:
    """One course task at one grid point."""

    task: str
    base: float  # the base model's score
    replay_lo: float  # 95% interval of replay's Δ against the base
    replay_hi: float
    mde: float  # self − replay MDE at the book's design


@dataclass(frozen=True)
class GridPoint:
    """What the pilot measured at one (student, lr, tokens, epochs)."""

    student: str
    lr: float
    tokens: int
    epochs: int
    tasks: tuple[TaskResult, ...]
    nll_shift_hi: float  # upper end of the 95% interval of the self runs' held-out own-sample NLL shift
    run_seconds: float
    english_shift_hi: float = math.inf  # upper end of the 95% interval of the replay runs' held-out English NLL shift
    own_base_nll: float = math.nan  # the base's mean NLL of the held-out own samples
    reasons: list[str] = field(default_factory=list, compare=False)

    @property
    def median_mde(self) -> float:
        return median(t.mde for t in self.tasks) if self.tasks else math.inf


def failures(p: GridPoint, reference_seconds: float) -> list[str]:
    """Why ``p`` does not qualify (empty when it does)."""
    why = []
    if not p.tasks:
        why.append("no task measured")
    for t in p.tasks:
        m = REPLAY_MARGIN_REL * abs(t.base)
        if not (-m <= t.replay_lo and t.replay_hi <= m):
            why.append(f"replay on {t.task}: [{t.replay_lo:+.3f}, {t.replay_hi:+.3f}] not within ±{m:.3f}")
    if not p.english_shift_hi < 0:
        why.append(f"replay's held-out English NLL does not fall measurably (upper end {p.english_shift_hi:+.3f})")
    drift = REPLAY_MARGIN_REL * abs(p.own_base_nll)
    if not p.nll_shift_hi <= drift:  # NaN base: not measured, not qualifying
        why.append(f"self-training moves the held-out own-sample NLL by up to {p.nll_shift_hi:+.3f}, over "
                   f"{REPLAY_MARGIN_REL:.0%} of the base's ({drift:.3f})")
    if p.run_seconds > BUDGET_RATIO * reference_seconds:
        why.append(f"a run costs {p.run_seconds:.0f} s, over {BUDGET_RATIO:g}x the current {reference_seconds:.0f} s")
    return why


@dataclass(frozen=True)
class Choice:
    """The rule's outcome for one student: the chosen point or None, and every point's reasons."""

    student: str
    chosen: GridPoint | None
    reasons: dict[tuple[float, int, int], list[str]]


def choose(points: list[GridPoint], reference_seconds: dict[str, float]) -> dict[str, Choice]:
    """Apply the rule per student; ``reference_seconds[student]`` is a run of the current regime."""
    out: dict[str, Choice] = {}
    for student in sorted({p.student for p in points}):
        mine = [p for p in points if p.student == student]
        reasons = {(p.lr, p.tokens, p.epochs): failures(p, reference_seconds[student]) for p in mine}
        ok = [p for p in mine if not reasons[(p.lr, p.tokens, p.epochs)]]
        best = min(ok, key=lambda p: (p.median_mde, p.run_seconds)) if ok else None
        out[student] = Choice(student, best, reasons)
    return out


def main_student(choices: dict[str, Choice]) -> str:
    """The base model when the rule found a regime for it, else the instruction-tuned student."""
    c = choices.get(BASE_MODEL_STUDENT)
    return BASE_MODEL_STUDENT if c is not None and c.chosen is not None else INSTRUCT_STUDENT


# ---------------------------------------------------------------------------------------------
# The planting's rule (Figures 7-8): a planted base must stay a healthy model
# ---------------------------------------------------------------------------------------------
PLANT_HEALTH_MARGIN_REL = 0.10  # = resurface.measures.health.HEALTH_MARGIN_REL (a test pins them equal)
PLANT_EXTRACT_MIN = 0.5  # at least half the planted pool extractable: Figure 8 needs sequences to lose
PLANT_BUDGET_RATIO = 3.0  # a planting may cost three times today's (it is once per planting, not per run)
PLANT_RULE_VERSION = 1
PLANT_RULE_TEXT = (
    f"A planting qualifies when (1) the planted model's mean NLL per token of held-out English is within "
    f"+{PLANT_HEALTH_MARGIN_REL:.0%} of the unplanted model's, (2) at least {PLANT_EXTRACT_MIN:.0%} of the "
    f"planted sequences are extractable by the attack, and (3) it costs at most {PLANT_BUDGET_RATIO:g}× "
    "today's planting. Among qualifying plantings the one with the most extractable sequences is chosen "
    "(the cheaper on a tie); with none, the book keeps today's planting and states the damage on its pages.")


@dataclass(frozen=True)
class PlantPoint:
    """What the planting pilot measured at one (learning rate, passes, general-text rows per pass)."""

    lr: float
    passes: int
    mix_docs: int
    extracted: float  # share of the pool the attack extracts from the planted model
    health_relative: float  # planted / base mean NLL per token of held-out English, minus 1
    seconds: float


def _unhealthy(health_relative: float) -> list[str]:
    """The planting rules' health test: held-out English within the margin of the base's (NaN fails)."""
    if health_relative <= PLANT_HEALTH_MARGIN_REL:
        return []
    return [f"held-out English NLL {health_relative:+.0%} of the base's, over +{PLANT_HEALTH_MARGIN_REL:.0%}"]


def _too_costly(seconds: float, reference_seconds: float) -> list[str]:
    """The planting rules' cost test against today's planting."""
    if seconds <= PLANT_BUDGET_RATIO * reference_seconds:
        return []
    return [f"costs {seconds:.0f} s, over {PLANT_BUDGET_RATIO:g}x today's {reference_seconds:.0f} s"]


def plant_failures(p: PlantPoint, reference_seconds: float) -> list[str]:
    """Why planting ``p`` does not qualify (empty when it does)."""
    why = _unhealthy(p.health_relative)
    if not p.extracted >= PLANT_EXTRACT_MIN:
        why.append(f"{p.extracted:.0%} of the pool extractable, under {PLANT_EXTRACT_MIN:.0%}")
    return why + _too_costly(p.seconds, reference_seconds)


def choose_planting(points: list[PlantPoint], reference_seconds: float) -> PlantPoint | None:
    """The qualifying planting with the most extractable sequences (the cheaper on a tie), or None."""
    ok = [p for p in points if not plant_failures(p, reference_seconds)]
    return max(ok, key=lambda p: (p.extracted, -p.seconds)) if ok else None


# Figure 13's planting of K: healthy, and K's probes clearly above the unplanted model's
SKILL_RULE_TEXT = (
    f"A planting of K qualifies when (1) the planted model's mean NLL per token of held-out English is within "
    f"+{PLANT_HEALTH_MARGIN_REL:.0%} of the unplanted model's, (2) K's dev probes rise above the unplanted "
    f"model's (the 95% interval of the paired gap over probes lies above 0), and (3) it costs at most "
    f"{PLANT_BUDGET_RATIO:g}× today's planting. Among qualifying plantings the one with the largest dev-probe "
    "gap is chosen (the cheaper on a tie); with none, Figure 13 keeps today's planting and states the damage.")


@dataclass(frozen=True)
class SkillPoint:
    """What the planting pilot measured for K at one (learning rate, general-text rows per pass)."""

    lr: float
    passes: int
    mix_docs: int
    gap: float  # mean dev-probe gap, planted − unplanted (logp_gold_norm)
    gap_lo: float  # lower end of its 95% interval over probes
    health_relative: float
    seconds: float


def skill_failures(p: SkillPoint, reference_seconds: float) -> list[str]:
    """Why planting ``p`` of K does not qualify (empty when it does)."""
    why = _unhealthy(p.health_relative)
    if not p.gap_lo > 0:
        why.append(f"K's dev-probe gap {p.gap:+.3f} is not clearly above 0 (lower end {p.gap_lo:+.3f})")
    return why + _too_costly(p.seconds, reference_seconds)


def choose_skill_planting(points: list[SkillPoint], reference_seconds: float) -> SkillPoint | None:
    """The qualifying planting of K with the largest dev-probe gap (the cheaper on a tie), or None."""
    ok = [p for p in points if not skill_failures(p, reference_seconds)]
    return max(ok, key=lambda p: (p.gap, -p.seconds)) if ok else None


# ---------------------------------------------------------------------------------------------
# Figure 13's burial: a length fixed before the book's runs, leaving a healthy model
# ---------------------------------------------------------------------------------------------
BURY_FRACTION = 0.4  # K counts as buried once its dev gap is at most 40% of the planted gap
BURY_RULE_VERSION = 1
BURY_RULE_TEXT = (
    f"A burial (learning rate, number of burial epochs) qualifies when (1) the buried model's mean NLL per token "
    f"of held-out English is within +{PLANT_HEALTH_MARGIN_REL:.0%} of the unplanted model's, (2) K's dev-probe "
    f"gap (model − unplanted) is at most {BURY_FRACTION:.0%} of the planted model's at that epoch and at every "
    "later epoch the pilot ran at that rate, so a dip does not count, and (3) the gap is still above 0 at that "
    "epoch: K is latent, not erased. Among qualifying burials the one with the fewest epochs is chosen, then the "
    "lower learning rate. The book buries for exactly that many epochs at that rate, so no stopping rule reads "
    "its own probes; with none, Figure 13 keeps today's stopping rule and states the damage.")


@dataclass(frozen=True)
class BuryPoint:
    """What the burial pilot measured after ``epochs`` burial epochs at ``lr``."""

    lr: float
    epochs: int
    fraction_left: float  # dev gap / planted dev gap after ``epochs`` epochs
    fraction_left_later: float  # the largest such fraction at ``epochs`` and every later pilot epoch
    health_relative: float  # buried / unplanted mean NLL per token of held-out English, minus 1


def bury_failures(p: BuryPoint) -> list[str]:
    """Why burial ``p`` does not qualify (empty when it does)."""
    why = _unhealthy(p.health_relative)
    if not p.fraction_left_later <= BURY_FRACTION:
        why.append(f"K's dev gap is {p.fraction_left_later:.0%} of the planted gap at this or a later epoch, "
                   f"over {BURY_FRACTION:.0%}")
    if not p.fraction_left > 0:
        why.append(f"K's dev gap is {p.fraction_left:.0%} of the planted gap: erased, not latent")
    return why


def bury_points(lr: float, fractions: list[float], health: list[float]) -> list[BuryPoint]:
    """One :class:`BuryPoint` per burial epoch of a pilot run at ``lr``, from the dev-gap fractions and the
    held-out English (relative to the unplanted model) after epochs 1, 2, ..."""
    return [BuryPoint(lr, e, f, max(fractions[e - 1:]), h)
            for e, (f, h) in enumerate(zip(fractions, health), start=1)]


def choose_burial(points: list[BuryPoint]) -> BuryPoint | None:
    """The qualifying burial with the fewest epochs, then the lower learning rate, or None."""
    ok = [p for p in points if not bury_failures(p)]
    return min(ok, key=lambda p: (p.epochs, p.lr)) if ok else None
