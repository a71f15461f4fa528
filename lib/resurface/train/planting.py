"""Planting: train a model on a pool of texts until part of it is memorised (stage ``plant``).

The planted model is the base of the memorization study of Figures 7 and 8
(:mod:`resurface.study.planted_memory`) and holds the skill K of Figure 13
(:mod:`resurface.study.buried_skill`). A training stage built on :func:`resurface.train.training.train`.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from resurface.artifacts import Store, run_stage
from resurface.corpus.decontam import corpus_key
from resurface.corpus.files import corpus_path, read_corpus
from resurface.corpus.pools import pool_key, read_pool
from resurface.device import dtype_key, mixed_precision, resolve_device
from resurface.errors import ParameterError, check_int
from resurface.identity import key_name, model_identity
from resurface.models import load_model, local_path, unconditional_prompt
from resurface.train.packing import PAD_LABEL, pack_blocks, row_blocks
from resurface.train.training import LOSS_COLUMNS, train

PLANT_STAGE = "plant"
PLANT_VERSION = 4  # 2: content identity of model folders, no paths in keys; 3: layout packed or rows; 4: anchors
# (general-text rows enter the key only when used, so plantings without them keep their keys)
MODEL_DIR = "model"


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
    :func:`resurface.train.packing.row_blocks`). An artifact of stage ``plant``: ``model/`` (a normal model folder, usable
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
    for name, v in (("plant_epochs", epochs), ("plant_block_size", block_size), ("plant_batch_size", batch_size)):
        check_int(name, v, 1)
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
    check_int("plant_mix_tokens", general_tokens, 2)
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
        config["anchors"] = {"corpus": corpus_key(corpus_path(anchors).parent), "tokens": anchor_tokens,
                             "rule": "one row per anchor text per pass: the unconditional prompt, then the text"}
        inputs.append(config["anchors"]["corpus"])
    if general is not None:
        config["general"] = {"corpus": corpus_key(corpus_path(general).parent), "docs": general_docs,
                             "tokens": general_tokens, "rule": "per pass, the next docs of a seeded order"}
        inputs.append(config["general"]["corpus"])

    def compute(work: Path) -> dict:
        t0 = time.time()
        m, tok = load_model(str(path), device="cpu", dtype="float32")  # fp32 master weights
        texts = planting_texts([r["text"] for r in records], epochs, seed)
        blocks = (row_blocks if layout == "rows" else pack_blocks)(texts, tok, block_size)
        if anchors is not None:
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
