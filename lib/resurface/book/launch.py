"""Sphinx extension (``_config.yml``: ``sphinx.extra_extensions``) for the figure pages' header buttons.

* **Launch buttons** (Binder, Colab; present only when the build knows its repository, see
  :mod:`resurface.book.publish`): sphinx-book-theme points them at the page's own file,
  ``book/_generated/figNN_<slug>.ipynb``, an executed copy that is not in the repository. This
  rewrites them to open the figure's source notebook, ``notebooks/figNN_<slug>.ipynb``, at the commit
  the book was built from (the theme's ``repository.branch``).
* **Download menu**: adds the figure's bundle (``book/_generated/bundles/figNN_<slug>.zip``: executed
  notebook, PNG, PDF and per-item CSV; :mod:`resurface.book.bundles`), copied to ``_bundles/`` in the
  HTML output.

Runs after the theme's own ``html-page-context`` handlers (priority 501).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

FIGURE_DOC = re.compile(r"^book/_generated/(fig\d\d_[A-Za-z0-9_]+)$")


def source_notebook(pagename: str) -> str | None:
    """``notebooks/figNN_<slug>.ipynb`` for a figure page's docname, None for other pages."""
    m = FIGURE_DOC.match(pagename)
    return f"notebooks/{m.group(1)}.ipynb" if m else None


def _walk(buttons):
    for b in buttons:
        yield b
        yield from _walk(b.get("buttons", []))


def fix_buttons(app, pagename, templatename, context, doctree) -> None:
    source = source_notebook(pagename)
    if source is None or "header_buttons" not in context:
        return
    executed = f"{pagename}.ipynb"
    for b in _walk(context["header_buttons"]):
        if b.get("url") and "launch" in str(b.get("tooltip", "")).lower() + str(b.get("label", "")):
            b["url"] = b["url"].replace(executed, source)
        elif b.get("url") and b.get("text") in ("Binder", "Colab"):
            b["url"] = b["url"].replace(executed, source)
    bundle = Path(app.srcdir) / "book" / "_generated" / "bundles" / f"{Path(pagename).name}.zip"
    if not bundle.exists():
        return
    dest = Path(app.outdir) / "_bundles" / bundle.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(bundle, dest)
    for group in context["header_buttons"]:
        if group.get("label") == "download-buttons":
            group["buttons"].insert(1, {
                "type": "link", "url": f"{context['pathto']('_bundles', 1)}/{bundle.name}",
                "text": ".zip", "icon": "fas fa-file-zipper", "label": "download-bundle-button",
                "tooltip": "Download the bundle: executed notebook, figure (PNG, PDF) and per-item values (CSV)",
            })


def setup(app):
    app.connect("html-page-context", fix_buttons, priority=502)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
