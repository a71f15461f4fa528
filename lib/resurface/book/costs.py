"""What each figure costs on one H100, estimated from the profile's parameters before anything runs.

``resurface figures --profile paper --estimate`` prints the table and exits; ``book/reproducing.md``
includes the same table, written by :func:`write_estimate_table` into ``book/_generated/`` (one source
of truth: the profile files, the parameter counts below and :data:`THROUGHPUT`).

The model of the work, per figure (the same plans the notebooks run: :func:`resurface.study.experiments.figure_conditions`
for the transfer figures, the proxy and memorization plans for the others):

- **sampling**: ``num_samples`` x the mean sample length (``max_new_tokens`` x :data:`SAMPLE_LENGTH_FRACTION`)
  tokens per (source, τ) corpus, at ``2N`` FLOPs per token, with the project's sampler (hf);
- **training**: runs = conditions x ``num_subsets``; each ``epochs`` x ``tokens_per_subset`` tokens at
  ``6N`` FLOPs per token (attention adds about 10% at 2048 tokens for these models; not counted);
- **evaluation**: every run's ``epochs`` evaluated epochs of its suites (epoch 0 once per student and
  suite set, shared), each the items x choices x tokens of the suite's tasks (:data:`TASKS`; every item
  unless ``eval_limit``) at ``2N`` FLOPs per token, prefill (log-likelihoods) and decode (generation)
  apart, plus one process start per evaluated epoch for the checkpoint engines;
- **proxies**: per-sample NLL (``2N`` per scored token) and embeddings (``2N`` of the embedder);
- **memorization** (Figs 7, 8): the self-training runs of the Pythia model, each evaluated epoch adding
  the extraction attack on ``pool_size`` x domains sequences (32-token prompt, 32 greedy tokens).

``N`` is each model's total parameter count (:data:`PARAMS`: embedding and LM head included, which is
right for the tied small models and a few percent high for the untied 7-8B ones). Time = FLOPs /
(H100 bf16 peak x model-FLOP utilisation), decode capped at a tokens-per-second ceiling, because
small models decode at a rate their per-step overhead sets, not their FLOPs. Those utilisations and
ceilings are **assumed** (:data:`THROUGHPUT`), until ``benchmarks/gpu_check.sh`` measures them on a
GPU and writes ``benchmarks/gpu_measured.json``, which this module then reads (each value it holds
replaces the assumed one, and the table says "measured"). Sampling uses the profile's ``sample_engine``
(paper: vLLM) and, where ``gpu_measured.json`` holds one, the measured end-to-end sampler rate
(``sample_tokens_per_s`` per engine and vocabulary, else ``sample_corpus_tokens_per_s`` for hf) as a cap.

The column **other** counts the work that is not GPU FLOPs but holds the run up all the same (the GPU
waits, or the stage runs before it): executing HumanEval (164 problems x 10 samples = 1,640 sandboxed
programs per evaluation of the paper suite), the 8-gram decontamination of every sampled corpus and the
benchmark fingerprints it builds once, streaming Common Corpus and the Pile, and embedding the
benchmark items Figures 4, 11 and 12 compare with. Its constants (:data:`OTHER`) are all **assumed**.

The table has two figure columns: *alone* (everything the figure needs, as if nothing were cached)
and *new* (what it adds when the figures run in the book's order, the artifact store sharing runs
between figures: Figures 9 and 5 reuse Figure 2's runs). The total is the sum of *new*.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from resurface.errors import ParameterError
from resurface.evaluate.items_skill import ATTRIBUTES, PROBE_FORMS
from resurface.evaluate.suites import get_suite
from resurface.evaluate.tasks.metrics import MAX_CODE_WORKERS
from resurface.paths import figure_notebooks, generated_dir, repo_root
from resurface.study import dose, experiments, figures, profiles
from resurface.study.buried_skill import burial_length

#: H100 SXM dense bf16 peak, FLOP/s
H100_PEAK = 989e12

#: model-FLOP utilisation (fraction of H100_PEAK) per activity and engine, and decode ceilings in
#: tokens/s; ASSUMED until benchmarks/gpu_measured.json says otherwise (see the module docstring)
THROUGHPUT: dict[str, dict[str, float]] = {
    "train": {"hf": 0.30},  # accelerate loop, bf16 autocast, fp32 master weights, 2048-token blocks
    "prefill": {"hf": 0.25, "vllm": 0.35},  # log-likelihood requests, NLL scoring, embeddings
    "decode": {"hf": 0.03, "vllm": 0.12},  # generation: sampling and generate_until tasks
    "decode_max_tokens_per_s": {"hf": 6000.0, "vllm": 30000.0},  # per-step overhead bound (small models)
    "process_start_s": {"hf": 0.0, "vllm": 90.0, "hf-process": 20.0},  # per evaluated epoch (load, CUDA graphs)
}
#: seconds of the non-FLOP work (the column "other"); ALL ASSUMED, none measured yet
OTHER: dict[str, float] = {
    "humaneval_program_s": 0.25,  # one sandboxed program (unshare + python -I start + tests)
    "decontam_corpus_s": 120.0,  # 8-gram audit of one 20k-sample corpus against the fingerprints (CPU)
    "fingerprints_s": 600.0,  # download + 8-gram sets of the paper benchmarks (all splits of c.2), once
    "replay_stream_s": 1800.0,  # Common Corpus: 60k English documents through a 10k shuffle buffer
    "pile_stream_s": 1800.0,  # the Pile: 5,000 Enron emails (0.3% of documents) -> ~1.7M rows streamed
}
#: benchmark items Figures 4, 11, 12 embed (every split, as decontamination reads them) and their length
EMBED_ITEMS: dict[str, int] = {"arc_challenge": 2590, "gsm8k": 8792, "rs_humaneval_paper": 164}
EMBED_ITEM_TOKENS = 200
#: mean generated length of a BOS-only sample as a fraction of max_new_tokens (assumed)
SAMPLE_LENGTH_FRACTION = 0.8
MEASURED_FILE = Path("benchmarks") / "gpu_measured.json"
#: moving weights rather than computing with them (bytes/s); ALL ASSUMED (sources: :data:`SOURCES`)
TRANSFER: dict[str, float] = {
    "hub_download_bytes_per_s": 100e6,  # one bf16 snapshot per model from the Hub, once
    "disk_bytes_per_s": 1.0e9,  # writing a bf16 checkpoint, and vLLM reading it back
    "host_link_bytes_per_s": 20e9,  # the training state to host memory and back (PCIe 4/5 x16, pinned)
}
#: where each assumed constant comes from (the estimate prints one row per constant)
SOURCES: dict[str, str] = {
    "train": "assumed (no measurement yet): plain accelerate loop, bf16 autocast, 2,048-token blocks",
    "prefill": "assumed (no measurement yet): log-likelihood requests, NLL scoring, embeddings",
    "decode": "assumed (no measurement yet): generation, sampling and generate_until tasks",
    "decode_max_tokens_per_s": "assumed (no measurement yet): the engine's per-step overhead bound",
    "process_start_s": "assumed (no measurement yet): loading the checkpoint (and vLLM's CUDA-graph capture) "
                       "once per evaluated epoch",
    "humaneval_program_s": "assumed (no measurement yet): one sandboxed program (unshare + python -I + tests)",
    "decontam_corpus_s": "assumed (no measurement yet): the 8-gram audit of one 20k-sample corpus on the CPU",
    "fingerprints_s": "assumed (no measurement yet): downloading and hashing every split decontamination reads",
    "replay_stream_s": "assumed (no measurement yet): Common Corpus streamed until 60k English documents",
    "pile_stream_s": "assumed (no measurement yet): the Pile streamed until 5,000 Enron emails (0.3% of documents)",
    "sample_length_fraction": "assumed (no measurement yet): mean BOS-only sample length / max_new_tokens",
    "task_tokens": "assumed: token lengths of each task's prompts and answers (TASKS); item counts are the "
                   "test splits' sizes",
    "hub_download_bytes_per_s": "assumed: 100 MB/s from the Hugging Face Hub (faster on a data-centre link, "
                                "slower behind a proxy)",
    "disk_bytes_per_s": "assumed: 1 GB/s local NVMe, a checkpoint written and read back by the scorer",
    "host_link_bytes_per_s": "assumed: 20 GB/s device-host copies of the training state (16 bytes a parameter)",
}

#: total parameters of the models the profiles name (config.json of each Hub model)
PARAMS: dict[str, float] = {
    "qwen2.5-0.5b": 0.494e9, "llama-3.2-1b": 1.236e9, "qwen2.5-7b": 7.616e9, "qwen3-8b-base": 8.191e9,
    "pythia-1.4b": 1.415e9, "nemotron-embed-8b": 7.505e9,
    "smollm2-135m": 0.1345e9, "gemma3-270m": 0.268e9, "minilm": 0.0227e9,
}


@dataclass(frozen=True)
class TaskCost:
    """Token counts of one lm-eval task (test split sizes; token lengths are estimates)."""

    items: int  # documents in the evaluated split
    subtasks: int  # eval_limit applies per subtask (MMLU: 57, Minerva-MATH: 7)
    choices: int  # log-likelihood requests per item (0: a generation task)
    context: int  # tokens of a 0-shot prompt
    per_shot: int  # tokens each few-shot example adds
    continuation: int  # tokens of a choice
    generated: int = 0  # mean generated tokens per sample (generation tasks)
    repeats: int = 1  # samples per item


TASKS: dict[str, TaskCost] = {
    "arc_challenge": TaskCost(1172, 1, 4, 40, 60, 8),
    "arc_easy": TaskCost(2376, 1, 4, 40, 60, 8),
    "hellaswag": TaskCost(10042, 1, 4, 60, 100, 25),
    "winogrande": TaskCost(1267, 1, 2, 25, 30, 10),
    "mmlu": TaskCost(14042, 57, 4, 120, 120, 1),
    "truthfulqa_mc2": TaskCost(817, 1, 8, 300, 0, 15),  # lm-eval's 6-QA preamble; ~8 answers per item
    "gsm8k": TaskCost(1319, 1, 0, 100, 150, 0, generated=150),
    "minerva_math": TaskCost(5000, 7, 0, 100, 250, 0, generated=250),
    "rs_humaneval_paper": TaskCost(164, 1, 0, 150, 0, 0, generated=200, repeats=10),
}


def measured(path: Path | None = None) -> dict:
    """The values benchmarks/gpu_check.sh measured ({} when it has not run)."""
    f = Path(path) if path else repo_root() / MEASURED_FILE
    try:
        return json.loads(f.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def throughput(path: Path | None = None) -> tuple[dict[str, dict[str, float]], str]:
    """THROUGHPUT with the measured values applied, and "assumed", "measured" or "partly measured"."""
    got = measured(path).get("throughput", {})
    table = {k: dict(v) for k, v in THROUGHPUT.items()}
    n = 0
    for activity, engines in got.items():
        for engine, value in (engines or {}).items():
            if activity in table and isinstance(value, (int, float)) and value > 0:
                table[activity][engine] = float(value)
                n += 1
    total = sum(len(v) for v in THROUGHPUT.values())
    return table, "assumed" if n == 0 else ("measured" if n >= total else "partly measured")


def n_params(model: str) -> float:
    if model not in PARAMS:
        raise ParameterError("model", f"no parameter count for {model!r} in resurface.book.costs.PARAMS",
                             ", ".join(PARAMS))
    return PARAMS[model]


# ------------------------------------------------------------------------------ seconds per activity
def _prefill_s(tokens: float, n: float, engine: str, tp: dict) -> float:
    return tokens * 2 * n / (H100_PEAK * tp["prefill"][engine])


def _decode_s(tokens: float, n: float, engine: str, tp: dict) -> float:
    rate = min(H100_PEAK * tp["decode"][engine] / (2 * n), tp["decode_max_tokens_per_s"][engine])
    return tokens / rate


def suite_tokens(suite: str, limit: int | None = None) -> tuple[float, float]:
    """(prefill tokens, generated tokens) of one evaluation of a suite."""
    pre = gen = 0.0
    for spec in get_suite(suite).tasks:
        t = TASKS.get(spec.task)
        if t is None:
            raise ParameterError("suite", f"task {spec.task!r} of {suite!r} has no entry in resurface.book.costs.TASKS",
                                 ", ".join(TASKS))
        items = min(t.items, limit * t.subtasks) if limit else t.items
        ctx = t.context + spec.num_fewshot * t.per_shot
        if t.choices:
            pre += items * t.choices * (ctx + t.continuation)
        else:
            pre += items * ctx
            gen += items * t.repeats * t.generated
    return pre, gen


def eval_seconds(model: str, suites: list[str], limit: int | None, engine: str, tp: dict) -> float:
    n = n_params(model)
    dec_engine = "vllm" if engine == "vllm" else "hf"
    s = tp["process_start_s"].get(engine, 0.0)
    for suite in suites:
        pre, gen = suite_tokens(suite, limit)
        s += _prefill_s(pre, n, dec_engine, tp) + _decode_s(gen, n, dec_engine, tp)
    return s


# ------------------------------------------------------------------------------ jobs per figure
@dataclass
class Plan:
    """The jobs of one figure: key -> (kind, seconds); keys are shared between figures."""

    jobs: dict[tuple, tuple[str, float]] = field(default_factory=dict)
    runs: set = field(default_factory=set)

    def add(self, key: tuple, kind: str, seconds: float) -> None:
        self.jobs.setdefault(key, (kind, seconds))


def _sample_tokens(P: dict) -> float:
    return P["num_samples"] * P["max_new_tokens"] * SAMPLE_LENGTH_FRACTION


#: vocabulary of each model's head (the measured sampler rates are keyed by it)
VOCAB: dict[str, int] = {"qwen2.5-0.5b": 151936, "qwen2.5-7b": 152064, "qwen3-8b-base": 151936,
                         "llama-3.2-1b": 128256, "pythia-1.4b": 50304}


def sample_rate(source: str, P: dict, tp: dict, got: dict | None = None) -> tuple[float, str]:
    """Tokens/s of sampling a corpus of ``source`` with the profile's ``sample_engine``, and where the number
    comes from: the FLOP model, capped by a measured end-to-end rate where one is stored."""
    engine = P.get("sample_engine", "hf")
    n = n_params(source)
    rate = min(H100_PEAK * tp["decode"][engine] / (2 * n), tp["decode_max_tokens_per_s"][engine])
    got = measured() if got is None else got
    by_vocab = (got.get("sample_tokens_per_s") or {}).get(engine) or {}
    v = VOCAB.get(source)
    if by_vocab:
        m = by_vocab.get(str(v)) or min(by_vocab.values())
        return min(rate, float(m)), "measured"
    if engine == "hf" and got.get("sample_corpus_tokens_per_s"):
        return min(rate, float(got["sample_corpus_tokens_per_s"])), "measured (49k vocab, 256 tokens)"
    return rate, "assumed"


def _sample(plan: Plan, P: dict, source: str, t: float, tp: dict, tag: str = "") -> tuple:
    key = ("sample", source, float(t), P["num_samples"], P["max_new_tokens"]) + ((tag,) if tag else ())
    if isinstance(source, tuple):  # a sibling fine-tune of the student
        rate = min(H100_PEAK * tp["decode"]["hf"] / (2 * n_params(source[1])), tp["decode_max_tokens_per_s"]["hf"])
    else:
        rate = sample_rate(source, P, tp)[0]
    plan.add(key, "sampling", _sample_tokens(P) / rate)
    if P.get("profile") == "paper":
        plan.add(("decontam", key, P.get("decontam_suite")), "other", OTHER["decontam_corpus_s"])
        plan.add(("fingerprints", P.get("decontam_suite")), "other", OTHER["fingerprints_s"])
    return key


def _humaneval_s(suites: list[str]) -> float:
    """Seconds of executing the model-written programs of one evaluation of ``suites``."""
    progs = sum(TASKS[t.task].items * TASKS[t.task].repeats for s in suites for t in get_suite(s).tasks
                if t.task == "rs_humaneval_paper")
    # the scorer runs an item's samples MAX_CODE_WORKERS at a time (an H100 node has 16 cores or more)

    repeats = max(TASKS["rs_humaneval_paper"].repeats, 1)
    rounds = -(-repeats // min(MAX_CODE_WORKERS, repeats))  # 10 samples, 8 at a time: 2 rounds an item
    return progs / repeats * rounds * OTHER["humaneval_program_s"]


def _embed_items(plan: Plan, P: dict, tp: dict) -> None:
    tasks = tuple(sorted(P.get("similarity_tasks") or EMBED_ITEMS))
    tokens = sum(EMBED_ITEMS.get(t, 0) for t in tasks) * EMBED_ITEM_TOKENS
    plan.add(("embed-items", P["embedder"], tasks), "other", _prefill_s(tokens, n_params(P["embedder"]), "hf", tp))


def _train(plan: Plan, P: dict, student: str, corpus: tuple, suites: list[str], tp: dict,
           engine: str, extra_eval_s: float = 0.0, tag: str = "") -> None:
    n = n_params(student)
    limit = P["eval_limit"] or None
    base = ("base-eval", student, tuple(suites), limit, engine, tag)
    plan.add(base, "evaluation", eval_seconds(student, suites, limit, engine, tp) + extra_eval_s)
    for i in range(P["num_subsets"]):
        key = ("train", student, corpus, i, tuple(suites), P["epochs"], P["tokens_per_subset"], tag)
        plan.runs.add(key)
        plan.add(key, "training", P["epochs"] * P["tokens_per_subset"] * 6 * n / (H100_PEAK * tp["train"]["hf"]))
        plan.add(("eval",) + key, "evaluation",
                 P["epochs"] * (eval_seconds(student, suites, limit, engine, tp) + extra_eval_s))
        if _humaneval_s(suites):
            plan.add(("exec",) + key, "other", P["epochs"] * _humaneval_s(suites))
    if _humaneval_s(suites):
        plan.add(("exec",) + base, "other", _humaneval_s(suites))


def _nll(plan: Plan, P: dict, scorer: str, corpus: tuple, tp: dict) -> None:
    samples = P["nll_max_samples"] or P["num_samples"]
    tokens = samples * min(P["max_new_tokens"] * SAMPLE_LENGTH_FRACTION, P["nll_max_tokens"])
    plan.add(("nll", scorer, corpus, samples), "proxies", _prefill_s(tokens, n_params(scorer), "hf", tp))


def _embed(plan: Plan, P: dict, corpus: tuple, tp: dict) -> None:
    tokens = P["num_samples"] * min(P["max_new_tokens"] * SAMPLE_LENGTH_FRACTION, P["embed_max_tokens"])
    plan.add(("embed", P["embedder"], corpus), "proxies", _prefill_s(tokens, n_params(P["embedder"]), "hf", tp))


def _engine(P: dict) -> str:
    return P.get("eval_engine", "hf")


def _transfer(plan: Plan, P: dict, fig: str, tp: dict) -> None:
    q, conds = experiments.figure_conditions(P, fig)
    for c in conds:
        _train_condition(plan, q, c, tp)


def _train_condition(plan: Plan, q: dict, c: experiments.Condition, tp: dict, tag: str = "") -> None:
    """One transfer condition's corpus (sampled or replay) and its ``num_subsets`` runs."""
    corpus = _sample(plan, q, c.source, c.temperature, tp) if c.source else ("replay", c.student)
    if not c.source and q.get("replay") == "common-corpus":
        plan.add(("replay-stream", q["replay"], q["replay_docs"], q["seed"]), "other", OTHER["replay_stream_s"])
        plan.add(("decontam", corpus, q.get("decontam_suite")), "other", OTHER["decontam_corpus_s"])
    _train(plan, q, c.student, corpus, experiments.suites_for(q, c), tp, _engine(q), tag=tag)


