"""Two notebooks at one thread each, or one at a time with every thread? A CPU throughput ratio.

The course book runs figure notebooks whose time goes into training steps and log-likelihood
scoring of a small model. This script measures the same work done two ways in one run:

* **serial**: one process with ``--threads`` torch threads (the machine's cores) does ``2 x W`` units;
* **parallel**: ``--threads`` processes with one torch thread each do ``W`` units apiece, concurrently.

A unit is one training step (forward, backward and AdamW on ``batch x block`` tokens) followed by one
scoring forward pass without gradients (``score_batch x score_len`` tokens), the mix of a course run.
It prints the wall time of both and their ratio (above 1: the parallel layout does the same work
faster). Run it on an otherwise idle machine::

    .venv/bin/python benchmarks/bench_parallel.py --model smollm2-135m --units 12
    .venv/bin/python benchmarks/bench_parallel.py --model smollm2-135m --units 12 --precision bf16
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def work(model_name: str, units: int, threads: int, batch: int, block: int, score_batch: int,
         score_len: int, precision: str = "fp32") -> float:
    """Seconds for ``units`` train+score units in this process at ``threads`` torch threads. ``bf16``:
    the course's CPU bf16 form (training under bf16 autocast over fp32 weights with eager attention,
    scoring a bf16 copy with sdpa)."""
    import contextlib

    import torch

    torch.set_num_threads(threads)
    from resurface.models import load_model

    model, _ = load_model(model_name, device="cpu", dtype="float32")
    bf16 = precision == "bf16"
    scorer = model
    if bf16:
        from resurface.train import attention
        from resurface.train.training import scoring_copy

        scorer = scoring_copy(model, torch.bfloat16)  # the training loop's own bf16 scoring copy
        attention.for_training(model, cpu_bf16=True)
    vocab = model.config.vocab_size
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=True)
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, vocab, (batch, block), generator=g)
    s = torch.randint(0, vocab, (score_batch, score_len), generator=g)

    def unit() -> None:
        model.train()
        with torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext():
            loss = model(input_ids=x, labels=x).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        model.eval()
        if bf16:
            scoring_copy(model, torch.bfloat16, into=scorer)
        with torch.no_grad():
            scorer(input_ids=s)

    unit()  # warm-up, untimed
    t0 = time.perf_counter()
    for _ in range(units):
        unit()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--units", type=int, default=12, help="units per parallel process (serial does threads x this)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--block", type=int, default=64)
    ap.add_argument("--score-batch", type=int, default=16)
    ap.add_argument("--score-len", type=int, default=96)
    ap.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                    help="fp32, or the course's CPU bf16 form (autocast training, bf16 scoring copy)")
    ap.add_argument("--_child", type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    shape = (a.batch, a.block, a.score_batch, a.score_len)
    if a._child:
        print(json.dumps({"seconds": work(a.model, a.units, a._child, *shape, precision=a.precision)}), flush=True)
        return

    def spawn(units: int, threads: int) -> subprocess.Popen:
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
        cmd = [sys.executable, __file__, "--model", a.model, "--units", str(units), "--_child", str(threads),
               "--batch", str(a.batch), "--block", str(a.block), "--score-batch", str(a.score_batch),
               "--score-len", str(a.score_len), "--precision", a.precision]
        return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)

    def wall(procs: list[subprocess.Popen]) -> float:
        outs = [json.loads(p.communicate()[0].strip().splitlines()[-1])["seconds"] for p in procs]
        if any(p.returncode for p in procs):
            raise SystemExit("a child failed")
        return max(outs)  # timed sections run concurrently; the slowest bounds the wall time

    serial = wall([spawn(a.units * a.threads, a.threads)])
    parallel = wall([spawn(a.units, 1) for _ in range(a.threads)])
    print(f"model {a.model}, {a.precision}: {a.threads * a.units} units (train {a.batch}x{a.block} + score "
          f"{a.score_batch}x{a.score_len})")
    print(f"serial, 1 process x {a.threads} threads: {serial:.1f} s")
    print(f"parallel, {a.threads} processes x 1 thread: {parallel:.1f} s")
    print(f"parallel speed-up: {serial / parallel:.2f}x")


if __name__ == "__main__":
    main()
