"""Per-epoch evaluation out of the training process: one checkpoint per epoch, scored by its own process.

``train_run(..., eval_engine=...)`` chooses how the training run's suites are scored after every epoch:

- ``hf`` (course and smoke profiles, the default): in the training process, on the in-memory model
  (:func:`resurface.evaluate.evaluation.make_eval_hook`), as before. Nothing is written to disk.
- ``vllm`` (the paper profile's default): each epoch's weights are written once as a safetensors
  checkpoint (bf16 on CUDA) and scored by lm-eval's vLLM backend **in its own process**
  (``python -m resurface.train.epocheval score ...``) with the arguments of METHODS.md c.5
  (:data:`resurface.evaluate.evaluation.VLLM_ARGS`, ``batch_size=auto``, ``seed``; env ``PYTHONHASHSEED``,
  ``CUBLAS_WORKSPACE_CONFIG=:4096:8``, ``VLLM_DETERMINISTIC_OPS=1``). A checkpoint is removed as soon
  as its rows are stored, unless ``save_checkpoints``. When vLLM is not installed (or there is no GPU)
  the run says so in one line and falls back to ``hf``.
- ``hf-process``: the same orchestration with lm-eval's HF backend in the scoring process. The tests
  use it on CPU as the stand-in for vLLM (the rows equal the in-process path's); it also keeps a
  second copy of the model out of the training process.

**Training does not wait for evaluation.** Scoring runs in a pool of one background worker that
starts the scoring process of epoch *k* while epoch *k+1* trains ("overlap"), whenever the scorer can
have memory of its own: on CPU, with ``hf-process``, or when a GPU the training does not use is
visible (the scorer then gets ``CUDA_VISIBLE_DEVICES`` of that GPU). With ``vllm`` on the training's
own GPU it cannot: METHODS.md c.5 gives vLLM ``gpu_memory_utilization=0.75`` of the GPU, which the
training process (fp32 weights, AdamW state, activations) does not leave free, and lowering it
changes the KV-cache size, hence vLLM's batching. So there the epochs train back to back, each
leaving its checkpoint, and the checkpoints are scored one process at a time after the last epoch,
when the training process has moved its model to the CPU and emptied the CUDA cache ("after"). That
needs disk for every epoch's bf16 checkpoint at once (40 x 1 GB for Qwen2.5-0.5B, 40 x 2.5 GB for
Llama-3.2-1B), so on one GPU the checkpoints are **bounded by a rolling window** instead
(``RESURFACE_CHECKPOINT_WINDOW``, default 1): when W checkpoints wait to be scored, the training pauses
at the epoch's end, moves its weights and AdamW moments to host memory (``torch.cuda.empty_cache``),
scores the waiting checkpoints one process at a time, deletes them, moves the state back and trains the
next epoch. At most W checkpoints exist at any time and the free-space check asks for W, not 40. The cost
is the round trip of 16 bytes per parameter between GPU and host per pause (about 2 x 8 GB for
Qwen2.5-0.5B, 2 x 20 GB for Llama-3.2-1B: seconds over PCIe, not measured on a GPU yet), against an
epoch of minutes and a scoring process that starts per epoch either way; scoring time itself is the same
as after training. Under several training processes (``accelerate launch``) the window is off and every
checkpoint waits until the end, as before. ``RESURFACE_EVAL_OVERLAP=1`` or ``0`` forces either policy. Epoch 0 (the untouched
student, shared by every run of the student through the store's ``base-eval`` stage) is scored from
the student's own folder before the first step, synchronously.

**Resume after a kill** (``kill -9`` anywhere): every scored epoch's rows are kept in
``<work>/epocheval/rows/epoch_XX.json`` (written atomically), checkpoints in
``<work>/checkpoints/epoch_XX``. A rerun keeps the rows, scores the checkpoints that have none, and
trains only what the training state has not saved (the training loop's own resume,
:mod:`resurface.train.training`); when training had finished, ``<work>/epocheval/trained`` (losses and
summary, written right after the last epoch) means nothing is trained again. Checkpoints and rows of
epochs after the last saved training state are deleted, since those epochs are trained again. A
scoring process dies with the training process (``PR_SET_PDEATHSIG`` on Linux) and holds a file lock
on its epoch, so two never score one checkpoint together.

**The artifact key** includes the engine whenever it is not ``hf``: vLLM's kernels, its bf16 weights
and its batching give slightly different numbers from the in-process transformers path, so runs
scored by different engines must not share an artifact.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Sequence

from resurface import models
from resurface.diskspace import check_free_space, fp32_weight_bytes
from resurface.errors import ParameterError, ResurfaceError
from resurface.evaluate import evaluation
from resurface.evaluate.evaluation import evaluate_lm, vllm_lm, write_items
from resurface.train.runstate import PROGRESS, TrainResult, find_state, rows_from_hook

ENGINES = ("hf", "vllm", "hf-process")
CHECKPOINT_ENGINES = ("vllm", "hf-process")  # scored out of process from a per-epoch checkpoint
DIR = "epocheval"  # inside the training run's work folder
CKPT_DIR = "checkpoints"  # same place as train(save_checkpoints=True) keeps them
OVERLAP_ENV = "RESURFACE_EVAL_OVERLAP"
WINDOW_ENV = "RESURFACE_CHECKPOINT_WINDOW"
DEFAULT_WINDOW = 1
# METHODS.md c.5: the deterministic environment of the reference code's evaluate.sh
VLLM_ENV = {"CUBLAS_WORKSPACE_CONFIG": ":4096:8", "VLLM_DETERMINISTIC_OPS": "1"}


def say_to_stderr(msg: str) -> None:
    """Print a progress message to stderr, flushed."""
    print(msg, file=sys.stderr, flush=True)


def vllm_available() -> bool:
    return importlib.util.find_spec("vllm") is not None


def resolve_engine(engine: str, device_class: str, *, has_suites: bool = True,
                   say: Callable[[str], None] | None = say_to_stderr) -> str:
    """The engine a run uses: ``engine`` validated; ``vllm`` without the package or a GPU falls back
    to ``hf`` with a one-line message; a run with a custom ``eval_hook`` (no suites) always evaluates
    in process (``hf``)."""
    if engine not in ENGINES:
        raise ParameterError("eval_engine", f"unknown engine {engine!r}", ", ".join(ENGINES))
    if not has_suites:
        return "hf"
    if engine == "vllm":
        why = None
        if not vllm_available():
            why = "the vllm package is not installed (pip install 'resurface[vllm]', README 'GPU users')"
        elif device_class != "cuda":
            why = "vLLM needs a CUDA GPU and this run trains on the CPU"
        if why:
            if say:
                say(f"[train] eval_engine vllm: {why}; evaluating in the training process with hf")
            return "hf"
    return engine


def overlap_plan(engine: str, device_class: str, world: int = 1) -> tuple[bool, dict[str, str], str]:
    """Whether epoch k is scored while epoch k+1 trains; extra environment of the scoring process; why."""
    forced = os.environ.get(OVERLAP_ENV, "").strip()
    if forced not in ("", "0", "1"):
        raise ParameterError(OVERLAP_ENV, f"got {forced!r}", "0 (score after training), 1 (overlap) or unset")
    if forced == "0":
        return False, {}, f"{OVERLAP_ENV}=0"
    if device_class != "cuda":
        plan = (True, {}, "CPU: the scoring process runs beside the training")
    elif engine != "vllm":
        plan = (True, {}, "hf-process: one bf16 copy of the model fits beside the training")
    else:
        import torch

        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        ids = [v.strip() for v in visible.split(",") if v.strip()] if visible else \
            [str(i) for i in range(torch.cuda.device_count())]
        used = torch.cuda.current_device() if world == 1 else None
        spare = [d for i, d in enumerate(ids) if used is not None and i != used]
        if spare:
            plan = (True, {"CUDA_VISIBLE_DEVICES": spare[0]}, f"vLLM scores on the spare GPU {spare[0]}")
        else:
            plan = (False, {}, "vLLM's gpu_memory_utilization=0.75 (METHODS c.5) does not fit beside the "
                               "training on its GPU: the checkpoints are scored after the last epoch")
    if forced:
        return forced == "1", plan[1], f"{OVERLAP_ENV}={forced}"
    return plan


def checkpoint_window() -> int:
    """Unscored checkpoints that may exist at once when scoring cannot overlap training (one GPU)."""
    raw = os.environ.get(WINDOW_ENV, "").strip()
    if not raw:
        return DEFAULT_WINDOW
    try:
        w = int(raw)
    except ValueError:
        w = 0
    if w < 1:
        raise ParameterError(WINDOW_ENV, f"got {raw!r}", "an integer >= 1 (checkpoints kept at once)")
    return w


def _to_host(model, optimizer) -> tuple:
    """Move the model's parameters and the optimizer's GPU tensors to host memory, in place (the optimizer
    keeps its parameter objects); returns what :func:`_back` needs to restore them."""
    import torch

    device = next(model.parameters()).device
    model.to("cpu")
    moved = []
    if optimizer is not None:
        for st in optimizer.state.values():
            for k, v in list(st.items()):
                if torch.is_tensor(v) and v.device.type == "cuda":
                    moved.append((st, k, v.device))
                    st[k] = v.to("cpu")
    return device, moved


def _back(model, saved: tuple) -> None:
    device, moved = saved
    model.to(device)
    for st, k, dev in moved:
        st[k] = st[k].to(dev)


def checkpoint_dtype(engine: str, device_class: str) -> str:
    """bf16 checkpoints for vLLM on CUDA (what it evaluates in); otherwise the training weights' fp32."""
    return "bfloat16" if engine == "vllm" and device_class == "cuda" else "float32"