def _relational(plan: Plan, P: dict, tp: dict) -> None:
    """Figure 12: Figures 2 and 5's runs (shared), the cross-family source at ``cross_temperatures``, the
    sibling fine-tunes, their samples and runs, and the NLL of every corpus under the student and under
    its source, plus the embeddings of the max-cosine proxy (:mod:`resurface.evidence.relational`)."""
    student, engine = P["student"], _engine(P)
    corpora = []  # (corpus key, scorer model or None, scorer parameter count)
    for uf in ("fig02", "fig05"):
        _transfer(plan, P, uf, tp)
        q, conds = experiments.figure_conditions(P, uf)
        for c in conds:
            key = _sample(plan, q, c.source, c.temperature, tp) if c.source else ("replay", c.student)
            corpora.append((key, c.source))
    cross = experiments.figure_params(P, "fig05")["sources"].get("cross")
    for t in (P["cross_temperatures"] if cross else []):
        key = _sample(plan, P, cross, t, tp)
        _train(plan, P, student, key, [P["eval_suite"]], tp, engine)
        corpora.append((key, cross))
    n, t = n_params(student), P["sibling_temperature"]
    for r in P["siblings"]:
        recipe = ("sibling", student, r["name"], r["data"], r["tokens"], r["epochs"], r["lr"])
        plan.add(recipe, "training", r["epochs"] * r["tokens"] * 6 * n / (H100_PEAK * tp["train"]["hf"]))
        key = ("sample", recipe, float(t), P["num_samples"], P["max_new_tokens"])
        plan.add(key, "sampling", _decode_s(_sample_tokens(P), n, "hf", tp))
        _train(plan, P, student, key, [P["eval_suite"]], tp, engine)
        corpora.append((key, recipe))
    samples = P["nll_max_samples"] or P["num_samples"]
    tokens = samples * min(P["max_new_tokens"] * SAMPLE_LENGTH_FRACTION, P["nll_max_tokens"])
    for key, source in corpora:
        _embed(plan, P, key, tp)
        _nll(plan, P, student, key, tp)
        if isinstance(source, tuple):  # a sibling: the student's size
            plan.add(("nll", source, key, samples), "proxies", _prefill_s(tokens, n, "hf", tp))
        elif source and source != student:
            _nll(plan, P, source, key, tp)


