"""Unconditional (prompt-token-only) sampling of a corpus from a base model (METHODS.md c.1).

Every sample starts from the same prompt, the model's BOS token string (or ``"\\n"`` when the
tokenizer has none; :func:`resurface.models.unconditional_prompt`), and is drawn by pure temperature
sampling from ``softmax(logits / temperature)``: no top-k, no top-p, no repetition penalty.

Conventions (the same as the paper's vLLM reference code, ``generate_synthetic.py``):

* **EOS.** The stop set is the tokenizer's ``eos_token_id`` plus every id in the model's
  ``generation_config.eos_token_id``. Before ``min_new_tokens`` tokens have been generated these ids
  get a logit of ``-inf`` (vLLM's ``min_tokens``); afterwards a row stops at the first one it samples,
  or after ``max_new_tokens`` tokens.
* **NLL.** For every sampled token we record its log-probability under the *raw* model distribution
  (temperature 1, no EOS mask), i.e. what vLLM returns as ``logprobs`` by default. A sample's
  ``mean_nll`` is the mean of ``-log p`` over all generated tokens, **including a generated EOS**
  (vLLM returns a logprob for the EOS token and the reference code averages over all of them). The
  prompt token is not part of the average.
* **num_tokens** is the number of generated tokens including a terminating EOS, i.e. exactly the
  tokens ``mean_nll`` averages over (the reference code's ``tokens_per_sample``), so
  ``mean_nll * num_tokens`` is the sample's total NLL.
* **Post-processing.** ``text = decode(generated ids, skip_special_tokens=True).strip()``; samples
  whose text is empty or with fewer than ``min_new_tokens`` tokens are dropped (their counts are in
  ``meta.json``). Unlike the reference code (``skip_special_tokens=False``), special tokens sampled in
  the middle of a text are removed from it.

Determinism and resumption: the samples are drawn in batches; batch ``b`` uses its own
``torch.Generator`` seeded from ``(seed, b)``, so the same seed and batch size give the same corpus on
the same device and software, and a run that was killed and restarted gives exactly the corpus of an
uninterrupted run. Each finished batch is written atomically to ``shards/batch_XXXXX.jsonl``; a rerun
skips the shards that exist and then merges them into ``corpus.jsonl``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from resurface import models
from resurface.artifacts import Store, environment_versions
from resurface.corpus.files import CORPUS_FILE, META_FILE, CorpusError, iter_jsonl, write_corpus
from resurface.decoding import drop_stopped, forward_last, preallocated_cache
from resurface.device import resolve_device, resolve_dtype
from resurface.diskspace import check_free_space, sampling_bytes
from resurface.errors import ParameterError, check_int
from resurface.identity import key_name
from resurface.identity import model_identity as identity
from resurface.models import local_path, prompt_of, unconditional_prompt

STAGE = "sample"
STAGE_VERSION = 3  # 2: inverse-CDF draw (draw_tokens) instead of torch.multinomial: other random stream
# 3: content identity of model folders, no paths in keys
ENGINES = ("hf", "vllm")
SHARD_DIR = "shards"
RUN_FILE = "run.json"  # inside SHARD_DIR: the settings the shards were drawn with

NLL_CONVENTION = ("mean over generated tokens (including a generated EOS) of -log p(token) under the "
                  "source model at temperature 1 (raw logits, no EOS mask); prompt excluded")
NUM_TOKENS_CONVENTION = "generated tokens including a terminating EOS (the tokens mean_nll averages over)"


# -- parameter checks ----------------------------------------------------------------------
def _check_temperature(temperature: Any) -> float:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise ParameterError("temperature", f"expected a number, got {type(temperature).__name__}",
                             "a finite number > 0")
    t = float(temperature)
    if not math.isfinite(t) or t <= 0:
        raise ParameterError("temperature", f"invalid value {temperature!r}", "a finite number > 0")
    return t


def validate_sampling(temperature: Any, num_samples: Any, max_new_tokens: Any, min_new_tokens: Any,
                      seed: Any, batch_size: Any) -> dict[str, Any]:
    """Check the sampling parameters; return them normalised (temperature as float)."""
    t = _check_temperature(temperature)
    check_int("num_samples", num_samples, 1)
    check_int("max_new_tokens", max_new_tokens, 1)
    check_int("min_new_tokens", min_new_tokens, 0)
    if min_new_tokens > max_new_tokens:
        raise ParameterError("min_new_tokens", f"{min_new_tokens} is larger than max_new_tokens "
                             f"{max_new_tokens}", "an integer <= max_new_tokens")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ParameterError("seed", f"expected an integer, got {type(seed).__name__} {seed!r}", "an integer")
    check_int("batch_size", batch_size, 1)
    return {"temperature": t, "num_samples": num_samples, "max_new_tokens": max_new_tokens,
            "min_new_tokens": min_new_tokens, "seed": seed, "batch_size": batch_size}


def _check_engine(engine: Any) -> str:
    if engine not in ENGINES:
        raise ParameterError("engine", f"unknown engine {engine!r}", ", ".join(ENGINES))
    if engine == "vllm":
        try:
            import vllm  # noqa: F401
        except ImportError:
            raise ParameterError("engine", "vllm is not installed",
                                 "hf, or install the [vllm] extra: pip install -e .[vllm]") from None
    return engine


def vllm_sampling_unavailable() -> str | None:
    """Why the vLLM sampler cannot run here (no package, no CUDA GPU), or None when it can."""
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        return "the vllm package is not installed (README 'GPU users': pip install -r requirements-vllm.txt)"
    try:
        import torch

        if not torch.cuda.is_available():
            return "vLLM needs a CUDA GPU and none is visible"
    except Exception as exc:  # pragma: no cover - a broken torch
        return f"torch cannot be imported ({exc})"
    return None


def resolve_sample_engine(engine: str, say=None) -> str:
    """The engine a profile's ``sample_engine`` gives on this machine: ``vllm`` when it can run, else the
    transformers loop (``hf``) with a one-line message (``say``, default stderr). The engine is part of
    the corpus's artifact key and the two engines draw from different random streams, so a fallback
    corpus is another artifact, with other samples, than the vLLM one; it never replaces it."""
    if engine not in ENGINES:
        raise ParameterError("sample_engine", f"unknown engine {engine!r}", ", ".join(ENGINES))
    if engine == "hf":
        return "hf"
    why = vllm_sampling_unavailable()
    if why is None:
        return "vllm"
    msg = (f"[sample] sample_engine vllm: {why}; sampling with the transformers loop (hf) instead: other "
           "samples under another artifact key (the engine is in the key), and the cost estimate's vLLM rate "
           "does not apply")
    (say or (lambda m: print(m, file=sys.stderr, flush=True)))(msg)
    return "hf"


# -- seeds and EOS ids ---------------------------------------------------------------------
def derived_seed(seed: int, index: int, purpose: str = "batch") -> int:
    """A 63-bit seed derived from ``(seed, index)``; independent streams for different indices."""
    digest = hashlib.sha256(f"resurface-sample:{purpose}:{seed}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def eos_token_ids(model, tokenizer) -> list[int]:
    """The stop set: the tokenizer's EOS plus the model's generation_config EOS id(s), sorted."""
    ids: set[int] = set()
    if getattr(tokenizer, "eos_token_id", None) is not None:
        ids.add(int(tokenizer.eos_token_id))
    gen = getattr(model, "generation_config", None)
    extra = getattr(gen, "eos_token_id", None) if gen is not None else None
    if isinstance(extra, int):
        ids.add(extra)
    elif isinstance(extra, (list, tuple)):
        ids.update(int(i) for i in extra if i is not None)
    return sorted(ids)


# -- one sampling step ---------------------------------------------------------------------
def draw_tokens(logits, temperature: float, generator=None, banned=None):
    """Draw one token per row from ``softmax(logits / temperature)`` with ids in ``banned`` excluded.

    Returns ``(ids, raw_logprobs)``: the drawn ids (long, one per row) and their log-probabilities
    under the raw distribution ``softmax(logits)`` (temperature 1, nothing excluded).

    The draw inverts the cumulative distribution with one uniform number per row: the unnormalised
    weights ``exp(logits / temperature - max)`` are summed cumulatively in float64 and the first
    position whose running sum exceeds ``u * total`` is chosen, so a token is drawn with probability
    exactly its weight over the total (up to float64 rounding), and a token of weight zero never.
    ``torch.multinomial`` draws the same distribution but spends one exponential random number per
    vocabulary entry; on a CPU that draw was a sixth to a quarter of a decoding step.
    """
    import torch

    logits = logits.float()
    scaled = logits / temperature if temperature != 1.0 else logits
    if banned is not None:
        scaled = scaled.clone() if scaled is logits else scaled
        scaled[:, banned] = float("-inf")
    top = scaled.max(dim=-1, keepdim=True).values
    cdf = torch.cumsum(torch.exp(scaled - top), dim=-1, dtype=torch.float64)
    total = cdf[:, -1:].contiguous()
    if not bool(torch.isfinite(total).all()):
        raise RuntimeError("the model returned logits with NaN, or every token excluded, in at least one "
                           "row: check the model's dtype (try --dtype float32) and the EOS settings")
    u = torch.rand(total.shape, generator=generator, dtype=torch.float64, device=logits.device)
    ids = torch.searchsorted(cdf, u * total, right=True)
    last = torch.searchsorted(cdf, total, right=False)  # the last id of non-zero weight: never overrun it
    ids = torch.minimum(ids, last).squeeze(1)
    if scaled is logits:
        lse = top.squeeze(1) + torch.log(total.squeeze(1)).float()
    else:
        lse = torch.logsumexp(logits, dim=-1)
    return ids, logits.gather(1, ids[:, None]).squeeze(1) - lse


# -- the decode loop -----------------------------------------------------------------------
@dataclass
class BatchSamples:
    """Raw output of :func:`sample_batch`: per row the generated ids, their raw log-probs, why it stopped."""

    token_ids: list[list[int]]
    logprobs: list[list[float]]
    finished: list[str]  # "eos" | "length"


def sample_batch(model, prompt_ids: Iterable[int], num_rows: int, *, temperature: float,
                 max_new_tokens: int, min_new_tokens: int = 0, eos_ids: Iterable[int] = (),
                 generator=None) -> BatchSamples:
    """Sample ``num_rows`` continuations of the same prompt with a preallocated KV cache
    (:func:`resurface.decoding.preallocated_cache`), one :func:`draw_tokens` per step.

    Pure temperature sampling from ``softmax(logits / temperature)``; ids in ``eos_ids`` are masked to
    ``-inf`` for the first ``min_new_tokens`` steps and stop a row afterwards. The returned
    log-probabilities are those of the sampled tokens under the raw (temperature 1, unmasked)
    distribution. Rows that have stopped are dropped from the cache once they make up an eighth of it
    (their slots are fed EOS until then); the loop ends when every row has stopped.
    """
    import torch

    prompt = [int(i) for i in prompt_ids]
    if not prompt:
        raise ParameterError("prompt_ids", "is empty", "at least one token id")
    check_int("num_rows", num_rows, 1)
    check_int("max_new_tokens", max_new_tokens, 1)
    check_int("min_new_tokens", min_new_tokens, 0)
    t = _check_temperature(temperature)
    device = model.device
    eos = sorted({int(i) for i in eos_ids})
    eos_set = set(eos)
    eos_t = torch.tensor(eos, device=device, dtype=torch.long) if eos else None

    tokens: list[list[int]] = [[] for _ in range(num_rows)]
    logps: list[list[float]] = [[] for _ in range(num_rows)]
    finished = ["length"] * num_rows
    slot_rows = list(range(num_rows))  # cache slot -> row; None once the row has stopped
    filler = eos[0] if eos else 0

    with torch.inference_mode():
        input_ids = torch.tensor([prompt] * num_rows, dtype=torch.long, device=device)
        out = forward_last(model, input_ids=input_ids, use_cache=True,
                           past_key_values=preallocated_cache(model, len(prompt) + max_new_tokens))
        cache = out.past_key_values
        logits = out.logits[:, -1, :]
        for step in range(max_new_tokens):
            nxt, chosen = draw_tokens(logits, t, generator, banned=eos_t if step < min_new_tokens else None)
            nxt_l, chosen_l = nxt.tolist(), chosen.tolist()
            for slot, row in enumerate(slot_rows):
                if row is None:
                    continue
                tokens[row].append(nxt_l[slot])
                logps[row].append(chosen_l[slot])
                if nxt_l[slot] in eos_set:
                    finished[row] = "eos"
                    slot_rows[slot] = None
            alive = [s for s, r in enumerate(slot_rows) if r is not None]
            if not alive or step == max_new_tokens - 1:
                break
            feed = [nxt_l[s] if slot_rows[s] is not None else filler for s in range(len(slot_rows))]
            slot_rows, feed, _ = drop_stopped(cache, slot_rows, feed, device)
            step_ids = torch.tensor(feed, dtype=torch.long, device=device)[:, None]
            out = model(input_ids=step_ids, past_key_values=cache, use_cache=True)
            logits = out.logits[:, -1, :]
    return BatchSamples(tokens, logps, finished)


def _records(batch: BatchSamples, first_index: int, tokenizer) -> list[dict]:
    rows = []
    for i, (ids, lps, fin) in enumerate(zip(batch.token_ids, batch.logprobs, batch.finished)):
        text = tokenizer.decode(ids, skip_special_tokens=True).strip()
        mean_nll = -sum(lps) / len(lps)
        rows.append({"id": first_index + i, "text": text, "num_tokens": len(ids),
                     "mean_nll": round(mean_nll, 6), "finished": fin})
    return rows


# -- shards --------------------------------------------------------------------------------
def _shard_path(out_dir: Path, b: int) -> Path:
    return out_dir / SHARD_DIR / f"batch_{b:05d}.jsonl"


def _write_shard(path: Path, rows: list[dict]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _read_shard(path: Path, expected_rows: int) -> list[dict] | None:
    """The rows of a finished shard, or None if it is missing or does not hold ``expected_rows`` rows."""
    try:
        rows = list(iter_jsonl(path))  # not str.splitlines(): a sampled text may hold U+2028 or U+0085
    except (OSError, CorpusError):
        return None
    return rows if len(rows) == expected_rows else None


def _batch_sizes(num_samples: int, batch_size: int) -> list[int]:
    n_full, rest = divmod(num_samples, batch_size)
    return [batch_size] * n_full + ([rest] if rest else [])


def _prepare_out_dir(out_dir: Path, run: dict) -> bool:
    """Create ``out_dir``; True when it already holds the finished corpus of this exact run.

    Shards of a different run (other seed, temperature, model...) are never mixed in: that raises.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    meta_path = out_dir / META_FILE
    if (out_dir / CORPUS_FILE).exists() and meta_path.exists():
        try:
            done_run = json.loads(meta_path.read_text()).get("run")
        except json.JSONDecodeError:
            done_run = None
        if done_run == run:
            return True
        what = "sampled with other settings" if done_run is not None else "not made by this sampler"
        raise ParameterError("out", f"{out_dir} already holds a corpus {what}",
                             "an empty folder, or the same settings to reuse it")
    shard_dir = out_dir / SHARD_DIR
    shard_dir.mkdir(exist_ok=True)
    run_file = shard_dir / RUN_FILE
    if run_file.exists():
        previous = json.loads(run_file.read_text())
        if previous != run:
            diff = sorted(k for k in set(previous) | set(run) if previous.get(k) != run.get(k))
            raise ParameterError("out", f"{out_dir} holds shards of an interrupted run with other settings "
                                 f"({', '.join(diff)})", "an empty folder, or the same settings to resume")
    else:
        run_file.write_text(json.dumps(run, indent=2))
    for stale in shard_dir.glob("*.tmp"):
        stale.unlink()
    return False


