"""The memorization study of Figs 7 and 8, set up and run: self-train a model that has memorized a pool,
and watch its benchmark scores (Fig 7) and its verbatim memory of the pool (Fig 8) epoch by epoch. The
measuring (pool, held-out filter, extraction hook, tables) is :mod:`resurface.measures.memorization`;
the planting is :mod:`resurface.train.planting`.

Plan (one call, :func:`run_study`; every stage is an artifact, so Figs 7 and 8 share everything):

1. **Pool** (:func:`resurface.measures.memorization.pool_for`): the sequences the attack is run on
   (:mod:`resurface.corpus.pools`): Pile documents of the paper's four domains (paper), or the planted
   emails/prose/code (course, smoke).
2. **Base** (:func:`memorization_base`): the paper's base is Pythia itself, which saw the Pile in
   pretraining (``plant_epochs: 0``). The course and smoke bases are *planted*: the student is first
   trained on the pool (:func:`resurface.train.planting.plant`) until part of it is extractable, and
   that model is the base.
3. **Self-training corpus** (:func:`self_training_corpus`): the base's own BOS samples at τ
   (:func:`resurface.study.experiments.sampled_corpus`: sampled, then 8-gram decontaminated against the
   benchmarks), then every sample sharing a word n-gram with the pool removed
   (:func:`resurface.measures.memorization.exclude_pool`), so the pool never enters the training data
   ("held out", no forget set). A planted model can recite its pool when sampled; those samples are
   what this step drops.
4. **Self-training** (:func:`resurface.study.experiments.train_corpus`) of the base on each subset of the
   corpus, with an evaluation hook (:func:`resurface.measures.memorization.make_hook`) that at epoch 0
   and after every epoch runs the profile's benchmark suite *and* the extraction attack on the pool,
   with the log-prob shift of the true continuations against the base. Epoch 0 is evaluated once and
   shared by every run.

**Plantings** (``plantings`` > 1, the course): a planted base is one random draw (its pool, its
anchors, the order of its passes; float rounding on another CPU already changes which sequences
stick), and every run of a single planting shares it, so the runs' spread would miss that draw's
variance. Steps 1-4 are then repeated per planting with an independent seed
(:func:`planting_seed`; planting 0 keeps the profile's seed), each with its own pool, base, corpus and
``num_subsets`` runs; the runs are numbered across plantings (``subset``) and carry ``planting``.
The benchmark items are chosen with the profile's seed in every planting, so every run is scored on
the same items. Figure 8's intervals take the plantings as clusters
(:func:`resurface.evidence.contrasts.extraction_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from resurface import progress
from resurface.artifacts import Store
from resurface.corpus.sampling import derived_seed
from resurface.errors import ParameterError, check_int
from resurface.measures.health import general_nll, heldout_english
from resurface.measures.memorization import exclude_pool, make_hook, pool_for, pool_overlap
from resurface.study import profiles
from resurface.study.experiments import replay_corpus, sampled_corpus, train_corpus
from resurface.train.planting import plant


# ---------------------------------------------------------------------------------------------
# the planted base and its self-training corpus
# ---------------------------------------------------------------------------------------------
def memorization_base(P: dict, pool: str | Path, store: Store | None = None) -> str:
    """The model that is self-trained: ``memorization_model`` itself when ``plant_epochs`` is 0 (Pythia,
    whose memory comes from pretraining), else the folder of that model planted with the pool.
    ``plant_anchor_tokens`` > 0 anchors the planting with the model's own BOS samples at the first of
    ``temperatures`` (the corpus Figure 2 trains on at that τ: :func:`resurface.train.planting.plant`);
    ``plant_mix_docs`` > 0 mixes that many replay-pool documents per pass into the planting
    (``plant_mix_tokens`` each)."""
    if P["plant_epochs"] == 0:
        return P["memorization_model"]
    anchor_tokens = P.get("plant_anchor_tokens", 0)
    anchors = None
    if anchor_tokens:
        anchors = sampled_corpus(P, P["memorization_model"], P["temperatures"][0], store)
    mix_docs = P.get("plant_mix_docs", 0)
    general = None
    if mix_docs:
        general = replay_corpus(P, P["memorization_model"], store)
    return str(plant(P["memorization_model"], pool, epochs=P["plant_epochs"], lr=P["plant_lr"],
                     block_size=P["plant_block_size"], batch_size=P["plant_batch_size"], seed=P["seed"],
                     layout=P["plant_layout"], anchors=anchors, anchor_tokens=anchor_tokens,
                     general=general, general_docs=mix_docs, general_tokens=P.get("plant_mix_tokens", 64),
                     warmup_ratio=P["warmup_ratio"], device=P["device"], dtype=P["dtype"],
                     allow_hub=profiles.allow_hub(P), store=store))


def self_training_corpus(P: dict, base: str, temperature: float, pool: str | Path,
                         store: Store | None = None) -> Path:
    """The base's decontaminated BOS samples at ``temperature``, minus everything overlapping the pool."""
    return exclude_pool(sampled_corpus(P, base, temperature, store), pool, P["ngram"], store)


