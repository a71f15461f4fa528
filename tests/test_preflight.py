"""`resurface check`: the paper profile's preflight, run offline against recorded schemas, with the
planted failures each named by its fix."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from resurface.study import preflight
from resurface.study.preflight import FAIL, OK, FixtureResolvers, run_checks

FIXTURES = Path(__file__).parent / "fixtures" / "preflight"
NO_TASKS = {}  # the lm-eval index check answered "no problems" (the full index is checked once, below)


def _fixtures(tmp_path, edit=None) -> Path:
    d = tmp_path / "fx"
    shutil.copytree(FIXTURES, d)
    if edit:
        data = json.loads((d / "datasets.json").read_text())
        edit(data["datasets"])
        (d / "datasets.json").write_text(json.dumps(data))
    return d


def _fails(rows):
    return [r for r in rows if r.status == FAIL]


def test_every_fixture_records_its_source_address():
    for name in ("models.json", "datasets.json"):
        entries = json.loads((FIXTURES / name).read_text())
        for key, value in entries[name.split(".")[0]].items():
            assert value["source"].startswith("https://huggingface.co/"), key


def test_the_paper_profile_passes_against_the_fixtures_and_lm_evals_real_index(tmp_path):
    rows = run_checks("paper", None, FixtureResolvers(FIXTURES), store=tmp_path)
    assert not _fails(rows), preflight.format_table(rows)
    names = " ".join(r.check for r in rows)
    for want in ("meta-llama/Llama-3.2-1B", "PleIAs/common_corpus", "monology/pile-uncopyrighted",
                 "lm-eval suite paper-zero-shot", "lm-eval suite pythia", "package vllm", "package zstandard",
                 "code-execution sandbox", "disk at", "GPU memory: training llama-3.2-1b"):
        assert want in names


def test_renamed_replay_language_column_fails_with_the_parameter(tmp_path):
    def rename(ds):
        for r in ds["PleIAs/common_corpus"]["rows"]:
            r["lang"] = r.pop("language")

    rows = run_checks("paper", "fig02", FixtureResolvers(_fixtures(tmp_path, rename), tasks=NO_TASKS), store=tmp_path)
    (bad,) = _fails(rows)
    assert "common_corpus" in bad.check and "'language'" in bad.detail and "replay_language_column" in bad.fix


def test_replay_language_values_that_never_match_fail_with_the_values_seen(tmp_path):
    def recode(ds):
        for r in ds["PleIAs/common_corpus"]["rows"]:
            r["language"] = {"English": "en", "French": "fr"}[r["language"]]

    rows = run_checks("paper", "fig02", FixtureResolvers(_fixtures(tmp_path, recode), tasks=NO_TASKS), store=tmp_path)
    (bad,) = _fails(rows)
    assert "'en'" in bad.detail and "replay_language" in bad.fix


def test_renamed_benchmark_field_and_pile_meta_fail(tmp_path):
    def rename(ds):
        r = ds["openai/gsm8k"]["rows"][0]
        r["query"] = r.pop("question")
        for r in ds["monology/pile-uncopyrighted"]["rows"]:
            r["meta"] = {"set_name": r["meta"]["pile_set_name"]}

    rows = run_checks("paper", "fig02,fig07", FixtureResolvers(_fixtures(tmp_path, rename), tasks=NO_TASKS),
                      store=tmp_path)
    fails = {r.check: r for r in _fails(rows)}
    gsm = [r for c, r in fails.items() if "openai/gsm8k" in c]
    assert gsm and all("'question'" in r.detail and "BENCHMARK_SOURCES" in r.fix for r in gsm)
    pile = [r for c, r in fails.items() if "pile-uncopyrighted" in c]
    assert len(pile) == 1 and "meta.pile_set_name" in pile[0].fix


def test_a_missing_package_fails_with_its_install_command(tmp_path):
    R = FixtureResolvers(FIXTURES, packages={"zstandard": False, "vllm": False}, tasks=NO_TASKS)
    fails = {r.check: r for r in _fails(run_checks("paper", "fig07", R, store=tmp_path))}
    assert set(fails) == {"package zstandard (Pile .jsonl.zst)", "package vllm"}
    assert "pip install zstandard" in fails["package zstandard (Pile .jsonl.zst)"].fix
    assert "requirements-vllm.txt" in fails["package vllm"].fix and "eval_engine: hf" in fails["package vllm"].fix


def test_too_little_disk_fails_naming_the_store(tmp_path):
    R = FixtureResolvers(FIXTURES, free=20 * preflight.GIB, tasks=NO_TASKS)
    (bad,) = _fails(run_checks("paper", "fig03", R, store=tmp_path))
    assert bad.check.startswith("disk at") and "RESURFACE_STORE" in bad.fix and "GiB free" in bad.detail


def test_a_gated_model_without_a_token_fails_with_the_licence_and_login(tmp_path):
    R = FixtureResolvers(FIXTURES, token=False, tasks=NO_TASKS)
    (bad,) = _fails(run_checks("paper", "fig03", R, store=tmp_path))
    assert "Llama-3.2-1B" in bad.check and "no Hugging Face token" in bad.detail
    assert "https://huggingface.co/meta-llama/Llama-3.2-1B" in bad.fix and "hf auth login" in bad.fix
    # a token that was not granted access
    R = FixtureResolvers(FIXTURES, granted=[], tasks=NO_TASKS)
    (bad,) = _fails(run_checks("paper", "fig03", R, store=tmp_path))
    assert "not been granted" in bad.detail


def test_an_unknown_model_a_small_gpu_and_an_lm_eval_problem_fail(tmp_path):
    d = _fixtures(tmp_path)
    models = json.loads((d / "models.json").read_text())
    del models["models"]["Qwen/Qwen3-8B-Base"]
    (d / "models.json").write_text(json.dumps(models))
    R = FixtureResolvers(d, gpu=16 * preflight.GIB,
                         tasks={"paper-zero-shot": ["mmlu: metric keys ['acc,none'] not declared"]})
    fails = {r.check: r for r in _fails(run_checks("paper", "fig05", R, store=tmp_path))}
    assert "sources.recipe" in fails["model qwen3-8b-base (Qwen/Qwen3-8B-Base)"].fix
    gpu = fails["GPU memory: training qwen2.5-0.5b"]
    assert "logits (chunks of 128 positions)" in gpu.detail and "batch_size: " in gpu.fix  # a fix that fits
    assert "SUITES" in fails["lm-eval suite paper-zero-shot"].fix


def test_no_gpu_visible_is_a_warning_not_a_failure(tmp_path):
    rows = run_checks("paper", "fig06", FixtureResolvers(FIXTURES, gpu=None, tasks=NO_TASKS), store=tmp_path)
    gpu = [r for r in rows if r.check.startswith("GPU memory")]
    assert gpu and all(r.status == preflight.WARN for r in gpu) and not _fails(rows)


def test_the_window_bounds_the_planned_disk():
    plan = preflight.build_plan("paper", "fig03")
    sizes = {"llama-3.2-1b": 1_235_814_400}
    parts = preflight.plan_disk_bytes(plan, sizes)
    w = 4 * sizes["llama-3.2-1b"]
    assert parts["largest training run (state + checkpoint window)"] == 6 * w + w // 2  # one bf16 checkpoint


def test_cli_check_and_figures_check_exit_codes(tmp_path, capsys, monkeypatch):
    from resurface.cli import main

    monkeypatch.setenv("RESURFACE_STORE", str(tmp_path / "store"))
    assert main(["check", "--profile", "paper", "--only", "fig06", "--fixtures", str(FIXTURES)]) == 0
    out = capsys.readouterr().out
    assert "run against recorded fixtures" in out and "| check | status | detail | fix |" in out
    bad = _fixtures(tmp_path, lambda ds: ds["Rowan/hellaswag"]["rows"][0].pop("endings"))
    assert main(["figures", "--profile", "paper", "--only", "fig02", "--check", "--fixtures", str(bad)]) == 1
    assert "FAIL" in capsys.readouterr().out
    assert main(["figures", "--profile", "paper", "--only", "fig07,fig08", "--check", "--fixtures",
                 str(FIXTURES)]) == 0
    assert main(["figures", "--profile", "paper", "--fixtures", str(FIXTURES)]) == 2
    assert "with --check" in capsys.readouterr().err
    with pytest.raises(Exception, match="fig99"):
        preflight.build_plan("paper", "fig99")


def test_the_reproducing_page_includes_the_check_run_against_the_fixtures(tmp_path):
    """The page shows the table the code produces today (written at build time), never a pasted copy."""
    from resurface.paths import repo_root

    out = preflight.write_fixture_table(tmp_path / "preflight_paper.md")
    text = out.read_text(encoding="utf-8")
    assert text.startswith("| check | status | detail | fix |") and " 0 FAIL" in text
    assert "disk at RESURFACE_STORE" in text  # no machine's path on the page
    page = (repo_root() / "book" / "reproducing.md").read_text(encoding="utf-8")
    assert "```{include} _generated/preflight_paper.md" in page and "| model " not in page
    missing = preflight.write_fixture_table(tmp_path / "x.md", fixtures=tmp_path / "absent").read_text()
    assert "resurface check --profile paper" in missing


# ------------------------------------------------------------------------ offline, context, packages
def test_an_unreachable_hub_is_the_first_row_and_every_hub_row_is_not_checked(tmp_path):
    R = FixtureResolvers(FIXTURES, tasks=NO_TASKS, hub_problem="connection refused",
                         cached=["EleutherAI/pythia-1.4b"])
    rows = run_checks("paper", None, R, store=tmp_path)
    assert rows[0].check == "Hugging Face Hub" and rows[0].status == FAIL
    assert "cannot be reached (offline, proxy, or HF_ENDPOINT)" in rows[0].detail and "HTTPS_PROXY" in rows[0].fix
    assert [r for r in _fails(rows)] == [rows[0]]  # no per-row FAIL for what was never asked
    skipped = {r.check for r in rows if r.status == preflight.NOT_CHECKED}
    for want in ("model qwen2.5-0.5b (Qwen/Qwen2.5-0.5B)", "dataset openai/gsm8k [main] test",
                 "dataset PleIAs/common_corpus train (replay)", "dataset monology/pile-uncopyrighted train (pool)",
                 "GPU memory: qwen2.5-0.5b"):
        assert want in skipped, want
    by = {r.check: r for r in rows}
    assert "from the local cache" in by["model pythia-1.4b (EleutherAI/pythia-1.4b)"].detail
    assert by["GPU memory: training pythia-1.4b"].status == OK  # its config came from the cache
    disk = next(r for r in rows if r.check.startswith("disk at"))
    assert disk.status == preflight.NOT_CHECKED and "at least" in disk.detail and "qwen2.5-0.5b" in disk.detail
    local = {r.check for r in rows if r.status == OK}
    assert {"package vllm", "package zstandard (Pile .jsonl.zst)", "lm-eval suite pythia"} <= local
    assert "not checked" in preflight.format_table(rows).splitlines()[-1]


def test_the_probe_answers_in_seconds_for_a_closed_loopback_port(monkeypatch):
    import socket
    import time

    from resurface.hub import probe_hub

    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    t0 = time.perf_counter()
    problem = probe_hub(timeout=2.0)
    assert problem and f"127.0.0.1:{port}" in problem and time.perf_counter() - t0 < 4
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert "HF_HUB_OFFLINE" in probe_hub()


def test_offline_cli_says_so_on_its_first_line_and_finishes_in_seconds(tmp_path):
    """The real command, against a closed loopback port: under 30 s, exit 1, the reason first."""
    import os
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update(HF_ENDPOINT=f"http://127.0.0.1:{port}", NO_PROXY="127.0.0.1", RESURFACE_STORE=str(tmp_path / "s"),
               HF_HOME=str(tmp_path / "hf"))  # an empty cache: nothing is known about any model
    import resource

    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "resurface.cli", "check", "--profile", "paper"], env=env,
                       capture_output=True, text=True, timeout=120)
    took = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert p.returncode == 1, p.stderr[-2000:]
    assert p.stdout.splitlines()[0].startswith("the Hugging Face Hub cannot be reached (offline, proxy, or HF_ENDPOINT)")
    hub_rows = [ln for ln in p.stdout.splitlines() if ln.startswith(("| model ", "| dataset "))]
    assert hub_rows and all("| not checked |" in ln for ln in hub_rows)
    assert "Retry" not in p.stderr and "retry" not in p.stderr
    # CPU seconds bound the work on a shared machine; the wall clock also waits for other jobs' turns
    assert (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime) < 15 and took < 60, took


def test_planted_context_faults_fail_with_the_parameter(tmp_path, monkeypatch):
    from resurface.study import profiles

    real = profiles.resolve

    def planted(profile, fig, *a, **k):
        P = dict(real(profile, fig, *a, **k))
        if fig in ("fig07", "fig08"):
            P.update(plant_block_size=4096, max_new_tokens=4096)
        return P

    monkeypatch.setattr(profiles, "resolve", planted)
    rows = run_checks("paper", "fig07,fig08", FixtureResolvers(FIXTURES, tasks=NO_TASKS), store=tmp_path)
    fails = {r.check: r for r in _fails(rows) if r.check.startswith("context")}
    assert set(fails) == {"context pythia-1.4b: plant_block_size 4096", "context pythia-1.4b: max_new_tokens 4096"}
    for r in fails.values():
        assert "2048 positions" in r.detail and "<= 2048" in r.fix and "_memorization.yaml" in r.fix


def test_the_audit_needs_no_scorer_packages(tmp_path):
    missing = {"math_verify": False, "antlr4": False, "sympy": False}
    R = FixtureResolvers(FIXTURES, packages=missing, tasks=NO_TASKS)
    rows = run_checks("paper", "fig07,fig08", R, store=tmp_path)
    assert not _fails(rows) and not any("antlr4" in r.check or "math_verify" in r.check for r in rows)
    fails = {r.check: r for r in _fails(run_checks("paper", "fig02", R, store=tmp_path))}
    assert {"package antlr4", "package math_verify", "package sympy"} <= set(fails)
    assert "lm-eval[math]" in fails["package antlr4"].fix and "fig02: eval_suite" in fails["package antlr4"].detail


def test_the_replay_check_reads_the_runs_shuffled_stream(tmp_path, monkeypatch):
    """A first shard in another language fails a check that reads the stream in order; the run reads
    the shards in its seed's shuffled, interleaved order, and so does the check."""
    import datasets

    from resurface.corpus import replay

    langs = ["French", "English", "English", "English"]

    def gen(shards):
        for s in shards:
            for i in range(40):
                yield {"text": f"document {s}-{i} " * 40, "language": langs[s], "shard": s}

    def fake_load(name, config=None, split=None, streaming=False):
        assert name == replay.COMMON_CORPUS_ID and streaming
        return datasets.IterableDataset.from_generator(gen, gen_kwargs={"shards": list(range(4))})

    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    in_order = list(fake_load(replay.COMMON_CORPUS_ID, split="train", streaming=True).take(20))
    assert {r["language"] for r in in_order} == {"French"}  # what a check of the unshuffled stream saw
    R = preflight.HubResolvers()
    for seed in (0, 42):
        run = {r["shard"] for r in replay.common_corpus_stream(seed, 10_000).take(20)}
        checked = list(R.replay_rows(seed, 10_000, 20))
        assert len(checked) == 20 and {r["shard"] for r in checked} == run  # the shards the run reads first
    plan = preflight.build_plan("paper", "fig02")
    rows = preflight.check_replay(plan, R, scan_rows=20)
    assert all(r.status == OK for r in rows), rows
    assert f"shuffled stream (seed {plan.params['fig02']['seed']})" in rows[-1].detail


def test_the_task_check_indexes_the_suites_families_first_and_the_whole_index_on_a_problem(monkeypatch):
    from lm_eval.tasks import TaskManager

    from resurface.evaluate.coursetasks import task_dir

    R = preflight.Resolvers()
    asked = []
    monkeypatch.setattr(R, "_full_index_problems", lambda s: asked.append(s) or ["from the whole index"])
    assert R.task_problems("pythia") == [] and asked == []  # the families' folders answered
    monkeypatch.setattr(preflight, "_family_task_manager",
                        lambda tasks: TaskManager(include_path=[str(task_dir())], include_defaults=False))
    assert R.task_problems("pythia") == ["from the whole index"] and len(asked) == 1  # a FAIL is the full index's
