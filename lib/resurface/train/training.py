"""Student training: full fine-tune on packed blocks, evaluated before training and after every epoch.

This mirrors the reference pipeline (METHODS.md c.4: LLaMA-Factory ``stage: pt``, full fine-tune,
``packing: true``) with a plain training loop on :class:`accelerate.Accelerator`, so the same code runs
on one CPU, one GPU, or several GPUs under ``accelerate launch`` (DDP):

- **Packing** (:func:`resurface.train.packing.pack_blocks`): every text + EOS, tokenised without special tokens, all
  concatenated and cut into ``block_size`` blocks; the remainder is dropped; no cross-document mask.
- **Loss**: causal LM loss (labels = input ids). The loss of an optimizer step is the mean over every
  predicted token of its micro-batches (token-weighted, as ``transformers.Trainer`` computes it, so a
  short last micro-batch does not get the weight of a full one).
- **Optimizer**: ``torch.optim.AdamW`` (betas 0.9/0.999, eps 1e-8, fused kernel on CUDA and CPU); weight decay only
  on parameters with two or more dimensions (matrices and embeddings, not norms or biases — the
  same set ``Trainer`` decays for the supported architectures); gradients clipped to ``max_grad_norm``
  (1.0, the HF/LLaMA-Factory default). On CPU a large tied embedding gets the lookup's share of its
  gradient as a sparse tensor (:mod:`resurface.train.tiedgrad`); the parameter's gradient stays dense.
- **Schedule**: ``get_cosine_schedule_with_warmup`` with ``ceil(warmup_ratio * total_steps)`` warmup
  steps, exactly what ``Trainer`` computes from a ratio; total steps = epochs x
  ``ceil(micro_batches_per_epoch / grad_accum)`` (the last step of an epoch may be short, as in
  ``Trainer``).
- **Data order**: each epoch permutes the blocks with a ``torch.Generator`` seeded from
  ``(seed, epoch)`` only (:func:`resurface.train.packing.epoch_permutation`), so the order does not depend on anything else
  that touched the global RNG, and a resumed run sees the same order (:mod:`resurface.train.packing`). Under several processes every
  global micro-batch of ``batch_size x num_processes`` consecutive blocks is split between the ranks;
  a short last one is completed with blocks from the start of the permutation (accelerate's
  ``even_batches`` rule), so each optimizer step sees the same blocks as on one device except there.
- **Precision**: weights stay fp32 (master weights); where bf16 is chosen (CUDA, or a CPU with bf16
  matrix units: :mod:`resurface.device`) the forward pass runs under bf16 autocast
  (``mixed_precision="bf16"``), elsewhere in fp32. Training the weights themselves in bf16 would lose
  every update of a 1e-6 learning rate, so it is not offered; fp16 (which needs loss scaling) is
  refused. On a CPU under bf16, the evaluation hook scores a bf16 copy of the weights (the form every
  standalone scorer uses there: :func:`scoring_copy`), and the steps use the model's own attention
  instead of the fused kernel, whose bf16 backward is slow on a CPU (:mod:`resurface.train.attention`).
- **Evaluation**: ``eval_hook(model, tokenizer, epoch)`` runs at epoch 0 (the base model, before any
  step) and after every epoch, on the main process; its rows are kept with an ``epoch`` column.
- **Resume**: with a ``workdir``, the full state (weights, optimizer, scheduler, RNG states, results and
  losses so far) is saved after an epoch's evaluation into ``workdir/state`` (written to
  ``state.tmp`` then renamed, so a kill never leaves a half state) when it is worth it
  (:func:`state_due`): when the work since the last save (training and evaluation, wall time) is at
  least ``state_every_s`` seconds and at least :data:`STATE_COST_RATIO` times what the last save took,
  so a short run saves no state (a killed one redoes at most ``state_every_s`` of work) and a run whose
  epochs take minutes to hours saves after every epoch. A later call with the same workdir continues after
  the last saved epoch without re-evaluating it and produces the same results and losses as an
  uninterrupted run (bit-identical on CPU).

:func:`train_run` is the stage entry point: it reads a corpus or subset folder, trains a student
through the artifact store and writes ``results.csv``, ``losses.csv`` and ``train.json``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import sys
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Sequence

from resurface import models
from resurface.artifacts import Store
from resurface.corpus.files import corpus_path, read_corpus
from resurface.device import DTYPES, dtype_key, mixed_precision, resolve_device
from resurface.device import mixed_precision as auto_mp
from resurface.diskspace import check_free_space, training_bytes
from resurface.errors import ParameterError, ResurfaceError
from resurface.evaluate import evaluation
from resurface.evaluate.evaluation import write_items
from resurface.identity import corpus_identity, identity_string, key_name, model_identity, run_key
from resurface.models import load_tokenizer, local_path
from resurface.quiet import quiet_logger
from resurface.train import attention, epocheval, sharded, tiedgrad
from resurface.train.packing import (PAD_LABEL, check_arg, epoch_layout, epoch_permutation, grad_accum_steps, is_int,
                                     is_num, pack_and_count, plan_steps, warmup_steps)
from resurface.train.runstate import (PROGRESS, STATE_DIR, STATE_PREV, STATE_TMP, TrainResult, find_state,
                                      rows_from_hook)

STAGE = "train"
STAGE_VERSION = 3  # 2: content identity of model folders, no paths in keys (also base-eval)
# 3: 480-item course pools and new course metrics/tasks; per-item files items/epoch_XX.csv.gz

#: column order of the per-step loss table
LOSS_COLUMNS = ["step", "epoch", "loss", "lr", "grad_norm", "tokens_seen", "seconds"]

EvalHook = Callable[[Any, Any, int], list]


# ---------------------------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------------------------
def _validate_hparams(epochs, lr, warmup_ratio, weight_decay, max_grad_norm, seed) -> None:
    check_arg("epochs", is_int(epochs) and epochs >= 0, f"got {epochs!r}", "an integer >= 0")
    check_arg("lr", is_num(lr) and lr > 0, f"got {lr!r}", "a number > 0")
    check_arg("warmup_ratio", is_num(warmup_ratio) and 0 <= warmup_ratio < 1, f"got {warmup_ratio!r}",
           "a number in [0, 1)")
    check_arg("weight_decay", is_num(weight_decay) and weight_decay >= 0, f"got {weight_decay!r}",
           "a number >= 0")
    check_arg("max_grad_norm", max_grad_norm is None or (is_num(max_grad_norm) and max_grad_norm >= 0),
           f"got {max_grad_norm!r}", "a number >= 0 (0 or None: no clipping)")
    check_arg("seed", is_int(seed), f"got {seed!r}", "an integer")


MIXED_PRECISION = ("auto", "no", "bf16")


def _resolve_mixed_precision(mixed_precision: str, cuda: bool) -> str:
    check_arg("mixed_precision", mixed_precision in MIXED_PRECISION, f"got {mixed_precision!r}",
           ", ".join(MIXED_PRECISION))
    if mixed_precision == "auto":
        return auto_mp("auto", "cuda" if cuda else "cpu")
    return mixed_precision


def scoring_copy(model, dtype, into=None):
    """``model``'s weights held in ``dtype`` for scoring, in eval mode, without accelerate's autocast
    wrapper and without the lm-eval wrappers cached on the original (they point at its weights).

    ``into``, a copy made by an earlier call, is refilled in place (it keeps its lm-eval wrapper). A new
    copy is built from the model's folder in ``dtype`` where it has one, as ``from_pretrained(dtype=...)``
    builds a scorer: bf16 tensors cast from fp32 ones in memory ran the course's scoring about 2.5x
    slower on the CPU's matrix units than the loaded ones (measured, cause not found); elsewhere by a
    deep copy."""
    import copy

    import torch

    if into is None:
        folder = Path(str(getattr(getattr(model, "config", None), "_name_or_path", "") or ""))
        if (folder / "config.json").is_file():
            from transformers import AutoModelForCausalLM

            into = AutoModelForCausalLM.from_pretrained(str(folder), dtype=dtype)
        else:
            cached = model.__dict__.pop("_resurface_hflm", None)
            try:
                into = copy.deepcopy(model)
            finally:
                if cached is not None:
                    model.__dict__["_resurface_hflm"] = cached
            into.__dict__.pop("forward", None)  # accelerate's autocast wrapper: the class's forward again
            into.__dict__.pop("_original_forward", None)
            for p in into.parameters():  # the weights only: buffers (RoPE frequencies) stay in fp32
                p.data = p.data.to(dtype)
            if getattr(into, "config", None) is not None:
                into.config.dtype = dtype
    with torch.no_grad():
        into.load_state_dict(model.state_dict())
    return into.eval()


# ---------------------------------------------------------------------------------------------
# accelerate plumbing
# ---------------------------------------------------------------------------------------------
def _world() -> tuple[int, int]:
    """(world size, rank) from the launcher's environment, without initialising anything."""
    return int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("RANK", "0"))