def sample_corpus(model, tokenizer, *, temperature: float, num_samples: int, max_new_tokens: int,
                  min_new_tokens: int, seed: int, batch_size: int, out_dir: str | Path,
                  progress: bool = True, meta: dict | None = None) -> Path:
    """Sample ``num_samples`` BOS-only texts from ``model`` into the corpus folder ``out_dir``.

    Resumable: finished batches are kept as shards and skipped on a rerun with the same settings.
    ``meta`` adds fields to ``meta.json`` (e.g. the model alias and its resolved identity).
    Returns ``out_dir``, holding ``corpus.jsonl`` (records ``id, text, num_tokens, mean_nll,
    finished``) and ``meta.json``.
    """
    import torch
    from tqdm.auto import tqdm

    p = validate_sampling(temperature, num_samples, max_new_tokens, min_new_tokens, seed, batch_size)
    out_dir = Path(out_dir)
    prompt = unconditional_prompt(tokenizer)
    eos = eos_token_ids(model, tokenizer)
    model_path = str(getattr(model, "name_or_path", "") or getattr(model.config, "_name_or_path", ""))
    run = {**p, "prompt_ids": list(prompt.ids), "eos_token_ids": eos, "model_path": model_path,
           "engine": "hf", "nll_convention": NLL_CONVENTION}
    if _prepare_out_dir(out_dir, run):
        return out_dir

    sizes = _batch_sizes(num_samples, batch_size)
    todo = [b for b in range(len(sizes)) if _read_shard(_shard_path(out_dir, b), sizes[b]) is None]
    if len(todo) < len(sizes):
        print(f"[sample] resuming: {len(sizes) - len(todo)} of {len(sizes)} batches already sampled",
              file=sys.stderr, flush=True)
    device = model.device
    t0, new_tokens = time.time(), 0
    bar = tqdm(total=len(sizes), initial=len(sizes) - len(todo), unit="batch", disable=not progress,
               desc=f"sample T={p['temperature']:g}", file=sys.stderr)
    for b in todo:
        gen = torch.Generator(device=device).manual_seed(derived_seed(seed, b))
        batch = sample_batch(model, prompt.ids, sizes[b], temperature=p["temperature"],
                             max_new_tokens=max_new_tokens, min_new_tokens=min_new_tokens,
                             eos_ids=eos, generator=gen)
        _write_shard(_shard_path(out_dir, b), _records(batch, b * batch_size, tokenizer))
        new_tokens += sum(len(ids) for ids in batch.token_ids)
        bar.update(1)
        bar.set_postfix(tok_s=f"{new_tokens / max(time.time() - t0, 1e-9):.0f}")
    bar.close()
    wall = time.time() - t0

    return _merge(out_dir, sizes, min_new_tokens, run, {
        "model": (meta or {}).get("model", model_path), "model_path": model_path,
        "prompt_text": prompt.text, "prompt_ids": list(prompt.ids), "prompt_rule": prompt.rule,
        "temperature": p["temperature"], "top_k": 0, "top_p": 1.0,
        "min_new_tokens": min_new_tokens, "max_new_tokens": max_new_tokens, "seed": seed,
        "batch_size": batch_size, "engine": "hf", "eos_token_ids": eos,
        "device": str(device), "dtype": str(model.dtype).replace("torch.", ""),
        "sampling_seconds_this_run": round(wall, 2),
        "versions": environment_versions(), **(meta or {})})


