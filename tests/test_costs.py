"""The GPU cost model per figure (resurface.book.costs), its CLI flag, and per-profile executed pages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from resurface.book import costs, runner

BIN = str(Path(sys.executable).with_name("resurface"))


def _total(rows):
    return rows[-1]


def test_estimate_sums_and_sharing():
    rows, status = costs.estimate("paper")
    assert status == "assumed" or Path(costs.MEASURED_FILE).exists()
    figs, total = rows[:-1], _total(rows)
    assert [r["figure"] for r in figs] == list(runner.figure_notebooks())
    assert total["new_h"] == pytest.approx(sum(r["new_h"] for r in figs))
    for r in rows:
        assert r["new_h"] == pytest.approx(sum(r[k + "_h"] for k in costs.KINDS))
    for r in figs:
        assert r["alone_h"] >= r["new_h"] - 1e-9
    by = {r["figure"]: r for r in figs}
    assert by["fig09"]["new_h"] == 0 and by["fig09"]["alone_h"] == pytest.approx(by["fig02"]["alone_h"])
    assert by["fig08"]["new_h"] == 0 and by["fig01"]["alone_h"] == 0  # shares Fig 7's runs; reads the others
    assert by["fig02"]["runs"] == 4 * 3  # 3 temperatures + replay, 3 subsets each
    assert total["new_h"] > 0


@pytest.mark.parametrize("name,small,large", [("epochs", 10, 40), ("tokens_per_subset", 1_000_000, 5_000_000),
                                              ("num_subsets", 1, 3), ("num_samples", 5000, 20000)])
def test_estimate_is_monotone_in_the_work(name, small, large):
    lo_rows, hi_rows = (costs.estimate("paper", overrides={name: v})[0] for v in (small, large))
    lo, hi = _total(lo_rows), _total(hi_rows)
    assert hi["new_h"] > lo["new_h"]
    if name in ("epochs", "tokens_per_subset"):
        # Figure 12's sibling fine-tunes and Figure 13's planting and burial have tokens and epochs of
        # their own: every other figure scales
        def scaled(rows):
            return sum(r["training_h"] for r in rows[:-1] if r["figure"] not in ("fig12", "fig13"))

        assert scaled(hi_rows) == pytest.approx(scaled(lo_rows) * large / small)
        assert hi["training_h"] > lo["training_h"]


def test_eval_limit_and_engine_change_the_evaluation_time():
    full = _total(costs.estimate("paper")[0])["evaluation_h"]
    limited = _total(costs.estimate("paper", overrides={"eval_limit": 50})[0])["evaluation_h"]
    hf = _total(costs.estimate("paper", overrides={"eval_engine": "hf"})[0])["evaluation_h"]
    assert limited < full < hf


def test_measured_values_replace_the_assumed_ones(tmp_path):
    f = tmp_path / "gpu_measured.json"
    f.write_text(json.dumps({"throughput": {"train": {"hf": costs.THROUGHPUT["train"]["hf"] * 2}}}))
    base = _total(costs.estimate("paper", measured_file=tmp_path / "none.json")[0])  # all assumed
    rows, status = costs.estimate("paper", measured_file=f)
    assert status == "partly measured"
    assert _total(rows)["training_h"] == pytest.approx(base["training_h"] / 2)
    assert "partly measured" in costs.markdown_table("paper", measured_file=f)


def test_suite_tokens_follow_shots_and_limits():
    pre0, gen0 = costs.suite_tokens("paper-zero-shot")
    pre_few, _ = costs.suite_tokens("paper-few-shot")
    assert gen0 > 0 and pre_few > costs.suite_tokens("paper-few-shot", limit=10)[0]
    assert costs.suite_tokens("paper-zero-shot", limit=10)[0] < pre0


def test_the_cli_prints_the_table_and_runs_nothing(monkeypatch, capsys):
    from resurface import cli

    monkeypatch.setattr(runner, "run_figures", lambda *a, **k: pytest.fail("--estimate must not run notebooks"))
    assert cli.main(["figures", "--profile", "paper", "--estimate"]) == 0
    out = capsys.readouterr().out
    assert out == costs.markdown_table("paper")
    # the repository's benchmarks/gpu_measured.json (if any) decides what the table says of the constants
    assert "| **total** |" in out and costs.throughput()[1] in out


def test_the_book_page_includes_the_generated_table(tmp_path):
    page = (Path(runner.repo_root()) / "book" / "reproducing.md").read_text()
    assert "```{include} _generated/cost_estimate.md" in page
    f = costs.write_estimate_table(tmp_path / "cost_estimate.md")
    assert f.read_text() == costs.markdown_table("paper")


# ---------------------------------------------------------------------------------------------
# per-profile pages
# ---------------------------------------------------------------------------------------------
def test_the_book_takes_one_profiles_pages(tmp_path, monkeypatch):
    from resurface.errors import ResurfaceError

    monkeypatch.setenv("RESURFACE_GENERATED", str(tmp_path))
    nbs = runner.figure_notebooks()
    (tmp_path / "course").mkdir()
    (tmp_path / "course" / nbs["fig02"].name).write_text("course page")
    runner.use_profile_pages("course", ["fig02"])
    assert (tmp_path / nbs["fig02"].name).read_text() == "course page"
    with pytest.raises(ResurfaceError, match="resurface figures --profile paper --only fig02"):
        runner.use_profile_pages("paper", ["fig02"])


@pytest.mark.slow
def test_a_failed_paper_run_does_not_replace_the_course_page(tmp_path):
    """Without Hub access the paper profile fails in seconds: its notebook is kept under
    book/_generated/paper/, and the page the book renders stays the course profile's."""
    gen = tmp_path / "generated"
    gen.mkdir()
    name = runner.figure_notebooks()["fig02"].name
    (gen / name).write_text("the course page")
    env = dict(os.environ, RESURFACE_GENERATED=str(gen), RESURFACE_STORE=str(tmp_path / "store"),
               HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    r = subprocess.run([BIN, "figures", "--profile", "paper", "--only", "fig02"], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 1, r.stdout + r.stderr
    assert (gen / name).read_text() == "the course page"
    assert (gen / "paper" / name).exists()
    assert "left as it was" in r.stdout


def test_the_gpu_check_parses_its_arguments_and_dry_runs_on_cpu(tmp_path):
    root = Path(runner.repo_root())
    out = tmp_path / "m.json"
    r = subprocess.run(["bash", str(root / "benchmarks" / "gpu_check.sh"), "--dry-run", "--out", str(out)],
                       capture_output=True, text=True, timeout=300, env=dict(os.environ, PYTHON=sys.executable))
    assert r.returncode == 0, r.stderr[-2000:]
    assert '"params"' in r.stdout and "dry run" in r.stdout and not out.exists()
    r = subprocess.run([sys.executable, str(root / "benchmarks" / "gpu_check.py"), "--suites", "nope", "--dry-run"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "unknown suite" in r.stderr


def test_the_omitted_work_is_counted_and_marked_assumed(tmp_path):
    """HumanEval execution, decontamination, streaming and the items' embeddings are in the 'other' column."""
    tp = costs.throughput(tmp_path / "none.json")[0]
    plan = costs.figure_plan("paper", "fig02", tp)
    kinds = {k[0]: kind for k, (kind, _) in plan.jobs.items()}
    assert {"exec", "decontam", "fingerprints", "replay-stream"} <= set(kinds)
    assert all(kinds[k] == "other" for k in ("exec", "decontam", "fingerprints", "replay-stream"))
    # 164 problems x 10 samples; the scorer runs an item's 10 samples 8 at a time: 2 rounds per problem
    assert costs._humaneval_s(["paper-zero-shot"]) == 164 * 2 * costs.OTHER["humaneval_program_s"]
    assert any(k[0] == "pile-stream" for k in costs.figure_plan("paper", "fig07", tp).jobs)
    assert any(k[0] == "embed-items" for k in costs.figure_plan("paper", "fig04", tp).jobs)
    assert "other (CPU, I/O; assumed)" in costs.markdown_table("paper", tmp_path / "none.json")


def test_the_sampler_rate_uses_the_measured_end_to_end_rate(tmp_path):
    P = {"sample_engine": "hf"}
    tp = costs.throughput(tmp_path / "none.json")[0]
    assert costs.sample_rate("qwen2.5-0.5b", P, tp, {})[1] == "assumed"
    r, src = costs.sample_rate("qwen2.5-0.5b", P, tp, {"sample_corpus_tokens_per_s": 2987.0})
    assert r == 2987.0 and src.startswith("measured")
    r, src = costs.sample_rate("llama-3.2-1b", {"sample_engine": "vllm"}, tp,
                               {"sample_tokens_per_s": {"vllm": {"128256": 12000.0, "151936": 9000.0}}})
    assert r == 12000.0 and src == "measured"


@pytest.mark.parametrize("profile", ["paper"])
def test_every_figure_that_computes_is_priced(profile):
    """No figure notebook is silently left out of the H100 estimate (Figure 1 only reads other figures'
    runs)."""
    from resurface.paths import figure_notebooks

    for nb in figure_notebooks():
        fig = Path(nb).name[:5]
        total = sum(s for _, s in costs.figure_plan(profile, fig).jobs.values())
        assert (total == 0) == (fig == "fig01"), (fig, total)


def test_figure_13_costs_scale_with_its_plantings():
    """Each planting of Figure 13 plants, buries, samples twice and trains its own runs; the base's probes
    and the shared corpora are paid once, so the cost is linear in the plantings with a fixed part."""
    one, two, three = (costs.figure_plan("paper", "fig13", overrides={"plantings": k}) for k in (1, 2, 3))

    def hours(plan, kind=None):
        return sum(s for k, s in plan.jobs.values() if kind is None or k == kind)

    assert len(three.runs) == 3 * len(one.runs)
    assert hours(three, "training") == pytest.approx(3 * hours(one, "training"))
    assert hours(two) > hours(one) and hours(three) - hours(two) == pytest.approx(hours(two) - hours(one))
    assert hours(three) < 3 * hours(one)
