"""Training step time, page faults and peak memory with the tied embedding's lookup gradient dense
(PyTorch's default) against sparse (:mod:`resurface.tiedgrad`), measured in one run.

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
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_allocator import CHILD  # noqa: E402  (the same training child, one line prepended)

FORCE = "import resurface.allocator as _a; _a.MMAP_THRESHOLD = {threshold}\n"


def measure(model: str, sparse: bool, args) -> dict:
    from resurface import allocator

    env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"} | allocator.kernel_env({})
    code = FORCE.format(threshold=0 if sparse else 2 ** 62) + CHILD.format(
        bench=str(Path(__file__).parent), model=model, batch=args.batch, block=args.block, steps=args.steps + 1)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="gemma3-270m,smollm2-135m")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--block", type=int, default=64)
    p.add_argument("--steps", type=int, default=5, help="timed steps after the first [5]")
    p.add_argument("--repeats", type=int, default=2, help="processes per setting, alternating [2]")
    a = p.parse_args()
    print(f"{os.cpu_count()} CPUs | micro-batch {a.batch} x {a.block} tokens, {a.steps} timed steps", flush=True)
    for model in a.models.split(","):
        got: dict[bool, list[dict]] = {False: [], True: []}
        for r in range(a.repeats):
            for sparse in ((False, True) if r % 2 == 0 else (True, False)):
                m = measure(model, sparse, a)
                got[sparse].append(m)
                print(f"{model:14s} {'sparse' if sparse else 'dense':6s} median step "
                      f"{statistics.median(m['steps']):.2f} s | user {m['user']:.1f} s, sys {m['sys']:.1f} s | "
                      f"{m['faults'] / 1e6:.2f} M page faults | peak RSS {m['maxrss_gb']:.2f} GB", flush=True)
        step = {s: statistics.median([t for m in got[s] for t in m["steps"]]) for s in got}
        rss = {s: max(m["maxrss_gb"] for m in got[s]) for s in got}
        print(f"{model}: step time dense / sparse = {step[False] / step[True]:.2f}x; peak RSS sparse / dense = "
              f"{rss[True] / rss[False]:.2f} ({rss[True]:.2f} vs {rss[False]:.2f} GB)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
