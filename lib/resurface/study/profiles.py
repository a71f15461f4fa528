"""Profiles: the `smoke`, `course` and `paper` values of every stage, in one place.

The values live in the papermill parameter files ``notebooks/params/<profile>/_common.yaml`` (stage
parameters shared by all figures) and ``figNN.yaml`` (what one figure adds). Notebooks, the CLI and the
book's Methods page all read them through this module, so each number exists once.

Validation happens before any heavy work: unknown names, wrong types and out-of-range values raise a
ParameterError that names the parameter and the accepted values.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import yaml

from resurface.corpus.pools import DOMAIN_GROUPS
from resurface.corpus.replay import NAMES as REPLAY_NAMES
from resurface.errors import ParameterError
from resurface.evaluate.suites import SUITES
from resurface.hub import allow_hub  # noqa: F401  (profiles.allow_hub: the name the stages call)
from resurface.models import ALIASES, is_model_name
from resurface.paths import params_dir
from resurface.study import figures

PROFILES = ("smoke", "course", "paper")


def lr_for(P: dict, model: str) -> float:
    """The learning rate of runs that train ``model``: its entry in ``lr_by_model`` (a student whose
    regime differs from the profile's), else ``lr``."""
    return float((P.get("lr_by_model") or {}).get(str(model), P["lr"]))

# the source roles of Fig 5 (the student's own samples are "self")
SOURCE_KINDS = ("lineage", "recipe", "cross")


def _read_yaml(path: Path) -> dict:
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ParameterError(str(path), "a parameter file must hold a mapping of name: value")
    return data


def load(profile: str, fig: str | None = None) -> dict[str, Any]:
    """The merged parameters of a profile: ``_common.yaml``, then for ``fig`` the files its registry record
    names (:attr:`resurface.study.figures.Figure.param_files`: a shared file if it has one, then ``figNN.yaml``)."""
    if profile not in PROFILES:
        raise ParameterError("profile", f"unknown profile {profile!r}", ", ".join(PROFILES))
    d = params_dir() / profile
    values = _read_yaml(d / "_common.yaml")
    if fig:
        for name in figures.get(fig).param_files:
            values.update(_read_yaml(d / name))
    values["profile"] = profile
    return values


def _positive(x) -> bool:
    return x > 0


def _non_negative(x) -> bool:
    return x >= 0


def _all_positive(xs) -> bool:
    return all(x > 0 for x in xs)


def _pool_domains() -> set[str]:
    return set(DOMAIN_GROUPS)


_MODEL = (is_model_name, "a model alias (" + ", ".join(ALIASES) + "), a Hub id (owner/name) or a local folder")
_SUITE = (lambda x: x in SUITES, ", ".join(SUITES))

# name -> (check, accepted values in words). Names not listed here get type checks only.
RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "temperature": (_positive, "a number > 0"),
    "temperatures": (lambda xs: len(xs) > 0 and _all_positive(xs), "a non-empty list of numbers > 0"),
    "num_samples": (_positive, "an integer > 0"),
    "max_new_tokens": (_positive, "an integer > 0"),
    "min_new_tokens": (_non_negative, "an integer >= 0"),
    "sample_batch_size": (_positive, "an integer > 0"),
    "ngram": (_positive, "an integer > 0"),
    "num_subsets": (_positive, "an integer > 0"),
    "tokens_per_subset": (_positive, "an integer > 0"),
    "subset_draw": (lambda x: x in ("with-replacement", "disjoint"), "with-replacement (the reference code) or "
                    "disjoint (no record in two subsets, so runs are independent replicates)"),
    "epochs": (_non_negative, "an integer >= 0"),
    "lr": (_positive, "a number > 0"),
    "lr_by_model": (lambda d: all(is_model_name(k) and isinstance(v, (int, float)) and not isinstance(v, bool)
                                  and v > 0 for k, v in d.items()),
                    "a mapping from model alias to a learning rate > 0 ({} for none)"),
    "warmup_ratio": (lambda x: 0 <= x < 1, "a number in [0, 1)"),
    "block_size": (_positive, "an integer > 0"),
    "batch_size": (_positive, "an integer > 0"),
    "effective_batch": (_positive, "an integer > 0"),
    "weight_decay": (_non_negative, "a number >= 0"),
    "device": (lambda x: x in ("auto", "cpu", "cuda") or str(x).startswith("cuda:"), "auto, cpu, cuda, cuda:N"),
    "dtype": (lambda x: x in ("auto", "float32", "bfloat16", "float16"), "auto, float32, bfloat16, float16"),
    "profile": (lambda x: x in PROFILES, ", ".join(PROFILES)),
    "student": _MODEL,
    "second_student": _MODEL,
    "embedder": _MODEL,
    "memorization_model": _MODEL,
    "sources": (lambda d: all(isinstance(v, str) and is_model_name(v) for v in d.values()),
                "a mapping of source role to " + _MODEL[1]),
    "decontam_suite": _SUITE,
    "eval_suite": _SUITE,
    "eval_suite_few_shot": _SUITE,
    "eval_engine": (lambda x: x in ("hf", "vllm", "hf-process"), "hf, vllm, hf-process"),
    "sample_engine": (lambda x: x in ("hf", "vllm"), "hf (the transformers loop) or vllm (falls back to hf "
                                                     "without vllm or a GPU, saying so)"),
    "replay_language_column": (lambda x: isinstance(x, str) and bool(x), "a column name of the replay dataset"),
    "replay": (lambda x: x in REPLAY_NAMES, ", ".join(REPLAY_NAMES)),
    "evidence_metric": (lambda x: x in ("continuous", "paper"), "continuous, paper"),
    # memorization study (Figs 7, 8)
    "pool_size": (_positive, "an integer > 0 (sequences per domain)"),
    "pool_domains": (lambda xs: len(xs) > 0 and len(set(xs)) == len(xs) and set(xs) <= _pool_domains(),
                     "a non-empty list of distinct domains: " + "Enron Emails, Pile-CC, Wikipedia (en), Github, "
                     "email, prose, code"),
    "pool_layout": (lambda x: x in ("mixed", "by-domain"), "mixed, by-domain"),
    "prefix_tokens": (_positive, "an integer > 0"),
    "suffix_tokens": (_positive, "an integer > 0"),
    "plant_epochs": (_non_negative, "an integer >= 0 (0: no planting)"),
    "plantings": (_positive, "an integer > 0: independent planted models, each with num_subsets runs per "
                             "condition (Figures 7-8: own pool, anchors and corpus; Figure 13: own planting and "
                             "burial of K)"),
    "plant_lr": (_positive, "a number > 0"),
    "plant_block_size": (_positive, "an integer > 0"),
    "plant_batch_size": (_positive, "an integer > 0"),
    "plant_layout": (lambda x: x in ("packed", "rows"), "packed, rows"),
    "plant_anchor_tokens": (lambda x: _non_negative(x) and x != 1, "0 (no anchors), or an integer >= 2 (rows layout)"),
    "plant_mix_docs": (_non_negative, "0 (no general text), or an integer >= 1 (rows layout)"),
    "plant_mix_tokens": (lambda x: _positive(x) and x >= 2, "an integer >= 2"),
    "extract_batch_size": (_positive, "an integer > 0"),
    "bury_epochs": (lambda x: _positive(x), "an integer >= 1 (a burial of fixed length), or null (the stopping rule)"),
    "nll_max_samples": (_non_negative, "an integer >= 0 (0: score every sample)"),
    "nll_max_tokens": (_positive, "an integer > 0"),
    "embed_max_tokens": (_positive, "an integer > 0"),
    "similarity_threshold": (lambda x: -1 <= x <= 1, "a cosine in [-1, 1]"),
    "similarity_threshold_rule": (lambda x: x in ("fixed", "median"), "fixed, median"),
    "split_temperature": (_positive, "a number > 0"),
    "cross_temperatures": (lambda xs: _all_positive(xs), "a list of numbers > 0 (may be empty)"),
    "sibling_temperature": (_positive, "a number > 0"),
    "dose_lrs": (lambda xs: len(xs) >= 2 and _all_positive(xs) and len(set(map(float, xs))) == len(xs),
                 "a list of at least two different learning rates > 0 (Figure 14)"),
    "dose_temperature": (_positive, "a number > 0"),
    "siblings": (lambda xs: True, "a list of recipes {name, data, tokens, epochs, lr} (Figure 12)"),
    "utility_figures": (lambda xs: len(xs) > 0 and set(xs) <= set(figures.utility()),
                        "a non-empty list of the utility figures (" + ", ".join(figures.utility()) + ")"),
}


