"""Measure the cost model's throughput constants on a GPU; write benchmarks/gpu_measured.json.

Run it through ``benchmarks/gpu_check.sh`` (instructions there and in benchmarks/RESULTS.md). It builds a
randomly initialised model of the paper student's architecture (Qwen2.5-0.5B's shape, no Hub: the
offline SmolLM2 tokenizer, so the vocabulary is 49,152 instead of 151,936 and N is what the model
really has) and measures, each as model-FLOP utilisation of the H100 bf16 peak that
:mod:`resurface.costs` uses (``resurface.costs.H100_PEAK``):

- ``train.hf``: the project's training loop (bf16 autocast, fp32 master weights, 2048-token blocks);
- ``prefill.hf`` / ``prefill.vllm``: scoring full 2048-token sequences (log-likelihood requests);
- ``decode.hf`` / ``decode.vllm`` and ``decode_max_tokens_per_s``: BOS-only sampling, batch 256;
- ``process_start_s.vllm``: building vLLM's engine for a checkpoint (what each scored epoch pays);
- ``suite_seconds``: one evaluation of each ``--suites`` suite with each engine (paper suites need
  ``--allow-hub`` for their data).

``--dry-run`` checks the arguments, builds the model's config on the meta device (no weights), prints
the plan and writes nothing: the CPU-safe part, run by the tests.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Qwen/Qwen2.5-0.5B's config.json (architecture only; the vocabulary comes from the tokenizer)
QWEN25_05B = dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                  num_key_value_heads=2, max_position_embeddings=32768, rope_theta=1_000_000.0,
                  tie_word_embeddings=True, rms_norm_eps=1e-6)


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "gpu_measured.json"))
    p.add_argument("--suites", default="course", help="comma-separated suites evaluated once per engine")
    p.add_argument("--engines", default="hf,vllm", help="hf, vllm (vllm is skipped when not installed)")
    p.add_argument("--train-steps", type=int, default=20)
    p.add_argument("--sample-tokens", type=int, default=256, help="new tokens per sample (batch 256)")
    p.add_argument("--eval-limit", type=int, default=0, help="items per task (0 = all)")
    p.add_argument("--allow-hub", action="store_true", help="paper suites read their data from the Hub")
    p.add_argument("--dry-run", action="store_true", help="check arguments, print the plan, run nothing")
    a = p.parse_args(argv)
    a.suites = [s for s in a.suites.split(",") if s]
    a.engines = [e for e in a.engines.split(",") if e]
    from resurface.suites import get_suite

    from resurface.errors import ParameterError

    for s in a.suites:
        try:
            get_suite(s)
        except ParameterError as exc:
            p.error(str(exc))
    bad = [e for e in a.engines if e not in ("hf", "vllm")]
    if bad:
        p.error(f"unknown engine(s) {bad} (accepted: hf, vllm)")
    return a


def build_config(tok_len: int, pad: int | None, eos: int | None):
    from transformers import Qwen2Config

    return Qwen2Config(vocab_size=tok_len, pad_token_id=pad, eos_token_id=eos, bos_token_id=None, **QWEN25_05B)


def n_params(cfg) -> int:
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        m = AutoModelForCausalLM.from_config(cfg)
    return sum(p.numel() for p in m.parameters())


def main(argv=None) -> int:
    a = parse(argv)
    from resurface import costs
    from resurface.tiny import offline_tokenizer

    tok = offline_tokenizer("smollm2-135m")
    tok.bos_token = None  # Qwen2.5 base tokenizers have no BOS
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    cfg = build_config(len(tok), tok.pad_token_id, tok.eos_token_id)
    n = n_params(cfg)
    plan = {"model": "random Qwen2.5-0.5B architecture", "params": n, "suites": a.suites, "engines": a.engines,
            "train_steps": a.train_steps, "sample_tokens": a.sample_tokens, "out": a.out}
    print(json.dumps(plan, indent=2))
    if a.dry_run:
        print("dry run: nothing measured, nothing written")
        return 0

    import torch

    if not torch.cuda.is_available():
        print("gpu_check: no CUDA GPU visible; run it on a GPU machine (or use --dry-run)", file=sys.stderr)
        return 2
    from transformers import AutoModelForCausalLM

    from resurface import evaluation, training
    from resurface.epocheval import vllm_available, write_checkpoint

    peak = costs.H100_PEAK
    have_vllm = "vllm" in a.engines and vllm_available()
    out: dict = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "python": platform.python_version(),
                 "params": n, "peak_flops_used": peak, "measured_at": time.strftime("%Y-%m-%d %H:%M %Z"),
                 "throughput": {}, "suite_seconds": {}, "notes": []}
    tp = out["throughput"]
    work = Path(tempfile.mkdtemp(prefix="resurface-gpu-check-"))
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
    ckpt = write_checkpoint(model, tok, work / "ckpt", "bfloat16")

    # training: the project's loop on random 2048-token blocks
    bs, eff = 8, 64
    blocks = torch.randint(0, len(tok), (eff * a.train_steps, 2048))
    t0 = time.perf_counter()
    res = training.train(model, tok, blocks, epochs=1, lr=1e-6, batch_size=bs,
                         effective_batch=eff, progress=False)
    tps = res.summary["tokens_per_second"]
    tp.setdefault("train", {})["hf"] = tps * 6 * n / peak
    out["train_tokens_per_s"] = tps
    print(f"train: {tps:,.0f} tokens/s, MFU {tp['train']['hf']:.3f} ({time.perf_counter() - t0:.0f} s)")
    del res
    model = model.to("cuda", dtype=torch.bfloat16).eval()

    # prefill (hf): forward passes over 2048-token sequences
    x = torch.randint(0, len(tok), (8, 2048), device="cuda")
    with torch.no_grad():
        model(input_ids=x)
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(5):
            model(input_ids=x)
        torch.cuda.synchronize()
    rate = 5 * x.numel() / (time.perf_counter() - t0)
    tp.setdefault("prefill", {})["hf"] = rate * 2 * n / peak

    # decode (hf): the project's BOS-only sampler
    from resurface.sampling import sample

    t0 = time.perf_counter()
    corpus = sample(str(ckpt), temperature=1.0, num_samples=256, max_new_tokens=a.sample_tokens,
                    min_new_tokens=a.sample_tokens, batch_size=256, device="cuda", dtype="bfloat16",
                    out=work / "sample-hf", progress=False)
    secs = time.perf_counter() - t0
    rate = 256 * a.sample_tokens / secs
    tp.setdefault("decode", {})["hf"] = rate * 2 * n / peak
    tp.setdefault("decode_max_tokens_per_s", {})["hf"] = rate
    print(f"sampling (hf): {rate:,.0f} tokens/s (load included) -> {corpus}")

    if have_vllm:
        from vllm import LLM, SamplingParams

        t0 = time.perf_counter()
        llm = LLM(model=str(ckpt), dtype="bfloat16", max_model_len=4096, gpu_memory_utilization=0.75, seed=42)
        tp.setdefault("process_start_s", {})["vllm"] = time.perf_counter() - t0
        prompts = [{"prompt_token_ids": [tok.eos_token_id]}] * 256
        sp = SamplingParams(temperature=1.0, max_tokens=a.sample_tokens, min_tokens=a.sample_tokens, seed=0)
        t0 = time.perf_counter()
        llm.generate(prompts, sp, use_tqdm=False)
        rate = 256 * a.sample_tokens / (time.perf_counter() - t0)
        tp["decode"]["vllm"] = rate * 2 * n / peak
        tp["decode_max_tokens_per_s"]["vllm"] = rate
        long = [{"prompt_token_ids": x[i % 8].tolist()} for i in range(64)]
        t0 = time.perf_counter()
        llm.generate(long, SamplingParams(max_tokens=1), use_tqdm=False)
        tp["prefill"]["vllm"] = 64 * 2048 / (time.perf_counter() - t0) * 2 * n / peak
        del llm
        torch.cuda.empty_cache()
    elif "vllm" in a.engines:
        out["notes"].append("vllm not installed: its constants stay assumed")

    # one evaluation of each suite with each engine (the out-of-process scorer's code path)
    from resurface.epocheval import score

    for engine in (["hf"] + (["vllm"] if have_vllm else [])):
        for suite in a.suites:
            t0 = time.perf_counter()
            score(ckpt, [suite], engine=engine, epoch=1, seed=42, limit=a.eval_limit or None, device="cuda",
                  rows=work / f"rows-{engine}-{suite}.json")
            out["suite_seconds"].setdefault(engine, {})[suite] = round(time.perf_counter() - t0, 1)
            print(f"evaluate {suite} with {engine}: {out['suite_seconds'][engine][suite]} s")
    _ = evaluation  # imported for its side effects on lm-eval's task index in this process

    Path(a.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {a.out}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
