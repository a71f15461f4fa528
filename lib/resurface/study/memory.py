"""Training memory from a model's config: what one rank holds at its peak, part by part.

The preflight promises a GPU only what this module can account for, so every part is computed from
the config (layers, hidden and MLP sizes, attention heads, vocabulary), the run's block size and
micro-batch, the compute precision and the engine:

- **state**: fp32 master weights, fp32 gradients and AdamW's two fp32 moments (16 bytes a parameter);
  the sharded engine (FSDP full shard) divides them by the number of ranks and adds the largest
  layer gathered whole; a tied embedding's two gradients (lookup and head) exist together until
  autograd sums them; under bf16 autocast, the bf16 weight copies that the forward pass keeps for
  backward (2 bytes a parameter);
- **activations**: the tensors a decoder layer saves for backward, per token: nine hidden-size
  tensors (the residual input and its norm, q/k/v after rotary and GQA expansion, the attention
  output, the output projection's input, the residual and the second norm) and the MLP's
  intermediate-size tensors (four for a gated MLP: gate, its activation, up, their product; two for
  GPT-NeoX's), at the compute precision, with the fp32 residual stream and norms under autocast;
- **logits**: without the chunked loss, ``micro_batch x block_size x vocab`` logits at the compute
  precision and their fp32 upcast in forward; in backward the saved fp32 log-softmax, its gradient
  and the logits' fp32 gradient (and their bf16 gradient under autocast); with the chunked loss, the
  same for one chunk of ``loss_chunk`` positions of every row of the micro-batch.

:func:`peak_tensor_bytes` measures the peak of live tensor storage of a function on CPU (a torch
dispatch mode counting every storage an operator returns until it is freed), so the estimate is
checked against a real training step (``tests/test_memory.py``, ``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any, Callable

from resurface.errors import ParameterError

GIB = 1024 ** 3
ENGINES = ("ddp", "fsdp")
COMPUTE = {"fp32": 4, "bf16": 2}


@dataclass(frozen=True)
class Shape:
    """What the estimate reads from a decoder's config."""

    layers: int
    hidden: int
    intermediate: int
    vocab: int
    gated_mlp: bool
    tied: bool
    max_positions: int | None


def text_config(cfg: dict) -> dict:
    """The language model's part of a config (multimodal configs nest it under ``text_config``)."""
    inner = cfg.get("text_config")
    return {**cfg, **inner} if isinstance(inner, dict) else cfg


def max_positions(cfg: dict) -> int | None:
    """The longest sequence the model's positions cover (``max_position_embeddings`` or ``n_positions``)."""
    c = text_config(cfg)
    for k in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        v = c.get(k)
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            return v
    return None


def shape_from_config(cfg: dict) -> Shape | None:
    """A :class:`Shape`, or None when the config lacks a size the estimate needs."""
    c = text_config(cfg)
    try:
        h, n, v = int(c["hidden_size"]), int(c["num_hidden_layers"]), int(c["vocab_size"])
    except (KeyError, TypeError, ValueError):
        return None
    inter = int(c.get("intermediate_size") or 4 * h)
    gated = c.get("model_type") not in ("gpt_neox", "gpt2", "gptj", "opt", "bloom", "falcon")
    return Shape(n, h, inter, v, gated, bool(c.get("tie_word_embeddings", False)), max_positions(c))


