"""Free-disk checks: a stage that writes a lot first compares its estimated size with the free space.

The estimates are deliberately rough upper bounds (what a stage can hold on disk at its peak); they
exist so that a long run fails in its first second with a clear message rather than hours later
with ``OSError: [Errno 28] No space left on device`` and a half-written work folder.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from resurface.errors import DiskSpaceError

# sampling: bytes per generated token in a JSONL shard (UTF-8 text, JSON escapes) and per record
# (id, num_tokens, mean_nll, finished); shards and the merged corpus coexist while merging
BYTES_PER_TOKEN = 8
BYTES_PER_RECORD = 160
_HALF_PRECISION = ("bfloat16", "float16")


def human_bytes(n: float) -> str:
    """``1536`` -> ``'1.5 KiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _existing(path: Path) -> Path:
    """``path`` or its nearest existing parent (a folder about to be created lives on its disk)."""
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def folder_bytes(path: str | Path) -> int:
    """Total size of the files under ``path`` (0 when it does not exist)."""
    p = Path(path)
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.exists() else 0


def check_free_space(path: str | Path, need_bytes: int, what: str) -> None:
    """Raise DiskSpaceError when the disk holding ``path`` has less than ``need_bytes`` free.

    Bytes already written under ``path`` (a resumed work folder) count towards the need. The
    message names the folder, the need and what is free.
    """
    path = Path(path)
    need = max(0, int(need_bytes) - folder_bytes(path))
    free = shutil.disk_usage(_existing(path)).free
    if free < need:
        raise DiskSpaceError(
            f"{what} needs about {human_bytes(need)} of free disk in {path}, but only {human_bytes(free)} "
            "is free there; free some space (`resurface artifacts gc` removes unfinished and corrupt "
            "artifacts) or point RESURFACE_STORE (or --out) at a larger disk")


def sampling_bytes(num_samples: int, max_new_tokens: int) -> int:
    """Peak size of a sampling run: the shards plus the merged corpus (twice the corpus)."""
    return 2 * num_samples * (max_new_tokens * BYTES_PER_TOKEN + BYTES_PER_RECORD)


def fp32_weight_bytes(model_dir: str | Path) -> int:
    """Size of a model's weights in fp32 (training keeps fp32 master weights), from its folder."""
    model_dir = Path(model_dir)
    stored = sum(f.stat().st_size for f in model_dir.iterdir()
                 if f.is_file() and f.suffix in (".safetensors", ".bin"))
    try:
        cfg = json.loads((model_dir / "config.json").read_text())
    except (OSError, json.JSONDecodeError):
        cfg = {}
    half = str(cfg.get("dtype") or cfg.get("torch_dtype") or "") in _HALF_PRECISION
    return stored * (2 if half else 1)


def training_bytes(model_dir: str | Path, epochs: int, save_checkpoints: bool) -> int:
    """Peak size of a training run: the resumable state (weights + two AdamW moments) twice, while a
    new state is written beside the old one, plus one checkpoint per epoch and the final model when
    ``save_checkpoints``."""
    w = fp32_weight_bytes(model_dir)
    return 6 * w + ((epochs + 1) * w if save_checkpoints else 0)
