"""Functions named by the task YAMLs (``!function resurface.tasks.metrics.<name>``).

The code tasks score completions by running them with :func:`resurface.codeexec.check_completion`
(a separate, limited process), never with ``exec`` in the evaluating process. They refuse to run
unless ``HF_ALLOW_CODE_EVAL=1`` is set, which :func:`resurface.evaluation.evaluate_model` does only
for suites that opt in (``unsafe_code=True``); lm-eval additionally refuses these tasks (they are
marked ``unsafe_code: true``) without ``confirm_run_unsafe_code=True``.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

CODE_TIMEOUT_S = 3.0  # per program, as HF evaluate's code_eval default
CODE_MEMORY_MB = 512


class CodeExecutionRefused(RuntimeError):
    """Raised when a code task is scored without HF_ALLOW_CODE_EVAL=1."""


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
    from resurface.codeexec import check_completion

    _check_allowed()
    samples = results[0] if results else []
    if isinstance(samples, str):
        samples = [samples]
    if not samples:
        return {"pass@1": 0.0}

    def run(completion: str) -> bool:
        return check_completion(doc["prompt"], completion, doc["test"], doc.get("entry_point"),
                                timeout=CODE_TIMEOUT_S, memory_mb=CODE_MEMORY_MB).passed

    workers = max(1, min(len(samples), os.cpu_count() or 1, 8))
    if workers == 1:
        passed = [run(s) for s in samples]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            passed = list(pool.map(run, samples))
    return {"pass@1": sum(passed) / len(passed)}
