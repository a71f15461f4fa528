"""Training data and steps: texts packed into fixed blocks (or padded rows), the optimizer-step plan,
and each epoch's seeded block order (METHODS.md c.4; used by :mod:`resurface.train.training`).

- **Packing** (:func:`pack_blocks`): every text + EOS, tokenised without special tokens, all
  concatenated and cut into ``block_size`` blocks; the remainder is dropped; no cross-document mask.
  :func:`row_blocks` keeps one text a row instead, padded with :data:`PAD_LABEL` (the planted pools).
- **Steps** (:func:`plan_steps`): gradient accumulation to the effective batch, the last step of an
  epoch possibly short, warmup as ``ceil(warmup_ratio * total_steps)`` (as ``transformers.Trainer``).
- **Order** (:func:`epoch_permutation`): a ``torch.Generator`` seeded from ``(seed, epoch)`` only.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Sequence

from resurface.errors import ParameterError


# ---------------------------------------------------------------------------------------------
# parameter checks (shared with the training loop)
# ---------------------------------------------------------------------------------------------
def is_int(x) -> bool:
    """Whether ``x`` is an int (a bool is not)."""
    return isinstance(x, int) and not isinstance(x, bool)


def is_num(x) -> bool:
    """Whether ``x`` is a finite int or float (a bool is not)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def check_arg(name: str, ok: bool, problem: str, accepted: str) -> None:
    """Raise ParameterError(``name``, ``problem``, ``accepted``) unless ``ok``."""
    if not ok:
        raise ParameterError(name, problem, accepted)


# ---------------------------------------------------------------------------------------------
# packing
# ---------------------------------------------------------------------------------------------
def pack_and_count(texts: Sequence[str], tokenizer, block_size: int, progress: bool = False):
    """Blocks and the number of tokens before the remainder was dropped."""
    import numpy as np
    import torch
    from tqdm.auto import tqdm

    check_arg("block_size", isinstance(block_size, int) and not isinstance(block_size, bool) and block_size > 0,
           f"got {block_size!r}", "an integer > 0")
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise ParameterError("texts", "expected a list of strings", "list[str]")
    eos = tokenizer.eos_token_id
    if eos is None:
        raise ParameterError("tokenizer", "has no EOS token; packing separates documents with EOS",
                             "a tokenizer with eos_token set")
    pieces: list = []
    chunk = 1000
    for i in tqdm(range(0, len(texts), chunk), desc="tokenize", unit="chunk", disable=not progress,
                  leave=False):
        batch = list(texts[i:i + chunk])
        ids = tokenizer(batch, add_special_tokens=False)["input_ids"]
        for seq in ids:
            pieces.append(np.asarray(seq, dtype=np.int64))
            pieces.append(np.asarray([eos], dtype=np.int64))
    flat = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)
    n_tokens = int(flat.size)
    n_blocks = n_tokens // block_size
    if n_blocks == 0:
        raise ParameterError(
            "block_size",
            f"the data holds only {n_tokens} tokens ({len(texts)} texts, one EOS each), fewer than one "
            f"block of {block_size}; use a smaller block_size or more data (a larger tokens_per_subset)",
            f"block_size <= {n_tokens}" if n_tokens else "a non-empty corpus")
    blocks = torch.from_numpy(flat[: n_blocks * block_size].copy()).view(n_blocks, block_size)
    return blocks, n_tokens


PAD_LABEL = -100  # a position of a row that is padding: not an input token, ignored by the loss


def row_blocks(texts: Sequence[str], tokenizer, block_size: int, lead: Sequence[int] = ()):
    """One row per text, ``LongTensor [n_texts, width]``: ``lead`` (token ids, e.g. a BOS), then each
    text tokenised without special tokens, followed by the EOS id, cut to ``block_size`` tokens and
    right-padded with :data:`PAD_LABEL`.

    ``width`` is the longest row. Without ``lead`` every text starts at position 0 with nothing before
    it, as a prompt does at generation time (packing puts other texts before it). :func:`train` feeds
    pads as token 0 and leaves them out of the loss; right padding needs no attention mask in a causal model.
    """
    import torch

    check_arg("block_size", isinstance(block_size, int) and not isinstance(block_size, bool) and block_size > 1,
           f"got {block_size!r}", "an integer > 1")
    if isinstance(texts, str) or not texts or not all(isinstance(t, str) for t in texts):
        raise ParameterError("texts", "expected a non-empty list of strings", "list[str]")
    eos = tokenizer.eos_token_id
    if eos is None:
        raise ParameterError("tokenizer", "has no EOS token; each row ends with EOS", "a tokenizer with eos_token set")
    rows = [(list(lead) + ids + [eos])[:block_size]
            for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]]
    width = max(len(r) for r in rows)
    out = torch.full((len(rows), width), PAD_LABEL, dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, :len(r)] = torch.tensor(r, dtype=torch.long)
    return out