def _merge(out_dir: Path, sizes: list[int], min_new_tokens: int, run: dict, meta: dict) -> Path:
    """Filter the shards into corpus.jsonl + meta.json, then remove the shards."""
    kept: list[dict] = []
    dropped = {"empty": 0, "too_short": 0}
    finished = {"eos": 0, "length": 0}
    for b, n in enumerate(sizes):
        rows = _read_shard(_shard_path(out_dir, b), n)
        if rows is None:
            raise RuntimeError(f"shard {b} of {out_dir} is missing after sampling")  # cannot happen
        for r in rows:
            finished[r["finished"]] += 1
            if not r["text"]:
                dropped["empty"] += 1
            elif r["num_tokens"] < min_new_tokens:
                dropped["too_short"] += 1
            else:
                kept.append(r)
    n_kept = len(kept)
    summary = {
        "num_requested": sum(sizes), "num_kept": n_kept, "dropped": dropped, "finished": finished,
        "mean_num_tokens": round(sum(r["num_tokens"] for r in kept) / n_kept, 3) if n_kept else None,
        "mean_nll": round(sum(r["mean_nll"] for r in kept) / n_kept, 6) if n_kept else None,
        "nll_convention": NLL_CONVENTION, "num_tokens_convention": NUM_TOKENS_CONVENTION,
        "postprocessing": "decode(skip_special_tokens=True).strip(); drop empty texts and texts with "
                          "fewer than min_new_tokens tokens",
    }
    write_corpus(out_dir, kept, {"kind": "sampled", **meta, **summary, "run": run})
    shutil.rmtree(out_dir / SHARD_DIR, ignore_errors=True)
    return out_dir


