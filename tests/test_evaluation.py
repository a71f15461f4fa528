"""In-process lm-eval evaluation: CLI equivalence, determinism, the eval hook, the store-backed stage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402

from resurface.errors import ParameterError  # noqa: E402
from resurface.evaluate.evaluation import (  # noqa: E402
    COLUMNS, _code_eval_env, evaluate, evaluate_model, hf_lm, make_eval_hook)
from resurface.evaluate.suites import SUITES, Suite, TaskSpec  # noqa: E402

LM_EVAL = Path(sys.executable).with_name("lm-eval")


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def tiny():
    from resurface.models import load_model
    from resurface.tiny import ensure_tiny

    path = ensure_tiny("tiny-llama")
    model, tok = load_model(str(path), device="cpu")
    return path, model, tok


def _cli_results(model_dir: Path, tasks: list[str], tmp_path: Path, seed: int, extra=()) -> dict:
    """Run the lm-eval command line on a model folder and return its 'results' section."""
    import torch

    from resurface.evaluate.coursetasks import task_dir

    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               OMP_NUM_THREADS=str(torch.get_num_threads()), HF_ALLOW_CODE_EVAL="1")
    out = tmp_path / "cli"
    cmd = [str(LM_EVAL), "run", "--model", "hf", "--model_args", f"pretrained={model_dir},dtype=float32",
           "--include_path", str(task_dir()), "--tasks", *tasks, "--num_fewshot", "0", "--device", "cpu",
           "--batch_size", "16", "--seed", str(seed), "--output_path", str(out), *extra]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    files = sorted(out.rglob("results_*.json"))
    assert files, r.stdout[-2000:]
    return json.loads(files[-1].read_text())["results"]


def _compare(df, cli: dict) -> None:
    assert len(df)
    for row in df.itertuples():
        metric, flt = row.metric.split(",")
        assert cli[row.task][row.metric] == pytest.approx(row.value, abs=1e-12), (row.task, row.metric)
        assert cli[row.task][f"{metric}_stderr,{flt}"] == pytest.approx(row.stderr, abs=1e-9)


def test_in_process_equals_cli(tiny, tmp_path):
    """One course task per output type: log-likelihood MC (all 40 items), generation, code."""
    path, model, tok = tiny
    suite = Suite("cli-check", (
        TaskSpec("rs_mc", 0, ("acc,none", "acc_norm,none"), "acc_norm,none", "MC", "reasoning"),
        TaskSpec("rs_math_smoke", 0, ("exact_match,strict-match", "exact_match,flexible-extract"),
                 "exact_match,flexible-extract", "Math", "math"),
        TaskSpec("rs_code_smoke", 0, ("pass@1,create_test",), "pass@1,create_test", "Code", "code"),
    ), unsafe_code=True, description="", offline=True)
    df = evaluate_model(model, tok, suite, seed=7, batch_size=16)
    mc = df[(df.task == "rs_mc") & (df.metric == "acc_norm,none")].value.item()
    assert 0 < mc < 1  # a non-trivial value, so equality below means something
    cli = _cli_results(path, suite.task_names, tmp_path, seed=7, extra=["--confirm_run_unsafe_code"])
    _compare(df, cli)


@pytest.mark.slow
def test_in_process_equals_cli_smollm2(tmp_path):
    from resurface.models import load_model, local_path

    path = local_path("smollm2-135m")
    model, tok = load_model(str(path), device="cpu")
    suite = Suite("cli-check", (
        TaskSpec("rs_mc", 0, ("acc,none", "acc_norm,none"), "acc_norm,none", "MC", "reasoning"),
        TaskSpec("rs_math", 0, ("exact_match,strict-match", "exact_match,flexible-extract"),
                 "exact_match,flexible-extract", "Math", "math"),
    ), unsafe_code=False, description="", offline=True)
    df = evaluate_model(model, tok, suite, seed=42, batch_size=16, limit=16)  # the first 16 items of each
    _compare(df, _cli_results(path, suite.task_names, tmp_path, seed=42, extra=["--limit", "16"]))


def test_smoke_suite_is_deterministic_and_tidy(tiny):
    _, model, tok = tiny
    a = evaluate_model(model, tok, "smoke", seed=3, run="r1", epoch=2)
    b = evaluate_model(model, tok, "smoke", seed=3, run="r1", epoch=2)
    assert a.equals(b)
    assert list(a.columns) == COLUMNS
    suite = SUITES["smoke"]
    assert len(a) == sum(len(t.metrics) for t in suite.tasks)
    assert set(a.task) == set(suite.task_names)
    assert a.groupby("task").primary.sum().eq(1).all()
    cont = a.metric.isin(["logp_gold_norm,none", "neg_bpb,none"])  # log-likelihood based: <= 0
    assert cont.any() and (a.value[cont] <= 0).all() and a.value[~cont].between(0, 1).all() and (a.n == 4).all()
    assert (a.run == "r1").all() and (a.epoch == 2).all() and (a.suite == "smoke").all()


def test_hflm_is_built_once_per_model(tiny):
    _, model, tok = tiny
    assert hf_lm(model, tok, 16) is hf_lm(model, tok, 16)


def test_eval_hook_restores_training_mode(tiny):
    _, model, tok = tiny
    with pytest.raises(ParameterError):
        make_eval_hook(["smoke", "nope"])
    with pytest.raises(ParameterError):
        make_eval_hook([])
    hook = make_eval_hook(["smoke"], limit=2, run="run-x")
    model.train()
    try:
        rows = hook(model, tok, 5)
        assert model.training
    finally:
        model.eval()
    assert rows and all(r["epoch"] == 5 and r["run"] == "run-x" for r in rows)
    assert {r["n"] for r in rows} == {2}


def test_code_execution_opt_in_only(tiny, monkeypatch):
    monkeypatch.delenv("HF_ALLOW_CODE_EVAL", raising=False)
    with _code_eval_env(True):
        assert os.environ["HF_ALLOW_CODE_EVAL"] == "1"
    assert "HF_ALLOW_CODE_EVAL" not in os.environ
    monkeypatch.setenv("HF_ALLOW_CODE_EVAL", "1")
    with _code_eval_env(False):  # a suite that does not opt in never runs code, whatever the shell says
        assert "HF_ALLOW_CODE_EVAL" not in os.environ
    assert os.environ["HF_ALLOW_CODE_EVAL"] == "1"
    # lm-eval refuses a code task in a suite that does not opt in
    _, model, tok = tiny
    sneaky = Suite("sneaky", (TaskSpec("rs_code_smoke", 0, ("pass@1,create_test",), "pass@1,create_test", "Code",
                                       "code"),), unsafe_code=False, description="", offline=True)
    with pytest.raises(Exception, match="(?i)unsafe"):
        evaluate_model(model, tok, sneaky)


def test_parameters_are_validated(tiny):
    _, model, tok = tiny
    for kwargs in ({"limit": -1}, {"seed": "1"}, {"batch_size": 0}, {"batch_size": "big"}):
        with pytest.raises(ParameterError):
            evaluate_model(model, tok, "smoke", **kwargs)
    with pytest.raises(ParameterError):
        evaluate_model(model, tok, "no-such-suite")
    with pytest.raises(ParameterError):
        evaluate("tiny-llama", "smoke", engine="onnx")
    with pytest.raises(ParameterError, match="allow"):
        evaluate("tiny-llama", "pythia")


def test_vllm_engine_without_vllm_is_a_clear_error():
    import importlib.util

    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed here")
    with pytest.raises(ParameterError, match="vllm"):
        evaluate("tiny-llama", "smoke", engine="vllm")


def test_evaluate_stage_store_and_cli(tmp_path, capsys):
    import pandas as pd

    from resurface.artifacts import Store
    from resurface.cli import main

    store = Store(tmp_path / "store")
    folder = evaluate("tiny-llama", "smoke", limit=2, store=store)
    df = pd.read_csv(folder / "results.csv")
    assert list(df.columns) == COLUMNS and set(df.task) == set(SUITES["smoke"].task_names)
    assert evaluate("tiny-llama", "smoke", limit=2, store=store) == folder  # cached artifact
    meta = json.loads((folder / "artifact.json").read_text())
    assert meta["config"]["suite"] == "smoke" and meta["config"]["limit"] == 2

    out = tmp_path / "out"
    capsys.readouterr()
    assert main(["evaluate", "--model", "tiny-llama", "--suite", "smoke", "--limit", "1", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == str(out)
    assert any(line.startswith("rs_mc_smoke") and "acc_norm,none*" in line for line in lines)
    assert (out / "results.csv").exists() and (out / "meta.json").exists()


def test_evaluate_writes_per_item_values_that_average_to_the_results(tmp_path):
    """items.csv.gz beside results.csv: one row per (task, item, metric), means = lm-eval's results."""
    import pandas as pd

    from resurface.evaluate.evaluation import ITEM_COLUMNS, read_items

    folder = evaluate("tiny-llama", "smoke", limit=3, out=tmp_path / "ev")
    res, items = pd.read_csv(folder / "results.csv"), read_items(folder)
    assert list(items.columns) == ITEM_COLUMNS and (folder / "items.csv.gz").exists()
    assert set(items.task) == set(res.task) and set(items.item) == {0, 1, 2}
    assert (items.run == "tiny-llama").all() and items.epoch.isna().all() and (items.suite == "smoke").all()
    means = items.groupby(["task", "metric"]).value.mean()
    for r in res.itertuples():
        assert means[(r.task, r.metric)] == pytest.approx(r.value), (r.task, r.metric)
    assert items.groupby(["task", "metric"]).size().eq(3).all()