def write_checkpoint(model, tokenizer, out: Path, dtype: str = "float32") -> Path:
    """Save ``model`` (and tokenizer) as a safetensors folder, atomically (``out.tmp`` then rename).

    ``dtype="bfloat16"`` casts a copy of each tensor (the training weights stay fp32); the config
    says bfloat16. Tied weights are saved once.
    """
    import torch

    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    state = None
    if dtype != "float32":
        target, cast = getattr(torch, dtype), {}
        state = {}
        for k, v in model.state_dict().items():  # tied tensors stay one tensor, so they are saved once
            ptr = (v.data_ptr(), tuple(v.shape))
            if ptr not in cast:
                cast[ptr] = v.detach().to(target)
            state[k] = cast[ptr]
    model.save_pretrained(tmp, state_dict=state, safe_serialization=True)
    if state is not None:  # the config names the dtype the weights are stored in
        cfg_file = tmp / "config.json"
        cfg = json.loads(cfg_file.read_text())
        cfg["dtype"] = dtype
        cfg_file.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    if tokenizer is not None:
        tokenizer.save_pretrained(tmp)
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    return out


def folder_weight_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).glob("*.safetensors")) or \
        sum(p.stat().st_size for p in Path(path).glob("*.bin"))


def _atomic_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj))
    os.replace(tmp, path)