# -- vLLM engine (optional extra) ----------------------------------------------------------
def sample_corpus_vllm(model_path: str | Path, *, temperature: float, num_samples: int,
                       max_new_tokens: int, min_new_tokens: int, seed: int, batch_size: int,
                       out_dir: str | Path, dtype: str = "auto", progress: bool = True,
                       meta: dict | None = None) -> Path:
    """The same corpus format drawn with vLLM (METHODS.md c.1), one shard per ``batch_size`` requests.

    ``SamplingParams(temperature, top_p=1, top_k=-1, min_tokens, max_tokens, logprobs=1, seed,
    stop_token_ids=[])`` as in the reference code; each request has its own seed derived from
    ``(seed, sample index)``, so the corpus does not depend on how vLLM batches requests. The prompt is
    passed as token ids (exactly the ids the hf engine uses: no second BOS). The logprobs are vLLM's
    raw ones (before temperature and the min_tokens mask). With vLLM, use a large ``batch_size``
    (e.g. 1024): it is the number of requests handed to vLLM at once.
    """
    from tqdm.auto import tqdm
    from transformers import AutoTokenizer
    from vllm import LLM, SamplingParams

    p = validate_sampling(temperature, num_samples, max_new_tokens, min_new_tokens, seed, batch_size)
    out_dir = Path(out_dir)
    tokenizer = AutoTokenizer.from_pretrained(str(model_path))
    prompt = unconditional_prompt(tokenizer)
    run = {**p, "prompt_ids": list(prompt.ids), "model_path": str(model_path), "engine": "vllm",
           "nll_convention": NLL_CONVENTION}
    if _prepare_out_dir(out_dir, run):
        return out_dir
    sizes = _batch_sizes(num_samples, batch_size)
    todo = [b for b in range(len(sizes)) if _read_shard(_shard_path(out_dir, b), sizes[b]) is None]
    vdtype = "bfloat16" if dtype == "auto" else dtype
    llm_kwargs: dict[str, Any] = dict(model=str(model_path), dtype=vdtype, tensor_parallel_size=1,
                                      max_model_len=len(prompt.ids) + max_new_tokens + 10,
                                      gpu_memory_utilization=0.9, seed=seed)
    try:  # ask for raw logprobs explicitly where this vLLM version has the option (its default)
        import dataclasses

        from vllm.engine.arg_utils import EngineArgs

        if "logprobs_mode" in {f.name for f in dataclasses.fields(EngineArgs)}:
            llm_kwargs["logprobs_mode"] = "raw_logprobs"
    except Exception:
        pass
    llm = LLM(**llm_kwargs) if todo else None
    t0 = time.time()
    for b in tqdm(todo, unit="batch", disable=not progress, desc=f"vllm T={p['temperature']:g}"):
        first = b * batch_size
        params = [SamplingParams(n=1, temperature=p["temperature"], top_p=1.0, top_k=-1,
                                 min_tokens=min_new_tokens, max_tokens=max_new_tokens, logprobs=1,
                                 stop_token_ids=[], skip_special_tokens=False,
                                 seed=derived_seed(seed, first + i, "request") & 0x7FFFFFFF)
                  for i in range(sizes[b])]
        outputs = llm.generate([{"prompt_token_ids": list(prompt.ids)}] * sizes[b], params, use_tqdm=False)
        token_ids, logprobs, finished = [], [], []
        for o in outputs:
            c = o.outputs[0]
            ids = list(c.token_ids)
            token_ids.append(ids)
            logprobs.append([float(step[tok].logprob) for tok, step in zip(ids, c.logprobs or [])])
            finished.append("eos" if c.finish_reason == "stop" else "length")
        _write_shard(_shard_path(out_dir, b),
                     _records(BatchSamples(token_ids, logprobs, finished), first, tokenizer))
    return _merge(out_dir, sizes, min_new_tokens, run, {
        "model": (meta or {}).get("model", str(model_path)), "model_path": str(model_path),
        "prompt_text": prompt.text, "prompt_ids": list(prompt.ids), "prompt_rule": prompt.rule,
        "prompt_passing": "token ids (TokensPrompt): no second BOS",
        "temperature": p["temperature"], "top_k": 0, "top_p": 1.0,
        "min_new_tokens": min_new_tokens, "max_new_tokens": max_new_tokens, "seed": seed,
        "batch_size": batch_size, "engine": "vllm", "device": "cuda", "dtype": vdtype,
        "sampling_seconds_this_run": round(time.time() - t0, 2),
        "versions": {**environment_versions(), "vllm": _version("vllm")}, **(meta or {})})