def _make_accelerator(cpu: bool, mixed_precision: str):
    """An Accelerator; in a single process, a state left by another configuration is reset."""
    from datetime import timedelta

    from accelerate import Accelerator
    from accelerate.state import AcceleratorState
    from accelerate.utils import GradientAccumulationPlugin, InitProcessGroupKwargs

    # Accumulation is done by the loop itself (token-weighted losses, no_sync): pin accelerate's own
    # to 1 so that neither a launcher setting nor an earlier Trainer rescales the loss in backward().
    # Evaluation runs on the main process while the others wait: allow long barriers.
    kwargs = dict(cpu=cpu, mixed_precision=mixed_precision,
                  gradient_accumulation_plugin=GradientAccumulationPlugin(num_steps=1),
                  kwargs_handlers=[InitProcessGroupKwargs(timeout=timedelta(hours=6))])
    try:
        return Accelerator(**kwargs)
    except ValueError as exc:
        if "already been initialized" not in str(exc) or _world()[0] > 1:
            raise
        AcceleratorState._reset_state(reset_partial_state=True)
        return Accelerator(**kwargs)


def _barrier() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def _param_groups(model, weight_decay: float) -> list[dict]:
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim >= 2 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


# ---------------------------------------------------------------------------------------------
# resumable state
# ---------------------------------------------------------------------------------------------


def _quiet_accelerate():
    """Silence accelerate's per-save notice about tied (shared) weights, which is expected here."""
    return quiet_logger("accelerate")


def _save_state(accelerator, workdir: Path, progress: dict) -> None:
    """Save the full training state atomically: write state.tmp, then rename it to state."""
    tmp, final, prev = workdir / STATE_TMP, workdir / STATE_DIR, workdir / STATE_PREV
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
    accelerator.wait_for_everyone()
    with _quiet_accelerate():
        accelerator.save_state(str(tmp), safe_serialization=True)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (tmp / PROGRESS).write_text(json.dumps(progress))  # written last: marks the state complete
        if final.exists():
            shutil.rmtree(prev, ignore_errors=True)
            os.replace(final, prev)
        os.replace(tmp, final)
        shutil.rmtree(prev, ignore_errors=True)
    accelerator.wait_for_everyone()


STATE_EVERY_S = 300.0  # default minimum work (seconds) between two state saves; env RESURFACE_STATE_EVERY_S
STATE_COST_RATIO = 10.0  # and at least this many times the duration of the previous save


def state_every_seconds(value: float | None = None) -> float:
    """The save interval in force: ``value``, else ``$RESURFACE_STATE_EVERY_S``, else :data:`STATE_EVERY_S`."""
    if value is None:
        raw = os.environ.get("RESURFACE_STATE_EVERY_S")
        if raw is None or raw.strip() == "":
            return STATE_EVERY_S
        try:
            value = float(raw)
        except ValueError:
            raise ParameterError("RESURFACE_STATE_EVERY_S", f"is not a number: {raw!r}",
                                 "seconds >= 0 (0 saves after every epoch)") from None
        name = "RESURFACE_STATE_EVERY_S"
    else:
        name = "state_every_s"
    if not is_num(value) or not math.isfinite(value) or value < 0:
        raise ParameterError(name, f"got {value!r}", "seconds >= 0 (0 saves after every epoch)")
    return float(value)