def _type_name(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "str"
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "dict"
    return type(v).__name__


def _same_type(value: Any, ref: Any) -> bool:
    tv, tr = _type_name(value), _type_name(ref)
    if ref is None or value is None:
        return True
    if tr == "float" and tv == "int":
        return True
    if tr == "list" and tv == "list" and ref and value:
        return all(_same_type(v, ref[0]) for v in value)
    return tv == tr


# Figure 12's same-lineage siblings: the student after a short fine-tune (resurface.evidence.relational)
SIBLING_KEYS = {"name": str, "data": str, "tokens": int, "epochs": int, "lr": float}
SIBLING_DATA = ("replay", "cross")
_SIBLING_NAME = re.compile(r"^sib-[a-z0-9][a-z0-9-]*$")


def check_siblings(value: Any) -> list[dict]:
    """Validate Figure 12's ``siblings`` parameter: a list of recipes ``{name, data, tokens, epochs,
    lr}``. Raises ParameterError naming ``siblings``, the recipe, what is wrong and the fix."""
    fix = ("a list of recipes like {name: sib-human, data: replay, tokens: 4000, epochs: 1, lr: 1.0e-4}: "
           "a distinct name 'sib-' + lower-case letters, digits or '-'; data " + " or ".join(SIBLING_DATA)
           + "; tokens, epochs (integers) and lr (a number) all > 0")
    if not isinstance(value, list):
        raise ParameterError("siblings", f"expected a list of recipes, got {_type_name(value)} {value!r}", fix)
    out, names = [], set()
    for i, r in enumerate(value):
        where = f"recipe {i + 1}"
        if not isinstance(r, dict):
            raise ParameterError("siblings", f"{where} is {r!r}, not a mapping", fix)
        where += f" ({r['name']!r})" if "name" in r else ""
        unknown = sorted(set(r) - set(SIBLING_KEYS))
        missing = [k for k in SIBLING_KEYS if k not in r]
        if unknown:
            raise ParameterError("siblings", f"{where}: unknown key {unknown[0]!r}", fix)
        if missing:
            raise ParameterError("siblings", f"{where}: missing key {missing[0]!r}", fix)
        for k, t in SIBLING_KEYS.items():
            v = r[k]
            ok = not isinstance(v, bool) and (isinstance(v, (int, float)) if t is float else isinstance(v, t))
            if not ok:
                want = {float: "a number", int: "an integer", str: "a string"}[t]
                raise ParameterError("siblings", f"{where}: {k} must be {want}, got {v!r}", fix)
        if not _SIBLING_NAME.match(r["name"]):
            raise ParameterError("siblings", f"{where}: the name must start with 'sib-' and hold only lower-case "
                                             "letters, digits and '-'", fix)
        if r["name"] in names:
            raise ParameterError("siblings", f"{where}: the name is used twice", fix)
        if r["data"] not in SIBLING_DATA:
            raise ParameterError("siblings", f"{where}: unknown data {r['data']!r}", fix)
        for k in ("tokens", "epochs", "lr"):
            if not r[k] > 0:
                raise ParameterError("siblings", f"{where}: {k} must be > 0, got {r[k]!r}", fix)
        names.add(r["name"])
        out.append({**r, "lr": float(r["lr"])})
    return out


def validate(values: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    """Check ``values`` against ``reference`` (the declared parameters with their default values).

    Returns the values with ints promoted to float where the reference is a float.
    """
    unknown = sorted(set(values) - set(reference))
    if unknown:
        raise ParameterError(unknown[0], "is not a parameter of this notebook/command",
                             ", ".join(sorted(reference)))
    out = dict(reference)
    for name, value in values.items():
        ref = reference[name]
        if not _same_type(value, ref):
            accepted = RULES[name][1] if name in RULES else f"a {_type_name(ref)}"
            raise ParameterError(name, f"expected {_type_name(ref)} like {ref!r}, got "
                                 f"{_type_name(value)} {value!r}", accepted)
        if isinstance(ref, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(ref, list) and ref and isinstance(ref[0], float):
            value = [float(v) for v in value]
        out[name] = value
    for name, value in out.items():
        rule = RULES.get(name)
        if rule and value is not None and not rule[0](value):
            raise ParameterError(name, f"invalid value {value!r}", rule[1])
    if "siblings" in out:
        out["siblings"] = check_siblings(out["siblings"])
    if "min_new_tokens" in out and "max_new_tokens" in out and out["min_new_tokens"] > out["max_new_tokens"]:
        raise ParameterError("min_new_tokens", f"{out['min_new_tokens']} is larger than max_new_tokens "
                             f"{out['max_new_tokens']}", "an integer <= max_new_tokens")
    return out


def resolve(profile: str, fig: str | None = None, overrides: dict[str, Any] | None = None,
            **kw: Any) -> dict[str, Any]:
    """Profile values with ``overrides`` (a dict and/or keywords) applied and everything validated."""
    base = load(profile, fig)
    return validate({**base, **(overrides or {}), **kw}, base)