#: tokens of one planting document and of one probe (question + one choice), for Figure 13 (assumed)
SKILL_DOC_TOKENS, SKILL_PROBE_TOKENS = 40, 30


def _resurfacing(plan: Plan, P: dict, tp: dict) -> None:
    """Figure 13, once per planting (``plantings``): plant the skill (training on its documents and the
    mixed-in replay rows), score the probes (planted, every burial epoch, every resurfacing epoch), bury under
    replay text, sample the buried and the planted model, and train the five conditions' runs; the base's
    probes and the base, cross-family and replay corpora are shared by the plantings (and with Figures 2 and
    12 where the temperature matches) (:mod:`resurface.study.buried_skill`)."""
    student, t = P["student"], P["skill_temperature"]
    n = n_params(student)
    facts = P["skill_entities"] * len(ATTRIBUTES)
    probes = facts * max(len(v) for v in PROBE_FORMS.values())
    probe_s = _prefill_s(probes * 4 * SKILL_PROBE_TOKENS, n, "hf", tp)  # four choices per probe
    train_s = lambda tokens: tokens * 6 * n / (H100_PEAK * tp["train"]["hf"])  # noqa: E731
    plant_tokens = P["skill_entities"] * P["skill_templates"] * SKILL_DOC_TOKENS * P["skill_plant_epochs"]
    plant_tokens += P.get("skill_plant_mix_docs", 0) * P["skill_plant_block_size"] * P["skill_plant_epochs"]
    plan.add(("skill-probes", student, "base"), "evaluation", probe_s)
    burial = burial_length(P)
    rate = sample_rate(student, P, tp)[0]
    shared = [_sample(plan, P, student, t, tp), _sample(plan, P, P["skill_cross_source"], t, tp), ("replay", student)]
    for k in range(P.get("plantings", 1)):  # each planting: its own planting, burial and two sampled corpora
        plan.add(("skill-plant", student, P["skill_entities"], P["skill_templates"], k), "training",
                 train_s(plant_tokens))
        plan.add(("skill-probes", student, "planted", k), "evaluation", probe_s)
        plan.add(("skill-bury", student, P["bury_tokens"], burial, k), "training", burial * train_s(P["bury_tokens"]))
        plan.add(("skill-bury-probes", student, burial, k), "evaluation", burial * probe_s)
        own = [("sample", (student, kind, k), float(t), P["num_samples"], P["max_new_tokens"])
               for kind in ("buried", "planted")]
        for key in own:
            plan.add(key, "sampling", _sample_tokens(P) / rate)
        for key in own + shared:
            for i in range(P["num_subsets"]):
                run = ("skill-run", student, key, k, i, P["epochs"], P["tokens_per_subset"])
                plan.runs.add(run)
                plan.add(run, "training", P["epochs"] * train_s(P["tokens_per_subset"]))
                plan.add(("probes",) + run, "evaluation", (P["epochs"] + 1) * probe_s)


