"""The intrinsic proxies of Figures 4, 6 and 11: benchmark proximity and likelihood under the student.

**NLL proxy** (METHODS.md c.7). A sample's score is the mean over its tokens of ``-log p(token | prompt,
previous tokens)`` under a *scorer* model at temperature 1, teacher-forced, in nats. The text is
tokenised with the scorer's tokenizer without special tokens (at most ``max_tokens`` tokens), the
scorer's own unconditional prompt (:func:`resurface.models.unconditional_prompt`: its BOS token, or
``"\\n"`` without one) is prepended and conditioned on but not scored, and no EOS is appended. So a
source scoring its own corpus gets almost, but not exactly, the corpus's ``mean_nll`` field from
sampling: that one includes a generated EOS and was computed on the sampled ids, not on the
re-tokenised stripped text. Samples are scored in batches sorted by length, right-padded with an
attention mask; a batch holds at most ``batch_size`` rows and at most ``LOGITS_BUDGET`` logits.

**Similarity proxy** (METHODS.md c.6). Every sample and every benchmark item (the item texts that
decontamination fingerprints, :func:`resurface.evaluate.suites.benchmark_texts`) is embedded with a
sentence-transformers model as a document (no query instruction), truncated to ``max_tokens``
word pieces, and L2-normalised. A sample's score for one benchmark is its maximum cosine over that
benchmark's items. The item embeddings are an artifact of their own (stage ``item-embeddings``, one
per suite and embedder), computed once and read by every corpus. For the paper suites the items
are those of every split decontamination reads (METHODS.md c.2), a superset of the test split,
so a max-cosine can only be higher than over the test items alone.

Both scores are artifacts keyed on the corpus, the model's identity and every setting; with
``max_samples`` a seeded random subset of the corpus is scored (a corpus mean estimated on a sample).
The figures score every sample for similarity (a small embedder is cheap) and ``nll_max_samples`` of
them for NLL (a forward pass of the scorer over every sample is the dearest step on a CPU).

**Threshold split** (Fig 4, METHODS.md c.6): :func:`split_by_similarity` cuts a corpus at a
max-cosine threshold into two corpus folders, each trained on like any other corpus.

This module holds the stages and their command line only. The figures' tables on a profile's
parameters (per-τ scores, the split runs, the proxies of every trained corpus next to its Δ, their
intervals and verdict rows) are :mod:`resurface.evidence.proxytables`; the page prose is
:mod:`resurface.evidence.findings`.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from resurface import models
from resurface.artifacts import Store, run_stage
from resurface.corpus.decontam import corpus_key, texts_digest
from resurface.corpus.files import CorpusError, corpus_path, iter_jsonl, read_meta, write_corpus
from resurface.device import resolve_device, resolve_dtype
from resurface.errors import ParameterError, check_int
from resurface.evaluate.suites import benchmark_texts, get_suite
from resurface.identity import folder_id, identity_string, key_name, model_identity
from resurface.models import ALIASES, local_path, package_version, prompt_of, unconditional_prompt

NLL_STAGE = "nll"
NLL_VERSION = 2  # 2: content identity of model folders, no paths in keys
ITEMS_STAGE = "item-embeddings"
ITEMS_VERSION = 2  # 2: content identity of model folders, no paths in keys
SIM_STAGE = "similarity"
SIM_VERSION = 1
SPLIT_STAGE = "similarity-split"
SPLIT_VERSION = 1

NLL_FILE = "nll.csv"
SIM_FILE = "similarity.csv"
SUMMARY_FILE = "summary.json"
LOGITS_BUDGET = 2**27  # logits per forward pass (512 MB in fp32): bounds a batch's rows

NLL_CONVENTION = ("mean over the text's tokens (scorer tokenizer, no special tokens, at most max_tokens) of "
                  "-log p(token | prompt, previous tokens) at temperature 1, in nats; the scorer's "
                  "unconditional prompt is prepended and not scored; no EOS appended")
SIM_CONVENTION = ("max over a benchmark's items of the cosine between L2-normalised sentence embeddings "
                  "(documents, no instruction, truncated to max_tokens word pieces)")
SIDES = ("below", "above")
THRESHOLD_RULES = ("fixed", "median")


# ------------------------------------------------------------------------------ shared helpers
def _check_optional_count(name: str, value: Any) -> int | None:
    """None/0 mean "no limit"; otherwise an integer >= 1."""
    if value is None or value == 0:
        return None
    return check_int(name, value, 1, "None, 0 (no limit) or an integer >= 1")


def _check_count(name: str, value: Any) -> int:
    return check_int(name, value, 1)


def _read_records(corpus: str | Path) -> tuple[Path, list[dict]]:
    """The corpus folder and its records; CorpusError when it is missing or empty."""
    src = corpus_path(corpus)
    records = list(iter_jsonl(src))
    if not records:
        raise CorpusError(f"{src}: the corpus is empty, so there is nothing to score")
    return src.parent, records


def records_key(records: Sequence[dict]) -> str:
    """Identity of a corpus's content for the proxy stages: sha256 over every record's id and text.

    The proxies depend on nothing else, so two folders holding the same records share one artifact
    (the replay pool is one artifact per student tokenizer, with identical texts)."""
    h = hashlib.sha256()
    for i, r in enumerate(records):
        h.update(json.dumps([r.get("id", i), r["text"]], ensure_ascii=False).encode() + b"\n")
    return "records:sha256:" + h.hexdigest()


def chosen_indices(n: int, max_samples: int | None, seed: int) -> list[int]:
    """All of ``range(n)``, or a seeded random subset of ``max_samples`` of them (sorted)."""
    if max_samples is None or max_samples >= n:
        return list(range(n))
    return sorted(random.Random(seed).sample(range(n), max_samples))


def artifact_id(folder: str | Path) -> str:
    """``stage/key`` of an artifact folder (from its artifact.json), or ``sha256:`` of its files
    (:func:`resurface.identity.folder_id`; never a path, so keys survive moving the folder)."""
    return folder_id(folder)


# One loaded scorer and one loaded embedder are kept per process, so scoring many corpora with the
# same model loads it once.
_LOADED: dict[str, tuple[tuple, Any]] = {}


def clear_loaded() -> None:
    """Forget the models kept in memory (tests; or to free memory)."""
    _LOADED.clear()


def _scorer(path: Path, device: str, dtype: str, ident: str = ""):
    """The scorer at ``path``, kept loaded; ``ident`` (its identity) reloads it after a rewrite."""
    key = (str(path), device, dtype, ident)
    if _LOADED.get("lm", (None,))[0] != key:
        _LOADED.pop("lm", None)
        _LOADED["lm"] = (key, models.load_model(str(path), device=device, dtype=dtype))
    return _LOADED["lm"][1]


def _embedder(name: str, device: str, allow_hub: bool, ident: str = ""):
    key = (name, device, allow_hub, ident)
    if _LOADED.get("embedder", (None,))[0] != key:
        _LOADED.pop("embedder", None)
        _LOADED["embedder"] = (key, models.load_embedder(name, device=device, allow_hub=allow_hub))
    return _LOADED["embedder"][1]


def _identity(name: str, path: Path) -> dict:
    """What pins a model's weights in an artifact key (:func:`resurface.identity.model_identity`; plus
    the package version for embedder aliases)."""
    ident = model_identity(name, path)
    spec = ALIASES.get(name)
    if spec is not None and spec.kind == "embedder":
        ident["package_version"] = package_version(spec.source)
    return ident


# ------------------------------------------------------------------------------ NLL
def text_nll(model, tokenizer, texts: Sequence[str], *, max_tokens: int = 1024, batch_size: int = 16,
             logits_budget: int = LOGITS_BUDGET, progress: bool = False) -> list[dict]:
    """Per text: ``mean_nll`` (nats/token), ``num_tokens`` scored and ``truncated``, in input order.

    Teacher-forced under ``model`` with its unconditional prompt prepended (not scored). Texts are
    batched longest first, right-padded, with an attention mask; a text with no tokens gets NaN.
    """
    import torch
    from tqdm.auto import tqdm

    _check_count("max_tokens", max_tokens)
    _check_count("batch_size", batch_size)
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise ParameterError("texts", "expected a list of strings")
    prompt = list(unconditional_prompt(tokenizer).ids)
    limit = max_tokens
    max_pos = getattr(model.config, "max_position_embeddings", None)
    if max_pos:
        limit = min(limit, int(max_pos) - len(prompt))
    encoded = []
    for t in texts:
        ids = tokenizer(t, add_special_tokens=False)["input_ids"]
        encoded.append((ids[:limit], len(ids) > limit))
    head = model.get_output_embeddings()
    vocab = int(head.weight.shape[0]) if head is not None else int(model.config.vocab_size)
    order = sorted(range(len(texts)), key=lambda i: -len(encoded[i][0]))
    batches: list[list[int]] = []
    for i in order:  # longest first: a batch's first row sets its padded length
        if batches:
            b = batches[-1]
            width = len(prompt) + len(encoded[b[0]][0])
            if len(b) < batch_size and (len(b) + 1) * width * vocab <= logits_budget:
                b.append(i)
                continue
        batches.append([i])
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    out: list[dict | None] = [None] * len(texts)
    p = len(prompt)
    device = model.device
    with torch.inference_mode():
        for b in tqdm(batches, desc="nll", unit="batch", disable=not progress, file=sys.stderr):
            width = p + len(encoded[b[0]][0])
            ids = torch.full((len(b), width), pad, dtype=torch.long)
            mask = torch.zeros((len(b), width), dtype=torch.long)
            for r, i in enumerate(b):
                seq = prompt + encoded[i][0]
                ids[r, :len(seq)] = torch.tensor(seq, dtype=torch.long)
                mask[r, :len(seq)] = 1
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
            for r, i in enumerate(b):
                toks, truncated = encoded[i]
                n = len(toks)
                if n == 0:
                    out[i] = {"mean_nll": float("nan"), "num_tokens": 0, "truncated": truncated}
                    continue
                logp = torch.log_softmax(logits[r, p - 1:p - 1 + n].float(), dim=-1)
                target = torch.tensor(toks, dtype=torch.long, device=logp.device)[:, None]
                nll = -logp.gather(1, target).squeeze(1)
                out[i] = {"mean_nll": float(nll.mean()), "num_tokens": n, "truncated": truncated}
            del logits
    return out  # type: ignore[return-value]


def nll(corpus: str | Path, model: str, *, max_tokens: int = 1024, max_samples: int | None = None,
        seed: int = 42, batch_size: int = 16, device: str = "auto", dtype: str = "auto",
        allow_hub: bool = False, store=None, out: str | Path | None = None, progress: bool = True) -> Path:
    """Score every sample of a corpus folder (or a seeded subset of ``max_samples``) under ``model``.

    Writes ``nll.csv`` (index, id, mean_nll, num_tokens, truncated; one row per scored sample) and
    ``summary.json``. An artifact of stage ``nll`` keyed on the corpus records (:func:`records_key`: a
    folder with the same records reuses it), the scorer's identity, its
    prompt ids, ``max_tokens``, the subset and the precision; with ``out``, written into that folder.
    """
    if not isinstance(model, str) or not model:
        raise ParameterError("model", f"expected a model alias, folder or Hub id, got {model!r}")
    _check_count("max_tokens", max_tokens)
    _check_count("batch_size", batch_size)
    max_samples = _check_optional_count("max_samples", max_samples)
    src_dir, records = _read_records(corpus)
    if max_samples is not None and max_samples >= len(records):
        max_samples = None  # the whole corpus: the same artifact as without a limit
    dev = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, dev)
    path = local_path(model, allow_hub=allow_hub)
    prompt = prompt_of(path)
    input_key = records_key(records)
    config = {"scorer": key_name(model), "scorer_identity": _identity(model, path), "prompt_ids": list(prompt.ids),
              "max_tokens": max_tokens, "max_samples": max_samples, "seed": seed if max_samples else None,
              "dtype": str(torch_dtype).replace("torch.", ""),
              "device": "cuda" if str(dev).startswith("cuda") else "cpu", "convention": NLL_CONVENTION}

    def compute(work: Path) -> dict:
        m, tok = _scorer(path, dev, dtype, identity_string(config["scorer_identity"]))
        idx = chosen_indices(len(records), max_samples, seed)
        scores = text_nll(m, tok, [records[i]["text"] for i in idx], max_tokens=max_tokens,
                          batch_size=batch_size, progress=progress)
        df = pd.DataFrame([{"index": i, "id": records[i].get("id", i), **s} for i, s in zip(idx, scores)])
        df.to_csv(Path(work) / NLL_FILE, index=False)
        vals = df["mean_nll"].dropna()
        src_meta = read_meta(src_dir)
        summary = {"scorer": model, "corpus": str(src_dir.resolve()), "records_key": input_key,
                   "corpus_model": src_meta.get("model"), "corpus_temperature": src_meta.get("temperature"),
                   "records": len(records), "scored": len(df), "mean_nll": float(vals.mean()),
                   "median_nll": float(vals.median()), "std_nll": float(vals.std(ddof=0)),
                   "mean_tokens": float(df["num_tokens"].mean()), "truncated": int(df["truncated"].sum()),
                   "prompt_text": prompt.text, "convention": NLL_CONVENTION}
        (Path(work) / SUMMARY_FILE).write_text(json.dumps(summary, indent=2))
        return {"summary": summary}

    return run_stage(NLL_STAGE, NLL_VERSION, config, compute, inputs=[input_key], store=store, out=out)


def read_nll(folder: str | Path) -> pd.DataFrame:
    """The per-sample scores of an ``nll`` folder."""
    f = Path(folder) / NLL_FILE
    if not f.exists():
        raise CorpusError(f"{folder}: not an nll folder (no {NLL_FILE}; make it with `resurface nll`)")
    return pd.read_csv(f)


# ------------------------------------------------------------------------------ similarity
def embed_texts(embedder, texts: Sequence[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
    """Sentence embeddings of ``texts`` as float32 rows of unit L2 norm (one ``encode`` call)."""
    if len(texts) == 0:
        raise ParameterError("texts", "no texts to embed", "at least one text")
    emb = embedder.encode(list(texts), batch_size=batch_size, convert_to_numpy=True,
                          show_progress_bar=progress)
    emb = np.asarray(emb, dtype=np.float32)
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    return emb / np.maximum(norms, 1e-12)


def max_cosine(samples: np.ndarray, items: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Per sample row, the maximum cosine over the item rows and the index of that item.

    Both arrays hold unit-norm rows (cosine = dot product); computed in chunks of sample rows.
    """
    samples, items = np.asarray(samples, dtype=np.float32), np.asarray(items, dtype=np.float32)
    if samples.ndim != 2 or items.ndim != 2 or samples.shape[1] != items.shape[1]:
        raise ParameterError("embeddings", f"shapes {samples.shape} and {items.shape} do not match",
                             "two 2-D arrays with the same number of columns")
    if len(items) == 0:
        raise ParameterError("items", "no benchmark items to compare with", "at least one item")
    best = np.empty(len(samples), dtype=np.float32)
    arg = np.empty(len(samples), dtype=np.int64)
    for s in range(0, len(samples), chunk):
        sims = samples[s:s + chunk] @ items.T
        arg[s:s + chunk] = sims.argmax(axis=1)
        best[s:s + chunk] = sims[np.arange(len(sims)), arg[s:s + chunk]]
    return best, arg


