"""Where things live: the repository, the model cache, the artifact store, the generated book pages."""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The project checkout (the library is installed editable from ``lib/``)."""
    env = os.environ.get("RESURFACE_ROOT")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[2]


def cache_dir() -> Path:
    """Converted model folders and other re-creatable caches (``RESURFACE_CACHE``)."""
    env = os.environ.get("RESURFACE_CACHE")
    if env:
        p = Path(env)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        p = Path(base) / "resurface"
    p.mkdir(parents=True, exist_ok=True)
    return p


def store_dir() -> Path:
    """The content-addressed artifact store (``RESURFACE_STORE``, default ``<repo>/.resurface-store``)."""
    env = os.environ.get("RESURFACE_STORE")
    p = Path(env) if env else repo_root() / ".resurface-store"
    p.mkdir(parents=True, exist_ok=True)
    return p


def params_dir() -> Path:
    """The papermill parameter files: ``notebooks/params/{smoke,course,paper}``."""
    return repo_root() / "notebooks" / "params"


def notebooks_dir() -> Path:
    return repo_root() / "notebooks"


def figure_notebooks() -> dict[str, Path]:
    """``{"fig02": notebooks/fig02_<slug>.ipynb, ...}`` in run order: figure order, except Figure 1
    (the overview, made from the other figures' runs) last."""
    paths = sorted(notebooks_dir().glob("fig[0-9][0-9]_*.ipynb"), key=lambda p: (p.name.startswith("fig01_"), p.name))
    return {p.name.split("_", 1)[0]: p for p in paths}


def generated_dir() -> Path:
    """Executed notebooks and figure files rendered by the book (``RESURFACE_GENERATED``, default
    ``<repo>/book/_generated``, git-ignored)."""
    env = os.environ.get("RESURFACE_GENERATED")
    p = Path(env) if env else repo_root() / "book" / "_generated"
    p.mkdir(parents=True, exist_ok=True)
    return p