def _dose(plan: Plan, P: dict, tp: dict) -> None:
    """Figure 14: each student's self (``dose_temperature``) and replay runs at every rate of ``dose_lrs``;
    a run at the student's own rate is Figures 2 and 3's (shared), the others are new (:mod:`resurface.study.dose`)."""
    for role in dose.DOSE_ROLES:
        student = P[role]
        for lr in P["dose_lrs"]:
            q = dose.dose_params(P, student, lr)
            tag = "" if float(lr) == profiles.lr_for(P, student) else f"lr={float(lr):g}"
            for c in dose.dose_conditions(q, student):
                _train_condition(plan, q, c, tp, tag)


def figure_params_fig04(profile: str) -> dict:
    """Figure 4's similarity tasks (the items Figures 11 and 12 embed too)."""
    return {"similarity_tasks": profiles.load(profile, "fig04").get("similarity_tasks")}


def _plan_similarity(plan: Plan, P: dict, fig: str, tp: dict, profile: str) -> None:
    _embed_items(plan, P, tp)
    for t in P["temperatures"]:
        _embed(plan, P, _sample(plan, P, P["student"], t, tp), tp)
    split = _sample(plan, P, P["student"], P["split_temperature"], tp)
    _embed(plan, P, split, tp)
    for side in ("below", "above"):
        _train(plan, P, P["student"], ("split", side, split), [P["eval_suite"]], tp, _engine(P))


