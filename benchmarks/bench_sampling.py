"""Speed of resurface's BOS-only sampler against ``model.generate`` at equal batch and length.

Both sides generate exactly ``--length`` new tokens per row (``min_new_tokens = max_new_tokens``, so EOS
cannot end a row early) from the same unconditional prompt with pure temperature sampling
(``top_k=0, top_p=1.0``). resurface's loop also computes the raw log-probability of every sampled token
(``generate`` does not), which is part of what is timed. Each side runs ``--repeats`` times,
interleaved, after a short warm-up; the best run of each is reported.

    .venv/bin/python benchmarks/bench_sampling.py                      # smollm2-135m, batch 16, 64 tokens
    .venv/bin/python benchmarks/bench_sampling.py --model tiny-llama --batch 64 --length 128
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
    ap.add_argument("--batch", type=int, default=16, help="rows per batch [16]")
    ap.add_argument("--length", type=int, default=64, help="new tokens per row [64]")
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--repeats", type=int, default=1, help="timed runs per side; the best is kept [1]")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--dtype", default="auto")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch intra-op threads (0: torch's default). On a CPU shared with other jobs, "
                         "1 thread can be several times faster than the default")
    ap.add_argument("--allow-hub", action="store_true")
    args = ap.parse_args()

    import torch
    import transformers

    from resurface.models import load_model, unconditional_prompt
    from resurface.sampling import eos_token_ids, sample_batch

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    model, tok = load_model(args.model, device=args.device, dtype=args.dtype, allow_hub=args.allow_hub)
    prompt = unconditional_prompt(tok)
    eos = eos_token_ids(model, tok)
    B, L = args.batch, args.length
    dev = model.device
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    input_ids = torch.tensor([list(prompt.ids)] * B, device=dev)
    pad = tok.pad_token_id if tok.pad_token_id is not None else (eos[0] if eos else 0)

    def ours(n_tokens: int) -> int:
        gen = torch.Generator(device=dev).manual_seed(0)
        out = sample_batch(model, prompt.ids, B, temperature=args.temperature, max_new_tokens=n_tokens,
                           min_new_tokens=n_tokens, eos_ids=eos, generator=gen)
        return sum(len(ids) for ids in out.token_ids)

    def hf_generate(n_tokens: int) -> int:
        torch.manual_seed(0)
        with torch.inference_mode():
            out = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                                 do_sample=True, temperature=args.temperature, top_k=0, top_p=1.0,
                                 min_new_tokens=n_tokens, max_new_tokens=n_tokens, pad_token_id=pad)
        return (out.shape[1] - input_ids.shape[1]) * B

    def timed(fn) -> tuple[float, int]:
        sync()
        t0 = time.perf_counter()
        n = fn(L)
        sync()
        return time.perf_counter() - t0, n

    ours(4)
    hf_generate(4)  # warm-up (allocations, kernels)
    best: dict[str, tuple[float, int]] = {}
    for _ in range(max(1, args.repeats)):
        for name, fn in (("resurface sample_batch", ours), ("model.generate", hf_generate)):
            secs, n = timed(fn)
            if name not in best or secs < best[name][0]:
                best[name] = (secs, n)

    print(f"model {args.model} ({model.config.model_type}, vocab {model.config.vocab_size}), "
          f"prompt {prompt.text!r} ids {list(prompt.ids)}")
    print(f"device {dev} dtype {str(model.dtype).replace('torch.', '')}, torch threads "
          f"{torch.get_num_threads()}, cpu cores {os.cpu_count()}"
          + (f", gpu {torch.cuda.get_device_name(dev)}" if dev.type == "cuda" else ""))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average (1 min) {load:.2f} on {os.cpu_count()} cores"
          + ("  <- the CPU is shared with other jobs: absolute numbers are low" if load > (os.cpu_count() or 1)
             else ""))
    print(f"python {platform.python_version()}, torch {torch.__version__}, transformers {transformers.__version__}")
    print(f"batch {B} x {L} new tokens, temperature {args.temperature}, top_k 0, top_p 1.0, "
          f"best of {max(1, args.repeats)}")
    rates = {}
    for name, (secs, n) in best.items():
        rates[name] = n / secs
        print(f"  {name:<24} {n:>7} tokens in {secs:7.2f} s = {rates[name]:8.1f} tokens/s")
    ratio = rates["resurface sample_batch"] / rates["model.generate"]
    print(f"  ratio sample_batch / generate = {ratio:.2f}x")


if __name__ == "__main__":
    main()