def state_due(work_since_save: float, last_save_seconds: float | None, every_s: float) -> bool:
    """Whether the work since the last save (seconds) is worth a new save of the training state.

    A save costs its own duration and its bytes (the full weights and optimizer state); losing work
    costs its redo time. Save when the unsaved work is at least ``every_s`` seconds and at least
    :data:`STATE_COST_RATIO` times what the previous save took (unknown before the first save).
    ``every_s == 0`` saves every time.
    """
    if every_s == 0:
        return True
    if work_since_save < every_s:
        return False
    return last_save_seconds is None or work_since_save >= STATE_COST_RATIO * last_save_seconds


def _fingerprint(blocks, **hparams) -> dict:
    h = hashlib.sha256(blocks.detach().cpu().contiguous().numpy().tobytes()).hexdigest()[:16]
    return {"blocks_sha256": h, "blocks_shape": list(blocks.shape), **hparams}


# ---------------------------------------------------------------------------------------------
# the loop
# ---------------------------------------------------------------------------------------------
def length_groups(lengths: Sequence[int], min_saving: float = 0.25) -> list[list[int]]:
    """Row indices in one or two groups by length: two (the shorter rows, the longer ones) where computing
    each group at its own longest row saves at least ``min_saving`` of the positions that one group at
    the longest row costs (a forward pass has a fixed cost too), else one group of every row."""
    order = sorted(range(len(lengths)), key=lambda r: lengths[r])
    n = len(order)
    if n < 2:
        return [order]
    sl = [lengths[r] for r in order]
    whole = n * sl[-1]
    cost, k = min((k * sl[k - 1] + (n - k) * sl[-1], k) for k in range(1, n))
    return [order[:k], order[k:]] if cost <= (1 - min_saving) * whole else [order]


def _row_groups(x, split: bool = True) -> list:
    """A padded micro-batch as ``(rows, share)`` pairs: each group of :func:`length_groups` cut to its
    longest row (right padding, causal: exact) with its share of the micro-batch's predicted tokens."""
    lengths = (x != PAD_LABEL).sum(1)
    pred = (lengths - 1).clamp(min=0)
    total = int(pred.sum())
    groups = length_groups(lengths.tolist()) if split and total > 0 else [list(range(x.shape[0]))]
    out = []
    for g in groups:
        n_pred = int(pred[g].sum())
        if len(groups) > 1 and n_pred == 0:
            continue  # rows with nothing to predict add nothing to the token mean
        rows = x[g] if len(groups) > 1 else x
        out.append((rows[:, :max(int(lengths[g].max()), 1)], n_pred / total if len(groups) > 1 else 1.0))
    return out


