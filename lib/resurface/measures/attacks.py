"""Verbatim extraction and the log-prob shift of true continuations (Fig 8; METHODS.md c.9).

**Extraction** is the prefix-completion ("discoverable") attack of Carlini et al. 2021 in the protocol
Biderman et al. 2023 used for Pythia: take the first ``prefix_tokens + suffix_tokens`` tokens of a
sequence (tokenised without special tokens: no BOS, as in Pythia's evaluation), give the model the
prefix ``y`` (32 tokens there), decode ``suffix_tokens`` tokens greedily, and count the sequence as
extracted when every one of them equals the true continuation ``x`` (k=32-extractable).

It is computed without generating. Greedy decoding reproduces ``x`` exactly if and only if, for every
suffix position t, the argmax of ``p(. | y, x_<t)`` is ``x_t``: if the first t generated tokens equal
``x_<t``, the model's next input is exactly ``y x_<t``, so its next greedy token is that argmax
(induction on t). So one teacher-forced forward pass over ``[y; x]`` decides every sequence of a batch
at once; all windows have the same length, so there is no padding. The same pass gives
``leading_matches`` (how many tokens greedy decoding gets right before its first error),
``token_matches`` (positions whose argmax is right, the teacher-forced accuracy) and the log-probability
of the true continuation. :func:`greedy_extract_slow` is the plain token-by-token greedy loop it is
tested against. Argmax ties are broken toward the lower token id, as ``torch.argmax`` (and so
``generate``) does.

**Log-prob shift**: for each sequence, ``sum_t log p_θ(x_t | y, x_<t) - sum_t log p_base(...)`` over the
suffix tokens, teacher-forced, with fp32 logits (the per-token mean is that sum divided by
``suffix_tokens``); averaged per group. Scores are computed in fp32 whenever the weights are fp32,
even inside a bf16 autocast region (the training loop's evaluation hook runs in one on CUDA).

:func:`extract` is the stage (``resurface extract``): per-sequence scores and per domain/group counts
of one model on one pool, cached in the artifact store.
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Iterable, Sequence

from resurface import models
from resurface.artifacts import run_stage
from resurface.corpus.pools import pool_key, read_pool
from resurface.device import DTYPES, dtype_key, resolve_device
from resurface.errors import ParameterError, check_int
from resurface.identity import key_name, model_identity
from resurface.models import local_path

STAGE = "extract"
STAGE_VERSION = 2  # 2: content identity of model folders, no paths in keys
SCORE_COLUMNS = ["id", "domain", "group", "extracted", "leading_matches", "token_matches", "logprob_sum"]


# ---------------------------------------------------------------------------------------------
# windows
# ---------------------------------------------------------------------------------------------
def check_lengths(prefix_tokens, suffix_tokens) -> tuple[int, int]:
    """Validate the prefix and suffix lengths (integers >= 1)."""
    for name, v in (("prefix_tokens", prefix_tokens), ("suffix_tokens", suffix_tokens)):
        check_int(name, v, 1, "an integer >= 1 (Pythia's protocol: 32)")
    return prefix_tokens, suffix_tokens


def window_ids(texts: Sequence[str], tokenizer, prefix_tokens: int, suffix_tokens: int):
    """LongTensor ``[n, prefix + suffix]``: the first tokens of each text, no special tokens added.

    A text with fewer than ``prefix_tokens + suffix_tokens`` tokens is an error that names both
    parameters and the shortest length found.
    """
    import torch

    check_lengths(prefix_tokens, suffix_tokens)
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise ParameterError("texts", "expected a list of strings", "list[str]")
    if not texts:
        raise ParameterError("texts", "no sequence given", "at least one text")
    width = prefix_tokens + suffix_tokens
    ids = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
    lengths = [len(i) for i in ids]
    short = [n for n in lengths if n < width]
    if short:
        raise ParameterError(
            "suffix_tokens", f"prefix_tokens + suffix_tokens = {prefix_tokens} + {suffix_tokens} = {width} is "
            f"longer than {len(short)} of the {len(ids)} sequences (shortest: {min(lengths)} tokens)",
            f"prefix_tokens + suffix_tokens <= {min(lengths)}, or a pool of longer sequences")
    return torch.tensor([i[:width] for i in ids], dtype=torch.long)


# ---------------------------------------------------------------------------------------------
# scoring
# ---------------------------------------------------------------------------------------------
def _fp32_region(model):
    """Disable autocast when the weights are fp32, so scores are fp32 wherever they are computed."""
    import torch

    p = next(model.parameters())
    if p.dtype == torch.float32 and torch.is_autocast_enabled(p.device.type):
        return torch.autocast(device_type=p.device.type, enabled=False)
    return contextlib.nullcontext()


def _suffix_logits(model, x, suffix_tokens: int):
    """Logits predicting each suffix token: positions ``P-1 .. P+S-2`` of ``x`` (fp32)."""
    try:
        out = model(input_ids=x, use_cache=False, logits_to_keep=suffix_tokens + 1)
        logits = out.logits[:, -(suffix_tokens + 1):-1, :]
    except TypeError:  # an architecture without logits_to_keep
        logits = model(input_ids=x, use_cache=False).logits[:, -(suffix_tokens + 1):-1, :]
    return logits.float()


def score_windows(model, ids, prefix_tokens: int, batch_size: int = 32, progress: bool = False) -> dict:
    """Per-sequence extraction and log-prob scores of ``ids`` (``[n, prefix + suffix]``) under ``model``.

    Returns numpy arrays: ``extracted`` (bool: greedy decoding reproduces the whole suffix),
    ``leading_matches`` (suffix tokens greedy decoding gets right before its first error),
    ``token_matches`` (suffix positions whose teacher-forced argmax is right) and ``logprob_sum``
    (sum over the suffix of log p(true token | true context), nats). The model's train/eval mode is
    restored afterwards.
    """
    import numpy as np
    import torch
    from tqdm.auto import tqdm

    if not (isinstance(ids, torch.Tensor) and ids.ndim == 2 and not ids.is_floating_point()):
        raise ParameterError("ids", f"expected an integer tensor [n, prefix + suffix], got "
                             f"{getattr(ids, 'shape', type(ids).__name__)}", "window_ids(...) output")
    suffix_tokens = int(ids.shape[1]) - prefix_tokens
    check_lengths(prefix_tokens, 1)
    if suffix_tokens < 1:
        raise ParameterError("prefix_tokens", f"{prefix_tokens} leaves no suffix in windows of {ids.shape[1]} "
                             "tokens", f"an integer < {ids.shape[1]}")
    check_int("batch_size", batch_size, 1)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    lead, matches, lps = [], [], []
    try:
        with torch.no_grad(), _fp32_region(model):
            for i in tqdm(range(0, ids.shape[0], batch_size), desc="extract", unit="batch", disable=not progress,
                          leave=False):
                x = ids[i:i + batch_size].to(device)
                logits = _suffix_logits(model, x, suffix_tokens)
                target = x[:, prefix_tokens:]
                ok = logits.argmax(-1) == target
                # leading run of correct positions: cumulative product of the matches
                lead.append(ok.int().cumprod(dim=1).sum(dim=1).cpu())
                matches.append(ok.sum(dim=1).cpu())
                logp = torch.log_softmax(logits, dim=-1).gather(-1, target[..., None]).squeeze(-1)
                lps.append(logp.double().sum(dim=1).cpu())
    finally:
        model.train(was_training)
    lead_a = torch.cat(lead).numpy().astype(np.int64)
    return {"extracted": lead_a == suffix_tokens, "leading_matches": lead_a,
            "token_matches": torch.cat(matches).numpy().astype(np.int64),
            "logprob_sum": torch.cat(lps).numpy()}


def greedy_extract_slow(model, ids, prefix_tokens: int):
    """Reference: greedy-decode each suffix token by token (no cache, one sequence at a time).

    Returns a list of ``(extracted, generated ids)``. Slow; used to check :func:`score_windows`.
    """
    import torch

    suffix_tokens = int(ids.shape[1]) - prefix_tokens
    device = next(model.parameters()).device
    out = []
    with torch.no_grad(), _fp32_region(model):
        for row in ids:
            cur = row[:prefix_tokens].tolist()
            for _ in range(suffix_tokens):
                logits = model(input_ids=torch.tensor([cur], device=device), use_cache=False).logits[0, -1]
                cur.append(int(logits.float().argmax()))
            gen = cur[prefix_tokens:]
            out.append((gen == row[prefix_tokens:].tolist(), gen))
    return out


def score_pool(model, tokenizer, records: Sequence[dict], prefix_tokens: int, suffix_tokens: int,
               batch_size: int = 32, progress: bool = False):
    """A DataFrame with one row per pool record: ``SCORE_COLUMNS`` (see :func:`score_windows`)."""
    import pandas as pd

    ids = window_ids([r["text"] for r in records], tokenizer, prefix_tokens, suffix_tokens)
    s = score_windows(model, ids, prefix_tokens, batch_size, progress)
    return pd.DataFrame({"id": [r["id"] for r in records], "domain": [r["domain"] for r in records],
                         "group": [r["group"] for r in records], **s})[SCORE_COLUMNS]


# ---------------------------------------------------------------------------------------------
# tidy summaries
# ---------------------------------------------------------------------------------------------
def summarize(scores, suffix_tokens: int, base=None) -> list[dict]:
    """Tidy rows per group (``text``, ``code``) and per domain: extraction counts and log-prob shift.

    ``scores``: :func:`score_pool` output. ``base``: the same for the base model (same ids, same
    order); without it the shift rows are left out. Rows: ``{suite: "memorization", task, label,
    level, metric, value, n, primary}`` with task = the group or ``domain:<name>`` and metric one of
    ``extracted`` (count), ``extracted_fraction``, ``leading_matches`` (mean), ``logprob_sum`` (mean),
    ``logprob_shift_sum`` (mean over sequences of the summed shift) and ``logprob_shift_per_token``.
    """
    import pandas as pd

    df = scores.copy()
    if base is not None:
        if list(base["id"]) != list(df["id"]):
            raise ParameterError("base", "the base scores are not of the same pool sequences, in the same order",
                                 "scores of the same pool")
        df["shift"] = df["logprob_sum"].to_numpy() - base["logprob_sum"].to_numpy()
    rows: list[dict] = []
    parts = [("group", g, g, f"{g}") for g in dict.fromkeys(df["group"])]
    parts += [("domain", d, f"domain:{d}", d) for d in dict.fromkeys(df["domain"])]
    for level, value, task, label in parts:
        sub = df[df[level] == value]
        n = len(sub)
        metrics = {"extracted": int(sub["extracted"].sum()),
                   "extracted_fraction": float(sub["extracted"].mean()),
                   "leading_matches": float(sub["leading_matches"].mean()),
                   "logprob_sum": float(sub["logprob_sum"].mean())}
        if base is not None:
            metrics["logprob_shift_sum"] = float(sub["shift"].mean())
            metrics["logprob_shift_per_token"] = float(sub["shift"].mean() / suffix_tokens)
        for metric, v in metrics.items():
            rows.append({"suite": "memorization", "task": task, "label": label, "level": level,
                         "metric": metric, "value": v, "n": n,
                         "primary": metric in ("extracted", "logprob_shift_sum")})
    return pd.DataFrame(rows).to_dict("records")


def relative_drop(first: float, last: float) -> float | None:
    """``(first - last) / first``; None when ``first`` is 0 (nothing to drop from)."""
    return None if first == 0 else (first - last) / first


# ---------------------------------------------------------------------------------------------
# the stage
# ---------------------------------------------------------------------------------------------
def extract(model: str, pool: str | Path, *, prefix_tokens: int = 32, suffix_tokens: int = 32,
            domains: Iterable[str] | None = None, batch_size: int = 32, device: str = "auto",
            dtype: str = "float32", allow_hub: bool = False, store=None, out: str | Path | None = None,
            progress: bool = True) -> Path:
    """Run the extraction attack of ``model`` (alias, folder or Hub id) on a pool; return the folder.

    The folder holds ``scores.csv`` (one row per sequence, ``SCORE_COLUMNS``), ``summary.csv`` (tidy
    rows per group and domain, :func:`summarize`) and ``extract.json``. ``dtype`` defaults to float32
    (the log-probs are fp32; METHODS.md c.9); a base model's extraction that is compared with a training
    hook's takes :func:`resurface.device.hook_scoring_dtype`. Cached as stage ``extract`` (or written to ``out``).
    """
    import pandas as pd

    check_lengths(prefix_tokens, suffix_tokens)
    check_int("batch_size", batch_size, 1)
    if dtype not in DTYPES:
        raise ParameterError("dtype", f"unknown value {dtype!r}", ", ".join(DTYPES))
    if not isinstance(model, str) or not model:
        raise ParameterError("model", f"expected a model alias, folder or Hub id, got {model!r}")
    records = read_pool(pool, domains)  # ParameterError for unknown domains, before loading a model
    dev = resolve_device(device)
    path = local_path(model, allow_hub=allow_hub)
    config = {"model": key_name(model), "model_identity": model_identity(model, path), "pool": pool_key(pool),
              "domains": sorted(domains) if domains else None, "prefix_tokens": prefix_tokens,
              "suffix_tokens": suffix_tokens, "dtype": dtype_key(dtype, dev), "device": "cuda" if dev.startswith("cuda") else "cpu",
              "tokenization": "first prefix+suffix tokens, no special tokens",
              "decision": "teacher-forced argmax == true token at every suffix position (= greedy extraction)"}

    def compute(work: Path) -> dict:
        t0 = time.time()
        m, tok = models.load_model(str(path), device=dev, dtype=dtype)
        scores = score_pool(m, tok, records, prefix_tokens, suffix_tokens, batch_size, progress)
        scores.to_csv(work / "scores.csv", index=False)
        summary = pd.DataFrame(summarize(scores, suffix_tokens))
        summary.to_csv(work / "summary.csv", index=False)
        info = {"model": model, "pool": str(pool), "sequences": len(scores), "extracted": int(scores["extracted"].sum()),
                "prefix_tokens": prefix_tokens, "suffix_tokens": suffix_tokens, "seconds": round(time.time() - t0, 2)}
        (work / "extract.json").write_text(json.dumps(info, indent=2))
        return {"summary": info}

    return run_stage(STAGE, STAGE_VERSION, config, compute, inputs=[config["pool"]], store=store, out=out,
                     verbose=progress)


def read_scores(folder: str | Path):
    """The per-sequence scores of an :func:`extract` folder (``extracted`` as bool)."""
    import pandas as pd

    df = pd.read_csv(Path(folder) / "scores.csv", dtype={"id": str})
    df["extracted"] = df["extracted"].astype(str).str.lower() == "true"
    return df


def cli(args) -> int:
    """``resurface extract --model M --pool FILE``: print counts per group and domain, then the folder."""
    import pandas as pd

    folder = extract(args.model, args.pool, prefix_tokens=args.prefix_tokens, suffix_tokens=args.suffix_tokens,
                     domains=args.domain or None, batch_size=args.batch_size, device=args.device,
                     dtype="float32" if args.dtype == "auto" else args.dtype, allow_hub=args.allow_hub, out=args.out)
    s = pd.read_csv(Path(folder) / "summary.csv")
    piv = s[s["metric"].isin(["extracted", "extracted_fraction", "leading_matches"])].pivot_table(
        index="task", columns="metric", values="value", aggfunc="first", sort=False)
    piv.insert(0, "sequences", s.drop_duplicates("task").set_index("task")["n"])
    print(f"{args.prefix_tokens}-token prefix, {args.suffix_tokens}-token greedy suffix; extracted = all "
          f"{args.suffix_tokens} suffix tokens reproduced")
    print(piv.to_string(float_format=lambda v: f"{v:.4g}"))
    print(folder)
    return 0