def _pdeathsig():  # pragma: no cover - runs in the child
    """Linux: the scoring process gets SIGKILL when the thread that started it ends (kill -9 of the
    training process included), so no orphan keeps a GPU or writes after a resume started."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class EpochEvaluator:
    """Checkpoint-per-epoch evaluation of one training run (see the module docstring).

    ``hook`` is the training loop's ``eval_hook``; it writes the checkpoint, queues its scoring and
    returns no rows. :meth:`finish` waits for every epoch's rows and returns them all.
    """

    def __init__(self, work: Path, suites: Sequence[str], *, engine: str, model_path: Path, epochs: int,
                 limit: int | None, seed: int, device_class: str, keep_checkpoints: bool,
                 base_eval: Callable[[Callable], Callable] | None = None, main: bool = True,
                 world: int = 1, progress: bool = True, config: dict | None = None):
        if engine not in CHECKPOINT_ENGINES:
            raise ParameterError("eval_engine", f"{engine!r} does not evaluate from checkpoints",
                                 ", ".join(CHECKPOINT_ENGINES))
        self.work, self.suites, self.engine = Path(work), list(suites), engine
        self.model_path, self.epochs, self.limit, self.seed = Path(model_path), epochs, limit, seed
        self.device_class, self.keep, self.main, self.progress = device_class, keep_checkpoints, main, progress
        self.dir = self.work / DIR
        self.rows_dir, self.tasks_dir, self.logs_dir = self.dir / "rows", self.dir / "tasks", self.dir / "logs"
        self.ckpt_dir = self.work / CKPT_DIR
        self.overlap, self.env, self.why = overlap_plan(engine, device_class, world)
        self.ckpt_dtype = checkpoint_dtype(engine, device_class)
        # one GPU, no overlap: a rolling window of unscored checkpoints (see the module docstring)
        self.window = checkpoint_window() if not self.overlap and world == 1 else None
        self.optimizer = None  # bound by the training loop (bind_optimizer), moved to host while scoring
        self.max_checkpoints = 0  # the most checkpoints that existed at once (reported in the log)
        self._pool: ThreadPoolExecutor | None = None
        self._jobs: dict[int, Future] = {}
        self.items: dict[int, list[dict]] = {}  # epoch 0's per-item rows, as the shared base eval hands them

        def score_base(model, tokenizer, epoch: int) -> list[dict]:
            return self._score_base(model, tokenizer, epoch)

        score_base.items = self.items  # read and filled by training.shared_base_eval
        self._base = base_eval(score_base) if base_eval is not None else score_base
        if main:
            self._prepare(config or {})

    # ---------------------------------------------------------------- paths
    def rows_file(self, epoch: int) -> Path:
        return self.rows_dir / f"epoch_{epoch:02d}.json"

    def ckpt(self, epoch: int) -> Path:
        return self.ckpt_dir / f"epoch_{epoch:02d}"

    def items_file(self, epoch: int) -> Path:
        return items_path(self.rows_file(epoch))

    def _epochs_in(self, folder: Path, pattern: str) -> list[int]:
        out = []
        for p in folder.glob(pattern):
            stem = p.name.split(".")[0]
            if p.name.endswith(".tmp") or not stem.startswith("epoch_"):
                continue
            try:
                out.append(int(stem[6:]))
            except ValueError:
                pass
        return sorted(out)

    # ---------------------------------------------------------------- resume
    def _prepare(self, config: dict) -> None:
        """Keep what a killed call left that is still valid; drop what will be redone."""
        stamp = self.dir / "config.json"
        want = json.dumps({"engine": self.engine, "suites": self.suites, "limit": self.limit, "seed": self.seed,
                           "epochs": self.epochs, **config}, sort_keys=True, default=str)
        if stamp.exists() and stamp.read_text() != want:  # an --out folder reused with other settings
            shutil.rmtree(self.dir)
        for d in (self.rows_dir, self.tasks_dir, self.logs_dir, self.ckpt_dir):
            d.mkdir(parents=True, exist_ok=True)
        stamp.write_text(want)
        for p in list(self.ckpt_dir.glob("*.tmp")) + list(self.rows_dir.glob("*.tmp")):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
        if self.trained_dir.joinpath("summary.json").exists():
            done = self.epochs  # training finished: every epoch's checkpoint or rows are there
        else:
            state = find_state(self.work)
            done = json.loads((state / PROGRESS).read_text())["epoch"] if state is not None else -1
        for e in self._epochs_in(self.rows_dir, "epoch_*.json"):
            if e > done:
                self.rows_file(e).unlink(missing_ok=True)
        for e in self._epochs_in(self.ckpt_dir, "epoch_*"):
            if e > done:
                shutil.rmtree(self.ckpt(e), ignore_errors=True)
            elif self.rows_file(e).exists() and not self.keep:
                shutil.rmtree(self.ckpt(e), ignore_errors=True)  # killed between storing rows and removing
        self.left_over = [e for e in self._epochs_in(self.ckpt_dir, "epoch_*")
                          if e >= 1 and not self.rows_file(e).exists()]
        if self.left_over and self.progress:
            say_to_stderr(f"[train] {len(self.left_over)} checkpoint(s) of a killed run still to score: "
                 f"epochs {', '.join(map(str, self.left_over))}")
        if self.overlap:
            for e in self.left_over:
                self._submit(e)
        if self.progress:
            mode = "overlapping training" if self.overlap else "after the last epoch"
            say_to_stderr(f"[train] eval_engine {self.engine}: each epoch is scored in its own process, {mode} ({self.why})")

    def disk_bytes(self) -> int:
        """Disk the checkpoints need at once: one or two while overlapping, every epoch's otherwise."""
        if self.keep:  # train_run's own check counts every kept checkpoint already
            return 0
        per = fp32_weight_bytes(self.model_path) // (2 if self.ckpt_dtype == "bfloat16" else 1)
        return per * (2 if self.overlap else (self.window or self.epochs))

    def bind_optimizer(self, optimizer) -> None:
        """The training loop's optimizer, whose state goes to host memory while checkpoints are scored."""
        self.optimizer = optimizer

    def _waiting(self) -> list[int]:
        return [e for e in self._epochs_in(self.ckpt_dir, "epoch_*") if e >= 1 and not self.rows_file(e).exists()]

    def _drain(self, model) -> None:
        """Score every waiting checkpoint now, with the training state moved off the GPU meanwhile."""
        import gc

        import torch

        t0 = time.perf_counter()
        saved = None
        if next(model.parameters()).device.type == "cuda":
            saved = _to_host(model, self.optimizer)
            gc.collect()
            torch.cuda.empty_cache()
        moved = time.perf_counter() - t0
        try:
            for e in self._waiting():
                self._score_epoch(e)
        finally:
            t1 = time.perf_counter()
            if saved is not None:
                _back(model, saved)
            moved += time.perf_counter() - t1
        if self.progress:
            say_to_stderr(f"[train] checkpoint window {self.window}: scored and removed the waiting checkpoint(s); "
                 f"training state to host and back in {moved:.1f} s")

    # ---------------------------------------------------------------- the hook
    def hook(self, model, tokenizer, epoch: int) -> list:
        """The training loop's eval_hook: epoch 0 is scored now (from the student's folder, shared by
        every run through the store); later epochs are checkpointed and queued. Returns no rows."""
        if not self.main:
            return []
        self._raise_failed()
        if epoch == 0:
            if not self.rows_file(0).exists():
                rows = rows_from_hook(self._base(model, tokenizer, 0), 0)
                if self.items.get(0):
                    write_items(self.items_file(0), self.items.pop(0))
                _atomic_json(self.rows_file(0), rows)
            return []
        t0 = time.perf_counter()
        write_checkpoint(model, tokenizer, self.ckpt(epoch), self.ckpt_dtype)
        self.rows_file(epoch).unlink(missing_ok=True)  # a retrained epoch: its old rows are stale
        self.max_checkpoints = max(self.max_checkpoints, len(self._epochs_in(self.ckpt_dir, "epoch_*")))
        drain = self.window is not None and len(self._waiting()) >= self.window
        if self.progress:
            when = ("now, in the background" if self.overlap else "now, training paused" if drain
                    else "after training" if self.window is None else "when the window is full")
            say_to_stderr(f"[train] epoch {epoch}: checkpoint written in {time.perf_counter() - t0:.1f} s "
                 f"({self.ckpt_dtype}), scoring {when}")
        if self.overlap:
            self._submit(epoch)
        elif drain:
            self._drain(model)
        return []

    def _score_base(self, model, tokenizer, epoch: int) -> list[dict]:
        """Epoch 0: the untouched student, scored out of process from its own folder (synchronously)."""
        f = self.dir / "base.json"
        f.unlink(missing_ok=True)
        self._run_scorer(self.model_path, 0, f, self.tasks_dir / "base")
        rows = json.loads(f.read_text())
        if items_path(f).exists():
            import pandas as pd

            self.items[0] = pd.read_csv(items_path(f)).to_dict("records")
            items_path(f).unlink()
        f.unlink(missing_ok=True)
        return rows

    # ---------------------------------------------------------------- the pool of one
    def _submit(self, epoch: int) -> None:
        if epoch in self._jobs:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="resurface-epocheval")
        self._jobs[epoch] = self._pool.submit(self._score_epoch, epoch)

    def _raise_failed(self) -> None:
        for epoch, job in sorted(self._jobs.items()):
            if job.done() and job.exception() is not None:
                self._shutdown()
                raise job.exception()

    def _score_epoch(self, epoch: int) -> None:
        if self.rows_file(epoch).exists():
            return
        t0 = time.perf_counter()
        self._run_scorer(self.ckpt(epoch), epoch, self.rows_file(epoch), self.tasks_dir / f"epoch_{epoch:02d}")
        if not self.keep:
            shutil.rmtree(self.ckpt(epoch), ignore_errors=True)
        if self.progress:
            say_to_stderr(f"[train] epoch {epoch} scored by {self.engine} in {time.perf_counter() - t0:.1f} s")

    def scorer_command(self, model: Path, epoch: int, rows: Path, resume: Path) -> list[str]:
        cmd = [sys.executable, "-m", "resurface.train.epocheval", "score", "--model", str(model),
               "--engine", "vllm" if self.engine == "vllm" else "hf", "--epoch", str(epoch),
               "--seed", str(self.seed), "--rows", str(rows), "--resume-dir", str(resume),
               "--device", self.device_class]
        for s in self.suites:
            cmd += ["--suite", s]
        if self.limit:
            cmd += ["--limit", str(self.limit)]
        return cmd

    def _run_scorer(self, model: Path, epoch: int, rows: Path, resume: Path) -> None:
        cmd = self.scorer_command(model, epoch, rows, resume)
        env = dict(os.environ, PYTHONHASHSEED=str(self.seed), **self.env)
        if self.engine == "vllm":
            env.update(VLLM_ENV)
        log = self.logs_dir / f"epoch_{epoch:02d}.log"
        with open(log, "w") as out:
            proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    preexec_fn=_pdeathsig if sys.platform.startswith("linux") else None)
            rc = proc.wait()
        if rc != 0 or not rows.exists():
            tail = log.read_text(errors="replace")[-2000:]
            raise ResurfaceError(f"scoring epoch {epoch} with {self.engine} failed (exit {rc}); the checkpoint "
                                 f"{model} is kept and a rerun scores it. Log {log}:\n{tail}")

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    # ---------------------------------------------------------------- after training
    @property
    def trained_dir(self) -> Path:
        return self.dir / "trained"

    def trained_result(self):
        """The TrainResult of a training that finished before a kill (only scoring was left), or None."""
        import pandas as pd

        f = self.trained_dir / "summary.json"
        if not f.exists():
            return None
        return TrainResult(results=pd.DataFrame({"epoch": pd.Series([], dtype="int64")}),
                           losses=pd.read_csv(self.trained_dir / "losses.csv"),
                           summary=json.loads(f.read_text()))

    def mark_trained(self, result, model, tokenizer, final_model: bool) -> None:
        """Training finished: keep its losses and summary (and ``final_model/``), then free the GPU."""
        if not self.main:
            return
        if final_model:
            write_checkpoint(model, tokenizer, self.work / "final_model", "float32")
        tmp = self.trained_dir.with_name("trained.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        result.losses.to_csv(tmp / "losses.csv", index=False)
        (tmp / "summary.json").write_text(json.dumps(result.summary, default=str))
        shutil.rmtree(self.trained_dir, ignore_errors=True)
        os.replace(tmp, self.trained_dir)
        try:  # the scoring processes get the GPU memory the training held
            import gc

            import torch

            model.to("cpu")
            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except Exception:  # pragma: no cover - best effort
            pass

    def finish(self) -> list[dict]:
        """Score every checkpoint still without rows (one process at a time), then return the rows of
        epochs 0..epochs in order."""
        if not self.main:
            return []
        try:
            for e in self._epochs_in(self.ckpt_dir, "epoch_*"):
                if e >= 1 and not self.rows_file(e).exists():
                    self._submit(e)
            for epoch, job in sorted(self._jobs.items()):
                job.result()  # raises the scorer's error
        finally:
            self._shutdown()
        rows: list[dict] = []
        missing = []
        for e in range(self.epochs + 1):
            f = self.rows_file(e)
            if not f.exists():
                missing.append(e)
                continue
            rows += json.loads(f.read_text())
            if self.items_file(e).exists():  # the per-item rows, where the in-process path writes them
                (self.work / "items").mkdir(exist_ok=True)
                shutil.copyfile(self.items_file(e), self.work / "items" / f"epoch_{e:02d}.csv.gz")
        if missing:
            raise ResurfaceError(f"epochs {missing} have neither rows nor a checkpoint in {self.work}; delete "
                                 "that folder to train the run again")
        shutil.rmtree(self.tasks_dir, ignore_errors=True)
        return rows


def items_path(rows: Path) -> Path:
    """Where the scorer writes the per-item rows of ``rows`` (``epoch_XX.json`` -> ``epoch_XX.items.csv.gz``)."""
    rows = Path(rows)
    return rows.with_name(rows.name.rsplit(".", 1)[0] + ".items.csv.gz")


def for_run(work: Path, suites: Sequence[str], **kw) -> EpochEvaluator:
    """The evaluator of one training run (``train_run``'s hook); checks the disk its checkpoints need."""
    ev = EpochEvaluator(work, suites, **kw)
    if ev.main and ev.trained_result() is None:
        policy = ("overlapping" if ev.overlap else f"a window of {ev.window} at once" if ev.window
                  else "all kept until training ends")
        check_free_space(ev.work, ev.disk_bytes(), f"per-epoch checkpoints for {ev.engine} scoring ({policy})")
    return ev


# ------------------------------------------------------------------------------ the scoring process
def score(model: str | Path, suites: Sequence[str], *, engine: str, epoch: int, seed: int, limit: int | None,
          device: str, rows: Path, resume_dir: Path | None = None) -> list[dict]:
    """Score one model folder on ``suites`` and write the tidy rows (with ``epoch``) to ``rows``.

    ``hf``: the very code path of the in-process hook (:func:`resurface.evaluate.evaluation.make_eval_hook` on
    the loaded model), so its rows equal in-process rows for the same weights. ``vllm``: lm-eval's
    vLLM backend with the c.5 arguments, one task at a time, finished tasks kept in ``resume_dir``.
    A file lock on ``rows`` keeps two processes from scoring the same epoch.
    """
    from filelock import FileLock

    rows = Path(rows)
    rows.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(rows) + ".lock"):
        if rows.exists():
            return json.loads(rows.read_text())
        items: list[dict] = []
        if engine == "vllm":
            lm = vllm_lm(model, seed=seed)
            out: list[dict] = []
            for s in suites:
                rd = Path(resume_dir) / s if resume_dir else None
                out += evaluate_lm(lm, s, limit=limit, seed=seed, epoch=epoch, resume_dir=rd,
                                   items=items).to_dict("records")
        elif engine == "hf":
            m, tok = models.load_model(str(model), device=device, dtype="float32" if device == "cpu" else "auto")
            hook = evaluation.make_eval_hook(list(suites), limit=limit, seed=seed)
            out = hook(m, tok, epoch)
            items = hook.items.pop(epoch, [])
        else:
            raise ParameterError("engine", f"unknown scoring engine {engine!r}", "hf, vllm")
        result = rows_from_hook(out, epoch)

        write_items(items_path(rows), [{**r, "epoch": epoch} for r in items])  # before the rows: they mark done
        _atomic_json(rows, result)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m resurface.train.epocheval",
                                description="score one checkpoint of a training run (started by the run)")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("score", help="score a model folder on suites and write tidy rows as JSON")
    s.add_argument("--model", required=True)
    s.add_argument("--suite", action="append", required=True)
    s.add_argument("--engine", choices=["hf", "vllm"], required=True)
    s.add_argument("--epoch", type=int, required=True)
    s.add_argument("--seed", type=int, default=42)
    s.add_argument("--limit", type=int, default=None)
    s.add_argument("--device", default="cpu")
    s.add_argument("--rows", required=True)
    s.add_argument("--resume-dir", default=None)
    a = p.parse_args(argv)
    try:
        score(a.model, a.suite, engine=a.engine, epoch=a.epoch, seed=a.seed, limit=a.limit, device=a.device,
              rows=Path(a.rows), resume_dir=Path(a.resume_dir) if a.resume_dir else None)
    except ResurfaceError as exc:
        print(f"resurface epocheval: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