def _version(dist: str) -> str:
    import importlib.metadata as md

    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "missing"


# -- the stage -----------------------------------------------------------------------------
def model_identity(name: str, path: Path) -> dict:
    """What pins a model's weights in an artifact key: :func:`resurface.identity.model_identity`."""
    return identity(name, path)


def sample(model: str, *, temperature: float, num_samples: int, max_new_tokens: int,
           min_new_tokens: int = 0, seed: int = 42, batch_size: int = 64, device: str = "auto",
           dtype: str = "auto", allow_hub: bool = False, engine: str = "hf", store=None,
           out: str | Path | None = None, progress: bool = True) -> Path:
    """Sample an unconditional corpus from ``model`` (alias, local folder or Hub id).

    Parameters are validated before anything is loaded. The corpus is an artifact of stage
    ``sample`` in ``store`` (default: the project store) keyed on every field that changes it; with
    ``out`` it is written straight into that folder instead (still resumable). Returns the corpus folder.
    """
    p = validate_sampling(temperature, num_samples, max_new_tokens, min_new_tokens, seed, batch_size)
    engine = _check_engine(engine)
    if not isinstance(model, str) or not model:
        raise ParameterError("model", f"expected a model alias, folder or Hub id, got {model!r}")
    dev = resolve_device(device) if engine == "hf" else "cuda"
    torch_dtype = resolve_dtype(dtype, dev)
    path = local_path(model, allow_hub=allow_hub)
    prompt = prompt_of(path)
    config = {
        "model": key_name(model), "model_identity": model_identity(model, path),
        "prompt_text": prompt.text, "prompt_ids": list(prompt.ids), "prompt_rule": prompt.rule,
        **p, "top_k": 0, "top_p": 1.0, "engine": engine,
        "device": "cuda" if str(dev).startswith("cuda") else "cpu",
        "dtype": str(torch_dtype).replace("torch.", ""),
    }
    extra_meta = {"model": model, "model_identity": config["model_identity"]}

    def compute(workdir: Path) -> dict:
        check_free_space(workdir, sampling_bytes(num_samples, max_new_tokens), f"sampling {num_samples} samples")
        if engine == "vllm":
            sample_corpus_vllm(path, **p, out_dir=workdir, dtype=dtype, progress=progress, meta=extra_meta)
        else:
            m, tok = models.load_model(str(path), device=dev, dtype=dtype)
            sample_corpus(m, tok, **p, out_dir=workdir, progress=progress, meta=extra_meta)
        return {}

    if out is not None:
        out = Path(out)
        compute(out)
        return out
    store = store if store is not None else Store()
    return store.get_or_compute(STAGE, STAGE_VERSION, config, compute).path


def cli(args) -> int:
    """``resurface sample``: print the corpus folder as the last line."""
    path = sample(args.model, temperature=args.temperature, num_samples=args.num_samples,
                  max_new_tokens=args.max_new_tokens, min_new_tokens=args.min_new_tokens,
                  seed=args.seed, batch_size=args.batch_size, device=args.device, dtype=args.dtype,
                  allow_hub=args.allow_hub, engine=args.engine, out=args.out)
    meta = json.loads((Path(path) / META_FILE).read_text())
    print(f"kept {meta.get('num_kept')} of {meta.get('num_requested')} samples "
          f"(mean_nll {meta.get('mean_nll')}, mean tokens {meta.get('mean_num_tokens')})")
    print(path)
    return 0
