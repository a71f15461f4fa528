"""The measuring half of the memorization study of Figs 7 and 8: the pool the extraction attack runs
on, the filter that holds the pool out of the self-training corpora, the per-epoch hook that scores the
benchmarks and the extraction attack, and the extraction tables.

The study's plan and its run (:func:`resurface.study.planted_memory.run_study`) are in
:mod:`resurface.study.planted_memory`; the planting of a base is :mod:`resurface.train.planting`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from resurface import hub
from resurface.artifacts import Store, make_key, run_stage
from resurface.corpus.decontam import REMOVED_FILE, audit, corpus_key, fingerprints, hits
from resurface.corpus.files import corpus_path, iter_jsonl, read_corpus, read_meta, write_corpus
from resurface.corpus.pools import build_pool, pool_key, read_pool
from resurface.device import dtype_key, hook_scoring_dtype, resolve_device
from resurface.errors import ResurfaceError
from resurface.evaluate import evaluation
from resurface.measures.attacks import extract, read_scores, relative_drop, score_pool, summarize
from resurface.models import load_tokenizer

EXCLUDE_STAGE = "exclude-pool"
EXCLUDE_VERSION = 1


# ---------------------------------------------------------------------------------------------
# 1. pool
# ---------------------------------------------------------------------------------------------
def pool_for(P: dict, store: Store | None = None) -> Path:
    """The pool folder of the profile: ``pool_size`` sequences of each of ``pool_domains``."""
    tok = load_tokenizer(P["memorization_model"], allow_hub=hub.allow_hub(P))
    return build_pool(P["pool"], domains=P["pool_domains"], per_domain=P["pool_size"],
                      min_tokens=P["prefix_tokens"] + P["suffix_tokens"], seed=P["seed"], tokenizer=tok,
                      tokenizer_id=P["memorization_model"], layout=P["pool_layout"], allow_hub=hub.allow_hub(P),
                      store=store)




# ---------------------------------------------------------------------------------------------
# 2. the self-training corpus, held out from the pool
# ---------------------------------------------------------------------------------------------
def _pool_texts(pool: str | Path) -> list[str]:
    return [r["text"] for r in read_pool(pool)]


def pool_overlap(corpus: str | Path, pool: str | Path, ngram: int = 8) -> dict[str, int]:
    """How much of the pool is in a corpus: samples sharing a word ``ngram`` with any pool sequence
    (the decontamination rule of :mod:`resurface.corpus.decontam`) and samples containing a whole pool text."""
    texts = _pool_texts(pool)
    fps = fingerprints({"pool": texts}, ngram)
    samples = [r["text"] for r in read_corpus(corpus)]
    stripped = [t.strip() for t in texts]
    return {"samples": len(samples),
            "sharing_ngram": sum(1 for s in samples if hits(s, fps, ngram)),
            "containing_sequence": sum(1 for s in samples if any(t in s for t in stripped))}


def exclude_pool(corpus: str | Path, pool: str | Path, ngram: int = 8, store: Store | None = None,
                 progress: bool = True) -> Path:
    """The corpus without every sample that shares a word ``ngram`` with a pool sequence.

    A corpus folder (meta.json gains ``pool_exclusion``, the audit report) with ``removed.jsonl``
    beside it; an artifact of stage ``exclude-pool``. A corpus left empty is an error.
    """
    src = corpus_path(corpus)
    texts = _pool_texts(pool)
    config = {"ngram": ngram, "rule": ">= 1 shared word n-gram with any pool sequence"}
    inputs = [corpus_key(src.parent), pool_key(pool)]

    def compute(work: Path) -> dict:
        kept, removed, report = audit(list(iter_jsonl(src)), {"pool": texts}, ngram, progress=False)
        if not kept:
            raise ResurfaceError(f"every one of the {len(removed)} samples of {src.parent} shares a {ngram}-gram "
                                 "with the memorization pool (the model recites it when sampled); sample more "
                                 "(num_samples), plant less (plant_epochs, plant_lr), or use a larger ngram")
        write_corpus(work, kept, {**read_meta(src.parent), "pool_exclusion": report,
                                  "pool_excluded": {"pool": str(pool), "key": inputs[1]}})
        with open(work / REMOVED_FILE, "w", encoding="utf-8") as f:
            for r in removed:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        return {"pool_exclusion": {k: report[k] for k in ("total_in", "kept", "removed")}}

    return run_stage(EXCLUDE_STAGE, EXCLUDE_VERSION, config, compute, inputs=inputs, store=store, verbose=progress)




# ---------------------------------------------------------------------------------------------
# 3. the per-epoch hook: benchmarks + extraction + log-prob shift
# ---------------------------------------------------------------------------------------------
def make_hook(P: dict, base: str, pool: str | Path, store: Store | None = None):
    """``hook(model, tokenizer, epoch) -> rows``: the ``eval_suite`` rows (lm-eval) plus the extraction
    counts and log-prob shifts of :func:`resurface.measures.attacks.summarize`, against the base's scores.

    The base's scores come from the ``extract`` stage (fp32). Epoch 0 is computed once per base and
    shared by every run. The hook's name carries a digest of its settings, so the training runs'
    artifact keys change whenever they do.
    """
    # lazily: tests patch these two on resurface.train.training, which a measures module may not import whole
    from resurface.train.training import shared_base_eval, student_identity

    store = store if store is not None else Store()
    prefix, suffix, bs = P["prefix_tokens"], P["suffix_tokens"], P["extract_batch_size"]
    eval_seed = P.get("eval_seed", P["seed"])  # the benchmark items: the same in every planting
    suite_hook = evaluation.make_eval_hook([P["eval_suite"]], limit=P["eval_limit"] or None, seed=eval_seed)
    records = read_pool(pool)
    base_dir = extract(base, pool, prefix_tokens=prefix, suffix_tokens=suffix, batch_size=bs, device=P["device"],
                       dtype=hook_scoring_dtype(P["dtype"], P["device"]), allow_hub=hub.allow_hub(P), store=store)
    base_scores = read_scores(base_dir)

    def hook(model, tokenizer, epoch: int) -> list[dict]:
        rows = suite_hook(model, tokenizer, epoch)
        scores = score_pool(model, tokenizer, records, prefix, suffix, bs)
        hook.items[epoch] = suite_hook.items.pop(epoch, []) + sequence_items(scores, base_scores)
        return rows + summarize(scores, suffix, base_scores)

    hook.items = {}

    config: dict[str, Any] = {
        "student_id": student_identity(base, hub.allow_hub(P))[1], "eval_suite": P["eval_suite"],
        "eval_limit": P["eval_limit"] or None, "seed": eval_seed, "pool": pool_key(pool),
        "prefix_tokens": prefix, "suffix_tokens": suffix, "base_extraction": Path(base_dir).name,
        "device": "cuda" if str(P["device"]).startswith("cuda") else P["device"],
        "dtype": dtype_key(P["dtype"], resolve_device(P["device"]))}
    wrapped = shared_base_eval(hook, store, {"memorization_hook": config})
    wrapped.__module__ = __name__
    wrapped.__qualname__ = f"memorization_hook[{make_key('memorization-hook', 1, config)}]"
    # the name in the training run's key: the module's path before the stage packages, so that runs
    # stored before the move are found after it (test_layering/test_memorization pin it)
    wrapped.key_name = f"resurface.memorization.{wrapped.__qualname__}"
    wrapped.base_extraction = Path(base_dir)  # the base's extraction folder (run_study reports it)
    return wrapped


def sequence_items(scores: pd.DataFrame, base: pd.DataFrame) -> list[dict]:
    """Per-sequence rows for the training run's per-item file (suite ``memorization``, task = the
    sequence's group, item = its index in the pool): ``extracted`` (1/0) and ``logprob_shift`` (the
    summed log-prob of the true suffix minus the base's), so extraction can be paired on sequences."""
    shift = scores["logprob_sum"].to_numpy() - base["logprob_sum"].to_numpy()
    rows = []
    for i, (group, extracted) in enumerate(zip(scores["group"], scores["extracted"])):
        rows.append({"suite": "memorization", "task": group, "item": i, "metric": "extracted",
                     "value": float(bool(extracted))})
        rows.append({"suite": "memorization", "task": group, "item": i, "metric": "logprob_shift",
                     "value": float(shift[i])})
    return rows


