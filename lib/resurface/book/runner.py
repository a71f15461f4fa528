"""Execute figure notebooks with papermill and build the Jupyter Book.

``resurface figures --profile P [--only fig02,fig09] [-p name value]`` validates every override
against the profile's declared parameters *before* starting a kernel, then executes each notebook
into ``book/_generated/<P>/`` (each profile keeps its own executed pages) and, when it succeeded,
copies it to ``book/_generated/``, the page the book renders: a failed run (e.g. the paper profile
without Hub access) never replaces a page that another profile executed successfully.
``--estimate`` prints the GPU-hours each figure would cost (:mod:`resurface.book.costs`) and runs nothing. ``resurface book`` does the same for every figure, writes the generated
pages (methods table, build report) and runs ``jupyter-book build`` with warnings as errors.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import yaml

from resurface import progress
from resurface.book import bundles, exercises
from resurface.book.costs import markdown_table, write_estimate_table
from resurface.book.execute import copy_verdicts_csv, fold_code, profile_pages, run_figure  # noqa: F401 (re-exported)
from resurface.book.pilotreport import write_tables
from resurface.book.regimereport import write_tables as write_regime_tables
from resurface.errors import ParameterError, ResurfaceError
from resurface.paths import generated_dir, repo_root
from resurface.study import figures, profiles
from resurface.study.preflight import write_fixture_table

#: the figures' notebooks in run order, from the figure registry
figure_notebooks = figures.notebooks


def toc_figures(source: Path | None = None) -> list[str]:
    """Figures whose executed notebooks the book's ``_toc.yml`` includes (what ``make book`` runs)."""
    text = ((source or repo_root()) / "_toc.yml").read_text()
    return re.findall(r"book/_generated/(fig\d\d)_", text)


def parse_overrides(pairs: list[list[str]] | None) -> dict:
    """``-p name value`` pairs with YAML-parsed values (``-p epochs 2`` gives the int 2)."""
    return {name: yaml.safe_load(value) for name, value in (pairs or [])}


def select(only: str | None) -> dict[str, Path]:
    nbs = figure_notebooks()
    if not only:
        return nbs
    wanted = [w.strip() if w.strip().startswith("fig") else f"fig{int(w):02d}" for w in only.split(",") if w.strip()]
    unknown = [w for w in wanted if w not in nbs]
    if unknown:
        raise ParameterError("only", f"unknown figure(s) {', '.join(unknown)}", ", ".join(nbs) or "none yet")
    return {fig: path for fig, path in nbs.items() if fig in wanted}  # run order, whatever the order asked


def use_profile_pages(profile: str, figs: list[str]) -> None:
    """Make the book render ``profile``'s executed pages of ``figs`` (copied into ``book/_generated/``)."""
    nbs = figure_notebooks()
    missing = [f for f in figs if not (profile_pages(profile) / nbs[f].name).exists()]
    if missing:
        raise ResurfaceError(f"no executed {profile} page for {', '.join(missing)}: run "
                             f"`resurface figures --profile {profile} --only {','.join(missing)}`")
    for f in figs:
        shutil.copy2(profile_pages(profile) / nbs[f].name, generated_dir() / nbs[f].name)
    copy_verdicts_csv(profile, profile_pages(profile))


def run_figures(profile: str, only: str | None = None, overrides: dict | None = None,
                rerun: bool = False) -> list[dict]:
    nbs = select(only)
    for fig in nbs:  # validate every notebook's parameters before running any of them
        profiles.resolve(profile, fig, overrides or {})
    # live progress: the kernels report stages and runs (resurface.progress); the time left comes
    # from the last build report of this profile
    previous = progress.previous_seconds(generated_dir() / "build_report.json", profile)
    rows = []
    with progress.Watcher(generated_dir() / ".progress.jsonl", list(nbs), previous) as watch:
        for k, (fig, nb) in enumerate(nbs.items()):
            watch.start_figure(k)
            rows.append(run_figure(fig, nb, profile, overrides, rerun=rerun))
    return rows


def _params_table(values: dict[str, dict], names: list[str]) -> list[str]:
    lines = ["| parameter | smoke | course | paper |", "|---|---|---|---|"]
    for n in names:
        lines.append(f"| `{n}` | " + " | ".join(f"`{values[p].get(n)}`" for p in profiles.PROFILES) + " |")
    return lines


def write_methods_table(path: Path | None = None) -> Path:
    """The Methods page's parameter tables, generated from the profile files (one source of truth):
    the common stage parameters, then per figure the values only that figure's files add or change."""
    path = path or generated_dir() / "methods_table.md"
    common = {p: profiles.load(p) for p in profiles.PROFILES}
    lines = _params_table(common, [n for n in common["paper"] if n != "profile"])
    for fig in figure_notebooks():
        own = {p: profiles.load(p, fig) for p in profiles.PROFILES}
        names = sorted({n for p in profiles.PROFILES for n, v in own[p].items()
                        if n != "profile" and (n not in common[p] or common[p][n] != v)})
        if names:
            lines += ["", f"**{fig.replace('fig', 'Figure ').replace(' 0', ' ')}** adds or changes:", ""]
            lines += _params_table(own, names)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_build_report(rows: list[dict], path: Path | None = None) -> Path:
    path = path or generated_dir() / "build_report.md"
    if not rows:
        path.write_text("No figure notebooks were executed in this build.\n")
        return path
    lines = ["| figure | profile | status | seconds |", "|---|---|---|---|"]
    lines += [f"| {r['figure']} | {r['profile']} | "
              + (f"{r['status']}, page reused (executed in {r.get('executed_seconds')} s)" if r.get("reused")
                 else r["status"]) + f" | {r['seconds']} |" for r in rows]
    total = sum(r["seconds"] for r in rows)
    lines.append(f"\nTotal notebook time: {total:.0f} s, built {time.strftime('%Y-%m-%d %H:%M %Z')}.")
    path.write_text("\n".join(lines) + "\n")
    (path.with_suffix(".json")).write_text(json.dumps(rows, indent=2))
    return path


