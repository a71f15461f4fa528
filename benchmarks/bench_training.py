"""Trained tokens/s of resurface's training loop vs ``transformers.Trainer`` on the same configuration.

Both train the same model from the same weights on the same blocks in the same order (the loop's
per-epoch permutation is fed to Trainer through its sampler), with the same AdamW, cosine schedule and
clipping. Before either, a few untimed steps of the loop warm the process up (allocator, kernels,
page cache): without them whichever runs first is measured slower. The first optimizer step of each
run is a warm-up too and is not timed. Throughput is ``effective batch x block size / step
seconds``, from the median step time (robust to other jobs on a shared machine) and from the mean.
Both losses are printed side by side as a check that the two did the same work.

    .venv/bin/python benchmarks/bench_training.py                      # smollm2-135m, fp32 CPU, 8 x 128, 6 steps
    .venv/bin/python benchmarks/bench_training.py --model tiny-llama --steps 20
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="smollm2-135m", help="alias or local folder [smollm2-135m]")
    p.add_argument("--batch", type=int, default=8, help="micro-batch (sequences) [8]")
    p.add_argument("--accum", type=int, default=1, help="gradient accumulation steps [1]")
    p.add_argument("--block", type=int, default=128, help="block size (tokens) [128]")
    p.add_argument("--steps", type=int, default=6, help="timed optimizer steps, after 1 warm-up step [6]")
    p.add_argument("--lr", type=float, default=1e-5)
    p.add_argument("--device", default="cpu", choices=["cpu", "auto"], help="cpu, or auto (CUDA if present)")
    p.add_argument("--threads", type=int, default=None, help="torch threads [torch default]")
    p.add_argument("--order", default="loop-first", choices=["loop-first", "trainer-first"])
    p.add_argument("--prewarm", type=int, default=2, help="untimed loop steps before both runs [2]")
    p.add_argument("--repeats", type=int, default=1,
                   help="runs of each, alternating which goes first; step times are pooled [1]")
    return p.parse_args()


def synthetic_blocks(tokenizer, n_blocks: int, block: int, seed: int = 0):
    """Packed blocks of English-like text built offline from the tokenizer's own vocabulary."""
    import torch

    from resurface.train.packing import pack_blocks

    words = ("the model reads a short text about rivers and cities then writes the next word while the "
             "student learns from its own samples at every epoch of training").split()
    g = torch.Generator().manual_seed(seed)
    texts = []
    need = n_blocks * block
    have = 0
    while have < need * 1.2 + 64:
        idx = torch.randint(len(words), (60,), generator=g).tolist()
        t = " ".join(words[i] for i in idx).capitalize() + "."
        texts.append(t)
        have += 70
    blocks = pack_blocks(texts, tokenizer, block)
    if len(blocks) < n_blocks:
        raise SystemExit(f"only {len(blocks)} blocks; need {n_blocks}")
    return blocks[:n_blocks]


def rates(step_seconds: list[float], tokens_per_step: int) -> dict[str, float]:
    """tokens/s from the median and from the mean of the timed steps' durations."""
    import statistics

    return {"median": tokens_per_step / statistics.median(step_seconds),
            "mean": tokens_per_step / statistics.fmean(step_seconds)}


def run_loop(model, tok, blocks, args) -> tuple[list[float], list[float], str]:
    from resurface.train.training import train

    res = train(model, tok, blocks, epochs=1, lr=args.lr, warmup_ratio=0.0, batch_size=args.batch,
                effective_batch=args.batch * args.accum, seed=0, progress=False, device=args.device,
                mixed_precision="no")
    secs = res.losses["seconds"].tolist()  # cumulative training seconds at each step's end
    steps = [b - a for a, b in zip(secs, secs[1:])]  # drops the warm-up step
    return steps, res.losses["loss"].tolist(), res.summary["device"]


