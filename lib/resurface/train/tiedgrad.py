"""A sparse gradient for the input side of a tied embedding, where its dense one costs page faults.

When the input embedding and the output head share one matrix (SmolLM2, Gemma-3, Qwen2.5-0.5B and
Llama-3.2-1B all do), autograd computes two gradients for it each step and adds them: the head's,
dense, and the embedding lookup's, which PyTorch also builds dense by default: a zero-filled
vocabulary x hidden tensor with a few hundred rows written. For Gemma-3-270M (262,144 x 640) that is
671 MB zero-filled and then added, every step. On CPU, blocks that large come from a fresh ``mmap``
(above :data:`resurface.allocator.MMAP_THRESHOLD`), so every 4 KiB page is faulted in and zeroed by
the kernel, every step.

Switching the lookup to ``sparse=True`` makes its gradient a sparse tensor of the rows seen; it is
added to the head's dense gradient, so the parameter's ``.grad`` is dense as before and the fused
AdamW step is unchanged. The sum is the same up to the order of float additions.

It is used only where it pays: on CPU, in one process (DDP's gradient buckets expect dense
gradients), for a tied matrix above the mmap threshold. A smaller matrix (SmolLM2's 113 MB) comes
from the heap, where the dense zero-fill is cheap: there sparse measured no faster (1.01x).
``benchmarks/bench_tied_grad.py`` measures both (results in ``benchmarks/RESULTS.md``): Gemma-3's
course step 1.42x faster, 0.66 GB less peak memory.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from resurface import allocator


def tied_input_embedding(model):
    """The model's input embedding module if its weight is the output head's, else None."""
    get_in = getattr(model, "get_input_embeddings", None)
    get_out = getattr(model, "get_output_embeddings", None)
    if get_in is None or get_out is None:
        return None
    emb, head = get_in(), get_out()
    if emb is None or head is None or not hasattr(emb, "sparse"):
        return None
    return emb if emb.weight is head.weight else None


def sparse_pays(model, device_type: str, num_processes: int, threshold: int | None = None) -> bool:
    """Whether :func:`sparse_input_grad` should switch this model: a tied embedding on CPU, one process,
    whose dense gradient would be at least ``threshold`` bytes (default: the kernels' mmap threshold)."""
    threshold = allocator.MMAP_THRESHOLD if threshold is None else threshold
    emb = tied_input_embedding(model)
    if emb is None or device_type != "cpu" or num_processes != 1:
        return False
    w = emb.weight
    return w.numel() * w.element_size() >= threshold


@contextmanager
def sparse_input_grad(model, enabled: bool) -> Iterator[bool]:
    """Within the block, the tied input embedding of ``model`` produces sparse gradients if ``enabled``;
    its previous setting is restored after. Yields whether it was switched."""
    emb = tied_input_embedding(model) if enabled else None
    if emb is None:
        yield False
        return
    before = emb.sparse
    emb.sparse = True
    try:
        yield True
    finally:
        emb.sparse = before
