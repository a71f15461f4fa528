"""Functions named by the task YAMLs (``!function resurface.evaluate.tasks.metrics.<name>``).

The code tasks score completions by running them with :func:`resurface.evaluate.codeexec.check_completion`
(a separate, limited process), never with ``exec`` in the evaluating process. They refuse to run
unless ``HF_ALLOW_CODE_EVAL=1`` is set, which :func:`resurface.evaluate.evaluation.evaluate_model` does only
for suites that opt in (``unsafe_code=True``); lm-eval additionally refuses these tasks (they are
marked ``unsafe_code: true``) without ``confirm_run_unsafe_code=True``.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from resurface.evaluate.codeexec import check_completion

CODE_TIMEOUT_S = 3.0  # per program, as HF evaluate's code_eval default
CODE_MEMORY_MB = 512


class CodeExecutionRefused(RuntimeError):
    """Raised when a code task is scored without HF_ALLOW_CODE_EVAL=1."""


#: programs of one item run at once (threads, each waiting on its own sandboxed process)
MAX_CODE_WORKERS = 8

def keep_all_samples(resps: list[list[str]], docs: list[dict]) -> list[list[str]]:
    """Filter ``create_test``: keep every repeat of every document (pass@k needs all of them)."""
    return [[r if isinstance(r, str) else "" for r in resp] for resp in resps]


def _check_allowed() -> None:
    if os.environ.get("HF_ALLOW_CODE_EVAL", "") != "1":
        raise CodeExecutionRefused(
            "this task executes model-written code; it runs only when HF_ALLOW_CODE_EVAL=1 is set "
            "(resurface sets it during evaluation of suites with unsafe_code=True)")


def process_code(doc: dict[str, Any], results: list[Any]) -> dict[str, float]:
    """pass@1 of one problem: the fraction of its samples that pass the hidden tests.

    With ``n`` samples of which ``c`` pass, the unbiased pass@1 estimator equals ``c / n``; with one
    greedy sample it is 0 or 1.
    """
    _check_allowed()
    samples = results[0] if results else []
    if isinstance(samples, str):
        samples = [samples]
    if not samples:
        return {"pass@1": 0.0}

    def run(completion: str) -> bool:
        return check_completion(doc["prompt"], completion, doc["test"], doc.get("entry_point"),
                                timeout=CODE_TIMEOUT_S, memory_mb=CODE_MEMORY_MB).passed

    workers = max(1, min(len(samples), os.cpu_count() or 1, MAX_CODE_WORKERS))
    if workers == 1:
        passed = [run(s) for s in samples]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            passed = list(pool.map(run, samples))
    return {"pass@1": sum(passed) / len(passed)}


# --------------------------------------------------------------------------- continuous metrics
# Computed by lm-eval itself (``process_results`` of the course task YAMLs), one value per item, and
# averaged by lm-eval (``aggregation: mean``). See tasks/README.md, "Continuous metrics".
LN2 = 0.6931471805599453


def _logsumexp(xs: list[float]) -> float:
    import math

    m = max(xs)
    return m + math.log(sum(math.exp(x - m) for x in xs))


def choice_metrics(lls: list[float], choices: list[str], gold: int) -> dict[str, float]:
    """acc, acc_norm (exactly as lm-eval computes them) and ``logp_gold_norm`` of one item.

    ``lls[j]`` is lm-eval's log-likelihood (natural log) of choice ``j`` after the context (with the
    target delimiter). ``logp_gold_norm = s_gold - logsumexp_j s_j`` with ``s_j = lls[j] /
    bytes(choices[j])`` (UTF-8 bytes of the choice text without the delimiter, lm-eval's
    ``acc_bytes`` normalisation; for ASCII choices the per-character normalisation of ``acc_norm``):
    the log-probability of the gold choice when the per-byte scores are renormalised over the
    choices. It is <= 0, higher is better, and 0 when the gold takes all the mass; its argmax rule
    is acc_norm's (for ASCII choices).
    """
    import numpy as np

    lls = [float(x) for x in lls]
    chars = np.array([float(len(c)) for c in choices])
    nbytes = [float(len(c.encode("utf-8"))) for c in choices]
    pred = int(np.argmax(lls))
    pred_norm = int(np.argmax(np.array(lls) / chars))
    scores = [ll / b for ll, b in zip(lls, nbytes)]
    return {"acc": float(pred == gold), "acc_norm": float(pred_norm == gold),
            "logp_gold_norm": scores[gold] - _logsumexp(scores)}


def _lls(results) -> list[float]:
    return [float(r[0]) for r in results]


def process_mc(doc: dict[str, Any], results) -> dict[str, float]:
    """``rs_mc``: acc, acc_norm, logp_gold_norm (choices ``doc["choices"]``, gold ``doc["answer"]``)."""
    return choice_metrics(_lls(results), doc["choices"], int(doc["answer"]))


def process_completion(doc: dict[str, Any], results) -> dict[str, float]:
    """``rs_completion``: acc, acc_norm, logp_gold_norm (``doc["endings"]``, gold ``doc["label"]``)."""
    return choice_metrics(_lls(results), doc["endings"], int(doc["label"]))


def neg_bits_per_byte(ll: float, continuation: str) -> float:
    """``ll / (ln 2 * bytes(continuation))``: minus the bits per UTF-8 byte of a teacher-forced
    continuation (higher is better; 0 would be a certain prediction)."""
    return float(ll) / (LN2 * len(continuation.encode("utf-8")))


# The continuation each bpb task scores (what its YAML's doc_to_target renders; lm-eval adds no
# target delimiter to loglikelihood requests).
def math_gold(doc: dict[str, Any]) -> str:
    """The scored continuation of ``rs_math_bpb``: a space, then the worked answer ending in ``#### N``."""
    return " " + doc["answer"]


def code_gold(doc: dict[str, Any]) -> str:
    """The scored continuation of ``rs_code_bpb``: the reference solution (function body)."""
    return doc["canonical_solution"]


def process_math_bpb(doc: dict[str, Any], results) -> dict[str, float]:
    """``rs_math_bpb``: ``neg_bpb`` of the gold worked answer given the prompt."""
    return {"neg_bpb": neg_bits_per_byte(results[0][0], math_gold(doc))}


def process_code_bpb(doc: dict[str, Any], results) -> dict[str, float]:
    """``rs_code_bpb``: ``neg_bpb`` of the reference solution given the prompt."""
    return {"neg_bpb": neg_bits_per_byte(results[0][0], code_gold(doc))}