def _set_max_tokens(embedder, max_tokens: int | None) -> None:
    if max_tokens is not None:
        embedder.max_seq_length = max_tokens


def item_embeddings(suite: str, embedder: str = "minilm", *, max_tokens: int | None = None,
                    batch_size: int = 32, device: str = "auto", allow_hub: bool = False, store=None,
                    progress: bool = True) -> Path:
    """Embed every benchmark item of ``suite`` once: ``<task>.npy`` (unit rows) + ``items.json``.

    An artifact of stage ``item-embeddings`` keyed on the suite, a digest of its item texts, the
    embedder's identity and ``max_tokens``; every corpus scored against the suite reads it.
    """
    max_tokens = _check_optional_count("max_tokens", max_tokens)
    texts = benchmark_texts(suite, allow_hub=allow_hub)  # ParameterError for an unknown suite
    if not texts or not any(texts.values()):
        raise ParameterError("suite", f"suite {suite!r} has no benchmark items to compare with")
    dev = resolve_device(device)
    path = local_path(embedder, allow_hub=allow_hub)
    config = {"suite": suite, "embedder": key_name(embedder), "embedder_identity": _identity(embedder, path),
              "max_tokens": max_tokens, "tasks": sorted(texts), "benchmark_texts_sha256": texts_digest(texts),
              "normalize": "l2", "convention": SIM_CONVENTION}

    def compute(work: Path) -> dict:
        model = _embedder(embedder, dev, allow_hub, identity_string(config["embedder_identity"]))
        _set_max_tokens(model, max_tokens)
        counts = {}
        for task, items in texts.items():
            np.save(Path(work) / f"{task}.npy", embed_texts(model, items, batch_size, progress=progress))
            counts[task] = len(items)
        (Path(work) / "items.json").write_text(json.dumps({"suite": suite, "items": counts}, indent=2))
        return {"items": counts}

    store = store if store is not None else Store()
    return store.get_or_compute(ITEMS_STAGE, ITEMS_VERSION, config, compute).path


