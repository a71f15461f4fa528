"""Helpers used by every figure notebook: parameter checks, provenance, honest summaries.

A figure notebook starts with one cell tagged ``parameters`` that sets ``profile`` and any overrides
(``None`` means "the profile's value"). The next cell calls :func:`setup`, which rejects names the
profile does not declare and values of the wrong type before any heavy work.
"""

from __future__ import annotations

import types
from typing import Any

from resurface.book.regimereport import dose_note
from resurface.errors import ParameterError
from resurface.study import profiles

_IPYTHON_NAMES = {"In", "Out", "get_ipython", "exit", "quit", "open"}


def _user_values(ns: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in ns.items()
            if not k.startswith("_") and k not in _IPYTHON_NAMES
            and not isinstance(v, (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type))
            and not callable(v)}


def setup(ns: dict[str, Any], fig: str) -> dict[str, Any]:
    """Validate the notebook's parameters (pass ``globals()``) and return the resolved values.

    Every non-private variable defined so far counts as a parameter: the ``parameters`` cell's and
    whatever papermill injected. Names the profile's parameter files do not declare, wrong types and
    out-of-range values raise ParameterError naming the parameter.
    """
    profile = ns.get("profile")
    if not isinstance(profile, str):
        raise ParameterError("profile", f"expected a string, got {profile!r}", ", ".join(profiles.PROFILES))
    reference = profiles.load(profile, fig)
    given = {k: v for k, v in _user_values(ns).items() if k != "profile"}
    unknown = sorted(set(given) - set(reference))
    if unknown:
        raise ParameterError(unknown[0], f"is not a parameter of {fig} (a typo?)", ", ".join(sorted(reference)))
    overrides = {k: v for k, v in given.items() if v is not None}
    values = profiles.validate({**reference, **overrides}, reference)
    values["fig"] = fig
    return values


_ROLE_NOTES = {
    "course": ("**Course profile.** Offline, CPU-only stand-ins: SmolLM2-135M-Instruct plays the paper's "
               "Qwen2.5-0.5B, Gemma-3-270M plays Llama-3.2-1B, all-MiniLM-L6-v2 plays "
               "llama-embed-nemotron-8b, Python standard-library docstrings play Common Corpus, and the "
               "benchmarks are the project's own small lm-eval tasks in the same roles (maths word "
               "problems, multiple choice, sentence completion, code). The models are far smaller and the "
               "runs far shorter than the paper's, so this is a teaching-scale experiment: read the curves "
               "for their direction, and read the verdict rows at the end for what the intervals allow one to say."),
    "smoke": ("**Smoke profile.** Tiny randomly initialised models: the numbers below test the code path "
              "and mean nothing about the paper's findings."),
    "paper": "**Paper profile.** The paper's models and settings.",
}


def profile_note(P: dict) -> str:
    """Markdown: which profile produced the page, and (folded) every setting where it differs from
    the paper's."""
    note = _ROLE_NOTES[P["profile"]]
    if P["profile"] == "paper":
        return note
    if P["profile"] == "course":
        note += dose_note(P)
    paper = profiles.load("paper", P.get("fig"))
    diffs = [(k, P[k], paper[k]) for k in paper
             if k not in ("profile", "device", "dtype") and k in P and P[k] != paper[k]]
    if P.get("num_subsets") == 1 and int(P.get("plantings") or 1) < 2:  # plantings are replicated runs too
        note += (" With one training subset per condition the intervals cover item noise only, not the "
                 "spread between training runs (rerun with `num_subsets` of 3 or more for that).")
    rows = "\n".join(f"| `{k}` | `{v!r}` | `{p!r}` |" for k, v, p in diffs)
    return (note + f"\n\n<details><summary>Settings that differ from the paper's ({len(diffs)})</summary>\n\n"
            "| parameter | this page | the paper |\n|---|---|---|\n" + rows + "\n\n</details>")


def provenance(P: dict, results=None, **extra) -> dict:
    """What a figure was computed from: profile, parameters and the artifact keys of its runs."""
    rec = {"profile": P["profile"], "parameters": {k: v for k, v in P.items()}}
    if results is not None and "run_artifact" in getattr(results, "columns", []):
        rec["run_artifacts"] = sorted(results["run_artifact"].unique().tolist())
    rec.update(extra)
    return rec