def build_book(strict: bool = True, source: Path | None = None, path_output: Path | None = None,
               config: Path | None = None) -> Path:
    """Run ``jupyter-book build`` on ``source`` (default: the repository) into ``path_output``
    (default: ``<source>``, giving ``<source>/_build/html``), with ``config`` instead of
    ``<source>/_config.yml`` if given; return the HTML index."""
    source = Path(source or repo_root())
    exe = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(exe), "build", str(source), "--keep-going"] + (["-W", "-n"] if strict else [])
    if path_output is not None:
        cmd += ["--path-output", str(path_output)]
    if config is not None:
        cmd += ["--config", str(config)]
    r = subprocess.run(cmd, cwd=source)
    index = Path(path_output or source) / "_build" / "html" / "index.html"
    if r.returncode != 0 or not index.exists():
        raise ResurfaceError(f"jupyter-book build failed (exit {r.returncode}); see the output above")
    return index


def cli_figures(args) -> int:
    if getattr(args, "estimate", False):
        print(markdown_table(args.profile, overrides=parse_overrides(args.param)), end="")
        return 0
    rows = run_figures(args.profile, args.only, parse_overrides(args.param), rerun=args.rerun)
    write_build_report(rows)
    failed = [r for r in rows if r["status"] != "ok"]
    return 1 if failed else 0


BOOK_SOURCES = ("_config.yml", "_toc.yml", "book")


def copy_book_sources(dst: Path) -> Path:
    """Copy the book's sources (not its generated pages or build) to ``dst``, to build it elsewhere."""
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    for name in BOOK_SOURCES:
        src = repo_root() / name
        if src.is_dir():
            shutil.copytree(src, dst / name, ignore=shutil.ignore_patterns("_generated", "_build"))
        else:
            shutil.copy2(src, dst / name)
    return dst


def make_book(profile: str, only: str | None = None, overrides: dict | None = None,
              source: Path | None = None, path_output: Path | None = None, rerun: bool = False) -> Path:
    """Run the figure notebooks ``_toc.yml`` lists, write the generated pages and build the book;
    return the HTML index. With ``source`` (a copy of ``_config.yml``, ``_toc.yml`` and ``book/``),
    ``RESURFACE_GENERATED`` must point at ``<source>/book/_generated`` for the pages to be found."""
    if source is not None and generated_dir().resolve() != (Path(source) / "book" / "_generated").resolve():
        raise ResurfaceError(f"set RESURFACE_GENERATED={Path(source) / 'book' / '_generated'} to build {source}")
    only = only if only else ",".join(toc_figures(source))
    rows = run_figures(profile, only, overrides, rerun=rerun) if only else []

    write_tables()

    write_regime_tables()
    write_methods_table()
    write_build_report(rows)
    write_estimate_table()
    write_fixture_table()
    failed = [r for r in rows if r["status"] != "ok"]
    if failed:
        raise ResurfaceError(f"{len(failed)} notebook(s) failed: " + ", ".join(r["figure"] for r in failed))
    use_profile_pages(profile, toc_figures(source))  # the book shows this profile's pages only
    config = publish_pages(profile, source)
    return build_book(source=source, path_output=path_output, config=config)


def publish_pages(profile: str, source: Path | None = None) -> Path | None:
    """What a build adds around the executed pages (:mod:`resurface.book.publish`): each page's
    install guard filled with the repository and commit that built it (published builds only), a
    bundle per figure, the front page's build line and verdict counts; returns the build
    configuration with the launch buttons, or None for a local build (``_config.yml`` as it is)."""
    from resurface.book import publish  # lazily: publish reads the verdict labels (scipy)

    exercises.write_pending()  # the Teaching page's blocks for exercises not run on this machine yet
    ctx = publish.build_context()
    source = Path(source or repo_root())
    nbs = figure_notebooks()
    pages = [generated_dir() / nbs[f].name for f in toc_figures(source) if f in nbs]
    if ctx["repository"]:
        for page in pages:
            publish.stamp_guard(page, ctx["repository"], ctx["commit"] or "main")
    bundles.write_bundles(pages)
    publish.write_build_stamp(profile, toc=source / "_toc.yml", ctx=ctx)
    return publish.write_build_config(source, ctx)


def make_book_copy(profile: str, workdir: Path, store: Path | None = None) -> Path:
    """``make_book`` on a copy of the sources in ``workdir`` (generated pages in
    ``workdir/src/book/_generated``, store ``store`` if given), leaving the repository's
    ``book/_generated`` and ``_build`` alone; return the HTML folder."""
    workdir = Path(workdir)
    source = copy_book_sources(workdir / "src")
    env = {"RESURFACE_GENERATED": str(source / "book" / "_generated")}
    if store is not None:
        env["RESURFACE_STORE"] = str(store)
    with mock.patch.dict(os.environ, env):  # papermill kernels inherit the environment
        return make_book(profile, source=source, path_output=workdir / "out").parent


def cli_book(args) -> int:
    index = make_book(args.profile, args.only, parse_overrides(args.param), rerun=args.rerun)
    print(f"[book] built {index}")
    return 0