def _plan_nll(plan: Plan, P: dict, fig: str, tp: dict, profile: str) -> None:
    scorer = P[figures.get(fig).scorer or "student"]
    other = P["second_student"] if scorer == P["student"] else P["student"]
    for t in P["temperatures"]:
        for src in (scorer, other):
            _nll(plan, P, scorer, _sample(plan, P, src, t, tp), tp)


def _plan_nll_proxy_table(plan: Plan, P: dict, fig: str, tp: dict, profile: str) -> None:
    """The NLL figure, then the proxy table: proximity and likelihood of every trained corpus."""
    _plan_nll(plan, P, fig, tp, profile)
    _embed_items(plan, {**figure_params_fig04(profile), **P}, tp)
    for uf in P["utility_figures"]:
        q, conds = experiments.figure_conditions({**P, "profile": profile}, uf)
        for c in conds:
            if c.source:
                corpus = _sample(plan, q, c.source, c.temperature, tp)
                _embed(plan, P, corpus, tp)
                _nll(plan, P, c.student, corpus, tp)


def _plan_memorization(plan: Plan, P: dict, fig: str, tp: dict, profile: str) -> None:
    model = P["memorization_model"]
    pool_seqs = P["pool_size"] * len(P["pool_domains"])
    n = n_params(model)
    extract = _prefill_s(pool_seqs * P["prefix_tokens"], n, "hf", tp) + \
        _decode_s(pool_seqs * P["suffix_tokens"], n, "hf", tp)
    if P["pool"] != "planted":
        plan.add(("pile-stream", P["pool"], P["pool_size"], tuple(P["pool_domains"])), "other",
                 OTHER["pile_stream_s"])
    for k in range(P.get("plantings", 1)):  # each planting: its own base, corpora and runs
        if P["plant_epochs"]:
            plan.add(("plant", model, k), "training",
                     P["plant_epochs"] * pool_seqs * 2048 * 6 * n / (H100_PEAK * tp["train"]["hf"]))
        tag = "memorization" + (f" planting {k}" if k else "")
        for t in P["temperatures"]:  # the memorization hook scores in process (it runs the attack too)
            _train(plan, P, model, _sample(plan, P, model, t, tp, tag=tag if k else ""), [P["eval_suite"]], tp,
                   "hf", extra_eval_s=extract, tag=tag)


