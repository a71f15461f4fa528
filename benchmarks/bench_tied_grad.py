"""Training step time, page faults and peak memory with the tied embedding's lookup gradient dense
(PyTorch's default) against sparse (:mod:`resurface.train.tiedgrad`), measured in one run.

Each measurement is a fresh process with the figure kernels' malloc settings that trains the course's
configuration (micro-batch 4 x 64 tokens, fused AdamW, fp32 on CPU; the child of
``bench_allocator.py``) for a few steps; the two settings alternate between repeats so that a drift
of the machine hits both. ``train`` picks sparse by itself for a tied matrix above the mmap threshold
(Gemma-3-270M's 671 MB, not SmolLM2-135M's 113 MB); the child forces each setting by moving that
threshold. Prints one line per process and, per model, the ratio of median step times (dense /
sparse) and of peak resident memory::

    .venv/bin/python benchmarks/bench_tied_grad.py                       # gemma3-270m and smollm2-135m
    .venv/bin/python benchmarks/bench_tied_grad.py --models gemma3-270m --repeats 3
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_allocator import CHILD, add_training_args, compare, run_child  # noqa: E402

FORCE = "import resurface.allocator as _a; _a.MMAP_THRESHOLD = {threshold}\n"


def measure(model: str, sparse: bool, args) -> dict:
    """One process of ``bench_allocator``'s training child with the lookup gradient forced dense or sparse."""
    from resurface import allocator

    code = FORCE.format(threshold=0 if sparse else 2 ** 62) + CHILD.format(
        bench=str(Path(__file__).parent), model=model, batch=args.batch, block=args.block, steps=args.steps + 1)
    return run_child(code, allocator.kernel_env({}))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_training_args(p, "gemma3-270m,smollm2-135m", steps=5, repeats=2)
    a = p.parse_args()
    print(f"{os.cpu_count()} CPUs | micro-batch {a.batch} x {a.block} tokens, {a.steps} timed steps", flush=True)
    compare(a.models, lambda model, sparse: measure(model, sparse, a), a.repeats, "dense", "sparse")
    return 0

if __name__ == "__main__":
    sys.exit(main())
