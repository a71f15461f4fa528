"""Two pieces shared by the BOS sampler (:mod:`resurface.sampling`) and the greedy evaluation decoder
(:mod:`resurface.lmbackend`): a forward pass that keeps only the last logits where the architecture
allows it, and removing stopped rows from a KV-cached batch."""

from __future__ import annotations

from typing import Any, Sequence


def forward_last(model, **kwargs):
    """``model(**kwargs, logits_to_keep=1)``: only the last position's logits, or all of them for an
    architecture without ``logits_to_keep``."""
    try:
        return model(**kwargs, logits_to_keep=1)
    except TypeError:
        return model(**kwargs)


def drop_stopped(cache, slots: list, feed: list[int], device, tensors: Sequence[Any] = ()) -> tuple[list, list[int], list]:
    """Remove the stopped rows (``slots[i] is None``) from the batch once they are a quarter of it.

    ``cache`` (a transformers Cache on ``device``) is re-indexed in place; ``slots`` (cache slot ->
    row), ``feed`` (next input id per slot) and every tensor in ``tensors`` (batch first) are returned
    re-indexed, or unchanged while fewer than a quarter of the rows have stopped.
    """
    import torch

    live = [i for i, r in enumerate(slots) if r is not None]
    if len(slots) - len(live) < max(1, len(slots) // 4):
        return slots, feed, list(tensors)
    keep = torch.tensor(live, dtype=torch.long, device=device)
    cache.batch_select_indices(keep)
    return [slots[i] for i in live], [feed[i] for i in live], [t[keep] for t in tensors]
