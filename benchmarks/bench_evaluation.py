"""Items per second of every suite task with resurface's lm-eval backend against stock ``HFLM``.

Both sides are lm-eval (same tasks, prompts, filters, metrics, seed) around the same in-memory model;
they differ only in how the model computes requests (:mod:`resurface.evaluate.lmbackend`: one forward pass per
distinct context for log-likelihoods, finished rows leave the batch in greedy generation). Each task
runs once per side, interleaved (stock, ours, stock, ours ...), after a warm-up, and the script checks
that every metric is equal on both sides.

    .venv/bin/python benchmarks/bench_evaluation.py                          # smollm2-135m, course suites
    .venv/bin/python benchmarks/bench_evaluation.py --model gemma3-270m --suites course --limit 16
"""

from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m", help="alias, folder or Hub id [smollm2-135m]")
    ap.add_argument("--suites", default="course,course-few-shot", help="comma-separated suites")
    ap.add_argument("--limit", type=int, default=0, help="items per task (0: all) [0]")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--dtype", default="auto")
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    ap.add_argument("--allow-hub", action="store_true")
    args = ap.parse_args()

    import lm_eval
    import torch
    import transformers
    from lm_eval.models.huggingface import HFLM

    from resurface.evaluate.evaluation import default_batch_size, evaluate_lm
    from resurface.models import load_model
    from resurface.evaluate.lmbackend import ResurfaceHFLM
    from resurface.evaluate.suites import Suite, get_suite

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    model, tok = load_model(args.model, device=args.device, dtype=args.dtype, allow_hub=args.allow_hub)
    bs = default_batch_size(model)
    sides = {"stock HFLM": HFLM(pretrained=model, tokenizer=tok, batch_size=bs),
             "resurface": ResurfaceHFLM(pretrained=model, tokenizer=tok, batch_size=bs)}
    sync = torch.cuda.synchronize if model.device.type == "cuda" else (lambda: None)
    limit = args.limit or None
    print(f"# {args.model} on {model.device} ({platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} threads), batch {bs}, limit {args.limit or 'all'}; torch {torch.__version__}, "
          f"transformers {transformers.__version__}, lm-eval {lm_eval.__version__}")
    print("| suite | task | shots | type | items | stock items/s | ours items/s | ratio | metrics equal |")
    print("|---|---|---:|---|---:|---:|---:|---:|---|")
    warm = get_suite(args.suites.split(",")[0])
    evaluate_lm(sides["resurface"], Suite("warm", warm.tasks[:1], warm.unsafe_code, "", warm.offline), limit=2)
    for name in args.suites.split(","):
        s = get_suite(name)
        for spec in s.tasks:
            one = Suite(f"{name}:{spec.task}", (spec,), s.unsafe_code, "", s.offline)
            kind = "generate" if spec.primary.startswith(("exact_match", "pass@")) else "loglikelihood"
            times, values = {}, {}
            for side, lm in sides.items():
                sync()
                t0 = time.perf_counter()
                df = evaluate_lm(lm, one, limit=limit, seed=42, model=model)
                sync()
                times[side] = time.perf_counter() - t0
                values[side] = dict(zip(df.metric, df.value))
                n = int(df.n.iloc[0])
            a, b = times["stock HFLM"], times["resurface"]
            equal = all(abs(values["stock HFLM"][k] - values["resurface"][k]) < 1e-9 for k in values["resurface"])
            print(f"| {name} | {spec.task} | {spec.num_fewshot} | {kind} | {n} | {n / a:.2f} | {n / b:.2f} "
                  f"| {a / b:.2f}x | {'yes' if equal else 'NO'} |", flush=True)


if __name__ == "__main__":
    main()
