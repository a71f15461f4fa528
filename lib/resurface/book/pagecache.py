"""Reuse an executed figure page when nothing it is computed from has changed (the warm ``make book``).

A figure page is a function of its notebook, its resolved parameters, the library's files
(``lib/resurface``, task templates and item data included) and the versions of the packages that
compute or draw it; the artifact store only caches the steps in between. A warm build that starts a
kernel per figure spends most of its time importing torch and transformers to look up cached
artifacts (about 17 s a page on 2 cores), so the runner stamps each successfully executed page with
a key over those inputs (:func:`page_key`) and, when the page on disk carries the current key, reuses
it instead of running it again (:func:`is_current`). ``resurface figures --rerun`` / ``book --rerun``
or ``RESURFACE_RERUN=1`` executes every page regardless.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from resurface.artifacts import environment_versions

META_KEY = "resurface"
# beyond the packages every artifact records (resurface.artifacts.environment_versions): what draws a page
DRAWING_PACKAGES = ("numpy", "pandas", "scipy", "matplotlib", "papermill", "nbformat", "nbclient", "ipykernel")


@lru_cache(maxsize=None)
def _library_digest(root: Path) -> str:
    """sha256 over every file under ``root`` (once per process: a build asks for each page)."""
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if not p.is_file() or "__pycache__" in p.parts or p.suffix in (".pyc", ".pyo"):
            continue
        h.update(p.relative_to(root).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


@lru_cache(maxsize=None)
def _versions() -> tuple[tuple[str, str], ...]:
    out = environment_versions()
    for dist in DRAWING_PACKAGES:
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = "absent"
    return tuple(sorted(out.items()))


def page_key(notebook: Path, params: dict[str, Any]) -> str:
    """sha256 over the notebook file, the resolved parameters, the library's files and package versions."""
    lib = Path(__file__).resolve().parents[1]  # lib/resurface, every stage package included
    payload = {"notebook": hashlib.sha256(Path(notebook).read_bytes()).hexdigest(),
               "params": json.loads(json.dumps(params, sort_keys=True, default=str)),
               "library": _library_digest(lib), "packages": dict(_versions())}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def rerun_forced() -> bool:
    """``RESURFACE_RERUN`` set to anything but empty/0: execute every page."""
    return os.environ.get("RESURFACE_RERUN", "").strip() not in ("", "0")


def _meta(path: Path) -> dict:
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    meta = nb.get("metadata", {})
    if meta.get("papermill", {}).get("exception"):
        return {}
    return meta.get(META_KEY, {}) if isinstance(meta.get(META_KEY), dict) else {}


def is_current(path: Path, key: str) -> bool:
    """Whether the executed page at ``path`` ran without error under the inputs ``key`` names."""
    return _meta(path).get("page_key") == key


def executed_seconds(path: Path) -> float | None:
    """How long the page took when it was last executed (for the build's time-left estimate)."""
    v = _meta(path).get("executed_seconds")
    return float(v) if isinstance(v, (int, float)) else None


def stamp(path: Path, key: str, seconds: float) -> None:
    """Record ``key`` and the execution time in the executed page's metadata."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    nb.setdefault("metadata", {})[META_KEY] = {"page_key": key, "executed_seconds": round(seconds, 1)}
    Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
