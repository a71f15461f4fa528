"""The measuring half of Figure 13 (a skill K planted, buried, then resurfaced with BOS samples): K's
world and its probe items, the probe scores of a stored model, the filter that holds K's text out of
every corpus, the per-epoch probe hook, and the traces of K in the corpora.

The plan (world, plant, bury, resurface, traces) and its run
(:func:`resurface.study.buried_skill.run_study`) are in :mod:`resurface.study.buried_skill`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from resurface import hub, models
from resurface.artifacts import Store, make_key, run_stage
from resurface.corpus.decontam import REMOVED_FILE, audit, corpus_key
from resurface.corpus.files import corpus_path, iter_jsonl, read_corpus, read_meta, write_corpus
from resurface.corpus.subsets import make_subsets, subset_dirs
from resurface.device import dtype_key, hook_scoring_dtype, resolve_device
from resurface.errors import ParameterError, ResurfaceError, check_int
from resurface.evaluate import items_skill
from resurface.evaluate.coursetasks import read_jsonl
from resurface.evaluate.evaluation import write_items
from resurface.evaluate.items_skill import PRIMARY, SPLITS, Town, probe_text, score_probes, trace_counts
from resurface.identity import key_name, model_identity
from resurface.models import is_model_name

WORLD_STAGE, WORLD_VERSION = "skill-world", 1
PROBE_STAGE, PROBE_VERSION = "skill-probe", 1
HELD_OUT_STAGE, HELD_OUT_VERSION = "exclude-skill", 1
KINDS = ("self", "preburial", "base", "replay", "cross")
LABELS = {"self": "the buried model's own samples", "preburial": "the planted model's samples (before burial)",
          "base": "the base model's samples", "replay": "human-text replay", "cross": "cross-family samples"}


def check_params(P: dict) -> None:
    """The figure's own parameters (beyond the profile's type checks), before any work."""
    ints = {"skill_entities": 2, "skill_templates": 1, "skill_plant_epochs": 1, "skill_plant_block_size": 2,
            "skill_plant_batch_size": 1, "bury_tokens": 2, "bury_max_epochs": 1, "skill_plant_mix_docs": 0}
    for name, least in ints.items():
        check_int(name, P[name], least)
    for name in ("skill_plant_lr", "bury_lr", "skill_temperature"):
        if not P[name] > 0:
            raise ParameterError(name, f"invalid value {P[name]!r}", "a number > 0")
    if P.get("bury_epochs") is not None:
        check_int("bury_epochs", P["bury_epochs"], 1,
                  "an integer >= 1 (a burial of fixed length), or null (the stopping rule)")
    if not 0 < P["bury_fraction"] < 1:
        raise ParameterError("bury_fraction", f"invalid value {P['bury_fraction']!r}",
                             "a fraction strictly between 0 and 1 of the planted gap")
    if not is_model_name(P["skill_cross_source"]):
        raise ParameterError("skill_cross_source", f"unknown model {P['skill_cross_source']!r}",
                             "a model alias, a Hub id or a local folder")


# ---------------------------------------------------------------------------------------------
# 1. the world
# ---------------------------------------------------------------------------------------------
def skill_world(P: dict, store: Store | None = None) -> Path:
    """The world folder: ``world.json``, ``corpus.jsonl`` (the planting documents, a pool),
    ``probes_dev.jsonl``, ``probes_test.jsonl`` and ``validity.json`` (no shared 8-gram)."""
    from dataclasses import asdict


    config = {"entities": P["skill_entities"], "templates": P["skill_templates"], "seed": items_skill.SEED,
              "attributes": items_skill.ATTRIBUTES, "planting": items_skill.PLANTING_TEMPLATES,
              "probes": items_skill.PROBE_FORMS}

    def compute(work: Path) -> dict:
        world = items_skill.make_world(P["skill_entities"])
        docs = items_skill.planting_documents(world, P["skill_templates"])
        probes = items_skill.probe_items(world)
        problems = items_skill.validate(world, docs, probes)
        if problems:
            raise ResurfaceError("the skill's probes are not valid: " + "; ".join(problems))
        write_corpus(work, docs, {"what": "Figure 13's planting documents", "entities": len(world)})
        items_skill.write_probe_files(work, probes)
        (work / "world.json").write_text(json.dumps([asdict(t) for t in world], indent=2))
        info = {"entities": len(world), "documents": len(docs), "probes": {s: len(v) for s, v in probes.items()},
                "shared_8grams": 0}
        (work / "validity.json").write_text(json.dumps(info, indent=2))
        return {"summary": info}

    return run_stage(WORLD_STAGE, WORLD_VERSION, config, compute, store=store, verbose=False)


def read_world(world: str | Path) -> list:

    return [Town(**t) for t in json.loads((Path(world) / "world.json").read_text())]


def read_probes(world: str | Path, split: str) -> list[dict]:

    return read_jsonl(Path(world) / f"probes_{split}.jsonl")


def skill_texts(world: str | Path) -> dict[str, list[str]]:
    """The texts no training corpus may share an 8-gram with: planting documents and probes."""

    return {"planting": [r["text"] for r in read_corpus(world)],
            "probes": [probe_text(p) for s in SPLITS for p in read_probes(world, s)]}


# ---------------------------------------------------------------------------------------------
# probe scores of a stored model
# ---------------------------------------------------------------------------------------------
def eval_seed(P: dict) -> int:
    """The seed probes are scored with: ``eval_seed`` where a study runs several plantings (each with its
    own ``seed``), so every planting's models are scored alike; else ``seed``."""
    return P.get("eval_seed", P["seed"])


