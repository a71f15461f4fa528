"""The attention kernel of a training step on a CPU under bf16 autocast.

transformers picks PyTorch's fused scaled-dot-product attention (``sdpa``) by default. On the CPU its
bf16 backward is slow: at the course's shapes it took 5x the fp32 backward (SmolLM2-135M, 16 x 64
tokens, one thread: 714 ms against 143 ms a step), and the model's own ``eager`` attention (matrix
products under autocast, softmax in fp32) made a whole bf16 step 4-15% faster at the course's shapes
(SmolLM2-135M at 4 and 16 rows of 64 tokens, Gemma-3-270M at 4; one and two threads;
``benchmarks/bench_attention.py``, ``benchmarks/RESULTS.md``). The forward alone is as fast or faster in
``sdpa`` (scoring with bf16 weights: eager up to 17% slower), so only training switches, and the model
gets its kernel back afterwards. Both kernels compute the same attention; the results differ by rounding only, as they
do between two CPUs, so the kernel is not part of any store key.
"""

from __future__ import annotations

from typing import Any

#: the kernel a CPU bf16 training step uses
CPU_BF16_TRAINING = "eager"


def kernel(model: Any) -> str | None:
    """The attention implementation ``model`` runs now (None where it has no such setting)."""
    return getattr(getattr(model, "config", None), "_attn_implementation", None)


def switches(model: Any, cpu_bf16: bool) -> bool:
    """Whether training ``model`` changes its kernel: on a CPU under bf16, from ``sdpa`` only."""
    return cpu_bf16 and kernel(model) == "sdpa" and callable(getattr(model, "set_attn_implementation", None))


def for_training(model: Any, cpu_bf16: bool) -> str | None:
    """Give ``model`` the training kernel where :func:`switches` says so; return the kernel to restore
    (None: nothing was changed)."""
    if not switches(model, cpu_bf16):
        return None
    before = kernel(model)
    model.set_attn_implementation(CPU_BF16_TRAINING)
    return before


def restore(model: Any, before: str | None) -> None:
    """Put back the kernel :func:`for_training` replaced (nothing when it replaced none)."""
    if before is not None and kernel(model) != before:
        model.set_attn_implementation(before)