def _plan_relational(plan: Plan, P: dict, fig: str, tp: dict, profile: str) -> None:
    _embed_items(plan, {**figure_params_fig04(profile), **P}, tp)
    _relational(plan, {**P, "profile": profile}, tp)


#: a figure record's ``cost`` -> the function that adds its jobs (the overview reuses the other figures'
#: runs and adds none)
PLANS = {
    "transfer": lambda plan, P, fig, tp, profile: _transfer(plan, P, fig, tp),
    "similarity": _plan_similarity,
    "nll": _plan_nll,
    "nll-proxy-table": _plan_nll_proxy_table,
    "memorization": _plan_memorization,
    "relational": _plan_relational,
    "resurfacing": lambda plan, P, fig, tp, profile: _resurfacing(plan, {**P, "profile": profile}, tp),
    "dose": lambda plan, P, fig, tp, profile: _dose(plan, P, tp),
    "overview": lambda plan, P, fig, tp, profile: None,
}


def figure_plan(profile: str, fig: str, tp: dict | None = None, overrides: dict | None = None) -> Plan:
    """The jobs figure ``fig`` needs in ``profile`` with ``overrides`` (see the module docstring): the plan
    its registry record names (an unknown figure is a ParameterError, never zero hours)."""
    record = figures.get(fig)
    tp = tp or throughput()[0]
    P = profiles.resolve(profile, fig, overrides or {})
    P["fig"] = fig
    plan = Plan()
    PLANS[record.cost](plan, P, fig, tp, profile)
    return plan