def probe_eval(model: str, world: str | Path, P: dict, store: Store | None = None) -> Path:
    """Both probe splits scored for a model (alias or folder): ``results.csv`` and ``items.csv.gz``."""

    path = models.local_path(model, allow_hub=hub.allow_hub(P))
    config = {"model": key_name(model), "identity": model_identity(model, path), "world": corpus_key(world),
              "splits": list(SPLITS), "seed": eval_seed(P), "dtype": hook_scoring_dtype(P["dtype"], "cpu")}

    def compute(work: Path) -> dict:
        m, tok = models.load_model(str(path), device="cpu", dtype=config["dtype"])  # the form the hooks score in
        items: list[dict] = []
        score_probes(m, tok, world, SPLITS, seed=config["seed"], run=str(model), items=items).to_csv(
            work / "results.csv", index=False)
        write_items(work / "items.csv.gz", items)
        return {}

    return run_stage(PROBE_STAGE, PROBE_VERSION, config, compute, inputs=[config["world"]], store=store,
                     verbose=False)


def split_mean(items: pd.DataFrame, split: str, metric: str | None = None) -> float:
    """The mean of the primary metric (``logp_gold_norm``) over a split's probe items."""

    task = f"rs_skill_{split}"
    d = items[(items["task"] == task) & (items["metric"] == (metric or PRIMARY))]
    if d.empty:
        raise ResurfaceError(f"no per-item values of {task}")
    return float(d["value"].mean())


def probe_items_of(folder: str | Path) -> pd.DataFrame:
    return pd.read_csv(Path(folder) / "items.csv.gz")


