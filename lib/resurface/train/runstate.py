"""Pieces of a training run that its evaluator shares: the hook rows' form, the saved state's place
and the result type (kept apart so that :mod:`resurface.train.training` and :mod:`resurface.train.epocheval` do not
import each other)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from resurface.errors import ResurfaceError

STATE_DIR, STATE_TMP, STATE_PREV, PROGRESS = "state", "state.tmp", "state.prev", "progress.json"


def _plain(v):
    """JSON-safe plain Python value (numpy/torch scalars -> Python numbers)."""
    if hasattr(v, "item") and callable(v.item) and getattr(v, "ndim", 0) == 0:
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


def rows_from_hook(rows, epoch: int) -> list[dict]:
    """The hook's rows as plain-Python dicts, epoch first (the loop's epoch and run labels win)."""
    if rows is None:
        return []
    if not isinstance(rows, (list, tuple)) or not all(isinstance(r, dict) for r in rows):
        raise ResurfaceError(f"eval_hook must return a list of dicts (tidy rows), got {type(rows).__name__}")
    return [{"epoch": epoch, **{str(k): _plain(v) for k, v in r.items() if k not in ("epoch", "run")}}
            for r in rows]


def find_state(workdir: Path) -> Path | None:
    """The folder of ``workdir`` holding a saved training state (``state``, else ``state.prev``), or None."""
    for name in (STATE_DIR, STATE_PREV):  # state.prev: killed between the two renames
        if (workdir / name / PROGRESS).exists():
            return workdir / name
    return None


@dataclass
class TrainResult:
    """What :func:`train` returns: tidy evaluation rows, per-step losses, and a run summary."""

    results: Any  # pandas.DataFrame: epoch + the eval hook's columns
    losses: Any  # pandas.DataFrame: LOSS_COLUMNS
    summary: dict = field(default_factory=dict)
