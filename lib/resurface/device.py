"""Device and dtype choice.

``auto`` picks bf16 on CUDA, and on a CPU bf16 where the CPU has bf16 matrix units (Intel AMX-BF16 or
AVX512-BF16, read from ``/proc/cpuinfo`` at run time), fp32 elsewhere. ``RESURFACE_CPU_BF16`` overrides
the CPU's choice: ``auto`` (the default) as above, ``1`` forces bf16, ``0`` keeps fp32. Under bf16,
training keeps fp32 master weights under bf16 autocast; scoring, NLL, sampling and extraction run a
model held in bf16; log-softmax and the sampler's running sums stay in fp32/fp64 over upcast logits.
Measured stage by stage on a CPU with AMX (``benchmarks/RESULTS.md``): scoring, NLL and extraction
1.9-3x, a planting's training 2x, a course run's short steps about 1.4x, sampling 1.7x.
"""


from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from resurface.errors import DeviceError, ParameterError

DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "float32", "bfloat16", "float16")
BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")  # either one runs bf16 matmuls natively
CPU_BF16_ENV = "RESURFACE_CPU_BF16"


def cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    """The CPU feature flags of the first processor in ``/proc/cpuinfo`` (or of the text given)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
        except OSError:
            return frozenset()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


CPU_BF16_DEFAULT = "auto"  # bf16 where the CPU multiplies it in hardware (module doc)


def cpu_has_bf16_units(flags: frozenset[str] | set[str] | None = None) -> bool:
    """True when the CPU multiplies bf16 in hardware (AMX-BF16 or AVX512-BF16)."""
    if flags is None:
        flags = _detected_flags()
    return any(f in flags for f in BF16_CPU_FLAGS)


def cpu_bf16_chosen(flags: frozenset[str] | set[str] | None = None) -> bool:
    """Whether ``dtype: auto`` means bf16 on this CPU: ``RESURFACE_CPU_BF16`` = ``1`` (always), ``auto``
    (where :func:`cpu_has_bf16_units`; the default, :data:`CPU_BF16_DEFAULT`), ``0`` (never)."""
    setting = os.environ.get(CPU_BF16_ENV, "").strip() or CPU_BF16_DEFAULT
    if setting not in ("0", "1", "auto"):
        raise ParameterError(CPU_BF16_ENV, f"environment value {setting!r}", "0, 1, auto, or unset")
    if setting == "auto":
        return cpu_has_bf16_units(flags)
    return setting == "1"


@lru_cache(maxsize=1)
def _detected_flags() -> frozenset[str]:
    return cpu_flags()


def resolve_device(device: str = "auto") -> str:
    """Return ``'cuda'`` or ``'cpu'``; a CUDA request on a machine without one is an error."""
    import torch

    if device not in DEVICES and not str(device).startswith("cuda:"):
        raise ParameterError("device", f"unknown value {device!r}", ", ".join(DEVICES))
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise DeviceError(
            f"parameter 'device': {device!r} was requested but torch sees no CUDA GPU "
            f"(torch {torch.__version__}, cuda build: {torch.version.cuda}). "
            "Use device='cpu' (or 'auto'), or install a CUDA build of torch (environment.yml)."
        )
    return device


def auto_dtype_name(device: str = "cpu") -> str:
    """What ``dtype='auto'`` means on ``device``: ``'bfloat16'`` on CUDA and where :func:`cpu_bf16_chosen`."""
    if str(device).startswith("cuda"):
        return "bfloat16"
    return "bfloat16" if cpu_bf16_chosen() else "float32"


def dtype_name(dtype: str = "auto", device: str = "cpu") -> str:
    """The dtype's name with ``auto`` resolved for ``device`` (``float32``, ``bfloat16``, ...)."""
    if dtype not in DTYPES:
        raise ParameterError("dtype", f"unknown value {dtype!r}", ", ".join(DTYPES))
    return auto_dtype_name(device) if dtype == "auto" else dtype


def resolve_dtype(dtype: str = "auto", device: str = "cpu"):
    """Return the torch dtype a model is held in for scoring and sampling (see the module doc)."""
    import torch

    return getattr(torch, dtype_name(dtype, device))


def dtype_key(dtype: str = "auto", device: str = "cpu") -> str:
    """The value a store key records for ``dtype``: the setting itself where ``auto`` means what it
    always meant (bf16 on CUDA, fp32 on a CPU), so those keys are unchanged, and ``auto:bfloat16-cpu``
    where ``auto`` chose bf16 on a CPU, so that results computed in the two precisions never share a key."""
    name = dtype_name(dtype, device)
    if dtype == "auto" and not str(device).startswith("cuda") and name == "bfloat16":
        return "auto:bfloat16-cpu"
    return dtype


def mixed_precision(dtype: str = "auto", device: str = "cpu") -> str:
    """accelerate's ``mixed_precision`` for training with ``dtype``: ``bf16`` autocast over fp32 master
    weights where bf16 is chosen, else ``no``. fp16 needs loss scaling and is refused."""
    if dtype == "float16":
        raise ParameterError("dtype", "float16 mixed precision needs loss scaling and is not supported",
                             "auto, float32, bfloat16")
    return "bf16" if dtype_name(dtype, device) == "bfloat16" else "no"


def precision_words(dtype: str = "auto", device: str = "cpu") -> str:
    """A page's words for the precision: 'bf16 on the CPU's matrix units', 'fp32', 'bf16 on the GPU'."""
    name = dtype_name(dtype, device)
    if name == "float32":
        return "fp32"
    short = {"bfloat16": "bf16", "float16": "fp16"}[name]
    if str(device).startswith("cuda"):
        return f"{short} on the GPU"
    return f"{short} on the CPU's matrix units" if cpu_has_bf16_units() else f"{short} on the CPU (emulated)"


def hook_scoring_dtype(dtype: str = "auto", device: str = "auto") -> str:
    """The dtype a training run's evaluation hook scores in, so a standalone score that is compared
    with a hook's (a base model's extraction or probes) is computed in the same form: on a CPU the
    chosen dtype (the hook gets a bf16 copy under bf16); on CUDA fp32, because the scorers switch the
    training autocast off over fp32 weights."""
    dev = _device_class(device)
    return "float32" if dev == "cuda" else dtype_name(dtype, dev)


def _device_class(device: str) -> str:
    """``cuda`` or ``cpu`` for a device setting (``auto`` resolved)."""
    return "cuda" if str(resolve_device(device) if device == "auto" else device).startswith("cuda") else "cpu"


def precision_fields(dtype: str = "auto", device: str = "auto") -> dict:
    """Key fields for a stage whose config has no dtype of its own: empty where ``auto`` means what it
    always meant (so those store keys are unchanged), ``{"precision": "auto:bfloat16-cpu"}`` where it
    chose bf16 on a CPU, and the setting itself for an explicit bf16 or fp16."""
    key = dtype_key(dtype, _device_class(device))
    return {"precision": key} if key != dtype or dtype not in ("auto", "float32") else {}
