"""Evaluation with lm-evaluation-harness, in-process, on an already-loaded model.

The training loop evaluates the student at epoch 0 and after every epoch (:func:`make_eval_hook`);
the model is wrapped once in lm-eval's ``HFLM(pretrained=model, tokenizer=tok)`` and never
reloaded, and lm-eval's task index is built once per process. Results are tidy rows, one per
(run, epoch, suite, task, metric): ``run, epoch, suite, task, label, role, num_fewshot, metric,
value, stderr, n, primary``.

- Shots are passed explicitly: the tasks of a suite are grouped by shot count and
  ``simple_evaluate`` is called once per group, with all four seeds (python, numpy, torch, few-shot
  sampler) set to ``seed``, so a suite's results are deterministic for a fixed seed.
- ``stderr`` is lm-eval's closed-form standard error of the mean (every metric here is a mean;
  ``bootstrap_iters`` only matters for non-mean metrics). With ``bootstrap_iters=0`` it is NaN.
- Suites with ``unsafe_code=True`` (course, smoke, paper-zero-shot) **execute model-written code**:
  for them alone ``HF_ALLOW_CODE_EVAL=1`` is set while lm-eval runs (and restored afterwards) and
  ``confirm_run_unsafe_code=True`` is passed; the programs run in :mod:`resurface.evaluate.codeexec`.
- The paper profile can use vLLM (``engine="vllm"`` in :func:`evaluate`) with the arguments of the
  reference code's evaluate.sh (METHODS.md c.5) when vllm is installed.
- Resume: the store-backed stage (:func:`evaluate`, ``resurface evaluate``) evaluates a suite one task
  at a time and keeps each finished task's rows in ``tasks/NN-<task>.json`` inside its work folder; a
  run that was killed skips those tasks when rerun and ends with the results of an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import shutil
import sys
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable

from resurface import models
from resurface.artifacts import Store, canonical_json, environment_versions
from resurface.device import dtype_key, resolve_device
from resurface.errors import ParameterError, ResurfaceError, check_int
from resurface.evaluate.coursetasks import task_dir
from resurface.evaluate.suites import SUITES, Suite, get_suite
from resurface.evaluate.taskindex import get_task_manager  # noqa: F401 (the lm-eval task index, used here and re-exported)
from resurface.identity import key_name, model_identity
from resurface.models import local_path
from resurface.quiet import quiet_logger

STAGE = "evaluate"
STAGE_VERSION = 4  # 2: one simple_evaluate call per task (resumable per task)
# 3: content identity of model folders, no paths in keys
# 4: items.csv.gz (per-item values), 480-item course pools, logp_gold_norm and *_bpb companion tasks
RESUME_DIR = "tasks"  # inside the stage's work folder: one JSON file of rows per finished task
RUN_FILE = "run.json"  # inside RESUME_DIR: the config the finished tasks were evaluated with
COLUMNS = ["run", "epoch", "suite", "task", "label", "role", "num_fewshot", "metric", "value", "stderr", "n",
           "primary"]
ITEM_COLUMNS = ["run", "epoch", "suite", "task", "item", "metric", "value"]
ITEMS_FILE = "items.csv.gz"  # per-item values of every metric (lm-eval's logged samples), beside results.csv
ENGINES = ("hf", "vllm")
BOOTSTRAP_ITERS = 100  # closed-form stderr for mean metrics; bootstraps only non-mean ones
# METHODS.md c.5: lm-eval's vllm backend as the reference code's evaluate.sh calls it
VLLM_ARGS = {"dtype": "bfloat16", "max_model_len": 4096, "gpu_memory_utilization": 0.75}

# ------------------------------------------------------------------------------ lm-eval plumbing
def default_batch_size(model) -> int | str:
    """``"auto"`` on an accelerator (lm-eval probes the largest batch); on CPU 32, or 16 for a
    vocabulary above 100k tokens.

    On CPU lm-eval's auto probe runs a full-context forward pass at batch 64, which takes minutes.
    Greedy generation on CPU is dominated by per-step overhead, so one batch of 32 beats two of 16
    (SmolLM2 course suite: 57 s vs 70 s on one thread); log-likelihood requests materialise
    batch x length x vocabulary log-probabilities, so Gemma-3's 262k vocabulary stays at 16.
    """
    dev = getattr(model, "device", None)
    if dev is not None and getattr(dev, "type", "cpu") != "cpu":
        return "auto"
    vocab = getattr(getattr(model, "config", None), "vocab_size", 0) or 0
    return 16 if vocab > 100_000 else 32


def _validate_batch_size(batch_size: int | str | None) -> None:
    if batch_size is None:
        return
    if isinstance(batch_size, bool) or not (
            (isinstance(batch_size, int) and batch_size > 0)
            or (isinstance(batch_size, str) and (batch_size == "auto" or batch_size.startswith("auto:")))):
        raise ParameterError("batch_size", f"invalid value {batch_size!r}", "an integer > 0, 'auto', 'auto:N'")


def hf_lm(model, tokenizer, batch_size: int | str | None = None):
    """lm-eval's HFLM (as :class:`resurface.evaluate.lmbackend.ResurfaceHFLM`: one forward pass per distinct
    context for log-likelihood requests) around an in-memory model, created once per (model,
    tokenizer, batch size).

    The wrapper is kept on the model object itself, so it lives exactly as long as the model and the
    training loop's epochs all reuse it (the weights are shared, never copied or reloaded).
    """
    from resurface.evaluate.lmbackend import ResurfaceHFLM

    _validate_batch_size(batch_size)
    bs = default_batch_size(model) if batch_size is None else batch_size
    cache = model.__dict__.setdefault("_resurface_hflm", {})
    key = (id(tokenizer), str(bs))
    if key not in cache:
        was_training = model.training
        with quiet_lm_eval():
            cache[key] = ResurfaceHFLM(pretrained=model, tokenizer=tokenizer, batch_size=bs)
        model.train(was_training)  # HFLM puts the model in eval mode; evaluate_lm does that per call
    return cache[key]


def vllm_model_args(path: str | Path, seed: int = 42, batch_size: int | str = "auto") -> dict:
    """The keyword arguments of lm-eval's ``VLLM`` class for a model folder (c.5: ``pretrained=<ckpt>,
    dtype=bfloat16,max_model_len=4096,gpu_memory_utilization=0.75,seed=42``, ``batch_size auto``).
    ``gpu_memory_utilization`` is not a parameter of ``VLLM.__init__``: it reaches ``vllm.LLM`` through
    its ``**kwargs`` (tests/test_epocheval.py checks both against lm-eval's source)."""
    return {"pretrained": str(path), "seed": seed, "batch_size": batch_size, **VLLM_ARGS}


def vllm_lm(path: str | Path, seed: int = 42, batch_size: int | str = "auto"):
    """lm-eval's vLLM backend for a model folder, with the reference code's arguments (c.5)."""
    if importlib.util.find_spec("vllm") is None:
        raise ParameterError("engine", "'vllm' was asked for but the vllm package is not installed "
                             "(pip install 'resurface[vllm]' on a CUDA machine)", "hf")
    from lm_eval.api.registry import get_model

    return get_model("vllm")(**vllm_model_args(path, seed, batch_size))


@contextlib.contextmanager
def quiet_lm_eval():
    """lm-eval logs every task and seed at INFO/WARNING; keep errors only unless LMEVAL_LOG_LEVEL."""
    if os.environ.get("LMEVAL_LOG_LEVEL"):
        yield
        return
    with quiet_logger("lm_eval"):
        yield


@contextlib.contextmanager
def no_env_info():
    """Skip lm-eval's environment report: ``simple_evaluate`` runs ``pip list`` and torch's
    ``collect_env`` in subprocesses for every call (about 0.6 s each on 2 cores, three calls per course
    run); the store records the package versions of every artifact instead (:mod:`resurface.artifacts`)."""
    import lm_eval.evaluator as ev

    saved = ev.add_env_info
    ev.add_env_info = lambda results: None
    try:
        yield
    finally:
        ev.add_env_info = saved


@contextlib.contextmanager
def _code_eval_env(allowed: bool):
    """Set HF_ALLOW_CODE_EVAL=1 only for suites that opt in; restore the previous value after."""
    old = os.environ.get("HF_ALLOW_CODE_EVAL")
    if allowed:
        os.environ["HF_ALLOW_CODE_EVAL"] = "1"
    else:
        os.environ.pop("HF_ALLOW_CODE_EVAL", None)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("HF_ALLOW_CODE_EVAL", None)
        else:
            os.environ["HF_ALLOW_CODE_EVAL"] = old


# Python packages some lm-eval tasks import when they are built (lm-eval extras)
TASK_REQUIREMENTS: dict[str, tuple[tuple[str, ...], str]] = {
    "minerva_math": (("sympy", "math_verify", "antlr4"),
                     "pip install 'lm-eval[math]' (math-verify, sympy, antlr4-python3-runtime==4.11)"),
}


def check_requirements(suite: "str | Suite") -> None:
    """Fail early, naming the install command, when a suite's tasks need packages that are missing."""
    s = _as_suite(suite)
    for t in s.tasks:
        if t.task in TASK_REQUIREMENTS:
            modules, fix = TASK_REQUIREMENTS[t.task]
            missing = [m for m in modules if importlib.util.find_spec(m) is None]
            if missing:
                raise ResurfaceError(f"suite {s.name!r}: task {t.task} needs the Python packages {missing}; {fix}")


def _validate(limit: int | None, seed: int) -> int | None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ParameterError("limit", f"invalid value {limit!r}", "None or 0 (every item), or an integer > 0")
    check_int("seed", seed, 0)
    return limit or None


def _float(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _n_items(res: dict, task: str) -> float:
    ns = res.get("n-samples", {})
    if task in ns:
        return float(ns[task].get("effective", ns[task].get("original", math.nan)))
    leaves = _leaves(res.get("group_subtasks", {}), task)
    counts = [ns[t].get("effective", 0) for t in leaves if t in ns]
    return float(sum(counts)) if counts else math.nan


def _leaves(group_subtasks: dict, name: str) -> list[str]:
    if name not in group_subtasks:
        return [name]
    out = []
    for child in group_subtasks[name]:
        out += _leaves(group_subtasks, child)
    return out


def tidy_results(res: dict, suite: Suite, specs, *, run: str = "", epoch: int | None = None) -> list[dict]:
    """Rows of one ``simple_evaluate`` result for the suite's ``specs`` (one row per metric)."""
    rows = []
    for spec in specs:
        task_res = res["results"].get(spec.task)
        if task_res is None:
            raise ParameterError("suite", f"lm-eval returned no result for task {spec.task!r} "
                                 f"(got {sorted(res['results'])})")
        for key in spec.metrics:
            if key not in task_res:
                raise ParameterError("metrics", f"{spec.task} reported no {key!r} (reported: "
                                     f"{sorted(k for k in task_res if k != 'alias')})")
            metric, flt = key.split(",", 1)
            rows.append({
                "run": run, "epoch": epoch, "suite": suite.name, "task": spec.task, "label": spec.label,
                "role": spec.role, "num_fewshot": spec.num_fewshot, "metric": key,
                "value": _float(task_res[key]), "stderr": _float(task_res.get(f"{metric}_stderr,{flt}")),
                "n": _n_items(res, spec.task), "primary": key == spec.primary,
            })
    return rows


def item_rows(res: dict, suite: Suite, specs, *, run: str = "", epoch: int | None = None) -> list[dict]:
    """Per-item rows of one ``simple_evaluate(..., log_samples=True)`` result: one row per (task,
    item, metric) with the metric keys of ``specs`` (``<metric>,<filter>``, as in the tidy rows).

    ``item`` is lm-eval's ``doc_id``: the item's index in the task's test file (the same index at
    every epoch and in every run, so per-item values pair across runs).
    """
    rows = []
    samples = res.get("samples") or {}
    for spec in specs:
        wanted = set(spec.metrics)
        for smp in samples.get(spec.task, []):
            flt = smp.get("filter", "none")
            for m in smp.get("metrics", []):
                key = f"{m},{flt}"
                if key in wanted:
                    rows.append({"run": run, "epoch": epoch, "suite": suite.name, "task": spec.task,
                                 "item": int(smp["doc_id"]), "metric": key, "value": _float(smp.get(m))})
    return rows


def write_items(path: str | Path, rows) -> Path:
    """Write per-item rows (dicts or a DataFrame with :data:`ITEM_COLUMNS`) as a gzipped CSV, atomically."""
    import pandas as pd

    path = Path(path)
    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows), columns=ITEM_COLUMNS)
    tmp = path.with_name(path.name + ".tmp")
    df.reindex(columns=ITEM_COLUMNS).to_csv(tmp, index=False, compression="gzip")
    os.replace(tmp, path)
    return path


