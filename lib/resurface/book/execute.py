"""Execute one figure notebook with papermill into its profile's folder and, when it succeeded, make it
the page the book renders (a failed run never replaces a page another profile executed successfully)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from unittest import mock

from resurface import allocator
from resurface.book import pagecache
from resurface.paths import generated_dir
from resurface.study import profiles


def run_figure(fig: str, notebook: Path, profile: str, overrides: dict | None = None,
               out_dir: Path | None = None, rerun: bool = False) -> dict:
    """Execute one figure notebook with papermill; return a build-report row. A page executed before
    under the same notebook, parameters, library and packages is reused unless ``rerun``
    (:mod:`resurface.book.pagecache`)."""
    import papermill as pm  # lazily: it starts Jupyter machinery

    overrides = overrides or {}
    resolved = profiles.resolve(profile, fig, overrides)  # fail before starting a kernel
    page = None if out_dir is not None else generated_dir() / notebook.name  # what the book renders
    out_dir = out_dir or profile_pages(profile)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / notebook.name
    t0 = time.time()
    key = pagecache.page_key(notebook, resolved)
    if not (rerun or pagecache.rerun_forced()) and pagecache.is_current(out, key):
        row = {"figure": fig, "notebook": notebook.name, "profile": profile, "status": "ok",
               "seconds": round(time.time() - t0, 1), "overrides": overrides, "reused": True,
               "executed_seconds": pagecache.executed_seconds(out)}
        print(f"[figures] {fig}: unchanged (notebook, parameters, library and packages): page reused -> {out}",
              flush=True)
        if page is not None:
            shutil.copy2(out, page)
            copy_verdicts_csv(profile, out_dir)
        return row
    status = "ok"
    try:
        with mock.patch.dict(os.environ, allocator.kernel_env()):  # the kernel inherits the environment
            pm.execute_notebook(str(notebook), str(out), parameters={"profile": profile, **overrides},
                                cwd=str(notebook.parent), kernel_name="python3", progress_bar=False,
                                log_output=False, report_mode=False)
    except pm.PapermillExecutionError as exc:
        status = f"failed: {exc.ename}: {exc.evalue}"
    seconds = time.time() - t0
    if out.exists():
        fold_code(out)
        if status == "ok":
            pagecache.stamp(out, key, seconds)
    row = {"figure": fig, "notebook": notebook.name, "profile": profile, "status": status,
           "seconds": round(seconds, 1), "overrides": overrides}
    print(f"[figures] {fig}: {status} in {row['seconds']} s -> {out}", flush=True)
    if page is not None and status == "ok":
        shutil.copy2(out, page)
        copy_verdicts_csv(profile, out_dir)
    elif page is not None:
        print(f"[figures] {fig}: the book's page {page} is left as it was", flush=True)
    return row


def copy_verdicts_csv(profile: str, out_dir: Path) -> None:
    """Figure 1 writes every verdict row to ``<profile>/verdicts.csv``; the rendered page links
    ``verdicts.csv`` beside it, so the rendered profile's table is copied to ``book/_generated/``."""
    src = Path(out_dir) / "verdicts.csv"
    if src.exists():
        shutil.copy2(src, generated_dir() / "verdicts.csv")


def fold_code(path: Path) -> None:
    """Fold the code of an executed page so its figure and text come first: the install guard and the
    parameter cells (``parameters``, papermill's ``injected-parameters``) fold whole (``hide-cell``), every other code
    cell keeps its output and folds its input (``hide-input``); a reader opens either with one click."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        fold = "hide-cell" if {"parameters", "injected-parameters", "install-guard"} & set(tags) else "hide-input"
        if fold not in tags:
            tags.append(fold)
    Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def profile_pages(profile: str) -> Path:
    """``book/_generated/<profile>/``: the notebooks a profile executed (its own pages, kept apart)."""
    return generated_dir() / profile
