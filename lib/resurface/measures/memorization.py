"""The memorization study of Figs 7 and 8: self-train a model that has memorized a pool, and watch
its benchmark scores (Fig 7) and its verbatim memory of the pool (Fig 8) epoch by epoch.

Plan (one call, :func:`run_study`; every stage is an artifact, so Figs 7 and 8 share everything):

1. **Pool** (:func:`pool_for`): the sequences the attack is run on (:mod:`resurface.corpus.pools`): Pile
   documents of the paper's four domains (paper), or the planted emails/prose/code (course, smoke).
2. **Base** (:func:`memorization_base`): the paper's base is Pythia itself, which saw the Pile in
   pretraining (``plant_epochs: 0``). The course and smoke bases are *planted*: the student is first
   trained on the pool (:func:`plant`) until part of it is extractable, and that model is the base.
3. **Self-training corpus** (:func:`self_training_corpus`): the base's own BOS samples at τ
   (:func:`resurface.study.experiments.sampled_corpus`: sampled, then 8-gram decontaminated against the
   benchmarks), then every sample sharing a word n-gram with the pool removed (:func:`exclude_pool`),
   so the pool never enters the training data ("held out", no forget set). A planted model can
   recite its pool when sampled; those samples are what this step drops.
4. **Self-training** (:func:`resurface.study.experiments.train_corpus`) of the base on each subset of the
   corpus, with an evaluation hook (:func:`make_hook`) that at epoch 0 and after every epoch runs the
   profile's benchmark suite *and* the extraction attack on the pool, with the log-prob shift of the
   true continuations against the base. Epoch 0 is evaluated once and shared by every run.

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

import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from resurface.artifacts import Store
from resurface.device import dtype_key, hook_scoring_dtype, mixed_precision, resolve_device
from resurface.errors import ParameterError, ResurfaceError
from resurface.study import profiles

PLANT_STAGE = "plant"
PLANT_VERSION = 4  # 2: content identity of model folders, no paths in keys; 3: layout packed or rows; 4: anchors
# (general-text rows enter the key only when used, so plantings without them keep their keys)
EXCLUDE_STAGE = "exclude-pool"
EXCLUDE_VERSION = 1
MODEL_DIR = "model"


# ---------------------------------------------------------------------------------------------
# 1. pool
# ---------------------------------------------------------------------------------------------
def pool_for(P: dict, store: Store | None = None) -> Path:
    """The pool folder of the profile: ``pool_size`` sequences of each of ``pool_domains``."""
    from resurface.models import load_tokenizer
    from resurface.corpus.pools import build_pool

    tok = load_tokenizer(P["memorization_model"], allow_hub=profiles.allow_hub(P))
    return build_pool(P["pool"], domains=P["pool_domains"], per_domain=P["pool_size"],
                      min_tokens=P["prefix_tokens"] + P["suffix_tokens"], seed=P["seed"], tokenizer=tok,
                      tokenizer_id=P["memorization_model"], layout=P["pool_layout"], allow_hub=profiles.allow_hub(P),
                      store=store)


# ---------------------------------------------------------------------------------------------
# 2. planted base
# ---------------------------------------------------------------------------------------------
def planting_texts(texts: list[str], passes: int, seed: int) -> list[str]:
    """``passes`` copies of ``texts``, each in its own seeded order.

    Packing cuts the stream into fixed blocks once; with one order repeated, a text split across two
    blocks would be split the same way in every pass and its end never seen after its beginning.
    """
    out: list[str] = []
    for p in range(passes):
        order = list(texts)
        random.Random(f"resurface-plant:{seed}:{p}").shuffle(order)
        out += order
    return out


PLANT_LAYOUTS = ("packed", "rows")


def stack_rows(*parts):
    """Row tensors of different widths stacked into one, right-padded with the training loop's pad label."""
    import torch

    from resurface.train.packing import PAD_LABEL

    width = max(p.shape[1] for p in parts)
    return torch.cat([torch.nn.functional.pad(p, (0, width - p.shape[1]), value=PAD_LABEL) for p in parts])


