"""How much of a course evaluation is padding? Log-likelihood batching by context length vs by shape.

``ResurfaceHFLM`` scores a batch of contexts in one prefill and their continuations in one more
forward pass, padding both to the longest. Until 2026-12-03 the batches took the longest contexts
first and filled up to 32 continuations, so a batch mixed multiple-choice items (four short choices)
with bits-per-byte items (one answer of up to 64 tokens), and about 40% of the positions computed were
padding. :func:`resurface.evaluate.lmbackend.pack_groups` now groups by continuation and context length.

This script runs a training run's evaluation (the course zero-shot and few-shot suites, 12 items per
task, as the course profile evaluates every run) with each batching in turn, ``--repeats`` times,
alternating, on one loaded model, and prints the seconds, the padded and real positions of each, the
ratio of the medians, and the largest difference between the two sides' metric values.

    .venv/bin/python benchmarks/bench_loglik_batching.py                      # smollm2-135m
    .venv/bin/python benchmarks/bench_loglik_batching.py --model gemma3-270m --repeats 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def by_context_length(shapes, cap, slack=None):
    """The batching before pack_groups: longest context first, filled up to ``cap`` continuations."""
    order = sorted(range(len(shapes)), key=lambda g: -shapes[g][0])
    out, start = [], 0
    while start < len(order):
        end, rows = start, 0
        while end < len(order) and (end == start or rows + len(shapes[order[end]][1]) <= cap):
            rows += len(shapes[order[end]][1])
            end += 1
        out.append(order[start:end])
        start = end
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--limit", type=int, default=12, help="items per task (the course's eval_limit)")
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()

    import pandas as pd

    from resurface.evaluate import evaluation, lmbackend
    from resurface import models

    shaped = lmbackend.pack_groups
    counts = {"shape": [0, 0], "context": [0, 0]}
    label = ["shape"]

    def counting(fn):
        def batches(shapes, cap, slack=lmbackend.PAD_SLACK):
            out = fn(shapes, cap, slack)
            for b in out:
                padded, real = lmbackend.padded_positions([shapes[g] for g in b])
                counts[label[0]][0] += padded
                counts[label[0]][1] += real
            return out
        return batches

    model, tok = models.load_model(a.model, device="cpu", dtype="float32")[:2]
    model.eval()
    secs: dict[str, list[float]] = {"context": [], "shape": []}
    values: dict[str, pd.Series] = {}
    for rep in range(a.repeats):
        for name, fn in (("context", by_context_length), ("shape", shaped)):
            label[0] = name
            lmbackend.pack_groups = counting(fn)
            t0 = time.perf_counter()
            frames = [evaluation.evaluate_model(model, tok, s, limit=a.limit, seed=42)
                      for s in ("course-continuous", "course-few-shot-continuous")]
            secs[name].append(time.perf_counter() - t0)
            df = pd.concat(frames, ignore_index=True)
            values[name] = df.set_index(["suite", "task", "metric"])["value"] if "suite" in df else df["value"]
            print(f"[batching] {a.model} repeat {rep + 1}, by {name}: {secs[name][-1]:.1f} s", flush=True)
    lmbackend.pack_groups = shaped
    diff = float((values["context"] - values["shape"]).abs().max())
    for name in ("context", "shape"):
        padded, real = (x // a.repeats for x in counts[name])
        print(f"[batching] by {name} length: median {statistics.median(secs[name]):.1f} s, "
              f"{padded} positions computed for {real} real tokens ({padded / real:.2f}x)")
    ratio = statistics.median(secs["context"]) / statistics.median(secs["shape"])
    print(f"[batching] {a.model}, {a.limit} items per task: {ratio:.2f}x faster by shape; "
          f"largest metric difference {diff:.1e}")


if __name__ == "__main__":
    main()
