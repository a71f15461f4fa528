"""Shared test helpers (imported by test modules; not a test module itself)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd


def cli_env(store: Path, **extra: str) -> dict[str, str]:
    """The environment of a CLI run: its own store, one thread, no Hub."""
    env = dict(os.environ, RESURFACE_STORE=str(store), OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1",
               HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def kill_when(cmd: list[str], env: dict[str, str], ready: Callable[[], bool], log: Path,
              timeout: float = 600, poll: float = 0.02) -> None:
    """Start ``cmd`` (output to ``log``), wait until ``ready()``, then SIGKILL it; fail if it ended
    before that point or the point was not reached within ``timeout`` seconds."""
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            assert proc.poll() is None, f"ended (rc {proc.returncode}) before the kill point:\n" \
                                        f"{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, "the kill point was never reached"
            time.sleep(poll)
        assert proc.poll() is None, "the run had already finished when the kill point was seen"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def item_runs(tmp_path: Path, effect: dict[str, float], tasks, *, n_items: int = 120, subsets: int = 3,
              epochs: int = 2, seed: int = 0, base_sd: float = 0.5, run_sd: float = 0.01,
              noise_sd: float = 0.05) -> pd.DataFrame:
    """Fake training runs as training writes them: per-item files under ``<run>/items/`` and the tidy
    results rows that point at them (``run_path``). Condition c moves every item of every task in
    ``tasks`` ((task, metric, title) triples) by ``effect[c] * epoch / epochs``, plus a per-run shift
    (sd ``run_sd``) and per-item noise (sd ``noise_sd``)."""
    from resurface.evaluate.evaluation import write_items

    rng = np.random.default_rng(seed)
    base = {t: rng.normal(-1.0, base_sd, n_items) for t, _, _ in tasks}
    rows = []
    for cond, eff in effect.items():
        for s in range(subsets):
            folder = tmp_path / f"{cond}-{s}"
            (folder / "items").mkdir(parents=True)
            run_shift = rng.normal(0, run_sd)
            for e in range(epochs + 1):
                items = []
                for task, metric, _ in tasks:
                    move = 0.0 if e == 0 else eff * e / epochs + run_shift
                    vals = base[task] + move + (rng.normal(0, noise_sd, n_items) if e else 0)
                    items += [{"run": f"{cond}-{s}", "epoch": e, "suite": "course", "task": task, "item": i,
                               "metric": metric, "value": v} for i, v in enumerate(vals)]
                write_items(folder / "items" / f"epoch_{e:02d}.csv.gz", items)
                rows.append({"condition": cond, "subset": s, "student": "smollm2-135m", "epoch": e,
                             "run_path": str(folder)})
    return pd.DataFrame(rows)
