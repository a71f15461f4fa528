"""Training step time, system time, page faults and peak memory with glibc's default malloc settings
against the figure kernels' (:mod:`resurface.allocator`), measured in one run.

Each measurement is a fresh process (the settings are read at start-up) that trains the course's
configuration (micro-batch 4 x 64 tokens, AdamW, fp32 on CPU) for a few steps; the settings alternate
between repeats so that a drift of the machine hits both. Step time is the median over the steps after
the first (the first maps the optimizer state). Prints one line per process and, per model, the ratio
of median step times (default / kernels') and of peak resident memory::

    .venv/bin/python benchmarks/bench_allocator.py                       # smollm2-135m and gemma3-270m
    .venv/bin/python benchmarks/bench_allocator.py --models smollm2-135m --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Callable

CHILD = r"""
import json, resource, sys
sys.path.insert(0, {bench!r})
from bench_training import synthetic_blocks
from resurface.models import load_model, load_tokenizer
from resurface.train.training import train
name, batch, block, steps = {model!r}, {batch}, {block}, {steps}
tok = load_tokenizer(name)
blocks = synthetic_blocks(tok, batch * steps, block)
model = load_model(name, device="cpu", dtype="float32")[0]
r0 = resource.getrusage(resource.RUSAGE_SELF)
res = train(model, tok, blocks, epochs=1, lr=1e-5, warmup_ratio=0.0, batch_size=batch, effective_batch=batch,
            seed=0, progress=False, device="cpu", mixed_precision="no")
r1 = resource.getrusage(resource.RUSAGE_SELF)
secs = res.losses["seconds"].tolist()
print(json.dumps({{"steps": [b - a for a, b in zip(secs, secs[1:])], "sys": r1.ru_stime - r0.ru_stime,
                  "user": r1.ru_utime - r0.ru_utime, "faults": r1.ru_minflt - r0.ru_minflt,
                  "maxrss_gb": r1.ru_maxrss / 1e6}}))
"""


def run_child(code: str, env_extra: dict[str, str]) -> dict:
    """Run ``code`` in a fresh Python (this environment without GLIBC_TUNABLES, plus ``env_extra``);
    return its last line of output, read as JSON."""
    env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"} | env_extra
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def alternate(measure: Callable[[bool], dict], repeats: int,
              report: Callable[[bool, dict], None]) -> dict[bool, list[dict]]:
    """Measure both settings ``repeats`` times, swapping which goes first, so a drift of the machine hits both."""
    got: dict[bool, list[dict]] = {False: [], True: []}
    for r in range(repeats):
        for flag in ((False, True) if r % 2 == 0 else (True, False)):
            got[flag].append(measure(flag))
            report(flag, got[flag][-1])
    return got


def medians_and_peaks(got: dict[bool, list[dict]]) -> tuple[dict[bool, float], dict[bool, float]]:
    """Per setting: the median step time over every process's steps, and the largest peak RSS (GB)."""
    step = {k: statistics.median([t for m in v for t in m["steps"]]) for k, v in got.items()}
    rss = {k: max(m["maxrss_gb"] for m in v) for k, v in got.items()}
    return step, rss


def step_line(model: str, label: str, m: dict) -> str:
    """One process's line: median step, CPU times, page faults, peak RSS."""
    return (f"{model:14s} {label:8s} median step {statistics.median(m['steps']):.2f} s | user {m['user']:.1f} s, "
            f"sys {m['sys']:.1f} s | {m['faults'] / 1e6:.2f} M page faults | peak RSS {m['maxrss_gb']:.2f} GB")


def add_training_args(p: argparse.ArgumentParser, models: str, steps: int, repeats: int) -> None:
    """The options every A/B training bench takes."""
    p.add_argument("--models", default=models)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--block", type=int, default=64)
    p.add_argument("--steps", type=int, default=steps, help=f"timed steps after the first [{steps}]")
    p.add_argument("--repeats", type=int, default=repeats, help=f"processes per setting, alternating [{repeats}]")


def compare(models: str, measure: Callable[[str, bool], dict], repeats: int, off: str, on: str) -> None:
    """Per model: both settings alternated, a line per process, then the step-time and peak-RSS ratios."""
    for model in models.split(","):
        got = alternate(lambda flag: measure(model, flag), repeats,
                        lambda flag, m: print(step_line(model, on if flag else off, m), flush=True))
        step, rss = medians_and_peaks(got)
        print(f"{model}: step time {off} / {on} = {step[False] / step[True]:.2f}x; peak RSS {on} / {off} = "
              f"{rss[True] / rss[False]:.2f} ({rss[True]:.2f} vs {rss[False]:.2f} GB)", flush=True)


def measure(model: str, tuned: bool, args) -> dict:
    from resurface import allocator

    code = CHILD.format(bench=str(Path(__file__).parent), model=model, batch=args.batch, block=args.block,
                        steps=args.steps + 1)
    return run_child(code, allocator.kernel_env({}) if tuned else {"GLIBC_TUNABLES": ""})


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_training_args(p, "smollm2-135m,gemma3-270m", steps=6, repeats=2)
    a = p.parse_args()
    from resurface import allocator

    print(f"kernels' setting: GLIBC_TUNABLES={allocator.TUNABLES} | {os.cpu_count()} CPUs | "
          f"micro-batch {a.batch} x {a.block} tokens, {a.steps} timed steps", flush=True)
    compare(a.models, lambda model, tuned: measure(model, tuned, a), a.repeats, "default", "kernels")
    return 0

if __name__ == "__main__":
    sys.exit(main())
