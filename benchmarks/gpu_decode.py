"""Decode throughput on a GPU: the project's sampler against transformers' ``generate``, warm, no load.

Builds randomly initialised models of the paper's shapes (Qwen2.5-0.5B and Qwen2.5-7B, with the offline
SmolLM2 tokenizer's 49,152-token vocabulary; no Hub) in bf16 on the GPU and times, after a warm-up,
``resurface.corpus.sampling.sample_batch`` (BOS-only, temperature 1, every row the full length) and
``model.generate(do_sample=True)`` on the same batch. Prints one JSON line per model and writes them to
``--out``. ``benchmarks/gpu_check.py`` uses :func:`sampler_rate` for the cost model's decode constants.

    python benchmarks/gpu_decode.py --out decode.json            # on the GPU machine, about 1 minute
    python benchmarks/gpu_decode.py --device cpu --tiny           # here: a logic check on tiny shapes
"""

from __future__ import annotations

import argparse
import json
import time

#: Qwen2.5-0.5B's and Qwen2.5-7B's config.json (architecture only; the vocabulary comes from the tokenizer)
SHAPES = {
    "qwen2.5-0.5b-shape": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                               num_key_value_heads=2, tie_word_embeddings=True),
    "qwen2.5-7b-shape": dict(hidden_size=3584, intermediate_size=18944, num_hidden_layers=28, num_attention_heads=28,
                             num_key_value_heads=4, tie_word_embeddings=False),
}
#: what both shapes share (Qwen2.5's config.json)
COMMON = dict(max_position_embeddings=32768, rope_theta=1_000_000.0, rms_norm_eps=1e-6)
TINY = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)


def config(shape: dict, vocab: int, pad: int | None, eos: int | None):
    """A ``Qwen2Config`` of ``shape`` with the tokenizer's vocabulary and no BOS (Qwen2.5 base has none)."""
    from transformers import Qwen2Config

    return Qwen2Config(vocab_size=vocab, pad_token_id=pad, eos_token_id=eos, bos_token_id=None, **COMMON, **shape)


def build(shape: dict, tok, device: str):
    """A randomly initialised Qwen2 model of ``shape`` in bf16 on ``device`` (seeded)."""
    import torch
    from transformers import AutoModelForCausalLM

    cfg = config(shape, len(tok), tok.eos_token_id, tok.eos_token_id)
    torch.manual_seed(0)
    with torch.device(device):
        return AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16).eval()


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def sampler_rate(model, eos: int, batch: int, new_tokens: int, device: str) -> float:
    """Tokens/s of ``sample_batch`` from EOS-as-BOS, every row ``new_tokens`` long, after a 16-token warm-up."""
    import torch

    from resurface.corpus.sampling import sample_batch

    g = torch.Generator(device=device).manual_seed(0)
    kw = dict(temperature=1.0, eos_ids=[eos], generator=g)
    sample_batch(model, [eos], batch, max_new_tokens=16, min_new_tokens=16, **kw)
    _sync(device)
    t = time.perf_counter()
    r = sample_batch(model, [eos], batch, max_new_tokens=new_tokens, min_new_tokens=new_tokens, **kw)
    _sync(device)
    return sum(map(len, r.token_ids)) / (time.perf_counter() - t)


def generate_rate(model, eos: int, batch: int, new_tokens: int, device: str) -> float:
    """Tokens/s of ``model.generate(do_sample=True)`` on the same batch, after a 16-token warm-up."""
    import torch

    x = torch.full((batch, 1), eos, device=device)
    mask = torch.ones_like(x)
    kw = dict(do_sample=True, pad_token_id=eos, attention_mask=mask)
    with torch.no_grad():
        model.generate(x, max_new_tokens=16, min_new_tokens=16, **kw)
        _sync(device)
        t = time.perf_counter()
        y = model.generate(x, max_new_tokens=new_tokens, min_new_tokens=new_tokens, **kw)
        _sync(device)
    return batch * (y.shape[1] - 1) / (time.perf_counter() - t)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--new-tokens", type=int, default=256)
    ap.add_argument("--tiny", action="store_true", help="tiny shapes (a CPU logic check; rates mean nothing)")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    import torch

    from resurface.book.costs import H100_PEAK
    from resurface.tiny import offline_tokenizer

    tok = offline_tokenizer("smollm2-135m")
    rows = []
    for name, shape in SHAPES.items():
        model = build(TINY if a.tiny else shape, tok, a.device)
        n = sum(p.numel() for p in model.parameters())
        ours = sampler_rate(model, tok.eos_token_id, a.batch, a.new_tokens, a.device)
        hf = generate_rate(model, tok.eos_token_id, a.batch, a.new_tokens, a.device)
        row = {"model": name, "params": n, "batch": a.batch, "new_tokens": a.new_tokens,
               "sampler_tokens_per_s": round(ours, 1), "generate_tokens_per_s": round(hf, 1),
               "sampler_over_generate": round(ours / hf, 3), "sampler_mfu_of_h100_peak": ours * 2 * n / H100_PEAK}
        print(json.dumps(row), flush=True)
        rows.append(row)
        del model
        if a.device.startswith("cuda"):
            torch.cuda.empty_cache()
    if a.out:
        dev = torch.cuda.get_device_name(0) if a.device.startswith("cuda") else a.device
        with open(a.out, "w") as f:
            json.dump({"device": dev, "torch": torch.__version__, "vocab": len(tok), "runs": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