def pack_blocks(texts: list[str], tokenizer, block_size: int, *, progress: bool = False):
    """Pack texts into a ``LongTensor [n_blocks, block_size]`` (LLaMA-Factory pretraining packing).

    Each text is tokenised without special tokens and followed by the EOS id; everything is
    concatenated and cut into consecutive blocks; the remainder is dropped. Blocks can span documents
    (no cross-document attention mask). Too little data for one block raises ParameterError.
    """
    return pack_and_count(texts, tokenizer, block_size, progress)[0]


# ---------------------------------------------------------------------------------------------
# step plan, data order, schedule
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StepPlan:
    """How an epoch of ``n_blocks`` is cut into micro-batches and optimizer steps."""

    n_blocks: int
    batch_size: int
    num_processes: int
    grad_accum: int
    micro_batches_per_epoch: int  # global micro-batches of batch_size * num_processes blocks
    steps_per_epoch: int

    @property
    def global_micro_batch(self) -> int:
        return self.batch_size * self.num_processes


def grad_accum_steps(batch_size: int, effective_batch: int, num_processes: int = 1) -> int:
    """``effective_batch // (batch_size * num_processes)``; a ParameterError unless exact and >= 1."""
    check_arg("batch_size", is_int(batch_size) and batch_size > 0, f"got {batch_size!r}", "an integer > 0")
    check_arg("effective_batch", is_int(effective_batch) and effective_batch > 0, f"got {effective_batch!r}",
           "an integer > 0")
    per_step = batch_size * num_processes
    if effective_batch < per_step or effective_batch % per_step:
        raise ParameterError(
            "effective_batch",
            f"{effective_batch} sequences per optimizer step cannot be reached with batch_size "
            f"{batch_size} x {num_processes} process(es) = {per_step} sequences per micro-step "
            "(gradient accumulation must be a whole number >= 1)",
            f"a multiple of {per_step}, e.g. {per_step * max(1, round(effective_batch / per_step))}")
    return effective_batch // per_step


def plan_steps(n_blocks: int, batch_size: int, effective_batch: int, num_processes: int = 1) -> StepPlan:
    """The step plan of one epoch (same step count as ``transformers.Trainer``, drop_last=False)."""
    accum = grad_accum_steps(batch_size, effective_batch, num_processes)
    micro = math.ceil(n_blocks / (batch_size * num_processes))
    return StepPlan(n_blocks, batch_size, num_processes, accum, micro, math.ceil(micro / accum))


def warmup_steps(total_steps: int, warmup_ratio: float) -> int:
    """Warmup steps from a ratio, rounded up (``TrainingArguments.get_warmup_steps``)."""
    return math.ceil(total_steps * warmup_ratio)


def epoch_permutation(n_blocks: int, seed: int, epoch: int):
    """The block order of ``epoch`` (1-based): a permutation seeded from ``(seed, epoch)`` only."""
    import torch

    digest = hashlib.sha256(f"resurface-train:{seed}:{epoch}".encode()).digest()
    g = torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1)
    return torch.randperm(n_blocks, generator=g)


def epoch_layout(order, plan: StepPlan) -> list[list]:
    """Optimizer steps of one epoch, each a list of global micro-batches (index tensors)."""
    import torch

    g = plan.global_micro_batch
    micro = [order[i:i + g] for i in range(0, len(order), g)]
    if plan.num_processes > 1 and micro and len(micro[-1]) < g:
        need = g - len(micro[-1])
        reps = math.ceil(need / len(order))
        micro[-1] = torch.cat([micro[-1], order.repeat(reps)[:need]])
    return [micro[i:i + plan.grad_accum] for i in range(0, len(micro), plan.grad_accum)]
