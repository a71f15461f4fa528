"""A warm build reuses a figure page only when nothing it is computed from has changed."""

from __future__ import annotations

import json

import pytest

from resurface.book import pagecache, runner


def _notebook(path, text="x = 1"):
    nb = {"cells": [{"cell_type": "code", "source": text, "metadata": {}, "outputs": [], "execution_count": None}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb))
    return path


def test_the_key_follows_notebook_and_parameters_and_a_failed_page_is_never_current(tmp_path):
    nb = _notebook(tmp_path / "a.ipynb")
    k = pagecache.page_key(nb, {"epochs": 1})
    assert k == pagecache.page_key(nb, {"epochs": 1})
    assert k != pagecache.page_key(nb, {"epochs": 2})
    out = _notebook(tmp_path / "out.ipynb")
    assert not pagecache.is_current(out, k) and not pagecache.is_current(tmp_path / "none.ipynb", k)
    pagecache.stamp(out, k, 12.34)
    assert pagecache.is_current(out, k) and pagecache.executed_seconds(out) == 12.3
    _notebook(nb, "x = 2")
    assert not pagecache.is_current(out, pagecache.page_key(nb, {"epochs": 1}))
    failed = json.loads(out.read_text())
    failed["metadata"]["papermill"] = {"exception": True}
    out.write_text(json.dumps(failed))
    assert not pagecache.is_current(out, k)


@pytest.fixture
def fake_papermill(monkeypatch):
    """papermill.execute_notebook replaced by a copy of the input: counts executions."""
    import shutil

    import papermill as pm

    calls = []

    def execute(src, dst, parameters=None, **kw):
        calls.append(parameters)
        shutil.copy(src, dst)

    monkeypatch.setattr(pm, "execute_notebook", execute)
    return calls


def test_run_figure_reuses_an_unchanged_page_and_reruns_when_asked_or_changed(tmp_path, monkeypatch, fake_papermill):
    monkeypatch.setenv("RESURFACE_GENERATED", str(tmp_path / "gen"))
    monkeypatch.delenv("RESURFACE_RERUN", raising=False)
    fig, nb = "fig02", runner.figure_notebooks()["fig02"]
    first = runner.run_figure(fig, nb, "smoke")
    assert first["status"] == "ok" and not first.get("reused") and len(fake_papermill) == 1
    again = runner.run_figure(fig, nb, "smoke")
    assert again["reused"] and len(fake_papermill) == 1
    assert (tmp_path / "gen" / nb.name).exists()  # the page the book renders is there either way
    runner.run_figure(fig, nb, "smoke", {"epochs": 2})  # another parameter: executed
    assert len(fake_papermill) == 2
    runner.run_figure(fig, nb, "smoke", {"epochs": 2}, rerun=True)
    assert len(fake_papermill) == 3
    monkeypatch.setenv("RESURFACE_RERUN", "1")
    runner.run_figure(fig, nb, "smoke", {"epochs": 2})
    assert len(fake_papermill) == 4
    report = runner.write_build_report([first, again], tmp_path / "report.md").read_text()
    assert "page reused" in report
