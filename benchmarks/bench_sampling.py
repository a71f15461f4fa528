"""Speed of resurface's BOS-only sampler against ``model.generate`` at equal batch and length budget.

Both sides sample from the same unconditional prompt with pure temperature sampling (``top_k=0,
top_p=1.0``) at the same batch size. Two workloads:

* fixed length (default): every row generates exactly ``--length`` tokens (``min_new_tokens =
  max_new_tokens``, so EOS cannot end a row): the same work on both sides, per-token speed only.
* ``--min-new-tokens M`` (the paper's corpora: M = 50, budget 1024): EOS may end a row after M
  tokens, as in a real corpus. ``generate`` keeps computing finished rows as padding until the last
  row ends; resurface drops them. Throughput counts only real tokens (up to and including a row's
  EOS) on both sides; the two sides draw different random streams, so their token counts differ a little.

resurface's loop also computes the raw log-probability of every sampled token (``generate`` does
not), which is part of what is timed. Each side runs ``--repeats`` times, interleaved, after a short
warm-up; the best run of each is reported.

    .venv/bin/python benchmarks/bench_sampling.py                      # smollm2-135m, batch 16, 64 tokens
    .venv/bin/python benchmarks/bench_sampling.py --batch 64 --length 256 --min-new-tokens 50
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
    ap.add_argument("--min-new-tokens", type=int, default=None,
                    help="let EOS end a row after this many tokens (default: no EOS, exactly --length)")
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
    from resurface.corpus.sampling import eos_token_ids, sample_batch

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    model, tok = load_model(args.model, device=args.device, dtype=args.dtype, allow_hub=args.allow_hub)
    prompt = unconditional_prompt(tok)
    eos = eos_token_ids(model, tok)
    B, L = args.batch, args.length
    eos_mode = args.min_new_tokens is not None
    min_new = args.min_new_tokens if eos_mode else L
    dev = model.device
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    input_ids = torch.tensor([list(prompt.ids)] * B, device=dev)
    pad = tok.pad_token_id if tok.pad_token_id is not None else (eos[0] if eos else 0)

    def ours(n_tokens: int) -> int:
        gen = torch.Generator(device=dev).manual_seed(0)
        out = sample_batch(model, prompt.ids, B, temperature=args.temperature, max_new_tokens=n_tokens,
                           min_new_tokens=min(min_new, n_tokens), eos_ids=eos, generator=gen)
        return sum(len(ids) for ids in out.token_ids)

    def hf_generate(n_tokens: int) -> int:
        torch.manual_seed(0)
        with torch.inference_mode():
            out = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                                 do_sample=True, temperature=args.temperature, top_k=0, top_p=1.0,
                                 min_new_tokens=min(min_new, n_tokens), max_new_tokens=n_tokens,
                                 eos_token_id=eos or None, pad_token_id=pad)
        new = out[:, input_ids.shape[1]:].tolist()
        # real tokens: up to and including a row's first EOS (what follows is generate's padding)
        return sum(next((i + 1 for i, t in enumerate(row) if t in eos), len(row)) for row in new)

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
    print(f"batch {B} x " + (f"{min_new}-{L} new tokens (EOS ends a row after {min_new})" if eos_mode
                            else f"{L} new tokens (no EOS)")
          + f", temperature {args.temperature}, top_k 0, top_p 1.0, best of {max(1, args.repeats)}")
    rates = {}
    for name, (secs, n) in best.items():
        rates[name] = n / secs
        print(f"  {name:<24} {n:>7} tokens in {secs:7.2f} s = {rates[name]:8.1f} tokens/s")
    ratio = rates["resurface sample_batch"] / rates["model.generate"]
    print(f"  ratio sample_batch / generate = {ratio:.2f}x")


if __name__ == "__main__":
    main()
