"""Pieces shared by the BOS sampler (:mod:`resurface.corpus.sampling`) and the greedy evaluation decoder
(:mod:`resurface.evaluate.lmbackend`): a forward pass that keeps only the last logits where the architecture
allows it, a KV cache written in place into buffers allocated once, and removing stopped rows from a
KV-cached batch."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence


def forward_last(model, **kwargs):
    """``model(**kwargs, logits_to_keep=1)``: only the last position's logits, or all of them for an
    architecture without ``logits_to_keep``."""
    try:
        return model(**kwargs, logits_to_keep=1)
    except TypeError:
        return model(**kwargs)


@lru_cache(maxsize=1)
def _preallocated_layer_class():
    from transformers.cache_utils import DynamicLayer

    class PreallocatedLayer(DynamicLayer):
        """A full-attention cache layer that writes each step into a buffer of ``capacity`` positions
        allocated on first use and returns views of its filled part: no per-step ``torch.cat`` of the
        whole cache (transformers' ``DynamicLayer``), whose cost grows with the sequence length."""

        def __init__(self, capacity: int):
            super().__init__()
            self.capacity = capacity
            self._k = self._v = None
            self._n = 0

        def update(self, key_states, value_states, *args, **kwargs):
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            n = key_states.shape[-2]
            if self._k is None or self._n + n > self._k.shape[-2]:  # first use, or full: double
                room = self.capacity if self._k is None else 2 * self._k.shape[-2]
                self._grow(key_states, max(room, self._n + n))
            self._k[:, :, self._n:self._n + n].copy_(key_states)
            self._v[:, :, self._n:self._n + n].copy_(value_states)
            self._n += n
            self._views()
            return self.keys, self.values

        def _grow(self, like, capacity: int) -> None:
            b, h, _, d = like.shape
            k, v = like.new_empty(b, h, capacity, d), like.new_empty(b, h, capacity, d)
            if self._k is not None:
                k[:, :, :self._n].copy_(self._k[:, :, :self._n])
                v[:, :, :self._n].copy_(self._v[:, :, :self._n])
            self._k, self._v = k, v

        def _views(self) -> None:
            self.keys, self.values = self._k[:, :, :self._n], self._v[:, :, :self._n]

        def batch_select_indices(self, indices) -> None:
            if self._k is None:
                return
            b, h, cap, d = self._k.shape
            k = self._k.new_empty(len(indices), h, cap, d)
            v = self._v.new_empty(len(indices), h, cap, d)
            k[:, :, :self._n].copy_(self._k[indices, :, :self._n])  # only the filled part moves
            v[:, :, :self._n].copy_(self._v[indices, :, :self._n])
            self._k, self._v = k, v
            self._views()

        def reorder_cache(self, beam_idx) -> None:
            self.batch_select_indices(beam_idx.to(self._k.device) if self._k is not None else beam_idx)

        def batch_repeat_interleave(self, repeats: int) -> None:
            if self._k is not None:
                import torch

                rows = torch.arange(self._k.shape[0], device=self._k.device)
                self.batch_select_indices(rows.repeat_interleave(repeats))

        def crop(self, tokens_to_remove: int) -> None:
            if tokens_to_remove < 0 and self._k is not None:
                self._n = max(0, self._n + tokens_to_remove)
                self._views()
            else:
                super().crop(tokens_to_remove)

    return PreallocatedLayer


def preallocated_cache(model, capacity: int):
    """A transformers ``DynamicCache`` for ``model`` whose full-attention layers write into buffers of
    ``capacity`` positions (doubled if ever exceeded) instead of concatenating a new cache every step.

    Sliding-window and other special layers keep transformers' own implementation. Returns ``None``
    (passed as ``past_key_values``, the model then builds its default cache) for a model whose config cannot build a
    ``DynamicCache``. The keys and values seen by attention are exactly those of the default cache.
    """
    try:
        from transformers.cache_utils import DynamicCache, DynamicLayer

        cache = DynamicCache(config=model.config)
    except Exception:
        return None
    layer_cls = _preallocated_layer_class()
    cache.layers = [layer_cls(capacity) if type(layer) is DynamicLayer else layer for layer in cache.layers]
    return cache


# Stopped rows leave the batch once they are this fraction of it. Each removal copies the filled part of
# the cache of the remaining rows (a fraction of one decoding step at a few hundred positions), while
# every stopped row kept costs a row of every later step: an eighth keeps the waste to a few percent.
DROP_FRACTION = 1 / 8


def drop_stopped(cache, slots: list, feed: list[int], device, tensors: Sequence[Any] = ()) -> tuple[list, list[int], list]:
    """Remove the stopped rows (``slots[i] is None``) from the batch once they are
    :data:`DROP_FRACTION` of it.

    ``cache`` (a transformers Cache on ``device``) is re-indexed in place; ``slots`` (cache slot ->
    row), ``feed`` (next input id per slot) and every tensor in ``tensors`` (batch first) are returned
    re-indexed, or unchanged while fewer rows have stopped.
    """
    import torch

    live = [i for i, r in enumerate(slots) if r is not None]
    if len(slots) - len(live) < max(1, int(len(slots) * DROP_FRACTION)):
        return slots, feed, list(tensors)
    keep = torch.tensor(live, dtype=torch.long, device=device)
    cache.batch_select_indices(keep)
    return [slots[i] for i in live], [feed[i] for i in live], [t[keep] for t in tensors]
