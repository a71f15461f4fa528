"""Per-epoch evaluation out of the training process (resurface.train.epocheval), tested without a GPU.

``hf-process`` stands in for vLLM: the same orchestration (a checkpoint per epoch, a scoring process
per checkpoint, rows kept per epoch, resume after kill -9), with lm-eval's HF backend in the scoring
process, so its rows must equal the in-process path's on CPU. The vLLM arguments themselves are
checked against lm-eval's source (its model registry and ``VLLM.__init__``) without importing vllm.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from resurface.train import epocheval
from resurface.errors import ParameterError
from fakes import cli_env, kill_when

BIN = str(Path(sys.executable).with_name("resurface"))
pytestmark = pytest.mark.usefixtures("one_thread")


def _corpus(folder: Path) -> Path:
    import random

    from resurface.corpus.files import write_corpus

    rng = random.Random(0)
    words = "the quick brown fox jumps over a lazy dog while seven wizards quietly hex zebras".split()
    return write_corpus(folder, [{"text": " ".join(rng.choice(words) for _ in range(40)), "num_tokens": 40}
                                 for _ in range(45)], {})


def _train_cmd(data: Path, engine: str, epochs: int = 2) -> list[str]:
    return [BIN, "train", "--student", "tiny-llama", "--data", str(data), "--epochs", str(epochs), "--lr", "1e-3",
            "--block-size", "32", "--batch-size", "4", "--effective-batch", "4", "--device", "cpu",
            "--eval-suite", "smoke", "--eval-limit", "2", "--run-name", "r", "--eval-engine", engine]


def _run(cmd, env, timeout=600):
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"failed ({r.returncode}):\n{r.stderr[-3000:]}"
    return r


def _folder(r) -> Path:
    return Path(r.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# the engine choice, the overlap policy, checkpoints
# ---------------------------------------------------------------------------------------------
def test_vllm_without_the_package_falls_back_to_hf_in_one_line(monkeypatch):
    said = []
    monkeypatch.setattr(epocheval, "vllm_available", lambda: False)
    assert epocheval.resolve_engine("vllm", "cuda", say=said.append) == "hf"
    assert len(said) == 1 and "vllm package is not installed" in said[0] and "\n" not in said[0]
    monkeypatch.setattr(epocheval, "vllm_available", lambda: True)
    said.clear()
    assert epocheval.resolve_engine("vllm", "cpu", say=said.append) == "hf" and "CUDA" in said[0]
    assert epocheval.resolve_engine("vllm", "cuda", say=said.append) == "vllm"
    assert epocheval.resolve_engine("vllm", "cuda", has_suites=False) == "hf"  # a custom eval_hook
    assert epocheval.resolve_engine("hf-process", "cpu") == "hf-process"
    with pytest.raises(ParameterError, match="eval_engine"):
        epocheval.resolve_engine("vlm", "cpu")


def test_overlap_policy(monkeypatch):
    monkeypatch.delenv(epocheval.OVERLAP_ENV, raising=False)
    assert epocheval.overlap_plan("hf-process", "cpu")[0] is True
    monkeypatch.setenv(epocheval.OVERLAP_ENV, "0")
    assert epocheval.overlap_plan("hf-process", "cpu")[0] is False
    monkeypatch.setenv(epocheval.OVERLAP_ENV, "maybe")
    with pytest.raises(ParameterError, match=epocheval.OVERLAP_ENV):
        epocheval.overlap_plan("hf-process", "cpu")
    import torch

    monkeypatch.delenv(epocheval.OVERLAP_ENV)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")  # one GPU: vLLM's 0.75 does not fit beside training
    ok, env, why = epocheval.overlap_plan("vllm", "cuda")
    assert not ok and env == {} and "0.75" in why
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")  # a spare GPU: the scorer gets it
    assert epocheval.overlap_plan("vllm", "cuda")[:2] == (True, {"CUDA_VISIBLE_DEVICES": "5"})


def test_bf16_checkpoint_of_a_tied_model_round_trips(tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    from resurface.models import load_model

    model, tok = load_model("tiny-llama", device="cpu", dtype="float32")
    out = epocheval.write_checkpoint(model, tok, tmp_path / "epoch_01", "bfloat16")
    assert not (tmp_path / "epoch_01.tmp").exists() and (out / "model.safetensors").exists()
    assert next(model.parameters()).dtype == torch.float32  # the training weights stay fp32
    back = AutoModelForCausalLM.from_pretrained(str(out), dtype="auto")
    assert next(back.parameters()).dtype == torch.bfloat16
    for (n, p), (_, q) in zip(model.state_dict().items(), back.state_dict().items()):
        assert torch.equal(p.to(torch.bfloat16), q), n
    assert json.loads((out / "config.json").read_text()).get("dtype") == "bfloat16"
    assert (out / "tokenizer_config.json").exists()


# ---------------------------------------------------------------------------------------------
# the vLLM arguments against lm-eval (no vllm needed)
# ---------------------------------------------------------------------------------------------
def _vllm_init_source():
    """Parameters of lm-eval's VLLM.__init__ and whether it forwards **kwargs to vllm.LLM, read
    from lm-eval's source (importing the module needs vllm)."""
    spec = importlib.util.find_spec("lm_eval.models.vllm_causallms")
    assert spec is not None and spec.origin
    src = Path(spec.origin).read_text()
    tree = ast.parse(src)
    cls = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == "VLLM")
    init = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    names = {a.arg for a in init.args.args + init.args.kwonlyargs} - {"self"}
    forwards = init.args.kwarg is not None and "self.model_args.update(kwargs)" in ast.get_source_segment(src, init) \
        and "LLM(**self.model_args)" in ast.get_source_segment(src, init)
    return names, forwards


