"""The figure registry (resurface.study.figures): every figure once, on disk and in the book's table of
contents as recorded, and a new record reaches the preflight, the estimate, the claim titles and the overview."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from resurface.book import costs, runner
from resurface.errors import ParameterError
from resurface.evidence import contrasts, overview
from resurface.paths import figure_notebooks, params_dir, repo_root
from resurface.study import figures, preflight, profiles
from resurface.study.figures import Figure


def fake_verdicts(P: dict, store=None) -> list[pd.DataFrame]:
    """Figure 99's verdict table: one row naming the figure (what Figure 1 gathers)."""
    return [pd.DataFrame({"figure": ["Fig 99"], "verdict": ["inconclusive"]})]


FAKE = Figure(99, "fake", "A fake transfer figure", "relational", "transfer",
              {"models": ("student",), "sample": True, "train": True, "suites": ("eval_suite",)},
              conditions="self-main", utility=True, verdicts=f"{__name__}:fake_verdicts")


def test_fourteen_figures_each_with_its_notebook_and_parameter_files():
    assert figures.ids() == [f"fig{i:02d}" for i in range(1, 15)]
    assert figures.run_order()[-1] == "fig01" and figures.run_order()[:2] == ["fig02", "fig03"]
    assert figure_notebooks() == figures.notebooks()  # the files on disk are the registry's
    assert list(runner.figure_notebooks()) == figures.run_order()
    for rec in figures.records():
        assert (repo_root() / "notebooks" / rec.notebook).is_file(), rec
        for profile in profiles.PROFILES:
            for name in rec.param_files:
                assert (params_dir() / profile / name).is_file(), (profile, name)
    assert figures.transfer() == ("fig02", "fig03", "fig05", "fig09", "fig10")
    assert figures.utility() == ("fig02", "fig03", "fig05", "fig10")
    assert figures.get("fig07").param_files == ("_memorization.yaml", "fig07.yaml")
    order = figures.run_order()
    for rec in figures.records():  # a figure runs after every figure whose runs it reads from the store
        assert all(order.index(r) < order.index(rec.id) for r in rec.reuses), rec.id


def test_every_verdict_reference_names_a_function_of_p_and_store():
    """Figure 1 calls each of these once; in the order of the tables it gathered before the registry."""
    import inspect

    refs = [ref for ref, _ in figures.verdict_sources()]
    assert refs == ["resurface.evidence.contrasts:transfer_verdicts", "resurface.evidence.proxytables:page_verdicts",
                    "resurface.evidence.contrasts:memorization_verdicts", "resurface.evidence.relational:page_verdicts",
                    "resurface.evidence.resurfacing:page_verdicts", "resurface.evidence.dose:page_verdicts"]
    for ref in refs:
        assert list(inspect.signature(figures.resolve(ref)).parameters)[:2] == ["P", "store"], ref


def test_the_table_of_contents_lists_the_registry():
    """Every registered figure's page sits in _toc.yml under its finding's caption, in figure order."""
    text = (repo_root() / "_toc.yml").read_text()
    caption, pages = None, []
    for line in text.splitlines():
        m = re.match(r'\s*- caption: "?(.*?)"?$', line)
        if m:
            caption = m.group(1)
        m = re.search(r"file: (book/_generated/fig\d\d_\w+)", line)
        if m:
            pages.append((m.group(1), caption))
    expected = sorted((r.page, figures.FINDINGS[r.finding]) for r in figures.records())
    assert sorted(pages) == expected
    assert runner.toc_figures() == [p.split("/")[-1][:5] for p, _ in pages]


def test_an_unknown_figure_is_an_error_everywhere_never_zero_hours():
    for call in (lambda: figures.get("fig98"), lambda: costs.figure_plan("paper", "fig98"),
                 lambda: preflight.build_plan("paper", "fig98"), lambda: profiles.load("paper", "fig98"),
                 lambda: figures.label("fig98")):
        with pytest.raises(ParameterError, match="fig98"):
            call()
    with pytest.raises(ParameterError, match="already registered"):
        figures.register(Figure(2, "again", "Figure 2 twice", "relational", "transfer"))
    with pytest.raises(ParameterError, match="cost"):
        Figure(98, "bad", "No cost plan", "relational", "free")


def test_a_new_figure_record_reaches_the_preflight_the_estimate_the_claim_titles_and_the_overview(monkeypatch):
    assert "fig99" not in figures.ids()
    with figures.registered(FAKE):
        # the preflight plans it (its needs: the student, sampling, training, the zero-shot suite)
        plan = preflight.build_plan("paper", "fig99")
        assert plan.figures == ["fig99"] and any("fig99: student" in u for u in plan.models[plan.params["fig99"]["student"]])
        assert plan.trains == [("fig99", plan.params["fig99"]["student"])]
        assert "fig99" in preflight._figures(None)
        # the estimate prices it with its plan: Figure 2's conditions, so the same runs as Figure 2
        alone = costs.figure_plan("paper", "fig99")
        assert len(alone.runs) > 0 and set(alone.runs) <= set(costs.figure_plan("paper", "fig02").runs)
        rows = {r["figure"]: r for r in costs.estimate("paper")[0][:-1]}
        assert rows["fig99"]["alone_h"] > 0 and rows["fig99"]["new_h"] == pytest.approx(0)
        # the claim titles: its rows carry the register's label for it
        seen = []
        monkeypatch.setattr(contrasts.claims, "claims_of", lambda fig: ["a claim"] if fig == "fig99" else [])
        monkeypatch.setattr(contrasts, "claim_window_rows", lambda *a, figure, **k: seen.append(figure) or
                            contrasts.Rows([], []))
        contrasts.transfer_rows("fig99", pd.DataFrame(), "suite", [], [])
        assert seen == ["Fig 99"] and figures.label("fig99") == "Fig 99"
        # the overview: panel A takes its conditions, Figure 1 gathers its verdict rows
        asked = []
        monkeypatch.setattr(overview.experiments, "figure_conditions", lambda P, fig: asked.append(fig) or (P, []))
        monkeypatch.setattr(overview.experiments, "run_conditions", lambda P, conds, store=None: pd.DataFrame())
        overview.transfer_runs({"student": "s"})
        assert "fig99" in asked
        assert (FAKE.verdicts, ["fig99"]) in figures.verdict_sources()
        with monkeypatch.context() as m:  # only Figure 99's verdicts, so no real study runs
            m.setattr(figures, "_REGISTRY", {f: figures.get(f) for f in ("fig01", "fig99")})
            assert [t["figure"].tolist() for t in overview.page_verdicts({})] == [["Fig 99"]]
    assert "fig99" not in figures.ids()