def train(model, tokenizer, blocks, *, epochs: int, lr: float, warmup_ratio: float = 0.1,
          batch_size: int = 8, effective_batch: int = 64, weight_decay: float = 0.0,
          max_grad_norm: float | None = 1.0, seed: int = 42, eval_hook: EvalHook | None = None,
          workdir: str | Path | None = None, save_checkpoints: bool = False, progress: bool = True,
          shuffle: bool = True, device: str = "auto", mixed_precision: str = "auto",
          state_every_s: float | None = None, on_optimizer: Callable[[Any], None] | None = None,
          loss_chunk: int | None = None, engine: str = "ddp") -> TrainResult:
    """Fully fine-tune ``model`` (in place) on packed ``blocks`` with a causal LM loss.

    ``blocks``: LongTensor [n_blocks, block_size] from :func:`pack_blocks`, or one row per text from
    :func:`row_blocks` (its :data:`PAD_LABEL` positions are fed as token 0 and left out of the loss and
    of ``tokens_seen``; under gradient accumulation a micro-batch weighs by its rows, not its real
    tokens). ``eval_hook(model,
    tokenizer, epoch) -> list[dict]`` is called at epoch 0 (before training) and after each epoch.
    ``workdir`` makes the run resumable (see the module docstring) and holds ``checkpoints/epoch_XX``
    when ``save_checkpoints``. ``shuffle=False`` keeps the blocks in their given order every epoch.
    ``device``: auto (accelerate's choice: the GPU of this rank if any) or cpu. ``mixed_precision``:
    auto (bf16 on CUDA, none on CPU), no, or bf16. ``state_every_s``: the least work between two
    state saves (:func:`state_due`; default :func:`state_every_seconds`; 0 saves after every epoch).
    ``on_optimizer(optimizer)`` is called once the optimizer exists (the per-epoch evaluator moves its
    state to host memory while it scores checkpoints on the training's GPU). ``loss_chunk``: compute
    the loss in chunks of this many positions (every row of the micro-batch) so the full logits never exist
    (:class:`resurface.train.chunkedloss.ChunkedLossLM`); None: the model's own loss. ``engine``: ddp
    (every rank holds the whole state) or fsdp (parameters, gradients and optimizer state sharded over
    the ranks: :mod:`resurface.train.sharded`).
    Returns a :class:`TrainResult`; ``losses`` has one
    row per optimizer step (``seconds``: cumulative training time without evaluation and saving).
    """
    import pandas as pd
    import torch
    from accelerate.utils import set_seed
    from tqdm.auto import tqdm
    from transformers import get_cosine_schedule_with_warmup

    # ---- validation, before any heavy work
    _validate_hparams(epochs, lr, warmup_ratio, weight_decay, max_grad_norm, seed)
    every_s = state_every_seconds(state_every_s)
    if not (isinstance(blocks, torch.Tensor) and blocks.ndim == 2 and blocks.shape[0] > 0
            and blocks.shape[1] > 1 and not blocks.is_floating_point()):
        raise ParameterError("blocks", f"expected an integer tensor [n_blocks>0, block_size>1], got "
                             f"{getattr(blocks, 'shape', type(blocks).__name__)}", "pack_blocks(...) output")
    n_blocks, block_size = int(blocks.shape[0]), int(blocks.shape[1])
    padded = bool((blocks == PAD_LABEL).any())  # rows from row_blocks
    max_pos = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    if isinstance(max_pos, int) and block_size > max_pos:
        raise ParameterError("block_size", f"{block_size} is longer than the model's context ({max_pos})",
                             f"an integer <= {max_pos}")
    check_arg("device", device in ("auto", "cpu", "cuda"), f"got {device!r}", "auto, cpu, cuda")
    check_arg("train_engine", engine in sharded.ENGINES, f"got {engine!r}", ", ".join(sharded.ENGINES))
    if device == "cuda" and not torch.cuda.is_available():
        resolve_device("cuda")  # raises DeviceError with the explanation
    if eval_hook is not None and not callable(eval_hook):
        raise ParameterError("eval_hook", "is not callable", "a function (model, tokenizer, epoch) -> list[dict]")
    if save_checkpoints and workdir is None:
        raise ParameterError("save_checkpoints", "needs a workdir to write checkpoints into",
                             "pass workdir=... or save_checkpoints=False")
    world, _ = _world()
    grad_accum_steps(batch_size, effective_batch, world)  # early, before the Accelerator exists
    cuda = device != "cpu" and torch.cuda.is_available()
    mp = _resolve_mixed_precision(mixed_precision, cuda)
    workdir = Path(workdir) if workdir is not None else None

    # ---- setup
    accelerator = _make_accelerator(cpu=not cuda, mixed_precision=mp)
    bf16_scoring_copy = mp == "bf16" and accelerator.device.type == "cpu"
    scorer: list = [None]  # the bf16 copy the evaluations score, refilled each epoch
    main = accelerator.is_main_process
    nproc, rank = accelerator.num_processes, accelerator.process_index
    plan = plan_steps(n_blocks, batch_size, effective_batch, nproc)
    total_steps = plan.steps_per_epoch * epochs
    n_warmup = warmup_steps(total_steps, warmup_ratio)
    set_seed(seed)
    if workdir is not None and main:
        workdir.mkdir(parents=True, exist_ok=True)
    accelerator.wait_for_everyone()

    model.train()
    raw_model = model
    # CPU under bf16: the model's own attention for the steps (the fused kernel's bf16 backward is slow
    # there); the evaluations and the caller get the model's kernel back (resurface.train.attention)
    kernel_before = attention.for_training(raw_model, bf16_scoring_copy)
    if loss_chunk is not None:
        from resurface.train.chunkedloss import ChunkedLossLM

        model = ChunkedLossLM(model, loss_chunk)
    fsdp = engine == "fsdp"
    model = sharded.shard_model(model, accelerator.device) if fsdp else accelerator.prepare(model)
    inner = model if fsdp else accelerator.unwrap_model(model)
    if loss_chunk is not None:
        inner = inner.lm
    optimizer = torch.optim.AdamW(_param_groups(inner, weight_decay), lr=lr, betas=(0.9, 0.999), eps=1e-8,
                                  weight_decay=weight_decay, fused=accelerator.device.type in ("cuda", "cpu"))
    fsdp = fsdp and sharded.is_sharded(model)  # one process: nothing to shard, the plain loop
    sparse_tied = tiedgrad.sparse_pays(inner, accelerator.device.type, nproc)
    scheduler = get_cosine_schedule_with_warmup(optimizer, n_warmup, max(total_steps, 1))
    accelerator.register_for_checkpointing(sharded.FullState(model, optimizer) if fsdp else optimizer, scheduler)
    if on_optimizer is not None:
        on_optimizer(optimizer)

    fingerprint = _fingerprint(blocks, epochs=epochs, lr=lr, warmup_ratio=warmup_ratio, batch_size=batch_size,
                               effective_batch=effective_batch, weight_decay=weight_decay,
                               max_grad_norm=max_grad_norm, seed=seed, shuffle=shuffle,
                               num_processes=nproc, mixed_precision=mp,
                               **({"loss_chunk": loss_chunk} if loss_chunk is not None else {}),
                               **({"engine": engine} if engine != "ddp" else {}))
    done_epoch, step, tokens_seen, train_seconds = -1, 0, 0, 0.0
    results: list[dict] = []
    losses: list[dict] = []
    resumed_from = None

    state = find_state(workdir) if workdir is not None else None
    if state is not None:
        saved = json.loads((state / PROGRESS).read_text())
        if saved["fingerprint"] != fingerprint:
            diff = sorted(k for k in fingerprint if saved["fingerprint"].get(k) != fingerprint[k])
            raise ResurfaceError(
                f"{state} was written by a run with different data or settings ({', '.join(diff)}); "
                "delete it or use another workdir")
        with _quiet_accelerate():
            accelerator.load_state(str(state))
        done_epoch, step, tokens_seen = saved["epoch"], saved["step"], saved["tokens_seen"]
        train_seconds, results, losses = saved["train_seconds"], saved["results"], saved["losses"]
        resumed_from = done_epoch
        if main and progress:
            print(f"[train] resuming after epoch {done_epoch} (step {step}) from {state}", file=sys.stderr, flush=True)

    def evaluate(epoch: int) -> None:
        if eval_hook is not None:
            whole = sharded.full_model(model, inner, main, accelerator.device) if fsdp else inner
            if main:
                if bf16_scoring_copy:  # CPU under bf16: score bf16 weights, as the standalone scorers do
                    scorer[0] = scoring_copy(whole, torch.bfloat16, into=scorer[0])
                    attention.restore(scorer[0], kernel_before)
                    with torch.no_grad():
                        rows = eval_hook(scorer[0], tokenizer, epoch)
                else:
                    whole.eval()
                    with torch.no_grad(), accelerator.autocast():
                        rows = eval_hook(whole, tokenizer, epoch)
                    whole.train()
                results.extend(rows_from_hook(rows, epoch))
                _write_epoch_items(eval_hook, epoch, workdir)
            accelerator.wait_for_everyone()

    def checkpoint(epoch: int) -> None:
        whole = sharded.full_model(model, inner, main, accelerator.device) if fsdp else inner
        if main:
            out = workdir / "checkpoints" / f"epoch_{epoch:02d}"
            tmp = out.with_name(out.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            whole.save_pretrained(tmp)
            if tokenizer is not None:
                tokenizer.save_pretrained(tmp)
            shutil.rmtree(out, ignore_errors=True)
            os.replace(tmp, out)
        accelerator.wait_for_everyone()

    saves = {"since": time.perf_counter(), "last_seconds": None, "count": 0}

    def save(epoch: int) -> None:
        # the flag is the main process's decision, so every rank saves or skips together
        due = state_due(time.perf_counter() - saves["since"], saves["last_seconds"], every_s)
        due = bool(accelerator.gather(torch.tensor([int(due)], device=accelerator.device))[0].item()) \
            if nproc > 1 else due
        if workdir is not None and due:
            t0 = time.perf_counter()
            _save_state(accelerator, workdir, {
                "epoch": epoch, "step": step, "tokens_seen": tokens_seen, "train_seconds": train_seconds,
                "results": results, "losses": losses, "fingerprint": fingerprint})
            saves.update(since=time.perf_counter(), last_seconds=time.perf_counter() - t0,
                         count=saves["count"] + 1)

    wall0 = time.perf_counter()
    if done_epoch < 0:
        evaluate(0)
        save(0)
        done_epoch = 0

    bar = tqdm(total=total_steps, initial=step, desc="train", unit="step",
               disable=not (progress and main), dynamic_ncols=True)
    pred_per_block = block_size - 1
    for epoch in range(done_epoch + 1, epochs + 1):
        order = epoch_permutation(n_blocks, seed, epoch) if shuffle else torch.arange(n_blocks)
        for micro_batches in epoch_layout(order, plan):
            t0 = time.perf_counter()
            step_pred = sum(len(g) for g in micro_batches) * pred_per_block  # all ranks
            loss_sum = torch.zeros((), dtype=torch.float64, device=accelerator.device)
            for i, g in enumerate(micro_batches):
                local = g if nproc == 1 else g[rank * batch_size:(rank + 1) * batch_size]
                weight = len(local) * pred_per_block / step_pred
                last = i == len(micro_batches) - 1
                if fsdp:  # FSDP reduce-scatters on the last micro-batch only, as DDP's no_sync does
                    model.set_requires_gradient_sync(last)
                # padded rows: one forward per group of similar lengths, each cut to its longest row and
                # weighted by its share of the micro-batch's predicted tokens, so the loss and gradient
                # are the micro-batch's token mean as one forward would give (one process only: a
                # second backward under DDP would reduce gradients early)
                parts = _row_groups(blocks[local], split=nproc == 1 and not fsdp) if padded \
                    else [(blocks[local], 1.0)]
                for j, (x, share) in enumerate(parts):
                    x = x.to(accelerator.device, non_blocking=True)
                    final = last and j == len(parts) - 1
                    ctx = accelerator.autocast() if fsdp else contextlib.nullcontext() if final \
                        else accelerator.no_sync(model)
                    with ctx, tiedgrad.sparse_input_grad(inner, sparse_tied):
                        # only the loss is kept: holding the output would keep its logits (batch x block x
                        # vocab floats) alive through the next forward pass
                        ids = x.clamp(min=0) if padded else x
                        loss = model(input_ids=ids, labels=x, use_cache=False).loss
                        # DDP averages gradients over ranks: scale by nproc to get the global token mean
                        accelerator.backward(loss * (weight * share * nproc))
                    loss_sum += loss.detach().double() * (weight * share)
                    del loss, x
            loss_val = float(accelerator.reduce(loss_sum, reduction="sum").item()) if nproc > 1 \
                else float(loss_sum.item())
            grad_norm = None
            if max_grad_norm:
                norm = (torch.nn.utils.clip_grad_norm_ if fsdp else accelerator.clip_grad_norm_)(
                    model.parameters(), max_grad_norm)
                grad_norm = float(norm.full_tensor() if hasattr(norm, "full_tensor") else norm)
            lr_now = float(scheduler.get_last_lr()[0])
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            tokens_seen += sum(int((blocks[g] != PAD_LABEL).sum()) for g in micro_batches) if padded \
                else sum(len(g) for g in micro_batches) * block_size
            train_seconds += time.perf_counter() - t0
            losses.append({"step": step, "epoch": epoch, "loss": loss_val, "lr": lr_now,
                           "grad_norm": grad_norm, "tokens_seen": tokens_seen,
                           "seconds": round(train_seconds, 4)})
            bar.update(1)
            bar.set_postfix(epoch=epoch, loss=f"{loss_val:.4f}", lr=f"{lr_now:.2e}")
        evaluate(epoch)
        if save_checkpoints:
            checkpoint(epoch)
        save(epoch)
    bar.close()

    # restore the plain forward (accelerate wraps it with autocast under mixed precision); under FSDP
    # the caller's model object holds only this rank's shards: the weights are in the checkpoints
    (model if fsdp else accelerator.unwrap_model(model, keep_fp32_wrapper=False)).eval()
    attention.restore(raw_model, kernel_before)
    res_df = pd.DataFrame(results) if results else pd.DataFrame({"epoch": pd.Series([], dtype="int64")})
    summary = {
        "blocks": n_blocks, "block_size": block_size, "tokens_per_epoch": n_blocks * block_size,
        "epochs": epochs, "steps": total_steps, "steps_per_epoch": plan.steps_per_epoch,
        "grad_accum": plan.grad_accum, "micro_batches_per_epoch": plan.micro_batches_per_epoch,
        "warmup_steps": n_warmup, "num_processes": nproc, "device": accelerator.device.type,
        "mixed_precision": mp, "resumed_after_epoch": resumed_from,
        "train_seconds": round(train_seconds, 3), "wall_seconds_this_call": round(time.perf_counter() - wall0, 3),
        "tokens_seen": tokens_seen, "state_saves": saves["count"], "state_every_s": every_s,
        "sparse_tied_embedding_grad": sparse_tied, "engine": "fsdp" if fsdp else "ddp",
        "attention": attention.CPU_BF16_TRAINING if kernel_before is not None else attention.kernel(raw_model),
        "tokens_per_second": round(tokens_seen / train_seconds, 2) if train_seconds > 0 else None,
    }
    del optimizer, scheduler
    accelerator.free_memory()
    return TrainResult(results=res_df, losses=pd.DataFrame(losses, columns=LOSS_COLUMNS), summary=summary)


# ---------------------------------------------------------------------------------------------
# the stage: train_run
# ---------------------------------------------------------------------------------------------
def data_key(data: str | Path) -> str:
    """The input key of a corpus/subset folder (:func:`resurface.identity.corpus_identity`, the spelling
    of training runs): a store artifact's own key; for a subset folder inside an artifact, the parent's
    key + '/' + the folder name; otherwise ``sha256:`` of the corpus file."""
    return corpus_identity(corpus_path(data), "run")


@dataclass(frozen=True)
class RunConfig:
    """What names a training run in the artifact store: every field that changes its results.

    :func:`resurface.identity.run_key` hashes :meth:`as_key` with the corpus's key. A field marked
    ``optional`` enters the key only when it differs from its default, so adding such a field keeps
    every existing key."""

    student: str  # the name as given (an alias, a Hub id, or LOCAL_FOLDER)
    student_id: str  # the weights (resurface.identity.identity_string)
    epochs: int
    lr: float
    warmup_ratio: float
    block_size: int
    batch_size: int
    effective_batch: int
    weight_decay: float
    seed: int
    eval_suites: tuple[str, ...]
    eval_limit: int | None
    dtype: str
    mixed_precision: str
    device: str  # the device class: cpu or cuda
    save_checkpoints: bool
    max_grad_norm: float = 1.0
    packing: str = "text+eos, no special tokens, concat, drop remainder"
    optimizer: str = "adamw"
    schedule: str = "cosine"
    shuffle: str = "per-epoch randperm(seed, epoch)"
    eval_hook: str | None = field(default=None, metadata={"optional": True})
    run_name: str | None = field(default=None, metadata={"optional": True})
    eval_engine: str = field(default="hf", metadata={"optional": True})  # vLLM's numbers differ slightly
    loss_chunk: int | None = field(default=None, metadata={"optional": True})  # chunked loss: positions per chunk
    train_engine: str = field(default="ddp", metadata={"optional": True})  # fsdp: sharded over the ranks

    def as_key(self) -> dict[str, Any]:
        """The fields as the key hashes them (optional fields only when set)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("optional") and value == f.default:
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


def student_identity(student: str, allow_hub: bool = False) -> tuple[Path, str]:
    """The student's local folder and a string that changes whenever its weights can change.

    The one-line form of :func:`resurface.identity.model_identity`: aliases, the resolved folder name
    (it encodes the shipping package's version, or the tiny-model seed and version); Hub ids,
    ``id@<snapshot commit>``; a folder in the artifact store, ``artifact:<stage>/<key>/<sub>``;
    other local folders, ``sha256:`` of their content (never their path).
    """
    try:
        path = local_path(student, allow_hub=allow_hub)
    except ParameterError as exc:
        raise exc.renamed("student") from None
    return path, identity_string(model_identity(student, path))


def _vocab_size(model_path: Path) -> int | None:
    """The vocabulary in a model folder's config.json (None when there is none to read)."""
    try:
        cfg = json.loads((Path(model_path) / "config.json").read_text())
    except (OSError, ValueError):
        return None
    cfg = {**cfg, **cfg["text_config"]} if isinstance(cfg.get("text_config"), dict) else cfg
    v = cfg.get("vocab_size")
    return v if isinstance(v, int) else None


def _hook_name(hook) -> str:
    """How a custom eval hook is named in the run's artifact key: its ``key_name`` when it sets one (a
    name that survives moving its module), else ``module.qualname``."""
    if isinstance(getattr(hook, "key_name", None), str):
        return hook.key_name
    mod = getattr(hook, "__module__", "") or ""
    name = getattr(hook, "__qualname__", None) or type(hook).__qualname__
    return f"{mod}.{name}"


BASE_EVAL_STAGE = "base-eval"


def _write_epoch_items(eval_hook, epoch: int, workdir) -> None:
    """Write the per-item rows a hook kept for ``epoch`` (``hook.items[epoch]``, see
    :func:`resurface.evaluate.evaluation.make_eval_hook`) to ``workdir/items/epoch_XX.csv.gz``."""
    items = getattr(eval_hook, "items", None)
    if not isinstance(items, dict) or epoch not in items:
        return
    rows = items.pop(epoch)
    if workdir is None:
        return

    (Path(workdir) / "items").mkdir(parents=True, exist_ok=True)
    write_items(Path(workdir) / "items" / f"epoch_{epoch:02d}.csv.gz", [{**r, "epoch": epoch} for r in rows])


def shared_base_eval(hook: EvalHook, store, config: dict) -> EvalHook:
    """Wrap ``hook`` so that epoch 0 (the untouched student) is evaluated once per student and suite
    set and read from the store afterwards: every run of the same student shares its base scores."""
    store = store if store is not None else Store()

    def wrapped(model, tokenizer, epoch: int):
        if epoch != 0:
            return hook(model, tokenizer, epoch)
        import pandas as pd

        def compute(work: Path) -> dict:
            pd.DataFrame(hook(model, tokenizer, 0)).to_csv(work / "results.csv", index=False)
            if isinstance(getattr(hook, "items", None), dict) and 0 in hook.items:
                write_items(work / "items.csv.gz", hook.items.pop(0))
            return {}

        art = store.get_or_compute(BASE_EVAL_STAGE, STAGE_VERSION, config, compute, verbose=False)
        if art.path.joinpath("items.csv.gz").exists():  # the base model's per-item rows, shared too
            wrapped.items[0] = pd.read_csv(art.path / "items.csv.gz").to_dict("records")
        df = pd.read_csv(art.file("results.csv"))
        return df.astype(object).where(df.notna(), None).to_dict("records")

    wrapped.items = hook.items if isinstance(getattr(hook, "items", None), dict) else {}
    wrapped.__name__ = getattr(hook, "__name__", "eval_hook")
    return wrapped


def _link_tree(src: Path, dst: Path) -> bool:
    """Hard-link every file of folder ``src`` into a new folder ``dst``; False (and nothing left at
    ``dst``) when ``src`` is missing or the file system cannot link."""
    if not src.is_dir():
        return False
    try:
        shutil.copytree(src, dst, copy_function=os.link)
        return True
    except OSError:
        shutil.rmtree(dst, ignore_errors=True)
        return False


def train_run(student: str, data: str | Path, *, epochs: int, lr: float, warmup_ratio: float = 0.1,
              block_size: int = 2048, batch_size: int = 8, effective_batch: int = 64,
              weight_decay: float = 0.0, seed: int = 42, eval_suites: Sequence[str] = (),
              eval_limit: int | None = None, device: str = "auto", dtype: str = "auto",
              allow_hub: bool = False, save_checkpoints: bool = False, store=None,
              out: str | Path | None = None, run_name: str | None = None,
              eval_hook: EvalHook | None = None, progress: bool = True, eval_engine: str = "hf",
              loss_chunk: int | str | None = "auto", train_engine: str = "ddp") -> Path:
    """Train ``student`` on a corpus or subset folder, evaluating every epoch; return the artifact folder.

    The folder holds ``results.csv`` (tidy: run, epoch, suite, task, metric, value, stderr, ...),
    ``losses.csv`` (one row per optimizer step), ``train.json`` (summary) and, with
    ``save_checkpoints``, ``checkpoints/epoch_XX`` and ``final_model/``. Results are cached in the
    artifact store (or written to ``out``); a killed run resumes from its last finished epoch.

    ``eval_suites`` are resolved by :func:`resurface.evaluate.evaluation.make_eval_hook`; ``eval_hook`` (a
    callable ``(model, tokenizer, epoch) -> rows``) replaces them, e.g. in tests. ``dtype`` is the compute
    precision: auto (bf16 autocast where the hardware has bf16 units: CUDA, or a CPU with AMX-BF16 or
    AVX512-BF16; else fp32), float32, or bfloat16 (autocast); weights are always trained in fp32. ``run_name`` labels the rows (default: the artifact key) and is part of the
    cache key when given. ``eval_engine`` scores ``eval_suites``: ``hf`` in this process, ``vllm`` (or
    ``hf-process``) from a checkpoint per epoch in a process of its own (:mod:`resurface.train.epocheval`;
    part of the cache key when not ``hf``). ``loss_chunk``: the chunked loss's positions per chunk, None
    for the model's own loss, or auto (on when a micro-batch's fp32 logits exceed 1 GiB;
    :func:`resurface.train.chunkedloss.resolve_loss_chunk`); part of the cache key when on.
    ``train_engine``: ddp, or fsdp for a student whose state does not fit one GPU (full shard over
    the ranks of ``accelerate launch``; :mod:`resurface.train.sharded`); part of the key when fsdp.
    """

    # ---- validation before any heavy work
    _validate_hparams(epochs, lr, warmup_ratio, weight_decay, 1.0, seed)
    check_arg("block_size", is_int(block_size) and block_size > 1, f"got {block_size!r}", "an integer > 1")
    check_arg("student", isinstance(student, str) and bool(student), f"got {student!r}",
           "an alias, a local model folder or a Hub id")
    if isinstance(eval_suites, str):
        eval_suites = [eval_suites]
    eval_suites = list(eval_suites or [])
    check_arg("eval_suites", all(isinstance(s, str) and s for s in eval_suites), f"got {eval_suites!r}",
           "a list of suite names")
    check_arg("eval_limit", eval_limit is None or (is_int(eval_limit) and eval_limit > 0), f"got {eval_limit!r}",
           "None or an integer > 0")
    check_arg("dtype", dtype in DTYPES, f"got {dtype!r}", ", ".join(DTYPES))
    mixed_precision(dtype)  # fp16 refused before any heavy work
    check_arg("run_name", run_name is None or (isinstance(run_name, str) and bool(run_name)), f"got {run_name!r}",
           "None or a non-empty string")
    if eval_hook is not None and eval_suites:
        raise ParameterError("eval_hook", "give either eval_suites or eval_hook, not both", "one of them")
    dev = resolve_device(device)  # DeviceError when CUDA is asked for but absent
    dev_class = "cuda" if dev.startswith("cuda") else "cpu"
    mp = mixed_precision(dtype, dev_class)
    world, rank = _world()
    grad_accum_steps(batch_size, effective_batch, world)
    if dev.startswith("cuda:") and world == 1:
        import torch

        torch.cuda.set_device(int(dev.split(":")[1]))  # accelerate uses the current CUDA device
    dkey = data_key(data)  # CorpusError when the folder is missing or not a corpus
    model_path, student_id = student_identity(student, allow_hub)
    hook = eval_hook
    if eval_suites:
        hook = evaluation.make_eval_hook(eval_suites, limit=eval_limit, seed=seed)  # validates the suite names
    # the engine: vllm without the package or a GPU falls back to hf, saying so
    engine = epocheval.resolve_engine(eval_engine, dev_class, has_suites=bool(eval_suites),
                                      say=epocheval.say_to_stderr if progress and rank == 0 else None)

    from resurface.train.chunkedloss import resolve_loss_chunk

    loss_chunk = resolve_loss_chunk(loss_chunk, _vocab_size(model_path), block_size, batch_size)
    check_arg("train_engine", train_engine in sharded.ENGINES, f"got {train_engine!r}", ", ".join(sharded.ENGINES))
    config = RunConfig(
        student=key_name(student), student_id=student_id, epochs=epochs, lr=float(lr),
        warmup_ratio=float(warmup_ratio), block_size=block_size, batch_size=batch_size,
        effective_batch=effective_batch, weight_decay=float(weight_decay),
        seed=seed, eval_suites=tuple(eval_suites), eval_limit=eval_limit, dtype=dtype,
        mixed_precision=mp, device=dev_class, save_checkpoints=bool(save_checkpoints),
        eval_hook=_hook_name(eval_hook) if eval_hook is not None else None, run_name=run_name, eval_engine=engine,
        loss_chunk=loss_chunk, train_engine=train_engine,
    )
    inputs = [dkey]
    key = run_key(STAGE, STAGE_VERSION, config, inputs)
    run = run_name or key
    main = rank == 0
    base_cfg = {  # the store's base-eval artifact: epoch 0, shared by every run of the student
        "student": key_name(student), "student_id": student_id, "eval_suites": eval_suites,
        "eval_limit": eval_limit,
        "seed": seed, "dtype": dtype_key(dtype, dev_class), "device": dev_class,
        **({"eval_engine": engine} if engine != "hf" else {})}
    if eval_suites:
        hook = shared_base_eval(hook, store, base_cfg)

    def compute(work: Path) -> dict:
        if main:
            check_free_space(work, training_bytes(model_path, epochs, save_checkpoints),
                             f"training {student} for {epochs} epoch(s)")
        t0 = time.time()
        tokenizer = load_tokenizer(str(model_path))
        texts = [r["text"] for r in read_corpus(data)]
        blocks, n_tokens = pack_and_count(texts, tokenizer, block_size, progress=progress and main)
        # fp32 master weights on CPU; the Accelerator moves them to this rank's device
        model, _ = models.load_model(str(model_path), device="cpu", dtype="float32")
        evaluator = None if engine == "hf" else epocheval.for_run(
            work, eval_suites, engine=engine, model_path=model_path, epochs=epochs, limit=eval_limit, seed=seed,
            device_class=dev_class, keep_checkpoints=save_checkpoints, main=main, world=world, progress=progress,
            base_eval=lambda h: shared_base_eval(h, store, base_cfg), config={"key": key})
        result = evaluator.trained_result() if evaluator is not None else None  # killed while scoring
        if result is None:
            result = train(model, tokenizer, blocks, epochs=epochs, lr=lr, warmup_ratio=warmup_ratio,
                           batch_size=batch_size, effective_batch=effective_batch, weight_decay=weight_decay,
                           max_grad_norm=1.0, seed=seed, eval_hook=evaluator.hook if evaluator else hook,
                           workdir=work, save_checkpoints=save_checkpoints and evaluator is None,
                           progress=progress, device="cpu" if dev_class == "cpu" else "auto", mixed_precision=mp,
                           on_optimizer=evaluator.bind_optimizer if evaluator is not None else None,
                           loss_chunk=loss_chunk, engine=train_engine)
            if evaluator is not None:
                evaluator.mark_trained(result, model, tokenizer, final_model=save_checkpoints)
        if evaluator is not None:
            import pandas as pd

            result.results = pd.DataFrame(evaluator.finish())
        summary = {"run": run, "key": key, "student": student, "student_id": student_id, "data": str(data),
                   "data_key": dkey, "texts": len(texts), "tokens_total": n_tokens,
                   "tokens_dropped": n_tokens - blocks.numel(), **result.summary,
                   "wall_seconds": round(time.time() - t0, 2), "config": config.as_key()}
        if main:
            res = result.results.drop(columns=["run"], errors="ignore")  # hooks may label rows themselves
            res.insert(0, "run", run)
            res.to_csv(work / "results.csv", index=False)
            for f in sorted((work / "items").glob("epoch_*.csv.gz")):  # label the per-item rows too
                import pandas

                write_items(f, pandas.read_csv(f).assign(run=run))
            los = result.losses.copy()
            los.insert(0, "run", run)
            los.to_csv(work / "losses.csv", index=False)
            (work / "train.json").write_text(json.dumps(summary, indent=2, default=str))
            if save_checkpoints and evaluator is None:  # the evaluator wrote it before scoring
                final = work / "final_model"
                shutil.rmtree(final, ignore_errors=True)
                last = work / "checkpoints" / f"epoch_{epochs:02d}"
                if not _link_tree(last, final):  # the last checkpoint holds the same weights: no second write
                    model.save_pretrained(final)
                    tokenizer.save_pretrained(final)
            for name in (STATE_DIR, STATE_PREV, STATE_TMP, epocheval.DIR):
                shutil.rmtree(work / name, ignore_errors=True)
        return {"summary": {k: v for k, v in summary.items() if k != "config"}}

    if out is not None:
        work = Path(out)
        marker = work / "train.json"
        if marker.exists() and (work / "results.csv").exists():
            if json.loads(marker.read_text()).get("key") == key:
                if main and progress:
                    print(f"[train] {work}: already done", file=sys.stderr, flush=True)
                return work
        if main:
            work.mkdir(parents=True, exist_ok=True)
        _barrier()
        compute(work)
        _barrier()
        return work

    store = store if store is not None else Store()
    if world > 1 and not main:
        # Under `accelerate launch` the main process holds the store lock, checks the cache and
        # renames the finished folder; the other ranks only join the training in its work folder.
        # (If another job finished the same artifact between this check and the main process taking
        # the lock, the other ranks would wait for a training that never starts: run one job per key.)
        if (store.final_dir(STAGE, key) / "DONE").exists():
            return store.final_dir(STAGE, key)
        work = store.partial_dir(STAGE, key)
        while not work.exists():
            time.sleep(0.5)
        compute(work)
        _barrier()
        return store.final_dir(STAGE, key)
    art = store.get_or_compute(STAGE, STAGE_VERSION, config.as_key(), compute, inputs=inputs, verbose=progress)
    _barrier()
    return art.path


# ---------------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------------
def summary_table(folder: str | Path) -> str:
    """A short text summary of a train artifact: loss per epoch, then metrics at epoch 0 and the last."""
    import pandas as pd

    folder = Path(folder)
    parts = []
    los = pd.read_csv(folder / "losses.csv")
    if len(los):
        per = los.groupby("epoch").agg(loss=("loss", "mean"), lr_end=("lr", "last"), steps=("step", "count"))
        parts.append("loss per epoch:\n" + per.to_string(float_format=lambda v: f"{v:.4g}"))
    res = pd.read_csv(folder / "results.csv")
    if len(res) and "value" in res.columns:
        keys = [c for c in ("suite", "task", "metric") if c in res.columns]
        first, last = res["epoch"].min(), res["epoch"].max()
        piv = res[res["epoch"].isin([first, last])].pivot_table(index=keys, columns="epoch", values="value",
                                                                 aggfunc="first")
        if last != first:
            piv["delta"] = piv[last] - piv[first]
        parts.append("metrics (epoch columns):\n" + piv.to_string(float_format=lambda v: f"{v:.4f}"))
    return "\n\n".join(parts)


def cli(args) -> int:
    """``resurface train``: train a student on a corpus/subset folder; print a summary and the folder."""
    path = train_run(
        args.student, args.data, epochs=args.epochs, lr=args.lr, warmup_ratio=args.warmup_ratio,
        block_size=args.block_size, batch_size=args.batch_size, effective_batch=args.effective_batch,
        weight_decay=args.weight_decay, seed=args.seed, eval_suites=args.eval_suite or [],
        eval_limit=getattr(args, "eval_limit", None), device=args.device, dtype=args.dtype,
        allow_hub=args.allow_hub, save_checkpoints=args.save_checkpoints, out=args.out,
        run_name=getattr(args, "run_name", None), eval_engine=getattr(args, "eval_engine", "hf"))
    if _world()[1] == 0:
        info = json.loads((Path(path) / "train.json").read_text())
        print(f"student {info['student']} | {info['blocks']} blocks x {info['block_size']} tokens | "
              f"{info['steps']} steps | {info.get('tokens_per_second')} tokens/s | device {info['device']} "
              f"({info['mixed_precision']}, {info['num_processes']} process(es))")
        table = summary_table(path)
        if table:
            print(table)
        print(path)
    return 0
