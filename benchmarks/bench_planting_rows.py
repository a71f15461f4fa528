"""A planting's training, four ways in one run: one forward per micro-batch or one per length group
(``resurface.train.training.length_groups``), each in fp32 and under bf16 autocast.

The rows have the course planting's shape (Figures 7-8, ``plant_mix_docs``): per pass, pool rows of 28
tokens, anchor rows of 8 and general-text rows of 64, shuffled together into micro-batches of 16, so
most micro-batches hold a 64-token row and one forward computes every row at width 64. The texts are
standard-library docstrings cut to those lengths (the timing depends on the widths, not on the words).
The four settings are interleaved (each repeat runs all four), and the median of the repeats is kept, so
a neighbour's load hits them alike; the printed ratios are against fp32 with one forward.

    .venv/bin/python benchmarks/bench_planting_rows.py                 # about 10 min on 1 core
    .venv/bin/python benchmarks/bench_planting_rows.py --passes 1 --repeats 3
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="smollm2-135m")
    p.add_argument("--pool", type=int, default=51, help="pool rows of 28 tokens per pass [51: 3 domains x 17]")
    p.add_argument("--anchors", type=int, default=24, help="anchor rows of 8 tokens per pass [24]")
    p.add_argument("--general", type=int, default=48, help="general rows of 64 tokens per pass [48]")
    p.add_argument("--passes", type=int, default=1)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--repeats", type=int, default=2)
    return p.parse_args()


def main() -> int:
    args = parse()
    import torch

    from resurface import device
    from resurface.corpus.replay import stdlib_documents
    from resurface.models import load_model
    from resurface.train import training
    from resurface.train.packing import PAD_LABEL, row_blocks
    from resurface.train.planting import stack_rows

    m0, tok = load_model(args.model, device="cpu", dtype="float32")
    docs = [d["text"] for d in stdlib_documents(400)]
    random.Random(0).shuffle(docs)
    n = args.pool + args.anchors + args.general
    rows = stack_rows(row_blocks(docs[:args.pool] * args.passes, tok, 28),
                      row_blocks(docs[args.pool:args.pool + args.anchors] * args.passes, tok, 8),
                      row_blocks(docs[n:n + args.general * args.passes], tok, 64))
    rows = rows[torch.randperm(rows.shape[0], generator=torch.Generator().manual_seed(0))]
    real = int((rows != PAD_LABEL).sum())
    one = lambda lengths: [list(range(len(lengths)))]  # noqa: E731  (one forward per micro-batch)
    grouped = training.length_groups

    def run(mp: str, groups) -> float:
        training.length_groups = groups
        m = copy.deepcopy(m0)
        t0 = time.perf_counter()
        training.train(m, tok, rows, epochs=1, lr=3e-4, batch_size=args.batch, effective_batch=args.batch,
                       seed=0, progress=False, device="cpu", mixed_precision=mp)
        return time.perf_counter() - t0

    settings = {"fp32, one forward": ("no", one), "fp32, length groups": ("no", grouped),
                "bf16, one forward": ("bf16", one), "bf16, length groups": ("bf16", grouped)}
    flags = sorted(device.cpu_flags() & {"avx512f", "avx512_bf16", "amx_bf16"})
    print(f"# CPU flags: {' '.join(flags) or 'none of interest'}; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; {rows.shape[0]} rows ({real} real tokens, width {rows.shape[1]}), "
          f"batch {args.batch}", flush=True)
    times: dict[str, list[float]] = {k: [] for k in settings}
    for _ in range(args.repeats):
        for name, (mp, groups) in settings.items():
            times[name].append(run(mp, groups))
    training.length_groups = grouped
    ref = statistics.median(times["fp32, one forward"])
    print("| setting | seconds (median) | real tokens/s | speed vs fp32, one forward |\n|---|---|---|---|")
    for name, t in times.items():
        med = statistics.median(t)
        print(f"| {name} | {med:.1f} | {real / med:.0f} | {ref / med:.2f}x |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
