"""A causal-LM loss computed in chunks over the sequence, so the full fp32 logits never exist.

``model(input_ids, labels=...)`` builds ``batch x block x vocab`` logits, upcasts them to fp32 and
keeps a log-softmax of the same size for backward: for Qwen2.5's 151,936-token vocabulary at 8 x 2,048
tokens that is about 5 GB in bf16 plus 10 GB twice in fp32. :class:`ChunkedLossLM` wraps the model:
its forward runs the decoder to the final hidden states, then for each chunk of ``chunk`` positions
computes that chunk's logits (all rows of the micro-batch), fp32 cross-entropy (summed) under activation checkpointing, so backward
recomputes one chunk's logits at a time. The loss is the same token mean as the model's own
(labels shifted by one, ``-100`` ignored) up to the order of float additions, and so are the gradients.

It is a module (not a function applied to the model's output) so that DDP and FSDP see one forward
call that uses every parameter: the engines' hooks run as for the plain model.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from resurface.errors import ParameterError

IGNORE = -100
#: positions per chunk when the chunked loss is on (x micro-batch rows: 8 x 128 x 151,936 fp32 logits
#: are 0.6 GB, against 10 GB for the whole 2,048-token block)
DEFAULT_CHUNK = 128
#: ``loss_chunk: auto`` turns the chunked loss on when one micro-batch's fp32 logits exceed this
AUTO_BYTES = 1024 ** 3


def resolve_loss_chunk(value: int | str | None, vocab: int | None, block_size: int, batch_size: int) -> int | None:
    """``loss_chunk`` as the training uses it: None (the model's own loss) or positions per chunk.

    ``auto``: :data:`DEFAULT_CHUNK` when ``batch_size x block_size x vocab`` fp32 logits exceed
    :data:`AUTO_BYTES` (a paper-sized student), else None (small runs keep the model's own loss and
    their artifact keys)."""
    if value == "auto":
        return DEFAULT_CHUNK if vocab and 4 * vocab * block_size * batch_size > AUTO_BYTES else None
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return value
    raise ParameterError("loss_chunk", f"got {value!r}", "auto, null, or an integer >= 1 (positions per chunk)")


def _chunk_loss_sum(hidden: torch.Tensor, head: nn.Module, labels: torch.Tensor, softcap: float | None) -> torch.Tensor:
    logits = head(hidden).float()
    if softcap:
        logits = torch.tanh(logits / softcap) * softcap
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                       ignore_index=IGNORE, reduction="sum")


class ChunkedLossLM(nn.Module):
    """``forward(input_ids, labels)`` returns an object with ``.loss`` (token mean), as the wrapped model's
    forward does; ``lm`` is the wrapped Hugging Face causal LM."""

    def __init__(self, lm: nn.Module, chunk: int = 1024):
        super().__init__()
        if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk < 1:
            raise ParameterError("loss_chunk", f"got {chunk!r}", "an integer >= 1 (positions per chunk), or None")
        if lm.get_output_embeddings() is None or not hasattr(lm, "get_decoder"):
            raise ParameterError("loss_chunk", f"{type(lm).__name__} has no output head and decoder to split",
                                 "loss_chunk: null (the model's own loss)")
        self.lm, self.chunk = lm, chunk
        cfg = getattr(lm.config, "get_text_config", lambda: lm.config)()
        self.softcap = getattr(cfg, "final_logit_softcapping", None)
        scale = getattr(cfg, "logit_scale", None) or getattr(cfg, "logits_scaling", None)
        if scale not in (None, 1, 1.0):
            raise ParameterError("loss_chunk", f"{type(lm).__name__} scales its logits ({scale}), which the "
                                 "chunked loss does not reproduce", "loss_chunk: null (the model's own loss)")

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor, **kwargs) -> "ChunkedLossOutput":
        kwargs.setdefault("use_cache", False)
        hidden = self.lm.get_decoder()(input_ids=input_ids, **kwargs).last_hidden_state
        head = self.lm.get_output_embeddings()
        hidden, target = hidden[:, :-1], labels[:, 1:]
        total = hidden.new_zeros((), dtype=torch.float32)
        for start in range(0, hidden.shape[1], self.chunk):
            h, y = hidden[:, start:start + self.chunk], target[:, start:start + self.chunk]
            if torch.is_grad_enabled():
                total = total + checkpoint(_chunk_loss_sum, h, head, y, self.softcap, use_reentrant=False)
            else:
                total = total + _chunk_loss_sum(h, head, y, self.softcap)
        n = (target != IGNORE).sum()
        return ChunkedLossOutput(total / n.clamp(min=1))


class ChunkedLossOutput:
    """The one field the training loop reads from a model's output."""

    def __init__(self, loss: torch.Tensor):
        self.loss = loss