def load_item_embeddings(folder: str | Path) -> dict[str, np.ndarray]:
    """Task -> item embedding matrix of an ``item-embeddings`` folder."""
    info = json.loads((Path(folder) / "items.json").read_text())
    return {task: np.load(Path(folder) / f"{task}.npy") for task in info["items"]}


def similarity(corpus: str | Path, suite: str, embedder: str = "minilm", *, max_tokens: int | None = None,
               max_samples: int | None = None, seed: int = 42, batch_size: int = 32, device: str = "auto",
               allow_hub: bool = False, store=None, out: str | Path | None = None, progress: bool = True) -> Path:
    """Each sample's maximum cosine to the items of every benchmark of ``suite``.

    Writes ``similarity.csv`` (tidy: index, id, task, max_cos, nearest_item) and ``summary.json``.
    The item embeddings come from :func:`item_embeddings` (computed once per suite and embedder).
    An artifact of stage ``similarity`` keyed on the corpus records (:func:`records_key`) and the item
    embeddings' artifact; with
    ``out``, written into that folder (the item embeddings still go to the store).
    """
    if not isinstance(suite, str) or not suite:
        raise ParameterError("suite", f"expected a suite name, got {suite!r}")
    if not isinstance(embedder, str) or not embedder:
        raise ParameterError("embedder", f"expected an embedder alias, folder or Hub id, got {embedder!r}")
    max_tokens = _check_optional_count("max_tokens", max_tokens)
    max_samples = _check_optional_count("max_samples", max_samples)
    _check_count("batch_size", batch_size)

    get_suite(suite)  # unknown suite: fail before reading or embedding anything
    src_dir, records = _read_records(corpus)
    if max_samples is not None and max_samples >= len(records):
        max_samples = None
    items_dir = item_embeddings(suite, embedder, max_tokens=max_tokens, batch_size=batch_size, device=device,
                                allow_hub=allow_hub, store=store, progress=progress)
    input_key = records_key(records)
    config = {"suite": suite, "embedder": key_name(embedder), "max_tokens": max_tokens, "max_samples": max_samples,
              "seed": seed if max_samples else None, "convention": SIM_CONVENTION}
    dev = resolve_device(device)

    def compute(work: Path) -> dict:
        items = load_item_embeddings(items_dir)
        model = _embedder(embedder, dev, allow_hub, Path(items_dir).name)  # the items key pins the embedder
        _set_max_tokens(model, max_tokens)
        idx = chosen_indices(len(records), max_samples, seed)
        emb = embed_texts(model, [records[i]["text"] for i in idx], batch_size, progress=progress)
        frames, per_task = [], {}
        for task, mat in items.items():
            best, arg = max_cosine(emb, mat)
            frames.append(pd.DataFrame({"index": idx, "id": [records[i].get("id", i) for i in idx],
                                        "task": task, "max_cos": best, "nearest_item": arg}))
            per_task[task] = {"mean": float(best.mean()), "median": float(np.median(best)),
                              "min": float(best.min()), "max": float(best.max())}
        pd.concat(frames, ignore_index=True).to_csv(Path(work) / SIM_FILE, index=False)
        src_meta = read_meta(src_dir)
        summary = {"suite": suite, "embedder": embedder, "corpus": str(src_dir.resolve()),
                   "records_key": input_key, "corpus_model": src_meta.get("model"),
                   "corpus_temperature": src_meta.get("temperature"), "records": len(records),
                   "scored": len(idx), "tasks": per_task, "convention": SIM_CONVENTION}
        (Path(work) / SUMMARY_FILE).write_text(json.dumps(summary, indent=2))
        return {"summary": summary}

    return run_stage(SIM_STAGE, SIM_VERSION, config, compute, inputs=[input_key, artifact_id(items_dir)],
                     store=store, out=out)