# ---------------------------------------------------------------------------------------------
# 4. resurface: the held-out corpora and the probe hook
# ---------------------------------------------------------------------------------------------
def held_out(corpus: str | Path, world: str | Path, ngram: int = 8, store: Store | None = None) -> Path:
    """The corpus without every sample sharing a word ``ngram`` with a planting document or a probe
    (a corpus folder, possibly empty; ``removed.jsonl`` beside it; stage ``exclude-skill``)."""

    src = corpus_path(corpus)
    texts = skill_texts(world)
    config = {"ngram": ngram, "rule": ">= 1 shared word n-gram with a planting document or a probe"}
    inputs = [corpus_key(src.parent), corpus_key(world)]

    def compute(work: Path) -> dict:
        kept, removed, report = audit(list(iter_jsonl(src)), texts, ngram)
        write_corpus(work, kept, {**read_meta(src.parent), "skill_exclusion": report})
        with open(work / REMOVED_FILE, "w", encoding="utf-8") as f:
            for r in removed:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        return {"skill_exclusion": {k: report[k] for k in ("total_in", "kept", "removed")}}

    return run_stage(HELD_OUT_STAGE, HELD_OUT_VERSION, config, compute, inputs=inputs, store=store, verbose=False)


def exclusion_report(folder: str | Path) -> dict:

    return read_meta(folder)["skill_exclusion"]


def condition_name(kind: str, P: dict) -> str:
    return "replay" if kind == "replay" else f"{kind}@{P['skill_temperature']:g}"


def make_probe_hook(P: dict, student: str, world: str | Path, store: Store | None = None):
    """``hook(model, tokenizer, epoch) -> rows``: the test probes, per item in ``hook.items``; epoch 0
    (the buried model) is scored once and shared by every run. Its name in the training key carries a
    digest of its settings."""
    from resurface.train.training import shared_base_eval, student_identity

    store = store if store is not None else Store()

    def hook(model, tokenizer, epoch: int) -> list[dict]:
        items: list[dict] = []
        rows = score_probes(model, tokenizer, world, ("test",), seed=eval_seed(P), epoch=epoch, items=items)
        hook.items[epoch] = items
        return rows.to_dict("records")

    hook.items = {}
    config = {"student_id": student_identity(student, hub.allow_hub(P))[1], "world": corpus_key(world),
              "splits": ["test"], "seed": eval_seed(P), "dtype": dtype_key(P["dtype"], resolve_device(P["device"])),
              "device": "cuda" if str(P["device"]).startswith("cuda") else P["device"]}
    wrapped = shared_base_eval(hook, store, {"skill_probe_hook": config})
    wrapped.__module__ = __name__
    wrapped.__qualname__ = f"skill_probe_hook[{make_key('skill-probe-hook', 1, config)}]"
    return wrapped



# ---------------------------------------------------------------------------------------------
# 5. traces
# ---------------------------------------------------------------------------------------------
def trace_table(P: dict, study, store: Store | None = None) -> pd.DataFrame:
    """Per planting, condition and run (``subset``, numbered across plantings as the runs are; ``-1``: the
    planting's whole held-out corpus): the trace counts of :func:`resurface.evaluate.items_skill.trace_counts`
    and the samples the held-out filter removed. ``study``: what
    :func:`resurface.study.buried_skill.run_study` returns (its ``world`` and ``plantings``, each with its
    own held-out corpora, exclusion reports and seed). Corpora shared by the plantings are counted once per
    planting, as each planting's runs draw their own subsets of them."""

    world = read_world(study.world)
    rows = []
    for b in study.plantings:
        for name in study.corpora:
            folder, rep = b.corpora[name], b.exclusion[name]
            rows.append({"planting": b.index, "condition": name, "subset": -1,
                         **trace_counts([r["text"] for r in read_corpus(folder)], world),
                         "removed": rep["removed"], "total_in": rep["total_in"]})
            subsets = make_subsets(folder, P["num_subsets"], P["tokens_per_subset"], seed=b.seed, store=store,
                                   draw=P.get("subset_draw", "with-replacement"))
            for i, d in enumerate(subset_dirs(subsets)):
                rows.append({"planting": b.index, "condition": name, "subset": b.index * P["num_subsets"] + i,
                             **trace_counts([r["text"] for r in read_corpus(d)], world),
                             "removed": rep["removed"], "total_in": rep["total_in"]})
    return pd.DataFrame(rows)
