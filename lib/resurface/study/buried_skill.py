"""Figure 13 (beyond the paper), set up and run: plant a skill, bury it, and try to resurface it with BOS
samples. The measuring (the world and its probes, probe scores, the held-out filter, the probe hook, the
traces) is :mod:`resurface.measures.resurfacing`; the planting is :mod:`resurface.train.planting`.

The paper explains its results by *latent capability resurfacing*: weak self-training amplifies what
the pretrained model already has, when the corpus is compatible with the student. At real scale no one
knows what is latent; here the latent thing is made on purpose, so the mechanism can be tested with a
known ground truth. Plan (one call, :func:`run_study`; every stage an artifact keyed by its config, so a
killed notebook resumes and a second call reads everything from the store):

1. **World** (:func:`resurface.measures.resurfacing.skill_world`, stage ``skill-world``): the skill K of
   :mod:`resurface.evaluate.items_skill` (invented towns and their attributes), its planting documents
   (a pool folder) and its probe items (``dev`` and ``test``), checked to share no word 8-gram.
2. **Plant** (:func:`planted_model`): the student trained on the planting documents with the planting
   loop of Figures 7–8 (:func:`resurface.train.planting.plant`, stage ``plant``).
3. **Bury** (:func:`bury`, stage ``skill-bury``): the planted model keeps training on unrelated human
   text (the replay pool, fresh documents every burial epoch); K's dev probes and the held-out English
   NLL are scored after every epoch. The burial runs ``bury_epochs`` epochs at ``bury_lr``, both fixed
   before the book's runs by the burial pilot (``benchmarks/pilot_burial.py``, rule
   :data:`resurface.study.regime.BURY_RULE_TEXT`, on seeds the book never uses), so no stopping rule
   reads the book's own probes. With ``bury_epochs`` null, a stopping rule (:func:`stop_now`) ends it
   at the first epoch whose dev gap is below ``bury_fraction`` of the planted gap, or at ``bury_max_epochs``.
4. **Resurface** (:func:`run_study`): the buried model is trained, with the profile's training
   settings, equal token budgets and ``num_subsets`` runs each, on five corpora: its own BOS samples
   (``self``), the planted model's before burial (``preburial``), the base model's (``base``), human-text
   replay (``replay``) and the cross-family source's (``cross``). Every corpus first loses each sample
   that shares a word 8-gram with a planting document or a probe
   (:func:`resurface.measures.resurfacing.held_out`), so no corpus restates K's text; the probe task's
   test split is scored at epoch 0 (the buried model, shared by every run) and after every epoch.
5. **Traces** (:func:`resurface.measures.resurfacing.trace_table`): how often each corpus (and each
   run's subset) names a town, and names it with one of its own attribute values, the countable trace
   of K in the samples.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from resurface import progress
from resurface.artifacts import Store, run_stage
from resurface.corpus.decontam import corpus_key
from resurface.corpus.files import read_corpus
from resurface.device import hook_scoring_dtype, mixed_precision, precision_fields, resolve_device
from resurface.errors import ResurfaceError, check_int
from resurface.evaluate.evaluation import write_items
from resurface.evaluate.items_skill import SPLITS, score_probes
from resurface.identity import key_name, model_identity
from resurface.measures.health import HEALTH_MAX_TOKENS, general_nll, heldout_english
from resurface.measures.proxies import text_nll
from resurface.measures.resurfacing import (KINDS, check_params, condition_name, exclusion_report, held_out,
                                            make_probe_hook, probe_eval, probe_items_of, skill_world, split_mean)
from resurface.models import load_model, local_path
from resurface.study import profiles
from resurface.study.experiments import replay_corpus, sampled_corpus, train_corpus
from resurface.study.planted_memory import planting_params
from resurface.train.packing import pack_blocks
from resurface.train.planting import plant
from resurface.train.training import scoring_copy, train

BURY_STAGE, BURY_VERSION = "skill-bury", 2  # 2: held-out NLL per epoch, fixed lengths
MODEL_DIR = "model"


# ---------------------------------------------------------------------------------------------
# 2. plant
# ---------------------------------------------------------------------------------------------
def planted_model(P: dict, world: str | Path, store: Store | None = None) -> str:
    """The student after training on the planting documents (the ``plant`` stage of Figures 7–8), with
    ``skill_plant_mix_docs`` replay-pool documents per pass when that is > 0."""
    mix = P.get("skill_plant_mix_docs", 0)
    general = replay_corpus(P, P["student"], store) if mix else None
    return str(plant(P["student"], world, epochs=P["skill_plant_epochs"], lr=P["skill_plant_lr"],
                     block_size=P["skill_plant_block_size"], batch_size=P["skill_plant_batch_size"], seed=P["seed"],
                     layout="rows", general=general, general_docs=mix, general_tokens=P["skill_plant_block_size"],
                     warmup_ratio=P["warmup_ratio"], device=P["device"], dtype=P["dtype"],
                     allow_hub=profiles.allow_hub(P), store=store, progress=False))


# ---------------------------------------------------------------------------------------------
# 3. bury
# ---------------------------------------------------------------------------------------------
def stop_now(gap: float, planted_gap: float, fraction: float) -> bool:
    """The burial stopping rule, fixed before any run: stop once the dev gap (model − base) has fallen
    below ``fraction`` of the planted model's dev gap. A planting that left no positive gap has nothing
    to bury: stop at once (the page says K was not planted)."""
    return planted_gap <= 0 or gap < fraction * planted_gap


def stopping_epoch(gaps, planted_gap: float, fraction: float, max_epochs: int) -> int:
    """The burial epoch the rule stops at, given the dev gaps after burial epochs 1, 2, ...
    (:func:`stop_now` at the first of them; when none meets it, the last epoch run: ``max_epochs``,
    the cap, in a full burial)."""
    gaps = list(gaps)[:max_epochs]
    for e, g in enumerate(gaps, start=1):
        if stop_now(g, planted_gap, fraction):
            return e
    return len(gaps)


def burial_blocks(texts: list[str], tokenizer, block_size: int, tokens: int, epochs: int, seed: int):
    """Blocks of fresh replay text for each burial epoch: the documents in a seeded order, packed, cut
    into ``epochs`` consecutive runs of ``tokens // block_size`` blocks (wrapping around, with a
    repeated document, only when the pool is too small)."""
    order = list(texts)
    random.Random(f"resurface-bury:{seed}").shuffle(order)
    per = max(1, tokens // block_size)
    need = per * epochs
    chosen, blocks = [], None
    step = max(8, len(order) // 8)
    for end in range(step, len(order) + step, step):  # pack only as many documents as needed
        chosen = order[:end]
        blocks = pack_blocks(chosen, tokenizer, block_size)
        if blocks.shape[0] >= need:
            break
    if blocks is None or blocks.shape[0] == 0:
        raise ResurfaceError("the replay pool holds too little text for one burial block")
    import torch

    idx = torch.arange(need) % blocks.shape[0]
    return [blocks[idx[e * per:(e + 1) * per]] for e in range(epochs)]


def burial_length(P: dict) -> int:
    """The most burial epochs a run may take: ``bury_epochs`` (a fixed length) or ``bury_max_epochs``."""
    return P["bury_epochs"] if P.get("bury_epochs") is not None else P["bury_max_epochs"]


def bury(P: dict, planted: str, world: str | Path, replay: str | Path, heldout: str | Path,
         store: Store | None = None) -> Path:
    """Train the planted model on fresh replay text, one burial epoch at a time: exactly ``bury_epochs``
    epochs (a length fixed before the runs, by ``benchmarks/pilot_burial.py``), or, with ``bury_epochs``
    null, until the stopping rule (:func:`stop_now`) or ``bury_max_epochs``. After every epoch it scores
    K's probes and the mean NLL per token of the held-out English texts of ``heldout``. The artifact holds
    ``model/`` (the buried model), ``bury.csv`` (per epoch and split: the probe mean, the gap to the base,
    its fraction of the planted gap, ``heldout_nll``, and whether the burial ended there),
    ``items.csv.gz`` (per-item probe values of every burial epoch) and ``bury.json``."""
    base_dir = probe_eval(P["student"], world, P, store)
    plant_dir = probe_eval(planted, world, P, store)
    path = local_path(planted)
    cuda = resolve_device(P["device"]).startswith("cuda")
    config = {"planted": key_name(planted), "identity": model_identity(planted, path), "world": corpus_key(world),
              "replay": corpus_key(replay), "base_probes": Path(base_dir).name, "tokens": P["bury_tokens"],
              "lr": float(P["bury_lr"]), "heldout": corpus_key(heldout),
              "block_size": P["block_size"], "batch_size": P["batch_size"], "effective_batch": P["effective_batch"],
              "warmup_ratio": float(P["warmup_ratio"]), "seed": P["seed"], "device": "cuda" if cuda else "cpu",
              **precision_fields(P["dtype"], "cuda" if cuda else "cpu"),
              "schedule": "each burial epoch: fresh replay blocks, its own warmup + cosine schedule"}
    fixed = P.get("bury_epochs") is not None
    if fixed:
        config.update(epochs=P["bury_epochs"], rule="a fixed number of burial epochs")
    else:
        config.update(max_epochs=P["bury_max_epochs"], fraction=float(P["bury_fraction"]),
                      rule="stop at the first burial epoch whose dev gap < fraction x the planted dev gap")

    def compute(work: Path) -> dict:
        t0 = time.time()
        base_items, plant_items = probe_items_of(base_dir), probe_items_of(plant_dir)
        base = {s: split_mean(base_items, s) for s in SPLITS}
        planted_gap = split_mean(plant_items, "dev") - base["dev"]
        model, tok = load_model(str(path), device="cpu", dtype="float32")  # fp32 master weights
        import torch

        score_dtype = hook_scoring_dtype(P["dtype"], "cpu")
        texts = [r["text"] for r in read_corpus(replay)]
        english = [r["text"] for r in read_corpus(heldout)]
        epochs = burial_blocks(texts, tok, P["block_size"], P["bury_tokens"], burial_length(P), P["seed"])
        full = {s: split_mean(plant_items, s) - base[s] for s in SPLITS}  # the planted gaps

        def english_nll(m) -> float:
            got = pd.DataFrame(text_nll(m, tok, english, max_tokens=HEALTH_MAX_TOKENS)).dropna(subset=["mean_nll"])
            return float((got["mean_nll"] * got["num_tokens"]).sum() / got["num_tokens"].sum())

        scorer = None  # the bf16 scoring copy, made once and refilled each burial epoch
        if not cuda and score_dtype != "float32":
            scorer = scoring_copy(model, getattr(torch, score_dtype))
        start = english_nll(scorer if scorer is not None else model)
        rows = [{"epoch": 0, "split": s, "value": split_mean(plant_items, s), "gap": full[s],
                 "fraction_of_planted": 1.0 if full[s] else float("nan"), "heldout_nll": start} for s in SPLITS]
        items: list[dict] = []
        stopped, last_dev = len(epochs), full["dev"]
        for e, blocks in enumerate(epochs, start=1):
            train(model, tok, blocks, epochs=1, lr=P["bury_lr"], warmup_ratio=P["warmup_ratio"],
                  batch_size=P["batch_size"], effective_batch=P["effective_batch"], seed=P["seed"] + e,
                  progress=False, device="auto" if cuda else "cpu",
                  mixed_precision=mixed_precision(P["dtype"], "cuda" if cuda else "cpu"))
            got: list[dict] = []
            if not cuda and score_dtype != "float32":
                scorer = scoring_copy(model, getattr(torch, score_dtype), into=scorer)
            score_probes(scorer if scorer is not None else model, tok, world, SPLITS, seed=P["seed"], run="bury",
                         epoch=e, items=got)
            items += got
            got = pd.DataFrame(got)
            health = english_nll(scorer if scorer is not None else model)
            for s in SPLITS:
                value = split_mean(got, s)
                rows.append({"epoch": e, "split": s, "value": value, "gap": value - base[s],
                             "fraction_of_planted": (value - base[s]) / full[s] if full[s] else float("nan"),
                             "heldout_nll": health})
            last_dev = split_mean(got, "dev") - base["dev"]
            if not fixed and stop_now(last_dev, planted_gap, P["bury_fraction"]):
                stopped = e
                break
        for r in rows:
            r["stopped"] = r["epoch"] == stopped
        model.save_pretrained(work / MODEL_DIR)
        tok.save_pretrained(work / MODEL_DIR)
        pd.DataFrame(rows).to_csv(work / "bury.csv", index=False)
        write_items(work / "items.csv.gz", items)
        info = {"stopped_at": stopped, "fixed": fixed, "max_epochs": burial_length(P), "fraction": P["bury_fraction"],
                "planted_gap_dev": planted_gap, "heldout_nll_planted": start,
                "planted": planted_gap > 0, "rule_met": stop_now(last_dev, planted_gap, P["bury_fraction"]),
                "tokens_per_epoch": int(epochs[0].numel()), "wall_seconds": round(time.time() - t0, 2)}
        (work / "bury.json").write_text(json.dumps(info, indent=2))
        return {"summary": info}

    return run_stage(BURY_STAGE, BURY_VERSION, config, compute, inputs=[config["world"], config["replay"]],
                     store=store, verbose=False)


# ---------------------------------------------------------------------------------------------
# 4. resurface
# ---------------------------------------------------------------------------------------------
@dataclass
class Burial:
    """One planting of K and its burial: the cluster that every resurfacing run from its buried model shares."""

    index: int  # 0, 1, ...
    seed: int  # the planting's seed (planting, burial, its own corpora, subsets, training order)
    planted: str  # the planted model
    buried: str  # the buried model (the ``model/`` folder of its ``skill-bury`` artifact)
    burial: pd.DataFrame  # bury.csv
    info: dict  # bury.json
    probes: Path  # the planted model's probe scores (``probe_eval``)
    corpora: dict[str, Path] = field(default_factory=dict)  # condition -> held-out corpus of this planting
    exclusion: dict[str, dict] = field(default_factory=dict)  # condition -> exclusion report
    folders: dict[str, Path] = field(default_factory=dict)  # condition -> held-out corpus, kept or not


@dataclass
class Study:
    """What :func:`run_study` returns. ``plantings`` holds one :class:`Burial` per independent planting and
    burial; ``corpora`` (the first planting's folder) and ``exclusion`` (counts summed over the plantings'
    own corpora, a shared corpus once) are per condition; ``burial`` is every burial's ``bury.csv`` with a
    ``planting`` column."""

    results: pd.DataFrame  # tidy rows of every resurfacing run, with ``delta`` (vs its own buried model), ``planting``
    world: Path
    base: str
    plantings: list[Burial]
    probes: dict[str, Path]  # "base" -> the base model's probe_eval folder
    corpora: dict[str, Path] = field(default_factory=dict)
    exclusion: dict[str, dict] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # condition -> why it has no runs
    subset_draw: str = "with-replacement"  # how the runs' subsets were drawn (corpus.subsets)
    health: pd.DataFrame | None = None  # general held-out NLL of the planted and buried models next to the base's

    @property
    def conditions(self) -> list[str]:
        return list(self.corpora)

    @property
    def burial(self) -> pd.DataFrame:
        return pd.concat([b.burial.assign(planting=b.index) for b in self.plantings], ignore_index=True)


def num_plantings(P: dict) -> int:
    """``plantings`` (default 1): independent plantings and burials of K, each with its own runs."""
    n = P.get("plantings", 1)
    check_int("plantings", n, 1)
    return n


def source_corpora(P: dict, planted: str, buried: str, store: Store | None = None,
                   kinds: tuple[str, ...] = KINDS) -> dict[str, Path]:
    """Condition -> the raw (decontaminated) corpus it trains on, before the held-out filter, for ``kinds``."""
    t = P["skill_temperature"]
    sources = {"self": buried, "preburial": planted, "base": P["student"], "cross": P["skill_cross_source"]}
    return {condition_name(kind, P): replay_corpus(P, P["student"], store) if kind == "replay" else
            sampled_corpus(P, sources[kind], t, store) for kind in kinds}


SHARED_KINDS = ("base", "replay", "cross")  # corpora whose source does not depend on the planting: every
OWN_KINDS = tuple(k for k in KINDS if k not in SHARED_KINDS)  # planting trains on the same ones (and a full book
# on Figures 2 and 12's); the self and pre-burial corpora are each planting's own


def run_study(P: dict, store: Store | None = None) -> Study:
    """World -> (planted -> buried -> five corpora, held out -> ``num_subsets`` runs each) for each of
    ``plantings`` independent plantings (see module). The world and its probes, the base, replay and
    cross-family corpora are shared; planting ``p`` draws its planting, burial, self and pre-burial samples,
    subsets and training order from its own seed (:func:`resurface.study.planted_memory.planting_params`:
    planting 0 keeps the profile's seed, so a one-planting study is unchanged)."""
    from resurface.conditions import deltas  # seaborn: imported when needed

    check_params(P)
    n = num_plantings(P)
    store = store if store is not None else Store()
    progress.report("Figure 13: the world and its probes")
    world = skill_world(P, store)
    probes = {"base": probe_eval(P["student"], world, P, store)}
    replay = replay_corpus(P, P["student"], store)
    heldout = heldout_english(P, replay, store)
    shared = source_corpora(P, "", "", store, SHARED_KINDS)
    burials = [plant_and_bury(P, p, n, world, replay, heldout, shared, store) for p in range(n)]
    corpora: dict[str, Path] = {}
    exclusion: dict[str, dict] = {}
    skipped: dict[str, str] = {}
    counted: set[str] = set()
    for b in burials:
        for name, rep in b.exclusion.items():
            if rep["kept"] == 0:
                skipped[name] = (f"all {rep['total_in']} samples share an 8-gram with K's planting documents or "
                                 "probes" + (f" in planting {b.index + 1}" if n > 1 else ""))
            else:
                corpora.setdefault(name, b.corpora[name])
            if str(b.folders[name]) in counted:
                continue  # a shared corpus counts once
            counted.add(str(b.folders[name]))
            exclusion[name] = add_exclusion(exclusion[name], rep) if name in exclusion else dict(rep)
    frames = []
    keep = [c for c in corpora if c not in skipped]  # a corpus empty in any planting is left out everywhere
    for b in burials:
        hook = make_probe_hook(b_params(P, b), b.buried, world, store)
        for k, name in enumerate(keep):
            progress.report(f"Figure 13: condition {k + 1} of {len(keep)}: {name}"
                            + (f" (planting {b.index + 1} of {n})" if n > 1 else ""))
            df = train_corpus(b_params(P, b), name, b.buried, b.corpora[name], name, [], store, eval_hook=hook)
            df["subset"] = df["subset"] + b.index * P["num_subsets"]
            df["planting"] = b.index
            frames.append(df)
    progress.report("Figure 13: general English of the planted and buried models")
    models = {}
    for b in burials:
        label = f" {b.index + 1}" if n > 1 else ""
        models[f"planted with K{label}"] = b.planted
        models[f"after burial{label}"] = b.buried
    health = general_nll(P, models, P["student"], heldout, store)
    results = deltas(pd.concat(frames, ignore_index=True))
    return Study(results, Path(world), P["student"], burials, probes, {c: corpora[c] for c in keep}, exclusion,
                 skipped, P.get("subset_draw", "with-replacement"), health)


EXCLUSION_COUNTS = ("total_in", "kept", "removed")


def add_exclusion(a: dict, b: dict) -> dict:
    """Two held-out filter reports added up: the sample counts (and the removals per source) summed, the
    removed fraction recomputed, the rest (the rule, the n-gram length, the sources' sizes) kept from ``a``."""
    out = dict(a)
    for k in EXCLUSION_COUNTS:
        out[k] = a[k] + b[k]
    out["removed_per_benchmark"] = {k: v + b.get("removed_per_benchmark", {}).get(k, 0)
                                    for k, v in a.get("removed_per_benchmark", {}).items()}
    out["removed_fraction"] = out["removed"] / out["total_in"] if out["total_in"] else 0.0
    return out


def plant_and_bury(P: dict, p: int, n: int, world: Path, replay: Path, heldout: Path, shared: dict[str, Path],
                   store: Store) -> Burial:
    """Planting ``p`` of ``n``: K planted and buried with the planting's own seed, and the five corpora held
    out (its own self and pre-burial samples; the ``shared`` ones)."""
    tag = f" (planting {p + 1} of {n})" if n > 1 else ""
    q = planting_params(P, p)
    progress.report(f"Figure 13: planting K{tag}")
    planted = planted_model(q, world, store)
    progress.report(f"Figure 13: burying K{tag}")
    bdir = bury(q, planted, world, replay, heldout, store)
    buried = str(Path(bdir) / MODEL_DIR)
    progress.report(f"Figure 13: the resurfacing corpora{tag}")
    raw = {**shared, **source_corpora(q, planted, buried, store, OWN_KINDS)}
    folders = {name: held_out(raw[name], world, P["ngram"], store) for name in (condition_name(k, P) for k in KINDS)}
    exclusion = {name: exclusion_report(f) for name, f in folders.items()}
    return Burial(p, q["seed"], planted, buried, pd.read_csv(Path(bdir) / "bury.csv"),
                  json.loads((Path(bdir) / "bury.json").read_text()), probe_eval(planted, world, P, store),
                  {k: f for k, f in folders.items() if exclusion[k]["kept"] > 0}, exclusion, folders)


def b_params(P: dict, b: Burial) -> dict:
    """The profile's parameters as planting ``b`` runs them (:func:`resurface.study.planted_memory.planting_params`)."""
    return planting_params(P, b.index)