KINDS = ("sampling", "training", "evaluation", "proxies", "other")


def estimate(profile: str = "paper", measured_file: Path | None = None,
             overrides: dict | None = None) -> tuple[list[dict], str]:
    """One row per figure (run order) plus a total; and whether the throughputs are assumed or measured."""
    tp, status = throughput(measured_file)
    seen: set = set()
    rows = []
    for fig in figures.run_order():
        plan = figure_plan(profile, fig, tp, overrides)
        new = {k: v for k, v in plan.jobs.items() if k not in seen}
        seen |= set(plan.jobs)
        row: dict[str, Any] = {"figure": fig, "runs": len(plan.runs),
                               "alone_h": sum(s for _, s in plan.jobs.values()) / 3600,
                               "new_h": sum(s for _, s in new.values()) / 3600}
        for kind in KINDS:
            row[kind + "_h"] = sum(s for k, s in new.values() if k == kind) / 3600
        row["new_runs"] = len([k for k in new if k in plan.runs])
        rows.append(row)
    total = {"figure": "total", "runs": sum(r["new_runs"] for r in rows), "alone_h": None,
             "new_h": sum(r["new_h"] for r in rows), "new_runs": sum(r["new_runs"] for r in rows),
             **{k + "_h": sum(r[k + "_h"] for r in rows) for k in KINDS}}
    return rows + [total], status


def device_label(got: dict | None = None) -> str:
    """What the hours are hours of: the H100 peak the rates are fractions of, and the device the
    measured rates (if any) came from."""
    got = measured() if got is None else got
    peak = f"{H100_PEAK / 1e12:,.0f} TFLOP/s bf16 peak of an H100 SXM"
    dev = got.get("device")
    if not dev or not got.get("throughput"):
        return f"one H100 (utilisations assumed, as fractions of the {peak})"
    when = f", {got['measured_at']}" if got.get("measured_at") else ""
    note = (" (an H200 has the same bf16 peak and faster memory: memory-bound decoding may be slower on an "
            "H100)" if "H200" in dev else "")
    return f"one GPU at the {peak}; the measured utilisations come from an {dev}{when}{note}"


def transfer_hours(profile: str = "paper", overrides: dict | None = None, rows: list[dict] | None = None,
                   measured_file: Path | None = None) -> dict[str, float]:
    """Hours spent moving weights: each model's bf16 download once, and per evaluated epoch of a
    checkpoint engine (vllm, hf-process) a bf16 checkpoint written and read back plus the training
    state (16 bytes a parameter) to host memory and back. All rates assumed (:data:`TRANSFER`)."""
    rows = rows if rows is not None else estimate(profile, measured_file, overrides)[0]
    models: set[str] = set()
    trips = 0.0
    runs = {r["figure"]: r["new_runs"] for r in rows}
    for fig in figure_notebooks():
        P = profiles.resolve(profile, fig, overrides or {})
        for k in ("student", "second_student", "memorization_model", "embedder"):
            if P.get(k) in PARAMS:
                models.add(P[k])
        models.update(m for m in (P.get("sources") or {}).values() if m in PARAMS)
        if P.get("eval_engine", "hf") in ("vllm", "hf-process") and fig not in ("fig07", "fig08"):
            student = P["second_student"] if fig in ("fig03", "fig10") else P["student"]
            n = PARAMS.get(student, 0.0)
            per_epoch = (2 * 2 * n / TRANSFER["disk_bytes_per_s"]) + (2 * 16 * n / TRANSFER["host_link_bytes_per_s"])
            trips += runs.get(fig, 0) * P.get("epochs", 0) * per_epoch
    download = sum(2 * PARAMS[m] for m in models) / TRANSFER["hub_download_bytes_per_s"]
    return {"model downloads": download / 3600, "checkpoint round trips": trips / 3600}


