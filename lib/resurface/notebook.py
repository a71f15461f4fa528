"""Helpers used by every figure notebook: parameter checks, provenance, honest summaries.

A figure notebook starts with one cell tagged ``parameters`` that sets ``profile`` and any overrides
(``None`` means "the profile's value"). The next cell calls :func:`setup`, which rejects names the
profile does not declare and values of the wrong type before any heavy work.
"""

from __future__ import annotations

import types
from typing import Any

from . import profiles
from .errors import ParameterError

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
