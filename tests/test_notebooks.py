"""Every figure notebook runs under papermill in the smoke profile and writes its figure;
bad parameters are refused before any work, naming the parameter."""

import json

import papermill as pm
import pytest

from resurface.book import runner
from resurface.errors import ParameterError

NOTEBOOKS = runner.figure_notebooks()


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Store and generated pages in a temporary folder (the kernel inherits the environment)."""
    monkeypatch.setenv("RESURFACE_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("RESURFACE_GENERATED", str(tmp_path / "generated"))
    return tmp_path


def test_committed_notebooks_have_no_outputs_and_one_parameters_cell():
    assert NOTEBOOKS, "no figure notebooks found"
    for fig, path in NOTEBOOKS.items():
        nb = json.loads(path.read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), path
        tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"{path.name}: exactly one cell tagged 'parameters'"


@pytest.mark.slow
@pytest.mark.parametrize("fig", sorted(NOTEBOOKS))
def test_notebook_runs_in_smoke_profile_and_writes_its_figure(fig, isolated, smoke_kernel_env):
    """Runs share one smoke store (as in the book, Figs 5 and 9 reuse Fig 2's runs)."""
    row = runner.run_figure(fig, NOTEBOOKS[fig], "smoke")
    assert row["status"] == "ok", row
    gen = isolated / "generated"
    assert (gen / NOTEBOOKS[fig].name).exists()
    png = gen / "figures" / f"{fig}.png"
    assert (gen / "figures" / f"{fig}.pdf").exists()
    prov = json.loads((gen / "figures" / f"{fig}.provenance.json").read_text())
    assert png.exists() and png.stat().st_size > 1000
    assert prov["profile"] == "smoke" and prov["run_artifacts"]


@pytest.mark.parametrize("name,value,needle", [("epoch", 3, "epoch"), ("epochs", "ten", "epochs"),
                                               ("temperatures", [0.0], "temperatures")])
def test_runner_refuses_bad_parameters_before_starting_a_kernel(name, value, needle, isolated):
    fig = sorted(NOTEBOOKS)[0]
    with pytest.raises(ParameterError) as e:
        runner.run_figures("smoke", fig, {name: value})
    assert needle in str(e.value)
    assert not (isolated / "store").exists(), "no work may start"


def test_plain_papermill_with_an_undeclared_parameter_fails_in_setup(isolated):
    """Users who call papermill directly get the same check, from the notebook's setup cell."""
    fig = sorted(NOTEBOOKS)[0]
    out = isolated / "out.ipynb"
    with pytest.raises(pm.PapermillExecutionError) as e:
        pm.execute_notebook(str(NOTEBOOKS[fig]), str(out), parameters={"profile": "smoke", "epoch": 3},
                            kernel_name="python3", progress_bar=False, cwd=str(NOTEBOOKS[fig].parent))
    assert e.value.ename == "ParameterError" and "epoch" in e.value.evalue
    assert not (isolated / "store").exists()