def assumptions(measured_file: Path | None = None) -> list[tuple[str, str, str]]:
    """(constant, value, source) for every constant of the estimate that no measurement replaced."""
    got = measured(measured_file).get("throughput", {})
    out = []
    for activity, engines in THROUGHPUT.items():
        for engine, value in engines.items():
            if not isinstance((got.get(activity) or {}).get(engine), (int, float)):
                out.append((f"THROUGHPUT[{activity}][{engine}]", f"{value:g}", SOURCES[activity]))
    out += [(f"OTHER[{k}]", f"{v:g} s", SOURCES[k]) for k, v in OTHER.items()]
    out += [(f"TRANSFER[{k}]", f"{v:.3g}", SOURCES[k]) for k, v in TRANSFER.items()]
    out += [("SAMPLE_LENGTH_FRACTION", f"{SAMPLE_LENGTH_FRACTION:g}", SOURCES["sample_length_fraction"]),
            ("TASKS (token lengths)", f"{len(TASKS)} tasks", SOURCES["task_tokens"])]
    return out


def _h(v) -> str:
    return "" if v is None else (f"{v:,.0f}" if v >= 100 else f"{v:.1f}")


def markdown_table(profile: str = "paper", measured_file: Path | None = None, overrides: dict | None = None) -> str:
    """The estimate as a markdown table with a line saying where the throughputs come from."""
    rows, status = estimate(profile, measured_file, overrides)
    lines = ["| figure | training runs (new) | hours alone | hours new | sampling | training | evaluation | proxies "
             "| other (CPU, I/O; assumed) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        name = "**total**" if r["figure"] == "total" else r["figure"].replace("fig", "Figure ").replace(" 0", " ")
        runs = str(r["new_runs"]) if r["figure"] == "total" else f"{r['runs']} ({r['new_runs']})"
        lines.append(f"| {name} | {runs} | {_h(r['alone_h'])} | {_h(r['new_h'])} | "
                     + " | ".join(_h(r[k + "_h"]) for k in KINDS) + " |")
    P = {**__import__("resurface.study.profiles", fromlist=["load"]).load(profile), **(overrides or {})}
    given = "".join(f" `-p {k} {v}`" for k, v in (overrides or {}).items())
    moves = transfer_hours(profile, overrides, rows, measured_file)
    total = next(r for r in rows if r["figure"] == "total")["new_h"]
    for name, h in moves.items():
        lines.append(f"| + {name} (assumed rates) | | | {_h(h)} | | | | | |")
    lines.append(f"| **total with transfers** | | | {_h(total + sum(moves.values()))} | | | | | |")
    lines += ["", f"Hours on {device_label(measured(measured_file))}.", "",
              f"Estimated GPU-hours, profile `{profile}`{given} (evaluation engine `{P.get('eval_engine', 'hf')}`); "
              f"throughputs **{status}** (`resurface.book.costs.THROUGHPUT`"
              + (", `benchmarks/gpu_measured.json`" if status != "assumed" else "") + "). *Alone*: everything the "
              "figure needs with an empty store; *new*: what it adds in the book's run order (the columns "
              "after it split *new*). Figures 7 and 8 evaluate in the training process (their hook runs the "
              "extraction attack on the in-memory model)."]
    Pq = profiles.resolve(profile, "fig02", overrides or {})
    rates = []
    for m in sorted({Pq["student"], Pq["second_student"]}):
        if m in VOCAB:
            r, src = sample_rate(m, Pq, throughput(measured_file)[0], measured(measured_file))
            rates.append(f"{m} {r:,.0f} tokens/s ({src})")
    lines += ["", f"Sampling engine `{Pq.get('sample_engine', 'hf')}`: " + "; ".join(rates) + ". Still **assumed**: "
              "every vLLM constant not in `gpu_measured.json`, the sample length (0.8 x max_new_tokens), the task "
              "token counts, and the whole *other* column (`resurface.book.costs.OTHER`: HumanEval execution "
              f"{OTHER['humaneval_program_s']} s per program x 1,640 per evaluation, an item's 10 samples 8 at a time, decontamination "
              f"{OTHER['decontam_corpus_s']:.0f} s per corpus + {OTHER['fingerprints_s']:.0f} s of fingerprints, Common "
              f"Corpus and Pile streaming {OTHER['replay_stream_s'] / 3600:.1f} h each, the benchmark items' embeddings "
              "at the prefill rate). The *other* hours are wall-clock hours in which the GPU waits, counted in the total."]
    lines += ["", "| assumed constant | value | source |", "|---|---|---|"]
    lines += [f"| `{k}` | {v} | {src} |" for k, v, src in assumptions(measured_file)]
    return "\n".join(lines) + "\n"


def write_estimate_table(path: Path | None = None, profile: str = "paper") -> Path:
    """``book/_generated/cost_estimate.md``, included by book/reproducing.md."""
    path = path or generated_dir() / "cost_estimate.md"
    path.write_text(markdown_table(profile))
    return path
