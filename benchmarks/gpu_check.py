"""Measure the cost model's throughput constants on a GPU; write benchmarks/gpu_measured.json.

Run it through ``benchmarks/gpu_check.sh`` (instructions there and in benchmarks/RESULTS.md). It builds a
randomly initialised model of the paper student's architecture (Qwen2.5-0.5B's shape, no Hub: the
offline SmolLM2 tokenizer, so the vocabulary is 49,152 instead of 151,936 and N is what the model
really has) and measures, each as model-FLOP utilisation of the H100 bf16 peak that
:mod:`resurface.book.costs` uses (``resurface.book.costs.H100_PEAK``):

- ``train.hf``: the project's training loop (bf16 autocast, fp32 master weights, 2048-token blocks);
- ``prefill.hf`` / ``prefill.vllm``: scoring full 2048-token sequences (log-likelihood requests);
- ``decode_max_tokens_per_s``: BOS-only sampling at batch 256 on this small model, warm (the per-step
  overhead that bounds small models); ``decode.hf``: the same sampler on a Qwen2.5-7B-shaped model
  (``benchmarks/gpu_decode.py``), because a small model's decode utilisation says nothing about a large
  one's; ``decode.vllm``: vLLM on the small model; ``sample_corpus_tokens_per_s``: the whole
  ``resurface.corpus.sampling.sample`` call from the checkpoint (load included);
- ``process_start_s.vllm``: building vLLM's engine for a checkpoint (what each scored epoch pays);
- ``suite_seconds``: one evaluation of each ``--suites`` suite with each engine (paper suites need
  ``--allow-hub`` for their data).

``--dry-run`` checks the arguments, builds the model's config on the meta device (no weights), prints
the plan and writes nothing: the CPU-safe part, run by the tests.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
from gpu_decode import SHAPES, build, config, sampler_rate  # noqa: E402 (benchmarks/ is this script's folder)


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "gpu_measured.json"))
    p.add_argument("--suites", default="course", help="comma-separated suites evaluated once per engine")
    p.add_argument("--engines", default="hf,vllm", help="hf, vllm (vllm is skipped when not installed)")
    p.add_argument("--train-steps", type=int, default=20)
    p.add_argument("--sample-tokens", type=int, default=256, help="new tokens per sample (batch 256)")
    p.add_argument("--eval-limit", type=int, default=0, help="items per task (0 = all)")
    p.add_argument("--sample-vocabs", default="151936,128256",
                   help="vocabulary sizes the sampler is measured at (Qwen2.5/Qwen3, Llama-3.2), comma-separated")
    p.add_argument("--sample-long-tokens", type=int, default=1024,
                   help="new tokens per sample at the real vocabularies (the paper's max_new_tokens)")
    p.add_argument("--allow-hub", action="store_true", help="paper suites read their data from the Hub")
    p.add_argument("--dry-run", action="store_true", help="check arguments, print the plan, run nothing")
    a = p.parse_args(argv)
    a.suites = [s for s in a.suites.split(",") if s]
    a.engines = [e for e in a.engines.split(",") if e]
    from resurface.evaluate.suites import get_suite

    from resurface.errors import ParameterError

    for s in a.suites:
        try:
            get_suite(s)
        except ParameterError as exc:
            p.error(str(exc))
    try:
        a.sample_vocabs = [int(v) for v in str(a.sample_vocabs).split(",") if v.strip()]
    except ValueError:
        p.error(f"--sample-vocabs {a.sample_vocabs!r}: comma-separated integers")
    bad = [e for e in a.engines if e not in ("hf", "vllm")]
    if bad:
        p.error(f"unknown engine(s) {bad} (accepted: hf, vllm)")
    return a


def build_config(tok_len: int, pad: int | None, eos: int | None):
    """Qwen2.5-0.5B's architecture with the offline tokenizer's vocabulary."""
    return config(SHAPES["qwen2.5-0.5b-shape"], tok_len, pad, eos)


def n_params(cfg) -> int:
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        m = AutoModelForCausalLM.from_config(cfg)
    return sum(p.numel() for p in m.parameters())


def main(argv=None) -> int:
    a = parse(argv)
    from resurface.book import costs
    from resurface.tiny import offline_tokenizer

    tok = offline_tokenizer("smollm2-135m")
    tok.bos_token = None  # Qwen2.5 base tokenizers have no BOS
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    cfg = build_config(len(tok), tok.pad_token_id, tok.eos_token_id)
    n = n_params(cfg)
    plan = {"model": "random Qwen2.5-0.5B architecture", "params": n, "suites": a.suites, "engines": a.engines,
            "train_steps": a.train_steps, "sample_tokens": a.sample_tokens, "sample_vocabs": a.sample_vocabs,
            "sample_long_tokens": a.sample_long_tokens, "out": a.out}
    print(json.dumps(plan, indent=2))
    if a.dry_run:
        print("dry run: nothing measured, nothing written")
        return 0

    import torch

    if not torch.cuda.is_available():
        print("gpu_check: no CUDA GPU visible; run it on a GPU machine (or use --dry-run)", file=sys.stderr)
        return 2
    from transformers import AutoModelForCausalLM

    from resurface.train import packing, training
    from resurface.train.epocheval import vllm_available, write_checkpoint

    peak = costs.H100_PEAK
    have_vllm = "vllm" in a.engines and vllm_available()
    out: dict = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "python": platform.python_version(),
                 "params": n, "peak_flops_used": peak, "measured_at": time.strftime("%Y-%m-%d %H:%M %Z"),
                 "throughput": {}, "suite_seconds": {}, "notes": []}
    tp = out["throughput"]
    work = Path(tempfile.mkdtemp(prefix="resurface-gpu-check-"))

    def save() -> None:  # after every section, so that a later failure or a kill keeps what was measured
        Path(a.out).write_text(json.dumps(out, indent=2) + "\n")
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
    save()

    # the planting layout on the GPU: rows of several lengths, right-padded (training cuts each micro-batch)
    lengths = torch.randint(16, 2049, (2 * eff,))
    rows = torch.full((2 * eff, 2048), packing.PAD_LABEL, dtype=torch.long)
    for i, n_i in enumerate(lengths.tolist()):
        rows[i, :n_i] = torch.randint(0, len(tok), (n_i,))
    res = training.train(model, tok, rows, epochs=1, lr=1e-6, batch_size=bs, effective_batch=eff, progress=False)
    out["padded_rows_train"] = {"steps": 2, "final_loss": float(res.losses["loss"].iloc[-1]),
                                "tokens_seen": int(res.losses["tokens_seen"].iloc[-1]),
                                "real_tokens": int(lengths.sum())}
    print(f"padded rows: {out['padded_rows_train']}")
    del res
    save()
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

    # decode (hf): the project's BOS-only sampler, end to end from the checkpoint (load included) ...
    from resurface.corpus.sampling import sample

    t0 = time.perf_counter()
    corpus = sample(str(ckpt), temperature=1.0, num_samples=256, max_new_tokens=a.sample_tokens,
                    min_new_tokens=a.sample_tokens, batch_size=256, device="cuda", dtype="bfloat16",
                    out=work / "sample-hf", progress=False)
    out["sample_corpus_tokens_per_s"] = 256 * a.sample_tokens / (time.perf_counter() - t0)
    print(f"sampling (hf, load included): {out['sample_corpus_tokens_per_s']:,.0f} tokens/s -> {corpus}")
    # ... then warm, in memory: the small model's ceiling, and the utilisation of a 7B-shaped one
    rate = sampler_rate(model, tok.eos_token_id, 256, a.sample_tokens, "cuda")
    tp.setdefault("decode_max_tokens_per_s", {})["hf"] = rate
    big = build(SHAPES["qwen2.5-7b-shape"], tok, "cuda")
    n_big = sum(p.numel() for p in big.parameters())
    big_rate = sampler_rate(big, tok.eos_token_id, 256, a.sample_tokens, "cuda")
    tp.setdefault("decode", {})["hf"] = big_rate * 2 * n_big / peak
    out["decode_7b_shape"] = {"params": n_big, "tokens_per_s": big_rate}
    del big
    torch.cuda.empty_cache()
    print(f"sampling (hf, warm): {rate:,.0f} tokens/s; 7B shape {big_rate:,.0f} tokens/s, MFU {tp['decode']['hf']:.3f}")
    save()

    # the sampler at the paper's vocabularies and length: the 0.5B shape with a 151,936 / 128,256-id head,
    # 256 rows x sample_long_tokens new tokens (hf: the project's loop, warm; vllm: the same weights from disk)
    from transformers import AutoModelForCausalLM

    for vocab in a.sample_vocabs:
        key = str(vocab)
        try:
            cfg = config(SHAPES["qwen2.5-0.5b-shape"], vocab, tok.eos_token_id, tok.eos_token_id)
            torch.manual_seed(0)
            m = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16).to("cuda").eval()
            r = sampler_rate(m, tok.eos_token_id, 256, a.sample_long_tokens, "cuda")
            out.setdefault("sample_tokens_per_s", {}).setdefault("hf", {})[key] = r
            print(f"sampling (hf, warm) at vocab {vocab:,}, {a.sample_long_tokens} tokens: {r:,.0f} tokens/s")
            if have_vllm:
                from vllm import LLM, SamplingParams

                folder = work / f"vocab-{vocab}"
                m.save_pretrained(folder)
                tok.save_pretrained(folder)
                del m
                torch.cuda.empty_cache()
                llm = LLM(model=str(folder), dtype="bfloat16", max_model_len=a.sample_long_tokens + 16,
                          gpu_memory_utilization=0.75, seed=42)
                sp = SamplingParams(temperature=1.0, top_p=1.0, top_k=-1, max_tokens=a.sample_long_tokens,
                                    min_tokens=a.sample_long_tokens, logprobs=1, seed=0)
                t0 = time.perf_counter()
                llm.generate([{"prompt_token_ids": [tok.eos_token_id]}] * 256, sp, use_tqdm=False)
                r = 256 * a.sample_long_tokens / (time.perf_counter() - t0)
                out["sample_tokens_per_s"].setdefault("vllm", {})[key] = r
                print(f"sampling (vllm) at vocab {vocab:,}, {a.sample_long_tokens} tokens: {r:,.0f} tokens/s")
                del llm
            else:
                del m
            torch.cuda.empty_cache()
        except Exception as exc:  # noqa: BLE001 (reported in notes; what was measured is kept)
            out["notes"].append(f"sampler at vocab {vocab} failed: {type(exc).__name__}: {exc}")
            print(out["notes"][-1], file=sys.stderr)
        save()

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

    save()

    # one evaluation of each suite with each engine (the out-of-process scorer's code path); a failure is
    # written down with what was measured before it, and the exit status says so
    failed = 0
    for engine in (["hf"] + (["vllm"] if have_vllm else [])):
        for suite in a.suites:
            t0 = time.perf_counter()
            try:
                from resurface.evaluate import evaluation  # noqa: F401 (registers the project's lm-eval tasks)
                from resurface.train.epocheval import score

                score(ckpt, [suite], engine=engine, epoch=1, seed=42, limit=a.eval_limit or None, device="cuda",
                      rows=work / f"rows-{engine}-{suite}.json")
            except Exception as exc:  # noqa: BLE001 (reported, not hidden: notes and exit status)
                failed += 1
                out["notes"].append(f"evaluate {suite} with {engine} failed: {type(exc).__name__}: {exc}")
                print(out["notes"][-1], file=sys.stderr)
            else:
                out["suite_seconds"].setdefault(engine, {})[suite] = round(time.perf_counter() - t0, 1)
                print(f"evaluate {suite} with {engine}: {out['suite_seconds'][engine][suite]} s")
            save()

    print(f"wrote {a.out}")
    shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