def test_paper_humaneval_variant_config_and_scoring(monkeypatch):
    """rs_humaneval_paper: the reference code's sampling, HumanEval from the wheel, codeexec scoring."""
    from resurface.evaluate.evaluation import get_task_manager
    from resurface.evaluate.tasks.metrics import process_code

    task = get_task_manager(offline=True).load(["rs_humaneval_paper"])["tasks"]["rs_humaneval_paper"]
    cfg = task.config
    assert cfg.repeats == 10 and cfg.unsafe_code and cfg.num_fewshot == 0
    gk = cfg.generation_kwargs
    assert (gk["do_sample"], gk["temperature"], gk["top_p"], gk["max_gen_toks"]) == (True, 0.2, 0.95, 512)
    docs = list(task.test_docs())
    assert len(docs) == 164
    monkeypatch.setenv("HF_ALLOW_CODE_EVAL", "1")
    doc = docs[2]
    samples = [doc["canonical_solution"]] * 3 + ["    return None\n"] * 7
    assert process_code(doc, [samples]) == {"pass@1": pytest.approx(0.3)}


@pytest.mark.slow
def test_paper_humaneval_variant_runs_end_to_end(tiny, monkeypatch):
    import lm_eval

    from resurface.evaluate.suites import SUITES as S

    real = lm_eval.simple_evaluate

    def shorter(*args, **kwargs):  # 10 samples of 48 tokens, not 512: the length is not under test
        kwargs["gen_kwargs"] = {**(kwargs.get("gen_kwargs") or {}), "max_gen_toks": 48}
        return real(*args, **kwargs)

    monkeypatch.setattr(lm_eval, "simple_evaluate", shorter)
    _, model, tok = tiny
    spec = S["paper-zero-shot"].spec("rs_humaneval_paper")
    suite = Suite("he", (spec,), unsafe_code=True, description="", offline=True)
    a = evaluate_model(model, tok, suite, limit=1, seed=1)
    assert a.metric.tolist() == ["pass@1,create_test"] and a.n.tolist() == [1]
    assert a.equals(evaluate_model(model, tok, suite, limit=1, seed=1))  # sampling is seeded


