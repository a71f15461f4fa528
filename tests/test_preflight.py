"""`resurface check`: the paper profile's preflight, run offline against recorded schemas, with the
planted failures each named by its fix."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from resurface.study import preflight
from resurface.study.preflight import FAIL, FixtureResolvers, run_checks

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
    assert "GPU memory: training qwen2.5-0.5b" in fails and "H100" in fails["GPU memory: training qwen2.5-0.5b"].fix
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