def run_trainer(model, blocks, args) -> tuple[list[float], list[float]]:
    from torch.utils.data import Sampler
    from transformers import Trainer, TrainerCallback, TrainingArguments, default_data_collator
    from transformers.trainer_callback import PrinterCallback

    from resurface.train.packing import epoch_permutation

    n = len(blocks)

    class LoopOrder(Sampler):
        def __init__(self):
            self.epoch = 0

        def set_epoch(self, epoch):
            self.epoch = epoch

        def __iter__(self):
            return iter(epoch_permutation(n, 0, self.epoch + 1).tolist())

        def __len__(self):
            return n

    class OrderedTrainer(Trainer):
        def _get_train_sampler(self, train_dataset=None):
            return LoopOrder()

    ends: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, a, state, control, **kw):
            ends.append(time.perf_counter())

    with tempfile.TemporaryDirectory() as tmp:
        targs = TrainingArguments(
            output_dir=tmp, per_device_train_batch_size=args.batch, gradient_accumulation_steps=args.accum,
            num_train_epochs=1, learning_rate=args.lr, lr_scheduler_type="cosine", warmup_steps=0.0,
            weight_decay=0.0, max_grad_norm=1.0, optim="adamw_torch", logging_steps=1, save_strategy="no",
            report_to="none", use_cpu=args.device == "cpu", seed=0, dataloader_num_workers=0,
            disable_tqdm=True, bf16=False)
        trainer = OrderedTrainer(model=model, args=targs, train_dataset=[{"input_ids": b, "labels": b}
                                                                          for b in blocks],
                                 data_collator=default_data_collator, callbacks=[Clock()])
        trainer.remove_callback(PrinterCallback)  # its per-step log lines would interleave with ours
        trainer.train()
    losses = [r["loss"] for r in trainer.state.log_history if "loss" in r and "learning_rate" in r]
    steps = [b - a for a, b in zip(ends, ends[1:])]  # end-to-end: includes Trainer's per-step overhead
    return steps, losses


def main() -> int:
    args = parse()
    import torch
    import transformers

    import accelerate
    from resurface.models import load_model, load_tokenizer

    if args.threads:
        torch.set_num_threads(args.threads)
    n_blocks = (args.steps + 1) * args.batch * args.accum
    tok = load_tokenizer(args.model)
    blocks = synthetic_blocks(tok, n_blocks, args.block)
    print(f"model {args.model} | fp32 | batch {args.batch} x accum {args.accum} x block {args.block} | "
          f"1 warm-up + {args.steps} timed steps | torch {torch.__version__}, transformers "
          f"{transformers.__version__}, accelerate {accelerate.__version__} | python {platform.python_version()} | "
          f"{os.cpu_count()} CPUs, {torch.get_num_threads()} torch threads | "
          f"CUDA: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'}", flush=True)

    if args.prewarm > 0:
        t0 = time.perf_counter()
        warm = load_model(args.model, device="cpu", dtype="float32")[0]
        run_loop(warm, tok, blocks[: args.prewarm * args.batch * args.accum], args)
        del warm
        gc.collect()
        print(f"prewarm  {args.prewarm} untimed steps ({time.perf_counter() - t0:.1f} s)", flush=True)

    steps: dict[str, list[float]] = {"loop": [], "trainer": []}
    losses: dict[str, list[float]] = {}
    device_used = "cpu"
    tokens_per_step = args.batch * args.accum * args.block
    first = ["loop", "trainer"] if args.order == "loop-first" else ["trainer", "loop"]
    for r in range(args.repeats):
        for name in (first if r % 2 == 0 else first[::-1]):
            model = load_model(args.model, device="cpu", dtype="float32")[0]
            t0 = time.perf_counter()
            if name == "loop":
                secs, loss, device_used = run_loop(model, tok, blocks, args)
            else:
                secs, loss = run_trainer(model, blocks, args)
            steps[name] += secs
            losses.setdefault(name, loss)
            tps = rates(secs, tokens_per_step)
            print(f"{name:8s} {tps['median']:9.1f} tokens/s (median step), {tps['mean']:.1f} (mean)   "
                  f"(whole run {time.perf_counter() - t0:.1f} s)", flush=True)
            del model
            gc.collect()

    loop_tps, hf_tps = rates(steps["loop"], tokens_per_step), rates(steps["trainer"], tokens_per_step)
    print(f"device {device_used}")
    print("step  loss(loop)  loss(Trainer)")
    for i, (a, b) in enumerate(zip(losses["loop"], losses["trainer"]), 1):
        print(f"{i:4d}  {a:10.6f}  {b:13.6f}")
    for stat in ("median", "mean"):
        print(f"[{stat} step] resurface loop: {loop_tps[stat]:.1f} tokens/s | transformers.Trainer: "
              f"{hf_tps[stat]:.1f} tokens/s | ratio loop/Trainer = {loop_tps[stat] / hf_tps[stat]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