# ---------------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------------
def extraction_table(df: pd.DataFrame, metric: str = "extracted") -> pd.DataFrame:
    """Per condition, group and epoch: the mean (and std over runs) of a memorization metric (with
    several plantings each run counts on its own planting's pool, at epoch 0 on its own base)."""
    d = df[(df["suite"] == "memorization") & (df["metric"] == metric) & (df["level"] == "group")]
    return (d.groupby(["condition", "task", "epoch"])["value"].agg(["mean", "std"]).reset_index()
            .rename(columns={"task": "group"}))


def extraction_drop(df: pd.DataFrame) -> pd.DataFrame:
    """Per condition and group: extracted sequences at the base (epoch 0) and after the last epoch
    (mean over runs; ``sequences`` in one planting's pool, ``plantings`` of them), and the relative drop
    ``(base - last) / base`` (NaN when the base has none)."""
    t = extraction_table(df)
    last = t["epoch"].max()
    out = []
    for (cond, group), g in t.groupby(["condition", "group"], sort=False):
        g = g.set_index("epoch")
        first, final = float(g.loc[0, "mean"]), float(g.loc[last, "mean"])
        sel = df[(df["condition"] == cond) & (df["task"] == group) & (df["metric"] == "extracted")]
        n = int(sel["n"].iloc[0])  # sequences of the group in one pool (every planting's pool has as many)
        drop = relative_drop(first, final)
        plantings = int(sel["planting"].nunique()) if "planting" in sel.columns else 1
        out.append({"condition": cond, "group": group, "sequences": n, "plantings": plantings,
                    "base_extracted": first,
                    "last_epoch": int(last), "last_extracted": final,
                    "relative_drop": float("nan") if drop is None else drop})
    return pd.DataFrame(out)