def read_similarity(folder: str | Path) -> pd.DataFrame:
    """The tidy per-sample, per-task max-cosines of a ``similarity`` folder."""
    f = Path(folder) / SIM_FILE
    if not f.exists():
        raise CorpusError(f"{folder}: not a similarity folder (no {SIM_FILE}; make it with "
                          "`resurface similarity`)")
    return pd.read_csv(f)


def split_by_similarity(corpus: str | Path, similarity_dir: str | Path, task: str, threshold: float,
                        store=None) -> dict[str, Path]:
    """Split a corpus at a max-cosine threshold into two corpus folders (METHODS.md c.6).

    ``below``: samples whose max-cosine to ``task``'s items is < ``threshold``; ``above``: >= it.
    Each side is an artifact of stage ``similarity-split`` (a corpus folder whose meta.json records
    the split), keyed on the corpus, the similarity artifact, the task, the threshold and the side.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
        raise ParameterError("similarity_threshold", f"invalid value {threshold!r}", "a number in [-1, 1]")
    src_dir, records = _read_records(corpus)
    sim = read_similarity(similarity_dir)
    if task not in set(sim["task"]):
        raise ParameterError("split_task", f"{task!r} has no max-cosines in {similarity_dir}",
                             ", ".join(sorted(set(sim["task"]))))
    col = sim[sim["task"] == task].set_index("index")["max_cos"]
    if sorted(col.index) != list(range(len(records))):
        raise ParameterError("max_samples", f"the similarity in {similarity_dir} covers {len(col)} of the "
                             f"{len(records)} samples; a split needs every sample", "None (score every sample)")
    below = [i for i in range(len(records)) if col[i] < threshold]
    above = [i for i in range(len(records)) if col[i] >= threshold]
    for side, chosen in (("below", below), ("above", above)):
        if not chosen:
            raise ParameterError("similarity_threshold", f"{threshold:g} leaves no sample {side} it (max-cosines "
                                 f"of {task} range from {col.min():.3f} to {col.max():.3f})",
                                 "a value inside that range, or similarity_threshold_rule: median")
    inputs = [corpus_key(src_dir), artifact_id(similarity_dir)]
    src_meta = read_meta(src_dir)
    out = {}
    for side, chosen in (("below", below), ("above", above)):
        rule = f"max_cos({task}) {'<' if side == 'below' else '>='} {threshold:.6g}"
        config = {"task": task, "threshold": float(threshold), "side": side, "rule": rule}

        def compute(work: Path, chosen=chosen, rule=rule, side=side) -> dict:
            info = {"task": task, "threshold": float(threshold), "side": side, "rule": rule,
                    "kept": len(chosen), "of": len(records), "source": str(src_dir.resolve())}
            write_corpus(work, [records[i] for i in chosen], {**src_meta, "similarity_split": info})
            return {"similarity_split": info}

        out[side] = run_stage(SPLIT_STAGE, SPLIT_VERSION, config, compute, inputs=inputs, store=store)
    return out


# ------------------------------------------------------------------------------ command line
def cli_nll(args) -> int:
    """``resurface nll``: print the corpus's mean NLL and the artifact folder (last line)."""
    path = nll(args.corpus, args.model, max_tokens=args.max_tokens, max_samples=args.max_samples,
               seed=args.seed, batch_size=args.batch_size, device=args.device, dtype=args.dtype,
               allow_hub=args.allow_hub, out=args.out)
    s = json.loads((Path(path) / SUMMARY_FILE).read_text())
    print(f"{s['scored']} of {s['records']} samples scored under {args.model}: mean NLL "
          f"{s['mean_nll']:.4f} nats/token (median {s['median_nll']:.4f}, {s['mean_tokens']:.1f} tokens "
          f"per sample, {s['truncated']} truncated)")
    print(path)
    return 0


def cli_similarity(args) -> int:
    """``resurface similarity``: print each benchmark's mean max-cosine and the artifact folder."""
    path = similarity(args.corpus, args.suite, args.embedder, max_tokens=args.max_tokens,
                      max_samples=args.max_samples, seed=args.seed, batch_size=args.batch_size,
                      device=args.device, allow_hub=args.allow_hub, out=args.out)
    s = json.loads((Path(path) / SUMMARY_FILE).read_text())
    print(f"{s['scored']} of {s['records']} samples against suite {args.suite!r} ({args.embedder}):")
    for task, v in s["tasks"].items():
        print(f"  {task}: mean max-cosine {v['mean']:.4f} (median {v['median']:.4f}, max {v['max']:.4f})")
    print(path)
    return 0