def config_params(cfg: dict) -> int | None:
    """Parameters of a decoder from its config (embeddings + layers; within a few % of the truth)."""
    c = text_config(cfg)
    s = shape_from_config(c)
    if s is None:
        return None
    heads = int(c.get("num_attention_heads") or 1)
    kv = int(c.get("num_key_value_heads") or heads)
    head_dim = int(c.get("head_dim") or s.hidden // heads)
    attn = s.hidden * heads * head_dim * 2 + s.hidden * kv * head_dim * 2
    mlp = (3 if s.gated_mlp else 2) * s.hidden * s.intermediate
    emb = s.vocab * s.hidden * (1 if s.tied else 2)
    return emb + s.layers * (attn + mlp)


def training_bytes(cfg: dict, *, block_size: int, micro_batch: int, compute: str = "bf16",
                   loss_chunk: int | None = None, engine: str = "ddp", world: int = 1,
                   params: int | None = None) -> dict[str, int]:
    """Bytes one rank holds at the peak of a training step, by part (see the module docstring).

    ``compute``: fp32 or bf16 (autocast); ``loss_chunk``: tokens per chunk of the chunked loss (None:
    the model's own loss over the full logits); ``engine``: ddp (every rank holds the whole state)
    or fsdp (full shard over ``world`` ranks). ``params`` overrides the count from the config.
    """
    if compute not in COMPUTE:
        raise ParameterError("compute", f"got {compute!r}", ", ".join(COMPUTE))
    if engine not in ENGINES:
        raise ParameterError("engine", f"got {engine!r}", ", ".join(ENGINES))
    for name, v in (("block_size", block_size), ("micro_batch", micro_batch), ("world", world)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ParameterError(name, f"got {v!r}", "an integer >= 1")
    s = shape_from_config(cfg)
    if s is None:
        raise ParameterError("cfg", "the config lacks hidden_size, num_hidden_layers or vocab_size",
                             "a decoder's config.json")
    p = int(params or config_params(cfg) or 0)
    b = COMPUTE[compute]
    shard = world if engine == "fsdp" else 1
    out = {"weights (fp32)": 4 * p // shard, "gradients (fp32)": 4 * p // shard,
           "AdamW moments (fp32)": 8 * p // shard}
    if engine == "fsdp" and world > 1:
        layer = (p - s.vocab * s.hidden * (1 if s.tied else 2)) // max(s.layers, 1)
        emb = s.vocab * s.hidden
        out["gathered layer + embeddings (fp32)"] = 4 * (2 * layer + emb) * 2  # params and their grads
    if s.tied:  # the lookup's dense gradient of the shared matrix exists next to the head's until summed
        out["tied embedding's second gradient (fp32)"] = 4 * s.vocab * s.hidden // shard
    if compute == "bf16":
        out["bf16 weight copies (autocast)"] = 2 * p // shard if engine == "fsdp" else 2 * p
    tokens = block_size * micro_batch
    if compute == "fp32":
        per_token_layer = 9 * 4 * s.hidden
    else:  # fp32 residual, norm and its bf16 cast twice; q, k, v, attention out, o_proj input in bf16
        per_token_layer = (4 + 4 + 2 + 4 + 4 + 2) * s.hidden + 5 * 2 * s.hidden
    per_token_layer += (4 if s.gated_mlp else 2) * b * s.intermediate
    out["activations"] = s.layers * tokens * per_token_layer + 3 * 4 * tokens * s.hidden
    rows = tokens if loss_chunk is None else min(tokens, micro_batch * min(loss_chunk, block_size))
    # backward of the loss: the saved fp32 log-softmax, its gradient, the logits' fp32 gradient, and
    # under autocast the bf16 gradient
    per_logit = (4 + 4 + 4 + 2) if compute == "bf16" else (4 + 4 + 4)
    out["logits" + ("" if loss_chunk is None else f" (chunks of {loss_chunk} positions)")] = rows * s.vocab * per_logit
    return out


def full_logits_bytes(cfg: dict, block_size: int, micro_batch: int) -> int:
    """The fp32 logits of one micro-batch: what the chunked loss avoids (its size decides whether to use it)."""
    s = shape_from_config(cfg)
    return 0 if s is None else 4 * block_size * micro_batch * s.vocab


def fitting_plan(cfg: dict, gpu: int, *, block_size: int, micro_batch: int, compute: str = "bf16",
                 loss_chunk: int | None = None, engine: str = "ddp", params: int | None = None,
                 max_world: int = 8) -> tuple[str, dict[str, int]] | None:
    """The first change that brings a rank under ``gpu`` bytes, in the order a user should try them:
    the chunked loss, a smaller micro-batch (halving to 1), then the sharded engine on 2..``max_world``
    GPUs (with the chunked loss, the micro-batch halved as needed). Returns (what to set, its estimate), or None."""
    def total(**kw) -> dict[str, int]:
        args = dict(block_size=block_size, micro_batch=micro_batch, compute=compute, loss_chunk=loss_chunk,
                    engine=engine, params=params)
        args.update(kw)
        return training_bytes(cfg, **args)

    from resurface.train.chunkedloss import DEFAULT_CHUNK

    chunk = loss_chunk or DEFAULT_CHUNK
    if loss_chunk is None:
        est = total(loss_chunk=chunk)
        if sum(est.values()) <= gpu:
            return (f"the chunked loss: train_run(loss_chunk={chunk}) (loss_chunk: auto turns it on when a "
                    "micro-batch's fp32 logits exceed 1 GiB)"), est
    mb = micro_batch
    while mb > 1:
        mb //= 2
        est = total(loss_chunk=chunk, micro_batch=mb)
        if sum(est.values()) <= gpu:
            return (f"batch_size: {mb} (micro-batch; effective_batch unchanged, more accumulation) with "
                    f"loss_chunk: {chunk}"), est
    for w in range(2, max_world + 1):
        mb = micro_batch
        while True:
            est = total(loss_chunk=chunk, micro_batch=mb, engine="fsdp", world=w)
            if sum(est.values()) <= gpu:
                return (f"train_engine: fsdp on {w} GPUs (`accelerate launch --num_processes {w}`; the sharded "
                        f"engine, full shard) with loss_chunk: {chunk}"
                        + (f" and batch_size: {mb}" if mb != micro_batch else "")), est
            if mb == 1:
                break
            mb //= 2
    return None


# ------------------------------------------------------------------------------------------ measurement
def peak_tensor_bytes(fn: Callable[[], Any]) -> tuple[int, Any]:
    """Run ``fn`` and return (the peak bytes of tensor storage it allocated and still held, its result).

    Counts every storage an operator returns while ``fn`` runs (forward, backward and optimizer ops
    alike) until Python frees it; tensors that existed before (the weights) are not counted. CPU or
    GPU; on GPU ``torch.cuda.max_memory_allocated`` measures the same thing more cheaply.
    """
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten
    import torch

    live: dict[int, int] = {}
    state = {"now": 0, "peak": 0}

    def free(key: int) -> None:
        state["now"] -= live.pop(key, 0)

    class Tracker(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in tree_flatten(out)[0]:
                if isinstance(t, torch.Tensor) and not t.is_meta:
                    st = t.untyped_storage()
                    key = st.data_ptr()
                    if key and key not in live:
                        live[key] = st.nbytes()
                        state["now"] += live[key]
                        state["peak"] = max(state["peak"], state["now"])
                        weakref.finalize(st, free, key)
            return out

    with Tracker():
        result = fn()
    return state["peak"], result
