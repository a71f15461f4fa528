"""Device and dtype choice: CUDA + bf16 when present, else CPU + fp32; overridable."""

from __future__ import annotations

from resurface.errors import DeviceError, ParameterError

DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "float32", "bfloat16", "float16")


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


def resolve_dtype(dtype: str = "auto", device: str = "cpu"):
    """Return a torch dtype: bf16 on CUDA and fp32 on CPU unless asked otherwise."""
    import torch

    if dtype not in DTYPES:
        raise ParameterError("dtype", f"unknown value {dtype!r}", ", ".join(DTYPES))
    if dtype == "auto":
        return torch.bfloat16 if str(device).startswith("cuda") else torch.float32
    return getattr(torch, dtype)
