"""The library's modules form no import cycle, counting imports inside functions too."""

from __future__ import annotations

import ast
from pathlib import Path

import resurface

ROOT = Path(resurface.__file__).resolve().parent


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, package: str, modules) -> set[str]:
    """The resurface modules that ``source`` (a module of ``package``) imports anywhere: ``from a.b import
    c`` is an import of the module ``a.b.c`` when that is a module, else of ``a.b``."""
    deps: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for a in node.names:
                sub = f"{target}.{a.name}"
                deps.add(sub if sub in modules else target)
        elif isinstance(node, ast.Import):
            deps.update(a.name for a in node.names)
    return {d for d in deps if d in modules}


def import_graph() -> dict[str, set[str]]:
    """Module -> the resurface modules it imports anywhere in its source."""
    modules = {_module(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = imports_of(path.read_text(encoding="utf-8"), package, modules) - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_planted_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_an_import_of_a_module_from_its_package_is_read_as_that_module():
    modules = {"resurface.book", "resurface.book.runner", "resurface.book.exercises", "resurface.paths"}
    src = "from resurface.book import exercises\nfrom resurface.paths import repo_root\n"
    assert imports_of(src, "resurface.book", modules) == {"resurface.book.exercises", "resurface.paths"}
    assert imports_of("from . import exercises\n", "resurface.book", modules) == {"resurface.book.exercises"}
    assert imports_of("def f():\n    from resurface.book import runner\n", "resurface.book", modules) == {
        "resurface.book.runner"}


def test_a_circle_through_a_package_import_is_found():
    """The circle the runner and the exercises once formed (each imported the other through ``from
    resurface.book import ...``) is a cycle of the graph this test builds."""
    modules = {"resurface.book", "resurface.book.runner", "resurface.book.exercises"}
    graph = {"resurface.book.runner": imports_of("from resurface.book import exercises\n", "resurface.book", modules),
             "resurface.book.exercises": imports_of("def run():\n    from resurface.book.runner import run_figure\n",
                                                    "resurface.book", modules)}
    assert cycles(graph) == [["resurface.book.exercises", "resurface.book.runner"]]


def test_the_library_has_no_import_cycles():
    graph = import_graph()
    assert "resurface.evaluate.evaluation" in graph and "resurface.evaluate.suites" in graph["resurface.evaluate.evaluation"]
    assert cycles(graph) == []


# The stage packages, bottom to top: a package may import the core and the packages before it in this
# list, never one after it (lib/resurface/__init__.py says what each holds).
PACKAGE_ORDER = ["evaluate", "corpus", "train", "measures", "study", "evidence", "book"]


def package_of(module: str) -> str:
    """``resurface.corpus.sampling`` -> ``corpus``; a core module (``resurface.paths``) -> ``core``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in PACKAGE_ORDER) else "core"


def floor(package: str) -> int:
    return -1 if package == "core" else PACKAGE_ORDER.index(package)


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import from a package to one above it (the core counts as the floor below all)."""
    return sorted(f"{src} -> {dst}" for src, deps in graph.items() for dst in deps
                  if floor(package_of(dst)) > floor(package_of(src)))


def test_the_layering_check_catches_an_upward_import():
    assert upward_imports({"resurface.corpus.sampling": {"resurface.train.training"}}) == [
        "resurface.corpus.sampling -> resurface.train.training"]
    assert upward_imports({"resurface.paths": {"resurface.book.plots"}}) == ["resurface.paths -> resurface.book.plots"]
    assert upward_imports({"resurface.book.runner": {"resurface.paths", "resurface.evidence.paired"}}) == []


def test_every_module_is_in_the_core_or_a_known_stage_package():
    packages = {package_of(m) for m in import_graph()}
    assert packages == {"core", *PACKAGE_ORDER}


def test_no_package_imports_a_package_above_it():
    assert upward_imports(import_graph()) == []


def test_the_core_is_small_and_flat():
    core = sorted(m for m in import_graph() if package_of(m) == "core" and m != "resurface")
    assert all(m.count(".") == 1 for m in core), core
    assert len(core) <= 20, core


# What trains a model: the training loop's entry points and the planting stage. The measures score and
# the evidence reads; choosing corpora and training (the study set-up) is the study package's.
TRAINING_ENTRY_POINTS = {"resurface.train.training": {"train", "train_run", "*"}, "resurface.train.planting": None}
NON_TRAINING_PACKAGES = ("measures", "evidence")


def training_imports(source: str, package: str) -> list[str]:
    """The training entry points that ``source`` (a module of ``package``) imports anywhere: a name of
    :data:`TRAINING_ENTRY_POINTS` from its module (``None``: any name), or a whole module of it."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for a in node.names:
                names = TRAINING_ENTRY_POINTS.get(target, ())
                if names is None or a.name in names:
                    found.append(f"{target}.{a.name}")
                elif f"{target}.{a.name}" in TRAINING_ENTRY_POINTS:
                    found.append(f"{target}.{a.name}")
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name in TRAINING_ENTRY_POINTS]
    return found


def test_the_training_import_check_catches_a_planted_import():
    flagged = "from resurface.train.training import train\n"
    assert training_imports(flagged, "resurface.measures") == ["resurface.train.training.train"]
    assert training_imports("def f():\n    from resurface.train.training import train_run\n",
                            "resurface.evidence") == ["resurface.train.training.train_run"]
    assert training_imports("from resurface.train.planting import plant\n", "resurface.measures") == [
        "resurface.train.planting.plant"]
    assert training_imports("from resurface.train import planting, training\n", "resurface.measures") == [
        "resurface.train.planting", "resurface.train.training"]
    assert training_imports("import resurface.train.training\n", "resurface.measures") == ["resurface.train.training"]
    assert training_imports("from ..train.training import train\n", "resurface.measures") == [
        "resurface.train.training.train"]
    assert training_imports("from resurface.train.training import scoring_copy, student_identity\n",
                            "resurface.measures") == []


def test_no_measures_or_evidence_module_imports_the_training_entry_points():
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        name = _module(path)
        if package_of(name) in NON_TRAINING_PACKAGES:
            package = name if path.name == "__init__.py" else name.rpartition(".")[0]
            found += [f"{name} -> {t}" for t in training_imports(path.read_text(encoding="utf-8"), package)]
    assert found == []


# Imports inside functions (issue #38): a module imports the project's own light modules at its top and
# keeps an import inside a function only for a heavy module, one that loads (at import time, itself or
# through the project modules it imports at its top) one of these. They stay lazy so that ``import
# resurface`` and the light CLIs start fast.
HEAVY_PACKAGES = {"torch", "transformers", "lm_eval", "vllm", "accelerate", "sentence_transformers", "datasets",
                  "matplotlib", "seaborn", "scipy", "sklearn", "papermill", "nbformat", "jupyter_book",
                  "IPython", "PIL", "selenium"}


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    base = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(source: str, package: str, modules, *, in_functions: bool) -> list[tuple[int, str]]:
    """(line, module) for each module an import statement loads: those at import time (outside any
    function; ``if TYPE_CHECKING:`` blocks skipped), or with ``in_functions`` those inside a function.
    ``from a.b import c`` loads ``a.b.c`` when that is a module of ``modules``, else ``a.b``; a module
    outside the project is named by its top package."""
    found: list[tuple[int, str]] = []

    def name(dotted: str) -> str:
        return dotted if dotted.split(".")[0] == package.split(".")[0] else dotted.split(".")[0]

    def visit(node: ast.AST, inside: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                continue
            child_inside = inside or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if inside == in_functions and isinstance(child, ast.ImportFrom):
                target = _absolute(child, package)
                found.extend((child.lineno, name(f"{target}.{a.name}" if f"{target}.{a.name}" in modules else target))
                             for a in child.names)
            elif inside == in_functions and isinstance(child, ast.Import):
                found.extend((child.lineno, name(a.name)) for a in child.names)
            visit(child, child_inside)

    visit(ast.parse(source), False)
    return list(dict.fromkeys(found))


def heavy_modules(sources: dict[str, tuple[str, str]]) -> set[str]:
    """The project modules of ``sources`` (module -> (package, source)) that load a package of
    :data:`HEAVY_PACKAGES` at import time, themselves or through the project modules (and their
    packages' ``__init__``) that they import at import time."""
    loads = {m: {d for _, d in _imports(src, pkg, sources, in_functions=False)} for m, (pkg, src) in sources.items()}
    for m in loads:  # importing a.b.c runs a/__init__ and a/b/__init__ too
        loads[m] |= {".".join(d.split(".")[:i]) for d in list(loads[m]) if d in sources
                     for i in range(1, d.count(".") + 1)}
    heavy = {m for m, deps in loads.items() if deps & HEAVY_PACKAGES}
    while True:
        more = {m for m, deps in loads.items() if m not in heavy and deps & heavy}
        if not more:
            return heavy
        heavy |= more


def lazy_light_imports(sources: dict[str, tuple[str, str]]) -> list[tuple[str, int, str]]:
    """(module, line, imported module) for each import, inside a function, of a project module that is
    not heavy."""
    heavy = heavy_modules(sources)
    return sorted((m, line, d) for m, (pkg, src) in sources.items()
                  for line, d in _imports(src, pkg, sources, in_functions=True)
                  if d in sources and d not in heavy)


def library_sources() -> dict[str, tuple[str, str]]:
    """Module -> (its package, its source) for every module of the library."""
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        name = _module(path)
        out[name] = (name if path.name == "__init__.py" else name.rpartition(".")[0], path.read_text(encoding="utf-8"))
    return out


# (module, light module it imports inside a function) -> why that import stays there.
LAZY_LIGHT_IMPORTS = {
    **{(m, "resurface.train.training"): (
        "tests monkeypatch student_identity and shared_base_eval on resurface.train.training, and a measures "
        "module may not import the training module whole (test_no_measures_or_evidence_module_imports_the_"
        "training_entry_points): the names are looked up when the hook is made")
       for m in ("resurface.measures.memorization", "resurface.measures.resurfacing")},
}


def test_the_lazy_import_check_flags_a_planted_light_import():
    sources = {
        "resurface": ("resurface", ""),
        "resurface.paths": ("resurface", "import os\n"),
        "resurface.plots": ("resurface", "import matplotlib.pyplot as plt\n"),
        "resurface.tables": ("resurface", "from resurface.plots import plt\n"),
        "resurface.typed": ("resurface", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import torch\n"),
        "resurface.user": ("resurface", "from resurface.paths import os\n\ndef f():\n    from resurface.tables import plt\n"
                           "    from resurface.typed import TYPE_CHECKING\n    from . import paths\n"
                           "    import resurface.plots\n    g = lambda: __import__('x')\n"),
    }
    assert heavy_modules(sources) == {"resurface.plots", "resurface.tables"}
    assert lazy_light_imports(sources) == [("resurface.user", 5, "resurface.typed"),
                                           ("resurface.user", 6, "resurface.paths")]


def test_no_function_imports_a_light_module_of_the_project():
    """Every import inside a function of a project module that is not heavy is in
    :data:`LAZY_LIGHT_IMPORTS` (and every entry there is still such an import)."""
    found = {(m, d) for m, _, d in lazy_light_imports(library_sources())}
    assert sorted(found - LAZY_LIGHT_IMPORTS.keys()) == []
    assert sorted(LAZY_LIGHT_IMPORTS.keys() - found) == []


# Private names (issue #38): a name that starts with an underscore belongs to its module; a name another
# project module needs is public.
def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_uses(source: str, module: str, package: str, modules) -> list[tuple[int, str]]:
    """(line, ``module.name``) for each private name of another project module that ``source`` (module
    ``module`` of ``package``) uses, anywhere: ``from resurface.x import _y`` (relative too), or ``x._y``
    where ``x`` is a project module it imports (``from resurface import x``, ``import resurface.x as x``,
    ``import resurface.x`` then ``resurface.x._y``). Attributes of anything else (``self._y``, a class, a
    third-party module) are not looked at."""
    tree = ast.parse(source)
    root = package.split(".")[0]
    found: list[tuple[int, str]] = []
    bound: dict[str, str] = {}  # local name -> the project module it names
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = _absolute(node, package)
            if target.split(".")[0] != root:
                continue
            for a in node.names:
                if f"{target}.{a.name}" in modules:
                    bound[a.asname or a.name] = f"{target}.{a.name}"
                elif _is_private(a.name) and target != module:
                    found.append((node.lineno, f"{target}.{a.name}"))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == root:
                    bound[a.asname or root] = a.name if a.asname else root

    def module_of(expr: ast.AST) -> str | None:
        if isinstance(expr, ast.Name):
            return bound.get(expr.id)
        if isinstance(expr, ast.Attribute):
            outer = module_of(expr.value)
            if outer is not None and f"{outer}.{expr.attr}" in modules:
                return f"{outer}.{expr.attr}"
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            owner = module_of(node.value)
            if owner is not None and owner != module:
                found.append((node.lineno, f"{owner}.{node.attr}"))
    return sorted(found)


def test_the_private_name_check_flags_a_planted_use():
    modules = {"resurface", "resurface.x", "resurface.evidence", "resurface.evidence.estimates", "resurface.user"}
    src = ("import numpy as np\n"
           "import resurface.x\n"
           "from resurface import x\n"
           "from resurface.evidence import estimates as est\n"
           "from resurface.x import _y, z\n"
           "from .x import _w\n"
           "class A:\n"
           "    def f(self, df):\n"
           "        self._foo(); df._x; np._NoValue; z._attr; x.__name__\n"
           "        x._y(1)\n"
           "        est._check(2)\n"
           "        resurface.x._v\n"
           "        import resurface.evidence.estimates as e2\n"
           "        return e2._rng\n")
    assert private_uses(src, "resurface.user", "resurface", modules) == [
        (5, "resurface.x._y"), (6, "resurface.x._w"), (10, "resurface.x._y"),
        (11, "resurface.evidence.estimates._check"), (12, "resurface.x._v"), (14, "resurface.evidence.estimates._rng")]
    # a module's own private names are its own, however it reaches them
    own = "import resurface.x\nfrom resurface.x import _y\nresurface.x._y\n"
    assert private_uses(own, "resurface.x", "resurface", modules) == []
    assert private_uses("from torch import _C\nimport torch\ntorch._dynamo\n", "resurface.user", "resurface",
                        modules) == []


def test_no_module_uses_another_project_modules_private_name():
    sources = library_sources()
    found = [f"{m}:{line}: {name}" for m, (pkg, src) in sources.items()
             for line, name in private_uses(src, m, pkg, sources)]
    assert found == []
