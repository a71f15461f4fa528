"""The sharded training engine: PyTorch FSDP2 (``fully_shard``, full shard) for students whose
weights, gradients and AdamW state do not fit one GPU under DDP.

Under DDP every rank holds the whole fp32 state (16 bytes a parameter: a 7B student needs about
122 GB before activations). ``fully_shard`` splits parameters, gradients and optimizer state over the
ranks and gathers one decoder layer at a time for its forward and backward (``reshard_after_forward``:
the ZeRO-3 layout the authors ran through DeepSpeed). The loop of :func:`resurface.train.training.train`
is unchanged; this module supplies what differs:

- :func:`shard_model`: ``fully_shard`` on every decoder layer (the model's ``_no_split_modules``),
  then on the root, which stays gathered between forward and backward (the chunked loss recomputes
  the output head in backward); on one process nothing is sharded (the plain loop).
- :class:`FullState`: the model's and optimizer's state gathered whole for the resumable training
  state (every rank takes part in the gather; the main process writes one file), and scattered back
  into the shards on resume, so a sharded run resumes on any number of ranks.
- :func:`full_model`: an unsharded copy on the main process for the per-epoch evaluation and the
  checkpoints (a collective call: every rank must call it).

Accelerate 1.15 applies its own FSDP plugin only to GPU-type distributed setups (``MULTI_GPU``,
``MULTI_NPU``, ...; on ``MULTI_CPU`` it silently keeps DDP), so the engine calls ``fully_shard``
itself and uses the Accelerator only for the process group, device, autocast and state files:
the same code then runs on CPU (gloo) in the tests and on GPUs (NCCL).
"""

from __future__ import annotations

from typing import Any

from resurface.errors import ParameterError

ENGINES = ("ddp", "fsdp")


def _distributed() -> bool:
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def shard_model(model, device):
    """Move ``model`` to ``device`` and shard it layer by layer (in place); returns it."""
    from torch.distributed.fsdp import fully_shard

    model.to(device)
    if not _distributed():
        return model
    lm = getattr(model, "lm", model)
    names = set(getattr(lm, "_no_split_modules", None) or [])
    layers = [m for m in lm.modules() if type(m).__name__ in names]
    if not layers:
        raise ParameterError("train_engine", f"{type(lm).__name__} names no decoder layer class to shard "
                             "(_no_split_modules)", "train_engine: ddp")
    for layer in layers:
        fully_shard(layer, reshard_after_forward=True)
    # the root (embeddings, final norm, output head) stays gathered from forward to backward: backward
    # starts with it, and the chunked loss recomputes the head's logits there
    fully_shard(model, reshard_after_forward=False)
    return model


def is_sharded(model) -> bool:
    from torch.distributed.fsdp import FSDPModule

    return isinstance(model, FSDPModule)


def full_state_dict(model) -> dict[str, Any]:
    """The model's whole state dict on CPU (collective under FSDP: every rank calls it)."""
    if not is_sharded(model):
        return {k: v.detach().cpu() for k, v in model.state_dict().items()}
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))


def full_model(model, lm, main: bool, device):
    """An unsharded copy of ``lm`` (the causal LM inside ``model``) on the main process; None elsewhere.

    Collective under FSDP. Without sharding, ``lm`` itself is returned (no copy)."""
    if not is_sharded(model):
        return lm
    state = full_state_dict(model)
    if not main:
        return None
    import torch
    from transformers import AutoModelForCausalLM

    prefix = "lm." if lm is not model else ""
    with torch.device("meta"):
        copy = AutoModelForCausalLM.from_config(lm.config)
    copy.load_state_dict({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)},
                         strict=False, assign=True)
    copy.tie_weights()
    own = dict(lm.named_buffers())  # FSDP shards parameters only: non-persistent buffers are whole here
    for name, buf in list(copy.named_buffers()):
        if buf.is_meta:
            mod, _, leaf = name.rpartition(".")
            copy.get_submodule(mod).register_buffer(leaf, own[name].detach().clone(), persistent=False)
    return copy.to(device)


class FullState:
    """Model and optimizer state gathered whole for ``accelerator.save_state`` (registered with
    ``register_for_checkpointing``; accelerate calls ``state_dict`` on every rank and writes on the
    main one) and scattered back into the shards by ``load_state_dict``."""

    def __init__(self, model, optimizer):
        self.model, self.optimizer = model, optimizer

    def state_dict(self) -> dict[str, Any]:
        from torch.distributed.checkpoint.state_dict import (StateDictOptions, get_model_state_dict,
                                                             get_state_dict)

        opts = StateDictOptions(full_state_dict=True, cpu_offload=True)
        if not self.optimizer.state:  # before the first step get_state_dict would initialise the
            # optimizer with a zero-gradient step, which advances AdamW's step count: save the model only
            return {"model": get_model_state_dict(self.model, options=opts), "optimizer": None}
        model_sd, optim_sd = get_state_dict(self.model, self.optimizer, options=opts)
        return {"model": model_sd, "optimizer": optim_sd}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        from torch.distributed.checkpoint.state_dict import (StateDictOptions, set_model_state_dict,
                                                             set_state_dict)

        opts = StateDictOptions(full_state_dict=True)
        if state["optimizer"] is None:
            set_model_state_dict(self.model, state["model"], options=opts)
        else:
            set_state_dict(self.model, self.optimizer, model_state_dict=state["model"],
                           optim_state_dict=state["optimizer"], options=opts)