def read_items(folder: str | Path) -> "pandas.DataFrame":  # noqa: F821
    """The per-item values of an evaluation or training artifact folder.

    Reads ``items.csv.gz`` (``resurface evaluate``) and ``items/epoch_XX.csv.gz`` (training runs, one
    file per evaluated epoch). Columns :data:`ITEM_COLUMNS`: run, epoch, suite, task, item (lm-eval's
    doc_id, the index in the task's test file), metric (``<metric>,<filter>``) and value.
    """
    import pandas as pd

    folder = Path(folder)
    files = ([folder / ITEMS_FILE] if (folder / ITEMS_FILE).exists() else []) + \
        sorted((folder / "items").glob("epoch_*.csv.gz"))
    if not files:
        return pd.DataFrame(columns=ITEM_COLUMNS)
    df = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    return df.reindex(columns=ITEM_COLUMNS)


# ------------------------------------------------------------------------------ evaluation
def _as_suite(suite: "str | Suite") -> Suite:
    if isinstance(suite, Suite):
        return suite
    return get_suite(suite)


def _task_file(resume_dir: Path, index: int, task: str) -> Path:
    return resume_dir / f"{index:02d}-{task}.json"


def _read_task_rows(path: Path) -> list[dict] | None:
    """The rows a finished task left in the resume folder, or None when it has not finished."""
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _write_task_rows(path: Path, rows: list[dict]) -> None:
    """Write a task's rows atomically (a kill leaves either the whole file or none)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(rows))  # NaN is kept as NaN; floats round-trip exactly
    os.replace(tmp, path)


def evaluate_lm(lm, suite: "str | Suite", *, limit: int | None = None, seed: int = 42, run: str = "",
                epoch: int | None = None, bootstrap_iters: int = BOOTSTRAP_ITERS,
                model=None, resume_dir: str | Path | None = None,
                items: list | None = None) -> "pandas.DataFrame":  # noqa: F821
    """Evaluate any lm-eval LM (HFLM, vLLM) on a suite (a name or a Suite); a tidy DataFrame.

    ``items``: a list that receives the per-item rows (:func:`item_rows`, from lm-eval's logged
    samples); None: samples are not logged.

    ``model``, when given, is put in eval mode for the run and its train/eval mode restored after.
    Without ``resume_dir`` the tasks are grouped by shot count (one ``simple_evaluate`` call each).
    With it, every task is evaluated on its own and its rows are saved in ``resume_dir`` as soon as
    it finishes; tasks whose rows are already there are not evaluated again.
    """
    import pandas as pd
    import torch
    from lm_eval import simple_evaluate

    s = _as_suite(suite)
    limit = _validate(limit, seed)
    check_int("bootstrap_iters", bootstrap_iters, 0)
    check_requirements(s)
    tm = get_task_manager(s.offline)
    if resume_dir is None:
        by_shots: OrderedDict[int, list] = OrderedDict()
        for spec in s.tasks:
            by_shots.setdefault(spec.num_fewshot, []).append(spec)
        groups = [(None, specs) for specs in by_shots.values()]
    else:
        resume_dir = Path(resume_dir)
        resume_dir.mkdir(parents=True, exist_ok=True)
        groups = [(_task_file(resume_dir, i, spec.task), [spec]) for i, spec in enumerate(s.tasks)]
        done = sum(_read_task_rows(f) is not None for f, _ in groups)
        if done:
            print(f"[evaluate] resuming: {done} of {len(groups)} tasks already done", file=sys.stderr, flush=True)

    # The HumanEval variant sets top_k: 0 (transformers: no top-k); vLLM wants -1 for that (some
    # versions reject 0). Greedy tasks ignore top_k, so the override is harmless for them.
    gen_kwargs = {"top_k": -1} if type(lm).__name__ == "VLLM" else None
    was_training = getattr(model, "training", False)
    if model is not None:
        model.eval()
    rows: list[dict] = []
    try:
        with _code_eval_env(s.unsafe_code), quiet_lm_eval(), no_env_info(), torch.no_grad():
            for saved, specs in groups:
                if saved is not None and (old := _read_task_rows(saved)) is not None:
                    rows += old
                    if items is not None:
                        items += _read_task_rows(saved.with_suffix(".items.json")) or []
                    continue
                res = simple_evaluate(
                    model=lm, tasks=[t.task for t in specs], num_fewshot=specs[0].num_fewshot, limit=limit,
                    bootstrap_iters=bootstrap_iters, log_samples=items is not None, task_manager=tm,
                    random_seed=seed, numpy_random_seed=seed, torch_random_seed=seed,
                    fewshot_random_seed=seed, confirm_run_unsafe_code=s.unsafe_code, gen_kwargs=gen_kwargs)
                new = tidy_results(res, s, specs, run=run, epoch=epoch)
                new_items = item_rows(res, s, specs, run=run, epoch=epoch) if items is not None else []
                if saved is not None:
                    if items is not None:  # before the rows file, which marks the task done
                        _write_task_rows(saved.with_suffix(".items.json"), new_items)
                    _write_task_rows(saved, new)
                    print(f"[evaluate] task {specs[0].task} done", file=sys.stderr, flush=True)
                rows += new
                if items is not None:
                    items += new_items
    finally:
        if model is not None:
            model.train(was_training)
    return pd.DataFrame(rows, columns=COLUMNS)


def evaluate_model(model, tokenizer, suite: "str | Suite", *, limit: int | None = None, seed: int = 42,
                   batch_size: int | str | None = None, run: str = "", epoch: int | None = None,
                   resume_dir: str | Path | None = None, items: list | None = None) -> "pandas.DataFrame":  # noqa: F821
    """Evaluate an in-memory transformers model on a suite; a tidy DataFrame.

    ``limit`` caps the items per task (None or 0: all). ``batch_size`` defaults to
    :func:`default_batch_size` (32 or 16 on CPU, "auto" on GPU). The model's train/eval mode is restored
    afterwards. ``resume_dir``, ``items``: see :func:`evaluate_lm`.
    """
    _as_suite(suite)
    _validate(limit, seed)
    lm = hf_lm(model, tokenizer, batch_size)
    return evaluate_lm(lm, suite, limit=limit, seed=seed, run=run, epoch=epoch, model=model,
                       resume_dir=resume_dir, items=items)


def make_eval_hook(suites: list[str], *, limit: int | None = None, seed: int = 42,
                   batch_size: int | str | None = None,
                   run: str = "") -> Callable[[Any, Any, int], list[dict]]:
    """A per-epoch hook for the training loop: ``hook(model, tokenizer, epoch) -> rows``.

    Suite names and parameters are checked now, before any training. Each call evaluates the
    in-memory model on every suite and returns the tidy rows as dicts; the per-item rows of that
    call are kept in ``hook.items[epoch]`` (a list of dicts, :data:`ITEM_COLUMNS`), which the
    training loop writes to ``items/epoch_XX.csv.gz`` and removes.
    """
    if isinstance(suites, str):
        suites = [suites]
    if not suites:
        raise ParameterError("suites", "no suite given", ", ".join(SUITES))
    for name in suites:
        get_suite(name)
    _validate(limit, seed)
    _validate_batch_size(batch_size)

    def hook(model, tokenizer, epoch: int) -> list[dict]:
        rows: list[dict] = []
        items: list[dict] = []
        for name in suites:
            df = evaluate_model(model, tokenizer, name, limit=limit, seed=seed, batch_size=batch_size,
                                run=run, epoch=epoch, items=items)
            rows += df.to_dict("records")
        hook.items[epoch] = items
        return rows

    hook.items = {}
    return hook


# ------------------------------------------------------------------------------ store-backed stage
def _model_identity(name: str, path: Path) -> dict:
    """What identifies the evaluated weights in the artifact key: the alias or Hub id (never a folder's
    path) and :func:`resurface.identity.model_identity`."""
    return {"model": key_name(name), "identity": model_identity(name, path)}


def evaluate(model_name: str, suite: str, *, limit: int | None = None, seed: int = 42, device: str = "auto",
             dtype: str = "auto", allow_hub: bool = False, engine: str = "hf", batch_size: int | str | None = None,
             store=None, out: str | Path | None = None) -> Path:
    """Evaluate a model (alias, folder or Hub id) on a suite and write ``results.csv``.

    The result is an artifact of stage ``evaluate`` in the store (keyed by the model's identity,
    suite, limit, seed, dtype, engine and the course task folder), or the folder ``out`` when given.
    Tasks are evaluated one at a time; a killed run resumes after its last finished task.
    Returns the folder.
    """
    s = get_suite(suite)
    limit = _validate(limit, seed)
    if engine not in ENGINES:
        raise ParameterError("engine", f"unknown engine {engine!r}", ", ".join(ENGINES))
    _validate_batch_size(batch_size)
    if engine == "vllm" and importlib.util.find_spec("vllm") is None:
        raise ParameterError("engine", "'vllm' was asked for but the vllm package is not installed "
                             "(pip install 'resurface[vllm]' on a CUDA machine)", "hf")
    check_requirements(s)
    if not s.offline and not allow_hub:
        raise ParameterError("suite", f"{suite!r} reads its benchmark data from the Hugging Face Hub: pass "
                             "--allow-hub (allow_hub=True), or use an offline suite",
                             ", ".join(n for n, x in SUITES.items() if x.offline))
    path = local_path(model_name, allow_hub=allow_hub)
    config = {"model": _model_identity(model_name, path), "suite": suite, "limit": limit, "seed": seed,
              "dtype": dtype_key(dtype, resolve_device(device)) if engine == "hf" else dtype, "engine": engine,
              "batch_size": str(batch_size),
              "tasks": [(t.task, t.num_fewshot) for t in s.tasks], "task_dir": task_dir().name,
              "device": resolve_device(device) if engine == "hf" else "cuda"}

    def compute(work: Path) -> dict:
        t0 = time.time()
        resume = work / RESUME_DIR  # finished tasks survive a kill here
        stamp = resume / RUN_FILE
        if resume.exists() and (not stamp.exists() or stamp.read_text() != canonical_json(config)):
            shutil.rmtree(resume)  # tasks of another model or suite (an --out folder reused): redo
        resume.mkdir(parents=True, exist_ok=True)
        stamp.write_text(canonical_json(config))
        items: list[dict] = []  # per-item rows -> items.csv.gz
        if engine == "vllm":
            df = evaluate_lm(vllm_lm(path, seed=seed), suite, limit=limit, seed=seed, run=model_name,
                             resume_dir=resume, items=items)
        else:
            model, tok = models.load_model(str(path), device=device, dtype=dtype)
            df = evaluate_model(model, tok, suite, limit=limit, seed=seed, batch_size=batch_size, run=model_name,
                                resume_dir=resume, items=items)
        df.to_csv(work / "results.csv", index=False)
        write_items(work / ITEMS_FILE, items)
        shutil.rmtree(resume, ignore_errors=True)
        return {"eval_seconds": round(time.time() - t0, 2)}

    if out is not None:
        work = Path(out)
        work.mkdir(parents=True, exist_ok=True)
        extra = compute(work)
        (work / "meta.json").write_text(json.dumps({"stage": STAGE, "version": STAGE_VERSION, "config": config,
                                                    "versions": environment_versions(), **extra},
                                                   indent=2, default=str))
        return work
    store = store if store is not None else Store()
    return store.get_or_compute(STAGE, STAGE_VERSION, config, compute).path


def format_table(df) -> str:
    """A plain-text table of task, metric, value (± stderr), primary metrics marked with '*'."""
    lines = [f"{'task':<24} {'metric':<32} {'value':>8} {'stderr':>8}  n"]
    for r in df.itertuples():
        se = "" if math.isnan(r.stderr) else f"{r.stderr:.4f}"
        n = "" if math.isnan(r.n) else str(int(r.n))
        mark = "*" if r.primary else " "
        lines.append(f"{r.task:<24} {r.metric + mark:<32} {r.value:>8.4f} {se:>8}  {n}")
    return "\n".join(lines)


def cli(args) -> int:
    """``resurface evaluate --model M --suite NAME``: print the results table, then the folder."""
    import pandas as pd

    folder = evaluate(args.model, args.suite, limit=args.limit, seed=args.seed, device=args.device,
                      dtype=args.dtype, allow_hub=args.allow_hub, engine=getattr(args, "engine", "hf"),
                      out=args.out)
    df = pd.read_csv(folder / "results.csv")
    print(format_table(df))
    print("(* = the metric the figures plot)")
    print(folder)
    return 0