# ---------------------------------------------------------------------------------------------
# the study
# ---------------------------------------------------------------------------------------------
@dataclass
class Planting:
    """One planted base and what was built on it: its pool, model folder, extraction and corpora."""

    index: int
    pool: Path
    base: str
    base_extraction: Path
    corpora: dict[str, Path] = field(default_factory=dict)


@dataclass
class Study:
    """What :func:`run_study` returns: tidy results (with ``delta``, ``planting``) and the folders behind
    them; ``pool``, ``base``, ``base_extraction`` and ``corpora`` are the first planting's."""

    results: pd.DataFrame
    pool: Path
    base: str
    base_extraction: Path
    corpora: dict[str, Path] = field(default_factory=dict)
    plantings: list[Planting] = field(default_factory=list)
    health: pd.DataFrame | None = None  # general held-out NLL of each planted base next to the model's own

    def held_out(self, ngram: int = 8) -> dict[str, dict[str, int]]:
        """:func:`resurface.measures.memorization.pool_overlap` of every self-training corpus with its own
        planting's pool, summed over plantings per condition (the pool must never enter the self-training
        data)."""
        out: dict[str, dict[str, int]] = {}
        for pl in self.plantings or [Planting(0, self.pool, self.base, self.base_extraction, self.corpora)]:
            for name, corpus in pl.corpora.items():
                o = pool_overlap(corpus, pl.pool, ngram)
                acc = out.setdefault(name, {k: 0 for k in o})
                for k, v in o.items():
                    acc[k] += v
        return out

    @property
    def memorization(self) -> pd.DataFrame:
        """The extraction and log-prob rows (suite ``memorization``)."""
        return self.results[self.results["suite"] == "memorization"]

    @property
    def benchmarks(self) -> pd.DataFrame:
        """The benchmark rows (every suite but ``memorization``)."""
        return self.results[self.results["suite"] != "memorization"]


def planting_seed(seed: int, planting: int) -> int:
    """The seed of planting ``planting``: the profile's own for planting 0 (so a one-planting study is
    unchanged), an independent 31-bit seed derived from ``(seed, planting)`` for the others."""
    return seed if planting == 0 else derived_seed(seed, planting, "planting") & 0x7FFFFFFF


def planting_params(P: dict, planting: int) -> dict:
    """The parameters planting ``planting`` runs with: its own seed (:func:`planting_seed`) for everything
    it draws, and the profile's seed for the evaluation (``eval_seed``), so every planting is scored alike."""
    return {**P, "seed": planting_seed(P["seed"], planting), "eval_seed": P["seed"]}


def num_plantings(P: dict) -> int:
    """``plantings`` (default 1), checked against ``plant_epochs``: with no planting (the paper's
    Pythia) the base is the model itself, a fixed object with no draw to replicate."""
    n = P.get("plantings", 1)
    check_int("plantings", n, 1)
    if n > 1 and P["plant_epochs"] == 0:
        raise ParameterError("plantings", f"{n} plantings with plant_epochs 0: the base is "
                             f"{P['memorization_model']} itself, so there is no planting to repeat",
                             "plantings: 1, or plant_epochs > 0")
    return n


def run_study(P: dict, store: Store | None = None) -> Study:
    """Pool -> base -> self-training corpora at every τ -> runs with the memorization hook, once per
    planting (see module)."""
    from resurface.conditions import deltas  # seaborn: imported when needed

    store = store if store is not None else Store()
    label = P["memorization_model"] + (" (planted)" if P["plant_epochs"] else "")
    n = num_plantings(P)
    frames, plantings = [], []
    for p in range(n):
        if n > 1:
            progress.report(f"planting {p + 1} of {n}")
        q = planting_params(P, p)
        pool = pool_for(q, store)
        base = memorization_base(q, pool, store)
        hook = make_hook(q, base, pool, store)
        corpora = {}
        for t in P["temperatures"]:
            name = f"self@{t:g}"
            corpora[name] = self_training_corpus(q, base, t, pool, store)
            df = train_corpus(q, name, base, corpora[name], label, [P["eval_suite"]], store, eval_hook=hook)
            df["subset"] = df["subset"] + p * P["num_subsets"]
            df["planting"] = p
            frames.append(df)
        plantings.append(Planting(p, Path(pool), base, hook.base_extraction, corpora))
    results = deltas(pd.concat(frames, ignore_index=True))
    first = plantings[0]
    return Study(results=results, pool=first.pool, base=first.base, base_extraction=first.base_extraction,
                 corpora=first.corpora, plantings=plantings, health=planted_health(P, plantings, store))


def planted_health(P: dict, plantings: list[Planting], store: Store) -> pd.DataFrame | None:
    """General held-out NLL of every planted base next to the unplanted model's (None without planting:
    the paper's Pythia is the model itself)."""
    if not P["plant_epochs"]:
        return None
    heldout = heldout_english(P, replay_corpus(P, P["memorization_model"], store), store)
    models = {f"planting {pl.index + 1}": pl.base for pl in plantings}
    return general_nll(P, models, P["memorization_model"], heldout, store)

