"""Peak training memory on CPU against the preflight's estimate (resurface.study.memory).

Runs ``resurface.train.training.train`` for two optimizer steps of a student at its profile's block
size and micro-batch, measures the peak of live tensor storage (``peak_tensor_bytes``: activations,
logits, gradients and AdamW state; the fp32 weights, which exist before, are added) and the process's
peak RSS growth, and prints both next to the estimate, with and without the chunked loss.

    taskset -c 1 env OMP_NUM_THREADS=1 PYTHONPATH=lib python benchmarks/bench_train_memory.py tiny-llama 64 4
"""

from __future__ import annotations

import json
import resource
import sys


def main(alias: str, block: int, batch: int, chunk: int | None) -> dict:
    import torch

    from resurface.models import load_model, load_tokenizer
    from resurface.study.memory import peak_tensor_bytes, training_bytes
    from resurface.train import training

    tok = load_tokenizer(alias)
    model = load_model(alias, device="cpu", dtype="float32")[0]
    cfg = json.loads(model.config.to_json_string())
    n_params = sum(p.numel() for p in model.parameters())
    torch.manual_seed(0)
    blocks = torch.randint(5, model.config.vocab_size, (2 * batch, block))
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    peak, _ = peak_tensor_bytes(lambda: training.train(
        model, tok, blocks, epochs=1, lr=1e-4, batch_size=batch, effective_batch=batch, progress=False,
        device="cpu", mixed_precision="no", loss_chunk=chunk))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss0
    measured = peak + 4 * n_params
    est = training_bytes(cfg, block_size=block, micro_batch=batch, compute="fp32", loss_chunk=chunk, params=n_params)
    return {"model": alias, "block": block, "batch": batch, "loss_chunk": chunk, "params": n_params,
            "measured_tensor_peak": measured, "rss_growth_after_load": rss, "estimate": sum(est.values()),
            "ratio": round(sum(est.values()) / measured, 3), "parts": est}


if __name__ == "__main__":
    a = sys.argv[1:]
    res = main(a[0], int(a[1]), int(a[2]), int(a[3]) if len(a) > 3 and a[3] != "none" else None)
    print(json.dumps(res, indent=1))