def test_vllm_model_args_match_lm_evals_registry_and_signature():
    from lm_eval.api.registry import model_registry

    import lm_eval.models  # noqa: F401  (registers the lazy placeholders)
    from resurface.evaluate.evaluation import VLLM_ARGS, vllm_model_args

    assert "vllm" in model_registry
    assert model_registry.origin("vllm") in (None, "lm_eval.models.vllm_causallms:VLLM") or \
        "vllm_causallms" in str(model_registry.origin("vllm"))
    args = vllm_model_args("/ckpt/epoch_03", seed=42)
    assert args == {"pretrained": "/ckpt/epoch_03", "seed": 42, "batch_size": "auto", "dtype": "bfloat16",
                    "max_model_len": 4096, "gpu_memory_utilization": 0.75}  # METHODS.md c.5
    names, forwards = _vllm_init_source()
    explicit = set(args) & names
    assert explicit == {"pretrained", "seed", "batch_size", "dtype", "max_model_len"}
    # the one key that is not a VLLM parameter reaches vllm.LLM (EngineArgs) through **kwargs
    assert set(args) - names == {"gpu_memory_utilization"} and forwards
    if importlib.util.find_spec("vllm") is not None:  # on a GPU machine: the real classes
        from lm_eval.api.registry import get_model
        from vllm.engine.arg_utils import EngineArgs

        sig = inspect.signature(get_model("vllm").__init__)
        assert explicit <= set(sig.parameters)
        assert "gpu_memory_utilization" in {f for f in EngineArgs.__dataclass_fields__}
    assert set(VLLM_ARGS) <= set(args)


def test_the_scoring_command_carries_the_c5_settings(tmp_path, monkeypatch):
    monkeypatch.setenv(epocheval.OVERLAP_ENV, "0")
    from resurface.models import local_path

    ev = epocheval.EpochEvaluator(tmp_path / "w", ["paper-zero-shot"], engine="vllm", model_path=local_path("tiny-llama"),
                                  epochs=3, limit=None, seed=42, device_class="cuda", keep_checkpoints=False,
                                  progress=False)
    cmd = ev.scorer_command(ev.ckpt(2), 2, ev.rows_file(2), tmp_path / "t")
    assert cmd[1:4] == ["-m", "resurface.train.epocheval", "score"]
    assert cmd[cmd.index("--engine") + 1] == "vllm" and cmd[cmd.index("--model") + 1].endswith("epoch_02")
    assert "--limit" not in cmd and cmd[cmd.index("--seed") + 1] == "42"
    assert ev.ckpt_dtype == "bfloat16" and epocheval.VLLM_ENV == {"CUBLAS_WORKSPACE_CONFIG": ":4096:8",
                                                                  "VLLM_DETERMINISTIC_OPS": "1"}