def general_rows(texts: list[str], per_pass: int, passes: int, seed: int) -> list[str]:
    """``per_pass`` texts for each of ``passes`` passes: consecutive slices of one seeded order of
    ``texts``, wrapping round, so no text repeats before every text has been used once."""
    if not texts:
        raise ParameterError("plant_mix_docs", "the general-text corpus is empty", "a non-empty replay pool")
    order = list(texts)
    random.Random(f"resurface-plant-general:{seed}").shuffle(order)
    return [order[i % len(order)] for i in range(per_pass * passes)]


def plant(model: str, pool: str | Path, *, epochs: int, lr: float, block_size: int, batch_size: int,
          seed: int = 42, warmup_ratio: float = 0.1, layout: str = "packed", anchors: str | Path | None = None,
          anchor_tokens: int = 0, general: str | Path | None = None, general_docs: int = 0,
          general_tokens: int = 64, device: str = "auto", dtype: str = "auto",
          allow_hub: bool = False, store: Store | None = None, progress: bool = True) -> Path:
    """Train ``model`` on the pool texts for ``epochs`` passes; return the planted model's folder.

    Full fine-tune with the project's training loop (:func:`resurface.train.training.train`: packed blocks,
    AdamW, cosine schedule with warmup, fp32 weights), one optimizer step per micro-batch of
    ``batch_size`` blocks, over ``epochs`` copies of the pool in different seeded orders
    (:func:`planting_texts`). ``layout``: ``packed`` (64-token blocks across texts, as the self-training
    data) or ``rows`` (one text per row from position 0, as the attack's prompt:
    :func:`resurface.train.training.row_blocks`). An artifact of stage ``plant``: ``model/`` (a normal model folder, usable
    as a student or source), ``losses.csv`` and ``plant.json``.

    ``anchors`` (rows layout only): a corpus of ordinary text, such as the model's own BOS samples. Every
    pass also trains one row per anchor text: the model's unconditional prompt (its BOS), then the
    text, cut to ``anchor_tokens``. Pool rows start bare, as the attack's prompt does; anchor rows start
    from the prompt that sampling starts from. So the planted model keeps writing ordinary text when
    sampled, instead of reciting its pool, which would leave the held-out self-training corpus empty.

    ``general`` (rows layout only): a corpus of general text (the replay pool). Every pass also trains
    ``general_docs`` of its documents, each a row of its first ``general_tokens`` tokens, drawn so that
    consecutive passes see different documents (:func:`general_rows`). The pool is then learned inside
    ordinary text, a small share of what the model reads, as memorised sequences sit in a pretraining
    corpus, instead of being the only thing it reads, which damages its general language modelling.
    """
    from resurface.artifacts import run_stage
    from resurface.models import load_model, local_path
    from resurface.identity import key_name, model_identity
    from resurface.corpus.pools import pool_key, read_pool
    from resurface.train.training import LOSS_COLUMNS, train
    from resurface.train.packing import pack_blocks, row_blocks

    for name, v in (("plant_epochs", epochs), ("plant_block_size", block_size), ("plant_batch_size", batch_size)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ParameterError(name, f"invalid value {v!r}", "an integer >= 1")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ParameterError("plant_lr", f"invalid value {lr!r}", "a number > 0")
    if layout not in PLANT_LAYOUTS:
        raise ParameterError("plant_layout", f"unknown value {layout!r}", ", ".join(PLANT_LAYOUTS))
    if isinstance(anchor_tokens, bool) or not isinstance(anchor_tokens, int) or anchor_tokens < 0 \
            or (anchors is not None and anchor_tokens < 2):
        raise ParameterError("plant_anchor_tokens", f"invalid value {anchor_tokens!r}",
                             "0 (no anchors), or an integer >= 2 with an anchor corpus")
    if anchors is not None and layout != "rows":
        raise ParameterError("plant_anchor_tokens", "anchor rows need plant_layout: rows (packing has no rows)",
                             "plant_layout: rows, or plant_anchor_tokens: 0")
    if isinstance(general_docs, bool) or not isinstance(general_docs, int) or general_docs < 0 \
            or (general is not None) != (general_docs > 0):
        raise ParameterError("plant_mix_docs", f"invalid value {general_docs!r}",
                             "0 (no general text), or an integer >= 1 with a general-text corpus")
    if general is not None and layout != "rows":
        raise ParameterError("plant_mix_docs", "general-text rows need plant_layout: rows (packing has no rows)",
                             "plant_layout: rows, or plant_mix_docs: 0")
    if isinstance(general_tokens, bool) or not isinstance(general_tokens, int) or general_tokens < 2:
        raise ParameterError("plant_mix_tokens", f"invalid value {general_tokens!r}", "an integer >= 2")
    records = read_pool(pool)
    dev = resolve_device(device)
    cuda = dev.startswith("cuda")
    path = local_path(model, allow_hub=allow_hub)
    config = {"model": key_name(model), "model_identity": model_identity(model, path), "pool": pool_key(pool),
              "epochs": epochs, "lr": float(lr), "block_size": block_size, "batch_size": batch_size,
              "warmup_ratio": float(warmup_ratio), "seed": seed, "device": "cuda" if cuda else "cpu",
              "dtype": dtype_key(dtype, dev), "layout": layout, "passes": "each pass its own seeded order; one epoch over the blocks or rows"}
    inputs = [config["pool"]]
    if anchors is not None:
        from resurface.corpus.files import corpus_path
        from resurface.corpus.decontam import corpus_key

        config["anchors"] = {"corpus": corpus_key(corpus_path(anchors).parent), "tokens": anchor_tokens,
                             "rule": "one row per anchor text per pass: the unconditional prompt, then the text"}
        inputs.append(config["anchors"]["corpus"])
    if general is not None:
        from resurface.corpus.files import corpus_path
        from resurface.corpus.decontam import corpus_key

        config["general"] = {"corpus": corpus_key(corpus_path(general).parent), "docs": general_docs,
                             "tokens": general_tokens, "rule": "per pass, the next docs of a seeded order"}
        inputs.append(config["general"]["corpus"])

    def compute(work: Path) -> dict:
        from resurface.corpus.files import read_corpus

        t0 = time.time()
        m, tok = load_model(str(path), device="cpu", dtype="float32")  # fp32 master weights
        texts = planting_texts([r["text"] for r in records], epochs, seed)
        blocks = (row_blocks if layout == "rows" else pack_blocks)(texts, tok, block_size)
        if anchors is not None:
            from resurface.models import unconditional_prompt

            lead = unconditional_prompt(tok).ids
            anchor = row_blocks([r["text"] for r in read_corpus(anchors)] * epochs, tok, anchor_tokens, lead=lead)
            blocks = stack_rows(blocks, anchor)
        if general is not None:
            docs = general_rows([r["text"] for r in read_corpus(general)], general_docs, epochs, seed)
            blocks = stack_rows(blocks, row_blocks(docs, tok, general_tokens))
        mp = mixed_precision(dtype, dev)
        res = train(m, tok, blocks, epochs=1, lr=lr, warmup_ratio=warmup_ratio, batch_size=batch_size,
                    effective_batch=batch_size, seed=seed, progress=progress, device="auto" if cuda else "cpu",
                    mixed_precision=mp)
        m.save_pretrained(work / MODEL_DIR)
        tok.save_pretrained(work / MODEL_DIR)
        res.losses[LOSS_COLUMNS].to_csv(work / "losses.csv", index=False)
        info = {"model": model, "pool": str(pool), "sequences": len(records), "rows": int(blocks.shape[0]),
                **res.summary,
                "final_loss": float(res.losses["loss"].iloc[-1]), "wall_seconds": round(time.time() - t0, 2)}
        (work / "plant.json").write_text(json.dumps(info, indent=2, default=str))
        return {"summary": {k: info[k] for k in ("sequences", "steps", "final_loss", "wall_seconds")}}

    folder = run_stage(PLANT_STAGE, PLANT_VERSION, config, compute, inputs=inputs, store=store,
                       verbose=progress)
    return Path(folder) / MODEL_DIR


def memorization_base(P: dict, pool: str | Path, store: Store | None = None) -> str:
    """The model that is self-trained: ``memorization_model`` itself when ``plant_epochs`` is 0 (Pythia,
    whose memory comes from pretraining), else the folder of that model planted with the pool.
    ``plant_anchor_tokens`` > 0 anchors the planting with the model's own BOS samples at the first of
    ``temperatures`` (the corpus Figure 2 trains on at that τ: :func:`plant`); ``plant_mix_docs`` > 0 mixes
    that many replay-pool documents per pass into the planting (``plant_mix_tokens`` each)."""
    if P["plant_epochs"] == 0:
        return P["memorization_model"]
    anchor_tokens = P.get("plant_anchor_tokens", 0)
    anchors = None
    if anchor_tokens:
        from resurface.study.experiments import sampled_corpus

        anchors = sampled_corpus(P, P["memorization_model"], P["temperatures"][0], store)
    mix_docs = P.get("plant_mix_docs", 0)
    general = None
    if mix_docs:
        from resurface.study.experiments import replay_corpus

        general = replay_corpus(P, P["memorization_model"], store)
    return str(plant(P["memorization_model"], pool, epochs=P["plant_epochs"], lr=P["plant_lr"],
                     block_size=P["plant_block_size"], batch_size=P["plant_batch_size"], seed=P["seed"],
                     layout=P["plant_layout"], anchors=anchors, anchor_tokens=anchor_tokens,
                     general=general, general_docs=mix_docs, general_tokens=P.get("plant_mix_tokens", 64),
                     warmup_ratio=P["warmup_ratio"], device=P["device"], dtype=P["dtype"],
                     allow_hub=profiles.allow_hub(P), store=store))


# ---------------------------------------------------------------------------------------------
# 3. self-training corpus, held out from the pool
# ---------------------------------------------------------------------------------------------
def _pool_texts(pool: str | Path) -> list[str]:
    from resurface.corpus.pools import read_pool

    return [r["text"] for r in read_pool(pool)]


def pool_overlap(corpus: str | Path, pool: str | Path, ngram: int = 8) -> dict[str, int]:
    """How much of the pool is in a corpus: samples sharing a word ``ngram`` with any pool sequence
    (the decontamination rule of :mod:`resurface.corpus.decontam`) and samples containing a whole pool text."""
    from resurface.corpus.files import read_corpus
    from resurface.corpus.decontam import fingerprints, hits

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
    from resurface.artifacts import run_stage
    from resurface.corpus.files import corpus_path, iter_jsonl, read_meta, write_corpus
    from resurface.corpus.decontam import REMOVED_FILE, audit, corpus_key
    from resurface.corpus.pools import pool_key

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


def self_training_corpus(P: dict, base: str, temperature: float, pool: str | Path,
                         store: Store | None = None) -> Path:
    """The base's decontaminated BOS samples at ``temperature``, minus everything overlapping the pool."""
    from resurface.study.experiments import sampled_corpus

    return exclude_pool(sampled_corpus(P, base, temperature, store), pool, P["ngram"], store)


# ---------------------------------------------------------------------------------------------
# 4. the per-epoch hook: benchmarks + extraction + log-prob shift
# ---------------------------------------------------------------------------------------------
def make_hook(P: dict, base: str, pool: str | Path, store: Store | None = None):
    """``hook(model, tokenizer, epoch) -> rows``: the ``eval_suite`` rows (lm-eval) plus the extraction
    counts and log-prob shifts of :func:`resurface.measures.attacks.summarize`, against the base's scores.

    The base's scores come from the ``extract`` stage (fp32). Epoch 0 is computed once per base and
    shared by every run. The hook's name carries a digest of its settings, so the training runs'
    artifact keys change whenever they do.
    """
    from resurface.artifacts import make_key
    from resurface.measures.attacks import extract, read_scores, score_pool, summarize
    from resurface.evaluate.evaluation import make_eval_hook
    from resurface.corpus.pools import pool_key, read_pool
    from resurface.train.training import _shared_base_eval, student_identity

    store = store if store is not None else Store()
    prefix, suffix, bs = P["prefix_tokens"], P["suffix_tokens"], P["extract_batch_size"]
    eval_seed = P.get("eval_seed", P["seed"])  # the benchmark items: the same in every planting
    suite_hook = make_eval_hook([P["eval_suite"]], limit=P["eval_limit"] or None, seed=eval_seed)
    records = read_pool(pool)
    base_dir = extract(base, pool, prefix_tokens=prefix, suffix_tokens=suffix, batch_size=bs, device=P["device"],
                       dtype=hook_scoring_dtype(P["dtype"], P["device"]), allow_hub=profiles.allow_hub(P), store=store)
    base_scores = read_scores(base_dir)

    def hook(model, tokenizer, epoch: int) -> list[dict]:
        rows = suite_hook(model, tokenizer, epoch)
        scores = score_pool(model, tokenizer, records, prefix, suffix, bs)
        hook.items[epoch] = suite_hook.items.pop(epoch, []) + sequence_items(scores, base_scores)
        return rows + summarize(scores, suffix, base_scores)

    hook.items = {}

    config: dict[str, Any] = {
        "student_id": student_identity(base, profiles.allow_hub(P))[1], "eval_suite": P["eval_suite"],
        "eval_limit": P["eval_limit"] or None, "seed": eval_seed, "pool": pool_key(pool),
        "prefix_tokens": prefix, "suffix_tokens": suffix, "base_extraction": Path(base_dir).name,
        "device": "cuda" if str(P["device"]).startswith("cuda") else P["device"],
        "dtype": dtype_key(P["dtype"], resolve_device(P["device"]))}
    wrapped = _shared_base_eval(hook, store, {"memorization_hook": config})
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
        """:func:`pool_overlap` of every self-training corpus with its own planting's pool, summed over
        plantings per condition (the pool must never enter the self-training data)."""
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
    from resurface.corpus.sampling import derived_seed

    return seed if planting == 0 else derived_seed(seed, planting, "planting") & 0x7FFFFFFF


def num_plantings(P: dict) -> int:
    """``plantings`` (default 1), checked against ``plant_epochs``: with no planting (the paper's
    Pythia) the base is the model itself, a fixed object with no draw to replicate."""
    n = P.get("plantings", 1)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ParameterError("plantings", f"invalid value {n!r}", "an integer >= 1")
    if n > 1 and P["plant_epochs"] == 0:
        raise ParameterError("plantings", f"{n} plantings with plant_epochs 0: the base is "
                             f"{P['memorization_model']} itself, so there is no planting to repeat",
                             "plantings: 1, or plant_epochs > 0")
    return n


def run_study(P: dict, store: Store | None = None) -> Study:
    """Pool -> base -> self-training corpora at every τ -> runs with the memorization hook, once per
    planting (see module)."""
    from resurface.study.experiments import train_corpus
    from resurface.conditions import deltas
    from resurface import progress

    store = store if store is not None else Store()
    label = P["memorization_model"] + (" (planted)" if P["plant_epochs"] else "")
    n = num_plantings(P)
    frames, plantings = [], []
    for p in range(n):
        if n > 1:
            progress.report(f"planting {p + 1} of {n}")
        q = {**P, "seed": planting_seed(P["seed"], p), "eval_seed": P["seed"]}
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
    from resurface.measures.health import general_nll, heldout_english
    from resurface.study.experiments import replay_corpus

    heldout = heldout_english(P, replay_corpus(P, P["memorization_model"], store), store)
    models = {f"planting {pl.index + 1}": pl.base for pl in plantings}
    return general_nll(P, models, P["memorization_model"], heldout, store)


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
    from resurface.measures.attacks import relative_drop

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
