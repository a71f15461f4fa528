"""One downloadable bundle per figure: the executed notebook, its figure (PNG, PDF, provenance) and its
per-item values as CSV, zipped as ``book/_generated/bundles/figNN_<slug>.zip``.

The per-item CSV gathers the ``items/epoch_XX.csv.gz`` tables of the training runs the figure's
provenance record names (``run_artifacts``), one row per item x epoch x metric with the run's folder
name in ``run_artifact``; a figure whose runs keep no per-item values (or that reads none) gets none.
The book's download menu offers the bundle (:mod:`resurface.book.launch`).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from resurface.paths import generated_dir, store_dir


def _run_folders(keys: list[str], store: Path) -> list[Path]:
    """Store folders of the runs named ``keys`` (their folder names), wherever the stage keeps them."""
    wanted = set(keys)
    out = []
    for p in sorted(store.glob("*/*")):
        if p.name in wanted and p.is_dir():
            out.append(p)
    return out


def item_table(provenance: dict, store: Path | None = None):
    """The per-item values of a figure's runs (a DataFrame), or None where there are none."""
    import pandas as pd

    keys = provenance.get("run_artifacts") or []
    frames = []
    for run in _run_folders(keys, Path(store or store_dir())):
        for f in sorted(run.glob("items/epoch_*.csv.gz")):
            df = pd.read_csv(f)
            df.insert(0, "run_artifact", run.name)
            frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else None


def write_bundle(notebook: Path, out_dir: Path | None = None, figures: Path | None = None,
                 store: Path | None = None) -> Path:
    """Zip an executed figure page with its figure files and per-item CSV; return the zip's path."""
    notebook = Path(notebook)
    fig = notebook.name.split("_", 1)[0]
    figures = Path(figures or generated_dir() / "figures")
    out_dir = Path(out_dir or generated_dir() / "bundles")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{notebook.stem}.zip"
    with zipfile.ZipFile(path.with_suffix(".zip.tmp"), "w", zipfile.ZIP_DEFLATED) as z:
        z.write(notebook, f"{notebook.stem}/{notebook.name}")
        for f in sorted(figures.glob(f"{fig}.*")) + sorted(figures.glob(f"{fig}_*")):
            z.write(f, f"{notebook.stem}/{f.name}")
        prov = figures / f"{fig}.provenance.json"
        items = item_table(json.loads(prov.read_text()), store) if prov.exists() else None
        if items is not None:
            buf = io.StringIO()
            items.to_csv(buf, index=False)
            z.writestr(f"{notebook.stem}/{fig}_items.csv", buf.getvalue())
    path.with_suffix(".zip.tmp").replace(path)
    return path


def write_bundles(notebooks: list[Path]) -> list[Path]:
    """A bundle for each executed page in ``notebooks`` that exists."""
    return [write_bundle(nb) for nb in notebooks if Path(nb).exists()]
