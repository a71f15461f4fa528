"""The attention kernel of a CPU training step under bf16 autocast: fused ``sdpa`` against ``eager``.

For each model and micro-batch shape, in one run, interleaved (sdpa, eager, fp32, sdpa, ...) with the
median of the repeats kept: one training step (forward, backward, fused AdamW) under bf16 autocast
over fp32 master weights with each kernel, the same step in fp32 (sdpa) for reference, and a no-grad
forward of bf16 weights (the scorers' form) with each kernel. Prints a Markdown table of seconds and
the ratios. ``resurface.train.attention`` picks the kernel from these numbers.

    .venv/bin/python benchmarks/bench_attention.py                  # both course students, about 5 min
    .venv/bin/python benchmarks/bench_attention.py --models smollm2-135m --shapes 4x64 --repeats 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

#: a course run's micro-batch (and the burial's), and a planting's (16 rows of at most 64 tokens)
SHAPES = ("4x64", "16x64")


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="smollm2-135m,gemma3-270m", help="aliases [both course students]")
    p.add_argument("--shapes", default=",".join(SHAPES), help="rows x tokens, comma-separated [4x64,16x64]")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats per variant [3]")
    p.add_argument("--threads", type=int, default=1, help="torch threads [1]")
    return p.parse_args()


def median_times(fns: dict, repeats: int) -> dict[str, float]:
    """Median seconds of each function, one warm-up each, then interleaved repeats."""
    for fn in fns.values():
        fn()
    t: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            t[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in t.items()}


def measure(name: str, shapes: list[tuple[int, int]], repeats: int) -> list[str]:
    """Table rows for one model: per shape, the median seconds of each variant and their ratios."""
    import torch

    from resurface.models import load_model

    train_model = load_model(name, device="cpu", dtype="float32")[0].train()
    score_model = load_model(name, device="cpu", dtype="bfloat16")[0].eval()
    opt = torch.optim.AdamW(train_model.parameters(), lr=1e-6, fused=True)
    rows = []
    for n_rows, tokens in shapes:
        ids = torch.randint(100, 20000, (n_rows, tokens))

        def step(kernel: str, bf16: bool) -> None:
            train_model.set_attn_implementation(kernel)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = train_model(input_ids=ids, labels=ids, use_cache=False).loss
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

        def forward(kernel: str) -> None:
            score_model.set_attn_implementation(kernel)
            with torch.no_grad():
                score_model(input_ids=ids, use_cache=False).logits.float().log_softmax(-1)

        t = median_times({"sdpa": lambda: step("sdpa", True), "eager": lambda: step("eager", True),
                          "fp32": lambda: step("sdpa", False), "fwd_sdpa": lambda: forward("sdpa"),
                          "fwd_eager": lambda: forward("eager")}, repeats)
        rows.append(f"| {name} | {n_rows} x {tokens} | {t['sdpa']:.3f} | {t['eager']:.3f} | {t['fp32']:.3f} | "
                    f"{t['eager'] / t['sdpa']:.2f} | {t['eager'] / t['fp32']:.2f} | {t['fwd_sdpa']:.3f} | "
                    f"{t['fwd_eager']:.3f} | {t['fwd_eager'] / t['fwd_sdpa']:.2f} |")
    return rows


def main() -> int:
    args = parse()
    import torch

    from resurface import device

    torch.set_num_threads(args.threads)
    try:
        shapes = [tuple(int(x) for x in s.split("x")) for s in args.shapes.split(",") if s]
    except ValueError:
        sys.exit(f"--shapes: expected rows x tokens like 4x64, got {args.shapes!r}")
    print(f"# bf16 units: {device.cpu_has_bf16_units()}; torch {torch.__version__}, {torch.get_num_threads()} "
          "thread(s); seconds per call, median of the repeats")
    print("| model | rows x tokens | train bf16 sdpa | train bf16 eager | train fp32 sdpa | eager / sdpa (train) "
          "| bf16 / fp32 (train, eager) | forward bf16 sdpa | forward bf16 eager | eager / sdpa (forward) |")
    print("|---|---|---|---|---|---|---|---|---|---|", flush=True)
    for name in [m for m in args.models.split(",") if m]:
        for row in measure(name, shapes, args.repeats):
            print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