def test_the_scoring_module_parses_its_arguments():
    r = subprocess.run([sys.executable, "-m", "resurface.train.epocheval", "score", "--help"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and "--resume-dir" in r.stdout
    r = subprocess.run([sys.executable, "-m", "resurface.train.epocheval", "score", "--model", "x"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "--suite" in r.stderr


# ---------------------------------------------------------------------------------------------
# the orchestration on a tiny model, end to end
# ---------------------------------------------------------------------------------------------
HP = dict(epochs=2, lr=1e-3, block_size=32, batch_size=4, effective_batch=4, eval_suites=["smoke"], eval_limit=2,
          device="cpu", run_name="r", progress=False)


@pytest.mark.slow
def test_out_of_process_rows_equal_in_process_rows(tmp_path, store, monkeypatch):
    from resurface.train import training

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    data = _corpus(tmp_path / "corpus")
    inproc = training.train_run("tiny-llama", data, store=store, eval_engine="hf", **HP)
    outproc = training.train_run("tiny-llama", data, store=store, eval_engine="hf-process", **HP)
    assert inproc != outproc  # the engine is part of the key
    assert json.loads((outproc / "artifact.json").read_text())["config"]["eval_engine"] == "hf-process"
    assert "eval_engine" not in json.loads((inproc / "artifact.json").read_text())["config"]
    assert (outproc / "results.csv").read_bytes() == (inproc / "results.csv").read_bytes()
    assert (outproc / "losses.csv").read_text().count("\n") == (inproc / "losses.csv").read_text().count("\n")
    assert not (outproc / "checkpoints").exists() or not any((outproc / "checkpoints").iterdir())
    assert not (outproc / epocheval.DIR).exists()
    # save_checkpoints keeps the scored checkpoints and the final model
    kept = training.train_run("tiny-llama", data, store=store, eval_engine="hf-process", save_checkpoints=True, **HP)
    assert sorted(p.name for p in (kept / "checkpoints").iterdir()) == ["epoch_01", "epoch_02"]
    assert (kept / "final_model" / "model.safetensors").exists()
    assert (kept / "results.csv").read_bytes() == (inproc / "results.csv").read_bytes()


@pytest.mark.slow
def test_killed_between_training_and_scoring_resumes_without_training_again(tmp_path):
    """kill -9 after the last epoch trained, with an epoch still unscored: the rerun trains nothing,
    keeps the scored epochs' rows, scores the rest, and ends with the in-process run's rows."""
    data = _corpus(tmp_path / "corpus")
    store = tmp_path / "killed"
    # score after training (a window larger than the run: every checkpoint waits until the end)
    env = cli_env(store, RESURFACE_EVAL_OVERLAP="0", RESURFACE_CHECKPOINT_WINDOW="99")
    work = lambda: next(store.glob("train/.partial-*"), None)  # noqa: E731

    def trained_and_one_scored() -> bool:
        w = work()
        return w is not None and (w / "epocheval/trained/summary.json").exists() and \
            (w / "epocheval/rows/epoch_01.json").exists()

    kill_when(_train_cmd(data, "hf-process"), env, trained_and_one_scored, tmp_path / "killed.log")
    w = work()
    assert (w / "checkpoints/epoch_02").is_dir() and not (w / "epocheval/rows/epoch_02.json").exists()
    kept = (w / "epocheval/rows/epoch_01.json").stat().st_mtime_ns

    resumed = _run(_train_cmd(data, "hf-process"), env)
    assert "checkpoint(s) of a killed run still to score: epochs 2" in resumed.stderr
    assert "checkpoint written" not in resumed.stderr and "resuming after epoch" not in resumed.stdout + resumed.stderr
    a = _folder(resumed)
    reference = _folder(_run(_train_cmd(data, "hf"), cli_env(tmp_path / "reference")))
    assert (a / "results.csv").read_bytes() == (reference / "results.csv").read_bytes()
    assert [r.split(",")[1:5] for r in (a / "losses.csv").read_text().splitlines()] == \
        [r.split(",")[1:5] for r in (reference / "losses.csv").read_text().splitlines()]
    assert kept > 0 and (not (a / "checkpoints").exists() or not any((a / "checkpoints").iterdir()))


@pytest.mark.slow
def test_killed_while_training_keeps_scored_epochs_and_trains_only_the_rest(tmp_path):
    """kill -9 in epoch 2 after epoch 1's rows are stored (overlap): epoch 1 is neither trained nor scored
    again."""
    data = _corpus(tmp_path / "corpus")
    store = tmp_path / "killed"
    env = cli_env(store, RESURFACE_EVAL_OVERLAP="1", RESURFACE_STATE_EVERY_S="0")
    cmd = _train_cmd(data, "hf-process", epochs=6)  # training outlasts the scoring of epoch 1
    work = lambda: next(store.glob("train/.partial-*"), None)  # noqa: E731

    def epoch1_scored_not_trained() -> bool:
        w = work()
        return w is not None and (w / "epocheval/rows/epoch_01.json").exists() and \
            not (w / "epocheval/trained").exists()

    kill_when(cmd, env, epoch1_scored_not_trained, tmp_path / "killed.log")
    w = work()
    rows1 = (w / "epocheval/rows/epoch_01.json").stat().st_mtime_ns
    resumed = _run(cmd, env)
    assert "[train] epoch 1: checkpoint written" not in resumed.stderr
    assert "resuming after epoch" in resumed.stderr  # a log: stderr, which the book drops
    a = _folder(resumed)
    reference = _folder(_run(_train_cmd(data, "hf", epochs=6), cli_env(tmp_path / "reference")))
    assert (a / "results.csv").read_bytes() == (reference / "results.csv").read_bytes()
    assert rows1 > 0


# ---------------------------------------------------------------------------------------------
# the bounded checkpoint disk on one GPU (the rolling window)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("window", [1, 2])
def test_checkpoint_window_bounds_the_checkpoints_on_disk(tmp_path, store, monkeypatch, window):
    """No overlap (what vLLM on the training's own GPU gets), smoke model on CPU: at most ``window``
    checkpoints exist at any time, every epoch is scored, and the disk check asks for ``window``."""
    from resurface.train import training

    monkeypatch.setenv(epocheval.OVERLAP_ENV, "0")
    monkeypatch.setenv(epocheval.WINDOW_ENV, str(window))
    seen, scored = [], []

    def fake_scorer(self, model, epoch, rows, resume):  # the scoring process, without lm-eval
        seen.append(len([p for p in self.ckpt_dir.glob("epoch_*") if not p.name.endswith(".tmp")]))
        scored.append(epoch)
        rows.parent.mkdir(parents=True, exist_ok=True)
        rows.write_text(json.dumps([{"epoch": epoch, "suite": "smoke", "task": "t", "metric": "m", "value": float(epoch)}]))

    monkeypatch.setattr(epocheval.EpochEvaluator, "_run_scorer", fake_scorer)
    need = []
    real_for_run = epocheval.for_run

    def spy_for_run(*a, **k):
        ev = real_for_run(*a, **k)
        need.append((ev.window, ev.disk_bytes(), ev))
        return ev

    monkeypatch.setattr(epocheval, "for_run", spy_for_run)
    data = _corpus(tmp_path / "corpus")
    hp = {**HP, "epochs": 4}
    run = training.train_run("tiny-llama", data, store=store, eval_engine="hf-process", **hp)
    assert scored == [0, *range(1, 5)]
    assert max(seen) <= window and need[0][2].max_checkpoints <= window
    assert need[0][0] == window
    from resurface.diskspace import fp32_weight_bytes
    from resurface.models import local_path

    assert need[0][1] == fp32_weight_bytes(local_path("tiny-llama")) * window  # not x epochs
    import pandas as pd

    assert sorted(pd.read_csv(run / "results.csv")["epoch"].unique()) == [0, 1, 2, 3, 4]


def test_checkpoint_window_is_validated(monkeypatch):
    monkeypatch.setenv(epocheval.WINDOW_ENV, "0")
    with pytest.raises(ParameterError, match=epocheval.WINDOW_ENV):
        epocheval.checkpoint_window()
    monkeypatch.delenv(epocheval.WINDOW_ENV)
    assert epocheval.checkpoint_window() == epocheval.DEFAULT_WINDOW == 1