@pytest.mark.slow
@pytest.mark.parametrize("alias", ["smollm2-135m", "gemma3-270m"])
def test_course_base_scores_away_from_floor_and_ceiling(alias):
    """The course tasks leave room to move both ways for both course models (BASE_SCORES.md)."""
    from resurface.models import load_model

    model, tok = load_model(alias, device="cpu")
    # the first 24 of the 100 items BASE_SCORES.md reports: enough to see a score near 0 or 1 (at 24
    # items, 2026-12-03: Gemma-3 0.29-0.58, SmolLM2 0.21-0.71), and minutes rather than a quarter of an
    # hour of generation per model (40 items took 250 s for Gemma-3 on one test worker)
    df = evaluate_model(model, tok, "course", limit=24)
    primary = df[df.primary & ~df.task.str.endswith("_bpb")].set_index("task").value  # accuracies
    assert primary.between(0.15, 0.85).all(), primary.to_dict()
    cont = df[df.metric.isin(["logp_gold_norm,none", "neg_bpb,none"])].value
    assert len(cont) == 4 and (cont < 0).all()  # log-probabilities: room to move both ways


def test_missing_task_packages_fail_before_any_work(tiny):
    import importlib.util

    from resurface.errors import ResurfaceError
    from resurface.evaluate.evaluation import check_requirements

    check_requirements("course")  # nothing extra needed offline
    if importlib.util.find_spec("math_verify") is not None:
        pytest.skip("lm-eval[math] is installed here")
    _, model, tok = tiny
    with pytest.raises(ResurfaceError, match=r"lm-eval\[math\]"):
        evaluate_model(model, tok, "paper-few-shot")
