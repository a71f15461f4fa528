"""fp32 against bf16 on this CPU, stage by stage, in one run: speed ratios and the accuracy of the scores.

Each stage is timed in both precisions on the same inputs, interleaved (fp32, bf16, fp32, bf16, ...),
and the median of the repeats is kept, so a neighbour's load hits both alike. The forms are those the
course uses when ``dtype: auto`` picks bf16 (``resurface.device``): training under bf16 autocast over
fp32 master weights; scoring, NLL, sampling and extraction with the model held in bf16.

Stages: a matmul, a training step (the course's micro-batch), the course suite's log-likelihood
scoring, per-text NLL, the BOS sampler and the extraction attack's teacher-forced scoring. Accuracy:
the gold answer's log-likelihood per item, bf16 - fp32, on the course tasks (median and 99th percentile
of the absolute difference), and the paired delta trained - base per item, computed in bf16 and in
fp32 from one short course-dose run in each precision (the quantity the verdicts rest on).

    .venv/bin/python benchmarks/bench_precision.py                       # everything, about 10 min on 1 core
    .venv/bin/python benchmarks/bench_precision.py --stages matmul,train --repeats 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

STAGES = ("matmul", "train", "score", "nll", "sample", "extract", "delta")


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="smollm2-135m", help="alias [smollm2-135m]")
    p.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated subset of {','.join(STAGES)}")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats per precision [3]")
    p.add_argument("--items", type=int, default=12, help="items per course task [12, the course's eval_limit]")
    p.add_argument("--threads", type=int, default=None, help="torch threads [torch default]")
    return p.parse_args()


def timed(fn, repeats: int) -> tuple[float, float]:
    """Median seconds of fp32 and bf16 runs of ``fn(precision)``, interleaved after one warm-up each."""
    fn("fp32"), fn("bf16")
    t = {"fp32": [], "bf16": []}
    for _ in range(repeats):
        for prec in ("fp32", "bf16"):
            t0 = time.perf_counter()
            fn(prec)
            t[prec].append(time.perf_counter() - t0)
    return statistics.median(t["fp32"]), statistics.median(t["bf16"])


def report(name: str, unit_count: float, unit: str, f32: float, b16: float) -> None:
    print(f"| {name} | {unit_count / f32:,.1f} {unit}/s | {unit_count / b16:,.1f} {unit}/s | {f32 / b16:.2f}x |",
          flush=True)


def main() -> int:
    args = parse()
    import numpy as np
    import pandas as pd
    import torch

    from resurface import device
    from resurface.models import load_model

    if args.threads:
        torch.set_num_threads(args.threads)
    stages = [s for s in args.stages.split(",") if s]
    unknown = set(stages) - set(STAGES)
    if unknown:
        sys.exit(f"--stages: unknown {sorted(unknown)}; choose from {','.join(STAGES)}")
    flags = sorted(device.cpu_flags() & {"avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16"})
    print(f"# CPU flags: {' '.join(flags) or 'none of interest'}; bf16 units: {device.cpu_has_bf16_units()}; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads; model {args.model}")
    print("| stage | fp32 | bf16 | bf16 / fp32 speed |\n|---|---|---|---|", flush=True)
    m32, tok = load_model(args.model, device="cpu", dtype="float32")
    m16 = load_model(args.model, device="cpu", dtype="bfloat16")[0]
    model = {"fp32": m32, "bf16": m16}
    accuracy: list[str] = []

    if "matmul" in stages:
        a = torch.randn(1024, 1024)
        mats = {"fp32": (a, a.t().contiguous()), "bf16": (a.bfloat16(), a.t().contiguous().bfloat16())}
        f32, b16 = timed(lambda p: [torch.mm(*mats[p]) for _ in range(4)], args.repeats)
        report("matmul 1024^3 (x4)", 4 * 2 * 1024 ** 3 / 1e9, "GFLOP", f32, b16)

    if "train" in stages:
        from resurface.train import training

        ids = torch.randint(100, 20000, (4, 64))  # the course's micro-batch: 4 blocks of 64 tokens
        m32.train()
        opt = torch.optim.AdamW(m32.parameters(), lr=1e-6, fused=True)

        def step(p: str) -> None:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=p == "bf16"):
                loss = m32(input_ids=ids, labels=ids, use_cache=False).loss
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

        f32, b16 = timed(step, args.repeats)
        m32.eval()
        report("training step, 4 x 64 tokens (autocast, fp32 masters)", ids.numel(), "tok", f32, b16)
        del opt
        _ = training  # the loop itself is timed by the cold book; this is its forward + backward + AdamW

    if "score" in stages or "delta" in stages:
        from resurface.evaluate.evaluation import make_eval_hook
        from resurface.study import profiles

        P = profiles.load("course")
        suite = P["eval_suite"]

    if "score" in stages:
        items: dict[str, list] = {}

        def score(p: str) -> None:
            hook = make_eval_hook([suite], limit=args.items, seed=P["seed"])
            hook(model[p], tok, 0)
            items[p] = hook.items[0]

        f32, b16 = timed(score, max(1, args.repeats - 1))
        n = len(items["fp32"])
        report(f"course suite scoring ({suite}, {args.items} items/task)", n, "item", f32, b16)
        d = _item_frame(items["bf16"]).merge(_item_frame(items["fp32"]), on=["task", "item", "metric"],
                                              suffixes=("_bf16", "_fp32"))
        for metric, g in d.groupby("metric"):
            diff = (g["value_bf16"] - g["value_fp32"]).abs()
            accuracy.append(f"| {metric} | {len(g)} | {diff.median():.4f} | {diff.quantile(0.99):.4f} | "
                            f"{g['value_fp32'].abs().median():.3f} |")

    if "nll" in stages or "delta" in stages:
        from resurface.corpus.replay import stdlib_documents

        docs = [d["text"] for d in stdlib_documents(200)[:16]]

    if "nll" in stages:
        from resurface.measures.proxies import text_nll

        got: dict[str, list] = {}

        def nll(p: str) -> None:
            got[p] = text_nll(model[p], tok, docs, max_tokens=128, batch_size=16)

        f32, b16 = timed(nll, args.repeats)
        toks = sum(r["num_tokens"] for r in got["fp32"])
        report("per-text NLL, 16 docstrings x <= 128 tokens", toks, "tok", f32, b16)
        diff = np.abs(np.array([r["mean_nll"] for r in got["bf16"]]) - np.array([r["mean_nll"] for r in got["fp32"]]))
        accuracy.append(f"| mean NLL per text (nats/token) | {len(diff)} | {np.median(diff):.4f} | "
                        f"{np.quantile(diff, 0.99):.4f} | {np.median([r['mean_nll'] for r in got['fp32']]):.3f} |")

    if "sample" in stages:
        from resurface.corpus.sampling import eos_token_ids, sample_batch
        from resurface.models import unconditional_prompt

        prompt = unconditional_prompt(tok).ids
        eos = eos_token_ids(m32, tok)

        def sample(p: str) -> None:
            g = torch.Generator().manual_seed(0)
            sample_batch(model[p], prompt, 64, temperature=1.0, max_new_tokens=64, min_new_tokens=64,
                         eos_ids=eos, generator=g)

        f32, b16 = timed(sample, max(1, args.repeats - 1))
        report("BOS sampling, 64 rows x 64 new tokens", 64 * 64, "tok", f32, b16)

    if "extract" in stages:
        from resurface.corpus.pools import planted_records
        from resurface.measures.attacks import score_pool

        records = planted_records(17, 42)
        out: dict[str, pd.DataFrame] = {}

        def extract(p: str) -> None:
            out[p] = score_pool(model[p], tok, records, 12, 16, batch_size=32)  # the course windows

        f32, b16 = timed(extract, args.repeats)
        report(f"extraction scoring, {len(records)} sequences x 28 tokens", len(records), "seq", f32, b16)
        same = float((out["fp32"]["extracted"] == out["bf16"]["extracted"]).mean())
        diff = (out["bf16"]["logprob_sum"] - out["fp32"]["logprob_sum"]).abs()
        accuracy.append(f"| extraction: suffix log-prob sum | {len(diff)} | {diff.median():.4f} | "
                        f"{diff.quantile(0.99):.4f} | {out['fp32']['logprob_sum'].abs().median():.3f} |")
        line = (f"| extraction: decisions that differ (share) | {len(records)} | {1 - same:.4f} | | "
                f"{out['fp32']['extracted'].mean():.3f} extracted (fp32) |")
        accuracy.append(line)

    if accuracy:  # what is measured so far, before the long stage
        print("\n| accuracy: bf16 - fp32 | n | median abs diff | p99 abs diff | median abs value (fp32) |\n"
              "|---|---|---|---|---|\n" + "\n".join(accuracy), flush=True)
    if "delta" in stages:
        shifts = paired_delta(args, P, suite, docs, tok)
        print("\n| paired delta: bf16 - fp32 | n | median abs shift | p99 abs shift | median abs delta (fp32) |\n"
              "|---|---|---|---|---|\n" + "\n".join(shifts), flush=True)
    return 0



def _item_frame(rows: list[dict]):
    import pandas as pd

    return pd.DataFrame(rows)[["task", "item", "metric", "value"]]


def paired_delta(args, P: dict, suite: str, docs: list[str], tok) -> list[str]:
    """One course-dose run (lr, 1,024 tokens of docstrings, one epoch) from the base in each precision;
    per item, delta = trained - base in each precision; the shift of delta between precisions."""
    import torch

    from resurface.evaluate.evaluation import make_eval_hook
    from resurface.models import load_model
    from resurface.train import packing, training

    blocks = packing.pack_blocks(docs * 4, tok, P["block_size"])[: P["tokens_per_subset"] // P["block_size"]]
    deltas = {}
    for prec, forced in (("fp32", "0"), ("bf16", "1")):
        os.environ["RESURFACE_CPU_BF16"] = forced
        suite_hook = make_eval_hook([suite], limit=args.items, seed=P["seed"])
        kept: dict[int, list] = {}

        def hook(model, tokenizer, epoch: int, suite_hook=suite_hook, kept=kept) -> list[dict]:
            rows = suite_hook(model, tokenizer, epoch)
            kept[epoch] = list(suite_hook.items.get(epoch, []))  # the loop takes the hook's items away
            return rows

        hook.items = suite_hook.items
        m = load_model(args.model, device="cpu", dtype="float32")[0]
        training.train(m, tok, blocks, epochs=1, lr=P["lr"], warmup_ratio=P["warmup_ratio"],
                       batch_size=P["batch_size"], effective_batch=P["effective_batch"], seed=P["seed"],
                       progress=False, eval_hook=hook)
        base, trained = _item_frame(kept[0]), _item_frame(kept[1])
        d = trained.merge(base, on=["task", "item", "metric"], suffixes=("_t", "_b"))
        d["delta"] = d["value_t"] - d["value_b"]
        deltas[prec] = d
        del m
        torch.cuda.empty_cache() if torch.cuda.is_available() else None
    os.environ.pop("RESURFACE_CPU_BF16", None)
    both = deltas["fp32"].merge(deltas["bf16"], on=["task", "item", "metric"], suffixes=("_32", "_16"))
    lines = []
    for (task, metric), g in both.groupby(["task", "metric"]):
        shift = g["delta_16"] - g["delta_32"]
        lines.append(f"| paired delta trained - base, {task} {metric}: mean {g['delta_32'].mean():+.4f} (fp32) vs "
                     f"{g['delta_16'].mean():+.4f} (bf16) | {len(g)} | {shift.abs().median():.4f} | "
                     f"{shift.abs().quantile(0.99):.4f} | {g['delta_32'].abs().median():.4f} |")
    return lines


if __name__ == "__main__":
    sys.exit(main())
