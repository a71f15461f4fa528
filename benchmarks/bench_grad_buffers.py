"""Training step time, page faults and peak memory when the gradient buffers are freed after every step
(``zero_grad(set_to_none=True)``) against when they are kept and zeroed in place, measured in one run.

Each measurement is a fresh process under the figure kernels' malloc settings
(:mod:`resurface.allocator`) that trains the course configuration (micro-batch 4 x 64 tokens, AdamW,
fp32 on CPU) for a few steps with :func:`resurface.train.training.train`, its ``zero_grad`` calls forced to one
or the other mode; the modes alternate between repeats. Gemma-3's tied 262k x 640 embedding has a
671 MB gradient, above the 256 MiB mmap threshold: freed, it is mapped and faulted in afresh every step.
Prints one line per process and, per model, the ratio of median step times (freed / kept) and the peaks.

    .venv/bin/python benchmarks/bench_grad_buffers.py                       # gemma3-270m and smollm2-135m
    .venv/bin/python benchmarks/bench_grad_buffers.py --models gemma3-270m --repeats 2
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_allocator import add_training_args, alternate, medians_and_peaks, run_child  # noqa: E402

CHILD = r"""
import json, resource, sys, torch
sys.path.insert(0, {bench!r})
from bench_training import synthetic_blocks
from resurface.models import load_model, load_tokenizer
from resurface.train import training
keep = {keep!r}
_zero = torch.optim.Optimizer.zero_grad
def zero_grad(self, set_to_none=True):
    return _zero(self, set_to_none=not keep if set_to_none else False)
torch.optim.Optimizer.zero_grad = zero_grad
name, batch, block, steps = {model!r}, {batch}, {block}, {steps}
tok = load_tokenizer(name)
blocks = synthetic_blocks(tok, batch * steps, block)
model = load_model(name, device="cpu", dtype="float32")[0]
r0 = resource.getrusage(resource.RUSAGE_SELF)
res = training.train(model, tok, blocks, epochs=1, lr=1e-5, warmup_ratio=0.0, batch_size=batch,
                     effective_batch=batch, seed=0, progress=False, device="cpu", mixed_precision="no")
r1 = resource.getrusage(resource.RUSAGE_SELF)
secs = res.losses["seconds"].tolist()
print(json.dumps({{"steps": [b - a for a, b in zip(secs, secs[1:])], "faults": r1.ru_minflt - r0.ru_minflt,
                  "maxrss_gb": r1.ru_maxrss / 1e6, "loss": res.losses["loss"].tolist()}}))
"""


def measure(model: str, keep: bool, args) -> dict:
    """One process of the training child above, with the figure kernels' malloc settings."""
    from resurface import allocator

    code = CHILD.format(bench=str(Path(__file__).parent), model=model, batch=args.batch, block=args.block,
                        steps=args.steps + 1, keep=keep)
    return run_child(code, allocator.kernel_env({}))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_training_args(p, "gemma3-270m,smollm2-135m", steps=5, repeats=1)
    args = p.parse_args()
    for model in args.models.split(","):
        runs = alternate(lambda keep: measure(model, keep, args), args.repeats,
                         lambda keep, r: print(f"[grads] {model} {'kept' if keep else 'freed'}: median step "
                                               f"{statistics.median(r['steps']):.2f} s, {r['faults'] / 1e6:.2f} M page "
                                               f"faults, peak {r['maxrss_gb']:.2f} GB", flush=True))
        same = all(a["loss"] == b["loss"] for a, b in zip(runs[True], runs[False]))
        med, peak = medians_and_peaks(runs)
        print(f"[grads] {model}: {med[False] / med[True]:.2f}x faster with the buffers kept "
              f"({med[False]:.2f} -> {med[True]:.2f} s per step); peak {peak[False]:.2f} -> {peak[True]:.2f} GB; "
              f"losses {'identical' if same else 'DIFFER'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
