"""glibc malloc settings for the processes that train and evaluate (the figure kernels).

PyTorch on CPU takes every tensor from the C allocator. glibc serves blocks above its mmap threshold
(which grows to at most 32 MB) with a fresh ``mmap`` and returns them with ``munmap`` when freed, so the logits,
activations and gradients of every training step arrive as new, unmapped pages: each 4 KiB page costs a
page fault and a zero-fill in the kernel. Raising the mmap threshold serves them from the heap, where
freed blocks are reused (all but the very largest, which would fragment the heap), and a trim threshold keeps the heap from being handed back to the kernel
(and faulted in again) after each step, while still returning more than that.

``benchmarks/bench_allocator.py`` measures the course's training step with and without these settings
in one run (results in ``benchmarks/RESULTS.md``). They are environment variables read when a process
starts, so :func:`kernel_env` sets them for the notebook kernels that ``resurface figures`` and
``resurface book`` start; a ``GLIBC_TUNABLES`` already set is left as it is (set it to an empty string
to run the kernels with glibc's defaults). Other C libraries ignore the variable.
"""

from __future__ import annotations

import os

MMAP_THRESHOLD = 256 * 1024 ** 2  # bytes: blocks below come from the heap. SmolLM2's largest (embedding
                                  # gradient 113 MB, logits) all do; Gemma-3's 262k-row embedding and its
                                  # logits stay mapped: from the heap they cost ~1.2 GB more peak memory
TRIM_THRESHOLD = 1024 ** 3        # bytes of free heap top kept for the next step; more goes back
TUNABLES = f"glibc.malloc.mmap_threshold={MMAP_THRESHOLD}:glibc.malloc.trim_threshold={TRIM_THRESHOLD}"


def kernel_env(environ: dict | None = None) -> dict[str, str]:
    """The variables to add to ``environ`` (default ``os.environ``) for a kernel: ``GLIBC_TUNABLES``
    unless it is already set."""
    environ = os.environ if environ is None else environ
    return {} if "GLIBC_TUNABLES" in environ else {"GLIBC_TUNABLES": TUNABLES}
